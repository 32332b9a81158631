// Fault injection on the read path (STYLE.md §9; issue #2 §6): every storage failure while a
// snapshot, a refresh, the history or a deletion vector is read gives a clean error, never a
// wrong answer.
//
// Method (after leveldb db/fault_injection_test.cc and sqlite test/alterfault.test):
//  (1) Run the operation once through a FaultyStore that never fires: this counts the store
//      calls C and gives the reference answer. The reference is itself compared with the
//      conformance manifest (an independent replay of the same log), so a loader that is
//      wrong with and without faults alike is caught too.
//  (2) For every N in 1..C and every mode (fail once, crash before the call, crash after it),
//      run it again with the fault at call N. It must either fail with kIOError whose message
//      names the table, or succeed with exactly the reference answer. A success with another
//      answer is the bug this file exists to find; so is kInternal, kCorruption (the bytes
//      are fine) or kNotFound (the table is there) caused by a failed read.
//  (3) Damaged copies of tables (truncated commit, missing commit, garbage _last_checkpoint,
//      truncated checkpoint, flipped DV byte) give kCorruption / kNotFound naming the file;
//      where the protocol makes the damaged file a mere hint (_last_checkpoint) they give the
//      right answer.
// Parquet checkpoints are read twice over: through the local store, where DuckDB opens the
// file itself (the production path), and through a store hiding LocalPath(), where the
// reader fetches the bytes through the faulty store, so a failed checkpoint read is tried too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strings.h"
#include "delta/deletion_vector.h"
#include "delta/engine.h"
#include "delta/log_segment.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "engine/delta_engine.h"
#include "storage/faulty_store.h"
#include "storage/local_store.h"
#include "storage/memory_store.h"

namespace lake {
namespace {

namespace fs = std::filesystem;
using delta::Engine;
using delta::SnapshotPtr;
using delta::Version;
using nlohmann::json;
using storage::FaultyStore;
using ::testing::HasSubstr;

constexpr FaultyStore::Mode kModes[] = {FaultyStore::Mode::kFailOnce, FaultyStore::Mode::kCrash,
                                        FaultyStore::Mode::kCrashAfter};

const char* ModeName(FaultyStore::Mode mode) {
  switch (mode) {
    case FaultyStore::Mode::kFailOnce:
      return "fail-once";
    case FaultyStore::Mode::kCrash:
      return "crash";
    case FaultyStore::Mode::kCrashAfter:
      return "crash-after";
  }
  return "?";
}

std::string ConformanceDir() { return LAKE_CONFORMANCE_DIR; }

const json& Manifest() {
  static const json manifest = [] {
    std::ifstream in(ConformanceDir() + "/manifest.json");
    if (!in) return json();
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  }();
  return manifest;
}

const json& ManifestTable(const std::string& rel) {
  static const json none;
  const json& manifest = Manifest();
  if (!manifest.is_object()) return none;
  for (const json& t : manifest["tables"]) {
    if (t["path"] == rel) return t;
  }
  return none;
}

const json* ManifestVersion(const std::string& rel, Version version) {
  const json& table = ManifestTable(rel);
  if (!table.is_object()) return nullptr;
  for (const json& v : table["expect"]["versions"]) {
    if (v["version"] == version) return &v;
  }
  return nullptr;
}

std::string BaseName(const std::string& rel) { return fs::path(rel).filename().string(); }

// A store that forwards to another but hides LocalPath(), as a remote store would: DuckDB's
// checkpoint reader must then fetch the bytes through the store (and its injected faults).
class NoLocalPathStore final : public storage::ObjectStore {
 public:
  explicit NoLocalPathStore(storage::ObjectStore& inner) : inner_(inner) {}
  Result<std::string> Get(std::string_view key) override { return inner_.Get(key); }
  Result<std::string> GetRange(std::string_view key, int64_t offset, int64_t length) override {
    return inner_.GetRange(key, offset, length);
  }
  Status Put(std::string_view key, std::span<const std::byte> data) override {
    return inner_.Put(key, data);
  }
  Status PutIfAbsent(std::string_view key, std::span<const std::byte> data) override {
    return inner_.PutIfAbsent(key, data);
  }
  Result<std::vector<storage::ObjectInfo>> ListAfter(std::string_view prefix,
                                                     std::string_view start) override {
    return inner_.ListAfter(prefix, start);
  }
  Status Delete(std::string_view key) override { return inner_.Delete(key); }
  Result<storage::ObjectInfo> Head(std::string_view key) override { return inner_.Head(key); }
  std::string uri() const override { return inner_.uri(); }

