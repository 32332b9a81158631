// The RESTORE / VACUUM grammar (restore_vacuum_sql.h) and its place in the SQL rewrite.
#include "engine/internal/restore_vacuum_sql.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/internal/sql_rewrite.h"

namespace lake::engine::internal {
namespace {

using Kind = RestoreVacuumParse::Kind;
using ::testing::HasSubstr;

RestoreSpec Restore(std::string_view sql) {
  RestoreVacuumParse p = ParseRestoreVacuum(sql);
  EXPECT_EQ(p.kind, Kind::kParsed) << sql << ": " << p.error;
  auto* spec = std::get_if<RestoreSpec>(&p.statement);
  return spec ? *spec : RestoreSpec{};
}

VacuumSpec Vacuum(std::string_view sql) {
  RestoreVacuumParse p = ParseRestoreVacuum(sql);
  EXPECT_EQ(p.kind, Kind::kParsed) << sql << ": " << p.error;
  auto* spec = std::get_if<VacuumSpec>(&p.statement);
  return spec ? *spec : VacuumSpec{};
}

TEST(RestoreVacuumSql, RestoreForms) {
  RestoreSpec a = Restore("RESTORE TABLE s.t TO VERSION AS OF 3;");
  EXPECT_EQ(a.target.table, "s.t");
  EXPECT_FALSE(a.target.path);
  EXPECT_EQ(a.version, 3);
  RestoreSpec b = Restore("restore delta.`/data/t` timestamp as of '2024-01-01 00:00:00'");
  EXPECT_EQ(b.target.path, "/data/t");
  EXPECT_EQ(b.timestamp, "2024-01-01 00:00:00");
  EXPECT_FALSE(b.version);
  RestoreSpec c = Restore("RESTORE \"My T\" TO TIMESTAMP AS OF TIMESTAMP '2024-01-01'");
  EXPECT_EQ(c.target.table, "\"My T\"");
  EXPECT_EQ(c.timestamp, "2024-01-01");
  // A table called "table" needs no TABLE keyword.
  EXPECT_EQ(Restore("RESTORE table TO VERSION AS OF 0").target.table, "table");
}

TEST(RestoreVacuumSql, VacuumForms) {
  VacuumSpec a = Vacuum("VACUUM t");
  EXPECT_EQ(a.target.table, "t");
  EXPECT_FALSE(a.retain_hours);
  EXPECT_FALSE(a.dry_run);
  VacuumSpec b = Vacuum("vacuum lake.s.t RETAIN 0.5 HOURS DRY RUN;");
  EXPECT_EQ(b.target.table, "lake.s.t");
  EXPECT_EQ(b.retain_hours, 0.5);
  EXPECT_TRUE(b.dry_run);
  VacuumSpec c = Vacuum("VACUUM '/data/t' DRY RUN");
  EXPECT_EQ(c.target.path, "/data/t");
  EXPECT_TRUE(c.dry_run);
}

TEST(RestoreVacuumSql, DuckDbsVacuumIsNotOursAndMistakesAreNamed) {
  EXPECT_EQ(ParseRestoreVacuum("VACUUM").kind, Kind::kNotOurs);
  EXPECT_EQ(ParseRestoreVacuum("VACUUM ANALYZE t").kind, Kind::kNotOurs);
  EXPECT_EQ(ParseRestoreVacuum("SELECT 1").kind, Kind::kNotOurs);
  RestoreVacuumParse bad = ParseRestoreVacuum("VACUUM t RETAIN 5 DAYS");
  EXPECT_EQ(bad.kind, Kind::kError);
  EXPECT_THAT(bad.error, HasSubstr("expected HOURS after RETAIN n near \"DAYS\""));
  RestoreVacuumParse inventory = ParseRestoreVacuum("VACUUM t USING INVENTORY inv");
  EXPECT_EQ(inventory.kind, Kind::kError);
  EXPECT_THAT(inventory.error, HasSubstr("USING INVENTORY is not supported"));
  RestoreVacuumParse no_version = ParseRestoreVacuum("RESTORE t TO VERSION AS OF x");
  EXPECT_EQ(no_version.kind, Kind::kError);
  EXPECT_THAT(no_version.error, HasSubstr("non-negative integer version"));
  EXPECT_EQ(ParseRestoreVacuum("RESTORE TABLE").kind, Kind::kError);
}

TEST(RestoreVacuumSql, RewriteRunsTheStatementThroughItsTableFunction) {
  SqlRewrite r = RewriteLakeSql("RESTORE t TO VERSION AS OF 1");
  ASSERT_EQ(r.kind, SqlRewrite::Kind::kRewritten) << r.error;
  EXPECT_EQ(r.sql, "SELECT * FROM lake_restore('RESTORE t TO VERSION AS OF 1')");
  r = RewriteLakeSql("VACUUM delta.`/x` RETAIN 2 HOURS");
  ASSERT_EQ(r.kind, SqlRewrite::Kind::kRewritten) << r.error;
  EXPECT_EQ(r.sql, "SELECT * FROM lake_vacuum('VACUUM delta.`/x` RETAIN 2 HOURS')");
  r = RewriteLakeSql("VACUUM t RETAIN x HOURS");
  EXPECT_EQ(r.kind, SqlRewrite::Kind::kError);
}

}  // namespace
}  // namespace lake::engine::internal
