// `lake pipeline ...` (pipeline_command.h): thin wrappers over pipelines/, printing through
// the same printers as `lake sql` so --format table|csv|json|jsonl behaves the same.
#include "cli/pipeline_command.h"

#include "base/strings.h"
#include "cli/output.h"
#include "pipelines/runner.h"

namespace lake::cli {
namespace {

engine::ColumnType Varchar() {
  engine::ColumnType t;
  t.kind = engine::ColumnType::Kind::kVarchar;
  t.name = "VARCHAR";
  return t;
}
engine::ColumnType BigInt() {
  engine::ColumnType t;
  t.kind = engine::ColumnType::Kind::kBigInt;
  t.name = "BIGINT";
  return t;
}
engine::Value Str(std::string s) { return engine::Value{std::move(s)}; }
engine::Value Int(int64_t n) { return engine::Value{n}; }

Status Print(const engine::ResultTable& table, const OutputSettings& settings, std::ostream& out) {
  std::unique_ptr<ResultPrinter> printer = MakePrinter(settings.format, out, settings.table);
  LAKE_RETURN_IF_ERROR(printer->Begin(table.columns));
  LAKE_RETURN_IF_ERROR(printer->Rows(table.rows));
  LAKE_RETURN_IF_ERROR(printer->End());
  out.flush();
  return Status::OK();
}

// Prints `status` as the CLI does for any failure and returns it.
Status Report(const Status& status, const OutputSettings& settings, std::ostream& out,
              std::ostream& err) {
  if (!status.ok()) ReportError(status, settings.format, out, err);
  return status;
}

}  // namespace

void PipelineCommands::Define(CLI::App& app, const std::function<void(CLI::App&)>& add_flags) {
  pipeline_ = app.add_subcommand("pipeline", "Validate and run declarative pipelines (folders of .sql files)");
  pipeline_->require_subcommand(1);
  pipeline_->footer("Example: lake pipeline run examples/pipeline");
  add_flags(*pipeline_);

  validate_ = pipeline_->add_subcommand("validate", "Parse a pipeline and resolve its DAG without running it");
  validate_->add_option("dir", dir_, "The pipeline folder (.sql files, optional pipeline.yml)")->required();
  validate_->footer("Example: lake pipeline validate examples/pipeline");
  add_flags(*validate_);

  run_ = pipeline_->add_subcommand("run", "Run every flow of a pipeline once, in dependency order");
  run_->add_option("dir", dir_, "The pipeline folder (.sql files, optional pipeline.yml)")->required();
  run_->add_option("--full-refresh", full_refresh_,
                   "Rebuild these datasets from all their input (all when none is named)")
      ->expected(0, -1)
      ->option_text("[DATASET ...]");
  run_->footer("Example: lake pipeline run examples/pipeline --full-refresh gold");
  add_flags(*run_);

  events_ = pipeline_->add_subcommand("events", "Show a pipeline's event log, oldest first");
  events_->add_option("dir", dir_, "The pipeline folder")->required();
  events_->footer("Example: lake pipeline events examples/pipeline --format json");
  add_flags(*events_);
}

bool PipelineCommands::parsed() const { return pipeline_ != nullptr && pipeline_->parsed(); }

Status PipelineCommands::Run(sql::Lakehouse& house, const OutputSettings& settings,
                             std::ostream& out, std::ostream& err) {
  Result<pipelines::Pipeline> pipeline = pipelines::LoadPipeline(dir_);
  if (!pipeline.ok()) return Report(pipeline.status(), settings, out, err);

  if (validate_->parsed()) {
    engine::ResultTable table;
    table.columns = {{"dataset", Varchar()}, {"kind", Varchar()}, {"file", Varchar()},
                     {"inputs", Varchar()}, {"expectations", BigInt()}};
    for (const std::string& name : pipeline->order) {
      const pipelines::Dataset& d = *pipeline->Find(name);
      std::string inputs = StrJoin(d.references, ", ");
      if (d.stream && d.stream->kind == pipelines::StreamSource::Kind::kFiles) {
        inputs = StrCat("read_files(", d.stream->path, ")", inputs.empty() ? "" : ", ", inputs);
      }
      table.rows.push_back({Str(d.name), Str(std::string(pipelines::KindName(d.kind))),
                            Str(d.file), Str(inputs),
                            Int(static_cast<int64_t>(d.expectations.size()))});
    }
    return Report(Print(table, settings, out), settings, out, err);
  }

  if (run_->parsed()) {
    pipelines::RunOptions options;
    options.full_refresh_all = run_->count("--full-refresh") > 0 && full_refresh_.empty();
    options.full_refresh = full_refresh_;
    Result<pipelines::RunSummary> summary =
        pipelines::RunPipeline(house.database(), *pipeline, options);
    if (!summary.ok()) return Report(summary.status(), settings, out, err);
    engine::ResultTable table;
    table.columns = {{"dataset", Varchar()}, {"kind", Varchar()},     {"batches", BigInt()},
                     {"rows_in", BigInt()},  {"rows_out", BigInt()},  {"duration_ms", BigInt()},
                     {"expectations", Varchar()}};
    for (const pipelines::FlowResult& f : summary->flows) {
      std::vector<std::string> counts;
      for (const pipelines::ExpectationCounts& c : f.expectations) {
        counts.push_back(StrCat(c.name, " (", pipelines::ActionName(c.action), "): ", c.passed,
                                " passed, ", c.failed, " failed, ", c.dropped, " dropped"));
      }
      table.rows.push_back({Str(f.dataset), Str(std::string(pipelines::KindName(f.kind))),
                            Int(f.batches), Int(f.rows_in), Int(f.rows_out), Int(f.duration_ms),
                            Str(StrJoin(counts, "; "))});
    }
    return Report(Print(table, settings, out), settings, out, err);
  }

  Result<engine::ResultTable> events = pipelines::ReadEvents(house.database(), *pipeline);
  if (!events.ok()) return Report(events.status(), settings, out, err);
  if (events->columns.empty()) {
    return Report(Status::NotFound(StrCat("pipeline ", pipeline->name, ": no event log at ",
                                          pipeline->EventLogPath()))
                      .WithHint(StrCat("run it first: lake pipeline run ", dir_)),
                  settings, out, err);
  }
  return Report(Print(*events, settings, out), settings, out, err);
}

}  // namespace lake::cli