 private:
  storage::ObjectStore& inner_;
};

// One DuckDB for the whole binary: opening one per test would dominate the run time.
delta::CheckpointReader& DuckReader() {
  static engine::Database* db = [] {
    engine::DatabaseOptions options;
    options.threads = 1;  // the machine is shared; checkpoints here are tiny
    Result<std::unique_ptr<engine::Database>> opened = engine::Database::Open(options);
    if (!opened.ok()) {
      ADD_FAILURE() << "cannot open DuckDB: " << opened.status();
      return static_cast<engine::Database*>(nullptr);
    }
    return opened->release();  // lives until exit, like the reader below
  }();
  static std::unique_ptr<delta::CheckpointReader> reader =
      db ? engine::MakeCheckpointReader(*db)
         : std::unique_ptr<delta::CheckpointReader>(
               std::make_unique<delta::NoParquetCheckpointReader>());
  return *reader;
}

// ---------------------------------------------------------------------------------------------
// The answer of an operation, as text: equal text = equal answer, and a mismatch prints as a
// readable diff.

template <typename Map>
std::string JoinMap(const Map& map) {
  std::vector<std::string> entries;
  for (const auto& [k, v] : map) entries.push_back(StrCat(k, "=", v));
  std::sort(entries.begin(), entries.end());
  return StrJoin(entries, ",");
}

std::string JoinPartitionValues(const delta::PartitionValues& values) {
  std::vector<std::string> entries;
  for (const auto& [k, v] : values) entries.push_back(StrCat(k, "=", v ? *v : "<null>"));
  return StrJoin(entries, ",");
}

std::string DescribeDv(const std::optional<delta::DeletionVectorDescriptor>& dv) {
  if (!dv) return "";
  return StrCat(" dv=", dv->UniqueId(), " size=", dv->size_in_bytes,
                " cardinality=", dv->cardinality);
}

// Everything a reader of the snapshot could observe.
std::string Describe(const delta::Snapshot& snap) {
  std::vector<std::string> lines;
  lines.push_back(StrCat("version ", snap.version()));
  const delta::Protocol& p = snap.protocol();
  lines.push_back(StrCat("protocol ", p.min_reader_version, "/", p.min_writer_version, " reader[",
                         p.reader_features ? StrJoin(*p.reader_features, ",") : "-", "] writer[",
                         p.writer_features ? StrJoin(*p.writer_features, ",") : "-", "]"));
  const delta::Metadata& m = snap.metadata();
  lines.push_back(StrCat("metadata id=", m.id, " partitions=", StrJoin(m.partition_columns, ","),
                         " config=", JoinMap(m.configuration)));
  lines.push_back(StrCat("schema ", m.schema_string));
  lines.push_back(StrCat("schema_status ", snap.schema_status().ok() ? "ok" : "error"));
  lines.push_back(StrCat("column_mapping ", snap.column_mapping_mode()));
  lines.push_back(StrCat("timestamp_ms ", snap.timestamp_ms()));
  lines.push_back(StrCat("commit_info ", snap.commit_info() ? snap.commit_info()->raw_json : "-"));
  std::vector<std::string> files;
  for (const delta::AddFile& f : snap.files()) {
    files.push_back(StrCat("add ", snap.ResolvePath(f.path), " size=", f.size,
                           " parts=", JoinPartitionValues(f.partition_values), " stats=",
                           f.stats ? std::to_string(std::hash<std::string>{}(*f.stats)) : "-",
                           DescribeDv(f.deletion_vector)));
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> tombstones;
  for (const delta::RemoveFile& r : snap.tombstones()) {
    tombstones.push_back(
        StrCat("remove ", snap.ResolvePath(r.path), DescribeDv(r.deletion_vector)));
  }
  std::sort(tombstones.begin(), tombstones.end());
  std::vector<std::string> txns;
  for (const auto& [app, txn] : snap.txns()) txns.push_back(StrCat("txn ", app, "=", txn.version));
  std::sort(txns.begin(), txns.end());
  std::vector<std::string> domains;
  for (const auto& [d, dm] : snap.domains())
    domains.push_back(StrCat("domain ", d, "=", dm.configuration));
  std::sort(domains.begin(), domains.end());
  for (auto* part : {&files, &tombstones, &txns, &domains}) {
    lines.insert(lines.end(), part->begin(), part->end());
  }
  return StrJoin(lines, "\n");
}

std::string JoinRows(const std::vector<uint64_t>& rows) {
  std::string out;
  for (uint64_t row : rows) out += StrCat(out.empty() ? "" : ",", row);
  return out;
}

std::string DescribeHistory(const std::vector<delta::HistoryEntry>& history) {
  std::vector<std::string> lines;
  for (const delta::HistoryEntry& h : history) {
    lines.push_back(StrCat("version ", h.version, " ts=", h.timestamp_ms,
                           " op=", h.commit_info.operation.value_or("-"),
                           " info=", h.commit_info.raw_json));
  }
  return StrJoin(lines, "\n");
}

// The first line where two descriptions differ, for a short failure message.
std::string FirstDifference(const std::string& got, const std::string& want) {
  std::vector<std::string> a = StrSplit(got, '\n'), b = StrSplit(want, '\n');
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    std::string x = i < a.size() ? a[i] : "<end>", y = i < b.size() ? b[i] : "<end>";
    if (x != y)
      return StrCat("line ", i, ": got '", x.substr(0, 200), "' want '", y.substr(0, 200), "'");
  }
  return "equal";
}

// Checks a snapshot against the manifest's expectations for its version (an independent
// replay): the file set, counts and partition columns.
void ExpectMatchesManifest(const delta::Snapshot& snap, const std::string& rel, Version version) {
  SCOPED_TRACE(StrCat(rel, " version ", version, " vs manifest.json"));
  EXPECT_EQ(snap.version(), version);
  const json* v = ManifestVersion(rel, version);
  ASSERT_NE(v, nullptr) << "manifest.json lists no version " << version << " of " << rel;
  int checks = 0;
  if (v->contains("num_files")) {
    EXPECT_EQ(static_cast<int64_t>(snap.files().size()), (*v)["num_files"].get<int64_t>());
    ++checks;
  }
  if (v->contains("num_tombstones")) {
    EXPECT_EQ(static_cast<int64_t>(snap.tombstones().size()),
              (*v)["num_tombstones"].get<int64_t>());
    ++checks;
  }
  if (v->contains("active_files")) {
    std::vector<std::string> expected = (*v)["active_files"].get<std::vector<std::string>>();
    std::vector<std::string> actual;
    // The manifest names a file with a DV as "<path> [dv:<unique id>]".
    for (const delta::AddFile& f : snap.files()) {
      std::string name = snap.ResolvePath(f.path);
      if (f.deletion_vector) name += " [dv:" + f.deletion_vector->UniqueId() + "]";
      actual.push_back(name);
    }
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    EXPECT_EQ(actual, expected);
    ++checks;
  }
  if (v->contains("size_bytes")) {
    EXPECT_EQ(snap.size_bytes(), (*v)["size_bytes"].get<int64_t>());
    ++checks;
  }
  if (v->contains("partition_columns")) {
    EXPECT_EQ(snap.metadata().partition_columns,
              (*v)["partition_columns"].get<std::vector<std::string>>());
  }
  EXPECT_GT(checks, 0) << "nothing to compare in the manifest";
}

// ---------------------------------------------------------------------------------------------
// The fault loop.

using Operation = std::function<Result<std::string>(Engine&)>;

// Runs `op` through `inner` cleanly (must give `reference`), then once per (mode, N) with a
// fault at store call N, and checks the outcome as design note (2) says. `must_name` is what
// every error message must contain (the table's or file's name).
void ExpectEveryFaultFailsCleanlyOrGivesReference(
    const std::string& label, storage::ObjectStore& inner, delta::CheckpointReader& reader,
    const std::string& must_name, const std::string& reference, const Operation& op) {
  SCOPED_TRACE(label);
  FaultyStore counting(inner, /*trigger_call=*/0, FaultyStore::Mode::kFailOnce);
  delta::SimpleEngine clean_engine(counting, reader);
  Result<std::string> clean = op(clean_engine);
  ASSERT_TRUE(clean.ok()) << "the clean run failed: " << clean.status();
  ASSERT_EQ(*clean, reference) << "the clean run differs from the reference: "
                               << FirstDifference(*clean, reference);
  const int64_t calls = counting.calls();
  ASSERT_GT(calls, 0) << "the operation made no store call";

  std::vector<std::string> problems;
  int failures = 0;
  int successes = 0;
  for (FaultyStore::Mode mode : kModes) {
    for (int64_t n = 1; n <= calls; ++n) {
      const std::string where = StrCat(ModeName(mode), " at call ", n, " of ", calls);
      FaultyStore faulty(inner, n, mode);
      delta::SimpleEngine engine(faulty, reader);
      Result<std::string> got = op(engine);
      if (got.ok()) {
        ++successes;
        if (*got != reference) {
          problems.push_back(StrCat(where, ": WRONG ANSWER, ", FirstDifference(*got, reference)));
        }
        continue;
      }
      ++failures;
      const Status& s = got.status();
      if (!faulty.triggered()) {
        problems.push_back(StrCat(where, ": failed although no fault fired: ", s.ToString()));
      }
      if (s.code() != StatusCode::kIOError) {
        problems.push_back(StrCat(where, ": an injected I/O error came back as ",
                                  StatusCodeName(s.code()), ": ", s.ToString()));
      }
      if (s.message().empty() || s.message().find(must_name) == std::string::npos) {
        problems.push_back(
            StrCat(where, ": the message does not name '", must_name, "': ", s.ToString()));
      }
    }
  }
  std::cout << "[ fault ] " << label << ": " << calls << " calls x " << std::size(kModes)
            << " modes: " << failures << " clean errors, " << successes << " right answers, "
            << problems.size() << " problems\n";
  // Every call of these read paths is needed for the answer, so failing the first one (a
  // listing or the _last_checkpoint read) must fail the operation.
  EXPECT_GT(failures, 0);
  if (problems.size() > 12) problems.resize(12);
  EXPECT_TRUE(problems.empty()) << StrJoin(problems, "\n");
}

// ---------------------------------------------------------------------------------------------
// Tables.

struct TableCase {
  std::string rel;  // under LAKE_CONFORMANCE_DIR
  Version older;    // a version to time travel to and refresh from
  bool parquet;     // has Parquet checkpoints or sidecars: needs DuckDB's reader
};

enum class Access { kLocalPath, kThroughStore };

struct FaultCase {
  TableCase table;
  Access access;
};

const std::vector<TableCase>& Tables() {
  static const std::vector<TableCase> tables = {
      // JSON-only logs.
      {"delta-rs/simple_table", 2, false},
      {"dat/multi_partitioned", 1, false},
      {"delta-spark-golden/time-travel-partition-changes-b", 0, false},
      {"delta-spark-golden/time-travel-schema-changes-b", 0, false},
      {"delta-rs/table-with-dv-small", 0, false},
      {"delta-kernel-java/basic-dv-no-checkpoint", 0, false},
      {"delta-rs/cdc_ict_table", 2, false},
      // Parquet checkpoints: classic (older = the checkpoint itself), multi-part, a
      // _last_checkpoint that does not parse, V2 with Parquet sidecars (classic-named and
      // UUID-named JSON), and DVs behind a checkpoint.
      {"delta-spark-golden/basic-with-inserts-deletes-checkpoint", 10, true},
      {"delta-spark-golden/multi-part-checkpoint", 0, true},
      {"delta-spark-golden/corrupted-last-checkpoint-kernel", 7, true},
      {"delta-spark-golden/v2-checkpoint-parquet", 1, true},
      {"delta-rs/checkpoint-v2-table", 7, true},
      {"delta-spark-golden/dv-partitioned-with-checkpoint", 8, true},
  };
  return tables;
}

std::vector<FaultCase> FaultCases() {
  std::vector<FaultCase> cases;
  for (const TableCase& t : Tables()) {
    cases.push_back({t, Access::kLocalPath});
    if (t.parquet) cases.push_back({t, Access::kThroughStore});
  }
  return cases;
}

// One case per table, for operations where LocalPath() makes no difference.
std::vector<FaultCase> LocalCases() {
  std::vector<FaultCase> cases;
  for (const TableCase& t : Tables()) cases.push_back({t, Access::kLocalPath});
  return cases;
}

// Tables whose latest snapshot has deletion vectors stored in files.
std::vector<FaultCase> DvCases() {
  std::vector<FaultCase> cases;
  for (const TableCase& t : Tables()) {
    if (t.rel.find("dv") != std::string::npos) cases.push_back({t, Access::kLocalPath});
  }
  return cases;
}

void PrintTo(const FaultCase& c, std::ostream* os) {
  *os << c.table.rel << (c.access == Access::kLocalPath ? " (local)" : " (through the store)");
}

std::string FaultCaseName(const ::testing::TestParamInfo<FaultCase>& info) {
  std::string name;
  for (char c : info.param.table.rel) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name + (info.param.access == Access::kLocalPath ? "_local" : "_through_store");
}

class SnapshotFaultTest : public ::testing::TestWithParam<FaultCase> {
 protected:
  void SetUp() override {
    const FaultCase& c = GetParam();
    ASSERT_TRUE(ManifestTable(c.table.rel).is_object())
        << c.table.rel << " is not in " << ConformanceDir() << "/manifest.json";
    Result<std::unique_ptr<storage::LocalStore>> opened =
        storage::LocalStore::Open(ConformanceDir() + "/" + c.table.rel);
    ASSERT_TRUE(opened.ok()) << opened.status();
    local_ = std::move(*opened);
    hidden_ = std::make_unique<NoLocalPathStore>(*local_);
    reader_ = c.table.parquet ? &DuckReader() : &no_parquet_;
  }

