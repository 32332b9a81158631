// table_changes / table_changes_by_path end to end (issue #4 §2, change data feed read side)
// on tables written by lake's own INSERT / INSERT OVERWRITE / OPTIMIZE / ALTER TABLE. No cdc
// files are involved here (lake's DML does not write them yet): every change row is derived
// from add/remove actions. Expected rows are worked out by hand from the statements; the
// commit timestamps are read from the commit files' modification times on disk.
// The conformance tables with cdc files and deletion vectors: tests/conformance/
// cdf_conformance_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "status_matchers.h"
#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr const char* kCdf = "TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')";

class TableChangesTest : public testing::TempLakehouse<> {
 protected:
  TableChangesTest() : TempLakehouse("table_changes") {}

  void Exec(const std::string& sql) {
    auto r = Query(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
  }
  std::string Location(const std::string& name) { return (root_ / "data" / name).string(); }
  // The change rows of `call` as id|v|type|version, ordered by version, type, id.
  std::vector<std::string> Changes(const std::string& call) {
    return Rows("SELECT id, v, _change_type, _commit_version FROM " + call +
                " ORDER BY _commit_version, _change_type, id");
  }
  // Milliseconds since the epoch of the commit file's modification time.
  static int64_t CommitMtimeMs(const std::string& location, int version) {
    char name[32];
    std::snprintf(name, sizeof(name), "%020d.json", version);
    auto t = fs::last_write_time(fs::path(location) / "_delta_log" / name);
    auto sys = std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::file_clock::to_sys(t));
    return sys.time_since_epoch().count();
  }
};

TEST_F(TableChangesTest, InsertsAndOverwritesBecomeInsertAndDeleteRows) {
  const std::string loc = Location("t");
  Exec("CREATE TABLE t (id BIGINT, v STRING) USING DELTA " + std::string(kCdf) + " LOCATION '" +
       loc + "'");                                       // v0
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");      // v1
  Exec("INSERT INTO t VALUES (3, 'c')");                // v2
  Exec("INSERT OVERWRITE TABLE t SELECT 9, 'z'");       // v3: removes both files
  EXPECT_THAT(Changes("table_changes('t', 0)"),
              ElementsAre("1|a|insert|1", "2|b|insert|1", "3|c|insert|2", "1|a|delete|3",
                          "2|b|delete|3", "3|c|delete|3", "9|z|insert|3"));
  // A range, by name and by path; the end is inclusive.
  EXPECT_THAT(Changes("table_changes('t', 2, 2)"), ElementsAre("3|c|insert|2"));
  EXPECT_THAT(Changes("table_changes_by_path('" + loc + "', 1, 2)"),
              ElementsAre("1|a|insert|1", "2|b|insert|1", "3|c|insert|2"));
  // Spark clamps an end after the latest version.
  EXPECT_THAT(Changes("table_changes('t', 3, 99)"),
              ElementsAre("1|a|delete|3", "2|b|delete|3", "3|c|delete|3", "9|z|insert|3"));
  // Version 0 only creates the table: no rows, but the feed's columns and types.
  EXPECT_THAT(Changes("table_changes('t', 0, 0)"), IsEmpty());
  EXPECT_THAT(Rows("SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM "
                   "table_changes('t', 0, 0))"),
              ElementsAre("id BIGINT", "v VARCHAR", "_change_type VARCHAR",
                          "_commit_version BIGINT",
                          "_commit_timestamp TIMESTAMP WITH TIME ZONE"));
}

TEST_F(TableChangesTest, AFileReaddedByRestoreIsInsertedAgain) {
  const std::string loc = Location("t");
  Exec("CREATE TABLE t (id BIGINT, v STRING) USING DELTA " + std::string(kCdf) + " LOCATION '" +
       loc + "'");
  Exec("INSERT INTO t VALUES (1, 'a')");            // v1: file A
  Exec("INSERT OVERWRITE TABLE t SELECT 9, 'z'");   // v2: removes A, adds B
  Exec("RESTORE TABLE t TO VERSION AS OF 1");       // v3: re-adds A, removes B
  // A is added twice in the range: each add is an insert at its own version.
  EXPECT_THAT(Changes("table_changes('t', 0)"),
              ElementsAre("1|a|insert|1", "1|a|delete|2", "9|z|insert|2", "9|z|delete|3",
                          "1|a|insert|3"));
}

