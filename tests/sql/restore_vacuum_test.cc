// RESTORE TABLE and VACUUM end to end (issue #4 §2, §3): a Lakehouse over a temp home. Expected
// rows, file sets and metrics are derived by hand from the statements' VALUES and from the
// commits' add actions (read as JSON, not through lake), and the conformance manifest.
// VACUUM's clock is moved with SetVacuumClockForTesting and files are aged with
// last_write_time: no sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "engine/internal/restore_vacuum.h"
#include "status_matchers.h"
#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;
using Json = nlohmann::json;

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Sets the modification time of `path` to `ms` since the epoch.
void SetMtimeMs(const fs::path& path, int64_t ms) {
  // The file clock's epoch is the implementation's: shift from "now" on both clocks.
  auto system = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  fs::last_write_time(path, std::chrono::file_clock::now() +
                                (system - std::chrono::system_clock::now()));
}

class RestoreVacuumTest : public testing::TempLakehouse<> {
 protected:
  RestoreVacuumTest() : TempLakehouse("restore_vacuum") {}
  void TearDown() override {
    engine::internal::SetVacuumClockForTesting(nullptr);
    TempLakehouse::TearDown();
  }

  // Creates table `name` (id BIGINT, v STRING) at data/<name>, registered by name.
  std::string Create(const std::string& name, const std::string& extra = "") {
    std::string location = (root_ / "data" / name).string();
    Exec("CREATE TABLE " + name + " (id BIGINT, v STRING) USING DELTA " + extra + " LOCATION '" +
         location + "'");
    return location;
  }
  // Every row of a whole statement (RESTORE / VACUUM cannot be a subquery, unlike Rows'
  // argument), values joined by '|'.
  std::vector<std::string> Run(const std::string& sql) {
    std::vector<std::string> out;
    auto result = Query(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status();
    if (!result.ok()) return out;
    for (const auto& row : result->rows) {
      std::vector<std::string> cells;
      for (const auto& cell : row) {
        if (auto* s = std::get_if<std::string>(&cell.v)) cells.push_back(*s);
        if (auto* i = std::get_if<int64_t>(&cell.v)) cells.push_back(std::to_string(*i));
      }
      out.push_back(StrJoin(cells, "|"));
    }
    return out;
  }
  void Exec(const std::string& sql) {
    auto r = Query(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
  }
  // The data files of the table on disk (relative, outside _delta_log).
  static std::set<std::string> FilesOnDisk(const std::string& location) {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(location)) {
      std::string rel = fs::relative(e.path(), location).string();
      if (e.is_regular_file() && rel.rfind("_delta_log", 0) != 0) out.insert(rel);
    }
    return out;
  }
  // The paths (as written) of the adds of commit `version`.
  static std::vector<std::string> AddedPaths(const std::string& location, int version) {
    std::vector<std::string> out;
    for (const Json& a : Of(Actions(location, version), "add")) out.push_back(a["path"]);
    return out;
  }
  static int64_t AddedBytes(const std::string& location, int version) {
    int64_t total = 0;
    for (const Json& a : Of(Actions(location, version), "add")) total += a["size"].get<int64_t>();
    return total;
  }
};

TEST_F(RestoreVacuumTest, RestoreByVersionReaddsAndRemovesFilesInOneCommit) {
  const std::string loc = Create("t");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");  // v1
  Exec("INSERT INTO t VALUES (3, 'c')");            // v2
  Exec("INSERT OVERWRITE t VALUES (9, 'z')");       // v3: removes v1's and v2's files
  ASSERT_EQ(AddedPaths(loc, 1).size(), 1u);
  ASSERT_EQ(AddedPaths(loc, 2).size(), 1u);
  ASSERT_EQ(AddedPaths(loc, 3).size(), 1u);
  const int64_t restored = AddedBytes(loc, 1) + AddedBytes(loc, 2);
  const int64_t removed = AddedBytes(loc, 3);

  // table_size_after, files_after, removed files, restored files, removed size, restored size.
  EXPECT_THAT(Run("RESTORE TABLE t TO VERSION AS OF 2"),
              ElementsAre(StrCat(restored, "|2|1|2|", removed, "|", restored)));
  EXPECT_THAT(Rows("SELECT id, v FROM t ORDER BY id"), ElementsAre("1|a", "2|b", "3|c"));

  auto actions = Actions(loc, 4);
  std::set<std::string> adds, removes;
  for (const Json& a : Of(actions, "add")) {
    adds.insert(a["path"]);
    EXPECT_TRUE(a["dataChange"].get<bool>());
  }
  for (const Json& r : Of(actions, "remove")) removes.insert(r["path"]);
  EXPECT_EQ(adds, (std::set<std::string>{AddedPaths(loc, 1)[0], AddedPaths(loc, 2)[0]}));
  EXPECT_EQ(removes, (std::set<std::string>{AddedPaths(loc, 3)[0]}));
  EXPECT_EQ(Of(actions, "metaData").size(), 1u);
  Json info = CommitInfo(loc, 4);
  EXPECT_EQ(info["operation"], "RESTORE");
  EXPECT_EQ(info["operationParameters"]["version"], "2");
  EXPECT_TRUE(info["operationParameters"]["timestamp"].is_null());
  EXPECT_EQ(info["operationMetrics"]["numRestoredFiles"], "2");
  EXPECT_EQ(info["operationMetrics"]["numRemovedFiles"], "1");
  EXPECT_EQ(info["operationMetrics"]["numOfFilesAfterRestore"], "2");
  EXPECT_EQ(info["operationMetrics"]["tableSizeAfterRestore"], StrCat(restored));
  EXPECT_EQ(info["operationMetrics"]["restoredFilesSize"], StrCat(restored));
  EXPECT_EQ(info["operationMetrics"]["removedFilesSize"], StrCat(removed));
  EXPECT_THAT(Validate(loc), IsEmpty());

  // Time travel still sees every version, the restore included.
  EXPECT_THAT(Rows("SELECT id FROM t VERSION AS OF 3"), ElementsAre("9"));
  EXPECT_THAT(Rows("SELECT id FROM t VERSION AS OF 4 ORDER BY id"), ElementsAre("1", "2", "3"));
  EXPECT_THAT(Rows("SELECT id FROM t VERSION AS OF 1 ORDER BY id"), ElementsAre("1", "2"));
  // Restoring forward again (to the overwrite) is a restore like any other.
  EXPECT_THAT(Run("RESTORE t TO VERSION AS OF 3"),
              ElementsAre(StrCat(removed, "|1|2|1|", restored, "|", removed)));
  EXPECT_THAT(Rows("SELECT id FROM t"), ElementsAre("9"));
}

TEST_F(RestoreVacuumTest, RestoreByTimestampPicksTheVersionCommittedBefore) {
  const std::string loc = Create("t");
  Exec("INSERT INTO t VALUES (1, 'a')");  // v1
  Exec("INSERT INTO t VALUES (2, 'b')");  // v2
  // Commit times are the commit files' mtimes: one hour apart from 2024-01-01 00:00 UTC.
  const int64_t base = 1704067200000;
  for (int v = 0; v <= 2; ++v) {
    char name[32];
    std::snprintf(name, sizeof(name), "%020d.json", v);
    SetMtimeMs(fs::path(loc) / "_delta_log" / name, base + v * kHourMs);
  }
  auto r = Query("RESTORE TABLE delta.`" + loc + "` TO TIMESTAMP AS OF '2024-01-01 01:30:00'");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Rows("SELECT id FROM t"), ElementsAre("1"));
  Json info = CommitInfo(loc, 3);
  EXPECT_EQ(info["operation"], "RESTORE");
  EXPECT_TRUE(info["operationParameters"]["version"].is_null());
  EXPECT_EQ(info["operationParameters"]["timestamp"], "2024-01-01 01:30:00");

