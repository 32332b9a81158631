// The MERGE sink (src/streaming/merge_sink.h): a MERGE per batch whose commit
// carries the query's txn, so a batch replayed after a crash between the
// MERGE's commit and commits/<N> is not merged twice. The MERGE adds each
// batch's per-key counts to a counter column: a batch applied twice shows as a
// count too high.
#include "streaming/merge_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "stream_test_util.h"
#include "streaming/query.h"

namespace lake::streaming {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::StreamTest;

// The integers 0..available-1, `max_rows` per batch; offsets are {"n":k}.
class RangeSource : public Source {
public:
  RangeSource(int64_t available, int64_t max_rows)
      : available_(available), max_rows_(max_rows) {}
  std::string description() const override { return "Range"; }
  Status Open(const SourceContext &) override { return Status::OK(); }
  ReadLimit DefaultReadLimit() const override {
    ReadLimit limit;
    limit.max_rows = max_rows_;
    return limit;
  }
  Status PrepareForAvailableNow() override { return Status::OK(); }
  Result<std::optional<std::string>>
  LatestOffset(const std::optional<std::string> &start, const ReadLimit &limit,
               BatchId) override {
    const int64_t from = Parse(start);
    int64_t to = available_;
    if (limit.max_rows)
      to = std::min(to, from + *limit.max_rows);
    if (to <= from)
      return std::optional<std::string>();
    return std::optional<std::string>(StrCat("{\"n\":", to, "}"));
  }
  Result<int64_t> GetBatch(engine::Session &session,
                           const std::optional<std::string> &start,
                           const std::string &end, BatchId,
                           std::string_view table) override {
    const int64_t from = Parse(start), to = Parse(end);
    LAKE_RETURN_IF_ERROR(
        session
            .Query(StrCat("CREATE OR REPLACE TEMP TABLE ", SqlIdent(table),
                          " AS SELECT range AS id FROM range(", from, ", ", to,
                          ")"))
            .status());
    return to - from;
  }

private:
  static int64_t Parse(const std::optional<std::string> &offset) {
    return offset ? nlohmann::json::parse(*offset)["n"].get<int64_t>() : 0;
  }
  int64_t available_;
  int64_t max_rows_;
};

constexpr const char *kUpsert =
    "MERGE INTO silver t USING updates s ON t.k = s.k "
    "WHEN MATCHED THEN UPDATE SET n = t.n + s.n "
    "WHEN NOT MATCHED THEN INSERT (k, n) VALUES (s.k, s.n)";

class MergeSinkTest : public StreamTest {
protected:
  void SetUp() override {
    StreamTest::SetUp();
    Sql("CREATE TABLE silver (k BIGINT, n BIGINT)");
  }
  Result<std::unique_ptr<StreamingQuery>>
  NewQuery(int64_t available, QueryOptions options,
           std::string merge_sql = kUpsert) {
    options.checkpoint_location = Path("ckpt");
    options.trigger.kind = Trigger::Kind::kAvailableNow;
    // Each batch's rows counted per key k = id % 3.
    options.transformation =
        "SELECT id % 3 AS k, count(*) AS n FROM batch GROUP BY 1";
    MergeSinkOptions sink;
    sink.target_path = TablePath("silver");
    sink.merge_sql = std::move(merge_sql);
    return StreamingQuery::Open(
        db(), std::make_unique<RangeSource>(available, 4),
        std::make_unique<MergeSink>(sink), std::move(options));
  }
  std::vector<std::string> Silver() {
    return Rows("SELECT CAST(k AS VARCHAR), CAST(n AS VARCHAR) FROM silver");
  }
};

TEST_F(MergeSinkTest, EachBatchIsOneMergeCommitWithTheQuerysTxn) {
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(12, QueryOptions{}));
  ASSERT_OK_AND_ASSIGN(RunResult run, query->Run());
  ASSERT_EQ(run.batches.size(), 3u);
  // ids 0..11: four of each k = id % 3.
  EXPECT_THAT(Silver(), ElementsAre("0|4", "1|4", "2|4"));
  // Version 0 is the CREATE TABLE; then one commit per batch holding the MERGE
  // and its txn.
  ASSERT_EQ(CommitCount(TablePath("silver")), 4);
  for (int64_t v = 1; v <= 3; ++v) {
    std::optional<int64_t> txn;
    std::string operation;
    for (const auto &action : CommitActions(TablePath("silver"), v)) {
      if (action.contains("txn")) {
        EXPECT_EQ(action["txn"]["appId"], run.query_id);
        txn = action["txn"]["version"].get<int64_t>();
      }
      if (action.contains("commitInfo"))
        operation = action["commitInfo"]["operation"];
    }
    EXPECT_EQ(txn, v - 1) << "version " << v;
    EXPECT_EQ(operation, "MERGE") << "version " << v;
  }
  // Batch 0 = ids 0..3: k 0 twice (0, 3), k 1 and 2 once: three rows inserted.
  EXPECT_EQ(run.batches[0].num_output_rows, 3);
}

