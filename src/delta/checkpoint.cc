// Checkpoint writing and expired-log cleanup.
//
// Writing (PROTOCOL.md "Checkpoints", "Checkpoint Specs", Appendix "Checkpoint Schema").
//  (1) Rows: protocol, metaData, txn, live domainMetadata, every live add, every unexpired
//      remove; never commitInfo or cdc. A remove expires when its deletionTimestamp is not
//      newer than now - delta.deletedFileRetentionDuration (default 1 week); VACUUM may have
//      deleted its file since, so readers no longer need it.
//  (2) Parts: one file unless the file actions exceed max_actions_per_part. Then n parts, the
//      file actions hash-partitioned by path (so every action of one path lands in one part,
//      as PROTOCOL.md asks of multi-part checkpoints) and the non-file actions in part 1.
//  (3) Each file goes through the engine's CheckpointWriter, which is atomic like
//      ObjectStore::Put: a crash leaves no torn file under a checkpoint name. The worst a crash
//      leaves is some parts of a multi-part checkpoint, which readers ignore until all n are
//      there (log_segment.h note 3), or a complete checkpoint without _last_checkpoint, which
//      readers find by listing.
//  (4) _last_checkpoint is written after every part is complete, and never moved back to an
//      older checkpoint. It is only a hint (log_segment.h note 1).
//  (5) Two writers may checkpoint the same version at once: both write the same rows, so
//      whichever Put lands last is as good as the other.
//  (6) Tables with the v2Checkpoint writer feature may not have V1 checkpoints: they get the
//      V2 spec under the classic name (one checkpointMetadata row, file actions inline), which
//      PROTOCOL.md allows ("V2 Spec" under "Classic Checkpoint" naming); never multi-part.
//
// Cleanup (PROTOCOL.md "Metadata Cleanup"; Spark's MetadataCleanup).
//  (7) cutoff = UTC midnight of now - delta.logRetentionDuration. Commit times are made
//      monotonic in version order (a later commit is never older than an earlier one, as
//      Spark's BufferingLogDeletionIterator does, so clock skew cannot expire a version whose
//      predecessor is retained); the cutoff commit is the newest version whose time is <=
//      cutoff. In-commit timestamps, where enabled, are monotonic by the protocol.
//  (8) The newest complete checkpoint <= the cutoff commit is kept with its JSON commit and
//      everything after it; log files of older versions are deleted, oldest first, so an
//      interrupted cleanup leaves a contiguous suffix of the log and every version >= the
//      cutoff commit stays loadable at every moment.
#include "delta/checkpoint.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "base/strings.h"
#include "delta/internal/log_replay.h"

