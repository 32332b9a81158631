// Tables by name, end to end: a Lakehouse over a temp home, with copies of conformance tables
// registered in it. Expected rows and counts come from the conformance manifest (dat/*
// tables, written by Spark), copied here by hand.
#include "sql/lakehouse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "status_matchers.h"
#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Conformance(const std::string& table) {
  return std::string(LAKE_CONFORMANCE_DIR) + "/" + table;
}

class LakehouseTest : public testing::TempLakehouse<> {
 protected:
  LakehouseTest() : TempLakehouse("lake_lakehouse") {}

  // Copies a conformance table to <root>/data/<name> and returns that path.
  std::string CopyTable(const std::string& table, const std::string& name) {
    fs::path to = root_ / "data" / name;
    fs::copy(Conformance(table), to, fs::copy_options::recursive);
    return to.string();
  }

  int64_t QueryInt(const std::string& sql) {
    auto result = Query(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status();
    if (!result.ok() || result->rows.size() != 1) return -1;
    const auto& v = result->rows[0][0].v;
    if (auto* h = std::get_if<__int128>(&v)) return static_cast<int64_t>(*h);  // sum(BIGINT)
    return std::get<int64_t>(v);
  }

  // The first column of every row, as strings.
  std::vector<std::string> Column0(const std::string& sql) {
    std::vector<std::string> out;
    auto result = Query(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status();
    if (!result.ok()) return out;
    for (const auto& row : result->rows) out.push_back(std::get<std::string>(row[0].v));
    return out;
  }

  // The value of the row whose first column is `key` (DESCRIBE EXTENDED).
  static std::string DetailRow(const engine::ResultTable& table, const std::string& key) {
    for (const auto& row : table.rows) {
      if (std::get<std::string>(row[0].v) == key) return std::get<std::string>(row[1].v);
    }
    return "<missing " + key + ">";
  }

  Status Register(const std::string& name, const std::string& location) {
    auto r = Query("CREATE TABLE " + name + " USING DELTA LOCATION '" + location + "'");
    return r.ok() ? Status::OK() : r.status();
  }

};

TEST_F(LakehouseTest, NamesResolveInTheDefaultSchemaAndQualified) {
  ASSERT_OK(Register("events", CopyTable("dat/basic_append", "events")));
  // dat/basic_append at its latest version: 5 rows, numbers 1..5.
  EXPECT_EQ(QueryInt("SELECT count(*) FROM events"), 5);
  EXPECT_EQ(QueryInt("SELECT sum(number) FROM lake.default.events"), 15);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM \"default\".events"), 5);

  ASSERT_OK(Query("CREATE SCHEMA sales").status());
  ASSERT_OK(Register("sales.orders", CopyTable("dat/basic_append", "orders")));
  EXPECT_EQ(QueryInt("SELECT max(number) FROM sales.orders WHERE letter < 'c'"), 2);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM lake.sales.orders o JOIN events e USING (letter)"), 5);
  // USE moves unqualified names to another schema.
  ASSERT_OK(Query("USE lake.sales").status());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM orders"), 5);
}

TEST_F(LakehouseTest, PathReferencesStillWork) {
  std::string path = CopyTable("dat/basic_append", "p");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM delta.`" + path + "` VERSION AS OF 0"), 3);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM '" + path + "'"), 5);
}

// Sets the modification time of commit `version` of the table at `location`: a commit's
// timestamp for time travel (PROTOCOL.md "Commit Provenance": without in-commit timestamps
// the file's modification time), which copying the table reset.
void SetCommitTime(const std::string& location, int version, std::chrono::sys_seconds t) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020d.json", version);
  fs::last_write_time(fs::path(location) / "_delta_log" / name,
                      std::chrono::file_clock::from_sys(t));
}

TEST_F(LakehouseTest, TimeTravelByName) {
  std::string location = CopyTable("dat/basic_append", "t");
  using std::chrono::sys_days;
  using namespace std::chrono_literals;
  SetCommitTime(location, 0, sys_days{std::chrono::year{2024} / 1 / 1});
  SetCommitTime(location, 1, sys_days{std::chrono::year{2024} / 1 / 2});
  ASSERT_OK(Register("t", location));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t VERSION AS OF 0"), 3);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t@v0"), 3);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM lake.default.t@v1"), 5);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t AT (VERSION => 0)"), 3);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t TIMESTAMP AS OF '2024-01-01 12:00:00'"), 3);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t TIMESTAMP AS OF '2024-01-02 00:00:00'"), 5);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t@20240101120000000"), 3);
  EXPECT_FALSE(Query("SELECT count(*) FROM t TIMESTAMP AS OF '2023-12-31'").ok());
  // Two versions of one table in one query.
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t VERSION AS OF 1 WHERE letter NOT IN "
                     "(SELECT letter FROM t VERSION AS OF 0)"),
            2);
  auto missing = Query("SELECT * FROM t VERSION AS OF 7");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("7"));
  EXPECT_THAT(missing.status().message(), HasSubstr("default.t"));
}

