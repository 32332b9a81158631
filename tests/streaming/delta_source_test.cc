// The Delta table source (src/streaming/delta_source.h) reading tables written by lake's SQL:
// the initial snapshot, new commits in order, rate limits, OPTIMIZE skipped, deletes refused
// or skipped per option, startingVersion, the offsets it records.
#include "streaming/delta_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "stream_test_util.h"
#include "streaming/delta_sink.h"

namespace lake::streaming {
namespace {

using ::testing::HasSubstr;
using testing::StreamTest;
namespace fs = std::filesystem;

class DeltaSourceTest : public StreamTest {
 protected:
  Result<RunResult> Stream(DeltaSourceOptions source, const std::string& checkpoint = "ckpt",
                           Trigger::Kind trigger = Trigger::Kind::kAvailableNow) {
    source.path = TablePath("src");
    DeltaSinkOptions sink;
    sink.path = Path("out");
    QueryOptions options;
    options.checkpoint_location = Path(checkpoint);
    options.trigger.kind = trigger;
    LAKE_ASSIGN_OR_RETURN(auto query,
                          StreamingQuery::Open(db(), std::make_unique<DeltaSource>(source),
                                               std::make_unique<DeltaSink>(sink), options));
    return query->Run();
  }
  std::vector<std::string> OutRows() {
    return Rows(StrCat("SELECT CAST(id AS VARCHAR) FROM delta_scan(", SqlQuote(Path("out")), ")"));
  }
  // Data files each commit of the source table added (a precondition the tests check).
  int AddsIn(int64_t version) {
    int n = 0;
    for (const auto& a : CommitActions(TablePath("src"), version)) n += a.contains("add");
    return n;
  }
};

TEST_F(DeltaSourceTest, ReadsTheSnapshotThenNewCommitsOncePerFile) {
  Sql("CREATE TABLE src (id BIGINT)");     // v0
  Sql("INSERT INTO src VALUES (1), (2)");  // v1
  Sql("INSERT INTO src VALUES (3)");       // v2
  Sql("INSERT INTO src VALUES (4)");       // v3
  for (int v = 1; v <= 3; ++v) ASSERT_EQ(AddsIn(v), 1) << "one file per INSERT";
  DeltaSourceOptions source;
  source.max_files_per_trigger = 2;
  ASSERT_OK_AND_ASSIGN(RunResult first, Stream(source));
  // The snapshot of v3 has 3 files: batches of 2 and 1.
  ASSERT_EQ(first.batches.size(), 2u);
  EXPECT_EQ(first.batches[0].num_input_rows + first.batches[1].num_input_rows, 4);
  auto end = ParseDeltaSourceOffset(first.batches[1].sources[0].end_offset);
  ASSERT_OK(end.status());
  EXPECT_EQ(end->reservoir_version, 3);
  EXPECT_EQ(end->index, 2);  // the third file of the snapshot
  EXPECT_TRUE(end->is_starting_version);
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"1", "2", "3", "4"}));

  Sql("INSERT INTO src VALUES (5)");       // v4
  Sql("INSERT INTO src VALUES (6), (7)");  // v5
  ASSERT_OK_AND_ASSIGN(RunResult second, Stream(source));
  ASSERT_EQ(second.batches.size(), 1u);
  EXPECT_EQ(second.batches[0].num_input_rows, 3);
  ASSERT_OK_AND_ASSIGN(DeltaSourceOffset tail,
                       ParseDeltaSourceOffset(second.batches[0].sources[0].end_offset));
  EXPECT_EQ(tail.reservoir_version, 5);
  EXPECT_EQ(tail.index, 0);
  EXPECT_FALSE(tail.is_starting_version);
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7"}));
}

TEST_F(DeltaSourceTest, OffsetJsonIsSparksDeltaSourceOffset) {
  DeltaSourceOffset offset{"0b5f0c9e-1111-4222-8333-444455556666", 7, 2, false};
  EXPECT_EQ(SerializeDeltaSourceOffset(offset),
            R"({"sourceVersion":1,"reservoirId":"0b5f0c9e-1111-4222-8333-444455556666",)"
            R"("reservoirVersion":7,"index":2,"isStartingVersion":false})");
  EXPECT_EQ(ParseDeltaSourceOffset(R"({"sourceVersion":9,"reservoirId":"x","reservoirVersion":1,)"
                                   R"("index":-1,"isStartingVersion":true})")
                .status()
                .code(),
            StatusCode::kNotSupported);
  EXPECT_EQ(ParseDeltaSourceOffset(R"({"n":3})").status().code(), StatusCode::kCorruption);
}

