// Log replay and the snapshot API over hand-written logs in a MemoryStore.
#include "delta/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "delta/log_parser.h"
#include "log_test_util.h"

namespace lake::delta {
namespace {

using testing::AddLine;
using testing::CommitInfoLine;
using testing::DvJson;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::LogKey;
using testing::MetadataLine;
using testing::ProtocolLine;
using testing::RemoveLine;
using testing::SortedPaths;

TEST(LoadSnapshot, AddRemoveAndReAdd) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine(), AddLine("a", 10), AddLine("b", 20)});
  t.Commit(1, {RemoveLine("a"), AddLine("c", 30)});
  t.Commit(2, {AddLine("a", 11)});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr v1, LoadSnapshot(t.engine(), 1));
  EXPECT_EQ(v1->version(), 1);
  EXPECT_THAT(SortedPaths(v1->files()), ElementsAre("b", "c"));
  EXPECT_THAT(SortedPaths(v1->tombstones()), ElementsAre("a"));
  EXPECT_EQ(v1->size_bytes(), 50);

  ASSERT_OK_AND_ASSIGN(SnapshotPtr v2, LoadSnapshot(t.engine()));
  EXPECT_EQ(v2->version(), 2);
  EXPECT_THAT(SortedPaths(v2->files()), ElementsAre("a", "b", "c"));
  EXPECT_THAT(v2->tombstones(), IsEmpty());
  EXPECT_EQ(v2->size_bytes(), 61);  // the re-added "a" is the newer 11-byte file

  ASSERT_OK_AND_ASSIGN(SnapshotPtr v0, LoadSnapshot(t.engine(), 0));
  EXPECT_THAT(SortedPaths(v0->files()), ElementsAre("a", "b"));
}

// Commits are replayed by several threads in any order (log_replay.cc design note 4): the
// outcome must still be the log order's. Each key's fate is derived from the commit pattern.
TEST(LoadSnapshot, ManyCommitsTouchingOneKeyResolveInLogOrder) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine()});
  // "k": re-added with size v in every commit, removed in commits divisible by 7 (and re-added
  // in the same commit, which leaves it live). "r": added at odd, removed at even versions.
  constexpr int kLast = 199;
  for (int v = 1; v <= kLast; ++v) {
    std::vector<std::string> lines = {AddLine("k", v)};
    if (v % 7 == 0) lines.push_back(RemoveLine("k"));
    lines.push_back(v % 2 == 1 ? AddLine("r", 1000 + v) : RemoveLine("r"));
    t.Commit(v, lines);
  }
  ASSERT_OK_AND_ASSIGN(SnapshotPtr last, LoadSnapshot(t.engine()));
  EXPECT_THAT(SortedPaths(last->files()), ElementsAre("k", "r"));  // 199 is odd: "r" live
  EXPECT_EQ(last->size_bytes(), kLast + 1000 + kLast);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr even, LoadSnapshot(t.engine(), 198));
  EXPECT_THAT(SortedPaths(even->files()), ElementsAre("k"));
  EXPECT_THAT(SortedPaths(even->tombstones()), ElementsAre("r"));
  EXPECT_EQ(even->size_bytes(), 198);
}

TEST(LoadSnapshot, AddAndRemoveOfOneKeyInOneCommitLeavesTheFileLive) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine(), AddLine("a")});
  // The add is written before the remove: order inside a commit must not matter.
  t.Commit(1, {AddLine("a", 7), RemoveLine("a")});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  ASSERT_EQ(s->files().size(), 1u);
  EXPECT_EQ(s->files()[0].size, 7);
  EXPECT_THAT(s->tombstones(), IsEmpty());
}

