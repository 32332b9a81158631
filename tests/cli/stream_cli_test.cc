// End-to-end: streams through the `lake` binary -- CREATE STREAM via `lake
// sql`, then `lake stream start|status|stop` over a landing folder of JSON
// files into bronze: every row lands exactly once, a re-start adds nothing,
// SIGTERM (lake stream stop) ends a running processingTime stream cleanly.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kLake = std::string(LAKE_BINARY_DIR) + "/lake";

std::string ShellQuote(const std::string &s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ReadFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct LakeRun {
  int exit_code = -1;
  std::string out, err;
};

class StreamCliTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lake_stream_cli_XXXXXX";
    root_ = mkdtemp(tmpl);
    fs::create_directories(root_ / "landing");
  }
  void TearDown() override {
    if (!HasFailure())
      fs::remove_all(root_);
  }
  // Runs `lake --home <root>/home args...`.
  LakeRun Lake(const std::vector<std::string> &args) {
    std::string cmd = ShellQuote(kLake);
    for (const std::string &a : args)
      cmd += " " + ShellQuote(a);
    cmd += " --home " + ShellQuote((root_ / "home").string());
    cmd += " </dev/null 2>" + ShellQuote((root_ / "stderr").string());
    LakeRun r;
    FILE *pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr)
      return r;
    char buf[65536];
    for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;)
      r.out.append(buf, n);
    const int status = pclose(pipe);
    r.exit_code =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.err = ReadFile(root_ / "stderr");
    return r;
  }
  void Land(const std::string &name, const std::string &text) {
    const fs::path tmp = root_ / "landing" / ("." + name + ".tmp");
    std::ofstream(tmp, std::ios::binary) << text;
    fs::rename(tmp, root_ / "landing" / name);
  }
  // bronze's ids, sorted, joined by |.
  std::string BronzeIds() {
    LakeRun r = Lake({"sql", "--format", "csv",
                      "SELECT string_agg(CAST(id AS VARCHAR), '|' ORDER BY id) "
                      "AS ids FROM bronze"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  void CreateStream(const std::string &options) {
    ASSERT_EQ(
        Lake({"sql", "CREATE TABLE bronze (id BIGINT, v VARCHAR)"}).exit_code,
        0);
    LakeRun created = Lake(
        {"sql",
         "CREATE STREAM ingest " + options +
             " AS INSERT INTO bronze SELECT id, v FROM STREAM read_files('" +
             (root_ / "landing").string() + "', format => 'json')"});
    ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
    EXPECT_THAT(created.out, HasSubstr("ingest"));
  }

  fs::path root_;
};

TEST_F(StreamCliTest,
       AvailableNowIngestsEveryFileOnceAndStatusShowsTheBatches) {
  Land("a.json", "{\"id\":1,\"v\":\"x\"}\n{\"id\":2,\"v\":\"y\"}\n");
  Land("b.json", "{\"id\":3,\"v\":\"z\"}\n");
  CreateStream("OPTIONS (maxFilesPerTrigger = 1)");

  LakeRun start =
      Lake({"stream", "start", "ingest", "--trigger", "availableNow"});
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
  // One file per batch: a.json's 2 rows, then b.json's 1 (files in
  // modification-time order, a.json landed first).
  EXPECT_THAT(start.out, HasSubstr("batch 0: 2 input rows"));
  EXPECT_THAT(start.out, HasSubstr("batch 1: 1 input rows"));
  EXPECT_EQ(BronzeIds(), "ids\n1|2|3\n");

  // Nothing new: a re-start writes nothing; a new file lands once.
  ASSERT_EQ(Lake({"stream", "start", "ingest"}).exit_code, 0);
  EXPECT_EQ(BronzeIds(), "ids\n1|2|3\n");
  Land("c.json", "{\"id\":4,\"v\":\"w\"}\n");
  ASSERT_EQ(Lake({"stream", "start", "ingest", "--trigger", "once"}).exit_code,
            0);
  EXPECT_EQ(BronzeIds(), "ids\n1|2|3|4\n");

  LakeRun status = Lake({"stream", "status", "ingest", "--format", "jsonl"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  std::vector<nlohmann::json> rows;
  std::istringstream lines(status.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty())
      rows.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(rows.size(), 3u) << status.out;
  EXPECT_EQ(rows[0]["batch_id"], 0);
  EXPECT_EQ(rows[0]["input_rows"], 2);
  EXPECT_EQ(rows[2]["batch_id"], 2);
  EXPECT_EQ(rows[2]["input_rows"], 1);
  EXPECT_EQ(rows[2]["output_rows"], 1);

  LakeRun shown = Lake({"sql", "--format", "csv", "SHOW STREAMS"});
  EXPECT_THAT(shown.out, HasSubstr("ingest"));
  EXPECT_THAT(shown.out, HasSubstr("stopped"));
  EXPECT_EQ(Lake({"stream", "stop", "ingest"}).exit_code, 1); // not running
  ASSERT_EQ(Lake({"sql", "DROP STREAM ingest"}).exit_code, 0);
  EXPECT_EQ(Lake({"stream", "status", "ingest"}).exit_code, 3); // not found
}

TEST_F(StreamCliTest, StopSendsSigtermAndTheStreamFinishesCleanly) {
  Land("a.json", "{\"id\":1,\"v\":\"x\"}\n");
  CreateStream("OPTIONS (trigger = 'processingTime 0 seconds')");
  const fs::path out = root_ / "start.out";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string cmd = ShellQuote(kLake) + " stream start ingest --home " +
                            ShellQuote((root_ / "home").string()) +
                            " </dev/null >" + ShellQuote(out.string()) +
                            " 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(),
          static_cast<char *>(nullptr));
    _exit(127);
  }
  // Sync point: the running stream reports its first batch.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (ReadFile(out).find("batch 0:") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_THAT(ReadFile(out), HasSubstr("batch 0: 1 input rows"));
  EXPECT_THAT(Lake({"sql", "--format", "csv", "SHOW STREAMS"}).out,
              HasSubstr("running"));
  EXPECT_EQ(Lake({"stream", "start", "ingest"}).exit_code,
            1); // already running

  LakeRun stop = Lake({"stream", "stop", "ingest"});
  EXPECT_EQ(stop.exit_code, 0) << stop.out << stop.err;
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(out);
  EXPECT_THAT(ReadFile(out), HasSubstr("stopped on request"));
  EXPECT_FALSE(fs::exists(root_ / "home" / "streams" / "ingest" / "pid"));
  EXPECT_EQ(BronzeIds(), "ids\n1\n");
}

} // namespace