  const TableCase& table() const { return GetParam().table; }
  std::string name() const { return BaseName(table().rel); }
  storage::ObjectStore& inner() {
    return GetParam().access == Access::kLocalPath ? static_cast<storage::ObjectStore&>(*local_)
                                                   : *hidden_;
  }
  // Loads cleanly (no FaultyStore) and checks the result against the manifest.
  SnapshotPtr CleanSnapshot(std::optional<Version> version) {
    delta::SimpleEngine engine(inner(), *reader_);
    Result<SnapshotPtr> snap = delta::LoadSnapshot(engine, version);
    EXPECT_TRUE(snap.ok()) << snap.status();
    if (!snap.ok()) return nullptr;
    ExpectMatchesManifest(
        **snap, table().rel,
        version.value_or(ManifestTable(table().rel)["latest_version"].get<Version>()));
    return *snap;
  }

  std::unique_ptr<storage::LocalStore> local_;
  std::unique_ptr<NoLocalPathStore> hidden_;
  delta::NoParquetCheckpointReader no_parquet_;
  delta::CheckpointReader* reader_ = nullptr;
};

// Operations where LocalPath() makes no difference: one run per table.
class LocalFaultTest : public SnapshotFaultTest {};
// Deletion vectors (read with GetRange, never through LocalPath()).
class DeletionVectorFaultTest : public SnapshotFaultTest {};

TEST_P(SnapshotFaultTest, LatestSnapshotFailsCleanlyOrIsExact) {
  SnapshotPtr reference = CleanSnapshot(std::nullopt);
  ASSERT_NE(reference, nullptr);
  ExpectEveryFaultFailsCleanlyOrGivesReference(
      "LoadSnapshot latest", inner(), *reader_, name(), Describe(*reference),
      [](Engine& engine) -> Result<std::string> {
        LAKE_ASSIGN_OR_RETURN(SnapshotPtr snap, delta::LoadSnapshot(engine));
        return Describe(*snap);
      });
}

TEST_P(SnapshotFaultTest, OlderVersionFailsCleanlyOrIsExact) {
  const Version older = table().older;
  SnapshotPtr reference = CleanSnapshot(older);
  ASSERT_NE(reference, nullptr);
  ExpectEveryFaultFailsCleanlyOrGivesReference(
      StrCat("LoadSnapshot version ", older), inner(), *reader_, name(), Describe(*reference),
      [older](Engine& engine) -> Result<std::string> {
        LAKE_ASSIGN_OR_RETURN(SnapshotPtr snap, delta::LoadSnapshot(engine, older));
        return Describe(*snap);
      });
}

TEST_P(SnapshotFaultTest, RefreshFromOlderVersionFailsCleanlyOrIsExact) {
  const Version older = table().older;
  SnapshotPtr base = CleanSnapshot(older);
  SnapshotPtr latest = CleanSnapshot(std::nullopt);
  ASSERT_NE(base, nullptr);
  ASSERT_NE(latest, nullptr);
  // The refreshed snapshot must be indistinguishable from a full load of the latest version.
  ExpectEveryFaultFailsCleanlyOrGivesReference(
      StrCat("RefreshSnapshot from ", older), inner(), *reader_, name(), Describe(*latest),
      [base](Engine& engine) -> Result<std::string> {
        LAKE_ASSIGN_OR_RETURN(SnapshotPtr snap, delta::RefreshSnapshot(engine, base));
        return Describe(*snap);
      });
}

TEST_P(SnapshotFaultTest, HistoryFailsCleanlyOrIsExact) {
  delta::SimpleEngine engine(inner(), *reader_);
  Result<std::vector<delta::HistoryEntry>> history = delta::LoadHistory(engine);
  ASSERT_TRUE(history.ok()) << history.status();
  const json& commits = ManifestTable(table().rel)["log"]["commits"];
  ASSERT_EQ(static_cast<int64_t>(history->size()), commits["count"].get<int64_t>());
  EXPECT_EQ(history->front().version, commits["last"].get<Version>());
  EXPECT_EQ(history->back().version, commits["first"].get<Version>());
  ExpectEveryFaultFailsCleanlyOrGivesReference(
      "LoadHistory", inner(), *reader_, name(), DescribeHistory(*history),
      [](Engine& engine) -> Result<std::string> {
        LAKE_ASSIGN_OR_RETURN(std::vector<delta::HistoryEntry> h, delta::LoadHistory(engine));
        return DescribeHistory(h);
      });
}

// Time travel by timestamp, on an in-memory copy of the log whose commit N was written at
// kEpoch + N minutes: the expected version is then known without lake (in-commit timestamps,
// when the table has them, come from the manifest instead).
TEST_P(LocalFaultTest, TimestampTravelFailsCleanlyOrIsExact) {
  constexpr int64_t kEpoch = 1'600'000'000'000;
  constexpr int64_t kMinute = 60'000;
  storage::MemoryStore mem(name());
  Result<std::vector<storage::ObjectInfo>> keys = local_->ListAfter("_delta_log/", "");
  ASSERT_TRUE(keys.ok()) << keys.status();
  for (const storage::ObjectInfo& info : *keys) {
    Result<std::string> data = local_->Get(info.key);
    ASSERT_TRUE(data.ok()) << data.status();
    ASSERT_TRUE(mem.Put(info.key, *data).ok());
    // "_delta_log/<20 digits>..." carries its version; others keep a time before any commit.
    std::string file = info.key.substr(std::string_view("_delta_log/").size());
    std::optional<int64_t> version =
        file.size() >= 20 ? ParseInt64(file.substr(0, 20)) : std::nullopt;
    ASSERT_TRUE(mem.SetMtime(info.key, kEpoch + (version ? *version : -1) * kMinute).ok());
  }
  const Version older = table().older;
  const json* v = ManifestVersion(table().rel, older);
  ASSERT_NE(v, nullptr);
  const int64_t ts = v->contains("in_commit_timestamp") ? (*v)["in_commit_timestamp"].get<int64_t>()
                                                        : kEpoch + older * kMinute + kMinute / 2;
  delta::SimpleEngine clean(mem, *reader_);
  Result<SnapshotPtr> reference = delta::LoadSnapshotAtTimestamp(clean, ts);
  ASSERT_TRUE(reference.ok()) << reference.status();
  ExpectMatchesManifest(**reference, table().rel, older);
  ExpectEveryFaultFailsCleanlyOrGivesReference(
      StrCat("LoadSnapshotAtTimestamp ", ts), mem, *reader_, name(), Describe(**reference),
      [ts](Engine& engine) -> Result<std::string> {
        LAKE_ASSIGN_OR_RETURN(SnapshotPtr snap, delta::LoadSnapshotAtTimestamp(engine, ts));
        return Describe(*snap);
      });
}

// Deletion vectors read through a faulty store: the same rows or a clean error.
TEST_P(DeletionVectorFaultTest, DeletionVectorsFailCleanlyOrAreExact) {
  SnapshotPtr snap = CleanSnapshot(std::nullopt);
  ASSERT_NE(snap, nullptr);
  int files_with_dv = 0;
  for (const delta::AddFile& f : snap->files()) {
    if (!f.deletion_vector) continue;
    ++files_with_dv;
    const delta::DeletionVectorDescriptor dv = *f.deletion_vector;
    Result<std::shared_ptr<const delta::DeletionVector>> clean =
        delta::LoadDeletionVector(inner(), dv);
    ASSERT_TRUE(clean.ok()) << clean.status();
    // The descriptor's cardinality is written by the table's writer, not computed by lake.
    ASSERT_EQ(static_cast<int64_t>((*clean)->cardinality()), dv.cardinality);
    // Inline DVs need no I/O; absolute-path ('p') ones are read through a store of their
    // own, not the table's: only 'u' reads go through the faulty store.
    if (dv.storage_type != 'u') continue;
    const std::string rows = JoinRows((*clean)->rows());
    Result<std::string> key = delta::DeletionVectorRelativePath(dv);
    ASSERT_TRUE(key.ok()) << key.status();
    const std::string must_name = *key;  // errors name the DV file
    ExpectEveryFaultFailsCleanlyOrGivesReference(
        StrCat("LoadDeletionVector ", dv.UniqueId()), inner(), *reader_, must_name, rows,
        [dv](Engine& engine) -> Result<std::string> {
          LAKE_ASSIGN_OR_RETURN(std::shared_ptr<const delta::DeletionVector> loaded,
                                delta::LoadDeletionVector(engine.store(), dv));
          return JoinRows(loaded->rows());
        });
  }
  EXPECT_GT(files_with_dv, 0) << "no deletion vectors in this table";
}

INSTANTIATE_TEST_SUITE_P(Corpus, SnapshotFaultTest, ::testing::ValuesIn(FaultCases()),
                         FaultCaseName);
INSTANTIATE_TEST_SUITE_P(Corpus, LocalFaultTest, ::testing::ValuesIn(LocalCases()), FaultCaseName);
INSTANTIATE_TEST_SUITE_P(Corpus, DeletionVectorFaultTest, ::testing::ValuesIn(DvCases()),
                         FaultCaseName);

// ---------------------------------------------------------------------------------------------
// The whole corpus, latest version, checkpoint bytes read through the faulty store. A table
// lake refuses (the manifest's "error" outcome, or a feature lake lacks) keeps its refusal as
// its answer: a fault may turn it into kIOError, never into a snapshot or another refusal.

std::vector<std::string> CorpusTables() {
  std::vector<std::string> paths;
  const json& manifest = Manifest();
  if (!manifest.is_object()) return {"<manifest.json missing>"};
  for (const json& t : manifest["tables"]) paths.push_back(t["path"].get<std::string>());
  return paths;
}

class CorpusFaultTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusFaultTest, LatestSnapshotFailsCleanlyOrIsExact) {
  const std::string rel = GetParam();
  const json& table = ManifestTable(rel);
  ASSERT_TRUE(table.is_object()) << rel << " is not in " << ConformanceDir() << "/manifest.json";
  Result<std::unique_ptr<storage::LocalStore>> local =
      storage::LocalStore::Open(ConformanceDir() + "/" + rel);
  ASSERT_TRUE(local.ok()) << local.status();
  NoLocalPathStore hidden(**local);
  delta::SimpleEngine clean(hidden, DuckReader());
  Result<SnapshotPtr> reference = delta::LoadSnapshot(clean);
  std::optional<StatusCode> refusal;
  std::string answer;
  if (reference.ok()) {
    if (table.contains("latest_version") &&
        ManifestVersion(rel, table["latest_version"].get<Version>()) != nullptr) {
      ExpectMatchesManifest(**reference, rel, table["latest_version"].get<Version>());
    }
    answer = Describe(**reference);
  } else {
    // The refusal must not be an I/O error (nothing was injected) nor a lake bug.
    ASSERT_NE(reference.status().code(), StatusCode::kIOError) << reference.status();
    ASSERT_NE(reference.status().code(), StatusCode::kInternal) << reference.status();
    std::cout << "[ fault ] " << rel << " is refused: " << reference.status() << "\n";
    refusal = reference.status().code();
    answer = StrCat("refused: ", reference.status().ToString());
  }
  ExpectEveryFaultFailsCleanlyOrGivesReference(
      "LoadSnapshot latest", hidden, DuckReader(), BaseName(rel), answer,
      [refusal](Engine& engine) -> Result<std::string> {
        Result<SnapshotPtr> snap = delta::LoadSnapshot(engine);
        if (snap.ok()) return Describe(**snap);
        if (refusal && snap.status().code() == *refusal) {
          return StrCat("refused: ", snap.status().ToString());
        }
        return snap.status();
      });
}

std::string CorpusTableName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusFaultTest, ::testing::ValuesIn(CorpusTables()),
                         CorpusTableName);