TEST_F(TableChangesTest, CommitTimestampIsTheCommitFilesModificationTime) {
  const std::string loc = Location("t");
  Exec("CREATE TABLE t (id BIGINT, v STRING) USING DELTA " + std::string(kCdf) + " LOCATION '" +
       loc + "'");
  Exec("INSERT INTO t VALUES (1, 'a')");
  // 2024-01-02 03:04:05.678 UTC = 1704164645678 ms: far from the commitInfo.timestamp lake
  // wrote, so reading that instead of the file's time shows.
  fs::last_write_time(fs::path(loc) / "_delta_log" / "00000000000000000001.json",
                      std::chrono::file_clock::from_sys(std::chrono::sys_time<std::chrono::milliseconds>(
                          std::chrono::milliseconds(1704164645678))));
  EXPECT_EQ(One("SELECT DISTINCT strftime(_commit_timestamp AT TIME ZONE 'UTC', "
                "'%Y-%m-%d %H:%M:%S.%g') FROM table_changes('t', 1, 1)"),
            "2024-01-02 03:04:05.678");
}

TEST_F(TableChangesTest, CommitTimestampIsTheInCommitTimestampWhenThereIsOne) {
  // delta-rs/cdc_ict_table (read only): commit 1's commitInfo has
  // "inCommitTimestamp":1683874206883 = 2023-05-12 06:50:06.883 UTC.
  const std::string dir = std::string(LAKE_CONFORMANCE_DIR) + "/delta-rs/cdc_ict_table";
  EXPECT_EQ(One("SELECT DISTINCT epoch_ms(_commit_timestamp) FROM table_changes_by_path('" + dir +
                "', 1, 1)"),
            "1683874206883");
}

TEST_F(TableChangesTest, TimestampBoundsPickTheFirstCommitAtOrAfterAndTheLastAtOrBefore) {
  const std::string loc = Location("t");
  Exec("CREATE TABLE t (id BIGINT, v STRING) USING DELTA " + std::string(kCdf) + " LOCATION '" +
       loc + "'");
  Exec("INSERT INTO t VALUES (1, 'a')");  // v1
  Exec("INSERT INTO t VALUES (2, 'b')");  // v2
  Exec("INSERT INTO t VALUES (3, 'c')");  // v3
  // Give the commits distinct, known times an hour apart.
  const auto base = std::chrono::file_clock::from_sys(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) -
      std::chrono::hours(10));
  for (int version = 0; version <= 3; ++version) {
    char name[32];
    std::snprintf(name, sizeof(name), "%020d.json", version);
    fs::last_write_time(fs::path(loc) / "_delta_log" / name, base + std::chrono::hours(version));
  }
  auto ts = [&](int version, int minutes) {
    int64_t ms = CommitMtimeMs(loc, version) + int64_t{minutes} * 60000;
    return One("SELECT strftime(make_timestamp(" + std::to_string(ms * 1000) +
               "), '%Y-%m-%d %H:%M:%S.%g')");
  };
  // Start 30 minutes after v1 -> v2; end 30 minutes after v2 -> v2.
  EXPECT_THAT(Changes("table_changes('t', '" + ts(1, 30) + "', '" + ts(2, 30) + "')"),
              ElementsAre("2|b|insert|2"));
  // Exactly at a commit's time includes it at both ends.
  EXPECT_THAT(Changes("table_changes('t', '" + ts(1, 0) + "', '" + ts(1, 0) + "')"),
              ElementsAre("1|a|insert|1"));
  // Start after the latest commit.
  auto late = Query("SELECT * FROM table_changes('t', '" + ts(3, 30) + "')");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kInvalidArgument) << late.status();
  EXPECT_THAT(late.status().message(), HasSubstr("after the latest commit"));
}

TEST_F(TableChangesTest, PartitionOverwriteDeletesOnlyThatPartitionsRows) {
  const std::string loc = Location("p");
  Exec("CREATE TABLE p (id BIGINT, v STRING) USING DELTA PARTITIONED BY (v) " +
       std::string(kCdf) + " LOCATION '" + loc + "'");
  Exec("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us')");  // v1
  Exec("INSERT OVERWRITE p PARTITION (v = 'eu') SELECT 7");       // v2
  EXPECT_THAT(Changes("table_changes('p', 2)"),
              ElementsAre("1|eu|delete|2", "2|eu|delete|2", "7|eu|insert|2"));
}

TEST_F(TableChangesTest, OptimizeContributesNoChangeRows) {
  const std::string loc = Location("t");
  Exec("CREATE TABLE t (id BIGINT, v STRING) USING DELTA " + std::string(kCdf) + " LOCATION '" +
       loc + "'");
  Exec("INSERT INTO t VALUES (1, 'a')");  // v1
  Exec("INSERT INTO t VALUES (2, 'b')");  // v2
  Exec("OPTIMIZE t");                     // v3: dataChange=false remove + add
  ASSERT_TRUE(HasCommit(loc, 3));
  EXPECT_THAT(Changes("table_changes('t', 3)"), IsEmpty());
  EXPECT_THAT(Changes("table_changes('t', 1)"), ElementsAre("1|a|insert|1", "2|b|insert|2"));
}

