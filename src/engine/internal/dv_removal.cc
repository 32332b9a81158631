// See dv_removal.h for the design notes.
#include "engine/internal/dv_removal.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>

#include "base/strings.h"
#include "delta/deletion_vector.h"
#include "delta/skipping.h"
#include "delta/table_features.h"
#include "delta/transaction.h"
#include "engine/internal/scan.h"

namespace lake::engine::internal {

bool WritesDeletionVectors(const delta::Snapshot& snapshot) {
  return delta::IsFeatureSupported(snapshot.protocol(), "deletionVectors") &&
         delta::ConfigIsTrue(snapshot.metadata(), "delta.enableDeletionVectors");
}

Result<RowRemoval> RemoveRowsWithDeletionVectors(
    duckdb::DatabaseInstance& db, const RowRemovalTarget& target,
    const std::map<std::string, std::vector<uint64_t>>& rows_by_file) {
  if (rows_by_file.empty()) return RowRemoval{};
  const delta::Snapshot& snap = *target.snapshot;
  const auto& files = snap.files();
  std::unordered_map<std::string, size_t> by_local_path;
  by_local_path.reserve(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    LAKE_ASSIGN_OR_RETURN(std::string local, LocalDataFilePath(snap, *target.store, files[i]));
    by_local_path.emplace(std::move(local), i);
  }
  RowRemoval out;
  std::map<std::string, std::vector<uint64_t>> copy_on_write;  // design note 3
  delta::DeletionVectorWriter writer;
  for (const auto& [filename, positions] : rows_by_file) {
    auto it = by_local_path.find(filename);
    if (it == by_local_path.end()) {
      return Status::Internal(StrCat("row removal: row ids name ", filename,
                                     ", which is not a live file of version ", snap.version()));
    }
    const delta::AddFile& add = files[it->second];
    const std::optional<int64_t> records = delta::StatsNumRecords(add.stats);
    if (!records) {
      copy_on_write.emplace(filename, positions);
      continue;
    }
    // Design note 2: the union of the old DV and the new positions.
    std::vector<uint64_t> deleted;
    if (add.deletion_vector) {
      Result<std::shared_ptr<const delta::DeletionVector>> old =
          delta::LoadDeletionVector(*target.store, *add.deletion_vector);
      if (!old.ok()) {
        return old.status().WithContext(
            StrCat("deletion vector of ", add.path, " at version ", snap.version()));
      }
      std::set_union((*old)->rows().begin(), (*old)->rows().end(), positions.begin(),
                     positions.end(), std::back_inserter(deleted));
    } else {
      deleted = positions;
    }
    const int64_t already = add.deletion_vector ? add.deletion_vector->cardinality : 0;
    out.rows_removed += static_cast<int64_t>(deleted.size()) - already;
    out.removes.push_back(delta::Transaction::RemoveFor(add, target.now_ms));
    if (add.deletion_vector) ++out.dvs_removed;
    if (static_cast<int64_t>(deleted.size()) >= *records) {
      out.bytes_removed += add.size;  // every row is gone: a plain remove
      continue;
    }
    delta::AddFile marked = add;
    marked.data_change = true;
    Result<delta::DeletionVectorDescriptor> dv = writer.Add(deleted);
    if (!dv.ok()) return dv.status().WithContext(StrCat("deletion vector of ", add.path));
    marked.deletion_vector = std::move(*dv);
    LAKE_ASSIGN_OR_RETURN(std::string stats, delta::StatsWithLooseBounds(*add.stats));
    marked.stats = std::move(stats);
    out.adds.push_back(std::move(marked));
    ++out.files_dv_marked;
    out.bytes_dv_marked += add.size;
    ++out.dvs_added;
    if (add.deletion_vector) ++out.dvs_updated;
  }
  LAKE_RETURN_IF_ERROR(writer.Write(*target.store));
  if (!copy_on_write.empty()) {
    LAKE_ASSIGN_OR_RETURN(RowRemoval rewritten, RemoveRowsCopyOnWrite(db, target, copy_on_write));
    std::move(rewritten.removes.begin(), rewritten.removes.end(), std::back_inserter(out.removes));
    std::move(rewritten.adds.begin(), rewritten.adds.end(), std::back_inserter(out.adds));
    out.rows_removed += rewritten.rows_removed;
    out.rows_copied += rewritten.rows_copied;
    out.bytes_removed += rewritten.bytes_removed;
    out.files_rewritten += rewritten.files_rewritten;
  }
  return out;
}

}  // namespace lake::engine::internal