TEST_F(DeltaSourceTest, OptimizeCommitsAreSkipped) {
  Sql("CREATE TABLE src (id BIGINT)");
  Sql("INSERT INTO src VALUES (1)");
  Sql("INSERT INTO src VALUES (2)");
  ASSERT_OK(Stream(DeltaSourceOptions{}).status());
  Sql("OPTIMIZE src");  // v3: the two files rewritten as one, dataChange = false
  bool compacted = false;
  for (const auto& a : CommitActions(TablePath("src"), 3)) {
    if (a.contains("add")) compacted = a["add"]["dataChange"] == false;
  }
  ASSERT_TRUE(compacted) << "precondition: OPTIMIZE wrote a dataChange=false add";
  Sql("INSERT INTO src VALUES (3)");  // v4
  ASSERT_OK_AND_ASSIGN(RunResult run, Stream(DeltaSourceOptions{}));
  ASSERT_EQ(run.batches.size(), 1u);
  EXPECT_EQ(run.batches[0].num_input_rows, 1);
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"1", "2", "3"}));
}

TEST_F(DeltaSourceTest, ADeleteFailsTheStreamUnlessIgnoredOrSkipped) {
  Sql("CREATE TABLE src (id BIGINT)");
  Sql("INSERT INTO src VALUES (1)");  // v1, its own file
  Sql("INSERT INTO src VALUES (2)");  // v2
  ASSERT_OK(Stream(DeltaSourceOptions{}).status());
  Sql("DELETE FROM src WHERE id = 1");  // v3: removes v1's whole file
  Sql("INSERT INTO src VALUES (3)");    // v4
  Result<RunResult> failed = Stream(DeltaSourceOptions{});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(failed.status().message(), HasSubstr("commit 3 (DELETE) removes data"));
  EXPECT_THAT(failed.status().hint(), HasSubstr("ignoreDeletes"));
  // Failing again on restart: nothing was read past the delete.
  EXPECT_FALSE(Stream(DeltaSourceOptions{}).ok());
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"1", "2"}));

  DeltaSourceOptions ignore;
  ignore.ignore_deletes = true;
  ASSERT_OK_AND_ASSIGN(RunResult run, Stream(ignore));
  ASSERT_EQ(run.batches.size(), 1u);
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"1", "2", "3"}));
}

TEST_F(DeltaSourceTest, AnUpdateNeedsSkipChangeCommits) {
  Sql("CREATE TABLE src (id BIGINT)");
  Sql("INSERT INTO src VALUES (1), (2)");  // v1, one file
  ASSERT_OK(Stream(DeltaSourceOptions{}).status());
  Sql("UPDATE src SET id = 10 WHERE id = 1");  // v2: remove + add
  Sql("INSERT INTO src VALUES (3)");           // v3
  DeltaSourceOptions ignore;
  ignore.ignore_deletes = true;  // not enough: the commit also adds rows
  Result<RunResult> failed = Stream(ignore);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().hint(), HasSubstr("skipChangeCommits"));
  DeltaSourceOptions skip;
  skip.skip_change_commits = true;
  ASSERT_OK_AND_ASSIGN(RunResult run, Stream(skip));
  ASSERT_EQ(run.batches.size(), 1u);
  // The rewritten rows of the UPDATE are not streamed; the later insert is.
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"1", "2", "3"}));
}

TEST_F(DeltaSourceTest, StartingVersionSkipsTheSnapshot) {
  Sql("CREATE TABLE src (id BIGINT)");
  Sql("INSERT INTO src VALUES (1)");  // v1
  Sql("INSERT INTO src VALUES (2)");  // v2
  Sql("INSERT INTO src VALUES (3)");  // v3
  DeltaSourceOptions from2;
  from2.starting_version = 2;
  ASSERT_OK_AND_ASSIGN(RunResult run, Stream(from2));
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"2", "3"}));
  DeltaSourceOptions latest;
  latest.starting_version_latest = true;
  ASSERT_OK_AND_ASSIGN(RunResult none, Stream(latest, "ckpt_latest"));
  EXPECT_TRUE(none.batches.empty());
  DeltaSourceOptions bad;
  bad.starting_version = 9;
  EXPECT_EQ(Stream(bad, "ckpt_bad").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DeltaSourceTest, MaxBytesIsSoftAndTakesOneFileAtLeast) {
  Sql("CREATE TABLE src (id BIGINT)");
  Sql("INSERT INTO src VALUES (1)");
  Sql("INSERT INTO src VALUES (2)");
  Sql("INSERT INTO src VALUES (3)");
  DeltaSourceOptions source;
  source.max_bytes_per_trigger = 1;  // smaller than any file
  ASSERT_OK_AND_ASSIGN(RunResult run, Stream(source));
  EXPECT_EQ(run.batches.size(), 3u);
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"1", "2", "3"}));
}