// ---------------------------------------------------------------------------------------------
// Damaged copies of tables (design note 3).

// A writable copy of a conformance table in a fresh temp folder, removed on destruction.
class TableCopy {
 public:
  explicit TableCopy(const std::string& rel) : rel_(rel) {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           StrCat("lake-fault-", getpid(), "-", counter++, "-", BaseName(rel));
    fs::copy(ConformanceDir() + "/" + rel, dir_, fs::copy_options::recursive);
    // The corpus is read-only; the copy must not be.
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir_)) {
      fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
    }
    fs::permissions(dir_, fs::perms::owner_write, fs::perm_options::add);
  }
  ~TableCopy() {
    std::error_code ec;
    fs::remove_all(dir_, ec);  // best effort: a temp folder
  }
  TableCopy(const TableCopy&) = delete;
  TableCopy& operator=(const TableCopy&) = delete;

  fs::path path(const std::string& key) const { return dir_ / key; }
  std::string Read(const std::string& key) const {
    std::ifstream in(path(key), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  void Write(const std::string& key, const std::string& data) const {
    std::ofstream out(path(key), std::ios::binary | std::ios::trunc);
    out << data;
  }
  void Truncate(const std::string& key, size_t size) const { fs::resize_file(path(key), size); }
  void Remove(const std::string& key) const { fs::remove(path(key)); }

  // Loads through the copy (optionally hiding LocalPath so the checkpoint bytes go through
  // the store).
  Result<SnapshotPtr> Load(std::optional<Version> version, Access access = Access::kLocalPath) {
    LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::LocalStore> store,
                          storage::LocalStore::Open(dir_.string()));
    NoLocalPathStore hidden(*store);
    storage::ObjectStore& inner =
        access == Access::kLocalPath ? static_cast<storage::ObjectStore&>(*store) : hidden;
    delta::SimpleEngine engine(inner, DuckReader());
    return delta::LoadSnapshot(engine, version);
  }
  Result<std::unique_ptr<storage::LocalStore>> Store() const {
    return storage::LocalStore::Open(dir_.string());
  }
  const std::string& rel() const { return rel_; }

 private:
  std::string rel_;
  fs::path dir_;
};

