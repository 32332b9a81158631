// CREATE TABLE / ALTER TABLE / SHOW TBLPROPERTIES by name, end to end through a Lakehouse in a
// temp home (engine/internal/lake_ddl.h). Every commit is read back as JSON and checked by the
// independent protocol validator (tests/delta/protocol_validator.h). Expected values come
// from the statements (and, for dat/basic_append, from its log: letter a..e, number 1..5,
// version 1, protocol 1/2), written out by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "delta/protocol_validator.h"
#include "engine/internal/lake_ddl.h"
#include "sql/lakehouse.h"
#include "status_matchers.h"
#include "temp_lakehouse.h"
#include "storage/object_store.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class DdlTest : public testing::TempLakehouse<> {
 protected:
  DdlTest() : TempLakehouse("lake_ddl") {}

  void Exec(const std::string& sql) {
    auto r = Query(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
  }

  int64_t QueryInt(const std::string& sql) {
    auto result = Query(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status();
    if (!result.ok() || result->rows.size() != 1) return -1;
    return std::get<int64_t>(result->rows[0][0].v);
  }

  // Every row as "v1|v2|..." (strings and integers only).
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> out;
    auto result = Query(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status();
    if (!result.ok()) return out;
    for (const auto& row : result->rows) {
      std::vector<std::string> cells;
      for (const auto& v : row) {
        if (v.is_null()) {
          cells.push_back("NULL");
        } else if (auto* s = std::get_if<std::string>(&v.v)) {
          cells.push_back(*s);
        } else if (auto* i = std::get_if<int64_t>(&v.v)) {
          cells.push_back(std::to_string(*i));
        } else if (auto* b = std::get_if<bool>(&v.v)) {
          cells.push_back(*b ? "true" : "false");
        } else {
          cells.push_back("?");
        }
      }
      out.push_back(StrJoin(cells, "|"));
    }
    return out;
  }

  std::string Managed(const std::string& schema, const std::string& table) {
    return (root_ / "home" / "warehouse" / (schema + ".db") / table).string();
  }

  std::string CopyBasicAppend(const std::string& name) {
    fs::path to = root_ / "data" / name;
    fs::copy(std::string(LAKE_CONFORMANCE_DIR) + "/dat/basic_append", to,
             fs::copy_options::recursive);
    return to.string();
  }

  // Registers a copy of dat/basic_append as `name` (version 1, 5 rows).
  std::string RegisterBasicAppend(const std::string& name) {
    std::string location = CopyBasicAppend(name);
    Exec("CREATE TABLE " + name + " LOCATION '" + location + "'");
    return location;
  }

  // The actions of commit `version` of the table at `location`, one JSON object per line.
  static std::vector<json> Commit(const std::string& location, int64_t version) {
    std::ifstream in(location + "/_delta_log/" + ZeroPad(version, 20) + ".json");
    EXPECT_TRUE(in.good()) << location << " version " << version;
    std::vector<json> out;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) out.push_back(json::parse(line));
    }
    return out;
  }
  // The one action of `kind` in a commit (null json when absent).
  static json Action(const std::vector<json>& commit, const std::string& kind) {
    for (const json& a : commit) {
      if (a.contains(kind)) return a[kind];
    }
    return json();
  }
  static int Count(const std::vector<json>& commit, const std::string& kind) {
    int n = 0;
    for (const json& a : commit) n += a.contains(kind) ? 1 : 0;
    return n;
  }

  static std::vector<std::string> ValidateLog(const std::string& location) {
    auto store = storage::OpenStore(location);
    if (!store.ok()) return {store.status().ToString()};
    return delta::testing::ValidateTableLog(**store);
  }

};

