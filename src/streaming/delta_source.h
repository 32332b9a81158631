// The Delta table source: a table's data files in commit order (Spark's DeltaSource).
//
// Offsets are Spark's DeltaSourceOffset JSON: {"sourceVersion":1,"reservoirId":<table id>,
// "reservoirVersion":v,"index":i,"isStartingVersion":b}, naming the last file a batch read:
//  (1) isStartingVersion = true: file i of the table's snapshot at v, files ordered by
//      (modificationTime, path) -- the initial snapshot of a query started without
//      startingVersion / startingTimestamp. Then commits v+1, v+2, ... follow.
//  (2) isStartingVersion = false: the i-th data-changing add of commit v, in log order.
//  (3) index -1: nothing of v yet. Positions are ordered by (reservoirVersion, index).
// The position a query starts from is fixed at its first plan and kept in
// sources/<i>/initial, so the first batch re-runs identically after a crash even when
// startingVersion is 'latest'.
//
// Commits: adds and removes with dataChange=false (OPTIMIZE, compaction) are skipped. A commit
// removing data (dataChange=true removes: DELETE, UPDATE, MERGE, overwrite) fails the stream,
// unless skipChangeCommits (skip the whole commit) or ignoreDeletes (skip commits that only
// remove). A schema change fails the stream once; a restart reads on with the new schema.
// A table id differing from the offsets' reservoirId fails the stream.
//
// Rate limits: maxFilesPerTrigger (1000), maxBytesPerTrigger (soft: at least one file).
//
// readChangeFeed (Spark's DeltaSourceCDCSupport): rows carry _change_type, _commit_version
// and _commit_timestamp. The initial snapshot is read as above, every row an 'insert' of the
// snapshot's version; then whole commits go through table_changes (delta/change_feed.h:
// inserts, deletes, update pre/post images; dataChange=false commits contribute nothing;
// removes do not fail the stream). Such an offset names a whole commit: index kEndIndex
// (Spark's END_INDEX). maxFilesPerTrigger counts change files; a batch takes at least one
// commit, and commits are never split. Every commit read needs delta.enableChangeDataFeed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "delta/actions.h"
#include "delta/engine.h"
#include "delta/snapshot.h"
#include "streaming/source.h"

namespace lake::streaming {

inline constexpr int64_t kDefaultMaxFilesPerTrigger = 1000;
// DeltaSourceOffset.index of a commit read whole (readChangeFeed), Spark's END_INDEX.
inline constexpr int64_t kEndIndex = INT64_MAX;

struct DeltaSourceOffset {
  std::string reservoir_id;
  delta::Version reservoir_version = 0;
  int64_t index = -1;
  bool is_starting_version = false;
};
std::string SerializeDeltaSourceOffset(const DeltaSourceOffset& offset);
// kCorruption when `json` is not a DeltaSourceOffset; kNotSupported for sourceVersion > 1.
Result<DeltaSourceOffset> ParseDeltaSourceOffset(std::string_view json);

struct DeltaSourceOptions {
  std::string path;  // the table's location
  // Read changes from this commit on instead of the snapshot (a new checkpoint only).
  std::optional<int64_t> starting_version;
  bool starting_version_latest = false;  // startingVersion 'latest': only new commits
  // Read changes from the first commit at or after this time (ms since the epoch).
  std::optional<int64_t> starting_timestamp_ms;
  std::optional<int64_t> max_files_per_trigger = kDefaultMaxFilesPerTrigger;
  std::optional<int64_t> max_bytes_per_trigger;
  bool ignore_deletes = false;
  bool skip_change_commits = false;
  bool read_change_feed = false;
};

class DeltaSource : public Source {
 public:
  explicit DeltaSource(DeltaSourceOptions options);
  std::string description() const override;
  Status Open(const SourceContext& context) override;
  ReadLimit DefaultReadLimit() const override;
  Status PrepareForAvailableNow() override;
  Result<std::optional<std::string>> LatestOffset(const std::optional<std::string>& start,
                                                  const ReadLimit& limit, BatchId batch) override;
  Result<int64_t> GetBatch(engine::Session& session, const std::optional<std::string>& start,
                           const std::string& end, BatchId batch, std::string_view table) override;

 private:
  struct PlannedFile {
    delta::Version version = 0;
    int64_t index = 0;
    bool from_snapshot = false;
    delta::AddFile add;
  };
  // Decides per file whether the walk takes it (true) or stops before it (false).
  using Admit = std::function<bool(const PlannedFile& file)>;

  Result<DeltaSourceOffset> InitialPosition();
  Result<DeltaSourceOffset> StartPosition(const std::optional<std::string>& start);
  // Walks the files after `start` in offset order up to version `last`, while `admit` says so.
  Result<std::vector<PlannedFile>> Walk(const DeltaSourceOffset& start, delta::Version last,
                                        const Admit& admit);
  Result<delta::ActionBatch> ReadCommit(delta::Version version);
  Result<std::optional<std::string>> LatestChangeOffset(const DeltaSourceOffset& position,
                                                        delta::Version last,
                                                        const ReadLimit& limit);
  Result<std::vector<std::string>> ChangeScans(const DeltaSourceOffset& position,
                                               const DeltaSourceOffset& end);
  Result<delta::Version> LatestVersion();

  DeltaSourceOptions options_;
  SourceContext context_;
  std::unique_ptr<delta::Engine> engine_;
  delta::SnapshotPtr latest_;
  delta::SnapshotPtr starting_snapshot_;  // the snapshot of an isStartingVersion position
  std::string schema_string_;             // the schema this run reads with
  std::optional<delta::Version> available_now_cap_;
};

}  // namespace lake::streaming
