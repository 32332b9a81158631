// Checkpoint row selection, parts, _last_checkpoint, faults and log cleanup, with a fake
// Parquet writer: it keeps the rows it was given and serves them back through the fake
// reader, so a reload "from the checkpoint" replays exactly what was written. Expected rows
// are worked out by hand from the commits each test writes.
#include "delta/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "delta/log_test_util.h"
#include "storage/faulty_store.h"

namespace lake::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using testing::CommitInfoLine;
using testing::FakeCheckpointReader;
using testing::LogKey;
using testing::SortedPaths;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

// Keeps each written file's rows, registers them with `reader` under the key, then Puts a
// placeholder object through the store (atomic, and where FaultyStore strikes).
class FakeCheckpointWriter final : public CheckpointWriter {
 public:
  explicit FakeCheckpointWriter(FakeCheckpointReader& reader) : reader_(reader) {}

  Result<int64_t> WriteParquetActions(storage::ObjectStore& store, std::string_view key,
                                      const CheckpointActions& actions,
                                      const CheckpointLayout& layout) override {
    ActionBatch batch;
    if (actions.protocol) batch.protocols.push_back(*actions.protocol);
    if (actions.metadata) batch.metadata.push_back(*actions.metadata);
    if (actions.checkpoint_metadata) {
      batch.checkpoint_metadata.push_back(*actions.checkpoint_metadata);
    }
    for (const Txn* t : actions.txns) batch.txns.push_back(*t);
    for (const DomainMetadata* d : actions.domain_metadata) batch.domain_metadata.push_back(*d);
    for (const AddFile* a : actions.adds) batch.adds.push_back(*a);
    for (const RemoveFile* r : actions.removes) batch.removes.push_back(*r);
    reader_.batches[std::string(key)] = batch;
    files[std::string(key)] = batch;
    last_layout = layout;
    const std::string bytes(100 + actions.size(), 'x');
    LAKE_RETURN_IF_ERROR(store.Put(key, bytes));
    return static_cast<int64_t>(bytes.size());
  }

  std::map<std::string, ActionBatch> files;
  CheckpointLayout last_layout;

 private:
  FakeCheckpointReader& reader_;
};

std::string Json(const nlohmann::json& j) { return j.dump(); }

// 64-bit FNV-1a (offset basis 14695981039346656037, prime 1099511628211): the stable hash
// multi-part checkpoints partition paths by, so each path's part is known in advance.
uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

nlohmann::json MetadataJson(const std::map<std::string, std::string>& config,
                            const std::string& schema = testing::kSchemaJson,
                            std::vector<std::string> partition_columns = {}) {
  // kSchemaJson is escaped for embedding in a JSON string: unescape it.
  std::string schema_text = schema;
  std::string unescaped;
  for (size_t i = 0; i < schema_text.size(); ++i) {
    if (schema_text[i] == '\\' && i + 1 < schema_text.size()) ++i;
    unescaped += schema_text[i];
  }
  return {{"metaData",
           {{"id", "table-id"},
            {"format", {{"provider", "parquet"}, {"options", nlohmann::json::object()}}},
            {"schemaString", unescaped},
            {"partitionColumns", partition_columns},
            {"configuration", config},
            {"createdTime", 1000}}}};
}

std::string Add(const std::string& path, int64_t size = 10) {
  return Json({{"add",
                {{"path", path},
                 {"partitionValues", nlohmann::json::object()},
                 {"size", size},
                 {"modificationTime", 1},
                 {"dataChange", true},
                 {"stats", R"({"numRecords":1})"}}}});
}

std::string Remove(const std::string& path, int64_t deletion_ms) {
  return Json({{"remove", {{"path", path}, {"deletionTimestamp", deletion_ms}, {"dataChange", true}}}});
}

std::string Txn(const std::string& app, int64_t version, int64_t last_updated) {
  return Json({{"txn", {{"appId", app}, {"version", version}, {"lastUpdated", last_updated}}}});
}

std::string Domain(const std::string& domain, const std::string& config, bool removed) {
  return Json(
      {{"domainMetadata", {{"domain", domain}, {"configuration", config}, {"removed", removed}}}});
}

