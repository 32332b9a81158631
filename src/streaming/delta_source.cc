#include "streaming/delta_source.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "delta/change_feed.h"
#include "delta/log_parser.h"
#include "delta/schema.h"
#include "engine/delta_engine.h"

namespace lake::streaming {
namespace {

using nlohmann::json;

bool Before(delta::Version v1, int64_t i1, delta::Version v2, int64_t i2) {
  return v1 < v2 || (v1 == v2 && i1 < i2);
}

// Whether data written with `schema_string` reads under `read_schema` (Spark's
// isReadCompatible, top level): every column it has exists in the read schema, same type.
Result<bool> ReadCompatible(const std::string& schema_string, const delta::Schema& read_schema) {
  LAKE_ASSIGN_OR_RETURN(delta::Schema schema, delta::ParseSchema(schema_string));
  for (const delta::StructField& field : schema.fields) {
    const delta::StructField* read = delta::FindField(read_schema, field.name);
    if (read == nullptr || read->type.ToString() != field.type.ToString()) return false;
  }
  return true;
}

}  // namespace

std::string SerializeDeltaSourceOffset(const DeltaSourceOffset& offset) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();  // Spark's key order
  doc["sourceVersion"] = 1;
  doc["reservoirId"] = offset.reservoir_id;
  doc["reservoirVersion"] = offset.reservoir_version;
  doc["index"] = offset.index;
  doc["isStartingVersion"] = offset.is_starting_version;
  return doc.dump();
}

Result<DeltaSourceOffset> ParseDeltaSourceOffset(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  auto bad = [&] {
    return Status::Corruption(StrCat("'", text, "' is not a Delta source offset"))
        .WithHint("the checkpoint belongs to a different kind of source; use a new checkpoint");
  };
  if (doc.is_discarded() || !doc.is_object()) return bad();
  if (!doc.contains("reservoirId") || !doc["reservoirId"].is_string() ||
      !doc.contains("reservoirVersion") || !doc["reservoirVersion"].is_number_integer() ||
      !doc.contains("index") || !doc["index"].is_number_integer() ||
      !doc.contains("isStartingVersion") || !doc["isStartingVersion"].is_boolean()) {
    return bad();
  }
  if (doc.contains("sourceVersion") && doc["sourceVersion"].is_number_integer() &&
      doc["sourceVersion"].get<int64_t>() > 1) {
    return Status::NotSupported(StrCat("Delta source offset version ", doc["sourceVersion"].dump(),
                                       " (lake reads version 1): ", text));
  }
  DeltaSourceOffset offset;
  offset.reservoir_id = doc["reservoirId"].get<std::string>();
  offset.reservoir_version = doc["reservoirVersion"].get<int64_t>();
  offset.index = doc["index"].get<int64_t>();
  offset.is_starting_version = doc["isStartingVersion"].get<bool>();
  return offset;
}

DeltaSource::DeltaSource(DeltaSourceOptions options) : options_(std::move(options)) {}

std::string DeltaSource::description() const { return StrCat("DeltaSource[", options_.path, "]"); }

Status DeltaSource::Open(const SourceContext& context) {
  context_ = context;
  if (options_.starting_version && options_.starting_timestamp_ms) {
    return Status::InvalidArgument(
        StrCat(description(), ": give startingVersion or startingTimestamp, not both"));
  }
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store,
                        storage::OpenStore(options_.path));
  engine_ = engine::MakeDeltaEngine(*context.db, std::move(store));
  Result<delta::SnapshotPtr> latest = delta::LoadSnapshot(*engine_);
  if (!latest.ok()) return latest.status().WithContext(description());
  latest_ = *latest;
  schema_string_ = latest_->metadata().schema_string;
  return Status::OK();
}

ReadLimit DeltaSource::DefaultReadLimit() const {
  ReadLimit limit;
  limit.max_files = options_.max_files_per_trigger;
  limit.max_bytes = options_.max_bytes_per_trigger;
  return limit;
}

Result<delta::Version> DeltaSource::LatestVersion() {
  LAKE_ASSIGN_OR_RETURN(latest_, delta::RefreshSnapshot(*engine_, latest_));
  return latest_->version();
}

Status DeltaSource::PrepareForAvailableNow() {
  LAKE_ASSIGN_OR_RETURN(available_now_cap_, LatestVersion());
  return Status::OK();
}

