// CONVERT TO DELTA end to end (issue #4 §3): folders of Parquet files written by DuckDB become
// Delta tables in place, read back equal to what was written; refusals name the problem.
// Expected rows come from the generating queries.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/strings.h"
#include "status_matchers.h"
#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Json = nlohmann::json;

class ConvertTest : public testing::TempLakehouse<> {
 protected:
  ConvertTest() : TempLakehouse("convert") {}

  void Exec(const std::string& sql) {
    auto r = Query(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
  }
  std::string Folder(const std::string& name) { return (root_ / "data" / name).string(); }
  static int ParquetFiles(const std::string& folder) {
    int n = 0;
    for (const auto& e : fs::recursive_directory_iterator(folder)) {
      n += e.path().extension() == ".parquet";
    }
    return n;
  }
};

constexpr const char* kSource =
    "SELECT i AS id, 'n' || i AS name, CAST(i % 3 AS INTEGER) AS p, "
    "CASE WHEN i % 2 = 0 THEN 'x' ELSE 'y y' END AS q FROM range(30) t(i)";

TEST_F(ConvertTest, HivePartitionedFolderReadsBackEqual) {
  const std::string dir = Folder("hive");
  Exec(StrCat("COPY (", kSource, ") TO '", dir, "' (FORMAT parquet, PARTITION_BY (p, q))"));
  const int files = ParquetFiles(dir);
  ASSERT_EQ(files, 6);  // 3 values of p x 2 of q

  auto r = Query("CONVERT TO DELTA parquet.`" + dir + "` PARTITIONED BY (p INT, q STRING)");
  ASSERT_OK(r.status());
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(r->rows[0][1].v), 0);  // version
  EXPECT_EQ(std::get<int64_t>(r->rows[0][2].v), 6);  // numConvertedFiles

  EXPECT_EQ(Rows("SELECT id, name, p, q FROM delta.`" + dir + "` ORDER BY id"),
            Rows(StrCat("SELECT id, name, p, q FROM (", kSource, ") ORDER BY id")));
  EXPECT_EQ(One("SELECT count(*) FROM delta.`" + dir + "` WHERE q = 'y y' AND p = 1"), "5");
  EXPECT_THAT(Validate(dir), IsEmpty());

  Json info = CommitInfo(dir, 0);
  EXPECT_EQ(info["operation"], "CONVERT");
  EXPECT_EQ(info["operationMetrics"]["numConvertedFiles"], "6");
  EXPECT_EQ(info["operationParameters"]["partitionedBy"], "[\"p\",\"q\"]");
  std::vector<Json> adds = Of(Actions(dir, 0), "add");
  ASSERT_EQ(adds.size(), 6u);
  int64_t records = 0;
  for (const Json& add : adds) {
    Json stats = Json::parse(add["stats"].get<std::string>());
    records += stats["numRecords"].get<int64_t>();
    // The folders give the values; spaces are escaped in the folder name and in the path.
    const std::string path = add["path"].get<std::string>();
    const std::string q = add["partitionValues"]["q"].get<std::string>();
    EXPECT_TRUE(q == "x" || q == "y y") << q;
    EXPECT_THAT(path, ::testing::StartsWith("p=" + add["partitionValues"]["p"].get<std::string>() + "/"));
    EXPECT_EQ(stats["nullCount"]["id"], 0);
    EXPECT_LE(stats["minValues"]["id"].get<int64_t>(), stats["maxValues"]["id"].get<int64_t>());
  }
  EXPECT_EQ(records, 30);
  Json schema = Json::parse(Of(Actions(dir, 0), "metaData")[0]["schemaString"].get<std::string>());
  ASSERT_EQ(schema["fields"].size(), 4u);
  EXPECT_EQ(schema["fields"][2]["name"], "p");
  EXPECT_EQ(schema["fields"][2]["type"], "integer");

  // A second conversion finds the log.
  auto again = Query("CONVERT TO DELTA parquet.`" + dir + "` PARTITIONED BY (p INT, q STRING)");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status();
}

TEST_F(ConvertTest, SchemasAreMergedByNameAndConflictsRefused) {
  const std::string dir = Folder("merge");
  fs::create_directories(dir);
  Exec("COPY (SELECT 1 AS a, 'b1' AS b) TO '" + dir + "/one.parquet' (FORMAT parquet)");
  Exec("COPY (SELECT 2 AS a, 3.5::DOUBLE AS c) TO '" + dir + "/two.parquet' (FORMAT parquet)");
  Exec("COPY (SELECT 'x' AS y) TO '" + dir + "/_SUCCESS' (FORMAT csv)");  // hidden: skipped
  ASSERT_OK(Query("CONVERT TO DELTA parquet.`" + dir + "`").status());
  EXPECT_THAT(Rows("SELECT a, coalesce(b, '-'), coalesce(CAST(c AS VARCHAR), '-') FROM delta.`" +
                   dir + "` ORDER BY a"),
              ::testing::ElementsAre("1|b1|-", "2|-|3.5"));
  EXPECT_THAT(Validate(dir), IsEmpty());

  const std::string bad = Folder("bad");
  fs::create_directories(bad);
  Exec("COPY (SELECT 1 AS a) TO '" + bad + "/one.parquet' (FORMAT parquet)");
  Exec("COPY (SELECT 'text' AS a) TO '" + bad + "/two.parquet' (FORMAT parquet)");
  auto r = Query("CONVERT TO DELTA parquet.`" + bad + "`");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("column a is integer in one.parquet but string"));
  EXPECT_FALSE(fs::exists(bad + "/_delta_log/00000000000000000000.json"));
}

TEST_F(ConvertTest, PartitionFoldersMustMatchTheClause) {
  const std::string dir = Folder("hive");
  Exec(StrCat("COPY (", kSource, ") TO '", dir, "' (FORMAT parquet, PARTITION_BY (p, q))"));
  auto r = Query("CONVERT TO DELTA parquet.`" + dir + "`");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("2 folder(s) deep, PARTITIONED BY names 0"));
  r = Query("CONVERT TO DELTA parquet.`" + dir + "` PARTITIONED BY (q STRING, p INT)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("PARTITIONED BY expects q at this level"));
  r = Query("CONVERT TO DELTA parquet.`" + dir + "` PARTITIONED BY (p INT, q INT)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("is not a value of type integer"));
  EXPECT_FALSE(fs::exists(dir + "/_delta_log/00000000000000000000.json"));
}

}  // namespace
}  // namespace lake::sql
