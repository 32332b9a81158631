// Spark/Delta SQL forms end to end through engine::Session: delta.`path`, quoted paths,
// VERSION / TIMESTAMP AS OF (in joins, subqueries, EXPLAIN), DESCRIBE HISTORY, and what
// happens to text that is not ours. Expected values: conformance manifest and raw log files.
#include <algorithm>
#include <map>
#include <set>

#include "base/strings.h"
#include "sql_test_util.h"

namespace lake::engine::testing {
namespace {

constexpr const char* kSimple = "delta-rs/simple_table";  // versions 0-4, removes
constexpr const char* kAppend = "dat/basic_append";       // versions 0-1, appends

class SqlSyntaxTest : public SqlTest {};

TEST_F(SqlSyntaxTest, DeltaBackquotedPathReadsLatestVersion) {
  for (const char* table : {kSimple, kAppend}) {
    SCOPED_TRACE(table);
    int64_t latest = ManifestTable(table)["latest_version"];
    EXPECT_EQ(QueryInt("SELECT count(*) FROM " + DeltaRef(table)),
              ManifestVersion(table, latest)["row_count"].get<int64_t>());
  }
}

TEST_F(SqlSyntaxTest, BareQuotedPathOfDeltaFolderReadsTable) {
  int64_t latest = ManifestTable(kAppend)["latest_version"];
  EXPECT_EQ(QueryInt("SELECT count(*) FROM " + QuotedRef(kAppend)),
            ManifestVersion(kAppend, latest)["row_count"].get<int64_t>());
  auto rows = Query("SELECT * FROM " + QuotedRef(kAppend));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(CanonicalRows(*rows), ExpectedRows(ManifestVersion(kAppend, latest)));
}

TEST_F(SqlSyntaxTest, BareQuotedPathWithoutDeltaLogKeepsDuckDBBehaviour) {
  // A folder that is not a Delta table: DuckDB's own "table does not exist" error.
  auto result = Query("SELECT * FROM '" + ConformanceDir() + "/dat'");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message().find("lake:"), std::string::npos) << result.status();
  EXPECT_NE(result.status().message().find("does not exist"), std::string::npos) << result.status();
  ExpectStillUsable();
}

TEST_F(SqlSyntaxTest, VersionAsOfMatchesManifestAtEveryVersion) {
  for (const char* table : {kSimple, kAppend}) {
    int checked = 0;
    for (const auto& version : ManifestTable(table)["expect"]["versions"]) {
      int64_t v = version["version"];
      SCOPED_TRACE(std::string(table) + " version " + std::to_string(v));
      int64_t expected = version["row_count"];
      EXPECT_EQ(QueryInt("SELECT count(*) FROM " + DeltaRef(table) + " VERSION AS OF " +
                         std::to_string(v)),
                expected);
      EXPECT_EQ(QueryInt("SELECT count(*) FROM " + QuotedRef(table) + " version as of " +
                         std::to_string(v)),
                expected);
      if (version.contains("rows")) {
        auto rows =
            Query("SELECT * FROM " + DeltaRef(table) + " VERSION AS OF " + std::to_string(v));
        ASSERT_TRUE(rows.ok()) << rows.status();
        EXPECT_EQ(CanonicalRows(*rows), ExpectedRows(version));
      }
      ++checked;
    }
    EXPECT_EQ(checked, ManifestTable(table)["latest_version"].get<int>() + 1) << table;
  }
}

TEST_F(SqlSyntaxTest, VersionAsOfInSubqueryJoinedWithLatestVersion) {
  // Expected join size from the manifest's rows: ids present at version 0 and at the latest.
  const nlohmann::json v0 = ManifestVersion(kSimple, 0);
  const nlohmann::json latest = ManifestVersion(kSimple, ManifestTable(kSimple)["latest_version"]);
  ASSERT_TRUE(v0.contains("rows") && latest.contains("rows"));
  std::multiset<int64_t> old_ids, new_ids;
  for (const auto& row : v0["rows"]) old_ids.insert(row[0].get<int64_t>());
  for (const auto& row : latest["rows"]) new_ids.insert(row[0].get<int64_t>());
  int64_t expected = 0;
  for (int64_t id : old_ids) expected += static_cast<int64_t>(new_ids.count(id));

  EXPECT_EQ(
      QueryInt("SELECT count(*) FROM (SELECT id FROM " + DeltaRef(kSimple) +
               " VERSION AS OF 0) AS old JOIN " + DeltaRef(kSimple) + " AS cur ON old.id = cur.id"),
      expected);
  // The same version in a scalar subquery inside a predicate on the latest version.
  int64_t old_max = *old_ids.rbegin();
  int64_t expected_le = 0;
  for (int64_t id : new_ids) expected_le += id <= old_max ? 1 : 0;
  EXPECT_EQ(
      QueryInt("SELECT count(*) FROM " + QuotedRef(kSimple) + " WHERE id <= (SELECT max(id) FROM " +
               QuotedRef(kSimple) + " VERSION AS OF 0)"),
      expected_le);
}

TEST_F(SqlSyntaxTest, ExplainOfVersionedScanIsPlanned) {
  auto result = Query("EXPLAIN SELECT count(*) FROM " + DeltaRef(kSimple) + " VERSION AS OF 1");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_FALSE(result->rows.empty());
  std::string plan;
  for (const auto& row : result->rows) plan += Str(row.back());
  EXPECT_NE(ToLower(plan).find("delta_scan"), std::string::npos) << plan;
}

TEST_F(SqlSyntaxTest, PreparedStatementAndUnionOfVersions) {
  int64_t v0 = ManifestVersion(kSimple, 0)["row_count"];
  int64_t v1 = ManifestVersion(kSimple, 1)["row_count"];
  EXPECT_EQ(QueryInt("PREPARE p AS SELECT count(*) FROM " + DeltaRef(kSimple) +
                     " VERSION AS OF 1; EXECUTE p"),
            v1);
  EXPECT_EQ(QueryInt("WITH u AS (SELECT id FROM " + DeltaRef(kSimple) +
                     " VERSION AS OF 0 UNION ALL SELECT id FROM " + QuotedRef(kSimple) +
                     " VERSION AS OF 1) SELECT count(*) FROM u"),
            v0 + v1);
}

TEST_F(SqlSyntaxTest, ExplainAnalyzeFailsLoudly) {
  // ClientContext would silently skip the profile for a rewritten statement.
  auto result = Query("EXPLAIN ANALYZE SELECT count(*) FROM " + DeltaRef(kSimple));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotSupported) << result.status();
  EXPECT_NE(result.status().message().find("delta_scan("), std::string::npos) << result.status();
  ExpectStillUsable();
}

