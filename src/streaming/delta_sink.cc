#include "streaming/delta_sink.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "delta/checkpoint.h"
#include "delta/schema_evolution.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "engine/data_writer.h"
#include "engine/delta_engine.h"

namespace lake::streaming {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Returns stats.numRecords of `add` (0 when it has none: the writer always records it).
int64_t NumRecords(const delta::AddFile& add) {
  if (!add.stats) return 0;
  nlohmann::json stats = nlohmann::json::parse(*add.stats, nullptr, false);
  if (stats.is_discarded() || !stats.contains("numRecords")) return 0;
  return stats["numRecords"].is_number_integer() ? stats["numRecords"].get<int64_t>() : 0;
}

bool HasColumn(const std::vector<delta::StructField>& fields, std::string_view name) {
  for (const delta::StructField& f : fields) {
    if (ToLower(f.name) == ToLower(name)) return true;
  }
  return false;
}

}  // namespace

Result<OutputMode> ParseOutputMode(std::string_view text) {
  const std::string lower = ToLower(text);
  if (lower == "append") return OutputMode::kAppend;
  if (lower == "complete") return OutputMode::kComplete;
  if (lower == "update") {
    return Status::NotSupported("output mode 'update' is not supported by the Delta sink")
        .WithHint("upsert each batch with a MERGE sink, or use append / complete");
  }
  return Status::InvalidArgument(StrCat("unknown output mode '", text, "'"))
      .WithHint("use append or complete");
}

DeltaSink::DeltaSink(DeltaSinkOptions options) : options_(std::move(options)) {}

std::string DeltaSink::description() const { return StrCat("DeltaSink[", options_.path, "]"); }

Status DeltaSink::Open(const SinkContext& context) {
  context_ = context;
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store,
                        storage::OpenStore(options_.path));
  engine_ = engine::MakeDeltaEngine(*context.db, std::move(store));
  return Status::OK();
}

