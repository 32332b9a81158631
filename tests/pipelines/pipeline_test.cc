// The pipeline parser and DAG (src/pipelines/pipeline.h): statements, expectations, stream
// sources, run order, and the errors for cycles, unknown references and unsupported forms.
#include "pipelines/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/strings.h"
#include "status_matchers.h"

namespace lake::pipelines {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

Dataset Ds(std::string name, std::vector<std::string> refs, std::string file = "x.sql") {
  Dataset d;
  d.name = std::move(name);
  d.references = std::move(refs);
  d.file = std::move(file);
  return d;
}

TEST(ParseSqlFile, StreamingTableWithExpectationsAndALandingFolder) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<Dataset> ds,
      ParseSqlFile("-- bronze to silver\n"
                   "CREATE OR REFRESH STREAMING TABLE Silver (\n"
                   "  CONSTRAINT valid_id EXPECT (id IS NOT NULL) ON VIOLATION DROP ROW,\n"
                   "  CONSTRAINT positive EXPECT (amount > (0)) ON VIOLATION FAIL UPDATE,\n"
                   "  CONSTRAINT recent EXPECT (ts > '2020-01-01')\n"
                   ") AS SELECT id, amount FROM STREAM read_files('landing/in', format => 'json',\n"
                   "  maxFilesPerTrigger => 5) WHERE id <> 0;\n"
                   "CREATE OR REFRESH MATERIALIZED VIEW gold AS\n"
                   "  SELECT count(*) AS n FROM LIVE.silver s JOIN dim ON s.id = dim.id;",
                   "silver.sql", "/p"));
  ASSERT_EQ(ds.size(), 2u);
  const Dataset& silver = ds[0];
  EXPECT_EQ(silver.name, "silver");
  EXPECT_EQ(silver.kind, Dataset::Kind::kStreamingTable);
  EXPECT_EQ(silver.file, "silver.sql");
  ASSERT_EQ(silver.expectations.size(), 3u);
  EXPECT_EQ(silver.expectations[0].name, "valid_id");
  EXPECT_EQ(silver.expectations[0].condition, "id IS NOT NULL");
  EXPECT_EQ(silver.expectations[0].action, Expectation::Action::kDrop);
  EXPECT_EQ(silver.expectations[1].condition, "amount > (0)");
  EXPECT_EQ(silver.expectations[1].action, Expectation::Action::kFail);
  EXPECT_EQ(silver.expectations[2].condition, "ts > '2020-01-01'");
  EXPECT_EQ(silver.expectations[2].action, Expectation::Action::kWarn);
  ASSERT_TRUE(silver.stream.has_value());
  EXPECT_EQ(silver.stream->kind, StreamSource::Kind::kFiles);
  EXPECT_EQ(silver.stream->path, "/p/landing/in");
  EXPECT_EQ(silver.stream->options.at("format"), "json");
  EXPECT_EQ(silver.stream->options.at("maxfilespertrigger"), "5");
  EXPECT_EQ(silver.select_sql,
            StrCat("SELECT id, amount FROM ", kBatchTable, " WHERE id <> 0"));
  EXPECT_TRUE(silver.references.empty());

  const Dataset& gold = ds[1];
  EXPECT_EQ(gold.kind, Dataset::Kind::kMaterializedView);
  EXPECT_EQ(gold.select_sql, "SELECT count(*) AS n FROM \"silver\" s JOIN dim ON s.id = dim.id");
  EXPECT_THAT(gold.references, ElementsAre("dim", "silver"));
}

TEST(ParseSqlFile, StreamOfADatasetAndCtesThatAreNotReferences) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<Dataset> ds,
      ParseSqlFile("CREATE OR REFRESH STREAMING TABLE s AS SELECT * FROM STREAM(bronze);\n"
                   "CREATE OR REFRESH STREAMING TABLE t AS SELECT * FROM STREAM bronze;\n"
                   "CREATE OR REFRESH MATERIALIZED VIEW g AS WITH x AS (SELECT * FROM s), "
                   "y AS (SELECT * FROM x) SELECT * FROM y JOIN other.dim USING (id)",
                   "f.sql", "/p"));
  ASSERT_EQ(ds.size(), 3u);
  ASSERT_TRUE(ds[0].stream.has_value());
  EXPECT_EQ(ds[0].stream->kind, StreamSource::Kind::kDataset);
  EXPECT_EQ(ds[0].stream->dataset, "bronze");
  EXPECT_EQ(ds[0].select_sql, StrCat("SELECT * FROM ", kBatchTable));
  EXPECT_THAT(ds[0].references, ElementsAre("bronze"));
  EXPECT_EQ(ds[1].stream->dataset, "bronze");
  EXPECT_THAT(ds[2].references, ElementsAre("s"));  // x, y are CTEs; other.dim is qualified
}

