#include "delta/log_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "log_test_util.h"

namespace lake::delta {
namespace {

using ::testing::HasSubstr;

TEST(ParseJsonActions, ReadsEveryFieldOfAnAdd) {
  const std::string line =
      R"({"add":{"path":"p=1/a%20b.parquet","partitionValues":{"p":"1","q":null,"r":""},)"
      R"("size":1234,"modificationTime":1700000000000,"dataChange":false,)"
      R"("stats":"{\"numRecords\":3}","tags":{"INSERTION_TIME":"17"},)"
      R"("deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":4,)"
      R"("sizeInBytes":40,"cardinality":6,"maxRowIndex":9},)"
      R"("baseRowId":10,"defaultRowCommitVersion":2,"clusteringProvider":"liquid"}})";
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, ParseJsonActions(line, "0.json"));
  ASSERT_EQ(batch.adds.size(), 1u);
  const AddFile& add = batch.adds[0];
  EXPECT_EQ(add.path, "p=1/a%20b.parquet");  // kept as written; decoding is the reader's job
  ASSERT_EQ(add.partition_values.size(), 3u);
  EXPECT_EQ(add.partition_values[0],
            (std::pair<std::string, std::optional<std::string>>{"p", "1"}));
  EXPECT_EQ(add.partition_values[1].first, "q");
  EXPECT_FALSE(add.partition_values[1].second.has_value());
  EXPECT_EQ(add.partition_values[2].second, std::optional<std::string>(""));
  EXPECT_EQ(add.size, 1234);
  EXPECT_EQ(add.modification_time, 1700000000000);
  EXPECT_FALSE(add.data_change);
  EXPECT_EQ(add.stats, std::optional<std::string>(R"({"numRecords":3})"));
  EXPECT_EQ(add.tags.at("INSERTION_TIME"), "17");
  ASSERT_TRUE(add.deletion_vector.has_value());
  EXPECT_EQ(add.deletion_vector->storage_type, 'u');
  EXPECT_EQ(add.deletion_vector->path_or_inline_dv, "ab^-aqEH.-t@S}K{vb[*k^");
  EXPECT_EQ(add.deletion_vector->offset, std::optional<int32_t>(4));
  EXPECT_EQ(add.deletion_vector->size_in_bytes, 40);
  EXPECT_EQ(add.deletion_vector->cardinality, 6);
  EXPECT_EQ(add.deletion_vector->max_row_index, std::optional<int64_t>(9));
  EXPECT_EQ(add.base_row_id, std::optional<int64_t>(10));
  EXPECT_EQ(add.default_row_commit_version, std::optional<int64_t>(2));
  EXPECT_EQ(add.clustering_provider, std::optional<std::string>("liquid"));
}

TEST(ParseJsonActions, ReadsProtocolMetadataAndOtherActions) {
  const std::string text =
      R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors","appendOnly"]}})"
      "\n"
      R"({"metaData":{"id":"abc","name":"t","format":{"provider":"parquet","options":{"k":"v"}},"schemaString":"{}","partitionColumns":["p","q"],"configuration":{"delta.appendOnly":"true"},"createdTime":42}})"
      "\n"
      R"({"remove":{"path":"x","deletionTimestamp":7,"dataChange":true,"extendedFileMetadata":true,"partitionValues":{"p":null},"size":5}})"
      "\n"
      R"({"cdc":{"path":"_change_data/c.parquet","partitionValues":{},"size":9,"dataChange":false}})"
      "\n"
      R"({"txn":{"appId":"app","version":3,"lastUpdated":99}})"
      "\n"
      R"({"domainMetadata":{"domain":"delta.rowTracking","configuration":"{\"x\":1}","removed":false}})"
      "\n"
      R"({"checkpointMetadata":{"version":12,"tags":{"a":"b"}}})"
      "\n"
      R"({"sidecar":{"path":"s.parquet","sizeInBytes":10,"modificationTime":11}})";
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, ParseJsonActions(text, "x.json"));
  ASSERT_EQ(batch.protocols.size(), 1u);
  EXPECT_EQ(batch.protocols[0].min_reader_version, 3);
  EXPECT_EQ(batch.protocols[0].min_writer_version, 7);
  EXPECT_EQ(*batch.protocols[0].reader_features, std::vector<std::string>{"deletionVectors"});
  EXPECT_EQ(batch.protocols[0].writer_features->size(), 2u);
  ASSERT_EQ(batch.metadata.size(), 1u);
  const Metadata& m = batch.metadata[0];
  EXPECT_EQ(m.id, "abc");
  EXPECT_EQ(m.name, std::optional<std::string>("t"));
  EXPECT_EQ(m.format.options.at("k"), "v");
  EXPECT_EQ(m.schema_string, "{}");
  EXPECT_EQ(m.partition_columns, (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(m.configuration.at("delta.appendOnly"), "true");
  EXPECT_EQ(m.created_time, std::optional<int64_t>(42));
  ASSERT_EQ(batch.removes.size(), 1u);
  EXPECT_EQ(batch.removes[0].deletion_timestamp, std::optional<int64_t>(7));
  EXPECT_EQ(batch.removes[0].extended_file_metadata, std::optional<bool>(true));
  ASSERT_TRUE(batch.removes[0].partition_values.has_value());
  EXPECT_FALSE((*batch.removes[0].partition_values)[0].second.has_value());
  EXPECT_EQ(batch.removes[0].size, std::optional<int64_t>(5));
  ASSERT_EQ(batch.cdcs.size(), 1u);
  EXPECT_EQ(batch.cdcs[0].size, 9);
  ASSERT_EQ(batch.txns.size(), 1u);
  EXPECT_EQ(batch.txns[0].app_id, "app");
  EXPECT_EQ(batch.txns[0].version, 3);
  EXPECT_EQ(batch.txns[0].last_updated, std::optional<int64_t>(99));
  ASSERT_EQ(batch.domain_metadata.size(), 1u);
  EXPECT_EQ(batch.domain_metadata[0].configuration, R"({"x":1})");
  ASSERT_EQ(batch.checkpoint_metadata.size(), 1u);
  EXPECT_EQ(batch.checkpoint_metadata[0].version, 12);
  EXPECT_EQ(batch.checkpoint_metadata[0].tags.at("a"), "b");
  ASSERT_EQ(batch.sidecars.size(), 1u);
  EXPECT_EQ(batch.sidecars[0].path, "s.parquet");
  EXPECT_EQ(batch.sidecars[0].size_in_bytes, 10);
}

TEST(ParseJsonActions, PullsFieldsOutOfCommitInfoAndKeepsRawJson) {
  const std::string line =
      R"({"commitInfo":{"timestamp":1700,"inCommitTimestamp":1701,"operation":"WRITE",)"
      R"("operationParameters":{"mode":"Append","partitionBy":"[]"},"readVersion":4,)"
      R"("isolationLevel":"Serializable","isBlindAppend":true,)"
      R"("operationMetrics":{"numFiles":"1"},"engineInfo":"Spark/3","txnId":"t-1","custom":[1,2]}})";
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, ParseJsonActions(line, "c.json"));
  ASSERT_EQ(batch.commit_infos.size(), 1u);
  const CommitInfo& ci = batch.commit_infos[0];
  EXPECT_EQ(ci.timestamp, std::optional<int64_t>(1700));
  EXPECT_EQ(ci.in_commit_timestamp, std::optional<int64_t>(1701));
  EXPECT_EQ(ci.operation, std::optional<std::string>("WRITE"));
  EXPECT_EQ(nlohmann::json::parse(ci.operation_parameters_json),
            nlohmann::json::parse(R"({"mode":"Append","partitionBy":"[]"})"));
  EXPECT_EQ(nlohmann::json::parse(ci.operation_metrics_json),
            nlohmann::json::parse(R"({"numFiles":"1"})"));
  EXPECT_EQ(ci.read_version, std::optional<int64_t>(4));
  EXPECT_EQ(ci.isolation_level, std::optional<std::string>("Serializable"));
  EXPECT_EQ(ci.is_blind_append, std::optional<bool>(true));
  EXPECT_EQ(ci.engine_info, std::optional<std::string>("Spark/3"));
  EXPECT_EQ(ci.txn_id, std::optional<std::string>("t-1"));
  nlohmann::json raw = nlohmann::json::parse(ci.raw_json);
  EXPECT_EQ(raw["custom"], nlohmann::json::parse("[1,2]"));
  EXPECT_EQ(raw["operation"], "WRITE");
}

