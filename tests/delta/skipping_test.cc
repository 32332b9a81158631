#include "delta/skipping.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <sstream>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>

#include "base/strings.h"

#include "delta/values_test_util.h"

namespace lake::delta {
namespace {

Schema MustParseSchema(std::string_view json) {
  Result<Schema> s = ParseSchema(json);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Schema{};
}

const Literal* FindStat(const std::vector<std::pair<std::string, Literal>>& v,
                        std::string_view name) {
  for (const auto& [k, lit] : v) {
    if (k == name) return &lit;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// ParseFileStats

TEST(ParseFileStats, ReadsSparkStatsOfEveryType) {
  Schema schema = MustParseSchema(R"j({"type":"struct","fields":[
    {"name":"as_int","type":"integer","nullable":true,"metadata":{}},
    {"name":"as_long","type":"long","nullable":true,"metadata":{}},
    {"name":"as_float","type":"float","nullable":true,"metadata":{}},
    {"name":"as_string","type":"string","nullable":true,"metadata":{}},
    {"name":"as_date","type":"date","nullable":true,"metadata":{}},
    {"name":"as_timestamp","type":"timestamp","nullable":true,"metadata":{}},
    {"name":"as_big_decimal","type":"decimal(38,18)","nullable":true,"metadata":{}},
    {"name":"nested","type":{"type":"struct","fields":[{"name":"x","type":"long","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]})j");
  // Shape as written by Spark (delta-spark-golden/data-skipping-basic-stats-all-types),
  // with values changed to be distinguishable.
  std::string stats = R"({"numRecords":3,"minValues":{"as_int":-1,"as_long":5,"as_float":0.5,
    "as_string":"a\"b","as_date":"2000-01-01","as_timestamp":"2000-01-01T00:00:00.000-08:00",
    "as_big_decimal":12345678901234567890.123456789012345678,"nested":{"x":1}},
    "maxValues":{"as_int":7,"as_long":9},"nullCount":{"as_int":0,"as_long":2,"nested":{"x":0}}})";
  FileStats s = ParseFileStats(stats, schema, "none");
  ASSERT_EQ(s.num_records, 3);
  EXPECT_TRUE(s.tight_bounds);
  EXPECT_EQ(std::get<int64_t>(*FindStat(s.min_values, "as_int")), -1);
  EXPECT_EQ(std::get<int64_t>(*FindStat(s.max_values, "as_long")), 9);
  EXPECT_EQ(std::get<double>(*FindStat(s.min_values, "as_float")), 0.5);
  EXPECT_EQ(std::get<std::string>(*FindStat(s.min_values, "as_string")), "a\"b");
  EXPECT_EQ(std::get<Date>(*FindStat(s.min_values, "as_date")).days, 10957);
  // 2000-01-01T08:00:00Z = 946713600 s
  EXPECT_EQ(std::get<Timestamp>(*FindStat(s.min_values, "as_timestamp")).micros,
            946713600LL * 1000000);
  EXPECT_EQ(std::get<Decimal>(*FindStat(s.min_values, "as_big_decimal")).ToString(),
            "12345678901234567890.123456789012345678");
  EXPECT_EQ(FindStat(s.min_values, "nested"), nullptr);
  ASSERT_EQ(s.null_count.size(), 2u);
  EXPECT_EQ(s.null_count[1], (std::pair<std::string, int64_t>{"as_long", 2}));
}

TEST(ParseFileStats, ReadsRealColumnMappingStatsByPhysicalName) {
  std::string log = testing::ReadFileOrFail(testing::ConformancePath(
      "delta-kernel-java/data-reader-primitives-column-mapping-name/_delta_log/"
      "00000000000000000000.json"));
  std::istringstream lines(log);
  std::string line, schema_string, stats;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("metaData")) schema_string = j["metaData"]["schemaString"];
    if (j.contains("add") && stats.empty()) stats = j["add"]["stats"];
  }
  Schema schema = MustParseSchema(schema_string);
  nlohmann::json raw = nlohmann::json::parse(stats);
  FileStats s = ParseFileStats(stats, schema, "name");
  ASSERT_EQ(s.num_records, raw["numRecords"].get<int64_t>());
  const Literal* min_int = FindStat(s.min_values, "as_int");
  ASSERT_NE(min_int, nullptr);
  EXPECT_EQ(std::get<int64_t>(*min_int),
            raw["minValues"]["col-41726333-d452-47f3-b9ed-0adff6ffeabf"].get<int64_t>());
  // Without column mapping the physical keys match no column.
  FileStats none = ParseFileStats(stats, schema, "none");
  EXPECT_TRUE(none.min_values.empty());
}

TEST(ParseFileStats, TightBoundsFalse) {
  Schema schema = MustParseSchema(
      R"({"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]})");
  FileStats s = ParseFileStats(R"({"numRecords":2,"tightBounds":false,"nullCount":{"a":1}})",
                               schema, "none");
  EXPECT_FALSE(s.tight_bounds);
  EXPECT_EQ(s.num_records, 2);
}

TEST(ParseFileStats, MalformedStatsAreUnknownNotAnError) {
  Schema schema = MustParseSchema(
      R"({"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]})");
  for (const char* bad : {"", "{", "[]", "null", R"({"numRecords":"x"})",
                          R"({"numRecords":1,"minValues":{"a":1})",
                          R"({"numRecords":1,"minValues":5})", R"({"numRecords":1} trailing)",
                          R"({"numRecords":-4})"}) {
    FileStats s = ParseFileStats(bad, schema, "none");
    EXPECT_FALSE(s.num_records.has_value()) << bad;
    EXPECT_TRUE(s.min_values.empty()) << bad;
  }
  // A value of the wrong type only loses that value.
  FileStats s = ParseFileStats(R"({"numRecords":1,"minValues":{"a":"x"},"maxValues":{"a":3}})",
                               schema, "none");
  EXPECT_EQ(s.num_records, 1);
  EXPECT_TRUE(s.min_values.empty());
  EXPECT_EQ(s.max_values.size(), 1u);
}

