// Delta stats JSON from DuckDB's written-file statistics (engine/internal/file_stats.h).
// Inputs are shaped like DuckDB 1.4's RETURN_STATS rows; every expected string is written
// out by hand from the rules in the header (Spark's StatisticsCollection behaviour).
#include "engine/internal/file_stats.h"

#include <gtest/gtest.h>

#include <memory>

#include "delta/schema.h"
#include "delta/skipping.h"
#include "status_matchers.h"

namespace lake::engine::internal {
namespace {

using delta::DataType;
using delta::StructField;
using delta::TypeKind;

DataType T(TypeKind kind) {
  DataType t;
  t.kind = kind;
  return t;
}

DataType Dec(int p, int s) {
  DataType t = T(TypeKind::kDecimal);
  t.precision = p;
  t.scale = s;
  return t;
}

StructField F(std::string name, DataType type, std::string physical = "") {
  StructField f;
  f.name = std::move(name);
  f.type = std::move(type);
  f.physical_name = std::move(physical);
  return f;
}

DataType Struct(std::vector<StructField> fields) {
  DataType t = T(TypeKind::kStruct);
  t.fields = std::move(fields);
  return t;
}

DataType Array(DataType element) {
  DataType t = T(TypeKind::kArray);
  t.element = std::make_shared<DataType>(std::move(element));
  return t;
}

WrittenColumnStats W(std::vector<std::string> path, std::map<std::string, std::string> stats) {
  return WrittenColumnStats{std::move(path), std::move(stats)};
}

// Names of the indexed tree, "s{x,y}" style, for compact expectations.
std::string Names(const std::vector<StatsColumn>& columns) {
  std::string out;
  for (const StatsColumn& c : columns) {
    if (!out.empty()) out += ",";
    out += c.physical_name;
    if (c.type.kind == TypeKind::kStruct) out += "{" + Names(c.children) + "}";
  }
  return out;
}

TEST(StatsColumnPath, ParsesQuotedPartsWithEscapes) {
  EXPECT_EQ(ParseStatsColumnPath("\"id\""), (std::vector<std::string>{"id"}));
  EXPECT_EQ(ParseStatsColumnPath("\"s\".\"a\""), (std::vector<std::string>{"s", "a"}));
  EXPECT_EQ(ParseStatsColumnPath("\"a\"\"b\".\"c.d\""), (std::vector<std::string>{"a\"b", "c.d"}));
  EXPECT_EQ(ParseStatsColumnPath("id"), std::nullopt);
  EXPECT_EQ(ParseStatsColumnPath("\"a\"x"), std::nullopt);
  EXPECT_EQ(ParseStatsColumnPath("\"a"), std::nullopt);
  EXPECT_EQ(ParseStatsColumnPath("\"a\"."), std::nullopt);
}

TEST(StatsStrings, MinKeepsA32CharacterPrefix) {
  EXPECT_EQ(TruncateStringMin("short"), "short");
  EXPECT_EQ(TruncateStringMin(std::string(40, 'a')), std::string(32, 'a'));
  // Characters, not bytes: 40 two-byte characters keep 32 of them (64 bytes).
  std::string e_acute;
  for (int i = 0; i < 40; ++i) e_acute += "\xC3\xA9";
  EXPECT_EQ(TruncateStringMin(e_acute), e_acute.substr(0, 64));
}

TEST(StatsStrings, MaxGetsATieBreakerThatKeepsItAnUpperBound) {
  const std::string a32(32, 'a');
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(TruncateStringMax("short"), "short");
  EXPECT_EQ(TruncateStringMax(a32), a32);  // exactly 32: not cut
  EXPECT_EQ(TruncateStringMax(a32 + "bcd"), a32 + fffd);
  // A character >= U+FFFD after the cut is kept, else the tie-breaker would sort below it.
  const std::string uffff = "\xEF\xBF\xBF";
  EXPECT_EQ(TruncateStringMax(a32 + uffff + "b"), a32 + uffff + fffd);
  // 4-byte characters sort above U+FFFD in UTF-8 byte order (Spark's UTF-16 check misses
  // this): keep it too.
  const std::string devil = "\xF0\x9F\x98\x88";
  EXPECT_EQ(TruncateStringMax(a32 + devil + "x"), a32 + devil + fffd);
  for (const std::string& s : {a32 + "bcd", a32 + uffff + "b", a32 + devil + "x"}) {
    EXPECT_GE(TruncateStringMax(s), s);  // std::string compares bytes: UTF-8 order
  }
}

TEST(StatsTimestamps, RoundMinDownAndMaxUpToMilliseconds) {
  EXPECT_EQ(TimestampStatText("2024-01-01 00:16:39.123456+00", true, false),
            "2024-01-01T00:16:39.123Z");
  EXPECT_EQ(TimestampStatText("2024-01-01 00:16:39.123456+00", true, true),
            "2024-01-01T00:16:39.124Z");
  // Already whole milliseconds: nothing to round.
  EXPECT_EQ(TimestampStatText("2024-01-01 00:16:39.123+00", true, true),
            "2024-01-01T00:16:39.123Z");
  EXPECT_EQ(TimestampStatText("2024-01-01 00:00:00+00", true, true), "2024-01-01T00:00:00.000Z");
  // Offsets are folded into UTC.
  EXPECT_EQ(TimestampStatText("2024-01-01 01:00:00+01", true, false), "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(TimestampStatText("2024-01-01 05:30:00.25+05:30", true, false),
            "2024-01-01T00:00:00.250Z");
  EXPECT_EQ(TimestampStatText("2023-12-31 20:00:00-04", true, false), "2024-01-01T00:00:00.000Z");
  // Before the epoch, rounding still goes the right way.
  EXPECT_EQ(TimestampStatText("1969-12-31 23:59:59.9995+00", true, false),
            "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(TimestampStatText("1969-12-31 23:59:59.9995+00", true, true),
            "1970-01-01T00:00:00.000Z");
  // timestamp_ntz: no zone in or out; nanoseconds (TIMESTAMP_NS text) count for rounding.
  EXPECT_EQ(TimestampStatText("2024-01-01 00:00:00.5", false, false), "2024-01-01T00:00:00.500");
  EXPECT_EQ(TimestampStatText("2024-01-01 00:00:00.000000001", false, true),
            "2024-01-01T00:00:00.001");
  EXPECT_EQ(TimestampStatText("2024-01-01 00:00:00.000000001", false, false),
            "2024-01-01T00:00:00.000");
}

TEST(StatsTimestamps, LeavesOutWhatItCannotRepresent) {
  EXPECT_EQ(TimestampStatText("2024-01-01 00:00:00+02", false, false), std::nullopt);  // ntz+zone
  EXPECT_EQ(TimestampStatText("infinity", true, false), std::nullopt);
  EXPECT_EQ(TimestampStatText("2024-02-30 00:00:00+00", true, false), std::nullopt);
  EXPECT_EQ(TimestampStatText("0044-03-15 00:00:00 (BC)", false, false), std::nullopt);
  EXPECT_EQ(TimestampStatText("12024-01-01 00:00:00", false, false), std::nullopt);
  // Rounding up past 9999-12-31 leaves the range: no max rather than a wrong one.
  EXPECT_EQ(TimestampStatText("9999-12-31 23:59:59.9999+00", true, true), std::nullopt);
  EXPECT_EQ(TimestampStatText("9999-12-31 23:59:59.9999+00", true, false),
            "9999-12-31T23:59:59.999Z");
}

class IndexedColumnsTest : public ::testing::Test {
 protected:
  // a long, s struct<x int, y string>, l array<int>, b long
  std::vector<StructField> fields_ = {
      F("a", T(TypeKind::kLong), "col-a"),
      F("s",
        Struct({F("x", T(TypeKind::kInteger), "col-x"), F("Y", T(TypeKind::kString), "col-y")}),
        "col-s"),
      F("l", Array(T(TypeKind::kInteger)), "col-l"),
      F("b", T(TypeKind::kLong), "col-b"),
  };
};

TEST_F(IndexedColumnsTest, FirstNLeavesCountStructLeavesAndArraysAsOne) {
  ASSERT_OK_AND_ASSIGN(auto three, IndexedStatsColumns(fields_, "none", 3, std::nullopt));
  EXPECT_EQ(Names(three), "a,s{x,Y}");
  ASSERT_OK_AND_ASSIGN(auto two, IndexedStatsColumns(fields_, "none", 2, std::nullopt));
  EXPECT_EQ(Names(two), "a,s{x}");
  ASSERT_OK_AND_ASSIGN(auto four, IndexedStatsColumns(fields_, "none", 4, std::nullopt));
  EXPECT_EQ(Names(four), "a,s{x,Y},l");
  ASSERT_OK_AND_ASSIGN(auto all, IndexedStatsColumns(fields_, "none", -1, std::nullopt));
  EXPECT_EQ(Names(all), "a,s{x,Y},l,b");
  ASSERT_OK_AND_ASSIGN(auto none, IndexedStatsColumns(fields_, "none", 0, std::nullopt));
  EXPECT_EQ(Names(none), "");
}

TEST_F(IndexedColumnsTest, UsesPhysicalNamesUnderColumnMapping) {
  ASSERT_OK_AND_ASSIGN(auto all, IndexedStatsColumns(fields_, "name", -1, std::nullopt));
  EXPECT_EQ(Names(all), "col-a,col-s{col-x,col-y},col-l,col-b");
}

TEST_F(IndexedColumnsTest, StatsColumnsNameColumnsInSchemaOrderCaseInsensitively) {
  ASSERT_OK_AND_ASSIGN(auto named, IndexedStatsColumns(fields_, "none", 32, "b, s.y"));
  EXPECT_EQ(Names(named), "s{Y},b");
  ASSERT_OK_AND_ASSIGN(auto quoted, IndexedStatsColumns(fields_, "none", 32, "`S`.`Y`"));
  EXPECT_EQ(Names(quoted), "s{Y}");
  ASSERT_OK_AND_ASSIGN(auto whole, IndexedStatsColumns(fields_, "none", 32, "s"));
  EXPECT_EQ(Names(whole), "s{x,Y}");
  ASSERT_OK_AND_ASSIGN(auto empty, IndexedStatsColumns(fields_, "none", 32, ""));
  EXPECT_EQ(Names(empty), "");
}

TEST_F(IndexedColumnsTest, StatsColumnsNamingNoColumnIsRefused) {
  auto bad = IndexedStatsColumns(fields_, "none", 32, "a, zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("zz"), std::string::npos) << bad.status();
  EXPECT_FALSE(IndexedStatsColumns(fields_, "none", 32, "a.x").ok());  // a is not a struct
  EXPECT_FALSE(IndexedStatsColumns(fields_, "none", 32, "`a").ok());
}

TEST(BuildStatsJson, ConvertsEveryKindAsSparkWritesIt) {
  std::vector<StructField> fields = {
      F("id", T(TypeKind::kLong)),
      F("name", T(TypeKind::kString)),
      F("price", Dec(10, 2)),
      F("ts", T(TypeKind::kTimestamp)),
      F("ntz", T(TypeKind::kTimestampNtz)),
      F("d", T(TypeKind::kDate)),
      F("f", T(TypeKind::kFloat)),
      F("flag", T(TypeKind::kBoolean)),
      F("bin", T(TypeKind::kBinary)),
      F("s", Struct({F("a", T(TypeKind::kInteger)), F("b", T(TypeKind::kString))})),
      F("l", Array(T(TypeKind::kInteger))),
  };
  ASSERT_OK_AND_ASSIGN(auto indexed, IndexedStatsColumns(fields, "none", 32, std::nullopt));
  const std::string long_name = std::string(31, 'x') + "yz";  // 33 characters
  std::vector<WrittenColumnStats> written = {
      W({"id"}, {{"min", "-3"}, {"max", "12"}, {"null_count", "0"}, {"column_size_bytes", "9"}}),
      W({"name"}, {{"min", long_name}, {"max", long_name}, {"null_count", "2"}}),
      W({"price"}, {{"min", "-1.50"}, {"max", "20.00"}, {"null_count", "0"}}),
      W({"ts"}, {{"min", "2024-01-01 00:16:39.123456+00"},
                 {"max", "2024-01-02 10:00:00.000001+00"},
                 {"null_count", "1"}}),
      W({"ntz"},
        {{"min", "2024-01-01 00:00:00"}, {"max", "2024-01-01 00:00:00.5"}, {"null_count", "0"}}),
      W({"d"}, {{"min", "2023-12-31"}, {"max", "2024-02-29"}, {"null_count", "0"}}),
      W({"f"}, {{"min", "-inf"}, {"max", "3.5"}, {"has_nan", "false"}, {"null_count", "0"}}),
      W({"flag"}, {{"null_count", "1"}}),
      W({"bin"}, {{"min", "78"}, {"max", "7A"}, {"null_count", "0"}}),
      W({"s", "a"}, {{"min", "1"}, {"max", "5"}, {"null_count", "2"}}),
      W({"s", "b"}, {{"min", "p"}, {"max", "q"}, {"null_count", "1"}}),
      W({"l", "element"}, {{"min", "0"}, {"max", "9"}}),
  };
  const std::string min_name = std::string(31, 'x') + "y";
  const std::string max_name = std::string(31, 'x') + "y\xEF\xBF\xBD";
  EXPECT_EQ(BuildStatsJson(indexed, 7, written),
            "{\"numRecords\":7,"
            "\"minValues\":{\"id\":-3,\"name\":\"" +
                min_name +
                "\",\"price\":-1.50,"
                "\"ts\":\"2024-01-01T00:16:39.123Z\",\"ntz\":\"2024-01-01T00:00:00.000\","
                "\"d\":\"2023-12-31\",\"s\":{\"a\":1,\"b\":\"p\"}},"
                "\"maxValues\":{\"id\":12,\"name\":\"" +
                max_name +
                "\",\"price\":20.00,"
                "\"ts\":\"2024-01-02T10:00:00.001Z\",\"ntz\":\"2024-01-01T00:00:00.500\","
                "\"d\":\"2024-02-29\",\"f\":3.5,\"s\":{\"a\":5,\"b\":\"q\"}},"
                "\"nullCount\":{\"id\":0,\"name\":2,\"price\":0,\"ts\":1,\"ntz\":0,\"d\":0,\"f\":0,"
                "\"flag\":1,\"bin\":0,\"s\":{\"a\":2,\"b\":1}}}");
}

TEST(BuildStatsJson, NanDropsBothBoundsAndMissingStatsAreLeftOut) {
  std::vector<StructField> fields = {F("f", T(TypeKind::kDouble)), F("big", Dec(38, 2)),
                                     F("n", T(TypeKind::kInteger))};
  ASSERT_OK_AND_ASSIGN(auto indexed, IndexedStatsColumns(fields, "none", 32, std::nullopt));
  std::vector<WrittenColumnStats> written = {
      W({"f"}, {{"has_nan", "true"}, {"min", "1.0"}, {"max", "2.0"}, {"null_count", "0"}}),
      W({"big"}, {{"null_count", "0"}}),  // DuckDB gives no min/max for DECIMAL(38,x)
      W({"n"}, {{"null_count", "4"}}),    // all null: no bounds
  };
  EXPECT_EQ(BuildStatsJson(indexed, 4, written),
            "{\"numRecords\":4,\"nullCount\":{\"f\":0,\"big\":0,\"n\":4}}");
  EXPECT_EQ(BuildStatsJson(indexed, 4, {}), "{\"numRecords\":4}");
  EXPECT_EQ(BuildStatsJson({}, 9, written), "{\"numRecords\":9}");
}

TEST(BuildStatsJson, OnlyIndexedColumnsAndPhysicalNames) {
  std::vector<StructField> fields = {F("a", T(TypeKind::kLong), "col-1"),
                                     F("b", T(TypeKind::kLong), "col-2")};
  ASSERT_OK_AND_ASSIGN(auto indexed, IndexedStatsColumns(fields, "id", 1, std::nullopt));
  std::vector<WrittenColumnStats> written = {
      W({"col-1"}, {{"min", "1"}, {"max", "2"}, {"null_count", "0"}}),
      W({"col-2"}, {{"min", "3"}, {"max", "4"}, {"null_count", "0"}}),
  };
  EXPECT_EQ(BuildStatsJson(indexed, 2, written),
            "{\"numRecords\":2,\"minValues\":{\"col-1\":1},\"maxValues\":{\"col-1\":2},"
            "\"nullCount\":{\"col-1\":0}}");
}

TEST(BuildStatsJson, OurSkippingReaderParsesWhatWeWrite) {
  std::vector<StructField> fields = {F("id", T(TypeKind::kLong)), F("ts", T(TypeKind::kTimestamp)),
                                     F("price", Dec(10, 2)), F("name", T(TypeKind::kString))};
  delta::Schema schema = Struct(fields);
  ASSERT_OK_AND_ASSIGN(auto indexed, IndexedStatsColumns(fields, "none", 32, std::nullopt));
  std::string json = BuildStatsJson(
      indexed, 3,
      {W({"id"}, {{"min", "5"}, {"max", "9"}, {"null_count", "1"}}),
       W({"ts"}, {{"min", "1970-01-01 00:00:01.0015+00"}, {"max", "1970-01-01 00:00:02+00"}}),
       W({"price"}, {{"min", "0.05"}, {"max", "1.25"}}),
       W({"name"}, {{"min", "abc"}, {"max", "abd"}})});
  delta::FileStats parsed = delta::ParseFileStats(json, schema, "none");
  EXPECT_EQ(parsed.num_records, 3);
  using delta::Literal;
  std::map<std::string, Literal> min(parsed.min_values.begin(), parsed.min_values.end());
  std::map<std::string, Literal> max(parsed.max_values.begin(), parsed.max_values.end());
  EXPECT_EQ(min.at("id"), Literal{int64_t{5}});
  EXPECT_EQ(max.at("id"), Literal{int64_t{9}});
  EXPECT_EQ(min.at("ts"), Literal{delta::Timestamp{1001000}});  // 1.0015 s rounded down
  EXPECT_EQ(max.at("ts"), Literal{delta::Timestamp{2000000}});
  EXPECT_EQ(min.at("price"), (Literal{delta::Decimal{5, 10, 2}}));
  EXPECT_EQ(max.at("price"), (Literal{delta::Decimal{125, 10, 2}}));
  EXPECT_EQ(min.at("name"), Literal{std::string("abc")});
  ASSERT_EQ(parsed.null_count.size(), 1u);
  EXPECT_EQ(parsed.null_count[0], (std::pair<std::string, int64_t>{"id", 1}));
}

}  // namespace
}  // namespace lake::engine::internal
