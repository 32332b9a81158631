// StatsStructParser: stats JSON into the typed struct of a checkpoint's add.stats_parsed.
// Expected values are worked out by hand from the JSON text.
#include "delta/stats_struct.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/strings.h"

namespace lake::delta {
namespace {

Schema MustParseSchema(std::string_view json) {
  Result<Schema> s = ParseSchema(json);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Schema{};
}

// struct<numRecords: long, minValues: struct<id: long, ts: timestamp, amount: decimal(10,2),
//        s: string, inner: struct<x: int, d: date>>, nullCount: struct<id: long>,
//        tightBounds: boolean>
constexpr char kStatsSchema[] = R"j({"type":"struct","fields":[
  {"name":"numRecords","type":"long","nullable":true,"metadata":{}},
  {"name":"minValues","type":{"type":"struct","fields":[
    {"name":"id","type":"long","nullable":true,"metadata":{}},
    {"name":"ts","type":"timestamp","nullable":true,"metadata":{}},
    {"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}},
    {"name":"s","type":"string","nullable":true,"metadata":{}},
    {"name":"inner","type":{"type":"struct","fields":[
      {"name":"x","type":"integer","nullable":true,"metadata":{}},
      {"name":"d","type":"date","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}
  ]},"nullable":true,"metadata":{}},
  {"name":"nullCount","type":{"type":"struct","fields":[
    {"name":"id","type":"long","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
  {"name":"tightBounds","type":"boolean","nullable":true,"metadata":{}}]})j";

// Node numbers of kStatsSchema in pre-order.
enum Node {
  kRoot = 0,
  kNumRecords,
  kMin,
  kMinId,
  kMinTs,
  kMinAmount,
  kMinS,
  kInner,
  kInnerX,
  kInnerD,
  kNullCount,
  kNullId,
  kTightBounds,
  kNodes
};

class StatsStructTest : public ::testing::Test {
 protected:
  StatsStructTest() : schema_(MustParseSchema(kStatsSchema)), parser_(schema_) {}

  // Returns which nodes are valid, as a string of 0/1 in node order.
  std::string Validity() const {
    std::string out;
    for (uint8_t v : values_.is_valid) out += v ? '1' : '0';
    return out;
  }

  Schema schema_;
  StatsStructParser parser_;
  StatsStructParser::Values values_;
};

TEST_F(StatsStructTest, NodesArePreOrderWithParentsAndNames) {
  const auto& nodes = parser_.nodes();
  ASSERT_EQ(nodes.size(), static_cast<size_t>(kNodes));
  EXPECT_EQ(nodes[kRoot].parent, -1);
  EXPECT_EQ(nodes[kRoot].children, (std::vector<int>{kNumRecords, kMin, kNullCount, kTightBounds}));
  EXPECT_EQ(nodes[kMin].children, (std::vector<int>{kMinId, kMinTs, kMinAmount, kMinS, kInner}));
  EXPECT_EQ(nodes[kInner].children, (std::vector<int>{kInnerX, kInnerD}));
  EXPECT_EQ(nodes[kInnerD].parent, kInner);
  EXPECT_EQ(nodes[kInnerD].name, "d");
  EXPECT_EQ(nodes[kNullId].parent, kNullCount);
  EXPECT_EQ(nodes[kTightBounds].type->kind, TypeKind::kBoolean);
}

TEST_F(StatsStructTest, ReadsEveryLeafAsItsType) {
  ASSERT_TRUE(parser_.Parse(
      R"({"numRecords":3,"minValues":{"id":-7,"ts":"2024-01-01T00:00:00.000Z","amount":1.5,)"
      R"("s":"a\"b","inner":{"x":42,"d":"1970-01-11"}},"nullCount":{"id":1},"tightBounds":false})",
      values_));
  EXPECT_EQ(Validity(), "1111111111111");
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kNumRecords]), 3);
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kMinId]), -7);
  // 2024-01-01T00:00:00Z is 19,723 days after the epoch: 19723 * 86400 s.
  EXPECT_EQ(std::get<Timestamp>(values_.leaves[kMinTs]).micros, 1'704'067'200'000'000);
  // 1.5 in decimal(10,2) is 150 hundredths.
  EXPECT_EQ(static_cast<int64_t>(std::get<Decimal>(values_.leaves[kMinAmount]).unscaled), 150);
  EXPECT_EQ(std::get<std::string>(values_.leaves[kMinS]), "a\"b");
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kInnerX]), 42);
  EXPECT_EQ(std::get<Date>(values_.leaves[kInnerD]).days, 10);
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kNullId]), 1);
  EXPECT_EQ(std::get<bool>(values_.leaves[kTightBounds]), false);
}