// PROTOCOL.md "Action Reconciliation": the file key is (path, dv unique id).
TEST(LoadSnapshot, DeletionVectorIsPartOfTheFileKey) {
  testing::TestTable t;
  const std::string dv1 = DvJson("ab^-aqEH.-t@S}K{vb[*k^", 1);
  const std::string dv2 = DvJson("ab^-aqEH.-t@S}K{vb[*k^", 50);
  t.Commit(0, {ProtocolLine(3, 7, std::vector<std::string>{"deletionVectors"}), MetadataLine(),
               AddLine("f"), AddLine("g")});
  // Delete rows of f: remove (f, no dv), add (f, dv1).
  t.Commit(1, {RemoveLine("f"), AddLine("f", 100, dv1)});
  // More deletes: remove (f, dv1), add (f, dv2).
  t.Commit(2, {RemoveLine("f", dv1), AddLine("f", 100, dv2)});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr v1, LoadSnapshot(t.engine(), 1));
  ASSERT_EQ(v1->files().size(), 2u);
  ASSERT_EQ(v1->tombstones().size(), 1u);
  EXPECT_FALSE(v1->tombstones()[0].deletion_vector.has_value());

  ASSERT_OK_AND_ASSIGN(SnapshotPtr v2, LoadSnapshot(t.engine()));
  ASSERT_EQ(v2->files().size(), 2u);
  for (const AddFile& f : v2->files()) {
    if (f.path == "f") {
      ASSERT_TRUE(f.deletion_vector.has_value());
      EXPECT_EQ(f.deletion_vector->offset, std::optional<int32_t>(50));
    } else {
      EXPECT_EQ(f.path, "g");
      EXPECT_FALSE(f.deletion_vector.has_value());
    }
  }
  // Both older keys of f are tombstones: (f) and (f, dv1).
  EXPECT_THAT(SortedPaths(v2->tombstones()), ElementsAre("f", "f"));

  // Removing (f, dv1) again does not touch the live (f, dv2).
  t.Commit(3, {RemoveLine("f", dv1)});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr v3, LoadSnapshot(t.engine()));
  EXPECT_THAT(SortedPaths(v3->files()), ElementsAre("f", "g"));
}

TEST(LoadSnapshot, CanonicalizesPathsBeforeKeying) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine(), AddLine("/abs/a"), AddLine("file:///abs/b"),
               AddLine("x%20y"), AddLine("memory://mem/under-root")});
  t.Commit(1, {RemoveLine("file:/abs/a"), RemoveLine("/abs/b"), RemoveLine("x y"),
               RemoveLine("under-root")});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  EXPECT_THAT(s->files(), IsEmpty());
  EXPECT_EQ(s->tombstones().size(), 4u);
}

TEST(Snapshot, ResolvePathDecodesOnceAndRelativizes) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine()});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  EXPECT_EQ(s->ResolvePath("p=a%20b/f.parquet"), "p=a b/f.parquet");
  EXPECT_EQ(s->ResolvePath("x%253A1/f"), "x%3A1/f");  // once, not twice
  EXPECT_EQ(s->ResolvePath("file:///data/other/f.parquet"), "/data/other/f.parquet");
  EXPECT_EQ(s->ResolvePath("file:/data/other/f.parquet"), "/data/other/f.parquet");
  EXPECT_EQ(s->ResolvePath("memory://mem/p=1/f.parquet"), "p=1/f.parquet");
}

TEST(LoadSnapshot, ProtocolMetadataTxnAndDomainsLastWins) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine({}, "first"), R"({"txn":{"appId":"app1","version":1}})",
               R"({"domainMetadata":{"domain":"d1","configuration":"c1","removed":false}})",
               R"({"domainMetadata":{"domain":"d2","configuration":"c2","removed":false}})"});
  t.Commit(1, {MetadataLine({{"delta.appendOnly", "true"}}, "second"),
               R"({"txn":{"appId":"app1","version":5}})", R"({"txn":{"appId":"app2","version":2}})",
               R"({"domainMetadata":{"domain":"d1","configuration":"c1b","removed":false}})",
               R"({"domainMetadata":{"domain":"d2","configuration":"c2","removed":true}})"});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  EXPECT_EQ(s->metadata().id, "second");
  EXPECT_EQ(s->metadata().configuration.at("delta.appendOnly"), "true");
  EXPECT_EQ(s->txns().at("app1").version, 5);
  EXPECT_EQ(s->txns().at("app2").version, 2);
  ASSERT_EQ(s->domains().size(), 1u);
  EXPECT_EQ(s->domains().at("d1").configuration, "c1b");
  EXPECT_EQ(s->schema_status().ok(), true) << s->schema_status();
  EXPECT_EQ(s->schema().fields.size(), 2u);
}

