// The fixture of the SQL tests: a Lakehouse over a fresh temp folder, removed afterwards.
//   <tmp>/<prefix>_<pid>_<test name>/home   the lake home (created only by statements that need it)
//   <tmp>/<prefix>_<pid>_<test name>/data   for tables the test places itself
// `Base` is ::testing::Test or ::testing::TestWithParam<T>.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "delta/protocol_validator.h"
#include "sql/lakehouse.h"
#include "storage/object_store.h"

namespace lake::sql::testing {

template <typename Base = ::testing::Test>
class TempLakehouse : public Base {
 protected:
  explicit TempLakehouse(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    // Parameterized tests are named "Test/param": keep the folder one level deep.
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : test) {
      if (c == '/') c = '_';
    }
    root_ = std::filesystem::temp_directory_path() /
            (prefix_ + "_" + std::to_string(getpid()) + "_" + test);
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "data");
    home_ = (root_ / "home").string();
    house_ = Open();
    ASSERT_NE(house_, nullptr);
    auto session = house_->database().Connect();
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = std::move(*session);
  }
  void TearDown() override {
    session_.reset();
    house_.reset();
    std::filesystem::remove_all(root_);
  }

  // Opens a(nother) Lakehouse on the test's home; null (and a test failure) on error.
  std::unique_ptr<Lakehouse> Open() {
    LakehouseOptions options;
    options.home = home_;
    options.database.threads = 2;
    auto house = Lakehouse::Open(options);
    EXPECT_TRUE(house.ok()) << house.status();
    return house.ok() ? std::move(*house) : nullptr;
  }

  Result<engine::ResultTable> Query(const std::string& sql) { return session_->Query(sql); }

  // ---- Shared helpers of the SQL tests. ----

  // The single value of `sql` rendered as text ("" for NULL).
  std::string One(const std::string& sql, engine::Session* session = nullptr) {
    auto result = (session ? session : session_.get())->Query(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status();
    if (!result.ok() || result->rows.size() != 1) return "<no single row>";
    const auto& v = result->rows[0][0].v;
    if (auto* s = std::get_if<std::string>(&v)) return *s;
    if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    if (auto* h = std::get_if<__int128>(&v)) return std::to_string(static_cast<int64_t>(*h));
    if (std::holds_alternative<std::monostate>(v)) return "";
    return "<other>";
  }

  // Every row of `sql`, columns joined by '|'.
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> out;
    auto result = Query("SELECT concat_ws('|', *COLUMNS(*)) FROM (" + sql + ")");
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status();
    if (!result.ok()) return out;
    for (const auto& row : result->rows) out.push_back(std::get<std::string>(row[0].v));
    return out;
  }

  // The text of commit `version` of the table at `location` ("" when absent).
  static std::string CommitText(const std::string& location, int version) {
    char name[32];
    std::snprintf(name, sizeof(name), "%020d.json", version);
    std::ifstream in(std::filesystem::path(location) / "_delta_log" / name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  static bool HasCommit(const std::string& location, int version) {
    char name[32];
    std::snprintf(name, sizeof(name), "%020d.json", version);
    return std::filesystem::exists(std::filesystem::path(location) / "_delta_log" / name);
  }
  // The actions of commit `version`, one JSON object per line.
  static std::vector<nlohmann::json> Actions(const std::string& location, int version) {
    std::vector<nlohmann::json> out;
    std::stringstream text(CommitText(location, version));
    for (std::string line; std::getline(text, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }
  // The `kind` members ("add", "remove", "commitInfo", ...) of `actions`.
  static std::vector<nlohmann::json> Of(const std::vector<nlohmann::json>& actions,
                                        const std::string& kind) {
    std::vector<nlohmann::json> out;
    for (const nlohmann::json& a : actions) {
      if (a.contains(kind)) out.push_back(a[kind]);
    }
    return out;
  }
  static nlohmann::json CommitInfo(const std::string& location, int version) {
    auto infos = Of(Actions(location, version), "commitInfo");
    return infos.empty() ? nlohmann::json() : infos[0];
  }

  // Protocol violations in the table's log (empty: valid).
  static std::vector<std::string> Validate(const std::string& location) {
    auto store = storage::OpenStore(location);
    if (!store.ok()) return {store.status().ToString()};
    return delta::testing::ValidateTableLog(**store);
  }

  std::filesystem::path root_;
  std::string home_;
  std::unique_ptr<Lakehouse> house_;
  std::unique_ptr<engine::Session> session_;

 private:
  std::string prefix_;
};

}  // namespace lake::sql::testing
