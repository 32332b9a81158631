// DML on tables named by path, delta.`/path` (lake_catalog.cc design note 7): INSERT, INSERT
// OVERWRITE, UPDATE and DELETE commit to the table at that folder with no catalog entry.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PathDmlTest : public testing::TempLakehouse<> {
 protected:
  PathDmlTest() : TempLakehouse("path_dml") {}

  // delta.`<root>/data/<name>`
  std::string PathRef(const std::string& name) const {
    return "delta.`" + (root_ / "data" / name).string() + "`";
  }
  std::string Location(const std::string& name) const { return (root_ / "data" / name).string(); }

  void Exec(const std::string& sql) {
    auto result = Query(sql);
    ASSERT_TRUE(result.ok()) << sql << "\n" << result.status();
  }
};

TEST_F(PathDmlTest, InsertUpdateDeleteByPathCommitToThatFolder) {
  const std::string t = PathRef("t");
  Exec("CREATE TABLE " + t + " (id INT, v STRING)");
  Exec("INSERT INTO " + t + " VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  Exec("UPDATE " + t + " SET v = 'B' WHERE id = 2");
  Exec("DELETE FROM " + t + " WHERE id = 3");
  EXPECT_THAT(Rows("SELECT id, v FROM " + t + " ORDER BY id"), ElementsAre("1|a", "2|B"));
  // Versions 1..3 are the three statements, in the table's own log.
  EXPECT_EQ(CommitInfo(Location("t"), 1)["operation"], "WRITE");
  EXPECT_EQ(CommitInfo(Location("t"), 2)["operation"], "UPDATE");
  EXPECT_EQ(CommitInfo(Location("t"), 3)["operation"], "DELETE");
  EXPECT_THAT(Validate(Location("t")), IsEmpty());
  // No catalog entry was made.
  EXPECT_THAT(Rows("SHOW TABLES"), IsEmpty());
}

TEST_F(PathDmlTest, InsertFromOnePathIntoAnotherAndOverwrite) {
  const std::string a = PathRef("a"), b = PathRef("b");
  Exec("CREATE TABLE " + a + " (id INT)");
  Exec("CREATE TABLE " + b + " (id INT)");
  Exec("INSERT INTO " + a + " VALUES (1), (2)");
  Exec("INSERT INTO " + b + " SELECT id * 10 FROM " + a);
  EXPECT_THAT(Rows("SELECT id FROM " + b + " ORDER BY id"), ElementsAre("10", "20"));
  Exec("INSERT OVERWRITE " + b + " SELECT id + 100 FROM " + a + " WHERE id = 2");
  EXPECT_THAT(Rows("SELECT id FROM " + b + " ORDER BY id"), ElementsAre("102"));
  EXPECT_THAT(Rows("SELECT id FROM " + a + " ORDER BY id"), ElementsAre("1", "2"));
  EXPECT_EQ(CommitInfo(Location("b"), 2)["operationParameters"]["mode"], "Overwrite");
}

TEST_F(PathDmlTest, MergeIntoAPathTarget) {
  const std::string t = PathRef("t");
  Exec("CREATE TABLE " + t + " (id INT, v STRING)");
  Exec("INSERT INTO " + t + " VALUES (1, 'a'), (2, 'b')");
  Exec("MERGE INTO " + t + " AS t USING (VALUES (2, 'B'), (3, 'C')) AS s(id, v) ON t.id = s.id "
       "WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)");
  EXPECT_THAT(Rows("SELECT id, v FROM " + t + " ORDER BY id"), ElementsAre("1|a", "2|B", "3|C"));
  EXPECT_EQ(CommitInfo(Location("t"), 2)["operation"], "MERGE");
}

TEST_F(PathDmlTest, PathAndNameReachTheSameTable) {
  const std::string t = PathRef("t");
  Exec("CREATE TABLE " + t + " (id INT)");
  Exec("CREATE TABLE named LOCATION '" + Location("t") + "'");
  Exec("INSERT INTO named VALUES (1)");
  Exec("DELETE FROM " + t + " WHERE id = 1");
  Exec("INSERT INTO " + t + " VALUES (7)");
  EXPECT_THAT(Rows("SELECT id FROM named"), ElementsAre("7"));
}

TEST_F(PathDmlTest, DmlOnAFolderWithoutATableNamesThePath) {
  const std::string missing = Location("nothing_here");
  for (const std::string& sql :
       {"DELETE FROM delta.`" + missing + "` WHERE true",
        "UPDATE delta.`" + missing + "` SET x = 1", "INSERT INTO delta.`" + missing + "` VALUES (1)"}) {
    auto result = Query(sql);
    ASSERT_FALSE(result.ok()) << sql;
    EXPECT_THAT(result.status().ToString(), HasSubstr("table delta.`" + missing + "`")) << sql;
    EXPECT_THAT(result.status().ToString(), HasSubstr("not a Delta table")) << sql;
  }
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(PathDmlTest, TransactionCommitsPathWritesAtCommit) {
  const std::string t = PathRef("t");
  Exec("CREATE TABLE " + t + " (id INT)");
  Exec("BEGIN");
  Exec("INSERT INTO " + t + " VALUES (1)");
  Exec("INSERT INTO " + t + " VALUES (2)");
  Exec("COMMIT");
  EXPECT_THAT(Rows("SELECT id FROM " + t + " ORDER BY id"), ElementsAre("1", "2"));
  EXPECT_TRUE(HasCommit(Location("t"), 1));
  EXPECT_FALSE(HasCommit(Location("t"), 2));  // both inserts in one version
}

}  // namespace
}  // namespace lake::sql
