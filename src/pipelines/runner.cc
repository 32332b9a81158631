// Runs a pipeline's flows (runner.h) and keeps its event log.
#include "pipelines/runner.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "base/uuid.h"
#include "delta/snapshot.h"
#include "engine/delta_engine.h"
#include "streaming/delta_sink.h"
#include "streaming/delta_source.h"
#include "streaming/files_source.h"
#include "streaming/query.h"

namespace lake::pipelines {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kOutTable = "__lake_pipeline_out";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// delta.`<path>`: a table by path in lake's SQL (backticks doubled inside).
std::string DeltaRef(std::string_view path) {
  std::string out = "delta.`";
  for (char c : path) {
    out += c;
    if (c == '`') out += '`';
  }
  return out + "`";
}

bool TableExists(const std::string& path) { return fs::is_directory(fs::path(path) / "_delta_log"); }

int64_t AsInt(const engine::Value& v) {
  if (auto i = std::get_if<int64_t>(&v.v)) return *i;
  if (auto u = std::get_if<uint64_t>(&v.v)) return static_cast<int64_t>(*u);
  if (auto h = std::get_if<__int128>(&v.v)) return static_cast<int64_t>(*h);
  return 0;
}

json CountsJson(const std::vector<ExpectationCounts>& counts, const std::string& dataset) {
  json out = json::array();
  for (const ExpectationCounts& c : counts) {
    out.push_back({{"name", c.name},
                   {"dataset", dataset},
                   {"action", ActionName(c.action)},
                   {"passed_records", c.passed},
                   {"failed_records", c.failed},
                   {"dropped_records", c.dropped}});
  }
  return out;
}

// The pipeline's event log: rows buffered in memory, appended to the Delta table by Flush.
class EventLog {
 public:
  EventLog(engine::Session& session, std::string path, std::string run_id)
      : session_(session), path_(std::move(path)), run_id_(std::move(run_id)) {}

  Status Open() {
    if (!TableExists(path_)) return Status::OK();
    LAKE_ASSIGN_OR_RETURN(engine::ResultTable r,
                          session_.Query(StrCat("SELECT coalesce(max(seq), -1) FROM delta_scan(",
                                                SqlQuote(path_), ")")));
    next_seq_ = AsInt(r.rows.at(0).at(0)) + 1;
    return Status::OK();
  }

  void Add(std::string_view type, std::string_view level, std::string_view flow,
           std::optional<int64_t> batch, std::string_view message, const json& details) {
    pending_.push_back(StrCat("(", next_seq_++, ", make_timestamp(", NowMs() * 1000,
                              ")::TIMESTAMPTZ, ", SqlQuote(run_id_), ", ", SqlQuote(type), ", ",
                              SqlQuote(level), ", ", flow.empty() ? "NULL" : SqlQuote(flow), ", ",
                              batch ? std::to_string(*batch) : "NULL", ", ", SqlQuote(message),
                              ", ", SqlQuote(details.dump()), ")"));
  }

  Status Flush() {
    if (pending_.empty()) return Status::OK();
    if (!TableExists(path_)) {
      fs::create_directories(fs::path(path_).parent_path());
      LAKE_RETURN_IF_ERROR(
          session_
              .Query(StrCat("CREATE TABLE ", DeltaRef(path_),
                            " (seq BIGINT, timestamp TIMESTAMP, run_id STRING, event_type "
                            "STRING, level STRING, flow STRING, batch_id BIGINT, message "
                            "STRING, details STRING) USING DELTA"))
              .status()
              .WithContext(StrCat("pipeline event log ", path_)));
    }
    LAKE_RETURN_IF_ERROR(session_
                             .Query(StrCat("INSERT INTO ", DeltaRef(path_), " VALUES ",
                                           StrJoin(pending_, ", ")))
                             .status()
                             .WithContext(StrCat("pipeline event log ", path_)));
    pending_.clear();
    return Status::OK();
  }