TEST_F(DdlTest, SparkCreateTableWritesVersionZeroLikeSpark) {
  Exec("CREATE SCHEMA sales");
  Exec(
      "CREATE TABLE sales.orders (id BIGINT NOT NULL COMMENT 'the id', region STRING, "
      "amount DECIMAL(10,2), tags ARRAY<STRING>, attrs MAP<STRING, INT>, "
      "addr STRUCT<city: STRING, zip: INT>) USING DELTA PARTITIONED BY (region) "
      "TBLPROPERTIES ('owner' = 'ann') COMMENT 'all orders'");
  const std::string location = Managed("sales", "orders");
  EXPECT_THAT(ValidateLog(location), IsEmpty());
  std::vector<json> v0 = Commit(location, 0);
  ASSERT_EQ(v0.size(), 3u);
  EXPECT_TRUE(v0[0].contains("commitInfo"));  // first, so readers find it without parsing on

  json protocol = Action(v0, "protocol");
  EXPECT_EQ(protocol, json::parse(R"({"minReaderVersion":1,"minWriterVersion":2})"));

  json metadata = Action(v0, "metaData");
  EXPECT_EQ(metadata["id"].get<std::string>().size(), 36u);
  EXPECT_EQ(metadata["description"], "all orders");
  EXPECT_EQ(metadata["partitionColumns"], json::parse(R"(["region"])"));
  EXPECT_EQ(metadata["configuration"], json::parse(R"({"owner":"ann"})"));
  EXPECT_GT(metadata["createdTime"].get<int64_t>(), 1700000000000);
  EXPECT_EQ(json::parse(metadata["schemaString"].get<std::string>()), json::parse(R"j({
    "type":"struct","fields":[
      {"name":"id","type":"long","nullable":false,"metadata":{"comment":"the id"}},
      {"name":"region","type":"string","nullable":true,"metadata":{}},
      {"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}},
      {"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},
       "nullable":true,"metadata":{}},
      {"name":"attrs","type":{"type":"map","keyType":"string","valueType":"integer",
       "valueContainsNull":true},"nullable":true,"metadata":{}},
      {"name":"addr","type":{"type":"struct","fields":[
        {"name":"city","type":"string","nullable":true,"metadata":{}},
        {"name":"zip","type":"integer","nullable":true,"metadata":{}}]},
       "nullable":true,"metadata":{}}]})j"));

  json info = Action(v0, "commitInfo");
  EXPECT_EQ(info["operation"], "CREATE TABLE");
  EXPECT_EQ(info["operationParameters"], json::parse(R"({"isManaged":"true",
      "description":"all orders","partitionBy":"[\"region\"]",
      "properties":"{\"owner\":\"ann\"}"})"));
  EXPECT_THAT(info["engineInfo"].get<std::string>(), StartsWith("lake/"));

  // Read back by name: no rows, the columns as DuckDB types.
  EXPECT_EQ(QueryInt("SELECT count(*) FROM sales.orders"), 0);
  EXPECT_THAT(Rows("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM sales.orders)"),
              ElementsAre("id|BIGINT", "region|VARCHAR", "amount|DECIMAL(10,2)", "tags|VARCHAR[]",
                          "attrs|MAP(VARCHAR, INTEGER)", "addr|STRUCT(city VARCHAR, zip INTEGER)"));
  EXPECT_THAT(Rows("SELECT * FROM lake_describe('sales.orders')"),
              ::testing::Contains("id|long|the id"));
  EXPECT_THAT(Rows("SHOW TABLES IN sales"), ElementsAre("sales|orders|false"));
}

TEST_F(DdlTest, DuckDbCreateTableKeepsNotNullAndCheckConstraints) {
  Exec("CREATE TABLE t (a INTEGER NOT NULL, b VARCHAR, ts TIMESTAMP, CHECK (a > 0))");
  const std::string location = Managed("default", "t");
  EXPECT_THAT(ValidateLog(location), IsEmpty());
  std::vector<json> v0 = Commit(location, 0);
  // A CHECK constraint needs writer version 3 (PROTOCOL.md "Writer Version Requirements").
  EXPECT_EQ(Action(v0, "protocol"), json::parse(R"({"minReaderVersion":1,"minWriterVersion":3})"));
  json metadata = Action(v0, "metaData");
  EXPECT_EQ(json::parse(metadata["schemaString"].get<std::string>()), json::parse(R"({
    "type":"struct","fields":[
      {"name":"a","type":"integer","nullable":false,"metadata":{}},
      {"name":"b","type":"string","nullable":true,"metadata":{}},
      {"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]})"));
  EXPECT_EQ(metadata["configuration"], json::parse(R"j({"delta.constraints.check_1":"(a > 0)"})j"));
  EXPECT_EQ(Action(v0, "commitInfo")["operation"], "CREATE TABLE");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 0);

  auto key = Query("CREATE TABLE k (a INTEGER PRIMARY KEY)");
  EXPECT_EQ(key.status().code(), StatusCode::kNotSupported) << key.status();
  EXPECT_THAT(key.status().message(), HasSubstr("PRIMARY KEY"));
  auto huge = Query("CREATE TABLE h (a HUGEINT)");
  EXPECT_EQ(huge.status().code(), StatusCode::kNotSupported) << huge.status();
  EXPECT_FALSE(fs::exists(Managed("default", "k")));
}

TEST_F(DdlTest, TimestampMeansSparksTimestampAndNtzNeedsItsFeature) {
  Exec("CREATE TABLE ts (a TIMESTAMP, b TIMESTAMP_NTZ, c TIMESTAMPTZ)");  // DuckDB's parser
  std::vector<json> v0 = Commit(Managed("default", "ts"), 0);
  json schema = json::parse(Action(v0, "metaData")["schemaString"].get<std::string>());
  EXPECT_EQ(schema["fields"][0]["type"], "timestamp");
  EXPECT_EQ(schema["fields"][1]["type"], "timestamp_ntz");
  EXPECT_EQ(schema["fields"][2]["type"], "timestamp");
  // timestamp_ntz is a reader-writer table feature (PROTOCOL.md "Timestamp without timezone").
  EXPECT_EQ(Action(v0, "protocol"), json::parse(R"({"minReaderVersion":3,"minWriterVersion":7,
      "readerFeatures":["timestampNtz"],"writerFeatures":["timestampNtz"]})"));
  Exec("CREATE TABLE plain (a TIMESTAMP)");
  EXPECT_EQ(Action(Commit(Managed("default", "plain"), 0), "protocol"),
            json::parse(R"({"minReaderVersion":1,"minWriterVersion":2})"));
}

TEST_F(DdlTest, FeaturePropertiesRaiseTheProtocolOfANewTable) {
  Exec("CREATE TABLE dv (a INT) USING DELTA TBLPROPERTIES ('delta.enableDeletionVectors' = true)");
  EXPECT_EQ(Action(Commit(Managed("default", "dv"), 0), "protocol"), json::parse(R"({
      "minReaderVersion":3,"minWriterVersion":7,
      "readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]})"));

  Exec(
      "CREATE TABLE cm (a INT, s STRUCT<x: INT>) USING DELTA "
      "TBLPROPERTIES ('delta.columnMapping.mode' = 'name')");
  std::vector<json> v0 = Commit(Managed("default", "cm"), 0);
  EXPECT_EQ(Action(v0, "protocol"), json::parse(R"({"minReaderVersion":2,"minWriterVersion":5})"));
  json metadata = Action(v0, "metaData");
  // Ids for a, s and s.x; every field gets a physical name col-<uuid>.
  EXPECT_EQ(metadata["configuration"]["delta.columnMapping.maxColumnId"], "3");
  json schema = json::parse(metadata["schemaString"].get<std::string>());
  EXPECT_EQ(schema["fields"][0]["metadata"]["delta.columnMapping.id"], 1);
  EXPECT_THAT(
      schema["fields"][0]["metadata"]["delta.columnMapping.physicalName"].get<std::string>(),
      StartsWith("col-"));
  EXPECT_THAT(ValidateLog(Managed("default", "cm")), IsEmpty());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cm"), 0);

  Exec("CREATE TABLE ao (a INT) USING DELTA TBLPROPERTIES ('delta.appendOnly' = 'true')");
  EXPECT_EQ(Action(Commit(Managed("default", "ao"), 0), "protocol"),
            json::parse(R"({"minReaderVersion":1,"minWriterVersion":2})"));
}

TEST_F(DdlTest, CreateRefusalsNameTheTable) {
  Exec("CREATE TABLE t (a INT) USING DELTA");
  auto again = Query("CREATE TABLE t (a INT) USING DELTA");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status();
  EXPECT_THAT(again.status().message(), HasSubstr("table default.t already exists"));
  EXPECT_THAT(again.status().hint(), HasSubstr("IF NOT EXISTS"));
  Exec("CREATE TABLE IF NOT EXISTS t (b STRING) USING DELTA");
  EXPECT_THAT(Rows("SELECT * FROM lake_describe('t')"), ElementsAre("a|integer|"));  // unchanged

  auto schema = Query("CREATE TABLE nowhere.t (a INT) USING DELTA");
  EXPECT_EQ(schema.status().code(), StatusCode::kNotFound) << schema.status();
  EXPECT_THAT(schema.status().hint(), HasSubstr("CREATE SCHEMA nowhere"));
  auto dup = Query("CREATE TABLE d (a INT, A STRING) USING DELTA");
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument) << dup.status();
  EXPECT_THAT(dup.status().message(), HasSubstr("column 'A' is declared twice"));
  auto part = Query("CREATE TABLE p (a INT) USING DELTA PARTITIONED BY (b)");
  EXPECT_THAT(part.status().message(), HasSubstr("partition column 'b' is not in the column list"));
  auto constraint = Query(
      "CREATE TABLE c (a INT) USING DELTA TBLPROPERTIES "
      "('delta.constraints.x' = 'a > 0')");
  EXPECT_THAT(constraint.status().hint(), HasSubstr("ADD CONSTRAINT"));
  auto ctas = Query("CREATE TABLE x (a INT) USING DELTA AS SELECT 1 AS a");
  EXPECT_EQ(ctas.status().code(), StatusCode::kInvalidArgument) << ctas.status();
  EXPECT_THAT(ctas.status().message(), HasSubstr("a column list cannot be given with AS SELECT"));
  for (const char* name : {"d", "p", "c", "x"}) EXPECT_FALSE(fs::exists(Managed("default", name)));
}

TEST_F(DdlTest, LocationOfAnExistingTableMustMatchTheColumnList) {
  std::string location = CopyBasicAppend("ba");
  auto wrong = Query(
      "CREATE TABLE w (letter STRING, number INT, a_float DOUBLE) USING DELTA "
      "LOCATION '" +
      location + "'");
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument) << wrong.status();
  EXPECT_THAT(wrong.status().message(),
              HasSubstr("the specified schema does not match the existing schema"));
  EXPECT_THAT(wrong.status().message(), HasSubstr("column number is integer here but long"));
  auto part = Query(
      "CREATE TABLE w (letter STRING, number BIGINT, a_float DOUBLE) USING DELTA "
      "PARTITIONED BY (letter) LOCATION '" +
      location + "'");
  EXPECT_THAT(part.status().message(), HasSubstr("does not match the existing partitioning"));

  Exec("CREATE TABLE ok (letter STRING, number BIGINT, a_float DOUBLE) USING DELTA LOCATION '" +
       location + "'");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM ok"), 5);
  // Registering wrote nothing to the table's log.
  EXPECT_FALSE(fs::exists(location + "/_delta_log/00000000000000000002.json"));
}

