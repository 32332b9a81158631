#include "streaming/query.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "base/uuid.h"
#include "delta/checkpoint.h"

namespace lake::streaming {
namespace {

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

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Spark's pollingDelay: how long a processingTime '0 seconds' query waits after a trigger
// found no data, so an idle stream does not spin on the source.
constexpr int64_t kIdlePollMs = 10;

}  // namespace

Result<Trigger> Trigger::Parse(std::string_view text) {
  const std::string lower = ToLower(Trim(text));
  Trigger trigger;
  if (lower == "availablenow" || lower == "available now") {
    trigger.kind = Kind::kAvailableNow;
    return trigger;
  }
  if (lower == "once") {
    trigger.kind = Kind::kOnce;
    return trigger;
  }
  if (StartsWith(lower, "continuous")) {
    return Status::NotSupported(
               StrCat("trigger '", Trim(text), "': continuous processing is not supported by lake"))
        .WithHint("use processingTime '0 seconds' for low latency (micro-batches back to back)");
  }
  constexpr std::string_view kProcessingTime = "processingtime";
  if (StartsWith(lower, kProcessingTime)) {
    std::string_view rest = Trim(std::string_view(text).substr(kProcessingTime.size()));
    if (!rest.empty() && rest.front() == '=') rest = Trim(rest.substr(1));
    if (rest.size() >= 2 && (rest.front() == '\'' || rest.front() == '"') &&
        rest.back() == rest.front()) {
      rest = rest.substr(1, rest.size() - 2);
    }
    Result<int64_t> ms = delta::ParseDurationMs(rest);
    if (!ms.ok()) {
      return Status::InvalidArgument(StrCat("trigger '", Trim(text), "': ", ms.status().message()))
          .WithHint("write e.g. processingTime '10 seconds'");
    }
    trigger.kind = Kind::kProcessingTime;
    trigger.interval_ms = *ms;
    return trigger;
  }
  return Status::InvalidArgument(StrCat("unknown trigger '", Trim(text), "'"))
      .WithHint("use availableNow, once, or processingTime '<interval>'");
}

// ---- StopToken, StopOnSignals ----------------------------------------------------------

void StopToken::RequestStop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

bool StopToken::stop_requested() const {
  std::lock_guard lock(mu_);
  return stop_;
}

bool StopToken::WaitFor(int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0)),
               [&] { return stop_; });
  return stop_;
}

namespace {

std::atomic<int> g_signal_pipe_write{-1};
struct sigaction g_old_int, g_old_term;

void OnStopSignal(int) {
  const int fd = g_signal_pipe_write.load();
  if (fd >= 0) {
    const char byte = 's';
    ssize_t ignored = ::write(fd, &byte, 1);
    (void)ignored;  // a full pipe already holds a stop request
  }
}

}  // namespace

StopOnSignals::StopOnSignals(StopToken& token) : token_(token) {
  int fds[2];
  if (::pipe(fds) != 0) return;  // no pipe: signals keep their default action
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  g_signal_pipe_write.store(fds[1]);
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &g_old_int);
  ::sigaction(SIGTERM, &action, &g_old_term);
  const int read_fd = fds[0];
  watcher_ = std::thread([this, read_fd] {
    for (;;) {
      char byte = 0;
      ssize_t n = ::read(read_fd, &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 'q') break;
      token_.RequestStop();
    }
    ::close(read_fd);
  });
}

StopOnSignals::~StopOnSignals() {
  const int fd = g_signal_pipe_write.load();
  if (fd < 0) return;
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  const char quit = 'q';
  while (::write(fd, &quit, 1) < 0 && errno == EINTR) {
  }
  if (watcher_.joinable()) watcher_.join();
  g_signal_pipe_write.store(-1);
  ::close(fd);
}

// ---- StreamingQuery -------------------------------------------------------------------

StreamingQuery::StreamingQuery(engine::Database& db, std::unique_ptr<Source> source,
                               std::unique_ptr<Sink> sink, QueryOptions options,
                               std::unique_ptr<Checkpoint> checkpoint,
                               std::unique_ptr<engine::Session> session)
    : db_(db),
      source_(std::move(source)),
      sink_(std::move(sink)),
      options_(std::move(options)),
      checkpoint_(std::move(checkpoint)),
      session_(std::move(session)),
      run_id_(NewUuidV4()) {}

