// ReplayState: the outcome of a replay does not depend on the order, or the threads, in which
// batches are applied (log_replay.cc design notes 2 and 4).
#include "delta/internal/log_replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

#include "delta/log_parser.h"
#include "log_test_util.h"

namespace lake::delta::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using testing::AddLine;
using testing::RemoveLine;

ActionBatch Parse(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  Result<ActionBatch> batch = ParseJsonActions(text, "test.json");
  EXPECT_TRUE(batch.ok()) << batch.status().ToString();
  return std::move(*batch);
}

// Commit v (1-based ordinal) of a log: "k" re-added with size v, and also removed when v % 3 == 0
// (add and remove in one commit: the add wins); "r" added at odd and removed at even v; "u<v>"
// added at v and removed at v + 2.
std::vector<std::string> CommitLines(int v) {
  std::vector<std::string> lines = {AddLine("k", v), AddLine("u" + std::to_string(v), 1)};
  if (v % 3 == 0) lines.push_back(RemoveLine("k"));
  lines.push_back(v % 2 == 1 ? AddLine("r", 1000 + v) : RemoveLine("r"));
  if (v > 2) lines.push_back(RemoveLine("u" + std::to_string(v - 2)));
  return lines;
}

std::vector<std::pair<std::string, int64_t>> Files(const FileList& files) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const AddFile& f : files) out.emplace_back(f.path, f.size);
  return out;
}

std::vector<std::string> Paths(const TombstoneList& list) {
  std::vector<std::string> out;
  for (const RemoveFile& r : list) out.push_back(r.path);
  std::sort(out.begin(), out.end());
  return out;
}

constexpr int kCommits = 40;

// By hand, from CommitLines: at 40 "k" is live with size 40 (last add), "r" removed (40 is
// even), u39 and u40 live; u1..u38 removed. Files come in log order of their winning add.
void ExpectFinalState(ReplayState& state) {
  FileList files;
  TombstoneList tombstones;
  std::shared_ptr<const FileKeyIndex> index;
  state.TakeFiles(files, tombstones, &index);
  EXPECT_THAT(Files(files), ElementsAre(Pair("u39", 1), Pair("k", 40), Pair("u40", 1)));
  std::vector<std::string> expected_tombstones = {"r"};
  for (int v = 1; v <= 38; ++v) expected_tombstones.push_back("u" + std::to_string(v));
  std::sort(expected_tombstones.begin(), expected_tombstones.end());
  EXPECT_EQ(Paths(tombstones), expected_tombstones);
  // The handed-over key table finds each live file and nothing else.
  for (const std::string key : {"k", "u39", "u40"}) {
    std::optional<FileLoc> loc = index->Find(key, HashFileKey(key), files, "");
    ASSERT_TRUE(loc.has_value()) << key;
    EXPECT_EQ((*files.chunks()[loc->chunk])[loc->slot].path, key);
  }
  for (const std::string key : {"r", "u1", "u38", "nope"}) {
    EXPECT_FALSE(index->Find(key, HashFileKey(key), files, "").has_value()) << key;
  }
}

TEST(ReplayState, InLogOrder) {
  ReplayState state("/t");
  for (int v = 1; v <= kCommits; ++v) ASSERT_OK(state.Apply({static_cast<uint32_t>(v), 0}, Parse(CommitLines(v))));
  ExpectFinalState(state);
}

TEST(ReplayState, InReverseOrder) {
  ReplayState state("/t");
  for (int v = kCommits; v >= 1; --v) ASSERT_OK(state.Apply({static_cast<uint32_t>(v), 0}, Parse(CommitLines(v))));
  ExpectFinalState(state);
}

TEST(ReplayState, ShuffledFromFourThreads) {
  for (unsigned seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(seed);
    std::vector<int> order;
    for (int v = 1; v <= kCommits; ++v) order.push_back(v);
    std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    ReplayState state("/t");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < order.size(); i += 4) {
          ASSERT_OK(state.Apply({static_cast<uint32_t>(order[i]), 0}, Parse(CommitLines(order[i]))));
        }
      });
    }
    for (std::thread& th : threads) th.join();
    ExpectFinalState(state);
  }
}

// Within one commit the later of two adds of one key wins, whichever part it came in.
TEST(ReplayState, LaterLineAndLaterPartWinWithinOneOrdinal) {
  ReplayState state("/t");
  ASSERT_OK(state.Apply({1, 1}, Parse({AddLine("a", 3)})));
  ASSERT_OK(state.Apply({1, 0}, Parse({AddLine("a", 1), AddLine("a", 2)})));
  FileList files;
  TombstoneList tombstones;
  state.TakeFiles(files, tombstones);
  EXPECT_THAT(Files(files), ElementsAre(Pair("a", 3)));
}

}  // namespace
}  // namespace lake::delta::internal