std::string CommitKey(Version v) { return delta::CommitKey(v); }

// Prints the error a damaged table gave, so a reader of the test log can judge its wording.
void Show(const Status& s) { std::cout << "[ fault ] " << s.ToString() << "\n"; }

// Asserts that `loaded` is the manifest's answer for `version`.
void ExpectRightAnswer(const Result<SnapshotPtr>& loaded, const std::string& rel, Version version) {
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectMatchesManifest(**loaded, rel, version);
}

TEST(SnapshotCorruption, TruncatedCommitIsCorruptionNamingTheFile) {
  TableCopy copy("delta-rs/simple_table");
  const std::string key = CommitKey(2);
  const std::string text = copy.Read(key);
  const size_t first_line = text.find('\n');
  ASSERT_NE(first_line, std::string::npos);
  copy.Truncate(key, first_line / 2);  // mid-line: an incomplete JSON object, no newline
  Result<SnapshotPtr> latest = copy.Load(std::nullopt);
  ASSERT_FALSE(latest.ok()) << "a truncated commit 2 was read as version " << (*latest)->version();
  Show(latest.status());
  EXPECT_EQ(latest.status().code(), StatusCode::kCorruption) << latest.status();
  EXPECT_THAT(latest.status().message(), HasSubstr("00000000000000000002.json"));
  // Versions before the damage are intact.
  ExpectRightAnswer(copy.Load(1), copy.rel(), 1);
}

