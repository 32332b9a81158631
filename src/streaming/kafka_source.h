// The Kafka source (Spark's KafkaMicroBatchStream), over librdkafka's C API.
//
// Offsets are Spark's KafkaSourceOffset JSON, {"topic":{"0":123,"1":45}}: per partition the
// offset of the next record to read. A batch reads [start, end) of every partition, where
// `start` is the previous batch's end and `end` is fixed by LatestOffset (the high
// watermark, capped by maxOffsetsPerTrigger) before the query writes offsets/<N>.
//  (1) Consumption uses assign() with explicit offsets; no consumer group, no offset
//      commits: the checkpoint alone says what was read, so a replayed batch reads the same
//      records (source.h contract 2) as long as the broker still holds them.
//  (2) The starting position of a new checkpoint (startingOffsets: earliest, latest, or
//      {"topic":{"0":23,"1":-2}} with -2 earliest and -1 latest, as Spark) is resolved once
//      and kept in sources/<i>/initial, so a crash before the first commit replays it.
//  (3) Partitions that appear later (a topic grows, or a new topic matches the pattern) are
//      read from offset 0 (Spark: "new partitions are read from earliest").
//  (4) Data loss: a start offset below the partition's low watermark (retention deleted
//      records the stream still needed) or above its high watermark (the topic was
//      recreated) fails the batch naming topic/partition/offsets when failOnDataLoss (the
//      default); otherwise the batch reads from the low watermark and warnings() says so.
//  (5) maxOffsetsPerTrigger spreads the limit over partitions in proportion to their lag
//      (Spark's KafkaMicroBatchStream.rateLimit: floor of the share, ceil when below 1).
//
// Rows have Spark's Kafka columns: key BLOB, value BLOB, topic VARCHAR, partition INTEGER,
// offset BIGINT, timestamp TIMESTAMPTZ (Spark's TimestampType, an instant; Delta
// `timestamp`), timestampType INTEGER (0 CreateTime, 1 LogAppendTime, -1 none), headers
// STRUCT(key VARCHAR, value BLOB)[] (Spark's includeHeaders layout; always present).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streaming/source.h"

namespace lake::streaming {

// topic -> partition -> offset (Spark's KafkaSourceOffset, partitionToOffsets).
using KafkaPartitionOffsets = std::map<std::string, std::map<int32_t, int64_t>>;

// {"topic":{"0":123}} with partitions in numeric order.
std::string SerializeKafkaOffsets(const KafkaPartitionOffsets& offsets);
// kCorruption when `json` is not a KafkaSourceOffset (naming it, with a hint).
Result<KafkaPartitionOffsets> ParseKafkaOffsets(std::string_view json);

struct KafkaSourceOptions {
  std::string bootstrap_servers;  // kafka.bootstrap.servers
  // Exactly one of `topics` (Spark's subscribe) and `pattern` (subscribePattern: an
  // ECMAScript regex that must match a whole topic name; topics starting with "__",
  // Kafka's internal ones, never match).
  std::vector<std::string> topics;
  std::string pattern;
  // "earliest", "latest" (default) or per-partition JSON; only for a new checkpoint.
  std::string starting_offsets = "latest";
  std::optional<int64_t> max_offsets_per_trigger;
  bool fail_on_data_loss = true;
  // Extra librdkafka settings (Spark's "kafka." options without the prefix).
  std::vector<std::pair<std::string, std::string>> kafka_config;
  // How long a metadata, watermark or fetch request may take before the batch fails.
  int64_t timeout_ms = 30000;
};

class KafkaSource : public Source {
 public:
  explicit KafkaSource(KafkaSourceOptions options);
  ~KafkaSource() override;
  std::string description() const override;
  Status Open(const SourceContext& context) override;
  ReadLimit DefaultReadLimit() const override;
  Status PrepareForAvailableNow() override;
  Result<std::optional<std::string>> LatestOffset(const std::optional<std::string>& start,
                                                  const ReadLimit& limit, BatchId batch) override;
  Result<int64_t> GetBatch(engine::Session& session, const std::optional<std::string>& start,
                           const std::string& end, BatchId batch, std::string_view table) override;

  // Messages about data skipped under failOnDataLoss=false, oldest first (also on stderr).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Client;  // the librdkafka handle

  // The partitions the options select, now (metadata request).
  Result<std::vector<std::pair<std::string, int32_t>>> Partitions();
  Result<std::pair<int64_t, int64_t>> Watermarks(const std::string& topic, int32_t partition);
  // Current high watermarks of every selected partition.
  Result<KafkaPartitionOffsets> LatestPositions();
  Result<KafkaPartitionOffsets> InitialOffsets();
  Result<KafkaPartitionOffsets> StartOffsets(const std::optional<std::string>& start);
  // A data-loss event: an error when failOnDataLoss, else a warning (note 4).
  Status DataLoss(const std::string& message);

  KafkaSourceOptions options_;
  SourceContext context_;
  std::unique_ptr<Client> client_;
  std::optional<KafkaPartitionOffsets> available_now_cap_;
  std::vector<std::string> warnings_;
};

}  // namespace lake::streaming
