// The per-database snapshot cache behind delta_scan: a commit landing between two queries
// (as another process would write it) is seen by the next query; unchanged tables and pinned
// versions are served from the cache. Expected row counts come from the conformance manifest.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "engine/database.h"
#include "engine/delta_engine.h"
#include "engine_test_util.h"

namespace lake::engine {
namespace {

namespace fs = std::filesystem;
using testing::ManifestTable;
using testing::Pad;
using testing::TablePath;

constexpr char kTable[] = "delta-spark-golden/basic-with-inserts-deletes-checkpoint";

int64_t ExpectedCount(int64_t version) {
  for (const auto& v : ManifestTable(kTable)["expect"]["versions"]) {
    if (v["version"].get<int64_t>() == version) return v["row_count"].get<int64_t>();
  }
  ADD_FAILURE() << "manifest has no row count for version " << version;
  return -1;
}

class SnapshotCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("lake-snapshot-cache-" + std::to_string(rd()));
    // The table as of version 10 (its checkpoint); later commits are added by the tests.
    fs::copy(TablePath(kTable), dir_, fs::copy_options::recursive);
    for (int64_t v = 11; v <= 13; ++v) fs::remove(Log(v));
    Open(DatabaseOptions{});
  }
  void Open(DatabaseOptions options) {
    session_.reset();
    db_.reset();
    options.threads = 1;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto session = db_->Connect();
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = std::move(*session);
  }
  void TearDown() override {
    session_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path Log(int64_t version) const {
    return dir_ / "_delta_log" / (Pad(version, 20) + ".json");
  }
  // Lands commit `version` as a concurrent writer would: a new file in _delta_log/.
  void Commit(int64_t version) {
    fs::copy_file(fs::path(TablePath(kTable)) / "_delta_log" / (Pad(version, 20) + ".json"),
                  Log(version));
  }
  int64_t Count(std::optional<int64_t> version = std::nullopt) {
    std::string sql = "SELECT count(*) FROM delta_scan('" + dir_.string() + "'";
    if (version) sql += ", version := " + std::to_string(*version);
    auto result = session_->Query(sql + ")");
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return -1;
    return std::get<int64_t>(result->rows[0][0].v);
  }
  SnapshotCacheCounters Stats() { return GetSnapshotCacheCounters(*db_); }

  fs::path dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Session> session_;
};

TEST_F(SnapshotCacheTest, SeesCommitsLandedBetweenQueries) {
  EXPECT_EQ(Count(), ExpectedCount(10));
  Commit(11);
  EXPECT_EQ(Count(), ExpectedCount(11));
  Commit(12);
  Commit(13);
  EXPECT_EQ(Count(), ExpectedCount(13));
  SnapshotCacheCounters stats = Stats();
  EXPECT_EQ(stats.full_loads, 1);
  EXPECT_EQ(stats.refreshes, 2);
}

TEST_F(SnapshotCacheTest, ReusesTheSnapshotWhenNothingIsNew) {
  EXPECT_EQ(Count(), ExpectedCount(10));
  EXPECT_EQ(Count(), ExpectedCount(10));
  SnapshotCacheCounters stats = Stats();
  EXPECT_EQ(stats.full_loads, 1);
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.refreshes, 0);
}

TEST_F(SnapshotCacheTest, ReloadsWhenTheCachedCommitWasReplaced) {
  EXPECT_EQ(Count(), ExpectedCount(10));
  // The table is rewritten in place: version 10's commit now holds other bytes (here: an
  // older commit's, which still replays). The cache must not trust its snapshot.
  fs::remove(Log(10));
  fs::remove(dir_ / "_delta_log" / (Pad(10, 20) + ".checkpoint.parquet"));
  fs::remove(dir_ / "_delta_log" / "_last_checkpoint");
  for (int64_t v = 4; v <= 9; ++v) fs::remove(Log(v));
  EXPECT_EQ(Count(), ExpectedCount(3));
  EXPECT_EQ(Stats().full_loads, 2);
}

TEST_F(SnapshotCacheTest, ServesPinnedVersionsFromTheCache) {
  EXPECT_EQ(Count(5), ExpectedCount(5));
  EXPECT_EQ(Count(5), ExpectedCount(5));
  EXPECT_EQ(Count(10), ExpectedCount(10));
  SnapshotCacheCounters stats = Stats();
  EXPECT_EQ(stats.full_loads, 2);
  EXPECT_EQ(stats.hits, 1);
}

TEST_F(SnapshotCacheTest, EvictsTheLeastRecentlyUsed) {
  DatabaseOptions options;
  options.snapshot_cache_entries = 2;
  Open(options);
  for (int64_t v : {1, 2, 3}) EXPECT_EQ(Count(v), ExpectedCount(v));
  EXPECT_EQ(Count(3), ExpectedCount(3));  // hit
  EXPECT_EQ(Count(1), ExpectedCount(1));  // evicted by 3: loaded again
  SnapshotCacheCounters stats = Stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.full_loads, 4);
  EXPECT_EQ(stats.evictions, 2);
}

}  // namespace
}  // namespace lake::engine
