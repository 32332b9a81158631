// RESTORE and VACUUM. See restore_vacuum.h for the results.
//
// RESTORE (after delta-io/delta RestoreTableCommand.scala).
//  (1) Files are compared by logical key (PROTOCOL.md "Action Reconciliation": path and
//      deletion vector id): files live at the target version and not now are re-added with
//      dataChange = true; files live now and not then are removed. One commit, so readers see
//      the old live set or the restored one, never a mix.
//  (2) Before anything is written, every file to re-add (and its on-disk deletion vector) must
//      still exist: VACUUM may have deleted it. A missing file refuses the restore, naming the
//      files; committing would make the table unreadable.
//  (3) The target version's metaData is restored as is (same table id, schema, properties).
//      The protocol is never downgraded (time travel to newer versions needs it): the current
//      protocol stays, merged with anything the old one had that it lacks.
//  (4) The commit reads the whole table: any concurrent commit makes it fail with kConflict
//      rather than restore over a change it never saw (Spark's restore does the same).
//  (5) The restored version must be older than the current one, as in Spark.
//
// VACUUM (after VacuumCommand.scala, "FULL" mode).
//  (1) Protected ("valid") files: the live files of the current snapshot and the files of
//      tombstones newer than now - retention, with their on-disk deletion vectors. These are
//      every file a version inside the retention window can read.
//  (2) Candidates: every object the table's store lists under the root, except hidden ones
//      (a path component starting with '_' or '.', other than partition folders "col=..." and
//      _change_data / _delta_index, as DeltaTableUtils.isHiddenDirectory; _delta_log is always
//      hidden), minus the valid files.
//  (3) A candidate is deleted only when its modification time is older than now - retention,
//      tracked or not. So an untracked file a concurrent writer is about to commit (written
//      just now) is never deleted, and neither is anything younger than the window.
//  (4) DRY RUN stops after (3) and lists the candidates. A real run commits VACUUM START
//      (numFilesToDelete, sizeOfDataToDelete), deletes through the table's ObjectStore, then
//      commits VACUUM END with status COMPLETED (numDeletedFiles, numVacuumedDirectories), or
//      FAILED when a delete failed (best effort) before reporting the error. Neither commit
//      carries actions, so they never conflict with writers.
//  (5) Retention defaults to delta.deletedFileRetentionDuration (7 days); a shorter RETAIN is
//      refused unless lake.vacuum.retentionCheck is false. Checkpoints keep tombstones for the
//      same default window (checkpoint.h), so with the default retention no tombstone that
//      protects a file is missing from a snapshot.
//  (6) vacuumProtocolCheck (PROTOCOL.md "Vacuum Protocol Check"): VACUUM must pass the writer
//      protocol check too, not only the reader's. lake runs the writer gate for every VACUUM,
//      DRY RUN included, so the feature needs nothing more.
//  (7) Folders emptied by the deletes are removed on local stores (the store has no folder
//      operation; an empty partition folder is harmless elsewhere).
#include "engine/internal/restore_vacuum.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/strings.h"
#include "delta/checkpoint.h"
#include "delta/deletion_vector.h"
#include "delta/table_features.h"
#include "delta/transaction.h"
#include "engine/internal/duckdb_pch.h"
#include "engine/internal/errors.h"
#include "engine/internal/lake_catalog.h"
#include "engine/internal/restore_vacuum_sql.h"
#include "engine/internal/snapshot_cache.h"
#include "storage/object_store.h"

namespace lake::engine::internal {
namespace {

using duckdb::ClientContext;
using duckdb::LogicalType;
using Rows = std::vector<duckdb::vector<duckdb::Value>>;

constexpr int64_t kDefaultRetentionMs = 7LL * 24 * 3600 * 1000;  // Spark's default: 1 week

std::mutex& ClockMutex() {
  static std::mutex mu;
  return mu;
}
std::function<int64_t()>& TestClock() {
  static std::function<int64_t()> clock;
  return clock;
}

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t VacuumNowMs() {
  std::lock_guard<std::mutex> lock(ClockMutex());
  return TestClock() ? TestClock()() : SystemNowMs();
}

SnapshotCache& CacheOf(ClientContext& context) {
  return SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
}

std::string JsonObject(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i) out += ",";
    AppendJsonQuoted(members[i].first, out);
    out += ":";
    out += members[i].second;
  }
  return out + "}";
}

