// The change data feed of every conformance table whose manifest entry has expect.cdf: the
// rows of table_changes_by_path(dir, start, end) must equal the manifest's cdf rows (written by
// the oracle from the other engines' CDF readers), compared as a multiset in the manifest's
// canonical encoding (canonical_rows.h). _commit_timestamp is not compared: the manifest
// omits it because git checkouts do not keep file modification times.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/canonical_rows.h"
#include "engine/database.h"

namespace lake::conformance {
namespace {

using nlohmann::json;

const std::string kCdfCorpusDir =
    std::filesystem::weakly_canonical(std::filesystem::path(LAKE_CONFORMANCE_DIR)).string();

struct CdfCase {
  std::string test_name;
  std::string path;
  json range;  // one element of expect.cdf
};

void PrintTo(const CdfCase& c, std::ostream* os) { *os << c.test_name; }

std::vector<CdfCase> LoadCdfCases() {
  std::ifstream in(kCdfCorpusDir + "/manifest.json");
  json manifest = json::parse(in, nullptr, /*allow_exceptions=*/false);
  std::vector<CdfCase> cases;
  if (manifest.is_discarded() || !manifest.contains("tables")) {
    cases.push_back(CdfCase{"manifest_unreadable", "", nullptr});
    return cases;
  }
  for (const json& table : manifest["tables"]) {
    if (!table.contains("expect") || !table["expect"].contains("cdf")) continue;
    for (const json& range : table["expect"]["cdf"]) {
      std::string name;
      for (char c : table["path"].get<std::string>()) {
        name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
      }
      name += "_" + std::to_string(range["start"].get<int64_t>());
      if (range.contains("end")) name += "_" + std::to_string(range["end"].get<int64_t>());
      cases.push_back(CdfCase{name, table["path"].get<std::string>(), range});
    }
  }
  return cases;
}

engine::Database* CdfDb() {
  static std::unique_ptr<engine::Database> db = [] {
    Result<std::unique_ptr<engine::Database>> opened = engine::Database::Open();
    if (!opened.ok()) {
      ADD_FAILURE() << "cannot open the engine: " << opened.status();
      return std::unique_ptr<engine::Database>();
    }
    return std::move(opened).value();
  }();
  return db.get();
}

std::string Quoted(const std::string& s, char q) {
  std::string out(1, q);
  for (char c : s) {
    out.push_back(c);
    if (c == q) out.push_back(q);
  }
  return out + q;
}

class CdfTable : public ::testing::TestWithParam<CdfCase> {};

TEST_P(CdfTable, ChangeRowsMatchManifest) {
  const CdfCase& c = GetParam();
  ASSERT_FALSE(c.range.is_null()) << "cannot read " << kCdfCorpusDir << "/manifest.json";
  ASSERT_NE(CdfDb(), nullptr);
  Result<std::unique_ptr<engine::Session>> session = CdfDb()->Connect();
  ASSERT_TRUE(session.ok()) << session.status();

  std::string select;
  for (const json& col : c.range["columns"]) {
    if (!select.empty()) select += ", ";
    select += Quoted(col.get<std::string>(), '"');
  }
  std::string sql = "SELECT " + select + " FROM table_changes_by_path(" +
                    Quoted(kCdfCorpusDir + "/" + c.path, '\'') + ", " +
                    std::to_string(c.range["start"].get<int64_t>());
  if (c.range.contains("end")) sql += ", " + std::to_string(c.range["end"].get<int64_t>());
  sql += ")";
  Result<engine::ResultTable> result = (*session)->Query(sql);
  ASSERT_TRUE(result.ok()) << sql << "\n" << result.status();

  EXPECT_EQ(static_cast<int64_t>(result->rows.size()), c.range["row_count"].get<int64_t>());
  std::vector<std::string> got, got_exact;
  for (const auto& row : result->rows) {
    json encoded = json::array();
    for (size_t i = 0; i < row.size(); ++i) {
      encoded.push_back(EncodeValue(row[i], result->columns[i].type));
    }
    got.push_back(RowCompareKey(encoded, result->columns));
    got_exact.push_back(ExactText(encoded));
  }
  std::vector<std::string> want;
  for (const json& row : c.range["rows"]) want.push_back(RowCompareKey(row, result->columns));
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  if (got != want) {
    std::vector<std::string> missing, extra;
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                        std::back_inserter(missing));
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                        std::back_inserter(extra));
    std::ostringstream msg;
    msg << missing.size() << " expected change rows missing, " << extra.size() << " unexpected";
    for (const std::string& m : missing) msg << "\n  missing " << m;
    for (const std::string& e : extra) msg << "\n  extra   " << e;
    ADD_FAILURE() << msg.str();
  }
  if (c.range.contains("rows_sha256")) {
    std::sort(got_exact.begin(), got_exact.end());
    std::string joined;
    for (size_t i = 0; i < got_exact.size(); ++i) joined += (i ? "\n" : "") + got_exact[i];
    EXPECT_EQ(Sha256Hex(joined), c.range["rows_sha256"].get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(Conformance, CdfTable, ::testing::ValuesIn(LoadCdfCases()),
                         [](const ::testing::TestParamInfo<CdfCase>& info) {
                           return info.param.test_name;
                         });

}  // namespace
}  // namespace lake::conformance
