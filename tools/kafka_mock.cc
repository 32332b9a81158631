// lake_kafka_mock: librdkafka's mock cluster (the real Kafka protocol on loopback ports) as a
// process, for end-to-end tests and benchmarks of `read_kafka` streams without a Kafka install.
//
//   lake_kafka_mock serve [--brokers N] [--topic NAME[:PARTITIONS]]...
//                         [--produce TOPIC [--input FILE|-] [--count N] [--start K]]
//     Starts a cluster, creates the topics, optionally produces messages (one per input line,
//     or N generated `{"id":<i>}` values), then prints the bootstrap servers as the first line
//     of stdout -- so a reader of that line knows every message is on the broker -- and runs
//     until SIGTERM or SIGINT. Topics not created up front are auto-created by the mock with
//     its default partition count on first use.
//
//   lake_kafka_mock produce --bootstrap-servers HOST:PORT --topic T [--partition P]
//                           [--input FILE|-] [--count N] [--start K]
//     Produces to a running cluster (this one or any Kafka), waits until every message is
//     acknowledged, prints "produced <n>" and exits. Messages have no key; a given partition
//     pins them there, else librdkafka's partitioner spreads them.
//
// Exit codes: 0 done, 1 a Kafka error, 2 bad usage.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

struct ProduceArgs {
  std::string topic;
  int32_t partition = RD_KAFKA_PARTITION_UA;
  std::string input;  // a file, "-" for stdin; empty with count set: generated values
  int64_t count = -1;
  int64_t start = 0;
};

// Produces the messages of `args` through `producer` and waits for every acknowledgement.
// Returns the number produced, or nullopt after printing the error.
std::optional<int64_t> Produce(rd_kafka_t* producer, const ProduceArgs& args) {
  rd_kafka_topic_t* topic = rd_kafka_topic_new(producer, args.topic.c_str(), nullptr);
  if (topic == nullptr) {
    std::cerr << "lake_kafka_mock: topic " << args.topic << ": "
              << rd_kafka_err2str(rd_kafka_last_error()) << "\n";
    return std::nullopt;
  }
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> topic_guard(
      topic, rd_kafka_topic_destroy);
  int64_t produced = 0;
  auto send = [&](const std::string& value) -> bool {
    for (;;) {
      if (rd_kafka_produce(topic, args.partition, RD_KAFKA_MSG_F_COPY,
                           const_cast<char*>(value.data()), value.size(), nullptr, 0,
                           nullptr) == 0) {
        ++produced;
        rd_kafka_poll(producer, 0);
        return true;
      }
      // A full local queue is back-pressure, not an error: serve delivery reports and retry.
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::cerr << "lake_kafka_mock: produce to " << args.topic << ": "
                  << rd_kafka_err2str(rd_kafka_last_error()) << "\n";
        return false;
      }
      rd_kafka_poll(producer, 100);
    }
  };
  if (!args.input.empty()) {
    std::ifstream file;
    if (args.input != "-") {
      file.open(args.input, std::ios::binary);
      if (!file) {
        std::cerr << "lake_kafka_mock: cannot read " << args.input << "\n";
        return std::nullopt;
      }
    }
    std::istream& in = args.input == "-" ? std::cin : file;
    for (std::string line; (args.count < 0 || produced < args.count) && std::getline(in, line);) {
      if (!send(line)) return std::nullopt;
    }
  } else {
    for (int64_t i = 0; i < args.count; ++i) {
      if (!send("{\"id\":" + std::to_string(args.start + i) + "}")) return std::nullopt;
    }
  }
  rd_kafka_resp_err_t err = rd_kafka_flush(producer, 60000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::cerr << "lake_kafka_mock: flush: " << rd_kafka_err2str(err) << "\n";
    return std::nullopt;
  }
  return produced;
}

// Delivery reports: a message the broker refused fails the run (the caller's count would lie).
bool g_delivery_failed = false;
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (!g_delivery_failed) {
      std::cerr << "lake_kafka_mock: delivery failed: " << rd_kafka_err2str(message->err) << "\n";
    }
    g_delivery_failed = true;
  }
}

rd_kafka_t* NewProducer(const std::string& bootstrap) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // Idempotence keeps each partition's messages in produce order, so offsets follow lines.
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"bootstrap.servers", bootstrap},
           {"enable.idempotence", "true"},
           {"linger.ms", "5"},
           {"queue.buffering.max.messages", "1000000"}}) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
      std::cerr << "lake_kafka_mock: " << k << ": " << error << "\n";
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (rk == nullptr) std::cerr << "lake_kafka_mock: producer: " << error << "\n";
  return rk;
}

