// Snapshot: the state of a Delta table at one version, reconstructed from its log
// (PROTOCOL.md "Action Reconciliation"). A snapshot never changes once built; share it as
// SnapshotPtr across threads freely.
//
// Loading (log_segment.cc, log_replay.cc):
//  (1) List _delta_log/ (using _last_checkpoint only as a hint of where to start listing).
//  (2) Pick the newest complete checkpoint <= target version (classic, multi-part or V2).
//  (3) Require contiguous commits from checkpoint+1 (or 0) to the target: a gap is kCorruption.
//  (4) Replay checkpoint and commits (in parallel; the latest action per file key wins, key =
//      (path, dv unique id)); files() lists the live files in log order.
//  (5) Gate on the protocol before anything is returned: unknown reader features or reader
//      version > 3 are kNotSupported naming them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/engine.h"
#include "delta/file_list.h"
#include "delta/schema.h"

namespace lake::delta {

namespace internal {
class FileKeyIndex;
}  // namespace internal

// The reader features lake implements (PROTOCOL.md "Valid Feature Names in Table Features").
const std::vector<std::string>& SupportedReaderFeatures();

// Checks that lake can read a table with `protocol`. kNotSupported names the version or
// every unknown feature, with a hint.
Status CheckReadSupported(const Protocol& protocol);

class Snapshot {
 public:
  Version version() const { return version_; }
  const Protocol& protocol() const { return protocol_; }
  const Metadata& metadata() const { return metadata_; }
  // The table schema; an empty struct when schema_status() is not OK.
  const Schema& schema() const { return schema_; }
  // Whether metaData.schemaString parsed. The log itself can be replayed without a schema
  // (some test tables have none), so a bad schema fails only the callers that need it.
  const Status& schema_status() const { return schema_status_; }
  // "none", "name" or "id" (PROTOCOL.md "Column Mapping"); "none" unless the protocol
  // supports the feature.
  const std::string& column_mapping_mode() const { return column_mapping_mode_; }
  // Live data files, in no particular order. Shares unchanged chunks with the snapshot a
  // refresh started from (file_list.h).
  const FileList& files() const { return files_; }
  // Tombstones still in the log.
  const TombstoneList& tombstones() const { return tombstones_; }
  const std::unordered_map<std::string, Txn>& txns() const { return txns_; }
  // Live (not removed) domain metadata, by domain.
  const std::unordered_map<std::string, DomainMetadata>& domains() const { return domains_; }
  // commitInfo of this version's JSON commit, when it has one.
  const std::optional<CommitInfo>& commit_info() const { return commit_info_; }
  // Commit timestamp of this version (ms): in-commit timestamp when enabled, else the
  // commit file's modification time.
  int64_t timestamp_ms() const { return timestamp_ms_; }
  // Version of the checkpoint the replay started from, if any.
  std::optional<Version> checkpoint_version() const { return checkpoint_version_; }
  // The table's root URI (for messages and resolving paths).
  const std::string& table_uri() const { return table_uri_; }

  // Returns the store key (relative to the table root) or absolute local path for a path as
  // written in an add/remove/cdc action: percent-decoded once; absolute "file:" URIs under
  // the table root become relative keys.
  std::string ResolvePath(const std::string& log_path) const;

  // Total bytes and records (sum of stats.numRecords; nullopt if any file lacks stats).
  int64_t size_bytes() const;

 private:
  friend class SnapshotBuilder;
  Version version_ = -1;
  Protocol protocol_;
  Metadata metadata_;
  Schema schema_;
  Status schema_status_;
  std::string column_mapping_mode_ = "none";
  FileList files_;
  TombstoneList tombstones_;
  // Key -> location in files_ / tombstones_, for RefreshSnapshot (internal/file_index.h).
  std::shared_ptr<const internal::FileKeyIndex> file_index_;
  std::shared_ptr<const internal::FileKeyIndex> tombstone_index_;
  std::unordered_map<std::string, Txn> txns_;
  std::unordered_map<std::string, DomainMetadata> domains_;
  std::optional<CommitInfo> commit_info_;
  int64_t timestamp_ms_ = 0;
  std::optional<Version> checkpoint_version_;
  std::string table_uri_;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Loads the snapshot at `version` (latest if nullopt). kNotFound when the folder holds no
// Delta table (no or empty _delta_log); kNotFound naming the earliest and latest versions
// when `version` is out of range or no longer reconstructable; kCorruption on gaps,
// unparsable log files, or a missing protocol/metaData; kNotSupported from the protocol gate.
Result<SnapshotPtr> LoadSnapshot(Engine& engine, std::optional<Version> version = std::nullopt);

// Loads the latest version whose commit timestamp is <= `timestamp_ms` (PROTOCOL.md
// "In-Commit Timestamps" when enabled; else commit file modification times). Before the
// first commit or after the latest is kInvalidArgument naming the valid range.
Result<SnapshotPtr> LoadSnapshotAtTimestamp(Engine& engine, int64_t timestamp_ms);

// Returns the snapshot at the latest version, reusing `base` and reading only the commits
// after it (a cheap refresh). Returns `base` itself when nothing is new.
Result<SnapshotPtr> RefreshSnapshot(Engine& engine, const SnapshotPtr& base);

// One row of DESCRIBE HISTORY.
struct HistoryEntry {
  Version version = 0;
  int64_t timestamp_ms = 0;
  CommitInfo commit_info;  // empty fields if the commit had none
};

// Returns the history, newest first, of every commit whose JSON file is still present;
// at most `limit` entries when given.
Result<std::vector<HistoryEntry>> LoadHistory(Engine& engine,
                                              std::optional<int64_t> limit = std::nullopt);

}  // namespace lake::delta
