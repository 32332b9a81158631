// Source: where a streaming query's rows come from (Spark's SupportsAdmissionControl +
// MicroBatchStream, reduced to what lake needs). A Kafka source fits the same shape: its
// offset is {"topic":{"partition":offset}}, max_rows caps maxOffsetsPerTrigger, GetBatch
// fetches the offset range into the batch table.
//
// Contract:
//  (1) An offset is a JSON document the source alone interprets; the query stores it in
//      offsets/<N> before the batch runs (checkpoint.h) and hands it back unchanged.
//  (2) Sources are replayable: GetBatch(start, end) returns the same rows every time it is
//      called with the same offsets, including in a later process after a crash.
//  (3) LatestOffset may be called several times per batch; only the offset the query wrote
//      to offsets/<N> counts. GetBatch is called only for offsets the query wrote.
// Thread-safety: single-thread; the query calls a source from its own thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/database.h"
#include "storage/object_store.h"
#include "streaming/checkpoint.h"

namespace lake::streaming {

// Admission control for one batch (maxFilesPerTrigger, maxBytesPerTrigger,
// maxOffsetsPerTrigger). Unset: no limit. A byte limit is soft: a batch always takes at
// least one file, so one big file cannot stall the stream.
struct ReadLimit {
  std::optional<int64_t> max_files;
  std::optional<int64_t> max_bytes;
  std::optional<int64_t> max_rows;

  static ReadLimit All() { return ReadLimit{}; }
};

// What a source gets when the query opens it.
struct SourceContext {
  engine::Database* db = nullptr;              // the query's database (outlives the source)
  storage::ObjectStore* checkpoint = nullptr;  // the checkpoint folder's store
  std::string state_prefix;                    // "sources/<i>/": the source's own folder in it
  std::string query_id;
};

class Source {
 public:
  virtual ~Source() = default;

  // Returns a short name for progress and messages ("DeltaSource[/data/t]").
  virtual std::string description() const = 0;
  // Called once before any other call.
  virtual Status Open(const SourceContext& context) = 0;
  // The limit batches use unless the trigger lifts it (Trigger once reads everything).
  virtual ReadLimit DefaultReadLimit() const = 0;
  // Fixes the data an availableNow run may read to what is there now: later LatestOffset
  // calls never go past it, so the run ends even while new data keeps arriving.
  virtual Status PrepareForAvailableNow() = 0;
  // Returns the end offset of the next batch after `start` (nullopt: the source's initial
  // position) within `limit`, or nullopt when there is no new data. `batch` is the id the
  // batch will get if the query writes the offset.
  virtual Result<std::optional<std::string>> LatestOffset(const std::optional<std::string>& start,
                                                          const ReadLimit& limit,
                                                          BatchId batch) = 0;
  // Creates (or replaces) the temporary table `table` in `session` holding the rows of
  // (start, end] (contract 2); returns how many rows it holds.
  virtual Result<int64_t> GetBatch(engine::Session& session,
                                   const std::optional<std::string>& start, const std::string& end,
                                   BatchId batch, std::string_view table) = 0;
  // Called once commits/<batch> is durable: the source may forget what it kept for
  // batches up to `batch`.
  virtual Status Commit(BatchId batch, const std::string& end) { return Status::OK(); }
};

}  // namespace lake::streaming
