// Log replay internals shared by snapshot.cc (loading, refresh, time travel, history).
// Not for other layers: they use snapshot.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/engine.h"
#include "delta/file_list.h"
#include "delta/internal/file_index.h"
#include "delta/log_segment.h"
#include "delta/snapshot.h"

namespace lake::delta::internal {

// Percent-decodes `s` once ("a%20b" -> "a b"); malformed escapes are kept as written.
std::string PercentDecode(std::string_view s);

// Returns the absolute path a "file:" URI or plain absolute path names ("file:/a",
// "file:///a", "file://localhost/a" and "/a" all give "/a"), or nullopt when `uri` has no
// file scheme and is not absolute.
std::optional<std::string> LocalPathOf(std::string_view uri);

// Returns the canonical form of the table root used to relativize absolute paths: the local
// path of a file: URI, else the URI itself; no trailing '/'.
std::string CanonicalRoot(std::string_view store_uri);

// Returns the logical file key of a path as written in the log (PROTOCOL.md "Action
// Reconciliation"; design note in log_replay.cc): decoded, scheme-normalised, relative to
// the table root when under it.
std::string CanonicalPath(std::string_view log_path, std::string_view canonical_root);

// Where a batch of actions sits in the log. `ordinal` decides which action wins (0: the
// checkpoint, i: the i-th commit replayed after it); `part` orders the pieces of one ordinal
// (the parts and sidecars of a checkpoint, and the pieces a Parquet file is read in).
struct BatchPosition {
  uint32_t ordinal = 0;
  uint32_t part = 0;
};

// Reconciles actions (PROTOCOL.md "Action Reconciliation") applied in any order, from several
// threads at once (design notes 1, 2 and 4 in log_replay.cc). Apply is thread-safe; the
// members below and TakeFiles/TouchedKeys are for after the last Apply, on one thread.
class ReplayState {
 public:
  explicit ReplayState(std::string canonical_root);
  ~ReplayState();
  ReplayState(const ReplayState&) = delete;
  ReplayState& operator=(const ReplayState&) = delete;

  // Applies the actions of one batch (a commit, or a piece of a checkpoint) at `pos`; each
  // position at most once. protocol/metaData: the latest ordinal wins; txn: per appId;
  // domainMetadata: per domain; file actions: per logical key, the action of the latest
  // ordinal wins, and within one ordinal an add beats a remove, so an add and a remove of
  // one key in the same commit leave the file live. The batch's file actions stay where the
  // parser put them (no copy). kNotSupported past 16M batches.
  Status Apply(BatchPosition pos, ActionBatch&& batch);

  std::optional<Protocol> protocol;
  std::optional<Metadata> metadata;
  std::unordered_map<std::string, Txn> txns;
  // Includes removed=true entries (they must shadow older state during a refresh).
  std::unordered_map<std::string, DomainMetadata> domains;

  // Reserves room in the key table for about `file_actions` keys (an estimate).
  void Reserve(size_t file_actions);
  // Moves out the live files and the tombstones in log order (the state is spent
  // afterwards). Batches of at least 32 live files become chunks as they are; smaller ones
  // are merged. With `file_index`, also turns the key table into the
  // files' key index (no second pass over the files).
  void TakeFiles(FileList& files, TombstoneList& tombstones,
                 std::shared_ptr<const FileKeyIndex>* file_index = nullptr);
  // Returns the key and hash of every file key an applied action touched. Call before
  // TakeFiles.
  std::vector<std::pair<std::string, uint64_t>> TouchedKeys() const;

 private:
  struct Stored;
  struct Shard;
  Result<uint32_t> Register(BatchPosition pos, ActionBatch& batch);
  const Stored& BatchAt(uint32_t b) const;
  std::string_view StoredKey(const IndexEntry& e) const;
  void Upsert(Shard& shard, std::string_view key, uint64_t hash, uint32_t batch, uint32_t slot,
              bool is_add);

  std::string root_;
  std::unique_ptr<Shard[]> shards_;
  std::mutex registry_mu_;
  // Batches by registration number: fixed blocks, so that readers never see a reallocation.
  std::unique_ptr<std::unique_ptr<Stored>[]> blocks_[4096];
  uint32_t batch_count_ = 0;  // guarded by registry_mu_
  std::mutex meta_mu_;        // the non-file members above and their ordinals
  std::optional<uint32_t> protocol_ordinal_, metadata_ordinal_;
  std::unordered_map<std::string, uint32_t> txn_ordinals_, domain_ordinals_;
};

// Reads all parts of a checkpoint (JSON by the log parser, Parquet by the engine's
// CheckpointReader) and, for V2 checkpoints, the sidecars they name, handing each piece to
// `consume` (possibly from several threads at once; `part` orders the pieces). Sidecar and
// checkpointMetadata actions are taken out before `consume` sees a piece.
Status ReadCheckpoint(Engine& engine, std::string_view table, const CheckpointFiles& checkpoint,
                      const std::function<Status(uint32_t part, ActionBatch&& actions)>& consume);

// Reads, parses and applies `commits` (ordinals 1, 2, ... in the order given) on several
// threads; `last_commit_info` receives the last commit's commitInfo, if it has one. Returns
// the error of the earliest commit that failed.
Status ApplyCommits(storage::ObjectStore& store, std::string_view table,
                    const std::vector<CommitFile>& commits, ReplayState& state,
                    std::optional<CommitInfo>& last_commit_info);

// Reads and parses one JSON log file.
Result<ActionBatch> ReadJsonLogFile(storage::ObjectStore& store, std::string_view table,
                                    std::string_view key);

// Returns the commitInfo of a commit file's text (first commitInfo line), without parsing the
// other actions. nullopt when the commit has none.
Result<std::optional<CommitInfo>> ExtractCommitInfo(std::string_view ndjson,
                                                    std::string_view file_name);

// Reads the commitInfo of each commit (in parallel), in the order given.
Result<std::vector<std::optional<CommitInfo>>> ReadCommitInfos(
    storage::ObjectStore& store, std::string_view table, const std::vector<CommitFile>& commits);

// Returns the commit time of a commit: its in-commit timestamp when `use_ict` and it has one,
// else the file's modification time.
int64_t CommitTimestamp(const std::optional<CommitInfo>& info, const storage::ObjectInfo& file,
                        bool use_ict);

}  // namespace lake::delta::internal

namespace lake::delta {

class SnapshotBuilder {
 public:
  // Replays `segment` (checkpoint, then commits) into a snapshot.
  static Result<SnapshotPtr> Build(Engine& engine, const LogSegment& segment);
  // Applies `commits` (contiguous, starting at base.version()+1) on top of `base`.
  static Result<SnapshotPtr> Extend(Engine& engine, const Snapshot& base,
                                    const std::vector<CommitFile>& commits);

 private:
  // Checks protocol/metaData, runs the protocol gate, parses the schema, sets the column
  // mapping mode and the timestamp (`commit_mtime_ms`: the version's commit file mtime).
  static Status Finish(Snapshot& snap, std::string_view table, int64_t commit_mtime_ms);
};

}  // namespace lake::delta