TEST_F(DeltaSourceTest, ASchemaChangeStopsTheStreamOnceThenItReadsOn) {
  Sql("CREATE TABLE src (id BIGINT)");
  Sql("INSERT INTO src VALUES (1)");
  DeltaSinkOptions sink;
  sink.path = Path("out");
  sink.merge_schema = true;
  DeltaSourceOptions source;
  source.path = TablePath("src");
  QueryOptions options;
  options.checkpoint_location = Path("ckpt");
  options.trigger.kind = Trigger::Kind::kAvailableNow;
  ASSERT_OK_AND_ASSIGN(auto query,
                       StreamingQuery::Open(db(), std::make_unique<DeltaSource>(source),
                                            std::make_unique<DeltaSink>(sink), options));
  ASSERT_OK(query->Run().status());
  Sql("INSERT INTO src VALUES (2)");                 // v2
  Sql("ALTER TABLE src ADD COLUMNS (name STRING)");  // v3
  Sql("INSERT INTO src VALUES (3, 'c')");            // v4
  // The running query reads with the schema it started with: v2 still goes through, then
  // it stops at v3.
  Result<RunResult> stopped = query->Run();
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(Rows(StrCat("SELECT CAST(id AS VARCHAR) FROM delta_scan(", SqlQuote(Path("out")), ")")),
            (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(stopped.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(stopped.status().message(), HasSubstr("schema changed at version 3"));
  EXPECT_THAT(stopped.status().hint(), HasSubstr("restart"));
  query.reset();
  ASSERT_OK_AND_ASSIGN(auto restarted,
                       StreamingQuery::Open(db(), std::make_unique<DeltaSource>(source),
                                            std::make_unique<DeltaSink>(sink), options));
  ASSERT_OK(restarted->Run().status());
  EXPECT_EQ(Rows(StrCat("SELECT CAST(id AS VARCHAR) || ':' || coalesce(name, 'NULL') FROM "
                        "delta_scan(",
                        SqlQuote(Path("out")), ")")),
            (std::vector<std::string>{"1:NULL", "2:NULL", "3:c"}));
}

TEST_F(DeltaSourceTest, ReadChangeFeedStreamsTheSnapshotAsInsertsThenEveryChange) {
  Sql("CREATE TABLE src (id BIGINT, v STRING) "
      "TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')");  // v0
  Sql("INSERT INTO src VALUES (1, 'a'), (2, 'b')");              // v1
  DeltaSourceOptions cdf;
  cdf.read_change_feed = true;
  cdf.max_files_per_trigger = 1;
  auto out = [&] {
    return Rows(
        StrCat("SELECT CAST(id AS VARCHAR) || ':' || v || ':' || _change_type || ':' || "
               "CAST(_commit_version AS VARCHAR) FROM delta_scan(",
               SqlQuote(Path("out")), ")"));
  };
  ASSERT_OK_AND_ASSIGN(RunResult first, Stream(cdf));
  ASSERT_EQ(first.batches.size(), 1u);
  EXPECT_EQ(out(), (std::vector<std::string>{"1:a:insert:1", "2:b:insert:1"}));

  Sql("INSERT INTO src VALUES (3, 'c')");      // v2
  Sql("OPTIMIZE src");                         // v3: two files compacted, no change
  Sql("UPDATE src SET v = 'B' WHERE id = 2");  // v4
  Sql("DELETE FROM src WHERE id = 1");         // v5
  std::string operation;
  for (const auto& a : CommitActions(TablePath("src"), 3)) {
    if (a.contains("commitInfo")) operation = a["commitInfo"]["operation"];
  }
  ASSERT_EQ(operation, "OPTIMIZE") << "precondition: v3 is the compaction";
  ASSERT_OK_AND_ASSIGN(RunResult second, Stream(cdf));
  // At most one change file per trigger, commits never split: [v2], [v3 (no change) + v4],
  // [v5].
  ASSERT_EQ(second.batches.size(), 3u);
  ASSERT_OK_AND_ASSIGN(DeltaSourceOffset middle,
                       ParseDeltaSourceOffset(second.batches[1].sources[0].end_offset));
  EXPECT_EQ(middle.reservoir_version, 4);
  ASSERT_OK_AND_ASSIGN(DeltaSourceOffset last,
                       ParseDeltaSourceOffset(second.batches[2].sources[0].end_offset));
  EXPECT_EQ(last.reservoir_version, 5);
  EXPECT_EQ(last.index, kEndIndex);
  EXPECT_FALSE(last.is_starting_version);
  EXPECT_EQ(out(),
            (std::vector<std::string>{"1:a:delete:5", "1:a:insert:1", "2:B:update_postimage:4",
                                      "2:b:insert:1", "2:b:update_preimage:4", "3:c:insert:2"}));
}

TEST_F(DeltaSourceTest, ReadChangeFeedNeedsTheChangeFeedEnabled) {
  Sql("CREATE TABLE src (id BIGINT)");
  Sql("INSERT INTO src VALUES (1)");
  DeltaSourceOptions cdf;
  cdf.read_change_feed = true;
  cdf.starting_version = 1;
  Result<RunResult> run = Stream(cdf);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(run.status().message(), HasSubstr("version 1"));
}

TEST_F(DeltaSourceTest, ADifferentTableAtTheLocationFailsTheStream) {
  Sql("CREATE TABLE src (id BIGINT)");
  Sql("INSERT INTO src VALUES (1)");
  ASSERT_OK(Stream(DeltaSourceOptions{}).status());
  Sql("DROP TABLE src");
  Sql("CREATE TABLE src (id BIGINT)");
  Sql("INSERT INTO src VALUES (2)");
  Result<RunResult> run = Stream(DeltaSourceOptions{});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(run.status().hint(), HasSubstr("different Delta table"));
}

}  // namespace
}  // namespace lake::streaming
