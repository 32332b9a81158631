// The Spark DDL grammar (engine/internal/spark_ddl.h), text only. Expected structures and
// JSON are written out by hand from PROTOCOL.md "Schema Serialization Format".
#include "engine/internal/spark_ddl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/internal/sql_rewrite.h"

namespace lake::engine::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

CreateTableSpec Create(std::string_view sql) {
  DdlParse p = ParseSparkDdl(sql);
  EXPECT_EQ(p.kind, DdlParse::Kind::kParsed) << sql << ": " << p.error;
  const auto* spec = std::get_if<CreateTableSpec>(&p.statement);
  return spec ? *spec : CreateTableSpec{};
}

AlterTableSpec Alter(std::string_view sql) {
  DdlParse p = ParseSparkDdl(sql);
  EXPECT_EQ(p.kind, DdlParse::Kind::kParsed) << sql << ": " << p.error;
  const auto* spec = std::get_if<AlterTableSpec>(&p.statement);
  return spec ? *spec : AlterTableSpec{};
}

std::string ErrorOf(std::string_view sql) {
  DdlParse p = ParseSparkDdl(sql);
  EXPECT_EQ(p.kind, DdlParse::Kind::kError) << sql;
  return p.error;
}

std::string TypeJson(std::string_view type) {
  Result<delta::DataType> t = ParseSparkType(type);
  if (!t.ok()) return "error: " + t.status().message();
  return delta::SerializeDataType(*t);
}

TEST(SparkDdlTypes, SparkTypeNamesMapToDeltaTypes) {
  EXPECT_EQ(TypeJson("STRING"), "\"string\"");
  EXPECT_EQ(TypeJson("int"), "\"integer\"");
  EXPECT_EQ(TypeJson("INTEGER"), "\"integer\"");
  EXPECT_EQ(TypeJson("BIGINT"), "\"long\"");
  EXPECT_EQ(TypeJson("LONG"), "\"long\"");
  EXPECT_EQ(TypeJson("SMALLINT"), "\"short\"");
  EXPECT_EQ(TypeJson("TINYINT"), "\"byte\"");
  EXPECT_EQ(TypeJson("BYTE"), "\"byte\"");
  EXPECT_EQ(TypeJson("DOUBLE"), "\"double\"");
  EXPECT_EQ(TypeJson("FLOAT"), "\"float\"");
  EXPECT_EQ(TypeJson("BOOLEAN"), "\"boolean\"");
  EXPECT_EQ(TypeJson("DATE"), "\"date\"");
  EXPECT_EQ(TypeJson("TIMESTAMP"), "\"timestamp\"");
  EXPECT_EQ(TypeJson("TIMESTAMP_NTZ"), "\"timestamp_ntz\"");
  EXPECT_EQ(TypeJson("BINARY"), "\"binary\"");
  EXPECT_EQ(TypeJson("VARCHAR(10)"), "\"string\"");
  EXPECT_EQ(TypeJson("DECIMAL(12, 3)"), "\"decimal(12,3)\"");
  EXPECT_EQ(TypeJson("DECIMAL"), "\"decimal(10,0)\"");
  EXPECT_EQ(TypeJson("DECIMAL(5)"), "\"decimal(5,0)\"");
  EXPECT_EQ(TypeJson("ARRAY<INT>"),
            R"({"type":"array","elementType":"integer","containsNull":true})");
  EXPECT_EQ(TypeJson("MAP<STRING, ARRAY<BIGINT>>"),
            R"({"type":"map","keyType":"string","valueType":{"type":"array","elementType":"long",)"
            R"("containsNull":true},"valueContainsNull":true})");
  EXPECT_EQ(TypeJson("STRUCT<a: INT NOT NULL COMMENT 'first', b ARRAY<ARRAY<DATE>>>"),
            R"({"type":"struct","fields":[{"name":"a","type":"integer","nullable":false,)"
            R"("metadata":{"comment":"first"}},{"name":"b","type":{"type":"array","elementType":)"
            R"({"type":"array","elementType":"date","containsNull":true},"containsNull":true},)"
            R"("nullable":true,"metadata":{}}]})");
}

