// Log replay internals shared by snapshot.cc (loading, refresh, time travel, history).
// Not for other layers: they use snapshot.h.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/engine.h"
#include "delta/file_list.h"
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

// Reconciles actions in log order (PROTOCOL.md "Action Reconciliation"). Single-threaded.
class ReplayState {
 public:
  explicit ReplayState(std::string canonical_root) : root_(std::move(canonical_root)) {}

  // Applies one commit (or a whole checkpoint): protocol/metaData last wins, txn last per
  // appId, domainMetadata last per domain, then the file actions as a set: removes first,
  // then adds, so an add and a remove of one key in the same commit leave the file live.
  void Apply(ActionBatch&& batch);

  std::optional<Protocol> protocol;
  std::optional<Metadata> metadata;
  std::unordered_map<std::string, Txn> txns;
  // Includes removed=true entries (they must shadow older state during a refresh).
  std::unordered_map<std::string, DomainMetadata> domains;

  // Reserves room for about `adds` file actions (an estimate; growing past it is fine).
  void Reserve(size_t adds) {
    add_chunks_.reserve(adds / kChunk + 1);
    add_keys_.reserve(adds);
  }
  // Moves out the live files and the tombstones (the state is spent afterwards). The files
  // were stored in chunks from the start, so this moves no AddFile and needs no second copy
  // of the list.
  void TakeFiles(FileList& files, TombstoneList& tombstones);
  // Returns the key and hash of every file key an applied action touched. Call before
  // TakeFiles.
  std::vector<std::pair<std::string, uint64_t>> TouchedKeys() const;

 private:
  // Open-addressing table from file key to a slot in the adds or removes (design note 1 in
  // log_replay.cc). Keys are not stored for the common case of a relative, unescaped path
  // without a DV, whose key is the path itself.
  struct Entry {
    uint64_t hash = 0;
    uint32_t index = 0;
    uint8_t used = 0;
    uint8_t live = 0;  // 1: Add(index), 0: Remove(index)
  };
  struct Key {
    std::string_view view;  // the key (points into `owned` or the action's path)
    std::string owned;      // set when the key differs from the path
  };
  // Items are kept in chunks of FileList::kChunkSize, so that TakeFiles hands them to a
  // FileList without moving them.
  static constexpr size_t kChunk = FileList::kChunkSize;
  template <typename T>
  static T& At(std::vector<std::vector<T>>& chunks, size_t i) {
    return chunks[i / kChunk][i % kChunk];
  }
  template <typename T>
  static const T& At(const std::vector<std::vector<T>>& chunks, size_t i) {
    return chunks[i / kChunk][i % kChunk];
  }
  template <typename T>
  static void Push(std::vector<std::vector<T>>& chunks, T&& item) {
    if (chunks.empty() || chunks.back().size() == kChunk) {
      chunks.emplace_back();
      chunks.back().reserve(kChunk);
    }
    chunks.back().push_back(std::move(item));
  }
  Key MakeKey(std::string_view path, const std::optional<DeletionVectorDescriptor>& dv) const;
  std::string_view StoredKey(const Entry& e) const;
  // Returns the entry for `key`, or the empty entry where it would go.
  Entry& Find(std::string_view key, uint64_t hash);
  void Grow();

  std::string root_;
  std::vector<Entry> table_;  // size is a power of two
  size_t used_ = 0;
  std::vector<std::vector<AddFile>> add_chunks_;
  size_t add_count_ = 0;
  std::vector<std::string> add_keys_;  // empty unless the key differs from the path
  std::vector<bool> add_dead_;
  std::vector<std::vector<RemoveFile>> remove_chunks_;
  size_t remove_count_ = 0;
  std::vector<std::string> remove_keys_;
  std::vector<bool> remove_dead_;
};

// Reads all parts of a checkpoint (JSON by the log parser, Parquet by the engine's
// CheckpointReader) and, for V2 checkpoints, the sidecars they name.
Result<ActionBatch> ReadCheckpoint(Engine& engine, std::string_view table,
                                   const CheckpointFiles& checkpoint);

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