Result<std::unique_ptr<StreamingQuery>> StreamingQuery::Open(engine::Database& db,
                                                             std::unique_ptr<Source> source,
                                                             std::unique_ptr<Sink> sink,
                                                             QueryOptions options) {
  if (options.checkpoint_location.empty()) {
    return Status::InvalidArgument("a streaming query needs a checkpoint location")
        .WithHint("set checkpointLocation to a folder the query owns");
  }
  if (options.batch_table.empty()) {
    return Status::InvalidArgument("the batch table name of a streaming query is empty");
  }
  if (options.trigger.kind == Trigger::Kind::kProcessingTime && options.stop == nullptr) {
    return Status::InvalidArgument("a processingTime streaming query needs a StopToken")
        .WithHint("it runs until stopped; pass QueryOptions::stop (StopOnSignals wires Ctrl-C)");
  }
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<Checkpoint> checkpoint,
                        Checkpoint::Open(options.checkpoint_location));
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<engine::Session> session, db.Connect());
  SourceContext source_context;
  source_context.db = &db;
  source_context.checkpoint = &checkpoint->store();
  source_context.state_prefix = Checkpoint::SourcePrefix(0);
  source_context.query_id = checkpoint->query_id();
  LAKE_RETURN_IF_ERROR(source->Open(source_context));
  SinkContext sink_context;
  sink_context.db = &db;
  sink_context.query_id = checkpoint->query_id();
  LAKE_RETURN_IF_ERROR(sink->Open(sink_context));
  return std::unique_ptr<StreamingQuery>(
      new StreamingQuery(db, std::move(source), std::move(sink), std::move(options),
                         std::move(checkpoint), std::move(session)));
}

Status StreamingQuery::Fault(std::string_view point, BatchId batch) {
  return options_.fault_point ? options_.fault_point(point, batch) : Status::OK();
}

namespace {

// Returns the single source offset of offsets/<batch>; this query has one source.
Result<std::string> SingleOffset(const OffsetSeq& seq, const Checkpoint& checkpoint,
                                 BatchId batch) {
  if (seq.offsets.size() != 1) {
    return Status::FailedPrecondition(StrCat("streaming checkpoint ", checkpoint.location(),
                                             ": offsets/", batch, " has ", seq.offsets.size(),
                                             " source offsets, this query has 1 source"))
        .WithHint("the checkpoint belongs to a different query; use a new checkpoint location");
  }
  if (!seq.offsets[0]) {
    return Status::Corruption(StrCat("streaming checkpoint ", checkpoint.location(), ": offsets/",
                                     batch, " has no offset for its source"));
  }
  return *seq.offsets[0];
}

}  // namespace

Result<BatchProgress> StreamingQuery::RunBatch(BatchId batch,
                                               const std::optional<std::string>& start,
                                               const std::string& end, bool replayed) {
  BatchProgress progress;
  progress.query_id = checkpoint_->query_id();
  progress.run_id = run_id_;
  progress.batch_id = batch;
  progress.timestamp_ms = NowMs();
  progress.replayed = replayed;
  const int64_t started = SteadyMs();
  const std::string& table = options_.batch_table;
  // The batch table must not outlive the batch: the next batch's source creates its own.
  ScopeGuard drop([&] {
    session_->Query(StrCat("DROP TABLE IF EXISTS ", SqlIdent(table))).status().IgnoreError();
  });
  LAKE_ASSIGN_OR_RETURN(int64_t rows, source_->GetBatch(*session_, start, end, batch, table));
  const std::string query = options_.transformation.empty()
                                ? StrCat("SELECT * FROM ", SqlIdent(table))
                                : options_.transformation;
  LAKE_ASSIGN_OR_RETURN(SinkResult written, sink_->AddBatch(*session_, query, batch));
  LAKE_RETURN_IF_ERROR(Fault("after_sink", batch));
  LAKE_RETURN_IF_ERROR(checkpoint_->WriteCommit(batch, CommitMetadata{}));
  LAKE_RETURN_IF_ERROR(Fault("after_commit", batch));
  LAKE_RETURN_IF_ERROR(source_->Commit(batch, end));

  progress.num_input_rows = rows;
  progress.duration_ms = SteadyMs() - started;
  progress.processed_rows_per_second =
      progress.duration_ms > 0 ? rows * 1000.0 / static_cast<double>(progress.duration_ms)
                               : static_cast<double>(rows);
  progress.sources.push_back(SourceProgress{source_->description(), start, end, rows});
  progress.sink_description = sink_->description();
  progress.num_output_rows = written.num_output_rows;
  progress.sink_skipped = written.skipped;
  // Progress is a record, not part of the protocol: it is written after commits/N, so a
  // crash in between loses this one record and nothing else (docs/streaming.md).
  LAKE_RETURN_IF_ERROR(checkpoint_->WriteProgress(progress));
  return progress;
}

