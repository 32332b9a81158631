// Pipeline runs (src/pipelines/runner.h) over real folders: a landing folder -> bronze ->
// silver (expectations) -> gold (materialized view), incremental second runs, FAIL UPDATE,
// full refresh, and the event log. Expected rows and counts are worked out by hand in the
// comments from the landed JSON.
#include "pipelines/runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "sql/lakehouse.h"
#include "status_matchers.h"

namespace lake::pipelines {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using nlohmann::json;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            StrCat("lake_pipeline_run_", getpid(), "_",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "p" / "landing");
    sql::LakehouseOptions options;
    options.home = (root_ / "home").string();
    options.database.threads = 2;
    auto house = sql::Lakehouse::Open(options);
    ASSERT_TRUE(house.ok()) << house.status();
    house_ = std::move(*house);
    auto session = house_->database().Connect();
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = std::move(*session);
  }
  void TearDown() override {
    session_.reset();
    house_.reset();
    if (!HasFailure()) fs::remove_all(root_);
  }

  void WriteSql(const std::string& name, const std::string& text) {
    std::ofstream(root_ / "p" / name) << text;
  }
  // Lands a file the way a producer should: written under a hidden name, renamed in.
  void Land(const std::string& name, const std::string& text) {
    const fs::path tmp = root_ / "p" / "landing" / ("." + name);
    std::ofstream(tmp) << text;
    fs::rename(tmp, root_ / "p" / "landing" / name);
  }
  void WriteMedallion(std::string_view silver_constraints) {
    WriteSql("bronze.sql",
             "CREATE OR REFRESH STREAMING TABLE bronze\n"
             "AS SELECT * FROM STREAM read_files('landing', format => 'json');\n");
    WriteSql("silver.sql", StrCat("CREATE OR REFRESH STREAMING TABLE silver (", silver_constraints,
                                  ")\nAS SELECT id, k, amount FROM STREAM(bronze);\n"));
    WriteSql("gold.sql",
             "CREATE OR REFRESH MATERIALIZED VIEW gold AS\n"
             "SELECT k, count(*) AS n, CAST(sum(amount) AS BIGINT) AS total FROM silver\n"
             "GROUP BY k;\n");  // sum(BIGINT) is a 128-bit integer, which Delta cannot hold
  }
  Result<RunSummary> Run(RunOptions options = {}) {
    LAKE_ASSIGN_OR_RETURN(Pipeline p, LoadPipeline((root_ / "p").string()));
    pipeline_ = p;
    return RunPipeline(house_->database(), p, options);
  }
  std::string Table(const std::string& name) {
    return (root_ / "p" / ".pipeline" / "tables" / name).string();
  }
  // Rows of `sql` as "v1|v2|..." (values cast to VARCHAR by the query), sorted.
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> out;
    auto r = session_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << "\n" << r.status();
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) line += "|";
        line += row[i].is_null() ? "NULL" : std::get<std::string>(row[i].v);
      }
      out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> Scan(const std::string& table, const std::string& columns) {
    return Rows(StrCat("SELECT ", columns, " FROM delta_scan(", SqlQuote(Table(table)), ")"));
  }
  const FlowResult& Flow(const RunSummary& s, const std::string& name) {
    for (const FlowResult& f : s.flows) {
      if (f.dataset == name) return f;
    }
    ADD_FAILURE() << "no flow " << name;
    static FlowResult none;
    return none;
  }
  // "name:passed/failed/dropped" per expectation.
  static std::vector<std::string> Counts(const std::vector<ExpectationCounts>& counts) {
    std::vector<std::string> out;
    for (const auto& c : counts) out.push_back(StrCat(c.name, ":", c.passed, "/", c.failed, "/", c.dropped));
    return out;
  }
  std::vector<json> Events(const std::string& type) {
    std::vector<json> out;
    auto events = ReadEvents(house_->database(), pipeline_);
    EXPECT_TRUE(events.ok()) << events.status();
    if (!events.ok()) return out;
    // columns: seq, timestamp, run_id, event_type, level, flow, batch_id, message, details
    for (const auto& row : events->rows) {
      if (std::get<std::string>(row[3].v) != type) continue;
      json e = json::parse(std::get<std::string>(row[8].v));
      e["_flow"] = row[5].is_null() ? "" : std::get<std::string>(row[5].v);
      e["_run_id"] = std::get<std::string>(row[2].v);
      out.push_back(e);
    }
    return out;
  }

  fs::path root_;
  std::unique_ptr<sql::Lakehouse> house_;
  std::unique_ptr<engine::Session> session_;
  Pipeline pipeline_;
};

