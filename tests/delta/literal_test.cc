#include "delta/literal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "delta/values_test_util.h"

namespace lake::delta {
namespace {

DataType T(std::string_view name) {
  Result<DataType> t = ParsePrimitiveType(name);
  EXPECT_TRUE(t.ok()) << name;
  return t.ok() ? *t : DataType{};
}

Literal Parse(std::string_view type, std::optional<std::string> value) {
  Result<Literal> r = ParsePartitionValue(T(type), value);
  EXPECT_TRUE(r.ok()) << type << " " << value.value_or("<null>") << ": " << r.status();
  return r.ok() ? *r : Literal{};
}

void ExpectCorrupt(std::string_view type, std::string value) {
  Result<Literal> r = ParsePartitionValue(T(type), value);
  ASSERT_FALSE(r.ok()) << type << " \"" << value << "\" parsed as " << LiteralToString(*r);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find(value), std::string::npos) << r.status();
}

TEST(Literal, EmptyAndJsonNullAreNullForEveryType) {
  for (const char* type : {"string", "long", "integer", "short", "byte", "float", "double",
                           "boolean", "binary", "date", "timestamp", "timestamp_ntz",
                           "decimal(5,2)"}) {
    EXPECT_TRUE(IsNull(Parse(type, std::nullopt))) << type;
    EXPECT_TRUE(IsNull(Parse(type, ""))) << type;
  }
}

TEST(Literal, TheStringNullIsAValue) {
  Literal v = Parse("string", "null");
  ASSERT_TRUE(std::holds_alternative<std::string>(v));
  EXPECT_EQ(std::get<std::string>(v), "null");
}

TEST(Literal, StringsKeepEscapesAndUnicodeVerbatim) {
  // The log's JSON layer has already unescaped the value; partition text is taken as is.
  EXPECT_EQ(std::get<std::string>(Parse("string", "A/A")), "A/A");
  EXPECT_EQ(std::get<std::string>(Parse("string", "a%20b")), "a%20b");
  EXPECT_EQ(std::get<std::string>(Parse("string", "\xE6\x97\xA5\xE6\x9C\xAC")), "日本");
  EXPECT_EQ(std::get<std::string>(Parse("string", " spaced ")), " spaced ");
}

TEST(Literal, IntegersRespectTheirWidth) {
  EXPECT_EQ(std::get<int64_t>(Parse("long", "-9223372036854775808")), INT64_MIN);
  EXPECT_EQ(std::get<int64_t>(Parse("integer", "2147483647")), 2147483647);
  EXPECT_EQ(std::get<int64_t>(Parse("short", "-32768")), -32768);
  EXPECT_EQ(std::get<int64_t>(Parse("byte", "127")), 127);
  ExpectCorrupt("byte", "128");
  ExpectCorrupt("short", "32768");
  ExpectCorrupt("integer", "2147483648");
  ExpectCorrupt("long", "9223372036854775808");
  ExpectCorrupt("long", "1.5");
  ExpectCorrupt("integer", "abc");
}

TEST(Literal, FloatsAndDoubles) {
  EXPECT_DOUBLE_EQ(std::get<double>(Parse("double", "1.0")), 1.0);
  EXPECT_DOUBLE_EQ(std::get<double>(Parse("float", "-2.5E3")), -2500.0);
  EXPECT_TRUE(std::isnan(std::get<double>(Parse("double", "NaN"))));
  EXPECT_EQ(std::get<double>(Parse("double", "Infinity")), INFINITY);
  EXPECT_EQ(std::get<double>(Parse("double", "-Infinity")), -INFINITY);
  ExpectCorrupt("double", "1.0x");
}

TEST(Literal, Booleans) {
  EXPECT_EQ(std::get<bool>(Parse("boolean", "true")), true);
  EXPECT_EQ(std::get<bool>(Parse("boolean", "false")), false);
  ExpectCorrupt("boolean", "yes");
}

TEST(Literal, DecimalsAreExactAtTheTypesScale) {
  Decimal d = std::get<Decimal>(Parse("decimal(5,2)", "-12.3"));
  EXPECT_EQ(d.unscaled, -1230);
  EXPECT_EQ(d.scale, 2);
  EXPECT_EQ(d.ToString(), "-12.30");
  EXPECT_EQ(std::get<Decimal>(Parse("decimal(5,2)", "0.05")).ToString(), "0.05");
  EXPECT_EQ(std::get<Decimal>(Parse("decimal(5,2)", "-0.05")).ToString(), "-0.05");
  EXPECT_EQ(std::get<Decimal>(Parse("decimal(10,0)", "1E+3")).unscaled, 1000);
  EXPECT_EQ(std::get<Decimal>(Parse("decimal(5,2)", "1.500")).unscaled, 150);
  // 38 digits: beyond int64 and double precision.
  Decimal big = std::get<Decimal>(Parse("decimal(38,0)", "12345678901234567890123456789012345678"));
  EXPECT_EQ(big.ToString(), "12345678901234567890123456789012345678");
  Decimal frac = std::get<Decimal>(Parse("decimal(38,18)", "-12345678901234567890.123456789012345678"));
  EXPECT_EQ(frac.ToString(), "-12345678901234567890.123456789012345678");
  ExpectCorrupt("decimal(5,2)", "1234.5");  // precision 5 overflows
  ExpectCorrupt("decimal(5,2)", "1.234");   // a digit beyond the scale
  ExpectCorrupt("decimal(5,2)", "1.2.3");
}

TEST(Literal, Dates) {
  EXPECT_EQ(std::get<Date>(Parse("date", "1970-01-01")).days, 0);
  EXPECT_EQ(std::get<Date>(Parse("date", "2021-09-08")).days, 18878);
  EXPECT_EQ(std::get<Date>(Parse("date", "1969-12-31")).days, -1);
  EXPECT_EQ(std::get<Date>(Parse("date", "2000-02-29")).days, 11016);
  ExpectCorrupt("date", "2021-02-29");
  ExpectCorrupt("date", "2021-13-01");
  ExpectCorrupt("date", "2021-9-8");
}

TEST(Literal, TimestampsInEveryWrittenForm) {
  // 2021-09-08 11:11:11 UTC = 1631099471 s (date -u -d '2021-09-08 11:11:11' +%s).
  constexpr int64_t kBase = 1631099471LL * 1000000;
  EXPECT_EQ(std::get<Timestamp>(Parse("timestamp", "2021-09-08 11:11:11")).micros, kBase);
  EXPECT_EQ(std::get<Timestamp>(Parse("timestamp", "2021-09-08 11:11:11.5")).micros, kBase + 500000);
  EXPECT_EQ(std::get<Timestamp>(Parse("timestamp", "2021-09-08 11:11:11.000123")).micros, kBase + 123);
  EXPECT_EQ(std::get<Timestamp>(Parse("timestamp", "2021-09-08T11:11:11Z")).micros, kBase);
  EXPECT_EQ(std::get<Timestamp>(Parse("timestamp", "2021-09-08T11:11:11.000000Z")).micros, kBase);
  EXPECT_EQ(std::get<Timestamp>(Parse("timestamp", "2021-09-08T13:11:11+02:00")).micros, kBase);
  EXPECT_EQ(std::get<Timestamp>(Parse("timestamp", "2021-09-08T03:11:11.000-08:00")).micros, kBase);
  EXPECT_EQ(std::get<Timestamp>(Parse("timestamp", "1969-12-31T23:59:59.999999Z")).micros, -1);
  // Year 294247 does not fit int64 microseconds; year 290000 does.
  ExpectCorrupt("timestamp", "294247-01-01 00:00:00");
  EXPECT_GT(std::get<Timestamp>(Parse("timestamp", "290000-01-01T00:00:00Z")).micros, 0);
  ExpectCorrupt("timestamp", "2021-09-08 25:00:00");
  ExpectCorrupt("timestamp", "2021-09-08X11:11:11");
  ExpectCorrupt("timestamp", "2021-09-08 11:11:11 junk");
}

TEST(Literal, TimestampNtzIsWallClock) {
  EXPECT_EQ(std::get<TimestampNtz>(Parse("timestamp_ntz", "2021-09-08 11:11:11")).micros,
            1631099471LL * 1000000);
  ExpectCorrupt("timestamp_ntz", "2021-09-08T11:11:11+02:00");
}

TEST(Literal, BinaryIsTheRawBytes) {
  Binary b = std::get<Binary>(Parse("binary", std::string("\x01\xff", 2)));
  EXPECT_EQ(b.bytes, std::string("\x01\xff", 2));
  EXPECT_EQ(LiteralToString(b), "01ff");
}

TEST(Literal, ComplexTypesAreNotSupported) {
  Result<Literal> r = ParsePartitionValue(T("variant"), std::string("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
}

TEST(Literal, ToStringForms) {
  EXPECT_EQ(LiteralToString(Literal{}), "NULL");
  EXPECT_EQ(LiteralToString(Literal{int64_t{-5}}), "-5");
  EXPECT_EQ(LiteralToString(Literal{true}), "true");
  EXPECT_EQ(LiteralToString(Literal{2.5}), "2.5");
  EXPECT_EQ(LiteralToString(Literal{Date{18878}}), "2021-09-08");
  EXPECT_EQ(LiteralToString(Literal{Timestamp{1631099471LL * 1000000 + 7}}),
            "2021-09-08T11:11:11.000007Z");
  EXPECT_EQ(LiteralToString(Literal{TimestampNtz{-1}}), "1969-12-31T23:59:59.999999");
  EXPECT_EQ(LiteralToString(Literal{Decimal{.unscaled = 5, .precision = 3, .scale = 3}}), "0.005");
}

TEST(Literal, CalendarRoundTripsAndKnownDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1900, 1, 1), -25567);
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), 2932896);
  for (int64_t days = -800000; days <= 3000000; days += 997) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, y, m, d);
    ASSERT_EQ(DaysFromCivil(y, m, d), days);
  }
}