Result<DeltaSourceOffset> DeltaSource::InitialPosition() {
  // Fixed once per checkpoint (header note): the first plan writes it, later runs read it.
  const std::string key = StrCat(context_.state_prefix, "initial");
  Result<std::string> stored = context_.checkpoint->Get(key);
  if (stored.ok()) return ParseDeltaSourceOffset(*stored);
  if (stored.status().code() != StatusCode::kNotFound) return stored.status();

  DeltaSourceOffset initial;
  initial.reservoir_id = latest_->metadata().id;
  LAKE_ASSIGN_OR_RETURN(delta::Version latest, LatestVersion());
  if (options_.starting_version_latest) {
    initial.reservoir_version = latest + 1;
  } else if (options_.starting_version) {
    if (*options_.starting_version < 0 || *options_.starting_version > latest) {
      return Status::InvalidArgument(StrCat(description(), ": startingVersion ",
                                            *options_.starting_version,
                                            " is not a version of the table (latest ", latest, ")"))
          .WithHint("use a version between 0 and the latest, or 'latest'");
    }
    initial.reservoir_version = *options_.starting_version;
  } else if (options_.starting_timestamp_ms) {
    Result<delta::ChangeFeedRange> range = delta::ResolveChangeFeedRange(
        *engine_, *options_.starting_timestamp_ms, /*start_is_timestamp=*/true, latest,
        /*end_is_timestamp=*/false);
    if (!range.ok())
      return range.status().WithContext(StrCat(description(), ": startingTimestamp"));
    initial.reservoir_version = range->start;
  } else {
    initial.reservoir_version = latest;
    initial.is_starting_version = true;
  }
  Status put = context_.checkpoint->PutIfAbsent(key, SerializeDeltaSourceOffset(initial));
  if (put.code() == StatusCode::kAlreadyExists) {
    LAKE_ASSIGN_OR_RETURN(std::string text, context_.checkpoint->Get(key));
    return ParseDeltaSourceOffset(text);
  }
  LAKE_RETURN_IF_ERROR(put);
  return initial;
}

Result<DeltaSourceOffset> DeltaSource::StartPosition(const std::optional<std::string>& start) {
  DeltaSourceOffset position;
  if (start) {
    LAKE_ASSIGN_OR_RETURN(position, ParseDeltaSourceOffset(*start));
  } else {
    LAKE_ASSIGN_OR_RETURN(position, InitialPosition());
  }
  if (position.reservoir_id != latest_->metadata().id) {
    return Status::FailedPrecondition(
               StrCat(description(), ": the checkpoint read table ", position.reservoir_id,
                      " but the location now holds table ", latest_->metadata().id))
        .WithHint(
            "a different Delta table is read by this streaming query; use a new "
            "checkpoint location for it");
  }
  return position;
}

Result<delta::ActionBatch> DeltaSource::ReadCommit(delta::Version version) {
  const std::string key = StrCat("_delta_log/", ZeroPad(version, 20), ".json");
  Result<std::string> text = engine_->store().Get(key);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return Status::FailedPrecondition(
                 StrCat(description(), ": commit ", version,
                        " is no longer in the log (log cleanup removed it before the stream "
                        "read it)"))
          .WithHint(
              "the stream lost data it had not read; restart it from a new checkpoint "
              "(with startingVersion), and keep delta.logRetentionDuration longer than "
              "the stream may lag");
    }
    return text.status();
  }
  return delta::ParseJsonActions(*text, key);
}