 private:
  engine::Session& session_;
  std::string path_;
  std::string run_id_;
  int64_t next_seq_ = 0;
  std::vector<std::string> pending_;
};

// Binds every dataset `ds` reads to a temporary view over its table (runner.h note 4).
Status BindReferences(engine::Session& session, const Pipeline& p, const Dataset& ds) {
  for (const std::string& ref : ds.references) {
    const std::string path = p.TablePath(ref);
    if (!TableExists(path)) {
      return Status::FailedPrecondition(
                 StrCat("dataset ", ds.name, " reads ", ref, ", which has no table yet at ", path))
          .WithHint(StrCat("run the pipeline once ", ref, "'s sources have data"));
    }
    LAKE_RETURN_IF_ERROR(session
                             .Query(StrCat("CREATE OR REPLACE TEMP VIEW ", SqlIdent(ref),
                                           " AS SELECT * FROM delta_scan(", SqlQuote(path), ")"))
                             .status());
  }
  return Status::OK();
}

struct BatchStats {
  streaming::BatchId batch = 0;
  int64_t rows_out = 0;
  std::vector<ExpectationCounts> counts;
};

// The sink of every flow: evaluates the dataset's expectations on a batch's rows, then hands
// the rows that stay to the Delta sink (runner.h note 3).
class FlowSink : public streaming::Sink {
 public:
  FlowSink(const Pipeline& pipeline, const Dataset& dataset, streaming::DeltaSinkOptions options)
      : pipeline_(pipeline), dataset_(dataset), inner_(std::move(options)) {}

  std::string description() const override {
    return StrCat("PipelineFlow[", dataset_.name, "] -> ", inner_.description());
  }
  Status Open(const streaming::SinkContext& context) override { return inner_.Open(context); }

  Result<streaming::SinkResult> AddBatch(engine::Session& session, std::string_view query,
                                         streaming::BatchId batch) override {
    LAKE_RETURN_IF_ERROR(BindReferences(session, pipeline_, dataset_));
    const std::string out = SqlIdent(kOutTable);
    LAKE_RETURN_IF_ERROR(
        session.Query(StrCat("CREATE OR REPLACE TEMP TABLE ", out, " AS ", query)).status());
    ScopeGuard drop([&] {
      // A leftover temp table is replaced by the next batch and gone with the session.
      session.Query(StrCat("DROP TABLE IF EXISTS ", out)).status().IgnoreError();
    });
    std::vector<ExpectationCounts> counts;
    std::string keep;  // the conjunction of the DROP ROW conditions
    if (!dataset_.expectations.empty()) {
      std::string sql = "SELECT count(*)";
      for (const Expectation& e : dataset_.expectations) {
        // Only TRUE passes: NULL counts as a failure (docs/pipelines.md "NULL").
        sql += StrCat(", count(*) FILTER (WHERE (", e.condition, ") IS TRUE)");
      }
      LAKE_ASSIGN_OR_RETURN(engine::ResultTable r, session.Query(StrCat(sql, " FROM ", out)));
      const int64_t total = AsInt(r.rows.at(0).at(0));
      for (size_t i = 0; i < dataset_.expectations.size(); ++i) {
        const Expectation& e = dataset_.expectations[i];
        ExpectationCounts c;
        c.name = e.name;
        c.action = e.action;
        c.passed = AsInt(r.rows.at(0).at(i + 1));
        c.failed = total - c.passed;
        if (e.action == Expectation::Action::kDrop) {
          c.dropped = c.failed;
          keep += StrCat(keep.empty() ? "" : " AND ", "(", e.condition, ") IS TRUE");
        }
        if (e.action == Expectation::Action::kFail && c.failed > 0) {
          LAKE_ASSIGN_OR_RETURN(engine::ResultTable row,
                                session.Query(StrCat("SELECT to_json(t)::VARCHAR FROM ", out,
                                                     " AS t WHERE (", e.condition,
                                                     ") IS NOT TRUE LIMIT 1")));
          failed_expectation_ = e.name;
          failed_row_ = std::get<std::string>(row.rows.at(0).at(0).v);
          return Status::FailedPrecondition(
                     StrCat("expectation ", e.name, " (ON VIOLATION FAIL UPDATE) of dataset ",
                            dataset_.name, " failed on ", c.failed, " of ", total,
                            " rows of batch ", batch, ", e.g. ", failed_row_, "; condition: ",
                            e.condition))
              .WithHint("fix the input data or the expectation; the batch was not written and "
                        "the next run retries it");
        }
        counts.push_back(std::move(c));
      }
    }
    const std::string rows =
        StrCat("SELECT * FROM ", out, keep.empty() ? "" : StrCat(" WHERE ", keep));
    LAKE_ASSIGN_OR_RETURN(streaming::SinkResult written, inner_.AddBatch(session, rows, batch));
    if (!written.skipped) {
      stats_.push_back(BatchStats{batch, written.num_output_rows, std::move(counts)});
    }
    return written;
  }

