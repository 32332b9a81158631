// Engine: all the protocol core needs from outside. engine/ implements it on DuckDB; tests
// use in-memory fakes. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/schema.h"
#include "storage/object_store.h"

namespace lake::delta {

// Reads Parquet log files (checkpoint parts, V2 checkpoints, sidecars) into actions.
class CheckpointReader {
 public:
  virtual ~CheckpointReader() = default;
  // Reads every action in the Parquet file `key` of `store` (PROTOCOL.md "Checkpoint
  // Schema": one row per action, one struct column per action type, missing column = null).
  // `add.stats` is the JSON string when present, else `add.stats_parsed` rendered as JSON.
  // kNotFound if missing, kCorruption if not a readable checkpoint (message names the file).
  virtual Result<ActionBatch> ReadParquetActions(storage::ObjectStore& store,
                                                 std::string_view key) = 0;

  // Reads the same actions in pieces (a few thousand rows each, in file order), calling
  // `consume(piece, actions)` once per piece with pieces numbered from 0; calls may come from
  // several threads at once, so a big checkpoint is decoded and replayed in parallel. Stops
  // at the first error, of the read or of `consume`. The default reads the whole file with
  // ReadParquetActions as piece 0.
  virtual Status ForEachParquetActionPiece(
      storage::ObjectStore& store, std::string_view key,
      const std::function<Status(uint32_t piece, ActionBatch&& actions)>& consume) {
    LAKE_ASSIGN_OR_RETURN(ActionBatch batch, ReadParquetActions(store, key));
    return consume(0, std::move(batch));
  }
};

// The actions of one Parquet checkpoint file, borrowed from a snapshot (they must outlive the
// write). One row per action; which rows a part holds is delta/checkpoint.cc's business.
struct CheckpointActions {
  const Protocol* protocol = nullptr;  // null: no protocol row in this file
  const Metadata* metadata = nullptr;  // null: no metaData row in this file
  // V2 spec only (PROTOCOL.md "V2 Spec"); null for V1 checkpoints, and no column is written.
  const CheckpointMetadata* checkpoint_metadata = nullptr;
  std::vector<const Txn*> txns;
  std::vector<const DomainMetadata*> domain_metadata;
  std::vector<const AddFile*> adds;
  std::vector<const RemoveFile*> removes;

  // Returns the number of rows the file will have.
  int64_t size() const {
    return (protocol ? 1 : 0) + (metadata ? 1 : 0) + (checkpoint_metadata ? 1 : 0) +
           static_cast<int64_t>(txns.size() + domain_metadata.size() + adds.size() +
                                removes.size());
  }
};

// The optional columns of `add` in a checkpoint (PROTOCOL.md "Checkpoint Schema").
struct CheckpointLayout {
  bool write_stats_as_json = true;  // add.stats (delta.checkpoint.writeStatsAsJson)
  // add.stats_parsed typed by `stats_schema` (delta.checkpoint.writeStatsAsStruct); not
  // written when `stats_schema` has no fields.
  bool write_stats_as_struct = false;
  // struct<numRecords, minValues, maxValues, nullCount[, tightBounds]> with physical column
  // names: add.stats JSON parsed into it, fields that do not parse are null.
  Schema stats_schema;
  // One field per partition column (physical name, table type): add.partitionValues parsed
  // into add.partitionValues_parsed when write_stats_as_struct; no column when empty.
  Schema partition_values_schema;
};

// Writes Parquet checkpoint files.
class CheckpointWriter {
 public:
  virtual ~CheckpointWriter() = default;
  // Writes `actions` as one Parquet file at `key` of `store` with the columns Spark writes,
  // all nullable, in this order: txn, add, remove, metaData, protocol, domainMetadata
  // [, checkpointMetadata]; remove without tags and stats (PROTOCOL.md "Checkpoint Schema").
  // Atomic like ObjectStore::Put: readers see no file or the whole file at `key`, never a
  // part of it; after an error `key` holds what it held before (a temp file may be left
  // under a name readers ignore). Returns the file's size in bytes.
  virtual Result<int64_t> WriteParquetActions(storage::ObjectStore& store, std::string_view key,
                                              const CheckpointActions& actions,
                                              const CheckpointLayout& layout) = 0;
};

// A CheckpointWriter that refuses with kNotSupported; the default of engines without Parquet.
class NoParquetCheckpointWriter final : public CheckpointWriter {
 public:
  Result<int64_t> WriteParquetActions(storage::ObjectStore& store, std::string_view key,
                                      const CheckpointActions& actions,
                                      const CheckpointLayout& layout) override;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual storage::ObjectStore& store() = 0;  // rooted at the table's location
  virtual CheckpointReader& checkpoint_reader() = 0;
  // Returns the writer of Parquet checkpoints. The default refuses every write
  // (NoParquetCheckpointWriter), so engines that only read need not provide one.
  virtual CheckpointWriter& checkpoint_writer();
};

// An Engine over a given store, reader and writer (all borrowed; they must outlive it).
// A null `writer` refuses checkpoint writes (NoParquetCheckpointWriter).
class SimpleEngine final : public Engine {
 public:
  SimpleEngine(storage::ObjectStore& store, CheckpointReader& reader,
               CheckpointWriter* writer = nullptr)
      : store_(store), reader_(reader), writer_(writer) {}
  storage::ObjectStore& store() override { return store_; }
  CheckpointReader& checkpoint_reader() override { return reader_; }
  CheckpointWriter& checkpoint_writer() override {
    return writer_ ? *writer_ : Engine::checkpoint_writer();
  }

 private:
  storage::ObjectStore& store_;
  CheckpointReader& reader_;
  CheckpointWriter* writer_;
};

// A CheckpointReader that refuses every Parquet file with kNotSupported; for tests of JSON-only
// logs and for builds without an engine.
class NoParquetCheckpointReader final : public CheckpointReader {
 public:
  Result<ActionBatch> ReadParquetActions(storage::ObjectStore& store,
                                         std::string_view key) override;
};

}  // namespace lake::delta
