// Fixture and raw-log helpers for the SQL syntax and inspection-function tests. Expected
// values come from the conformance manifest or from the log files read here directly
// (nlohmann, line by line), never from lake's own log replay.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/database.h"
#include "engine_test_util.h"

namespace lake::engine::testing {

// One database for the whole suite (opening DuckDB costs ~15 ms), one session per test.
class SqlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    DatabaseOptions options;
    options.threads = 2;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(db).value().release();
  }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(db_, nullptr);
    auto session = db_->Connect();
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = std::move(*session);
  }

  Result<ResultTable> Query(const std::string& sql) { return session_->Query(sql); }

  // Runs a query returning one BIGINT (count(*), sum(...)); fails the test on error.
  int64_t QueryInt(const std::string& sql) {
    auto result = Query(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status();
    if (!result.ok() || result->rows.size() != 1 || result->rows[0].empty()) return -1;
    const Value& v = result->rows[0][0];
    if (auto* i = std::get_if<int64_t>(&v.v)) return *i;
    if (auto* h = std::get_if<__int128>(&v.v)) return static_cast<int64_t>(*h);
    ADD_FAILURE() << sql << ": not an integer result";
    return -1;
  }

  // After an error the instance must still answer (no InternalException: §2.4 (1)).
  void ExpectStillUsable() {
    auto ok = Query("SELECT 42");
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_EQ(std::get<int64_t>(ok->rows[0][0].v), 42);
  }

  static inline Database* db_ = nullptr;
  std::unique_ptr<Session> session_;
};

// `delta.`<conformance table>``.
inline std::string DeltaRef(const std::string& table) { return "delta.`" + TablePath(table) + "`"; }
// `'<conformance table>'`.
inline std::string QuotedRef(const std::string& table) { return "'" + TablePath(table) + "'"; }

inline std::string CommitFile(const std::string& table, int64_t version) {
  return TablePath(table) + "/_delta_log/" + Pad(version, 20) + ".json";
}

// Returns the commitInfo object of a commit file, or null if it has none.
inline nlohmann::json RawCommitInfo(const std::string& table, int64_t version) {
  std::ifstream in(CommitFile(table, version));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json action = nlohmann::json::parse(line);
    if (action.contains("commitInfo")) return action["commitInfo"];
  }
  return nullptr;
}

// Returns the modification time of a commit file in ms since the epoch.
inline int64_t CommitFileMtimeMs(const std::string& table, int64_t version) {
  auto file_time = std::filesystem::last_write_time(CommitFile(table, version));
  auto sys = std::chrono::file_clock::to_sys(file_time);
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

// The manifest's entry for `version` of `table` (null if absent).
inline nlohmann::json ManifestVersion(const std::string& table, int64_t version) {
  for (const auto& v : ManifestTable(table)["expect"]["versions"]) {
    if (v["version"] == version) return v;
  }
  return nullptr;
}

// The newest value of `key` in the manifest's version entries up to `version` (the manifest
// lists columns / partition_columns only where they change).
inline nlohmann::json ManifestVersionKey(const std::string& table, int64_t version,
                                         const std::string& key) {
  nlohmann::json found;
  for (const auto& v : ManifestTable(table)["expect"]["versions"]) {
    if (v["version"].get<int64_t>() <= version && v.contains(key)) found = v[key];
  }
  return found;
}

inline const std::string& Str(const Value& v) { return std::get<std::string>(v.v); }
inline int64_t Int(const Value& v) { return std::get<int64_t>(v.v); }

// Index of column `name` in `table`, failing the test if absent.
inline size_t Col(const ResultTable& table, const std::string& name) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (table.columns[i].name == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

}  // namespace lake::engine::testing
