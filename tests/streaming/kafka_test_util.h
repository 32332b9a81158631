// librdkafka's in-process mock cluster (the real Kafka protocol on a loopback port) and a
// producer for it, for the Kafka source tests. The cluster lives as long as the object; a
// child process reaches it through bootstrap().
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"

namespace lake::streaming::testing {

struct KafkaRecord {
  std::string key, value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp_ms = 0;  // 0: the producer's clock
};

class MockKafka {
 public:
  // Call from a test body or SetUp (uses ASSERT).
  void Start() {
    char error[512];
    // The mock cluster hangs off a handle of its own; tests talk to it over the network.
    // (It never connects anywhere, so its "no bootstrap.servers" notice is silenced.)
    rd_kafka_conf_t* mock_conf = rd_kafka_conf_new();
    ASSERT_EQ(rd_kafka_conf_set(mock_conf, "log_level", "3", error, sizeof(error)),
              RD_KAFKA_CONF_OK);
    mock_handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, mock_conf, error, sizeof(error));
    ASSERT_NE(mock_handle_, nullptr) << error;
    cluster_ = rd_kafka_mock_cluster_new(mock_handle_, 1);
    ASSERT_NE(cluster_, nullptr);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);

    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // Idempotence keeps a partition's records in produce order, so offsets are known.
    for (const auto& [k, v] :
         std::vector<std::pair<std::string, std::string>>{{"bootstrap.servers", bootstrap_},
                                                          {"enable.idempotence", "true"},
                                                          {"linger.ms", "0"}}) {
      ASSERT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), error, sizeof(error)),
                RD_KAFKA_CONF_OK)
          << error;
    }
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    ASSERT_NE(producer_, nullptr) << error;
  }
  ~MockKafka() {
    if (producer_ != nullptr) rd_kafka_destroy(producer_);
    if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
    if (mock_handle_ != nullptr) rd_kafka_destroy(mock_handle_);
  }

  const std::string& bootstrap() const { return bootstrap_; }

  void CreateTopic(const std::string& topic, int partitions) {
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  // Produces `record` to topic/partition and waits until the broker has it.
  void Produce(const std::string& topic, int32_t partition, const KafkaRecord& record) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
    for (const auto& [k, v] : record.headers) {
      rd_kafka_header_add(headers, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                          static_cast<ssize_t>(v.size()));
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_TIMESTAMP(record.timestamp_ms),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(headers);
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
    ASSERT_EQ(rd_kafka_flush(producer_, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  // Produces "k<p>-<i>" / "v<p>-<i>" for i in [from, to) to every partition in `partitions`.
  void ProduceRange(const std::string& topic, const std::vector<int32_t>& partitions, int from,
                    int to) {
    for (int32_t p : partitions) {
      for (int i = from; i < to; ++i) {
        Produce(topic, p, KafkaRecord{StrCat("k", p, "-", i), StrCat("v", p, "-", i), {}, 0});
      }
    }
  }
  std::pair<int64_t, int64_t> Watermarks(const std::string& topic, int32_t partition) {
    int64_t low = -1, high = -1;
    EXPECT_EQ(
        rd_kafka_query_watermark_offsets(producer_, topic.c_str(), partition, &low, &high, 30000),
        RD_KAFKA_RESP_ERR_NO_ERROR);
    return {low, high};
  }

 private:
  rd_kafka_t* mock_handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstrap_;
};

}  // namespace lake::streaming::testing
