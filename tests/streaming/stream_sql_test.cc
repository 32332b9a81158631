// Streams in SQL (src/streaming/stream_sql.h): the statements' parse, their
// definitions in the lake home, and a stored stream run end to end from a
// landing folder into bronze.
#include "streaming/stream_sql.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "stream_test_util.h"

namespace lake::streaming {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::LandFile;
using testing::StreamTest;

StreamDefinition ParseCreate(std::string_view sql) {
  Result<std::optional<StreamStatement>> parsed = ParseStreamStatement(sql);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok() || !*parsed ||
      !std::holds_alternative<StreamDefinition>(**parsed)) {
    ADD_FAILURE() << "not a CREATE STREAM: " << sql;
    return {};
  }
  return std::get<StreamDefinition>(**parsed);
}

TEST(StreamSqlParse, CreateFromALandingFolder) {
  StreamDefinition d =
      ParseCreate("create stream s1 OPTIONS (trigger = 'once', "
                  "maxFilesPerTrigger = '2') AS INSERT INTO "
                  "sales.bronze SELECT *, 1 AS one FROM STREAM "
                  "read_files('landing/x', format => 'csv') "
                  "WHERE id > 0;");
  EXPECT_EQ(d.name, "s1");
  EXPECT_EQ(d.target, "sales.bronze");
  EXPECT_EQ(d.source.kind, StreamSourceSpec::Kind::kFiles);
  EXPECT_EQ(d.source.location, "landing/x");
  EXPECT_EQ(d.source.format, "csv");
  EXPECT_EQ(d.transformation, "SELECT *, 1 AS one FROM batch WHERE id > 0");
  EXPECT_EQ(d.options.at("trigger"), "once");
  EXPECT_EQ(d.options.at("maxfilespertrigger"), "2");
}

TEST(StreamSqlParse, CreateFromDeltaTablesByNameAndPath) {
  StreamDefinition by_name = ParseCreate(
      "CREATE STREAM s AS INSERT INTO silver SELECT id FROM STREAM bronze b");
  EXPECT_EQ(by_name.source.kind, StreamSourceSpec::Kind::kDeltaTable);
  EXPECT_EQ(by_name.source.table, "bronze");
  EXPECT_EQ(by_name.transformation, "SELECT id FROM batch b");
  StreamDefinition by_path =
      ParseCreate("CREATE STREAM s AS INSERT INTO delta.`/t/out` SELECT * FROM "
                  "STREAM delta.`/t/in`");
  EXPECT_EQ(by_path.source.kind, StreamSourceSpec::Kind::kDeltaPath);
  EXPECT_EQ(by_path.source.location, "/t/in");
  EXPECT_EQ(by_path.target, "delta.`/t/out`");
  EXPECT_EQ(by_path.transformation, "SELECT * FROM batch");
}

TEST(StreamSqlParse, ShowDropAndOtherStatements) {
  ASSERT_OK_AND_ASSIGN(auto show, ParseStreamStatement("SHOW STREAMS;"));
  ASSERT_TRUE(show);
  EXPECT_TRUE(std::holds_alternative<ShowStreams>(*show));
  ASSERT_OK_AND_ASSIGN(auto drop,
                       ParseStreamStatement("drop stream if exists s"));
  ASSERT_TRUE(drop);
  EXPECT_EQ(std::get<DropStream>(*drop).name, "s");
  EXPECT_TRUE(std::get<DropStream>(*drop).if_exists);
  ASSERT_OK_AND_ASSIGN(auto other,
                       ParseStreamStatement("CREATE TABLE stream (a INT)"));
  EXPECT_FALSE(other);
  ASSERT_OK_AND_ASSIGN(auto select,
                       ParseStreamStatement("SELECT 'CREATE STREAM'"));
  EXPECT_FALSE(select);
}

