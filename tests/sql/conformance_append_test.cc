// Round trip over other engines' tables (issue #3 §5 "Interop"): every table of the shared
// conformance corpus is copied, registered by name, appended to with three of its own rows,
// and read back. The new commit must pass the protocol validator and the row count must grow
// by exactly what was inserted. Tables lake must not write are refused by name of what stops
// it (the expected refusals are listed below, derived from each table's manifest features);
// tables lake cannot read must not be written either.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "delta/protocol_validator.h"
#include "sql/lakehouse.h"
#include "status_matchers.h"
#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> ManifestTables() {
  std::ifstream in(std::string(LAKE_CONFORMANCE_DIR) + "/manifest.json");
  nlohmann::json manifest = nlohmann::json::parse(in);
  std::vector<std::string> out;
  for (const auto& t : manifest["tables"]) out.push_back(t["path"].get<std::string>());
  return out;
}

// What stops an append, per table (from the manifest's features): writer features lake does
// not write yet, a column type it cannot write, or a partition type it does not serialize.
const std::map<std::string, std::string>& ExpectedRefusals() {
  static const auto* refusals = new std::map<std::string, std::string>{
      {"delta-spark-golden/table-with-icebegCompatV2Enabled", "icebergCompatV2"},
      {"delta-rs/table_with_liquid_clustering", "rowTracking"},
      {"delta-spark-tests/dbr_8_1_generated_columns", "generatedColumns"},
      {"delta-rs/checkpoint-v2-table", "identityColumns"},
      {"dat/multi_partitioned", "binary"},
      {"delta-kernel-rs/void-column", "void"},
      {"delta-spark-golden/spark-variant-checkpoint", "variant"},
  };
  return *refusals;
}

std::string CommitName(int64_t version) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020lld.json", static_cast<long long>(version));
  return name;
}

class ConformanceAppend : public testing::TempLakehouse<::testing::TestWithParam<std::string>> {
 protected:
  ConformanceAppend() : TempLakehouse("lake_conf_append") {}

  void SetUp() override {
    TempLakehouse::SetUp();
    if (HasFatalFailure()) return;
    name_ = GetParam();
    for (char& c : name_) {
      if (c == '/' || c == '-') c = '_';
    }
    location_ = (root_ / "data" / "table").string();
    fs::copy(std::string(LAKE_CONFORMANCE_DIR) + "/" + GetParam(), location_,
             fs::copy_options::recursive);
  }
  // The latest commit version in the copy's log.
  int64_t LatestCommit() const {
    int64_t latest = -1;
    for (const auto& e : fs::directory_iterator(fs::path(location_) / "_delta_log")) {
      const std::string f = e.path().filename().string();
      if (f.size() == 25 && f.substr(20) == ".json") latest = std::max<int64_t>(latest, std::stoll(f.substr(0, 20)));
    }
    return latest;
  }
  Result<int64_t> Count() {
    LAKE_ASSIGN_OR_RETURN(engine::ResultTable t, session_->Query("SELECT count(*) FROM " + name_));
    return std::get<int64_t>(t.rows.at(0).at(0).v);
  }

  std::string name_;
  std::string location_;
};

TEST_P(ConformanceAppend, AppendsThreeOfItsOwnRowsOrRefusesByName) {
  if (!fs::exists(fs::path(location_) / "_delta_log")) {
    GTEST_SKIP() << GetParam() << " has no _delta_log (not a table: covered by conformance_test)";
  }
  const int64_t before_version = LatestCommit();
  Result<engine::ResultTable> registered =
      session_->Query("CREATE TABLE " + name_ + " LOCATION '" + location_ + "'");
  Result<int64_t> before = registered.ok() ? Count() : Result<int64_t>(registered.status());
  Result<engine::ResultTable> inserted =
      session_->Query("INSERT INTO " + name_ + " SELECT * FROM " + name_ + " LIMIT 3");

  auto refusal = ExpectedRefusals().find(GetParam());
  if (refusal != ExpectedRefusals().end()) {
    ASSERT_FALSE(inserted.ok()) << GetParam() << " was expected to be refused";
    EXPECT_THAT(inserted.status().ToString(), HasSubstr(refusal->second));
    EXPECT_EQ(LatestCommit(), before_version) << "a refused append must commit nothing";
    return;
  }
  if (!before.ok()) {
    // A table lake cannot read (a log-only fixture, a must-fail table) is never written.
    EXPECT_FALSE(inserted.ok()) << GetParam() << ": unreadable, yet the append succeeded";
    EXPECT_EQ(LatestCommit(), before_version);
    return;
  }
  ASSERT_TRUE(inserted.ok()) << GetParam() << ": " << inserted.status();
  // Like Spark, an append commits a version even when it adds no rows (no add action then).
  const int64_t added = std::min<int64_t>(3, *before);
  ASSERT_EQ(LatestCommit(), before_version + 1);
  ASSERT_OK_AND_ASSIGN(int64_t after, Count());
  EXPECT_EQ(after, *before + added);
  std::ifstream in(fs::path(location_) / "_delta_log" / CommitName(before_version + 1));
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(delta::testing::ValidateCommit(text.str(), before_version + 1), IsEmpty());
  EXPECT_EQ(added > 0, text.str().find("\"add\"") != std::string::npos) << text.str();
}

INSTANTIATE_TEST_SUITE_P(Corpus, ConformanceAppend, ::testing::ValuesIn(ManifestTables()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string id = info.param;
                           for (char& c : id) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return id;
                         });

}  // namespace
}  // namespace lake::sql
