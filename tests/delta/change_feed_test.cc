// delta::ListChangeFiles / ResolveChangeFeedRange over hand-written logs in a MemoryStore
// (no data files are read: planning only). Expected plans follow change_feed.h's notes and
// Spark's CDCReader, worked out from the commit lines below.
#include "delta/change_feed.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "log_test_util.h"

namespace lake::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::AddLine;
using testing::CommitInfoLine;
using testing::DvJson;
using testing::MetadataLine;
using testing::ProtocolLine;
using testing::RemoveLine;
using testing::SortedPaths;
using testing::TestTable;

const std::map<std::string, std::string> kCdfOn = {{"delta.enableChangeDataFeed", "true"}};

std::string CdcLine(const std::string& path) {
  return StrCat(R"({"cdc":{"path":")", path,
                R"(","partitionValues":{},"size":10,"dataChange":false}})");
}

std::string NoDataChange(std::string line) {
  size_t at = line.find("\"dataChange\":true");
  return line.replace(at, 17, "\"dataChange\":false");
}

TEST(ChangeFeed, SplitsEachCommitIntoCdcInsertDeleteAndDvUpdates) {
  TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine(kCdfOn), AddLine("a"), AddLine("b")}, 1000);
  // cdc files win: the add/remove of an UPDATE are not changes themselves.
  t.Commit(1, {CommitInfoLine("UPDATE"), RemoveLine("a"), AddLine("c"), CdcLine("_change_data/x")},
           2000);
  // A DV added to b (remove + add of one path): a DV update, not delete-all + insert-all.
  t.Commit(2, {RemoveLine("b"), AddLine("b", 100, DvJson("dv1"))}, 3000);
  // OPTIMIZE: dataChange=false actions contribute nothing (but say where c stops being live).
  t.Commit(3, {NoDataChange(RemoveLine("c")), NoDataChange(AddLine("d"))}, 4000);
  // A plain rewrite of one path without DVs is delete-all + insert-all.
  t.Commit(4, {RemoveLine("d"), AddLine("d")}, 5000);

  ASSERT_OK_AND_ASSIGN(std::vector<CommitChanges> changes,
                       ListChangeFiles(t.engine(), ChangeFeedRange{0, 4}));
  ASSERT_EQ(changes.size(), 5u);
  EXPECT_EQ(changes[0].version, 0);
  EXPECT_EQ(changes[0].timestamp_ms, 1000);
  EXPECT_EQ(SortedPaths(changes[0].inserted), (std::vector<std::string>{"a", "b"}));

  EXPECT_EQ(SortedPaths(changes[1].cdc_files), (std::vector<std::string>{"_change_data/x"}));
  EXPECT_THAT(changes[1].inserted, IsEmpty());
  EXPECT_THAT(changes[1].deleted, IsEmpty());
  EXPECT_THAT(changes[1].removed_paths, ElementsAre("a"));
  EXPECT_EQ(changes[1].timestamp_ms, 2000);

  ASSERT_EQ(changes[2].dv_updates.size(), 1u);
  EXPECT_EQ(changes[2].dv_updates[0].add.path, "b");
  EXPECT_FALSE(changes[2].dv_updates[0].remove.deletion_vector.has_value());
  EXPECT_TRUE(changes[2].dv_updates[0].add.deletion_vector.has_value());
  EXPECT_THAT(changes[2].inserted, IsEmpty());
  EXPECT_THAT(changes[2].deleted, IsEmpty());

  EXPECT_TRUE(changes[3].empty());
  EXPECT_THAT(changes[3].removed_paths, ElementsAre("c"));

  EXPECT_EQ(SortedPaths(changes[4].inserted), (std::vector<std::string>{"d"}));
  EXPECT_EQ(SortedPaths(changes[4].deleted), (std::vector<std::string>{"d"}));
  EXPECT_THAT(changes[4].dv_updates, IsEmpty());
}

TEST(ChangeFeed, CommitTimeIsTheInCommitTimestampWhenPresent) {
  TestTable t;
  t.Commit(0, {CommitInfoLine("CREATE", 777), ProtocolLine(), MetadataLine(kCdfOn)}, 1000);
  t.Commit(1, {CommitInfoLine("WRITE"), AddLine("a")}, 2000);
  ASSERT_OK_AND_ASSIGN(std::vector<CommitChanges> changes,
                       ListChangeFiles(t.engine(), ChangeFeedRange{0, 1}));
  EXPECT_EQ(changes[0].timestamp_ms, 777);
  EXPECT_EQ(changes[1].timestamp_ms, 2000);
}

TEST(ChangeFeed, RefusesVersionsWithoutTheFeed) {
  TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine()}, 1000);
  t.Commit(1, {MetadataLine(kCdfOn)}, 2000);  // enables the feed
  t.Commit(2, {AddLine("a")}, 3000);
  Result<std::vector<CommitChanges>> off = ListChangeFiles(t.engine(), ChangeFeedRange{0, 2});
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(off.status().message(), HasSubstr("not recorded for version 0"));
  ASSERT_OK_AND_ASSIGN(std::vector<CommitChanges> on,
                       ListChangeFiles(t.engine(), ChangeFeedRange{1, 2}));
  EXPECT_EQ(on.size(), 2u);

  // Turning it off inside the range is refused at that version.
  t.Commit(3, {MetadataLine({{"delta.enableChangeDataFeed", "false"}})}, 4000);
  Result<std::vector<CommitChanges>> later = ListChangeFiles(t.engine(), ChangeFeedRange{1, 3});
  ASSERT_FALSE(later.ok());
  EXPECT_THAT(later.status().message(), HasSubstr("not recorded for version 3"));
}

TEST(ChangeFeed, ResolvesBoundsLikeSpark) {
  TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine(kCdfOn)}, 1000);
  t.Commit(1, {AddLine("a")}, 2000);
  t.Commit(2, {AddLine("b")}, 3000);
  auto range = [&](int64_t start, bool start_ts, std::optional<int64_t> end, bool end_ts) {
    return ResolveChangeFeedRange(t.engine(), start, start_ts, end, end_ts);
  };
  ASSERT_OK_AND_ASSIGN(ChangeFeedRange all, range(0, false, std::nullopt, false));
  EXPECT_EQ(all.start, 0);
  EXPECT_EQ(all.end, 2);
  ASSERT_OK_AND_ASSIGN(ChangeFeedRange clamped, range(1, false, 9, false));
  EXPECT_EQ(clamped.end, 2);
  // 1500 -> first commit at or after: 1; 2999 -> last commit at or before: 1.
  ASSERT_OK_AND_ASSIGN(ChangeFeedRange by_time, range(1500, true, 2999, true));
  EXPECT_EQ(by_time.start, 1);
  EXPECT_EQ(by_time.end, 1);
  ASSERT_OK_AND_ASSIGN(ChangeFeedRange exact, range(2000, true, 2000, true));
  EXPECT_EQ(exact.start, 1);
  EXPECT_EQ(exact.end, 1);
  EXPECT_EQ(range(3, false, std::nullopt, false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(range(3001, true, std::nullopt, false).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(range(2, false, 1, false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(range(0, false, 999, true).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lake::delta
