// Snapshot loading entry points: by version, by timestamp, refresh, history. The replay
// itself is in log_replay.cc, the listing in log_segment.cc.
#include "delta/snapshot.h"

#include <algorithm>
#include <limits>

#include "base/strings.h"
#include "delta/internal/log_replay.h"
#include "delta/log_segment.h"

namespace lake::delta {

const std::vector<std::string>& SupportedReaderFeatures() {
  static const std::vector<std::string> kFeatures = {
      "deletionVectors",     "columnMapping",        "timestampNtz",
      "typeWidening",        "typeWidening-preview", "v2Checkpoint",
      "vacuumProtocolCheck", "variantType",          "variantType-preview",
  };
  return kFeatures;
}

Status CheckReadSupported(const Protocol& protocol) {
  const std::vector<std::string>& supported = SupportedReaderFeatures();
  std::vector<std::string> unknown;
  // Feature lists mean something only from reader version 3 on (PROTOCOL.md "Table
  // Features"); above 3 they are named too, so the message tells the whole story.
  if (protocol.min_reader_version >= 3 && protocol.reader_features) {
    for (const std::string& f : *protocol.reader_features) {
      if (std::find(supported.begin(), supported.end(), f) == supported.end()) {
        unknown.push_back(f);
      }
    }
  }
  const bool bad_version = protocol.min_reader_version < 1 || protocol.min_reader_version > 3;
  if (!bad_version && unknown.empty()) return Status::OK();
  std::string message;
  if (bad_version) {
    message = StrCat("protocol minReaderVersion ", protocol.min_reader_version,
                     " is not supported (lake reads reader versions 1 to 3)");
  }
  if (!unknown.empty()) {
    std::vector<std::string> quoted;
    for (const std::string& f : unknown) quoted.push_back("'" + f + "'");
    message += StrCat(message.empty() ? "" : "; ", "unsupported reader feature",
                      unknown.size() > 1 ? "s " : " ", StrJoin(quoted, ", "));
  }
  std::string hint = "read the table with an engine that implements it, or upgrade lake";
  if (std::find(unknown.begin(), unknown.end(), "catalogManaged") != unknown.end() ||
      std::find(unknown.begin(), unknown.end(), "catalogOwned-preview") != unknown.end()) {
    hint =
        "this table is managed by a catalog and must be read through that catalog, not by "
        "path";
  }
  return Status::NotSupported(std::move(message)).WithHint(std::move(hint));
}

std::string Snapshot::ResolvePath(const std::string& log_path) const {
  return internal::CanonicalPath(log_path, internal::CanonicalRoot(table_uri_));
}

int64_t Snapshot::size_bytes() const {
  int64_t total = 0;
  for (const AddFile& f : files_) total += f.size;
  return total;
}

Result<SnapshotPtr> LoadSnapshot(Engine& engine, std::optional<Version> version) {
  const std::string table = engine.store().uri();
  LAKE_ASSIGN_OR_RETURN(LogSegment segment, BuildLogSegment(engine.store(), table, version));
  return SnapshotBuilder::Build(engine, segment);
}

namespace {

std::optional<int64_t> ConfigInt(const Metadata& metadata, const std::string& key) {
  auto it = metadata.configuration.find(key);
  if (it == metadata.configuration.end()) return std::nullopt;
  return ParseInt64(it->second);
}

}  // namespace

Result<SnapshotPtr> LoadSnapshotAtTimestamp(Engine& engine, int64_t timestamp_ms) {
  storage::ObjectStore& store = engine.store();
  const std::string table = store.uri();
  LAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(store));
  LAKE_ASSIGN_OR_RETURN(LogSegment latest_segment,
                        SegmentFromListing(listing, table, std::nullopt));
  LAKE_ASSIGN_OR_RETURN(SnapshotPtr latest, SnapshotBuilder::Build(engine, latest_segment));

