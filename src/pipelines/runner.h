// Runs a pipeline (pipeline.h): every dataset's flow once, in the DAG's order, on one thread.
//
// Design notes (docs/pipelines.md).
//  (1) A streaming table is a StreamingQuery (streaming/query.h) with trigger availableNow:
//      source = the landing folder (FilesSource) or the upstream dataset's Delta table
//      (DeltaSource), sink = the dataset's Delta table in append mode, checkpoint =
//      <storage>/checkpoints/<dataset>. So each run reads only what arrived since the last
//      one, exactly once (the streaming engine's guarantees).
//  (2) A materialized view is recomputed whole on every run and written as one commit that
//      replaces the table (DeltaSink complete mode), so readers see the old or the new result.
//  (3) Expectations are evaluated by the flow's sink on each batch's output rows, before the
//      write: a row passes an expectation only when its condition is TRUE (NULL fails; see
//      docs/pipelines.md). DROP ROW rows are not written; a FAIL UPDATE violation fails the
//      flow before its batch commits, naming the expectation and one violating row (JSON).
//      Counts of a batch the sink skips as already committed (a replay) are not recorded again.
//  (4) References to other datasets resolve to temporary views over their Delta tables,
//      created in the session that runs the query.
//  (5) Event log: a Delta table at <storage>/system/events, appended after each flow and at
//      the end of the run (also a failed one). A process killed mid-run loses the events of
//      the flow in flight, never a data commit.
// Thread-safety: RunPipeline is not safe to call twice at once on one pipeline: the second
// run fails on the streaming checkpoints (CONFLICT) but may have written events.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/database.h"
#include "pipelines/pipeline.h"

namespace lake::pipelines {

struct RunOptions {
  // --full-refresh: these datasets (all when `full_refresh_all`) lose their table and
  // checkpoint before the run and are rebuilt from their sources.
  bool full_refresh_all = false;
  std::vector<std::string> full_refresh;
};

struct ExpectationCounts {
  std::string name;
  Expectation::Action action = Expectation::Action::kWarn;
  int64_t passed = 0;
  int64_t failed = 0;
  int64_t dropped = 0;
};

struct FlowResult {
  std::string dataset;
  Dataset::Kind kind = Dataset::Kind::kStreamingTable;
  int64_t batches = 0;     // batches committed by this run (materialized view: 1)
  int64_t rows_in = 0;     // rows the flow read (streaming: the batches' input rows)
  int64_t rows_out = 0;    // rows written
  int64_t duration_ms = 0;
  std::vector<ExpectationCounts> expectations;  // summed over the batches, declaration order
};

struct RunSummary {
  std::string run_id;
  std::vector<FlowResult> flows;  // in run order
};

// Runs `pipeline` (see the notes). Errors: the first failing flow's, its message prefixed
// with "pipeline <name>, flow <dataset>: "; flows after it do not run. kNotSupported when
// pipeline.yml names a `target` schema (publishing to the catalog is TODO(#5)).
Result<RunSummary> RunPipeline(engine::Database& db, const Pipeline& pipeline,
                               const RunOptions& options = {});

// Returns the event log's rows in the order they were written (columns: seq, timestamp,
// run_id, event_type, level, flow, batch_id, message, details); empty when the pipeline
// never ran.
Result<engine::ResultTable> ReadEvents(engine::Database& db, const Pipeline& pipeline);

}  // namespace lake::pipelines
