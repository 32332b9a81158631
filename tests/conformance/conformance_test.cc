// Conformance: every table of ../shared/conformance/manifest.json (Delta tables written by
// Spark, Databricks, delta-rs, ...) is read by lake and checked against the manifest's
// expectations (STYLE.md §9, issue #2 §6). One named test per table:
//   Conformance/Table.Reads/<source>_<table>
// A table lake cannot read fails its test with lake's error, which names the feature; nothing
// is skipped. Expected values come only from the manifest; the row encoder
// (canonical_rows.h) follows the manifest's "canonical_encoding" text, not lake's formatter.
//
// Per listed version of an "ok" table:
//  - log level, through delta::LoadSnapshot: schema (names, Delta types, nullability),
//    partition columns, column mapping mode, num_files, size_bytes, num_tombstones,
//    active_files (+ DV ids), num_files_with_dv, app_transactions, domain_metadata,
//    in_commit_timestamp;
//  - data level, through SQL `delta_scan(path, version := v)`: result column names and types,
//    count(*) = row_count, and the rows as a multiset (or their rows_sha256 where the
//    manifest has only the hash);
//  - data_readable=false (the corpus lacks the data files): the scan must fail naming the file.
// "error" tables must be refused with the expected kind of error (ExpectedErrorFor).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "conformance/canonical_rows.h"
#include "delta/schema.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "engine/delta_engine.h"

