// Crash safety of the SQL write path (issue #3 §5, STYLE.md §9 "Fault injection"): for every
// storage call N of INSERT INTO (unpartitioned, partitioned), INSERT OVERWRITE (whole table,
// one partition), CREATE TABLE, CREATE TABLE AS SELECT, a commit that writes a checkpoint, DELETE
// (part of a file; a whole partition), UPDATE (two files; moving rows to another partition; with
// change data feed, its cdc files read back) and OPTIMIZE (bin-packing; ZORDER BY), the call
// fails once, or the writer "crashes" before or after it; the table is then read by a fresh
// Lakehouse without faults.
//
// Method (after leveldb db/fault_injection_test.cc):
//  (1) The scenario's setup runs once in a lake home; the home is kept as a template, copied
//      back to the same path before each run (the metastore holds absolute locations).
//  (2) A clean run of the statement under a FaultyStore that never fires counts its store
//      calls C: every store the engine opens is wrapped (storage::SetStoreWrapperForTesting),
//      all counting on one FaultyStore::Schedule. Data files are written by DuckDB's COPY
//      straight to disk, so the store sees the _delta_log and the checkpoint I/O.
//  (3) For every mode and every N in 1..C the statement runs again with the fault at call N.
//      Then, with no faults:
//      - the table reads exactly the rows before or the rows after the statement, never
//        something in between, and which one the log says (a new commit or not: OPTIMIZE
//        changes no row); a statement that succeeded reads the rows after;
//      - a statement that failed but whose commit landed (only a crash after the commit's
//        PutIfAbsent can do that) says so: its hint warns the commit may have been written;
//        any other failure names the injected I/O error and the table stays as it was;
//      - the log passes the protocol validator, every file a commit adds exists, DuckDB's
//        read_parquet over the live files counts the rows lake reads;
//      - data files no commit names (orphans) are only files the failed statement wrote;
//      - a commit that should checkpoint never fails because the checkpoint did;
//      - when the table was left as before, re-running the statement works (leftovers of the
//        failed run do not block the user's obvious recovery).
// Expected rows are written out by hand from the statements' VALUES.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strings.h"
#include "delta/deletion_vector.h"
#include "delta/protocol_validator.h"
#include "sql/lakehouse.h"
#include "storage/faulty_store.h"
#include "storage/local_store.h"
#include "storage/object_store.h"

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

struct Scenario {
  const char* name;
  std::vector<std::string> setup;  // run without faults; builds the template home
  std::string statement;           // run under faults
  std::string query;               // one VARCHAR column, one row per table row, sorted
  bool exists_before;              // is the table named before the statement?
  std::vector<std::string> before;
  std::vector<std::string> after;
  bool checkpoints = false;        // the statement's commit is a checkpoint version
  int64_t live_files_after = -1;   // if >= 0: live data files once the statement landed
  // If set: once the statement landed, this query (one VARCHAR column) reads these rows, e.g.
  // the change data feed of the new version.
  std::string changes_query = "";
  std::vector<std::string> changes_after = {};
};

void PrintTo(const Scenario& scenario, std::ostream* os) { *os << scenario.name; }

// The rows "<i>|v" of ids 0..n-1 that `keep` keeps, in query order (by id).
template <typename Keep>
std::vector<std::string> IdsWithV(int n, Keep keep) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    if (keep(i)) out.push_back(std::to_string(i) + "|v");
  }
  return out;
}

