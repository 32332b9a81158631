// The protocol validator must reject what the protocol forbids, or the tests that rely on it
// prove nothing. Each bad commit below breaks one rule by hand.
#include "protocol_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lake::delta::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kCommitInfo = R"({"commitInfo":{"timestamp":1,"operation":"WRITE"}})";
constexpr const char* kProtocol = R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})";
// Partitioned by p (string) and d (date).
constexpr const char* kMetadata =
    R"({"metaData":{"id":"t","format":{"provider":"parquet","options":{}},"schemaString":)"
    R"("{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},)"
    R"({\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},)"
    R"({\"name\":\"d\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}}]}",)"
    R"("partitionColumns":["p","d"],"configuration":{},"createdTime":1}})";

std::string Add(const std::string& path, const std::string& pv, const std::string& extra = "") {
  return R"({"add":{"path":")" + path + R"(","partitionValues":)" + pv +
         R"(,"size":1,"modificationTime":1,"dataChange":true)" + extra + "}}";
}

std::vector<std::string> Check(const std::vector<std::string>& lines) {
  CommitValidator v;
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return v.Validate(text, 0);
}

TEST(ProtocolValidator, AcceptsAWellFormedCommit) {
  EXPECT_THAT(
      Check(
          {kCommitInfo, kProtocol, kMetadata,
           Add("p=a%20b/d=2024-01-01/f.parquet", R"({"p":"a b","d":"2024-01-01"})",
               R"(,"stats":"{\"numRecords\":3,\"minValues\":{\"id\":1},\"maxValues\":{\"id\":3},\"nullCount\":{\"id\":0},\"tightBounds\":true}")"),
           Add("g.parquet", R"({"p":null,"d":""})")}),
      IsEmpty());
}

TEST(ProtocolValidator, FindsMissingActionsAndFields) {
  EXPECT_THAT(Check({kProtocol, kMetadata}), ElementsAre(HasSubstr("no commitInfo")));
  EXPECT_THAT(Check({kCommitInfo, kMetadata}), ElementsAre(HasSubstr("protocol and metaData")));
  EXPECT_THAT(
      Check(
          {kCommitInfo, kProtocol, kMetadata,
           R"({"add":{"path":"f","partitionValues":{"p":"x","d":""},"modificationTime":1,"dataChange":true}})"}),
      ElementsAre(HasSubstr("'size'")));
  EXPECT_THAT(Check({kCommitInfo, kProtocol, kMetadata, R"({"remove":{"path":"f"}})"}),
              ElementsAre(HasSubstr("'dataChange'")));
}

TEST(ProtocolValidator, FindsBadPaths) {
  auto bad = [](const std::string& path) {
    return Check({kCommitInfo, kProtocol, kMetadata, Add(path, R"({"p":"x","d":""})")});
  };
  EXPECT_THAT(bad("a b.parquet"), ElementsAre(HasSubstr("percent-encoded")));
  EXPECT_THAT(bad("50%.parquet"), ElementsAre(HasSubstr("not an escape")));
  EXPECT_THAT(bad("/abs/f.parquet"), ElementsAre(HasSubstr("not relative")));
  EXPECT_THAT(bad("file:/abs/f.parquet"), ElementsAre(HasSubstr("not relative")));
  EXPECT_THAT(bad("p=a:b/f.parquet"), ElementsAre(HasSubstr("first segment")));
}

TEST(ProtocolValidator, FindsBadPartitionValues) {
  auto bad = [](const std::string& pv) {
    return Check({kCommitInfo, kProtocol, kMetadata, Add("f", pv)});
  };
  EXPECT_THAT(bad(R"({"p":"x"})"), ElementsAre(HasSubstr("do not match")));
  EXPECT_THAT(bad(R"({"p":"x","d":"2024-1-1"})"), ElementsAre(HasSubstr("serialized date")));
  EXPECT_THAT(bad(R"({"p":"x","d":5})"), ElementsAre(HasSubstr("not a string")));
}

TEST(ProtocolValidator, FindsBadStats) {
  auto bad = [](const std::string& stats) {
    return Check({kCommitInfo, kProtocol, kMetadata,
                  Add("f", R"({"p":"x","d":""})", R"(,"stats":")" + stats + "\"")});
  };
  EXPECT_THAT(bad(R"({\"numRecords\":-1})"), ElementsAre(HasSubstr("numRecords")));
  EXPECT_THAT(bad(R"({\"numRecords\":1,\"minValues\":{\"nope\":1}})"),
              ElementsAre(HasSubstr("unknown column 'nope'")));
  EXPECT_THAT(bad(R"({\"numRecords\":1,\"nullCount\":{\"id\":\"0\"}})"),
              ElementsAre(HasSubstr("nullCount")));
  EXPECT_THAT(bad(R"({\"rows\":1})"), ElementsAre(HasSubstr("unknown key 'rows'")));
}

TEST(ProtocolValidator, FindsInconsistentProtocolsAndDuplicates) {
  EXPECT_THAT(
      Check({kCommitInfo,
             R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"writerFeatures":[]}})",
             kMetadata}),
      ElementsAre(HasSubstr("readerFeatures")));
  EXPECT_THAT(
      Check(
          {kCommitInfo,
           R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":[]}})",
           kMetadata}),
      ElementsAre(HasSubstr("not listed in writerFeatures")));
  EXPECT_THAT(Check({kCommitInfo, kProtocol, kMetadata, Add("f", R"({"p":"x","d":""})"),
                     Add("f", R"({"p":"x","d":""})")}),
              ElementsAre(HasSubstr("added twice")));
  EXPECT_THAT(Check({kCommitInfo, kProtocol, kMetadata, R"({"txn":{"appId":"a","version":1}})",
                     R"({"txn":{"appId":"a","version":2}})"}),
              ElementsAre(HasSubstr("one appId")));
  EXPECT_THAT(Check({kCommitInfo, kProtocol, kMetadata,
                     R"({"domainMetadata":{"domain":"x","configuration":"{}","removed":false}})"}),
              ElementsAre(HasSubstr("without the domainMetadata feature")));
}

TEST(ProtocolValidator, InCommitTimestampMustComeFirst) {
  const std::string ict_meta = std::string(kMetadata).replace(
      std::string(kMetadata).find(R"("configuration":{})"), 18,
      R"("configuration":{"delta.enableInCommitTimestamps":"true"})");
  EXPECT_THAT(Check({kProtocol, ict_meta, kCommitInfo}),
              ElementsAre(HasSubstr("not first with inCommitTimestamp")));
}

}  // namespace
}  // namespace lake::delta::testing