TEST(ParseSqlFile, RefusesWhatItCannotRunNamingTheFileAndDataset) {
  Result<std::vector<Dataset>> mv_stream = ParseSqlFile(
      "CREATE OR REFRESH MATERIALIZED VIEW g AS SELECT * FROM STREAM(s)", "g.sql", "/p");
  EXPECT_EQ(mv_stream.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(mv_stream.status().message(), HasSubstr("g.sql, dataset g"));

  Result<std::vector<Dataset>> no_stream =
      ParseSqlFile("CREATE OR REFRESH STREAMING TABLE s AS SELECT * FROM b", "s.sql", "/p");
  EXPECT_EQ(no_stream.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_stream.status().message(), HasSubstr("s.sql, dataset s"));

  Result<std::vector<Dataset>> cdc =
      ParseSqlFile("AUTO CDC INTO t FROM STREAM s KEYS (k) SEQUENCE BY v", "c.sql", "/p");
  EXPECT_EQ(cdc.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(cdc.status().message(), HasSubstr("c.sql"));

  Result<std::vector<Dataset>> bad_action = ParseSqlFile(
      "CREATE OR REFRESH STREAMING TABLE s (CONSTRAINT c EXPECT (x > 0) ON VIOLATION SKIP) "
      "AS SELECT * FROM STREAM(b)",
      "s.sql", "/p");
  EXPECT_EQ(bad_action.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_action.status().message(), HasSubstr("DROP ROW or FAIL UPDATE"));
}

TEST(ResolveOrder, RunsEachDatasetAfterWhatItReadsInDeclarationOrderOtherwise) {
  // Declared downstream first; b and c are independent of each other.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> order,
                       ResolveOrder({Ds("gold", {"b", "c"}), Ds("c", {"a"}), Ds("b", {"a"}),
                                     Ds("a", {}), Ds("z", {})}));
  EXPECT_THAT(order, ElementsAre("a", "c", "b", "gold", "z"));
}

TEST(ResolveOrder, RefusesACycleSpellingItOut) {
  Result<std::vector<std::string>> r =
      ResolveOrder({Ds("a", {"c"}, "a.sql"), Ds("b", {"a"}, "b.sql"), Ds("c", {"b"}, "c.sql"),
                    Ds("d", {})});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("a -> c -> b -> a"));
  EXPECT_THAT(r.status().message(), HasSubstr("a.sql"));

  Result<std::vector<std::string>> self = ResolveOrder({Ds("s", {"s"}, "s.sql")});
  EXPECT_THAT(self.status().message(), HasSubstr("s -> s"));
}

TEST(ResolveOrder, RefusesAnUnknownReferenceOrADuplicateName) {
  Result<std::vector<std::string>> r =
      ResolveOrder({Ds("bronze", {}), Ds("silver", {"bronz"}, "silver.sql")});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("dataset silver (silver.sql) reads `bronz`"));

  Result<std::vector<std::string>> dup =
      ResolveOrder({Ds("t", {}, "one.sql"), Ds("t", {}, "two.sql")});
  EXPECT_THAT(dup.status().message(), HasSubstr("defined twice: in one.sql and in two.sql"));
}

class LoadPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           StrCat("lake_pipeline_", getpid(),
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  fs::path dir_;
};

TEST_F(LoadPipelineTest, ReadsTheSpecAndSubstitutesConfiguration) {
  Write("pipeline.yml",
        "name: sales\nstorage: state\nconfiguration:\n  landing: in/events\n  min: \"3\"\n");
  Write("b.sql",
        "CREATE OR REFRESH STREAMING TABLE bronze AS SELECT * FROM STREAM "
        "read_files('${landing}', format => 'json');");
  Write("a.sql", "CREATE OR REFRESH MATERIALIZED VIEW gold AS SELECT * FROM bronze WHERE x > ${min}");
  Write("notes.txt", "not sql");
  ASSERT_OK_AND_ASSIGN(Pipeline p, LoadPipeline(dir_.string()));
  EXPECT_EQ(p.name, "sales");
  EXPECT_EQ(p.storage, (dir_ / "state").string());
  ASSERT_EQ(p.datasets.size(), 2u);
  EXPECT_EQ(p.datasets[0].name, "gold");  // a.sql sorts first
  EXPECT_EQ(p.datasets[0].select_sql, "SELECT * FROM bronze WHERE x > 3");
  EXPECT_EQ(p.datasets[1].stream->path, (dir_ / "in" / "events").string());
  EXPECT_THAT(p.order, ElementsAre("bronze", "gold"));
  EXPECT_EQ(p.TablePath("gold"), (dir_ / "state" / "tables" / "gold").string());
  EXPECT_EQ(p.CheckpointPath("bronze"), (dir_ / "state" / "checkpoints" / "bronze").string());
}

TEST_F(LoadPipelineTest, NamesTheFileOfAnUnknownReferenceOrConfigurationKey) {
  Write("gold.sql", "CREATE OR REFRESH MATERIALIZED VIEW gold AS SELECT * FROM silver");
  Result<Pipeline> r = LoadPipeline(dir_.string());
  EXPECT_THAT(r.status().message(), HasSubstr("dataset gold (gold.sql) reads `silver`"));
  Write("gold.sql", "CREATE OR REFRESH MATERIALIZED VIEW gold AS SELECT ${nope}");
  r = LoadPipeline(dir_.string());
  EXPECT_THAT(r.status().message(), HasSubstr("gold.sql: ${nope}"));
  Write("pipeline.yml", "name: x\nschedule: daily\n");
  r = LoadPipeline(dir_.string());
  EXPECT_THAT(r.status().message(), HasSubstr("unknown key `schedule`"));
}

TEST_F(LoadPipelineTest, AFolderWithoutSqlIsNotFound) {
  EXPECT_EQ(LoadPipeline(dir_.string()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadPipeline((dir_ / "missing").string()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lake::pipelines