  // Before the first commit: refused, naming the range.
  auto early = Query("RESTORE t TO TIMESTAMP AS OF '2023-12-31 00:00:00'");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), StatusCode::kInvalidArgument) << early.status();
  auto bad = Query("RESTORE t TO TIMESTAMP AS OF 'yesterday-ish'");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("is not a timestamp"));
}

TEST_F(RestoreVacuumTest, RestoreRefusesTheCurrentVersionAndMissingVersions) {
  Create("t");
  Exec("INSERT INTO t VALUES (1, 'a')");
  auto same = Query("RESTORE t TO VERSION AS OF 1");
  ASSERT_FALSE(same.ok());
  EXPECT_THAT(same.status().message(), HasSubstr("not older than the current version 1"));
  auto beyond = Query("RESTORE t TO VERSION AS OF 7");
  ASSERT_FALSE(beyond.ok());
  auto syntax = Query("RESTORE t TO VERSION 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_THAT(syntax.status().message(), HasSubstr("expected TO VERSION AS OF"));
}

TEST_F(RestoreVacuumTest, RestoreRefusesWhenVacuumDeletedTheFilesItNeeds) {
  const std::string loc = Create("t");
  Exec("INSERT INTO t VALUES (1, 'a')");       // v1
  Exec("INSERT OVERWRITE t VALUES (2, 'b')");  // v2 removes v1's file
  const std::string gone = AddedPaths(loc, 1)[0];
  // Eight days later the tombstone (and the file's mtime) are out of the default window.
  const int64_t later = NowMs() + 8 * kDayMs;
  engine::internal::SetVacuumClockForTesting([later] { return later; });
  Exec("VACUUM t");
  ASSERT_FALSE(fs::exists(fs::path(loc) / gone));
  auto r = Query("RESTORE TABLE t TO VERSION AS OF 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr(gone));
  EXPECT_THAT(r.status().hint(), HasSubstr("VACUUM"));
  EXPECT_FALSE(HasCommit(loc, 5)) << "a refused restore commits nothing";  // 3, 4: VACUUM
  EXPECT_THAT(Rows("SELECT id FROM t"), ElementsAre("2"));
}

TEST_F(RestoreVacuumTest, RestoreOfAConformanceTableCopyMatchesItsManifest) {
  const std::string name = "delta-spark-golden/basic-with-inserts-deletes-checkpoint";
  std::ifstream in(std::string(LAKE_CONFORMANCE_DIR) + "/manifest.json");
  Json manifest = Json::parse(in);
  Json table;
  for (const Json& t : manifest["tables"]) {
    if (t["path"] == name) table = t;
  }
  ASSERT_FALSE(table.is_null());
  const fs::path copy = root_ / "data" / "copy";
  fs::copy(fs::path(LAKE_CONFORMANCE_DIR) / name, copy, fs::copy_options::recursive);
  const Json& latest = table["expect"]["versions"][13];
  const Json& v6 = table["expect"]["versions"][6];
  ASSERT_EQ(latest["version"], 13);
  std::set<std::string> now(latest["active_files"].begin(), latest["active_files"].end());
  std::set<std::string> then(v6["active_files"].begin(), v6["active_files"].end());
  int restored = 0, removed = 0;
  for (const std::string& f : then) restored += !now.count(f);
  for (const std::string& f : now) removed += !then.count(f);

  auto r = Query("RESTORE delta.`" + copy.string() + "` TO VERSION AS OF 6");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(r->rows[0][0].v), v6["size_bytes"].get<int64_t>());
  EXPECT_EQ(std::get<int64_t>(r->rows[0][1].v), v6["num_files"].get<int64_t>());
  EXPECT_EQ(std::get<int64_t>(r->rows[0][2].v), removed);
  EXPECT_EQ(std::get<int64_t>(r->rows[0][3].v), restored);
  EXPECT_EQ(One("SELECT count(*) FROM delta.`" + copy.string() + "`"),
            StrCat(v6["row_count"].get<int64_t>()));
  std::vector<std::string> expected;
  for (const Json& row : v6["rows"]) expected.push_back(StrCat(row[0].get<int64_t>()));
  EXPECT_THAT(Rows("SELECT * FROM delta.`" + copy.string() + "`"),
              UnorderedElementsAreArray(expected));
  EXPECT_THAT(Validate(copy.string()), IsEmpty());
}

TEST_F(RestoreVacuumTest, VacuumKeepsRetainedVersionsAndYoungOrphansDeletesTheRest) {
  const std::string loc = Create("t");
  Exec("INSERT INTO t VALUES (1, 'a')");       // v1: file A
  Exec("INSERT INTO t VALUES (2, 'b')");       // v2: file B
  Exec("INSERT OVERWRITE t VALUES (3, 'c')");  // v3: removes A, B; adds C
  Exec("INSERT INTO t VALUES (4, 'd')");       // v4: file D
  const std::string a = AddedPaths(loc, 1)[0], b = AddedPaths(loc, 2)[0];
  const std::string c = AddedPaths(loc, 3)[0], d = AddedPaths(loc, 4)[0];
  const int64_t t0 = NowMs();
  // Orphans (no commit names them): one a month old, one written just now. Hidden files
  // (a leading '_' or '.') are never VACUUM's, however old.
  const fs::path root(loc);
  for (const char* f : {"orphan-old.parquet", "orphan-young.parquet", "_tmp_hidden.parquet",
                        ".hidden.crc"}) {
    std::ofstream(root / f) << "x";
  }
  fs::create_directories(root / "_staging");
  std::ofstream(root / "_staging" / "x.parquet") << "x";
  for (const char* f : {"orphan-old.parquet", "_tmp_hidden.parquet", ".hidden.crc",
                        "_staging/x.parquet"}) {
    SetMtimeMs(root / f, t0 - 30 * kDayMs);
  }

  // (1) Now, default retention (7 days): the tombstones of A and B are inside the window.
  EXPECT_THAT(Run("VACUUM t DRY RUN"), ElementsAre((root / "orphan-old.parquet").string()));
  EXPECT_THAT(Run("VACUUM t"), ElementsAre(loc));
  EXPECT_EQ(FilesOnDisk(loc),
            (std::set<std::string>{a, b, c, d, "orphan-young.parquet", "_tmp_hidden.parquet",
                                   ".hidden.crc", "_staging/x.parquet"}));
  Json start = CommitInfo(loc, 5), end = CommitInfo(loc, 6);
  EXPECT_EQ(start["operation"], "VACUUM START");
  EXPECT_EQ(start["operationMetrics"]["numFilesToDelete"], "1");
  EXPECT_EQ(start["operationMetrics"]["sizeOfDataToDelete"], "1");
  EXPECT_EQ(start["operationParameters"]["defaultRetentionMillis"], StrCat(7 * kDayMs));
  EXPECT_EQ(end["operation"], "VACUUM END");
  EXPECT_EQ(end["operationParameters"]["status"], "COMPLETED");
  EXPECT_EQ(end["operationMetrics"]["numDeletedFiles"], "1");
  EXPECT_TRUE(Of(Actions(loc, 5), "add").empty() && Of(Actions(loc, 6), "remove").empty());
  // Every version inside the window still reads.
  EXPECT_THAT(Rows("SELECT id FROM t VERSION AS OF 1"), ElementsAre("1"));
  EXPECT_THAT(Rows("SELECT id FROM t VERSION AS OF 2 ORDER BY id"), ElementsAre("1", "2"));
  EXPECT_THAT(Rows("SELECT id FROM t VERSION AS OF 3"), ElementsAre("3"));

  // (2) Eight days later: A and B's tombstones expired; the young orphan is old now too.
  const int64_t later = t0 + 8 * kDayMs;
  engine::internal::SetVacuumClockForTesting([later] { return later; });
  std::vector<std::string> listed = Run("VACUUM t DRY RUN");
  EXPECT_THAT(listed, UnorderedElementsAreArray(std::vector<std::string>{
                          (root / a).string(), (root / b).string(),
                          (root / "orphan-young.parquet").string()}));
  Exec("VACUUM t");
  // DRY RUN listed exactly what the real run deleted.
  EXPECT_EQ(FilesOnDisk(loc), (std::set<std::string>{c, d, "_tmp_hidden.parquet", ".hidden.crc",
                                                     "_staging/x.parquet"}));
  EXPECT_EQ(CommitInfo(loc, 8)["operationMetrics"]["numDeletedFiles"], "3");
  EXPECT_THAT(Rows("SELECT id FROM t ORDER BY id"), ElementsAre("3", "4"));
  EXPECT_THAT(Rows("SELECT id FROM t VERSION AS OF 3"), ElementsAre("3"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(RestoreVacuumTest, VacuumCleansPartitionFoldersAndRemovesEmptiedOnes) {
  const std::string loc = Create("p", "PARTITIONED BY (v)");
  Exec("INSERT INTO p VALUES (1, 'eu'), (2, 'us')");  // v1: v=eu/..., v=us/...
  Exec("INSERT OVERWRITE p VALUES (3, 'eu')");         // v2: removes both
  const fs::path root(loc);
  ASSERT_TRUE(fs::is_directory(root / "v=us"));
  const int64_t later = NowMs() + 8 * kDayMs;
  engine::internal::SetVacuumClockForTesting([later] { return later; });
  std::vector<std::string> listed = Run("VACUUM delta.`" + loc + "` DRY RUN");
  EXPECT_EQ(listed.size(), 2u);
  for (const std::string& path : listed) {
    EXPECT_TRUE(path.find("/v=eu/") != std::string::npos || path.find("/v=us/") != std::string::npos)
        << path;
  }
  Exec("VACUUM delta.`" + loc + "`");
  EXPECT_FALSE(fs::exists(root / "v=us")) << "the emptied partition folder is removed";
  EXPECT_TRUE(fs::is_directory(root / "v=eu"));
  EXPECT_EQ(FilesOnDisk(loc).size(), 1u);
  EXPECT_THAT(Rows("SELECT id, v FROM p"), ElementsAre("3|eu"));
}

TEST_F(RestoreVacuumTest, ShortRetentionIsRefusedUnlessTheCheckIsOff) {
  const std::string loc = Create("t");
  Exec("INSERT INTO t VALUES (1, 'a')");
  Exec("INSERT OVERWRITE t VALUES (2, 'b')");
  const std::string a = AddedPaths(loc, 1)[0];
  auto r = Query("VACUUM t RETAIN 1 HOURS");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("168 hours"));
  EXPECT_THAT(r.status().hint(), HasSubstr("lake.vacuum.retentionCheck = false"));
  EXPECT_TRUE(Run("VACUUM t RETAIN 200 HOURS DRY RUN").empty());
  auto negative = Query("VACUUM t RETAIN -1 HOURS");
  ASSERT_FALSE(negative.ok());

  Exec("SET lake.vacuum.retentionCheck = false");
  // Two hours from now, with 1 hour retained: the tombstone of A (and A itself) are older.
  const int64_t later = NowMs() + 2 * kHourMs;
  engine::internal::SetVacuumClockForTesting([later] { return later; });
  EXPECT_THAT(Run("VACUUM t RETAIN 1 HOURS DRY RUN"), ElementsAre((fs::path(loc) / a).string()));
  Exec("VACUUM t RETAIN 1 HOURS");
  EXPECT_FALSE(fs::exists(fs::path(loc) / a));
  Json start = CommitInfo(loc, 3);
  EXPECT_EQ(start["operationParameters"]["retentionCheckEnabled"], false);
  EXPECT_EQ(start["operationParameters"]["specifiedRetentionMillis"], StrCat(kHourMs));
  EXPECT_THAT(Rows("SELECT id FROM t"), ElementsAre("2"));
}

TEST_F(RestoreVacuumTest, VacuumRunsTheWriterProtocolCheck) {
  // vacuumProtocolCheck with a writer feature lake does not know: readable, not vacuumable.
  const fs::path loc = root_ / "data" / "vpc";
  fs::create_directories(loc / "_delta_log");
  std::ofstream(loc / "_delta_log" / "00000000000000000000.json")
      << R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,)"
      << R"("readerFeatures":["vacuumProtocolCheck"],)"
      << R"("writerFeatures":["vacuumProtocolCheck","someFutureWriterFeature"]}})" << "\n"
      << R"({"metaData":{"id":"5b1e1e7e-0000-4000-8000-000000000001","format":{"provider":"parquet","options":{}},)"
      << R"("schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}",)"
      << R"("partitionColumns":[],"configuration":{},"createdTime":1700000000000}})" << "\n";
  EXPECT_EQ(One("SELECT count(*) FROM delta.`" + loc.string() + "`"), "0");
  for (const std::string& sql : {"VACUUM delta.`" + loc.string() + "` DRY RUN",
                                 "VACUUM delta.`" + loc.string() + "`"}) {
    auto r = Query(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), StatusCode::kNotSupported) << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr("someFutureWriterFeature"));
  }
  EXPECT_FALSE(fs::exists(loc / "_delta_log" / "00000000000000000001.json"));

  // The conformance table with the feature (and only known ones) vacuums.
  const fs::path copy = root_ / "data" / "vpc-copy";
  fs::copy(fs::path(LAKE_CONFORMANCE_DIR) / "delta-spark-golden/basic-with-vacuum-protocol-check-feature",
           copy, fs::copy_options::recursive);
  EXPECT_TRUE(Run("VACUUM '" + copy.string() + "' DRY RUN").empty());
  auto r = Query("VACUUM delta.`" + copy.string() + "`");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(One("SELECT count(*) FROM delta.`" + copy.string() + "`"), "100");
}

}  // namespace
}  // namespace lake::sql
