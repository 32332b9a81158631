// End-to-end: runs the built `lake` binary the way a user or a script does and checks its
// stdout, stderr and exit code. Expected rows come from ../shared/conformance/manifest.json
// (written by other engines' readers), converted where the encodings differ on purpose
// (binary: manifest hex, lake base64; maps: manifest sorts pairs by key).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kLake = std::string(LAKE_BINARY_DIR) + "/lake";
const std::string kCorpus = LAKE_CONFORMANCE_DIR;

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/lake_cli_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs lake with `args`; stdin is `input` (empty: /dev/null, so never a terminal).
RunResult RunLake(const std::vector<std::string>& args, const std::string& input = "",
                  const std::string& env = "") {
  TempDir dir;
  std::string in_path = dir.path() + "/stdin", err_path = dir.path() + "/stderr";
  std::ofstream(in_path, std::ios::binary) << input;
  std::string cmd = env + " " + ShellQuote(kLake);
  for (const std::string& a : args) cmd += " " + ShellQuote(a);
  cmd += " <" + ShellQuote(in_path) + " 2>" + ShellQuote(err_path);
  RunResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = ReadFile(err_path);
  return r;
}

std::vector<json> ParseLines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// --- manifest comparison ---------------------------------------------------------------

std::string Base64ToHex(const std::string& b64) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    int v = val(c);
    if (v < 0) break;  // '=' padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

