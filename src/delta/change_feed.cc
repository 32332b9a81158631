// Change data feed planning; design notes in change_feed.h.
#include "delta/change_feed.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <utility>

#include "base/strings.h"
#include "delta/internal/log_replay.h"
#include "delta/log_segment.h"
#include "delta/snapshot.h"

namespace lake::delta {
namespace {

// "YYYY-MM-DD HH:MM:SS.mmm UTC", for messages.
std::string FormatTimestampMs(int64_t ms) {
  int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  int64_t millis = ms - secs * 1000;
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

const CommitFile* FindCommit(const LogListing& listing, Version version) {
  auto it = std::lower_bound(
      listing.commits.begin(), listing.commits.end(), version,
      [](const CommitFile& commit, Version v) { return commit.version < v; });
  if (it == listing.commits.end() || it->version != version) return nullptr;
  return &*it;
}

// Splits one commit's actions into change files (change_feed.h design notes 1-4).
CommitChanges ChangesOf(Version version, int64_t timestamp_ms, ActionBatch&& batch) {
  CommitChanges changes;
  changes.version = version;
  changes.timestamp_ms = timestamp_ms;
  for (const RemoveFile& remove : batch.removes) changes.removed_paths.push_back(remove.path);
  if (!batch.cdcs.empty()) {
    // PROTOCOL.md "Change Data Files": when a commit has cdc files, they are the complete
    // change record of that commit; its adds and removes must not be read as changes.
    changes.cdc_files = std::move(batch.cdcs);
    return changes;
  }
  // Pair removes and adds of one path where a deletion vector is involved (note 3). Without a
  // DV on either side a remove + add of one path is a plain rewrite: delete all, insert all.
  std::map<std::string, size_t> removed_by_path;
  for (size_t i = 0; i < batch.removes.size(); ++i) {
    if (batch.removes[i].data_change) removed_by_path.emplace(batch.removes[i].path, i);
  }
  std::vector<bool> remove_paired(batch.removes.size(), false);
  for (AddFile& add : batch.adds) {
    if (!add.data_change) continue;
    auto it = removed_by_path.find(add.path);
    if (it != removed_by_path.end() && !remove_paired[it->second] &&
        (add.deletion_vector || batch.removes[it->second].deletion_vector)) {
      remove_paired[it->second] = true;
      changes.dv_updates.push_back(DvUpdate{batch.removes[it->second], std::move(add)});
      continue;
    }
    changes.inserted.push_back(std::move(add));
  }
  for (size_t i = 0; i < batch.removes.size(); ++i) {
    if (batch.removes[i].data_change && !remove_paired[i]) {
      changes.deleted.push_back(std::move(batch.removes[i]));
    }
  }
  return changes;
}

}  // namespace

bool IsChangeDataFeedEnabled(const Metadata& metadata) {
  auto it = metadata.configuration.find("delta.enableChangeDataFeed");
  return it != metadata.configuration.end() && ToLower(it->second) == "true";
}

Result<ChangeFeedRange> ResolveChangeFeedRange(Engine& engine, int64_t start,
                                               bool start_is_timestamp,
                                               std::optional<int64_t> end, bool end_is_timestamp) {
  storage::ObjectStore& store = engine.store();
  const std::string table = store.uri();
  std::vector<HistoryEntry> history;  // newest first; loaded only for timestamp bounds
  if (start_is_timestamp || (end && end_is_timestamp)) {
    LAKE_ASSIGN_OR_RETURN(history, LoadHistory(engine));
  }
  LAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(store));
  std::optional<Version> latest = listing.LatestVersion();
  if (!latest) {
    return Status::NotFound(StrCat(table, ": not a Delta table (no commits in ", kLogPrefix, ")"))
        .WithHint("check the path: a Delta table is a folder holding _delta_log/");
  }
  ChangeFeedRange range;
  if (start_is_timestamp) {
    // The first commit at or after the timestamp (Spark's getStartingVersion for CDF).
    std::optional<Version> found;
    for (const HistoryEntry& entry : history) {  // newest first
      if (entry.timestamp_ms >= start) found = entry.version;
    }
    if (!found) {
      return Status::InvalidArgument(
                 StrCat(table, ": the start timestamp ", FormatTimestampMs(start),
                        " is after the latest commit (version ", *latest, ")"))
          .WithHint("use an earlier start timestamp or a start version");
    }
    range.start = *found;
  } else {
    if (start < 0) {
      return Status::InvalidArgument(
          StrCat(table, ": table_changes start version must be >= 0, got ", start));
    }
    if (start > *latest) {
      return Status::InvalidArgument(
                 StrCat(table, ": the start version ", start,
                        " for reading change data is after the latest version ", *latest))
          .WithHint(StrCat("use a start version between 0 and ", *latest));
    }
    range.start = start;
  }
  range.end = *latest;
  if (end) {
    if (end_is_timestamp) {
      std::optional<Version> found;
      for (const HistoryEntry& entry : history) {
        if (entry.timestamp_ms <= *end) {
          found = entry.version;
          break;
        }
      }
      if (!found) {
        return Status::InvalidArgument(StrCat(table, ": the end timestamp ",
                                              FormatTimestampMs(*end),
                                              " is before the earliest commit still in the log"))
            .WithHint("use a later end timestamp or an end version");
      }
      range.end = *found;
    } else {
      if (*end < 0) {
        return Status::InvalidArgument(
            StrCat(table, ": table_changes end version must be >= 0, got ", *end));
      }
      // Spark clamps an end beyond the latest version to it.
      range.end = std::min(*end, *latest);
    }
  }
  if (range.start > range.end) {
    return Status::InvalidArgument(StrCat(table, ": table_changes start version ", range.start,
                                          " is after the end version ", range.end))
        .WithHint("give an end at or after the start");
  }
  return range;
}

Result<std::vector<CommitChanges>> ListChangeFiles(Engine& engine, ChangeFeedRange range) {
  storage::ObjectStore& store = engine.store();
  const std::string table = store.uri();
  // The metadata in effect at the start: the snapshot includes a metaData action of the start
  // commit itself, so a range may start at the commit that enabled the feed.
  LAKE_ASSIGN_OR_RETURN(SnapshotPtr start_snapshot, LoadSnapshot(engine, range.start));
  LAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(store));
  Metadata metadata = start_snapshot->metadata();
  const std::string schema_string = metadata.schema_string;
  const std::vector<std::string> partition_columns = metadata.partition_columns;