class CheckpointTest : public ::testing::Test {
 protected:
  CheckpointTest() : writer_(table_.reader()), engine_(table_.store(), table_.reader(), &writer_) {}

  void Commit(int64_t version, const std::vector<std::string>& lines,
              std::optional<int64_t> mtime = std::nullopt) {
    table_.Commit(version, lines, mtime);
  }
  SnapshotPtr Load(std::optional<Version> version = std::nullopt) {
    Result<SnapshotPtr> snap = LoadSnapshot(engine_, version);
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    return snap.ok() ? *snap : nullptr;
  }
  // The standard log: v0 protocol+metadata(+config), v1 adds a b c, v2 removes a (9 days
  // ago: expired under the default week), v3 removes b (1 day ago: kept), a txn and domains.
  void StandardLog(const std::map<std::string, std::string>& config = {}) {
    Commit(0, {testing::ProtocolLine(1, 2), Json(MetadataJson(config))});
    Commit(1, {CommitInfoLine("WRITE"), Add("a"), Add("b"), Add("c")});
    Commit(2, {CommitInfoLine("DELETE"), Remove("a", kNow - 9 * kDayMs)});
    Commit(3, {CommitInfoLine("DELETE"), Remove("b", kNow - 1 * kDayMs), Txn("app1", 7, kNow),
               Domain("d1", "{\"x\":1}", false), Domain("d2", "{}", false)});
    Commit(4, {CommitInfoLine("WRITE"), Domain("d2", "{}", true)});
  }
  // Deletes every commit file up to `version`, so a load must come from a checkpoint.
  void DeleteCommitsThrough(Version version) {
    for (Version v = 0; v <= version; ++v) ASSERT_OK(table_.store().Delete(LogKey(v)));
  }

  testing::TestTable table_;
  FakeCheckpointWriter writer_;
  SimpleEngine engine_;
};

TEST_F(CheckpointTest, WritesProtocolMetadataTxnLiveDomainsAddsAndUnexpiredRemoves) {
  StandardLog();
  SnapshotPtr snap = Load();
  ASSERT_OK_AND_ASSIGN(LastCheckpointHint hint, WriteCheckpoint(engine_, *snap, {.now_ms = kNow}));

  ASSERT_EQ(writer_.files.size(), 1u);
  const auto& [key, batch] = *writer_.files.begin();
  EXPECT_EQ(key, "_delta_log/00000000000000000004.checkpoint.parquet");
  ASSERT_EQ(batch.protocols.size(), 1u);
  EXPECT_EQ(batch.protocols[0].min_writer_version, 2);
  ASSERT_EQ(batch.metadata.size(), 1u);
  EXPECT_EQ(batch.metadata[0].id, "table-id");
  EXPECT_THAT(SortedPaths(batch.adds), ElementsAre("c"));  // a removed at v2, b at v3
  // a's tombstone is 9 days old (> 1 week): expired; b's is 1 day old: kept.
  EXPECT_THAT(SortedPaths(batch.removes), ElementsAre("b"));
  ASSERT_EQ(batch.txns.size(), 1u);
  EXPECT_EQ(batch.txns[0].app_id, "app1");
  EXPECT_EQ(batch.txns[0].version, 7);
  ASSERT_EQ(batch.domain_metadata.size(), 1u);  // d2 was removed at v4
  EXPECT_EQ(batch.domain_metadata[0].domain, "d1");
  EXPECT_THAT(batch.commit_infos, IsEmpty());
  EXPECT_THAT(batch.checkpoint_metadata, IsEmpty());

  EXPECT_EQ(hint.version, 4);
  EXPECT_EQ(hint.size, 6);  // protocol, metaData, txn, domain, add, remove
  EXPECT_EQ(hint.parts, std::nullopt);
  EXPECT_EQ(hint.num_of_add_files, 1);
  EXPECT_EQ(hint.size_in_bytes, 106);  // the fake writes 100 + rows bytes
  ASSERT_OK_AND_ASSIGN(std::string last, table_.store().Get("_delta_log/_last_checkpoint"));
  EXPECT_EQ(nlohmann::json::parse(last),
            nlohmann::json::parse(
                R"({"version":4,"size":6,"sizeInBytes":106,"numOfAddFiles":1})"));
}

