// delta_scan over tables written by Spark / delta-rs: row counts and rows at every version,
// partition values, deletion vectors, column mapping, checkpoints, pruning, errors. Expected
// values come from the conformance manifest (an independent reader), never from lake.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "engine/database.h"
#include "engine/delta_engine.h"
#include "engine_test_util.h"
#include "sql_test_util.h"

namespace lake::engine {
namespace {

using testing::CanonicalRows;
using testing::ExpectedRows;
using testing::ManifestTable;
using testing::TablePath;

// One database for the suite, one session per test (testing::SqlTest).
class DeltaScanTest : public testing::SqlTest {
 protected:
  static std::string Scan(const std::string& table, std::optional<int64_t> version = std::nullopt) {
    std::string sql = "delta_scan('" + TablePath(table) + "'";
    if (version) sql += ", version := " + std::to_string(*version);
    return sql + ")";
  }

  // Checks count(*) and, when the manifest lists them, the rows at every version.
  void CheckAllVersions(const std::string& table, bool compare_rows = true) {
    const nlohmann::json& entry = ManifestTable(table);
    ASSERT_FALSE(entry.is_null()) << table << " is not in the manifest";
    ASSERT_EQ(entry["expect"]["outcome"], "ok");
    int checked = 0;
    for (const auto& version : entry["expect"]["versions"]) {
      if (!version.contains("row_count") || version["row_count"].is_null()) continue;
      int64_t v = version["version"];
      SCOPED_TRACE(table + " version " + std::to_string(v));
      auto count = Query("SELECT count(*) FROM " + Scan(table, v));
      ASSERT_TRUE(count.ok()) << count.status();
      EXPECT_EQ(std::get<int64_t>(count->rows[0][0].v), version["row_count"].get<int64_t>());
      if (compare_rows && version.contains("rows")) {
        auto rows = Query("SELECT * FROM " + Scan(table, v));
        ASSERT_TRUE(rows.ok()) << rows.status();
        EXPECT_EQ(CanonicalRows(*rows), ExpectedRows(version));
      }
      ++checked;
    }
    EXPECT_GT(checked, 0) << table;
  }
};

TEST_F(DeltaScanTest, ReadsEveryVersionOfACheckpointedTable) {
  CheckAllVersions("delta-spark-golden/basic-with-inserts-deletes-checkpoint");
}

TEST_F(DeltaScanTest, ReadsMultiPartCheckpoint) {
  CheckAllVersions("delta-spark-golden/multi-part-checkpoint");
}

TEST_F(DeltaScanTest, ReadsV2CheckpointWithSidecars) {
  CheckAllVersions("delta-spark-golden/v2-checkpoint-parquet");
}

TEST_F(DeltaScanTest, AppliesDeletionVectors) {
  CheckAllVersions("delta-rs/table-with-dv-small");
  CheckAllVersions("delta-kernel-java/basic-dv-no-checkpoint");
}

TEST_F(DeltaScanTest, AppliesDeletionVectorsAndPartitionValuesAfterCheckpoint) {
  CheckAllVersions("delta-spark-golden/dv-partitioned-with-checkpoint");
}

TEST_F(DeltaScanTest, ReadsTypedPartitionValues) {
  CheckAllVersions("delta-spark-golden/data-reader-partition-values");
  CheckAllVersions("dat/multi_partitioned");
}

TEST_F(DeltaScanTest, ResolvesColumnMappingByName) {
  CheckAllVersions("delta-spark-golden/table-with-columnmapping-mode-name");
}

TEST_F(DeltaScanTest, ResolvesColumnMappingById) {
  CheckAllVersions("delta-spark-golden/data-reader-timestamp_ntz-id-mode");
  // Nested lists and maps identified by delta.columnMapping.nested.ids.
  CheckAllVersions("delta-spark-golden/table-with-icebegCompatV2Enabled");
}

TEST_F(DeltaScanTest, ReadsColumnsAddedLaterAsNull) { CheckAllVersions("dat/with_schema_change"); }

TEST_F(DeltaScanTest, CastsWidenedTypes) { CheckAllVersions("delta-spark-golden/type-widening"); }

TEST_F(DeltaScanTest, ReadsVoidColumnsAsNull) { CheckAllVersions("delta-kernel-rs/void-column"); }

TEST_F(DeltaScanTest, ReadsInt96TimestampsAsUtcInstants) {
  CheckAllVersions("delta-spark-golden/kernel-timestamp-INT96");
}

TEST_F(DeltaScanTest, ReadsNestedTypes) {
  CheckAllVersions("delta-spark-golden/data-reader-nested-struct");
  CheckAllVersions("delta-spark-golden/data-reader-map");
  CheckAllVersions("delta-spark-golden/data-reader-array-primitives");
}

TEST_F(DeltaScanTest, ReadsDecimals) {
  CheckAllVersions("delta-spark-golden/decimal-various-scale-precision");
  CheckAllVersions("delta-spark-golden/basic-decimal-table");
}

TEST_F(DeltaScanTest, TimeTravelsByTimestamp) {
  // Version timestamps come from the log (commitInfo / file mtimes are not preserved by git
  // checkouts), so only the far ends are predictable: far in the future is the latest.
  const std::string table = "delta-rs/table-with-dv-small";
  const nlohmann::json& latest = ManifestTable(table)["expect"]["versions"].back();
  auto result = Query("SELECT count(*) FROM delta_scan('" + TablePath(table) +
                      "', timestamp := '2999-01-01 00:00:00')");
  if (result.ok()) {
    EXPECT_EQ(std::get<int64_t>(result->rows[0][0].v), latest["row_count"].get<int64_t>());
  } else {
    // After the latest commit is allowed to be an error naming the valid range.
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status();
  }
  auto before = Query("SELECT count(*) FROM delta_scan('" + TablePath(table) +
                      "', timestamp := '1971-01-01 00:00:00')");
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().code(), StatusCode::kInvalidArgument) << before.status();
}

TEST_F(DeltaScanTest, GroupByPartitionColumnUsesPartitionedAggregate) {
  const std::string table = "delta-spark-golden/dv-partitioned-with-checkpoint";
  auto plan = Query("EXPLAIN SELECT part, count(*) FROM " + Scan(table) + " GROUP BY part");
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::string text;
  for (const auto& row : plan->rows) {
    for (const auto& v : row) {
      if (auto* s = std::get_if<std::string>(&v.v)) text += *s;
    }
  }
  EXPECT_NE(text.find("PARTITIONED_AGGREGATE"), std::string::npos) << text;

  // And the partitioned aggregate computes the right groups.
  const nlohmann::json& latest = ManifestTable(table)["expect"]["versions"].back();
  std::map<int64_t, std::pair<int64_t, int64_t>> expected;  // part -> (count, sum(col1))
  for (const auto& row : latest["rows"]) {
    auto& [count, sum] = expected[row[0].get<int64_t>()];
    ++count;
    if (!row[1].is_null()) sum += row[1].get<int64_t>();
  }
  auto groups = Query("SELECT part, count(*), sum(col1)::BIGINT FROM " + Scan(table) +
                      " GROUP BY part ORDER BY part");
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->rows.size(), expected.size());
  size_t i = 0;
  for (const auto& [part, agg] : expected) {
    const auto& row = groups->rows[i++];
    EXPECT_EQ(std::get<int64_t>(row[0].v), part);
    EXPECT_EQ(std::get<int64_t>(row[1].v), agg.first) << "part " << part;
    EXPECT_EQ(std::get<int64_t>(row[2].v), agg.second) << "part " << part;
  }
}