  // The committed batches' statistics, in order, and the FAIL UPDATE that stopped the flow.
  const std::vector<BatchStats>& stats() const { return stats_; }
  const std::string& failed_expectation() const { return failed_expectation_; }
  const std::string& failed_row() const { return failed_row_; }

 private:
  const Pipeline& pipeline_;
  const Dataset& dataset_;
  streaming::DeltaSink inner_;
  std::vector<BatchStats> stats_;
  std::string failed_expectation_;
  std::string failed_row_;
};

void AddCounts(std::vector<ExpectationCounts>& total, const std::vector<ExpectationCounts>& batch) {
  if (total.empty()) {
    total = batch;
    return;
  }
  for (size_t i = 0; i < total.size() && i < batch.size(); ++i) {
    total[i].passed += batch[i].passed;
    total[i].failed += batch[i].failed;
    total[i].dropped += batch[i].dropped;
  }
}

// What a failed flow leaves for the event log.
struct FlowFailure {
  std::string expectation;
  std::string row;
};

Result<std::unique_ptr<streaming::Source>> MakeSource(const Pipeline& p, const Dataset& ds) {
  const StreamSource& s = *ds.stream;
  if (s.kind == StreamSource::Kind::kDataset) {
    streaming::DeltaSourceOptions options;
    options.path = p.TablePath(s.dataset);
    return std::unique_ptr<streaming::Source>(std::make_unique<streaming::DeltaSource>(options));
  }
  streaming::FilesSourceOptions options;
  options.path = s.path;
  // read_files infers column types (Databricks' read_files default); JSON numbers stay numbers.
  options.infer_column_types = true;
  for (const auto& [key, value] : s.options) {
    if (key == "format") {
      LAKE_ASSIGN_OR_RETURN(options.format, streaming::ParseFileFormat(value));
    } else if (key == "schemaevolutionmode") {
      LAKE_ASSIGN_OR_RETURN(options.schema_evolution_mode,
                            streaming::ParseSchemaEvolutionMode(value));
    } else if (key == "infercolumntypes") {
      options.infer_column_types = ToLower(value) != "false";
    } else if (key == "maxfilespertrigger") {
      std::optional<int64_t> n = ParseInt64(value);
      if (!n || *n < 1) {
        return Status::InvalidArgument(StrCat(ds.file, ", dataset ", ds.name,
                                              ": maxFilesPerTrigger must be a whole number >= 1"));
      }
      options.max_files_per_trigger = *n;
    } else {
      return Status::NotSupported(StrCat(ds.file, ", dataset ", ds.name, ": read_files option ",
                                         key, " is not supported"))
          .WithHint("lake's read_files takes format, schemaEvolutionMode, inferColumnTypes and "
                    "maxFilesPerTrigger");
    }
  }
  return std::unique_ptr<streaming::Source>(std::make_unique<streaming::FilesSource>(options));
}

Result<FlowResult> RunStreamingFlow(engine::Database& db, const Pipeline& p, const Dataset& ds,
                                    EventLog& log, FlowFailure& failure) {
  FlowResult result;
  result.dataset = ds.name;
  result.kind = ds.kind;
  for (const Expectation& e : ds.expectations) result.expectations.push_back({e.name, e.action});
  if (ds.stream->kind == StreamSource::Kind::kDataset && !TableExists(p.TablePath(ds.stream->dataset))) {
    return result;  // the upstream flow has written nothing yet: nothing to stream
  }
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<streaming::Source> source, MakeSource(p, ds));
  streaming::DeltaSinkOptions sink_options;
  sink_options.path = p.TablePath(ds.name);
  sink_options.mode = streaming::OutputMode::kAppend;
  sink_options.merge_schema = true;  // a landing folder's new columns reach the table
  auto sink = std::make_unique<FlowSink>(p, ds, sink_options);
  FlowSink& flow_sink = *sink;
  streaming::QueryOptions options;
  options.checkpoint_location = p.CheckpointPath(ds.name);
  options.batch_table = std::string(kBatchTable);
  options.transformation = ds.select_sql;
  options.trigger.kind = streaming::Trigger::Kind::kAvailableNow;
  options.on_batch = [&](const streaming::BatchProgress& progress) -> Status {
    const BatchStats* stats = nullptr;
    for (const BatchStats& s : flow_sink.stats()) {
      if (s.batch == progress.batch_id) stats = &s;
    }
    json details = {{"rows_in", progress.num_input_rows},
                    {"rows_out", progress.num_output_rows},
                    {"duration_ms", progress.duration_ms},
                    {"replayed", progress.replayed},
                    {"skipped_as_committed", progress.sink_skipped},
                    {"expectations", CountsJson(stats ? stats->counts : std::vector<ExpectationCounts>{}, ds.name)}};
    log.Add("flow_progress", "info", ds.name, progress.batch_id,
            StrCat("batch ", progress.batch_id, ": ", progress.num_input_rows, " rows in, ",
                   progress.num_output_rows, " rows out"),
            details);
    if (!progress.sink_skipped) {
      ++result.batches;
      result.rows_in += progress.num_input_rows;
      result.rows_out += progress.num_output_rows;
      if (stats) AddCounts(result.expectations, stats->counts);
    }
    return Status::OK();
  };
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<streaming::StreamingQuery> query,
                        streaming::StreamingQuery::Open(db, std::move(source), std::move(sink),
                                                        std::move(options)));
  Result<streaming::RunResult> run = query->Run();
  if (!run.ok()) {
    failure.expectation = flow_sink.failed_expectation();
    failure.row = flow_sink.failed_row();
    return run.status();
  }
  return result;
}

