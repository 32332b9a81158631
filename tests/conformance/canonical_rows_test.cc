// The conformance row encoder itself, against values worked out by hand from the manifest's
// "canonical_encoding" text (and FIPS 180-4's test vector for SHA-256).
#include "conformance/canonical_rows.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace lake::conformance {
namespace {

using engine::ColumnType;
using engine::Value;
using Kind = ColumnType::Kind;
using nlohmann::json;

ColumnType Type(Kind kind) {
  ColumnType t;
  t.kind = kind;
  return t;
}

ColumnType Decimal(int precision, int scale) {
  ColumnType t = Type(Kind::kDecimal);
  t.precision = precision;
  t.scale = scale;
  return t;
}

Value V(Value::Storage s) { return Value{std::move(s)}; }

TEST(CanonicalRows, DecimalsKeepExactlyTheirScale) {
  EXPECT_EQ(EncodeValue(V(int64_t{-1230}), Decimal(5, 2)), json("-12.30"));
  EXPECT_EQ(EncodeValue(V(int64_t{5}), Decimal(5, 3)), json("0.005"));
  EXPECT_EQ(EncodeValue(V(int64_t{-5}), Decimal(5, 3)), json("-0.005"));
  EXPECT_EQ(EncodeValue(V(int64_t{0}), Decimal(1, 0)), json("0"));
  // 10^37 as decimal(38,36): "10.000...0" with 36 zeros after the point.
  __int128 big = 1;
  for (int i = 0; i < 37; ++i) big *= 10;
  EXPECT_EQ(EncodeValue(V(big), Decimal(38, 36)), json("10." + std::string(36, '0')));
}

TEST(CanonicalRows, DatesAndTimestamps) {
  EXPECT_EQ(EncodeValue(V(int64_t{0}), Type(Kind::kDate)), json("1970-01-01"));
  EXPECT_EQ(EncodeValue(V(int64_t{-1}), Type(Kind::kDate)), json("1969-12-31"));
  // 2021-09-08 is day 18878 (51 years incl. 13 leap days = 18627, + 251 days into 2021).
  EXPECT_EQ(EncodeValue(V(int64_t{18878}), Type(Kind::kDate)), json("2021-09-08"));
  // 2021-09-08T18:11:11Z = 18878 days + 65471 s.
  const int64_t micros = (18878LL * 86400 + 18 * 3600 + 11 * 60 + 11) * 1000000;
  EXPECT_EQ(EncodeValue(V(micros), Type(Kind::kTimestampTz)), json("2021-09-08T18:11:11.000000Z"));
  EXPECT_EQ(EncodeValue(V(micros + 7), Type(Kind::kTimestamp)), json("2021-09-08T18:11:11.000007"));
  // One microsecond before the epoch.
  EXPECT_EQ(EncodeValue(V(int64_t{-1}), Type(Kind::kTimestampTz)),
            json("1969-12-31T23:59:59.999999Z"));
  // 9999-12-31T23:59:59.999999Z = 253402300799999999 micros.
  EXPECT_EQ(EncodeValue(V(int64_t{253402300799999999}), Type(Kind::kTimestampTz)),
            json("9999-12-31T23:59:59.999999Z"));
}

TEST(CanonicalRows, BinaryIsLowercaseHex) {
  EXPECT_EQ(EncodeValue(V(std::string("\x01\xab\xff", 3)), Type(Kind::kBlob)), json("01abff"));
}

TEST(CanonicalRows, DoublesSpellNonFiniteValues) {
  EXPECT_EQ(EncodeValue(V(std::numeric_limits<double>::quiet_NaN()), Type(Kind::kDouble)),
            json("NaN"));
  EXPECT_EQ(EncodeValue(V(-std::numeric_limits<double>::infinity()), Type(Kind::kDouble)),
            json("-Infinity"));
}

TEST(CanonicalRows, FloatsCompareAsFloat32) {
  // 0.1f widened to double is 0.10000000149011612; the manifest writes "0.1".
  const ColumnType f = Type(Kind::kFloat);
  EXPECT_EQ(CompareKey(EncodeValue(V(static_cast<double>(0.1f)), f), f), CompareKey(json(0.1), f));
  EXPECT_NE(CompareKey(json(0.1), f), CompareKey(json(0.2), f));
  // As doubles the same two texts differ.
  const ColumnType d = Type(Kind::kDouble);
  EXPECT_NE(CompareKey(json(static_cast<double>(0.1f)), d), CompareKey(json(0.1), d));
  EXPECT_EQ(CompareKey(json(1), d), CompareKey(json(1.0), d));
}

TEST(CanonicalRows, MapPairsAreComparedSortedByKey) {
  ColumnType m = Type(Kind::kMap);
  m.children = {{"key", Type(Kind::kInteger)}, {"value", Type(Kind::kVarchar)}};
  auto pairs = std::make_shared<engine::ValueMap>();
  pairs->emplace_back(V(int64_t{2}), V(std::string("b")));
  pairs->emplace_back(V(int64_t{1}), V(std::string("a")));
  const json encoded = EncodeValue(V(pairs), m);
  EXPECT_EQ(encoded, json::parse(R"([[2,"b"],[1,"a"]])"));
  EXPECT_EQ(CompareKey(encoded, m), CompareKey(json::parse(R"([[1,"a"],[2,"b"]])"), m));
  EXPECT_NE(CompareKey(encoded, m), CompareKey(json::parse(R"([[1,"b"],[2,"a"]])"), m));
}

TEST(CanonicalRows, StructsAreObjectsInSchemaOrder) {
  ColumnType s = Type(Kind::kStruct);
  s.children = {{"b", Type(Kind::kBigInt)}, {"a", Type(Kind::kVarchar)}};
  auto fields = std::make_shared<engine::ValueStruct>();
  fields->emplace_back("b", V(int64_t{7}));
  fields->emplace_back("a", Value{});
  const json encoded = EncodeValue(V(fields), s);
  EXPECT_EQ(encoded, json::parse(R"({"b":7,"a":null})"));
  EXPECT_EQ(CompareKey(encoded, s), R"({"b":7,"a":null})");
  EXPECT_NE(CompareKey(json::parse(R"({"b":7})"), s), CompareKey(encoded, s));
}

TEST(CanonicalRows, DeltaTypeNamesOfResultColumns) {
  ColumnType list = Type(Kind::kList);
  list.children = {{"element", Decimal(10, 2)}};
  EXPECT_EQ(DeltaTypeNameOf(list), "array<decimal(10,2)>");
  EXPECT_EQ(DeltaTypeNameOf(Type(Kind::kTimestamp)), "timestamp_ntz");
  EXPECT_EQ(DeltaTypeNameOf(Type(Kind::kTimestampTz)), "timestamp");
  EXPECT_EQ(DeltaTypeNameOf(Type(Kind::kTinyInt)), "byte");
}

TEST(CanonicalRows, Sha256MatchesTheFipsVectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(CanonicalRows, PercentDecodesOnce) {
  EXPECT_EQ(PercentDecode("letter=%252F%252520%2525f"), "letter=%2F%2520%25f");
  EXPECT_EQ(PercentDecode("x=B%20B/a%2"), "x=B B/a%2");
}

}  // namespace
}  // namespace lake::conformance
