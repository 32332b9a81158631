#include "streaming/checkpoint.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/uuid.h"

namespace lake::streaming {
namespace {

using nlohmann::json;

constexpr std::string_view kVersionLine = "v1";

// Splits the Spark metadata-log text "v1\n<line>\n<line>..." into lines after checking the
// version line.
Result<std::vector<std::string>> VersionedLines(std::string_view text, std::string_view file) {
  std::vector<std::string> lines = StrSplit(text, '\n');
  while (!lines.empty() && lines.back().empty()) lines.pop_back();  // tolerate a final newline
  if (lines.empty()) {
    return Status::Corruption(StrCat("checkpoint file ", file, " is empty"))
        .WithHint(
            "a crash cannot leave a partial file (they are written with PutIfAbsent); "
            "restore the file or start from a new checkpoint");
  }
  const std::string& version = lines[0];
  if (version.size() < 2 || version[0] != 'v' || !ParseInt64(version.substr(1))) {
    return Status::Corruption(
        StrCat("checkpoint file ", file, ": first line is '", version, "', expected 'v1'"));
  }
  if (version != kVersionLine) {
    return Status::NotSupported(StrCat("checkpoint file ", file, " has log version ", version,
                                       "; lake reads v1 (Spark's format)"))
        .WithHint(
            "it was written by a newer engine; run the query there or use a new "
            "checkpoint");
  }
  lines.erase(lines.begin());
  return lines;
}

Result<json> ParseObject(std::string_view text, std::string_view file) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::Corruption(
        StrCat("checkpoint file ", file, ": '", text, "' is not a JSON object"));
  }
  return doc;
}

int64_t IntOr(const json& obj, const char* key, int64_t fallback) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::string Key(std::string_view folder, BatchId batch) { return StrCat(folder, "/", batch); }

}  // namespace

// Serializers keep Spark's key order (ordered_json), so files read the same as Spark's.
std::string SerializeOffsetSeq(const OffsetSeq& seq) {
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  meta["batchWatermarkMs"] = seq.batch_watermark_ms;
  meta["batchTimestampMs"] = seq.batch_timestamp_ms;
  nlohmann::ordered_json conf = nlohmann::ordered_json::object();
  for (const auto& [k, v] : seq.conf) conf[k] = v;
  meta["conf"] = conf;
  std::string out = StrCat(kVersionLine, "\n", meta.dump());
  for (const auto& offset : seq.offsets) {
    out += "\n";
    out += offset ? *offset : "-";
  }
  return out;
}

Result<OffsetSeq> ParseOffsetSeq(std::string_view text, std::string_view file) {
  LAKE_ASSIGN_OR_RETURN(std::vector<std::string> lines, VersionedLines(text, file));
  if (lines.empty()) {
    return Status::Corruption(StrCat("checkpoint file ", file, " lacks its batch metadata line"));
  }
  OffsetSeq seq;
  LAKE_ASSIGN_OR_RETURN(json meta, ParseObject(lines[0], file));
  seq.batch_watermark_ms = IntOr(meta, "batchWatermarkMs", 0);
  seq.batch_timestamp_ms = IntOr(meta, "batchTimestampMs", 0);
  if (auto conf = meta.find("conf"); conf != meta.end() && conf->is_object()) {
    for (const auto& [k, v] : conf->items()) {
      seq.conf[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i] == "-") {
      seq.offsets.push_back(std::nullopt);
      continue;
    }
    json offset = json::parse(lines[i], nullptr, false);
    if (offset.is_discarded()) {
      return Status::Corruption(StrCat("checkpoint file ", file, ": offset of source ", i - 1,
                                       " is not JSON: '", lines[i], "'"));
    }
    seq.offsets.push_back(lines[i]);
  }
  return seq;
}

std::string SerializeCommitMetadata(const CommitMetadata& commit) {
  json meta = json::object();
  meta["nextBatchWatermarkMs"] = commit.next_batch_watermark_ms;
  return StrCat(kVersionLine, "\n", meta.dump());
}

