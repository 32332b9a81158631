// delta_files / delta_detail / delta_history over the conformance corpus. Expected values
// come from the manifest (an independent log replay), from file paths Spark wrote, or from
// the raw log files; never from lake's own output.
#include <algorithm>
#include <set>

#include "base/strings.h"
#include "sql_test_util.h"

namespace lake::engine::testing {
namespace {

class InspectTest : public SqlTest {
 protected:
  static std::string Files(const std::string& table, int64_t version) {
    return "delta_files('" + TablePath(table) + "', version := " + std::to_string(version) + ")";
  }
};

std::vector<std::string> ManifestTables(bool ok_only) {
  std::vector<std::string> out;
  for (const auto& t : Manifest()["tables"]) {
    if (!ok_only || t["expect"]["outcome"] == "ok") out.push_back(t["path"]);
  }
  return out;
}

TEST_F(InspectTest, FilesMatchManifestAtEveryVersion) {
  for (const char* table : {"delta-rs/simple_table", "dat/basic_append", "dat/multi_partitioned"}) {
    for (const auto& version : ManifestTable(table)["expect"]["versions"]) {
      int64_t v = version["version"];
      SCOPED_TRACE(std::string(table) + " version " + std::to_string(v));
      EXPECT_EQ(QueryInt("SELECT count(*) FROM " + Files(table, v)),
                version["num_files"].get<int64_t>());
      EXPECT_EQ(QueryInt("SELECT sum(size_bytes)::BIGINT FROM " + Files(table, v)),
                version["size_bytes"].get<int64_t>());
      if (!version.contains("active_files")) continue;
      auto paths = Query("SELECT path FROM " + Files(table, v) + " ORDER BY path");
      ASSERT_TRUE(paths.ok()) << paths.status();
      std::vector<std::string> got;
      for (const auto& row : paths->rows) got.push_back(Str(row[0]));
      std::vector<std::string> expected = version["active_files"];
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(got, expected);
    }
  }
}

// Undoes Hive-style escaping of one path component (%XX).
std::string HiveUnescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

TEST_F(InspectTest, PartitionValuesMatchTheDirectoriesSparkWrote) {
  const std::string table = "dat/multi_partitioned";
  int64_t latest = ManifestTable(table)["latest_version"];
  int checked = 0;
  for (int64_t v = 0; v <= latest; ++v) {
    auto files = Query("SELECT path, partition_values FROM " + Files(table, v));
    ASSERT_TRUE(files.ok()) << files.status();
    for (const auto& row : files->rows) {
      SCOPED_TRACE(Str(row[0]));
      std::map<std::string, std::optional<std::string>> got;
      for (const auto& [k, val] : *std::get<std::shared_ptr<ValueMap>>(row[1].v)) {
        got[Str(k)] = val.is_null() ? std::nullopt : std::optional<std::string>(Str(val));
      }
      std::map<std::string, std::optional<std::string>> expected;
      for (const std::string& part : StrSplit(Str(row[0]), '/')) {
        size_t eq = part.find('=');
        if (eq == std::string::npos) continue;
        std::string value = part.substr(eq + 1);
        expected[part.substr(0, eq)] = value == "__HIVE_DEFAULT_PARTITION__"
                                           ? std::nullopt
                                           : std::optional<std::string>(HiveUnescape(value));
      }
      EXPECT_EQ(got, expected);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

TEST_F(InspectTest, RecordsMinusDeletedRowsIsManifestRowCount) {
  // Live rows = numRecords of each file - rows its deletion vector removes.
  for (const char* table :
       {"delta-rs/table-with-dv-small", "delta-kernel-java/basic-dv-no-checkpoint",
        "delta-spark-golden/log-replay-dv-key-cases", "delta-kernel-rs/cdf-table-with-dv"}) {
    int with_dv = 0;
    for (const auto& version : ManifestTable(table)["expect"]["versions"]) {
      int64_t v = version["version"];
      SCOPED_TRACE(std::string(table) + " version " + std::to_string(v));
      EXPECT_EQ(QueryInt("SELECT count(*) FROM " + Files(table, v) + " WHERE num_records IS NULL"),
                0);
      EXPECT_EQ(QueryInt("SELECT (sum(num_records) - coalesce(sum(dv_cardinality), 0))::BIGINT "
                         "FROM " +
                         Files(table, v)),
                version["row_count"].get<int64_t>());
      with_dv += static_cast<int>(
          QueryInt("SELECT count(*) FROM " + Files(table, v) + " WHERE dv_cardinality > 0"));
    }
    EXPECT_GT(with_dv, 0) << table << " should have deletion vectors";
  }
}

TEST_F(InspectTest, DetailMatchesManifestForEveryReadableTable) {
  for (const std::string& table : ManifestTables(/*ok_only=*/true)) {
    SCOPED_TRACE(table);
    const nlohmann::json& entry = ManifestTable(table);
    int64_t latest = entry["latest_version"];
    auto result = Query("SELECT * FROM delta_detail('" + TablePath(table) + "')");
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->rows.size(), 1u);
    const auto& row = result->rows[0];
    const ResultTable& r = *result;
    EXPECT_EQ(Int(row[Col(r, "version")]), latest);
    const nlohmann::json& protocol = entry["protocol"];
    EXPECT_EQ(Int(row[Col(r, "min_reader_version")]), protocol["minReaderVersion"].get<int64_t>());
    EXPECT_EQ(Int(row[Col(r, "min_writer_version")]), protocol["minWriterVersion"].get<int64_t>());
    for (const char* key : {"readerFeatures", "writerFeatures"}) {
      const Value& got =
          row[Col(r, key == std::string("readerFeatures") ? "reader_features" : "writer_features")];
      if (!protocol.contains(key)) {
        EXPECT_TRUE(got.is_null()) << key;
        continue;
      }
      ASSERT_FALSE(got.is_null()) << key;
      std::set<std::string> got_set, expected_set;
      for (const Value& f : *std::get<std::shared_ptr<ValueList>>(got.v)) got_set.insert(Str(f));
      for (const auto& f : protocol[key]) expected_set.insert(f.get<std::string>());
      EXPECT_EQ(got_set, expected_set) << key;
    }
    nlohmann::json latest_version = ManifestVersion(table, latest);
    if (!latest_version.is_null()) {
      EXPECT_EQ(Int(row[Col(r, "num_files")]), latest_version["num_files"].get<int64_t>());
      EXPECT_EQ(Int(row[Col(r, "size_bytes")]), latest_version["size_bytes"].get<int64_t>());
    }
    nlohmann::json partition_columns = ManifestVersionKey(table, latest, "partition_columns");
    if (!partition_columns.is_null()) {
      std::vector<std::string> got;
      for (const Value& c :
           *std::get<std::shared_ptr<ValueList>>(row[Col(r, "partition_columns")].v)) {
        got.push_back(Str(c));
      }
      EXPECT_EQ(got, partition_columns.get<std::vector<std::string>>());
    }
    nlohmann::json mode = ManifestVersionKey(table, latest, "column_mapping_mode");
    if (!mode.is_null()) {
      EXPECT_EQ(Str(row[Col(r, "column_mapping_mode")]), mode.get<std::string>());
    }
  }
}

TEST_F(InspectTest, DetailAtOldVersion) {
  const std::string table = "delta-rs/simple_table";
  auto result = Query("SELECT version, num_files, size_bytes FROM delta_detail('" +
                      TablePath(table) + "', version := 1)");
  ASSERT_TRUE(result.ok()) << result.status();
  nlohmann::json v1 = ManifestVersion(table, 1);
  EXPECT_EQ(Int(result->rows[0][0]), 1);
  EXPECT_EQ(Int(result->rows[0][1]), v1["num_files"].get<int64_t>());
  EXPECT_EQ(Int(result->rows[0][2]), v1["size_bytes"].get<int64_t>());
}

TEST_F(InspectTest, HistoryListsEveryCommitNewestFirst) {
  const std::string table = "dat/basic_append";
  auto result = Query("SELECT version, operation FROM delta_history('" + TablePath(table) + "')");
  ASSERT_TRUE(result.ok()) << result.status();
  int64_t latest = ManifestTable(table)["latest_version"];
  ASSERT_EQ(result->rows.size(), static_cast<size_t>(latest + 1));
  for (int64_t i = 0; i <= latest; ++i) {
    EXPECT_EQ(Int(result->rows[i][0]), latest - i);
    EXPECT_EQ(Str(result->rows[i][1]),
              RawCommitInfo(table, latest - i)["operation"].get<std::string>());
  }
}

TEST_F(InspectTest, ErrorTablesFailWithTypedErrors) {
  // Tables the manifest says must not load: an error (not a crash, not an invalidated
  // database), with a code that says what to do.
  for (const std::string& table : ManifestTables(/*ok_only=*/false)) {
    const nlohmann::json& entry = ManifestTable(table);
    if (entry["expect"]["outcome"] == "ok") continue;
    SCOPED_TRACE(table);
    auto result = Query("SELECT * FROM delta_detail('" + TablePath(table) + "')");
    ASSERT_FALSE(result.ok());
    std::string category = entry["expect"]["error"]["category"];
    StatusCode expected = (category.rfind("unsupported", 0) == 0) ? StatusCode::kNotSupported
                                                                  : StatusCode::kCorruption;
    EXPECT_EQ(result.status().code(), expected) << result.status();
    ExpectStillUsable();
  }
}

TEST_F(InspectTest, MissingTableAndVersionAreNotFound) {
  auto result = Query("SELECT * FROM delta_files('" + ConformanceDir() + "/no-such-table')");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound) << result.status();
  EXPECT_FALSE(result.status().hint().empty()) << result.status();

  result = Query("SELECT * FROM " + Files("delta-rs/simple_table", 99));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound) << result.status();
  EXPECT_FALSE(result.status().hint().empty()) << result.status();

  result = Query("SELECT * FROM delta_history(NULL)");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status();
  ExpectStillUsable();
}

}  // namespace
}  // namespace lake::engine::testing