// Metrics as Spark writes them: every value a JSON string.
std::string MetricsJson(const std::vector<std::pair<std::string, int64_t>>& metrics) {
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [k, v] : metrics) members.emplace_back(k, JsonQuote(StrCat(v)));
  return JsonObject(members);
}

struct Target {
  std::string display;  // schema.table or delta.`/path`
  std::string location;
};

Result<Target> ResolveTarget(ClientContext& context, const RestoreVacuumTarget& target) {
  if (target.path) return Target{target.table, NormalizeLocation(*target.path)};
  LAKE_ASSIGN_OR_RETURN(DirectoryTable found, FindLakeTable(context, target.table));
  return Target{StrCat(found.schema, ".", found.name), found.location};
}

// The next statement must see the new version; a checkpoint is attempted when
// delta.checkpointInterval says so, and its failure never fails the statement (as for
// INSERT, lake_write.cc design note 6).
void AfterCommit(SnapshotCache& cache, const Target& table, delta::Version version) {
  Result<CachedTable> latest = cache.Latest(table.location);
  if (!latest.ok() || !delta::ShouldCheckpoint(version, latest->snapshot->metadata())) return;
  Result<delta::LastCheckpointHint> checkpoint =
      delta::WriteCheckpoint(*latest->engine, *latest->snapshot);
  if (!checkpoint.ok()) {
    std::fprintf(stderr, "lake: warning: checkpoint of %s at version %lld failed: %s\n",
                 table.display.c_str(), static_cast<long long>(version),
                 checkpoint.status().ToString().c_str());
  }
}

// The store key of an on-disk, table-relative deletion vector ('u'), if any.
std::optional<std::string> DvKey(const std::optional<delta::DeletionVectorDescriptor>& dv) {
  if (!dv || dv->storage_type != 'u') return std::nullopt;
  Result<std::string> path = delta::DeletionVectorRelativePath(*dv);
  if (!path.ok()) return std::nullopt;
  return *path;
}

// ---------------------------------------------------------------------------------------------
// RESTORE

Result<int64_t> ParseTimestampMs(const std::string& text, const std::string& what) {
  int64_t ms = 0;
  Status parsed = CatchAll([&] {
    // UTC unless the text carries an offset, as delta_scan's "timestamp" option.
    duckdb::timestamp_t ts = duckdb::Timestamp::FromString(text, /*use_offset=*/true);
    int64_t micros = duckdb::Timestamp::GetEpochMicroSeconds(ts);
    ms = micros / 1000 - ((micros % 1000) < 0 ? 1 : 0);
  });
  if (!parsed.ok()) {
    return Status::InvalidArgument(StrCat(what, ": '", text, "' is not a timestamp"))
        .WithHint("write it as 'yyyy-MM-dd HH:mm:ss[.SSS][+hh:mm]' (UTC without an offset)");
  }
  return ms;
}

// Returns `current` extended with what `old` supports and `current` lacks (design note 3),
// or nullopt when `current` already supports all of it.
Result<std::optional<delta::Protocol>> MergedProtocol(const delta::Protocol& current,
                                                      const delta::Protocol& old) {
  if (delta::CheckNoDowngrade(old, current).ok()) return std::optional<delta::Protocol>();
  delta::Protocol merged = current;
  merged.min_reader_version = std::max(current.min_reader_version, old.min_reader_version);
  merged.min_writer_version = std::max(current.min_writer_version, old.min_writer_version);
  auto merge = [](std::optional<std::vector<std::string>>& into,
                  const std::optional<std::vector<std::string>>& from) {
    if (!from) return;
    if (!into) into.emplace();
    for (const std::string& f : *from) {
      if (std::find(into->begin(), into->end(), f) == into->end()) into->push_back(f);
    }
  };
  merge(merged.reader_features, old.reader_features);
  merge(merged.writer_features, old.writer_features);
  if (!delta::CheckNoDowngrade(old, merged).ok() || !delta::CheckNoDowngrade(current, merged).ok()) {
    return Status::NotSupported(
               "restoring a version whose protocol supports features the current protocol "
               "does not (dropped since) and that cannot be merged into it")
        .WithHint("DESCRIBE DETAIL shows both protocols; restore a later version");
  }
  return std::optional<delta::Protocol>(std::move(merged));
}

