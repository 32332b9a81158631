// The DuckDB CheckpointWriter end to end: checkpoints written by delta::WriteCheckpoint read
// back by our CheckpointReader (with the older commits deleted) and by plain read_parquet, with
// column types compared against a checkpoint Spark wrote (conformance corpus) and parsed
// stats against values worked out by hand from the commits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/strings.h"
#include "delta/checkpoint.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "engine/delta_engine.h"
#include "engine_test_util.h"
#include "status_matchers.h"
#include "storage/faulty_store.h"
#include "storage/local_store.h"
#include "storage/memory_store.h"

namespace lake::engine {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr int64_t kNow = 1'700'000'000'000;

std::string Schema() {
  return R"j({"type":"struct","fields":[)j"
         R"j({"name":"id","type":"long","nullable":true,"metadata":{}},)j"
         R"j({"name":"ts","type":"timestamp","nullable":true,"metadata":{}},)j"
         R"j({"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}},)j"
         R"j({"name":"p","type":"string","nullable":true,"metadata":{}}]})j";
}

std::string Line(const nlohmann::json& j) { return j.dump(); }
std::string Pad(int v) { return testing::Pad(v, 20); }

std::string MetadataLine(const std::map<std::string, std::string>& config) {
  return Line({{"metaData",
                {{"id", "tbl"},
                 {"format", {{"provider", "parquet"}, {"options", nlohmann::json::object()}}},
                 {"schemaString", Schema()},
                 {"partitionColumns", {"p"}},
                 {"configuration", config},
                 {"createdTime", 1000}}}});
}

const char kStats1[] =
    R"({"numRecords":2,"minValues":{"id":1,"ts":"2024-01-01T00:00:00.000Z","amount":1.50},)"
    R"("maxValues":{"id":5,"ts":"2024-01-02T00:00:00.000Z","amount":9.99},)"
    R"("nullCount":{"id":0,"ts":0,"amount":1}})";
const char kStats2[] = R"({"numRecords":3,"minValues":{"id":10},"maxValues":{"id":12},"nullCount":{"id":0},"tightBounds":false})";

nlohmann::json AddJson(const std::string& path, const nlohmann::json& p, const std::string& stats) {
  nlohmann::json add = {{"path", path}, {"partitionValues", {{"p", p}}}, {"size", 100},
                        {"modificationTime", 7}, {"dataChange", true}};
  if (!stats.empty()) add["stats"] = stats;
  return add;
}

// A canonical text of everything an add carries, to compare snapshots field by field.
std::string AddText(const delta::AddFile& a) {
  std::string pv;
  for (const auto& [k, v] : a.partition_values) pv += StrCat(k, "=", v.value_or("<null>"), ";");
  std::string tags;
  for (const auto& [k, v] : a.tags) tags += StrCat(k, "=", v, ";");
  return StrCat(a.path, "|", pv, "|", a.size, "|", a.modification_time, "|", a.data_change, "|",
                a.stats.value_or("<none>"), "|", tags, "|",
                a.deletion_vector ? StrCat(a.deletion_vector->UniqueId(), "#",
                                           a.deletion_vector->cardinality)
                                  : std::string("-"),
                "|", a.base_row_id.value_or(-1), "|", a.default_row_commit_version.value_or(-1));
}

std::set<std::string> AddTexts(const delta::Snapshot& s) {
  std::set<std::string> out;
  for (const delta::AddFile& a : s.files()) out.insert(AddText(a));
  return out;
}

class CheckpointWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, Database::Open());
    ASSERT_OK_AND_ASSIGN(session_, db_->Connect());
    dir_ = fs::temp_directory_path() / StrCat("lake-ckpt-test-", ::getpid(), "-", counter_++);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<delta::Engine> LocalEngine() {
    auto store = storage::LocalStore::Open(dir_.string());
    EXPECT_TRUE(store.ok());
    return MakeDeltaEngine(*db_, std::move(*store));
  }
  void Commit(delta::Engine& engine, int64_t version, const std::vector<std::string>& lines) {
    ASSERT_OK(engine.store().PutIfAbsent(delta::CommitKey(version), StrJoin(lines, "\n") + "\n"));
  }
  // v0 protocol (deletion vectors, domain metadata) + metadata; v1 three adds; v2 replaces f2
  // by f2 with a DV, a txn and a domain; v3 removes f1 (1 day ago: kept as a tombstone).
  void WriteLog(delta::Engine& engine, const std::map<std::string, std::string>& config = {}) {
    Commit(engine, 0,
           {R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors","domainMetadata"]}})",
            MetadataLine(config)});
    nlohmann::json f2 = AddJson("p=b/f2.parquet", "b", kStats2);
    f2["tags"] = {{"k", "v"}};
    Commit(engine, 1,
           {Line({{"add", AddJson("p=a/f1.parquet", "a", kStats1)}}), Line({{"add", f2}}),
            Line({{"add", AddJson("p=__HIVE_DEFAULT_PARTITION__/f3.parquet", nullptr, "")}})});
    nlohmann::json f2dv = f2;
    f2dv["deletionVector"] = {{"storageType", "u"}, {"pathOrInlineDv", "ab^-aqEH.-t@S}K{vb[*k^"},
                              {"offset", 4}, {"sizeInBytes", 40}, {"cardinality", 2}};
    f2dv["dataChange"] = false;
    Commit(engine, 2,
           {Line({{"remove", {{"path", "p=b/f2.parquet"}, {"deletionTimestamp", kNow - 1000},
                              {"dataChange", false}}}}),
            Line({{"add", f2dv}}),
            Line({{"txn", {{"appId", "app"}, {"version", 3}, {"lastUpdated", kNow}}}}),
            Line({{"domainMetadata", {{"domain", "d"}, {"configuration", "{}"}, {"removed", false}}}})});
    Commit(engine, 3,
           {Line({{"remove", {{"path", "p=a/f1.parquet"}, {"deletionTimestamp", kNow - kDayMs},
                              {"dataChange", true}, {"partitionValues", {{"p", "a"}}}, {"size", 100}}}})});
  }
  // Returns column name -> DuckDB type of a Parquet file, as read_parquet sees it.
  std::map<std::string, std::string> ColumnTypes(const std::string& file) {
    std::map<std::string, std::string> types;
    Result<ResultTable> r = session_->Query(StrCat(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(",
        SqlQuote(file), "))"));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return types;
    for (const auto& row : r->rows) {
      types[std::get<std::string>(row[0].v)] = std::get<std::string>(row[1].v);
    }
    return types;
  }
  std::string QueryText(const std::string& sql) {
    Result<ResultTable> r = session_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->rows.empty()) return "";
    std::string out;
    for (const auto& row : r->rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        out += i ? "|" : "";
        const Value& v = row[i];
        if (v.is_null()) {
          out += "NULL";
        } else if (auto* s = std::get_if<std::string>(&v.v)) {
          out += *s;
        } else if (auto* n = std::get_if<int64_t>(&v.v)) {
          out += std::to_string(*n);
        } else if (auto* b = std::get_if<bool>(&v.v)) {
          out += *b ? "true" : "false";
        } else {
          out += "?";
        }
      }
      out += "\n";
    }
    return out;
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<Session> session_;
  fs::path dir_;
  static inline int counter_ = 0;
};

TEST_F(CheckpointWriterTest, ReloadFromCheckpointAloneEqualsJsonReplay) {
  auto engine = LocalEngine();
  WriteLog(*engine);
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr replayed, delta::LoadSnapshot(*engine));
  ASSERT_OK_AND_ASSIGN(delta::LastCheckpointHint hint,
                       delta::WriteCheckpoint(*engine, *replayed, {.now_ms = kNow}));
  // protocol, metaData, txn, domain, 3 adds (f1 removed at v3, f2 with DV, f3), 2 removes
  // (f2 without DV, f1): 1 + 1 + 1 + 1 + 2 + 2.
  EXPECT_EQ(hint.size, 8);
  EXPECT_EQ(hint.num_of_add_files, 2);
  const std::string file = (dir_ / "_delta_log/00000000000000000003.checkpoint.parquet").string();
  EXPECT_EQ(hint.size_in_bytes, static_cast<int64_t>(fs::file_size(file)));
  // No temp file left beside it.
  for (const auto& entry : fs::directory_iterator(dir_ / "_delta_log")) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }

  for (int v = 0; v <= 2; ++v) fs::remove(dir_ / "_delta_log" / StrCat(Pad(v), ".json"));
  auto fresh = LocalEngine();
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr loaded, delta::LoadSnapshot(*fresh));
  EXPECT_EQ(loaded->checkpoint_version(), 3);
  EXPECT_EQ(loaded->version(), 3);
  EXPECT_EQ(AddTexts(*loaded), AddTexts(*replayed));
  EXPECT_EQ(AddTexts(*loaded).size(), 2u);
  std::set<std::string> tombstones;
  for (const auto& r : loaded->tombstones()) {
    tombstones.insert(StrCat(r.path, "|", r.deletion_timestamp.value_or(-1), "|", r.data_change ? 1 : 0));
  }
  EXPECT_THAT(tombstones, ElementsAre(StrCat("p=a/f1.parquet|", kNow - kDayMs, "|1"),
                                      StrCat("p=b/f2.parquet|", kNow - 1000, "|0")));
  EXPECT_EQ(loaded->metadata().schema_string, replayed->metadata().schema_string);
  EXPECT_EQ(loaded->metadata().partition_columns, std::vector<std::string>{"p"});
  EXPECT_EQ(loaded->metadata().created_time, 1000);
  EXPECT_EQ(loaded->protocol().min_reader_version, 3);
  EXPECT_EQ(loaded->protocol().reader_features, replayed->protocol().reader_features);
  EXPECT_EQ(loaded->protocol().writer_features, replayed->protocol().writer_features);
  ASSERT_EQ(loaded->txns().count("app"), 1u);
  EXPECT_EQ(loaded->txns().at("app").version, 3);
  EXPECT_EQ(loaded->txns().at("app").last_updated, kNow);
  ASSERT_EQ(loaded->domains().count("d"), 1u);
  EXPECT_EQ(loaded->domains().at("d").configuration, "{}");
}

