// Registration hooks that Database::Open calls on a new DuckDB instance, in this order.
#pragma once

#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

// Registers delta_scan(path [, version := n] [, timestamp := '...'] [, skip_files := bool])
// (delta_scan.cc).
void RegisterDeltaScan(duckdb::DatabaseInstance& db);

// Registers lake's SQL syntax (parser + operator extensions, on DBConfig::GetConfig(db):
// DatabaseInstance does not copy operator_extensions from the constructor's DBConfig) and the
// inspection table functions. Owned by the sql_*.cc / inspect_*.cc files of this folder.
void RegisterLakeSql(duckdb::DatabaseInstance& db);

}  // namespace lake::engine::internal