Result<Rows> RunRestore(ClientContext& context, const RestoreSpec& spec) {
  LAKE_ASSIGN_OR_RETURN(Target table, ResolveTarget(context, spec.target));
  const std::string what = StrCat("RESTORE ", table.display);
  SnapshotCache& cache = CacheOf(context);
  Result<CachedTable> latest = cache.Latest(table.location);
  if (!latest.ok()) return latest.status().WithContext(what);
  const delta::Snapshot& current = *latest->snapshot;

  Result<CachedTable> old = Status::Internal("unset");
  if (spec.version) {
    old = cache.AtVersion(table.location, *spec.version);
  } else {
    LAKE_ASSIGN_OR_RETURN(int64_t ms, ParseTimestampMs(*spec.timestamp, what));
    old = cache.AtTimestamp(table.location, ms);
  }
  if (!old.ok()) return old.status().WithContext(what);
  const delta::Snapshot& target = *old->snapshot;
  const delta::Version to = target.version();
  if (to >= current.version()) {  // design note 5
    return Status::InvalidArgument(StrCat(what, ": version ", to,
                                          " is not older than the current version ",
                                          current.version()))
        .WithHint("RESTORE goes back to an earlier version; DESCRIBE HISTORY lists them");
  }

  // (1) The difference by logical file key.
  auto key = [](const delta::Snapshot& snap, const delta::AddFile& f) {
    return StrCat(snap.ResolvePath(f.path), "\n",
                  f.deletion_vector ? f.deletion_vector->UniqueId() : "");
  };
  std::unordered_set<std::string> current_keys, target_keys;
  for (const delta::AddFile& f : current.files()) current_keys.insert(key(current, f));
  for (const delta::AddFile& f : target.files()) target_keys.insert(key(target, f));
  std::vector<delta::AddFile> to_add;
  std::vector<const delta::AddFile*> to_remove;
  for (const delta::AddFile& f : target.files()) {
    if (!current_keys.count(key(target, f))) to_add.push_back(f);
  }
  for (const delta::AddFile& f : current.files()) {
    if (!target_keys.count(key(current, f))) to_remove.push_back(&f);
  }

  // (2) Every file to re-add must still exist.
  storage::ObjectStore& store = latest->engine->store();
  std::vector<std::string> missing;
  auto check = [&](const std::string& resolved) -> Status {
    Status found;
    if (!resolved.empty() && resolved[0] == '/') {  // an absolute local path outside the root
      std::error_code ec;
      if (!std::filesystem::exists(resolved, ec)) missing.push_back(resolved);
      return Status::OK();
    }
    Result<storage::ObjectInfo> head = store.Head(resolved);
    if (head.ok()) return Status::OK();
    if (head.status().code() != StatusCode::kNotFound) return head.status();
    missing.push_back(resolved);
    return Status::OK();
  };
  for (const delta::AddFile& f : to_add) {
    Status s = check(target.ResolvePath(f.path));
    if (s.ok()) {
      if (std::optional<std::string> dv = DvKey(f.deletion_vector)) s = check(*dv);
    }
    if (!s.ok()) return s.WithContext(StrCat(what, ": checking the files of version ", to));
  }
  if (!missing.empty()) {
    std::vector<std::string> shown(missing.begin(),
                                   missing.begin() + std::min<size_t>(missing.size(), 10));
    return Status::FailedPrecondition(
               StrCat(what, " to version ", to, ": ", missing.size(),
                      " file(s) that version needs no longer exist: ", StrJoin(shown, ", "),
                      missing.size() > shown.size() ? ", ..." : ""))
        .WithHint(StrCat("they were deleted by VACUUM (or by hand); restore a later version "
                         "whose files still exist (DESCRIBE HISTORY lists versions), or put the "
                         "files back"));
  }

  delta::TransactionOptions options;
  Result<std::unique_ptr<delta::Transaction>> begun =
      delta::Transaction::Begin(*latest->engine, latest->snapshot, options);
  if (!begun.ok()) return begun.status().WithContext(what);
  delta::Transaction& txn = **begun;
  txn.ReadWholeTable();  // design note 4
  // (3) Metadata as it was; the protocol only ever grows.
  Status updated = txn.UpdateMetadata(target.metadata());
  if (!updated.ok()) return updated.WithContext(what);
  Result<std::optional<delta::Protocol>> protocol =
      MergedProtocol(current.protocol(), target.protocol());
  if (!protocol.ok()) return protocol.status().WithContext(what);
  if (*protocol) {
    Status set = txn.UpdateProtocol(**protocol);
    if (!set.ok()) return set.WithContext(what);
  }

  const int64_t now_ms = SystemNowMs();
  int64_t restored_bytes = 0, removed_bytes = 0;
  for (delta::AddFile& f : to_add) {
    restored_bytes += f.size;
    f.data_change = true;
    Status staged = txn.StageAdd(std::move(f));
    if (!staged.ok()) return staged.WithContext(what);
  }
  for (const delta::AddFile* f : to_remove) {
    removed_bytes += f->size;
    Status staged = txn.StageRemove(delta::Transaction::RemoveFor(*f, now_ms, true));
    if (!staged.ok()) return staged.WithContext(what);
  }
  const int64_t files_after = static_cast<int64_t>(target.files().size());
  const int64_t size_after = target.size_bytes();
  const int64_t num_removed = static_cast<int64_t>(to_remove.size());
  const int64_t num_restored = static_cast<int64_t>(to_add.size());
  // Spark's Restore(version, timestamp): the one not given is null.
  std::string parameters =
      spec.version ? JsonObject({{"version", JsonQuote(StrCat(*spec.version))}, {"timestamp", "null"}})
                   : JsonObject({{"version", "null"}, {"timestamp", JsonQuote(*spec.timestamp)}});
  txn.SetOperation("RESTORE", parameters,
                   MetricsJson({{"tableSizeAfterRestore", size_after},
                                {"numOfFilesAfterRestore", files_after},
                                {"numRemovedFiles", num_removed},
                                {"numRestoredFiles", num_restored},
                                {"removedFilesSize", removed_bytes},
                                {"restoredFilesSize", restored_bytes}}));
  Result<delta::CommitResult> committed = txn.Commit();
  if (!committed.ok()) return committed.status().WithContext(what);
  AfterCommit(cache, table, committed->version);
  return Rows{{duckdb::Value::BIGINT(size_after), duckdb::Value::BIGINT(files_after),
               duckdb::Value::BIGINT(num_removed), duckdb::Value::BIGINT(num_restored),
               duckdb::Value::BIGINT(removed_bytes), duckdb::Value::BIGINT(restored_bytes)}};
}