  // Versions that can be reconstructed and have a commit file (its time is the version's).
  std::vector<CommitFile> candidates;
  for (const CommitFile& c : listing.commits) {
    if (c.version >= latest_segment.earliest_version) candidates.push_back(c);
  }
  if (candidates.empty()) {
    return Status::NotFound(StrCat(table, ": no commit files left to take timestamps from"))
        .WithHint("read the table by version instead");
  }
  // PROTOCOL.md "In-Commit Timestamps": from the enablement version on, a version's time is
  // its commitInfo.inCommitTimestamp; before it, the commit file's modification time.
  const Metadata& metadata = latest->metadata();
  auto ict_it = metadata.configuration.find("delta.enableInCommitTimestamps");
  const bool ict_enabled =
      ict_it != metadata.configuration.end() && ToLower(ict_it->second) == "true";
  const Version ict_from =
      ict_enabled ? ConfigInt(metadata, "delta.inCommitTimestampEnablementVersion").value_or(0)
                  : std::numeric_limits<Version>::max();
  std::vector<std::optional<int64_t>> cache(candidates.size());
  auto time_of = [&](size_t i) -> Result<int64_t> {
    if (cache[i]) return *cache[i];
    int64_t t = candidates[i].info.mtime_ms;
    if (candidates[i].version >= ict_from) {
      LAKE_ASSIGN_OR_RETURN(std::string text, store.Get(candidates[i].info.key));
      LAKE_ASSIGN_OR_RETURN(
          std::optional<CommitInfo> info,
          internal::ExtractCommitInfo(text, StrCat(table, "/", candidates[i].info.key)));
      if (!info || !info->in_commit_timestamp) {
        return Status::Corruption(StrCat(table, "/", candidates[i].info.key,
                                         ": in-commit timestamps are enabled but the commit has "
                                         "no commitInfo.inCommitTimestamp"))
            .WithHint("read the table by version instead");
      }
      t = *info->in_commit_timestamp;
    }
    cache[i] = t;
    return t;
  };
  const size_t first_ict = static_cast<size_t>(
      std::lower_bound(candidates.begin(), candidates.end(), ict_from,
                       [](const CommitFile& c, Version v) { return c.version < v; }) -
      candidates.begin());
  LAKE_ASSIGN_OR_RETURN(int64_t first_time, time_of(0));
  LAKE_ASSIGN_OR_RETURN(int64_t last_time, time_of(candidates.size() - 1));
  auto range_text = [&] {
    return StrCat("the table's commits span ", first_time, " (version ", candidates.front().version,
                  ") to ", last_time, " (version ", candidates.back().version, ") ms since epoch");
  };
  if (timestamp_ms < first_time) {
    return Status::InvalidArgument(StrCat(table, ": timestamp ", timestamp_ms,
                                          " is before the earliest available commit; ",
                                          range_text()))
        .WithHint("use a later timestamp, or read by version");
  }
  if (timestamp_ms > last_time) {
    return Status::InvalidArgument(StrCat(table, ": timestamp ", timestamp_ms,
                                          " is after the latest commit; ", range_text()))
        .WithHint(StrCat("read the latest version (", candidates.back().version, ") instead"));
  }
  std::optional<size_t> found;
  bool in_ict_range = false;
  if (first_ict < candidates.size()) {
    std::optional<int64_t> boundary =
        ConfigInt(metadata, "delta.inCommitTimestampEnablementTimestamp");
    if (!boundary) {
      LAKE_ASSIGN_OR_RETURN(int64_t t, time_of(first_ict));
      boundary = t;
    }
    in_ict_range = timestamp_ms >= *boundary || first_ict == 0;
  }
  if (in_ict_range) {
    // In-commit timestamps increase with the version: binary search, O(log n) file reads.
    size_t lo = first_ict, hi = candidates.size();  // answer: last i in [lo, hi) with t <= ts
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      LAKE_ASSIGN_OR_RETURN(int64_t t, time_of(mid));
      if (t <= timestamp_ms) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    LAKE_ASSIGN_OR_RETURN(int64_t t, time_of(lo));
    if (t <= timestamp_ms) found = lo;
  } else {
    // File modification times need not be monotonic: scan from the newest pre-ICT commit.
    for (size_t i = std::min(first_ict, candidates.size()); i-- > 0;) {
      if (candidates[i].info.mtime_ms <= timestamp_ms) {
        found = i;
        break;
      }
    }
  }
  if (!found) {
    return Status::InvalidArgument(StrCat(table, ": no version has a commit time at or before ",
                                          timestamp_ms, "; ", range_text()))
        .WithHint("use a later timestamp, or read by version");
  }
  const Version version = candidates[*found].version;
  if (version == latest->version()) return latest;
  LAKE_ASSIGN_OR_RETURN(LogSegment segment, SegmentFromListing(listing, table, version));
  return SnapshotBuilder::Build(engine, segment);
}

Result<SnapshotPtr> RefreshSnapshot(Engine& engine, const SnapshotPtr& base) {
  if (!base) return Status::InvalidArgument("RefreshSnapshot needs a base snapshot");
  storage::ObjectStore& store = engine.store();
  // Only names after the base's commit are listed ("N.json" sorts after "N.checkpoint..."
  // and "N.crc").
  LAKE_ASSIGN_OR_RETURN(LogListing listing,
                        ListLog(store, StrCat(kLogPrefix, ZeroPad(base->version(), 20), ".json")));
  std::optional<Version> latest = listing.LatestVersion();
  if (!latest || *latest <= base->version()) return base;
  std::vector<CommitFile> commits;
  Version expected = base->version() + 1;
  for (const CommitFile& c : listing.commits) {
    if (c.version < expected) continue;
    if (c.version != expected) break;
    commits.push_back(c);
    ++expected;
  }
  if (!commits.empty() && commits.back().version == *latest) {
    return SnapshotBuilder::Extend(engine, *base, commits);
  }
  // The new part of the log is not a plain run of commits (a gap covered by a checkpoint, or
  // cleaned-up commits): load from scratch, which applies every rule of a full load.
  return LoadSnapshot(engine);
}

Result<std::vector<HistoryEntry>> LoadHistory(Engine& engine, std::optional<int64_t> limit) {
  storage::ObjectStore& store = engine.store();
  const std::string table = store.uri();
  LAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(store));
  if (!listing.LatestVersion()) {
    return Status::NotFound(
               StrCat(table, ": not a Delta table (no commits or checkpoints in ", kLogPrefix, ")"))
        .WithHint("check the path: a Delta table is a folder holding _delta_log/");
  }
  std::vector<CommitFile> commits(listing.commits.rbegin(), listing.commits.rend());
  if (limit && *limit >= 0 && static_cast<size_t>(*limit) < commits.size()) {
    commits.resize(static_cast<size_t>(*limit));
  }
  LAKE_ASSIGN_OR_RETURN(std::vector<std::optional<CommitInfo>> infos,
                        internal::ReadCommitInfos(store, table, commits));
  std::vector<HistoryEntry> history;
  history.reserve(commits.size());
  for (size_t i = 0; i < commits.size(); ++i) {
    HistoryEntry entry;
    entry.version = commits[i].version;
    // An in-commit timestamp is written only while the feature is enabled, so its presence
    // is the per-commit answer to "is ICT on here".
    entry.timestamp_ms = internal::CommitTimestamp(infos[i], commits[i].info, /*use_ict=*/true);
    if (infos[i]) entry.commit_info = std::move(*infos[i]);
    history.push_back(std::move(entry));
  }
  return history;
}

}  // namespace lake::delta