std::vector<Scenario> Scenarios() {
  const std::string query_ids = "SELECT CAST(id AS VARCHAR) || '|' || coalesce(s, 'NULL') FROM t ORDER BY id";
  return {
      {"InsertUnpartitioned",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA",
        "INSERT INTO t VALUES (1, 'a'), (2, 'b')"},
       "INSERT INTO t VALUES (3, 'c'), (4, 'd'), (5, NULL)",
       query_ids,
       true,
       {"1|a", "2|b"},
       {"1|a", "2|b", "3|c", "4|d", "5|NULL"}},
      {"InsertPartitioned",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA PARTITIONED BY (s)",
        "INSERT INTO t VALUES (1, 'x')"},
       // Three partitions, one of them new, one the null partition.
       "INSERT INTO t VALUES (2, 'x'), (3, 'y z'), (4, NULL)",
       query_ids,
       true,
       {"1|x"},
       {"1|x", "2|x", "3|y z", "4|NULL"}},
      // Removes every live file and adds the new rows' in one commit.
      {"InsertOverwrite",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA",
        "INSERT INTO t VALUES (1, 'a'), (2, 'b')", "INSERT INTO t VALUES (3, 'c')"},
       "INSERT OVERWRITE t VALUES (7, 'q'), (8, NULL)",
       query_ids,
       true,
       {"1|a", "2|b", "3|c"},
       {"7|q", "8|NULL"}},
      // Replaces the rows of partition s = 'x' only.
      {"InsertOverwritePartition",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA PARTITIONED BY (s)",
        "INSERT INTO t VALUES (1, 'x'), (2, 'y')", "INSERT INTO t VALUES (3, 'x')"},
       "INSERT OVERWRITE t PARTITION (s = 'x') VALUES (9)",
       query_ids,
       true,
       {"1|x", "2|y", "3|x"},
       {"2|y", "9|x"}},
      {"CreateTable",
       {},
       "CREATE TABLE t (id BIGINT NOT NULL, s STRING COMMENT 'text') USING DELTA "
       "PARTITIONED BY (s) TBLPROPERTIES ('delta.appendOnly' = 'true') COMMENT 'made under faults'",
       query_ids,
       false,
       {},
       {}},
      {"CreateTableAsSelect",
       {},
       "CREATE TABLE t USING DELTA AS SELECT * FROM (VALUES (1, 'a'), (2, NULL), (3, 'c')) "
       "v(id, s)",
       query_ids,
       false,
       {},
       {"1|a", "2|NULL", "3|c"}},
      // Version 0 the create, 1 the first insert, 2 (the statement) a checkpoint version.
      {"InsertThatCheckpoints",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA "
        "TBLPROPERTIES ('delta.checkpointInterval' = '2')",
        "INSERT INTO t VALUES (1, 'a')"},
       "INSERT INTO t VALUES (2, 'b')",
       query_ids,
       true,
       {"1|a"},
       {"1|a", "2|b"},
       /*checkpoints=*/true},
      // Issue #4 §4: DML and OPTIMIZE. Copy-on-write: id 2 shares its file with 1 and 3, so
      // the file is removed and 1 and 3 are copied into a new one; the second file stays.
      {"DeletePartOfFile",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA",
        "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')", "INSERT INTO t VALUES (4, 'd')"},
       "DELETE FROM t WHERE id = 2",
       query_ids,
       true,
       {"1|a", "2|b", "3|c", "4|d"},
       {"1|a", "3|c", "4|d"}},
      // A predicate on the partition column only: removes without writing any data file.
      {"DeleteWholePartition",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA PARTITIONED BY (s)",
        "INSERT INTO t VALUES (1, 'x'), (2, 'y')", "INSERT INTO t VALUES (3, 'x')"},
       "DELETE FROM t WHERE s = 'x'",
       query_ids,
       true,
       {"1|x", "2|y", "3|x"},
       {"2|y"}},
      // Deletion vectors: 20 scattered rows of one 40-row file go to a DV file (too big to be
      // inline) written through the store before the commit; the second scenario combines a
      // DV with the file's existing one (a remove carrying the old DV, an add the new).
      {"DeleteWithDeletionVector",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA "
        "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')",
        "INSERT INTO t SELECT i, 'v' FROM range(40) r(i)"},
       "DELETE FROM t WHERE id % 2 = 0",
       query_ids,
       true,
       IdsWithV(40, [](int) { return true; }),
       IdsWithV(40, [](int i) { return i % 2 == 1; }),
       /*checkpoints=*/false,
       /*live_files_after=*/1},
      {"DeleteCombinesDeletionVectors",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA "
        "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')",
        "INSERT INTO t SELECT i, 'v' FROM range(40) r(i)", "DELETE FROM t WHERE id % 2 = 0"},
       "DELETE FROM t WHERE id % 3 = 0",
       query_ids,
       true,
       IdsWithV(40, [](int i) { return i % 2 == 1; }),
       IdsWithV(40, [](int i) { return i % 2 == 1 && i % 3 != 0; }),
       /*checkpoints=*/false,
       /*live_files_after=*/1},
      // Ids 2 and 3 sit in two different files, each with a row that is copied unchanged.
      {"UpdateTwoFiles",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA",
        "INSERT INTO t VALUES (1, 'a'), (2, 'b')", "INSERT INTO t VALUES (3, 'c'), (4, 'd')"},
       "UPDATE t SET s = 'u' WHERE id IN (2, 3)",
       query_ids,
       true,
       {"1|a", "2|b", "3|c", "4|d"},
       {"1|a", "2|u", "3|u", "4|d"}},
      // Id 1 moves from partition x to partition y: x's file is rewritten without it and y
      // gets a new file.
      {"UpdateMovesPartition",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA PARTITIONED BY (s)",
        "INSERT INTO t VALUES (1, 'x'), (2, 'x'), (3, 'y')"},
       "UPDATE t SET s = 'y' WHERE id = 1",
       query_ids,
       true,
       {"1|x", "2|x", "3|y"},
       {"1|y", "2|x", "3|y"}},
      // MERGE (lake_merge.h): id 2 updated and 4 deleted (their files rewritten, 1 and 3
      // copied), 9 inserted; all in one commit.
      {"MergeUpsertAndDelete",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA",
        "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')", "INSERT INTO t VALUES (4, 'd')"},
       "MERGE INTO t USING (SELECT * FROM (VALUES (2, 'B'), (4, NULL), (9, 'n')) v(id, s)) src "
       "ON t.id = src.id WHEN MATCHED AND src.s IS NULL THEN DELETE "
       "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *",
       query_ids,
       true,
       {"1|a", "2|b", "3|c", "4|d"},
       {"1|a", "2|B", "3|c", "9|n"}},
      // NOT MATCHED BY SOURCE on a partitioned table: partition y's rows go whole (a
      // metadata-only removal of its file), x's row 1 is updated.
      {"MergeNotMatchedBySource",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA PARTITIONED BY (s)",
        "INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'y')"},
       "MERGE INTO t USING (SELECT 1 AS id) src ON t.id = src.id "
       "WHEN MATCHED THEN UPDATE SET id = 10 WHEN NOT MATCHED BY SOURCE THEN DELETE",
       query_ids,
       true,
       {"1|x", "2|y", "3|y"},
       {"10|x"}},
      // OPTIMIZE changes no row: whether it landed is told by the log (a new commit), and
      // then the three small files must have become one.
      {"OptimizeSmallFiles",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA", "INSERT INTO t VALUES (1, 'a')",
        "INSERT INTO t VALUES (2, 'b'), (3, NULL)", "INSERT INTO t VALUES (4, 'd')"},
       "OPTIMIZE t",
       query_ids,
       true,
       {"1|a", "2|b", "3|NULL", "4|d"},
       {"1|a", "2|b", "3|NULL", "4|d"},
       /*checkpoints=*/false,
       /*live_files_after=*/1},
      // ZORDER BY rewrites every file of the table, here into two files: it cuts the sorted
      // rows into ceil(input bytes / delta.targetFileSize) files, and the three inputs are
      // about 300 bytes each, so a 600-byte target makes two.
      {"OptimizeZOrder",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA "
        "TBLPROPERTIES ('delta.targetFileSize' = '600')",
        "INSERT INTO t VALUES (4, 'a'), (1, 'z')", "INSERT INTO t VALUES (3, 'b'), (2, 'y')",
        "INSERT INTO t VALUES (5, 'c')"},
       "OPTIMIZE t ZORDER BY (id, s)",
       query_ids,
       true,
       {"1|z", "2|y", "3|b", "4|a", "5|c"},
       {"1|z", "2|y", "3|b", "4|a", "5|c"},
       /*checkpoints=*/false,
       /*live_files_after=*/2},
      // Change data feed: the commit names cdc files (_change_data/) with the pre- and
      // postimage of id 2 only; 1 and 3 are copied, no change.
      {"UpdateWithChangeDataFeed",
       {"CREATE TABLE t (id BIGINT, s STRING) USING DELTA "
        "TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')",
        "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')"},
       "UPDATE t SET s = 'u' WHERE id = 2",
       query_ids,
       true,
       {"1|a", "2|b", "3|c"},
       {"1|a", "2|u", "3|c"},
       /*checkpoints=*/false,
       /*live_files_after=*/-1,
       "SELECT CAST(id AS VARCHAR) || '|' || s || '|' || _change_type FROM "
       "table_changes('t', 2) ORDER BY 1",
       {"2|b|update_preimage", "2|u|update_postimage"}},
  };
}

