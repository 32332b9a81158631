// The MERGE sink (Spark's foreachBatch upsert, for silver tables): each batch
// runs a user MERGE statement whose source is the batch's rows, exposed as the
// temporary table `source_name`. Exactly once as the Delta sink (delta_sink.h):
// the MERGE's own commit carries a txn action {appId: query id, version: batch
// id} (PROTOCOL.md "Transaction Identifiers"), set through the lake.txnAppId /
// lake.txnVersion settings, which the engine's MERGE honours: the rewrite and
// the txn are one atomic commit, and a MERGE planned against a table whose txn
// for the app is already >= the batch writes nothing. The sink also reads the
// txn before running, so a batch replayed after a crash between the commit and
// commits/<N> is reported as skipped and the MERGE is not run at all -- a MERGE
// that increments a counter would otherwise count the batch twice.
//
// A MERGE that changes nothing commits nothing, so it leaves no txn either: its
// replay runs the MERGE again, which again changes nothing (the table holds
// what it did before). The target must exist (MERGE cannot create a table);
// `target_path` is its location, read for the txn check, and must be the table
// the statement merges into. Thread-safety: single-thread.
#pragma once

#include <memory>
#include <string>

#include "delta/engine.h"
#include "streaming/sink.h"

namespace lake::streaming {

struct MergeSinkOptions {
  std::string
      target_path; // the MERGE target's location (local folder or file:// URI)
  // The MERGE statement, e.g. "MERGE INTO silver t USING updates s ON t.k = s.k
  // WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *". Must be a
  // single MERGE statement.
  std::string merge_sql;
  std::string source_name =
      "updates"; // the temporary table holding the batch's rows
};

class MergeSink : public Sink {
public:
  explicit MergeSink(MergeSinkOptions options);
  std::string description() const override;
  // kInvalidArgument when merge_sql is not a MERGE or the target path is empty.
  Status Open(const SinkContext &context) override;
  // num_output_rows: the MERGE's affected rows (inserted + updated + deleted).
  Result<SinkResult> AddBatch(engine::Session &session, std::string_view query,
                              BatchId batch) override;

private:
  MergeSinkOptions options_;
  SinkContext context_;
  std::unique_ptr<delta::Engine> engine_;
};

} // namespace lake::streaming
