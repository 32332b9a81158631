// The REORG TABLE ... APPLY (PURGE) grammar (reorg_sql.h) and its place in the SQL rewrite.
#include "engine/internal/reorg_sql.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/internal/sql_rewrite.h"

namespace lake::engine::internal {
namespace {

using Kind = ReorgParse::Kind;
using ::testing::HasSubstr;

OptimizeSpec Reorg(std::string_view sql) {
  ReorgParse p = ParseReorgSql(sql);
  EXPECT_EQ(p.kind, Kind::kParsed) << sql << ": " << p.error;
  return p.spec;
}

TEST(ReorgSql, Forms) {
  OptimizeSpec a = Reorg("REORG TABLE s.t APPLY (PURGE);");
  EXPECT_EQ(a.table, "s.t");
  EXPECT_FALSE(a.path);
  EXPECT_FALSE(a.where);
  EXPECT_TRUE(a.purge);
  OptimizeSpec b = Reorg("reorg table delta.`/data/t` where (d >= '2024-01-01') apply ( purge )");
  EXPECT_EQ(b.path, "/data/t");
  EXPECT_EQ(b.table, "delta.`/data/t`");
  EXPECT_EQ(b.where, "(d >= '2024-01-01')");
  OptimizeSpec c = Reorg("REORG TABLE '/x/y' WHERE p = 'apply' AND q IN (1, 2) APPLY (PURGE)");
  EXPECT_EQ(c.path, "/x/y");
  EXPECT_EQ(c.where, "p = 'apply' AND q IN (1, 2)");
}

TEST(ReorgSql, ErrorsSayWhatWasExpected) {
  EXPECT_EQ(ParseReorgSql("SELECT 1").kind, Kind::kNotOurs);
  struct Case {
    const char* sql;
    const char* message;
  } cases[] = {
      {"REORG t APPLY (PURGE)", "expected TABLE after REORG"},
      {"REORG TABLE APPLY (PURGE)", "a table name"},
      {"REORG TABLE t", "expected WHERE or APPLY near the end"},
      {"REORG TABLE t WHERE APPLY (PURGE)", "a partition predicate after WHERE"},
      {"REORG TABLE t APPLY PURGE", "'(' after APPLY"},
      {"REORG TABLE t APPLY (ZORDER)", "PURGE in APPLY"},
      {"REORG TABLE t APPLY (PURGE", "')' after PURGE"},
      {"REORG TABLE t APPLY (PURGE) now", "the end of the statement near 'now'"},
      {"REORG TABLE t APPLY (UPGRADE UNIFORM(ICEBERG_COMPAT_VERSION = 2))", "not supported"},
  };
  for (const Case& c : cases) {
    ReorgParse p = ParseReorgSql(c.sql);
    EXPECT_EQ(p.kind, Kind::kError) << c.sql;
    EXPECT_THAT(p.error, HasSubstr(c.message)) << c.sql;
  }
}

TEST(ReorgSql, RewritesToLakeOptimize) {
  SqlRewrite r = RewriteLakeSql("REORG TABLE t APPLY (PURGE)");
  ASSERT_EQ(r.kind, SqlRewrite::Kind::kRewritten);
  EXPECT_EQ(r.sql, "SELECT * FROM lake_optimize('REORG TABLE t APPLY (PURGE)')");
  SqlRewrite bad = RewriteLakeSql("REORG TABLE t APPLY (NOPE)");
  EXPECT_NE(bad.kind, SqlRewrite::Kind::kRewritten);
}

}  // namespace
}  // namespace lake::engine::internal
