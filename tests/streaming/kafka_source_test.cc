// The Kafka source (src/streaming/kafka_source.h) against librdkafka's in-process mock
// cluster (the real Kafka protocol): every record exactly once into a Delta sink, restarts
// from the checkpoint, startingOffsets, maxOffsetsPerTrigger, failOnDataLoss both ways,
// subscribePattern with topics appearing later.
#include "streaming/kafka_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kafka_test_util.h"
#include "stream_test_util.h"
#include "streaming/delta_sink.h"

namespace lake::streaming {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::StreamTest;

using Record = testing::KafkaRecord;

class KafkaSourceTest : public StreamTest {
 protected:
  void SetUp() override {
    StreamTest::SetUp();
    kafka_.Start();
  }
  void CreateTopic(const std::string& topic, int partitions) {
    kafka_.CreateTopic(topic, partitions);
  }
  void Produce(const std::string& topic, int32_t partition, const Record& record) {
    kafka_.Produce(topic, partition, record);
  }
  void ProduceRange(const std::string& topic, std::vector<int32_t> partitions, int from, int to) {
    kafka_.ProduceRange(topic, partitions, from, to);
  }
  std::pair<int64_t, int64_t> Watermarks(const std::string& topic, int32_t partition) {
    return kafka_.Watermarks(topic, partition);
  }