namespace lake::delta {
namespace {

constexpr std::string_view kLastCheckpointKey = "_delta_log/_last_checkpoint";

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::string* Config(const Metadata& metadata, std::string_view key) {
  auto it = metadata.configuration.find(std::string(key));
  return it == metadata.configuration.end() ? nullptr : &it->second;
}

Result<bool> ConfigBool(const Metadata& metadata, std::string_view key, bool fallback) {
  const std::string* value = Config(metadata, key);
  if (!value) return fallback;
  const std::string lower = ToLower(*value);
  if (lower == "true") return true;
  if (lower == "false") return false;
  return Status::InvalidArgument(StrCat("table property ", key, " = '", *value,
                                        "' is not a boolean"))
      .WithHint(StrCat("set it to true or false: ALTER TABLE ... SET TBLPROPERTIES ('", key,
                       "' = 'true')"));
}

Result<int64_t> ConfigDurationMs(const Metadata& metadata, std::string_view key,
                                 int64_t fallback) {
  const std::string* value = Config(metadata, key);
  if (!value) return fallback;
  Result<int64_t> ms = ParseDurationMs(*value);
  if (!ms.ok()) {
    return Status::InvalidArgument(StrCat("table property ", key, ": ", ms.status().message()))
        .WithHint(StrCat("write it like 'interval 7 days'"));
  }
  return ms;
}

bool HasWriterFeature(const Protocol& protocol, std::string_view feature) {
  if (!protocol.writer_features) return false;
  return std::find(protocol.writer_features->begin(), protocol.writer_features->end(),
                   feature) != protocol.writer_features->end();
}

// FNV-1a: a stable hash, so that the same table state always gives the same parts.
uint64_t HashPath(std::string_view path) {
  uint64_t h = 14695981039346656037ull;
  for (char c : path) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// --- Stats schema (what Spark's StatisticsCollection.statsSchema gives) -----------------------

bool MinMaxEligible(TypeKind kind) {
  switch (kind) {
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
    case TypeKind::kFloat:
    case TypeKind::kDouble:
    case TypeKind::kDecimal:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
    case TypeKind::kString:
      return true;
    default:
      return false;
  }
}

DataType LongType() {
  DataType t;
  t.kind = TypeKind::kLong;
  return t;
}

DataType StructType() {
  DataType t;
  t.kind = TypeKind::kStruct;
  return t;
}

StructField Field(std::string name, DataType type) {
  StructField f;
  f.name = std::move(name);
  f.type = std::move(type);
  return f;
}

// Builds the min/max and nullCount structs of the leaves of `fields` that `keep` accepts,
// recursing into structs. `budget` counts leaves left under dataSkippingNumIndexedCols
// (negative: unlimited); every leaf visited spends one, kept or not, as Spark counts them.
struct StatsBuilder {
  std::string_view mode;
  std::function<bool(const std::string& logical_path)> keep;
  int64_t budget = -1;

  void Walk(const std::vector<StructField>& fields, const std::string& prefix, DataType& min_max,
            DataType& null_count) {
    for (const StructField& field : fields) {
      if (budget == 0) return;
      const std::string path = prefix.empty() ? field.name : StrCat(prefix, ".", field.name);
      const std::string& physical = field.PhysicalNameFor(mode);
      if (field.type.kind == TypeKind::kStruct) {
        DataType sub_min_max = StructType();
        DataType sub_null_count = StructType();
        Walk(field.type.fields, path, sub_min_max, sub_null_count);
        if (!sub_min_max.fields.empty()) {
          min_max.fields.push_back(Field(physical, std::move(sub_min_max)));
        }
        if (!sub_null_count.fields.empty()) {
          null_count.fields.push_back(Field(physical, std::move(sub_null_count)));
        }
        continue;
      }
      if (budget > 0) --budget;
      if (field.type.kind == TypeKind::kVariant || !keep(path)) continue;
      if (MinMaxEligible(field.type.kind)) min_max.fields.push_back(Field(physical, field.type));
      null_count.fields.push_back(Field(physical, LongType()));
    }
  }
};

}  // namespace

// --- Properties -------------------------------------------------------------------------------

Result<int64_t> ParseDurationMs(std::string_view text) {
  std::vector<std::string> words;
  for (const std::string& w : StrSplit(ToLower(text), ' ')) {
    if (!w.empty()) words.push_back(w);
  }
  size_t i = 0;
  if (i < words.size() && words[i] == "interval") ++i;
  if (i == words.size()) {
    return Status::InvalidArgument(StrCat("'", text, "' is not a duration"));
  }
  static const std::map<std::string, int64_t, std::less<>> kUnitMs = {
      {"week", 7LL * 24 * 3600 * 1000}, {"day", 24LL * 3600 * 1000}, {"hour", 3600LL * 1000},
      {"minute", 60LL * 1000},          {"second", 1000},            {"millisecond", 1},
      {"microsecond", 0},
  };
  int64_t total = 0;
  for (; i < words.size(); i += 2) {
    std::optional<int64_t> n = ParseInt64(words[i]);
    if (!n || *n < 0 || i + 1 == words.size()) {
      return Status::InvalidArgument(
          StrCat("'", text, "' is not a duration: expected '<number> <unit>' pairs"));
    }
    std::string unit = words[i + 1];
    if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
    auto it = kUnitMs.find(unit);
    if (it == kUnitMs.end()) {
      return Status::InvalidArgument(StrCat("'", text, "' is not a duration: unknown unit '",
                                            words[i + 1],
                                            "' (weeks, days, hours, minutes, seconds, "
                                            "milliseconds or microseconds)"));
    }
    const int64_t ms = it->second == 0 ? *n / 1000 : *n * it->second;
    if (it->second != 0 && *n > std::numeric_limits<int64_t>::max() / it->second) {
      return Status::InvalidArgument(StrCat("'", text, "' is too long a duration"));
    }
    total += ms;
  }
  return total;
}

bool ShouldCheckpoint(Version version, const Metadata& metadata) {
  int64_t interval = kDefaultCheckpointInterval;
  if (const std::string* value = Config(metadata, "delta.checkpointInterval")) {
    std::optional<int64_t> parsed = ParseInt64(*value);
    if (parsed && *parsed > 0) interval = *parsed;
  }
  return version > 0 && version % interval == 0;
}

Result<CheckpointLayout> CheckpointLayoutFor(const Snapshot& snapshot) {
  const Metadata& metadata = snapshot.metadata();
  CheckpointLayout layout;
  LAKE_ASSIGN_OR_RETURN(layout.write_stats_as_json,
                        ConfigBool(metadata, "delta.checkpoint.writeStatsAsJson", true));
  // Spark's DeltaConfigs default is true (the protocol leaves it to the writer).
  LAKE_ASSIGN_OR_RETURN(layout.write_stats_as_struct,
                        ConfigBool(metadata, "delta.checkpoint.writeStatsAsStruct", true));
  layout.stats_schema = StructType();
  layout.partition_values_schema = StructType();
  // Without a schema nothing can be typed; add.stats (JSON) still carries the statistics, and
  // a reader of a table without a schema could not use typed ones anyway.
  if (!layout.write_stats_as_struct || !snapshot.schema_status().ok()) {
    layout.write_stats_as_struct = false;
    if (!layout.write_stats_as_json) layout.write_stats_as_json = true;  // keep the stats somewhere
    return layout;
  }
  const Schema& schema = snapshot.schema();
  const std::string& mode = snapshot.column_mapping_mode();

  std::vector<std::string> partition_lower;
  for (const std::string& column : metadata.partition_columns) {
    partition_lower.push_back(ToLower(column));
    const StructField* field = FindField(schema, column);
    if (!field) {
      return Status::InvalidArgument(StrCat(snapshot.table_uri(), ": partition column '", column,
                                            "' is not in the table schema"))
          .WithHint("the table's metaData is inconsistent; repair it before checkpointing");
    }
    layout.partition_values_schema.fields.push_back(
        Field(field->PhysicalNameFor(mode), field->type));
  }

  StatsBuilder builder;
  builder.mode = mode;
  std::vector<std::string> wanted;  // delta.dataSkippingStatsColumns, lower-cased logical paths
  if (const std::string* list = Config(metadata, "delta.dataSkippingStatsColumns")) {
    for (const std::string& column : StrSplit(*list, ',')) {
      std::string trimmed = column;
      trimmed.erase(0, trimmed.find_first_not_of(" `"));
      trimmed.erase(trimmed.find_last_not_of(" `") + 1);
      if (!trimmed.empty()) wanted.push_back(ToLower(trimmed));
    }
    builder.keep = [wanted](const std::string& path) {
      const std::string lower = ToLower(path);
      for (const std::string& w : wanted) {
        // A listed struct column covers its leaves.
        if (lower == w || StartsWith(lower, w + ".")) return true;
      }
      return false;
    };
  } else {
    builder.budget = kDefaultDataSkippingNumIndexedCols;
    if (const std::string* n = Config(metadata, "delta.dataSkippingNumIndexedCols")) {
      std::optional<int64_t> parsed = ParseInt64(*n);
      if (!parsed || *parsed < -1) {
        return Status::InvalidArgument(StrCat("table property delta.dataSkippingNumIndexedCols = '",
                                              *n, "' is not an integer >= -1"));
      }
      builder.budget = *parsed;
    }
    builder.keep = [](const std::string&) { return true; };
  }
  // Statistics are collected on data columns only: partition values are in the log already.
  std::vector<StructField> data_fields;
  for (const StructField& field : schema.fields) {
    if (std::find(partition_lower.begin(), partition_lower.end(), ToLower(field.name)) ==
        partition_lower.end()) {
      data_fields.push_back(field);
    }
  }
  DataType min_max = StructType();
  DataType null_count = StructType();
  if (builder.budget != 0) builder.Walk(data_fields, "", min_max, null_count);

  layout.stats_schema.fields.push_back(Field("numRecords", LongType()));
  if (!min_max.fields.empty()) {
    layout.stats_schema.fields.push_back(Field("minValues", min_max));
    layout.stats_schema.fields.push_back(Field("maxValues", std::move(min_max)));
  }
  if (!null_count.fields.empty()) {
    layout.stats_schema.fields.push_back(Field("nullCount", std::move(null_count)));
  }
  // Files with deletion vectors carry tightBounds (PROTOCOL.md "Per-file Statistics").
  if (HasWriterFeature(snapshot.protocol(), "deletionVectors")) {
    DataType boolean;
    boolean.kind = TypeKind::kBoolean;
    layout.stats_schema.fields.push_back(Field("tightBounds", boolean));
  }
  return layout;
}

// --- Writing ----------------------------------------------------------------------------------

CheckpointActions SelectCheckpointActions(const Snapshot& snapshot, int64_t now_ms) {
  const Metadata& metadata = snapshot.metadata();
  CheckpointActions actions;
  actions.protocol = &snapshot.protocol();
  actions.metadata = &metadata;
  // A malformed retention keeps every tombstone (safe: only slower); WriteCheckpoint
  // reports the malformed property before it gets here.
  const int64_t retention_ms =
      ConfigDurationMs(metadata, "delta.deletedFileRetentionDuration",
                       kDefaultDeletedFileRetentionMs)
          .ValueOr(std::numeric_limits<int64_t>::max() / 2);
  const int64_t min_deletion_ms = now_ms - retention_ms;
  // PROTOCOL.md "Transaction Identifiers": txns older than
  // delta.setTransactionRetentionDuration may be dropped when that property is set.
  std::optional<int64_t> min_txn_ms;
  if (Config(metadata, "delta.setTransactionRetentionDuration")) {
    Result<int64_t> ms = ConfigDurationMs(metadata, "delta.setTransactionRetentionDuration", 0);
    if (ms.ok()) min_txn_ms = now_ms - *ms;
  }
  actions.txns.reserve(snapshot.txns().size());
  for (const auto& [app_id, txn] : snapshot.txns()) {
    if (min_txn_ms && txn.last_updated && *txn.last_updated < *min_txn_ms) continue;
    actions.txns.push_back(&txn);
  }
  // Unordered maps: sort so the same state always gives the same file.
  std::sort(actions.txns.begin(), actions.txns.end(),
            [](const Txn* a, const Txn* b) { return a->app_id < b->app_id; });
  for (const auto& [domain, dm] : snapshot.domains()) {
    if (!dm.removed) actions.domain_metadata.push_back(&dm);
  }
  std::sort(actions.domain_metadata.begin(), actions.domain_metadata.end(),
            [](const DomainMetadata* a, const DomainMetadata* b) { return a->domain < b->domain; });
  actions.adds.reserve(snapshot.files().size());
  for (const AddFile& add : snapshot.files()) actions.adds.push_back(&add);
  for (const RemoveFile& remove : snapshot.tombstones()) {
    // A remove without a timestamp counts as deleted at the epoch: long expired (Spark too).
    if (remove.deletion_timestamp.value_or(0) > min_deletion_ms) {
      actions.removes.push_back(&remove);
    }
  }
  return actions;
}

std::vector<std::string> CheckpointKeys(Version version, std::optional<int32_t> parts) {
  const std::string prefix = StrCat(kLogPrefix, ZeroPad(version, 20), ".checkpoint.");
  if (!parts) return {StrCat(prefix, "parquet")};
  std::vector<std::string> keys;
  for (int32_t i = 1; i <= *parts; ++i) {
    keys.push_back(StrCat(prefix, ZeroPad(i, 10), ".", ZeroPad(*parts, 10), ".parquet"));
  }
  return keys;
}

Result<LastCheckpointHint> WriteCheckpoint(Engine& engine, const Snapshot& snapshot,
                                           const CheckpointOptions& options) {
  const std::string& table = snapshot.table_uri();
  const Version version = snapshot.version();
  const Protocol& protocol = snapshot.protocol();
  // With these the file system log may lag the commits the coordinator/catalog accepted, so a
  // checkpoint from it could miss commits (PROTOCOL.md "Catalog-managed tables").
  for (std::string_view feature : {"catalogManaged", "catalogOwned-preview",
                                   "coordinatedCommits-preview"}) {
    if (HasWriterFeature(protocol, feature)) {
      return Status::NotSupported(StrCat(table, ": cannot checkpoint version ", version,
                                         ": lake does not implement the '", feature,
                                         "' table feature"))
          .WithHint("checkpoint this table with an engine that supports the feature");
    }
  }
  // Report malformed retention properties instead of silently keeping every tombstone.
  LAKE_RETURN_IF_ERROR(ConfigDurationMs(snapshot.metadata(), "delta.deletedFileRetentionDuration",
                                        kDefaultDeletedFileRetentionMs)
                           .status());
  LAKE_ASSIGN_OR_RETURN(CheckpointLayout layout, CheckpointLayoutFor(snapshot));
  const int64_t now_ms = options.now_ms.value_or(SystemNowMs());
  CheckpointActions all = SelectCheckpointActions(snapshot, now_ms);

  // Note 6: V2 spec under the classic name.
  const bool v2 = HasWriterFeature(protocol, "v2Checkpoint");
  CheckpointMetadata checkpoint_metadata;
  checkpoint_metadata.version = version;
  if (v2) all.checkpoint_metadata = &checkpoint_metadata;

  // Note 2: parts.
  const int64_t file_actions = static_cast<int64_t>(all.adds.size() + all.removes.size());
  int64_t num_parts = 1;
  if (!v2 && options.max_actions_per_part > 0 && file_actions > options.max_actions_per_part) {
    num_parts = (file_actions + options.max_actions_per_part - 1) / options.max_actions_per_part;
  }
  if (num_parts > std::numeric_limits<int32_t>::max()) {
    return Status::InvalidArgument(StrCat(table, ": ", num_parts, " checkpoint parts are too many"))
        .WithHint("raise max_actions_per_part");
  }
  std::vector<CheckpointActions> parts;
  if (num_parts == 1) {
    parts.push_back(std::move(all));
  } else {
    parts.resize(static_cast<size_t>(num_parts));
    parts[0].protocol = all.protocol;
    parts[0].metadata = all.metadata;
    parts[0].txns = std::move(all.txns);
    parts[0].domain_metadata = std::move(all.domain_metadata);
    const uint64_t n = static_cast<uint64_t>(num_parts);
    for (const AddFile* add : all.adds) parts[HashPath(add->path) % n].adds.push_back(add);
    for (const RemoveFile* remove : all.removes) {
      parts[HashPath(remove->path) % n].removes.push_back(remove);
    }
  }
  const std::optional<int32_t> parts_field =
      num_parts > 1 ? std::optional<int32_t>(static_cast<int32_t>(num_parts)) : std::nullopt;
  const std::vector<std::string> keys = CheckpointKeys(version, parts_field);

  LastCheckpointHint written;
  written.version = version;
  written.parts = parts_field;
  written.size = 0;
  written.size_in_bytes = 0;
  written.num_of_add_files = static_cast<int64_t>(snapshot.files().size());
  for (size_t i = 0; i < parts.size(); ++i) {
    Result<int64_t> bytes =
        engine.checkpoint_writer().WriteParquetActions(engine.store(), keys[i], parts[i], layout);
    if (!bytes.ok()) {
      return Status(bytes.status().code(),
                    StrCat(table, ": checkpoint of version ", version, " failed writing ",
                           keys[i], ": ", bytes.status().message()))
          .WithHint("the table is unaffected; the next checkpoint retries");
    }
    *written.size += parts[i].size();
    *written.size_in_bytes += *bytes;
  }

  // Note 4: never move the hint back to an older checkpoint.
  Result<std::string> existing = engine.store().Get(kLastCheckpointKey);
  if (existing.ok()) {
    Result<LastCheckpointHint> hint = ParseLastCheckpoint(*existing);
    if (hint.ok() && hint->version > version) return written;
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  }
  std::string json = StrCat("{\"version\":", version, ",\"size\":", *written.size);
  if (written.parts) json += StrCat(",\"parts\":", *written.parts);
  json += StrCat(",\"sizeInBytes\":", *written.size_in_bytes,
                 ",\"numOfAddFiles\":", *written.num_of_add_files, "}");
  LAKE_RETURN_IF_ERROR(engine.store().Put(kLastCheckpointKey, json));
  return written;
}

// --- Cleanup ----------------------------------------------------------------------------------

namespace {

// The version a _delta_log/ file name belongs to and whether cleanup may delete it, or
// nullopt for files cleanup never touches (_last_checkpoint, sub-folders, unknown names).
// Hadoop's hidden ".<name>.crc" checksum files go with their file.
std::optional<Version> CleanableVersion(std::string_view name) {
  if (name.find('/') != std::string_view::npos) return std::nullopt;  // _sidecars/, _commits/
  if (!name.empty() && name[0] == '.') name.remove_prefix(1);
  if (name.size() < 21 || name[20] != '.') return std::nullopt;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
  }
  std::string_view rest = name.substr(21);
  if (!(StartsWith(rest, "json") || StartsWith(rest, "crc") || StartsWith(rest, "checkpoint.") ||
        // <start>.<end>.compacted.json: the start version counts (note 8).
        (rest.size() > 21 && rest.substr(20, 15) == ".compacted.json"))) {
    return std::nullopt;
  }
  return ParseInt64(name.substr(0, 20));
}

int64_t UtcMidnight(int64_t ms) {
  constexpr int64_t kDayMs = 24LL * 3600 * 1000;
  return ms >= 0 ? ms / kDayMs * kDayMs : -((-ms + kDayMs - 1) / kDayMs) * kDayMs;
}

}  // namespace

Result<CleanupResult> CleanupExpiredLogs(Engine& engine, const Snapshot& snapshot,
                                         int64_t now_ms) {
  const Metadata& metadata = snapshot.metadata();
  const std::string& table = snapshot.table_uri();
  CleanupResult result;
  LAKE_ASSIGN_OR_RETURN(bool enabled, ConfigBool(metadata, "delta.enableExpiredLogCleanup", true));
  if (!enabled) return result;
  if (HasWriterFeature(snapshot.protocol(), "checkpointProtection")) {
    return Status::NotSupported(StrCat(table,
                                       ": lake does not clean up the log of tables with the "
                                       "'checkpointProtection' feature"))
        .WithHint("clean up this table's log with an engine that supports the feature");
  }
  LAKE_ASSIGN_OR_RETURN(int64_t retention_ms,
                        ConfigDurationMs(metadata, "delta.logRetentionDuration",
                                         kDefaultLogRetentionMs));
  const int64_t cutoff_ms = UtcMidnight(now_ms - retention_ms);

  storage::ObjectStore& store = engine.store();
  LAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(store));
  if (listing.checkpoints.empty() || listing.commits.empty()) return result;

