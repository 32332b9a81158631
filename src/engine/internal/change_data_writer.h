// Writing change data files (PROTOCOL.md "Add CDC File", "Change Data Files"): the row-level
// changes of a DML commit on a table with delta.enableChangeDataFeed = true, as Spark's
// DeleteCommand / UpdateCommand / MergeIntoCommand write them. Design notes:
// change_data_writer.cc.
//
// What a commit must carry (the rule every caller follows):
//  (1) A commit with cdc actions is read by change data readers through its cdc files ONLY;
//      its add and remove actions are ignored (PROTOCOL.md "Change Data Files"). So once a
//      commit has one cdc file, EVERY row it deletes, inserts or updates must be in a cdc file,
//      including the rows of files it removes whole and the rows of files it only adds.
//  (2) A commit whose changes are exactly its data-changing adds (rows inserted) and removes
//      (rows deleted) needs no cdc file: readers derive them (appends, INSERT OVERWRITE of whole
//      files, a DELETE that only drops whole files such as a partition predicate). Spark does
//      the same (DeleteCommand's metadata-only case writes no cdc file).
//  (3) A commit that re-adds rows it did not change (a copy-on-write rewrite keeps the other
//      rows of a file, RowRemoval::adds non-empty) must write cdc files, else readers see those
//      rows deleted and inserted again. An UPDATE always does (pre- and postimages).
// Files: <table>/_change_data/<partition folders>/cdc-00000-<uuid>.c000.<codec>.parquet (the
// name Spark's DelayedCommitProtocol gives them), the data columns under their physical
// names plus a string column _change_type; partition columns only in the folder names and in
// the action's partitionValues, as for data files. Nothing here commits: files written before
// an error are orphans VACUUM removes (it treats _change_data like data folders).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "engine/data_writer.h"
#include "engine/database.h"
#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

inline constexpr const char* kChangeDataFolder = "_change_data";
inline constexpr const char* kChangeTypeColumn = "_change_type";

enum class ChangeType { kInsert, kDelete, kUpdatePreimage, kUpdatePostimage };
// "insert", "delete", "update_preimage", "update_postimage" (the _change_type values).
std::string_view ChangeTypeName(ChangeType type);

// Whether commits to a table with `metadata` must record change data.
bool RecordsChangeData(const delta::Metadata& metadata);

// Where change data goes, and what the rows are read from.
struct ChangeDataTarget {
  std::string location;                      // the table location delta_scan knows
  const delta::Snapshot* snapshot = nullptr;  // the version the statement read
  storage::ObjectStore* store = nullptr;      // the table's store (local paths)
  const delta::Schema* schema = nullptr;      // the table's schema (the version written)
  WriteOptions options;                       // the table's write options (partitions, codec)
};

// Writes the rows of `query` as change data files. `query` gives the table's columns by name
// (as WriteDataFiles takes them) plus a column _change_type (VARCHAR: one of ChangeTypeName's
// values; a row with NULL there is not written). Returns one cdc action per file written:
// path "_change_data/..." relative to the table root, partitionValues as the data files',
// size, dataChange = false. No rows: no files. Errors: WriteDataFiles's (column mismatch,
// NOT NULL, DuckDB errors).
Result<std::vector<delta::AddCdcFile>> WriteChangeData(Session& session,
                                                       const ChangeDataTarget& target,
                                                       std::string_view query);

// Same, every row of `query` (the table's columns only) with change type `type`. For MERGE:
// e.g. the inserted rows' query with kInsert.
Result<std::vector<delta::AddCdcFile>> WriteChangeRows(Session& session,
                                                       const ChangeDataTarget& target,
                                                       std::string_view query, ChangeType type);

// Writes given rows of live files of target.snapshot as change rows of `type` (the rows a DML
// removes: kDelete, kUpdatePreimage). `rows_by_file`: local path (delta_scan's `filename`)
// -> sorted positions (file_row_number), as row_removal.h RemoveRows takes them; rows deleted
// by a deletion vector at that version are not written. kInternal for a path that is not a
// live file of the snapshot.
Result<std::vector<delta::AddCdcFile>> WriteChangeRowsAt(
    duckdb::DatabaseInstance& db, const ChangeDataTarget& target,
    const std::map<std::string, std::vector<uint64_t>>& rows_by_file, ChangeType type);

// Returns a query giving the table's columns (target.schema, by logical name and delta_scan's
// types) of data files written but not yet committed: `adds` as WriteDataFiles / the INSERT
// pipeline return them (paths relative to the table root, partitionValues). For the rows an
// UPDATE or INSERT wrote (kUpdatePostimage, kInsert). kNotSupported for nested columns of a
// column-mapped table (their physical field names differ from the logical ones).
Result<std::string> WrittenFilesQuery(const ChangeDataTarget& target,
                                      const std::vector<delta::AddFile>& adds);

// Writes every row of the written, uncommitted files `adds` (WrittenFilesQuery) as change
// rows of `type`, on a nested session of `db`.
Result<std::vector<delta::AddCdcFile>> WriteChangeRowsOfFiles(duckdb::DatabaseInstance& db,
                                                              const ChangeDataTarget& target,
                                                              const std::vector<delta::AddFile>& adds,
                                                              ChangeType type);

// Stages `cdcs` in `txn`; adds their count to `*count` (commitInfo numAddedChangeFiles).
Status StageChangeData(delta::Transaction& txn, std::vector<delta::AddCdcFile> cdcs,
                       int64_t* count);

}  // namespace lake::engine::internal
