// The checkpoint folder of a streaming query, in Spark's layout (docs/streaming.md):
//   metadata             {"id":"<query id>"}: stable across restarts; the sink's txn appId
//   offsets/<N>          "v1", then {"batchWatermarkMs":..,"batchTimestampMs":..,"conf":{..}},
//                        then one JSON offset per source ("-" for a source without one)
//   commits/<N>          "v1", then {"nextBatchWatermarkMs":..}
//   progress/<N>         lake's addition: the StreamingQueryProgress-like JSON of batch N
//   sources/<i>/         per-source state (landing folder: its file index)
//   state/               stateful operators (not written yet)
//
// Protocol (Spark's MicroBatchExecution; docs/streaming.md "Recovery"):
//  (1) offsets/N is written before batch N reads anything (write-ahead): it fixes the input.
//  (2) commits/N is written after the sink has committed batch N.
//  (3) On restart, the highest offsets/N without commits/N is re-run with exactly those
//      offsets; the sink recognises a batch it already committed (delta_sink.h, txn).
// Every file here is created with PutIfAbsent, never overwritten: a second query running on
// the same checkpoint loses the race for offsets/N or commits/N and fails with kConflict.
//
// Thread-safety: a Checkpoint is single-threaded (one running query owns it).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/object_store.h"

namespace lake::streaming {

using BatchId = int64_t;

// offsets/<N>: Spark's OffsetSeq.
struct OffsetSeq {
  int64_t batch_watermark_ms = 0;
  int64_t batch_timestamp_ms = 0;
  std::map<std::string, std::string> conf;
  // One serialized offset (a JSON document) per source, in source order; nullopt is Spark's
  // "-" (a source that had no offset yet).
  std::vector<std::optional<std::string>> offsets;
};

// commits/<N>: Spark's CommitMetadata.
struct CommitMetadata {
  int64_t next_batch_watermark_ms = 0;
};

// What one source contributed to a batch.
struct SourceProgress {
  std::string description;
  std::optional<std::string> start_offset;  // JSON; nullopt: from the beginning
  std::string end_offset;                   // JSON
  int64_t num_input_rows = 0;
};

// progress/<N>: one batch, named after Spark's StreamingQueryProgress fields.
struct BatchProgress {
  std::string query_id;
  std::string run_id;
  BatchId batch_id = 0;
  int64_t timestamp_ms = 0;  // when the batch started
  int64_t num_input_rows = 0;
  int64_t duration_ms = 0;  // triggerExecution: reading the batch to writing commits/N
  double processed_rows_per_second = 0;
  std::vector<SourceProgress> sources;
  std::string sink_description;
  int64_t num_output_rows = 0;
  bool sink_skipped = false;  // the sink had committed this batch before (a replay)
  bool replayed = false;      // re-run after a restart found offsets/N without commits/N
};

// Returns the text of offsets/<N> ("v1\n{..}\n<offset>..."), Spark's format, no final newline.
std::string SerializeOffsetSeq(const OffsetSeq& seq);
// Parses offsets/<N>. kCorruption naming `file` on a bad version line or JSON; kNotSupported
// for a version other than v1.
Result<OffsetSeq> ParseOffsetSeq(std::string_view text, std::string_view file);
std::string SerializeCommitMetadata(const CommitMetadata& commit);
Result<CommitMetadata> ParseCommitMetadata(std::string_view text, std::string_view file);
std::string SerializeProgress(const BatchProgress& progress);
Result<BatchProgress> ParseProgress(std::string_view text, std::string_view file);

class Checkpoint {
 public:
  // Opens the checkpoint in `store` (owned; its root is the checkpoint folder), creating
  // `metadata` with a new query id when absent. kCorruption when `metadata` is unreadable.
  static Result<std::unique_ptr<Checkpoint>> Open(std::unique_ptr<storage::ObjectStore> store);
  // Same, for a location storage::OpenStore accepts.
  static Result<std::unique_ptr<Checkpoint>> Open(std::string_view location);

  const std::string& query_id() const { return query_id_; }
  storage::ObjectStore& store() { return *store_; }
  const std::string& location() const { return location_; }

  // Returns the highest N with offsets/N (commits/N), nullopt when there is none.
  Result<std::optional<BatchId>> LatestOffsetsBatch();
  Result<std::optional<BatchId>> LatestCommittedBatch();
  Result<OffsetSeq> ReadOffsets(BatchId batch);
  Result<bool> HasCommit(BatchId batch);

  // Creates offsets/N (commits/N, progress/N). kConflict when it exists already: another
  // query runs on this checkpoint (or ran and died after writing it, which recovery would
  // have seen first).
  Status WriteOffsets(BatchId batch, const OffsetSeq& seq);
  Status WriteCommit(BatchId batch, const CommitMetadata& commit);
  Status WriteProgress(const BatchProgress& progress);
  // Returns the recorded progress of every batch, ascending (batches whose progress write was
  // lost to a crash after commits/N are absent).
  Result<std::vector<BatchProgress>> ReadProgress();

  // Returns "sources/<i>/", the folder a source keeps its own state in.
  static std::string SourcePrefix(int source_index);

 private:
  Checkpoint(std::unique_ptr<storage::ObjectStore> store, std::string query_id);
  Result<std::optional<BatchId>> LatestIn(std::string_view folder);
  Status Create(std::string_view folder, BatchId batch, std::string_view text);

  std::unique_ptr<storage::ObjectStore> store_;
  std::string query_id_;
  std::string location_;
};

}  // namespace lake::streaming