// Puts a FaultyStore on `schedule` under every store OpenStore opens while in scope.
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

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// What the JSON commits of a table name, replayed independently of lake's log reader.
struct NamedFiles {
  std::set<std::string> named;  // every path an add or a remove names (decoded, relative)
  std::set<std::string> added;  // every path an add names
  std::set<std::string> live;   // added and not removed since
  // Rows a live file's deletion vector hides (read_parquet still reads them).
  std::map<std::string, int64_t> live_deleted;
  int64_t commits = 0;
};

// The table-relative file of an on-disk ('u') deletion vector of `action` (an add or remove),
// if any: a DV file is named by the descriptors that point into it.
std::optional<std::string> DvFileOf(const nlohmann::json& action) {
  if (!action.contains("deletionVector") || action["deletionVector"].is_null()) return std::nullopt;
  const nlohmann::json& dv = action["deletionVector"];
  if (dv["storageType"] != "u") return std::nullopt;
  delta::DeletionVectorDescriptor d;
  d.storage_type = 'u';
  d.path_or_inline_dv = dv["pathOrInlineDv"].get<std::string>();
  Result<std::string> path = delta::DeletionVectorRelativePath(d);
  EXPECT_TRUE(path.ok()) << path.status();
  return path.ok() ? std::optional<std::string>(*path) : std::nullopt;
}