TEST_F(SqlSyntaxTest, TimestampAsOfNewestCommitReadsLatestVersion) {
  // Without in-commit timestamps a commit's time is its file's modification time; at the
  // newest of them the table is at its latest version, whatever order checkout wrote them.
  int64_t latest = ManifestTable(kSimple)["latest_version"];
  int64_t newest_ms = 0;
  for (int64_t v = 0; v <= latest; ++v)
    newest_ms = std::max(newest_ms, CommitFileMtimeMs(kSimple, v));
  std::string ts = TimestampText(newest_ms * 1000);  // "YYYY-MM-DDTHH:MM:SS.ffffff", UTC
  ts[10] = ' ';
  EXPECT_EQ(QueryInt("SELECT count(*) FROM " + DeltaRef(kSimple) + " TIMESTAMP AS OF '" + ts + "'"),
            ManifestVersion(kSimple, latest)["row_count"].get<int64_t>());
}

TEST_F(SqlSyntaxTest, TimestampAsOfBeforeFirstCommitIsClearError) {
  auto result =
      Query("SELECT count(*) FROM " + DeltaRef(kSimple) + " TIMESTAMP AS OF '1970-01-02 00:00:00'");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status();
  EXPECT_FALSE(result.status().hint().empty()) << result.status();
  ExpectStillUsable();
}

TEST_F(SqlSyntaxTest, VersionAsOfBeyondLatestIsNotFound) {
  auto result = Query("SELECT * FROM " + DeltaRef(kSimple) + " VERSION AS OF 99");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound) << result.status();
  EXPECT_FALSE(result.status().hint().empty()) << result.status();  // survives DuckDB
  ExpectStillUsable();
}

