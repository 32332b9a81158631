#include "cli/stream_command.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/strings.h"
#include "cli/output.h"
#include "streaming/checkpoint.h"
#include "streaming/query.h"
#include "streaming/stream_sql.h"

namespace lake::cli {
namespace {

std::string Example(std::string_view command) {
  return StrCat("\nExample:\n  ", command, "\n");
}

Status Print(const engine::ResultTable &table, const OutputSettings &settings,
             std::ostream &out) {
  std::unique_ptr<ResultPrinter> printer =
      MakePrinter(settings.format, out, settings.table);
  LAKE_RETURN_IF_ERROR(printer->Begin(table.columns));
  LAKE_RETURN_IF_ERROR(printer->Rows(table.rows));
  return printer->End();
}

engine::Value Int(int64_t n) { return engine::Value{n}; }
engine::Value Text(std::string s) { return engine::Value{std::move(s)}; }

// Claims the stream's pidfile for this process. kFailedPrecondition when a live
// process holds it; a pidfile left by a killed run is replaced.
Status ClaimPidfile(const streaming::StreamStore &store,
                    const std::string &name) {
  const std::string path = store.pidfile(name);
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      const std::string pid = StrCat(::getpid(), "\n");
      const bool ok = ::write(fd, pid.data(), pid.size()) ==
                      static_cast<ssize_t>(pid.size());
      ::close(fd);
      if (!ok)
        return Status::IOError(StrCat("cannot write ", path));
      return Status::OK();
    }
    if (errno != EEXIST)
      return Status::IOError(
          StrCat("cannot create ", path, ": ", strerror(errno)));
    if (std::optional<int> pid = store.RunningPid(name)) {
      return Status::FailedPrecondition(StrCat("stream ", name,
                                               " is already running (pid ",
                                               *pid, ")"))
          .WithHint(StrCat("lake stream stop ", name, " first"));
    }
    ::unlink(path.c_str()); // stale: its process is gone (kill -9)
  }
  return Status::Conflict(
             StrCat("stream ", name, ": another start claimed ", path))
      .WithHint("retry");
}

std::string ProgressLine(const streaming::BatchProgress &p) {
  return StrCat("batch ", p.batch_id, ": ", p.num_input_rows, " input rows, ",
                static_cast<int64_t>(p.processed_rows_per_second), " rows/s, ",
                p.duration_ms, " ms, ", p.num_output_rows, " output rows",
                p.sink_skipped ? " (already committed: skipped)" : "",
                p.sources.empty()
                    ? std::string()
                    : StrCat(", offset ", p.sources[0].end_offset));
}

} // namespace

void StreamCommands::Define(CLI::App &app,
                            const std::function<void(CLI::App &)> &add_flags) {
  stream_ = app.add_subcommand(
      "stream", "Run streams defined by CREATE STREAM: start, status, stop");
  stream_->require_subcommand(1);
  stream_->footer(Example(
      "lake sql \"CREATE STREAM s AS INSERT INTO bronze SELECT * FROM STREAM "
      "read_files('landing/', format => 'json')\" && lake stream start s"));
  add_flags(*stream_);

  start_ = stream_->add_subcommand(
      "start",
      "Run a stream here; Ctrl-C or SIGTERM stop it after the batch in flight");
  start_->add_option("name", name_, "The stream (SHOW STREAMS lists them)")
      ->required();
  start_
      ->add_option(
          "--trigger", trigger_,
          "availableNow, once, or 'processingTime 5 seconds' (default: the "
          "stream's trigger option, else availableNow)")
      ->option_text("TRIGGER");
  start_->footer(
      Example("lake stream start s --trigger 'processingTime 5 seconds'"));
  add_flags(*start_);

  status_ = stream_->add_subcommand(
      "status", "Show a stream's last batches from its checkpoint");
  status_->add_option("name", name_, "The stream")->required();
  status_
      ->add_option("--last", last_,
                   "Show the last N batches (default 10, 0 for all)")
      ->option_text("N");
  status_->footer(Example("lake stream status s --format json"));
  add_flags(*status_);

  stop_ = stream_->add_subcommand(
      "stop",
      "Stop a running stream (SIGTERM; it finishes its batch) and wait for it");
  stop_->add_option("name", name_, "The stream")->required();
  stop_
      ->add_option("--timeout", timeout_s_,
                   "Seconds to wait for it to exit (default 120)")
      ->option_text("SECONDS");
  stop_->footer(Example("lake stream stop s"));
  add_flags(*stop_);
}

bool StreamCommands::parsed() const {
  return stream_ != nullptr && stream_->parsed();
}

Status StreamCommands::Run(sql::Lakehouse &house,
                           const OutputSettings &settings, std::ostream &out,
                           std::ostream &err) {
  Status status = start_->parsed()    ? Start(house, settings, out)
                  : status_->parsed() ? ShowStatus(house, settings, out)
                                      : Stop(house, out);
  if (!status.ok())
    ReportError(status, settings.format, out, err);
  out.flush();
  return status;
}