TEST_F(DeltaScanTest, VariantColumnIsNotSupportedByName) {
  auto result = Query("SELECT * FROM " + Scan("delta-spark-golden/spark-variant-checkpoint"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotSupported) << result.status();
  EXPECT_NE(result.status().message().find("variant"), std::string::npos) << result.status();
  EXPECT_FALSE(result.status().hint().empty());
}

TEST_F(DeltaScanTest, ExposesTheDataFileNameAsAVirtualColumn) {
  const std::string table = "delta-spark-golden/basic-with-inserts-deletes-checkpoint";
  const nlohmann::json& latest = ManifestTable(table)["expect"]["versions"].back();
  auto result = Query("SELECT count(DISTINCT filename) FROM " + Scan(table));
  ASSERT_TRUE(result.ok()) << result.status();
  // Every live file of this table holds at least one live row (no deletion vectors).
  EXPECT_EQ(std::get<int64_t>(result->rows[0][0].v), latest["num_files"].get<int64_t>());
}

TEST_F(DeltaScanTest, SessionsOnSeveralThreadsScanConcurrently) {
  // Each bind loads a snapshot whose checkpoint is read on a connection of its own, while
  // other sessions of the same instance bind and scan.
  const std::string table = "delta-spark-golden/dv-partitioned-with-checkpoint";
  int64_t expected = ManifestTable(table)["expect"]["versions"].back()["row_count"];
  constexpr int kThreads = 4, kQueries = 5;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto session = db_->Connect();
      if (!session.ok()) {
        errors[t] = session.status().ToString();
        return;
      }
      for (int q = 0; q < kQueries; ++q) {
        auto r = (*session)->Query("SELECT count(*) FROM " + Scan(table));
        if (!r.ok()) {
          errors[t] = r.status().ToString();
          return;
        }
        if (std::get<int64_t>(r->rows[0][0].v) != expected) {
          errors[t] = "wrong count " + std::to_string(std::get<int64_t>(r->rows[0][0].v));
          return;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
}

TEST_F(DeltaScanTest, EstimatesCardinalityFromStatsMinusDeletedRows) {
  // table-with-dv-small v1: one file, numRecords 10, a DV deleting 2 (manifest row_count 8).
  const std::string table = "delta-rs/table-with-dv-small";
  int64_t expected = ManifestTable(table)["expect"]["versions"][1]["row_count"];
  auto plan = Query("EXPLAIN SELECT * FROM " + Scan(table, 1));
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::string text;
  for (const auto& row : plan->rows) {
    for (const auto& v : row) {
      if (auto* s = std::get_if<std::string>(&v.v)) text += *s;
    }
  }
  EXPECT_NE(text.find("~" + std::to_string(expected) + " row"), std::string::npos) << text;
}

TEST_F(DeltaScanTest, ReturnsTheLogicalColumnNames) {
  const std::string table = "delta-spark-golden/table-with-columnmapping-mode-name";
  auto result = Query("SELECT * FROM " + Scan(table) + " LIMIT 0");
  ASSERT_TRUE(result.ok()) << result.status();
  std::vector<std::string> names;
  for (const auto& c : result->columns) names.push_back(c.name);
  std::vector<std::string> expected;
  for (const auto& n : ManifestTable(table)["expect"]["latest_columns"]) expected.push_back(n);
  EXPECT_EQ(names, expected);
}

TEST_F(DeltaScanTest, PrunesFilesByPartitionValueBeforeOpeningThem) {
  const std::string table = "delta-spark-golden/dv-partitioned-with-checkpoint";
  const nlohmann::json& latest = ManifestTable(table)["expect"]["versions"].back();
  int64_t expected = 0;
  for (const auto& row : latest["rows"]) expected += row[0] == 1 ? 1 : 0;
  ASSERT_GT(expected, 0);
  ScanCounters before = GetScanCounters();
  auto result = Query("SELECT count(*) FROM " + Scan(table) + " WHERE part = 1");
  ASSERT_TRUE(result.ok()) << result.status();
  ScanCounters after = GetScanCounters();
  EXPECT_EQ(std::get<int64_t>(result->rows[0][0].v), expected);
  int64_t in_snapshot = after.files_in_snapshots - before.files_in_snapshots;
  int64_t opened = after.files_opened - before.files_opened;
  EXPECT_GT(after.files_skipped - before.files_skipped, 0);
  EXPECT_LT(opened, in_snapshot);
  EXPECT_GT(opened, 0);
}

TEST_F(DeltaScanTest, PrunesFilesAtPlanTime) {
  // EXPLAIN plans without executing: any pruning it does happened in the optimizer's filter
  // pushdown, so cardinality estimates (join order) see only the files that can match.
  const std::string table = "delta-spark-golden/dv-partitioned-with-checkpoint";
  for (const std::string where :
       {"part = 1", "part IN (1, 2)", "part BETWEEN 1 AND 2", "1 = part", "part = 1 OR part = 2"}) {
    ScanCounters before = GetScanCounters();
    auto plan = Query("EXPLAIN SELECT count(*) FROM " + Scan(table) + " WHERE " + where);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ScanCounters after = GetScanCounters();
    EXPECT_GT(after.files_skipped - before.files_skipped, 0) << where;
    EXPECT_EQ(after.files_opened, before.files_opened) << where;
  }
}

TEST_F(DeltaScanTest, PrunedPlansReturnTheSameRows) {
  const std::string table = "delta-spark-golden/dv-partitioned-with-checkpoint";
  const nlohmann::json& latest = ManifestTable(table)["expect"]["versions"].back();
  int64_t in_1_2 = 0, null_col2 = 0, col1_range = 0;
  for (const auto& row : latest["rows"]) {
    int64_t part = row[0];
    in_1_2 += (part == 1 || part == 2) ? 1 : 0;
    null_col2 += row[2].is_null() ? 1 : 0;
    col1_range += (!row[1].is_null() && row[1] >= 10 && row[1] < 30) ? 1 : 0;
  }
  auto count = [&](const std::string& where) -> int64_t {
    auto r = Query("SELECT count(*) FROM " + Scan(table) + " WHERE " + where);
    EXPECT_TRUE(r.ok()) << where << ": " << r.status();
    return r.ok() ? std::get<int64_t>(r->rows[0][0].v) : -1;
  };
  EXPECT_EQ(count("part IN (1, 2)"), in_1_2);
  EXPECT_EQ(count("part = 1 OR part = 2"), in_1_2);
  EXPECT_EQ(count("col2 IS NULL"), null_col2);
  EXPECT_EQ(count("col1 >= 10 AND col1 < 30"), col1_range);
  EXPECT_EQ(count("10 <= col1 AND 30 > col1"), col1_range);
}

TEST_F(DeltaScanTest, FiltersApplyToTheRightColumnWhateverTheProjection) {
  // Filters are keyed by position in the scan's projection: a mix-up would prune on the
  // wrong column (here col1 = 1 instead of part = 1) and silently drop rows.
  const std::string table = "delta-spark-golden/dv-partitioned-with-checkpoint";
  const nlohmann::json& latest = ManifestTable(table)["expect"]["versions"].back();
  std::vector<std::string> expected_part1, expected_col1;
  for (const auto& row : latest["rows"]) {
    if (row[0] == 1) expected_part1.push_back(nlohmann::json::array({row[1], row[0]}).dump());
    if (!row[1].is_null() && row[1] >= 40) {
      expected_col1.push_back(nlohmann::json::array({row[2], row[0], row[1]}).dump());
    }
  }
  std::sort(expected_part1.begin(), expected_part1.end());
  std::sort(expected_col1.begin(), expected_col1.end());
  auto part1 = Query("SELECT col1, part FROM " + Scan(table) + " WHERE part = 1");
  ASSERT_TRUE(part1.ok()) << part1.status();
  EXPECT_EQ(CanonicalRows(*part1), expected_part1);
  auto col1 = Query("SELECT col2, part, col1 FROM " + Scan(table) + " WHERE col1 >= 40");
  ASSERT_TRUE(col1.ok()) << col1.status();
  EXPECT_EQ(CanonicalRows(*col1), expected_col1);
}

TEST_F(DeltaScanTest, SkipFilesFalseOpensEveryFile) {
  const std::string table = "delta-spark-golden/dv-partitioned-with-checkpoint";
  const nlohmann::json& latest = ManifestTable(table)["expect"]["versions"].back();
  int64_t expected = 0;
  for (const auto& row : latest["rows"]) expected += row[0] == 1 ? 1 : 0;
  ScanCounters before = GetScanCounters();
  auto result = Query("SELECT count(*) FROM delta_scan('" + TablePath(table) +
                      "', skip_files := false) WHERE part = 1");
  ASSERT_TRUE(result.ok()) << result.status();
  ScanCounters after = GetScanCounters();
  EXPECT_EQ(std::get<int64_t>(result->rows[0][0].v), expected);
  EXPECT_EQ(after.files_skipped, before.files_skipped);
  EXPECT_EQ(after.files_opened - before.files_opened, latest["num_files"].get<int64_t>());
}

TEST_F(DeltaScanTest, PrunesFilesByStatsBeforeOpeningThem) {
  const std::string table = "delta-spark-golden/basic-with-inserts-deletes-checkpoint";
  const nlohmann::json& latest = ManifestTable(table)["expect"]["versions"].back();
  int64_t expected = 0;
  for (const auto& row : latest["rows"]) expected += row[0].get<int64_t>() >= 40 ? 1 : 0;
  ScanCounters before = GetScanCounters();
  auto result = Query("SELECT count(*) FROM " + Scan(table) + " WHERE id >= 40");
  ASSERT_TRUE(result.ok()) << result.status();
  ScanCounters after = GetScanCounters();
  EXPECT_EQ(std::get<int64_t>(result->rows[0][0].v), expected);
  EXPECT_GT(after.files_skipped - before.files_skipped, 0);
}

TEST_F(DeltaScanTest, MissingTableIsACleanNotFound) {
  std::string missing = TablePath("no-such-table-here");
  auto result = Query("SELECT * FROM delta_scan('" + missing + "')");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound) << result.status();
  EXPECT_NE(result.status().message().find("no-such-table-here"), std::string::npos)
      << result.status();
  // DuckDB's query-location suffix is not part of our message or hint.
  EXPECT_EQ(result.status().message().find("LINE 1"), std::string::npos) << result.status();
  EXPECT_EQ(result.status().hint().find("LINE 1"), std::string::npos) << result.status();
  // The instance was not invalidated.
  auto again = Query("SELECT count(*) FROM " + Scan("delta-rs/table-with-dv-small"));
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST_F(DeltaScanTest, VersionAfterLatestNamesTheLatest) {
  const std::string table = "delta-spark-golden/basic-with-inserts-deletes-checkpoint";
  int64_t latest = ManifestTable(table)["latest_version"];
  auto result = Query("SELECT * FROM " + Scan(table, latest + 100));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound) << result.status();
  EXPECT_NE(result.status().message().find(std::to_string(latest)), std::string::npos)
      << result.status();
}

TEST_F(DeltaScanTest, NegativeVersionIsInvalidArgument) {
  auto result = Query("SELECT * FROM " + Scan("delta-rs/table-with-dv-small", -1));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status();
}

}  // namespace
}  // namespace lake::engine
