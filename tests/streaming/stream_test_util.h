// Fixture for streaming tests: a temp folder with a lake home (tables created by SQL), a
// landing folder and checkpoints, and helpers to read a Delta table's rows by path.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

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

// Re-runs this test binary as a child running only `gtest_filter`, with `env` (NAME=value)
// added to the parent's environment minus its GTEST_* settings (an XML report path or
// sharding would overwrite the parent's report or skip the child's one test); stdout and
// stderr append to `log`. Returns the pid, or -1 (and a test failure).
inline pid_t SpawnTestChild(const std::string& gtest_filter, std::vector<std::string> env,
                            const fs::path& log) {
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> args = {exe, "--gtest_filter=" + gtest_filter};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("GTEST_", 0) != 0) env.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log_path = log.string();
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "cannot start " << exe;
  return rc == 0 ? pid : -1;
}

// Waits for `pid`: its exit code, or 128 + the signal that ended it.
inline int WaitTestChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