TEST_F(TableChangesTest, RangesBeforeTheFeedWasEnabledAreRefused) {
  const std::string loc = Location("t");
  Exec("CREATE TABLE t (id BIGINT, v STRING) USING DELTA LOCATION '" + loc + "'");  // v0
  Exec("INSERT INTO t VALUES (1, 'a')");                                            // v1
  auto off = Query("SELECT * FROM table_changes('t', 0)");
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.status().code(), StatusCode::kFailedPrecondition) << off.status();
  EXPECT_THAT(off.status().message(), HasSubstr("change data was not recorded for version 0"));
  Exec("ALTER TABLE t SET TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')");  // v2
  Exec("INSERT INTO t VALUES (2, 'b')");                                            // v3
  auto before = Query("SELECT * FROM table_changes('t', 1)");
  ASSERT_FALSE(before.ok());
  EXPECT_THAT(before.status().message(), HasSubstr("not recorded for version 1"));
  // From the commit that enabled it on, the feed reads.
  EXPECT_THAT(Changes("table_changes('t', 2)"), ElementsAre("2|b|insert|3"));
}

TEST_F(TableChangesTest, BadRangesAndNamesAreRefused) {
  const std::string loc = Location("t");
  Exec("CREATE TABLE t (id BIGINT, v STRING) USING DELTA " + std::string(kCdf) + " LOCATION '" +
       loc + "'");
  Exec("INSERT INTO t VALUES (1, 'a')");  // v1
  auto after = Query("SELECT * FROM table_changes('t', 5)");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kInvalidArgument) << after.status();
  EXPECT_THAT(after.status().message(), HasSubstr("after the latest version 1"));
  auto reversed = Query("SELECT * FROM table_changes('t', 1, 0)");
  ASSERT_FALSE(reversed.ok());
  EXPECT_THAT(reversed.status().message(), HasSubstr("start version 1 is after the end version 0"));
  auto negative = Query("SELECT * FROM table_changes('t', -1)");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument) << negative.status();
  auto missing = Query("SELECT * FROM table_changes('nope', 0)");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status();
  auto not_ts = Query("SELECT * FROM table_changes('t', 'yesterday')");
  ASSERT_FALSE(not_ts.ok());
  EXPECT_THAT(not_ts.status().message(), HasSubstr("is not a timestamp"));
}

TEST_F(TableChangesTest, ARangeAcrossASchemaChangeIsRefusedEachSideReads) {
  const std::string loc = Location("t");
  Exec("CREATE TABLE t (id BIGINT, v STRING) USING DELTA " + std::string(kCdf) + " LOCATION '" +
       loc + "'");
  Exec("INSERT INTO t VALUES (1, 'a')");          // v1
  Exec("ALTER TABLE t ADD COLUMNS (note STRING)");  // v2
  Exec("INSERT INTO t VALUES (2, 'b', 'n')");     // v3
  auto across = Query("SELECT * FROM table_changes('t', 1)");
  ASSERT_FALSE(across.ok());
  EXPECT_EQ(across.status().code(), StatusCode::kNotSupported) << across.status();
  EXPECT_THAT(across.status().message(), HasSubstr("schema or partitioning changes at version 2"));
  EXPECT_THAT(Changes("table_changes('t', 1, 1)"), ElementsAre("1|a|insert|1"));
  EXPECT_THAT(Rows("SELECT id, v, note, _change_type FROM table_changes('t', 2)"),
              ElementsAre("2|b|n|insert"));
}

TEST_F(TableChangesTest, QualifiedNamesResolveThroughTheCatalog) {
  Exec("CREATE SCHEMA s");
  Exec("CREATE TABLE s.t (id BIGINT, v STRING) USING DELTA " + std::string(kCdf));
  Exec("INSERT INTO s.t VALUES (4, 'd')");
  EXPECT_THAT(Changes("table_changes('s.t', 1)"), ElementsAre("4|d|insert|1"));
  EXPECT_THAT(Changes("table_changes('lake.s.t', 1)"), ElementsAre("4|d|insert|1"));
  auto missing = Query("SELECT * FROM table_changes('s.nope', 0)");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status();
}

TEST_F(TableChangesTest, ColumnMappedTableReturnsLogicalNames) {
  const std::string loc = Location("cm");
  Exec("CREATE TABLE cm (id BIGINT, v STRING) USING DELTA TBLPROPERTIES "
       "('delta.enableChangeDataFeed' = 'true', 'delta.columnMapping.mode' = 'name') "
       "LOCATION '" + loc + "'");
  Exec("INSERT INTO cm VALUES (1, 'a')");                 // v1
  Exec("INSERT OVERWRITE TABLE cm SELECT 2, 'b'");        // v2
  EXPECT_THAT(Changes("table_changes('cm', 1)"),
              ElementsAre("1|a|insert|1", "1|a|delete|2", "2|b|insert|2"));
}

}  // namespace
}  // namespace lake::sql