Result<std::vector<DeltaSource::PlannedFile>> DeltaSource::Walk(const DeltaSourceOffset& start,
                                                                delta::Version last,
                                                                const Admit& admit) {
  std::vector<PlannedFile> out;
  delta::Version version = start.reservoir_version;
  int64_t first_index = start.index + 1;
  if (start.is_starting_version) {
    // The initial snapshot is walked once per batch while it lasts: load it once.
    if (!starting_snapshot_ || starting_snapshot_->version() != start.reservoir_version) {
      LAKE_ASSIGN_OR_RETURN(starting_snapshot_,
                            delta::LoadSnapshot(*engine_, start.reservoir_version));
    }
    const delta::SnapshotPtr& snapshot = starting_snapshot_;
    std::vector<const delta::AddFile*> files;
    for (const delta::AddFile& add : snapshot->files()) files.push_back(&add);
    std::sort(files.begin(), files.end(), [](const delta::AddFile* a, const delta::AddFile* b) {
      return a->modification_time != b->modification_time
                 ? a->modification_time < b->modification_time
                 : a->path < b->path;
    });
    for (int64_t i = std::max<int64_t>(first_index, 0); i < static_cast<int64_t>(files.size());
         ++i) {
      PlannedFile file{start.reservoir_version, i, true, *files[i]};
      if (!admit(file)) return out;
      out.push_back(std::move(file));
    }
    ++version;
    first_index = 0;
  }
  LAKE_ASSIGN_OR_RETURN(delta::Schema read_schema, delta::ParseSchema(schema_string_));
  for (; version <= last; ++version, first_index = 0) {
    LAKE_ASSIGN_OR_RETURN(delta::ActionBatch actions, ReadCommit(version));
    for (const delta::Metadata& metadata : actions.metadata) {
      LAKE_ASSIGN_OR_RETURN(bool compatible, ReadCompatible(metadata.schema_string, read_schema));
      if (!compatible) {
        // Files before the change are still read with the schema they were written with;
        // the stream stops when the change itself is next (Spark does the same).
        if (!out.empty()) return out;
        return Status::FailedPrecondition(
                   StrCat(description(), ": the table's schema changed at version ", version,
                          " to ", metadata.schema_string, "; this run reads ", schema_string_))
            .WithHint("restart the query: it then reads on with the new schema");
      }
    }
    std::vector<const delta::AddFile*> data_adds;
    for (const delta::AddFile& add : actions.adds) {
      if (add.data_change) data_adds.push_back(&add);
    }
    bool removes_data = false;
    for (const delta::RemoveFile& remove : actions.removes) removes_data |= remove.data_change;
    if (removes_data) {
      if (options_.skip_change_commits) continue;
      if (options_.ignore_deletes && data_adds.empty()) continue;
      std::string operation = "unknown";
      if (!actions.commit_infos.empty() && actions.commit_infos[0].operation) {
        operation = *actions.commit_infos[0].operation;
      }
      return Status::FailedPrecondition(
                 StrCat(description(), ": commit ", version, " (", operation,
                        ") removes data; a streaming source reads appends only"))
          .WithHint(data_adds.empty()
                        ? "set ignoreDeletes to skip commits that only delete, or "
                          "skipChangeCommits to skip every commit that removes data"
                        : "set skipChangeCommits to skip commits that rewrite data (their "
                          "changed rows are not streamed)");
    }
    for (int64_t i = first_index; i < static_cast<int64_t>(data_adds.size()); ++i) {
      PlannedFile file{version, i, false, *data_adds[i]};
      if (!admit(file)) return out;
      out.push_back(std::move(file));
    }
  }
  return out;
}

Result<std::optional<std::string>> DeltaSource::LatestOffset(
    const std::optional<std::string>& start, const ReadLimit& limit, BatchId batch) {
  LAKE_ASSIGN_OR_RETURN(DeltaSourceOffset position, StartPosition(start));
  LAKE_ASSIGN_OR_RETURN(delta::Version last, LatestVersion());
  if (available_now_cap_) last = std::min(last, *available_now_cap_);
  if (options_.read_change_feed) return LatestChangeOffset(position, last, limit);
  int64_t files = 0, bytes = 0;
  auto admit = [&](const PlannedFile& file) {
    if (limit.max_files && files >= *limit.max_files) return false;
    // Soft byte limit: the first file is always taken.
    if (limit.max_bytes && files > 0 && bytes + file.add.size > *limit.max_bytes) return false;
    ++files;
    bytes += file.add.size;
    return true;
  };
  LAKE_ASSIGN_OR_RETURN(std::vector<PlannedFile> planned, Walk(position, last, admit));
  if (planned.empty()) return std::optional<std::string>();
  DeltaSourceOffset end;
  end.reservoir_id = position.reservoir_id;
  end.reservoir_version = planned.back().version;
  end.index = planned.back().index;
  end.is_starting_version = planned.back().from_snapshot;
  return std::optional<std::string>(SerializeDeltaSourceOffset(end));
}

Result<std::optional<std::string>> DeltaSource::LatestChangeOffset(
    const DeltaSourceOffset& position, delta::Version last, const ReadLimit& limit) {
  int64_t files = 0, bytes = 0;
  std::optional<DeltaSourceOffset> end;
  delta::Version next = position.reservoir_version;
  if (position.is_starting_version) {
    // The snapshot's files first, as without the change feed.
    bool snapshot_done = true;
    auto admit = [&](const PlannedFile& file) {
      if ((limit.max_files && files >= *limit.max_files) ||
          (limit.max_bytes && files > 0 && bytes + file.add.size > *limit.max_bytes)) {
        snapshot_done = false;
        return false;
      }
      ++files;
      bytes += file.add.size;
      return true;
    };
    LAKE_ASSIGN_OR_RETURN(std::vector<PlannedFile> planned,
                          Walk(position, position.reservoir_version, admit));
    if (!planned.empty()) {
      end = DeltaSourceOffset{position.reservoir_id, position.reservoir_version,
                              planned.back().index, true};
    }
    if (!snapshot_done) return std::optional<std::string>(SerializeDeltaSourceOffset(*end));
    next = position.reservoir_version + 1;
  } else if (position.index == kEndIndex) {
    next = position.reservoir_version + 1;
  }
  bool has_changes = end.has_value();
  for (delta::Version version = next; version <= last; ++version) {
    LAKE_ASSIGN_OR_RETURN(
        std::vector<delta::CommitChanges> changes,
        delta::ListChangeFiles(*engine_, delta::ChangeFeedRange{version, version}));
    int64_t n = 0;
    for (const delta::CommitChanges& c : changes) {
      n += static_cast<int64_t>(c.cdc_files.size() + c.inserted.size() + c.deleted.size() +
                                c.dv_updates.size());
    }
    // Commits are read whole; one with changes always fits an empty batch.
    if (n > 0 && files > 0 && limit.max_files && files + n > *limit.max_files) break;
    files += n;
    has_changes |= n > 0;
    end = DeltaSourceOffset{position.reservoir_id, version, kEndIndex, false};
    if (limit.max_files && files >= *limit.max_files) break;
  }
  // Commits without changes alone make no batch: they are passed over with the next one.
  if (!has_changes) return std::optional<std::string>();
  return std::optional<std::string>(SerializeDeltaSourceOffset(*end));
}