TEST_F(DdlTest, CreateOrReplaceRemovesEveryFileInANewVersion) {
  const std::string location = RegisterBasicAppend("t");
  Exec("CREATE OR REPLACE TABLE t (x INT NOT NULL) USING DELTA");
  std::vector<json> v2 = Commit(location, 2);
  EXPECT_EQ(Action(v2, "commitInfo")["operation"], "CREATE OR REPLACE TABLE");
  EXPECT_EQ(Count(v2, "remove"), 2);  // the two files of versions 0 and 1
  EXPECT_EQ(Count(v2, "add"), 0);
  json metadata = Action(v2, "metaData");
  EXPECT_EQ(metadata["id"], "6908f940-d6f4-4020-8de8-fb62433f6164");  // the same table
  EXPECT_THAT(metadata["schemaString"].get<std::string>(), HasSubstr("\"name\":\"x\""));
  EXPECT_THAT(ValidateLog(location), IsEmpty());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 0);
  EXPECT_THAT(Rows("SELECT * FROM lake_describe('t')"), ElementsAre("x|integer|"));
  // Time travel still reads the old version.
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t VERSION AS OF 1"), 5);
}

TEST_F(DdlTest, AddColumnsIsAMetadataOnlyCommit) {
  const std::string location = RegisterBasicAppend("t");
  Exec("ALTER TABLE t ADD COLUMNS (note STRING COMMENT 'free text', tags ARRAY<INT>)");
  std::vector<json> v2 = Commit(location, 2);
  ASSERT_EQ(v2.size(), 2u);  // commitInfo + metaData: no protocol, no file
  json info = Action(v2, "commitInfo");
  EXPECT_EQ(info["operation"], "ADD COLUMNS");
  EXPECT_EQ(json::parse(info["operationParameters"]["columns"].get<std::string>())[0]["column"],
            json::parse(R"({"name":"note","type":"string","nullable":true,
                            "metadata":{"comment":"free text"}})"));
  // DuckDB's own ADD COLUMN takes the same path.
  Exec("ALTER TABLE t ADD COLUMN n INTEGER");
  EXPECT_EQ(Action(Commit(location, 3), "commitInfo")["operation"], "ADD COLUMNS");
  EXPECT_THAT(Rows("SELECT * FROM lake_describe('t')"),
              ElementsAre("letter|string|", "number|long|", "a_float|double|",
                          "note|string|free text", "tags|array<integer>|", "n|integer|"));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t WHERE note IS NULL AND n IS NULL"), 5);
  EXPECT_THAT(ValidateLog(location), IsEmpty());

  auto not_null = Query("ALTER TABLE t ADD COLUMNS (m INT NOT NULL)");
  EXPECT_EQ(not_null.status().code(), StatusCode::kInvalidArgument) << not_null.status();
  EXPECT_THAT(not_null.status().message(), HasSubstr("new column m cannot be NOT NULL"));
  auto exists = Query("ALTER TABLE t ADD COLUMNS (NUMBER INT)");
  EXPECT_THAT(exists.status().message(), HasSubstr("ALTER TABLE default.t ADD COLUMNS: column "
                                                   "NUMBER already exists"));
  EXPECT_FALSE(fs::exists(location + "/_delta_log/00000000000000000004.json"));
}