TEST_F(CheckpointTest, SnapshotFromCheckpointAloneEqualsJsonReplay) {
  StandardLog();
  SnapshotPtr replayed = Load();
  ASSERT_OK(WriteCheckpoint(engine_, *replayed, {.now_ms = kNow}).status());
  DeleteCommitsThrough(3);  // commit 4 stays: it is the checkpoint's own commit

  SnapshotPtr from_checkpoint = Load();
  ASSERT_NE(from_checkpoint, nullptr);
  EXPECT_EQ(from_checkpoint->checkpoint_version(), 4);
  EXPECT_EQ(from_checkpoint->version(), 4);
  EXPECT_EQ(SortedPaths(from_checkpoint->files()), SortedPaths(replayed->files()));
  EXPECT_THAT(SortedPaths(from_checkpoint->tombstones()), ElementsAre("b"));
  EXPECT_EQ(from_checkpoint->metadata().schema_string, replayed->metadata().schema_string);
  EXPECT_EQ(from_checkpoint->protocol().min_reader_version, 1);
  ASSERT_EQ(from_checkpoint->txns().count("app1"), 1u);
  EXPECT_EQ(from_checkpoint->txns().at("app1").version, 7);
  EXPECT_EQ(from_checkpoint->domains().size(), 1u);
  EXPECT_EQ(from_checkpoint->domains().count("d1"), 1u);
}

TEST_F(CheckpointTest, MultiPartSplitsFileActionsByPathAndKeepsNonFileActionsInPartOne) {
  Commit(0, {testing::ProtocolLine(1, 2), Json(MetadataJson({}))});
  std::vector<std::string> adds = {CommitInfoLine("WRITE")};
  for (int i = 0; i < 7; ++i) adds.push_back(Add(StrCat("f", i)));
  Commit(1, adds);
  Commit(2, {CommitInfoLine("DELETE"), Remove("f0", kNow), Txn("app", 1, kNow)});
  SnapshotPtr snap = Load();
  // 6 adds + 1 remove = 7 file actions, at most 3 per part: ceil(7 / 3) = 3 parts.
  ASSERT_OK_AND_ASSIGN(LastCheckpointHint hint,
                       WriteCheckpoint(engine_, *snap, {.max_actions_per_part = 3, .now_ms = kNow}));
  EXPECT_EQ(hint.parts, 3);
  EXPECT_EQ(hint.size, 2 + 1 + 7);
  ASSERT_EQ(writer_.files.size(), 3u);
  const std::vector<std::string> keys = CheckpointKeys(2, 3);
  EXPECT_THAT(keys, ElementsAre("_delta_log/00000000000000000002.checkpoint.0000000001.0000000003.parquet",
                                "_delta_log/00000000000000000002.checkpoint.0000000002.0000000003.parquet",
                                "_delta_log/00000000000000000002.checkpoint.0000000003.0000000003.parquet"));
  std::multiset<std::string> seen;
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(writer_.files.count(keys[i]), 1u) << keys[i];
    const ActionBatch& part = writer_.files[keys[i]];
    EXPECT_EQ(part.protocols.size(), i == 0 ? 1u : 0u);
    EXPECT_EQ(part.metadata.size(), i == 0 ? 1u : 0u);
    EXPECT_EQ(part.txns.size(), i == 0 ? 1u : 0u);
    for (const AddFile& a : part.adds) {
      seen.insert("add:" + a.path);
      EXPECT_EQ(Fnv1a(a.path) % 3, i) << a.path;
    }
    for (const RemoveFile& r : part.removes) {
      seen.insert("remove:" + r.path);
      EXPECT_EQ(Fnv1a(r.path) % 3, i) << r.path;
    }
  }
  EXPECT_THAT(seen, UnorderedElementsAre("add:f1", "add:f2", "add:f3", "add:f4", "add:f5",
                                         "add:f6", "remove:f0"));

  ASSERT_OK_AND_ASSIGN(std::string last, table_.store().Get("_delta_log/_last_checkpoint"));
  EXPECT_EQ(nlohmann::json::parse(last)["parts"], 3);
  DeleteCommitsThrough(1);
  SnapshotPtr reloaded = Load();
  ASSERT_NE(reloaded, nullptr);
  EXPECT_EQ(reloaded->checkpoint_version(), 2);
  EXPECT_THAT(SortedPaths(reloaded->files()),
              ElementsAre("f1", "f2", "f3", "f4", "f5", "f6"));
}

