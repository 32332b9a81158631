// Helpers for the transaction tests: a table in a store, commits through Transaction, and
// the protocol validator over everything written.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"
#include "delta/engine.h"
#include "delta/log_parser.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "protocol_validator.h"
#include "status_matchers.h"
#include "storage/memory_store.h"

namespace lake::delta::testing {

// Two columns: id long, p string (the partition column in partitioned tests).
inline constexpr const char* kTxnSchema =
    R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
    R"({"name":"p","type":"string","nullable":true,"metadata":{}}]})";

// An add of `path` (partition value p=<p> when given) with stats on id.
inline AddFile MakeAdd(const std::string& path, std::optional<std::string> p = std::nullopt,
                       int64_t min_id = 0, int64_t max_id = 9) {
  AddFile a;
  a.path = path;
  if (p) a.partition_values.push_back({"p", *p});
  a.size = 100;
  a.modification_time = 1000;
  a.data_change = true;
  a.stats = StrCat(R"({"numRecords":10,"minValues":{"id":)", min_id, R"(},"maxValues":{"id":)",
                   max_id, R"(},"nullCount":{"id":0}})");
  return a;
}

// A store plus an engine over it. Borrow `store` when given (a LocalStore, a FaultyStore).
class TxnTable {
 public:
  TxnTable() : engine_(memory_, reader_) {}
  explicit TxnTable(storage::ObjectStore& store) : engine_(store, reader_) {}

  Engine& engine() { return engine_; }
  storage::ObjectStore& store() { return engine_.store(); }
  storage::MemoryStore& memory() { return memory_; }

  // Creates the table at version 0 (partitioned by p when `partitioned`).
  Result<CommitResult> Create(StringMap config = {}, bool partitioned = false,
                              TransactionOptions options = {}) {
    LAKE_ASSIGN_OR_RETURN(auto txn, Transaction::BeginCreate(engine_, std::move(options)));
    Metadata m = NewTableMetadata(
        kTxnSchema, partitioned ? std::vector<std::string>{"p"} : std::vector<std::string>{},
        std::move(config), 1000);
    LAKE_RETURN_IF_ERROR(txn->UpdateMetadata(std::move(m)));
    return txn->Commit();
  }
  Result<SnapshotPtr> Load() { return LoadSnapshot(engine_); }
  Result<std::unique_ptr<Transaction>> Begin(TransactionOptions options = {}) {
    LAKE_ASSIGN_OR_RETURN(SnapshotPtr snap, LoadSnapshot(engine_));
    return Transaction::Begin(engine_, snap, std::move(options));
  }
  // One blind append of `adds`.
  Result<CommitResult> Append(std::vector<AddFile> adds) {
    LAKE_ASSIGN_OR_RETURN(auto txn, Begin());
    for (AddFile& a : adds) LAKE_RETURN_IF_ERROR(txn->StageAdd(std::move(a)));
    return txn->Commit();
  }
  // Returns the parsed actions of commit `version`.
  Result<ActionBatch> ReadCommit(Version version) {
    std::string key = StrCat("_delta_log/", ZeroPad(version, 20), ".json");
    LAKE_ASSIGN_OR_RETURN(std::string text, store().Get(key));
    return ParseJsonActions(text, key);
  }
  Result<std::string> CommitText(Version version) {
    return store().Get(StrCat("_delta_log/", ZeroPad(version, 20), ".json"));
  }

 private:
  storage::MemoryStore memory_;
  NoParquetCheckpointReader reader_;
  SimpleEngine engine_;
};

// Every commit of the table passes the protocol validator.
#define EXPECT_VALID_LOG(store) \
  EXPECT_THAT(::lake::delta::testing::ValidateTableLog(store), ::testing::IsEmpty())

// Sorted paths of a snapshot's live files.
inline std::vector<std::string> LivePaths(const Snapshot& s) {
  std::vector<std::string> out;
  for (const AddFile& f : s.files()) out.push_back(f.path);
  std::sort(out.begin(), out.end());
  return out;
}

// A clock for tests: returns `now`, then advances by `step`.
struct TestClock {
  int64_t now = 1000;
  int64_t step = 0;
  std::function<int64_t()> fn() {
    return [this] {
      int64_t t = now;
      now += step;
      return t;
    };
  }
};

}  // namespace lake::delta::testing
