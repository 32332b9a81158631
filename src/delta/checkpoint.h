// Checkpoint writing and expired-log cleanup (PROTOCOL.md "Checkpoints", "Checkpoint Specs",
// "Last Checkpoint File", "Metadata Cleanup"). Design notes in checkpoint.cc.
//
// Both run after a commit has succeeded, so neither may fail it: callers log a non-OK Status
// and carry on (STYLE.md §4 "dropped statuses are explicit"); the table stays readable at
// every version whatever these functions did before an error or a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/engine.h"
#include "delta/log_segment.h"
#include "delta/snapshot.h"

namespace lake::delta {

inline constexpr int64_t kDefaultCheckpointInterval = 10;
inline constexpr int64_t kDefaultDeletedFileRetentionMs = 7LL * 24 * 3600 * 1000;  // 1 week
inline constexpr int64_t kDefaultLogRetentionMs = 30LL * 24 * 3600 * 1000;         // 30 days
inline constexpr int64_t kDefaultDataSkippingNumIndexedCols = 32;

struct CheckpointOptions {
  // Above this many file actions (adds + unexpired removes) the checkpoint is split into
  // ceil(n / max) parts, like Spark's spark.databricks.delta.checkpoint.partSize. 0 = one
  // file whatever the size (Spark's default). Ignored with V2 checkpoints (never multi-part).
  int64_t max_actions_per_part = 0;
  // The time tombstones expire against, ms since the epoch; nullopt = the system clock.
  std::optional<int64_t> now_ms;
};

// Writes a checkpoint of `snapshot` at its version: one classic Parquet file
// `<v>.checkpoint.parquet`, or `<v>.checkpoint.<i>.<n>.parquet` parts, then
// `_delta_log/_last_checkpoint` (unless it already names a newer checkpoint). Rows: protocol,
// metaData, txn, live domainMetadata, every live add, every remove whose deletionTimestamp is
// newer than now - delta.deletedFileRetentionDuration. Tables with the v2Checkpoint feature
// get a V2-spec checkpoint under the classic name (a checkpointMetadata row, file actions
// inline, no sidecars). Returns what was written to _last_checkpoint.
// Errors: kNotSupported (the engine writes no Parquet; a table feature lake cannot
// checkpoint); kInvalidArgument (a malformed checkpoint table property); storage errors. After
// any error or crash the table still loads at every version with the same contents.
Result<LastCheckpointHint> WriteCheckpoint(Engine& engine, const Snapshot& snapshot,
                                           const CheckpointOptions& options = {});

// Returns whether a writer that just committed `version` should checkpoint it: every
// delta.checkpointInterval (default 10) versions, never at 0. A malformed interval counts
// as the default.
bool ShouldCheckpoint(Version version, const Metadata& metadata);

// Returns the rows WriteCheckpoint would write for `snapshot`, in one part (for tests and
// for engines that write their own files). The pointers borrow from `snapshot`.
CheckpointActions SelectCheckpointActions(const Snapshot& snapshot, int64_t now_ms);

// Returns the optional add columns of `snapshot`'s checkpoints: delta.checkpoint.writeStatsAsJson
// (default true), delta.checkpoint.writeStatsAsStruct (default true, as Spark), and the
// stats_parsed / partitionValues_parsed types from the table schema (physical names; stats
// for the first delta.dataSkippingNumIndexedCols leaf data columns or
// delta.dataSkippingStatsColumns). kInvalidArgument on malformed properties.
Result<CheckpointLayout> CheckpointLayoutFor(const Snapshot& snapshot);

// Parses a Delta duration property ("interval 30 days", "1 week", "interval 2 hours 30
// minutes"; units week, day, hour, minute, second, millisecond, microsecond, singular or
// plural) into milliseconds. kInvalidArgument naming the value otherwise (months and years
// have no fixed length and are refused, as Spark does).
Result<int64_t> ParseDurationMs(std::string_view text);

struct CleanupResult {
  // The checkpoint kept as the oldest state of the table; nullopt when nothing expired.
  std::optional<Version> cutoff_checkpoint;
  int64_t files_deleted = 0;
};

// Deletes expired files of _delta_log/ (PROTOCOL.md "Metadata Cleanup"): with cutoff = UTC
// midnight of (now_ms - delta.logRetentionDuration, default 30 days), and the cutoff commit =
// the newest version committed at or before the cutoff, it keeps the newest checkpoint at or
// before the cutoff commit, its JSON commit and everything after it, and deletes the commits,
// checkpoints, checksums and compactions before that checkpoint. So every version committed
// after the cutoff (and the cutoff commit) stays loadable. Commit times are file modification
// times made monotonic in version order, or in-commit timestamps where enabled. Does nothing
// when delta.enableExpiredLogCleanup is false. kNotSupported for the checkpointProtection
// feature (lake does not implement its rules). A failed delete stops the cleanup; the files
// deleted before it were older than every file kept, so time travel is never broken.
Result<CleanupResult> CleanupExpiredLogs(Engine& engine, const Snapshot& snapshot,
                                         int64_t now_ms);

// Returns the store keys of a checkpoint's files: `<v>.checkpoint.parquet` when parts is
// nullopt, else the `<v>.checkpoint.<i>.<n>.parquet` names for i in 1..n.
std::vector<std::string> CheckpointKeys(Version version, std::optional<int32_t> parts);

}  // namespace lake::delta