// ---------------------------------------------------------------------------------------
// FileSkipper: hand-derived cases

class SkipperTest : public ::testing::Test {
 protected:
  SkipperTest()
      : schema_(MustParseSchema(R"({"type":"struct","fields":[
          {"name":"id","type":"long","nullable":true,"metadata":{}},
          {"name":"name","type":"string","nullable":true,"metadata":{}},
          {"name":"ts","type":"timestamp","nullable":true,"metadata":{}},
          {"name":"x","type":"double","nullable":true,"metadata":{}},
          {"name":"part","type":"string","nullable":true,"metadata":{}},
          {"name":"day","type":"date","nullable":true,"metadata":{}}]})")),
        skipper_(schema_, {"part", "day"}, "none") {}

  AddFile File(std::optional<std::string> stats, PartitionValues pv = {{"part", "a"},
                                                                        {"day", "2024-01-02"}}) {
    AddFile f;
    f.path = "f.parquet";
    f.stats = std::move(stats);
    f.partition_values = std::move(pv);
    return f;
  }
  using Op = Predicate::Op;
  static Predicate Cmp(Op op, std::string col, Literal v) {
    return Predicate::Compare(op, std::move(col), std::move(v));
  }
  static Predicate In(std::string col, std::vector<Literal> values) {
    Predicate p;
    p.op = Op::kIn;
    p.column = std::move(col);
    p.values = std::move(values);
    return p;
  }
  static Predicate Null(Op op, std::string col) {
    Predicate p;
    p.op = op;
    p.column = std::move(col);
    return p;
  }

  Schema schema_;
  FileSkipper skipper_;
};

TEST_F(SkipperTest, PartitionColumnsAreExact) {
  AddFile f = File(std::nullopt);
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kEq, "part", std::string("a"))));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kEq, "part", std::string("b"))));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kGt, "part", std::string("a"))));
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kGe, "PART", std::string("a"))));
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kLt, "day", Date{19725})));   // 2024-01-03
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kLt, "day", Date{19724})));  // 2024-01-02
  EXPECT_FALSE(skipper_.MayMatch(f, Null(Op::kIsNull, "part")));
  EXPECT_TRUE(skipper_.MayMatch(f, Null(Op::kIsNotNull, "part")));
  EXPECT_TRUE(skipper_.MayMatch(f, In("part", {std::string("z"), std::string("a")})));
  EXPECT_FALSE(skipper_.MayMatch(f, In("part", {std::string("z"), Literal{}})));
}

TEST_F(SkipperTest, NullPartitionMatchesOnlyIsNull) {
  AddFile f = File(std::nullopt, {{"part", std::nullopt}, {"day", ""}});
  EXPECT_TRUE(skipper_.MayMatch(f, Null(Op::kIsNull, "part")));
  EXPECT_TRUE(skipper_.MayMatch(f, Null(Op::kIsNull, "day")));
  EXPECT_FALSE(skipper_.MayMatch(f, Null(Op::kIsNotNull, "part")));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kEq, "part", std::string("a"))));
  // The string "null" is a value, not NULL.
  AddFile g = File(std::nullopt, {{"part", "null"}, {"day", "2024-01-02"}});
  EXPECT_FALSE(skipper_.MayMatch(g, Null(Op::kIsNull, "part")));
  EXPECT_TRUE(skipper_.MayMatch(g, Cmp(Op::kEq, "part", std::string("null"))));
}

TEST_F(SkipperTest, UnparseablePartitionValueKeepsTheFile) {
  AddFile f = File(std::nullopt, {{"part", "a"}, {"day", "not a date"}});
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kEq, "day", Date{1})));
  AddFile missing = File(std::nullopt, {{"part", "a"}});
  EXPECT_TRUE(skipper_.MayMatch(missing, Cmp(Op::kEq, "day", Date{1})));
}