Result<std::vector<std::string>> DeltaSource::ChangeScans(const DeltaSourceOffset& position,
                                                          const DeltaSourceOffset& end) {
  std::vector<std::string> scans;
  delta::Version first =
      position.index == kEndIndex ? position.reservoir_version + 1 : position.reservoir_version;
  if (position.is_starting_version) {
    const int64_t last_index = end.is_starting_version ? end.index : kEndIndex;
    auto admit = [&](const PlannedFile& file) { return file.index <= last_index; };
    LAKE_ASSIGN_OR_RETURN(std::vector<PlannedFile> files,
                          Walk(position, position.reservoir_version, admit));
    if (!files.empty()) {
      std::vector<std::string> paths;
      for (const PlannedFile& f : files) paths.push_back(SqlQuote(f.add.path));
      // The snapshot's rows are inserts of its version (Spark's initial snapshot).
      scans.push_back(StrCat("SELECT *, 'insert' AS _change_type, CAST(",
                             position.reservoir_version,
                             " AS BIGINT) AS _commit_version, "
                             "make_timestamptz(",
                             starting_snapshot_->timestamp_ms(),
                             " * 1000) AS _commit_timestamp "
                             "FROM delta_scan(",
                             SqlQuote(options_.path), ", version := ", position.reservoir_version,
                             ", files := [", StrJoin(paths, ", "), "])"));
    }
    first = position.reservoir_version + 1;
  }
  if (!end.is_starting_version && end.reservoir_version >= first) {
    scans.push_back(StrCat("SELECT * FROM table_changes_by_path(", SqlQuote(options_.path), ", ",
                           first, ", ", end.reservoir_version, ")"));
  }
  return scans;
}

Result<int64_t> DeltaSource::GetBatch(engine::Session& session,
                                      const std::optional<std::string>& start,
                                      const std::string& end_text, BatchId batch,
                                      std::string_view table) {
  LAKE_ASSIGN_OR_RETURN(DeltaSourceOffset position, StartPosition(start));
  LAKE_ASSIGN_OR_RETURN(DeltaSourceOffset end, ParseDeltaSourceOffset(end_text));
  std::vector<std::string> scans;
  if (options_.read_change_feed) {
    LAKE_ASSIGN_OR_RETURN(scans, ChangeScans(position, end));
  }
  auto admit = [&](const PlannedFile& file) {
    return !Before(end.reservoir_version, end.index, file.version, file.index);
  };
  std::vector<PlannedFile> files;
  if (!options_.read_change_feed) {
    LAKE_ASSIGN_OR_RETURN(files, Walk(position, end.reservoir_version, admit));
  }
  // One delta_scan per version: the files are live at the version that added them (or in
  // the snapshot), so each scan applies that version's schema, partition values and DVs.
  for (size_t i = 0; i < files.size();) {
    size_t j = i;
    std::vector<std::string> paths;
    for (; j < files.size() && files[j].version == files[i].version; ++j) {
      paths.push_back(SqlQuote(files[j].add.path));
    }
    scans.push_back(StrCat("SELECT * FROM delta_scan(", SqlQuote(options_.path), ", version := ",
                           files[i].version, ", files := [", StrJoin(paths, ", "), "])"));
    i = j;
  }
  if (scans.empty()) {
    return Status::Internal(StrCat(description(), ": batch ", batch, " (", start.value_or("start"),
                                   ", ", end_text, "] holds no file"));
  }
  LAKE_RETURN_IF_ERROR(session
                           .Query(StrCat("CREATE OR REPLACE TEMP TABLE ", SqlIdent(table), " AS ",
                                         StrJoin(scans, " UNION ALL BY NAME ")))
                           .status());
  LAKE_ASSIGN_OR_RETURN(engine::ResultTable count,
                        session.Query(StrCat("SELECT count(*) FROM ", SqlIdent(table))));
  return std::get<int64_t>(count.rows.at(0).at(0).v);
}

}  // namespace lake::streaming