TEST_F(CheckpointTest, DeletedFileRetentionPropertySetsTombstoneExpiry) {
  Commit(0, {testing::ProtocolLine(1, 2),
             Json(MetadataJson({{"delta.deletedFileRetentionDuration", "interval 1 hours"}}))});
  Commit(1, {Add("a"), Add("b")});
  Commit(2, {Remove("a", kNow - 2 * 3600 * 1000), Remove("b", kNow - 30 * 60 * 1000)});
  SnapshotPtr snap = Load();
  CheckpointActions rows = SelectCheckpointActions(*snap, kNow);
  ASSERT_EQ(rows.removes.size(), 1u);  // a: 2 hours > 1 hour, expired; b: 30 minutes, kept
  EXPECT_EQ(rows.removes[0]->path, "b");

  Commit(3, {Json(MetadataJson({{"delta.deletedFileRetentionDuration", "interval 3 fortnights"}}))});
  Result<LastCheckpointHint> bad = WriteCheckpoint(engine_, *Load(), {.now_ms = kNow});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("fortnights"));
}

TEST_F(CheckpointTest, NeverMovesLastCheckpointBackToAnOlderVersion) {
  StandardLog();
  const std::string newer = R"({"version":40,"size":3})";
  ASSERT_OK(table_.store().Put("_delta_log/_last_checkpoint", newer));
  ASSERT_OK(WriteCheckpoint(engine_, *Load(), {.now_ms = kNow}).status());
  ASSERT_OK_AND_ASSIGN(std::string last, table_.store().Get("_delta_log/_last_checkpoint"));
  EXPECT_EQ(last, newer);
}

TEST_F(CheckpointTest, V2CheckpointTablesGetOneClassicNamedV2SpecFile) {
  Commit(0, {R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["v2Checkpoint"],"writerFeatures":["v2Checkpoint"]}})",
             Json(MetadataJson({{"delta.checkpointPolicy", "v2"}}))});
  Commit(1, {Add("a"), Add("b"), Add("c")});
  ASSERT_OK_AND_ASSIGN(LastCheckpointHint hint,
                       WriteCheckpoint(engine_, *Load(), {.max_actions_per_part = 1, .now_ms = kNow}));
  EXPECT_EQ(hint.parts, std::nullopt);  // never multi-part with v2Checkpoint
  ASSERT_EQ(writer_.files.size(), 1u);
  const ActionBatch& file = writer_.files["_delta_log/00000000000000000001.checkpoint.parquet"];
  ASSERT_EQ(file.checkpoint_metadata.size(), 1u);
  EXPECT_EQ(file.checkpoint_metadata[0].version, 1);
  EXPECT_EQ(file.adds.size(), 3u);
  EXPECT_EQ(hint.size, 2 + 1 + 3);
}

TEST_F(CheckpointTest, RefusesCoordinatedCommitTablesAndEnginesWithoutParquet) {
  Commit(0, {R"({"protocol":{"minReaderVersion":1,"minWriterVersion":7,"writerFeatures":["coordinatedCommits-preview"]}})",
             Json(MetadataJson({}))});
  Result<LastCheckpointHint> refused = WriteCheckpoint(engine_, *Load(), {.now_ms = kNow});
  EXPECT_EQ(refused.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("coordinatedCommits-preview"));
  EXPECT_TRUE(writer_.files.empty());

  testing::TestTable plain;
  plain.Commit(0, {testing::ProtocolLine(1, 2), Json(MetadataJson({})), Add("a")});
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, LoadSnapshot(plain.engine()));
  Result<LastCheckpointHint> r = WriteCheckpoint(plain.engine(), *s, {.now_ms = kNow});
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("DuckDB engine"));
  EXPECT_FALSE(plain.store().Head("_delta_log/_last_checkpoint").ok());
}

