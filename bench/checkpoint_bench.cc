// checkpoint_bench: writing a Delta checkpoint of a 1,000,000-file table vs the same checkpoint
// written in plain DuckDB SQL (issue #3 §6).
//
// Data (generated here, log only): C commits holding A adds (A/C per commit, JSON stats over
// id/value/ts, partitioned by `part` over 100 values); every 10th commit also removes 10 files
// added 5 commits earlier, so the checkpoint carries tombstones. Default C=1,000, A=1,000,000;
// --small: C=100, A=100,000. Tombstones are kept (the checkpoint's clock is the last commit's).
//
// Both sides write the same Parquet checkpoint: txn, add (Spark's field order, stats JSON,
// partitionValues_parsed, stats_parsed typed by the schema), remove, metaData, protocol,
// domainMetadata. Before timing, the two files are compared row for row (every add and
// remove as JSON, EXCEPT ALL both ways); each timed run answers with a fingerprint of the file
// it wrote (row counts, sums of sizes and numRecords), which must be equal across sides.
//
// Workloads:
//   checkpoint_from_log   lake LoadSnapshot + WriteCheckpoint vs SQL: read_json over all
//                         commits, latest action per path, json_transform, COPY. <= 0.5x
//   checkpoint_write      lake WriteCheckpoint of an already loaded snapshot (what a writer
//                         does after its commit) vs COPY of a DuckDB table already holding
//                         the final rows: the Parquet-encoding floor.          <= 1.0x
//   checkpoint_peak_rss   max RSS of a child process that opens the engine, loads the
//                         snapshot from the JSON log and writes the checkpoint. <= 1 GiB
//                         (the note gives the RSS after loading: the writer's own share is
//                         the difference)
// scripts/bench.sh runs it with the other bench/*_bench.cc; `--generate <dir> <commits> <adds>`
// only writes the log (for profiling the --rss-child mode by hand).
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.h"
#include "delta/checkpoint.h"
#include "delta/snapshot.h"
#include "delta_gen.h"
#include "engine/database.h"
#include "engine/delta_engine.h"
#include "storage/local_store.h"

