// The checkpoint folder's files, byte for byte in Spark's formats, and its put-if-absent
// rules (src/streaming/checkpoint.h).
#include "streaming/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "status_matchers.h"
#include "storage/memory_store.h"

namespace lake::streaming {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<storage::ObjectStore> NewStore() {
  return std::make_unique<storage::MemoryStore>();
}

TEST(OffsetSeq, SerializesInSparksLayout) {
  OffsetSeq seq;
  seq.batch_watermark_ms = 0;
  seq.batch_timestamp_ms = 1700000000123;
  seq.offsets = {std::string(R"({"events":{"0":514,"1":395}})"), std::nullopt};
  EXPECT_EQ(SerializeOffsetSeq(seq),
            "v1\n"
            R"({"batchWatermarkMs":0,"batchTimestampMs":1700000000123,"conf":{}})"
            "\n"
            R"({"events":{"0":514,"1":395}})"
            "\n-");
}

TEST(OffsetSeq, ParsesAFileSparkWrote) {
  // As Spark 3.5 writes it for one Kafka source (conf abridged).
  const std::string text =
      "v1\n"
      R"({"batchWatermarkMs":0,"batchTimestampMs":1689000000000,"conf":{"spark.sql.shuffle.partitions":"200"}})"
      "\n"
      R"({"topic":{"0":12}})";
  ASSERT_OK_AND_ASSIGN(OffsetSeq seq, ParseOffsetSeq(text, "offsets/3"));
  EXPECT_EQ(seq.batch_timestamp_ms, 1689000000000);
  EXPECT_EQ(seq.conf.at("spark.sql.shuffle.partitions"), "200");
  ASSERT_EQ(seq.offsets.size(), 1u);
  EXPECT_EQ(*seq.offsets[0], R"({"topic":{"0":12}})");
}

TEST(OffsetSeq, RefusesOtherVersionsAndGarbage) {
  EXPECT_EQ(ParseOffsetSeq("v2\n{}\n{}", "offsets/0").status().code(), StatusCode::kNotSupported);
  EXPECT_EQ(ParseOffsetSeq("hello", "offsets/0").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseOffsetSeq("v1\n{not json", "offsets/0").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseOffsetSeq("", "offsets/0").status().code(), StatusCode::kCorruption);
}

TEST(CommitMetadata, SerializesInSparksLayout) {
  EXPECT_EQ(SerializeCommitMetadata(CommitMetadata{}), "v1\n{\"nextBatchWatermarkMs\":0}");
  ASSERT_OK_AND_ASSIGN(CommitMetadata c,
                       ParseCommitMetadata("v1\n{\"nextBatchWatermarkMs\":42}", "commits/1"));
  EXPECT_EQ(c.next_batch_watermark_ms, 42);
}

TEST(Checkpoint, MetadataHoldsOneQueryIdAcrossOpens) {
  auto store = std::make_unique<storage::MemoryStore>();
  storage::MemoryStore* raw = store.get();
  ASSERT_OK_AND_ASSIGN(auto first, Checkpoint::Open(std::move(store)));
  ASSERT_OK_AND_ASSIGN(std::string text, raw->Get("metadata"));
  nlohmann::json doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["id"], first->query_id());
  EXPECT_EQ(first->query_id().size(), 36u);  // a UUID
  EXPECT_EQ(doc.size(), 1u);
}

TEST(Checkpoint, ReopenKeepsTheQueryIdSparkWrote) {
  auto store = std::make_unique<storage::MemoryStore>();
  ASSERT_OK(store->Put("metadata", R"({"id":"5f2a1c3e-0000-4000-8000-000000000001"})"));
  ASSERT_OK_AND_ASSIGN(auto checkpoint, Checkpoint::Open(std::move(store)));
  EXPECT_EQ(checkpoint->query_id(), "5f2a1c3e-0000-4000-8000-000000000001");
}

TEST(Checkpoint, LatestBatchIsNumericNotLexical) {
  ASSERT_OK_AND_ASSIGN(auto checkpoint, Checkpoint::Open(NewStore()));
  ASSERT_OK_AND_ASSIGN(auto none, checkpoint->LatestOffsetsBatch());
  EXPECT_FALSE(none.has_value());
  OffsetSeq seq;
  seq.offsets = {std::string("{}")};
  for (BatchId b : {0, 1, 2, 10}) ASSERT_OK(checkpoint->WriteOffsets(b, seq));
  ASSERT_OK(checkpoint->store().Put("offsets/.11.tmp", "junk"));  // not a batch
  ASSERT_OK_AND_ASSIGN(auto latest, checkpoint->LatestOffsetsBatch());
  EXPECT_EQ(latest, 10);  // "2" sorts after "10" as bytes
  ASSERT_OK(checkpoint->WriteCommit(2, CommitMetadata{}));
  ASSERT_OK_AND_ASSIGN(auto committed, checkpoint->LatestCommittedBatch());
  EXPECT_EQ(committed, 2);
  ASSERT_OK_AND_ASSIGN(bool has2, checkpoint->HasCommit(2));
  ASSERT_OK_AND_ASSIGN(bool has10, checkpoint->HasCommit(10));
  EXPECT_TRUE(has2);
  EXPECT_FALSE(has10);
}

TEST(Checkpoint, SecondWriterOfABatchFailsWithConflict) {
  ASSERT_OK_AND_ASSIGN(auto checkpoint, Checkpoint::Open(NewStore()));
  OffsetSeq seq;
  seq.offsets = {std::string(R"({"n":1})")};
  ASSERT_OK(checkpoint->WriteOffsets(0, seq));
  seq.offsets = {std::string(R"({"n":2})")};
  Status again = checkpoint->WriteOffsets(0, seq);
  EXPECT_EQ(again.code(), StatusCode::kConflict);
  EXPECT_THAT(again.message(), HasSubstr("offsets/0"));
  EXPECT_THAT(again.hint(), HasSubstr("same checkpoint"));
  // The first writer's offsets stand.
  ASSERT_OK_AND_ASSIGN(OffsetSeq read, checkpoint->ReadOffsets(0));
  EXPECT_EQ(*read.offsets[0], R"({"n":1})");
  ASSERT_OK(checkpoint->WriteCommit(0, CommitMetadata{}));
  EXPECT_EQ(checkpoint->WriteCommit(0, CommitMetadata{}).code(), StatusCode::kConflict);
}

TEST(Checkpoint, ProgressRoundTrips) {
  ASSERT_OK_AND_ASSIGN(auto checkpoint, Checkpoint::Open(NewStore()));
  BatchProgress p;
  p.query_id = checkpoint->query_id();
  p.batch_id = 3;
  p.num_input_rows = 7;
  p.duration_ms = 20;
  p.sources.push_back(SourceProgress{"S", std::string(R"({"n":3})"), R"({"n":10})", 7});
  p.sink_description = "K";
  p.num_output_rows = 7;
  ASSERT_OK(checkpoint->WriteProgress(p));
  ASSERT_OK_AND_ASSIGN(auto all, checkpoint->ReadProgress());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].batch_id, 3);
  EXPECT_EQ(all[0].num_input_rows, 7);
  EXPECT_EQ(all[0].duration_ms, 20);
  ASSERT_EQ(all[0].sources.size(), 1u);
  EXPECT_EQ(*all[0].sources[0].start_offset, R"({"n":3})");
  EXPECT_EQ(all[0].sources[0].end_offset, R"({"n":10})");
  EXPECT_EQ(all[0].num_output_rows, 7);
}

}  // namespace
}  // namespace lake::streaming