// Splits "a:int,b:map<int,string>" at top-level commas.
std::vector<std::string> SplitTopLevel(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '<' || c == '(') ++depth;
    if (c == '>' || c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Rewrites one lake jsonl value into the manifest's canonical encoding for Delta type
// `type` (the manifest's type string: "binary", "array<...>", "map<k,v>", "struct<...>").
json Canonical(const json& v, const std::string& type) {
  if (v.is_null()) return v;
  if (type == "binary") return Base64ToHex(v.get<std::string>());
  if (type == "float" && v.is_number()) return static_cast<double>(v.get<float>());
  if (type.rfind("array<", 0) == 0) {
    std::string element = type.substr(6, type.size() - 7);
    json out = json::array();
    for (const json& e : v) out.push_back(Canonical(e, element));
    return out;
  }
  if (type.rfind("map<", 0) == 0) {
    std::vector<std::string> kv = SplitTopLevel(type.substr(4, type.size() - 5));
    std::vector<json> pairs;
    for (const json& p : v) pairs.push_back(json::array({Canonical(p[0], kv[0]), Canonical(p[1], kv[1])}));
    std::sort(pairs.begin(), pairs.end(),
              [](const json& a, const json& b) { return a[0].dump() < b[0].dump(); });
    return json(pairs);
  }
  if (type.rfind("struct<", 0) == 0) {
    json out = json::object();
    for (const std::string& field : SplitTopLevel(type.substr(7, type.size() - 8))) {
      size_t colon = field.find(':');
      std::string name = field.substr(0, colon);
      out[name] = Canonical(v.contains(name) ? v[name] : json(), field.substr(colon + 1));
    }
    return out;
  }
  return v;
}

// The manifest side needs the same float32 rounding so floats compare as float32.
json CanonicalExpected(const json& v, const std::string& type) {
  if (v.is_null()) return v;
  if (type == "float" && v.is_number()) return static_cast<double>(v.get<float>());
  if (type.rfind("array<", 0) == 0) {
    std::string element = type.substr(6, type.size() - 7);
    json out = json::array();
    for (const json& e : v) out.push_back(CanonicalExpected(e, element));
    return out;
  }
  if (type.rfind("map<", 0) == 0) {
    std::vector<std::string> kv = SplitTopLevel(type.substr(4, type.size() - 5));
    json out = json::array();
    for (const json& p : v) {
      out.push_back(json::array({CanonicalExpected(p[0], kv[0]), CanonicalExpected(p[1], kv[1])}));
    }
    return out;
  }
  if (type.rfind("struct<", 0) == 0) {
    json out = json::object();
    for (const std::string& field : SplitTopLevel(type.substr(7, type.size() - 8))) {
      size_t colon = field.find(':');
      std::string name = field.substr(0, colon);
      out[name] = CanonicalExpected(v.contains(name) ? v[name] : json(), field.substr(colon + 1));
    }
    return out;
  }
  return v;
}

std::string TypeString(const json& type) {
  return type.is_string() ? type.get<std::string>() : type.dump();
}

const json& Manifest() {
  static const json manifest = json::parse(ReadFile(kCorpus + "/manifest.json"));
  return manifest;
}

const json* FindTable(const std::string& path) {
  for (const json& t : Manifest()["tables"]) {
    if (t["path"] == path) return &t;
  }
  return nullptr;
}

std::vector<std::string> SortedDumps(const std::vector<json>& rows) {
  std::vector<std::string> out;
  for (const json& r : rows) out.push_back(r.dump());
  std::sort(out.begin(), out.end());
  return out;
}

// Reads `from` (a reference to `table_path`) with `lake sql --format jsonl` and compares
// the rows with the manifest's at `version` (default: the latest), as multisets.
void ExpectJsonlRowsMatchManifest(const std::string& table_path, const std::string& from,
                                  int64_t version = -1) {
  const json* table = FindTable(table_path);
  ASSERT_NE(table, nullptr) << table_path << " is not in the manifest";
  const json& versions = (*table)["expect"]["versions"];
  const json* latest = &versions.back();
  // A version entry lists "columns" only when the schema changed: take the newest one at
  // or before the version read.
  json columns;
  for (const json& v : versions) {
    if (v.contains("columns")) columns = v["columns"];
    if (v["version"] == version) {
      latest = &v;
      break;
    }
  }
  ASSERT_TRUE(version < 0 || (*latest)["version"] == version) << "no version " << version;
  std::vector<std::string> names, types;
  for (const json& c : columns) {
    names.push_back(c["name"]);
    types.push_back(TypeString(c["type"]));
  }
  RunResult r = RunLake({"sql", "--format", "jsonl", "SELECT * FROM " + from});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(r.err, "");
  std::vector<json> got, want;
  for (const json& obj : ParseLines(r.out)) {
    json row = json::array();
    for (size_t i = 0; i < names.size(); ++i) {
      EXPECT_TRUE(obj.contains(names[i])) << "column " << names[i] << " missing: " << obj.dump();
      row.push_back(Canonical(obj.contains(names[i]) ? obj[names[i]] : json(), types[i]));
    }
    got.push_back(row);
  }
  for (const json& row : (*latest)["rows"]) {
    json canon = json::array();
    for (size_t i = 0; i < names.size(); ++i) canon.push_back(CanonicalExpected(row[i], types[i]));
    want.push_back(canon);
  }
  EXPECT_EQ(got.size(), (*latest)["row_count"].get<size_t>());
  EXPECT_EQ(SortedDumps(got), SortedDumps(want));
}

class JsonlMatchesManifest : public ::testing::TestWithParam<std::string> {};

TEST_P(JsonlMatchesManifest, ViaDeltaScan) {
  ExpectJsonlRowsMatchManifest(GetParam(), "delta_scan('" + kCorpus + "/" + GetParam() + "')");
}

// One table per encoding rule of issue #2 §5: 64-bit integers, floats, decimals of every
// scale, binary, dates, timestamps (INT96 and edge years), timestamp_ntz, structs, lists,
// maps, partition values.
INSTANTIATE_TEST_SUITE_P(
    Conformance, JsonlMatchesManifest,
    ::testing::Values("delta-spark-golden/data-reader-primitives",
                      "delta-spark-golden/data-reader-nested-struct",
                      "delta-spark-golden/data-reader-map",
                      "delta-spark-golden/data-reader-array-primitives",
                      "delta-spark-golden/basic-decimal-table",
                      "delta-spark-golden/decimal-various-scale-precision",
                      "delta-spark-golden/kernel-timestamp-INT96",
                      "delta-spark-golden/data-reader-timestamp_ntz",
                      "delta-spark-golden/data-reader-date-types-Asia-Beirut",
                      "delta-rs/table_with_edge_timestamps", "dat/multi_partitioned"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name = info.param;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(LakeSql, JsonlIsLosslessForEngineValues) {
  RunResult r = RunLake(
      {"sql", "--format", "jsonl",
       "SELECT 9223372036854775807::BIGINT AS i, -12.30::DECIMAL(10,2) AS d, "
       "TIMESTAMPTZ '1970-01-01 00:00:00+00' AS ts, TIMESTAMP '2020-01-01 08:09:10.001' AS ntz, "
       "DATE '2000-02-29' AS dt, '\\x00\\xFF'::BLOB AS b, 'infinity'::DOUBLE AS inf, "
       "18446744073709551615::UBIGINT AS u, {'k': [1, NULL]} AS s, MAP {'x': 1.5} AS m"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"i\":9223372036854775807,\"d\":\"-12.30\",\"ts\":\"1970-01-01T00:00:00.000000Z\","
            "\"ntz\":\"2020-01-01T08:09:10.001000\",\"dt\":\"2000-02-29\",\"b\":\"AP8=\","
            "\"inf\":\"Infinity\",\"u\":18446744073709551615,\"s\":{\"k\":[1,null]},"
            "\"m\":[[\"x\",\"1.5\"]]}\n");
}

TEST(LakeSql, JsonIsOneDocument) {
  RunResult r = RunLake({"sql", "--json", "SELECT 1 AS a UNION ALL SELECT 2 ORDER BY a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["columns"], json::parse(R"([{"name":"a","type":"INTEGER"}])"));
  EXPECT_EQ(doc["rows"], json::parse(R"([{"a":1},{"a":2}])"));
}

TEST(LakeSql, CsvFromStdin) {
  RunResult r = RunLake({"sql", "--format", "csv"}, "SELECT 'x,y' AS s, NULL AS n;");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "s,n\n\"x,y\",\n");
  RunResult dash = RunLake({"sql", "--format", "csv", "-"}, "SELECT 7 AS seven");
  ASSERT_EQ(dash.exit_code, 0) << dash.err;
  EXPECT_EQ(dash.out, "seven\n7\n");
}

TEST(LakeSql, TableFormatHasColumnsAndRowCount) {
  RunResult r = RunLake({"sql", "SELECT 42 AS answer"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("│ answer  │"));
  EXPECT_THAT(r.out, HasSubstr("│      42 │"));
  EXPECT_THAT(r.out, HasSubstr("1 row\n"));
}

TEST(LakeSql, MissingTableExitsNotFoundWithErrorAndHint) {
  RunResult r = RunLake({"sql", "SELECT * FROM delta_scan('/nonexistent/lake_cli_table')"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("error: "));
  EXPECT_THAT(r.err, HasSubstr("\nhint: "));
}

TEST(LakeSql, ErrorsInJsonModeAreOneObjectOnStdout) {
  RunResult r = RunLake(
      {"sql", "--format", "jsonl", "SELECT * FROM delta_scan('/nonexistent/lake_cli_table')"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "");
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["error"]["code"], "NOT_FOUND");
  EXPECT_TRUE(doc["error"]["message"].is_string());
  EXPECT_TRUE(doc["error"].contains("hint"));
}

TEST(LakeSql, BadSqlIsBadUsage) {
  RunResult r = RunLake({"sql", "SELEKT 1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("error: "));
}

TEST(LakeSql, DeltaBacktickReferenceMatchesManifest) {
  ExpectJsonlRowsMatchManifest("dat/basic_append",
                               "delta.`" + kCorpus + "/dat/basic_append`");
}

TEST(LakeSql, TimeTravelMatchesManifestAtEveryVersion) {
  // dat/with_schema_change: version 1 replaced the schema, so each version has its own.
  for (const std::string table : {"dat/basic_append", "dat/with_schema_change"}) {
    for (const json& v : (*FindTable(table))["expect"]["versions"]) {
      int64_t version = v["version"].get<int64_t>();
      SCOPED_TRACE(table + " version " + std::to_string(version));
      ExpectJsonlRowsMatchManifest(
          table, "delta.`" + kCorpus + "/" + table + "` VERSION AS OF " + std::to_string(version),
          version);
    }
  }
}

TEST(LakeTable, HistoryListsCommitsNewestFirst) {
  // dat/basic_append: commits 0 and 1 (manifest latest_version 1).
  std::string path = kCorpus + "/dat/basic_append";
  RunResult r = RunLake({"table", "history", path, "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> rows = ParseLines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["version"], 1);
  EXPECT_EQ(rows[1]["version"], 0);
  RunResult limited = RunLake({"table", "history", path, "--limit", "1", "--format", "jsonl"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  ASSERT_EQ(ParseLines(limited.out).size(), 1u);
  EXPECT_EQ(ParseLines(limited.out)[0]["version"], 1);
  RunResult table = RunLake({"table", "history", path});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("2 rows"));
}

TEST(LakeTable, FilesAtAVersionMatchesManifestFileCount) {
  const json* t = FindTable("dat/basic_append");
  ASSERT_NE(t, nullptr);
  for (const json& v : (*t)["expect"]["versions"]) {
    RunResult r = RunLake({"table", "files", kCorpus + "/dat/basic_append", "--version",
                           std::to_string(v["version"].get<int>()), "--format", "jsonl"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ParseLines(r.out).size(), v["num_files"].get<size_t>()) << "version " << v["version"];
  }
}

TEST(LakeTable, DetailExitsZero) {
  RunResult r = RunLake({"table", "detail", kCorpus + "/dat/basic_append", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["rows"].size(), 1u);
}

TEST(LakeTable, MissingTableExitsNotFound) {
  RunResult r = RunLake({"table", "history", "/nonexistent/lake_cli_table"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, StartsWith("error: "));
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/lake_cli_table"));
  EXPECT_THAT(r.err, HasSubstr("\nhint: "));
}

TEST(LakeCli, EveryCommandHasHelpWithAnExample) {
  const std::vector<std::vector<std::string>> commands = {
      {"--help"},           {"sql", "--help"},  {"shell", "--help"},
      {"table", "--help"},  {"table", "history", "--help"},
      {"table", "files", "--help"}, {"table", "detail", "--help"}, {"version", "--help"}};
  for (const auto& args : commands) {
    RunResult r = RunLake(args);
    std::string name = args.size() > 1 ? args[args.size() - 2] : "lake";
    EXPECT_EQ(r.exit_code, 0) << name;
    EXPECT_THAT(r.out, HasSubstr("Example:\n  lake ")) << name;
    EXPECT_THAT(r.out, HasSubstr("--format")) << name;
  }
}

// The example in each --help must run as printed, from the repository root (where
// examples/sample_table lives), through a real shell so its quoting is what a user gets.
TEST(LakeCli, EveryHelpExampleRuns) {
  const std::vector<std::vector<std::string>> commands = {
      {"--help"},           {"sql", "--help"},  {"shell", "--help"},
      {"table", "--help"},  {"table", "history", "--help"},
      {"table", "files", "--help"}, {"table", "detail", "--help"}, {"version", "--help"}};
  for (const auto& args : commands) {
    std::string help = RunLake(args).out;
    size_t at = help.find("Example:\n  lake ");
    ASSERT_NE(at, std::string::npos) << help;
    size_t start = at + std::string("Example:\n  ").size();
    std::string example = help.substr(start, help.find('\n', start) - start);
    SCOPED_TRACE(example);
    TempDir dir;
    std::string cmd = "cd " + ShellQuote(LAKE_SOURCE_DIR) + " && " + ShellQuote(kLake) +
                      example.substr(4) + " </dev/null >" + ShellQuote(dir.path() + "/out") +
                      " 2>" + ShellQuote(dir.path() + "/err");
    int status = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "status " << status << ": " << ReadFile(dir.path() + "/err");
    // (The shell example reads an empty script here, so it prints nothing.)
    if (args[0] != "shell") {
      EXPECT_FALSE(ReadFile(dir.path() + "/out").empty());
    }
  }
}

TEST(LakeCli, BadUsageExitsTwo) {
  EXPECT_EQ(RunLake({"sql", "--format", "xml", "SELECT 1"}).exit_code, 2);
  EXPECT_EQ(RunLake({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunLake({"table", "history"}).exit_code, 2);
  EXPECT_EQ(RunLake({}).exit_code, 2);
  RunResult r = RunLake({"table", "files", "/x", "--version", "abc"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("hint: run 'lake table files --help'"));
  // In JSON modes even a usage error is the JSON error object, on stdout.
  RunResult json_mode = RunLake({"table", "files", "/x", "--json", "--version", "abc"});
  EXPECT_EQ(json_mode.exit_code, 2);
  EXPECT_EQ(json_mode.err, "");
  EXPECT_EQ(json::parse(json_mode.out)["error"]["code"], "INVALID_ARGUMENT");
}

TEST(LakeCli, VersionNamesLakeAndDuckDb) {
  RunResult r = RunLake({"version", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_TRUE(doc["lake"].is_string());
  EXPECT_THAT(doc["duckdb"].get<std::string>(), StartsWith("v1.4.4"));
}

TEST(LakeShell, PipedScriptRunsEachStatementAndDotCommands) {
  TempDir home;
  RunResult r = RunLake({"shell", "--format", "csv"},
                        "SELECT 1 AS a; SELECT 2 AS b;\n.format jsonl\nSELECT 'multi'\n  AS c;\n"
                        "SELECT 3 AS d",
                        "HOME=" + ShellQuote(home.path()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a\n1\nb\n2\n{\"c\":\"multi\"}\n{\"d\":3}\n");
  // Piped input is not the user's typing: no history file.
  EXPECT_FALSE(std::filesystem::exists(home.path() + "/.lake_history"));
}

TEST(LakeShell, PipedScriptStopsAtFirstErrorWithItsExitCode) {
  RunResult r = RunLake({"shell", "--format", "csv"},
                        "SELECT 1 AS a;\nSELECT * FROM delta_scan('/nonexistent/t');\nSELECT 2 AS b;\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "a\n1\n");
  EXPECT_THAT(r.err, HasSubstr("error: "));
}

// Ctrl-C during a streaming query: the process must stop the query and exit 130. The
// child starts with SIGINT blocked, so the signal sent right after the first row stays
// pending until lake's handler is in place; alarm() (kept across exec) ends a lake that
// ignores the interrupt, which then fails the test instead of hanging it.
TEST(LakeCli, InterruptExits130) {
  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    close(out_pipe[0]);
    close(out_pipe[1]);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDERR_FILENO);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    alarm(120);
    execl(kLake.c_str(), "lake", "sql", "--format", "jsonl",
          "SELECT range AS i FROM range(1000000000000)", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  // Wait for the first row: the query is running.
  char c;
  ASSERT_EQ(read(out_pipe[0], &c, 1), 1);
  kill(pid, SIGINT);
  char buf[65536];
  while (read(out_pipe[0], buf, sizeof buf) > 0) {
  }
  close(out_pipe[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130);
}

}  // namespace
