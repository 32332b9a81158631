// Log-level conformance: replays the tables of ../shared/conformance written by other engines
// and compares each listed version with the manifest's expectations (file counts, active
// files, sizes, tombstones, partition columns, txns, domains, errors). Only the JSON part of
// the protocol core is under test here: versions whose replay needs a Parquet checkpoint are
// left to the engine's conformance test (tests/conformance/), which reads every table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "delta/log_parser.h"
#include "delta/log_segment.h"
#include "delta/snapshot.h"
#include "log_test_util.h"
#include "storage/local_store.h"

namespace lake::delta {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string ConformanceDir() { return LAKE_CONFORMANCE_DIR; }

json LoadManifest() {
  std::ifstream in(ConformanceDir() + "/manifest.json");
  if (!in) return json();
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
}

StatusCode ExpectedCode(const std::string& category) {
  if (category == "log-versions-not-contiguous") return StatusCode::kCorruption;
  if (category == "missing-protocol-action") return StatusCode::kCorruption;
  if (category == "unsupported-reader-version") return StatusCode::kNotSupported;
  if (category == "unsupported-feature") return StatusCode::kNotSupported;
  return StatusCode::kInternal;  // an unknown category fails the comparison below
}

// What a refusal must name: each reader feature lake does not implement, and a reader
// version above 3 (from the manifest's protocol, not from lake's parsing of the log).
std::vector<std::string> NamesAnUnsupportedProtocolMustCarry(const json& protocol) {
  std::vector<std::string> names;
  if (!protocol.is_object()) return names;
  const auto& supported = SupportedReaderFeatures();
  if (protocol.contains("readerFeatures")) {
    for (const auto& f : protocol["readerFeatures"]) {
      std::string name = f.get<std::string>();
      if (std::find(supported.begin(), supported.end(), name) == supported.end()) {
        names.push_back(name);
      }
    }
  }
  int reader = protocol.value("minReaderVersion", 1);
  if (reader > 3) names.push_back(std::to_string(reader));
  return names;
}

class ConformanceLogTest : public ::testing::TestWithParam<std::string> {};

struct TableCase {
  std::string path;
  json table;
};

std::vector<std::string> TablePaths() {
  std::vector<std::string> paths;
  json manifest = LoadManifest();
  if (!manifest.is_object()) return {"<manifest.json missing>"};
  for (const auto& t : manifest["tables"]) paths.push_back(t["path"].get<std::string>());
  return paths;
}

json FindTable(const std::string& path) {
  json manifest = LoadManifest();
  for (const auto& t : manifest["tables"]) {
    if (t["path"] == path) return t;
  }
  return json();
}

// True when the segment for `version` reads a Parquet file (checkpoint or its sidecars).
bool NeedsParquet(storage::ObjectStore& store, Version version) {
  Result<LogSegment> segment = BuildLogSegment(store, "t", version);
  if (!segment.ok() || !segment->checkpoint) return false;
  for (const auto& part : segment->checkpoint->parts) {
    if (!EndsWith(part.key, ".json")) return true;
  }
  // A JSON V2 checkpoint: its sidecars are Parquet.
  for (const auto& part : segment->checkpoint->parts) {
    Result<std::string> text = store.Get(part.key);
    if (!text.ok()) return false;
    Result<ActionBatch> batch = ParseJsonActions(*text, part.key);
    if (batch.ok() && !batch->sidecars.empty()) return true;
  }
  return false;
}

TEST_P(ConformanceLogTest, MatchesManifest) {
  const std::string rel = GetParam();
  json table = FindTable(rel);
  ASSERT_TRUE(table.is_object()) << "manifest.json not found under " << ConformanceDir();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<storage::LocalStore> store,
                       storage::LocalStore::Open(ConformanceDir() + "/" + rel));
  NoParquetCheckpointReader reader;
  SimpleEngine engine(*store, reader);
  const json& expect = table["expect"];
  const bool table_error = expect["outcome"] == "error";
  StatusCode table_error_code = StatusCode::kOk;
  std::vector<std::string> must_name;
  if (table_error) {
    table_error_code = ExpectedCode(expect["error"]["category"].get<std::string>());
    must_name = NamesAnUnsupportedProtocolMustCarry(table["protocol"]);
    if (!NeedsParquet(*store, table["latest_version"].get<Version>())) {
      Result<SnapshotPtr> latest = LoadSnapshot(engine);
      ASSERT_FALSE(latest.ok()) << rel << " should fail: " << expect["error"].dump();
      EXPECT_EQ(latest.status().code(), table_error_code) << latest.status();
      for (const std::string& name : must_name) {
        EXPECT_THAT(latest.status().message(), HasSubstr(name)) << rel;
      }
    }
  }