TEST_F(SkipperTest, MinMaxRangesOnLongs) {
  AddFile f = File(R"({"numRecords":4,"minValues":{"id":10},"maxValues":{"id":20},"nullCount":{"id":1}})");
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kEq, "id", int64_t{9})));
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kEq, "id", int64_t{10})));
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kEq, "id", int64_t{20})));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kEq, "id", int64_t{21})));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kLt, "id", int64_t{10})));
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kLe, "id", int64_t{10})));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kGt, "id", int64_t{20})));
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kGe, "id", int64_t{20})));
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kGt, "id", 19.5)));  // mixed numeric literal
  EXPECT_TRUE(skipper_.MayMatch(f, Null(Op::kIsNull, "id")));
  EXPECT_TRUE(skipper_.MayMatch(f, In("id", {int64_t{1}, int64_t{15}})));
  EXPECT_FALSE(skipper_.MayMatch(f, In("id", {int64_t{1}, int64_t{25}})));
  // A literal of another type is not understood: keep.
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kEq, "id", std::string("9"))));
}

TEST_F(SkipperTest, NullCountDecidesNullTests) {
  AddFile none_null = File(R"({"numRecords":4,"nullCount":{"id":0}})");
  EXPECT_FALSE(skipper_.MayMatch(none_null, Null(Op::kIsNull, "id")));
  AddFile all_null = File(R"({"numRecords":4,"nullCount":{"id":4}})");
  EXPECT_FALSE(skipper_.MayMatch(all_null, Null(Op::kIsNotNull, "id")));
  EXPECT_FALSE(skipper_.MayMatch(all_null, Cmp(Op::kEq, "id", int64_t{1})));
  EXPECT_TRUE(skipper_.MayMatch(all_null, Null(Op::kIsNull, "id")));
  // With wide bounds (a DV hides rows) 2 of 4 nulls says nothing either way.
  AddFile wide = File(R"({"numRecords":4,"tightBounds":false,"nullCount":{"id":2}})");
  EXPECT_TRUE(skipper_.MayMatch(wide, Null(Op::kIsNull, "id")));
  EXPECT_TRUE(skipper_.MayMatch(wide, Null(Op::kIsNotNull, "id")));
}

TEST_F(SkipperTest, MissingOrMalformedStatsKeepTheFile) {
  for (std::optional<std::string> stats :
       {std::optional<std::string>(), std::optional<std::string>("{bad"),
        std::optional<std::string>(R"({"numRecords":4})")}) {
    AddFile f = File(stats);
    EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kEq, "id", int64_t{1})));
    EXPECT_TRUE(skipper_.MayMatch(f, Null(Op::kIsNull, "id")));
    EXPECT_TRUE(skipper_.MayMatch(f, Null(Op::kIsNotNull, "id")));
  }
  EXPECT_TRUE(skipper_.MayMatch(File(std::nullopt), Cmp(Op::kEq, "no_such_column", int64_t{1})));
}

TEST_F(SkipperTest, TimestampMaxIsRoundedUpToTheMillisecond) {
  // Row at 00:00:00.000500 is written as max "...00.000Z".
  AddFile f = File(R"({"numRecords":1,"minValues":{"ts":"2024-01-01T00:00:00.000Z"},
                       "maxValues":{"ts":"2024-01-01T00:00:00.000Z"},"nullCount":{"ts":0}})");
  const int64_t base = 1704067200LL * 1000000;  // 2024-01-01T00:00:00Z
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kGt, "ts", Timestamp{base + 400})));
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kEq, "ts", Timestamp{base + 999})));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kGe, "ts", Timestamp{base + 1000})));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kLt, "ts", Timestamp{base - 1000})));
}

TEST_F(SkipperTest, StringMaxIsOnlyAPrefixBound) {
  // "abc" may be the 3-character truncation of "abcz...".
  AddFile f = File(R"({"numRecords":2,"minValues":{"name":"abc"},"maxValues":{"name":"abc"},"nullCount":{"name":0}})");
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kEq, "name", std::string("abcd"))));
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kGt, "name", std::string("abc"))));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kGt, "name", std::string("abd"))));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kEq, "name", std::string("b"))));
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kEq, "name", std::string("ab"))));  // below min
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kLt, "name", std::string("abc"))));
}

TEST_F(SkipperTest, DoubleMaxIsNotTrustedBecauseOfNaN) {
  AddFile f = File(R"({"numRecords":2,"minValues":{"x":1.0},"maxValues":{"x":2.0},"nullCount":{"x":0}})");
  EXPECT_TRUE(skipper_.MayMatch(f, Cmp(Op::kGt, "x", 5.0)));  // a NaN row would match
  EXPECT_FALSE(skipper_.MayMatch(f, Cmp(Op::kLt, "x", 1.0)));
}

