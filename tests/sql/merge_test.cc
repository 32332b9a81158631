// MERGE INTO lake tables (lake_merge.h), end to end on a temp lakehouse. Every expected row set
// is worked out by hand from the target and source rows written in the test; every table
// written is checked by the protocol validator.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "engine/delta_engine.h"
#include "status_matchers.h"
#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Json = nlohmann::json;

class MergeTest : public testing::TempLakehouse<> {
 protected:
  MergeTest() : TempLakehouse("merge") {}

  // Creates table `name` (Spark column list and clauses) at data/<name>; returns its location.
  std::string Create(const std::string& name, const std::string& columns,
                     const std::string& clauses = "") {
    std::string location = (root_ / "data" / name).string();
    auto r = Query("CREATE TABLE " + name + " (" + columns + ") USING DELTA " + clauses +
                   " LOCATION '" + location + "'");
    EXPECT_TRUE(r.ok()) << r.status();
    return location;
  }
  void Exec(const std::string& sql, engine::Session* session = nullptr) {
    auto r = (session ? session : session_.get())->Query(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
  }
  std::unique_ptr<engine::Session> NewSession() {
    auto session = house_->database().Connect();
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? std::move(*session) : nullptr;
  }
  static Json Metrics(const std::string& location, int version) {
    return CommitInfo(location, version)["operationMetrics"];
  }
};

// An upsert: the matched row is updated, the unmatched source row inserted; the untouched
// rows of the rewritten file are copied.
TEST_F(MergeTest, UpsertUpdatesMatchedRowsAndInsertsTheOthers) {
  std::string location = Create("t", "id BIGINT, name STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");  // version 1
  EXPECT_EQ(One("MERGE INTO t USING (SELECT * FROM (VALUES (2, 'B'), (4, 'D')) v(id, name)) s "
                "ON t.id = s.id "
                "WHEN MATCHED THEN UPDATE SET name = s.name "
                "WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)"),
            "2");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"),
              ElementsAre("1|a", "2|B", "3|c", "4|D"));
  Json info = CommitInfo(location, 2);
  EXPECT_EQ(info["operation"], "MERGE");
  EXPECT_EQ(info["readVersion"], 1);
  EXPECT_EQ(info["isBlindAppend"], false);
  const Json& p = info["operationParameters"];
  EXPECT_EQ(p["predicate"], R"j(["(t.id = s.id)"])j");
  EXPECT_EQ(p["matchedPredicates"], R"j([{"actionType":"update"}])j");
  EXPECT_EQ(p["notMatchedPredicates"], R"j([{"actionType":"insert"}])j");
  EXPECT_EQ(p["notMatchedBySourcePredicates"], "[]");
  const Json& m = info["operationMetrics"];
  EXPECT_EQ(m["numSourceRows"], "2");
  EXPECT_EQ(m["numTargetRowsInserted"], "1");
  EXPECT_EQ(m["numTargetRowsUpdated"], "1");
  EXPECT_EQ(m["numTargetRowsMatchedUpdated"], "1");
  EXPECT_EQ(m["numTargetRowsNotMatchedBySourceUpdated"], "0");
  EXPECT_EQ(m["numTargetRowsDeleted"], "0");
  EXPECT_EQ(m["numTargetRowsCopied"], "2");  // ids 1 and 3
  EXPECT_EQ(m["numOutputRows"], "4");
  EXPECT_EQ(m["numTargetFilesRemoved"], "1");
  EXPECT_EQ(m["numTargetFilesAdded"],
            std::to_string(Of(Actions(location, 2), "add").size()));
  EXPECT_EQ(Of(Actions(location, 2), "remove").size(), 1u);
  EXPECT_THAT(Validate(location), IsEmpty());
}