namespace lake::bench {
namespace {

namespace fs = std::filesystem;

// The checkpoint columns, as Spark writes them (delta/engine.h CheckpointWriter).
constexpr char kDv[] =
    "STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, sizeInBytes INTEGER, "
    "cardinality BIGINT, maxRowIndex BIGINT)";
std::string AddType() {
  return std::string(
             "STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, "
             "modificationTime BIGINT, dataChange BOOLEAN, tags MAP(VARCHAR, VARCHAR), "
             "deletionVector ") +
         kDv +
         ", baseRowId BIGINT, defaultRowCommitVersion BIGINT, clusteringProvider VARCHAR, stats "
         "VARCHAR)";
}
std::string RemoveType() {
  return std::string(
             "STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, "
             "extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, "
             "deletionVector ") +
         kDv + ", baseRowId BIGINT, defaultRowCommitVersion BIGINT)";
}
constexpr char kStatsStructure[] =
    R"({"numRecords":"BIGINT","minValues":{"id":"BIGINT","value":"DOUBLE","ts":"TIMESTAMPTZ"},)"
    R"("maxValues":{"id":"BIGINT","value":"DOUBLE","ts":"TIMESTAMPTZ"},)"
    R"("nullCount":{"id":"BIGINT","value":"BIGINT","ts":"BIGINT"}})";

// The final checkpoint rows, computed from the JSON commits in SQL.
std::string CheckpointRowsSql(const fs::path& table) {
  const std::string files = "'" + (table / "_delta_log").string() + "/*.json'";
  const std::string log =
      "SELECT CAST(regexp_extract(filename, '([0-9]+)\\.json$', 1) AS BIGINT) AS version, add, "
      "remove FROM read_json(" + files + ", format = 'newline_delimited', filename = true, "
      "columns = {'add': '" + AddType() + "', 'remove': '" + RemoveType() + "'})";
  return "WITH log AS (" + log +
         "), acts AS (SELECT version, add.path AS path, add AS a, NULL AS r FROM log WHERE add IS "
         "NOT NULL UNION ALL SELECT version, remove.path, NULL, remove FROM log WHERE remove IS NOT "
         "NULL), latest AS (SELECT arg_max({'a': a, 'r': r}, version) AS l FROM acts GROUP BY path) "
         "SELECT NULL::STRUCT(appId VARCHAR, \"version\" BIGINT, lastUpdated BIGINT) AS txn, "
         "CASE WHEN l.a IS NULL THEN NULL ELSE struct_insert(l.a, partitionValues_parsed := "
         "struct_pack(part := TRY_CAST(map_extract_value(l.a.partitionValues, 'part') AS VARCHAR)), "
         "stats_parsed := try(json_transform(l.a.stats, '" + std::string(kStatsStructure) +
         "'))) END AS add, l.r AS remove, "
         "NULL::STRUCT(id VARCHAR, \"name\" VARCHAR, description VARCHAR, format STRUCT(provider "
         "VARCHAR, \"options\" MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns "
         "VARCHAR[], \"configuration\" MAP(VARCHAR, VARCHAR), createdTime BIGINT) AS metaData, "
         "NULL::STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures "
         "VARCHAR[], writerFeatures VARCHAR[]) AS protocol, NULL::STRUCT(\"domain\" VARCHAR, "
         "\"configuration\" VARCHAR, removed BOOLEAN) AS domainMetadata FROM latest "
         "UNION ALL SELECT NULL, NULL, NULL, NULL, {'minReaderVersion': 1, 'minWriterVersion': 2, "
         "'readerFeatures': NULL, 'writerFeatures': NULL}, NULL "
         "UNION ALL SELECT NULL, NULL, NULL, {'id': '6c7a7b3e-7c1e-4a55-9b1d-3f1f6d5e2a10', "
         "'name': NULL, 'description': NULL, 'format': {'provider': 'parquet', 'options': MAP {}}, "
         "'schemaString': '" + std::string(kGenSchema) + "', 'partitionColumns': ['part'], "
         "'configuration': MAP {}, 'createdTime': " + std::to_string(kGenT0) + "}, NULL, NULL";
}

std::string CopySql(const std::string& select, const std::string& out) {
  // The row group size lake's writer uses (engine/checkpoint_writer.cc), so both files have
  // the same layout.
  return "COPY (" + select + ") TO '" + out +
         "' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 16384)";
}

// A cheap fingerprint of a checkpoint file, computed the same way for both sides (and timed
// with them). Rows are counted by a required field of each action (add.path, ...): count(add)
// would read every field of add, the stats JSON included, which took ~0.5 s of CPU per run on
// 1M adds and drowned the writers' difference in a read both sides share.
Result<std::string> Fingerprint(engine::Session& s, const std::string& file) {
  return QueryText(s, "SELECT count(*), count(add.path), count(remove.path), count(metaData.id), "
                      "count(protocol.minReaderVersion), sum(add.size), sum(remove.size), "
                      "sum(add.stats_parsed.numRecords), sum(add.stats_parsed.maxValues.id) "
                      "FROM read_parquet('" + file + "')");
}

std::string CheckpointName(int64_t version) {
  char name[64];
  std::snprintf(name, sizeof name, "%020lld.checkpoint.parquet", static_cast<long long>(version));
  return name;
}

// Loads the table and writes its checkpoint with lake; returns the checkpoint file's path.
Result<std::string> LakeCheckpoint(engine::Database& db, const fs::path& table, int64_t now_ms,
                                   const delta::Snapshot* loaded) {
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::LocalStore> store,
                        storage::LocalStore::Open(table.string()));
  std::unique_ptr<delta::Engine> engine = engine::MakeDeltaEngine(db, std::move(store));
  delta::SnapshotPtr snap;
  if (!loaded) {
    LAKE_ASSIGN_OR_RETURN(snap, delta::LoadSnapshot(*engine));
    loaded = snap.get();
  }
  LAKE_ASSIGN_OR_RETURN(delta::LastCheckpointHint hint,
                        delta::WriteCheckpoint(*engine, *loaded, {.now_ms = now_ms}));
  return (table / "_delta_log" / CheckpointName(hint.version)).string();
}

// Removes what a lake checkpoint left in the table, so the next load replays JSON again.
void RemoveCheckpoint(const fs::path& table, int64_t version) {
  std::error_code ec;
  fs::remove(table / "_delta_log" / CheckpointName(version), ec);
  fs::remove(table / "_delta_log" / "_last_checkpoint", ec);
}

// Child mode: load, then checkpoint, once; prints the max RSS "<before> <loaded> <written>".
int RssChild(const std::string& table, int64_t now_ms) {
  auto db = CheckResult(engine::Database::Open(), "open database");
  const int64_t before = MaxRssBytes();
  auto store = CheckResult(storage::LocalStore::Open(table), "open store");
  std::unique_ptr<delta::Engine> engine = engine::MakeDeltaEngine(*db, std::move(store));
  delta::SnapshotPtr snap = CheckResult(delta::LoadSnapshot(*engine), "load snapshot");
  const int64_t loaded = MaxRssBytes();
  CheckResult(LakeCheckpoint(*db, table, now_ms, snap.get()), "checkpoint");
  std::printf("%lld %lld %lld\n", static_cast<long long>(before), static_cast<long long>(loaded),
              static_cast<long long>(MaxRssBytes()));
  return 0;
}

int Main(int argc, char** argv) {
  if (argc == 4 && std::string_view(argv[1]) == "--rss-child") {
    return RssChild(argv[2], std::stoll(argv[3]));
  }
  if (argc == 5 && std::string_view(argv[1]) == "--generate") {  // <dir> <commits> <adds>
    WriteGeneratedLog(argv[2], std::stoll(argv[3]), std::stoll(argv[4]) / std::stoll(argv[3]));
    return 0;
  }
  Options options = ParseArgs(argc, argv);
  const int64_t commits = options.small ? 100 : 1'000;
  const int64_t adds = options.small ? 100'000 : 1'000'000;
  const int64_t version = commits - 1;
  const int64_t now_ms = kGenT0 + version * 1000;  // every tombstone is unexpired

  TempDir tmp(options);
  const fs::path table = fs::path(tmp.path()) / "table";
  const fs::path sql_out = fs::path(tmp.path()) / "sql.checkpoint.parquet";
  auto db = CheckResult(engine::Database::Open(), "open database");
  auto session = CheckResult(db->Connect(), "connect");
  engine::Session& s = *session;

  std::fprintf(stderr, "generating %lld commits / %lld adds in %s ...\n",
               static_cast<long long>(commits), static_cast<long long>(adds), tmp.path().c_str());
  const double gen_start = WallMs();
  WriteGeneratedLog(table, commits, adds / commits);
  std::fprintf(stderr, "generated in %.1f s\n", (WallMs() - gen_start) / 1e3);

  // Row-for-row check of the two writers, once, before any timing.
  {
    const std::string lake_file = CheckResult(LakeCheckpoint(*db, table, now_ms, nullptr), "lake");
    Check(s.Query(CopySql(CheckpointRowsSql(table), sql_out.string())).status(), "sql checkpoint");
    const std::string a = "read_parquet('" + lake_file + "')";
    const std::string b = "read_parquet('" + sql_out.string() + "')";
    const std::string rows =
        "SELECT to_json(add) AS a, to_json(remove) AS r, to_json(protocol) AS p, "
        "to_json(metaData) AS m FROM ";
    std::string diff = CheckResult(
        QueryText(s, "SELECT (SELECT count(*) FROM (" + rows + a + " EXCEPT ALL " + rows + b +
                         ")), (SELECT count(*) FROM (" + rows + b + " EXCEPT ALL " + rows + a +
                         ")), (SELECT count(*) FROM " + a + ")"),
        "compare checkpoints");
    std::fprintf(stderr, "row check (lake-only, sql-only, rows): %s", diff.c_str());
    if (diff.rfind("0|0|", 0) != 0) {
      std::fprintf(stderr, "lake's checkpoint and the SQL one differ\n");
      return 1;
    }
    const std::string schema_a =
        CheckResult(QueryText(s, "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM "
                                 "(DESCRIBE SELECT * FROM " + a + ")"), "schema");
    const std::string schema_b =
        CheckResult(QueryText(s, "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM "
                                 "(DESCRIBE SELECT * FROM " + b + ")"), "schema");
    if (schema_a != schema_b) {
      std::fprintf(stderr, "schemas differ:\n lake: %s sql:  %s", schema_a.c_str(), schema_b.c_str());
      return 1;
    }
    RemoveCheckpoint(table, version);
  }

  Runner runner(options);
  const std::string note = std::to_string(commits) + " commits, " + std::to_string(adds) + " adds";
  runner.Pair(
      "checkpoint_from_log", 0.5,
      [&]() -> Result<std::string> {
        LAKE_RETURN_IF_ERROR(s.Query(CopySql(CheckpointRowsSql(table), sql_out.string())).status());
        return Fingerprint(s, sql_out.string());
      },
      [&]() -> Result<std::string> {
        LAKE_ASSIGN_OR_RETURN(std::string file, LakeCheckpoint(*db, table, now_ms, nullptr));
        Result<std::string> answer = Fingerprint(s, file);
        RemoveCheckpoint(table, version);
        return answer;
      },
      note);

  {
    // The final rows in a DuckDB table, and the snapshot in memory: only writing is timed.
    Check(s.Query("CREATE TABLE ckpt_rows AS " + CheckpointRowsSql(table)).status(), "rows table");
    auto store = CheckResult(storage::LocalStore::Open(table.string()), "open store");
    std::unique_ptr<delta::Engine> engine = engine::MakeDeltaEngine(*db, std::move(store));
    delta::SnapshotPtr snap = CheckResult(delta::LoadSnapshot(*engine), "load snapshot");
    runner.Pair(
        "checkpoint_write", 1.0,
        [&]() -> Result<std::string> {
          LAKE_RETURN_IF_ERROR(s.Query(CopySql("SELECT * FROM ckpt_rows", sql_out.string())).status());
          return Fingerprint(s, sql_out.string());
        },
        [&]() -> Result<std::string> {
          LAKE_ASSIGN_OR_RETURN(std::string file, LakeCheckpoint(*db, table, now_ms, snap.get()));
          return Fingerprint(s, file);
        },
        note + "; snapshot loaded, rows materialised");
    RemoveCheckpoint(table, version);
    Check(s.Query("DROP TABLE ckpt_rows").status(), "drop rows table");
  }

  // Peak memory in a fresh process.
  {
    const std::string cmd = "'" + fs::read_symlink("/proc/self/exe").string() + "' --rss-child '" +
                            table.string() + "' " + std::to_string(now_ms);
    FILE* p = popen(cmd.c_str(), "r");
    long long before = 0, loaded = 0, after = 0;
    const int got = p ? std::fscanf(p, "%lld %lld %lld", &before, &loaded, &after) : 0;
    const int rc = p ? pclose(p) : -1;
    if (got != 3 || rc != 0) {
      runner.Fail("checkpoint_peak_rss", "child failed (rc " + std::to_string(rc) + ")");
    } else {
      runner.Absolute("checkpoint_peak_rss", {}, {}, static_cast<double>(after) / (1 << 20), "MiB",
                      1024, "load from JSON + checkpoint; " + std::to_string(before >> 20) +
                                " MiB before loading, " + std::to_string(loaded >> 20) +
                                " MiB after loading");
    }
    RemoveCheckpoint(table, version);
  }
  return runner.Finish("checkpoint_bench");
}

}  // namespace
}  // namespace lake::bench

int main(int argc, char** argv) { return lake::bench::Main(argc, argv); }