TEST(SparkDdlTypes, BadTypesAreRefusedNamingThePart) {
  EXPECT_THAT(TypeJson("HUGEINT"), HasSubstr("unknown type HUGEINT"));
  EXPECT_THAT(TypeJson("DECIMAL(40,2)"), HasSubstr("precision must be 1..38"));
  EXPECT_THAT(TypeJson("DECIMAL(5,6)"), HasSubstr("scale 0..precision"));
  EXPECT_THAT(TypeJson("ARRAY<INT"), HasSubstr("expected '>' closing ARRAY<"));
  EXPECT_THAT(TypeJson("MAP<INT>"), HasSubstr("expected ',' between the MAP key and value"));
}

TEST(SparkDdl, CreateTableWithEveryClause) {
  CreateTableSpec spec = Create(
      "CREATE TABLE IF NOT EXISTS sales.orders (id BIGINT NOT NULL COMMENT 'the id', "
      "`region code` STRING, amount DECIMAL(10,2)) USING DELTA PARTITIONED BY (`region code`) "
      "LOCATION '/data/o' TBLPROPERTIES ('delta.appendOnly' = 'true', delta.logRetentionDuration "
      "'interval 1 days', 'n'=5) COMMENT 'it''s orders';");
  EXPECT_EQ(spec.table, "sales.orders");
  EXPECT_TRUE(spec.if_not_exists);
  EXPECT_FALSE(spec.or_replace);
  ASSERT_TRUE(spec.columns.has_value());
  ASSERT_EQ(spec.columns->size(), 3u);
  EXPECT_EQ((*spec.columns)[0].name, "id");
  EXPECT_EQ((*spec.columns)[0].type.kind, delta::TypeKind::kLong);
  EXPECT_FALSE((*spec.columns)[0].nullable);
  EXPECT_EQ((*spec.columns)[0].comment, "the id");
  EXPECT_EQ((*spec.columns)[1].name, "region code");
  EXPECT_TRUE((*spec.columns)[1].nullable);
  EXPECT_EQ((*spec.columns)[2].type.ToString(), "decimal(10,2)");
  EXPECT_THAT(spec.partition_columns, ElementsAre("region code"));
  EXPECT_EQ(spec.location, "/data/o");
  EXPECT_EQ(spec.comment, "it's orders");
  EXPECT_THAT(spec.properties,
              ElementsAre(Pair("delta.appendOnly", "true"),
                          Pair("delta.logRetentionDuration", "interval 1 days"), Pair("n", "5")));
}

TEST(SparkDdl, WhichCreateStatementsAreOurs) {
  // Column syntax DuckDB rejected (COMMENT) without any table clause: ours.
  CreateTableSpec commented = Create("CREATE TABLE t (a INT COMMENT 'x')");
  ASSERT_TRUE(commented.columns.has_value());
  EXPECT_EQ((*commented.columns)[0].comment, "x");
  // LOCATION only: registers an existing table, no column list.
  CreateTableSpec registered = Create("CREATE TABLE t LOCATION '/d'");
  EXPECT_FALSE(registered.columns.has_value());
  EXPECT_TRUE(Create("CREATE OR REPLACE TABLE t (a INT) USING delta").or_replace);
  CreateTableSpec ctas = Create("CREATE TABLE t USING DELTA AS SELECT 1");
  EXPECT_TRUE(ctas.as_query);
  EXPECT_EQ(ctas.query_begin, 30u);  // "SELECT 1"
  // AS SELECT with no Spark clause before it (e.g. a delta.`path` DuckDB rejected): not ours.
  EXPECT_EQ(ParseSparkDdl("CREATE TABLE t AS SELECT * FROM x USING SAMPLE 10").kind,
            DdlParse::Kind::kNotOurs);
  EXPECT_EQ(ParseSparkDdl("CREATE VIEW v AS SELECT 1").kind, DdlParse::Kind::kNotOurs);
  // A column list followed by something that is no Spark clause: DuckDB's error stands.
  EXPECT_EQ(ParseSparkDdl("CREATE TABLE t (a INT) WITH (x = 1)").kind, DdlParse::Kind::kNotOurs);
  EXPECT_EQ(ParseSparkDdl("CREATE TABLE t (a INT,)").kind, DdlParse::Kind::kNotOurs);
}

