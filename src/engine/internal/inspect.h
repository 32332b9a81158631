// Table-inspection functions over the Delta core (inspect_functions.cc). Results come from
// delta::LoadSnapshot / LoadHistory, never from SQL over the log's JSON files, so they agree
// with what delta_scan reads.
//
//   delta_history(path [, "limit" := n])  one row per commit still in the log, newest first
//   delta_files(path [, version := n])     one row per live data file
//   delta_detail(path [, version := n])    one row describing the table
//
// Errors from the core become DuckDB-typed exceptions through ThrowStatus (errors.h).
#pragma once

#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

// Registers delta_history, delta_files and delta_detail on `db`.
void RegisterInspectFunctions(duckdb::DatabaseInstance& db);

}  // namespace lake::engine::internal