TEST(SnapshotCorruption, TruncatedLastLineOfCommitIsCorruption) {
  // The last line of a commit cut short, with the newline kept before it: a writer that
  // crashed mid-write on a store without atomic puts.
  TableCopy copy("dat/multi_partitioned");
  const std::string key = CommitKey(2);
  std::string text = copy.Read(key);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const size_t last_nl = text.rfind('\n');
  ASSERT_NE(last_nl, std::string::npos);
  copy.Write(key, text.substr(0, last_nl + 1 + (text.size() - last_nl - 1) / 2));
  Result<SnapshotPtr> latest = copy.Load(std::nullopt);
  ASSERT_FALSE(latest.ok()) << "a truncated commit 2 was read as version " << (*latest)->version();
  Show(latest.status());
  EXPECT_EQ(latest.status().code(), StatusCode::kCorruption) << latest.status();
  EXPECT_THAT(latest.status().message(), HasSubstr("00000000000000000002.json"));
  ExpectRightAnswer(copy.Load(1), copy.rel(), 1);
}

TEST(SnapshotCorruption, MissingMiddleCommitIsCorruptionNamingIt) {
  TableCopy copy("delta-rs/simple_table");
  copy.Remove(CommitKey(2));
  for (std::optional<Version> v :
       {std::optional<Version>(), std::optional<Version>(2), std::optional<Version>(3)}) {
    SCOPED_TRACE(v ? StrCat("version ", *v) : std::string("latest"));
    Result<SnapshotPtr> loaded = copy.Load(v);
    ASSERT_FALSE(loaded.ok()) << "read as version " << (*loaded)->version()
                              << " although commit 2 is missing";
    Show(loaded.status());
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << loaded.status();
    EXPECT_THAT(loaded.status().message(), HasSubstr("00000000000000000002.json"));
    EXPECT_THAT(loaded.status().message(), HasSubstr("simple_table"));
  }
  ExpectRightAnswer(copy.Load(1), copy.rel(), 1);
}

