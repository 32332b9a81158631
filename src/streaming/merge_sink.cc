#include "streaming/merge_sink.h"

#include <cctype>

#include "base/strings.h"
#include "delta/snapshot.h"
#include "engine/delta_engine.h"
#include "storage/object_store.h"

namespace lake::streaming {
namespace {

// The txn version the table holds for `app_id` (the last batch the query
// committed), or nullopt; `version` receives the table's version.
Result<std::optional<int64_t>> CommittedBatch(delta::Engine &engine,
                                              const std::string &app_id,
                                              int64_t *version) {
  LAKE_ASSIGN_OR_RETURN(delta::SnapshotPtr snapshot,
                        delta::LoadSnapshot(engine));
  *version = snapshot->version();
  auto it = snapshot->txns().find(app_id);
  if (it == snapshot->txns().end())
    return std::optional<int64_t>();
  return std::optional<int64_t>(it->second.version);
}

bool IsMerge(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i])))
    ++i;
  return ToLower(sql.substr(i, 6)) == "merge " ||
         ToLower(sql.substr(i, 6)) == "merge\n";
}

} // namespace

MergeSink::MergeSink(MergeSinkOptions options) : options_(std::move(options)) {}

std::string MergeSink::description() const {
  return StrCat("MergeSink[", options_.target_path, "]");
}

Status MergeSink::Open(const SinkContext &context) {
  context_ = context;
  if (options_.target_path.empty()) {
    return Status::InvalidArgument("MergeSink: no target path")
        .WithHint("set MergeSinkOptions::target_path to the location of the "
                  "MERGE's target");
  }
  if (!IsMerge(options_.merge_sql)) {
    return Status::InvalidArgument(
               StrCat(description(), ": the statement is not a MERGE: '",
                      options_.merge_sql.substr(0, 60), "'"))
        .WithHint(StrCat("write MERGE INTO <target> USING ",
                         options_.source_name, " ON ... WHEN ..."));
  }
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store,
                        storage::OpenStore(options_.target_path));
  engine_ = engine::MakeDeltaEngine(*context.db, std::move(store));
  return Status::OK();
}

Result<SinkResult> MergeSink::AddBatch(engine::Session &session,
                                       std::string_view query, BatchId batch) {
  const std::string &query_id = context_.query_id;
  int64_t before = -1;
  Result<std::optional<int64_t>> committed =
      CommittedBatch(*engine_, query_id, &before);
  if (!committed.ok()) {
    return committed.status().WithContext(StrCat(
        description(), ": batch ", batch, " (the MERGE target must exist)"));
  }
  if (*committed && **committed >= batch) {
    return SinkResult{
        .skipped = true, .num_output_rows = 0, .table_version = std::nullopt};
  }
  // Materialized once: the MERGE joins it and must not re-run the
  // transformation.
  LAKE_RETURN_IF_ERROR(
      session
          .Query(StrCat("CREATE OR REPLACE TEMP TABLE ",
                        SqlIdent(options_.source_name), " AS ", query))
          .status()
          .WithContext(description()));
  LAKE_RETURN_IF_ERROR(
      session
          .Query(StrCat("SET lake.txnAppId = ", SqlQuote(query_id),
                        "; SET lake.txnVersion = ", batch))
          .status()
          .WithContext(description()));
  Result<engine::ResultTable> merged = session.Query(options_.merge_sql);
  // The settings must not leak into the session's next statement (the query's
  // own SQL).
  Status reset =
      session.Query("RESET lake.txnAppId; RESET lake.txnVersion").status();
  if (!merged.ok()) {
    return merged.status().WithContext(
        StrCat(description(), ": MERGE of batch ", batch));
  }
  LAKE_RETURN_IF_ERROR(reset.WithContext(description()));
  int64_t rows = 0;
  if (!merged->rows.empty() && !merged->rows[0].empty()) {
    if (auto n = std::get_if<int64_t>(&merged->rows[0][0].v))
      rows = *n;
  }
  int64_t after = -1;
  LAKE_ASSIGN_OR_RETURN(std::optional<int64_t> now,
                        CommittedBatch(*engine_, query_id, &after));
  std::optional<int64_t> version;
  if (now && *now == batch && after != before)
    version = after;
  return SinkResult{
      .skipped = false, .num_output_rows = rows, .table_version = version};
}

} // namespace lake::streaming