TEST_F(SkipperTest, AndOrCombine) {
  AddFile f = File(R"({"numRecords":4,"minValues":{"id":10},"maxValues":{"id":20},"nullCount":{"id":0}})");
  Predicate no_id = Cmp(Op::kGt, "id", int64_t{30});
  Predicate yes_part = Cmp(Op::kEq, "part", std::string("a"));
  EXPECT_FALSE(skipper_.MayMatch(f, Predicate::And({yes_part, no_id})));
  EXPECT_TRUE(skipper_.MayMatch(f, Predicate::Or({no_id, yes_part})));
  EXPECT_FALSE(skipper_.MayMatch(f, Predicate::Or({no_id, Cmp(Op::kEq, "part", std::string("q"))})));
  EXPECT_TRUE(skipper_.MayMatch(f, Predicate::And({})));
}

TEST(Skipper, ColumnMappingUsesPhysicalNamesForStatsAndPartitions) {
  Schema schema = MustParseSchema(R"({"type":"struct","fields":[
    {"name":"id","type":"long","nullable":true,"metadata":{"delta.columnMapping.id":1,"delta.columnMapping.physicalName":"col-1"}},
    {"name":"p","type":"integer","nullable":true,"metadata":{"delta.columnMapping.id":2,"delta.columnMapping.physicalName":"col-2"}}]})");
  FileSkipper skipper(schema, {"p"}, "name");
  AddFile f;
  f.partition_values = {{"col-2", "7"}};
  f.stats = R"({"numRecords":1,"minValues":{"col-1":5},"maxValues":{"col-1":5},"nullCount":{"col-1":0}})";
  using Op = Predicate::Op;
  EXPECT_FALSE(skipper.MayMatch(f, Predicate::Compare(Op::kEq, "id", int64_t{6})));
  EXPECT_TRUE(skipper.MayMatch(f, Predicate::Compare(Op::kEq, "id", int64_t{5})));
  EXPECT_FALSE(skipper.MayMatch(f, Predicate::Compare(Op::kEq, "p", int64_t{8})));
  EXPECT_TRUE(skipper.MayMatch(f, Predicate::Compare(Op::kEq, "p", int64_t{7})));
}

// ---------------------------------------------------------------------------------------
// Randomized soundness: random files with real rows, stats computed from the rows the way
// writers do (truncated strings and timestamps, NaN left out of min/max, wide bounds after
// deletes), random predicates. Whenever some live row satisfies the predicate (SQL
// three-valued logic, evaluated here on native values independently of the code under
// test), MayMatch must be true. Reproduce with LAKE_SEED=<seed>.

enum class K { kLong, kString, kDouble, kTs, kDate, kDecimal, kBool, kNtz, kFloat };

struct Col {
  std::string name;
  std::string physical;
  K kind;
  bool partition;
};

const std::vector<Col>& Cols() {
  static const std::vector<Col> cols = {
      {"l", "c-l", K::kLong, false},     {"s", "c-s", K::kString, false},
      {"d", "c-d", K::kDouble, false},   {"ts", "c-ts", K::kTs, false},
      {"dt", "c-dt", K::kDate, false},   {"dec", "c-dec", K::kDecimal, false},
      {"b", "c-b", K::kBool, false},     {"ntz", "c-ntz", K::kNtz, false},
      {"f", "c-f", K::kFloat, false},    {"p", "c-p", K::kString, true},
      {"q", "c-q", K::kLong, true},
  };
  return cols;
}

std::string TypeName(K k) {
  switch (k) {
    case K::kLong: return "long";
    case K::kString: return "string";
    case K::kDouble: return "double";
    case K::kTs: return "timestamp";
    case K::kDate: return "date";
    case K::kDecimal: return "decimal(6,2)";
    case K::kBool: return "boolean";
    case K::kNtz: return "timestamp_ntz";
    case K::kFloat: return "float";
  }
  return "";
}

// A native value: `i` for long/ts/date/decimal(unscaled)/bool/ntz, `d` for double/float.
struct V {
  bool null = true;
  int64_t i = 0;
  double d = 0;
  std::string s;
};

constexpr int64_t kTsBase = 1704067200LL * 1000000;  // 2024-01-01T00:00:00Z

struct Gen {
  std::mt19937_64 rng;
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }

  std::string Str() {
    static const char* kUnits[] = {"a", "b", "\xc3\xa9", "\""};
    std::string s;
    int n = static_cast<int>(Int(0, 4));
    for (int i = 0; i < n; ++i) s += kUnits[Int(0, 3)];
    return s;
  }
  V Value(K k, double null_p = 0.2) {
    V v;
    if (Chance(null_p)) return v;
    v.null = false;
    switch (k) {
      case K::kLong: v.i = Int(-6, 6); break;
      case K::kString: v.s = Str(); break;
      case K::kDouble: {
        static const double kD[] = {-1.5, -1, 0, 0.5, 1, 2.25, NAN};
        v.d = kD[Int(0, 6)];
        break;
      }
      case K::kTs:
      case K::kNtz: v.i = kTsBase + Int(-1500, 3000); break;
      case K::kDate: v.i = 19720 + Int(0, 8); break;
      case K::kDecimal: v.i = Int(-300, 300); break;
      case K::kBool: v.i = Int(0, 1); break;
      case K::kFloat: {
        static const float kF[] = {0.1f, 0.2f, -0.3f, 1.5f, 0.7f, 3.3f};
        v.d = static_cast<double>(kF[Int(0, 5)]);
        break;
      }
    }
    return v;
  }
};