TEST(SnapshotCorruption, MissingCommitCoveredByCheckpointIsHarmlessButNotBeforeIt) {
  // Commit 5 is replaced by checkpoint 10 for versions >= 10, but versions 5..9 need it.
  TableCopy copy("delta-spark-golden/basic-with-inserts-deletes-checkpoint");
  copy.Remove(CommitKey(5));
  ExpectRightAnswer(copy.Load(std::nullopt), copy.rel(), 13);
  ExpectRightAnswer(copy.Load(10), copy.rel(), 10);
  ExpectRightAnswer(copy.Load(4), copy.rel(), 4);
  Result<SnapshotPtr> v7 = copy.Load(7);
  ASSERT_FALSE(v7.ok()) << "version 7 read without commit 5";
  Show(v7.status());
  EXPECT_EQ(v7.status().code(), StatusCode::kCorruption) << v7.status();
  EXPECT_THAT(v7.status().message(), HasSubstr("00000000000000000005.json"));
}

TEST(SnapshotCorruption, MissingCommitAfterCheckpointIsCorruption) {
  TableCopy copy("delta-spark-golden/basic-with-inserts-deletes-checkpoint");
  copy.Remove(CommitKey(12));
  Result<SnapshotPtr> latest = copy.Load(std::nullopt);
  ASSERT_FALSE(latest.ok()) << "read as version " << (*latest)->version();
  Show(latest.status());
  EXPECT_EQ(latest.status().code(), StatusCode::kCorruption) << latest.status();
  EXPECT_THAT(latest.status().message(), HasSubstr("00000000000000000012.json"));
  ExpectRightAnswer(copy.Load(11), copy.rel(), 11);
}

TEST(SnapshotCorruption, BadLastCheckpointIsOnlyAHint) {
  // PROTOCOL.md "Last Checkpoint File": a hint. Whatever it says, the answer comes from the
  // files that are there.
  const std::vector<std::string> bad_hints = {
      "garbage{",
      "",
      R"({"version":"ten"})",
      R"({"version":-3,"size":1})",
      R"({"version":99,"size":1})",            // beyond the log
      R"({"version":5,"size":1})",             // no checkpoint there
      R"({"version":10,"size":1,"parts":4})",  // wrong part count
      std::string("\x00\xff\x01", 3),
  };
  for (const std::string& hint : bad_hints) {
    SCOPED_TRACE(StrCat("_last_checkpoint = '", hint, "'"));
    TableCopy copy("delta-spark-golden/basic-with-inserts-deletes-checkpoint");
    copy.Write("_delta_log/_last_checkpoint", hint);
    ExpectRightAnswer(copy.Load(std::nullopt), copy.rel(), 13);
    ExpectRightAnswer(copy.Load(3), copy.rel(), 3);
    ExpectRightAnswer(copy.Load(11), copy.rel(), 11);
  }
}

// A checkpoint cut in half: kCorruption naming it (the commits could rebuild the state, and
// a reader that does so gives the right answer, which is accepted too; never another one).
void ExpectTruncatedCheckpointFailsOrIsRight(const std::string& rel, const std::string& key,
                                             Version latest, Access access) {
  TableCopy copy(rel);
  const uintmax_t size = fs::file_size(copy.path(key));
  copy.Truncate(key, static_cast<size_t>(size / 2));
  Result<SnapshotPtr> loaded = copy.Load(std::nullopt, access);
  if (loaded.ok()) {
    std::cout << "[ fault ] " << key << " truncated: read from the commits instead\n";
    ExpectMatchesManifest(**loaded, rel, latest);
    return;
  }
  Show(loaded.status());
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << loaded.status();
  EXPECT_THAT(loaded.status().message(), HasSubstr(fs::path(key).filename().string()));
}

TEST(SnapshotCorruption, TruncatedClassicCheckpointIsCorruptionNamingIt) {
  for (Access access : {Access::kLocalPath, Access::kThroughStore}) {
    SCOPED_TRACE(access == Access::kLocalPath ? "local path" : "through the store");
    ExpectTruncatedCheckpointFailsOrIsRight(
        "delta-spark-golden/basic-with-inserts-deletes-checkpoint",
        "_delta_log/00000000000000000010.checkpoint.parquet", 13, access);
  }
}

TEST(SnapshotCorruption, TruncatedMultiPartCheckpointPartIsCorruptionNamingIt) {
  for (Access access : {Access::kLocalPath, Access::kThroughStore}) {
    SCOPED_TRACE(access == Access::kLocalPath ? "local path" : "through the store");
    ExpectTruncatedCheckpointFailsOrIsRight(
        "delta-spark-golden/multi-part-checkpoint",
        "_delta_log/00000000000000000001.checkpoint.0000000002.0000000002.parquet", 1, access);
  }
}

