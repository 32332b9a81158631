// Change data feed planning (PROTOCOL.md "Add CDC File", "Change Data Files"; Spark's
// CDCReader): which files describe the row changes of each version in a range, and as what.
// DuckDB-free: engine/ turns a plan into a scan (table_changes), streaming (#5) will read the
// same plans batch by batch.
//
//  (1) A commit with cdc actions is described by its cdc files alone: they hold
//      _change_type per row (their partition values come from the action). Its add/remove
//      actions are then ignored, as Spark does.
//  (2) Otherwise changes are derived: add with dataChange=true -> its live rows are 'insert';
//      remove with dataChange=true -> the rows of the removed file as they were live before
//      the commit (its deletion vector as of version-1 applied) are 'delete'.
//  (3) A remove and an add of the same path in one commit where either carries a deletion
//      vector is a DV update (Spark's DV-aware CDF): rows live before and not after are
//      'delete', rows live after and not before (a DV shrank, e.g. RESTORE) are 'insert'.
//  (4) Actions with dataChange=false (OPTIMIZE, ...) contribute nothing.
//  (5) The commit time is the commit's inCommitTimestamp when it has one, else the commit
//      file's modification time (what DESCRIBE HISTORY shows).
//  (6) Every version in the range must have change data recorded: the table's metadata in
//      effect at that version has delta.enableChangeDataFeed=true, else kFailedPrecondition
//      (Spark's "change data was not recorded for version N").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/engine.h"

namespace lake::delta {

// A remove + add of the same data file in one commit with a changed deletion vector.
struct DvUpdate {
  RemoveFile remove;
  AddFile add;
};

// The change files of one commit (design notes 1-4). When `cdc_files` is non-empty the other
// lists are empty.
struct CommitChanges {
  Version version = 0;
  int64_t timestamp_ms = 0;
  std::vector<AddCdcFile> cdc_files;
  std::vector<AddFile> inserted;     // rows live in this version's snapshot are inserts
  std::vector<RemoveFile> deleted;   // rows live in version-1's snapshot are deletes
  std::vector<DvUpdate> dv_updates;
  // Every path this commit removes, whatever its dataChange and whether or not the commit has
  // cdc files: where a file stops being live (a reader may read an added file at any version
  // before that, change_feed.h users such as table_changes.cc rely on it).
  std::vector<std::string> removed_paths;

  bool empty() const {
    return cdc_files.empty() && inserted.empty() && deleted.empty() && dv_updates.empty();
  }
};

struct ChangeFeedRange {
  Version start = 0;
  Version end = 0;
};

// Resolves `start` / `end` (nullopt: the latest version) against the log as Spark does. A
// timestamp bound (ms since the epoch) names the first commit at or after it (start) or the
// last commit at or before it (end), by the commit times of design note 5.
// a start version after the latest is kInvalidArgument; an end version after the latest is
// clamped to it; a start timestamp after the latest commit is kInvalidArgument; start > end is
// kInvalidArgument. `start_is_timestamp` / `end_is_timestamp` say how to read each bound.
Result<ChangeFeedRange> ResolveChangeFeedRange(Engine& engine, int64_t start,
                                               bool start_is_timestamp,
                                               std::optional<int64_t> end, bool end_is_timestamp);

// Returns the change files of every commit in [range.start, range.end], ascending, including
// commits that changed nothing (empty lists). kNotFound when a commit file of the range is
// no longer in the log; kFailedPrecondition when change data was not recorded for a version
// (design note 6); kNotSupported when the schema changes inside the range (lake reads a
// range with one schema).
Result<std::vector<CommitChanges>> ListChangeFiles(Engine& engine, ChangeFeedRange range);

// Whether `metadata` has delta.enableChangeDataFeed=true.
bool IsChangeDataFeedEnabled(const Metadata& metadata);

}  // namespace lake::delta