TEST(SparkDdl, CreateSyntaxErrorsSayWhatWasExpected) {
  EXPECT_THAT(ErrorOf("CREATE TABLE t (a INT) USING PARQUET"),
              HasSubstr("expected DELTA after USING"));
  EXPECT_THAT(ErrorOf("CREATE TABLE t (a INT) LOCATION /d"),
              HasSubstr("expected a quoted path after LOCATION"));
  EXPECT_THAT(ErrorOf("CREATE TABLE t (a INT, b) USING DELTA"), HasSubstr("expected a type name"));
  EXPECT_THAT(ErrorOf("CREATE TABLE t (a INT) USING DELTA PARTITIONED BY (b STRING)"),
              HasSubstr("',' or ')' in PARTITIONED BY"));
  EXPECT_THAT(ErrorOf("CREATE TABLE t (a INT GENERATED ALWAYS AS (1)) USING DELTA"),
              HasSubstr("GENERATED columns (column a, position 23) are not supported yet"));
  EXPECT_THAT(ErrorOf("CREATE TABLE t (a INT) USING DELTA TBLPROPERTIES ('k')"),
              HasSubstr("expected a value for property 'k'"));
}

TEST(SparkDdl, AlterForms) {
  AlterTableSpec add = Alter("ALTER TABLE s.t ADD COLUMNS (c STRING COMMENT 'new', d INT)");
  EXPECT_EQ(add.table, "s.t");
  EXPECT_EQ(add.kind, AlterTableSpec::Kind::kAddColumns);
  ASSERT_EQ(add.columns.size(), 2u);
  EXPECT_EQ(add.columns[0].comment, "new");
  EXPECT_EQ(add.columns[1].type.kind, delta::TypeKind::kInteger);
  EXPECT_EQ(Alter("ALTER TABLE t ADD COLUMN c ARRAY<INT>").columns.at(0).type.kind,
            delta::TypeKind::kArray);

  AlterTableSpec set_nn = Alter("ALTER TABLE t CHANGE COLUMN c SET NOT NULL");
  EXPECT_EQ(set_nn.kind, AlterTableSpec::Kind::kSetNotNull);
  EXPECT_EQ(set_nn.column, "c");
  EXPECT_EQ(Alter("ALTER TABLE t ALTER c DROP NOT NULL").kind, AlterTableSpec::Kind::kDropNotNull);

  AlterTableSpec props = Alter("ALTER TABLE t SET TBLPROPERTIES ('a' = 'b', delta.x = true)");
  EXPECT_EQ(props.kind, AlterTableSpec::Kind::kSetProperties);
  EXPECT_THAT(props.properties, ElementsAre(Pair("a", "b"), Pair("delta.x", "true")));

  AlterTableSpec unset = Alter("ALTER TABLE t UNSET TBLPROPERTIES IF EXISTS ('a', delta.x)");
  EXPECT_EQ(unset.kind, AlterTableSpec::Kind::kUnsetProperties);
  EXPECT_TRUE(unset.if_exists);
  EXPECT_THAT(unset.keys, ElementsAre("a", "delta.x"));

  AlterTableSpec check = Alter("ALTER TABLE t ADD CONSTRAINT positive CHECK (a > 0 AND (b < 5))");
  EXPECT_EQ(check.kind, AlterTableSpec::Kind::kAddConstraint);
  EXPECT_EQ(check.constraint_name, "positive");
  EXPECT_EQ(check.constraint_expression, "a > 0 AND (b < 5)");

  AlterTableSpec drop = Alter("ALTER TABLE t DROP CONSTRAINT IF EXISTS positive;");
  EXPECT_EQ(drop.kind, AlterTableSpec::Kind::kDropConstraint);
  EXPECT_TRUE(drop.if_exists);
  EXPECT_EQ(drop.constraint_name, "positive");

  // Forms DuckDB handles (RENAME, ALTER COLUMN TYPE) are not ours.
  EXPECT_EQ(ParseSparkDdl("ALTER TABLE t RENAME TO u").kind, DdlParse::Kind::kNotOurs);
  EXPECT_THAT(ErrorOf("ALTER TABLE t ALTER COLUMN c TYPE BIGINT"),
              HasSubstr("expected SET NOT NULL or DROP NOT NULL"));
  EXPECT_THAT(ErrorOf("ALTER TABLE t ADD CONSTRAINT c UNIQUE (a)"),
              HasSubstr("expected CHECK (only CHECK constraints are supported)"));
  EXPECT_THAT(ErrorOf("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0"), HasSubstr("')' closing"));
}

