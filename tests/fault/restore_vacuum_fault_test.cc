// Crash safety of RESTORE and VACUUM (issue #4 §4): for every storage call N of the statement,
// the call fails once, or the process "crashes" before or after it (FaultyStore under every
// store the engine opens, storage::SetStoreWrapperForTesting). Then a fresh Lakehouse without
// faults checks:
//  - RESTORE: the table reads exactly the rows before or the rows after, never a mix; a
//    statement that succeeded reads the rows after; a failure that left the table as before
//    is the injected I/O error; re-running then works.
//  - VACUUM: the table reads the same rows, every file the latest version (and every version
//    inside the retention window) names still exists — VACUUM never deletes a live file —
//    and re-running it completes the cleanup.
//  - Both: the log passes the protocol validator.
// Expected rows come from the statements' VALUES; live files from the commits' JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strings.h"
#include "delta/protocol_validator.h"
#include "engine/internal/restore_vacuum.h"
#include "sql/lakehouse.h"
#include "storage/faulty_store.h"
#include "storage/local_store.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using storage::FaultyStore;
using Mode = FaultyStore::Mode;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr Mode kModes[] = {Mode::kFailOnce, Mode::kCrash, Mode::kCrashAfter};

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kFailOnce:
      return "fail-once";
    case Mode::kCrash:
      return "crash";
    case Mode::kCrashAfter:
      return "crash-after";
  }
  return "?";
}

// Puts a FaultyStore on `schedule` under every store opened while it lives.
class FaultScope {
 public:
  explicit FaultScope(std::shared_ptr<FaultyStore::Schedule> schedule) {
    storage::SetStoreWrapperForTesting(
        [schedule](std::unique_ptr<storage::ObjectStore> inner)
            -> std::unique_ptr<storage::ObjectStore> {
          return std::make_unique<FaultyStore>(std::move(inner), schedule);
        });
  }
  ~FaultScope() { storage::SetStoreWrapperForTesting(nullptr); }
  FaultScope(const FaultScope&) = delete;
  FaultScope& operator=(const FaultScope&) = delete;
};

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The live files (decoded, relative) after each version, replaying the JSON commits.
std::vector<std::set<std::string>> LiveFilesPerVersion(const fs::path& table) {
  std::vector<std::set<std::string>> out;
  std::set<std::string> live;
  for (int v = 0;; ++v) {
    char name[32];
    std::snprintf(name, sizeof(name), "%020d.json", v);
    std::ifstream in(table / "_delta_log" / name);
    if (!in) break;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      auto action = nlohmann::json::parse(line);
      if (action.contains("add")) live.insert(PercentDecode(action["add"]["path"]));
      if (action.contains("remove")) live.erase(PercentDecode(action["remove"]["path"]));
    }
    out.push_back(live);
  }
  return out;
}

struct Scenario {
  const char* name;
  const char* statement;
  std::vector<std::string> after;  // rows of `SELECT id FROM t ORDER BY id` after success
  bool vacuum;
};

void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

const std::vector<std::string> kBefore = {"9"};

