// Engine-internal entry points of delta_scan.cc shared with checkpoint_reader.cc and the
// write path (lake_write.cc, row_removal.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "delta/engine.h"
#include "delta/skipping.h"
#include "delta/snapshot.h"
#include "engine/internal/duckdb_pch.h"
#include "storage/object_store.h"

namespace lake::engine::internal {

// As the public MakeCheckpointReader / MakeDeltaEngine (engine/delta_engine.h), on a raw
// DuckDB instance (delta_scan's bind has a ClientContext, not a Database).
std::unique_ptr<delta::CheckpointReader> MakeCheckpointReader(duckdb::DatabaseInstance& db);
std::unique_ptr<delta::Engine> MakeDeltaEngine(duckdb::DatabaseInstance& db,
                                               std::unique_ptr<storage::ObjectStore> store);

// Returns the local path DuckDB opens for a live file of `snap` (delta_scan's `filename`
// column gives the same text). kNotSupported for data files on remote storage.
Result<std::string> LocalDataFilePath(const delta::Snapshot& snap, storage::ObjectStore& store,
                                      const delta::AddFile& add);

// The DuckDB type delta_scan gives a column of Delta type `type` (`column` names it in errors).
Result<duckdb::LogicalType> DuckTypeOf(const delta::DataType& type, std::string_view column);

// Rows a delta_scan leaves out, by add.path: sorted row positions in the file
// (file_row_number). Registered for delta_scan(..., exclude_rows := '<token>'); release the
// token when the statement using it is done.
using RowExclusions = std::map<std::string, std::vector<uint64_t>>;
std::string RegisterRowExclusions(std::shared_ptr<const RowExclusions> rows);
void ReleaseRowExclusions(const std::string& token);

// Translates a pushed-down table filter on `column` of Delta type `type` (nullopt: cannot).
std::optional<delta::Predicate> TranslateTableFilter(const duckdb::TableFilter& filter,
                                                     const std::string& column,
                                                     const delta::DataType& type);

// Translates a bound boolean expression to a skipping predicate (delta/skipping.h) when the
// parts that matter are comparisons of resolved columns with constants; nullopt otherwise.
// An AND keeps the parts it can express, so the result may match more than `expr`, never less.
std::optional<delta::Predicate> TranslateToPredicate(
    const duckdb::Expression& expr,
    const std::function<std::optional<std::pair<std::string, const delta::DataType*>>(
        const duckdb::Expression&)>& resolve);

}  // namespace lake::engine::internal