TEST_F(SqlSyntaxTest, DescribeHistoryMatchesCommitInfoInLog) {
  auto result = Query("DESCRIBE HISTORY " + DeltaRef(kSimple));
  ASSERT_TRUE(result.ok()) << result.status();
  int64_t latest = ManifestTable(kSimple)["latest_version"];
  ASSERT_EQ(result->rows.size(), static_cast<size_t>(latest + 1));
  for (size_t i = 0; i < result->rows.size(); ++i) {
    const auto& row = result->rows[i];
    int64_t version = latest - static_cast<int64_t>(i);  // newest first
    SCOPED_TRACE("version " + std::to_string(version));
    EXPECT_EQ(Int(row[Col(*result, "version")]), version);
    nlohmann::json info = RawCommitInfo(kSimple, version);
    ASSERT_FALSE(info.is_null());
    EXPECT_EQ(Str(row[Col(*result, "operation")]), info["operation"].get<std::string>());
    if (info.contains("operationParameters")) {
      EXPECT_EQ(nlohmann::json::parse(Str(row[Col(*result, "operation_parameters")])),
                info["operationParameters"]);
    }
    const Value& read_version = row[Col(*result, "read_version")];
    if (info.contains("readVersion")) {
      EXPECT_EQ(Int(read_version), info["readVersion"].get<int64_t>());
    } else {
      EXPECT_TRUE(read_version.is_null());
    }
    const Value& blind = row[Col(*result, "is_blind_append")];
    if (info.contains("isBlindAppend")) {
      EXPECT_EQ(std::get<bool>(blind.v), info["isBlindAppend"].get<bool>());
    } else {
      EXPECT_TRUE(blind.is_null());
    }
    // No in-commit timestamps in this table: the commit time is the file's mtime.
    EXPECT_EQ(Int(row[Col(*result, "timestamp")]), CommitFileMtimeMs(kSimple, version) * 1000);
  }
}

TEST_F(SqlSyntaxTest, DescribeHistoryLimitKeepsNewest) {
  auto result = Query("describe history " + QuotedRef(kAppend) + " limit 1");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->rows.size(), 1u);
  EXPECT_EQ(Int(result->rows[0][0]), ManifestTable(kAppend)["latest_version"].get<int64_t>());
  nlohmann::json info = RawCommitInfo(kAppend, 1);
  EXPECT_EQ(Str(result->rows[0][Col(*result, "engine_info")]),
            info["engineInfo"].get<std::string>());
}

TEST_F(SqlSyntaxTest, DescribeHistoryAfterOtherStatements) {
  auto result = Query("SELECT 1; DESCRIBE HISTORY " + DeltaRef(kAppend));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->rows.size(), 2u);
}

TEST_F(SqlSyntaxTest, SyntaxErrorInOurFormSaysWhatWasExpected) {
  auto result = Query("DESCRIBE HISTORY " + DeltaRef(kSimple) + " LIMIT many");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("lake: expected a non-negative integer after LIMIT "
                                           "near \"many\""),
            std::string::npos)
      << result.status();

  result = Query("SELECT * FROM " + DeltaRef(kSimple) + " VERSION AS OF latest");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("lake: expected a non-negative integer version"),
            std::string::npos)
      << result.status();
  ExpectStillUsable();
}

TEST_F(SqlSyntaxTest, UnknownTextKeepsDuckDBError) {
  auto result = Query("SELEC 1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message().find("lake:"), std::string::npos) << result.status();
  EXPECT_NE(result.status().message().find("SELEC"), std::string::npos) << result.status();
}

TEST_F(SqlSyntaxTest, MissingTableNamesThePath) {
  std::string missing = ConformanceDir() + "/no-such-table";
  auto result = Query("SELECT * FROM delta.`" + missing + "`");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound) << result.status();
  EXPECT_FALSE(result.status().hint().empty()) << result.status();  // survives DuckDB
  EXPECT_NE(result.status().message().find("no-such-table"), std::string::npos) << result.status();
  ExpectStillUsable();
}

}  // namespace
}  // namespace lake::engine::testing
