// The micro-batch loop (src/streaming/query.h) with a counting source and the Delta sink:
// bounded batches, triggers, recovery from a crash at each step, a second run on one
// checkpoint, and the Delta commits the sink writes.
#include "streaming/query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "delta/protocol_validator.h"
#include "storage/local_store.h"
#include "stream_test_util.h"
#include "streaming/delta_sink.h"

namespace lake::streaming {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::StreamTest;
namespace fs = std::filesystem;

// A source of the integers 0, 1, 2, ...: `available` of them exist; offsets are {"n":k}
// (rows 0..k-1 read); max_rows caps a batch.
class CounterSource : public Source {
 public:
  explicit CounterSource(std::shared_ptr<std::atomic<int64_t>> available, int64_t max_rows)
      : available_(std::move(available)), max_rows_(max_rows) {}
  std::string description() const override { return "Counter"; }
  Status Open(const SourceContext&) override { return Status::OK(); }
  ReadLimit DefaultReadLimit() const override {
    ReadLimit limit;
    limit.max_rows = max_rows_;
    return limit;
  }
  Status PrepareForAvailableNow() override {
    cap_ = available_->load();
    return Status::OK();
  }
  Result<std::optional<std::string>> LatestOffset(const std::optional<std::string>& start,
                                                  const ReadLimit& limit, BatchId) override {
    const int64_t from = Parse(start);
    int64_t to = cap_ ? std::min(*cap_, available_->load()) : available_->load();
    if (limit.max_rows) to = std::min(to, from + *limit.max_rows);
    if (to <= from) return std::optional<std::string>();
    return std::optional<std::string>(StrCat("{\"n\":", to, "}"));
  }
  Result<int64_t> GetBatch(engine::Session& session, const std::optional<std::string>& start,
                           const std::string& end, BatchId, std::string_view table) override {
    const int64_t from = Parse(start), to = Parse(end);
    LAKE_RETURN_IF_ERROR(
        session
            .Query(StrCat("CREATE OR REPLACE TEMP TABLE ", SqlIdent(table),
                          " AS SELECT range AS id FROM range(", from, ", ", to, ")"))
            .status());
    return to - from;
  }

 private:
  static int64_t Parse(const std::optional<std::string>& offset) {
    return offset ? nlohmann::json::parse(*offset)["n"].get<int64_t>() : 0;
  }
  std::shared_ptr<std::atomic<int64_t>> available_;
  int64_t max_rows_;
  std::optional<int64_t> cap_;
};

class QueryTest : public StreamTest {
 protected:
  void SetUp() override {
    StreamTest::SetUp();
    available_ = std::make_shared<std::atomic<int64_t>>(0);
  }
  Result<std::unique_ptr<StreamingQuery>> NewQuery(QueryOptions options, int64_t max_rows = 4,
                                                   OutputMode mode = OutputMode::kAppend) {
    if (options.checkpoint_location.empty()) options.checkpoint_location = Path("ckpt");
    DeltaSinkOptions sink;
    sink.path = Path("out");
    sink.mode = mode;
    return StreamingQuery::Open(db(), std::make_unique<CounterSource>(available_, max_rows),
                                std::make_unique<DeltaSink>(sink), std::move(options));
  }
  static QueryOptions AvailableNow() {
    QueryOptions options;
    options.trigger.kind = Trigger::Kind::kAvailableNow;
    return options;
  }
  std::vector<std::string> OutRows() {
    return Rows(StrCat("SELECT CAST(id AS VARCHAR) FROM delta_scan(", SqlQuote(Path("out")), ")"));
  }
  static std::vector<std::string> Range(int64_t n) {
    std::vector<std::string> out;
    for (int64_t i = 0; i < n; ++i) out.push_back(std::to_string(i));
    std::sort(out.begin(), out.end());
    return out;
  }
  // (appId, version) of the txn action of each commit of the output table, by version.
  std::vector<std::pair<std::string, int64_t>> Txns() {
    std::vector<std::pair<std::string, int64_t>> out;
    for (int64_t v = 0; v < CommitCount(Path("out")); ++v) {
      for (const auto& action : CommitActions(Path("out"), v)) {
        if (action.contains("txn")) {
          out.emplace_back(action["txn"]["appId"], action["txn"]["version"].get<int64_t>());
        }
      }
    }
    return out;
  }

