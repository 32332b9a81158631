// INSERT INTO and CREATE TABLE AS SELECT through the lake catalog, end to end: a Lakehouse
// over a temp home. Every table written is checked by independent readers: plain DuckDB
// read_parquet over the files the log names, and the protocol validator over every commit.
// Expected values are derived by hand from the inserted rows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "delta/protocol_validator.h"
#include "delta/transaction.h"
#include "engine/delta_engine.h"
#include "engine/internal/ctas_clauses.h"
#include "sql/lakehouse.h"
#include "status_matchers.h"
#include "temp_lakehouse.h"
#include "storage/object_store.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Json = nlohmann::json;

class LakeWriteTest : public testing::TempLakehouse<> {
 protected:
  LakeWriteTest() : TempLakehouse("lake_write") {}

  std::unique_ptr<engine::Session> NewSession() {
    auto session = house_->database().Connect();
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? std::move(*session) : nullptr;
  }

  // Creates a Delta table at data/<name> with `schema_json`, registers it as `name`.
  std::string CreateTable(const std::string& name, const std::string& schema_json,
                          std::vector<std::string> partition_columns = {},
                          delta::StringMap configuration = {}) {
    std::string location = (root_ / "data" / name).string();
    auto store = storage::OpenStore(location);
    EXPECT_TRUE(store.ok()) << store.status();
    auto engine = engine::MakeDeltaEngine(house_->database(), std::move(*store));
    auto txn = delta::Transaction::BeginCreate(*engine);
    EXPECT_TRUE(txn.ok()) << txn.status();
    Status updated = (*txn)->UpdateMetadata(delta::NewTableMetadata(
        schema_json, std::move(partition_columns), std::move(configuration), 1700000000000));
    EXPECT_TRUE(updated.ok()) << updated;
    auto committed = (*txn)->Commit();
    EXPECT_TRUE(committed.ok()) << committed.status();
    auto r = Query("CREATE TABLE " + name + " USING DELTA LOCATION '" + location + "'");
    EXPECT_TRUE(r.ok()) << r.status();
    return location;
  }

  // The live files' paths per the log (adds minus removes, all versions), decoded once.
  static std::vector<std::string> LiveFiles(const std::string& location) {
    std::set<std::string> live;
    for (int v = 0; HasCommit(location, v); ++v) {
      for (const Json& a : Actions(location, v)) {
        if (a.contains("add")) live.insert(a["add"]["path"].get<std::string>());
        if (a.contains("remove")) live.erase(a["remove"]["path"].get<std::string>());
      }
    }
    std::vector<std::string> out;
    for (const std::string& p : live) {
      std::string decoded;
      for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '%' && i + 2 < p.size()) {
          decoded += static_cast<char>(std::stoi(p.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          decoded += p[i];
        }
      }
      out.push_back(location + "/" + decoded);
    }
    return out;
  }
  // A read_parquet call over the live files: the independent reader.
  static std::string ReadParquet(const std::string& location) {
    std::string list;
    for (const std::string& f : LiveFiles(location)) {
      list += (list.empty() ? "'" : ", '") + f + "'";
    }
    return "read_parquet([" + list + "], hive_partitioning = false)";
  }
  static int ParquetFilesOnDisk(const std::string& location) {
    int n = 0;
    for (const auto& e : fs::recursive_directory_iterator(location)) {
      n += e.path().extension() == ".parquet" &&
           e.path().string().find("_delta_log") == std::string::npos;
    }
    return n;
  }

};

constexpr const char* kIdName =
    R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
    R"({"name":"name","type":"string","nullable":true,"metadata":{}}]})";

