// Storage failures during snapshot loading give a clean error, never a wrong answer
// (issue #2 §6 "Fault tests"): for every call N of a load, fail call N and compare.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "delta/snapshot.h"
#include "log_test_util.h"
#include "storage/faulty_store.h"

namespace lake::delta {
namespace {

using testing::AddLine;
using testing::CommitInfoLine;
using testing::LogKey;
using testing::MetadataLine;
using testing::ProtocolLine;
using testing::RemoveLine;
using testing::SortedPaths;

// A table whose load touches _last_checkpoint, a listing, a checkpoint and many commits
// (enough for the parallel reader).
void WriteTable(testing::TestTable& t) {
  ActionBatch cp;
  Protocol p;
  cp.protocols.push_back(p);
  Metadata m;
  m.id = "t";
  m.schema_string = R"({"type":"struct","fields":[]})";
  cp.metadata.push_back(m);
  AddFile a;
  a.path = "base";
  cp.adds.push_back(a);
  t.PutParquet(LogKey(3, ".checkpoint.parquet"), cp);
  t.Put("_delta_log/_last_checkpoint", R"({"version":3})");
  t.Commit(3, {CommitInfoLine("WRITE")});
  for (int v = 4; v < 30; ++v) {
    t.Commit(v, {CommitInfoLine("WRITE"), AddLine(StrCat("f", v)), RemoveLine(StrCat("f", v - 1))});
  }
}

TEST(LoadSnapshotFaults, EveryFailedCallIsAnErrorOrTheRightAnswer) {
  testing::TestTable t;
  WriteTable(t);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr expected, LoadSnapshot(t.engine()));
  ASSERT_THAT(SortedPaths(expected->files()), ::testing::ElementsAre("base", "f29"));

  for (auto mode : {storage::FaultyStore::Mode::kFailOnce, storage::FaultyStore::Mode::kCrash}) {
    int64_t calls = 0;
    {
      storage::FaultyStore counting(t.store(), 0, mode);
      SimpleEngine engine(counting, t.reader());
      ASSERT_OK(LoadSnapshot(engine).status());
      calls = counting.calls();
    }
    ASSERT_GT(calls, 25);
    for (int64_t n = 1; n <= calls; ++n) {
      storage::FaultyStore faulty(t.store(), n, mode);
      SimpleEngine engine(faulty, t.reader());
      Result<SnapshotPtr> r = LoadSnapshot(engine);
      if (r.ok()) {
        // Only a failure that does not matter may be absorbed (the optional hint).
        EXPECT_EQ((*r)->version(), expected->version()) << "call " << n;
        EXPECT_EQ(SortedPaths((*r)->files()), SortedPaths(expected->files())) << "call " << n;
        EXPECT_EQ(SortedPaths((*r)->tombstones()), SortedPaths(expected->tombstones()))
            << "call " << n;
      } else {
        EXPECT_EQ(r.status().code(), StatusCode::kIOError) << "call " << n << ": " << r.status();
      }
    }
  }
}

TEST(LoadSnapshotFaults, HistoryFailsCleanly) {
  testing::TestTable t;
  WriteTable(t);
  storage::FaultyStore counting(t.store(), 0, storage::FaultyStore::Mode::kFailOnce);
  SimpleEngine counting_engine(counting, t.reader());
  ASSERT_OK(LoadHistory(counting_engine).status());
  const int64_t calls = counting.calls();
  for (int64_t n = 1; n <= calls; ++n) {
    storage::FaultyStore faulty(t.store(), n, storage::FaultyStore::Mode::kFailOnce);
    SimpleEngine engine(faulty, t.reader());
    Result<std::vector<HistoryEntry>> r = LoadHistory(engine);
    if (r.ok()) {
      EXPECT_EQ(r->size(), 27u);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kIOError) << r.status();
    }
  }
}

}  // namespace
}  // namespace lake::delta
