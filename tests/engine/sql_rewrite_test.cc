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

TEST(SqlRewrite, SyntaxErrorsInOurFormsNameWhatWasExpected) {
  EXPECT_EQ(ErrorOf("SELECT * FROM '/t' VERSION AS OF 'x'"),
            "lake: expected a non-negative integer version after VERSION AS OF near \"'x'\" at "
            "position 34");
  EXPECT_EQ(ErrorOf("SELECT * FROM '/t' VERSION AS OF"),
            "lake: expected a non-negative integer version after VERSION AS OF near the end of "
            "the statement");
  EXPECT_EQ(ErrorOf("SELECT * FROM '/t' TIMESTAMP AS OF 5"),
            "lake: expected a quoted timestamp after TIMESTAMP AS OF near \"5\" at position 36");
  EXPECT_EQ(
      ErrorOf("DESCRIBE HISTORY t"),
      "lake: expected a table reference (delta.`/path` or '/path') near \"t\" at position 18");
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