TEST_F(LakeWriteTest, InsertValuesCommitsOneAppendVersion) {
  std::string location = CreateTable("t", kIdName);
  EXPECT_EQ(One("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL)"), "3");
  EXPECT_THAT(Rows("SELECT id, coalesce(name, '-') FROM t ORDER BY id"),
              ::testing::ElementsAre("1|a", "2|b", "3|-"));
  // The independent reader sees the same rows in the files the log names.
  EXPECT_THAT(Rows("SELECT id, coalesce(name, '-') FROM " + ReadParquet(location) +
                   " ORDER BY id"),
              ::testing::ElementsAre("1|a", "2|b", "3|-"));
  EXPECT_THAT(Validate(location), IsEmpty());
  ASSERT_TRUE(HasCommit(location, 1));
  EXPECT_FALSE(HasCommit(location, 2));
  Json info = CommitInfo(location, 1);
  EXPECT_EQ(info["operation"], "WRITE");
  EXPECT_EQ(info["operationParameters"]["mode"], "Append");
  EXPECT_EQ(info["operationParameters"]["partitionBy"], "[]");
  EXPECT_EQ(info["operationMetrics"]["numOutputRows"], "3");
  EXPECT_EQ(info["isBlindAppend"], true);
  auto adds = Of(Actions(location, 1), "add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(info["operationMetrics"]["numFiles"], "1");
  EXPECT_EQ(info["operationMetrics"]["numOutputBytes"], std::to_string(adds[0]["size"].get<int64_t>()));
  Json stats = Json::parse(adds[0]["stats"].get<std::string>());
  EXPECT_EQ(stats["numRecords"], 3);
  EXPECT_EQ(stats["minValues"]["id"], 1);
  EXPECT_EQ(stats["maxValues"]["id"], 3);
  EXPECT_EQ(stats["nullCount"]["name"], 1);
  EXPECT_THAT(adds[0]["path"].get<std::string>(), ::testing::StartsWith("part-"));
  EXPECT_THAT(adds[0]["path"].get<std::string>(), ::testing::EndsWith(".snappy.parquet"));
}

TEST_F(LakeWriteTest, InsertSelectWithColumnListFillsMissingWithNull) {
  std::string location = CreateTable("t", kIdName);
  EXPECT_EQ(One("INSERT INTO t (name, id) SELECT 'n' || i, i FROM range(10, 15) r(i)"), "5");
  EXPECT_EQ(One("INSERT INTO t (id) VALUES (99)"), "1");
  EXPECT_EQ(One("SELECT string_agg(id || ':' || coalesce(name, 'null'), ',' ORDER BY id) FROM t"),
            "10:n10,11:n11,12:n12,13:n13,14:n14,99:null");
  EXPECT_EQ(One("SELECT count(*) FROM " + ReadParquet(location) + " WHERE name IS NULL"), "1");
  EXPECT_THAT(Validate(location), IsEmpty());
  EXPECT_TRUE(HasCommit(location, 2));
}

TEST_F(LakeWriteTest, PartitionedInsertWritesHiveFoldersAndPartitionValues) {
  std::string location = CreateTable(
      "p",
      R"({"type":"struct","fields":[{"name":"v","type":"integer","nullable":true,"metadata":{}},)"
      R"({"name":"region","type":"string","nullable":true,"metadata":{}}]})",
      {"region"});
  EXPECT_EQ(One("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us west'), (4, NULL)"), "4");
  EXPECT_EQ(One("SELECT string_agg(v || '@' || coalesce(region, 'null'), ',' ORDER BY v) FROM p"),
            "1@eu,2@eu,3@us west,4@null");
  auto adds = Of(Actions(location, 1), "add");
  ASSERT_EQ(adds.size(), 3u);
  std::map<std::string, std::string> by_value;
  for (const Json& add : adds) {
    std::string value = add["partitionValues"]["region"].is_null()
                            ? "null"
                            : add["partitionValues"]["region"].get<std::string>();
    by_value[value] = add["path"].get<std::string>();
  }
  EXPECT_THAT(by_value["eu"], ::testing::StartsWith("region=eu/part-"));
  // DuckDB escapes the space in the folder name; the log encodes that '%' once more.
  EXPECT_THAT(by_value["us west"], ::testing::StartsWith("region=us%2520west/part-"));
  EXPECT_THAT(by_value["null"], ::testing::StartsWith("region=__HIVE_DEFAULT_PARTITION__/part-"));
  // The partition column is not in the files.
  EXPECT_EQ(One("SELECT count(*) FROM (DESCRIBE SELECT * FROM " + ReadParquet(location) +
                ") WHERE column_name = 'region'"),
            "0");
  EXPECT_EQ(One("SELECT sum(v) FROM " + ReadParquet(location)), "10");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, TransactionCommitsOnceAndRollbackCommitsNothing) {
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a')").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (2, 'b')").status());
  EXPECT_FALSE(HasCommit(location, 1));  // invisible until COMMIT
  ASSERT_OK(Query("COMMIT").status());
  EXPECT_TRUE(HasCommit(location, 1));
  EXPECT_FALSE(HasCommit(location, 2));
  EXPECT_EQ(Of(Actions(location, 1), "add").size(), 2u);
  EXPECT_EQ(CommitInfo(location, 1)["operationMetrics"]["numOutputRows"], "2");
  EXPECT_EQ(One("SELECT count(*) FROM t"), "2");

  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (3, 'c')").status());
  ASSERT_OK(Query("ROLLBACK").status());
  EXPECT_FALSE(HasCommit(location, 2));
  EXPECT_EQ(One("SELECT count(*) FROM t"), "2");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, IdempotentWritesCarryTxnAndSkipRepeats) {
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("SET lake.txnAppId = 'loader'").status());
  ASSERT_OK(Query("SET lake.txnVersion = 5").status());
  EXPECT_EQ(One("INSERT INTO t VALUES (1, 'a')"), "1");
  auto txns = Of(Actions(location, 1), "txn");
  ASSERT_EQ(txns.size(), 1u);
  EXPECT_EQ(txns[0]["appId"], "loader");
  EXPECT_EQ(txns[0]["version"], 5);
  // The same (app, version) again, or an older one: nothing written, nothing committed.
  EXPECT_EQ(One("INSERT INTO t VALUES (1, 'a')"), "0");
  ASSERT_OK(Query("SET lake.txnVersion = 4").status());
  EXPECT_EQ(One("INSERT INTO t VALUES (1, 'a')"), "0");
  EXPECT_FALSE(HasCommit(location, 2));
  ASSERT_OK(Query("SET lake.txnVersion = 6").status());
  EXPECT_EQ(One("INSERT INTO t VALUES (2, 'b')"), "1");
  EXPECT_TRUE(HasCommit(location, 2));
  EXPECT_EQ(One("SELECT count(*) FROM t"), "2");
  EXPECT_EQ(ParquetFilesOnDisk(location), 2);
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, TypeMismatchIsRefusedBeforeAnyFileIsWritten) {
  std::string location = CreateTable("t", kIdName);
  auto r = Query("INSERT INTO t SELECT 'x' || i AS id, i * 2.5 AS name FROM range(3) r(i)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("column id: the query gives VARCHAR"));
  EXPECT_THAT(r.status().message(), HasSubstr("column name: the query gives DECIMAL(21,1)"));
  r = Query("INSERT INTO t VALUES (1, 'a', 'extra')");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ParquetFilesOnDisk(location), 0);
  EXPECT_FALSE(HasCommit(location, 1));
}

