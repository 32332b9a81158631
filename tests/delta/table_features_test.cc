// Protocol selection (PROTOCOL.md "Table Features for New and Existing Tables", "Writer
// Version Requirements") and the writer gate. Expected protocols are read off the spec's
// tables by hand.
#include "delta/table_features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/strings.h"
#include "status_matchers.h"

namespace lake::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Features = std::vector<std::string>;

// Returns a schema with one long column `id` whose metadata is `field_metadata`, plus
// `extra_fields` (JSON field objects).
std::string SchemaWith(const std::string& field_metadata = "{}",
                       const std::string& extra_fields = "") {
  return StrCat(
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":)",
      field_metadata, "}", extra_fields.empty() ? "" : ",", extra_fields, "]}");
}

Result<Protocol> MinFor(StringMap config, const std::string& schema_json = SchemaWith(),
                        Features extra = {}) {
  Metadata m;
  m.id = "t";
  m.schema_string = schema_json;
  m.configuration = std::move(config);
  LAKE_ASSIGN_OR_RETURN(Schema schema, ParseSchema(schema_json));
  return MinimumProtocolFor(m, schema, extra);
}

void ExpectProtocol(const Result<Protocol>& p, int reader, int writer,
                    std::optional<Features> reader_features = std::nullopt,
                    std::optional<Features> writer_features = std::nullopt) {
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->min_reader_version, reader);
  EXPECT_EQ(p->min_writer_version, writer);
  EXPECT_EQ(p->reader_features, reader_features);
  EXPECT_EQ(p->writer_features, writer_features);
}

TEST(MinimumProtocolFor, DefaultIsOneTwo) { ExpectProtocol(MinFor({}), 1, 2); }

