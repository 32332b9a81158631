#include "delta/log_segment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "log_test_util.h"

namespace lake::delta {
namespace {

using ::testing::HasSubstr;
using testing::LogKey;

TEST(ParseLastCheckpoint, ReadsVersionAndOptionalFields) {
  ASSERT_OK_AND_ASSIGN(LastCheckpointHint hint,
                       ParseLastCheckpoint(R"({"version":10,"size":13,"parts":2,)"
                                           R"("sizeInBytes":1000,"numOfAddFiles":4})"));
  EXPECT_EQ(hint.version, 10);
  EXPECT_EQ(hint.size, std::optional<int64_t>(13));
  EXPECT_EQ(hint.parts, std::optional<int32_t>(2));
  EXPECT_EQ(hint.size_in_bytes, std::optional<int64_t>(1000));
  EXPECT_EQ(hint.num_of_add_files, std::optional<int64_t>(4));
}

TEST(ParseLastCheckpoint, RejectsEverythingButAnObjectWithAnIntegerVersion) {
  for (const char* bad : {"", "{", "[]", "null", "{}", R"({"version":"10"})", R"({"version":1.5})",
                          R"({"version":-1})", R"({"version":99999999999999999999})", "\xff\xfe"}) {
    Result<LastCheckpointHint> r = ParseLastCheckpoint(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad;
    }
  }
}

TEST(ListLog, ClassifiesLogFilesAndIgnoresTheRest) {
  testing::TestTable t;
  for (const std::string& key :
       {LogKey(0), LogKey(1), LogKey(2), LogKey(1, ".crc"), LogKey(2, ".checkpoint.parquet"),
        LogKey(3), LogKey(4, ".checkpoint.0000000001.0000000002.parquet"),  // incomplete
        LogKey(5, ".checkpoint.0000000001.0000000002.parquet"),
        LogKey(5, ".checkpoint.0000000002.0000000002.parquet"),
        LogKey(6, ".checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json"),
        std::string("_delta_log/00000000000000000001.00000000000000000003.compacted.json"),
        std::string("_delta_log/_commits/00000000000000000009.json"),
        std::string("_delta_log/_staged_commits/00000000000000000009.abc.json"),
        std::string("_delta_log/_sidecars/x.parquet"),
        std::string("_delta_log/.00000000000000000003.json.crc"),
        std::string("_delta_log/_last_checkpoint"), std::string("_delta_log/README"),
        std::string("_delta_log/00000000000000000007.json.tmp"), std::string("part-0.parquet")}) {
    t.Put(key, "x");
  }
  ASSERT_OK_AND_ASSIGN(LogListing listing, ListLog(t.store()));
  std::vector<Version> commits;
  for (const CommitFile& c : listing.commits) commits.push_back(c.version);
  EXPECT_EQ(commits, (std::vector<Version>{0, 1, 2, 3}));
  ASSERT_EQ(listing.checkpoints.size(), 3u);
  EXPECT_EQ(listing.checkpoints[0].version, 2);
  EXPECT_EQ(listing.checkpoints[0].kind, CheckpointKind::kClassic);
  EXPECT_EQ(listing.checkpoints[1].version, 5);
  EXPECT_EQ(listing.checkpoints[1].kind, CheckpointKind::kMultiPart);
  ASSERT_EQ(listing.checkpoints[1].parts.size(), 2u);
  EXPECT_EQ(listing.checkpoints[1].parts[0].key,
            LogKey(5, ".checkpoint.0000000001.0000000002.parquet"));
  EXPECT_EQ(listing.checkpoints[2].version, 6);
  EXPECT_EQ(listing.checkpoints[2].kind, CheckpointKind::kUuid);
  ASSERT_EQ(listing.compactions.size(), 1u);
  EXPECT_EQ(listing.compactions[0].start, 1);
  EXPECT_EQ(listing.compactions[0].end, 3);
  EXPECT_EQ(listing.crc_versions, std::vector<Version>{1});
  EXPECT_EQ(listing.LatestVersion(), std::optional<Version>(6));
  EXPECT_EQ(listing.EarliestReconstructableVersion(), std::optional<Version>(0));
}

TEST(BuildLogSegment, EmptyFolderIsNotADeltaTable) {
  testing::TestTable t;
  t.Put("part-0.parquet", "x");
  Result<LogSegment> r = BuildLogSegment(t.store(), "mem://t", std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("not a Delta table"));
}

TEST(BuildLogSegment, PicksNewestCheckpointAtOrBeforeTheTarget) {
  testing::TestTable t;
  for (int v = 0; v <= 7; ++v) t.Put(LogKey(v), "{}");
  t.Put(LogKey(3, ".checkpoint.parquet"), "x");
  t.Put(LogKey(6, ".checkpoint.parquet"), "x");
  ASSERT_OK_AND_ASSIGN(LogSegment latest, BuildLogSegment(t.store(), "t", std::nullopt));
  EXPECT_EQ(latest.version, 7);
  ASSERT_TRUE(latest.checkpoint.has_value());
  EXPECT_EQ(latest.checkpoint->version, 6);
  ASSERT_EQ(latest.commits.size(), 1u);
  EXPECT_EQ(latest.commits[0].version, 7);
  ASSERT_TRUE(latest.checkpoint_commit.has_value());
  EXPECT_EQ(latest.checkpoint_commit->version, 6);

  ASSERT_OK_AND_ASSIGN(LogSegment at5, BuildLogSegment(t.store(), "t", 5));
  ASSERT_TRUE(at5.checkpoint.has_value());
  EXPECT_EQ(at5.checkpoint->version, 3);
  ASSERT_EQ(at5.commits.size(), 2u);
  EXPECT_EQ(at5.commits[0].version, 4);
  EXPECT_EQ(at5.commits[1].version, 5);

  ASSERT_OK_AND_ASSIGN(LogSegment at2, BuildLogSegment(t.store(), "t", 2));
  EXPECT_FALSE(at2.checkpoint.has_value());
  EXPECT_EQ(at2.commits.size(), 3u);

  ASSERT_OK_AND_ASSIGN(LogSegment at6, BuildLogSegment(t.store(), "t", 6));
  EXPECT_EQ(at6.checkpoint->version, 6);
  EXPECT_TRUE(at6.commits.empty());
}

TEST(BuildLogSegment, IncompleteMultiPartCheckpointIsIgnored) {
  testing::TestTable t;
  for (int v = 0; v <= 4; ++v) t.Put(LogKey(v), "{}");
  t.Put(LogKey(3, ".checkpoint.0000000001.0000000003.parquet"), "x");
  t.Put(LogKey(3, ".checkpoint.0000000003.0000000003.parquet"), "x");
  ASSERT_OK_AND_ASSIGN(LogSegment s, BuildLogSegment(t.store(), "t", std::nullopt));
  EXPECT_FALSE(s.checkpoint.has_value());
  EXPECT_EQ(s.commits.size(), 5u);
}

TEST(BuildLogSegment, GapIsCorruptionNamingTheMissingCommit) {
  testing::TestTable t;
  t.Put(LogKey(0), "{}");
  t.Put(LogKey(2), "{}");
  Result<LogSegment> r = BuildLogSegment(t.store(), "mem://t", std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("commit 1 is missing but later ones exist"));
  EXPECT_THAT(r.status().message(), HasSubstr("mem://t"));
  EXPECT_THAT(r.status().hint(), HasSubstr("version 0"));
  // Version 0 alone is still readable.
  ASSERT_OK_AND_ASSIGN(LogSegment at0, BuildLogSegment(t.store(), "mem://t", 0));
  EXPECT_EQ(at0.commits.size(), 1u);
}

TEST(BuildLogSegment, GapCoveredByACheckpointIsFine) {
  testing::TestTable t;
  t.Put(LogKey(0), "{}");
  t.Put(LogKey(3, ".checkpoint.parquet"), "x");
  t.Put(LogKey(4), "{}");
  ASSERT_OK_AND_ASSIGN(LogSegment s, BuildLogSegment(t.store(), "t", std::nullopt));
  EXPECT_EQ(s.checkpoint->version, 3);
  EXPECT_FALSE(s.checkpoint_commit.has_value());
  ASSERT_EQ(s.commits.size(), 1u);
  // ...but version 2 cannot be reconstructed: commits 1 and 2 are gone.
  Result<LogSegment> r = BuildLogSegment(t.store(), "t", 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("commit 1 is missing"));
}

TEST(BuildLogSegment, VersionsOutOfRangeAreNotFoundNamingTheRange) {
  testing::TestTable t;
  for (int v = 5; v <= 8; ++v) t.Put(LogKey(v), "{}");
  t.Put(LogKey(5, ".checkpoint.parquet"), "x");
  Result<LogSegment> old = BuildLogSegment(t.store(), "t", 3);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(old.status().message(), HasSubstr("5 to 8"));
  Result<LogSegment> future = BuildLogSegment(t.store(), "t", 9);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(future.status().message(), HasSubstr("5 to 8"));
  ASSERT_OK_AND_ASSIGN(LogSegment at5, BuildLogSegment(t.store(), "t", 5));
  EXPECT_EQ(at5.checkpoint->version, 5);
}

// _last_checkpoint is only a hint: each way it can be wrong falls back to listing.
TEST(BuildLogSegment, LastCheckpointHintStaleCorruptOrMissing) {
  testing::TestTable t;
  for (int v = 0; v <= 12; ++v) t.Put(LogKey(v), "{}");
  t.Put(LogKey(5, ".checkpoint.parquet"), "x");
  t.Put(LogKey(10, ".checkpoint.parquet"), "x");

  // Stale: points at 5 though 10 exists; listing from 5 still finds 10.
  t.Put("_delta_log/_last_checkpoint", R"({"version":5,"size":3})");
  ASSERT_OK_AND_ASSIGN(LogSegment stale, BuildLogSegment(t.store(), "t", std::nullopt));
  EXPECT_EQ(stale.checkpoint->version, 10);
  EXPECT_EQ(stale.commits.size(), 2u);

  // Names a checkpoint that does not exist: full listing.
  t.Put("_delta_log/_last_checkpoint", R"({"version":11,"size":3})");
  ASSERT_OK_AND_ASSIGN(LogSegment missing_cp, BuildLogSegment(t.store(), "t", std::nullopt));
  EXPECT_EQ(missing_cp.checkpoint->version, 10);

  // Corrupt and empty: full listing.
  for (const char* bad : {"{not json", ""}) {
    t.Put("_delta_log/_last_checkpoint", bad);
    ASSERT_OK_AND_ASSIGN(LogSegment s, BuildLogSegment(t.store(), "t", std::nullopt));
    EXPECT_EQ(s.checkpoint->version, 10) << bad;
  }

  // Time travel before the hinted checkpoint: the hint cannot be used.
  t.Put("_delta_log/_last_checkpoint", R"({"version":10})");
  ASSERT_OK_AND_ASSIGN(LogSegment at7, BuildLogSegment(t.store(), "t", 7));
  EXPECT_EQ(at7.checkpoint->version, 5);
  EXPECT_EQ(at7.commits.size(), 2u);

  // Hint past the end of the log (a table restored from an older copy): full listing.
  ASSERT_OK(t.store().Delete(LogKey(10, ".checkpoint.parquet")));
  t.Put("_delta_log/_last_checkpoint", R"({"version":40})");
  ASSERT_OK_AND_ASSIGN(LogSegment past, BuildLogSegment(t.store(), "t", std::nullopt));
  EXPECT_EQ(past.version, 12);
  EXPECT_EQ(past.checkpoint->version, 5);
}

}  // namespace
}  // namespace lake::delta

namespace lake::delta {
namespace {

TEST(ParseLastCheckpoint, SurvivesArbitraryBytes) {
  const std::string seed = R"({"version":10,"size":13,"parts":2,"sizeInBytes":1000})";
  uint64_t state = 42;
  for (int round = 0; round < 2000; ++round) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    std::string text = seed.substr(0, (state >> 33) % (seed.size() + 1));
    text += static_cast<char>(state >> 56);
    Result<LastCheckpointHint> r = ParseLastCheckpoint(text);
    if (r.ok()) {
      EXPECT_GE(r->version, 0);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
}

}  // namespace
}  // namespace lake::delta