// For every storage call N of a checkpoint, fail or crash there: the table still loads at the
// same version with the same files, from whatever the checkpoint left behind.
TEST_F(CheckpointTest, FaultAtEveryStorageCallLeavesTableLoadableAtSameVersion) {
  Commit(0, {testing::ProtocolLine(1, 2), Json(MetadataJson({}))});
  std::vector<std::string> adds;
  for (int i = 0; i < 5; ++i) adds.push_back(Add(StrCat("f", i)));
  Commit(1, adds);
  Commit(2, {Remove("f0", kNow), Add("g")});
  SnapshotPtr before = Load();
  const std::vector<std::string> expected = SortedPaths(before->files());
  ASSERT_EQ(expected.size(), 5u);

  for (auto mode : {storage::FaultyStore::Mode::kFailOnce, storage::FaultyStore::Mode::kCrash,
                    storage::FaultyStore::Mode::kCrashAfter}) {
    for (int64_t n = 1;; ++n) {
      testing::TestTable t;
      t.Commit(0, {testing::ProtocolLine(1, 2), Json(MetadataJson({}))});
      t.Commit(1, adds);
      t.Commit(2, {Remove("f0", kNow), Add("g")});
      FakeCheckpointWriter writer(t.reader());
      storage::FaultyStore faulty(t.store(), n, mode);
      SimpleEngine faulty_engine(faulty, t.reader(), &writer);
      ASSERT_OK_AND_ASSIGN(SnapshotPtr snap, LoadSnapshot(t.engine()));
      Result<LastCheckpointHint> r =
          WriteCheckpoint(faulty_engine, *snap, {.max_actions_per_part = 2, .now_ms = kNow});
      const bool hit = faulty.triggered();
      // Only the fault can make it fail, and every fault is reported.
      EXPECT_EQ(r.ok(), !hit) << "call " << n << ": " << r.status().ToString();
      SimpleEngine clean(t.store(), t.reader(), &writer);
      ASSERT_OK_AND_ASSIGN(SnapshotPtr after, LoadSnapshot(clean)) ;
      EXPECT_EQ(after->version(), 2) << "call " << n;
      EXPECT_EQ(SortedPaths(after->files()), expected) << "call " << n;
      // And with the commits gone, whatever checkpoint is complete still gives the same files.
      if (t.store().Head("_delta_log/00000000000000000002.checkpoint.0000000003.0000000003.parquet").ok() &&
          t.store().Head("_delta_log/00000000000000000002.checkpoint.0000000001.0000000003.parquet").ok() &&
          t.store().Head("_delta_log/00000000000000000002.checkpoint.0000000002.0000000003.parquet").ok()) {
        for (Version v = 0; v <= 1; ++v) ASSERT_OK(t.store().Delete(LogKey(v)));
        ASSERT_OK_AND_ASSIGN(SnapshotPtr from_checkpoint, LoadSnapshot(clean));
        EXPECT_EQ(from_checkpoint->checkpoint_version(), 2) << "call " << n;
        EXPECT_EQ(SortedPaths(from_checkpoint->files()), expected) << "call " << n;
      }
      if (!hit) break;  // the checkpoint ran past its last call: every N was covered
    }
  }
}

TEST(CheckpointProperties, ShouldCheckpointEveryIntervalButNeverAtZero) {
  Metadata defaults;
  EXPECT_FALSE(ShouldCheckpoint(0, defaults));
  EXPECT_FALSE(ShouldCheckpoint(9, defaults));
  EXPECT_TRUE(ShouldCheckpoint(10, defaults));
  EXPECT_TRUE(ShouldCheckpoint(20, defaults));
  Metadata every3;
  every3.configuration["delta.checkpointInterval"] = "3";
  EXPECT_TRUE(ShouldCheckpoint(3, every3));
  EXPECT_FALSE(ShouldCheckpoint(10, every3));
  Metadata broken;
  broken.configuration["delta.checkpointInterval"] = "0";
  EXPECT_TRUE(ShouldCheckpoint(10, broken));  // falls back to 10
}

