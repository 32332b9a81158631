// Change data written by lake's DML on tables with delta.enableChangeDataFeed = true (issue #4
// §2, change_data_writer.h): UPDATE, DELETE (part of a file, whole files, a partition) and
// INSERT ... REPLACE WHERE, on unpartitioned, partitioned and column-mapped tables and on a
// copy of a Spark-written CDF table. Each test reads the feed back with table_changes against
// rows worked out by hand from the statements, reads the cdc files directly with read_parquet,
// checks their names and actions as Spark writes them, and runs the protocol validator.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "base/strings.h"
#include "engine/internal/restore_vacuum.h"
#include "status_matchers.h"
#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr const char* kCdf = "TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')";

class CdfWriteTest : public testing::TempLakehouse<> {
 protected:
  CdfWriteTest() : TempLakehouse("cdf_write") {}
  void TearDown() override {
    engine::internal::SetVacuumClockForTesting(nullptr);
    TempLakehouse::TearDown();
  }

  void Exec(const std::string& sql) {
    auto r = Query(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
  }
  std::string Location(const std::string& name) { return (root_ / "data" / name).string(); }
  // CREATE TABLE name (<columns>) ... with change data feed on; returns its location.
  std::string Create(const std::string& name, const std::string& columns,
                     const std::string& extra = "", const std::string& properties = "") {
    const std::string loc = Location(name);
    Exec(StrCat("CREATE TABLE ", name, " (", columns, ") USING DELTA ", extra,
                " TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true'", properties,
                ") LOCATION '", loc, "'"));
    return loc;
  }
  // The change rows of `call` as <columns>|type|version, by version, type, then `columns`.
  std::vector<std::string> Changes(const std::string& call, const std::string& columns = "id, v") {
    return Rows(StrCat("SELECT ", columns, ", _change_type, _commit_version FROM ", call,
                       " ORDER BY _commit_version, _change_type, ", columns));
  }
  // The first column of every row of a statement (VACUUM cannot be a subquery).
  std::vector<std::string> FirstColumn(const std::string& sql) {
    std::vector<std::string> out;
    auto result = Query(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status();
    if (!result.ok()) return out;
    for (const auto& row : result->rows) {
      if (auto* text = std::get_if<std::string>(&row[0].v)) out.push_back(*text);
    }
    return out;
  }
  // The cdc actions of commit `version`.
  static std::vector<Json> Cdcs(const std::string& loc, int version) {
    return Of(Actions(loc, version), "cdc");
  }
  // The rows of the cdc files of commit `version` read with read_parquet (no partition
  // columns: they live in the folder names only), as <columns>|_change_type, sorted.
  std::vector<std::string> CdcFileRows(const std::string& loc, int version,
                                       const std::string& columns = "id, v") {
    std::vector<std::string> files;
    for (const Json& cdc : Cdcs(loc, version)) {
      files.push_back(SqlQuote((fs::path(loc) / cdc["path"].get<std::string>()).string()));
    }
    if (files.empty()) return {};
    return Rows(StrCat("SELECT ", columns, ", _change_type FROM read_parquet([",
                       StrJoin(files, ", "), "], hive_partitioning = false) ORDER BY _change_type, ",
                       columns));
  }
  // Checks what Spark writes for each cdc action of `version`: _change_data/<partition
  // folders>/cdc-00000-<uuid>.c000.snappy.parquet, dataChange false, the file's size; and
  // that commitInfo counts them in numAddedChangeFiles.
  // `metric`: the operation's count of them (MERGE: numTargetChangeFilesAdded).
  void ExpectSparkShapedCdcs(const std::string& loc, int version,
                             const std::string& partition_folder_regex = "",
                             const std::string& metric = "numAddedChangeFiles") {
    const std::vector<Json> cdcs = Cdcs(loc, version);
    const std::regex name(StrCat("_change_data/", partition_folder_regex,
                                 "cdc-00000-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                 "[0-9a-f]{12}\\.c000\\.snappy\\.parquet"));
    for (const Json& cdc : cdcs) {
      const std::string path = cdc["path"].get<std::string>();
      EXPECT_TRUE(std::regex_match(path, name)) << path;
      EXPECT_EQ(cdc["dataChange"], false) << path;
      EXPECT_EQ(cdc["size"].get<int64_t>(),
                static_cast<int64_t>(fs::file_size(fs::path(loc) / path)))
          << path;
      EXPECT_TRUE(cdc["partitionValues"].is_object()) << path;
    }
    EXPECT_EQ(CommitInfo(loc, version)["operationMetrics"][metric], std::to_string(cdcs.size()));
  }
};

TEST_F(CdfWriteTest, UpdateRecordsPreimagesAndPostimagesOfTheUpdatedRowsOnly) {
  const std::string loc = Create("t", "id BIGINT, v STRING");    // v0
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");     // v1: one file
  Exec("UPDATE t SET v = 'B' WHERE id = 2");                     // v2: 1 and 3 copied
  // The copied rows are no change; without cdc files they would read as delete + insert.
  EXPECT_THAT(Changes("table_changes('t', 2)"),
              ElementsAre("2|B|update_postimage|2", "2|b|update_preimage|2"));
  EXPECT_THAT(Changes("table_changes('t', 0)"),
              ElementsAre("1|a|insert|1", "2|b|insert|1", "3|c|insert|1",
                          "2|B|update_postimage|2", "2|b|update_preimage|2"));
  ASSERT_THAT(Cdcs(loc, 2), Not(IsEmpty()));
  ExpectSparkShapedCdcs(loc, 2);
  EXPECT_THAT(CdcFileRows(loc, 2), ElementsAre("2|B|update_postimage", "2|b|update_preimage"));
  // A cdc file holds the data columns and _change_type, nothing else.
  const std::string first = (fs::path(loc) / Cdcs(loc, 2)[0]["path"].get<std::string>()).string();
  EXPECT_THAT(Rows("SELECT name FROM parquet_schema('" + first + "') WHERE name <> 'duckdb_schema'"),
              ElementsAre("id", "v", "_change_type"));
  const Json info = CommitInfo(loc, 2);
  EXPECT_EQ(info["operation"], "UPDATE");
  EXPECT_EQ(info["operationMetrics"]["numUpdatedRows"], "1");
  EXPECT_EQ(info["operationMetrics"]["numCopiedRows"], "2");
  EXPECT_THAT(Rows("SELECT id, v FROM t ORDER BY id"), ElementsAre("1|a", "2|B", "3|c"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(CdfWriteTest, UpdateOfAPartitionedTableWritesCdcFilesIntoPartitionFolders) {
  const std::string loc = Create("t", "id BIGINT, v STRING, p INT", "PARTITIONED BY (p)");
  Exec("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 2)");  // v1: p=1, p=2
  Exec("UPDATE t SET p = 2, v = 'm' WHERE id = 1");                     // v2: 1 moves to p=2
  EXPECT_THAT(Changes("table_changes('t', 2)", "id, v, p"),
              ElementsAre("1|m|2|update_postimage|2", "1|a|1|update_preimage|2"));
  ExpectSparkShapedCdcs(loc, 2, "p=[12]/");
  // Each file sits in its rows' partition folder and says so in partitionValues.
  for (const Json& cdc : Cdcs(loc, 2)) {
    const std::string path = cdc["path"].get<std::string>();
    const std::string p = cdc["partitionValues"]["p"].get<std::string>();
    EXPECT_EQ(path.rfind(StrCat("_change_data/p=", p, "/"), 0), 0u) << path;
    const std::string type = p == "1" ? "update_preimage" : "update_postimage";
    EXPECT_EQ(One(StrCat("SELECT string_agg(DISTINCT _change_type) FROM read_parquet('",
                         (fs::path(loc) / path).string(), "', hive_partitioning = false)")),
              type)
        << path;
  }
  EXPECT_THAT(Rows("SELECT id, v, p FROM t ORDER BY id"), ElementsAre("1|m|2", "2|b|1", "3|c|2"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(CdfWriteTest, DeleteOfPartOfAFileRecordsTheDeletedRowsOnly) {
  const std::string loc = Create("t", "id BIGINT, v STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");  // v1
  Exec("INSERT INTO t VALUES (4, 'd')");                      // v2
  Exec("DELETE FROM t WHERE id = 2");                         // v3: 1 and 3 copied
  EXPECT_THAT(Changes("table_changes('t', 3)"), ElementsAre("2|b|delete|3"));
  ASSERT_THAT(Cdcs(loc, 3), Not(IsEmpty()));
  ExpectSparkShapedCdcs(loc, 3);
  EXPECT_THAT(CdcFileRows(loc, 3), ElementsAre("2|b|delete"));
  EXPECT_EQ(CommitInfo(loc, 3)["operationMetrics"]["numDeletedRows"], "1");
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(CdfWriteTest, DeleteOfWholeAndPartialFilesRecordsEveryDeletedRow) {
  const std::string loc = Create("t", "id BIGINT, v STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");  // v1: file A
  Exec("INSERT INTO t VALUES (3, 'c')");            // v2: file B
  Exec("INSERT INTO t VALUES (4, 'd')");            // v3: file C
  // A is rewritten (1 copied), B removed whole. The commit has cdc files, so readers ignore
  // its removes: B's row must be in a cdc file too.
  Exec("DELETE FROM t WHERE id IN (2, 3)");  // v4
  EXPECT_THAT(Of(Actions(loc, 4), "remove"), SizeIs(2));
  EXPECT_THAT(Changes("table_changes('t', 4)"), ElementsAre("2|b|delete|4", "3|c|delete|4"));
  EXPECT_THAT(CdcFileRows(loc, 4), ElementsAre("2|b|delete", "3|c|delete"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(CdfWriteTest, DeleteOfWholeFilesOnlyIsRecordedByItsRemoves) {
  // Spark's metadata-only delete writes no cdc file: readers derive the deletes from the
  // removes (PROTOCOL.md "Change Data Files"), here a partition predicate...
  const std::string loc = Create("t", "id BIGINT, v STRING, p INT", "PARTITIONED BY (p)");
  Exec("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 2)");  // v1
  Exec("DELETE FROM t WHERE p = 1");                                    // v2
  EXPECT_THAT(Cdcs(loc, 2), IsEmpty());
  EXPECT_THAT(Of(Actions(loc, 2), "add"), IsEmpty());
  EXPECT_THAT(Changes("table_changes('t', 2)", "id, v, p"),
              ElementsAre("1|a|1|delete|2", "2|b|1|delete|2"));
  EXPECT_THAT(Validate(loc), IsEmpty());
  // ... and a data predicate every row of the file matches.
  const std::string u = Create("u", "id BIGINT, v STRING");
  Exec("INSERT INTO u VALUES (1, 'a'), (2, 'b')");  // v1
  Exec("INSERT INTO u VALUES (3, 'c')");            // v2
  Exec("DELETE FROM u WHERE id = 3");               // v3
  EXPECT_THAT(Cdcs(u, 3), IsEmpty());
  EXPECT_THAT(Changes("table_changes('u', 3)"), ElementsAre("3|c|delete|3"));
  EXPECT_THAT(Validate(u), IsEmpty());
}

TEST_F(CdfWriteTest, DeletionVectorsDoNotChangeWhatTheFeedRecords) {
  // With deletion vectors the removed rows stay in their files, hidden by a DV: the commit
  // still records exactly the deleted and updated rows.
  const std::string loc = Create("t", "id BIGINT, v STRING", "",
                                 ", 'delta.enableDeletionVectors' = 'true'");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')");  // v1: one file
  Exec("DELETE FROM t WHERE id = 2");                                   // v2
  Exec("UPDATE t SET v = 'C' WHERE id = 3");                            // v3
  for (int version : {2, 3}) {
    const std::vector<Json> adds = Of(Actions(loc, version), "add");
    EXPECT_TRUE(std::any_of(adds.begin(), adds.end(),
                            [](const Json& a) { return a.contains("deletionVector"); }))
        << "version " << version << " marks its rows in a deletion vector";
  }
  EXPECT_THAT(Changes("table_changes('t', 2)"),
              ElementsAre("2|b|delete|2", "3|C|update_postimage|3", "3|c|update_preimage|3"));
  EXPECT_THAT(CdcFileRows(loc, 3), ElementsAre("3|C|update_postimage", "3|c|update_preimage"));
  EXPECT_THAT(Rows("SELECT id, v FROM t ORDER BY id"), ElementsAre("1|a", "3|C", "4|d"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(CdfWriteTest, ReplaceWhereRewritingPartOfAFileRecordsDeletesAndInserts) {
  const std::string loc = Create("t", "id BIGINT, v STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");  // v1: one file
  Exec("INSERT INTO t REPLACE WHERE id >= 2 SELECT * FROM (VALUES (2, 'x'), (5, 'y')) s(id, v)");
  EXPECT_THAT(Changes("table_changes('t', 2)"),
              ElementsAre("2|b|delete|2", "3|c|delete|2", "2|x|insert|2", "5|y|insert|2"));
  ASSERT_THAT(Cdcs(loc, 2), Not(IsEmpty()));
  ExpectSparkShapedCdcs(loc, 2);
  EXPECT_THAT(CdcFileRows(loc, 2),
              ElementsAre("2|b|delete", "3|c|delete", "2|x|insert", "5|y|insert"));
  EXPECT_THAT(Rows("SELECT id, v FROM t ORDER BY id"), ElementsAre("1|a", "2|x", "5|y"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

// ---- MERGE (lake_merge.cc design note 7, Spark's MergeIntoCommand with CDF) ----

TEST_F(CdfWriteTest, MergeRecordsEveryClauseKindAndNothingForUntouchedRows) {
  const std::string loc = Create("t", "id BIGINT, v STRING");                     // v0
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')");  // v1
  // 1: matched, updated. 2: matched, deleted. 6: not matched, inserted; 7: not matched, no
  // clause takes it. 3: not matched by source, updated; 4: deleted; 5: no clause, copied.
  Exec("MERGE INTO t USING (VALUES (1, 'A'), (2, 'X'), (6, 'f'), (7, 'g')) s(id, v) "
       "ON t.id = s.id "
       "WHEN MATCHED AND t.id = 1 THEN UPDATE SET v = s.v "
       "WHEN MATCHED THEN DELETE "
       "WHEN NOT MATCHED AND s.id = 6 THEN INSERT * "
       "WHEN NOT MATCHED BY SOURCE AND t.id = 3 THEN UPDATE SET v = 'C' "
       "WHEN NOT MATCHED BY SOURCE AND t.id = 4 THEN DELETE");  // v2
  const std::vector<std::string> expected = {
      "2|b|delete|2",           "4|d|delete|2",           "6|f|insert|2",
      "1|A|update_postimage|2", "3|C|update_postimage|2", "1|a|update_preimage|2",
      "3|c|update_preimage|2"};
  EXPECT_THAT(Changes("table_changes('t', 2)"), ::testing::ElementsAreArray(expected));
  ASSERT_THAT(Cdcs(loc, 2), Not(IsEmpty()));
  ExpectSparkShapedCdcs(loc, 2, "", "numTargetChangeFilesAdded");
  EXPECT_THAT(CdcFileRows(loc, 2),
              ElementsAre("2|b|delete", "4|d|delete", "6|f|insert", "1|A|update_postimage",
                          "3|C|update_postimage", "1|a|update_preimage", "3|c|update_preimage"));
  const Json info = CommitInfo(loc, 2);
  EXPECT_EQ(info["operation"], "MERGE");
  EXPECT_EQ(info["operationMetrics"]["numTargetRowsCopied"], "1");
  // By path, the same feed.
  EXPECT_THAT(Changes("table_changes_by_path('" + loc + "', 2)"),
              ::testing::ElementsAreArray(expected));
  EXPECT_THAT(Rows("SELECT id, v FROM t ORDER BY id"), ElementsAre("1|A", "3|C", "5|e", "6|f"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(CdfWriteTest, MergeIntoAPartitionedTableWritesCdcFilesIntoPartitionFolders) {
  const std::string loc = Create("t", "id BIGINT, v STRING, p INT", "PARTITIONED BY (p)");
  Exec("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 2)");  // v1: p=1, p=2
  // 1 moves from p=1 to p=2; 4 is inserted into p=2; 3 (p=2, no source row) is deleted.
  Exec("MERGE INTO delta.`" + loc + "` AS t "
       "USING (VALUES (1, 'A', 2), (4, 'd', 2)) s(id, v, p) ON t.id = s.id "
       "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT * "
       "WHEN NOT MATCHED BY SOURCE AND t.p = 2 THEN DELETE");  // v2
  EXPECT_THAT(Changes("table_changes('t', 2)", "id, v, p"),
              ElementsAre("3|c|2|delete|2", "4|d|2|insert|2", "1|A|2|update_postimage|2",
                          "1|a|1|update_preimage|2"));
  ExpectSparkShapedCdcs(loc, 2, "p=[12]/", "numTargetChangeFilesAdded");
  for (const Json& cdc : Cdcs(loc, 2)) {
    const std::string path = cdc["path"].get<std::string>();
    const std::string p = cdc["partitionValues"]["p"].get<std::string>();
    EXPECT_EQ(path.rfind(StrCat("_change_data/p=", p, "/"), 0), 0u) << path;
  }
  EXPECT_THAT(CdcFileRows(loc, 2, "id, v"),
              ElementsAre("3|c|delete", "4|d|insert", "1|A|update_postimage",
                          "1|a|update_preimage"));
  EXPECT_THAT(Rows("SELECT id, v, p FROM t ORDER BY id"), ElementsAre("1|A|2", "2|b|1", "4|d|2"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(CdfWriteTest, MergeIntoADeletionVectorTableRecordsTheLiveRowsOnly) {
  const std::string loc = Create("t", "id BIGINT, v STRING", "",
                                 ", 'delta.enableDeletionVectors' = 'true'");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')");  // v1: one file
  Exec("MERGE INTO t USING (VALUES (2, 'B'), (3, NULL), (9, 'z')) s(id, v) ON t.id = s.id "
       "WHEN MATCHED AND s.v IS NULL THEN DELETE WHEN MATCHED THEN UPDATE SET v = s.v "
       "WHEN NOT MATCHED THEN INSERT *");  // v2: 2 and 3 hidden by a DV
  const std::vector<Json> adds = Of(Actions(loc, 2), "add");
  EXPECT_TRUE(std::any_of(adds.begin(), adds.end(),
                          [](const Json& a) { return a.contains("deletionVector"); }));
  EXPECT_THAT(Changes("table_changes('t', 2)"),
              ElementsAre("3|c|delete|2", "9|z|insert|2", "2|B|update_postimage|2",
                          "2|b|update_preimage|2"));
  // Every row not matched by the source: 2 (now in v2's file; its old copy is under the DV),
  // 4 (v1's file, under the DV) and 9. The preimages are the live rows, not the hidden ones.
  Exec("MERGE INTO t USING (SELECT 1 AS id) s ON t.id = s.id "
       "WHEN NOT MATCHED BY SOURCE THEN UPDATE SET v = t.v || '!'");  // v3
  EXPECT_THAT(Changes("table_changes('t', 3)"),
              ElementsAre("2|B!|update_postimage|3", "4|d!|update_postimage|3",
                          "9|z!|update_postimage|3", "2|B|update_preimage|3",
                          "4|d|update_preimage|3", "9|z|update_preimage|3"));
  ExpectSparkShapedCdcs(loc, 3, "", "numTargetChangeFilesAdded");
  EXPECT_THAT(Rows("SELECT id, v FROM t ORDER BY id"),
              ElementsAre("1|a", "2|B!", "4|d!", "9|z!"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(CdfWriteTest, MergeOfManyRowsFromParallelThreadsRecordsEachOnce) {
  const std::string loc = Create("t", "id BIGINT, v STRING");
  Exec("INSERT INTO t SELECT range AS id, 'o' AS v FROM range(100000)");  // v1
  // Even matched ids are updated, odd ones deleted; 100000..199999 are inserted.
  Exec("MERGE INTO t USING (SELECT range AS id FROM range(200000)) s ON t.id = s.id "
       "WHEN MATCHED AND t.id % 2 = 0 THEN UPDATE SET v = 'u' "
       "WHEN MATCHED THEN DELETE "
       "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, 'n')");  // v2
  EXPECT_THAT(Rows("SELECT _change_type, count(*), count(DISTINCT id), min(v), max(v), "
                   "sum(id % 2) FROM table_changes('t', 2) GROUP BY ALL ORDER BY 1"),
              ElementsAre("delete|50000|50000|o|o|50000", "insert|100000|100000|n|n|50000",
                          "update_postimage|50000|50000|u|u|0",
                          "update_preimage|50000|50000|o|o|0"));
  EXPECT_THAT(Validate(loc), IsEmpty());
}

TEST_F(CdfWriteTest, MergeThatChangesNothingCommitsNothing) {
  const std::string loc = Create("t", "id BIGINT, v STRING");
  Exec("INSERT INTO t VALUES (1, 'a')");  // v1
  Exec("MERGE INTO t USING (SELECT 7 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE");
  Exec("MERGE INTO t USING (SELECT 1 AS id) s ON t.id = s.id "
       "WHEN MATCHED AND s.id > 5 THEN DELETE WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, 'x')");
  EXPECT_FALSE(HasCommit(loc, 2));
  EXPECT_FALSE(fs::exists(fs::path(loc) / "_change_data"));
  EXPECT_THAT(Changes("table_changes('t', 0)"), ElementsAre("1|a|insert|1"));
}

TEST_F(CdfWriteTest, AppendsAndWholeFileOverwritesWriteNoCdcFiles) {
  const std::string loc = Create("t", "id BIGINT, v STRING, p INT", "PARTITIONED BY (p)");
  Exec("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2)");                  // v1
  Exec("INSERT OVERWRITE t PARTITION (p = 1) SELECT 7 AS id, 'q' AS v");  // v2: p=1 whole
  Exec("INSERT OVERWRITE TABLE t SELECT 9, 'z', 3");                     // v3
  for (int version = 1; version <= 3; ++version) {
    EXPECT_THAT(Cdcs(loc, version), IsEmpty()) << version;
  }
  EXPECT_FALSE(fs::exists(fs::path(loc) / "_change_data"));
  EXPECT_THAT(Changes("table_changes('t', 1)", "id, v, p"),
              ElementsAre("1|a|1|insert|1", "2|b|2|insert|1", "1|a|1|delete|2", "7|q|1|insert|2",
                          "2|b|2|delete|3", "7|q|1|delete|3", "9|z|3|insert|3"));
}

TEST_F(CdfWriteTest, ColumnMappedTableWritesPhysicalNamesInCdcFiles) {
  const std::string loc =
      Create("t", "id BIGINT, v STRING", "", ", 'delta.columnMapping.mode' = 'name'");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");  // v1
  Exec("UPDATE t SET v = 'z' WHERE id = 1");        // v2
  EXPECT_THAT(Changes("table_changes('t', 2)"),
              ElementsAre("1|z|update_postimage|2", "1|a|update_preimage|2"));
  const std::string file = (fs::path(loc) / Cdcs(loc, 2)[0]["path"].get<std::string>()).string();
  // col-<uuid> physical names, as in the data files; _change_type is not a table column.
  std::vector<std::string> names =
      Rows("SELECT name FROM parquet_schema('" + file + "') WHERE name <> 'duckdb_schema'");
  ASSERT_THAT(names, SizeIs(3));
  EXPECT_EQ(names[0].rfind("col-", 0), 0u) << names[0];
  EXPECT_EQ(names[1].rfind("col-", 0), 0u) << names[1];
  EXPECT_EQ(names[2], "_change_type");
  EXPECT_THAT(Validate(loc), IsEmpty());
  // Mode id: the data columns carry their Parquet field ids, read back by id.
  const std::string u =
      Create("u", "id BIGINT, v STRING", "", ", 'delta.columnMapping.mode' = 'id'");
  Exec("INSERT INTO u VALUES (1, 'a'), (2, 'b')");  // v1
  Exec("DELETE FROM u WHERE id = 2");               // v2: 1 copied
  EXPECT_THAT(Changes("table_changes('u', 2)"), ElementsAre("2|b|delete|2"));
  const std::string u_file = (fs::path(u) / Cdcs(u, 2)[0]["path"].get<std::string>()).string();
  EXPECT_THAT(Rows("SELECT field_id FROM parquet_schema('" + u_file +
                   "') WHERE name <> 'duckdb_schema' ORDER BY field_id NULLS LAST"),
              ElementsAre("1", "2", ""));
  EXPECT_THAT(Validate(u), IsEmpty());
}

TEST_F(CdfWriteTest, UpdateAndDeleteOnACopyOfASparkCdfTable) {
  // delta-kernel-rs/cdf-table-partitioned (Spark 3.5.3): (id, text, part) partitioned by
  // part; at version 2 it holds (1, 'new', 1) and (5, 'old', 1) in one file; its manifest
  // lists 12 change rows for versions 0-2.
  const std::string copy = Location("spark_cdf");
  fs::copy(std::string(LAKE_CONFORMANCE_DIR) + "/delta-kernel-rs/cdf-table-partitioned", copy,
           fs::copy_options::recursive);
  Exec("CREATE TABLE spark_cdf USING DELTA LOCATION '" + copy + "'");  // registers, no commit
  Exec("UPDATE spark_cdf SET text = 'newer' WHERE id = 5");  // v3: 1 copied
  Exec("DELETE FROM spark_cdf WHERE id = 1");                // v4: the copied file, whole
  const std::string call = "table_changes_by_path('" + copy + "', 3)";
  EXPECT_THAT(Changes(call, "id, text, part"),
              ElementsAre("5|newer|1|update_postimage|3", "5|old|1|update_preimage|3",
                          "1|new|1|delete|4"));
  ExpectSparkShapedCdcs(copy, 3, "part=1/");
  // Spark's cdc files and lake's read in one range.
  EXPECT_EQ(One("SELECT count(*) FROM table_changes_by_path('" + copy + "', 0)"), "15");
  EXPECT_THAT(Rows("SELECT id, text, part FROM delta.`" + copy + "` ORDER BY id"),
              ElementsAre("5|newer|1"));
  EXPECT_THAT(Validate(copy), IsEmpty());
}

TEST_F(CdfWriteTest, VacuumDeletesExpiredChangeDataFilesLikeDataFiles) {
  const std::string loc = Create("t", "id BIGINT, v STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");  // v1
  Exec("UPDATE t SET v = 'z' WHERE id = 1");        // v2
  std::vector<std::string> cdc_files;
  for (const Json& cdc : Cdcs(loc, 2)) {
    cdc_files.push_back((fs::path(loc) / cdc["path"].get<std::string>()).string());
  }
  ASSERT_THAT(cdc_files, Not(IsEmpty()));
  // Inside the default 7-day window nothing goes, cdc files included.
  EXPECT_THAT(FirstColumn("VACUUM t DRY RUN"), IsEmpty());
  // Two hours on, with 1 hour retained, they are as expired as the removed data file.
  Exec("SET lake.vacuum.retentionCheck = false");
  const int64_t later = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() +
                        2 * 3600 * 1000;
  engine::internal::SetVacuumClockForTesting([later] { return later; });
  std::vector<std::string> listed = FirstColumn("VACUUM t RETAIN 1 HOURS DRY RUN");
  for (const std::string& f : cdc_files) EXPECT_THAT(listed, Contains(f));
  EXPECT_THAT(listed, SizeIs(cdc_files.size() + 1));  // + the rewritten data file
  Exec("VACUUM t RETAIN 1 HOURS");
  for (const std::string& f : cdc_files) EXPECT_FALSE(fs::exists(f)) << f;
}

}  // namespace
}  // namespace lake::sql