Result<CommitMetadata> ParseCommitMetadata(std::string_view text, std::string_view file) {
  LAKE_ASSIGN_OR_RETURN(std::vector<std::string> lines, VersionedLines(text, file));
  CommitMetadata out;
  if (!lines.empty()) {
    LAKE_ASSIGN_OR_RETURN(json meta, ParseObject(lines[0], file));
    out.next_batch_watermark_ms = IntOr(meta, "nextBatchWatermarkMs", 0);
  }
  return out;
}

std::string SerializeProgress(const BatchProgress& p) {
  using json = nlohmann::ordered_json;
  json doc = json::object();
  doc["id"] = p.query_id;
  doc["runId"] = p.run_id;
  doc["batchId"] = p.batch_id;
  doc["timestampMs"] = p.timestamp_ms;
  doc["numInputRows"] = p.num_input_rows;
  doc["processedRowsPerSecond"] = p.processed_rows_per_second;
  doc["durationMs"] = {{"triggerExecution", p.duration_ms}};
  json sources = json::array();
  for (const SourceProgress& s : p.sources) {
    json src = json::object();
    src["description"] = s.description;
    src["startOffset"] = s.start_offset ? json::parse(*s.start_offset, nullptr, false) : json();
    src["endOffset"] = json::parse(s.end_offset, nullptr, false);
    src["numInputRows"] = s.num_input_rows;
    sources.push_back(std::move(src));
  }
  doc["sources"] = std::move(sources);
  doc["sink"] = {{"description", p.sink_description},
                 {"numOutputRows", p.num_output_rows},
                 {"skipped", p.sink_skipped}};
  doc["replayed"] = p.replayed;
  return doc.dump();
}

Result<BatchProgress> ParseProgress(std::string_view text, std::string_view file) {
  LAKE_ASSIGN_OR_RETURN(json doc, ParseObject(text, file));
  BatchProgress p;
  p.query_id = doc.value("id", "");
  p.run_id = doc.value("runId", "");
  p.batch_id = IntOr(doc, "batchId", 0);
  p.timestamp_ms = IntOr(doc, "timestampMs", 0);
  p.num_input_rows = IntOr(doc, "numInputRows", 0);
  p.processed_rows_per_second = doc.value("processedRowsPerSecond", 0.0);
  if (auto d = doc.find("durationMs"); d != doc.end() && d->is_object()) {
    p.duration_ms = IntOr(*d, "triggerExecution", 0);
  }
  if (auto s = doc.find("sources"); s != doc.end() && s->is_array()) {
    for (const json& src : *s) {
      SourceProgress sp;
      sp.description = src.value("description", "");
      if (src.contains("startOffset") && !src["startOffset"].is_null()) {
        sp.start_offset = src["startOffset"].dump();
      }
      if (src.contains("endOffset")) sp.end_offset = src["endOffset"].dump();
      sp.num_input_rows = IntOr(src, "numInputRows", 0);
      p.sources.push_back(std::move(sp));
    }
  }
  if (auto sink = doc.find("sink"); sink != doc.end() && sink->is_object()) {
    p.sink_description = sink->value("description", "");
    p.num_output_rows = IntOr(*sink, "numOutputRows", 0);
    p.sink_skipped = sink->value("skipped", false);
  }
  p.replayed = doc.value("replayed", false);
  return p;
}

Checkpoint::Checkpoint(std::unique_ptr<storage::ObjectStore> store, std::string query_id)
    : store_(std::move(store)), query_id_(std::move(query_id)), location_(store_->uri()) {}

Result<std::unique_ptr<Checkpoint>> Checkpoint::Open(std::string_view location) {
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store, storage::OpenStore(location));
  return Open(std::move(store));
}