TEST(CheckpointProperties, ParsesDurations) {
  EXPECT_EQ(*ParseDurationMs("interval 30 days"), 30 * kDayMs);
  EXPECT_EQ(ParseDurationMs("1 week").value(), 7 * kDayMs);
  EXPECT_EQ(ParseDurationMs("INTERVAL 2 HOURS 30 minutes").value(), 150 * 60 * 1000);
  EXPECT_EQ(ParseDurationMs("interval 1 second 500 milliseconds").value(), 1500);
  EXPECT_EQ(ParseDurationMs("interval 0 seconds").value(), 0);
  EXPECT_EQ(ParseDurationMs("interval 1 month").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDurationMs("interval").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDurationMs("7").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDurationMs("interval -1 days").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CheckpointTest, LayoutTypesStatsAndPartitionValuesByPhysicalNameAndSkipsPartitions) {
  // id long, p string (partition), s struct<x int, flag boolean>, bin binary, name string.
  const std::string schema =
      R"({"type":"struct","fields":[)"
      R"({"name":"id","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"p","type":"date","nullable":true,"metadata":{}},)"
      R"({"name":"s","type":{"type":"struct","fields":[)"
      R"({"name":"x","type":"integer","nullable":true,"metadata":{}},)"
      R"({"name":"flag","type":"boolean","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},)"
      R"({"name":"bin","type":"binary","nullable":true,"metadata":{}},)"
      R"({"name":"name","type":"string","nullable":true,"metadata":{}}]})";
  Commit(0, {testing::ProtocolLine(1, 2),
             Json(MetadataJson({{"delta.dataSkippingNumIndexedCols", "4"}}, schema, {"p"}))});
  ASSERT_OK_AND_ASSIGN(CheckpointLayout layout, CheckpointLayoutFor(*Load()));
  EXPECT_TRUE(layout.write_stats_as_json);
  EXPECT_TRUE(layout.write_stats_as_struct);  // Spark's default
  EXPECT_EQ(layout.partition_values_schema.ToString(), "struct<p:date>");
  // Leaves in order, partition column skipped: id, s.x, s.flag, bin (4), then name is past
  // the limit. Booleans and binaries get null counts but no min/max.
  EXPECT_EQ(layout.stats_schema.ToString(),
            "struct<numRecords:long,minValues:struct<id:long,s:struct<x:integer>>,"
            "maxValues:struct<id:long,s:struct<x:integer>>,"
            "nullCount:struct<id:long,s:struct<x:long,flag:long>,bin:long>>");

  Commit(1, {Json(MetadataJson({{"delta.dataSkippingStatsColumns", "name, s.flag"},
                                {"delta.checkpoint.writeStatsAsJson", "false"}},
                               schema, {"p"}))});
  ASSERT_OK_AND_ASSIGN(layout, CheckpointLayoutFor(*Load()));
  EXPECT_FALSE(layout.write_stats_as_json);
  EXPECT_EQ(layout.stats_schema.ToString(),
            "struct<numRecords:long,minValues:struct<name:string>,maxValues:struct<name:string>,"
            "nullCount:struct<s:struct<flag:long>,name:long>>");

  Commit(2, {Json(MetadataJson({{"delta.checkpoint.writeStatsAsStruct", "false"}}, schema, {"p"}))});
  ASSERT_OK_AND_ASSIGN(layout, CheckpointLayoutFor(*Load()));
  EXPECT_FALSE(layout.write_stats_as_struct);
  Commit(3, {Json(MetadataJson({{"delta.checkpoint.writeStatsAsStruct", "maybe"}}, schema, {"p"}))});
  EXPECT_EQ(CheckpointLayoutFor(*Load()).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CheckpointTest, LayoutUsesColumnMappingPhysicalNames) {
  const std::string schema =
      R"({"type":"struct","fields":[)"
      R"({"name":"id","type":"long","nullable":true,"metadata":{"delta.columnMapping.id":1,"delta.columnMapping.physicalName":"col-1"}},)"
      R"({"name":"p","type":"string","nullable":true,"metadata":{"delta.columnMapping.id":2,"delta.columnMapping.physicalName":"col-2"}}]})";
  Commit(0, {R"({"protocol":{"minReaderVersion":2,"minWriterVersion":5}})",
             Json(MetadataJson({{"delta.columnMapping.mode", "name"}}, schema, {"p"}))});
  ASSERT_OK_AND_ASSIGN(CheckpointLayout layout, CheckpointLayoutFor(*Load()));
  EXPECT_EQ(layout.partition_values_schema.ToString(), "struct<col-2:string>");
  EXPECT_EQ(layout.stats_schema.ToString(),
            "struct<numRecords:long,minValues:struct<col-1:long>,maxValues:struct<col-1:long>,"
            "nullCount:struct<col-1:long>>");
}

