// Copy-on-write removal of the rows that match a predicate: what INSERT ... REPLACE WHERE,
// static partition overwrite (and, later, DELETE) commit besides their own adds.
//
// Method (Spark's DeleteCommand does the same two passes):
//  (1) Find: SELECT filename, count(*) FROM delta_scan(<table>, version := v) WHERE (pred)
//      GROUP BY filename, on a nested session. delta_scan's skipping drops files the log
//      proves cannot match (partition values, stats), so a predicate on partition columns
//      only opens no data column.
//  (2) A file whose every live row matched is removed whole: no data is rewritten (for a
//      partition predicate the commit is metadata only). A file with some matching rows is
//      removed and its other rows are written anew (WriteDataFiles over delta_scan(...,
//      files := [...]) WHERE (pred) IS NOT TRUE): SQL's three-valued logic keeps rows where
//      the predicate is NULL, as DELETE does.
//  (3) Nothing is committed here; the caller stages the removes and adds in its transaction
//      and records the predicate as read (conflict detection).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/snapshot.h"
#include "engine/data_writer.h"
#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

struct RowRemoval {
  std::vector<delta::RemoveFile> removes;  // every file that held a matching row
  std::vector<delta::AddFile> adds;        // the other rows of partly matching files
  int64_t rows_removed = 0;
  int64_t rows_copied = 0;
  int64_t bytes_removed = 0;
  int64_t files_rewritten = 0;  // removed files whose other rows were copied
  // Deletion vectors (dv_removal.h): files removed and added back under a new DV. They are
  // in `removes` and in `adds` (same path), not rewritten and not copied.
  int64_t files_dv_marked = 0;
  int64_t bytes_dv_marked = 0;  // their size, in `adds` but not new data
  int64_t dvs_added = 0;        // adds carrying a DV (Spark's numDeletionVectorsAdded)
  int64_t dvs_removed = 0;      // removes carrying a DV (numDeletionVectorsRemoved)
  int64_t dvs_updated = 0;      // paths with a DV on both sides (numDeletionVectorsUpdated)
};

struct RowRemovalTarget {
  std::string location;  // the table location delta_scan and the snapshot cache know
  const delta::Snapshot* snapshot = nullptr;  // the version read
  storage::ObjectStore* store = nullptr;      // the table's store (local paths)
  const delta::Schema* schema = nullptr;      // the schema rewritten rows are written with
  WriteOptions options;
  int64_t now_ms = 0;  // deletionTimestamp of the removes
};

// Plans the removal of the rows of `target` for which `predicate` (SQL over the table's
// columns by name) is true. Rewritten files are written (and left as orphans on error).
// Errors: the predicate's bind/evaluation errors (kInvalidArgument with DuckDB's message),
// I/O errors.
Result<RowRemoval> RemoveRowsWhere(duckdb::DatabaseInstance& db, const RowRemovalTarget& target,
                                   const std::string& predicate);

// Plans the removal of given rows: per file (its local path, as delta_scan's `filename`
// gives it), the sorted positions (file_row_number) to remove. On a table that writes
// deletion vectors (dv_removal.h) partly matching files get a DV; otherwise step (2) as
// above, the partly matching files rewritten through delta_scan(..., exclude_rows := ...).
// kInternal for a path that is not a live file of the snapshot.
Result<RowRemoval> RemoveRows(duckdb::DatabaseInstance& db, const RowRemovalTarget& target,
                              const std::map<std::string, std::vector<uint64_t>>& rows_by_file);

// RemoveRows without deletion vectors: always copy-on-write.
Result<RowRemoval> RemoveRowsCopyOnWrite(
    duckdb::DatabaseInstance& db, const RowRemovalTarget& target,
    const std::map<std::string, std::vector<uint64_t>>& rows_by_file);

}  // namespace lake::engine::internal