TEST_F(StatsStructTest, MissingAndNullFieldsAreNull) {
  // minValues.inner missing, nullCount null, tightBounds missing.
  ASSERT_TRUE(parser_.Parse(R"({"numRecords":3,"minValues":{"id":null,"s":"x"},"nullCount":null})",
                            values_));
  //                  root num min id ts amt s inner x d nc ncid tb
  EXPECT_EQ(Validity(), "1" "1" "1" "0" "0" "0" "1" "0" "0" "0" "0" "0" "0");
  EXPECT_EQ(std::get<std::string>(values_.leaves[kMinS]), "x");
}

TEST_F(StatsStructTest, WrongJsonTypesAreNullLeavesAndAStructOfNulls) {
  // A string for a long, a number for a string, an object for a long, a number for a struct,
  // a string for a boolean, a bad date, a fraction finer than the decimal's scale.
  ASSERT_TRUE(parser_.Parse(R"({"numRecords":"many","minValues":{"id":{"a":1},"s":5,)"
                            R"("amount":1.234,"inner":{"x":1.5,"d":"yesterday"}},)"
                            R"("nullCount":7,"tightBounds":"false"})",
                            values_));
  //                  root num min id ts amt s inner x d nc ncid tb
  EXPECT_EQ(Validity(), "1" "0" "1" "0" "0" "0" "0" "1" "0" "0" "1" "0" "0");
}

TEST_F(StatsStructTest, KeysMatchExactlyAndTheFirstDuplicateWins) {
  ASSERT_TRUE(parser_.Parse(R"({"NumRecords":9,"numRecords":1,"numRecords":2,)"
                            R"("extra":{"deep":[1,{"x":2}]},"minValues":{"ID":5,"id":6}})",
                            values_));
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kNumRecords]), 1);
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kMinId]), 6);
  //                  root num min id ts amt s inner x d nc ncid tb
  EXPECT_EQ(Validity(), "1" "1" "1" "1" "0" "0" "0" "0" "0" "0" "0" "0" "0");
}

TEST_F(StatsStructTest, DecimalsAreExactWhetherIntegersOrFractions) {
  // An integer is read from the parsed document; a fraction from its text (1.25 has no exact
  // double, so reading it from one could round).
  ASSERT_TRUE(parser_.Parse(R"({"minValues":{"amount":3}})", values_));
  EXPECT_EQ(static_cast<int64_t>(std::get<Decimal>(values_.leaves[kMinAmount]).unscaled), 300);
  ASSERT_TRUE(parser_.Parse(R"({"minValues":{"amount":-0.07,"id":4},"numRecords":9})", values_));
  EXPECT_EQ(static_cast<int64_t>(std::get<Decimal>(values_.leaves[kMinAmount]).unscaled), -7);
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kMinId]), 4);
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kNumRecords]), 9);
}

TEST(StatsStructParserTest, NumbersBeyond64BitsAndDoubles) {
  // struct<big: decimal(38,0), d: double, f: float>
  Schema schema = MustParseSchema(R"j({"type":"struct","fields":[
    {"name":"big","type":"decimal(38,0)","nullable":true,"metadata":{}},
    {"name":"d","type":"double","nullable":true,"metadata":{}},
    {"name":"f","type":"float","nullable":true,"metadata":{}}]})j");
  StatsStructParser parser(schema);
  StatsStructParser::Values values;
  // 10^29 + 7 needs 97 bits; 18446744073709551615 is 2^64 - 1.
  ASSERT_TRUE(parser.Parse(R"({"big":100000000000000000000000000007,"d":18446744073709551615,)"
                           R"("f":-2})",
                           values));
  const __int128 big = static_cast<__int128>(10'000'000'000'000'000LL) * 10'000'000'000'000LL + 7;
  EXPECT_TRUE(std::get<Decimal>(values.leaves[1]).unscaled == big);
  EXPECT_EQ(std::get<double>(values.leaves[2]), 18446744073709551616.0);
  EXPECT_EQ(std::get<double>(values.leaves[3]), -2.0);
  ASSERT_TRUE(parser.Parse(R"({"d":0.1,"f":1e2})", values));
  EXPECT_EQ(std::get<double>(values.leaves[2]), 0.1);
  EXPECT_EQ(std::get<double>(values.leaves[3]), 100.0);
  EXPECT_EQ(values.is_valid, (std::vector<uint8_t>{1, 0, 1, 1}));
}