TEST_F(CheckpointWriterTest, FixedColumnsHaveTheTypesSparkWrites) {
  auto engine = LocalEngine();
  WriteLog(*engine, {{"delta.checkpoint.writeStatsAsStruct", "false"}});
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr snap, delta::LoadSnapshot(*engine));
  ASSERT_OK(delta::WriteCheckpoint(*engine, *snap, {.now_ms = kNow}).status());
  std::map<std::string, std::string> ours =
      ColumnTypes((dir_ / "_delta_log/00000000000000000003.checkpoint.parquet").string());
  // A checkpoint Spark 3.x wrote (struct stats off there too): same columns, same types.
  std::map<std::string, std::string> spark = ColumnTypes(testing::TablePath(
      "delta-spark-golden/spark-variant-checkpoint/_delta_log/00000000000000000002.checkpoint.parquet"));
  ASSERT_EQ(spark.size(), 6u);
  EXPECT_EQ(ours, spark);
}

TEST_F(CheckpointWriterTest, ParsedStatsAndPartitionValuesAreTypedByTheTableSchema) {
  auto engine = LocalEngine();
  WriteLog(*engine);
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr snap, delta::LoadSnapshot(*engine));
  ASSERT_OK(delta::WriteCheckpoint(*engine, *snap, {.now_ms = kNow}).status());
  const std::string file = (dir_ / "_delta_log/00000000000000000003.checkpoint.parquet").string();
  std::map<std::string, std::string> types = ColumnTypes(file);
  const std::string dv =
      "deletionVector STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, "
      "sizeInBytes INTEGER, cardinality BIGINT, maxRowIndex BIGINT)";
  const std::string minmax = "STRUCT(id BIGINT, ts TIMESTAMP WITH TIME ZONE, amount DECIMAL(10,2))";
  EXPECT_EQ(types["add"],
            StrCat("STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, "
                   "modificationTime BIGINT, dataChange BOOLEAN, tags MAP(VARCHAR, VARCHAR), ",
                   dv,
                   ", baseRowId BIGINT, defaultRowCommitVersion BIGINT, clusteringProvider "
                   "VARCHAR, stats VARCHAR, partitionValues_parsed STRUCT(p VARCHAR), "
                   "stats_parsed STRUCT(numRecords BIGINT, minValues ",
                   minmax, ", maxValues ", minmax,
                   ", nullCount STRUCT(id BIGINT, ts BIGINT, amount BIGINT), tightBounds BOOLEAN))"));
  // Values by hand from kStats1 / kStats2 (f1 is no longer live: only f2 and f3 are adds).
  EXPECT_EQ(QueryText(StrCat(
                "SELECT add.path, add.partitionValues_parsed.p, add.stats_parsed.numRecords, "
                "add.stats_parsed.minValues.id, add.stats_parsed.maxValues.id, "
                "add.stats_parsed.tightBounds, add.deletionVector.cardinality, add.tags['k'] "
                "FROM read_parquet(",
                SqlQuote(file), ") WHERE add IS NOT NULL ORDER BY add.path")),
            "p=__HIVE_DEFAULT_PARTITION__/f3.parquet|NULL|NULL|NULL|NULL|NULL|NULL|NULL\n"
            "p=b/f2.parquet|b|3|10|12|false|2|v\n");
  EXPECT_EQ(QueryText(StrCat("SELECT count(*), count(add), count(remove), count(metaData), "
                             "count(protocol), count(txn), count(domainMetadata) FROM read_parquet(",
                             SqlQuote(file), ")")),
            "8|2|2|1|1|1|1\n");
  EXPECT_EQ(types.count("checkpointMetadata"), 0u);

  // A live f1 shows the timestamp and decimal bounds: checkpoint version 2 as well.
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr v2, delta::LoadSnapshot(*engine, 2));
  ASSERT_OK(delta::WriteCheckpoint(*engine, *v2, {.now_ms = kNow}).status());
  const std::string file2 = (dir_ / "_delta_log/00000000000000000002.checkpoint.parquet").string();
  EXPECT_EQ(QueryText(StrCat("SELECT CAST(add.stats_parsed.minValues.ts AS VARCHAR), "
                             "CAST(add.stats_parsed.maxValues.amount AS VARCHAR), "
                             "add.stats_parsed.nullCount.amount FROM read_parquet(",
                             SqlQuote(file2), ") WHERE add.path = 'p=a/f1.parquet'")),
            "2024-01-01 00:00:00+00|9.99|1\n");
}

