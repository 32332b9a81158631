// Sink: where a streaming query's rows go, exactly once (Spark's Sink.addBatch contract).
// The query may hand a sink the same batch id more than once (a re-run after a crash between
// the sink's commit and commits/<N>, checkpoint.h note 3); the sink must recognise a batch
// it already committed and skip it. The Delta sink does it with a txn action (delta_sink.h);
// a MERGE-per-batch sink does the same with the MERGE's commit carrying the txn.
// Thread-safety: single-thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/database.h"
#include "streaming/checkpoint.h"

namespace lake::streaming {

struct SinkResult {
  bool skipped = false;                  // the batch had been committed before: nothing written
  int64_t num_output_rows = 0;           // rows written (0 when skipped)
  std::optional<int64_t> table_version;  // the version the batch's commit created
};

struct SinkContext {
  engine::Database* db = nullptr;  // the query's database (outlives the sink)
  std::string query_id;            // stable across restarts (checkpoint `metadata`)
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual std::string description() const = 0;
  // Called once before any batch.
  virtual Status Open(const SinkContext& context) = 0;
  // Writes the rows of `query` (run on `session`, where the batch table exists) as batch
  // `batch`, atomically and at most once per (query id, batch).
  virtual Result<SinkResult> AddBatch(engine::Session& session, std::string_view query,
                                      BatchId batch) = 0;
};

}  // namespace lake::streaming