// --- Cleanup ------------------------------------------------------------------------------

class CleanupTest : public CheckpointTest {
 protected:
  // Versions 0..12, version v committed at day v (UTC noon), checkpoints at 5 and 10.
  void DailyLog(const std::map<std::string, std::string>& config = {}) {
    Commit(0, {testing::ProtocolLine(1, 2), Json(MetadataJson(config)), Add("f0")}, Noon(0));
    for (int v = 1; v <= 12; ++v) Commit(v, {Add(StrCat("f", v))}, Noon(v));
    for (Version cp : {5, 10}) {
      ASSERT_OK(WriteCheckpoint(engine_, *Load(cp), {.now_ms = Noon(cp)}).status());
    }
  }
  static int64_t Noon(int day) { return kT0 + day * kDayMs + kDayMs / 2; }
  std::vector<std::string> LogNames() {
    std::vector<std::string> names;
    Result<std::vector<storage::ObjectInfo>> listed = table_.store().ListAfter("_delta_log/", "");
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    if (!listed.ok()) return names;
    for (const storage::ObjectInfo& o : *listed) names.push_back(o.key.substr(11));
    return names;
  }
  static constexpr int64_t kT0 = 1'699'920'000'000;  // a UTC midnight (2023-11-14)
};

TEST_F(CleanupTest, KeepsNewestCheckpointBeforeCutoffCommitAndEverythingAfterIt) {
  DailyLog();
  // Retention 30 days: now = day 37 noon -> cutoff = midnight starting day 7 -> cutoff commit
  // = 6 (day 6 noon <= cutoff; day 7 noon is after) -> keep checkpoint 5.
  std::map<Version, std::vector<std::string>> before;
  for (Version v = 5; v <= 12; ++v) before[v] = SortedPaths(Load(v)->files());
  ASSERT_OK_AND_ASSIGN(CleanupResult r, CleanupExpiredLogs(engine_, *Load(), Noon(37)));
  EXPECT_EQ(r.cutoff_checkpoint, 5);
  EXPECT_EQ(r.files_deleted, 5);  // commits 0..4
  std::vector<std::string> names = LogNames();
  EXPECT_EQ(names.front(), "00000000000000000005.checkpoint.parquet");
  EXPECT_EQ(std::count_if(names.begin(), names.end(),
                          [](const std::string& n) { return n.find(".json") != std::string::npos; }),
            8);  // 5..12
  for (Version v = 5; v <= 12; ++v) {
    ASSERT_OK_AND_ASSIGN(SnapshotPtr snap, LoadSnapshot(engine_, v));
    EXPECT_EQ(SortedPaths(snap->files()), before[v]) << "version " << v;
  }
  EXPECT_EQ(LoadSnapshot(engine_, 4).status().code(), StatusCode::kNotFound);

  // Ten days later (cutoff commit 11): checkpoint 10 is kept, checkpoint 5 and 5..9 go.
  ASSERT_OK_AND_ASSIGN(r, CleanupExpiredLogs(engine_, *Load(), Noon(42)));
  EXPECT_EQ(r.cutoff_checkpoint, 10);
  EXPECT_EQ(r.files_deleted, 6);  // checkpoint 5, commits 5..9
  EXPECT_THAT(LogNames(), ElementsAre("00000000000000000010.checkpoint.parquet",
                                      "00000000000000000010.json", "00000000000000000011.json",
                                      "00000000000000000012.json", "_last_checkpoint"));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr at10, LoadSnapshot(engine_, 10));
  EXPECT_EQ(at10->files().size(), 11u);  // f0..f10
}