// Text forms written from the native values (independent of literal.cc).
std::string FormatIso(int64_t micros, bool zone, int offset_minutes) {
  int64_t ms = micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000);  // floor
  int64_t wall_ms = ms + int64_t{offset_minutes} * 60000;
  time_t secs = static_cast<time_t>(wall_ms >= 0 ? wall_ms / 1000 : -((-wall_ms + 999) / 1000));
  int64_t frac = wall_ms - int64_t{secs} * 1000;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lld", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           static_cast<long long>(frac));
  std::string out = buf;
  if (!zone) return out;
  if (offset_minutes == 0) return out + "Z";
  snprintf(buf, sizeof buf, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+',
           std::abs(offset_minutes) / 60, std::abs(offset_minutes) % 60);
  return out + buf;
}

std::string FormatDate(int64_t days) {
  time_t secs = static_cast<time_t>(days * 86400);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string FormatDecimal(int64_t unscaled) {
  char buf[32];
  snprintf(buf, sizeof buf, "%s%lld.%02lld", unscaled < 0 ? "-" : "",
           static_cast<long long>(std::llabs(unscaled) / 100),
           static_cast<long long>(std::llabs(unscaled) % 100));
  return buf;
}

// Truncates to at most `units` characters (UTF-8 aware), as writers truncate string stats.
std::string TruncateChars(const std::string& s, int units) {
  size_t pos = 0;
  for (int u = 0; u < units && pos < s.size(); ++u) {
    pos += (static_cast<unsigned char>(s[pos]) >= 0xC0) ? 2 : 1;
  }
  return s.substr(0, pos);
}

// Compares native values; NaN is equal to NaN and above every number (DuckDB, Spark).
int CompareNative(K k, const V& a, const V& b) {
  switch (k) {
    case K::kString: return a.s < b.s ? -1 : (a.s > b.s ? 1 : 0);
    case K::kDouble:
    case K::kFloat: {
      bool an = std::isnan(a.d), bn = std::isnan(b.d);
      if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
      return a.d < b.d ? -1 : (a.d > b.d ? 1 : 0);
    }
    default: return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  }
}

enum Tri { kF = 0, kU = 1, kT = 2 };

// A predicate with native literals beside the Literal handed to the skipper.
struct RandPred {
  Predicate::Op op;
  size_t col = 0;
  std::vector<V> natives;    // literal(s) as natives of the column's kind
  bool foreign = false;      // a literal of another type: the oracle assumes TRUE
  std::vector<RandPred> children;
};

Literal ToLiteral(K k, const V& v) {
  if (v.null) return Literal{};
  switch (k) {
    case K::kLong: return Literal{v.i};
    case K::kString: return Literal{v.s};
    case K::kDouble:
    case K::kFloat: return Literal{v.d};
    case K::kTs: return Literal{Timestamp{v.i}};
    case K::kNtz: return Literal{TimestampNtz{v.i}};
    case K::kDate: return Literal{Date{static_cast<int32_t>(v.i)}};
    case K::kDecimal: return Literal{Decimal{.unscaled = v.i, .precision = 6, .scale = 2}};
    case K::kBool: return Literal{v.i != 0};
  }
  return Literal{};
}

Predicate ToPredicate(const RandPred& r, Gen& g) {
  if (r.op == Predicate::Op::kAnd || r.op == Predicate::Op::kOr) {
    std::vector<Predicate> kids;
    for (const RandPred& c : r.children) kids.push_back(ToPredicate(c, g));
    return r.op == Predicate::Op::kAnd ? Predicate::And(std::move(kids))
                                       : Predicate::Or(std::move(kids));
  }
  const Col& col = Cols()[r.col];
  Predicate p;
  p.op = r.op;
  p.column = col.name;
  if (g.Chance(0.1)) {  // Spark resolves column names case-insensitively
    for (char& ch : p.column) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  if (r.foreign) {
    p.value = Literal{std::string("7")};
    if (col.kind == K::kString) p.value = Literal{int64_t{7}};
    p.values = {p.value};
    return p;
  }
  std::vector<Literal> lits;
  for (const V& v : r.natives) {
    Literal lit = ToLiteral(col.kind, v);
    // Equivalent literals of another representation the skipper must also handle.
    if (!v.null && col.kind == K::kDecimal && g.Chance(0.3)) {
      lit = Decimal{.unscaled = v.i * 10, .precision = 7, .scale = 3};
    } else if (!v.null && col.kind == K::kLong && g.Chance(0.2)) {
      lit = Literal{static_cast<double>(v.i)};
    }
    lits.push_back(std::move(lit));
  }
  if (r.op == Predicate::Op::kIn) {
    p.values = std::move(lits);
  } else if (!lits.empty()) {
    p.value = std::move(lits[0]);
  }
  return p;
}

RandPred RandomPred(Gen& g, int depth) {
  RandPred r;
  if (depth > 0 && g.Chance(0.35)) {
    r.op = g.Chance(0.5) ? Predicate::Op::kAnd : Predicate::Op::kOr;
    int n = static_cast<int>(g.Int(1, 3));
    for (int i = 0; i < n; ++i) r.children.push_back(RandomPred(g, depth - 1));
    return r;
  }
  static const Predicate::Op kLeafOps[] = {Predicate::Op::kEq, Predicate::Op::kLt,
                                           Predicate::Op::kLe, Predicate::Op::kGt,
                                           Predicate::Op::kGe, Predicate::Op::kIsNull,
                                           Predicate::Op::kIsNotNull, Predicate::Op::kIn};
  r.op = kLeafOps[g.Int(0, 7)];
  r.col = static_cast<size_t>(g.Int(0, static_cast<int64_t>(Cols().size()) - 1));
  K k = Cols()[r.col].kind;
  if (r.op == Predicate::Op::kIsNull || r.op == Predicate::Op::kIsNotNull) return r;
  if (g.Chance(0.03)) {
    r.foreign = true;
    return r;
  }
  int n = r.op == Predicate::Op::kIn ? static_cast<int>(g.Int(0, 3)) : 1;
  for (int i = 0; i < n; ++i) {
    V v = g.Value(k, /*null_p=*/0.05);
    if (k == K::kDouble && !v.null && std::isnan(v.d) && g.Chance(0.7)) v.d = 0.75;
    r.natives.push_back(v);
  }
  return r;
}

std::string Describe(const Predicate& p) {
  static const char* kOps[] = {"=", "<", "<=", ">", ">=", "IS NULL", "IS NOT NULL", "IN", "AND",
                               "OR"};
  const char* op = kOps[static_cast<int>(p.op)];
  if (p.op == Predicate::Op::kAnd || p.op == Predicate::Op::kOr) {
    std::string out = "(";
    for (size_t i = 0; i < p.children.size(); ++i) {
      if (i) out += std::string(" ") + op + " ";
      out += Describe(p.children[i]);
    }
    return out + ")";
  }
  if (p.op == Predicate::Op::kIsNull || p.op == Predicate::Op::kIsNotNull) {
    return p.column + " " + op;
  }
  if (p.op == Predicate::Op::kIn) {
    std::string out = p.column + " IN (";
    for (const Literal& v : p.values) out += LiteralToString(v) + ",";
    return out + ")";
  }
  return p.column + " " + op + " " + LiteralToString(p.value);
}

Tri Eval(const RandPred& r, const std::vector<V>& row) {
  if (r.op == Predicate::Op::kAnd) {
    Tri t = kT;
    for (const RandPred& c : r.children) t = std::min(t, Eval(c, row));
    return t;
  }
  if (r.op == Predicate::Op::kOr) {
    Tri t = kF;
    for (const RandPred& c : r.children) t = std::max(t, Eval(c, row));
    return t;
  }
  const V& v = row[r.col];
  K k = Cols()[r.col].kind;
  if (r.op == Predicate::Op::kIsNull) return v.null ? kT : kF;
  if (r.op == Predicate::Op::kIsNotNull) return v.null ? kF : kT;
  if (r.foreign) return v.null ? kU : kT;  // NULL compares to nothing, whatever the type
  if (r.op == Predicate::Op::kIn) {
    Tri t = kF;
    for (const V& x : r.natives) {
      if (x.null || v.null) {
        t = std::max(t, kU);
      } else if (CompareNative(k, v, x) == 0) {
        return kT;
      }
    }
    return t;
  }
  const V& x = r.natives[0];
  if (v.null || x.null) return kU;
  int c = CompareNative(k, v, x);
  bool holds = false;
  switch (r.op) {
    case Predicate::Op::kEq: holds = c == 0; break;
    case Predicate::Op::kLt: holds = c < 0; break;
    case Predicate::Op::kLe: holds = c <= 0; break;
    case Predicate::Op::kGt: holds = c > 0; break;
    case Predicate::Op::kGe: holds = c >= 0; break;
    default: break;
  }
  return holds ? kT : kF;
}

std::string PartitionText(K k, const V& v, Gen& g) {
  switch (k) {
    case K::kString: return v.s;
    case K::kLong: return std::to_string(v.i);
    default: return "";
  }
}

// Writes stats JSON over `rows` (the physical rows) the way a Delta writer would.
std::string WriteStats(const std::vector<std::vector<V>>& rows, bool mapped, bool tight,
                       Gen& g) {
  std::string min_part, max_part, null_part;
  auto append = [](std::string& out, const std::string& key, const std::string& value) {
    if (!out.empty()) out += ",";
    out += nlohmann::json(key).dump() + ":" + value;
  };
  for (size_t c = 0; c < Cols().size(); ++c) {
    const Col& col = Cols()[c];
    if (col.partition) continue;
    std::string key = mapped ? col.physical : col.name;
    int64_t nulls = 0;
    std::optional<V> lo, hi;
    for (const auto& row : rows) {
      const V& v = row[c];
      if (v.null) {
        ++nulls;
        continue;
      }
      if ((col.kind == K::kDouble || col.kind == K::kFloat) && std::isnan(v.d)) continue;
      if (!lo || CompareNative(col.kind, v, *lo) < 0) lo = v;
      if (!hi || CompareNative(col.kind, v, *hi) > 0) hi = v;
    }
    if (g.Chance(0.92)) append(null_part, key, std::to_string(nulls));
    if (!lo || g.Chance(0.08)) continue;
    auto text = [&](const V& v, bool is_max) -> std::string {
      switch (col.kind) {
        case K::kLong: return std::to_string(v.i);
        case K::kString: {
          std::string s = v.s;
          if (g.Chance(0.5)) s = TruncateChars(s, static_cast<int>(g.Int(0, 3)));
          return nlohmann::json(s).dump();
        }
        case K::kDouble: {
          char buf[64];
          auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.d);
          std::string out(buf, p);
          if (out.find_first_of(".e") == std::string::npos) out += ".0";
          return out;
        }
        case K::kFloat: {
          char buf[64];
          auto [p, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v.d));
          return std::string(buf, p);
        }
        case K::kTs: {
          static const int kOffsets[] = {0, 60, -480, 330};
          return "\"" + FormatIso(v.i, true, kOffsets[g.Int(0, 3)]) + "\"";
        }
        case K::kNtz: return "\"" + FormatIso(v.i, false, 0) + "\"";
        case K::kDate: return "\"" + FormatDate(v.i) + "\"";
        case K::kDecimal: return FormatDecimal(v.i);
        case K::kBool: return v.i ? "true" : "false";
      }
      (void)is_max;
      return "null";
    };
    append(min_part, key, text(*lo, false));
    append(max_part, key, text(*hi, true));
  }
  std::string out = "{\"numRecords\":" + std::to_string(rows.size());
  out += ",\"minValues\":{" + min_part + "},\"maxValues\":{" + max_part + "},\"nullCount\":{" +
         null_part + "}";
  if (!tight) {
    out += ",\"tightBounds\":false";
  } else if (g.Chance(0.3)) {
    out += ",\"tightBounds\":true";
  }
  return out + "}";
}