TEST_F(StatsStructTest, NeedlesslyEscapedKeysStillMatch) {
  // "\u006eumRecords" is "numRecords", "\u0069d" is "id".
  ASSERT_TRUE(parser_.Parse(R"({"\u006eumRecords":8,"minValues":{"\u0069d":9}})", values_));
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kNumRecords]), 8);
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kMinId]), 9);
}

TEST(StatsStructParserTest, EscapedKeysMatchTheirUnescapedNames) {
  // struct<we"ird: long, id: long>: a name that JSON must escape, and a key escaped needlessly.
  Schema schema = MustParseSchema(R"j({"type":"struct","fields":[
    {"name":"we\"ird","type":"long","nullable":true,"metadata":{}},
    {"name":"id","type":"long","nullable":true,"metadata":{}}]})j");
  StatsStructParser parser(schema);
  StatsStructParser::Values values;
  ASSERT_TRUE(parser.Parse(R"({"we\"ird":1,"\u0069d":2})", values));
  EXPECT_EQ(std::get<int64_t>(values.leaves[1]), 1);
  EXPECT_EQ(std::get<int64_t>(values.leaves[2]), 2);
  // we\"ird, i and idd are other names.
  ASSERT_TRUE(parser.Parse(R"({"we\\\"ird":1,"i":2,"idd":3})", values));
  EXPECT_EQ(values.is_valid, (std::vector<uint8_t>{1, 0, 0}));
}

TEST_F(StatsStructTest, AnythingButAnObjectIsANullStruct) {
  EXPECT_FALSE(parser_.Parse("{not json", values_));
  EXPECT_FALSE(parser_.Parse("", values_));
  EXPECT_FALSE(parser_.Parse("null", values_));
  EXPECT_FALSE(parser_.Parse("5", values_));
  EXPECT_FALSE(parser_.Parse("[1]", values_));
  EXPECT_FALSE(parser_.Parse(R"({"numRecords":1} trailing)", values_));
  EXPECT_FALSE(parser_.Parse(R"({"numRecords":1,"minValues":{"id":2})", values_));
  EXPECT_TRUE(parser_.Parse("{}", values_));
  EXPECT_EQ(Validity(), "1000000000000");
}

TEST_F(StatsStructTest, ValuesAreResetBetweenParses) {
  ASSERT_TRUE(parser_.Parse(R"({"numRecords":3,"minValues":{"id":1}})", values_));
  ASSERT_TRUE(parser_.Parse(R"({"minValues":{"s":"z"}})", values_));
  //                  root num min id ts amt s inner x d nc ncid tb
  EXPECT_EQ(Validity(), "1" "0" "1" "0" "0" "0" "1" "0" "0" "0" "0" "0" "0");
}

TEST_F(StatsStructTest, LongStatsStringsReuseTheBuffer) {
  // Longer than any earlier call on this thread: the padded buffer must grow.
  std::string s(5000, 'q');
  ASSERT_TRUE(parser_.Parse(StrCat(R"({"minValues":{"s":")", s, R"("},"numRecords":4})"), values_));
  EXPECT_EQ(std::get<std::string>(values_.leaves[kMinS]), s);
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kNumRecords]), 4);
  ASSERT_TRUE(parser_.Parse(R"({"numRecords":5})", values_));
  EXPECT_EQ(std::get<int64_t>(values_.leaves[kNumRecords]), 5);
}

}  // namespace
}  // namespace lake::delta
