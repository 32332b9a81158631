// Engine: all the protocol core needs from outside. engine/ implements it on DuckDB; tests
// use in-memory fakes. Implementations are thread-safe.
#pragma once

#include <string_view>

#include "base/status.h"
#include "delta/actions.h"
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
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual storage::ObjectStore& store() = 0;  // rooted at the table's location
  virtual CheckpointReader& checkpoint_reader() = 0;
};

// An Engine over a given store and reader (both borrowed; they must outlive it).
class SimpleEngine final : public Engine {
 public:
  SimpleEngine(storage::ObjectStore& store, CheckpointReader& reader)
      : store_(store), reader_(reader) {}
  storage::ObjectStore& store() override { return store_; }
  CheckpointReader& checkpoint_reader() override { return reader_; }

 private:
  storage::ObjectStore& store_;
  CheckpointReader& reader_;
};

// A CheckpointReader that refuses every Parquet file with kNotSupported; for tests of JSON-only
// logs and for builds without an engine.
class NoParquetCheckpointReader final : public CheckpointReader {
 public:
  Result<ActionBatch> ReadParquetActions(storage::ObjectStore& store,
                                         std::string_view key) override;
};

}  // namespace lake::delta