Result<FlowResult> RunMaterializedView(engine::Database& db, const Pipeline& p, const Dataset& ds,
                                       EventLog& log, FlowFailure& failure) {
  FlowResult result;
  result.dataset = ds.name;
  result.kind = ds.kind;
  const std::string path = p.TablePath(ds.name);
  // The view's commits carry txn {appId, version = refresh number}: DeltaSink's exactly-once
  // check then never skips a refresh, and the table's history counts them.
  const std::string app_id = StrCat("lake-pipeline-mv:", p.name, ":", ds.name);
  streaming::BatchId refresh = 0;
  if (TableExists(path)) {
    LAKE_ASSIGN_OR_RETURN(delta::SnapshotPtr snapshot, engine::LoadTableSnapshot(db, path));
    auto it = snapshot->txns().find(app_id);
    if (it != snapshot->txns().end()) refresh = it->second.version + 1;
  }
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<engine::Session> session, db.Connect());
  LAKE_RETURN_IF_ERROR(BindReferences(*session, p, ds));
  for (const std::string& ref : ds.references) {
    LAKE_ASSIGN_OR_RETURN(engine::ResultTable n,
                          session->Query(StrCat("SELECT count(*) FROM ", SqlIdent(ref))));
    result.rows_in += AsInt(n.rows.at(0).at(0));
  }
  streaming::DeltaSinkOptions sink_options;
  sink_options.path = path;
  sink_options.mode = streaming::OutputMode::kComplete;
  sink_options.merge_schema = true;
  FlowSink sink(p, ds, sink_options);
  LAKE_RETURN_IF_ERROR(sink.Open(streaming::SinkContext{&db, app_id}));
  const int64_t started = SteadyMs();
  Result<streaming::SinkResult> written = sink.AddBatch(*session, ds.select_sql, refresh);
  if (!written.ok()) {
    failure.expectation = sink.failed_expectation();
    failure.row = sink.failed_row();
    return written.status();
  }
  result.batches = 1;
  result.rows_out = written->num_output_rows;
  for (const Expectation& e : ds.expectations) result.expectations.push_back({e.name, e.action});
  if (!sink.stats().empty()) result.expectations = sink.stats().back().counts;
  log.Add("flow_progress", "info", ds.name, refresh,
          StrCat("recomputed: ", result.rows_in, " rows in, ", result.rows_out, " rows out"),
          {{"rows_in", result.rows_in},
           {"rows_out", result.rows_out},
           {"duration_ms", SteadyMs() - started},
           {"full_recompute", true},
           {"expectations", CountsJson(result.expectations, ds.name)}});
  return result;
}

}  // namespace