std::string SchemaJson(bool mapped) {
  std::string fields;
  int id = 0;
  for (const Col& col : Cols()) {
    if (!fields.empty()) fields += ",";
    std::string meta = mapped ? "{\"delta.columnMapping.id\":" + std::to_string(++id) +
                                    ",\"delta.columnMapping.physicalName\":\"" + col.physical +
                                    "\"}"
                              : "{}";
    fields += "{\"name\":\"" + col.name + "\",\"type\":\"" + TypeName(col.kind) +
              "\",\"nullable\":true,\"metadata\":" + meta + "}";
  }
  return "{\"type\":\"struct\",\"fields\":[" + fields + "]}";
}

TEST(SkippingSoundness, NeverDropsAFileWithAMatchingRow) {
  uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("LAKE_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::cout << "SkippingSoundness seed: " << seed << " (rerun with LAKE_SEED=" << seed << ")\n";
  Gen g{std::mt19937_64(seed)};
  const Schema plain = MustParseSchema(SchemaJson(false));
  const Schema mapped = MustParseSchema(SchemaJson(true));
  FileSkipper plain_skipper(plain, {"p", "q"}, "none");
  FileSkipper mapped_skipper(mapped, {"p", "q"}, "name");

  constexpr int kTrials = 20000;
  int matching = 0, skipped = 0, kept_without_match = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    bool is_mapped = g.Chance(0.3);
    // One file: partition values shared by all rows, then data rows.
    V p = g.Value(K::kString, 0.2);
    if (!p.null && p.s.empty()) p.null = true;  // "" is NULL in partitionValues
    V q = g.Value(K::kLong, 0.2);
    int physical_rows = static_cast<int>(g.Int(0, 6));
    std::vector<std::vector<V>> rows;
    for (int r = 0; r < physical_rows; ++r) {
      std::vector<V> row;
      for (const Col& col : Cols()) {
        if (col.name == "p") row.push_back(p);
        else if (col.name == "q") row.push_back(q);
        else row.push_back(g.Value(col.kind));
      }
      rows.push_back(std::move(row));
    }
    // A deletion vector hides some rows; stats still describe all physical rows.
    bool has_dv = g.Chance(0.2);
    std::vector<std::vector<V>> live;
    for (const auto& row : rows) {
      if (!has_dv || g.Chance(0.5)) live.push_back(row);
    }
    AddFile file;
    file.path = "f";
    auto key = [&](const char* name, const char* physical) { return is_mapped ? physical : name; };
    file.partition_values.emplace_back(
        key("p", "c-p"), p.null ? (g.Chance(0.5) ? std::optional<std::string>()
                                                 : std::optional<std::string>(""))
                                : std::optional<std::string>(PartitionText(K::kString, p, g)));
    file.partition_values.emplace_back(
        key("q", "c-q"), q.null ? std::optional<std::string>()
                                : std::optional<std::string>(PartitionText(K::kLong, q, g)));
    double stats_kind = std::uniform_real_distribution<double>(0, 1)(g.rng);
    if (stats_kind < 0.05) {
      file.stats = std::nullopt;
    } else {
      std::string stats = WriteStats(rows, is_mapped, !has_dv, g);
      if (stats_kind < 0.08) stats.resize(stats.size() / 2);  // malformed
      file.stats = stats;
    }
    RandPred rp = RandomPred(g, 3);
    Predicate pred = ToPredicate(rp, g);
    bool any_match = false;
    for (const auto& row : live) {
      if (Eval(rp, row) == kT) any_match = true;
    }
    bool may = (is_mapped ? mapped_skipper : plain_skipper).MayMatch(file, pred);
    if (any_match) {
      ++matching;
      ASSERT_TRUE(may) << "dropped a file with a matching row; seed " << seed << " trial "
                       << trial << "\nstats: " << file.stats.value_or("<none>")
                       << "\npartition p=" << (p.null ? "NULL" : p.s)
                       << " q=" << (q.null ? "NULL" : std::to_string(q.i))
                       << "\npredicate: " << Describe(pred);
    } else if (!may) {
      ++skipped;
    } else {
      ++kept_without_match;
    }
  }
  std::cout << "trials " << kTrials << ": matching " << matching << ", skipped " << skipped
            << ", kept without a match " << kept_without_match << "\n";
  // The skipper must actually skip something, or this test would pass for `return true`.
  EXPECT_GT(skipped, kTrials / 10);
}

}  // namespace
}  // namespace lake::delta

