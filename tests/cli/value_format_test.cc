// Expected strings are written by hand from the encoding rules in cli/value_format.h
// (issue #2 §5); day counts and microsecond values were computed by hand from the calendar.
#include "cli/value_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace lake::cli {
namespace {

using engine::ColumnType;
using engine::Value;
using Kind = ColumnType::Kind;

ColumnType T(Kind kind, std::string name = "") {
  ColumnType t;
  t.kind = kind;
  t.name = std::move(name);
  return t;
}
ColumnType Decimal(int precision, int scale) {
  ColumnType t = T(Kind::kDecimal, "DECIMAL");
  t.precision = precision;
  t.scale = scale;
  return t;
}
Value V(Value::Storage s) { return Value{std::move(s)}; }
Value Str(std::string s) { return Value{std::move(s)}; }

TEST(ValueToJson, NullOfAnyTypeIsNull) {
  EXPECT_EQ(ValueToJson(Value{}, T(Kind::kBigInt)), "null");
  EXPECT_EQ(ValueToJson(Value{}, Decimal(10, 2)), "null");
  EXPECT_EQ(ValueToJson(Value{}, T(Kind::kVarchar)), "null");
}

TEST(ValueToJson, IntegersAreExact) {
  EXPECT_EQ(ValueToJson(V(int64_t{9223372036854775807}), T(Kind::kBigInt)),
            "9223372036854775807");
  EXPECT_EQ(ValueToJson(V(std::numeric_limits<int64_t>::min()), T(Kind::kBigInt)),
            "-9223372036854775808");
  EXPECT_EQ(ValueToJson(V(uint64_t{18446744073709551615u}), T(Kind::kUBigInt)),
            "18446744073709551615");
  __int128 huge_max = (static_cast<__int128>(0x7fffffffffffffffLL) << 64) |
                      static_cast<__int128>(0xffffffffffffffffULL);
  EXPECT_EQ(ValueToJson(V(huge_max), T(Kind::kHugeInt)),
            "170141183460469231731687303715884105727");
  EXPECT_EQ(ValueToJson(V(-huge_max - 1), T(Kind::kHugeInt)),
            "-170141183460469231731687303715884105728");
  EXPECT_EQ(ValueToJson(V(int64_t{-7}), T(Kind::kTinyInt)), "-7");
  EXPECT_EQ(ValueToJson(V(int64_t{0}), T(Kind::kInteger)), "0");
}

TEST(ValueToJson, BooleansAreJsonLiterals) {
  EXPECT_EQ(ValueToJson(V(true), T(Kind::kBoolean)), "true");
  EXPECT_EQ(ValueToJson(V(false), T(Kind::kBoolean)), "false");
}

TEST(ValueToJson, DecimalsAreStringsWithTheirScale) {
  EXPECT_EQ(ValueToJson(V(int64_t{-1230}), Decimal(10, 2)), "\"-12.30\"");
  EXPECT_EQ(ValueToJson(V(int64_t{-5}), Decimal(10, 2)), "\"-0.05\"");
  EXPECT_EQ(ValueToJson(V(int64_t{0}), Decimal(10, 2)), "\"0.00\"");
  EXPECT_EQ(ValueToJson(V(int64_t{4}), Decimal(12, 5)), "\"0.00004\"");
  EXPECT_EQ(ValueToJson(V(int64_t{7}), Decimal(1, 0)), "\"7\"");
  // DECIMAL(38,36) arrives as a 128-bit unscaled value.
  __int128 unscaled = static_cast<__int128>(1234567890123456789LL) * 10000000000000000000ULL +
                      static_cast<__int128>(1234567890123456789ULL);
  EXPECT_EQ(ValueToJson(V(unscaled), Decimal(38, 36)),
            "\"12.345678901234567891234567890123456789\"");
  EXPECT_EQ(ValueToJson(V(-unscaled), Decimal(38, 0)),
            "\"-12345678901234567891234567890123456789\"");
}

TEST(ValueToJson, FloatingPointIsShortestRoundTrip) {
  EXPECT_EQ(ValueToJson(V(0.1), T(Kind::kDouble)), "0.1");
  EXPECT_EQ(ValueToJson(V(static_cast<double>(0.1f)), T(Kind::kFloat)), "0.1");
  EXPECT_EQ(ValueToJson(V(static_cast<double>(1.0f / 3.0f)), T(Kind::kFloat)), "0.33333334");
  EXPECT_EQ(ValueToJson(V(1e300), T(Kind::kDouble)), "1e+300");
  EXPECT_EQ(ValueToJson(V(2.0), T(Kind::kDouble)), "2");
  EXPECT_EQ(ValueToJson(V(-1.5), T(Kind::kDouble)), "-1.5");
}

TEST(ValueToJson, NonFiniteNumbersAreStrings) {
  EXPECT_EQ(ValueToJson(V(std::nan("")), T(Kind::kDouble)), "\"NaN\"");
  EXPECT_EQ(ValueToJson(V(std::numeric_limits<double>::infinity()), T(Kind::kDouble)),
            "\"Infinity\"");
  EXPECT_EQ(ValueToJson(V(-std::numeric_limits<double>::infinity()), T(Kind::kFloat)),
            "\"-Infinity\"");
}

TEST(ValueToJson, StringsAreEscaped) {
  EXPECT_EQ(ValueToJson(Str("a\"b\\c\nd\x01"), T(Kind::kVarchar)),
            "\"a\\\"b\\\\c\\nd\\u0001\"");
  EXPECT_EQ(ValueToJson(Str("Zürich"), T(Kind::kVarchar)), "\"Zürich\"");
  EXPECT_EQ(ValueToJson(Str(""), T(Kind::kVarchar)), "\"\"");
}

TEST(ValueToJson, BlobsAreBase64) {
  EXPECT_EQ(ValueToJson(Str(std::string("\x00\x01\xff", 3)), T(Kind::kBlob)), "\"AAH/\"");
  EXPECT_EQ(ValueToJson(Str("hello"), T(Kind::kBlob)), "\"aGVsbG8=\"");
  EXPECT_EQ(ValueToJson(Str("ab"), T(Kind::kBlob)), "\"YWI=\"");
  EXPECT_EQ(ValueToJson(Str(""), T(Kind::kBlob)), "\"\"");
}

TEST(ValueToJson, Dates) {
  EXPECT_EQ(ValueToJson(V(int64_t{0}), T(Kind::kDate)), "\"1970-01-01\"");
  EXPECT_EQ(ValueToJson(V(int64_t{18262}), T(Kind::kDate)), "\"2020-01-01\"");
  EXPECT_EQ(ValueToJson(V(int64_t{-1}), T(Kind::kDate)), "\"1969-12-31\"");
  EXPECT_EQ(ValueToJson(V(int64_t{-719162}), T(Kind::kDate)), "\"0001-01-01\"");
  EXPECT_EQ(ValueToJson(V(int64_t{2932896}), T(Kind::kDate)), "\"9999-12-31\"");
  EXPECT_EQ(ValueToJson(V(int64_t{2932897}), T(Kind::kDate)), "\"+10000-01-01\"");
  EXPECT_EQ(ValueToJson(V(int64_t{11016}), T(Kind::kDate)), "\"2000-02-29\"");
  EXPECT_EQ(ValueToJson(V(int64_t{2147483647}), T(Kind::kDate)), "\"infinity\"");
}

TEST(ValueToJson, TimestampsWithZoneEndInZ) {
  EXPECT_EQ(ValueToJson(V(int64_t{0}), T(Kind::kTimestampTz)), "\"1970-01-01T00:00:00.000000Z\"");
  EXPECT_EQ(ValueToJson(V(int64_t{-1}), T(Kind::kTimestampTz)),
            "\"1969-12-31T23:59:59.999999Z\"");
  // 2020-01-01 is day 18262: 18262 * 86400 + 8h09m10s = 1577866150 s.
  EXPECT_EQ(ValueToJson(V(int64_t{1577866150001000}), T(Kind::kTimestampTz)),
            "\"2020-01-01T08:09:10.001000Z\"");
  EXPECT_EQ(ValueToJson(V(std::numeric_limits<int64_t>::max()), T(Kind::kTimestampTz)),
            "\"infinity\"");
  EXPECT_EQ(ValueToJson(V(-std::numeric_limits<int64_t>::max()), T(Kind::kTimestampTz)),
            "\"-infinity\"");
}

TEST(ValueToJson, TimestampNtzHasNoZone) {
  EXPECT_EQ(ValueToJson(V(int64_t{1577866150001000}), T(Kind::kTimestamp)),
            "\"2020-01-01T08:09:10.001000\"");
  // 9999-12-31 23:59:59.999999: day 2932896.
  EXPECT_EQ(ValueToJson(V(int64_t{2932896LL * 86400000000LL + 86399999999LL}), T(Kind::kTimestamp)),
            "\"9999-12-31T23:59:59.999999\"");
}

TEST(ValueToJson, Time) {
  EXPECT_EQ(ValueToJson(V(int64_t{3723000001}), T(Kind::kTime)), "\"01:02:03.000001\"");
}

TEST(ValueToJson, TextCarriedTypesAreStrings) {
  EXPECT_EQ(ValueToJson(Str("1 day"), T(Kind::kInterval)), "\"1 day\"");
  EXPECT_EQ(ValueToJson(Str("0a0b0c0d-0000-0000-0000-000000000001"), T(Kind::kUuid)),
            "\"0a0b0c0d-0000-0000-0000-000000000001\"");
}

ColumnType StructType() {
  ColumnType inner = T(Kind::kStruct, "STRUCT(c VARCHAR)");
  inner.children = {{"c", T(Kind::kVarchar)}};
  ColumnType outer = T(Kind::kStruct, "STRUCT(a DECIMAL(4,1), b STRUCT(c VARCHAR))");
  outer.children = {{"a", Decimal(4, 1)}, {"b", inner}};
  return outer;
}

TEST(ValueToJson, StructsAreObjectsInFieldOrder) {
  auto inner = std::make_shared<engine::ValueStruct>();
  inner->push_back({"c", Str("x")});
  auto outer = std::make_shared<engine::ValueStruct>();
  outer->push_back({"a", V(int64_t{-15})});
  outer->push_back({"b", Value{inner}});
  EXPECT_EQ(ValueToJson(Value{outer}, StructType()), "{\"a\":\"-1.5\",\"b\":{\"c\":\"x\"}}");
}

TEST(ValueToJson, ListsAreArraysWithTypedElements) {
  ColumnType list = T(Kind::kList, "BLOB[]");
  list.children = {{"", T(Kind::kBlob)}};
  auto items = std::make_shared<engine::ValueList>();
  items->push_back(Str("hello"));
  items->push_back(Value{});
  EXPECT_EQ(ValueToJson(Value{items}, list), "[\"aGVsbG8=\",null]");
  EXPECT_EQ(ValueToJson(Value{std::make_shared<engine::ValueList>()}, list), "[]");
}

TEST(ValueToJson, MapsAreArraysOfPairs) {
  ColumnType map = T(Kind::kMap, "MAP(BIGINT, TIMESTAMP WITH TIME ZONE)");
  map.children = {{"key", T(Kind::kBigInt)}, {"value", T(Kind::kTimestampTz)}};
  auto entries = std::make_shared<engine::ValueMap>();
  entries->push_back({V(int64_t{2}), V(int64_t{0})});
  entries->push_back({V(int64_t{1}), Value{}});
  EXPECT_EQ(ValueToJson(Value{entries}, map),
            "[[2,\"1970-01-01T00:00:00.000000Z\"],[1,null]]");
}

TEST(ValueToJson, NestedMapInsideStructInsideList) {
  ColumnType map = T(Kind::kMap);
  map.children = {{"key", T(Kind::kVarchar)}, {"value", Decimal(5, 2)}};
  ColumnType st = T(Kind::kStruct);
  st.children = {{"m", map}};
  ColumnType list = T(Kind::kList);
  list.children = {{"", st}};
  auto entries = std::make_shared<engine::ValueMap>();
  entries->push_back({Str("k"), V(int64_t{100})});
  auto fields = std::make_shared<engine::ValueStruct>();
  fields->push_back({"m", Value{entries}});
  auto items = std::make_shared<engine::ValueList>();
  items->push_back(Value{fields});
  EXPECT_EQ(ValueToJson(Value{items}, list), "[{\"m\":[[\"k\",\"1.00\"]]}]");
}

TEST(ValueToText, ScalarsUnquotedAndNullIsNullopt) {
  EXPECT_EQ(ValueToText(V(int64_t{-1230}), Decimal(10, 2)), "-12.30");
  EXPECT_EQ(ValueToText(Str("hello"), T(Kind::kBlob)), "aGVsbG8=");
  EXPECT_EQ(ValueToText(V(int64_t{0}), T(Kind::kTimestampTz)), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(ValueToText(Value{}, T(Kind::kVarchar)), std::nullopt);
  EXPECT_EQ(ValueToText(V(std::nan("")), T(Kind::kDouble)), "NaN");
}

TEST(ValueToDisplay, HumanForms) {
  EXPECT_EQ(ValueToDisplay(Value{}, T(Kind::kBigInt)), "NULL");
  EXPECT_EQ(ValueToDisplay(V(int64_t{1577866150000000}), T(Kind::kTimestampTz)),
            "2020-01-01 08:09:10 UTC");
  EXPECT_EQ(ValueToDisplay(V(int64_t{1577866150001000}), T(Kind::kTimestamp)),
            "2020-01-01 08:09:10.001000");
  EXPECT_EQ(ValueToDisplay(Str(std::string("a\x00\xff", 3)), T(Kind::kBlob)), "a\\x00\\xFF");
  EXPECT_EQ(ValueToDisplay(Str("two\nlines"), T(Kind::kVarchar)), "two\\nlines");
}

}  // namespace
}  // namespace lake::cli
