// engine::Database: opening, result conversion of every type family, errors, streaming.
// Expected values are derived by hand from the SQL literals.
#include "engine/database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

namespace lake::engine {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.threads = 2;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto session = db_->Connect();
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = std::move(*session);
  }

  ResultTable MustQuery(const std::string& sql) {
    auto result = session_->Query(sql);
    EXPECT_TRUE(result.ok()) << sql << ": " << result.status();
    return result.ok() ? std::move(*result) : ResultTable{};
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<Session> session_;
};

template <typename T>
T Get(const Value& v) {
  EXPECT_TRUE(std::holds_alternative<T>(v.v)) << "variant index " << v.v.index();
  return std::holds_alternative<T>(v.v) ? std::get<T>(v.v) : T{};
}

TEST_F(DatabaseTest, ReportsPinnedEngineVersion) {
  EXPECT_EQ(db_->engine_version(), "v1.4.4 (6ddac802ff)");
}

TEST_F(DatabaseTest, ConvertsScalarTypes) {
  ResultTable t = MustQuery(
      "SELECT 42::INTEGER AS i, -7::TINYINT AS ti, 'héllo' AS s, NULL::VARCHAR AS n, "
      "true AS b, 1.5::DOUBLE AS d, 0.25::FLOAT AS f, 12.30::DECIMAL(5,2) AS dec_small, "
      "-123456789012345678901234.5::DECIMAL(38,1) AS dec_big, "
      "170141183460469231731687303715884105727::HUGEINT AS huge, "
      "DATE '1970-01-11' AS dt, TIMESTAMP '1970-01-01 00:00:01.5' AS ts, "
      "TIMESTAMPTZ '1970-01-01 00:00:02+00' AS tstz, '\\x01\\x02'::BLOB AS bl, "
      "18446744073709551615::UBIGINT AS ub");
  ASSERT_EQ(t.rows.size(), 1u);
  ASSERT_EQ(t.columns.size(), 15u);
  const auto& r = t.rows[0];
  EXPECT_EQ(t.columns[0].name, "i");
  EXPECT_EQ(t.columns[0].type.kind, ColumnType::Kind::kInteger);
  EXPECT_EQ(Get<int64_t>(r[0]), 42);
  EXPECT_EQ(Get<int64_t>(r[1]), -7);
  EXPECT_EQ(Get<std::string>(r[2]), "héllo");
  EXPECT_TRUE(r[3].is_null());
  EXPECT_EQ(Get<bool>(r[4]), true);
  EXPECT_DOUBLE_EQ(Get<double>(r[5]), 1.5);
  EXPECT_DOUBLE_EQ(Get<double>(r[6]), 0.25);
  EXPECT_EQ(t.columns[7].type.kind, ColumnType::Kind::kDecimal);
  EXPECT_EQ(t.columns[7].type.precision, 5);
  EXPECT_EQ(t.columns[7].type.scale, 2);
  EXPECT_EQ(Get<int64_t>(r[7]), 1230);
  __int128 big = -(static_cast<__int128>(1234567890123456789LL) * 1000000 + 12345);
  EXPECT_TRUE(Get<__int128>(r[8]) == big);
  __int128 max_huge = (static_cast<__int128>(1) << 126) - 1 + (static_cast<__int128>(1) << 126);
  EXPECT_TRUE(Get<__int128>(r[9]) == max_huge);
  EXPECT_EQ(t.columns[10].type.kind, ColumnType::Kind::kDate);
  EXPECT_EQ(Get<int64_t>(r[10]), 10);
  EXPECT_EQ(t.columns[11].type.kind, ColumnType::Kind::kTimestamp);
  EXPECT_EQ(Get<int64_t>(r[11]), 1500000);
  EXPECT_EQ(t.columns[12].type.kind, ColumnType::Kind::kTimestampTz);
  EXPECT_EQ(Get<int64_t>(r[12]), 2000000);
  EXPECT_EQ(t.columns[13].type.kind, ColumnType::Kind::kBlob);
  EXPECT_EQ(Get<std::string>(r[13]), std::string("\x01\x02", 2));
  EXPECT_EQ(Get<uint64_t>(r[14]), 18446744073709551615ull);
}