TEST_F(LakeWriteTest, NotNullAndCheckConstraintsShowTheFailingRow) {
  std::string location = CreateTable(
      "c",
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},)"
      R"({"name":"qty","type":"integer","nullable":true,"metadata":{}}]})",
      {}, {{"delta.constraints.qty_positive", "qty > 0"}});
  auto r = Query("INSERT INTO c VALUES (1, 5), (NULL, 7)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("NOT NULL constraint violated: column id"));
  EXPECT_THAT(r.status().message(), HasSubstr(R"({"id":null,"qty":7})"));
  r = Query("INSERT INTO c VALUES (1, 5), (2, -3)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("CHECK constraint qty_positive"));
  EXPECT_THAT(r.status().message(), HasSubstr(R"({"id":2,"qty":-3})"));
  EXPECT_FALSE(HasCommit(location, 1));
  EXPECT_EQ(One("INSERT INTO c VALUES (1, 5), (2, 6)"), "2");
  EXPECT_EQ(One("SELECT sum(qty) FROM c"), "11");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, CreateTableAsSelectAndReplace) {
  EXPECT_EQ(One("CREATE TABLE s AS SELECT i::BIGINT AS id, 'v' || i AS label FROM range(4) r(i)"),
            "4");
  const std::string location = (root_ / "home" / "warehouse" / "default.db" / "s").string();
  ASSERT_TRUE(HasCommit(location, 0));
  auto actions = Actions(location, 0);
  EXPECT_EQ(Of(actions, "protocol").size(), 1u);
  EXPECT_EQ(Of(actions, "metaData").size(), 1u);
  EXPECT_EQ(Of(actions, "add").size(), 1u);
  EXPECT_EQ(CommitInfo(location, 0)["operation"], "CREATE TABLE AS SELECT");
  EXPECT_EQ(One("SELECT data_type FROM lake_describe('s', extended := true) "
                "WHERE col_name = 'Type'"),
            "MANAGED");
  EXPECT_EQ(One("SELECT sum(id) FROM s"), "6");
  EXPECT_EQ(One("SELECT label FROM s WHERE id = 3"), "v3");
  EXPECT_EQ(One("SELECT sum(id) FROM " + ReadParquet(location)), "6");

  EXPECT_EQ(One("CREATE OR REPLACE TABLE s AS SELECT 10 AS n"), "1");
  EXPECT_EQ(Of(Actions(location, 1), "remove").size(), 1u);
  EXPECT_EQ(Of(Actions(location, 1), "add").size(), 1u);
  EXPECT_EQ(One("SELECT n FROM s"), "10");
  EXPECT_EQ(One("SELECT sum(n) FROM " + ReadParquet(location)), "10");
  EXPECT_THAT(Validate(location), IsEmpty());

  auto r = Query("CREATE TABLE s AS SELECT 1 AS x");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("already exists"));
  r = Query("CREATE TABLE h AS SELECT 1::HUGEINT AS big");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("big (HUGEINT)"));
  // A managed table: DROP TABLE removes its folder.
  ASSERT_OK(Query("DROP TABLE s").status());
  EXPECT_FALSE(fs::exists(location));
}

TEST_F(LakeWriteTest, CtasClausesFromAFrontEndPartitionAndPlaceTheTable) {
  const std::string location = (root_ / "data" / "ext").string();
  engine::internal::CtasClauses clauses;
  clauses.location = location;
  clauses.partition_columns = {"p"};
  clauses.properties = {{"delta.appendOnly", "true"}};
  int asked = 0;
  engine::internal::SetCtasClausesForTesting(
      [&](const std::string& schema, const std::string& table)
          -> std::optional<engine::internal::CtasClauses> {
        if (schema != "default" || table != "e" || asked++ > 0) return std::nullopt;
        return clauses;
      });
  auto created =
      Query("CREATE TABLE e AS SELECT i::INT AS v, 'p' || (i % 2) AS p FROM range(4) r(i)");
  engine::internal::SetCtasClausesForTesting(nullptr);
  ASSERT_TRUE(created.ok()) << created.status();
  auto metadata = Of(Actions(location, 0), "metaData");
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_EQ(metadata[0]["partitionColumns"], Json::array({"p"}));
  EXPECT_EQ(metadata[0]["configuration"]["delta.appendOnly"], "true");
  EXPECT_EQ(CommitInfo(location, 0)["operationParameters"]["partitionBy"], R"(["p"])");
  EXPECT_EQ(One("SELECT data_type FROM lake_describe('e', extended := true) "
                "WHERE col_name = 'Type'"),
            "EXTERNAL");
  EXPECT_EQ(One("SELECT string_agg(p || ':' || v, ',' ORDER BY v) FROM e"), "p0:0,p1:1,p0:2,p1:3");
  EXPECT_TRUE(fs::exists(fs::path(location) / "p=p0"));
  EXPECT_THAT(Validate(location), IsEmpty());
  // Without clauses, a CTAS of that name is a plain managed one.
  ASSERT_OK(Query("DROP TABLE e").status());
  ASSERT_OK(Query("CREATE TABLE e AS SELECT 1 AS x").status());
  EXPECT_EQ(One("SELECT data_type FROM lake_describe('e', extended := true) "
                "WHERE col_name = 'Type'"),
            "MANAGED");
}

TEST_F(LakeWriteTest, MetadataChangeByAnotherSessionFailsTheCommitWithConflict) {
  std::string location = CreateTable("t", kIdName);
  auto other = NewSession();
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a')").status());  // pins version 0
  // Another session replaces the table: new metadata at version 1.
  ASSERT_OK(other->Query("CREATE OR REPLACE TABLE t AS SELECT 5::BIGINT AS id, 'x' AS name")
                .status());
  auto r = Query("COMMIT");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("metadata changed"));
  EXPECT_FALSE(HasCommit(location, 2));
  EXPECT_EQ(One("SELECT count(*) FROM t"), "1");
}

