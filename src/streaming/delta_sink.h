// The Delta sink: each batch is one Delta commit carrying the batch's data files and a txn
// action {appId: query id, version: batch id} (PROTOCOL.md "Transaction Identifiers"; Spark's
// DeltaSink). Exactly once: before writing, the sink reads the table's txn version for the
// query id and skips a batch it already committed -- the re-run of a batch after a crash
// between the Delta commit and commits/<N> writes nothing. Because the data and the txn are
// one atomic commit, the table never holds a batch's rows without its txn or the reverse.
//
// Output modes:
//   append    the batch's rows are added (a blind append plus the app id read).
//   complete  the table is replaced by the batch's rows: every live file removed and the new
//             ones added in the same commit (Spark's complete mode). lake keeps no
//             aggregation state yet, so the transformation computes the whole result itself.
// The first batch creates the table when the location holds none (schema from the rows).
// Thread-safety: single-thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "delta/engine.h"
#include "delta/snapshot.h"
#include "streaming/sink.h"

namespace lake::streaming {

enum class OutputMode { kAppend, kComplete };

// Parses "append" / "complete" (case-insensitive); "update" is kNotSupported for the Delta
// sink (as in Spark: upserts go through a MERGE per batch).
Result<OutputMode> ParseOutputMode(std::string_view text);

struct DeltaSinkOptions {
  std::string path;  // the table's location (a local folder or file:// URI)
  OutputMode mode = OutputMode::kAppend;
  // Columns the rows bring that the table lacks are added (mergeSchema); without it such a
  // batch fails naming them.
  bool merge_schema = false;
  // Partition columns when the sink creates the table.
  std::vector<std::string> partition_columns;
};

class DeltaSink : public Sink {
 public:
  explicit DeltaSink(DeltaSinkOptions options);
  std::string description() const override;
  Status Open(const SinkContext& context) override;
  Result<SinkResult> AddBatch(engine::Session& session, std::string_view query,
                              BatchId batch) override;

 private:
  DeltaSinkOptions options_;
  SinkContext context_;
  std::unique_ptr<delta::Engine> engine_;
  delta::SnapshotPtr last_snapshot_;  // the table after the last batch, for a cheap refresh
};

}  // namespace lake::streaming