class RestoreVacuumFault : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            StrCat("lake_restore_vacuum_fault_", getpid(), "_", GetParam().name);
    fs::remove_all(root_);
    fs::create_directories(root_ / "data");
    home_ = (root_ / "home").string();
    table_ = root_ / "data" / "t";
    template_ = root_ / "template";
    if (GetParam().vacuum) {
      // Eight days on: the tombstones of the overwrite (and the old files) are out of the
      // default 7-day window.
      const int64_t later = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count() +
                            8LL * 24 * 3600 * 1000;
      engine::internal::SetVacuumClockForTesting([later] { return later; });
    }
  }
  void TearDown() override {
    storage::SetStoreWrapperForTesting(nullptr);
    engine::internal::SetVacuumClockForTesting(nullptr);
    fs::remove_all(root_);
  }

  std::unique_ptr<Lakehouse> OpenHouse() {
    LakehouseOptions options;
    options.home = home_;
    options.database.threads = 2;
    auto house = Lakehouse::Open(options);
    EXPECT_TRUE(house.ok()) << house.status();
    return house.ok() ? std::move(*house) : nullptr;
  }

  Result<engine::ResultTable> RunInFreshHouse(const std::string& sql) {
    std::unique_ptr<Lakehouse> house = OpenHouse();
    if (!house) return Status::Internal("no lakehouse");
    auto session = house->database().Connect();
    if (!session.ok()) return session.status();
    return (*session)->Query(sql);
  }

  void BuildTemplate() {
    for (const std::string& sql :
         {StrCat("CREATE TABLE t (id BIGINT) USING DELTA LOCATION '", table_.string(), "'"),
          std::string("INSERT INTO t VALUES (1), (2)"), std::string("INSERT INTO t VALUES (3)"),
          std::string("INSERT OVERWRITE t VALUES (9)")}) {
      auto r = RunInFreshHouse(sql);
      ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
    }
    std::ofstream(table_ / "orphan.parquet") << "left by a failed write";
    fs::last_write_time(table_ / "orphan.parquet",
                        fs::last_write_time(table_ / "orphan.parquet") - std::chrono::hours(24 * 30));
    fs::create_directories(template_);
    fs::copy(root_ / "data", template_ / "data", fs::copy_options::recursive);
    fs::copy(home_, template_ / "home", fs::copy_options::recursive);
  }
  void RestoreTemplate() {
    fs::remove_all(root_ / "data");
    fs::remove_all(home_);
    fs::copy(template_ / "data", root_ / "data", fs::copy_options::recursive);
    fs::copy(template_ / "home", home_, fs::copy_options::recursive);
  }

  Status RunUnderFault(int64_t n, Mode mode, int64_t* calls, bool* triggered) {
    auto schedule = std::make_shared<FaultyStore::Schedule>(n, mode);
    Status status;
    {
      FaultScope scope(schedule);
      status = RunInFreshHouse(GetParam().statement).status();
    }
    *calls = schedule->calls();
    *triggered = schedule->triggered();
    return status;
  }

  std::vector<std::string> ReadRows(engine::Session& session, const std::string& label) {
    std::vector<std::string> rows;
    auto read = session.Query("SELECT id FROM t ORDER BY id");
    EXPECT_TRUE(read.ok()) << label << ": " << read.status();
    if (!read.ok()) return rows;
    for (const auto& row : read->rows) rows.push_back(std::to_string(std::get<int64_t>(row[0].v)));
    return rows;
  }

  void CheckAfterRun(const Status& status, const std::string& label) {
    const Scenario& sc = GetParam();
    std::unique_ptr<Lakehouse> house = OpenHouse();
    ASSERT_NE(house, nullptr);
    auto session_or = house->database().Connect();
    ASSERT_TRUE(session_or.ok()) << session_or.status();
    engine::Session& session = **session_or;

    // The log is valid, and the files the latest version names exist.
    auto store = storage::LocalStore::Open(table_.string());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_THAT(delta::testing::ValidateTableLog(**store), IsEmpty()) << label;
    std::vector<std::set<std::string>> live = LiveFilesPerVersion(table_);
    ASSERT_FALSE(live.empty());
    for (const std::string& f : live.back()) {
      EXPECT_TRUE(fs::exists(table_ / f)) << label << ": deleted live file " << f;
    }

    std::vector<std::string> rows = ReadRows(session, label);
    bool after = false;
    if (sc.vacuum) {
      EXPECT_EQ(rows, kBefore) << label;
      after = status.ok();
    } else if (rows == sc.after) {
      after = true;
    } else {
      ASSERT_EQ(rows, kBefore) << label << ": neither the rows before nor after; " << status;
    }
    if (status.ok()) {
      EXPECT_TRUE(after) << label << ": succeeded but the table reads as before";
    } else if (!after && !sc.vacuum) {
      EXPECT_EQ(status.code(), StatusCode::kIOError) << label << ": " << status;
    } else if (after && !sc.vacuum) {
      // Only a crash after the commit's PutIfAbsent leaves the commit in place on failure.
      EXPECT_THAT(status.hint(), HasSubstr("may or may not have been written"))
          << label << ": " << status;
    }
    if (!status.ok() && !after) {
      // The user's recovery: re-running the statement works.
      auto rerun = session.Query(sc.statement);
      ASSERT_TRUE(rerun.ok()) << label << ": re-running: " << rerun.status();
      EXPECT_EQ(ReadRows(session, label), sc.vacuum ? kBefore : sc.after) << label;
    }
    if (sc.vacuum && !HasFailure()) {
      // A completed VACUUM (first run or re-run) leaves only the live files and hidden ones.
      std::set<std::string> on_disk;
      for (const auto& e : fs::recursive_directory_iterator(table_)) {
        std::string rel = fs::relative(e.path(), table_).string();
        if (e.is_regular_file() && rel.rfind("_delta_log", 0) != 0) on_disk.insert(rel);
      }
      if (status.ok() || !after) {
        live = LiveFilesPerVersion(table_);
        EXPECT_EQ(on_disk, live.back()) << label;
      }
    }
  }

  fs::path root_;
  std::string home_;
  fs::path table_;
  fs::path template_;
};

TEST_P(RestoreVacuumFault, EveryFailedStorageCallLeavesAConsistentTable) {
  ASSERT_NO_FATAL_FAILURE(BuildTemplate());
  int64_t calls = 0;
  bool triggered = false;
  Status clean = RunUnderFault(0, Mode::kCrash, &calls, &triggered);
  ASSERT_TRUE(clean.ok()) << clean;
  ASSERT_FALSE(triggered);
  ASSERT_NO_FATAL_FAILURE(CheckAfterRun(clean, "clean run"));
  ASSERT_GT(calls, 1);
  std::cout << GetParam().name << ": " << calls << " store calls in a clean run\n";
  for (Mode mode : kModes) {
    int failures = 0;
    for (int64_t n = 1; n <= calls; ++n) {
      const std::string label = StrCat(GetParam().name, " ", ModeName(mode), " at call ", n);
      RestoreTemplate();
      int64_t made = 0;
      Status status = RunUnderFault(n, mode, &made, &triggered);
      ASSERT_TRUE(triggered) << label << ": only " << made << " calls";
      failures += !status.ok();
      ASSERT_NO_FATAL_FAILURE(CheckAfterRun(status, label));
      if (HasFailure()) return;  // one broken call is enough to read
    }
    std::cout << "  " << ModeName(mode) << ": " << failures << " of " << calls
              << " runs failed\n";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Statements, RestoreVacuumFault,
    ::testing::Values(Scenario{"restore", "RESTORE TABLE t TO VERSION AS OF 2", {"1", "2", "3"},
                               false},
                      Scenario{"vacuum", "VACUUM t", {"9"}, true}),
    [](const ::testing::TestParamInfo<Scenario>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace lake::sql