TEST_F(LakeWriteTest, CommitsCheckpointWhenTheIntervalSaysSo) {
  std::string location = CreateTable("t", kIdName, {}, {{"delta.checkpointInterval", "2"}});
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a')").status());  // version 1: no checkpoint
  EXPECT_FALSE(fs::exists(fs::path(location) / "_delta_log" / "_last_checkpoint"));
  ASSERT_OK(Query("INSERT INTO t VALUES (2, 'b')").status());  // version 2: 2 % 2 == 0
  EXPECT_TRUE(fs::exists(fs::path(location) / "_delta_log" /
                         "00000000000000000002.checkpoint.parquet"));
  EXPECT_TRUE(fs::exists(fs::path(location) / "_delta_log" / "_last_checkpoint"));
  ASSERT_OK(Query("INSERT INTO t VALUES (3, 'c')").status());
  EXPECT_EQ(One("SELECT sum(id) FROM t"), "6");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, ColumnMappedStructTableWritesPhysicalNamesAndFieldIds) {
  std::string location = CreateTable(
      "m",
      R"({"type":"struct","fields":[)"
      R"({"name":"id","type":"long","nullable":true,"metadata":{)"
      R"("delta.columnMapping.id":1,"delta.columnMapping.physicalName":"col-id1"}},)"
      R"({"name":"s","type":{"type":"struct","fields":[)"
      R"({"name":"a","type":"integer","nullable":true,"metadata":{)"
      R"("delta.columnMapping.id":3,"delta.columnMapping.physicalName":"col-a3"}},)"
      R"({"name":"b","type":"string","nullable":true,"metadata":{)"
      R"("delta.columnMapping.id":4,"delta.columnMapping.physicalName":"col-b4"}}]},)"
      R"("nullable":true,"metadata":{)"
      R"("delta.columnMapping.id":2,"delta.columnMapping.physicalName":"col-s2"}}]})",
      {}, {{"delta.columnMapping.mode", "name"}, {"delta.columnMapping.maxColumnId", "4"}});
  EXPECT_EQ(One("INSERT INTO m VALUES (7, {'a': 1, 'b': 'x'}), (8, NULL)"), "2");
  EXPECT_EQ(One("SELECT s.b FROM m WHERE id = 7"), "x");
  EXPECT_EQ(One("SELECT count(*) FROM m WHERE s IS NULL"), "1");
  // The files hold physical names and the field ids of the schema.
  const std::string file = LiveFiles(location).at(0);
  EXPECT_EQ(One("SELECT string_agg(name || ':' || coalesce(field_id::VARCHAR, '-'), ',' ORDER BY "
                "name) FROM parquet_schema('" + file + "') WHERE name <> 'duckdb_schema'"),
            "col-a3:3,col-b4:4,col-id1:1,col-s2:2");
  EXPECT_EQ(One("SELECT \"col-s2\".\"col-b4\" FROM read_parquet('" + file +
                "') WHERE \"col-id1\" = 7"),
            "x");
  Json stats = Json::parse(Of(Actions(location, 1), "add").at(0)["stats"].get<std::string>());
  EXPECT_EQ(stats["minValues"]["col-s2"]["col-a3"], 1);
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, ConcurrentBlindAppendsBothCommit) {
  std::string location = CreateTable("t", kIdName);
  auto other = NewSession();
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a')").status());  // pins version 0
  ASSERT_OK(other->Query("INSERT INTO t VALUES (2, 'b')").status());  // commits version 1
  ASSERT_OK(Query("COMMIT").status());  // loses version 1, checks it, lands as version 2
  EXPECT_TRUE(HasCommit(location, 2));
  EXPECT_EQ(Of(Actions(location, 2), "add").size(), 1u);
  EXPECT_EQ(CommitInfo(location, 2)["readVersion"], 0);
  EXPECT_EQ(One("SELECT string_agg(name, ',' ORDER BY id) FROM t"), "a,b");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, UnsupportedFormsAreRefusedAndEmptyInsertsWriteNoFile) {
  std::string location = CreateTable("t", kIdName);
  auto r = Query("INSERT INTO t VALUES (1, 'a') RETURNING id");
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("RETURNING"));
  r = Query("INSERT INTO t VALUES (1, 'a') ON CONFLICT DO NOTHING");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(One("INSERT INTO t SELECT * FROM t WHERE id < 0"), "0");
  EXPECT_EQ(ParquetFilesOnDisk(location), 0);
  EXPECT_EQ(One("SELECT count(*) FROM t"), "0");  // and the instance still answers
  EXPECT_THAT(Validate(location), IsEmpty());
}

// ---- INSERT OVERWRITE and REPLACE WHERE (design note 7 of lake_write.cc) ----

constexpr const char* kRegionSchema =
    R"({"type":"struct","fields":[{"name":"v","type":"integer","nullable":true,"metadata":{}},)"
    R"({"name":"region","type":"string","nullable":true,"metadata":{}}]})";