  KafkaSourceOptions Options(std::vector<std::string> topics) {
    KafkaSourceOptions options;
    options.bootstrap_servers = kafka_.bootstrap();
    options.topics = std::move(topics);
    options.starting_offsets = "earliest";
    return options;
  }
  Result<RunResult> Stream(const KafkaSourceOptions& source, const std::string& checkpoint = "ckpt",
                           const std::string& out = "out",
                           std::vector<std::string>* warnings = nullptr) {
    DeltaSinkOptions sink;
    sink.path = Path(out);
    QueryOptions options;
    options.checkpoint_location = Path(checkpoint);
    options.trigger.kind = Trigger::Kind::kAvailableNow;
    auto kafka = std::make_unique<KafkaSource>(source);
    KafkaSource* raw = kafka.get();
    LAKE_ASSIGN_OR_RETURN(
        auto query,
        StreamingQuery::Open(db(), std::move(kafka), std::make_unique<DeltaSink>(sink), options));
    Result<RunResult> result = query->Run();
    if (warnings != nullptr) *warnings = raw->warnings();
    return result;
  }
  // "topic|partition|offset|key|value" per row of the output table, sorted.
  std::vector<std::string> OutRows(const std::string& out = "out") {
    return Rows(
        StrCat("SELECT topic, CAST(\"partition\" AS VARCHAR), CAST(\"offset\" AS VARCHAR), "
               "CAST(key AS VARCHAR), CAST(value AS VARCHAR) FROM delta_scan(",
               SqlQuote(Path(out)), ")"));
  }
  int64_t OutCount(const std::string& out = "out") {
    auto rows =
        Rows(StrCat("SELECT CAST(count(*) AS VARCHAR) FROM delta_scan(", SqlQuote(Path(out)), ")"));
    return rows.size() == 1 ? std::stoll(rows[0]) : -1;
  }
  // The rows ProduceRange(topic, partitions, from, to) wrote, as OutRows renders them.
  static std::vector<std::string> Expected(const std::string& topic,
                                           std::vector<int32_t> partitions, int from, int to) {
    std::vector<std::string> out;
    for (int32_t p : partitions) {
      for (int i = from; i < to; ++i) {
        out.push_back(StrCat(topic, "|", p, "|", i, "|k", p, "-", i, "|v", p, "-", i));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::MockKafka kafka_;
};

TEST(KafkaOffsetsTest, SerializesLikeSparkAndRejectsOtherJson) {
  KafkaPartitionOffsets offsets{{"events", {{10, 5}, {2, 7}}}, {"a", {{0, 0}}}};
  EXPECT_EQ(SerializeKafkaOffsets(offsets), R"({"a":{"0":0},"events":{"2":7,"10":5}})");
  ASSERT_OK_AND_ASSIGN(auto parsed, ParseKafkaOffsets(R"({"events":{"2":7,"10":5},"a":{"0":0}})"));
  EXPECT_EQ(parsed, offsets);
  EXPECT_EQ(ParseKafkaOffsets(R"({"logOffset":3})").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseKafkaOffsets(R"({"t":{"x":3}})").status().code(), StatusCode::kCorruption);
}

TEST_F(KafkaSourceTest, EveryRecordExactlyOnceAndRestartContinuesFromTheCheckpoint) {
  CreateTopic("events", 3);
  ProduceRange("events", {0, 1, 2}, 0, 10);
  ASSERT_OK_AND_ASSIGN(RunResult first, Stream(Options({"events"})));
  ASSERT_EQ(first.batches.size(), 1u);
  EXPECT_EQ(first.batches[0].num_input_rows, 30);
  EXPECT_EQ(first.batches[0].sources[0].end_offset, R"({"events":{"0":10,"1":10,"2":10}})");
  EXPECT_EQ(OutRows(), Expected("events", {0, 1, 2}, 0, 10));

  // Nothing new: no batch, nothing written.
  ASSERT_OK_AND_ASSIGN(RunResult idle, Stream(Options({"events"})));
  EXPECT_TRUE(idle.batches.empty());

  ProduceRange("events", {0, 1, 2}, 10, 15);
  ASSERT_OK_AND_ASSIGN(RunResult second, Stream(Options({"events"})));
  ASSERT_EQ(second.batches.size(), 1u);
  EXPECT_EQ(second.batches[0].num_input_rows, 15);
  EXPECT_EQ(second.batches[0].sources[0].start_offset.value_or(""),
            R"({"events":{"0":10,"1":10,"2":10}})");
  EXPECT_EQ(OutRows(), Expected("events", {0, 1, 2}, 0, 15));
}

TEST_F(KafkaSourceTest, ColumnsAreSparksWithHeadersAndTimestamps) {
  CreateTopic("t", 1);
  Produce("t", 0, Record{"a", "x", {{"h1", "one"}, {"h2", "two"}}, 1700000000123});
  Produce("t", 0, Record{"b", "y", {}, 1700000000456});
  ASSERT_OK_AND_ASSIGN(RunResult run, Stream(Options({"t"})));
  ASSERT_EQ(run.batches.size(), 1u);
  EXPECT_THAT(Rows(StrCat("SELECT CAST(key AS VARCHAR), CAST(epoch_ms(\"timestamp\") AS VARCHAR), "
                          "CAST(\"timestampType\" AS VARCHAR), CAST(len(headers) AS VARCHAR), "
                          "CAST(headers[1].key AS VARCHAR), CAST(headers[2].value AS VARCHAR) "
                          "FROM delta_scan(",
                          SqlQuote(Path("out")), ")")),
              ElementsAre("a|1700000000123|0|2|h1|two", "b|1700000000456|0|NULL|NULL|NULL"));
  EXPECT_THAT(Rows(StrCat("SELECT column_name || ':' || column_type FROM (DESCRIBE SELECT * FROM "
                          "delta_scan(",
                          SqlQuote(Path("out")), "))")),
              ::testing::UnorderedElementsAre(
                  "key:BLOB", "value:BLOB", "topic:VARCHAR", "partition:INTEGER", "offset:BIGINT",
                  HasSubstr("timestamp:TIMESTAMP"), "timestampType:INTEGER",
                  "headers:STRUCT(\"key\" VARCHAR, \"value\" BLOB)[]"));
}

TEST_F(KafkaSourceTest, StartingOffsetsLatestReadsOnlyNewRecords) {
  CreateTopic("t", 2);
  ProduceRange("t", {0, 1}, 0, 4);
  KafkaSourceOptions options = Options({"t"});
  options.starting_offsets = "latest";
  ASSERT_OK_AND_ASSIGN(RunResult first, Stream(options));
  EXPECT_TRUE(first.batches.empty());
  ProduceRange("t", {0, 1}, 4, 6);
  ASSERT_OK_AND_ASSIGN(RunResult second, Stream(options));
  ASSERT_EQ(second.batches.size(), 1u);
  EXPECT_EQ(OutRows(), Expected("t", {0, 1}, 4, 6));
}

TEST_F(KafkaSourceTest, StartingOffsetsJsonPerPartition) {
  CreateTopic("t", 2);
  ProduceRange("t", {0, 1}, 0, 4);
  KafkaSourceOptions options = Options({"t"});
  options.starting_offsets = R"({"t":{"0":1,"1":-2}})";
  ASSERT_OK_AND_ASSIGN(RunResult run, Stream(options));
  std::vector<std::string> expected = Expected("t", {0}, 1, 4);
  for (const std::string& row : Expected("t", {1}, 0, 4)) expected.push_back(row);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(OutRows(), expected);

  options.starting_offsets = R"({"t":{"0":-1}})";  // partition 1 not named
  Result<RunResult> missing = Stream(options, "ckpt2", "out2");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().ToString(), HasSubstr("t-1"));
}

TEST_F(KafkaSourceTest, MaxOffsetsPerTriggerSplitsByLag) {
  CreateTopic("t", 2);
  ProduceRange("t", {0}, 0, 6);
  ProduceRange("t", {1}, 0, 2);
  KafkaSourceOptions options = Options({"t"});
  options.max_offsets_per_trigger = 4;
  ASSERT_OK_AND_ASSIGN(RunResult run, Stream(options));
  // Lags 6 and 2 of 8: shares 4*6/8 = 3 and 4*2/8 = 1; then 3 and 1 again.
  ASSERT_EQ(run.batches.size(), 2u);
  EXPECT_EQ(run.batches[0].sources[0].end_offset, R"({"t":{"0":3,"1":1}})");
  EXPECT_EQ(run.batches[1].sources[0].end_offset, R"({"t":{"0":6,"1":2}})");
  EXPECT_EQ(run.batches[0].num_input_rows, 4);
  EXPECT_EQ(run.batches[1].num_input_rows, 4);
  std::vector<std::string> expected = Expected("t", {0}, 0, 6);
  for (const std::string& row : Expected("t", {1}, 0, 2)) expected.push_back(row);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(OutRows(), expected);
}

TEST_F(KafkaSourceTest, FailOnDataLossWhenRetentionDroppedNeededOffsets) {
  CreateTopic("t", 1);
  ProduceRange("t", {0}, 0, 2);
  KafkaSourceOptions strict = Options({"t"});
  KafkaSourceOptions lenient = Options({"t"});
  lenient.fail_on_data_loss = false;
  ASSERT_OK(Stream(strict, "strict", "out_strict").status());
  ASSERT_OK(Stream(lenient, "lenient", "out_lenient").status());
  ASSERT_EQ(OutCount("out_strict"), 2);

  // The mock keeps at most 5 MiB per partition: 10 records of 600 kB push out the oldest.
  for (int i = 0; i < 10; ++i) Produce("t", 0, Record{"big", std::string(600000, 'x'), {}, 0});
  auto [low, high] = Watermarks("t", 0);
  ASSERT_GT(low, 2) << "precondition: the mock trimmed offsets 2.. the streams still need";
  ASSERT_EQ(high, 12);

  Result<RunResult> failed = Stream(strict, "strict", "out_strict");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(failed.status().ToString(),
              HasSubstr(StrCat("needs offsets [2, 12) of t-0 but the broker keeps only offsets "
                               "from ",
                               low)));
  EXPECT_EQ(OutCount("out_strict"), 2);

  std::vector<std::string> warnings;
  ASSERT_OK_AND_ASSIGN(RunResult skipped, Stream(lenient, "lenient", "out_lenient", &warnings));
  ASSERT_EQ(skipped.batches.size(), 1u);
  EXPECT_EQ(skipped.batches[0].num_input_rows, high - low);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr(StrCat("[2, ", low, ") were deleted")));
  EXPECT_EQ(OutCount("out_lenient"), 2 + high - low);
  EXPECT_EQ(Rows(StrCat("SELECT CAST(min(\"offset\") AS VARCHAR) FROM delta_scan(",
                        SqlQuote(Path("out_lenient")), ") WHERE key = 'big'::BLOB")),
            std::vector<std::string>{std::to_string(low)});
}

TEST_F(KafkaSourceTest, SubscribePatternReadsMatchingTopicsAndNewOnesFromTheStart) {
  CreateTopic("ev-a", 1);
  CreateTopic("ev-b", 2);
  CreateTopic("other", 1);
  ProduceRange("ev-a", {0}, 0, 2);
  ProduceRange("ev-b", {0, 1}, 0, 1);
  ProduceRange("other", {0}, 0, 3);
  KafkaSourceOptions options = Options({});
  options.pattern = "ev-.*";
  ASSERT_OK_AND_ASSIGN(RunResult first, Stream(options));
  std::vector<std::string> expected = Expected("ev-a", {0}, 0, 2);
  for (const std::string& row : Expected("ev-b", {0, 1}, 0, 1)) expected.push_back(row);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(OutRows(), expected);

  CreateTopic("ev-c", 1);
  ProduceRange("ev-c", {0}, 0, 3);
  ASSERT_OK_AND_ASSIGN(RunResult second, Stream(options));
  ASSERT_EQ(second.batches.size(), 1u);
  EXPECT_EQ(second.batches[0].num_input_rows, 3);
  for (const std::string& row : Expected("ev-c", {0}, 0, 3)) expected.push_back(row);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(OutRows(), expected);
}

TEST_F(KafkaSourceTest, RefusesAmbiguousSubscriptions) {
  KafkaSourceOptions both = Options({"t"});
  both.pattern = "t.*";
  Result<RunResult> r = Stream(both);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  KafkaSourceOptions bad_start = Options({"t"});
  bad_start.starting_offsets = "yesterday";
  r = Stream(bad_start, "ckpt2");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().ToString(), HasSubstr("startingOffsets 'yesterday'"));
}

}  // namespace
}  // namespace lake::streaming