TEST_F(LakehouseTest, ShowSchemasAndTables) {
  ASSERT_OK(Query("CREATE SCHEMA sales").status());
  ASSERT_OK(Query("CREATE SCHEMA IF NOT EXISTS sales").status());
  ASSERT_OK(Register("sales.orders", CopyTable("dat/basic_append", "orders")));
  ASSERT_OK(Register("sales.customers", CopyTable("dat/basic_append", "customers")));
  ASSERT_OK(Register("misc", CopyTable("dat/basic_append", "misc")));
  EXPECT_THAT(Column0("SHOW SCHEMAS"), ElementsAre("default", "sales"));
  auto tables = Query("SHOW TABLES IN sales");
  ASSERT_OK(tables.status());
  ASSERT_EQ(tables->columns.size(), 3u);
  EXPECT_EQ(tables->columns[1].name, "tableName");
  std::vector<std::string> names;
  for (const auto& row : tables->rows) names.push_back(std::get<std::string>(row[1].v));
  EXPECT_THAT(names, ElementsAre("customers", "orders"));
  // DuckDB's own SHOW TABLES lists the current schema through the catalog.
  EXPECT_THAT(Column0("SHOW TABLES"), ElementsAre("misc"));
  auto dup = Query("CREATE SCHEMA sales");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << dup.status();
}

TEST_F(LakehouseTest, DescribeAndDescribeExtended) {
  std::string location = CopyTable("dat/multi_partitioned", "mp");
  ASSERT_OK(Register("mp", location));
  // DuckDB's DESCRIBE: the Delta schema as DuckDB types.
  EXPECT_THAT(Column0("DESCRIBE mp"), ElementsAre("letter", "date", "data", "number"));
  auto extended = Query("DESCRIBE EXTENDED mp");
  ASSERT_OK(extended.status());
  ASSERT_GE(extended->rows.size(), 4u);
  EXPECT_EQ(std::get<std::string>(extended->rows[0][0].v), "letter");
  EXPECT_EQ(std::get<std::string>(extended->rows[0][1].v), "string");
  EXPECT_EQ(std::get<std::string>(extended->rows[2][1].v), "binary");
  EXPECT_EQ(DetailRow(*extended, "Location"), location);
  EXPECT_EQ(DetailRow(*extended, "Provider"), "delta");
  EXPECT_EQ(DetailRow(*extended, "Type"), "EXTERNAL");
  EXPECT_EQ(DetailRow(*extended, "Version"), "2");  // the manifest lists versions 0..2
  EXPECT_EQ(DetailRow(*extended, "Partition Columns"), "[letter, date, data]");
  EXPECT_EQ(DetailRow(*extended, "Table"), "mp");
  EXPECT_EQ(DetailRow(*extended, "Database"), "default");
}

TEST_F(LakehouseTest, DescribeHistoryAndDetailByName) {
  ASSERT_OK(Register("t", CopyTable("dat/basic_append", "t")));
  auto history = Query("DESCRIBE HISTORY t");
  ASSERT_OK(history.status());
  EXPECT_EQ(history->rows.size(), 2u);  // versions 0 and 1
  auto detail = Query("DESCRIBE DETAIL lake.default.t");
  ASSERT_OK(detail.status());
  EXPECT_EQ(detail->rows.size(), 1u);
}

TEST_F(LakehouseTest, DropExternalKeepsTheData) {
  std::string location = CopyTable("dat/basic_append", "ext");
  ASSERT_OK(Register("ext", location));
  ASSERT_OK(Query("DROP TABLE ext").status());
  EXPECT_TRUE(fs::is_directory(fs::path(location) / "_delta_log"));
  auto gone = Query("SELECT * FROM ext");
  ASSERT_FALSE(gone.ok());
  EXPECT_THAT(gone.status().message(), HasSubstr("ext"));
  ASSERT_OK(Query("DROP TABLE IF EXISTS ext").status());
  EXPECT_FALSE(Query("DROP TABLE ext").ok());
}

TEST_F(LakehouseTest, DropManagedDeletesTheFolder) {
  // No SQL creates a managed table yet: place one in the warehouse and register it.
  auto directory = MakeMetastoreDirectory(house_->home());
  ASSERT_OK_AND_ASSIGN(std::string location, directory->ManagedLocation("default", "m"));
  EXPECT_EQ(location, house_->home() + "/warehouse/default.db/m");
  fs::create_directories(fs::path(location).parent_path());
  fs::copy(Conformance("dat/basic_append"), location, fs::copy_options::recursive);
  engine::NewTable table;
  table.schema = "default";
  table.name = "m";
  ASSERT_OK_AND_ASSIGN(engine::DirectoryTable registered, directory->RegisterTable(table));
  EXPECT_TRUE(registered.is_managed);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM m"), 5);
  auto extended = Query("DESCRIBE EXTENDED m");
  ASSERT_OK(extended.status());
  EXPECT_EQ(DetailRow(*extended, "Type"), "MANAGED");
  ASSERT_OK(Query("DROP TABLE m").status());
  EXPECT_FALSE(fs::exists(location));
}