// The paths of the adds and removes of one commit.
std::vector<std::string> PathsOf(const std::vector<Json>& actions) {
  std::vector<std::string> out;
  for (const Json& a : actions) out.push_back(a["path"].get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(LakeWriteTest, InsertOverwriteReplacesEveryLiveFile) {
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a'), (2, 'b')").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (3, 'c')").status());
  std::vector<Json> earlier = Of(Actions(location, 1), "add");
  for (const Json& add : Of(Actions(location, 2), "add")) earlier.push_back(add);
  std::vector<std::string> before = PathsOf(earlier);
  EXPECT_EQ(One("INSERT OVERWRITE TABLE t SELECT 9, 'z'"), "1");
  EXPECT_THAT(Rows("SELECT id, name FROM t"), ::testing::ElementsAre("9|z"));
  EXPECT_THAT(Rows("SELECT id, name FROM " + ReadParquet(location)), ::testing::ElementsAre("9|z"));
  // Version 3 removes exactly the two earlier files and adds one.
  EXPECT_EQ(PathsOf(Of(Actions(location, 3), "remove")), before);
  EXPECT_EQ(Of(Actions(location, 3), "add").size(), 1u);
  Json info = CommitInfo(location, 3);
  EXPECT_EQ(info["operationParameters"]["mode"], "Overwrite");
  EXPECT_EQ(info["operationMetrics"]["numRemovedFiles"], "2");
  EXPECT_EQ(info["isBlindAppend"], false);
  // The replaced rows stay reachable by time travel.
  EXPECT_EQ(One("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t VERSION AS OF 2"), "1,2,3");
  // Overwriting with nothing empties the table.
  EXPECT_EQ(One("INSERT OVERWRITE t SELECT * FROM t WHERE id < 0"), "0");
  EXPECT_EQ(One("SELECT count(*) FROM t"), "0");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, StaticPartitionOverwriteReplacesOnlyThatPartition) {
  std::string location = CreateTable("p", kRegionSchema, {"region"});
  ASSERT_OK(Query("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us')").status());
  std::vector<std::string> eu_files;
  for (const Json& add : Of(Actions(location, 1), "add")) {
    if (add["partitionValues"]["region"] == "eu") eu_files.push_back(add["path"]);
  }
  // The query gives the other columns; the partition value comes from the clause.
  EXPECT_EQ(One("INSERT OVERWRITE p PARTITION (region = 'eu') SELECT 10"), "1");
  EXPECT_THAT(Rows("SELECT v, region FROM p ORDER BY v"), ::testing::ElementsAre("3|us", "10|eu"));
  EXPECT_EQ(PathsOf(Of(Actions(location, 2), "remove")), eu_files);
  auto adds = Of(Actions(location, 2), "add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]["partitionValues"]["region"], "eu");
  Json info = CommitInfo(location, 2);
  EXPECT_EQ(info["operationParameters"]["predicate"], "[\"region = 'eu'\"]");
  EXPECT_EQ(info["operationMetrics"]["numDeletedRows"], "2");
  EXPECT_EQ(info["operationMetrics"]["numCopiedRows"], "0");  // whole files: metadata only
  // INSERT INTO with a static partition appends; a column list names the other columns.
  EXPECT_EQ(One("INSERT INTO p PARTITION (region = 'us') VALUES (4)"), "1");
  EXPECT_EQ(One("INSERT INTO TABLE p PARTITION (region = 'ap') (v) VALUES (5)"), "1");
  EXPECT_THAT(Rows("SELECT v, region FROM p ORDER BY v"),
              ::testing::ElementsAre("3|us", "4|us", "5|ap", "10|eu"));
  EXPECT_THAT(Rows("SELECT v FROM " + ReadParquet(location) + " ORDER BY v"),
              ::testing::ElementsAre("3", "4", "5", "10"));  // region lives in folders
  // The clause names partition columns only.
  auto bad = Query("INSERT OVERWRITE p PARTITION (v = 1) SELECT 'eu'");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("v, which is not a partition column"));
  EXPECT_FALSE(HasCommit(location, 5));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, DynamicPartitionOverwriteReplacesThePartitionsWritten) {
  std::string location = CreateTable("p", kRegionSchema, {"region"});
  ASSERT_OK(Query("INSERT INTO p VALUES (1, 'eu'), (2, 'us'), (3, 'ap'), (4, NULL)").status());
  ASSERT_OK(Query("SET lake.partitionOverwriteMode = 'dynamic'").status());
  EXPECT_EQ(One("INSERT OVERWRITE p VALUES (20, 'eu'), (21, 'us'), (22, 'us'), (23, NULL)"), "4");
  EXPECT_THAT(Rows("SELECT v, coalesce(region, '-') FROM p ORDER BY v"),
              ::testing::ElementsAre("3|ap", "20|eu", "21|us", "22|us", "23|-"));
  Json info = CommitInfo(location, 2);
  EXPECT_EQ(info["operationParameters"]["partitionOverwriteMode"], "DYNAMIC");
  EXPECT_EQ(info["operationMetrics"]["numRemovedFiles"], "3");  // eu, us, null
  ASSERT_OK(Query("SET lake.partitionOverwriteMode = 'sometimes'").status());
  auto bad = Query("INSERT OVERWRITE p VALUES (1, 'eu')");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'static' or 'dynamic'"));
  ASSERT_OK(Query("RESET lake.partitionOverwriteMode").status());
  // Static mode (the default) replaces the whole table.
  EXPECT_EQ(One("INSERT OVERWRITE p VALUES (30, 'eu')"), "1");
  EXPECT_THAT(Rows("SELECT v, region FROM p"), ::testing::ElementsAre("30|eu"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, ReplaceWhereRewritesOnlyTheMatchingRows) {
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a'), (4, 'd'), (6, 'f'), (NULL, 'n')").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (2, 'b'), (3, 'c')").status());  // no row matches
  std::string untouched = Of(Actions(location, 2), "add")[0]["path"];
  EXPECT_EQ(One("INSERT INTO t REPLACE WHERE id >= 4 VALUES (40, 'x'), (41, 'y')"), "2");
  // NULL >= 4 is not true: that row stays, as DELETE WHERE would keep it.
  EXPECT_THAT(Rows("SELECT coalesce(id::VARCHAR, '-'), name FROM t ORDER BY id"),
              ::testing::ElementsAre("1|a", "2|b", "3|c", "40|x", "41|y", "-|n"));
  EXPECT_THAT(Rows("SELECT coalesce(id::VARCHAR, '-'), name FROM " + ReadParquet(location) +
                   " ORDER BY id"),
              ::testing::ElementsAre("1|a", "2|b", "3|c", "40|x", "41|y", "-|n"));
  auto removes = Of(Actions(location, 3), "remove");
  ASSERT_EQ(removes.size(), 1u);  // the file of version 2 held no match
  EXPECT_NE(removes[0]["path"], untouched);
  EXPECT_EQ(Of(Actions(location, 3), "add").size(), 2u);  // the insert + the copied rows
  Json info = CommitInfo(location, 3);
  EXPECT_EQ(info["operationParameters"]["predicate"], "[\"id >= 4\"]");
  EXPECT_EQ(info["operationMetrics"]["numDeletedRows"], "2");
  EXPECT_EQ(info["operationMetrics"]["numCopiedRows"], "2");
  // A written row outside the predicate fails the statement, showing the row.
  auto bad = Query("INSERT INTO t REPLACE WHERE id >= 40 VALUES (50, 'ok'), (7, 'no')");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("REPLACE WHERE id >= 40"));
  EXPECT_THAT(bad.status().message(), HasSubstr("\"id\":7"));
  EXPECT_FALSE(HasCommit(location, 4));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, ReplaceWhereRewritingPartOfAFileWritesChangeDataWithChangeDataFeed) {
  std::string location =
      CreateTable("t", kIdName, {}, {{"delta.enableChangeDataFeed", "true"}});
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a'), (5, 'e')").status());
  // 1 is copied: the commit carries cdc files (tests/sql/cdf_write_test.cc reads them).
  ASSERT_OK(Query("INSERT INTO t REPLACE WHERE id >= 5 VALUES (6, 'f')").status());
  EXPECT_FALSE(Of(Actions(location, 2), "cdc").empty());
  // Replacing whole files needs no change files (deletes derive from the removes).
  ASSERT_OK(Query("INSERT INTO t REPLACE WHERE id >= 0 VALUES (7, 'g')").status());
  EXPECT_TRUE(Of(Actions(location, 3), "cdc").empty());
  EXPECT_THAT(Rows("SELECT id FROM t"), ::testing::ElementsAre("7"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, ReplaceWhereOnPartitionColumnsRewritesNoData) {
  std::string location = CreateTable("p", kRegionSchema, {"region"});
  ASSERT_OK(Query("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us')").status());
  EXPECT_EQ(One("INSERT INTO p REPLACE WHERE region = 'eu' SELECT 7, 'eu'"), "1");
  EXPECT_THAT(Rows("SELECT v, region FROM p ORDER BY v"), ::testing::ElementsAre("3|us", "7|eu"));
  Json info = CommitInfo(location, 2);
  EXPECT_EQ(info["operationMetrics"]["numCopiedRows"], "0");
  EXPECT_EQ(Of(Actions(location, 2), "add").size(), 1u);
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, AnOverwriteMustBeTheTransactionsFirstWriteToTheTable) {
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a')").status());
  auto r = Query("INSERT OVERWRITE t VALUES (2, 'b')");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("after another write to it in the same transaction"));
  ASSERT_OK(Query("ROLLBACK").status());
  // The other order works: the overwrite first, then appends.
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT OVERWRITE t VALUES (2, 'b')").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (3, 'c')").status());
  ASSERT_OK(Query("COMMIT").status());
  EXPECT_THAT(Rows("SELECT id FROM t ORDER BY id"), ::testing::ElementsAre("2", "3"));
  EXPECT_FALSE(HasCommit(location, 2));  // one version for the transaction
}

TEST_F(LakeWriteTest, OverwriteRacingAnAppendConflictsUnderSerializable) {
  ASSERT_OK(Query("CREATE TABLE s (id BIGINT, name STRING) USING DELTA TBLPROPERTIES "
                  "('delta.isolationLevel' = 'Serializable')")
                .status());
  ASSERT_OK(Query("INSERT INTO s VALUES (1, 'a')").status());
  auto other = NewSession();
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT OVERWRITE s VALUES (2, 'b')").status());  // reads the whole table
  ASSERT_OK(other->Query("INSERT INTO s VALUES (3, 'c')").status());  // commits first
  auto r = Query("COMMIT");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("concurrent append"));
  EXPECT_THAT(Rows("SELECT id FROM s ORDER BY id"), ::testing::ElementsAre("1", "3"));
}

TEST_F(LakeWriteTest, OverwriteRacingAnAppendBothCommitUnderWriteSerializable) {
  // Delta's default: a blind append serializes after the overwrite, so both commit and the
  // result is that of "overwrite, then append".
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a')").status());
  auto other = NewSession();
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT OVERWRITE t VALUES (2, 'b')").status());
  ASSERT_OK(other->Query("INSERT INTO t VALUES (3, 'c')").status());
  ASSERT_OK(Query("COMMIT").status());
  EXPECT_THAT(Rows("SELECT id FROM t ORDER BY id"), ::testing::ElementsAre("2", "3"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, PartitionOverwriteConflictsOnlyWithAppendsIntoThatPartition) {
  ASSERT_OK(Query("CREATE TABLE q (v INT, region STRING) USING DELTA PARTITIONED BY (region) "
                  "TBLPROPERTIES ('delta.isolationLevel' = 'Serializable')")
                .status());
  ASSERT_OK(Query("INSERT INTO q VALUES (1, 'eu'), (2, 'us')").status());
  auto other = NewSession();
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT OVERWRITE q PARTITION (region = 'eu') VALUES (10)").status());
  ASSERT_OK(other->Query("INSERT INTO q VALUES (3, 'us')").status());  // elsewhere
  ASSERT_OK(Query("COMMIT").status());
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT OVERWRITE q PARTITION (region = 'eu') VALUES (11)").status());
  ASSERT_OK(other->Query("INSERT INTO q VALUES (4, 'eu')").status());  // into it
  auto r = Query("COMMIT");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_THAT(Rows("SELECT v, region FROM q ORDER BY v"),
              ::testing::ElementsAre("2|us", "3|us", "4|eu", "10|eu"));
}

// ---- Schema evolution (issue #3 §3) ----

TEST_F(LakeWriteTest, InsertWithSchemaEvolutionAddsColumnsInTheDataCommit) {
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a')").status());
  // Without evolution the extra column is refused and nothing is committed.
  ASSERT_FALSE(Query("INSERT INTO t SELECT 2, 'b', 3.5::DOUBLE AS score").ok());
  EXPECT_FALSE(HasCommit(location, 2));
  EXPECT_EQ(One("INSERT WITH SCHEMA EVOLUTION INTO t SELECT 2, 'b', 3.5::DOUBLE AS score"), "1");
  EXPECT_THAT(Rows("SELECT id, name, coalesce(score::VARCHAR, '-') FROM t ORDER BY id"),
              ::testing::ElementsAre("1|a|-", "2|b|3.5"));
  // One commit: the new schema and the data together.
  auto metadata = Of(Actions(location, 2), "metaData");
  ASSERT_EQ(metadata.size(), 1u);
  Json schema = Json::parse(metadata[0]["schemaString"].get<std::string>());
  ASSERT_EQ(schema["fields"].size(), 3u);
  EXPECT_EQ(schema["fields"][2]["name"], "score");
  EXPECT_EQ(schema["fields"][2]["type"], "double");
  auto adds = Of(Actions(location, 2), "add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_THAT(Rows("SELECT id, score FROM read_parquet('" + location + "/" +
                   adds[0]["path"].get<std::string>() + "')"),
              ::testing::ElementsAre("2|3.5"));
  // BY NAME, and SET lake.mergeSchema for plain INSERTs.
  EXPECT_EQ(One("INSERT WITH SCHEMA EVOLUTION INTO t BY NAME SELECT 'c' AS name, true AS flag"),
            "1");
  ASSERT_OK(Query("SET lake.mergeSchema = true").status());
  EXPECT_EQ(One("INSERT INTO t (id, note) VALUES (4, 'n')"), "1");
  EXPECT_THAT(Rows("SELECT coalesce(id::VARCHAR, '-'), coalesce(flag::VARCHAR, '-'), "
                   "coalesce(note, '-') FROM t ORDER BY id NULLS FIRST"),
              ::testing::ElementsAre("-|true|-", "1|-|-", "2|-|-", "4|-|n"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, SchemaEvolutionWidensTypesOnlyWithTypeWidening) {
  ASSERT_OK(Query("CREATE TABLE plain (v INT)").status());
  ASSERT_OK(Query("INSERT WITH SCHEMA EVOLUTION INTO plain SELECT 5::BIGINT").status());
  EXPECT_EQ(One("SELECT typeof(v) FROM plain"), "INTEGER");  // fits: cast, no widening
  ASSERT_FALSE(Query("INSERT WITH SCHEMA EVOLUTION INTO plain SELECT 5000000000::BIGINT").ok());

  ASSERT_OK(Query("CREATE TABLE wide (v INT) TBLPROPERTIES ('delta.enableTypeWidening' = 'true')")
                .status());
  ASSERT_OK(Query("INSERT INTO wide VALUES (1)").status());
  ASSERT_OK(Query("INSERT WITH SCHEMA EVOLUTION INTO wide SELECT 5000000000::BIGINT").status());
  EXPECT_THAT(Rows("SELECT v FROM wide ORDER BY v"), ::testing::ElementsAre("1", "5000000000"));
  std::string location = (root_ / "home" / "warehouse" / "default.db" / "wide").string();
  Json schema = Json::parse(
      Of(Actions(location, 2), "metaData")[0]["schemaString"].get<std::string>());
  EXPECT_EQ(schema["fields"][0]["type"], "long");
  EXPECT_EQ(schema["fields"][0]["metadata"]["delta.typeChanges"][0]["fromType"], "integer");
  EXPECT_EQ(schema["fields"][0]["metadata"]["delta.typeChanges"][0]["toType"], "long");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, SchemaEvolutionOnAColumnMappedTableGivesTheNewColumnAnIdAndName) {
  ASSERT_OK(Query("CREATE TABLE m (a INT) TBLPROPERTIES ('delta.columnMapping.mode' = 'name')")
                .status());
  ASSERT_OK(Query("INSERT WITH SCHEMA EVOLUTION INTO m SELECT 1, 'x' AS b").status());
  EXPECT_THAT(Rows("SELECT a, b FROM m"), ::testing::ElementsAre("1|x"));
  std::string location = (root_ / "home" / "warehouse" / "default.db" / "m").string();
  Json schema =
      Json::parse(Of(Actions(location, 1), "metaData")[0]["schemaString"].get<std::string>());
  ASSERT_EQ(schema["fields"].size(), 2u);
  EXPECT_TRUE(schema["fields"][1]["metadata"].contains("delta.columnMapping.id"));
  EXPECT_TRUE(schema["fields"][1]["metadata"].contains("delta.columnMapping.physicalName"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

// ---- DELETE (lake_dml.h) ----

TEST_F(LakeWriteTest, DeleteRewritesOnlyTheFilesHoldingMatchingRows) {
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (10, 'x'), (11, 'y')").status());
  std::string untouched = Of(Actions(location, 2), "add")[0]["path"];
  std::string touched = Of(Actions(location, 1), "add")[0]["path"];
  EXPECT_EQ(One("DELETE FROM t WHERE id = 2"), "1");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"),
              ::testing::ElementsAre("1|a", "3|c", "10|x", "11|y"));
  EXPECT_THAT(Rows("SELECT id FROM " + ReadParquet(location) + " ORDER BY id"),
              ::testing::ElementsAre("1", "3", "10", "11"));
  auto removes = Of(Actions(location, 3), "remove");
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0]["path"], touched);
  auto adds = Of(Actions(location, 3), "add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_NE(adds[0]["path"], untouched);
  Json info = CommitInfo(location, 3);
  EXPECT_EQ(info["operation"], "DELETE");
  EXPECT_EQ(info["operationMetrics"]["numDeletedRows"], "1");
  EXPECT_EQ(info["operationMetrics"]["numCopiedRows"], "2");
  EXPECT_EQ(info["operationMetrics"]["numRemovedFiles"], "1");
  EXPECT_EQ(info["isBlindAppend"], false);
  EXPECT_THAT(info["operationParameters"]["predicate"].get<std::string>(), HasSubstr("id"));
  // Every row of a file: the file goes, nothing is rewritten.
  EXPECT_EQ(One("DELETE FROM t WHERE id >= 10"), "2");
  EXPECT_TRUE(Of(Actions(location, 4), "add").empty());
  EXPECT_EQ(CommitInfo(location, 4)["operationMetrics"]["numCopiedRows"], "0");
  // No match: no commit.
  EXPECT_EQ(One("DELETE FROM t WHERE id = 999"), "0");
  EXPECT_FALSE(HasCommit(location, 5));
  // Time travel still sees the deleted rows.
  EXPECT_EQ(One("SELECT count(*) FROM t VERSION AS OF 2"), "5");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, DeleteOnAPartitionIsMetadataOnlyAndWithoutWhereEmptiesTheTable) {
  std::string location = CreateTable("p", kRegionSchema, {"region"});
  ASSERT_OK(Query("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us'), (4, NULL)").status());
  EXPECT_EQ(One("DELETE FROM p WHERE region = 'eu'"), "2");
  EXPECT_TRUE(Of(Actions(location, 2), "add").empty());
  EXPECT_EQ(Of(Actions(location, 2), "remove").size(), 1u);
  EXPECT_THAT(Rows("SELECT v FROM p ORDER BY v"), ::testing::ElementsAre("3", "4"));
  EXPECT_EQ(One("DELETE FROM p WHERE region IS NULL OR v > 100"), "1");
  EXPECT_THAT(Rows("SELECT v FROM p"), ::testing::ElementsAre("3"));
  EXPECT_EQ(One("DELETE FROM p"), "1");
  EXPECT_EQ(One("SELECT count(*) FROM p"), "0");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, DeleteWithASubqueryAndInATransactionWithRollback) {
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("INSERT INTO t SELECT i, 'n' || i FROM range(20) r(i)").status());
  ASSERT_OK(Query("CREATE TEMP TABLE gone AS SELECT * FROM (VALUES (3), (7), (19)) v(id)").status());
  EXPECT_EQ(One("DELETE FROM t WHERE id IN (SELECT id FROM gone)"), "3");
  EXPECT_EQ(One("SELECT count(*) FROM t"), "17");
  EXPECT_EQ(One("SELECT count(*) FROM t WHERE id IN (3, 7, 19)"), "0");
  ASSERT_OK(Query("BEGIN").status());
  EXPECT_EQ(One("DELETE FROM t WHERE id < 5"), "4");
  ASSERT_OK(Query("ROLLBACK").status());
  EXPECT_EQ(One("SELECT count(*) FROM t"), "17");
  EXPECT_FALSE(HasCommit(location, 3));
  // A DELETE after another write to the table in the same transaction is refused.
  ASSERT_OK(Query("BEGIN").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (100, 'z')").status());
  auto r = Query("DELETE FROM t WHERE id = 100");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("same transaction"));
  ASSERT_OK(Query("ROLLBACK").status());
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, ConcurrentDeletesOfTheSameFileConflictOfOtherPartitionsBothCommit) {
  std::string location = CreateTable("p", kRegionSchema, {"region"});
  ASSERT_OK(Query("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us'), (4, 'us')").status());
  auto other = NewSession();
  // Different partitions: both commit.
  ASSERT_OK(Query("BEGIN").status());
  EXPECT_EQ(One("DELETE FROM p WHERE region = 'eu' AND v = 1"), "1");
  EXPECT_EQ(One("DELETE FROM p WHERE region = 'us' AND v = 3", other.get()), "1");
  ASSERT_OK(Query("COMMIT").status());
  EXPECT_THAT(Rows("SELECT v FROM p ORDER BY v"), ::testing::ElementsAre("2", "4"));
  // The same file: the second committer fails with a conflict and changes nothing.
  ASSERT_OK(Query("BEGIN").status());
  EXPECT_EQ(One("DELETE FROM p WHERE v = 2"), "1");
  EXPECT_EQ(One("DELETE FROM p WHERE region = 'eu'", other.get()), "1");
  auto r = Query("COMMIT");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("concurrent delete"));
  EXPECT_THAT(Rows("SELECT v FROM p ORDER BY v"), ::testing::ElementsAre("4"));
  EXPECT_THAT(Validate(location), IsEmpty());
}


// ---- UPDATE (lake_dml.h, lake_write.h PlanLakeUpdate) ----

TEST_F(LakeWriteTest, UpdateRewritesTheTouchedFilesOnly) {
  std::string location = CreateTable("t", kIdName);
  ASSERT_OK(Query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')").status());
  ASSERT_OK(Query("INSERT INTO t VALUES (10, 'x')").status());
  std::string touched = Of(Actions(location, 1), "add")[0]["path"];
  EXPECT_EQ(One("UPDATE t SET name = upper(name) || id WHERE id = 2"), "1");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"),
              ::testing::ElementsAre("1|a", "2|B2", "3|c", "10|x"));
  EXPECT_THAT(Rows("SELECT id, name FROM " + ReadParquet(location) + " ORDER BY id"),
              ::testing::ElementsAre("1|a", "2|B2", "3|c", "10|x"));
  auto removes = Of(Actions(location, 3), "remove");
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0]["path"], touched);
  EXPECT_EQ(Of(Actions(location, 3), "add").size(), 2u);  // the new row + the copied rows
  Json info = CommitInfo(location, 3);
  EXPECT_EQ(info["operation"], "UPDATE");
  EXPECT_EQ(info["operationMetrics"]["numUpdatedRows"], "1");
  EXPECT_EQ(info["operationMetrics"]["numCopiedRows"], "2");
  EXPECT_EQ(info["operationMetrics"]["numRemovedFiles"], "1");
  // Every row, several columns at once, a column referring to another.
  EXPECT_EQ(One("UPDATE t SET id = id * 100, name = name || '!'"), "4");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"),
              ::testing::ElementsAre("100|a!", "200|B2!", "300|c!", "1000|x!"));
  // No match: no commit.
  EXPECT_EQ(One("UPDATE t SET name = 'z' WHERE id = 7"), "0");
  EXPECT_FALSE(HasCommit(location, 5));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, UpdateOfAPartitionColumnMovesTheRows) {
  std::string location = CreateTable("p", kRegionSchema, {"region"});
  ASSERT_OK(Query("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us')").status());
  EXPECT_EQ(One("UPDATE p SET region = 'ap' WHERE v = 1"), "1");
  EXPECT_THAT(Rows("SELECT v, region FROM p ORDER BY v"),
              ::testing::ElementsAre("1|ap", "2|eu", "3|us"));
  std::set<std::string> regions;
  for (const Json& add : Of(Actions(location, 2), "add")) {
    regions.insert(add["partitionValues"]["region"].get<std::string>());
  }
  EXPECT_EQ(regions, (std::set<std::string>{"ap", "eu"}));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(LakeWriteTest, UpdateChecksConstraintsAndRefusesAmbiguousSources) {
  ASSERT_OK(Query("CREATE TABLE c (id BIGINT NOT NULL, amount INT) USING DELTA").status());
  ASSERT_OK(Query("ALTER TABLE c ADD CONSTRAINT positive CHECK (amount > 0)").status());
  ASSERT_OK(Query("INSERT INTO c VALUES (1, 5), (2, 6)").status());
  auto bad = Query("UPDATE c SET amount = -1 WHERE id = 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("positive"));
  auto null_id = Query("UPDATE c SET id = NULL WHERE id = 2");
  ASSERT_FALSE(null_id.ok());
  EXPECT_THAT(null_id.status().message(), HasSubstr("NOT NULL"));
  // UPDATE ... FROM where one target row matches two source rows.
  auto twice = Query("UPDATE c SET amount = s.v FROM (VALUES (1, 7), (1, 8)) s(id, v) "
                     "WHERE c.id = s.id");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("matched more than one source row"));
  EXPECT_THAT(Rows("SELECT id, amount FROM c ORDER BY id"), ::testing::ElementsAre("1|5", "2|6"));
  EXPECT_EQ(One("UPDATE c SET amount = s.v FROM (VALUES (2, 9)) s(id, v) WHERE c.id = s.id"), "1");
  EXPECT_THAT(Rows("SELECT id, amount FROM c ORDER BY id"), ::testing::ElementsAre("1|5", "2|9"));
}

TEST_F(LakeWriteTest, DeleteAndUpdateOfTheSameFileConflictOfOtherPartitionsBothCommit) {
  std::string location = CreateTable("p", kRegionSchema, {"region"});
  ASSERT_OK(Query("INSERT INTO p VALUES (1, 'eu'), (2, 'eu'), (3, 'us'), (4, 'us')").status());
  auto other = NewSession();
  ASSERT_OK(Query("BEGIN").status());
  EXPECT_EQ(One("DELETE FROM p WHERE region = 'eu' AND v = 1"), "1");
  EXPECT_EQ(One("UPDATE p SET v = 30 WHERE region = 'us' AND v = 3", other.get()), "1");
  ASSERT_OK(Query("COMMIT").status());
  EXPECT_THAT(Rows("SELECT v FROM p ORDER BY v"), ::testing::ElementsAre("2", "4", "30"));
  ASSERT_OK(Query("BEGIN").status());
  EXPECT_EQ(One("DELETE FROM p WHERE region = 'us' AND v = 4"), "1");
  EXPECT_EQ(One("UPDATE p SET v = 40 WHERE region = 'us' AND v = 4", other.get()), "1");
  auto r = Query("COMMIT");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_THAT(Rows("SELECT v FROM p ORDER BY v"), ::testing::ElementsAre("2", "30", "40"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

}  // namespace
}  // namespace lake::sql