TEST(MinimumProtocolFor, LegacyFeaturesUseLegacyVersions) {
  ExpectProtocol(MinFor({{"delta.appendOnly", "true"}}), 1, 2);
  ExpectProtocol(
      MinFor({},
             SchemaWith(R"({"delta.invariants":"{\"expression\":{\"expression\":\"id > 0\"}}"})")),
      1, 2);
  ExpectProtocol(MinFor({{"delta.constraints.c", "id > 0"}}), 1, 3);
  ExpectProtocol(MinFor({{"delta.enableChangeDataFeed", "true"}}), 1, 4);
  ExpectProtocol(MinFor({}, SchemaWith(R"({"delta.generationExpression":"1"})")), 1, 4);
  ExpectProtocol(MinFor({{"delta.columnMapping.mode", "name"}}), 2, 5);
  ExpectProtocol(MinFor({}, SchemaWith(R"({"delta.identity.start":1,"delta.identity.step":1})")), 1,
                 6);
  // A disabled property needs nothing.
  ExpectProtocol(MinFor({{"delta.appendOnly", "false"}, {"delta.enableChangeDataFeed", "false"}}),
                 1, 2);
}

TEST(MinimumProtocolFor, TableFeaturesWhenALegacyVersionCannotExpressIt) {
  ExpectProtocol(MinFor({{"delta.enableDeletionVectors", "true"}}), 3, 7,
                 Features{"deletionVectors"}, Features{"deletionVectors"});
  ExpectProtocol(
      MinFor({}, SchemaWith(
                     "{}", R"({"name":"t","type":"timestamp_ntz","nullable":true,"metadata":{}})")),
      3, 7, Features{"timestampNtz"}, Features{"timestampNtz"});
  // Writer-only features keep reader version 1.
  ExpectProtocol(MinFor({{"delta.enableInCommitTimestamps", "true"}}), 1, 7, std::nullopt,
                 Features{"inCommitTimestamp"});
  // Column mapping's legacy reader version 2 suffices next to writer-only features.
  ExpectProtocol(
      MinFor({{"delta.enableInCommitTimestamps", "true"}, {"delta.columnMapping.mode", "name"}}), 2,
      7, std::nullopt, Features{"columnMapping", "inCommitTimestamp"});
  ExpectProtocol(
      MinFor({{"delta.enableDeletionVectors", "true"}, {"delta.enableChangeDataFeed", "true"}}), 3,
      7, Features{"deletionVectors"}, Features{"changeDataFeed", "deletionVectors"});
  ExpectProtocol(MinFor({{"delta.feature.domainMetadata", "supported"}}), 1, 7, std::nullopt,
                 Features{"domainMetadata"});
  ExpectProtocol(MinFor({}, SchemaWith(), {"domainMetadata"}), 1, 7, std::nullopt,
                 Features{"domainMetadata"});
}

TEST(MinimumProtocolFor, VersionPropertiesRaiseTheFloor) {
  ExpectProtocol(MinFor({{"delta.minWriterVersion", "4"}}), 1, 4);
  // A legacy floor under table features lists what the floor implied.
  ExpectProtocol(
      MinFor({{"delta.minWriterVersion", "3"}, {"delta.enableInCommitTimestamps", "true"}}), 1, 7,
      std::nullopt, Features{"appendOnly", "checkConstraints", "inCommitTimestamp", "invariants"});
  EXPECT_EQ(MinFor({{"delta.minWriterVersion", "9"}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(MinimumProtocolFor, UnknownFeaturePropertyIsRefused) {
  Result<Protocol> p = MinFor({{"delta.feature.noSuchThing", "supported"}});
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("noSuchThing"));
}

TEST(UpgradeProtocolFor, KeepsTheCurrentProtocolWhenNothingIsMissing) {
  Protocol current;
  current.min_reader_version = 1;
  current.min_writer_version = 4;
  Metadata m;
  m.schema_string = SchemaWith();
  m.configuration = {{"delta.enableChangeDataFeed", "true"}};
  ASSERT_OK_AND_ASSIGN(Schema schema, ParseSchema(m.schema_string));
  ExpectProtocol(UpgradeProtocolFor(current, m, schema), 1, 4);
}

TEST(UpgradeProtocolFor, LegacyTableToFeaturesListsEveryImpliedFeature) {
  Protocol current;
  current.min_reader_version = 2;
  current.min_writer_version = 5;
  Metadata m;
  m.schema_string = SchemaWith();
  m.configuration = {{"delta.enableDeletionVectors", "true"}};
  ASSERT_OK_AND_ASSIGN(Schema schema, ParseSchema(m.schema_string));
  ExpectProtocol(UpgradeProtocolFor(current, m, schema), 3, 7,
                 Features{"columnMapping", "deletionVectors"},
                 Features{"appendOnly", "changeDataFeed", "checkConstraints", "columnMapping",
                          "deletionVectors", "generatedColumns", "invariants"});
}

TEST(UpgradeProtocolFor, FeatureTableAppendsToItsLists) {
  Protocol current;
  current.min_reader_version = 3;
  current.min_writer_version = 7;
  current.reader_features = Features{"timestampNtz"};
  current.writer_features = Features{"timestampNtz", "appendOnly"};
  Metadata m;
  m.schema_string = SchemaWith();
  m.configuration = {{"delta.enableDeletionVectors", "true"},
                     {"delta.enableInCommitTimestamps", "true"}};
  ASSERT_OK_AND_ASSIGN(Schema schema, ParseSchema(m.schema_string));
  ExpectProtocol(UpgradeProtocolFor(current, m, schema), 3, 7,
                 Features{"timestampNtz", "deletionVectors"},
                 Features{"timestampNtz", "appendOnly", "deletionVectors", "inCommitTimestamp"});
}

TEST(CheckNoDowngrade, NamesWhatWouldBeLost) {
  Protocol from;
  from.min_reader_version = 1;
  from.min_writer_version = 7;
  from.writer_features = Features{"appendOnly", "domainMetadata"};
  Protocol to = from;
  to.writer_features = Features{"appendOnly"};
  Status st = CheckNoDowngrade(from, to);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("'domainMetadata'"));
  ASSERT_OK(CheckNoDowngrade(from, from));
}

TEST(IsFeatureSupported, LegacyVersionsImplyFeatures) {
  Protocol p;
  p.min_reader_version = 1;
  p.min_writer_version = 3;
  EXPECT_TRUE(IsFeatureSupported(p, "appendOnly"));
  EXPECT_TRUE(IsFeatureSupported(p, "checkConstraints"));
  EXPECT_FALSE(IsFeatureSupported(p, "changeDataFeed"));
  p.min_writer_version = 7;
  p.writer_features = Features{"changeDataFeed"};
  EXPECT_FALSE(IsFeatureSupported(p, "appendOnly"));  // writer 7 lists features explicitly
  EXPECT_TRUE(IsFeatureSupported(p, "changeDataFeed"));
}

TEST(CheckWriteSupported, RefusesReaderFeaturesLakeCannotRead) {
  Protocol p;
  p.min_reader_version = 3;
  p.min_writer_version = 7;
  p.reader_features = Features{"catalogManaged"};
  p.writer_features = Features{"catalogManaged"};
  Metadata m;
  Schema s;
  s.kind = TypeKind::kStruct;
  Status st = CheckWriteSupported(p, m, s);
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  EXPECT_THAT(st.message(), HasSubstr("catalogManaged"));
}

TEST(CheckWriteSupported, VariantColumnsAreRefusedOnlyWhenPresent) {
  Protocol p;
  p.min_reader_version = 3;
  p.min_writer_version = 7;
  p.reader_features = Features{"variantType-preview"};
  p.writer_features = Features{"variantType-preview"};
  Metadata m;
  ASSERT_OK_AND_ASSIGN(Schema plain, ParseSchema(SchemaWith()));
  ASSERT_OK(CheckWriteSupported(p, m, plain));
  ASSERT_OK_AND_ASSIGN(
      Schema with_variant,
      ParseSchema(
          SchemaWith("{}", R"({"name":"v","type":"variant","nullable":true,"metadata":{}})")));
  Status st = CheckWriteSupported(p, m, with_variant);
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  EXPECT_THAT(st.message(), HasSubstr("variantType-preview"));
}

TEST(PhysicalColumnName, FollowsTheMappingMode) {
  ASSERT_OK_AND_ASSIGN(
      Schema s, ParseSchema(SchemaWith(
                    R"({"delta.columnMapping.id":1,"delta.columnMapping.physicalName":"col-1"})")));
  ASSERT_OK_AND_ASSIGN(std::string none, PhysicalColumnName(s, "none", "id"));
  EXPECT_EQ(none, "id");
  ASSERT_OK_AND_ASSIGN(std::string name,
                       PhysicalColumnName(s, "name", "ID"));  // Spark: case-insensitive
  EXPECT_EQ(name, "col-1");
  EXPECT_EQ(PhysicalColumnName(s, "name", "nope").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lake::delta