TEST_F(DdlTest, SetNotNullChecksTheRowsFirst) {
  const std::string location = RegisterBasicAppend("t");
  Exec("ALTER TABLE t ALTER COLUMN number SET NOT NULL");  // DuckDB's parser
  json v2 = Action(Commit(location, 2), "commitInfo");
  EXPECT_EQ(v2["operation"], "CHANGE COLUMN");
  EXPECT_EQ(json::parse(v2["operationParameters"]["column"].get<std::string>()),
            json::parse(R"({"name":"number","type":"long","nullable":false,"metadata":{}})"));
  EXPECT_EQ(Action(Commit(location, 2), "commitInfo")["isBlindAppend"], false);

  Exec("ALTER TABLE t ADD COLUMNS (note STRING)");
  auto refused = Query("ALTER TABLE t CHANGE COLUMN note SET NOT NULL");  // Spark's spelling
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(refused.status().message(),
              HasSubstr("ALTER COLUMN note SET NOT NULL: 5 row(s) at version 3 hold NULL in it"));
  EXPECT_FALSE(fs::exists(location + "/_delta_log/00000000000000000004.json"));

  Exec("ALTER TABLE t ALTER number DROP NOT NULL");
  json schema =
      json::parse(Action(Commit(location, 4), "metaData")["schemaString"].get<std::string>());
  EXPECT_EQ(schema["fields"][1]["nullable"], true);
  auto missing = Query("ALTER TABLE t ALTER COLUMN nope SET NOT NULL");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status();
  EXPECT_THAT(ValidateLog(location), IsEmpty());
}