// ---------------------------------------------------------------------------------------------
// VACUUM

// DeltaTableUtils.isHiddenDirectory: names starting with '_' or '.' are hidden, except
// partition folders and the _change_data / _delta_index folders, which VACUUM cleans.
bool IsHiddenName(std::string_view name, const std::vector<std::string>& partition_columns) {
  if (name.empty() || (name[0] != '_' && name[0] != '.')) return false;
  if (StartsWith(name, "_delta_index") || StartsWith(name, "_change_data")) return false;
  for (const std::string& column : partition_columns) {
    if (StartsWith(name, StrCat(column, "="))) return false;
  }
  return true;
}

// Returns true when a component of `key` (a folder or the file name) is hidden.
bool IsHiddenKey(std::string_view key, const std::vector<std::string>& partition_columns) {
  size_t begin = 0;
  while (begin <= key.size()) {
    size_t slash = key.find('/', begin);
    std::string_view part =
        key.substr(begin, slash == std::string_view::npos ? std::string_view::npos : slash - begin);
    if (IsHiddenName(part, partition_columns)) return true;
    if (slash == std::string_view::npos) break;
    begin = slash + 1;
  }
  return false;
}

Result<int64_t> RetentionDefaultMs(const delta::Metadata& metadata) {
  auto it = metadata.configuration.find("delta.deletedFileRetentionDuration");
  if (it == metadata.configuration.end()) return kDefaultRetentionMs;
  return delta::ParseDurationMs(it->second);
}

std::string HoursText(int64_t ms) {
  if (ms % 3600000 == 0) return StrCat(ms / 3600000, " hours");
  return StrCat(static_cast<double>(ms) / 3600000.0, " hours");
}

struct VacuumPlan {
  std::vector<storage::ObjectInfo> candidates;
  int64_t bytes = 0;
  int64_t directories = 1;  // the root, as Spark counts
};