  // Note 7: the cutoff commit.
  const bool ict = ConfigBool(metadata, "delta.enableInCommitTimestamps", false).ValueOr(false);
  Version ict_from = std::numeric_limits<Version>::max();
  if (ict) {
    const std::string* from = Config(metadata, "delta.inCommitTimestampEnablementVersion");
    ict_from = from ? ParseInt64(*from).value_or(0) : 0;
  }
  std::optional<Version> cutoff_commit;
  size_t first_ict = listing.commits.size();
  for (size_t i = 0; i < listing.commits.size(); ++i) {
    const CommitFile& commit = listing.commits[i];
    if (commit.version >= ict_from) {
      first_ict = i;
      break;
    }
    // Stopping at the first commit newer than the cutoff is what makes times monotonic: a
    // later commit whose file looks older counts as at least as new as this one.
    if (commit.info.mtime_ms > cutoff_ms) break;
    cutoff_commit = commit.version;
  }
  const bool all_pre_ict_expired =
      first_ict == listing.commits.size() ||
      (first_ict == 0 || cutoff_commit == listing.commits[first_ict - 1].version);
  if (first_ict < listing.commits.size() && all_pre_ict_expired) {
    // In-commit timestamps increase with the version: binary search, O(log n) reads.
    auto ict_of = [&](size_t i) -> Result<int64_t> {
      const CommitFile& commit = listing.commits[i];
      LAKE_ASSIGN_OR_RETURN(std::string text, store.Get(commit.info.key));
      LAKE_ASSIGN_OR_RETURN(std::optional<CommitInfo> info,
                            internal::ExtractCommitInfo(text, StrCat(table, "/", commit.info.key)));
      if (!info || !info->in_commit_timestamp) {
        return Status::Corruption(StrCat(table, "/", commit.info.key,
                                         ": in-commit timestamps are enabled but the commit has no "
                                         "commitInfo.inCommitTimestamp"))
            .WithHint("the log cannot be cleaned up by time until this is repaired");
      }
      return *info->in_commit_timestamp;
    };
    size_t lo = first_ict, hi = listing.commits.size();  // first index with ICT > cutoff
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      LAKE_ASSIGN_OR_RETURN(int64_t t, ict_of(mid));
      if (t <= cutoff_ms) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo > first_ict) cutoff_commit = listing.commits[lo - 1].version;
  }
  if (!cutoff_commit) return result;

  // Note 8: the checkpoint to keep.
  for (auto it = listing.checkpoints.rbegin(); it != listing.checkpoints.rend(); ++it) {
    if (it->version <= *cutoff_commit) {
      result.cutoff_checkpoint = it->version;
      break;
    }
  }
  if (!result.cutoff_checkpoint) return result;
  const Version keep_from = *result.cutoff_checkpoint;

  LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, store.ListAfter(kLogPrefix, ""));
  std::vector<std::pair<Version, std::string>> doomed;
  for (const storage::ObjectInfo& object : objects) {
    std::string_view name = std::string_view(object.key).substr(kLogPrefix.size());
    std::optional<Version> v = CleanableVersion(name);
    if (v && *v < keep_from) doomed.emplace_back(*v, object.key);
  }
  std::sort(doomed.begin(), doomed.end());  // oldest first (note 8)
  for (const auto& [v, key] : doomed) {
    Status deleted = store.Delete(key);
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) {
      return Status(deleted.code(), StrCat(table, ": log cleanup stopped at ", key, " after ",
                                           result.files_deleted, " deletions: ",
                                           deleted.message()))
          .WithHint("the table is unaffected; the next cleanup continues");
    }
    if (deleted.ok()) ++result.files_deleted;
  }
  return result;
}

}  // namespace lake::delta