TEST(ParseJsonActions, IgnoresUnknownActionsFieldsAndBlankLines) {
  const std::string text =
      "\n"
      R"({"futureAction":{"x":[1,{"y":2}]}})"
      "\r\n"
      R"({"add":{"newField":{"deep":[1,2,3]},"path":"a","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true}})"
      "\r\n   \n";
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, ParseJsonActions(text, "u.json"));
  ASSERT_EQ(batch.adds.size(), 1u);
  EXPECT_EQ(batch.adds[0].path, "a");
  EXPECT_EQ(batch.adds[0].size, 1);
  EXPECT_TRUE(batch.removes.empty());
}

TEST(ParseJsonActions, AcceptsNumbersWrittenAsStrings) {
  const std::string line =
      R"({"add":{"path":"a","partitionValues":{"n":5},"size":"77","modificationTime":"8","dataChange":"true"}})";
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, ParseJsonActions(line, "n.json"));
  ASSERT_EQ(batch.adds.size(), 1u);
  EXPECT_EQ(batch.adds[0].size, 77);
  EXPECT_EQ(batch.adds[0].modification_time, 8);
  EXPECT_TRUE(batch.adds[0].data_change);
  EXPECT_EQ(batch.adds[0].partition_values[0].second, std::optional<std::string>("5"));
}