TEST(LoadSnapshot, GapInCommitsIsCorruption) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine()});
  t.Commit(2, {AddLine("a")});
  Result<SnapshotPtr> r = LoadSnapshot(t.engine());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("commit 1 is missing"));
  EXPECT_FALSE(r.status().hint().empty());
}

TEST(LoadSnapshot, MissingProtocolOrMetadataIsCorruption) {
  testing::TestTable no_protocol;
  no_protocol.Commit(0, {MetadataLine(), AddLine("a")});
  Result<SnapshotPtr> r = LoadSnapshot(no_protocol.engine());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("no protocol action"));
  EXPECT_THAT(r.status().message(), HasSubstr("version 0"));

  testing::TestTable no_metadata;
  no_metadata.Commit(0, {ProtocolLine(), AddLine("a")});
  Result<SnapshotPtr> r2 = LoadSnapshot(no_metadata.engine());
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r2.status().message(), HasSubstr("metaData"));
}

TEST(LoadSnapshot, EmptyLogIsNotFound) {
  testing::TestTable t;
  Result<SnapshotPtr> r = LoadSnapshot(t.engine());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("not a Delta table"));
}

TEST(ProtocolGate, RefusesReaderVersionAboveThree) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(99, 7), MetadataLine()});
  Result<SnapshotPtr> r = LoadSnapshot(t.engine());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(r.status().message(), HasSubstr("99"));
  EXPECT_FALSE(r.status().hint().empty());
}

TEST(ProtocolGate, NamesEachUnknownReaderFeature) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(3, 7, std::vector<std::string>{"deletionVectors", "blahabl", "zorp"}),
               MetadataLine()});
  Result<SnapshotPtr> r = LoadSnapshot(t.engine());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(r.status().message(), HasSubstr("'blahabl'"));
  EXPECT_THAT(r.status().message(), HasSubstr("'zorp'"));
  EXPECT_THAT(r.status().message(), ::testing::Not(HasSubstr("deletionVectors")));
}

TEST(ProtocolGate, AcceptsEverySupportedFeature) {
  Protocol p;
  p.min_reader_version = 3;
  p.min_writer_version = 7;
  p.reader_features = SupportedReaderFeatures();
  EXPECT_TRUE(CheckReadSupported(p).ok());
  p.reader_features->push_back("catalogManaged");
  Status st = CheckReadSupported(p);
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  EXPECT_THAT(st.message(), HasSubstr("catalogManaged"));
  Protocol v5;
  v5.min_reader_version = 5;
  v5.reader_features = std::vector<std::string>{"blahabl"};
  Status st5 = CheckReadSupported(v5);
  EXPECT_THAT(st5.message(), HasSubstr("5"));
  EXPECT_THAT(st5.message(), HasSubstr("blahabl"));
  Protocol v2;
  v2.min_reader_version = 2;
  EXPECT_TRUE(CheckReadSupported(v2).ok());
}

TEST(LoadSnapshot, ColumnMappingModeOnlyWhenTheProtocolSupportsIt) {
  testing::TestTable legacy;
  legacy.Commit(0, {ProtocolLine(2, 5), MetadataLine({{"delta.columnMapping.mode", "name"}})});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s2, LoadSnapshot(legacy.engine()));
  EXPECT_EQ(s2->column_mapping_mode(), "name");

  testing::TestTable unsupported;
  unsupported.Commit(0, {ProtocolLine(1, 2), MetadataLine({{"delta.columnMapping.mode", "id"}})});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s1, LoadSnapshot(unsupported.engine()));
  EXPECT_EQ(s1->column_mapping_mode(), "none");

  testing::TestTable features;
  features.Commit(0, {ProtocolLine(3, 7, std::vector<std::string>{"columnMapping"}),
                      MetadataLine({{"delta.columnMapping.mode", "id"}})});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s3, LoadSnapshot(features.engine()));
  EXPECT_EQ(s3->column_mapping_mode(), "id");
}