Result<VacuumPlan> PlanVacuum(const delta::Snapshot& snap, storage::ObjectStore& store,
                              int64_t delete_before_ms) {
  // (1) Valid files.
  std::unordered_set<std::string> valid;
  auto protect = [&](const std::string& path,
                     const std::optional<delta::DeletionVectorDescriptor>& dv) {
    valid.insert(snap.ResolvePath(path));
    if (std::optional<std::string> dv_key = DvKey(dv)) valid.insert(*dv_key);
  };
  for (const delta::AddFile& f : snap.files()) protect(f.path, f.deletion_vector);
  for (const delta::RemoveFile& r : snap.tombstones()) {
    // A tombstone without a timestamp counts as expired (Spark: delTimestamp 0).
    if (r.deletion_timestamp.value_or(0) >= delete_before_ms) protect(r.path, r.deletion_vector);
  }
  // Partition folders may be written with logical or physical (column mapping) names.
  std::vector<std::string> partition_columns = snap.metadata().partition_columns;
  for (const std::string& c : snap.metadata().partition_columns) {
    Result<std::string> physical =
        delta::PhysicalColumnName(snap.schema(), snap.column_mapping_mode(), c);
    if (physical.ok() && *physical != c) partition_columns.push_back(*physical);
  }

  // (2), (3) Candidates.
  LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, store.ListAfter("", ""));
  VacuumPlan plan;
  std::set<std::string> folders;
  for (storage::ObjectInfo& object : objects) {
    if (IsHiddenKey(object.key, partition_columns)) continue;
    for (size_t slash = object.key.find('/'); slash != std::string::npos;
         slash = object.key.find('/', slash + 1)) {
      folders.insert(object.key.substr(0, slash));
    }
    if (valid.count(object.key)) continue;
    if (object.mtime_ms >= delete_before_ms) continue;  // young: maybe a writer's, keep it
    plan.bytes += object.size;
    plan.candidates.push_back(std::move(object));
  }
  plan.directories += static_cast<int64_t>(folders.size());
  return plan;
}

std::string DisplayPath(storage::ObjectStore& store, const std::string& key) {
  if (std::optional<std::string> local = store.LocalPath(key)) return *local;
  return StrCat(store.uri(), "/", key);
}

// Commits an action-less VACUUM START / VACUUM END (design note 4).
Status CommitVacuumMarker(SnapshotCache& cache, const Target& table, const std::string& operation,
                          const std::string& parameters, const std::string& metrics) {
  LAKE_ASSIGN_OR_RETURN(CachedTable latest, cache.Latest(table.location));
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<delta::Transaction> txn,
                        delta::Transaction::Begin(*latest.engine, latest.snapshot));
  txn->SetOperation(operation, parameters, metrics);
  LAKE_ASSIGN_OR_RETURN(delta::CommitResult committed, txn->Commit());
  AfterCommit(cache, table, committed.version);
  return Status::OK();
}

// Removes the folders of `deleted` keys that are empty now, deepest first (design note 7).
int64_t RemoveEmptyFolders(storage::ObjectStore& store, const std::vector<std::string>& deleted) {
  std::set<std::string, std::greater<>> folders;  // reverse order: children before parents
  for (const std::string& key : deleted) {
    for (size_t slash = key.find('/'); slash != std::string::npos; slash = key.find('/', slash + 1)) {
      folders.insert(key.substr(0, slash));
    }
  }
  int64_t removed = 0;
  for (const std::string& folder : folders) {
    std::optional<std::string> path = store.LocalPath(folder);
    if (!path) return removed;
    std::error_code ec;
    if (std::filesystem::is_directory(*path, ec) && std::filesystem::is_empty(*path, ec) &&
        std::filesystem::remove(*path, ec)) {
      ++removed;
    }
  }
  return removed;
}

bool RetentionCheckEnabled(ClientContext& context) {
  duckdb::Value value;
  context.TryGetCurrentSetting(kVacuumRetentionCheckSetting, value);
  return value.IsNull() || value.GetValue<bool>();
}