NamedFiles ReplayCommits(const fs::path& table) {
  NamedFiles out;
  std::vector<fs::path> commits;
  for (const auto& entry : fs::directory_iterator(table / "_delta_log")) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 25 && name.substr(20) == ".json") commits.push_back(entry.path());
  }
  std::sort(commits.begin(), commits.end());
  out.commits = static_cast<int64_t>(commits.size());
  for (const fs::path& commit : commits) {
    std::stringstream lines(ReadText(commit));
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      nlohmann::json action = nlohmann::json::parse(line);
      if (action.contains("add")) {
        std::string path = PercentDecode(action["add"]["path"].get<std::string>());
        out.named.insert(path);
        out.added.insert(path);
        out.live.insert(path);
        out.live_deleted.erase(path);
        if (std::optional<std::string> dv = DvFileOf(action["add"])) {
          out.named.insert(*dv);
          out.added.insert(*dv);  // must exist
          out.live_deleted[path] = action["add"]["deletionVector"]["cardinality"].get<int64_t>();
        }
      } else if (action.contains("remove")) {
        std::string path = PercentDecode(action["remove"]["path"].get<std::string>());
        out.named.insert(path);
        out.live.erase(path);
        out.live_deleted.erase(path);
        if (std::optional<std::string> dv = DvFileOf(action["remove"])) out.named.insert(*dv);
      } else if (action.contains("cdc")) {  // change data files are named, never live
        out.named.insert(PercentDecode(action["cdc"]["path"].get<std::string>()));
      }
    }
  }
  return out;
}