TEST_F(CheckpointWriterTest, StructOnlyStatsAreRenderedBackAsJsonByTheReader) {
  auto engine = LocalEngine();
  WriteLog(*engine, {{"delta.checkpoint.writeStatsAsJson", "false"}});
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr snap, delta::LoadSnapshot(*engine));
  ASSERT_OK(delta::WriteCheckpoint(*engine, *snap, {.now_ms = kNow}).status());
  const std::string file = (dir_ / "_delta_log/00000000000000000003.checkpoint.parquet").string();
  std::map<std::string, std::string> types = ColumnTypes(file);
  EXPECT_EQ(types["add"].find("stats VARCHAR"), std::string::npos) << types["add"];
  EXPECT_EQ(types.count("__stats"), 0u);
  for (int v = 0; v <= 2; ++v) fs::remove(dir_ / "_delta_log" / StrCat(Pad(v), ".json"));
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr loaded, delta::LoadSnapshot(*LocalEngine()));
  bool found = false;
  for (const delta::AddFile& a : loaded->files()) {
    if (a.path != "p=b/f2.parquet") continue;
    found = true;
    ASSERT_TRUE(a.stats.has_value());
    nlohmann::json stats = nlohmann::json::parse(*a.stats);
    EXPECT_EQ(stats["numRecords"], 3);
    EXPECT_EQ(stats["minValues"]["id"], 10);
    EXPECT_EQ(stats["maxValues"]["id"], 12);
  }
  EXPECT_TRUE(found);
}

TEST_F(CheckpointWriterTest, MalformedStatsGiveNullStatsParsedNotAFailure) {
  auto engine = LocalEngine();
  Commit(*engine, 0, {R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})", MetadataLine({})});
  Commit(*engine, 1, {Line({{"add", AddJson("p=a/bad.parquet", "a", "{not json")}}),
                      Line({{"add", AddJson("p=a/odd.parquet", "a", R"({"numRecords":"many","minValues":{"id":"x"}})")}})});
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr snap, delta::LoadSnapshot(*engine));
  ASSERT_OK(delta::WriteCheckpoint(*engine, *snap, {.now_ms = kNow}).status());
  const std::string file = (dir_ / "_delta_log/00000000000000000001.checkpoint.parquet").string();
  EXPECT_EQ(QueryText(StrCat("SELECT add.path, add.stats, add.stats_parsed IS NULL, "
                             "add.stats_parsed.numRecords FROM read_parquet(",
                             SqlQuote(file), ") WHERE add IS NOT NULL ORDER BY add.path")),
            "p=a/bad.parquet|{not json|true|NULL\n"
            "p=a/odd.parquet|{\"numRecords\":\"many\",\"minValues\":{\"id\":\"x\"}}|false|NULL\n");
}