  std::shared_ptr<std::atomic<int64_t>> available_;
};

TEST(TriggerParse, KnowsSparksTriggersAndRefusesContinuous) {
  ASSERT_OK_AND_ASSIGN(Trigger a, Trigger::Parse("availableNow"));
  EXPECT_EQ(a.kind, Trigger::Kind::kAvailableNow);
  ASSERT_OK_AND_ASSIGN(Trigger o, Trigger::Parse(" ONCE "));
  EXPECT_EQ(o.kind, Trigger::Kind::kOnce);
  ASSERT_OK_AND_ASSIGN(Trigger p, Trigger::Parse("processingTime '10 seconds'"));
  EXPECT_EQ(p.kind, Trigger::Kind::kProcessingTime);
  EXPECT_EQ(p.interval_ms, 10'000);
  ASSERT_OK_AND_ASSIGN(Trigger z, Trigger::Parse("processingTime = '0 seconds'"));
  EXPECT_EQ(z.interval_ms, 0);
  Result<Trigger> c = Trigger::Parse("continuous '1 second'");
  EXPECT_EQ(c.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(c.status().message(), HasSubstr("continuous"));
  EXPECT_EQ(Trigger::Parse("sometimes").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Trigger::Parse("processingTime 'soon'").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(QueryTest, AvailableNowRunsBoundedBatchesThenStops) {
  available_->store(10);
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(AvailableNow(), /*max_rows=*/4));
  ASSERT_OK_AND_ASSIGN(RunResult run, query->Run());
  // 10 rows, at most 4 per batch: (0,4], (4,8], (8,10].
  ASSERT_EQ(run.batches.size(), 3u);
  EXPECT_EQ(run.batches[0].num_input_rows, 4);
  EXPECT_EQ(run.batches[1].num_input_rows, 4);
  EXPECT_EQ(run.batches[2].num_input_rows, 2);
  EXPECT_EQ(run.batches[2].sources[0].start_offset, std::optional<std::string>(R"({"n":8})"));
  EXPECT_EQ(run.batches[2].sources[0].end_offset, R"({"n":10})");
  EXPECT_EQ(OutRows(), Range(10));
  // One commit per batch, the first creating the table, each with txn (query id, batch id).
  EXPECT_EQ(CommitCount(Path("out")), 3);
  EXPECT_THAT(Txns(), ElementsAre(std::pair(query->query_id(), 0), std::pair(query->query_id(), 1),
                                  std::pair(query->query_id(), 2)));
  // The checkpoint has offsets/0..2 and commits/0..2 in Spark's format, and the progress.
  const auto ckpt = root_ / "ckpt";
  for (int b = 0; b < 3; ++b) {
    EXPECT_TRUE(fs::exists(ckpt / "offsets" / std::to_string(b))) << b;
    EXPECT_EQ(testing::ReadText(ckpt / "commits" / std::to_string(b)),
              "v1\n{\"nextBatchWatermarkMs\":0}");
  }
  EXPECT_THAT(testing::ReadText(ckpt / "offsets" / "1"),
              ::testing::MatchesRegex("v1\n\\{\"batchWatermarkMs\":0,\"batchTimestampMs\":[0-9]+,"
                                      "\"conf\":\\{\\}\\}\n\\{\"n\":8\\}"));
  // An independent reader of the log finds every commit well-formed (one txn per appId...).
  ASSERT_OK_AND_ASSIGN(auto out_store, storage::LocalStore::Open(Path("out")));
  EXPECT_THAT(delta::testing::ValidateTableLog(*out_store), ::testing::IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto progress, query->checkpoint().ReadProgress());
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_EQ(progress[1].num_input_rows, 4);
  EXPECT_EQ(progress[1].num_output_rows, 4);

  // Nothing new: a second run plans nothing; new rows: only they are read.
  ASSERT_OK_AND_ASSIGN(RunResult idle, query->Run());
  EXPECT_TRUE(idle.batches.empty());
  available_->store(13);
  ASSERT_OK_AND_ASSIGN(auto again, NewQuery(AvailableNow()));
  EXPECT_EQ(again->query_id(), query->query_id());
  ASSERT_OK_AND_ASSIGN(RunResult more, again->Run());
  ASSERT_EQ(more.batches.size(), 1u);
  EXPECT_EQ(more.batches[0].batch_id, 3);
  EXPECT_EQ(OutRows(), Range(13));
}

TEST_F(QueryTest, AvailableNowStopsAtWhatWasThereAtStart) {
  available_->store(6);
  QueryOptions options = AvailableNow();
  // Rows keep arriving while the run goes on; it still ends at the 6 there at start.
  options.on_batch = [&](const BatchProgress&) {
    available_->fetch_add(5);
    return Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(options, /*max_rows=*/4));
  ASSERT_OK_AND_ASSIGN(RunResult run, query->Run());
  ASSERT_EQ(run.batches.size(), 2u);  // (0,4], (4,6]
  EXPECT_EQ(OutRows(), Range(6));
}

TEST_F(QueryTest, OnceIgnoresTheRateLimit) {
  available_->store(10);
  QueryOptions options;
  options.trigger.kind = Trigger::Kind::kOnce;
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(options, /*max_rows=*/4));
  ASSERT_OK_AND_ASSIGN(RunResult run, query->Run());
  ASSERT_EQ(run.batches.size(), 1u);
  EXPECT_EQ(run.batches[0].num_input_rows, 10);
}

TEST_F(QueryTest, ProcessingTimeRunsUntilStoppedAndFinishesTheBatchInFlight) {
  StopToken stop;
  QueryOptions options;
  options.trigger.kind = Trigger::Kind::kProcessingTime;
  options.trigger.interval_ms = 0;
  options.stop = &stop;
  int idles = 0;
  // Rows arrive while the query waits: 3 rows at the first idle trigger, 2 at the second;
  // the stop is requested during the second batch, which still commits.
  options.on_idle = [&] {
    ++idles;
    if (idles <= 2) available_->fetch_add(idles == 1 ? 3 : 2);
    return Status::OK();
  };
  options.on_batch = [&](const BatchProgress& p) {
    if (p.batch_id == 1) stop.RequestStop();
    return Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(options));
  ASSERT_OK_AND_ASSIGN(RunResult run, query->Run());
  EXPECT_TRUE(run.stopped_by_request);
  ASSERT_EQ(run.batches.size(), 2u);
  EXPECT_EQ(run.batches[0].num_input_rows, 3);
  EXPECT_EQ(run.batches[1].num_input_rows, 2);
  EXPECT_EQ(OutRows(), Range(5));
}

TEST_F(QueryTest, SigtermStopsAProcessingTimeQueryAfterItsBatch) {
  StopToken stop;
  StopOnSignals signals(stop);
  QueryOptions options;
  options.trigger.kind = Trigger::Kind::kProcessingTime;
  options.stop = &stop;
  available_->store(3);
  // SIGTERM arrives while batch 0 is in flight (its on_batch hook runs before the loop
  // goes on); the batch is committed, the process lives on, the query stops.
  options.on_batch = [&](const BatchProgress&) {
    ::raise(SIGTERM);
    return Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(options));
  ASSERT_OK_AND_ASSIGN(RunResult run, query->Run());
  EXPECT_TRUE(run.stopped_by_request);
  ASSERT_EQ(run.batches.size(), 1u);
  EXPECT_EQ(OutRows(), Range(3));
}

TEST_F(QueryTest, ProcessingTimeNeedsAStopToken) {
  QueryOptions options;
  options.trigger.kind = Trigger::Kind::kProcessingTime;
  EXPECT_EQ(NewQuery(options).status().code(), StatusCode::kInvalidArgument);
}

// A crash at each point of batch 1 (after offsets/1, after the sink's commit, after
// commits/1), then a restart while more rows have arrived: the restart re-runs batch 1 with
// exactly its recorded offsets when commits/1 is missing, and no row lands twice.
class QueryCrashTest : public QueryTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(QueryCrashTest, RestartAfterACrashWritesEveryRowOnce) {
  const std::string point = GetParam();
  available_->store(8);
  QueryOptions crashing = AvailableNow();
  crashing.fault_point = [&](std::string_view at, BatchId batch) {
    if (at == point && batch == 1) return Status::IOError("crash (test)");
    return Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(crashing, /*max_rows=*/4));
  Result<RunResult> crashed = query->Run();
  ASSERT_FALSE(crashed.ok());
  EXPECT_THAT(crashed.status().message(), HasSubstr("batch 1"));
  query.reset();
  const int64_t commits_before = CommitCount(Path("out"));
  // after_offsets: only batch 0 is in the table; later points: batch 1 too.
  EXPECT_EQ(commits_before, point == std::string("after_offsets") ? 1 : 2);

  available_->store(20);  // a re-plan of batch 1 would now read (4, 8] -- or more
  ASSERT_OK_AND_ASSIGN(auto restarted, NewQuery(AvailableNow(), /*max_rows=*/4));
  ASSERT_OK_AND_ASSIGN(RunResult run, restarted->Run());
  ASSERT_FALSE(run.batches.empty());
  if (point == std::string("after_commit")) {
    // commits/1 exists: nothing to re-run, batch 2 is next.
    EXPECT_EQ(run.batches[0].batch_id, 2);
  } else {
    EXPECT_EQ(run.batches[0].batch_id, 1);
    EXPECT_TRUE(run.batches[0].replayed);
    EXPECT_EQ(run.batches[0].sources[0].end_offset, R"({"n":8})");
    // The sink had committed batch 1 before the crash after it: the replay writes nothing.
    EXPECT_EQ(run.batches[0].sink_skipped, point == std::string("after_sink"));
  }
  EXPECT_EQ(OutRows(), Range(20));
  // Batches 0..4 of 4 rows: one commit each, none twice.
  EXPECT_EQ(CommitCount(Path("out")), 5);
  std::vector<int64_t> versions;
  for (const auto& [app, version] : Txns()) versions.push_back(version);
  EXPECT_THAT(versions, ElementsAre(0, 1, 2, 3, 4));
}

INSTANTIATE_TEST_SUITE_P(Points, QueryCrashTest,
                         ::testing::Values("after_offsets", "after_sink", "after_commit"));

TEST_F(QueryTest, OnceAfterACrashRunsOnlyThePendingBatch) {
  available_->store(8);
  QueryOptions crashing = AvailableNow();
  crashing.fault_point = [&](std::string_view at, BatchId batch) {
    return at == "after_offsets" && batch == 1 ? Status::IOError("crash (test)") : Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(crashing, 4));
  ASSERT_FALSE(query->Run().ok());
  QueryOptions once;
  once.trigger.kind = Trigger::Kind::kOnce;
  ASSERT_OK_AND_ASSIGN(auto restarted, NewQuery(once, 4));
  ASSERT_OK_AND_ASSIGN(RunResult run, restarted->Run());
  ASSERT_EQ(run.batches.size(), 1u);  // Spark's Trigger.Once: the pending batch is the one
  EXPECT_EQ(run.batches[0].batch_id, 1);
  EXPECT_EQ(OutRows(), Range(8));
}

TEST_F(QueryTest, SecondRunOnTheSameCheckpointFailsLoudly) {
  available_->store(8);
  // While run A sits between offsets/0 and its sink, run B (same checkpoint) recovers batch 0,
  // commits it and goes on. A then finds its batch done by someone else: kConflict.
  std::unique_ptr<StreamingQuery> b;
  QueryOptions a_options = AvailableNow();
  Status b_status;
  a_options.fault_point = [&](std::string_view at, BatchId batch) {
    if (at == "after_offsets" && batch == 0) {
      Result<RunResult> b_run = b->Run();
      b_status = b_run.status();
    }
    return Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(auto a, NewQuery(a_options, 4));
  ASSERT_OK_AND_ASSIGN(b, NewQuery(AvailableNow(), 4));
  Result<RunResult> a_run = a->Run();
  ASSERT_OK(b_status);
  ASSERT_FALSE(a_run.ok());
  EXPECT_EQ(a_run.status().code(), StatusCode::kConflict);
  EXPECT_THAT(a_run.status().message(), HasSubstr("commits/0"));
  EXPECT_EQ(OutRows(), Range(8));
}

TEST_F(QueryTest, CompleteModeReplacesTheTableInOneCommit) {
  available_->store(6);
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(AvailableNow(), 4, OutputMode::kComplete));
  ASSERT_OK_AND_ASSIGN(RunResult run, query->Run());
  ASSERT_EQ(run.batches.size(), 2u);
  // The table is the last batch's rows only.
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"4", "5"}));
  int removes = 0, adds = 0;
  nlohmann::json info;
  for (const auto& action : CommitActions(Path("out"), 1)) {
    removes += action.contains("remove");
    adds += action.contains("add");
    if (action.contains("commitInfo")) info = action["commitInfo"];
  }
  EXPECT_GE(removes, 1);
  EXPECT_GE(adds, 1);
  EXPECT_EQ(info["operation"], "STREAMING UPDATE");
  EXPECT_EQ(info["operationParameters"]["outputMode"], "Complete");
  EXPECT_EQ(info["operationParameters"]["epochId"], "1");
  EXPECT_EQ(info["operationParameters"]["queryId"], query->query_id());
  ASSERT_OK_AND_ASSIGN(auto out_store, storage::LocalStore::Open(Path("out")));
  EXPECT_THAT(delta::testing::ValidateTableLog(*out_store), ::testing::IsEmpty());
}