// Data files on disk under `table`: every regular file outside _delta_log, relative.
std::set<std::string> DataFilesOnDisk(const fs::path& table) {
  std::set<std::string> out;
  if (!fs::exists(table)) return out;
  for (auto it = fs::recursive_directory_iterator(table); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string rel = fs::relative(it->path(), table).string();
    if (rel == "_delta_log") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) out.insert(rel);
  }
  return out;
}

std::string JoinLines(const std::vector<std::string>& rows) { return StrJoin(rows, ", "); }

class SqlWriteFault : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            StrCat("lake_sql_write_fault_", getpid(), "_", GetParam().name);
    fs::remove_all(root_);
    fs::create_directories(root_);
    home_ = (root_ / "home").string();
    template_ = root_ / "template";
  }
  void TearDown() override {
    storage::SetStoreWrapperForTesting(nullptr);
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

  // Runs `sql` in a Lakehouse of its own (opened under whatever wrapper is set).
  Status RunInFreshHouse(const std::string& sql) {
    std::unique_ptr<Lakehouse> house = OpenHouse();
    if (!house) return Status::Internal("no lakehouse");
    auto session = house->database().Connect();
    if (!session.ok()) return session.status();
    return (*session)->Query(sql).status();
  }

  // The home as the template left it.
  void RestoreTemplate() {
    fs::remove_all(home_);
    if (fs::exists(template_)) fs::copy(template_, home_, fs::copy_options::recursive);
  }

  // Runs the statement with the fault at call `n` (0: never); returns its status.
  Status RunUnderFault(int64_t n, Mode mode, int64_t* calls, bool* triggered) {
    auto schedule = std::make_shared<FaultyStore::Schedule>(n, mode);
    Status status;
    {
      FaultScope scope(schedule);
      status = RunInFreshHouse(GetParam().statement);
    }
    *calls = schedule->calls();
    *triggered = schedule->triggered();
    return status;
  }

  // The table's folder (found by the clean run).
  fs::path Table() const { return table_; }

  void BuildTemplateAndCountCalls(int64_t* calls) {
    const Scenario& sc = GetParam();
    for (const std::string& sql : sc.setup) {
      std::unique_ptr<Lakehouse> house = OpenHouse();
      ASSERT_NE(house, nullptr);
      auto session = house->database().Connect();
      ASSERT_TRUE(session.ok()) << session.status();
      auto r = (*session)->Query(sql);
      ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
    }
    if (fs::exists(home_)) fs::copy(home_, template_, fs::copy_options::recursive);
    bool triggered = false;
    Status clean = RunUnderFault(0, Mode::kCrash, calls, &triggered);
    ASSERT_TRUE(clean.ok()) << clean;
    ASSERT_FALSE(triggered);
    // The table's folder: the one folder under the home holding a _delta_log.
    for (const auto& entry : fs::recursive_directory_iterator(home_)) {
      if (entry.is_directory() && entry.path().filename() == "_delta_log") {
        table_ = entry.path().parent_path();
      }
    }
    ASSERT_FALSE(table_.empty()) << "the clean run left no Delta table under " << home_;
    if (sc.checkpoints) {
      ASSERT_TRUE(fs::exists(table_ / "_delta_log" / "00000000000000000002.checkpoint.parquet"))
          << "the clean run was to write a checkpoint at version 2";
    }
    const fs::path template_table = template_ / fs::relative(table_, home_);
    template_files_ = DataFilesOnDisk(template_table);
    template_commits_ =
        fs::exists(template_table / "_delta_log") ? ReplayCommits(template_table).commits : 0;
    CheckAfterRun(clean, Mode::kCrash, "clean run");
  }

  enum class State { kBefore, kAfter, kUnnamedTable };

  // Checks the home after a run that ended with `status` (see the file comment).
  void CheckAfterRun(const Status& status, Mode mode, const std::string& label) {
    const Scenario& sc = GetParam();
    std::unique_ptr<Lakehouse> house = OpenHouse();
    ASSERT_NE(house, nullptr);
    auto session_or = house->database().Connect();
    ASSERT_TRUE(session_or.ok()) << session_or.status();
    engine::Session& session = **session_or;

    // (a) Before or after, never in between.
    State state;
    std::vector<std::string> rows;
    auto read = session.Query(sc.query);
    if (!read.ok()) {
      ASSERT_FALSE(sc.exists_before) << label << ": the table no longer reads: " << read.status();
      ASSERT_THAT(read.status().message(), HasSubstr("Table with name t does not exist"))
          << label << ": " << read.status();
      const bool has_log = fs::exists(table_ / "_delta_log" / "00000000000000000000.json");
      state = has_log ? State::kUnnamedTable : State::kBefore;
    } else {
      for (const auto& row : read->rows) rows.push_back(std::get<std::string>(row[0].v));
      if (sc.exists_before) {
        // The log tells whether the statement landed (one commit more than the template), so
        // a statement that changes no row (OPTIMIZE) is judged as strictly as one that does.
        const bool landed = ReplayCommits(table_).commits > template_commits_;
        ASSERT_EQ(rows, landed ? sc.after : sc.before)
            << label << ": the statement " << (landed ? "committed" : "did not commit")
            << " but the table reads otherwise; status " << status;
        state = landed ? State::kAfter : State::kBefore;
      } else {
        ASSERT_EQ(rows, sc.after) << label << ": the table reads neither the rows before ("
                                  << JoinLines(sc.before) << ") nor after; status " << status;
        state = State::kAfter;
      }
    }

    // (b) The statement's outcome matches the state, and its error says what happened.
    if (status.ok()) {
      EXPECT_EQ(state, State::kAfter) << label << ": succeeded but the table reads as before";
    } else if (state == State::kBefore) {
      EXPECT_EQ(status.code(), StatusCode::kIOError) << label << ": " << status;
      EXPECT_THAT(status.ToString(), HasSubstr("injected")) << label;
    } else {
      // The commit landed (or version 0 of a table whose name was never registered): only a
      // crash after the commit's PutIfAbsent can do that, and the user must be told the
      // commit may have been written.
      EXPECT_EQ(mode, Mode::kCrashAfter) << label << ": " << status;
      EXPECT_THAT(status.hint(), HasSubstr("may or may not have been written"))
          << label << ": " << status;
    }

    if (!fs::exists(table_ / "_delta_log")) {
      // No commit at all (a create that failed before its commit): whatever the failed run
      // wrote is unnamed, and re-running the statement must work.
      EXPECT_EQ(state, State::kBefore) << label;
    } else {
      // (c) The log is valid and names only files that exist; lake and read_parquet agree.
      auto store = storage::LocalStore::Open(table_.string());
      ASSERT_TRUE(store.ok()) << store.status();
      EXPECT_THAT(delta::testing::ValidateTableLog(**store), IsEmpty()) << label;
      NamedFiles files = ReplayCommits(table_);
      for (const std::string& path : files.added) {
        EXPECT_TRUE(fs::exists(table_ / path)) << label << ": the log names missing " << path;
      }
      if (state == State::kAfter && !sc.changes_query.empty()) {
        auto changes = session.Query(sc.changes_query);
        ASSERT_TRUE(changes.ok()) << label << ": " << changes.status();
        std::vector<std::string> change_rows;
        for (const auto& row : changes->rows) {
          change_rows.push_back(std::get<std::string>(row[0].v));
        }
        EXPECT_EQ(change_rows, sc.changes_after) << label << ": the change data of the commit";
      }
      if (state == State::kAfter && sc.live_files_after >= 0) {
        EXPECT_EQ(static_cast<int64_t>(files.live.size()), sc.live_files_after)
            << label << ": live data files once the statement landed";
      }
      if (state == State::kAfter) {
        std::vector<std::string> quoted;
        for (const std::string& path : files.live) {
          quoted.push_back(SqlQuote((table_ / path).string()));
        }
        const std::string count_sql =
            quoted.empty() ? "SELECT 0::BIGINT"
                           : StrCat("SELECT count(*) FROM read_parquet([", StrJoin(quoted, ", "),
                                    "])");
        auto counted = session.Query(count_sql);
        ASSERT_TRUE(counted.ok()) << label << ": " << counted.status();
        int64_t hidden = 0;  // rows deletion vectors hide
        for (const auto& [path, deleted] : files.live_deleted) hidden += deleted;
        EXPECT_EQ(std::get<int64_t>(counted->rows[0][0].v) - hidden,
                  static_cast<int64_t>(rows.size()))
            << label << ": read_parquet over the live files, less their DV rows";
      }
      // (d) Orphans: only files the failed statement wrote; none after a success.
      for (const std::string& path : DataFilesOnDisk(table_)) {
        if (files.named.count(path)) continue;
        EXPECT_FALSE(template_files_.count(path))
            << label << ": " << path << " was in the table before the statement, named by a "
            << "commit, and no commit names it now";
        EXPECT_FALSE(status.ok()) << label << ": a successful statement left orphan " << path;
      }
      // (e) A checkpoint, if one was published, names a complete checkpoint file.
      if (sc.checkpoints && fs::exists(table_ / "_delta_log" / "_last_checkpoint")) {
        auto hint = nlohmann::json::parse(ReadText(table_ / "_delta_log" / "_last_checkpoint"));
        EXPECT_EQ(hint["version"], 2) << label;
        EXPECT_TRUE(fs::exists(table_ / "_delta_log" / "00000000000000000002.checkpoint.parquet"))
            << label;
      }
    }

    // (f) The user's recovery: from "before", re-running the statement works.
    if (state == State::kBefore) {
      auto rerun = session.Query(sc.statement);
      ASSERT_TRUE(rerun.ok()) << label << ": re-running after the failure: " << rerun.status();
      auto again = session.Query(sc.query);
      ASSERT_TRUE(again.ok()) << label << ": " << again.status();
      std::vector<std::string> after;
      for (const auto& row : again->rows) after.push_back(std::get<std::string>(row[0].v));
      EXPECT_EQ(after, sc.after) << label << ": after re-running";
    } else if (state == State::kUnnamedTable) {
      // Version 0 landed but the name was never registered (lake_ddl.cc design note 2):
      // re-running must say so rather than fail with an unrelated error.
      auto rerun = session.Query(sc.statement);
      ASSERT_FALSE(rerun.ok()) << label;
      // CREATE TABLE and CTAS: "... already holds a Delta table that no name refers to".
      EXPECT_THAT(rerun.status().message(), HasSubstr("no name refers to"))
          << label << ": re-running after an ambiguous create: " << rerun.status();
    }
  }

  fs::path root_;
  std::string home_;
  fs::path template_;
  fs::path table_;
  std::set<std::string> template_files_;
  int64_t template_commits_ = 0;  // JSON commits of the table before the statement
};