TEST(StreamSqlParse, ErrorsNameWhatIsMissing) {
  Result<std::optional<StreamStatement>> no_stream = ParseStreamStatement(
      "CREATE STREAM s AS INSERT INTO t SELECT * FROM src");
  EXPECT_EQ(no_stream.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_stream.status().message(), HasSubstr("FROM STREAM"));
  Result<std::optional<StreamStatement>> no_as = ParseStreamStatement(
      "CREATE STREAM s INSERT INTO t SELECT * FROM STREAM src");
  EXPECT_THAT(no_as.status().message(),
              HasSubstr("expected AS at position 17"));
  Result<std::optional<StreamStatement>> option =
      ParseStreamStatement("CREATE STREAM s OPTIONS (speed = 'fast') AS INSERT "
                           "INTO t SELECT * FROM STREAM src");
  EXPECT_THAT(option.status().message(), HasSubstr("unknown option 'speed'"));
}

class StreamSqlTest : public StreamTest {
protected:
  engine::ResultTable Exec(const std::string &sql) {
    Result<std::optional<engine::ResultTable>> r =
        ExecuteStreamStatement(*house_, sql);
    EXPECT_TRUE(r.ok()) << sql << "\n" << r.status();
    if (!r.ok() || !*r)
      return {};
    return **r;
  }
  static std::string Cell(const engine::ResultTable &t, size_t row,
                          size_t col) {
    const engine::Value &v = t.rows.at(row).at(col);
    return v.is_null() ? "NULL" : std::get<std::string>(v.v);
  }
};

TEST_F(StreamSqlTest, CreateShowStartAndDrop) {
  Sql("CREATE TABLE bronze (id BIGINT, name VARCHAR)");
  LandFile(root_ / "landing" / "a.json",
           "{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":\"b\"}\n");
  LandFile(root_ / "landing" / "b.json", "{\"id\":3,\"name\":\"c\"}\n");
  Exec(StrCat("CREATE STREAM ingest OPTIONS (maxFilesPerTrigger = 1) AS INSERT "
              "INTO bronze "
              "SELECT id, name FROM STREAM read_files(",
              SqlQuote(Path("landing")), ", format => 'json')"));
  Result<std::optional<engine::ResultTable>> again = ExecuteStreamStatement(
      *house_,
      "CREATE STREAM ingest AS INSERT INTO bronze SELECT * FROM STREAM bronze");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);

  engine::ResultTable shown = Exec("SHOW STREAMS");
  ASSERT_EQ(shown.rows.size(), 1u);
  EXPECT_EQ(Cell(shown, 0, 0), "ingest");
  EXPECT_EQ(Cell(shown, 0, 2), "bronze");
  EXPECT_EQ(Cell(shown, 0, 4), "stopped");
  EXPECT_EQ(Cell(shown, 0, 5), "NULL"); // never ran

  StreamStore store(house_->home());
  ASSERT_OK_AND_ASSIGN(StreamDefinition d, store.Get("ingest"));
  for (int run = 0; run < 2; ++run) { // the second run finds nothing new
    ASSERT_OK_AND_ASSIGN(auto query,
                         OpenStream(*house_, d, QueryOptions{}, false));
    ASSERT_OK_AND_ASSIGN(RunResult result, query->Run());
    // maxFilesPerTrigger 1: one batch per file, then none.
    EXPECT_EQ(result.batches.size(), run == 0 ? 2u : 0u);
  }
  EXPECT_THAT(Rows("SELECT CAST(id AS VARCHAR) || name FROM bronze"),
              ElementsAre("1a", "2b", "3c"));
  EXPECT_EQ(Cell(Exec("SHOW STREAMS"), 0, 5), "1");

  Exec("DROP STREAM ingest");
  EXPECT_TRUE(Exec("SHOW STREAMS").rows.empty());
  EXPECT_EQ(store.Get("ingest").status().code(), StatusCode::kNotFound);
  Exec("DROP STREAM IF EXISTS ingest");
  EXPECT_EQ(
      ExecuteStreamStatement(*house_, "DROP STREAM ingest").status().code(),
      StatusCode::kNotFound);
}

TEST_F(StreamSqlTest, CreateRefusesAMissingTarget) {
  Result<std::optional<engine::ResultTable>> r =
      ExecuteStreamStatement(*house_, "CREATE STREAM s AS INSERT INTO nowhere "
                                      "SELECT * FROM STREAM read_files('x')");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("nowhere"));
  EXPECT_TRUE(Exec("SHOW STREAMS").rows.empty());
}

} // namespace
} // namespace lake::streaming
