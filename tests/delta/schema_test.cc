#include "delta/schema.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "delta/values_test_util.h"

namespace lake::delta {
namespace {

using testing::ConformancePath;
using testing::ReadFileOrFail;

// Returns metaData.schemaString of the first commit of a conformance table.
std::string SchemaStringOf(const std::string& table) {
  std::string log = ReadFileOrFail(ConformancePath(table + "/_delta_log/00000000000000000000.json"));
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("metaData")) return j["metaData"]["schemaString"].get<std::string>();
  }
  ADD_FAILURE() << "no metaData in " << table;
  return "";
}

TEST(Schema, ParsesEveryPrimitiveName) {
  struct Case {
    const char* name;
    TypeKind kind;
  } cases[] = {
      {"string", TypeKind::kString},       {"long", TypeKind::kLong},
      {"integer", TypeKind::kInteger},     {"short", TypeKind::kShort},
      {"byte", TypeKind::kByte},           {"float", TypeKind::kFloat},
      {"double", TypeKind::kDouble},       {"boolean", TypeKind::kBoolean},
      {"binary", TypeKind::kBinary},       {"date", TypeKind::kDate},
      {"timestamp", TypeKind::kTimestamp}, {"timestamp_ntz", TypeKind::kTimestampNtz},
      {"void", TypeKind::kVoid},           {"variant", TypeKind::kVariant},
  };
  for (const Case& c : cases) {
    ASSERT_OK_AND_ASSIGN(DataType t, ParsePrimitiveType(c.name));
    EXPECT_EQ(t.kind, c.kind) << c.name;
    EXPECT_EQ(t.ToString(), c.name);
    EXPECT_TRUE(t.is_primitive());
  }
}

TEST(Schema, ParsesDecimalsIncludingBareDecimal) {
  ASSERT_OK_AND_ASSIGN(DataType d, ParsePrimitiveType("decimal(38,18)"));
  EXPECT_EQ(d.kind, TypeKind::kDecimal);
  EXPECT_EQ(d.precision, 38);
  EXPECT_EQ(d.scale, 18);
  ASSERT_OK_AND_ASSIGN(DataType spaced, ParsePrimitiveType("decimal(5, 2)"));
  EXPECT_EQ(spaced.ToString(), "decimal(5,2)");
  ASSERT_OK_AND_ASSIGN(DataType bare, ParsePrimitiveType("decimal"));
  EXPECT_EQ(bare.precision, 10);
  EXPECT_EQ(bare.scale, 0);
  for (const char* bad : {"decimal(39,0)", "decimal(5,6)", "decimal(0,0)", "decimal(a,b)",
                          "decimal(5)", "decimal(5,2"}) {
    Result<DataType> r = ParsePrimitiveType(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad;
  }
}

TEST(Schema, UnknownTypeIsCorruptionNamingTheTypeAndField) {
  Result<Schema> r = ParseSchema(
      R"({"type":"struct","fields":[{"name":"x","type":"int128","nullable":true,"metadata":{}}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("int128"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("x"), std::string::npos) << r.status();
}

TEST(Schema, MalformedJsonIsCorruption) {
  for (const char* bad : {"", "{", "[]", R"({"type":"array","elementType":"long"})",
                          R"({"type":"struct"})", R"({"type":"struct","fields":[{"type":"long"}]})",
                          R"({"type":"struct","fields":[{"name":"a"}]})",
                          R"({"type":"struct","fields":[{"name":"a","type":"long","nullable":"yes"}]})",
                          R"({"type":"struct","fields":[{"name":"m","type":{"type":"map","keyType":"string"}}]})"}) {
    Result<Schema> r = ParseSchema(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad;
  }
}

TEST(Schema, ParsesNestedMapArrayStructFromSpark) {
  ASSERT_OK_AND_ASSIGN(Schema s, ParseSchema(SchemaStringOf("delta-spark-golden/data-reader-map")));
  ASSERT_EQ(s.fields.size(), 7u);
  EXPECT_EQ(s.fields[0].name, "i");
  EXPECT_EQ(s.fields[0].type.kind, TypeKind::kInteger);
  const DataType& a = s.fields[1].type;
  ASSERT_EQ(a.kind, TypeKind::kMap);
  EXPECT_EQ(a.key->kind, TypeKind::kInteger);
  EXPECT_EQ(a.value->kind, TypeKind::kInteger);
  EXPECT_TRUE(a.value_contains_null);
  EXPECT_EQ(s.fields[5].type.ToString(), "map<string,decimal(1,0)>");
  // f: map<integer, array<struct<val:integer>>>
  EXPECT_EQ(s.fields[6].type.ToString(), "map<integer,array<struct<val:integer>>>");
  const DataType& f = s.fields[6].type;
  ASSERT_EQ(f.value->kind, TypeKind::kArray);
  EXPECT_TRUE(f.value->contains_null);
  ASSERT_EQ(f.value->element->kind, TypeKind::kStruct);
  EXPECT_EQ(f.value->element->fields[0].name, "val");
}

TEST(Schema, ParsesNestedStructs) {
  ASSERT_OK_AND_ASSIGN(Schema s,
                       ParseSchema(SchemaStringOf("delta-spark-golden/data-reader-nested-struct")));
  EXPECT_EQ(s.ToString(), "struct<a:struct<aa:string,ab:string,ac:struct<aca:integer,acb:long>>,b:integer>");
}

TEST(Schema, ReadsNullabilityAndContainsNullFlags) {
  ASSERT_OK_AND_ASSIGN(Schema s, ParseSchema(R"({"type":"struct","fields":[
    {"name":"a","type":{"type":"array","elementType":"long","containsNull":false},"nullable":false,"metadata":{}},
    {"name":"m","type":{"type":"map","keyType":"string","valueType":"long","valueContainsNull":false},"nullable":true,"metadata":{}}]})"));
  EXPECT_FALSE(s.fields[0].nullable);
  EXPECT_FALSE(s.fields[0].type.contains_null);
  EXPECT_TRUE(s.fields[1].nullable);
  EXPECT_FALSE(s.fields[1].type.value_contains_null);
}

TEST(Schema, ParsesVariantAndVoidTables) {
  ASSERT_OK_AND_ASSIGN(Schema v,
                       ParseSchema(SchemaStringOf("delta-spark-golden/spark-variant-checkpoint")));
  EXPECT_EQ(v.fields[1].type.kind, TypeKind::kVariant);
  EXPECT_EQ(v.fields[2].type.ToString(), "array<variant>");
  ASSERT_OK_AND_ASSIGN(Schema vo, ParseSchema(SchemaStringOf("delta-kernel-rs/void-column")));
  EXPECT_EQ(vo.fields[1].type.kind, TypeKind::kVoid);
}

TEST(Schema, PullsColumnMappingFromMetadata) {
  ASSERT_OK_AND_ASSIGN(
      Schema s,
      ParseSchema(SchemaStringOf("delta-kernel-java/data-reader-primitives-column-mapping-name")));
  ASSERT_EQ(s.fields.size(), 10u);
  const StructField& as_int = s.fields[0];
  EXPECT_EQ(as_int.name, "as_int");
  EXPECT_EQ(as_int.physical_name, "col-41726333-d452-47f3-b9ed-0adff6ffeabf");
  ASSERT_TRUE(as_int.field_id.has_value());
  EXPECT_EQ(*as_int.field_id, 1);
  EXPECT_EQ(as_int.PhysicalNameFor("name"), "col-41726333-d452-47f3-b9ed-0adff6ffeabf");
  EXPECT_EQ(as_int.PhysicalNameFor("none"), "as_int");
  EXPECT_EQ(s.fields[9].type.ToString(), "decimal(1,0)");
  EXPECT_EQ(*s.fields[9].field_id, 10);
  // The raw metadata is kept for features that read other keys.
  nlohmann::json meta = nlohmann::json::parse(as_int.metadata_json);
  EXPECT_EQ(meta["delta.columnMapping.id"], 1);
}

TEST(Schema, FieldWithoutMappingHasNoPhysicalName) {
  ASSERT_OK_AND_ASSIGN(Schema s, ParseSchema(
      R"({"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{"comment":"x"}}]})"));
  EXPECT_TRUE(s.fields[0].physical_name.empty());
  EXPECT_FALSE(s.fields[0].field_id.has_value());
  EXPECT_EQ(s.fields[0].PhysicalNameFor("name"), "a");
  EXPECT_EQ(nlohmann::json::parse(s.fields[0].metadata_json)["comment"], "x");
}