TEST_F(DdlTest, SetAndUnsetTblproperties) {
  const std::string location = RegisterBasicAppend("t");
  Exec("ALTER TABLE t SET TBLPROPERTIES ('owner' = 'ann', 'delta.appendOnly' = 'true')");
  std::vector<json> v2 = Commit(location, 2);
  EXPECT_EQ(Count(v2, "protocol"), 0);  // appendOnly is within writer version 2
  EXPECT_EQ(Action(v2, "commitInfo")["operation"], "SET TBLPROPERTIES");
  EXPECT_EQ(Action(v2, "commitInfo")["operationParameters"],
            json::parse(R"({"properties":"{\"delta.appendOnly\":\"true\",\"owner\":\"ann\"}"})"));

  // A feature property upgrades the protocol in the same commit.
  Exec("ALTER TABLE t SET TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')");
  json protocol = Action(Commit(location, 3), "protocol");
  EXPECT_EQ(protocol["minReaderVersion"], 3);
  EXPECT_EQ(protocol["minWriterVersion"], 7);
  EXPECT_EQ(protocol["readerFeatures"], json::parse(R"(["deletionVectors"])"));
  // The legacy writer-2 features stay supported (table_features.h UpgradeProtocolFor).
  EXPECT_EQ(protocol["writerFeatures"],
            json::parse(R"(["appendOnly","deletionVectors","invariants"])"));

  EXPECT_THAT(
      Rows("SHOW TBLPROPERTIES t"),
      ElementsAre("delta.appendOnly|true", "delta.enableDeletionVectors|true",
                  "delta.feature.appendOnly|supported", "delta.feature.deletionVectors|supported",
                  "delta.feature.invariants|supported", "delta.minReaderVersion|3",
                  "delta.minWriterVersion|7", "owner|ann"));
  EXPECT_THAT(Rows("SHOW TBLPROPERTIES t ('owner')"), ElementsAre("owner|ann"));
  EXPECT_THAT(Rows("SHOW TBLPROPERTIES t ('nope')"),
              ElementsAre("nope|Table default.t does not have property: nope"));

  Exec("ALTER TABLE t UNSET TBLPROPERTIES ('owner')");
  json unset = Action(Commit(location, 4), "commitInfo");
  EXPECT_EQ(unset["operation"], "UNSET TBLPROPERTIES");
  EXPECT_EQ(unset["operationParameters"],
            json::parse(R"({"properties":"[\"owner\"]","ifExists":"false"})"));
  auto missing = Query("ALTER TABLE t UNSET TBLPROPERTIES ('owner')");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument) << missing.status();
  EXPECT_THAT(missing.status().message(), HasSubstr("property 'owner' is not set"));
  Exec("ALTER TABLE t UNSET TBLPROPERTIES IF EXISTS ('owner')");
  EXPECT_FALSE(fs::exists(location + "/_delta_log/00000000000000000005.json"));
  EXPECT_THAT(ValidateLog(location), IsEmpty());
}

TEST_F(DdlTest, CheckConstraintsAreValidatedAndRaiseTheWriterVersion) {
  const std::string location = RegisterBasicAppend("t");
  // number is 1..5: number > 2 fails on 1 and 2.
  auto refused = Query("ALTER TABLE t ADD CONSTRAINT big CHECK (number > 2)");
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(refused.status().message(),
              HasSubstr("ADD CONSTRAINT big CHECK (number > 2): 2 row(s) at version 1 violate it"));
  EXPECT_THAT(refused.status().message(), HasSubstr("number="));
  auto bad = Query("ALTER TABLE t ADD CONSTRAINT b CHECK (nope > 1)");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status();
  EXPECT_FALSE(fs::exists(location + "/_delta_log/00000000000000000002.json"));

  Exec("ALTER TABLE t ADD CONSTRAINT Positive CHECK (number > 0 AND letter <> 'z')");
  std::vector<json> v2 = Commit(location, 2);
  EXPECT_EQ(Action(v2, "protocol"), json::parse(R"({"minReaderVersion":1,"minWriterVersion":3})"));
  EXPECT_EQ(Action(v2, "metaData")["configuration"],
            json::parse(R"({"delta.constraints.positive":"number > 0 AND letter <> 'z'"})"));
  EXPECT_EQ(Action(v2, "commitInfo")["operation"], "ADD CONSTRAINT");
  EXPECT_EQ(Action(v2, "commitInfo")["operationParameters"],
            json::parse(R"({"name":"positive","expr":"number > 0 AND letter <> 'z'"})"));
  auto twice = Query("ALTER TABLE t ADD CONSTRAINT positive CHECK (number > 1)");
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists) << twice.status();

  Exec("ALTER TABLE t DROP CONSTRAINT positive");
  std::vector<json> v3 = Commit(location, 3);
  EXPECT_EQ(Action(v3, "commitInfo")["operation"], "DROP CONSTRAINT");
  EXPECT_EQ(Action(v3, "metaData")["configuration"], json::object());
  EXPECT_EQ(Count(v3, "protocol"), 0);  // protocols are never downgraded
  auto gone = Query("ALTER TABLE t DROP CONSTRAINT positive");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status();
  Exec("ALTER TABLE t DROP CONSTRAINT IF EXISTS positive");
  EXPECT_FALSE(fs::exists(location + "/_delta_log/00000000000000000004.json"));
  auto direct = Query("ALTER TABLE t SET TBLPROPERTIES ('delta.constraints.x' = 'true')");
  EXPECT_EQ(direct.status().code(), StatusCode::kInvalidArgument) << direct.status();
  EXPECT_THAT(ValidateLog(location), IsEmpty());
}