namespace lake::conformance {
namespace {

using nlohmann::json;

// Absolute and without "..": the manifest's paths are joined to it and passed to delta_scan.
const std::string kCorpusDir =
    std::filesystem::weakly_canonical(std::filesystem::path(LAKE_CONFORMANCE_DIR)).string();

struct TableCase {
  std::string test_name;  // gtest-safe: [A-Za-z0-9_]
  json entry;             // one element of manifest["tables"]; null if the manifest is unreadable
  std::string load_error;
};

void PrintTo(const TableCase& c, std::ostream* os) { *os << c.test_name; }

std::string TestNameFor(const std::string& path) {
  std::string out;
  for (char c : path) out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return out;
}

std::vector<TableCase> LoadTables() {
  std::ifstream in(kCorpusDir + "/manifest.json");
  json manifest = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.contains("tables")) {
    return {TableCase{"manifest", nullptr,
                      "cannot read " + kCorpusDir + "/manifest.json (set LAKE_CONFORMANCE_DIR)"}};
  }
  std::vector<TableCase> cases;
  std::set<std::string> names;
  for (const json& table : manifest["tables"]) {
    std::string name = TestNameFor(table.value("path", "unnamed"));
    while (!names.insert(name).second) name += "_";
    cases.push_back(TableCase{name, table, ""});
  }
  return cases;
}

// The one engine shared by all tests (opening DuckDB per test would dominate the run); null
// if it cannot be opened, which fails every test in SetUp.
engine::Database* Db() {
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

std::string SqlString(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  return out + "'";
}

std::string ScanExpr(const std::string& dir, std::optional<int64_t> version) {
  std::string out = "delta_scan(" + SqlString(dir);
  if (version) out += ", version := " + std::to_string(*version);
  return out + ")";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ContainsAny(const std::string& haystack, const std::vector<std::string>& needles) {
  const std::string h = Lower(haystack);
  for (const std::string& n : needles) {
    if (h.find(Lower(n)) != std::string::npos) return true;
  }
  return false;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Loads the snapshot of the table in `dir` through lake's Delta core (checkpoints read by the
// engine's DuckDB).
Result<delta::SnapshotPtr> LoadSnapshotOf(const std::string& dir, std::optional<int64_t> version) {
  return engine::LoadTableSnapshot(*Db(), dir, version);
}

// Runs `sql` and keeps every row as its comparison text (and exact text when asked), without
// holding the whole result in memory (COVID-19_NYT has 1.1M rows).
class RowKeys final : public engine::RowSink {
 public:
  explicit RowKeys(bool exact) : exact_(exact) {}
  Status Begin(const std::vector<engine::ResultColumn>& columns) override {
    columns_ = columns;
    return Status::OK();
  }
  Status Rows(const std::vector<std::vector<engine::Value>>& rows) override {
    for (const auto& row : rows) {
      json encoded = json::array();
      for (size_t i = 0; i < row.size() && i < columns_.size(); ++i) {
        encoded.push_back(EncodeValue(row[i], columns_[i].type));
      }
      keys_.push_back(exact_ ? ExactText(encoded) : RowCompareKey(encoded, columns_));
    }
    return Status::OK();
  }
  Status End() override { return Status::OK(); }

  const std::vector<engine::ResultColumn>& columns() const { return columns_; }
  std::vector<std::string>& keys() { return keys_; }

 private:
  bool exact_;
  std::vector<engine::ResultColumn> columns_;
  std::vector<std::string> keys_;
};

// Returns the Delta type name of `type` in the manifest's form.
std::string DeltaTypeName(const delta::DataType& type) {
  using K = delta::TypeKind;
  switch (type.kind) {
    case K::kString: return "string";
    case K::kLong: return "long";
    case K::kInteger: return "integer";
    case K::kShort: return "short";
    case K::kByte: return "byte";
    case K::kFloat: return "float";
    case K::kDouble: return "double";
    case K::kDecimal:
      return "decimal(" + std::to_string(type.precision) + "," + std::to_string(type.scale) + ")";
    case K::kBoolean: return "boolean";
    case K::kBinary: return "binary";
    case K::kDate: return "date";
    case K::kTimestamp: return "timestamp";
    case K::kTimestampNtz: return "timestamp_ntz";
    case K::kVoid: return "void";
    case K::kVariant: return "variant";
    case K::kArray: return "array<" + (type.element ? DeltaTypeName(*type.element) : "?") + ">";
    case K::kMap:
      return "map<" + (type.key ? DeltaTypeName(*type.key) : "?") + "," +
             (type.value ? DeltaTypeName(*type.value) : "?") + ">";
    case K::kStruct: {
      std::string out = "struct<";
      for (size_t i = 0; i < type.fields.size(); ++i) {
        out += (i ? "," : "") + type.fields[i].name + ":" + DeltaTypeName(type.fields[i].type);
      }
      return out + ">";
    }
  }
  return "?";
}

// The kind of error an "error" table must be refused with: a StatusCode and words of which the
// message must contain at least one (the feature, the version, or what is wrong).
struct ExpectedError {
  StatusCode code = StatusCode::kOk;
  std::vector<std::string> any_of;
};

std::optional<ExpectedError> ExpectedErrorFor(const json& error) {
  const std::string category = error.value("category", "");
  const std::string reason = error.value("reason", "");
  ExpectedError e;
  if (category == "log-versions-not-contiguous") {
    // A gap in the commit sequence breaks the format (PROTOCOL.md "Delta Log Entries").
    e.code = StatusCode::kCorruption;
    e.any_of = {"missing", "gap", "contiguous"};
  } else if (category == "missing-protocol-action") {
    e.code = StatusCode::kCorruption;
    e.any_of = {"protocol"};
  } else if (category == "unsupported-reader-version" || category == "unsupported-feature") {
    // The protocol gate names the version or every unknown feature (delta/snapshot.h).
    e.code = StatusCode::kNotSupported;
    std::smatch m;
    std::string rest = reason;
    static const std::regex kQuoted("'([^']+)'");
    while (std::regex_search(rest, m, kQuoted)) {
      e.any_of.push_back(m[1]);
      rest = m.suffix();
    }
    static const std::regex kVersion("minReaderVersion (?:is )?([0-9]+)");
    if (std::regex_search(reason, m, kVersion)) e.any_of.push_back("version " + m[1].str());
    static const std::regex kFeature("reader feature ([A-Za-z0-9_-]+)");
    if (std::regex_search(reason, m, kFeature)) e.any_of.push_back(m[1]);
  } else {
    return std::nullopt;
  }
  return e;
}

class Table : public testing::TestWithParam<TableCase> {
 protected:
  void SetUp() override {
    const TableCase& c = GetParam();
    ASSERT_TRUE(c.load_error.empty()) << c.load_error;
    dir_ = kCorpusDir + "/" + c.entry["path"].get<std::string>();
    ASSERT_NE(Db(), nullptr);
    Result<std::unique_ptr<engine::Session>> session = Db()->Connect();
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = std::move(session).value();
  }

  void CheckRefused(const json& expect);
  void CheckVersion(const json& ver, const json& columns);
  void CheckLogLevel(const delta::Snapshot& snap, const json& ver, const json& columns);
  void CheckScan(const json& ver, const json& columns, int64_t version);

  std::string dir_;
  std::unique_ptr<engine::Session> session_;
};

void Table::CheckRefused(const json& expect) {
  const json& error = expect["error"];
  std::optional<ExpectedError> want = ExpectedErrorFor(error);
  ASSERT_TRUE(want.has_value()) << "unknown error category in the manifest: " << error.dump();
  SCOPED_TRACE("expected " + std::string(StatusCodeName(want->code)) + " mentioning one of [" +
               Join(want->any_of) + "]: " + error.value("reason", ""));

  // Which loads must fail: the latest always; for a gap only the versions the manifest marks
  // (version 0 before the gap is whole); a protocol problem present since version 0 at every
  // listed version.
  std::vector<std::optional<int64_t>> loads = {std::nullopt};
  const bool every_version = error.value("category", "") != "log-versions-not-contiguous";
  for (const json& ver : expect["versions"]) {
    if (every_version || ver.contains("error")) loads.push_back(ver["version"].get<int64_t>());
  }
  for (const std::optional<int64_t>& v : loads) {
    SCOPED_TRACE(v ? "version " + std::to_string(*v) : std::string("latest"));
    Result<delta::SnapshotPtr> snap = LoadSnapshotOf(dir_, v);
    ASSERT_FALSE(snap.ok()) << "lake loaded a table it must refuse, at version "
                            << (*snap)->version();
    EXPECT_EQ(snap.status().code(), want->code) << snap.status();
    EXPECT_TRUE(ContainsAny(snap.status().message(), want->any_of)) << snap.status();
  }
  // The SQL path must refuse it too (DuckDB carries only the message).
  Result<engine::ResultTable> scan = session_->Query("SELECT count(*) FROM " + ScanExpr(dir_, {}));
  ASSERT_FALSE(scan.ok()) << "delta_scan read a table it must refuse";
  EXPECT_TRUE(ContainsAny(scan.status().message(), want->any_of)) << scan.status();
}

void Table::CheckLogLevel(const delta::Snapshot& snap, const json& ver, const json& columns) {
  const int64_t version = ver["version"].get<int64_t>();
  EXPECT_EQ(snap.version(), version);

  if (!ver.contains("schema_error") && columns.is_array()) {
    const delta::Schema& schema = snap.schema();
    std::vector<std::string> want, got;
    for (const json& c : columns) {
      want.push_back(c["name"].get<std::string>() + " " + c["type"].get<std::string>() +
                     (c["nullable"].get<bool>() ? "" : " NOT NULL"));
    }
    for (const delta::StructField& f : schema.fields) {
      got.push_back(f.name + " " + DeltaTypeName(f.type) + (f.nullable ? "" : " NOT NULL"));
    }
    EXPECT_EQ(got, want) << "Delta schema of version " << version;
  }
  if (ver.contains("partition_columns")) {
    EXPECT_EQ(snap.metadata().partition_columns,
              ver["partition_columns"].get<std::vector<std::string>>());
  }
  if (ver.contains("column_mapping_mode")) {
    EXPECT_EQ(snap.column_mapping_mode(), ver["column_mapping_mode"].get<std::string>());
  }
  if (ver.contains("num_files")) {
    EXPECT_EQ(static_cast<int64_t>(snap.files().size()), ver["num_files"].get<int64_t>());
  }
  if (ver.contains("size_bytes")) {
    EXPECT_EQ(snap.size_bytes(), ver["size_bytes"].get<int64_t>());
  }
  if (ver.contains("num_tombstones")) {
    EXPECT_EQ(static_cast<int64_t>(snap.tombstones().size()), ver["num_tombstones"].get<int64_t>());
  }
  if (ver.contains("active_files")) {
    // The manifest names a file by its path decoded once, plus " [dv:<unique id>]" when it
    // carries a deletion vector (PROTOCOL.md: a file is keyed by path and DV id).
    std::vector<std::string> got;
    for (const delta::AddFile& add : snap.files()) {
      std::string name = PercentDecode(add.path);
      if (add.deletion_vector) name += " [dv:" + add.deletion_vector->UniqueId() + "]";
      got.push_back(name);
    }
    std::sort(got.begin(), got.end());
    auto want = ver["active_files"].get<std::vector<std::string>>();
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
  }
  if (ver.contains("num_files_with_dv")) {
    const auto with_dv = std::count_if(snap.files().begin(), snap.files().end(),
                                       [](const delta::AddFile& f) { return f.deletion_vector.has_value(); });
    EXPECT_EQ(with_dv, ver["num_files_with_dv"].get<int64_t>());
  }
  if (ver.contains("app_transactions")) {
    std::map<std::string, int64_t> got;
    for (const auto& [app, txn] : snap.txns()) got[app] = txn.version;
    EXPECT_EQ(got, (ver["app_transactions"].get<std::map<std::string, int64_t>>()));
  }
  if (ver.contains("domain_metadata")) {
    std::map<std::string, std::string> got;
    for (const auto& [domain, dm] : snap.domains()) got[domain] = dm.configuration;
    EXPECT_EQ(got, (ver["domain_metadata"].get<std::map<std::string, std::string>>()));
  }
  if (ver.contains("in_commit_timestamp")) {
    EXPECT_EQ(snap.timestamp_ms(), ver["in_commit_timestamp"].get<int64_t>());
  }
  // crc_agrees records that the writer's .crc file matched the oracle's replay; lake does not
  // read .crc files, so there is nothing of lake's to check against it.
}

void Table::CheckScan(const json& ver, const json& columns, int64_t version) {
  const std::string scan = ScanExpr(dir_, version);

  if (ver.contains("data_readable") && !ver["data_readable"].get<bool>()) {
    // The corpus lacks this version's data files: a read must fail, never return rows.
    Result<engine::ResultTable> r = session_->Query("SELECT * FROM " + scan);
    ASSERT_FALSE(r.ok()) << "read version " << version << " although its data files are missing";
    std::string missing = ver.value("data_error", "");
    const std::string prefix = "data file missing: ";
    if (missing.rfind(prefix, 0) == 0) missing = missing.substr(prefix.size());
    EXPECT_TRUE(ContainsAny(r.status().message(), {missing})) << r.status();
    return;
  }

  if (ver.contains("row_count")) {
    Result<engine::ResultTable> r = session_->Query("SELECT count(*) FROM " + scan);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->rows.size(), 1u);
    const int64_t* n = std::get_if<int64_t>(&r->rows[0][0].v);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(*n, ver["row_count"].get<int64_t>()) << "count(*) at version " << version;
  }

  const bool comparable = ver.value("rows_comparable", true);
  const bool has_rows = ver.contains("rows");
  const bool has_hash = ver.contains("rows_sha256");
  if (!has_rows && !has_hash && comparable) return;

  // rows_comparable=false (variant columns, which the canonical encoding leaves out): the
  // rows must still be readable, and as many as row_count.
  RowKeys keys(/*exact=*/!has_rows);
  Status st = session_->QueryStreaming("SELECT * FROM " + scan, keys);
  ASSERT_TRUE(st.ok()) << st;

  if (columns.is_array()) {
    std::vector<std::string> want, got;
    for (const json& c : columns) {
      std::string type = c["type"].get<std::string>();
      // DuckDB 1.4 has no variant type, so the engine's stand-in is not compared; the Delta
      // schema check in CheckLogLevel covers those columns.
      if (type.find("variant") != std::string::npos) type = "<variant>";
      want.push_back(c["name"].get<std::string>() + " " + type);
    }
    for (size_t i = 0; i < keys.columns().size(); ++i) {
      const engine::ResultColumn& col = keys.columns()[i];
      std::string type = DeltaTypeNameOf(col.type);
      if (i < want.size() && want[i].ends_with(" <variant>")) type = "<variant>";
      // A Delta void column has no DuckDB counterpart: DuckDB turns a NULL-typed table
      // function column into INTEGER. Its values are all NULL, which the row check verifies.
      if (i < want.size() && want[i].ends_with(" void") && type == "integer") type = "void";
      got.push_back(col.name + " " + type);
    }
    EXPECT_EQ(got, want) << "result columns of SELECT * at version " << version;
  }
  if (ver.contains("row_count")) {
    EXPECT_EQ(static_cast<int64_t>(keys.keys().size()), ver["row_count"].get<int64_t>())
        << "rows of SELECT * at version " << version;
  }
  if (!comparable) return;

  // The manifest's rows are compared, never alternate_rows_from_source: for a timestamp
  // partition value written without a zone the manifest reads it as UTC, as issue #2 §3 pins
  // for lake (Spark's own expected data read it in the writer's America/Los_Angeles zone).
  std::vector<std::string>& got = keys.keys();
  std::sort(got.begin(), got.end());
  if (has_rows) {
    std::vector<std::string> want;
    for (const json& row : ver["rows"]) want.push_back(RowCompareKey(row, keys.columns()));
    std::sort(want.begin(), want.end());
    if (got != want) {
      std::vector<std::string> missing, extra;
      std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                          std::back_inserter(missing));
      std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                          std::back_inserter(extra));
      std::ostringstream msg;
      msg << "rows differ at version " << version << ": " << missing.size()
          << " expected rows missing, " << extra.size() << " unexpected rows";
      for (size_t i = 0; i < std::min<size_t>(missing.size(), 5); ++i) msg << "\n  missing " << missing[i];
      for (size_t i = 0; i < std::min<size_t>(extra.size(), 5); ++i) msg << "\n  extra   " << extra[i];
      ADD_FAILURE() << msg.str();
    }
  } else {
    // Only the hash is listed (large tables): the exact canonical texts, sorted by bytes,
    // joined with '\n'.
    std::string joined;
    for (size_t i = 0; i < got.size(); ++i) {
      if (i) joined.push_back('\n');
      joined += got[i];
    }
    EXPECT_EQ(Sha256Hex(joined), ver["rows_sha256"].get<std::string>())
        << "rows_sha256 at version " << version << " (" << got.size() << " rows)";
  }
}

// Tables lake reads at the log level but refuses to scan, each with the word its error must
// name (docs/compatibility.md lists the same). The refusal is asserted, not skipped: the scan
// must fail with NOT_SUPPORTED naming the feature, and once lake learns to read the table the
// test fails until the entry is removed and the full checks run.
const std::map<std::string, std::string>& DocumentedRefusals() {
  static const std::map<std::string, std::string> kRefusals = {
      // DuckDB 1.4 has no VARIANT type and lake does not decode the variant encoding yet.
      {"delta-spark-golden/spark-variant-checkpoint", "variant"},
  };
  return kRefusals;
}

std::optional<std::string> DocumentedRefusal(const json& table) {
  auto it = DocumentedRefusals().find(table["path"].get<std::string>());
  if (it == DocumentedRefusals().end()) return std::nullopt;
  return it->second;
}

void Table::CheckVersion(const json& ver, const json& columns) {
  const int64_t version = ver["version"].get<int64_t>();
  Result<delta::SnapshotPtr> snap = LoadSnapshotOf(dir_, version);
  if (ver.contains("schema_error")) {
    // The metaData has no schemaString (log-only fixtures). The manifest lists the file-level
    // state; a reader may refuse the version for the missing schema, but only saying so.
    if (snap.ok()) {
      CheckLogLevel(**snap, ver, columns);
    } else {
      EXPECT_TRUE(ContainsAny(snap.status().message(), {"schema"})) << snap.status();
    }
    Result<engine::ResultTable> r = session_->Query("SELECT * FROM " + ScanExpr(dir_, version));
    EXPECT_FALSE(r.ok()) << "scanned version " << version << " which has no schema";
    return;
  }
  ASSERT_TRUE(snap.ok()) << snap.status();
  CheckLogLevel(**snap, ver, columns);
  if (std::optional<std::string> feature = DocumentedRefusal(GetParam().entry)) {
    Result<engine::ResultTable> r = session_->Query("SELECT * FROM " + ScanExpr(dir_, version));
    ASSERT_FALSE(r.ok()) << "lake now reads this table: remove it from DocumentedRefusals()";
    EXPECT_EQ(r.status().code(), StatusCode::kNotSupported) << r.status();
    EXPECT_TRUE(ContainsAny(r.status().message(), {*feature})) << r.status();
    return;
  }
  CheckScan(ver, columns, version);
}

TEST_P(Table, Reads) {
  const json& table = GetParam().entry;
  const json& expect = table["expect"];
  const std::string outcome = expect.value("outcome", "");
  if (outcome == "error") {
    CheckRefused(expect);
    return;
  }
  ASSERT_EQ(outcome, "ok");
  // expect.cdf (change data feed rows) is left to the CDF work of issue #4
  // (`table_changes`), as issue #2 §6 allows; everything else here is checked.

  // The latest snapshot is the manifest's latest_version, and a scan without a version reads
  // it with latest_columns.
  Result<delta::SnapshotPtr> latest = LoadSnapshotOf(dir_, std::nullopt);
  const bool latest_has_schema = !expect["versions"].back().contains("schema_error");
  if (latest_has_schema || latest.ok()) {
    ASSERT_TRUE(latest.ok()) << latest.status();
    EXPECT_EQ((*latest)->version(), table["latest_version"].get<int64_t>());
  }
  if (expect.contains("latest_columns") && latest_has_schema && !DocumentedRefusal(table)) {
    Result<engine::ResultTable> r =
        session_->Query("SELECT * FROM " + ScanExpr(dir_, std::nullopt) + " LIMIT 0");
    // When the latest version's data files are missing from the corpus, planning may already
    // fail on them; the names are then compared only if the scan gets that far.
    if (r.ok()) {
      std::vector<std::string> names;
      for (const engine::ResultColumn& c : r->columns) names.push_back(c.name);
      EXPECT_EQ(names, expect["latest_columns"].get<std::vector<std::string>>());
    } else if (expect["versions"].back().value("data_readable", true)) {
      ADD_FAILURE() << "latest scan: " << r.status();
    }
  }

  json columns;  // a version without "columns" has the schema of the version before it
  for (const json& ver : expect["versions"]) {
    SCOPED_TRACE("version " + std::to_string(ver["version"].get<int64_t>()));
    if (ver.contains("columns")) columns = ver["columns"];
    CheckVersion(ver, columns);
  }
}

INSTANTIATE_TEST_SUITE_P(Conformance, Table, testing::ValuesIn(LoadTables()),
                         [](const testing::TestParamInfo<TableCase>& info) {
                           return info.param.test_name;
                         });

}  // namespace
}  // namespace lake::conformance
