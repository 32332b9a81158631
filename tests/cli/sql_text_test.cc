#include "cli/sql_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lake::cli {
namespace {

using ::testing::ElementsAre;

TEST(EndsWithStatementTerminator, SemicolonOutsideQuotesEndsInput) {
  EXPECT_TRUE(EndsWithStatementTerminator("SELECT 1;"));
  EXPECT_TRUE(EndsWithStatementTerminator("SELECT 1;  \n"));
  EXPECT_TRUE(EndsWithStatementTerminator("SELECT 1; -- done\n"));
  EXPECT_FALSE(EndsWithStatementTerminator("SELECT 1"));
  EXPECT_FALSE(EndsWithStatementTerminator("SELECT ';"));
  EXPECT_FALSE(EndsWithStatementTerminator("SELECT * FROM delta.`/a;b"));
  EXPECT_FALSE(EndsWithStatementTerminator("SELECT 1; /* open comment"));
  EXPECT_FALSE(EndsWithStatementTerminator("SELECT 1; SELECT 2"));
  EXPECT_FALSE(EndsWithStatementTerminator(";"));
  EXPECT_FALSE(EndsWithStatementTerminator("SELECT $$ ; "));
  EXPECT_TRUE(EndsWithStatementTerminator("SELECT 'it''s;' ;"));
  EXPECT_TRUE(EndsWithStatementTerminator("SELECT $x$;$x$;"));
}

TEST(SplitStatements, SplitsAtTopLevelSemicolons) {
  EXPECT_THAT(SplitStatements("SELECT 1; SELECT ';' ;\n-- only a comment\n;"),
              ElementsAre("SELECT 1", "SELECT ';'"));
  EXPECT_THAT(SplitStatements("SELECT * FROM delta.`/t;x` VERSION AS OF 1;SELECT 2"),
              ElementsAre("SELECT * FROM delta.`/t;x` VERSION AS OF 1", "SELECT 2"));
  EXPECT_THAT(SplitStatements("SELECT \"a;b\" /* ; */ FROM t;"),
              ElementsAre("SELECT \"a;b\" /* ; */ FROM t"));
  EXPECT_THAT(SplitStatements("SELECT $1; "), ElementsAre("SELECT $1"));
  EXPECT_THAT(SplitStatements("  ;  "), ElementsAre());
}

}  // namespace
}  // namespace lake::cli
