// table_changes('t', start [, end]) and table_changes_by_path('/path', start [, end]): the
// change data feed of a Delta table (delta/change_feed.h plans it; this file reads it).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "delta/change_feed.h"
#include "delta/snapshot.h"
#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

// Returns one DuckDB SELECT producing the change rows of `commits` of the table at
// `table_uri`: the data columns of `schema_snapshot` (logical names, delta_scan's types), then
// _change_type VARCHAR, _commit_version BIGINT, _commit_timestamp TIMESTAMPTZ. Added and
// removed files are read through delta_scan at the version where their rows were live (so
// deletion vectors, partition values and column mapping are applied as for a query); cdc
// files through read_parquet by physical column names with partition values as constants.
// kNotSupported for a cdc file of a column-mapped table with nested columns, or a table
// with a data column named like a change column.
Result<std::string> ChangeFeedQuery(const std::string& table_uri,
                                    const delta::Snapshot& schema_snapshot,
                                    storage::ObjectStore& store,
                                    const std::vector<delta::CommitChanges>& commits);

// Registers table_changes and table_changes_by_path.
void RegisterTableChanges(duckdb::DatabaseInstance& db);

}  // namespace lake::engine::internal