TEST(LoadSnapshot, VersionOutOfRangeIsNotFound) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine()});
  t.Commit(1, {AddLine("a")});
  Result<SnapshotPtr> r = LoadSnapshot(t.engine(), 5);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("0 to 1"));
}

TEST(LoadSnapshot, CommitInfoAndTimestampOfTheVersion) {
  testing::TestTable t;
  t.Commit(0, {CommitInfoLine("CREATE TABLE"), ProtocolLine(), MetadataLine()}, 1000);
  t.Commit(1, {CommitInfoLine("WRITE"), AddLine("a")}, 2000);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  ASSERT_TRUE(s->commit_info().has_value());
  EXPECT_EQ(s->commit_info()->operation, std::optional<std::string>("WRITE"));
  EXPECT_EQ(s->timestamp_ms(), 2000);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s0, LoadSnapshot(t.engine(), 0));
  EXPECT_EQ(s0->commit_info()->operation, std::optional<std::string>("CREATE TABLE"));
  EXPECT_EQ(s0->timestamp_ms(), 1000);
}

TEST(LoadSnapshot, MissingSchemaStringIsReportedNotFatal) {
  testing::TestTable t;
  t.Commit(
      0,
      {ProtocolLine(),
       R"({"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"partitionColumns":[],"configuration":{}}})",
       AddLine("a")});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  EXPECT_EQ(s->files().size(), 1u);
  EXPECT_EQ(s->schema_status().code(), StatusCode::kCorruption);
  EXPECT_THAT(s->schema_status().message(), HasSubstr("schemaString"));
}

TEST(LoadSnapshot, BrokenCommitNamesTheFile) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine()});
  t.Commit(1, {AddLine("a"), "{\"add\": {"});
  Result<SnapshotPtr> r = LoadSnapshot(t.engine());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("00000000000000000001.json"));
  EXPECT_THAT(r.status().message(), HasSubstr("line 2"));
}

TEST(LoadSnapshot, ManyCommitsReplayInOrder) {
  // Enough commits for the parallel reader; every commit replaces the previous file.
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine(), AddLine("f0")});
  for (int v = 1; v < 300; ++v) {
    t.Commit(v, {RemoveLine(StrCat("f", v - 1)), AddLine(StrCat("f", v), v),
                 AddLine(StrCat("keep", v))});
  }
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  EXPECT_EQ(s->files().size(), 300u);  // f299 + keep1..keep299
  EXPECT_EQ(s->tombstones().size(), 299u);
  int64_t f_size = -1;
  for (const AddFile& f : s->files()) {
    if (f.path == "f299") f_size = f.size;
  }
  EXPECT_EQ(f_size, 299);
}

// ---- checkpoints (Parquet parts served by the fake reader) ----

ActionBatch CheckpointBatch(std::vector<std::string> paths) {
  ActionBatch b;
  Protocol p;
  p.min_reader_version = 1;
  b.protocols.push_back(p);
  Metadata m;
  m.id = "from-checkpoint";
  m.schema_string = R"({"type":"struct","fields":[]})";
  b.metadata.push_back(m);
  for (auto& path : paths) {
    AddFile a;
    a.path = path;
    a.size = 1;
    b.adds.push_back(a);
  }
  return b;
}