TEST_P(SqlWriteFault, EveryFailedStorageCallLeavesTheOldOrTheNewVersion) {
  int64_t calls = 0;
  ASSERT_NO_FATAL_FAILURE(BuildTemplateAndCountCalls(&calls));
  ASSERT_GT(calls, 1);
  std::cout << GetParam().name << ": " << calls << " store calls in a clean run\n";
  for (Mode mode : kModes) {
    int failures = 0, ambiguous = 0;
    for (int64_t n = 1; n <= calls; ++n) {
      const std::string label = StrCat(GetParam().name, " ", ModeName(mode), " at call ", n);
      RestoreTemplate();
      int64_t made = 0;
      bool triggered = false;
      Status status = RunUnderFault(n, mode, &made, &triggered);
      ASSERT_TRUE(triggered) << label << ": only " << made << " calls";
      failures += !status.ok();
      ambiguous += !status.ok() && status.hint().find("may or may not") != std::string::npos;
      ASSERT_NO_FATAL_FAILURE(CheckAfterRun(status, mode, label));
      if (HasFailure()) return;  // one broken call is enough to read
    }
    std::cout << "  " << ModeName(mode) << ": " << failures << " of " << calls
              << " runs failed, " << ambiguous << " of them ambiguous\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Statements, SqlWriteFault, ::testing::ValuesIn(Scenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace lake::sql