TEST_F(CleanupTest, NothingExpiresBeforeTheFirstCheckpointOrWhenDisabled) {
  DailyLog();
  // now = day 34 noon: cutoff commit 3, no checkpoint <= 3: nothing to delete.
  ASSERT_OK_AND_ASSIGN(CleanupResult r, CleanupExpiredLogs(engine_, *Load(), Noon(34)));
  EXPECT_EQ(r.cutoff_checkpoint, std::nullopt);
  EXPECT_EQ(r.files_deleted, 0);
  EXPECT_EQ(LogNames().size(), 13u + 2 + 1);

  Commit(13, {Json(MetadataJson({{"delta.enableExpiredLogCleanup", "false"}}))}, Noon(13));
  ASSERT_OK_AND_ASSIGN(r, CleanupExpiredLogs(engine_, *Load(), Noon(100)));
  EXPECT_EQ(r.files_deleted, 0);
}

TEST_F(CleanupTest, ANewerLookingCommitProtectsTheVersionsAfterIt) {
  DailyLog();
  // Clock skew: commit 3's file looks as new as day 40. Times are made monotonic in version
  // order, so 3..12 all count as day 40 or later and the cutoff commit is 2: no checkpoint
  // <= 2, nothing deleted, although commits 4..9 look old.
  ASSERT_OK(table_.store().SetMtime(LogKey(3), Noon(40)));
  ASSERT_OK_AND_ASSIGN(CleanupResult r, CleanupExpiredLogs(engine_, *Load(), Noon(45)));
  EXPECT_EQ(r.files_deleted, 0);
  EXPECT_EQ(r.cutoff_checkpoint, std::nullopt);
}

TEST_F(CleanupTest, RetentionPropertyAndCrcAndHiddenFilesGoWithTheirVersion) {
  DailyLog({{"delta.logRetentionDuration", "interval 2 days"}});
  ASSERT_OK(table_.store().Put("_delta_log/00000000000000000001.crc", std::string("{}")));
  ASSERT_OK(table_.store().Put("_delta_log/.00000000000000000001.json.crc", std::string("x")));
  ASSERT_OK(table_.store().Put("_delta_log/00000000000000000002.00000000000000000004.compacted.json",
                               std::string("")));
  ASSERT_OK(table_.store().Put("_delta_log/_sidecars/keep.parquet", std::string("x")));
  // now = day 12 noon, 2 days: cutoff = day 10 midnight -> cutoff commit 9 -> checkpoint 5.
  ASSERT_OK_AND_ASSIGN(CleanupResult r, CleanupExpiredLogs(engine_, *Load(), Noon(12)));
  EXPECT_EQ(r.cutoff_checkpoint, 5);
  EXPECT_EQ(r.files_deleted, 5 + 3);
  std::vector<std::string> names = LogNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), "_sidecars/keep.parquet"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "00000000000000000001.crc"), 0);
}

TEST_F(CleanupTest, FailedDeleteStopsCleanupWithRetainedVersionsIntact) {
  for (int64_t n = 1; n <= 12; ++n) {
    testing::TestTable t;
    FakeCheckpointWriter writer(t.reader());
    SimpleEngine engine(t.store(), t.reader(), &writer);
    t.Commit(0, {testing::ProtocolLine(1, 2), Json(MetadataJson({})), Add("f0")}, Noon(0));
    for (int v = 1; v <= 12; ++v) t.Commit(v, {Add(StrCat("f", v))}, Noon(v));
    ASSERT_OK(WriteCheckpoint(engine, *LoadSnapshot(engine, 10).value(), {.now_ms = Noon(10)}).status());
    storage::FaultyStore faulty(t.store(), n, storage::FaultyStore::Mode::kCrash);
    SimpleEngine faulty_engine(faulty, t.reader(), &writer);
    Result<CleanupResult> r = CleanupExpiredLogs(faulty_engine, *LoadSnapshot(engine).value(), Noon(42));
    EXPECT_EQ(r.ok(), !faulty.triggered()) << "call " << n;
    for (Version v = 10; v <= 12; ++v) {
      ASSERT_OK_AND_ASSIGN(SnapshotPtr snap, LoadSnapshot(engine, v));
      EXPECT_EQ(snap->files().size(), static_cast<size_t>(v + 1)) << "call " << n;
    }
  }
}

}  // namespace
}  // namespace lake::delta