TEST(LoadSnapshot, StartsFromTheCheckpointAndReadsOnlyLaterCommits) {
  testing::TestTable t;
  // Commits 0..1 are gone (cleaned up); commit 2 is still there with its commitInfo.
  t.PutParquet(LogKey(2, ".checkpoint.parquet"), CheckpointBatch({"a", "b"}));
  t.Commit(2, {CommitInfoLine("OPTIMIZE"), "this line would not parse"});
  t.Commit(3, {RemoveLine("a"), AddLine("c")});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  EXPECT_EQ(s->checkpoint_version(), std::optional<Version>(2));
  EXPECT_EQ(s->metadata().id, "from-checkpoint");
  EXPECT_THAT(SortedPaths(s->files()), ElementsAre("b", "c"));
  // At the checkpoint version itself, commitInfo comes from the JSON commit (first line only).
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s2, LoadSnapshot(t.engine(), 2));
  ASSERT_TRUE(s2->commit_info().has_value());
  EXPECT_EQ(s2->commit_info()->operation, std::optional<std::string>("OPTIMIZE"));
  EXPECT_THAT(SortedPaths(s2->files()), ElementsAre("a", "b"));
}

TEST(LoadSnapshot, ReadsEveryPartOfAMultiPartCheckpoint) {
  testing::TestTable t;
  ActionBatch part1 = CheckpointBatch({"a"});
  ActionBatch part2;
  AddFile b;
  b.path = "b";
  part2.adds.push_back(b);
  t.PutParquet(LogKey(4, ".checkpoint.0000000001.0000000002.parquet"), part1);
  t.PutParquet(LogKey(4, ".checkpoint.0000000002.0000000002.parquet"), part2);
  t.Commit(5, {AddLine("c")});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  EXPECT_THAT(SortedPaths(s->files()), ElementsAre("a", "b", "c"));
  EXPECT_EQ(t.reader().reads, 2);
}

TEST(LoadSnapshot, V2JsonCheckpointWithSidecars) {
  testing::TestTable t;
  t.Put(LogKey(3, ".checkpoint.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json"),
        StrJoin({R"({"checkpointMetadata":{"version":3}})",
                 ProtocolLine(3, 7, std::vector<std::string>{"v2Checkpoint"}), MetadataLine(),
                 R"({"sidecar":{"path":"s1.parquet","sizeInBytes":1,"modificationTime":1}})",
                 R"({"sidecar":{"path":"s2.parquet","sizeInBytes":1,"modificationTime":1}})"},
                "\n"));
  ActionBatch s1;
  AddFile a;
  a.path = "a";
  s1.adds.push_back(a);
  ActionBatch s2;
  AddFile b;
  b.path = "b";
  s2.adds.push_back(b);
  t.PutParquet("_delta_log/_sidecars/s1.parquet", s1);
  t.PutParquet("_delta_log/_sidecars/s2.parquet", s2);
  t.Commit(4, {RemoveLine("b")});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  EXPECT_EQ(s->checkpoint_version(), std::optional<Version>(3));
  EXPECT_THAT(SortedPaths(s->files()), ElementsAre("a"));
  EXPECT_THAT(SortedPaths(s->tombstones()), ElementsAre("b"));
}

TEST(LoadSnapshot, ClassicNamedCheckpointWithV2Content) {
  testing::TestTable t;
  ActionBatch top = CheckpointBatch({});
  top.checkpoint_metadata.push_back(CheckpointMetadata{2, {}});
  Sidecar sc;
  sc.path = "side.parquet";
  top.sidecars.push_back(sc);
  t.PutParquet(LogKey(2, ".checkpoint.parquet"), top);
  t.PutParquet("_delta_log/_sidecars/side.parquet", CheckpointBatch({"x"}));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(t.engine()));
  EXPECT_THAT(SortedPaths(s->files()), ElementsAre("x"));
}

TEST(LoadSnapshot, UnreadableParquetCheckpointFailsNamingIt) {
  storage::MemoryStore store;
  NoParquetCheckpointReader reader;
  SimpleEngine engine(store, reader);
  ASSERT_OK(store.Put(LogKey(1, ".checkpoint.parquet"), std::string("PAR1")));
  Result<SnapshotPtr> r = LoadSnapshot(engine);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(r.status().message(), HasSubstr("checkpoint.parquet"));
}