int Serve(int brokers, const std::vector<std::string>& topics, const ProduceArgs& produce) {
  // Block the stop signals before librdkafka starts its threads (they inherit the mask), so
  // sigwait below is the only receiver.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof(error));  // it connects nowhere
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) {
    std::cerr << "lake_kafka_mock: " << error << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(handle, brokers);
  if (cluster == nullptr) {
    std::cerr << "lake_kafka_mock: cannot start a mock cluster of " << brokers << " broker(s)\n";
    rd_kafka_destroy(handle);
    return 1;
  }
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  int code = 0;
  for (const std::string& spec : topics) {
    const size_t colon = spec.rfind(':');
    std::string name = spec.substr(0, colon);
    int partitions = 1;
    if (colon != std::string::npos) {
      try {
        partitions = std::stoi(spec.substr(colon + 1));
      } catch (const std::exception&) {
        partitions = 0;
      }
    }
    if (name.empty() || partitions <= 0) {
      std::cerr << "lake_kafka_mock: --topic " << spec << ": expected NAME[:PARTITIONS]\n";
      code = 2;
      break;
    }
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, std::min(brokers, 3));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cerr << "lake_kafka_mock: create topic " << name << ": " << rd_kafka_err2str(err)
                << "\n";
      code = 1;
      break;
    }
  }
  if (code == 0 && !produce.topic.empty()) {
    rd_kafka_t* producer = NewProducer(bootstrap);
    std::optional<int64_t> n = producer == nullptr ? std::nullopt : Produce(producer, produce);
    if (producer != nullptr) rd_kafka_destroy(producer);
    if (!n || g_delivery_failed) code = 1;
  }
  if (code == 0) {
    std::cout << bootstrap << std::endl;  // the ready line: every message is on the broker
    int signal = 0;
    sigwait(&stop, &signal);
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(handle);
  return code;
}

void AddProduceOptions(CLI::App& app, ProduceArgs& args) {
  app.add_option("--input", args.input, "Produce one message per line of FILE ('-': stdin)")
      ->option_text("FILE");
  app.add_option("--count", args.count,
                 "Produce N messages: the first N lines of --input, else generated "
                 "{\"id\":<i>} values")
      ->option_text("N");
  app.add_option("--start", args.start, "First generated id (default 0)")->option_text("K");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"librdkafka's mock Kafka cluster as a process, for tests of read_kafka streams"};
  app.require_subcommand(1);

  int brokers = 1;
  std::vector<std::string> topics;
  ProduceArgs serve_produce;
  CLI::App* serve = app.add_subcommand(
      "serve", "Start a mock cluster, print its bootstrap servers, run until SIGTERM");
  serve->add_option("--brokers", brokers, "Number of brokers (default 1)")
      ->check(CLI::Range(1, 16));
  serve->add_option("--topic", topics, "Create a topic: NAME[:PARTITIONS] (repeatable)")
      ->option_text("NAME[:P]");
  serve->add_option("--produce", serve_produce.topic,
                    "Before the ready line, produce the messages to this topic")
      ->option_text("TOPIC");
  AddProduceOptions(*serve, serve_produce);
  serve->footer(
      "\nExample:\n  lake_kafka_mock serve --topic events:3 --produce events --count 1000\n");

  std::string bootstrap;
  ProduceArgs produce;
  CLI::App* send = app.add_subcommand(
      "produce", "Produce messages to a running cluster, wait for the acks, exit");
  send->add_option("--bootstrap-servers", bootstrap, "host:port[,host:port...]")->required();
  send->add_option("--topic", produce.topic, "Topic")->required();
  send->add_option("--partition", produce.partition, "Partition (default: the partitioner's)");
  AddProduceOptions(*send, produce);
  send->footer(
      "\nExample:\n  seq 10 | lake_kafka_mock produce --bootstrap-servers 127.0.0.1:9092 "
      "--topic events --input -\n");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (ProduceArgs* args : {&serve_produce, &produce}) {
    if (args->input.empty() && args->count < 0) args->count = 0;
    if ((serve->parsed() && args == &serve_produce && !args->topic.empty()) ||
        (send->parsed() && args == &produce)) {
      if (args->input.empty() && args->count == 0) {
        std::cerr << "lake_kafka_mock: give --input FILE|- or --count N\n";
        return 2;
      }
    }
  }
  if (serve->parsed()) return Serve(brokers, topics, serve_produce);

  rd_kafka_t* producer = NewProducer(bootstrap);
  if (producer == nullptr) return 1;
  std::optional<int64_t> n = Produce(producer, produce);
  rd_kafka_destroy(producer);
  if (!n || g_delivery_failed) return 1;
  std::cout << "produced " << *n << std::endl;
  return 0;
}