Result<SinkResult> DeltaSink::AddBatch(engine::Session& session, std::string_view query,
                                       BatchId batch) {
  const std::string& query_id = context_.query_id;
  // The snapshot of the previous batch, refreshed: only commits since then are read.
  Result<delta::SnapshotPtr> snapshot = last_snapshot_
                                            ? delta::RefreshSnapshot(*engine_, last_snapshot_)
                                            : delta::LoadSnapshot(*engine_);
  const bool create = !snapshot.ok() && snapshot.status().code() == StatusCode::kNotFound;
  if (!snapshot.ok() && !create) return snapshot.status();
  if (snapshot.ok()) last_snapshot_ = *snapshot;

  LAKE_ASSIGN_OR_RETURN(engine::QuerySchema rows, engine::DeltaSchemaOfQuery(session, query));
  std::unique_ptr<delta::Transaction> txn;
  if (create) {
    LAKE_ASSIGN_OR_RETURN(txn, delta::Transaction::BeginCreate(*engine_));
    LAKE_RETURN_IF_ERROR(txn->UpdateMetadata(delta::NewTableMetadata(
        delta::SerializeDataType(rows.schema), options_.partition_columns, {}, NowMs())));
  } else {
    LAKE_ASSIGN_OR_RETURN(txn, delta::Transaction::Begin(*engine_, *snapshot));
    // The exactly-once check (PROTOCOL.md "Transaction Identifiers"): the txn version of this
    // query is the last batch it committed to the table. TxnVersion also records the read,
    // so a concurrent commit of the same batch makes ours fail instead of landing twice.
    std::optional<int64_t> committed = txn->TxnVersion(query_id);
    if (committed && *committed >= batch) {
      return SinkResult{.skipped = true, .num_output_rows = 0, .table_version = std::nullopt};
    }
    if (options_.merge_schema) {
      std::vector<delta::IncomingColumn> incoming;
      for (const delta::StructField& f : rows.schema.fields) incoming.push_back({f.name, f.type});
      const auto widening = txn->metadata().configuration.find("delta.enableTypeWidening");
      LAKE_ASSIGN_OR_RETURN(delta::EvolvedSchema evolved,
                            delta::EvolveSchema(txn->schema(), incoming,
                                                widening != txn->metadata().configuration.end() &&
                                                    ToLower(widening->second) == "true"));
      if (evolved.changed()) {
        delta::Metadata metadata = txn->metadata();
        metadata.schema_string = delta::SerializeDataType(evolved.schema);
        LAKE_RETURN_IF_ERROR(txn->UpdateMetadata(std::move(metadata)));
      }
    }
  }

  std::vector<std::string> extra;
  for (const delta::StructField& f : rows.schema.fields) {
    if (!HasColumn(txn->schema().fields, f.name)) extra.push_back(f.name);
  }
  if (!extra.empty()) {
    return Status::InvalidArgument(StrCat(description(), ": batch ", batch, " has column(s) ",
                                          StrJoin(extra, ", "), " the table lacks"))
        .WithHint("set mergeSchema on the sink to add them to the table");
  }
  // Columns of the table the rows lack are written as NULL (a batch from before a source's
  // schema evolved, or a narrower transformation); type differences are left for the
  // writer's column check to name.
  std::vector<std::string> fill;
  for (const delta::StructField& f : txn->schema().fields) {
    if (HasColumn(rows.schema.fields, f.name)) continue;
    LAKE_ASSIGN_OR_RETURN(std::string type, engine::DuckDbTypeFor(f.type));
    fill.push_back(StrCat("CAST(NULL AS ", type, ") AS ", SqlIdent(f.name)));
  }
  std::string write_query(query);
  if (!fill.empty()) {
    write_query = StrCat("SELECT *, ", StrJoin(fill, ", "), " FROM (", query, ")");
  }
  LAKE_ASSIGN_OR_RETURN(engine::WriteOptions write_options,
                        engine::WriteOptionsFor(txn->metadata()));
  Result<std::vector<delta::AddFile>> adds =
      engine::WriteDataFiles(session, write_query, options_.path, txn->schema(), write_options);
  if (!adds.ok()) return adds.status().WithContext(description());

  int64_t num_rows = 0;
  for (delta::AddFile& add : *adds) {
    num_rows += NumRecords(add);
    LAKE_RETURN_IF_ERROR(txn->StageAdd(std::move(add)));
  }
  int64_t removed = 0;
  if (options_.mode == OutputMode::kComplete && !create) {
    txn->ReadWholeTable();
    const int64_t now = NowMs();
    for (const delta::AddFile& live : (*snapshot)->files()) {
      LAKE_RETURN_IF_ERROR(txn->StageRemove(delta::Transaction::RemoveFor(live, now)));
      ++removed;
    }
  }
  LAKE_RETURN_IF_ERROR(txn->SetTxn(query_id, batch));
  nlohmann::json parameters = {
      {"outputMode", options_.mode == OutputMode::kAppend ? "Append" : "Complete"},
      {"queryId", query_id},
      {"epochId", std::to_string(batch)}};
  nlohmann::json metrics = {{"numAddedFiles", std::to_string(adds->size())},
                            {"numRemovedFiles", std::to_string(removed)},
                            {"numOutputRows", std::to_string(num_rows)}};
  txn->SetOperation("STREAMING UPDATE", parameters.dump(), metrics.dump());
  LAKE_ASSIGN_OR_RETURN(delta::CommitResult committed, txn->Commit());
  Result<delta::SnapshotPtr> after = last_snapshot_
                                         ? delta::RefreshSnapshot(*engine_, last_snapshot_)
                                         : delta::LoadSnapshot(*engine_, committed.version);
  if (after.ok()) last_snapshot_ = *after;

  // A checkpoint failure never fails the batch: the commit is what counts (as lake_write.cc).
  if (after.ok() && delta::ShouldCheckpoint(committed.version, (*after)->metadata())) {
    Result<delta::LastCheckpointHint> checkpoint = delta::WriteCheckpoint(*engine_, **after);
    if (!checkpoint.ok()) {
      std::fprintf(stderr, "lake: warning: checkpoint of %s at version %lld failed: %s\n",
                   options_.path.c_str(), static_cast<long long>(committed.version),
                   checkpoint.status().ToString().c_str());
    }
  }
  return SinkResult{
      .skipped = false, .num_output_rows = num_rows, .table_version = committed.version};
}

}  // namespace lake::streaming