Result<RunSummary> RunPipeline(engine::Database& db, const Pipeline& p, const RunOptions& options) {
  if (p.target) {
    return Status::NotSupported(StrCat("pipeline ", p.name, ": publishing datasets to target schema ",
                                       *p.target, " is not supported yet (TODO(#5))"))
        .WithHint("remove `target` from pipeline.yml; the tables live under the pipeline's storage");
  }
  std::set<std::string> refresh;
  for (const std::string& name : options.full_refresh) {
    if (!p.Find(ToLower(name))) {
      return Status::InvalidArgument(StrCat("pipeline ", p.name, ": --full-refresh names ", name,
                                            ", which the pipeline does not define"))
          .WithHint(StrCat("datasets: ", StrJoin(p.order, ", ")));
    }
    refresh.insert(ToLower(name));
  }
  if (options.full_refresh_all) refresh.insert(p.order.begin(), p.order.end());

  RunSummary summary;
  summary.run_id = NewUuidV4();
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<engine::Session> session, db.Connect());
  EventLog log(*session, p.EventLogPath(), summary.run_id);
  LAKE_RETURN_IF_ERROR(log.Open());
  json lineage = json::array();
  for (const Dataset& d : p.datasets) {
    lineage.push_back({{"name", d.name}, {"kind", KindName(d.kind)}, {"file", d.file},
                       {"inputs", d.references}, {"path", p.TablePath(d.name)}});
  }
  log.Add("run_start", "info", "", std::nullopt, StrCat("run of pipeline ", p.name),
          {{"pipeline", p.name}, {"order", p.order},
           {"full_refresh", std::vector<std::string>(refresh.begin(), refresh.end())}});
  log.Add("dag", "info", "", std::nullopt, "datasets and their inputs", {{"datasets", lineage}});
  for (const std::string& name : refresh) {
    // Rebuilt from the sources: the table and, for a streaming table, where it had read to.
    std::error_code ec;
    fs::remove_all(p.TablePath(name), ec);
    if (!ec) fs::remove_all(p.CheckpointPath(name), ec);
    if (ec) {
      return Status::IOError(StrCat("pipeline ", p.name, ": full refresh of ", name, ": ", ec.message()));
    }
  }
  LAKE_RETURN_IF_ERROR(log.Flush());

  for (const std::string& name : p.order) {
    const Dataset& ds = *p.Find(name);
    const int64_t started = SteadyMs();
    FlowFailure failure;
    Result<FlowResult> flow = ds.kind == Dataset::Kind::kStreamingTable
                                  ? RunStreamingFlow(db, p, ds, log, failure)
                                  : RunMaterializedView(db, p, ds, log, failure);
    if (!flow.ok()) {
      const Status& st = flow.status();
      json details = {{"code", StatusCodeName(st.code())}, {"message", st.message()},
                      {"hint", st.hint()}};
      if (!failure.expectation.empty()) {
        details["expectation"] = failure.expectation;
        details["row"] = failure.row;
      }
      log.Add("flow_failed", "error", name, std::nullopt, st.message(), details);
      log.Add("run_end", "error", "", std::nullopt, StrCat("failed in flow ", name),
              {{"status", "FAILED"}, {"failed_flow", name}});
      // The flow's error is what the caller needs; a log that cannot be written on top of it
      // would hide it.
      log.Flush().IgnoreError();
      return st.WithContext(StrCat("pipeline ", p.name, ", flow ", name));
    }
    flow->duration_ms = SteadyMs() - started;
    log.Add("flow_completed", "info", name, std::nullopt,
            StrCat(flow->batches, " batches, ", flow->rows_in, " rows in, ", flow->rows_out,
                   " rows out"),
            {{"kind", KindName(ds.kind)}, {"batches", flow->batches}, {"rows_in", flow->rows_in},
             {"rows_out", flow->rows_out}, {"duration_ms", flow->duration_ms},
             {"expectations", CountsJson(flow->expectations, name)}});
    LAKE_RETURN_IF_ERROR(log.Flush());
    summary.flows.push_back(std::move(*flow));
  }
  log.Add("run_end", "info", "", std::nullopt, "completed", {{"status", "COMPLETED"}});
  LAKE_RETURN_IF_ERROR(log.Flush());
  return summary;
}

Result<engine::ResultTable> ReadEvents(engine::Database& db, const Pipeline& p) {
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<engine::Session> session, db.Connect());
  if (!TableExists(p.EventLogPath())) return engine::ResultTable{};
  return session->Query(StrCat("SELECT * FROM delta_scan(", SqlQuote(p.EventLogPath()),
                               ") ORDER BY seq"));
}

}  // namespace lake::pipelines