TEST(Literal, CompareSameAndMixedNumericTypes) {
  EXPECT_EQ(CompareLiterals(Literal{int64_t{1}}, Literal{int64_t{2}}), -1);
  EXPECT_EQ(CompareLiterals(Literal{std::string("b")}, Literal{std::string("a")}), 1);
  EXPECT_EQ(CompareLiterals(Literal{int64_t{3}}, Literal{3.0}), 0);
  EXPECT_EQ(CompareLiterals(Literal{2.5}, Literal{int64_t{3}}), -1);
  EXPECT_EQ(CompareLiterals(Literal{std::nan("")}, Literal{1.0}), std::nullopt);
  EXPECT_EQ(CompareLiterals(Literal{}, Literal{1.0}), std::nullopt);
  EXPECT_EQ(CompareLiterals(Literal{std::string("1")}, Literal{int64_t{1}}), std::nullopt);
  // 1.50 (scale 2) == 1.5 (scale 1); -0.5 < 0.25; 10 > 9.99
  EXPECT_EQ(CompareLiterals(Decimal{150, 5, 2}, Decimal{15, 5, 1}), 0);
  EXPECT_EQ(CompareLiterals(Decimal{-5, 5, 1}, Decimal{25, 5, 2}), -1);
  EXPECT_EQ(CompareLiterals(Decimal{10, 5, 0}, Decimal{999, 5, 2}), 1);
  EXPECT_EQ(CompareLiterals(Decimal{999, 5, 2}, Literal{int64_t{10}}), -1);
  // Extreme scales must not overflow: 1e-38 vs 0.
  Decimal tiny{1, 38, 38};
  EXPECT_EQ(CompareLiterals(tiny, Decimal{0, 38, 0}), 1);
}

}  // namespace
}  // namespace lake::delta