TEST(SnapshotCorruption, TruncatedV2SidecarIsCorruptionNamingIt) {
  for (Access access : {Access::kLocalPath, Access::kThroughStore}) {
    SCOPED_TRACE(access == Access::kLocalPath ? "local path" : "through the store");
    ExpectTruncatedCheckpointFailsOrIsRight(
        "delta-spark-golden/v2-checkpoint-parquet",
        "_delta_log/_sidecars/"
        "00000000000000000002.checkpoint.0000000001.0000000002.055454d8-329c-4e0e-864d-"
        "7f867075af33.parquet",
        2, access);
  }
}

TEST(SnapshotCorruption, MissingMultiPartCheckpointPartFallsBackToCommits) {
  // PROTOCOL.md "Checkpoints": a multi-part checkpoint counts only when complete. Commits 0
  // and 1 are both present, so version 1 is still readable from them.
  TableCopy copy("delta-spark-golden/multi-part-checkpoint");
  copy.Remove("_delta_log/00000000000000000001.checkpoint.0000000002.0000000002.parquet");
  ExpectRightAnswer(copy.Load(std::nullopt), copy.rel(), 1);
}

// The first 'u' deletion vector of the latest snapshot of `copy`.
std::optional<delta::DeletionVectorDescriptor> FirstFileDv(TableCopy& copy) {
  Result<SnapshotPtr> snap = copy.Load(std::nullopt);
  EXPECT_TRUE(snap.ok()) << snap.status();
  if (!snap.ok()) return std::nullopt;
  for (const delta::AddFile& f : (*snap)->files()) {
    if (f.deletion_vector && f.deletion_vector->storage_type == 'u') return f.deletion_vector;
  }
  return std::nullopt;
}

// Damages the DV file of the first DV in delta-rs/table-with-dv-small with `damage` and
// returns the load's status.
Status LoadDamagedDv(const std::function<void(TableCopy&, const std::string& key,
                                              const delta::DeletionVectorDescriptor&)>& damage,
                     std::string* key_out) {
  TableCopy copy("delta-rs/table-with-dv-small");
  std::optional<delta::DeletionVectorDescriptor> dv = FirstFileDv(copy);
  if (!dv) return Status::Internal("test setup: no 'u' deletion vector");
  Result<std::string> key = delta::DeletionVectorRelativePath(*dv);
  if (!key.ok()) return key.status();
  *key_out = *key;
  Result<std::unique_ptr<storage::LocalStore>> store = copy.Store();
  if (!store.ok()) return store.status();
  // Undamaged first: the DV loads, with the writer's cardinality.
  Result<std::shared_ptr<const delta::DeletionVector>> good =
      delta::LoadDeletionVector(**store, *dv);
  if (!good.ok()) return Status::Internal(StrCat("test setup: ", good.status().ToString()));
  if (static_cast<int64_t>((*good)->cardinality()) != dv->cardinality) {
    return Status::Internal("test setup: cardinality differs from the descriptor");
  }
  damage(copy, *key, *dv);
  Result<std::shared_ptr<const delta::DeletionVector>> bad =
      delta::LoadDeletionVector(**store, *dv);
  if (bad.ok()) {
    return Status::Internal(StrCat("a damaged DV loaded, rows ", JoinRows((*bad)->rows())));
  }
  Show(bad.status());
  return bad.status();
}

TEST(DeletionVectorCorruption, FlippedBitmapByteIsCorruptionNamingTheFile) {
  std::string key;
  Status s = LoadDamagedDv(
      [](TableCopy& copy, const std::string& key, const delta::DeletionVectorDescriptor& dv) {
        std::string bytes = copy.Read(key);
        // Layout at `offset`: u32 size, the bitmap, u32 CRC-32. Flip a byte mid-bitmap.
        const size_t at = static_cast<size_t>(*dv.offset) + 4 + dv.size_in_bytes / 2;
        ASSERT_LT(at, bytes.size());
        bytes[at] = static_cast<char>(bytes[at] ^ 0x5a);
        copy.Write(key, bytes);
      },
      &key);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s;
  EXPECT_THAT(s.message(), HasSubstr(key)) << s;
}

TEST(DeletionVectorCorruption, FlippedChecksumByteIsCorruption) {
  std::string key;
  Status s = LoadDamagedDv(
      [](TableCopy& copy, const std::string& key, const delta::DeletionVectorDescriptor& dv) {
        std::string bytes = copy.Read(key);
        const size_t at = static_cast<size_t>(*dv.offset) + 4 + dv.size_in_bytes + 3;
        ASSERT_LT(at, bytes.size());
        bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
        copy.Write(key, bytes);
      },
      &key);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s;
  EXPECT_THAT(s.message(), HasSubstr(key)) << s;
}

TEST(DeletionVectorCorruption, TruncatedFileIsCorruption) {
  std::string key;
  Status s = LoadDamagedDv(
      [](TableCopy& copy, const std::string& key, const delta::DeletionVectorDescriptor& dv) {
        copy.Truncate(key, static_cast<size_t>(*dv.offset) + 4 + dv.size_in_bytes / 2);
      },
      &key);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s;
  EXPECT_THAT(s.message(), HasSubstr(key)) << s;
}

TEST(DeletionVectorCorruption, MissingFileIsNotFoundNamingIt) {
  std::string key;
  Status s = LoadDamagedDv([](TableCopy& copy, const std::string& key,
                              const delta::DeletionVectorDescriptor&) { copy.Remove(key); },
                           &key);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s;
  EXPECT_THAT(s.message(), HasSubstr(key)) << s;
}

}  // namespace
}  // namespace lake