constexpr std::string_view kSilverConstraints =
    "CONSTRAINT valid_id EXPECT (id IS NOT NULL) ON VIOLATION DROP ROW,\n"
    " CONSTRAINT positive_amount EXPECT (amount > 0),\n"
    " CONSTRAINT known_key EXPECT (k IN ('a', 'b')) ON VIOLATION DROP ROW";

// Run 1's input. Per row: valid_id (drop) / positive_amount (keep) / known_key (drop)
//   1 a 10    pass / pass / pass   -> kept
//   2 a -5    pass / FAIL / pass   -> kept (positive_amount only counts)
//   - b 7     FAIL / pass / pass   -> dropped
//   4 c 3     pass / pass / FAIL   -> dropped
//   5 b NULL  pass / FAIL (NULL) / pass -> kept
// valid_id 4/1/1, positive_amount 3/2/0, known_key 4/1/1; silver = ids 1, 2, 5;
// gold: a -> n 2, total 5; b -> n 1, total NULL.
constexpr std::string_view kFirstFile =
    "{\"id\":1,\"k\":\"a\",\"amount\":10}\n"
    "{\"id\":2,\"k\":\"a\",\"amount\":-5}\n"
    "{\"id\":null,\"k\":\"b\",\"amount\":7}\n"
    "{\"id\":4,\"k\":\"c\",\"amount\":3}\n"
    "{\"id\":5,\"k\":\"b\",\"amount\":null}\n";

TEST_F(RunnerTest, MedallionRunCountsExpectationsAndBuildsGold) {
  WriteMedallion(kSilverConstraints);
  Land("part-1.json", std::string(kFirstFile));
  ASSERT_OK_AND_ASSIGN(RunSummary run, Run());
  ASSERT_EQ(run.flows.size(), 3u);
  EXPECT_EQ(run.flows[0].dataset, "bronze");
  EXPECT_EQ(run.flows[1].dataset, "silver");
  EXPECT_EQ(run.flows[2].dataset, "gold");
  EXPECT_EQ(Flow(run, "bronze").rows_in, 5);
  EXPECT_EQ(Flow(run, "bronze").rows_out, 5);
  EXPECT_EQ(Flow(run, "silver").rows_in, 5);
  EXPECT_EQ(Flow(run, "silver").rows_out, 3);
  EXPECT_THAT(Counts(Flow(run, "silver").expectations),
              ElementsAre("valid_id:4/1/1", "positive_amount:3/2/0", "known_key:4/1/1"));
  EXPECT_EQ(Scan("silver", "id::VARCHAR, k, amount::VARCHAR"),
            (std::vector<std::string>{"1|a|10", "2|a|-5", "5|b|NULL"}));
  EXPECT_EQ(Scan("gold", "k, n::VARCHAR, total::VARCHAR"),
            (std::vector<std::string>{"a|2|5", "b|1|NULL"}));
  EXPECT_EQ(Flow(run, "gold").rows_out, 2);

  // The event log has the per-batch counts of silver's one batch, and the run's bounds.
  std::vector<json> progress = Events("flow_progress");
  std::vector<json> silver;
  for (const json& e : progress) {
    if (e["_flow"] == "silver") silver.push_back(e);
  }
  ASSERT_EQ(silver.size(), 1u);
  EXPECT_EQ(silver[0]["rows_in"], 5);
  EXPECT_EQ(silver[0]["rows_out"], 3);
  ASSERT_EQ(silver[0]["expectations"].size(), 3u);
  EXPECT_EQ(silver[0]["expectations"][1]["name"], "positive_amount");
  EXPECT_EQ(silver[0]["expectations"][1]["passed_records"], 3);
  EXPECT_EQ(silver[0]["expectations"][1]["failed_records"], 2);
  EXPECT_EQ(silver[0]["expectations"][2]["dropped_records"], 1);
  EXPECT_EQ(Events("run_start").size(), 1u);
  ASSERT_EQ(Events("run_end").size(), 1u);
  EXPECT_EQ(Events("run_end")[0]["status"], "COMPLETED");
  ASSERT_EQ(Events("dag").size(), 1u);
  EXPECT_EQ(Events("dag")[0]["datasets"].size(), 3u);
}