// Regression (found by tests/fuzz/json_actions_fuzz): an integer field holding a number beyond
// int64 was cast from double, which is undefined; it must be refused as corruption.
TEST(ParseJsonActions, IntegerFieldBeyondInt64IsCorruption) {
  for (const char* ts : {"16861915620191563139", "1.69e19", "-1e19"}) {
    const std::string line = std::string(R"({"remove":{"path":"a","deletionTimestamp":)") + ts +
                             R"(,"dataChange":true}})";
    Result<ActionBatch> r = ParseJsonActions(line, "n.json");
    ASSERT_FALSE(r.ok()) << ts;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << ts;
    EXPECT_THAT(r.status().message(), HasSubstr("deletionTimestamp")) << ts;
  }
  const std::string integral = R"({"remove":{"path":"a","deletionTimestamp":5.0,"dataChange":true}})";
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, ParseJsonActions(integral, "n.json"));
  EXPECT_EQ(batch.removes.at(0).deletion_timestamp, 5);
}

TEST(ParseJsonActions, BrokenLineIsCorruptionNamingFileAndLine) {
  const std::string text =
      std::string(R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})") + "\n" +
      R"({"add":{"path":"a", "size": )" + "\n";
  Result<ActionBatch> r = ParseJsonActions(text, "t/_delta_log/00000000000000000007.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("00000000000000000007.json"));
  EXPECT_THAT(r.status().message(), HasSubstr("line 2"));
  EXPECT_FALSE(r.status().hint().empty());
}

TEST(ParseJsonActions, AddWithoutPathIsCorruption) {
  Result<ActionBatch> r = ParseJsonActions(R"({"add":{"size":1,"partitionValues":{}}})", "f.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("path"));
  EXPECT_THAT(r.status().message(), HasSubstr("line 1"));
}

TEST(ParseJsonActions, WrongTypeIsCorruption) {
  Result<ActionBatch> r =
      ParseJsonActions(R"({"add":{"path":"a","size":[1],"partitionValues":{}}})", "f.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("size"));
  Result<ActionBatch> not_object = ParseJsonActions("[1,2]", "f.json");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.status().code(), StatusCode::kCorruption);
}

TEST(ParseJsonActions, ParsesManyLinesInOrder) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += testing::AddLine(StrCat("f", i, ".parquet"), i) + "\n";
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, ParseJsonActions(text, "big.json"));
  ASSERT_EQ(batch.adds.size(), 5000u);
  EXPECT_EQ(batch.adds[4321].path, "f4321.parquet");
  EXPECT_EQ(batch.adds[4321].size, 4321);
}

