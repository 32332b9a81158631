// Unit tests of schema evolution for writes (src/delta/schema_evolution.h). Expected results
// follow the typeWidening feature's list in PROTOCOL.md "Type Widening", written out by hand.
#include "delta/schema_evolution.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lake::delta {
namespace {

DataType T(std::string_view name) {
  Result<DataType> t = ParsePrimitiveType(name);
  EXPECT_TRUE(t.ok()) << name;
  return t.ok() ? *t : DataType{};
}

TEST(TypeWidening, FollowsTheProtocolsList) {
  EXPECT_TRUE(IsTypeWidening(T("byte"), T("short")));
  EXPECT_TRUE(IsTypeWidening(T("short"), T("integer")));
  EXPECT_TRUE(IsTypeWidening(T("integer"), T("long")));
  EXPECT_TRUE(IsTypeWidening(T("byte"), T("long")));
  EXPECT_TRUE(IsTypeWidening(T("float"), T("double")));
  EXPECT_TRUE(IsTypeWidening(T("date"), T("timestamp_ntz")));
  EXPECT_TRUE(IsTypeWidening(T("integer"), T("double")));
  EXPECT_TRUE(IsTypeWidening(T("integer"), T("decimal(10,0)")));
  EXPECT_TRUE(IsTypeWidening(T("long"), T("decimal(22,2)")));
  EXPECT_TRUE(IsTypeWidening(T("decimal(10,2)"), T("decimal(12,4)")));
  EXPECT_TRUE(IsTypeWidening(T("decimal(10,2)"), T("decimal(11,2)")));
  // Not widenings: narrowing, same type, lossy, or scale growing faster than precision.
  EXPECT_FALSE(IsTypeWidening(T("long"), T("integer")));
  EXPECT_FALSE(IsTypeWidening(T("long"), T("long")));
  EXPECT_FALSE(IsTypeWidening(T("long"), T("double")));
  EXPECT_FALSE(IsTypeWidening(T("integer"), T("decimal(9,0)")));
  EXPECT_FALSE(IsTypeWidening(T("decimal(10,2)"), T("decimal(11,4)")));
  EXPECT_FALSE(IsTypeWidening(T("decimal(10,2)"), T("decimal(10,2)")));
  EXPECT_FALSE(IsTypeWidening(T("date"), T("timestamp")));
  EXPECT_FALSE(IsTypeWidening(T("string"), T("binary")));
}

Schema TwoColumns() {
  Result<Schema> s = ParseSchema(
      R"({"type":"struct","fields":[{"name":"id","type":"integer","nullable":true,"metadata":{}},)"
      R"({"name":"name","type":"string","nullable":false,"metadata":{"comment":"c"}}]})");
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Schema{};
}

TEST(EvolveSchema, AddsNewColumnsAtTheEndNullable) {
  Result<EvolvedSchema> e =
      EvolveSchema(TwoColumns(), {{"NAME", T("string")}, {"score", T("double")}}, false);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(e->added, ::testing::ElementsAre("score"));
  EXPECT_TRUE(e->widened.empty());
  ASSERT_EQ(e->schema.fields.size(), 3u);
  EXPECT_EQ(e->schema.fields[2].name, "score");
  EXPECT_EQ(e->schema.fields[2].type.kind, TypeKind::kDouble);
  EXPECT_TRUE(e->schema.fields[2].nullable);
  EXPECT_FALSE(e->schema.fields[1].nullable);  // existing columns keep their definition
}

TEST(EvolveSchema, WidensOnlyWithTheFeatureAndRecordsTheChange) {
  Result<EvolvedSchema> off = EvolveSchema(TwoColumns(), {{"id", T("long")}}, false);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->changed());
  EXPECT_EQ(off->schema.fields[0].type.kind, TypeKind::kInteger);

  Result<EvolvedSchema> on = EvolveSchema(TwoColumns(), {{"id", T("long")}}, true);
  ASSERT_TRUE(on.ok());
  EXPECT_THAT(on->widened, ::testing::ElementsAre("id: integer -> long"));
  EXPECT_EQ(on->schema.fields[0].type.kind, TypeKind::kLong);
  EXPECT_EQ(on->schema.fields[0].metadata_json,
            R"({"delta.typeChanges":[{"fromType":"integer","toType":"long"}]})");
  // A narrower incoming type never narrows the table.
  Result<EvolvedSchema> narrower = EvolveSchema(TwoColumns(), {{"id", T("short")}}, true);
  ASSERT_TRUE(narrower.ok());
  EXPECT_FALSE(narrower->changed());
}

TEST(EvolveSchema, RefusesDuplicateAndUntypedColumns) {
  EXPECT_EQ(EvolveSchema(TwoColumns(), {{"x", T("long")}, {"X", T("long")}}, false).status().code(),
            StatusCode::kInvalidArgument);
  DataType void_type;
  void_type.kind = TypeKind::kVoid;
  Result<EvolvedSchema> e = EvolveSchema(TwoColumns(), {{"n", void_type}}, false);
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(e.status().message(), ::testing::HasSubstr("no type"));
}

}  // namespace
}  // namespace lake::delta