Result<std::unique_ptr<Checkpoint>> Checkpoint::Open(std::unique_ptr<storage::ObjectStore> store) {
  // Create-if-absent first, then read: two queries starting on one new checkpoint agree on
  // the id of whichever created it.
  json created = {{"id", NewUuidV4()}};
  Status put = store->PutIfAbsent("metadata", created.dump());
  if (!put.ok() && put.code() != StatusCode::kAlreadyExists) {
    return put.WithContext(StrCat("streaming checkpoint ", store->uri()));
  }
  LAKE_ASSIGN_OR_RETURN(std::string text, store->Get("metadata"));
  const std::string file = StrCat(store->uri(), "/metadata");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  LAKE_ASSIGN_OR_RETURN(json doc, ParseObject(text, file));
  auto id = doc.find("id");
  if (id == doc.end() || !id->is_string() || id->get<std::string>().empty()) {
    return Status::Corruption(StrCat("checkpoint file ", file, " has no query \"id\""));
  }
  return std::unique_ptr<Checkpoint>(new Checkpoint(std::move(store), id->get<std::string>()));
}

std::string Checkpoint::SourcePrefix(int source_index) {
  return StrCat("sources/", source_index, "/");
}

Result<std::optional<BatchId>> Checkpoint::LatestIn(std::string_view folder) {
  const std::string prefix = StrCat(folder, "/");
  LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, store_->ListAfter(prefix, ""));
  std::optional<BatchId> latest;
  for (const storage::ObjectInfo& object : objects) {
    // Only plain batch numbers count: Spark's ".N.tmp" / ".N.crc" leftovers do not.
    std::optional<int64_t> n = ParseInt64(std::string_view(object.key).substr(prefix.size()));
    if (n && *n >= 0 && (!latest || *n > *latest)) latest = *n;
  }
  return latest;
}

Result<std::optional<BatchId>> Checkpoint::LatestOffsetsBatch() { return LatestIn("offsets"); }
Result<std::optional<BatchId>> Checkpoint::LatestCommittedBatch() { return LatestIn("commits"); }

Result<OffsetSeq> Checkpoint::ReadOffsets(BatchId batch) {
  const std::string key = Key("offsets", batch);
  LAKE_ASSIGN_OR_RETURN(std::string text, store_->Get(key));
  return ParseOffsetSeq(text, StrCat(location_, "/", key));
}

Result<bool> Checkpoint::HasCommit(BatchId batch) {
  Result<storage::ObjectInfo> head = store_->Head(Key("commits", batch));
  if (head.ok()) return true;
  if (head.status().code() == StatusCode::kNotFound) return false;
  return head.status();
}

Status Checkpoint::Create(std::string_view folder, BatchId batch, std::string_view text) {
  const std::string key = Key(folder, batch);
  Status put = store_->PutIfAbsent(key, text);
  if (put.code() == StatusCode::kAlreadyExists) {
    return Status::Conflict(StrCat("streaming checkpoint ", location_, ": ", key,
                                   " was written by someone else (query ", query_id_, ")"))
        .WithHint(
            "another run of this query is using the same checkpoint; stop it, or give "
            "this query its own checkpoint location");
  }
  return put;
}

Status Checkpoint::WriteOffsets(BatchId batch, const OffsetSeq& seq) {
  return Create("offsets", batch, SerializeOffsetSeq(seq));
}

Status Checkpoint::WriteCommit(BatchId batch, const CommitMetadata& commit) {
  return Create("commits", batch, SerializeCommitMetadata(commit));
}

Status Checkpoint::WriteProgress(const BatchProgress& progress) {
  return Create("progress", progress.batch_id, SerializeProgress(progress));
}

Result<std::vector<BatchProgress>> Checkpoint::ReadProgress() {
  LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                        store_->ListAfter("progress/", ""));
  std::vector<BatchProgress> out;
  for (const storage::ObjectInfo& object : objects) {
    if (!ParseInt64(std::string_view(object.key).substr(9))) continue;
    LAKE_ASSIGN_OR_RETURN(std::string text, store_->Get(object.key));
    LAKE_ASSIGN_OR_RETURN(BatchProgress p, ParseProgress(text, StrCat(location_, "/", object.key)));
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(),
            [](const BatchProgress& a, const BatchProgress& b) { return a.batch_id < b.batch_id; });
  return out;
}

}  // namespace lake::streaming