TEST_F(QueryTest, NewColumnsNeedMergeSchemaAndMissingOnesAreNull) {
  auto run = [&](const std::string& transformation, bool merge_schema) -> Result<RunResult> {
    QueryOptions options = AvailableNow();
    options.checkpoint_location = Path("ckpt");
    options.transformation = transformation;
    DeltaSinkOptions sink;
    sink.path = Path("out");
    sink.merge_schema = merge_schema;
    LAKE_ASSIGN_OR_RETURN(
        auto query, StreamingQuery::Open(db(), std::make_unique<CounterSource>(available_, 100),
                                         std::make_unique<DeltaSink>(sink), options));
    return query->Run();
  };
  available_->store(1);
  ASSERT_OK(run("SELECT id FROM batch", false).status());
  available_->store(2);
  Result<RunResult> refused = run("SELECT id, id * 2 AS twice FROM batch", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("twice"));
  EXPECT_THAT(refused.status().hint(), HasSubstr("mergeSchema"));
  ASSERT_OK(run("SELECT id, id * 2 AS twice FROM batch", true).status());
  available_->store(3);
  ASSERT_OK(run("SELECT id FROM batch", false).status());  // twice is NULL for this batch
  EXPECT_EQ(Rows(StrCat("SELECT CAST(id AS VARCHAR) || ':' || coalesce(CAST(twice AS VARCHAR), "
                        "'NULL') FROM delta_scan(",
                        SqlQuote(Path("out")), ")")),
            (std::vector<std::string>{"0:NULL", "1:2", "2:NULL"}));
}

TEST_F(QueryTest, TransformationRunsOverTheBatchTable) {
  available_->store(5);
  QueryOptions options = AvailableNow();
  options.batch_table = "events";
  options.transformation = "SELECT id * 10 AS id FROM events WHERE id % 2 = 0";
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(options, 100));
  ASSERT_OK_AND_ASSIGN(RunResult run, query->Run());
  ASSERT_EQ(run.batches.size(), 1u);
  EXPECT_EQ(run.batches[0].num_input_rows, 5);
  EXPECT_EQ(run.batches[0].num_output_rows, 3);
  EXPECT_EQ(OutRows(), (std::vector<std::string>{"0", "20", "40"}));
}

}  // namespace
}  // namespace lake::streaming