  int checked = 0;
  for (const json& v : expect["versions"]) {
    const Version version = v["version"].get<Version>();
    SCOPED_TRACE(StrCat(rel, " version ", version));
    if (NeedsParquet(*store, version)) continue;
    Result<SnapshotPtr> loaded = LoadSnapshot(engine, version);
    if (v.contains("error")) {
      EXPECT_FALSE(loaded.ok()) << "expected: " << v["error"].dump();
      if (!loaded.ok() && table_error) {
        EXPECT_EQ(loaded.status().code(), table_error_code);
      }
      ++checked;
      continue;
    }
    if (!loaded.ok() && table_error && loaded.status().code() == table_error_code) {
      for (const std::string& name : must_name) {
        EXPECT_THAT(loaded.status().message(), HasSubstr(name));
      }
      ++checked;
      continue;
    }
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    const Snapshot& snap = **loaded;
    EXPECT_EQ(snap.version(), version);
    if (v.contains("num_files")) {
      EXPECT_EQ(static_cast<int64_t>(snap.files().size()), v["num_files"].get<int64_t>());
    }
    if (v.contains("active_files")) {
      std::vector<std::string> expected = v["active_files"].get<std::vector<std::string>>();
      std::vector<std::string> actual;
      // The manifest names a file with a DV as "<path> [dv:<unique id>]".
      for (const AddFile& f : snap.files()) {
        std::string name = snap.ResolvePath(f.path);
        if (f.deletion_vector) name += " [dv:" + f.deletion_vector->UniqueId() + "]";
        actual.push_back(name);
      }
      std::sort(expected.begin(), expected.end());
      std::sort(actual.begin(), actual.end());
      EXPECT_EQ(actual, expected);
    }
    if (v.contains("size_bytes")) {
      EXPECT_EQ(snap.size_bytes(), v["size_bytes"].get<int64_t>());
    }
    if (v.contains("num_tombstones")) {
      EXPECT_EQ(static_cast<int64_t>(snap.tombstones().size()), v["num_tombstones"].get<int64_t>());
    }
    if (v.contains("partition_columns")) {
      EXPECT_EQ(snap.metadata().partition_columns,
                v["partition_columns"].get<std::vector<std::string>>());
    }
    if (v.contains("column_mapping_mode")) {
      EXPECT_EQ(snap.column_mapping_mode(), v["column_mapping_mode"].get<std::string>());
    }
    if (v.contains("schema_error")) {
      EXPECT_FALSE(snap.schema_status().ok());
    } else if (v.contains("columns")) {
      EXPECT_TRUE(snap.schema_status().ok()) << snap.schema_status();
      EXPECT_EQ(snap.schema().fields.size(), v["columns"].size());
    }
    if (v.contains("app_transactions")) {
      std::map<std::string, int64_t> expected =
          v["app_transactions"].get<std::map<std::string, int64_t>>();
      std::map<std::string, int64_t> actual;
      for (const auto& [app, txn] : snap.txns()) actual[app] = txn.version;
      EXPECT_EQ(actual, expected);
    }
    if (v.contains("domain_metadata")) {
      std::map<std::string, std::string> expected =
          v["domain_metadata"].get<std::map<std::string, std::string>>();
      std::map<std::string, std::string> actual;
      for (const auto& [domain, dm] : snap.domains()) actual[domain] = dm.configuration;
      EXPECT_EQ(actual, expected);
    }
    if (v.contains("in_commit_timestamp")) {
      ASSERT_TRUE(snap.commit_info().has_value());
      EXPECT_EQ(snap.commit_info()->in_commit_timestamp,
                std::optional<int64_t>(v["in_commit_timestamp"].get<int64_t>()));
      EXPECT_EQ(snap.timestamp_ms(), v["in_commit_timestamp"].get<int64_t>());
    }
    ++checked;
  }
  // Tables with Parquet checkpoints may have nothing checkable here; say so in the log.
  if (checked == 0) {
    std::cout << "[ conformance ] " << rel
              << ": every listed version needs a Parquet checkpoint (engine test covers it)\n";
  }
}

// The history of every JSON-only table lists each commit, newest first.
TEST_P(ConformanceLogTest, HistoryListsEveryCommitNewestFirst) {
  const std::string rel = GetParam();
  json table = FindTable(rel);
  ASSERT_TRUE(table.is_object());
  // "commits" is {first, last, count} for a contiguous run, else the list of versions.
  const json& commits = table["log"]["commits"];
  std::vector<Version> versions;
  if (commits.is_array()) {
    versions = commits.get<std::vector<Version>>();
  } else if (commits.is_object() && commits.contains("count")) {
    for (Version v = commits["first"].get<Version>(); v <= commits["last"].get<Version>(); ++v) {
      versions.push_back(v);
    }
  }
  if (versions.empty()) GTEST_SKIP() << "no commit files";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<storage::LocalStore> store,
                       storage::LocalStore::Open(ConformanceDir() + "/" + rel));
  NoParquetCheckpointReader reader;
  SimpleEngine engine(*store, reader);
  ASSERT_OK_AND_ASSIGN(std::vector<HistoryEntry> history, LoadHistory(engine));
  std::vector<Version> got;
  for (const HistoryEntry& e : history) got.push_back(e.version);
  std::reverse(got.begin(), got.end());
  EXPECT_EQ(got, versions);
  for (size_t i = 1; i < history.size(); ++i) {
    EXPECT_GT(history[i - 1].version, history[i].version);
  }
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) {
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, ConformanceLogTest, ::testing::ValuesIn(TablePaths()), TestName);

}  // namespace
}  // namespace lake::delta