namespace lake::delta {
namespace {

// Every partition value of every add in every JSON commit of the conformance corpus parses
// with the type its schema gives it (keys are physical names under column mapping).
TEST(LiteralConformance, EveryPartitionValueInTheCorpusParses) {
  namespace fs = std::filesystem;
  int parsed = 0;
  std::vector<fs::path> logs;
  for (const auto& entry : fs::recursive_directory_iterator(LAKE_CONFORMANCE_DIR)) {
    if (entry.is_directory() && entry.path().filename() == "_delta_log") logs.push_back(entry.path());
  }
  for (const fs::path& log : logs) {
    std::vector<fs::path> commits;
    for (const auto& f : fs::directory_iterator(log)) {
      std::string name = f.path().filename().string();
      if (name.size() == 25 && name.ends_with(".json")) commits.push_back(f.path());
    }
    std::sort(commits.begin(), commits.end());
    std::optional<Schema> schema;
    std::vector<std::string> partition_columns;
    std::string mode = "none";
    for (const fs::path& commit : commits) {
      std::istringstream lines(testing::ReadFileOrFail(commit.string()));
      std::string line;
      while (std::getline(lines, line)) {
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded()) continue;
        if (j.contains("metaData")) {
          const auto& m = j["metaData"];
          if (!m.contains("schemaString") || !m["schemaString"].is_string()) {
            schema.reset();  // Spark test tables without a schema (canonicalized-paths-*)
            continue;
          }
          Result<Schema> s = ParseSchema(m["schemaString"].get<std::string>());
          ASSERT_TRUE(s.ok()) << commit << ": " << s.status();
          schema = *s;
          partition_columns = m["partitionColumns"].get<std::vector<std::string>>();
          mode = "none";
          if (m.contains("configuration") && m["configuration"].contains("delta.columnMapping.mode")) {
            mode = m["configuration"]["delta.columnMapping.mode"].get<std::string>();
          }
        }
        if (!j.contains("add") || !schema) continue;
        const auto& pv = j["add"]["partitionValues"];
        for (const std::string& col : partition_columns) {
          const StructField* f = FindField(*schema, col);
          ASSERT_NE(f, nullptr) << commit << ": partition column " << col;
          const std::string& key = f->PhysicalNameFor(mode);
          ASSERT_TRUE(pv.contains(key)) << commit << ": no partition value for " << key;
          std::optional<std::string> raw;
          if (!pv[key].is_null()) raw = pv[key].get<std::string>();
          Result<Literal> v = ParsePartitionValue(f->type, raw);
          EXPECT_TRUE(v.ok()) << commit << ": " << v.status();
          ++parsed;
        }
      }
    }
  }
  std::cout << "parsed " << parsed << " partition values\n";
  EXPECT_GT(parsed, 50);
}

TEST(LiteralConformance, DataReaderPartitionValuesHasTheDocumentedValues) {
  // delta-spark-golden/data-reader-partition-values: one add holds all nulls, others
  // hold "0"/"1"-style values with timestamp "2021-09-08 11:11:11" and the string "null".
  std::string log = testing::ReadFileOrFail(testing::ConformancePath(
      "delta-spark-golden/data-reader-partition-values/_delta_log/00000000000000000000.json"));
  std::istringstream lines(log);
  std::string line;
  std::optional<Schema> schema;
  int all_null = 0, with_values = 0;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("metaData")) schema = *ParseSchema(j["metaData"]["schemaString"].get<std::string>());
    if (!j.contains("add")) continue;
    ASSERT_TRUE(schema.has_value());
    const auto& pv = j["add"]["partitionValues"];
    auto parse = [&](const char* col) {
      std::optional<std::string> raw;
      if (!pv[col].is_null()) raw = pv[col].get<std::string>();
      Result<Literal> r = ParsePartitionValue(FindField(*schema, col)->type, raw);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() ? *r : Literal{};
    };
    if (pv["as_int"].is_null()) {
      ++all_null;
      EXPECT_TRUE(IsNull(parse("as_timestamp")));
      EXPECT_TRUE(IsNull(parse("as_string_lit_null")));
      continue;
    }
    ++with_values;
    EXPECT_EQ(std::get<Timestamp>(parse("as_timestamp")).micros, 1631099471LL * 1000000);
    EXPECT_EQ(std::get<std::string>(parse("as_string_lit_null")), "null");
    EXPECT_EQ(std::get<Date>(parse("as_date")).days, 18878);
    int64_t i = std::get<int64_t>(parse("as_int"));
    EXPECT_EQ(std::get<int64_t>(parse("as_long")), i);
    EXPECT_EQ(std::get<double>(parse("as_double")), static_cast<double>(i));
    EXPECT_EQ(std::get<Decimal>(parse("as_big_decimal")).unscaled,
              i * [&] { __int128 p = 1; for (int k = 0; k < FindField(*schema, "as_big_decimal")->type.scale; ++k) p *= 10; return static_cast<int64_t>(p); }());
  }
  EXPECT_EQ(all_null, 1);
  EXPECT_GE(with_values, 2);
}

}  // namespace
}  // namespace lake::delta