TEST(SerializeJsonActions, RoundTripsThroughTheParser) {
  ActionBatch batch;
  CommitInfo ci;
  ci.timestamp = 5;
  ci.operation = "WRITE";
  ci.operation_parameters_json = R"({"mode":"Append"})";
  batch.commit_infos.push_back(ci);
  Protocol p;
  p.min_reader_version = 3;
  p.min_writer_version = 7;
  p.reader_features = std::vector<std::string>{"deletionVectors"};
  p.writer_features = std::vector<std::string>{"deletionVectors"};
  batch.protocols.push_back(p);
  Metadata m;
  m.id = "id1";
  m.schema_string = R"({"type":"struct","fields":[]})";
  m.partition_columns = {"p"};
  m.configuration = {{"k", "v"}};
  batch.metadata.push_back(m);
  AddFile add;
  add.path = "p=a/x y.parquet";
  add.partition_values = {{"p", "a"}, {"q", std::nullopt}};
  add.size = 10;
  add.stats = R"({"numRecords":1})";
  DeletionVectorDescriptor dv;
  dv.storage_type = 'i';
  dv.path_or_inline_dv = "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L";
  dv.size_in_bytes = 40;
  dv.cardinality = 6;
  add.deletion_vector = dv;
  batch.adds.push_back(add);
  RemoveFile rm;
  rm.path = "old.parquet";
  rm.deletion_timestamp = 9;
  batch.removes.push_back(rm);
  batch.txns.push_back(Txn{"app", 4, std::nullopt});
  batch.domain_metadata.push_back(DomainMetadata{"d", "{}", true});

  std::string text = SerializeJsonActions(batch);
  // commitInfo comes first (PROTOCOL.md "In-Commit Timestamps" needs that when enabled).
  EXPECT_EQ(text.rfind(R"({"commitInfo":)", 0), 0u);
  ASSERT_OK_AND_ASSIGN(ActionBatch back, ParseJsonActions(text, "rt.json"));
  ASSERT_EQ(back.adds.size(), 1u);
  EXPECT_EQ(back.adds[0].path, add.path);
  EXPECT_EQ(back.adds[0].partition_values, add.partition_values);
  EXPECT_EQ(back.adds[0].stats, add.stats);
  ASSERT_TRUE(back.adds[0].deletion_vector.has_value());
  EXPECT_EQ(back.adds[0].deletion_vector->UniqueId(), dv.UniqueId());
  EXPECT_EQ(back.adds[0].deletion_vector->offset, std::nullopt);
  ASSERT_EQ(back.removes.size(), 1u);
  EXPECT_EQ(back.removes[0].deletion_timestamp, std::optional<int64_t>(9));
  ASSERT_EQ(back.protocols.size(), 1u);
  EXPECT_EQ(back.protocols[0].reader_features, p.reader_features);
  ASSERT_EQ(back.metadata.size(), 1u);
  EXPECT_EQ(back.metadata[0].schema_string, m.schema_string);
  EXPECT_EQ(back.metadata[0].configuration, m.configuration);
  ASSERT_EQ(back.commit_infos.size(), 1u);
  EXPECT_EQ(back.commit_infos[0].operation, std::optional<std::string>("WRITE"));
  EXPECT_EQ(nlohmann::json::parse(back.commit_infos[0].operation_parameters_json)["mode"],
            "Append");
  ASSERT_EQ(back.txns.size(), 1u);
  EXPECT_EQ(back.txns[0].version, 4);
  ASSERT_EQ(back.domain_metadata.size(), 1u);
  EXPECT_TRUE(back.domain_metadata[0].removed);
}

}  // namespace
}  // namespace lake::delta

namespace lake::delta {
namespace {

// Mutated logs never crash the parser: each result is a batch or kCorruption (the fuzz target
// in tests/fuzz explores this further).
TEST(ParseJsonActions, SurvivesMutatedInput) {
  const std::string seed =
      testing::ProtocolLine(3, 7, std::vector<std::string>{"deletionVectors"}) + "\n" +
      testing::MetadataLine({{"k", "v"}}) + "\n" + testing::CommitInfoLine("WRITE", 5) + "\n" +
      testing::AddLine("a", 1, testing::DvJson("ab^-aqEH.-t@S}K{vb[*k^")) + "\n" +
      testing::RemoveLine("b") + "\n";
  uint64_t state = 0x9E3779B97F4A7C15ULL;  // fixed seed: the run is reproducible
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const char kBytes[] = "{}[]\":,\\nul0-9e.tf \n\x80\xff";
  for (int round = 0; round < 3000; ++round) {
    std::string text = seed;
    int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = next() % (text.size() + 1);
      switch (next() % 3) {
        case 0:
          if (pos < text.size()) text.erase(pos, 1 + next() % 8);
          break;
        case 1:
          text.insert(pos, 1, kBytes[next() % (sizeof(kBytes) - 1)]);
          break;
        default:
          if (pos < text.size()) text[pos] = kBytes[next() % (sizeof(kBytes) - 1)];
      }
    }
    Result<ActionBatch> r = ParseJsonActions(text, "m.json");
    if (!r.ok()) {
      ASSERT_EQ(r.status().code(), StatusCode::kCorruption) << r.status() << "\n" << text;
    }
  }
}

}  // namespace
}  // namespace lake::delta