TEST_F(LakehouseTest, RenameMovesTheNameAndAManagedFolder) {
  std::string location = CopyTable("dat/basic_append", "ext");
  ASSERT_OK(Register("a", location));
  ASSERT_OK(Query("ALTER TABLE a RENAME TO b").status());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM b"), 5);
  EXPECT_FALSE(Query("SELECT * FROM a").ok());
  EXPECT_TRUE(fs::is_directory(location));  // external: the data stays where it is

  auto directory = MakeMetastoreDirectory(house_->home());
  ASSERT_OK_AND_ASSIGN(std::string managed, directory->ManagedLocation("default", "m"));
  fs::create_directories(fs::path(managed).parent_path());
  fs::copy(Conformance("dat/basic_append"), managed, fs::copy_options::recursive);
  ASSERT_OK(directory->RegisterTable(engine::NewTable{"default", "m", "", "", {}}).status());
  ASSERT_OK(Query("ALTER TABLE m RENAME TO n").status());
  EXPECT_FALSE(fs::exists(managed));
  EXPECT_TRUE(fs::is_directory(house_->home() + "/warehouse/default.db/n/_delta_log"));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM n VERSION AS OF 0"), 3);
  auto taken = Query("ALTER TABLE n RENAME TO b");
  EXPECT_EQ(taken.status().code(), StatusCode::kAlreadyExists) << taken.status();
}

TEST_F(LakehouseTest, UnknownNamesAreClearErrors) {
  auto no_table = Query("SELECT * FROM nope");
  ASSERT_FALSE(no_table.ok());
  EXPECT_THAT(no_table.status().message(), HasSubstr("nope"));
  auto no_schema = Query("SELECT * FROM nowhere.t");
  ASSERT_FALSE(no_schema.ok());
  EXPECT_THAT(no_schema.status().message(), HasSubstr("nowhere"));
  auto history = Query("DESCRIBE HISTORY nowhere.t");
  EXPECT_EQ(history.status().code(), StatusCode::kNotFound) << history.status();
  EXPECT_THAT(history.status().message(), HasSubstr("schema nowhere does not exist"));
  auto describe = Query("DESCRIBE EXTENDED nope");
  EXPECT_EQ(describe.status().code(), StatusCode::kNotFound) << describe.status();
  EXPECT_THAT(describe.status().message(), HasSubstr("table default.nope does not exist"));
  EXPECT_THAT(describe.status().hint(), HasSubstr("SHOW TABLES IN default"));
  auto tables = Query("SHOW TABLES IN nowhere");
  EXPECT_EQ(tables.status().code(), StatusCode::kNotFound) << tables.status();
}

TEST_F(LakehouseTest, CreateTableLocationNeedsADeltaTable) {
  fs::create_directories(root_ / "data" / "empty");
  auto r = Query("CREATE TABLE e LOCATION '" + (root_ / "data" / "empty").string() + "'");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("no readable Delta table there"));
  EXPECT_THAT(r.status().hint(), HasSubstr("_delta_log"));
  EXPECT_FALSE(Query("SELECT * FROM e").ok());

  std::string location = CopyTable("dat/basic_append", "t");
  ASSERT_OK(Register("t", location));
  auto again = Query("CREATE TABLE t LOCATION '" + location + "'");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status();
  ASSERT_OK(Query("CREATE TABLE IF NOT EXISTS t LOCATION '" + location + "'").status());
}

TEST_F(LakehouseTest, InsertAppendsToATableSparkWrote) {
  ASSERT_OK(Register("t", CopyTable("dat/basic_append", "t")));
  // dat/basic_append: letter string, number long, a_float double; 5 rows, numbers 1..5.
  ASSERT_OK(Query("INSERT INTO t VALUES ('z', 26, 2.6)").status());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 6);
  EXPECT_EQ(QueryInt("SELECT sum(number) FROM t"), 15 + 26);
  EXPECT_THAT(Column0("SELECT letter FROM t WHERE number = 26"), ElementsAre("z"));
}

TEST_F(LakehouseTest, AnotherLakehouseOnTheSameHomeSeesChanges) {
  std::unique_ptr<Lakehouse> other = Open();
  ASSERT_NE(other, nullptr);
  ASSERT_OK_AND_ASSIGN(auto other_session, other->database().Connect());
  ASSERT_OK(Register("t", CopyTable("dat/basic_append", "t")));
  ASSERT_OK_AND_ASSIGN(auto rows, other_session->Query("SELECT count(*) FROM t"));
  EXPECT_EQ(std::get<int64_t>(rows.rows[0][0].v), 5);
  ASSERT_OK(other_session->Query("DROP TABLE t").status());
  EXPECT_FALSE(Query("SELECT * FROM t").ok());
}

TEST_F(LakehouseTest, ReadingNeverCreatesTheHome) {
  EXPECT_EQ(QueryInt("SELECT 42"), 42);
  EXPECT_THAT(Column0("SHOW SCHEMAS"), ElementsAre("default"));
  EXPECT_FALSE(Query("SELECT * FROM t").ok());
  EXPECT_FALSE(fs::exists(home_));
  ASSERT_OK(Query("CREATE SCHEMA s").status());
  EXPECT_TRUE(fs::exists(fs::path(home_) / "metastore.db"));
}

}  // namespace
}  // namespace lake::sql