  std::vector<CommitChanges> result;
  result.reserve(static_cast<size_t>(range.end - range.start + 1));
  for (Version v = range.start; v <= range.end; ++v) {
    const CommitFile* commit = FindCommit(listing, v);
    if (!commit) {
      return Status::NotFound(StrCat(table, ": commit ", v,
                                     " is no longer in the log, so its changes cannot be read"))
          .WithHint("start the range after the versions removed by log cleanup");
    }
    LAKE_ASSIGN_OR_RETURN(ActionBatch batch,
                          internal::ReadJsonLogFile(store, table, commit->info.key));
    if (v > range.start && !batch.metadata.empty()) metadata = batch.metadata.back();
    if (!IsChangeDataFeedEnabled(metadata)) {
      return Status::FailedPrecondition(
                 StrCat(table, ": change data was not recorded for version ", v,
                        " (delta.enableChangeDataFeed is not true there), so the range [",
                        range.start, ", ", range.end, "] cannot be read"))
          .WithHint(
              "read a range that starts after ALTER TABLE ... SET TBLPROPERTIES "
              "('delta.enableChangeDataFeed' = 'true')");
    }
    if (metadata.schema_string != schema_string ||
        metadata.partition_columns != partition_columns) {
      return Status::NotSupported(
                 StrCat(table, ": the schema or partitioning changes at version ", v,
                        " inside the change data range [", range.start, ", ", range.end,
                        "]; table_changes across a schema change is not supported"))
          .WithHint(StrCat("read the ranges before and from version ", v, " separately"));
    }
    std::optional<CommitInfo> info;
    if (!batch.commit_infos.empty()) info = batch.commit_infos.front();
    int64_t timestamp_ms = internal::CommitTimestamp(info, commit->info, /*use_ict=*/true);
    result.push_back(ChangesOf(v, timestamp_ms, std::move(batch)));
  }
  return result;
}

}  // namespace lake::delta