TEST(SparkDdl, PathReferencesNameTablesByLocation) {
  CreateTableSpec create = Create("CREATE TABLE delta.`/data/it's` (a INT) USING DELTA");
  EXPECT_EQ(create.path, "/data/it's");
  EXPECT_EQ(create.table, "delta.`/data/it's`");
  AlterTableSpec alter = Alter("ALTER TABLE delta.`/d` SET TBLPROPERTIES ('a' = 'b')");
  EXPECT_EQ(alter.path, "/d");
  // A backquoted name that is not after `delta.` stays a name.
  EXPECT_EQ(Alter("ALTER TABLE s.`t` SET TBLPROPERTIES ('a' = 'b')").path, std::nullopt);
}

TEST(SparkDdl, ShowTblProperties) {
  DdlParse p = ParseSparkDdl("SHOW TBLPROPERTIES lake.s.t ('delta.appendOnly')");
  ASSERT_EQ(p.kind, DdlParse::Kind::kParsed) << p.error;
  const auto& show = std::get<ShowTblPropertiesSpec>(p.statement);
  EXPECT_EQ(show.table, "lake.s.t");
  EXPECT_EQ(show.key, "delta.appendOnly");
}

TEST(SparkDdl, TheParserExtensionHandsDdlToLakeDdl) {
  SqlRewrite r = RewriteLakeSql("ALTER TABLE t SET TBLPROPERTIES ('it''s' = 'x')");
  ASSERT_EQ(r.kind, SqlRewrite::Kind::kRewritten) << r.error;
  EXPECT_EQ(r.sql,
            "SELECT * FROM lake_ddl('ALTER TABLE t SET TBLPROPERTIES (''it''''s'' = ''x'')')");
  SqlRewrite bad = RewriteLakeSql("CREATE TABLE t (a INT) USING PARQUET");
  EXPECT_EQ(bad.kind, SqlRewrite::Kind::kError);
  EXPECT_THAT(bad.error, HasSubstr("expected DELTA after USING"));
}

TEST(SparkDdl, SparkCtasBecomesDuckDbCtasWithItsClausesAside) {
  SqlRewrite r = RewriteLakeSql(
      "CREATE OR REPLACE TABLE s.t USING DELTA PARTITIONED BY (p) LOCATION '/d' "
      "TBLPROPERTIES ('k' = 'v') COMMENT 'c' AS SELECT * FROM delta.`/src` VERSION AS OF 2;");
  ASSERT_EQ(r.kind, SqlRewrite::Kind::kRewritten) << r.error;
  EXPECT_EQ(r.sql, "CREATE OR REPLACE TABLE s.t AS SELECT * FROM delta_scan('/src', version := 2)");
  EXPECT_EQ(r.ctas_table, "s.t");
  EXPECT_EQ(r.ctas_clauses.location, "/d");
  EXPECT_THAT(r.ctas_clauses.partition_columns, ElementsAre("p"));
  EXPECT_THAT(r.ctas_clauses.properties, ElementsAre(Pair("k", "v")));
  EXPECT_EQ(r.ctas_clauses.comment, "c");
  // With a column list it stays with lake_ddl, which refuses it.
  SqlRewrite listed = RewriteLakeSql("CREATE TABLE t (a INT) USING DELTA AS SELECT 1");
  EXPECT_EQ(listed.ctas_table, std::nullopt);
  EXPECT_THAT(listed.sql, HasSubstr("lake_ddl("));
  EXPECT_THAT(RewriteLakeSql("CREATE TABLE t USING DELTA AS").error,
              HasSubstr("expected a query after AS"));
}

TEST(SparkDdl, ScriptsDuckDbRefusedGetTheirDdlStatementsReplaced) {
  EXPECT_EQ(RewriteDdlDuckDbRejects("SELECT 1; ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0); "
                                    "SELECT ';'"),
            "SELECT 1;SELECT * FROM lake_ddl(' ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)');"
            " SELECT ';'");
  EXPECT_EQ(RewriteDdlDuckDbRejects("SELECT 1; SELECT 2"), std::nullopt);
}

}  // namespace
}  // namespace lake::engine::internal