namespace lake::delta {
namespace {

// Every stats string of every JSON commit in the corpus parses (it is not "malformed"), and
// every top-level min/max of a type lake skips on is read.
TEST(ParseFileStatsConformance, EveryStatsStringInTheCorpusParses) {
  namespace fs = std::filesystem;
  int files = 0, values = 0;
  for (const auto& dir : fs::recursive_directory_iterator(LAKE_CONFORMANCE_DIR)) {
    if (!dir.is_directory() || dir.path().filename() != "_delta_log") continue;
    std::vector<fs::path> commits;
    for (const auto& f : fs::directory_iterator(dir.path())) {
      std::string name = f.path().filename().string();
      if (name.size() == 25 && name.ends_with(".json")) commits.push_back(f.path());
    }
    std::sort(commits.begin(), commits.end());
    std::optional<Schema> schema;
    std::string mode = "none";
    for (const fs::path& commit : commits) {
      std::istringstream lines(testing::ReadFileOrFail(commit.string()));
      std::string line;
      while (std::getline(lines, line)) {
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded()) continue;
        if (j.contains("metaData")) {
          const auto& m = j["metaData"];
          schema.reset();
          if (!m.contains("schemaString") || !m["schemaString"].is_string()) continue;
          Result<Schema> s = ParseSchema(m["schemaString"].get<std::string>());
          ASSERT_TRUE(s.ok()) << commit << ": " << s.status();
          schema = *s;
          mode = "none";
          if (m.contains("configuration") && m["configuration"].contains("delta.columnMapping.mode")) {
            mode = m["configuration"]["delta.columnMapping.mode"].get<std::string>();
          }
        }
        if (!schema || !j.contains("add") || !j["add"].contains("stats") ||
            !j["add"]["stats"].is_string()) {
          continue;
        }
        std::string stats_text = j["add"]["stats"].get<std::string>();
        nlohmann::json raw = nlohmann::json::parse(stats_text);
        FileStats stats = ParseFileStats(stats_text, *schema, mode);
        ASSERT_TRUE(stats.num_records.has_value()) << commit << ": " << stats_text;
        EXPECT_EQ(*stats.num_records, raw["numRecords"].get<int64_t>());
        ++files;
        if (!raw.contains("minValues")) continue;
        for (const auto& [key, value] : raw["minValues"].items()) {
          const StructField* field = nullptr;
          for (const StructField& f : schema->fields) {
            if (f.PhysicalNameFor(mode) == key) field = &f;
          }
          if (field == nullptr || !field->type.is_primitive() || value.is_null()) continue;
          TypeKind k = field->type.kind;
          if (k == TypeKind::kBinary || k == TypeKind::kVariant || k == TypeKind::kVoid) continue;
          if ((k == TypeKind::kDouble || k == TypeKind::kFloat) && value.is_string()) continue;  // NaN
          EXPECT_NE(FindStat(stats.min_values, field->name), nullptr)
              << commit << ": min of " << field->name << " (" << value.dump() << ") not read";
          ++values;
        }
      }
    }
  }
  std::cout << "parsed stats of " << files << " files, " << values << " min values\n";
  EXPECT_GT(files, 100);
  EXPECT_GT(values, 100);
}

}  // namespace
}  // namespace lake::delta