TEST_F(DdlTest, ColumnMappingThroughAlter) {
  // Enabling mode 'name' on a table written without mapping: existing columns keep their
  // names as physical names (the files are read by them), ids 1..3.
  const std::string location = RegisterBasicAppend("t");
  Exec("ALTER TABLE t SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name')");
  std::vector<json> v2 = Commit(location, 2);
  EXPECT_EQ(Action(v2, "protocol"), json::parse(R"({"minReaderVersion":2,"minWriterVersion":5})"));
  json schema = json::parse(Action(v2, "metaData")["schemaString"].get<std::string>());
  EXPECT_EQ(schema["fields"][1]["metadata"], json::parse(R"({"delta.columnMapping.id":2,
                            "delta.columnMapping.physicalName":"number"})"));
  EXPECT_EQ(Action(v2, "metaData")["configuration"]["delta.columnMapping.maxColumnId"], "3");
  EXPECT_EQ(QueryInt("SELECT sum(number)::BIGINT FROM t"), 15);

  // A column added later gets the next id and a fresh physical name.
  Exec("ALTER TABLE t ADD COLUMNS (note STRING)");
  json v3 = Action(Commit(location, 3), "metaData");
  schema = json::parse(v3["schemaString"].get<std::string>());
  EXPECT_EQ(schema["fields"][3]["metadata"]["delta.columnMapping.id"], 4);
  EXPECT_THAT(
      schema["fields"][3]["metadata"]["delta.columnMapping.physicalName"].get<std::string>(),
      StartsWith("col-"));
  EXPECT_EQ(v3["configuration"]["delta.columnMapping.maxColumnId"], "4");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t WHERE note IS NULL"), 5);
  EXPECT_THAT(ValidateLog(location), IsEmpty());
}

TEST_F(DdlTest, AddConstraintConflictsWithAnAppendThatLandedAfterTheCheck) {
  const std::string location = RegisterBasicAppend("t");
  // Right before ADD CONSTRAINT claims version 2, another writer appends a copy of version
  // 0's file (3 rows) as version 2: rows the constraint was never checked against.
  bool landed = false;
  auto land_append = [&](int64_t version) {
    if (landed || version != 2) return;
    landed = true;
    fs::copy_file(location + "/part-00000-3c9f01c2-6db4-4cbc-a744-dbc2f79eb78a-c000.snappy.parquet",
                  location + "/part-copy.parquet");
    std::ofstream(location + "/_delta_log/00000000000000000002.json")
        << R"({"commitInfo":{"timestamp":1700000000000,"operation":"WRITE"}})"
        << "\n"
        << R"({"add":{"path":"part-copy.parquet","partitionValues":{},"size":996,)"
        << R"("modificationTime":1700000000000,"dataChange":true}})"
        << "\n";
  };
  engine::internal::SetDdlCommitSyncPointForTesting(land_append);
  auto r = Query("ALTER TABLE t ADD CONSTRAINT small CHECK (number < 100)");
  engine::internal::SetDdlCommitSyncPointForTesting(nullptr);
  ASSERT_TRUE(landed);
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("concurrent append"));
  EXPECT_FALSE(fs::exists(location + "/_delta_log/00000000000000000003.json"));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 8);

  // A property change reads no rows: it lands after the same kind of append.
  landed = false;
  engine::internal::SetDdlCommitSyncPointForTesting([&](int64_t version) {
    if (landed || version != 3) return;
    landed = true;
    std::ofstream(location + "/_delta_log/00000000000000000003.json")
        << R"({"commitInfo":{"timestamp":1700000000001,"operation":"WRITE"}})"
        << "\n"
        << R"({"add":{"path":"part-00000-3c9f01c2-6db4-4cbc-a744-dbc2f79eb78a-c000.snappy.)"
        << R"(parquet","partitionValues":{},"size":996,"modificationTime":1700000000001,)"
        << R"("dataChange":true}})"
        << "\n";
  });
  auto props = Query("ALTER TABLE t SET TBLPROPERTIES ('owner' = 'ann')");
  engine::internal::SetDdlCommitSyncPointForTesting(nullptr);
  ASSERT_TRUE(landed);
  ASSERT_OK(props.status());
  EXPECT_EQ(Action(Commit(location, 4), "commitInfo")["operation"], "SET TBLPROPERTIES");
}