// Several clauses of each kind: the first whose condition holds acts; rows no clause takes
// stay as they are.
TEST_F(MergeTest, EveryClauseKindInOrderFirstMatchingClauseWins) {
  std::string location = Create("t", "id BIGINT, name STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')");
  Exec("CREATE TEMP TABLE src AS SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (3, 'z'), "
       "(6, 'n'), (7, 'm')) v(id, name)");
  // id 1: matched, first clause deletes it. id 2: matched, second clause. id 3: matched, the
  // unconditional update. 6: not matched, inserted as 'six'; 7: not matched, its condition is
  // false and no other clause: skipped. 4: not matched by source, updated; 5: deleted.
  EXPECT_EQ(One("MERGE INTO t USING src s ON t.id = s.id "
                "WHEN MATCHED AND t.id = 1 THEN DELETE "
                "WHEN MATCHED AND t.id <= 2 THEN UPDATE SET name = 'first' "
                "WHEN MATCHED THEN UPDATE SET name = s.name || '!' "
                "WHEN NOT MATCHED AND s.id = 6 THEN INSERT (id, name) VALUES (s.id, 'six') "
                "WHEN NOT MATCHED BY SOURCE AND t.id = 4 THEN UPDATE SET name = 'orphan' "
                "WHEN NOT MATCHED BY SOURCE THEN DELETE"),
            "6");  // 3 updated + 2 deleted + 1 inserted
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"),
              ElementsAre("2|first", "3|z!", "4|orphan", "6|six"));
  Json m = Metrics(location, 2);
  EXPECT_EQ(m["numSourceRows"], "5");
  EXPECT_EQ(m["numTargetRowsInserted"], "1");
  EXPECT_EQ(m["numTargetRowsUpdated"], "3");
  EXPECT_EQ(m["numTargetRowsMatchedUpdated"], "2");
  EXPECT_EQ(m["numTargetRowsNotMatchedBySourceUpdated"], "1");
  EXPECT_EQ(m["numTargetRowsDeleted"], "2");
  EXPECT_EQ(m["numTargetRowsMatchedDeleted"], "1");
  EXPECT_EQ(m["numTargetRowsNotMatchedBySourceDeleted"], "1");
  EXPECT_EQ(m["numTargetRowsCopied"], "0");  // every row of the file was touched
  EXPECT_EQ(m["numOutputRows"], "4");
  Json p = CommitInfo(location, 2)["operationParameters"];
  EXPECT_EQ(p["matchedPredicates"],
            R"j([{"predicate":"(t.id = 1)","actionType":"delete"},)j"
            R"j({"predicate":"(t.id <= 2)","actionType":"update"},{"actionType":"update"}])j");
  EXPECT_EQ(p["notMatchedPredicates"], R"j([{"predicate":"(s.id = 6)","actionType":"insert"}])j");
  EXPECT_EQ(p["notMatchedBySourcePredicates"],
            R"j([{"predicate":"(t.id = 4)","actionType":"update"},{"actionType":"delete"}])j");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(MergeTest, MatchedOnlyClausesAndNotMatchedBySourceAlone) {
  Create("t", "id BIGINT, name STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  // Only MATCHED: an inner join; unconditional DELETE.
  EXPECT_EQ(One("MERGE INTO t USING (SELECT 2 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE"),
            "1");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"), ElementsAre("1|a", "3|c"));
  // MATCHED with a condition that holds for no row, plus NOT MATCHED BY SOURCE alone.
  EXPECT_EQ(One("MERGE INTO t USING (SELECT 3 AS id) s ON t.id = s.id "
                "WHEN MATCHED AND t.name = 'zz' THEN DELETE "
                "WHEN NOT MATCHED BY SOURCE THEN UPDATE SET name = t.name || '?'"),
            "1");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"), ElementsAre("1|a?", "3|c"));
}

// Spark's star forms assign by name (DuckDB's own reading is by position); extra source
// columns are ignored without schema evolution; a column list leaves the others NULL.
TEST_F(MergeTest, StarFormsAssignByNameAndColumnListsLeaveTheRestNull) {
  std::string location = Create("t", "id BIGINT, name STRING, qty INT");
  Exec("INSERT INTO t VALUES (1, 'a', 10), (2, 'b', 20)");
  EXPECT_EQ(One("MERGE INTO t USING (SELECT 30 AS qty, 'B' AS name, 2 AS id, 'x' AS note "
                "UNION ALL SELECT 40, 'C', 3, 'y') AS s ON t.id = s.id "
                "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"),
            "2");
  EXPECT_THAT(Rows("SELECT id, name, qty FROM t ORDER BY id"),
              ElementsAre("1|a|10", "2|B|30", "3|C|40"));
  EXPECT_EQ(One("SELECT count(*) FROM (DESCRIBE t)"), "3");  // no new column
  EXPECT_EQ(One("MERGE INTO t USING (SELECT 9 AS id, 'nine' AS name) s ON t.id = s.id "
                "WHEN NOT MATCHED BY TARGET THEN INSERT (id) VALUES (s.id)"),
            "1");
  EXPECT_THAT(Rows("SELECT id, coalesce(name, '-'), coalesce(qty::VARCHAR, '-') FROM t "
                   "WHERE id = 9"),
              ElementsAre("9|-|-"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

// The source may be a lake table, a view, a subquery or a lake table at an older version.
TEST_F(MergeTest, SourceIsATableAViewASubqueryOrAnOlderVersion) {
  Create("t", "id BIGINT, name STRING");
  Create("src", "id BIGINT, name STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  Exec("INSERT INTO src VALUES (1, 'one'), (5, 'five')");     // src version 1
  Exec("UPDATE src SET name = name || ' (v2)'");               // src version 2
  // src at version 1, two spellings.
  Exec("MERGE INTO t USING src VERSION AS OF 1 AS s ON t.id = s.id "
       "WHEN MATCHED THEN UPDATE SET name = s.name");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"), ElementsAre("1|one", "2|b"));
  Exec("MERGE INTO t USING src@v1 s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"), ElementsAre("1|one", "2|b", "5|five"));
  // The latest src, by name.
  Exec("MERGE INTO t USING src ON t.id = src.id WHEN MATCHED THEN UPDATE SET *");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"),
              ElementsAre("1|one (v2)", "2|b", "5|five (v2)"));
  // A view and a subquery.
  Exec("CREATE TEMP VIEW changes AS SELECT 2 AS id, 'two' AS name");
  Exec("MERGE INTO t USING changes c ON t.id = c.id WHEN MATCHED THEN UPDATE SET name = c.name");
  Exec("MERGE INTO t USING (SELECT id + 100 AS id, name FROM src WHERE id = 5) AS s "
       "ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, 'sub')");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"),
              ElementsAre("1|one (v2)", "2|two", "5|five (v2)", "105|sub"));
}

TEST_F(MergeTest, SeveralSourceRowsMatchingOneTargetRowIsAnError) {
  std::string location = Create("t", "id BIGINT, name STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  auto r = Query("MERGE INTO t USING (SELECT * FROM (VALUES (2, 'x'), (2, 'y')) v(id, name)) s "
                 "ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("MERGE"));
  EXPECT_THAT(r.status().message(), HasSubstr("multiple source rows matched"));
  EXPECT_THAT(r.status().message(), HasSubstr("same target row"));
  EXPECT_FALSE(HasCommit(location, 2));
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"), ElementsAre("1|a", "2|b"));
  // Duplicates among the rows inserted are no error: both are inserted.
  EXPECT_EQ(One("MERGE INTO t USING (SELECT * FROM (VALUES (7, 'x'), (7, 'y')) v(id, name)) s "
                "ON t.id = s.id WHEN NOT MATCHED THEN INSERT *"),
            "2");
  EXPECT_EQ(One("SELECT count(*) FROM t WHERE id = 7"), "2");
}

TEST_F(MergeTest, NothingChangedCommitsNothing) {
  std::string location = Create("t", "id BIGINT, name STRING");
  Exec("INSERT INTO t VALUES (1, 'a')");
  EXPECT_EQ(One("MERGE INTO t USING (SELECT 5 AS id) s ON t.id = s.id "
                "WHEN MATCHED THEN DELETE"),
            "0");
  EXPECT_FALSE(HasCommit(location, 2));
}

// A partitioned table: an update that changes the partition column moves the row; only the
// file holding matched rows is rewritten.
TEST_F(MergeTest, PartitionedTableRewritesOnlyTheTouchedPartition) {
  std::string location = Create("p", "v INT, region STRING", "PARTITIONED BY (region)");
  Exec("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us')");
  Exec("MERGE INTO p USING (SELECT * FROM (VALUES (1, 'ap'), (4, 'us')) x(v, region)) s "
       "ON p.v = s.v WHEN MATCHED THEN UPDATE SET region = s.region "
       "WHEN NOT MATCHED THEN INSERT *");
  EXPECT_THAT(Rows("SELECT v, region FROM p ORDER BY v"),
              ElementsAre("1|ap", "2|eu", "3|us", "4|us"));
  auto actions = Actions(location, 2);
  auto removes = Of(actions, "remove");
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0]["partitionValues"]["region"], "eu");
  std::multiset<std::string> added;
  for (const Json& add : Of(actions, "add")) {
    added.insert(add["partitionValues"]["region"].get<std::string>());
  }
  // The moved row (ap), the copied row 2 (eu), the inserted row (us).
  EXPECT_EQ(added, (std::multiset<std::string>{"ap", "eu", "us"}));
  EXPECT_THAT(Validate(location), IsEmpty());
}

// A column-mapped table written by Spark (copied from the conformance corpus): the rewritten
// and new files use the physical names, and lake reads the logical ones back.
TEST_F(MergeTest, ColumnMappedConformanceTable) {
  std::string location = (root_ / "data" / "cm").string();
  fs::copy(std::string(LAKE_CONFORMANCE_DIR) +
               "/delta-spark-golden/table-with-columnmapping-mode-name",
           location, fs::copy_options::recursive);
  Exec("CREATE TABLE cm USING DELTA LOCATION '" + location + "'");
  const std::string before = One("SELECT count(*) FROM cm");
  const std::string some_id = One("SELECT min(IntegerType) FROM cm");
  const std::string matching = One("SELECT count(*) FROM cm WHERE IntegerType = " + some_id);
  Exec("MERGE INTO cm USING (SELECT " + some_id + " AS k UNION ALL SELECT -777) s "
       "ON cm.IntegerType = s.k "
       "WHEN MATCHED THEN UPDATE SET StringType = 'merged' "
       "WHEN NOT MATCHED THEN INSERT (IntegerType, StringType) VALUES (s.k, 'new')");
  EXPECT_EQ(One("SELECT count(*) FROM cm"), std::to_string(std::stoll(before) + 1));
  EXPECT_EQ(One("SELECT count(*) FROM cm WHERE StringType = 'merged'"), matching);
  EXPECT_EQ(One("SELECT StringType FROM cm WHERE IntegerType = -777"), "new");
  // The rewritten files hold physical column names only.
  for (const Json& add : Of(Actions(location, 1), "add")) {
    std::string file = location + "/" + add["path"].get<std::string>();
    EXPECT_EQ(One("SELECT count(*) FROM parquet_schema('" + file + "') WHERE name = 'StringType'"),
              "0");
  }
  EXPECT_THAT(Validate(location), IsEmpty());
}

// Schema evolution: the source's new columns are added to the table in the data's commit.
TEST_F(MergeTest, SchemaEvolutionAddsTheSourcesNewColumns) {
  std::string location = Create("t", "id BIGINT, name STRING");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  Exec("MERGE WITH SCHEMA EVOLUTION INTO t USING (SELECT * FROM (VALUES (2, 'B', 20), "
       "(3, 'C', 30)) v(id, name, qty)) s ON t.id = s.id "
       "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *");
  EXPECT_THAT(Rows("SELECT id, name, coalesce(qty::VARCHAR, '-') FROM t ORDER BY id"),
              ElementsAre("1|a|-", "2|B|20", "3|C|30"));
  auto metadata = Of(Actions(location, 2), "metaData");
  ASSERT_EQ(metadata.size(), 1u);  // with the data, one commit
  Json schema = Json::parse(metadata[0]["schemaString"].get<std::string>());
  ASSERT_EQ(schema["fields"].size(), 3u);
  EXPECT_EQ(schema["fields"][2]["name"], "qty");
  EXPECT_EQ(schema["fields"][2]["type"], "integer");
  // Spark's session setting; a source without a target column: INSERT * gives it NULL.
  Exec("SET spark.databricks.delta.schema.autoMerge.enabled = true");
  Exec("MERGE INTO t USING (SELECT 4 AS id, 'x' AS note) s ON t.id = s.id "
       "WHEN NOT MATCHED THEN INSERT *");
  EXPECT_THAT(Rows("SELECT id, coalesce(name, '-'), coalesce(qty::VARCHAR, '-'), "
                   "coalesce(note, '-') FROM t ORDER BY id"),
              ElementsAre("1|a|-|-", "2|B|20|-", "3|C|30|-", "4|-|-|x"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

// Change data feed tables: cdf_write_test.cc (MERGE writes _change_data files).

TEST_F(MergeTest, RefusesTimeTravelOnTheTarget) {
  Create("t", "id BIGINT");
  Exec("INSERT INTO t VALUES (1)");
  auto r = Query("MERGE INTO t VERSION AS OF 0 USING (SELECT 1 AS id) s ON t.id = s.id "
                 "WHEN MATCHED THEN DELETE");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("latest version"));
  // By path, Spark's star forms and texts as by name (path_dml_test covers the rest).
  const std::string path = (root_ / "data" / "t").string();
  Exec("MERGE INTO delta.`" + path + "` AS t USING (SELECT 1 AS id, 2 AS extra) s "
       "ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *");
  EXPECT_EQ(CommitInfo(path, 2)["operationParameters"]["predicate"], R"j(["(t.id = s.id)"])j");
  EXPECT_EQ(One("SELECT count(*) FROM t"), "1");
}

// Deletion vector tables (dv_removal.h): the matched rows are marked, not copied.
TEST_F(MergeTest, DeletionVectorTablesMarkTheRemovedRows) {
  std::string location =
      Create("t", "id BIGINT, v STRING", "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')");
  Exec("INSERT INTO t SELECT i, 'x' FROM range(20) r(i)");
  EXPECT_EQ(One("MERGE INTO t USING (SELECT 3 AS id, 'new' AS v UNION ALL SELECT 5, NULL "
                "UNION ALL SELECT 100, 'ins') s ON t.id = s.id "
                "WHEN MATCHED AND s.v IS NULL THEN DELETE "
                "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"),
            "3");
  // 20 rows - 1 deleted + 1 inserted; ids 0..19 without 5, plus 100.
  EXPECT_EQ(One("SELECT count(*) || '|' || sum(id) FROM t"), "20|285");
  EXPECT_EQ(One("SELECT string_agg(v, ',' ORDER BY id) FROM t WHERE v <> 'x'"), "new,ins");
  Json m = Metrics(location, 2);
  EXPECT_EQ(m["numTargetRowsCopied"], "0");
  EXPECT_EQ(m["numTargetDeletionVectorsAdded"], "1");
  EXPECT_EQ(m["numTargetFilesRemoved"], "0");
  EXPECT_THAT(Validate(location), IsEmpty());
}

// Conflicts (lake_merge.cc design note 4): a MERGE and a concurrent DELETE of a file it
// rewrites: the later commit fails. A MERGE whose ON clause limits the target to one partition
// does not conflict with a DELETE in another.
TEST_F(MergeTest, ConflictsWithAConcurrentDeleteOfTheSameFileOnly) {
  std::string location = Create("p", "v INT, region STRING", "PARTITIONED BY (region)");
  Exec("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us'), (4, 'us')");  // version 1
  auto other = NewSession();
  Exec("BEGIN");
  Exec("MERGE INTO p USING (SELECT 1 AS v) s ON p.v = s.v AND p.region = 'eu' "
       "WHEN MATCHED THEN UPDATE SET v = 10");
  Exec("DELETE FROM p WHERE v = 3", other.get());  // version 2, another partition
  Exec("COMMIT");                                  // version 3
  EXPECT_THAT(Rows("SELECT v FROM p ORDER BY v"), ElementsAre("2", "4", "10"));
  Exec("BEGIN");
  Exec("MERGE INTO p USING (SELECT 2 AS v) s ON p.v = s.v WHEN MATCHED THEN DELETE");
  Exec("DELETE FROM p WHERE v = 10", other.get());  // the same file: version 4
  auto r = Query("COMMIT");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_FALSE(HasCommit(location, 5));
  EXPECT_THAT(Rows("SELECT v FROM p ORDER BY v"), ElementsAre("2", "4"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

// Pruning (design note 5): the source's key range keeps the target files whose stats lie
// outside it closed.
TEST_F(MergeTest, OnlyTargetFilesTheSourceKeysCanMatchAreRead) {
  Create("t", "id BIGINT, name STRING");
  Exec("INSERT INTO t SELECT range, 'a' FROM range(0, 100)");
  Exec("INSERT INTO t SELECT range, 'b' FROM range(100, 200)");
  Exec("INSERT INTO t SELECT range, 'c' FROM range(200, 300)");
  const int64_t opened_before = engine::GetScanCounters().files_opened;
  EXPECT_EQ(One("MERGE INTO t USING (SELECT * FROM (VALUES (120, 'x'), (150, 'y')) v(id, name)) "
                "s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name"),
            "2");
  const int64_t opened = engine::GetScanCounters().files_opened - opened_before;
  // The join reads the one file of 100..199; the copy-on-write rewrite reads it again.
  EXPECT_LE(opened, 2) << "files opened: " << opened;
  EXPECT_EQ(One("SELECT string_agg(name, '' ORDER BY id) FROM t WHERE id IN (119, 120, 150)"),
            "bxy");
}

TEST_F(MergeTest, WorksInsideATransaction) {
  std::string location = Create("t", "id BIGINT, name STRING");
  Exec("INSERT INTO t VALUES (1, 'a')");
  Exec("BEGIN");
  Exec("MERGE INTO t USING (SELECT 1 AS id, 'A' AS name) s ON t.id = s.id "
       "WHEN MATCHED THEN UPDATE SET *");
  Exec("ROLLBACK");
  EXPECT_THAT(Rows("SELECT id, name FROM t"), ElementsAre("1|a"));
  // Committed: one version.
  Exec("BEGIN");
  Exec("MERGE INTO t USING (SELECT 1 AS id, 'A' AS name) s ON t.id = s.id "
       "WHEN MATCHED THEN UPDATE SET *");
  Exec("COMMIT");
  EXPECT_THAT(Rows("SELECT id, name FROM t"), ElementsAre("1|A"));
  EXPECT_EQ(Metrics(location, 2)["numTargetRowsUpdated"], "1");
}

}  // namespace
}  // namespace lake::sql
