// A streaming query: source -> transformation (SQL over the batch) -> sink, run as Spark's
// micro-batch loop over a checkpoint (checkpoint.h; docs/streaming.md).
//
// The loop, per batch N:
//  (1) Recovery, once at start: when offsets/N exists without commits/N, batch N is re-run
//      with exactly those offsets (start = offsets/N-1) before anything new is planned.
//  (2) Plan: end = source.LatestOffset(previous end, read limit); none -> no batch.
//  (3) Write-ahead: offsets/N (PutIfAbsent; a concurrent run of the query fails here).
//  (4) Run: the source fills the temporary table `batch_table` with (start, end]; the sink
//      writes the transformation's rows (a query over that table) for batch N.
//  (5) commits/N, then source.Commit, then progress/N.
// A failure anywhere leaves the checkpoint at the last batch with commits/N; the next run
// resumes with (1).
//
// Triggers (Trigger::Parse):
//   availableNow            all data present at start, in rate-limited batches, then stop
//   once                    one batch without rate limits, then stop (a pending batch from a
//                           crash is that batch, as in Spark)
//   processingTime '<int>'  a batch every interval (back to back when late) until the
//                           StopToken fires; the batch in flight finishes first
//   continuous              refused: kNotSupported
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "engine/database.h"
#include "streaming/checkpoint.h"
#include "streaming/sink.h"
#include "streaming/source.h"

namespace lake::streaming {

struct Trigger {
  enum class Kind { kProcessingTime, kOnce, kAvailableNow };
  Kind kind = Kind::kProcessingTime;
  int64_t interval_ms = 0;  // processingTime

  // Parses "availableNow", "once", "processingTime '<interval>'" (also "processingTime =
  // '10 seconds'"; units as Delta durations, e.g. '0 seconds', '1 minute'); case-insensitive.
  // "continuous ..." is kNotSupported; anything else kInvalidArgument.
  static Result<Trigger> Parse(std::string_view text);
};

// A thread-safe stop request: processingTime queries end at the next batch boundary once
// it fires.
class StopToken {
 public:
  void RequestStop();
  bool stop_requested() const;
  // Waits up to `timeout_ms` or until a stop is requested; returns stop_requested().
  bool WaitFor(int64_t timeout_ms);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

// Routes SIGINT and SIGTERM to `token` while alive: the handler writes a byte to a pipe (all
// a handler may safely do) and a watcher thread owned by the scope calls RequestStop. The
// previous handlers are restored on destruction. Not nestable; one per process at a time.
class StopOnSignals {
 public:
  explicit StopOnSignals(StopToken& token);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  StopToken& token_;
  std::thread watcher_;
};

struct QueryOptions {
  // Where the checkpoint lives (anything storage::OpenStore accepts).
  std::string checkpoint_location;
  // The name the batch's rows have in the transformation (a temporary table).
  std::string batch_table = "batch";
  // SQL over `batch_table` producing the sink's rows; empty means SELECT * FROM batch_table.
  std::string transformation;
  Trigger trigger;
  // processingTime: stops the query at the next batch boundary. May be null for the other
  // triggers (they end by themselves).
  StopToken* stop = nullptr;
  // Called after each committed batch, on the query's thread (a sync point for tests: files
  // added here arrive between two batches). An error stops the query with that error.
  std::function<Status(const BatchProgress&)> on_batch;
  // processingTime: called when a trigger found no new data.
  std::function<Status()> on_idle;
  // Test seam: called at "after_offsets", "after_sink", "after_commit" of every batch; an
  // error there stops the query as a crash at that point would (nothing more is written).
  std::function<Status(std::string_view point, BatchId batch)> fault_point;
};

struct RunResult {
  std::string query_id;
  std::vector<BatchProgress> batches;  // the batches this run executed, in order
  bool stopped_by_request = false;
};

class StreamingQuery {
 public:
  // Opens the checkpoint (creating it) and the source and sink. `db` must outlive the query.
  static Result<std::unique_ptr<StreamingQuery>> Open(engine::Database& db,
                                                      std::unique_ptr<Source> source,
                                                      std::unique_ptr<Sink> sink,
                                                      QueryOptions options);
  const std::string& query_id() const { return checkpoint_->query_id(); }
  Checkpoint& checkpoint() { return *checkpoint_; }

  // Runs the loop until the trigger says stop; returns the batches run. Errors: the first
  // failure of the source, sink or checkpoint (the message names the batch).
  Result<RunResult> Run();

 private:
  StreamingQuery(engine::Database& db, std::unique_ptr<Source> source, std::unique_ptr<Sink> sink,
                 QueryOptions options, std::unique_ptr<Checkpoint> checkpoint,
                 std::unique_ptr<engine::Session> session);
  Status Fault(std::string_view point, BatchId batch);
  // Runs batch `batch` over (start, end] (loop steps 4-5).
  Result<BatchProgress> RunBatch(BatchId batch, const std::optional<std::string>& start,
                                 const std::string& end, bool replayed);

  engine::Database& db_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<Sink> sink_;
  QueryOptions options_;
  std::unique_ptr<Checkpoint> checkpoint_;
  std::unique_ptr<engine::Session> session_;
  std::string run_id_;
};

}  // namespace lake::streaming