TEST_F(DdlTest, ExternalTableAtANewLocation) {
  const std::string location = (root_ / "data" / "ext").string();
  Exec("CREATE TABLE e (a INT) USING DELTA LOCATION '" + location + "'");
  std::vector<json> v0 = Commit(location, 0);
  EXPECT_EQ(Action(v0, "commitInfo")["operationParameters"]["isManaged"], "false");
  EXPECT_THAT(ValidateLog(location), IsEmpty());
  EXPECT_THAT(Rows("SELECT col_name, data_type FROM lake_describe('e', extended := true) "
                   "WHERE col_name IN ('Type', 'Location')"),
              ElementsAre("Type|EXTERNAL", "Location|" + location));
  Exec("DROP TABLE e");
  EXPECT_TRUE(fs::exists(location + "/_delta_log/00000000000000000000.json"));  // data stays
}

TEST_F(DdlTest, PathTablesNeedNoName) {
  const std::string location = (root_ / "data" / "p").string();
  const std::string ref = "delta.`" + location + "`";
  Exec("CREATE TABLE " + ref + " (a INT, b STRING) USING DELTA PARTITIONED BY (b)");
  EXPECT_THAT(ValidateLog(location), IsEmpty());
  json v0 = Action(Commit(location, 0), "commitInfo");
  EXPECT_EQ(v0["operation"], "CREATE TABLE");
  EXPECT_EQ(v0["operationParameters"]["isManaged"], "false");
  EXPECT_THAT(Rows("SHOW TABLES"), IsEmpty());  // no name was registered

  Exec("ALTER TABLE " + ref + " ADD COLUMNS (c DOUBLE)");
  Exec("ALTER TABLE " + ref + " ADD CONSTRAINT pos CHECK (a > 0)");
  EXPECT_THAT(Rows("SHOW TBLPROPERTIES " + ref),
              ElementsAre("delta.constraints.pos|a > 0", "delta.minReaderVersion|1",
                          "delta.minWriterVersion|3"));
  EXPECT_THAT(Rows("SELECT column_name FROM (DESCRIBE SELECT * FROM " + ref + ")"),
              ElementsAre("a", "b", "c"));

  Exec("CREATE TABLE IF NOT EXISTS " + ref + " (z INT) USING DELTA");  // exists: no commit
  EXPECT_FALSE(fs::exists(location + "/_delta_log/00000000000000000003.json"));
  auto mismatch = Query("CREATE TABLE " + ref + " (z INT) USING DELTA");
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument) << mismatch.status();
  EXPECT_THAT(mismatch.status().message(), HasSubstr("does not match the existing schema"));
  EXPECT_THAT(ValidateLog(location), IsEmpty());
}

TEST_F(DdlTest, SparkCtasClausesReachTheCatalogsCtas) {
  Exec(
      "CREATE TABLE c USING DELTA PARTITIONED BY (p) TBLPROPERTIES ('owner' = 'ann') "
      "AS SELECT 1 AS a, 'x' AS p UNION ALL SELECT 2, 'y'");
  const std::string location = Managed("default", "c");
  std::vector<json> v0 = Commit(location, 0);
  json metadata = Action(v0, "metaData");
  EXPECT_EQ(metadata["partitionColumns"], json::parse(R"(["p"])"));
  EXPECT_EQ(metadata["configuration"]["owner"], "ann");
  EXPECT_EQ(Count(v0, "add"), 2);  // one file per partition value
  EXPECT_THAT(ValidateLog(location), IsEmpty());
  EXPECT_THAT(Rows("SELECT a, p FROM c ORDER BY a"), ElementsAre("1|x", "2|y"));

  // The query may use lake's forms: a path with time travel (dat/basic_append v0: 3 rows).
  const std::string source = CopyBasicAppend("src");
  Exec("CREATE TABLE v0 USING DELTA AS SELECT * FROM delta.`" + source + "` VERSION AS OF 0");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM v0"), 3);
  auto path = Query("CREATE TABLE delta.`" + (root_ / "data" / "pc").string() +
                    "` USING DELTA AS SELECT 1 AS a");
  EXPECT_EQ(path.status().code(), StatusCode::kNotSupported) << path.status();
}

TEST_F(DdlTest, DuckDbIfNotExistsAndOrReplace) {
  Exec("CREATE TABLE t (a INTEGER)");
  Exec("CREATE TABLE IF NOT EXISTS t (b VARCHAR)");
  EXPECT_THAT(Rows("SELECT * FROM lake_describe('t')"), ElementsAre("a|integer|"));
  EXPECT_FALSE(fs::exists(Managed("default", "t") + "/_delta_log/00000000000000000001.json"));
  Exec("CREATE OR REPLACE TABLE t (b VARCHAR NOT NULL)");
  EXPECT_EQ(Action(Commit(Managed("default", "t"), 1), "commitInfo")["operation"],
            "CREATE OR REPLACE TABLE");
  EXPECT_THAT(Rows("SELECT * FROM lake_describe('t')"), ElementsAre("b|string|"));
  EXPECT_THAT(ValidateLog(Managed("default", "t")), IsEmpty());
}