Result<Rows> RunVacuum(ClientContext& context, const VacuumSpec& spec) {
  LAKE_ASSIGN_OR_RETURN(Target table, ResolveTarget(context, spec.target));
  const std::string what = StrCat("VACUUM ", table.display);
  SnapshotCache& cache = CacheOf(context);
  Result<CachedTable> latest = cache.Latest(table.location);
  if (!latest.ok()) return latest.status().WithContext(what);
  const delta::Snapshot& snap = *latest->snapshot;
  // Design note 6: the writer gate, for a dry run too.
  Status gate = delta::CheckWriteSupported(snap.protocol(), snap.metadata(), snap.schema());
  if (!gate.ok()) return gate.WithContext(what);

  Result<int64_t> default_ms = RetentionDefaultMs(snap.metadata());
  if (!default_ms.ok()) return default_ms.status().WithContext(what);
  int64_t retention_ms = *default_ms;
  if (spec.retain_hours) {
    if (*spec.retain_hours < 0) {
      return Status::InvalidArgument(StrCat(what, ": RETAIN ", *spec.retain_hours,
                                            " HOURS is negative"))
          .WithHint("give a retention of 0 hours or more");
    }
    retention_ms = static_cast<int64_t>(std::llround(*spec.retain_hours * 3600000.0));
  }
  const bool check = RetentionCheckEnabled(context);
  if (check && retention_ms < *default_ms) {
    return Status::FailedPrecondition(
               StrCat(what, ": RETAIN ", HoursText(retention_ms),
                      " is shorter than the table's delta.deletedFileRetentionDuration (",
                      HoursText(*default_ms), "); files that readers of older versions or "
                      "concurrent writers still need could be deleted"))
        .WithHint(StrCat("use RETAIN ", (*default_ms + 3599999) / 3600000,
                         " HOURS or more; if you are sure no reader or writer needs older "
                         "versions, SET ", kVacuumRetentionCheckSetting, " = false"));
  }
  const int64_t delete_before_ms = VacuumNowMs() - retention_ms;
  storage::ObjectStore& store = latest->engine->store();
  Result<VacuumPlan> planned = PlanVacuum(snap, store, delete_before_ms);
  if (!planned.ok()) return planned.status().WithContext(what);
  const VacuumPlan& plan = *planned;

  Rows rows;
  if (spec.dry_run) {
    for (const storage::ObjectInfo& object : plan.candidates) {
      rows.push_back({duckdb::Value(DisplayPath(store, object.key))});
    }
    return rows;
  }

  std::vector<std::pair<std::string, std::string>> start_parameters = {
      {"retentionCheckEnabled", check ? "true" : "false"},
      {"defaultRetentionMillis", JsonQuote(StrCat(*default_ms))}};
  if (spec.retain_hours) {
    start_parameters.emplace_back("specifiedRetentionMillis", JsonQuote(StrCat(retention_ms)));
  }
  Status started = CommitVacuumMarker(
      cache, table, "VACUUM START", JsonObject(start_parameters),
      MetricsJson({{"numFilesToDelete", static_cast<int64_t>(plan.candidates.size())},
                   {"sizeOfDataToDelete", plan.bytes}}));
  if (!started.ok()) return started.WithContext(what);

  std::vector<std::string> deleted;
  for (const storage::ObjectInfo& object : plan.candidates) {
    Status removed = store.Delete(object.key);
    if (removed.code() == StatusCode::kNotFound) continue;  // gone already: not counted
    if (!removed.ok()) {
      // Best effort: the error below is what the user must see.
      CommitVacuumMarker(cache, table, "VACUUM END", R"({"status":"FAILED"})", "{}")
          .IgnoreError();
      return removed.WithContext(StrCat(what, ": deleted ", deleted.size(), " of ",
                                        plan.candidates.size(), " files, then"))
          .WithHint("the table is intact (only unreferenced files are deleted); run VACUUM "
                    "again to delete the rest");
    }
    deleted.push_back(object.key);
  }
  RemoveEmptyFolders(store, deleted);
  Status ended = CommitVacuumMarker(
      cache, table, "VACUUM END", R"({"status":"COMPLETED"})",
      MetricsJson({{"numDeletedFiles", static_cast<int64_t>(deleted.size())},
                   {"numVacuumedDirectories", plan.directories}}));
  if (!ended.ok()) {
    return ended.WithContext(StrCat(what, ": deleted ", deleted.size(),
                                    " files, but recording VACUUM END failed"));
  }
  rows.push_back({duckdb::Value(table.location)});
  return rows;
}

// ---------------------------------------------------------------------------------------------
// lake_restore(sql) / lake_vacuum(sql)

struct StatementData final : duckdb::TableFunctionData {
  RestoreVacuumStatement statement;
};

struct StatementState final : duckdb::GlobalTableFunctionState {
  bool executed = false;
  size_t next_row = 0;
  Rows rows;
};

