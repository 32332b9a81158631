// Log listing: which files of _delta_log/ make up the table at a version
// (PROTOCOL.md "Delta Log Entries", "Checkpoints", "Checkpoint Naming Scheme",
// "Log Compaction Files", "Last Checkpoint File").
//
//  (1) _last_checkpoint is a hint only: when it parses, listing starts at its version; when it
//      is missing, empty, corrupt or names a checkpoint that is not (completely) there, the
//      whole folder is listed instead.
//  (2) Names are classified strictly; anything else under _delta_log/ is ignored (sub-folders
//      such as _commits/, _staged_commits/, _sidecars/, _autostats/; Hadoop ".x.crc" files).
//  (3) A multi-part checkpoint counts only when every part is present.
//  (4) The segment for version v = the newest complete checkpoint <= v plus the commits after
//      it up to v, which must be contiguous: a gap is kCorruption.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "storage/object_store.h"

namespace lake::delta {

inline constexpr std::string_view kLogPrefix = "_delta_log/";

// The content of _delta_log/_last_checkpoint that lake uses.
struct LastCheckpointHint {
  Version version = 0;
  std::optional<int64_t> size;   // actions in the checkpoint
  std::optional<int32_t> parts;  // multi-part checkpoints
  std::optional<int64_t> size_in_bytes;
  std::optional<int64_t> num_of_add_files;
};

// Parses _last_checkpoint. kCorruption when it is not a JSON object with a non-negative
// integer "version". Never crashes on any input (a fuzz target calls it).
Result<LastCheckpointHint> ParseLastCheckpoint(std::string_view json);

enum class CheckpointKind {
  kClassic,    // N.checkpoint.parquet (V1 spec, or V2 spec when it has checkpointMetadata)
  kMultiPart,  // N.checkpoint.PPPPPPPPPP.TTTTTTTTTT.parquet
  kUuid,       // N.checkpoint.<uuid>.json|parquet (V2 spec)
};

struct CheckpointFiles {
  Version version = 0;
  CheckpointKind kind = CheckpointKind::kClassic;
  std::vector<storage::ObjectInfo> parts;  // in part order; one entry unless multi-part
};

struct CommitFile {
  Version version = 0;
  storage::ObjectInfo info;
};

struct CompactionFile {
  Version start = 0;
  Version end = 0;
  storage::ObjectInfo info;
};

// Every recognised file of _delta_log/ (from a listing, possibly starting at a hint).
struct LogListing {
  std::vector<CommitFile> commits;           // ascending version, no duplicates
  std::vector<CheckpointFiles> checkpoints;  // complete ones only, ascending version
  std::vector<CompactionFile> compactions;   // ascending (start, end)
  std::vector<Version> crc_versions;         // ascending
  bool from_hint = false;                    // listing started at _last_checkpoint

  // Returns the newest version any file describes; nullopt when there is none.
  std::optional<Version> LatestVersion() const;
  // Returns the oldest version that can be reconstructed from the files present: the oldest
  // checkpoint, or 0 when commit 0 is present, whichever is smaller; nullopt when neither.
  std::optional<Version> EarliestReconstructableVersion() const;
};

// Lists and classifies _delta_log/ of `store`, keeping keys sorting after `start_after`
// (a full key; empty = everything).
Result<LogListing> ListLog(storage::ObjectStore& store, std::string_view start_after = {});

// The files to replay for one version.
struct LogSegment {
  Version version = -1;                       // the version this segment reconstructs
  std::optional<CheckpointFiles> checkpoint;  // replay starts here when present
  std::vector<CommitFile> commits;            // checkpoint+1 (or 0) .. version, contiguous
  // The JSON commit at the checkpoint's version, if still present: commitInfo and the
  // in-commit timestamp of that version live only there.
  std::optional<CommitFile> checkpoint_commit;
  Version earliest_version = 0;  // for messages: the oldest reconstructable version
  Version latest_version = 0;    // for messages: the newest version in the log
};

// Returns the segment for `version` (latest when nullopt), using _last_checkpoint as a hint.
// kNotFound: no Delta table (no commit and no checkpoint), or `version` out of the range that
// can be reconstructed (the message names earliest and latest). kCorruption: a missing commit
// between the checkpoint and `version`. `table` names the table in messages.
Result<LogSegment> BuildLogSegment(storage::ObjectStore& store, std::string_view table,
                                   std::optional<Version> version);

// Same, from an existing listing (no I/O).
Result<LogSegment> SegmentFromListing(const LogListing& listing, std::string_view table,
                                      std::optional<Version> version);

// Returns the store key of the commit file for `version`.
std::string CommitKey(Version version);

}  // namespace lake::delta