// 40,000 adds: three row groups of 16,384 rows written by parallel workers, chunks of adds
// only where the optional fields are nulled per chunk. Rows must stay in action order, and one
// add's rare fields (in a chunk of otherwise plain adds) must survive.
TEST_F(CheckpointWriterTest, ManyAddsKeepTheirOrderAndRareFieldsAcrossRowGroups) {
  auto engine = LocalEngine();
  Commit(*engine, 0,
         {R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}})",
          MetadataLine({})});
  constexpr int kAdds = 40'000;
  std::vector<std::string> lines;
  for (int i = 0; i < kAdds; ++i) {
    const bool no_stats = i >= 30'000 && i < 30'100;
    nlohmann::json add = AddJson(StrCat("p=a/f", i, ".parquet"), "a",
                                 no_stats ? "" : StrCat(R"({"numRecords":)", i, "}"));
    if (i == 20'000) {
      add["tags"] = {{"k", "v"}};
      add["deletionVector"] = {{"storageType", "u"}, {"pathOrInlineDv", "ab^-aqEH.-t@S}K{vb[*k^"},
                               {"offset", 4}, {"sizeInBytes", 40}, {"cardinality", 2}};
      add["baseRowId"] = 5;
      add["defaultRowCommitVersion"] = 1;
      add["clusteringProvider"] = "liquid";
    }
    lines.push_back(Line({{"add", add}}));
  }
  Commit(*engine, 1, lines);
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr snap, delta::LoadSnapshot(*engine));
  ASSERT_OK(delta::WriteCheckpoint(*engine, *snap, {.now_ms = kNow}).status());
  const std::string file =
      SqlQuote((dir_ / "_delta_log/00000000000000000001.checkpoint.parquet").string());

  // Row r of the file is the add of file r - 2, after protocol and metaData.
  EXPECT_EQ(QueryText(StrCat("SELECT count(*) FILTER (WHERE add.path <> 'p=a/f' || "
                             "(file_row_number - 2) || '.parquet'), count(add), "
                             "min(file_row_number) FILTER (WHERE protocol IS NOT NULL), "
                             "min(file_row_number) FILTER (WHERE metaData IS NOT NULL) "
                             "FROM read_parquet(", file, ", file_row_number = true)")),
            "0|40000|0|1\n");
  EXPECT_EQ(QueryText(StrCat("SELECT count(*) FROM parquet_metadata(", file,
                             ") WHERE column_id = 0")),
            "3\n");  // ceil(40,002 / 16,384) row groups
  // Only f20000 has the rare fields; the 100 adds without stats have neither form of them.
  EXPECT_EQ(QueryText(StrCat("SELECT count(add.tags), count(add.deletionVector), "
                             "count(add.baseRowId), count(add.defaultRowCommitVersion), "
                             "count(add.clusteringProvider), count(add.stats), "
                             "count(add.stats_parsed) FROM read_parquet(", file, ")")),
            "1|1|1|1|1|39900|39900\n");
  EXPECT_EQ(QueryText(StrCat("SELECT add.path, add.tags['k'], add.deletionVector.cardinality, "
                             "add.baseRowId, add.defaultRowCommitVersion, add.clusteringProvider "
                             "FROM read_parquet(", file, ") WHERE add.tags IS NOT NULL")),
            "p=a/f20000.parquet|v|2|5|1|liquid\n");
  // sum(0..39999) - sum(30000..30099) = 799,980,000 - 3,004,950.
  EXPECT_EQ(QueryText(StrCat("SELECT sum(add.stats_parsed.numRecords)::BIGINT FROM read_parquet(",
                             file, ")")),
            "796975050\n");

  // And the checkpoint alone replays to the same files as the JSON log.
  fs::remove(dir_ / "_delta_log" / StrCat(Pad(0), ".json"));
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr loaded, delta::LoadSnapshot(*LocalEngine()));
  EXPECT_EQ(loaded->checkpoint_version(), 1);
  EXPECT_EQ(AddTexts(*loaded), AddTexts(*snap));
}