duckdb::unique_ptr<duckdb::FunctionData> Bind(ClientContext&, duckdb::TableFunctionBindInput& input,
                                              duckdb::vector<LogicalType>& types,
                                              duckdb::vector<std::string>& names) {
  const std::string sql = input.inputs[0].ToString();
  RestoreVacuumParse parsed = ParseRestoreVacuum(sql);
  if (parsed.kind != RestoreVacuumParse::Kind::kParsed) {
    ThrowStatus(Status::InvalidArgument(
        StrCat("not a RESTORE or VACUUM statement: ",
               parsed.kind == RestoreVacuumParse::Kind::kError ? parsed.error : sql)));
  }
  auto data = duckdb::make_uniq<StatementData>();
  if (std::holds_alternative<RestoreSpec>(parsed.statement)) {
    names = {"table_size_after_restore", "num_of_files_after_restore", "num_removed_files",
             "num_restored_files",       "removed_files_size",        "restored_files_size"};
    types.assign(names.size(), LogicalType::BIGINT);
  } else {
    names = {"path"};
    types = {LogicalType::VARCHAR};
  }
  data->statement = std::move(parsed.statement);
  return data;
}

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> Init(ClientContext&,
                                                          duckdb::TableFunctionInitInput&) {
  return duckdb::make_uniq<StatementState>();
}

void Scan(ClientContext& context, duckdb::TableFunctionInput& input, duckdb::DataChunk& output) {
  auto& data = input.bind_data->Cast<StatementData>();
  auto& state = input.global_state->Cast<StatementState>();
  if (!state.executed) {
    state.executed = true;
    if (const auto* restore = std::get_if<RestoreSpec>(&data.statement)) {
      state.rows = ValueOrThrow(RunRestore(context, *restore));
    } else {
      state.rows = ValueOrThrow(RunVacuum(context, std::get<VacuumSpec>(data.statement)));
    }
  }
  duckdb::idx_t count = 0;
  while (state.next_row < state.rows.size() && count < STANDARD_VECTOR_SIZE) {
    const auto& row = state.rows[state.next_row++];
    for (duckdb::idx_t col = 0; col < row.size(); ++col) output.SetValue(col, count, row[col]);
    ++count;
  }
  output.SetCardinality(count);
}

}  // namespace

std::optional<std::string> LakeVacuumFor(ClientContext& context,
                                         const duckdb::SQLStatement& statement) {
  if (statement.type != duckdb::StatementType::VACUUM_STATEMENT) return std::nullopt;
  std::string text = statement.query;
  if (statement.stmt_length > 0 && statement.stmt_location + statement.stmt_length <= text.size()) {
    text = text.substr(statement.stmt_location, statement.stmt_length);
  }
  RestoreVacuumParse parsed = ParseRestoreVacuum(text);
  const auto* spec = std::get_if<VacuumSpec>(&parsed.statement);
  if (parsed.kind != RestoreVacuumParse::Kind::kParsed || !spec) return std::nullopt;
  if (!spec->target.path) {
    bool is_lake_table = false;
    // Name resolution reads the catalog, which needs a transaction (statements are
    // extracted before DuckDB starts one).
    Status looked_up = CatchAll([&] {
      context.RunFunctionInTransaction(
          [&] { is_lake_table = FindLakeTable(context, spec->target.table).ok(); });
    });
    if (!looked_up.ok() || !is_lake_table) return std::nullopt;
  }
  return StrCat("SELECT * FROM lake_vacuum(", SqlQuote(text), ")");
}

void SetVacuumClockForTesting(std::function<int64_t()> clock) {
  std::lock_guard<std::mutex> lock(ClockMutex());
  TestClock() = std::move(clock);
}

void RegisterRestoreVacuum(duckdb::DatabaseInstance& db) {
  duckdb::ExtensionLoader loader(db, "lake");
  loader.RegisterFunction(
      duckdb::TableFunction("lake_restore", {LogicalType::VARCHAR}, Scan, Bind, Init));
  loader.RegisterFunction(
      duckdb::TableFunction("lake_vacuum", {LogicalType::VARCHAR}, Scan, Bind, Init));
  duckdb::DBConfig::GetConfig(db).AddExtensionOption(
      kVacuumRetentionCheckSetting,
      "VACUUM refuses a RETAIN shorter than delta.deletedFileRetentionDuration (Spark's "
      "retentionDurationCheck)",
      LogicalType::BOOLEAN, duckdb::Value::BOOLEAN(true));
}

}  // namespace lake::engine::internal