// ---- time travel by timestamp ----

TEST(LoadSnapshotAtTimestamp, UsesCommitFileModificationTimes) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine()}, 1000);
  t.Commit(1, {AddLine("a")}, 2000);
  t.Commit(2, {AddLine("b")}, 3000);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr at2500, LoadSnapshotAtTimestamp(t.engine(), 2500));
  EXPECT_EQ(at2500->version(), 1);
  EXPECT_EQ(at2500->timestamp_ms(), 2000);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr at2000, LoadSnapshotAtTimestamp(t.engine(), 2000));
  EXPECT_EQ(at2000->version(), 1);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr at3000, LoadSnapshotAtTimestamp(t.engine(), 3000));
  EXPECT_EQ(at3000->version(), 2);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr at1000, LoadSnapshotAtTimestamp(t.engine(), 1000));
  EXPECT_EQ(at1000->version(), 0);

  Result<SnapshotPtr> before = LoadSnapshotAtTimestamp(t.engine(), 999);
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(before.status().message(), HasSubstr("before the earliest"));
  Result<SnapshotPtr> after = LoadSnapshotAtTimestamp(t.engine(), 3001);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(after.status().message(), HasSubstr("after the latest"));
}

TEST(LoadSnapshotAtTimestamp, UsesInCommitTimestampsWhenEnabled) {
  testing::TestTable t;
  // File mtimes deliberately disagree with the in-commit timestamps.
  const std::map<std::string, std::string> ict = {{"delta.enableInCommitTimestamps", "true"}};
  t.Commit(0, {CommitInfoLine("CREATE", 10000), ProtocolLine(1, 7), MetadataLine(ict)}, 5);
  t.Commit(1, {CommitInfoLine("WRITE", 20000), AddLine("a")}, 4);
  t.Commit(2, {CommitInfoLine("WRITE", 30000), AddLine("b")}, 3);
  t.Commit(3, {CommitInfoLine("WRITE", 40000), AddLine("c")}, 2);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr latest, LoadSnapshot(t.engine()));
  EXPECT_EQ(latest->timestamp_ms(), 40000);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshotAtTimestamp(t.engine(), 25000));
  EXPECT_EQ(s->version(), 1);
  EXPECT_EQ(s->timestamp_ms(), 20000);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s3, LoadSnapshotAtTimestamp(t.engine(), 30000));
  EXPECT_EQ(s3->version(), 2);
  Result<SnapshotPtr> before = LoadSnapshotAtTimestamp(t.engine(), 9999);
  EXPECT_EQ(before.status().code(), StatusCode::kInvalidArgument);
}

TEST(LoadSnapshotAtTimestamp, InCommitTimestampsEnabledMidHistory) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(1, 7), MetadataLine()}, 1000);
  t.Commit(1, {AddLine("a")}, 2000);
  // Version 2 enables ICT; its file mtime (100) is meaningless from here on.
  t.Commit(2,
           {CommitInfoLine("SET TBLPROPERTIES", 5000),
            MetadataLine({{"delta.enableInCommitTimestamps", "true"},
                          {"delta.inCommitTimestampEnablementVersion", "2"},
                          {"delta.inCommitTimestampEnablementTimestamp", "5000"}})},
           100);
  t.Commit(3, {CommitInfoLine("WRITE", 6000), AddLine("b")}, 50);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s1, LoadSnapshotAtTimestamp(t.engine(), 2500));
  EXPECT_EQ(s1->version(), 1);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s2, LoadSnapshotAtTimestamp(t.engine(), 5500));
  EXPECT_EQ(s2->version(), 2);
  EXPECT_EQ(s2->timestamp_ms(), 5000);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s3, LoadSnapshotAtTimestamp(t.engine(), 6000));
  EXPECT_EQ(s3->version(), 3);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s0, LoadSnapshotAtTimestamp(t.engine(), 1500));
  EXPECT_EQ(s0->version(), 0);
}

// ---- refresh ----