// Counts streamed rows; the CLI runs statements through QueryStreaming.
class CountingSink final : public engine::RowSink {
 public:
  Status Begin(const std::vector<engine::ResultColumn>&) override { return Status::OK(); }
  Status Rows(const std::vector<std::vector<engine::Value>>& rows) override {
    rows_ += static_cast<int64_t>(rows.size());
    return Status::OK();
  }
  Status End() override { return Status::OK(); }
  int64_t rows() const { return rows_; }

 private:
  int64_t rows_ = 0;
};

TEST_F(DdlTest, StreamingSessionsRunConstraintStatementsDuckDbCannotParse) {
  RegisterBasicAppend("t");
  // DuckDB's transformer throws NOT_IMPLEMENTED for ADD CONSTRAINT inside a script.
  CountingSink sink;
  ASSERT_OK(session_->QueryStreaming(
      "SELECT 1; ALTER TABLE t ADD CONSTRAINT pos CHECK (number > 0)", sink));
  EXPECT_EQ(sink.rows(), 1);  // the ALTER's (table_name, version) row
  EXPECT_THAT(Rows("SHOW TBLPROPERTIES t ('delta.constraints.pos')"),
              ElementsAre("delta.constraints.pos|number > 0"));
}

TEST_F(DdlTest, ACreatedTableTakesRowsAndKeepsItsConstraints) {
  Exec(
      "CREATE TABLE t (id INT NOT NULL, name STRING COMMENT 'who') USING DELTA "
      "PARTITIONED BY (name)");
  Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  EXPECT_THAT(Rows("SELECT id, name FROM t ORDER BY id"), ElementsAre("1|a", "2|b"));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t VERSION AS OF 0"), 0);  // version 0: no rows
  // NOT NULL from the DDL holds for writes.
  auto null_id = Query("INSERT INTO t VALUES (NULL, 'c')");
  EXPECT_EQ(null_id.status().code(), StatusCode::kInvalidArgument) << null_id.status();
  EXPECT_THAT(null_id.status().message(), HasSubstr("NOT NULL constraint violated: column id"));
  Exec("ALTER TABLE t ADD CONSTRAINT small CHECK (id < 10)");
  auto big = Query("INSERT INTO t VALUES (11, 'c')");
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument) << big.status();
  EXPECT_THAT(big.status().message(), HasSubstr("CHECK constraint small (id < 10) violated"));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 2);
  EXPECT_THAT(ValidateLog(Managed("default", "t")), IsEmpty());
}

// The tables-by-name example of README.md, statement by statement.
TEST_F(DdlTest, TheReadmeExampleRuns) {
  Exec("CREATE TABLE sales (id BIGINT, city STRING, amount DECIMAL(10,2), day DATE) "
       "USING DELTA PARTITIONED BY (day)");
  Exec("INSERT INTO sales VALUES (1, 'Paris', 10.50, DATE '2025-01-01')");
  Exec("ALTER TABLE sales ADD CONSTRAINT positive CHECK (amount > 0)");
  Exec("ALTER TABLE sales ADD COLUMNS (note STRING COMMENT 'free text')");
  EXPECT_THAT(Rows("SHOW TBLPROPERTIES sales"),
              ElementsAre("delta.constraints.positive|amount > 0", "delta.minReaderVersion|1",
                          "delta.minWriterVersion|3"));
  Exec("CREATE TABLE big_sales AS SELECT * FROM sales WHERE amount > 10");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM big_sales"), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM sales VERSION AS OF 1"), 1);
  // Versions 0 (CREATE TABLE), 1 (WRITE), 2 (ADD CONSTRAINT), 3 (ADD COLUMNS).
  EXPECT_THAT(Rows("SELECT version, operation FROM delta_history('sales', by_name := true) "
                   "ORDER BY version"),
              ElementsAre("0|CREATE TABLE", "1|WRITE", "2|ADD CONSTRAINT", "3|ADD COLUMNS"));
  auto negative = Query("INSERT INTO sales VALUES (2, 'Oslo', -1, DATE '2025-01-02', NULL)");
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument) << negative.status();
}

TEST_F(DdlTest, AlterOfAMissingTableNamesIt) {
  auto r = Query("ALTER TABLE nope SET TBLPROPERTIES ('a' = 'b')");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("table default.nope does not exist"));
  auto syntax = Query("ALTER TABLE t SET TBLPROPERTIES ('a')");
  EXPECT_THAT(syntax.status().message(), HasSubstr("expected a value for property 'a'"));
  // DuckDB parses other ALTER forms; lake refuses them naming the table.
  RegisterBasicAppend("t");
  auto drop = Query("ALTER TABLE t DROP COLUMN number");
  EXPECT_EQ(drop.status().code(), StatusCode::kNotSupported) << drop.status();
  EXPECT_THAT(drop.status().message(), HasSubstr("this ALTER TABLE form on default.t"));
  EXPECT_EQ(QueryInt("SELECT count(number) FROM t"), 5);
}

}  // namespace
}  // namespace lake::sql