TEST_F(CheckpointWriterTest, MultiPartCheckpointOnAMemoryStoreReadsBack) {
  storage::MemoryStore memory;
  std::unique_ptr<delta::CheckpointReader> reader = MakeCheckpointReader(*db_);
  std::unique_ptr<delta::CheckpointWriter> writer = MakeCheckpointWriter(*db_);
  delta::SimpleEngine engine(memory, *reader, writer.get());
  Commit(engine, 0, {R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})", MetadataLine({})});
  std::vector<std::string> adds;
  for (int i = 0; i < 50; ++i) {
    adds.push_back(Line({{"add", AddJson(StrCat("p=x/f", i, ".parquet"), "x", kStats2)}}));
  }
  Commit(engine, 1, adds);
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr replayed, delta::LoadSnapshot(engine));
  ASSERT_OK_AND_ASSIGN(delta::LastCheckpointHint hint,
                       delta::WriteCheckpoint(engine, *replayed,
                                              {.max_actions_per_part = 20, .now_ms = kNow}));
  EXPECT_EQ(hint.parts, 3);  // ceil(50 / 20)
  EXPECT_EQ(hint.size, 52);
  for (const std::string& key : delta::CheckpointKeys(1, 3)) {
    EXPECT_TRUE(memory.Head(key).ok()) << key;
  }
  ASSERT_OK(memory.Delete(delta::CommitKey(0)));
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr loaded, delta::LoadSnapshot(engine));
  EXPECT_EQ(loaded->checkpoint_version(), 1);
  EXPECT_EQ(AddTexts(*loaded), AddTexts(*replayed));
}

// For every storage call N of a checkpoint through the DuckDB writer: fail once, crash before
// or crash after the call; the table then loads at the same version with the same files, and
// from the checkpoint alone whenever the checkpoint is complete.
TEST_F(CheckpointWriterTest, FaultAtEveryStorageCallLeavesTheTableIntact) {
  std::unique_ptr<delta::CheckpointReader> reader = MakeCheckpointReader(*db_);
  std::unique_ptr<delta::CheckpointWriter> writer = MakeCheckpointWriter(*db_);
  for (auto mode : {storage::FaultyStore::Mode::kFailOnce, storage::FaultyStore::Mode::kCrash,
                    storage::FaultyStore::Mode::kCrashAfter}) {
    for (int64_t n = 1;; ++n) {
      storage::MemoryStore memory;
      delta::SimpleEngine clean(memory, *reader, writer.get());
      WriteLog(clean);
      ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr before, delta::LoadSnapshot(clean));
      storage::FaultyStore faulty(memory, n, mode);
      delta::SimpleEngine engine(faulty, *reader, writer.get());
      Result<delta::LastCheckpointHint> r =
          delta::WriteCheckpoint(engine, *before, {.max_actions_per_part = 2, .now_ms = kNow});
      EXPECT_EQ(r.ok(), !faulty.triggered()) << "call " << n << " " << r.status().ToString();
      ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr after, delta::LoadSnapshot(clean));
      EXPECT_EQ(after->version(), 3) << "call " << n;
      EXPECT_EQ(AddTexts(*after), AddTexts(*before)) << "call " << n;
      Result<delta::LogListing> listing = delta::ListLog(memory);
      ASSERT_TRUE(listing.ok());
      if (!listing->checkpoints.empty()) {
        for (int v = 0; v <= 2; ++v) ASSERT_OK(memory.Delete(delta::CommitKey(v)));
        ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr from_checkpoint, delta::LoadSnapshot(clean));
        EXPECT_EQ(from_checkpoint->checkpoint_version(), 3) << "call " << n;
        EXPECT_EQ(AddTexts(*from_checkpoint), AddTexts(*before)) << "call " << n;
      }
      if (!faulty.triggered()) break;
    }
  }
}

TEST_F(CheckpointWriterTest, V2CheckpointTableGetsCheckpointMetadataReadableByOurReader) {
  auto engine = LocalEngine();
  Commit(*engine, 0,
         {R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["v2Checkpoint"],"writerFeatures":["v2Checkpoint"]}})",
          MetadataLine({{"delta.checkpointPolicy", "v2"}})});
  Commit(*engine, 1, {Line({{"add", AddJson("p=a/f.parquet", "a", kStats2)}})});
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr snap, delta::LoadSnapshot(*engine));
  ASSERT_OK(delta::WriteCheckpoint(*engine, *snap, {.now_ms = kNow}).status());
  const std::string file = (dir_ / "_delta_log/00000000000000000001.checkpoint.parquet").string();
  EXPECT_EQ(ColumnTypes(file)["checkpointMetadata"],
            "STRUCT(\"version\" BIGINT, tags MAP(VARCHAR, VARCHAR))");
  fs::remove(dir_ / "_delta_log" / StrCat(Pad(0), ".json"));
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr loaded, delta::LoadSnapshot(*LocalEngine()));
  EXPECT_EQ(loaded->checkpoint_version(), 1);
  EXPECT_EQ(AddTexts(*loaded), AddTexts(*snap));
}

}  // namespace
}  // namespace lake::engine
