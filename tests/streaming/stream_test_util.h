// Fixture for streaming tests: a temp folder with a lake home (tables created by SQL), a
// landing folder and checkpoints, and helpers to read a Delta table's rows by path.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "base/strings.h"
#include "sql/lakehouse.h"
#include "status_matchers.h"
#include "streaming/query.h"

namespace lake::streaming::testing {

namespace fs = std::filesystem;

inline std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Writes `text` to a hidden temp name and renames it into place: how a producer should land
// a file (files_source.h note 3), so the stream never sees half of it.
inline void LandFile(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  WriteText(tmp, text);
  fs::rename(tmp, path);
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : test) {
      if (c == '/') c = '_';
    }
    root_ = fs::temp_directory_path() / StrCat("lake_stream_", getpid(), "_", test);
    fs::remove_all(root_);
    fs::create_directories(root_ / "landing");
    sql::LakehouseOptions options;
    options.home = (root_ / "home").string();
    options.database.threads = 2;
    auto house = sql::Lakehouse::Open(options);
    ASSERT_TRUE(house.ok()) << house.status();
    house_ = std::move(*house);
    auto session = house_->database().Connect();
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = std::move(*session);
  }
  void TearDown() override {
    session_.reset();
    house_.reset();
    if (!HasFailure()) fs::remove_all(root_);
  }

  engine::Database& db() { return house_->database(); }
  std::string Path(const std::string& name) const { return (root_ / name).string(); }
  std::string TablePath(const std::string& table) const {
    return (root_ / "home" / "warehouse" / "default.db" / table).string();
  }

  void Sql(const std::string& sql) {
    auto r = session_->Query(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
  }

  // Rows of `sql` rendered as "v1|v2|...", sorted (VARCHAR casts are the test's business).
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> out;
    auto r = session_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << "\n" << r.status();
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) line += "|";
        const auto& v = row[i].v;
        if (row[i].is_null()) {
          line += "NULL";
        } else if (auto s = std::get_if<std::string>(&v)) {
          line += *s;
        } else if (auto n = std::get_if<int64_t>(&v)) {
          line += std::to_string(*n);
        } else if (auto b = std::get_if<bool>(&v)) {
          line += *b ? "true" : "false";
        } else {
          line += "?";
        }
      }
      out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // The JSON actions of commit `version` of the table at `path`.
  std::vector<nlohmann::json> CommitActions(const std::string& path, int64_t version) {
    std::vector<nlohmann::json> out;
    std::stringstream lines(
        ReadText(fs::path(path) / "_delta_log" / (ZeroPad(version, 20) + ".json")));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }
  int64_t CommitCount(const std::string& path) {
    int64_t n = 0;
    for (const auto& e : fs::directory_iterator(fs::path(path) / "_delta_log")) {
      const std::string name = e.path().filename().string();
      n += name.size() == 25 && name.substr(20) == ".json";
    }
    return n;
  }

  fs::path root_;
  std::unique_ptr<sql::Lakehouse> house_;
  std::unique_ptr<engine::Session> session_;
};

}  // namespace lake::streaming::testing