TEST_F(DatabaseTest, ConvertsNestedTypes) {
  ResultTable t = MustQuery(
      "SELECT [1, NULL, 3] AS l, {'a': 1, 'b': 'x'} AS s, MAP {'k1': 10, 'k2': 20} AS m, "
      "[{'x': [1.5::DECIMAL(4,1)]}] AS deep");
  ASSERT_EQ(t.rows.size(), 1u);
  const auto& r = t.rows[0];
  EXPECT_EQ(t.columns[0].type.kind, ColumnType::Kind::kList);
  auto list = Get<std::shared_ptr<ValueList>>(r[0]);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(Get<int64_t>((*list)[0]), 1);
  EXPECT_TRUE((*list)[1].is_null());
  EXPECT_EQ(Get<int64_t>((*list)[2]), 3);

  EXPECT_EQ(t.columns[1].type.kind, ColumnType::Kind::kStruct);
  ASSERT_EQ(t.columns[1].type.children.size(), 2u);
  EXPECT_EQ(t.columns[1].type.children[1].first, "b");
  auto st = Get<std::shared_ptr<ValueStruct>>(r[1]);
  ASSERT_TRUE(st);
  ASSERT_EQ(st->size(), 2u);
  EXPECT_EQ((*st)[0].first, "a");
  EXPECT_EQ(Get<int64_t>((*st)[0].second), 1);
  EXPECT_EQ(Get<std::string>((*st)[1].second), "x");

  EXPECT_EQ(t.columns[2].type.kind, ColumnType::Kind::kMap);
  auto map = Get<std::shared_ptr<ValueMap>>(r[2]);
  ASSERT_TRUE(map);
  ASSERT_EQ(map->size(), 2u);
  EXPECT_EQ(Get<std::string>((*map)[1].first), "k2");
  EXPECT_EQ(Get<int64_t>((*map)[1].second), 20);

  auto deep = Get<std::shared_ptr<ValueList>>(r[3]);
  ASSERT_TRUE(deep && deep->size() == 1);
  auto inner = Get<std::shared_ptr<ValueStruct>>((*deep)[0]);
  ASSERT_TRUE(inner && inner->size() == 1);
  auto decimals = Get<std::shared_ptr<ValueList>>((*inner)[0].second);
  ASSERT_TRUE(decimals && decimals->size() == 1);
  EXPECT_EQ(Get<int64_t>((*decimals)[0]), 15);  // 1.5 at scale 1
}

TEST_F(DatabaseTest, RunsStatementsInOrderAndReturnsTheLast) {
  ResultTable t = MustQuery(
      "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3); "
      "SELECT sum(x) AS s FROM t");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(Get<__int128>(t.rows[0][0]), 6);
}

TEST_F(DatabaseTest, MapsErrorsToStatusCodes) {
  auto syntax = session_->Query("SELEC 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(syntax.status().message().find("Parser"), std::string::npos) << syntax.status();

  auto missing = session_->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("no_such_table"), std::string::npos);

  auto io = session_->Query("SELECT * FROM read_parquet('/nonexistent/lake/file.parquet')");
  ASSERT_FALSE(io.ok());
  EXPECT_EQ(io.status().code(), StatusCode::kIOError) << io.status();

  // The session stays usable after errors.
  EXPECT_EQ(MustQuery("SELECT 1").rows.size(), 1u);
}

class CountingSink : public RowSink {
 public:
  Status Begin(const std::vector<ResultColumn>& columns) override {
    columns_ = columns.size();
    return Status::OK();
  }
  Status Rows(const std::vector<std::vector<Value>>& rows) override {
    ++batches_;
    for (const auto& row : rows) sum_ += std::get<int64_t>(row[0].v);
    rows_ += static_cast<int64_t>(rows.size());
    if (stop_after_ > 0 && rows_ >= stop_after_) return Status::Cancelled("enough");
    return Status::OK();
  }
  Status End() override {
    ended_ = true;
    return Status::OK();
  }
  size_t columns_ = 0;
  int64_t rows_ = 0, sum_ = 0, batches_ = 0, stop_after_ = 0;
  bool ended_ = false;
};

TEST_F(DatabaseTest, StreamsRowsInBatches) {
  CountingSink sink;
  ASSERT_TRUE(session_->QueryStreaming("SELECT range AS x FROM range(100000)", sink).ok());
  EXPECT_EQ(sink.columns_, 1u);
  EXPECT_EQ(sink.rows_, 100000);
  EXPECT_EQ(sink.sum_, int64_t{99999} * 100000 / 2);
  EXPECT_GT(sink.batches_, 1);
  EXPECT_TRUE(sink.ended_);
}

TEST_F(DatabaseTest, SinkErrorStopsTheStream) {
  CountingSink sink;
  sink.stop_after_ = 1;
  Status s = session_->QueryStreaming("SELECT range AS x FROM range(1000000)", sink);
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_FALSE(sink.ended_);
  EXPECT_LT(sink.rows_, 1000000);
  EXPECT_EQ(MustQuery("SELECT 2").rows.size(), 1u);
}

TEST_F(DatabaseTest, InterruptCancelsARunningQuery) {
  std::atomic<bool> done{false};
  Status status;
  std::thread query([&] {
    // Runs for minutes unless interrupted.
    status = session_->Query("SELECT count(*) FROM range(1000000000000) a").status();
    done = true;
  });
  // Interrupting before the query starts is forgotten when it starts, so keep interrupting
  // until it ends; no sleeps, no timing.
  while (!done) {
    session_->Interrupt();
    std::this_thread::yield();
  }
  query.join();
  EXPECT_EQ(status.code(), StatusCode::kCancelled) << status;
  EXPECT_EQ(MustQuery("SELECT 3").rows.size(), 1u);
}

TEST(DatabaseOpen, RejectsZeroThreads) {
  DatabaseOptions options;
  options.threads = 0;
  auto db = Database::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument);
}

TEST(DatabaseOpen, AppliesMemoryLimit) {
  DatabaseOptions options;
  options.memory_limit = "123MB";
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status();
  auto session = (*db)->Connect();
  ASSERT_TRUE(session.ok());
  auto r = (*session)->Query("SELECT current_setting('memory_limit')");
  ASSERT_TRUE(r.ok()) << r.status();
  // DuckDB reports the limit in its own units (123MB = 117.3 MiB).
  EXPECT_EQ(std::get<std::string>(r->rows[0][0].v), "117.3 MiB");
}

}  // namespace
}  // namespace lake::engine
