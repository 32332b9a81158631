// Merge-on-read removal of rows with deletion vectors: what RemoveRows (row_removal.h) does
// on a table whose DML writes DVs (DELETE, UPDATE, MERGE).
//
// Design notes.
//  (1) When: the read protocol supports deletionVectors and delta.enableDeletionVectors is
//      true (Spark's DeletionVectorUtils.deletionVectorsWritable). Otherwise copy-on-write.
//  (2) Per touched file: positions are file_row_number, physical row indexes that stay valid
//      whatever DV the file already has. The new DV is the union of the old DV's rows and the
//      new positions. A file whose every physical row is then deleted is removed whole (a
//      plain remove, no DV); any other file is removed (with its old DV, so the logical file
//      key matches, PROTOCOL.md "Action Reconciliation") and added back under the same path
//      with the new DV, dataChange = true, stats kept but "tightBounds":false (PROTOCOL.md
//      "Per-file Statistics": numRecords stays the physical count, which readers need,
//      "Writer Requirement for Deletion Vectors"; min/max/nullCount may now be wider).
//  (3) A file without numRecords in its stats cannot carry a DV (the requirement above), so
//      it is rewritten copy-on-write instead, in the same removal.
//  (4) All DVs of one removal go to one new file "deletion_vector_<uuid>.bin" at the table
//      root (small ones inline, delta/deletion_vector.h), written before the commit: until a
//      commit names it, it is an orphan VACUUM deletes.
//  (5) Conflicts: the DV update is a remove of the file, so a concurrent DML on the same file
//      conflicts as with copy-on-write (transaction.h, delete-delete / delete-read).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "delta/snapshot.h"
#include "engine/internal/row_removal.h"

namespace lake::engine::internal {

// Returns true when DML on `snapshot`'s table marks deleted rows in deletion vectors
// (design note 1).
bool WritesDeletionVectors(const delta::Snapshot& snapshot);

// Plans the removal of given rows (as RemoveRows) with deletion vectors (design notes 2-4);
// writes the DV file. Errors: kInternal for a path that is not a live file; the old DV's load
// errors (kCorruption, kNotFound naming the file); I/O errors writing the DV file.
Result<RowRemoval> RemoveRowsWithDeletionVectors(
    duckdb::DatabaseInstance& db, const RowRemovalTarget& target,
    const std::map<std::string, std::vector<uint64_t>>& rows_by_file);

}  // namespace lake::engine::internal
