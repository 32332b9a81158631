// Unit tests of the Spark/Delta SQL rewriter (src/engine/internal/sql_rewrite.h): expected
// strings are written by hand from the rules in that header.
#include "engine/internal/sql_rewrite.h"

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

}  // namespace
}  // namespace lake::engine::internal