Result<RunResult> StreamingQuery::Run() {
  RunResult result;
  result.query_id = checkpoint_->query_id();
  const Trigger& trigger = options_.trigger;
  auto context = [&](BatchId batch) {
    return StrCat("streaming query ", result.query_id, " (checkpoint ", checkpoint_->location(),
                  "), batch ", batch);
  };
  auto after_batch = [&](BatchProgress progress) -> Status {
    result.batches.push_back(std::move(progress));
    return options_.on_batch ? options_.on_batch(result.batches.back()) : Status::OK();
  };

  // (1) Recovery: a batch whose offsets were written but never committed runs again with
  // the same offsets, before anything new is planned.
  std::optional<std::string> previous_end;
  BatchId next_batch = 0;
  LAKE_ASSIGN_OR_RETURN(std::optional<BatchId> latest, checkpoint_->LatestOffsetsBatch());
  if (latest) {
    LAKE_ASSIGN_OR_RETURN(OffsetSeq seq, checkpoint_->ReadOffsets(*latest));
    LAKE_ASSIGN_OR_RETURN(std::string end, SingleOffset(seq, *checkpoint_, *latest));
    LAKE_ASSIGN_OR_RETURN(bool committed, checkpoint_->HasCommit(*latest));
    if (!committed) {
      std::optional<std::string> start;
      if (*latest > 0) {
        LAKE_ASSIGN_OR_RETURN(OffsetSeq before, checkpoint_->ReadOffsets(*latest - 1));
        LAKE_ASSIGN_OR_RETURN(start, SingleOffset(before, *checkpoint_, *latest - 1));
      }
      Result<BatchProgress> replay = RunBatch(*latest, start, end, /*replayed=*/true);
      if (!replay.ok()) return replay.status().WithContext(context(*latest));
      LAKE_RETURN_IF_ERROR(after_batch(std::move(*replay)));
      // Trigger.Once runs exactly one batch: the pending one (Spark's behaviour).
      if (trigger.kind == Trigger::Kind::kOnce) return result;
    }
    previous_end = std::move(end);
    next_batch = *latest + 1;
  }

  if (trigger.kind == Trigger::Kind::kAvailableNow) {
    LAKE_RETURN_IF_ERROR(source_->PrepareForAvailableNow());
  }
  const ReadLimit limit =
      trigger.kind == Trigger::Kind::kOnce ? ReadLimit::All() : source_->DefaultReadLimit();
  for (;;) {
    if (options_.stop && options_.stop->stop_requested()) {
      result.stopped_by_request = true;
      break;
    }
    const int64_t trigger_started = SteadyMs();
    // (2) Plan.
    Result<std::optional<std::string>> end = source_->LatestOffset(previous_end, limit, next_batch);
    if (!end.ok()) return end.status().WithContext(context(next_batch));
    const bool has_data = end->has_value() && **end != previous_end;
    if (has_data) {
      // (3) Write-ahead.
      OffsetSeq seq;
      seq.batch_timestamp_ms = NowMs();
      seq.offsets.push_back(**end);
      Status wrote = checkpoint_->WriteOffsets(next_batch, seq);
      if (!wrote.ok()) return wrote.WithContext(context(next_batch));
      Status fault = Fault("after_offsets", next_batch);
      if (!fault.ok()) return fault.WithContext(context(next_batch));
      // (4), (5)
      Result<BatchProgress> ran = RunBatch(next_batch, previous_end, **end, /*replayed=*/false);
      if (!ran.ok()) return ran.status().WithContext(context(next_batch));
      LAKE_RETURN_IF_ERROR(after_batch(std::move(*ran)));
      previous_end = **end;
      ++next_batch;
      if (trigger.kind == Trigger::Kind::kOnce) break;
    } else {
      if (trigger.kind != Trigger::Kind::kProcessingTime) break;  // all there was is done
      if (options_.on_idle) LAKE_RETURN_IF_ERROR(options_.on_idle());
    }
    if (trigger.kind == Trigger::Kind::kProcessingTime) {
      // A late batch is followed at once by the next (no catch-up burst); an idle trigger
      // waits at least the polling delay.
      int64_t wait = trigger.interval_ms - (SteadyMs() - trigger_started);
      if (!has_data) wait = std::max(wait, kIdlePollMs);
      if (wait > 0 && options_.stop->WaitFor(wait)) {
        result.stopped_by_request = true;
        break;
      }
    }
  }
  return result;
}

}  // namespace lake::streaming