TEST(Schema, FindFieldPrefersExactThenCaseInsensitive) {
  ASSERT_OK_AND_ASSIGN(Schema s, ParseSchema(R"({"type":"struct","fields":[
    {"name":"Id","type":"long","nullable":true,"metadata":{}},
    {"name":"name","type":"string","nullable":true,"metadata":{}}]})"));
  const StructField* f = FindField(s, "Id");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name, "Id");
  f = FindField(s, "ID");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name, "Id");
  f = FindField(s, "NAME");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type.kind, TypeKind::kString);
  EXPECT_EQ(FindField(s, "missing"), nullptr);
}

TEST(Schema, EveryConformanceSchemaParses) {
  // Each table in the corpus was written by a real engine: none may be rejected.
  for (const char* table :
       {"dat/basic_append", "dat/multi_partitioned", "delta-rs/partition-type-primitives",
        "delta-spark-golden/data-skipping-basic-stats-all-types",
        "delta-spark-golden/decimal-various-scale-precision",
        "delta-spark-golden/data-reader-timestamp_ntz", "delta-spark-golden/type-widening",
        "delta-spark-golden/data-reader-array-primitives"}) {
    Result<Schema> r = ParseSchema(SchemaStringOf(table));
    EXPECT_TRUE(r.ok()) << table << ": " << r.status();
  }
}

}  // namespace
}  // namespace lake::delta

namespace lake::delta {
namespace {

// SerializeDataType is ParseSchema's inverse: written by hand in Spark's own form (field
// order, metadata kept verbatim, nested nullability), the text must come back unchanged.
TEST(Schema, SerializeDataTypeIsTheInverseOfParseSchema) {
  const std::string spark =
      R"j({"type":"struct","fields":[)j"
      R"j({"name":"id","type":"long","nullable":false,"metadata":{"comment":"key"}},)j"
      R"j({"name":"price","type":"decimal(10,2)","nullable":true,"metadata":{}},)j"
      R"j({"name":"tags","type":{"type":"array","elementType":"string","containsNull":false},"nullable":true,"metadata":{}},)j"
      R"j({"name":"attrs","type":{"type":"map","keyType":"string","valueType":{"type":"struct","fields":[)j"
      R"j({"name":"a","type":"timestamp_ntz","nullable":true,"metadata":{"delta.columnMapping.id":7}}]},)j"
      R"j("valueContainsNull":true},"nullable":true,"metadata":{}}]})j";
  Result<Schema> schema = ParseSchema(spark);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(SerializeDataType(*schema), spark);
  EXPECT_EQ(SerializeField(schema->fields[0]),
            R"j({"name":"id","type":"long","nullable":false,"metadata":{"comment":"key"}})j");
}

}  // namespace
}  // namespace lake::delta
