// Unit tests of the Spark/Delta SQL rewriter (src/engine/internal/sql_rewrite.h): expected
// strings are written by hand from the rules in that header.
#include "engine/internal/sql_rewrite.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lake::engine::internal {
namespace {

std::string Rewritten(std::string_view sql) {
  SqlRewrite r = RewriteLakeSql(sql);
  EXPECT_EQ(r.kind, SqlRewrite::Kind::kRewritten) << sql << " -> " << r.error;
  return r.sql;
}

std::string ErrorOf(std::string_view sql) {
  SqlRewrite r = RewriteLakeSql(sql);
  EXPECT_EQ(r.kind, SqlRewrite::Kind::kError) << sql << " -> " << r.sql;
  return r.error;
}

TEST(SqlRewrite, DeltaBackquotedPathBecomesDeltaScan) {
  EXPECT_EQ(Rewritten("SELECT * FROM delta.`/data/t`"), "SELECT * FROM delta_scan('/data/t')");
  EXPECT_EQ(Rewritten("select count(*) from DELTA . `/a b/t` x where x.id > 1"),
            "select count(*) from delta_scan('/a b/t') x where x.id > 1");
}

TEST(SqlRewrite, QuotesInPathsAreEscaped) {
  EXPECT_EQ(Rewritten("FROM delta.`/it's/``q```"), "FROM delta_scan('/it''s/`q`')");
  EXPECT_EQ(Rewritten("FROM '/it''s' VERSION AS OF 2"), "FROM delta_scan('/it''s', version := 2)");
}

TEST(SqlRewrite, DmlTargetByPathBecomesCatalogName) {
  EXPECT_EQ(Rewritten("DELETE FROM delta.`/data/t` WHERE id = 1"),
            "DELETE FROM lake.delta.\"/data/t\" WHERE id = 1");
  EXPECT_EQ(Rewritten("update delta.`/data/t` SET v = 2"), "update lake.delta.\"/data/t\" SET v = 2");
  // Only the target: the source stays a scan.
  EXPECT_EQ(Rewritten("INSERT INTO delta.`/a` SELECT * FROM delta.`/b`"),
            "INSERT INTO lake.delta.\"/a\" SELECT * FROM delta_scan('/b')");
  EXPECT_EQ(Rewritten("DELETE FROM t WHERE id IN (SELECT id FROM delta.`/b`)"),
            "DELETE FROM t WHERE id IN (SELECT id FROM delta_scan('/b'))");
  // A double quote in the path is doubled inside the quoted identifier.
  EXPECT_EQ(PathTableName("/a\"b"), "lake.delta.\"/a\"\"b\"");
}

TEST(SqlRewrite, VersionAndTimestampAsOf) {
  EXPECT_EQ(Rewritten("SELECT * FROM delta.`/t` VERSION AS OF 3 AS v"),
            "SELECT * FROM delta_scan('/t', version := 3) AS v");
  EXPECT_EQ(Rewritten("SELECT * FROM '/t' version as of 0"),
            "SELECT * FROM delta_scan('/t', version := 0)");
  EXPECT_EQ(Rewritten("SELECT * FROM delta.`/t` TIMESTAMP AS OF '2024-01-01 00:00:00'"),
            "SELECT * FROM delta_scan('/t', \"timestamp\" := '2024-01-01 00:00:00')");
  EXPECT_EQ(Rewritten("SELECT * FROM '/t' TIMESTAMP AS OF TIMESTAMP '2024-01-01'"),
            "SELECT * FROM delta_scan('/t', \"timestamp\" := '2024-01-01')");
}

TEST(SqlRewrite, SeveralReferencesInOneStatement) {
  EXPECT_EQ(Rewritten("SELECT * FROM (SELECT id FROM '/t' VERSION AS OF 1) a JOIN delta.`/t` b "
                      "USING (id)"),
            "SELECT * FROM (SELECT id FROM delta_scan('/t', version := 1)) a JOIN "
            "delta_scan('/t') b USING (id)");
}

TEST(SqlRewrite, TableNameTimeTravelBecomesAtClause) {
  EXPECT_EQ(Rewritten("SELECT * FROM lake.s.t VERSION AS OF 5"),
            "SELECT * FROM lake.s.t AT (VERSION => 5)");
  EXPECT_EQ(Rewritten("SELECT * FROM \"t\" TIMESTAMP AS OF '2024-01-01'"),
            "SELECT * FROM \"t\" AT (TIMESTAMP => TIMESTAMP '2024-01-01')");
}

TEST(SqlRewrite, QuotedTextAndCommentsAreNotRewritten) {
  // Markers inside strings, identifiers and comments are not markers.
  EXPECT_EQ(RewriteLakeSql("SELECT 'delta.`x`', \"VERSION AS OF 1\" FROM t -- delta.`y`").kind,
            SqlRewrite::Kind::kNotOurs);
  EXPECT_EQ(RewriteLakeSql("SELECT /* VERSION AS OF 1 /* nested */ still */ 1 FRM t").kind,
            SqlRewrite::Kind::kNotOurs);
  EXPECT_EQ(RewriteLakeSql("SELECT $$ delta.`x` $$, E'\\' delta.`x`'").kind,
            SqlRewrite::Kind::kNotOurs);
  // Comments elsewhere are copied unchanged.
  EXPECT_EQ(Rewritten("SELECT /* c */ * FROM delta.`/t` -- tail"),
            "SELECT /* c */ * FROM delta_scan('/t') -- tail");
}

TEST(SqlRewrite, UnrelatedSyntaxErrorsAreNotOurs) {
  EXPECT_EQ(RewriteLakeSql("SELEC 1").kind, SqlRewrite::Kind::kNotOurs);
  EXPECT_EQ(RewriteLakeSql("SELECT version AS v FROM").kind, SqlRewrite::Kind::kNotOurs);
  EXPECT_EQ(RewriteLakeSql("SELECT 'unterminated").kind, SqlRewrite::Kind::kNotOurs);
  EXPECT_EQ(RewriteLakeSql("DESCRIBE t").kind, SqlRewrite::Kind::kNotOurs);
}

TEST(SqlRewrite, DescribeHistoryAndDetail) {
  EXPECT_EQ(Rewritten("DESCRIBE HISTORY delta.`/t`"), "SELECT * FROM delta_history('/t')");
  EXPECT_EQ(Rewritten("describe history '/t' limit 2;"),
            "SELECT * FROM delta_history('/t', \"limit\" := 2)");
  EXPECT_EQ(Rewritten("DESCRIBE DETAIL delta.`/t`"), "SELECT * FROM delta_detail('/t')");
}

TEST(SqlRewrite, DescribeHistoryAndDetailByName) {
  EXPECT_EQ(Rewritten("DESCRIBE HISTORY sales.orders LIMIT 3"),
            "SELECT * FROM delta_history('sales.orders', \"limit\" := 3, by_name := true)");
  EXPECT_EQ(Rewritten("DESCRIBE DETAIL lake.\"default\".t"),
            "SELECT * FROM delta_detail('lake.\"default\".t', by_name := true)");
}

// Spark puts a table's alias after its time travel clause, DuckDB before its AT clause.
TEST(SqlRewrite, AnAliasAfterTimeTravelMovesBeforeTheAtClause) {
  EXPECT_EQ(Rewritten("SELECT * FROM t VERSION AS OF 3 AS s WHERE s.x = 1"),
            "SELECT * FROM t AS s AT (VERSION => 3) WHERE s.x = 1");
  EXPECT_EQ(Rewritten("SELECT * FROM t@v3 s JOIN u ON s.id = u.id"),
            "SELECT * FROM t s AT (VERSION => 3) JOIN u ON s.id = u.id");
  EXPECT_EQ(Rewritten("MERGE INTO t USING src TIMESTAMP AS OF '2024-01-01' src ON t.id = src.id "
                      "WHEN MATCHED THEN DELETE"),
            "MERGE INTO t USING src src AT (TIMESTAMP => TIMESTAMP '2024-01-01') ON t.id = "
            "src.id WHEN MATCHED THEN DELETE");
  // No alias: keywords that follow a table reference are not one.
  EXPECT_EQ(Rewritten("SELECT * FROM t VERSION AS OF 3 WHERE x = 1"),
            "SELECT * FROM t AT (VERSION => 3) WHERE x = 1");
}

TEST(SqlRewrite, MergeWithSchemaEvolutionAndTimeTravelOnTheTarget) {
  SqlRewrite r = RewriteLakeSql(
      "MERGE WITH SCHEMA EVOLUTION INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *");
  EXPECT_EQ(r.kind, SqlRewrite::Kind::kRewritten);
  EXPECT_TRUE(r.merge_schema_evolution);
  EXPECT_EQ(r.sql, "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *");
  r = RewriteLakeSql("MERGE WITH SCHEMA EVOLUTION INTO t USING s@v2 s ON t.id = s.id "
                     "WHEN NOT MATCHED THEN INSERT *");
  EXPECT_TRUE(r.merge_schema_evolution);
  EXPECT_EQ(r.sql, "MERGE INTO t USING s s AT (VERSION => 2) ON t.id = s.id "
                   "WHEN NOT MATCHED THEN INSERT *");
  EXPECT_THAT(ErrorOf("MERGE INTO t VERSION AS OF 1 USING s ON t.id = s.id "
                      "WHEN MATCHED THEN DELETE"),
              ::testing::HasSubstr("latest version"));
  EXPECT_THAT(ErrorOf("MERGE INTO lake.s.t@v1 USING s ON true WHEN MATCHED THEN DELETE"),
              ::testing::HasSubstr("latest version"));
}

TEST(SqlRewrite, AtVersionShorthandBecomesAtClause) {
  EXPECT_EQ(Rewritten("SELECT * FROM sales.t@v12 WHERE x = 1"),
            "SELECT * FROM sales.t AT (VERSION => 12) WHERE x = 1");
  EXPECT_EQ(Rewritten("SELECT * FROM t@20240102030405678"),
            "SELECT * FROM t AT (TIMESTAMP => TIMESTAMP '2024-01-02 03:04:05.678')");
  // With spaces '@' is DuckDB's operator, and other words after it are not versions.
  EXPECT_EQ(RewriteLakeSql("SELECT t @ v12 FROM").kind, SqlRewrite::Kind::kNotOurs);
  EXPECT_EQ(RewriteLakeSql("SELECT * FROM t@vx").kind, SqlRewrite::Kind::kNotOurs);
  EXPECT_EQ(RewriteLakeSql("SELECT * FROM t@2024").kind, SqlRewrite::Kind::kNotOurs);
}

TEST(SqlRewrite, ShowSchemasAndTables) {
  EXPECT_EQ(Rewritten("SHOW SCHEMAS;"), "SELECT * FROM lake_schemas()");
  EXPECT_EQ(Rewritten("show tables in Sales"), "SELECT * FROM lake_tables('Sales')");
  EXPECT_EQ(Rewritten("SHOW TABLES FROM lake.sales"), "SELECT * FROM lake_tables('lake.sales')");
  EXPECT_EQ(ErrorOf("SHOW TABLES IN"),
            "lake: expected a schema name after IN near the end of the statement");
  EXPECT_EQ(ErrorOf("SHOW SCHEMAS LIKE 'x'"),
            "lake: expected the end of the statement after SHOW SCHEMAS near \"LIKE\" at "
            "position 14");
}

TEST(SqlRewrite, DescribeExtended) {
  EXPECT_EQ(Rewritten("DESCRIBE EXTENDED sales.t"),
            "SELECT * FROM lake_describe('sales.t', extended := true)");
  EXPECT_EQ(Rewritten("DESC TABLE EXTENDED t;"),
            "SELECT * FROM lake_describe('t', extended := true)");
  EXPECT_EQ(Rewritten("DESCRIBE TABLE t"), "SELECT * FROM lake_describe('t')");
  EXPECT_EQ(ErrorOf("DESCRIBE EXTENDED t x"),
            "lake: expected the end of the statement after the table name near \"x\" at "
            "position 21");
}

TEST(SqlRewrite, CreateTableGoesToLakeDdl) {
  EXPECT_EQ(Rewritten("CREATE TABLE sales.t USING DELTA LOCATION '/data/it''s'"),
            "SELECT * FROM lake_ddl('CREATE TABLE sales.t USING DELTA LOCATION "
            "''/data/it''''s''')");
  EXPECT_EQ(Rewritten("CREATE TABLE t (a INT) USING DELTA"),
            "SELECT * FROM lake_ddl('CREATE TABLE t (a INT) USING DELTA')");
  EXPECT_EQ(ErrorOf("CREATE TABLE t USING PARQUET"),
            "lake: expected DELTA after USING (lake writes Delta) near \"PARQUET\" at position 22");
  EXPECT_EQ(ErrorOf("CREATE TABLE t LOCATION /d"),
            "lake: expected a quoted path after LOCATION near \"/\" at position 25");
  // Plain DuckDB CREATE TABLE forms are not ours.
  EXPECT_EQ(RewriteLakeSql("CREATE TABLE t (a INT").kind, SqlRewrite::Kind::kNotOurs);
}

TEST(SqlRewrite, SyntaxErrorsInOurFormsNameWhatWasExpected) {
  EXPECT_EQ(ErrorOf("SELECT * FROM '/t' VERSION AS OF 'x'"),
            "lake: expected a non-negative integer version after VERSION AS OF near \"'x'\" at "
            "position 34");
  EXPECT_EQ(ErrorOf("SELECT * FROM '/t' VERSION AS OF"),
            "lake: expected a non-negative integer version after VERSION AS OF near the end of "
            "the statement");
  EXPECT_EQ(ErrorOf("SELECT * FROM '/t' TIMESTAMP AS OF 5"),
            "lake: expected a quoted timestamp after TIMESTAMP AS OF near \"5\" at position 36");
  EXPECT_EQ(ErrorOf("DESCRIBE HISTORY 42"),
            "lake: expected a table reference (a table name, delta.`/path` or '/path') near "
            "\"42\" at position 18");
  EXPECT_EQ(ErrorOf("DESCRIBE HISTORY '/t' LIMIT x"),
            "lake: expected a non-negative integer after LIMIT near \"x\" at position 29");
  EXPECT_EQ(ErrorOf("DESCRIBE HISTORY '/t' WHERE 1"),
            "lake: expected LIMIT or the end of the statement near \"WHERE\" at position 23");
  EXPECT_EQ(ErrorOf("SELECT * FROM delta.`/t"), "lake: unterminated backquoted path after delta.");
  EXPECT_EQ(ErrorOf("SELECT * FROM (SELECT 1) VERSION AS OF 1"),
            "lake: expected a table reference (delta.`/path`, '/path' or a table name) before "
            "VERSION AS OF at position 26");
}

// ---- Spark INSERT forms (sql_rewrite.h (6), insert_clauses.h) ----

InsertStatement InsertOf(std::string_view sql) {
  SqlRewrite r = RewriteLakeSql(sql);
  EXPECT_EQ(r.kind, SqlRewrite::Kind::kRewritten) << sql << " -> " << r.error;
  EXPECT_TRUE(r.insert.has_value()) << sql;
  return r.insert.value_or(InsertStatement{});
}

TEST(SqlRewrite, PlainInsertsStayDuckDbs) {
  EXPECT_EQ(RewriteLakeSql("INSERT INTO t VALUES (1)").kind, SqlRewrite::Kind::kNotOurs);
  EXPECT_EQ(RewriteLakeSql("INSERT INTO t (a) SELECT 1").kind, SqlRewrite::Kind::kNotOurs);
  // A plain INSERT reading delta.`path` gets the reference rewrite only.
  SqlRewrite r = RewriteLakeSql("INSERT INTO t SELECT * FROM delta.`/x`");
  EXPECT_EQ(r.sql, "INSERT INTO t SELECT * FROM delta_scan('/x')");
  EXPECT_FALSE(r.insert.has_value());
}

TEST(SqlRewrite, InsertOverwriteWithPartitionSpecAndColumns) {
  InsertStatement st = InsertOf(
      "insert overwrite table s.t partition (d = DATE '2024-01-01', r) (a, \"B\") select 1, 2, 'x'");
  EXPECT_EQ(st.table, "s.t");
  EXPECT_EQ(st.clauses.mode, InsertClauses::Mode::kOverwrite);
  ASSERT_EQ(st.partition_spec.size(), 2u);
  EXPECT_EQ(st.partition_spec[0].first, "d");
  EXPECT_EQ(st.partition_spec[0].second, "DATE '2024-01-01'");
  EXPECT_EQ(st.partition_spec[1].first, "r");
  EXPECT_FALSE(st.partition_spec[1].second.has_value());
  ASSERT_TRUE(st.columns.has_value());
  EXPECT_EQ(*st.columns, (std::vector<std::string>{"a", "\"B\""}));
  EXPECT_EQ(st.query, "select 1, 2, 'x'");
}

TEST(SqlRewrite, ReplaceWhereSplitsPredicateFromQuery) {
  InsertStatement st = InsertOf(
      "INSERT INTO t REPLACE WHERE d IN (SELECT 1) AND x IS NOT DISTINCT FROM 2 "
      "SELECT * FROM delta.`/src` VERSION AS OF 3;");
  EXPECT_EQ(st.clauses.mode, InsertClauses::Mode::kReplaceWhere);
  EXPECT_EQ(st.clauses.replace_where, "d IN (SELECT 1) AND x IS NOT DISTINCT FROM 2");
  EXPECT_EQ(st.query, "SELECT * FROM delta_scan('/src', version := 3)");
  InsertStatement evolve = InsertOf("INSERT WITH SCHEMA EVOLUTION INTO t BY NAME VALUES (1)");
  EXPECT_TRUE(evolve.clauses.schema_evolution);
  EXPECT_TRUE(evolve.by_name);
  EXPECT_EQ(evolve.query, "VALUES (1)");
}

TEST(SqlRewrite, MalformedInsertFormsAreLakeErrors) {
  EXPECT_THAT(ErrorOf("INSERT INTO t REPLACE d = 1 SELECT 1"), ::testing::HasSubstr("WHERE after REPLACE"));
  EXPECT_THAT(ErrorOf("INSERT INTO t REPLACE WHERE d = 1"), ::testing::HasSubstr("the query"));
  EXPECT_THAT(ErrorOf("INSERT OVERWRITE t PARTITION (d = ) SELECT 1"),
              ::testing::HasSubstr("a value after '='"));
  EXPECT_THAT(ErrorOf("INSERT WITH SCHEMA EVOLUTION t SELECT 1"),
              ::testing::HasSubstr("INTO or OVERWRITE"));
  EXPECT_THAT(ErrorOf("INSERT OVERWRITE 1 SELECT 1"),
              ::testing::HasSubstr("a table name or delta.`/path`"));
}

TEST(SqlRewrite, InsertFormsTakeAPathTarget) {
  SqlRewrite r = RewriteLakeSql("INSERT OVERWRITE delta.`/p` SELECT 1");
  ASSERT_EQ(r.kind, SqlRewrite::Kind::kRewritten) << r.error;
  ASSERT_TRUE(r.insert.has_value());
  EXPECT_EQ(r.insert->table, "lake.delta.\"/p\"");
  EXPECT_EQ(r.sql, "INSERT INTO lake.delta.\"/p\" SELECT 1");
}

TEST(SqlRewrite, BuildInsertSqlPlacesStaticPartitionValues) {
  std::vector<InsertTableColumn> columns = {
      {"a", "INTEGER", false}, {"d", "DATE", true}, {"r", "VARCHAR", true}, {"b", "VARCHAR", false}};
  InsertStatement st = InsertOf("INSERT OVERWRITE t PARTITION (d = '2024-01-01') SELECT 1, 'r', 'b'");
  Result<BuiltInsert> built = BuildInsertSql(st, columns);
  ASSERT_TRUE(built.ok()) << built.status();
  // Without a column list the query gives the other columns in table order.
  EXPECT_EQ(built->sql,
            "INSERT INTO t (\"a\", \"r\", \"b\", \"d\") SELECT __lake_insert_query.*, "
            "CAST('2024-01-01' AS DATE) FROM (\nSELECT 1, 'r', 'b'\n) AS __lake_insert_query");
  EXPECT_EQ(built->clauses.static_partition_predicate,
            "\"d\" IS NOT DISTINCT FROM CAST('2024-01-01' AS DATE)");
  EXPECT_EQ(built->clauses.static_partition_display, "d = '2024-01-01'");

  InsertStatement by_name = InsertOf("INSERT INTO t PARTITION (r = 'x') BY NAME SELECT 1 AS a");
  built = BuildInsertSql(by_name, columns);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->sql,
            "INSERT INTO t BY NAME SELECT __lake_insert_query.*, CAST('x' AS VARCHAR) AS \"r\" "
            "FROM (\nSELECT 1 AS a\n) AS __lake_insert_query");

  InsertStatement dynamic = InsertOf("INSERT OVERWRITE t PARTITION (d, r) SELECT 1, 'b', '2024-01-01', 'r'");
  built = BuildInsertSql(dynamic, columns);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->sql, "INSERT INTO t SELECT 1, 'b', '2024-01-01', 'r'");
  EXPECT_EQ(built->clauses.static_partition_predicate, "");

  EXPECT_EQ(BuildInsertSql(InsertOf("INSERT INTO t PARTITION (a = 1) SELECT 1"), columns)
                .status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildInsertSql(InsertOf("INSERT INTO t PARTITION (d = 1) (a, d) SELECT 1"), columns)
                .status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lake::engine::internal