TEST_F(RunnerTest, ASecondRunReadsOnlyNewFilesAndGoldEqualsTheBatchQuery) {
  WriteMedallion(kSilverConstraints);
  Land("part-1.json", std::string(kFirstFile));
  ASSERT_OK(Run().status());
  // Run 2: two new rows, both passing everything: a -> n 3, total 6; b -> n 2, total 4.
  Land("part-2.json", "{\"id\":6,\"k\":\"b\",\"amount\":4}\n{\"id\":7,\"k\":\"a\",\"amount\":1}\n");
  ASSERT_OK_AND_ASSIGN(RunSummary run, Run());
  EXPECT_EQ(Flow(run, "bronze").rows_in, 2);
  EXPECT_EQ(Flow(run, "silver").rows_in, 2);
  EXPECT_EQ(Flow(run, "silver").rows_out, 2);
  EXPECT_THAT(Counts(Flow(run, "silver").expectations),
              ElementsAre("valid_id:2/0/0", "positive_amount:2/0/0", "known_key:2/0/0"));
  EXPECT_EQ(Scan("bronze", "coalesce(id::VARCHAR, 'NULL')"),
            (std::vector<std::string>{"1", "2", "4", "5", "6", "7", "NULL"}));
  EXPECT_EQ(Scan("gold", "k, n::VARCHAR, total::VARCHAR"),
            (std::vector<std::string>{"a|3|6", "b|2|4"}));
  // The same SQL in batch over every landed file.
  EXPECT_EQ(Scan("gold", "k, n::VARCHAR, total::VARCHAR"),
            Rows(StrCat("SELECT k, count(*)::VARCHAR, sum(amount)::VARCHAR FROM read_json(",
                        SqlQuote((root_ / "p" / "landing" / "*.json").string()),
                        ") WHERE id IS NOT NULL AND k IN ('a', 'b') GROUP BY k")));
  // A third run with nothing new writes no batch to the streaming tables.
  ASSERT_OK_AND_ASSIGN(RunSummary idle, Run());
  EXPECT_EQ(Flow(idle, "bronze").batches, 0);
  EXPECT_EQ(Flow(idle, "silver").batches, 0);
  EXPECT_EQ(Scan("gold", "k, n::VARCHAR, total::VARCHAR"),
            (std::vector<std::string>{"a|3|6", "b|2|4"}));

  // A full refresh rebuilds everything from all landed files: same tables again.
  RunOptions full;
  full.full_refresh_all = true;
  ASSERT_OK_AND_ASSIGN(RunSummary rebuilt, Run(full));
  EXPECT_EQ(Flow(rebuilt, "bronze").rows_in, 7);
  EXPECT_EQ(Flow(rebuilt, "silver").rows_out, 5);
  EXPECT_EQ(Scan("gold", "k, n::VARCHAR, total::VARCHAR"),
            (std::vector<std::string>{"a|3|6", "b|2|4"}));
}

TEST_F(RunnerTest, FailUpdateStopsTheFlowNamingTheExpectationAndARow) {
  WriteMedallion("CONSTRAINT positive_amount EXPECT (amount > 0) ON VIOLATION FAIL UPDATE");
  Land("part-1.json", "{\"id\":1,\"k\":\"a\",\"amount\":10}\n{\"id\":2,\"k\":\"a\",\"amount\":-5}\n");
  Result<RunSummary> run = Run();
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(run.status().message(), HasSubstr("flow silver"));
  EXPECT_THAT(run.status().message(), HasSubstr("expectation positive_amount"));
  EXPECT_THAT(run.status().message(), HasSubstr("\"id\":2"));
  // bronze committed; silver wrote nothing; gold did not run.
  EXPECT_EQ(Scan("bronze", "id::VARCHAR"), (std::vector<std::string>{"1", "2"}));
  EXPECT_FALSE(fs::exists(fs::path(Table("silver")) / "_delta_log"));
  EXPECT_FALSE(fs::exists(Table("gold")));
  std::vector<json> failed = Events("flow_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["_flow"], "silver");
  EXPECT_EQ(failed[0]["expectation"], "positive_amount");
  EXPECT_THAT(failed[0]["row"].get<std::string>(), HasSubstr("\"id\":2"));
  ASSERT_EQ(Events("run_end").size(), 1u);
  EXPECT_EQ(Events("run_end")[0]["status"], "FAILED");
}

TEST_F(RunnerTest, ARefusedPipelineRunsNothing) {
  WriteSql("a.sql", "CREATE OR REFRESH MATERIALIZED VIEW a AS SELECT * FROM b");
  WriteSql("b.sql", "CREATE OR REFRESH MATERIALIZED VIEW b AS SELECT * FROM a");
  Result<RunSummary> run = Run();
  EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(run.status().message(), HasSubstr("a -> b -> a"));
  EXPECT_FALSE(fs::exists(root_ / "p" / ".pipeline"));
}

}  // namespace
}  // namespace lake::pipelines