TEST(RefreshSnapshot, ReadsOnlyNewCommits) {
  testing::TestTable t;
  t.PutParquet(LogKey(1, ".checkpoint.parquet"), CheckpointBatch({"a", "b"}));
  t.Commit(2, {AddLine("c")});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr base, LoadSnapshot(t.engine()));
  EXPECT_EQ(t.reader().reads, 1);

  ASSERT_OK_AND_ASSIGN(SnapshotPtr same, RefreshSnapshot(t.engine(), base));
  EXPECT_EQ(same.get(), base.get());

  t.Commit(3, {RemoveLine("a"), AddLine("d"), R"({"txn":{"appId":"app","version":7}})"});
  t.Commit(4, {CommitInfoLine("WRITE"), AddLine("b", 99)});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr next, RefreshSnapshot(t.engine(), base));
  EXPECT_EQ(next->version(), 4);
  EXPECT_EQ(t.reader().reads, 1);  // the checkpoint was not read again
  EXPECT_THAT(SortedPaths(next->files()), ElementsAre("b", "c", "d"));
  EXPECT_THAT(SortedPaths(next->tombstones()), ElementsAre("a"));
  EXPECT_EQ(next->txns().at("app").version, 7);
  EXPECT_EQ(next->commit_info()->operation, std::optional<std::string>("WRITE"));
  EXPECT_EQ(next->size_bytes(), 99 + 100 + 100);  // b (re-added), c, d
}

TEST(RefreshSnapshot, MatchesAFullLoad) {
  testing::TestTable t;
  t.Commit(0, {ProtocolLine(), MetadataLine(), AddLine("a"), AddLine("b")});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr base, LoadSnapshot(t.engine()));
  t.Commit(1, {RemoveLine("a"), AddLine("file:///elsewhere/x")});
  t.Commit(2, {RemoveLine("/elsewhere/x"), AddLine("a", 5)});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr refreshed, RefreshSnapshot(t.engine(), base));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr full, LoadSnapshot(t.engine()));
  EXPECT_EQ(SortedPaths(refreshed->files()), SortedPaths(full->files()));
  EXPECT_EQ(SortedPaths(refreshed->tombstones()), SortedPaths(full->tombstones()));
  EXPECT_EQ(refreshed->size_bytes(), full->size_bytes());
  EXPECT_THAT(SortedPaths(full->files()), ElementsAre("a", "b"));
}

// ---- history ----

TEST(LoadHistory, NewestFirstWithCommitInfo) {
  testing::TestTable t;
  t.Commit(0, {CommitInfoLine("CREATE TABLE"), ProtocolLine(), MetadataLine()}, 1000);
  t.Commit(1, {AddLine("a"), CommitInfoLine("WRITE")}, 2000);  // commitInfo last (old writers)
  t.Commit(2, {AddLine("b")}, 3000);                           // no commitInfo at all
  t.Commit(3, {CommitInfoLine("DELETE", 9999), RemoveLine("a")}, 4000);
  ASSERT_OK_AND_ASSIGN(std::vector<HistoryEntry> history, LoadHistory(t.engine()));
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].version, 3);
  EXPECT_EQ(history[0].commit_info.operation, std::optional<std::string>("DELETE"));
  EXPECT_EQ(history[0].timestamp_ms, 9999);  // in-commit timestamp
  EXPECT_EQ(history[1].version, 2);
  EXPECT_FALSE(history[1].commit_info.operation.has_value());
  EXPECT_EQ(history[1].timestamp_ms, 3000);
  EXPECT_EQ(history[2].commit_info.operation, std::optional<std::string>("WRITE"));
  EXPECT_EQ(history[3].version, 0);
  EXPECT_EQ(history[3].commit_info.operation, std::optional<std::string>("CREATE TABLE"));
  EXPECT_EQ(history[3].timestamp_ms, 1000);

  ASSERT_OK_AND_ASSIGN(std::vector<HistoryEntry> two, LoadHistory(t.engine(), 2));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].version, 2);
}

}  // namespace
}  // namespace lake::delta
