// Helpers for the log tests (parser, listing, replay): hand-written commits in a MemoryStore.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strings.h"
#include "delta/engine.h"
#include "storage/memory_store.h"

#include "status_matchers.h"

namespace lake::delta::testing {

inline constexpr const char* kSchemaJson =
    R"({\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]})";

inline std::string ProtocolLine(int reader = 1, int writer = 2,
                                std::optional<std::vector<std::string>> reader_features = {}) {
  std::string line =
      StrCat(R"({"protocol":{"minReaderVersion":)", reader, R"(,"minWriterVersion":)", writer);
  if (reader_features) {
    std::vector<std::string> quoted;
    for (const auto& f : *reader_features) quoted.push_back("\"" + f + "\"");
    line += StrCat(R"(,"readerFeatures":[)", StrJoin(quoted, ","), R"(],"writerFeatures":[)",
                   StrJoin(quoted, ","), "]");
  }
  return line + "}}";
}

inline std::string MetadataLine(const std::map<std::string, std::string>& config = {},
                                const std::string& id = "table-id") {
  std::vector<std::string> entries;
  for (const auto& [k, v] : config) entries.push_back(StrCat("\"", k, "\":\"", v, "\""));
  return StrCat(R"({"metaData":{"id":")", id,
                R"(","format":{"provider":"parquet","options":{}},"schemaString":")", kSchemaJson,
                R"(","partitionColumns":[],"configuration":{)", StrJoin(entries, ","),
                R"(},"createdTime":1000}})");
}

inline std::string DvJson(const std::string& uuid_path, int offset = 1) {
  return StrCat(R"({"storageType":"u","pathOrInlineDv":")", uuid_path, R"(","offset":)", offset,
                R"(,"sizeInBytes":36,"cardinality":2})");
}

inline std::string AddLine(const std::string& path, int64_t size = 100,
                           const std::string& dv_json = "") {
  std::string line = StrCat(R"({"add":{"path":")", path, R"(","partitionValues":{},"size":)", size,
                            R"(,"modificationTime":1,"dataChange":true)");
  if (!dv_json.empty()) line += StrCat(R"(,"deletionVector":)", dv_json);
  return line + "}}";
}

inline std::string RemoveLine(const std::string& path, const std::string& dv_json = "") {
  std::string line =
      StrCat(R"({"remove":{"path":")", path, R"(","deletionTimestamp":5,"dataChange":true)");
  if (!dv_json.empty()) line += StrCat(R"(,"deletionVector":)", dv_json);
  return line + "}}";
}

inline std::string CommitInfoLine(const std::string& operation,
                                  std::optional<int64_t> ict = std::nullopt) {
  std::string line = StrCat(R"({"commitInfo":{"timestamp":1,"operation":")", operation,
                            R"(","operationParameters":{"mode":"Append"})");
  if (ict) line += StrCat(R"(,"inCommitTimestamp":)", *ict);
  return line + "}}";
}

inline std::string LogKey(int64_t version, const std::string& suffix = ".json") {
  return StrCat("_delta_log/", ZeroPad(version, 20), suffix);
}

// Returns the paths of `files` sorted.
template <typename Files>
std::vector<std::string> SortedPaths(const Files& files) {
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Serves preset ActionBatches for Parquet keys (a stand-in for the DuckDB reader), counting
// reads so tests can check what was (not) read.
class FakeCheckpointReader final : public CheckpointReader {
 public:
  Result<ActionBatch> ReadParquetActions(storage::ObjectStore& store,
                                         std::string_view key) override {
    ++reads;
    auto it = batches.find(std::string(key));
    if (it == batches.end()) return Status::NotFound(StrCat("fake reader: no batch for ", key));
    return it->second;
  }
  std::map<std::string, ActionBatch> batches;
  int reads = 0;
};

// A table in memory: write commits line by line, load it through a SimpleEngine.
class TestTable {
 public:
  TestTable() : engine_(store_, reader_) {}

  void Commit(int64_t version, const std::vector<std::string>& lines,
              std::optional<int64_t> mtime_ms = std::nullopt) {
    std::string key = LogKey(version);
    ASSERT_OK(store_.PutIfAbsent(key, StrJoin(lines, "\n") + "\n"));
    if (mtime_ms) ASSERT_OK(store_.SetMtime(key, *mtime_ms));
  }
  void Put(const std::string& key, const std::string& data) { ASSERT_OK(store_.Put(key, data)); }
  // Registers a fake Parquet file: an empty object in the store, `batch` from the reader.
  void PutParquet(const std::string& key, ActionBatch batch) {
    ASSERT_OK(store_.Put(key, std::string("PAR1")));
    reader_.batches[key] = std::move(batch);
  }

  storage::MemoryStore& store() { return store_; }
  FakeCheckpointReader& reader() { return reader_; }
  Engine& engine() { return engine_; }

 private:
  storage::MemoryStore store_;
  FakeCheckpointReader reader_;
  SimpleEngine engine_;
};

}  // namespace lake::delta::testing