Status StreamCommands::Start(sql::Lakehouse &house,
                             const OutputSettings &settings,
                             std::ostream &out) {
  streaming::StreamStore store(house.home());
  LAKE_ASSIGN_OR_RETURN(streaming::StreamDefinition definition,
                        store.Get(name_));
  streaming::QueryOptions options;
  const bool override_trigger = !trigger_.empty();
  if (override_trigger) {
    LAKE_ASSIGN_OR_RETURN(options.trigger, streaming::Trigger::Parse(trigger_));
  }
  streaming::StopToken stop;
  options.stop = &stop;
  const bool json = IsJsonFormat(settings.format);
  options.on_batch = [&](const streaming::BatchProgress &p) -> Status {
    if (json) {
      out << nlohmann::json::parse(streaming::SerializeProgress(p)).dump()
          << "\n";
    } else {
      out << ProgressLine(p) << "\n";
    }
    out.flush();
    return Status::OK();
  };
  LAKE_RETURN_IF_ERROR(ClaimPidfile(store, name_));
  Result<streaming::RunResult> run = [&]() -> Result<streaming::RunResult> {
    streaming::StopOnSignals signals(stop);
    LAKE_ASSIGN_OR_RETURN(
        std::unique_ptr<streaming::StreamingQuery> query,
        streaming::OpenStream(house, definition, options, override_trigger));
    return query->Run();
  }();
  ::unlink(store.pidfile(name_).c_str());
  if (!run.ok())
    return run.status().WithContext(StrCat("stream ", name_));
  if (!json) {
    out << "stream " << name_ << ": " << run->batches.size() << " batch(es)"
        << (run->stopped_by_request ? ", stopped on request" : "") << "\n";
  }
  return Status::OK();
}

Status StreamCommands::ShowStatus(sql::Lakehouse &house,
                                  const OutputSettings &settings,
                                  std::ostream &out) {
  streaming::StreamStore store(house.home());
  LAKE_RETURN_IF_ERROR(store.Get(name_).status());
  std::vector<streaming::BatchProgress> progress;
  if (std::filesystem::exists(store.checkpoint(name_) + "/metadata")) {
    LAKE_ASSIGN_OR_RETURN(std::unique_ptr<streaming::Checkpoint> checkpoint,
                          streaming::Checkpoint::Open(store.checkpoint(name_)));
    LAKE_ASSIGN_OR_RETURN(progress, checkpoint->ReadProgress());
  }
  if (last_ > 0 && progress.size() > static_cast<size_t>(last_)) {
    progress.erase(progress.begin(), progress.end() - last_);
  }
  if (!IsJsonFormat(settings.format)) {
    std::optional<int> pid = store.RunningPid(name_);
    out << "stream " << name_ << ": "
        << (pid ? StrCat("running (pid ", *pid, ")") : std::string("stopped"))
        << "\n";
  }
  using Kind = engine::ColumnType::Kind;
  auto column = [](std::string name, Kind kind) {
    engine::ColumnType type;
    type.kind = kind;
    type.name = kind == Kind::kBigInt    ? "BIGINT"
                : kind == Kind::kBoolean ? "BOOLEAN"
                                         : "VARCHAR";
    return engine::ResultColumn{std::move(name), std::move(type)};
  };
  engine::ResultTable table;
  table.columns = {column("batch_id", Kind::kBigInt),
                   column("timestamp_ms", Kind::kBigInt),
                   column("input_rows", Kind::kBigInt),
                   column("rows_per_second", Kind::kBigInt),
                   column("duration_ms", Kind::kBigInt),
                   column("output_rows", Kind::kBigInt),
                   column("skipped", Kind::kBoolean),
                   column("start_offset", Kind::kVarchar),
                   column("end_offset", Kind::kVarchar)};
  for (const streaming::BatchProgress &p : progress) {
    engine::Value start, end;
    if (!p.sources.empty()) {
      if (p.sources[0].start_offset)
        start = Text(*p.sources[0].start_offset);
      end = Text(p.sources[0].end_offset);
    }
    table.rows.push_back(
        {Int(p.batch_id), Int(p.timestamp_ms), Int(p.num_input_rows),
         Int(static_cast<int64_t>(p.processed_rows_per_second)),
         Int(p.duration_ms), Int(p.num_output_rows),
         engine::Value{p.sink_skipped}, start, end});
  }
  return Print(table, settings, out);
}

Status StreamCommands::Stop(sql::Lakehouse &house, std::ostream &out) {
  streaming::StreamStore store(house.home());
  LAKE_RETURN_IF_ERROR(store.Get(name_).status());
  std::optional<int> pid = store.RunningPid(name_);
  if (!pid) {
    return Status::FailedPrecondition(
               StrCat("stream ", name_, " is not running"))
        .WithHint(StrCat("lake stream start ", name_, " runs it"));
  }
  if (::kill(*pid, SIGTERM) != 0) {
    return Status::IOError(StrCat("cannot signal stream ", name_, " (pid ",
                                  *pid, "): ", strerror(errno)));
  }
  // The stream finishes its batch, then removes its pidfile and exits.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s_);
  while (store.RunningPid(name_)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Unavailable(StrCat("stream ", name_, " (pid ", *pid,
                                        ") did not stop within ", timeout_s_,
                                        " s"))
          .WithHint("its batch may still be running; check lake stream status");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  out << "stream " << name_ << ": stopped (pid " << *pid << ")\n";
  return Status::OK();
}

std::optional<Status> RunStreamStatement(sql::Lakehouse &house,
                                         std::string_view sql,
                                         const OutputSettings &settings,
                                         std::ostream &out, std::ostream &err) {
  Result<std::optional<engine::ResultTable>> result =
      streaming::ExecuteStreamStatement(house, sql);
  if (result.ok() && !*result)
    return std::nullopt;
  Status status =
      result.ok() ? Print(**result, settings, out) : result.status();
  if (!status.ok())
    ReportError(status, settings.format, out, err);
  out.flush();
  return status;
}

} // namespace lake::cli