// Crash after the MERGE of batch 1 committed, before commits/1: the restart
// replays batch 1, the sink finds its txn and skips it. Without the txn check,
// k would count batch 1 twice.
TEST_F(MergeSinkTest, ReplayAfterACrashBetweenCommitAndCheckpointMergesOnce) {
  QueryOptions crashing;
  crashing.fault_point = [](std::string_view at, BatchId batch) {
    return at == "after_sink" && batch == 1 ? Status::IOError("crash (test)")
                                            : Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(auto query, NewQuery(12, crashing));
  ASSERT_FALSE(query->Run().ok());
  query.reset();
  // Batches 0 (ids 0..3) and 1 (ids 4..7) are in: k0 {0,3,6}, k1 {1,4,7}, k2
  // {2,5}.
  EXPECT_THAT(Silver(), ElementsAre("0|3", "1|3", "2|2"));

  ASSERT_OK_AND_ASSIGN(auto restarted, NewQuery(12, QueryOptions{}));
  ASSERT_OK_AND_ASSIGN(RunResult run, restarted->Run());
  ASSERT_EQ(run.batches.size(), 2u);
  EXPECT_EQ(run.batches[0].batch_id, 1);
  EXPECT_TRUE(run.batches[0].replayed);
  EXPECT_TRUE(run.batches[0].sink_skipped);
  EXPECT_EQ(run.batches[1].batch_id, 2);
  EXPECT_THAT(Silver(), ElementsAre("0|4", "1|4", "2|4"));
  EXPECT_EQ(CommitCount(TablePath("silver")), 4);
}

// The engine half of the contract, in SQL: a MERGE under lake.txnAppId /
// lake.txnVersion carries the txn, and the same MERGE again with a version
// already committed writes nothing.
TEST_F(MergeSinkTest, MergeHonoursTheTxnSettings) {
  Sql("CREATE TEMP TABLE updates AS SELECT 1 AS k, 10 AS n");
  Sql("SET lake.txnAppId = 'app'; SET lake.txnVersion = 7");
  Sql(kUpsert);
  ASSERT_EQ(CommitCount(TablePath("silver")), 2);
  bool has_txn = false;
  for (const auto &action : CommitActions(TablePath("silver"), 1)) {
    if (action.contains("txn")) {
      has_txn = true;
      EXPECT_EQ(action["txn"]["appId"], "app");
      EXPECT_EQ(action["txn"]["version"], 7);
    }
  }
  EXPECT_TRUE(has_txn);
  Sql("SET lake.txnVersion = 6"); // an older version: the table's txn already
                                  // covers it
  auto again = session_->Query(kUpsert);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(again->rows[0][0].v), 0);
  EXPECT_EQ(CommitCount(TablePath("silver")), 2);
  EXPECT_THAT(Silver(), ElementsAre("1|10"));
}

TEST_F(MergeSinkTest, RefusesAStatementThatIsNotAMerge) {
  Result<std::unique_ptr<StreamingQuery>> query =
      NewQuery(4, QueryOptions{}, "INSERT INTO silver SELECT * FROM updates");
  Status status = query.ok() ? (*query)->Run().status() : query.status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("not a MERGE"));
}

} // namespace
} // namespace lake::streaming
