// snapshot_bench: loading a Delta snapshot (log replay) vs the same replay written in plain
// DuckDB SQL (issue #2 §7; PERFORMANCE-ANCHORS.md B3).
//
// Data (generated here, log only: the data files are never opened):
//   json/_delta_log: C commits (0..C-1) holding A add actions (A/C per commit, ~450 B each with
//     JSON stats, partitioned by `part` over 100 values); every 10th commit also removes 10
//     files added 5 commits earlier, so replay must honour removes.
//   ckpt/_delta_log: the same commits (hard links) plus a classic Parquet checkpoint at version
//     C-101 written by DuckDB COPY in the checkpoint schema (txn, add, remove, metaData,
//     protocol), so a load reads the checkpoint and a 100-commit tail; and _last_checkpoint.
// Default C=10,000, A=1,000,000; --small: C=1,000, A=100,000.
//
// Workloads:
//   snapshot_json        lake LoadTableSnapshot vs SQL: read_json over all commits, keep the
//                        latest action per path, count live files and their bytes. <= 0.5x
//   snapshot_checkpoint  lake load from checkpoint + tail vs SQL: read_parquet(checkpoint)
//                        UNION the tail's read_json, same reduction.                <= 1.0x
//                        (the SQL side also replays the tail so that both answers are equal)
//   snapshot_refresh     RefreshSnapshot after one new commit of 10 adds, ms.       <= 5 ms
//   snapshot_peak_rss    max RSS of a child process that opens the engine and loads the
//                        JSON-only snapshot.                                        <= 1 GiB
// Both sides' answers ("files|bytes") must be equal; refresh is checked against the count the
// bench itself added.
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "delta/snapshot.h"
#include "delta_gen.h"
#include "engine/database.h"
#include "engine/delta_engine.h"
#include "storage/local_store.h"

namespace lake::bench {
namespace {

namespace fs = std::filesystem;

constexpr char kAddType[] =
    "STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, "
    "modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR)";
constexpr char kRemoveType[] =
    "STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, "
    "extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT)";

// read_json over commit files as (version, add, remove).
std::string CommitsSql(const std::string& files) {
  return std::string("SELECT CAST(regexp_extract(filename, '([0-9]+)\\.json$', 1) AS BIGINT) AS version, ") +
         "add, remove FROM read_json(" + files +
         ", format = 'newline_delimited', filename = true, columns = {'add': '" + kAddType +
         "', 'remove': '" + kRemoveType + "'})";
}

// The latest action per path wins (PROTOCOL.md "Action Reconciliation"); `log` yields
// (version, add, remove).
std::string LatestPerPathSql(const std::string& log) {
  return "WITH log AS (" + log +
         "), acts AS (SELECT version, add.path AS path, add AS a, NULL AS r FROM log WHERE add IS "
         "NOT NULL UNION ALL SELECT version, remove.path, NULL, remove FROM log WHERE remove IS NOT "
         "NULL), latest AS (SELECT arg_max({'a': a, 'r': r}, version) AS l FROM acts GROUP BY path) ";
}

std::string ReplayAnswerSql(const std::string& log) {
  return LatestPerPathSql(log) +
         "SELECT count(*) AS files, sum(l.a.size) AS bytes FROM latest WHERE l.a IS NOT NULL";
}

void WriteCheckpoint(engine::Session& s, const fs::path& json_table, const fs::path& ckpt_table,
                     int64_t version) {
  char name[64];
  std::snprintf(name, sizeof name, "%020lld.checkpoint.parquet", static_cast<long long>(version));
  const std::string out = (ckpt_table / "_delta_log" / name).string();
  const std::string log = "SELECT * FROM (" + CommitsSql("'" + (json_table / "_delta_log").string() + "/*.json'") +
                          ") WHERE version <= " + std::to_string(version);
  const std::string sql =
      "COPY (" + LatestPerPathSql(log) +
      "SELECT NULL::STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT) AS txn, l.a AS add, "
      "l.r AS remove, NULL::STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format "
      "STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, "
      "partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT) AS "
      "metaData, NULL::STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER) AS protocol "
      "FROM latest "
      "UNION ALL SELECT NULL, NULL, NULL, NULL, {'minReaderVersion': 1, 'minWriterVersion': 2} "
      "UNION ALL SELECT NULL, NULL, NULL, {'id': '6c7a7b3e-7c1e-4a55-9b1d-3f1f6d5e2a10', 'name': "
      "NULL, 'description': NULL, 'format': {'provider': 'parquet', 'options': MAP {}}, "
      "'schemaString': '" + std::string(kGenSchema) + "', 'partitionColumns': ['part'], "
      "'configuration': MAP {}, 'createdTime': " + std::to_string(kGenT0) + "}, NULL"
      ") TO '" + out + "' (FORMAT parquet)";
  Check(s.Query(sql).status(), "write checkpoint");
  engine::ResultTable n = CheckResult(s.Query("SELECT count(*) FROM read_parquet('" + out + "')"), "count checkpoint");
  std::ofstream lc(ckpt_table / "_delta_log" / "_last_checkpoint");
  lc << "{\"version\":" << version << ",\"size\":" << ValueText(n.rows.at(0).at(0)) << "}\n";
}

std::string SnapshotAnswer(const delta::Snapshot& snap) {
  int64_t bytes = 0;
  for (const delta::AddFile& f : snap.files()) bytes += f.size;
  return std::to_string(snap.files().size()) + "|" + std::to_string(bytes) + "\n";
}

// Child mode: load the snapshot once and print "<max rss bytes before> <after> <files>".
int RssChild(const std::string& table) {
  auto db = CheckResult(engine::Database::Open(), "open database");
  const int64_t before = MaxRssBytes();
  auto snap = CheckResult(engine::LoadTableSnapshot(*db, table), "load snapshot");
  std::printf("%lld %lld %zu\n", static_cast<long long>(before), static_cast<long long>(MaxRssBytes()),
              snap->files().size());
  return 0;
}

int Main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "--rss-child") return RssChild(argv[2]);
  Options options = ParseArgs(argc, argv);
  const int64_t commits = options.small ? 1'000 : 10'000;
  const int64_t adds = options.small ? 100'000 : 1'000'000;
  const int64_t per_commit = adds / commits;
  const int64_t tail = 100;
  const int64_t ckpt_version = commits - 1 - tail;

  TempDir tmp(options);
  const fs::path json_table = fs::path(tmp.path()) / "json";
  const fs::path ckpt_table = fs::path(tmp.path()) / "ckpt";

  auto db = CheckResult(engine::Database::Open(), "open database");
  auto session = CheckResult(db->Connect(), "connect");
  engine::Session& s = *session;

  std::fprintf(stderr, "generating %lld commits / %lld adds in %s ...\n",
               static_cast<long long>(commits), static_cast<long long>(adds), tmp.path().c_str());
  const double gen_start = WallMs();
  const auto [live_files, live_bytes] = WriteGeneratedLog(json_table, commits, per_commit);
  fs::create_directories(ckpt_table / "_delta_log");
  for (int64_t v = 0; v < commits; ++v) {
    fs::create_hard_link(json_table / "_delta_log" / CommitName(v), ckpt_table / "_delta_log" / CommitName(v));
  }
  WriteCheckpoint(s, json_table, ckpt_table, ckpt_version);
  std::fprintf(stderr, "generated in %.1f s (%lld live files)\n", (WallMs() - gen_start) / 1e3,
               static_cast<long long>(live_files));
  const std::string expected = std::to_string(live_files) + "|" + std::to_string(live_bytes) + "\n";

  Runner runner(options);
  auto lake_load = [&](const fs::path& table) -> Result<std::string> {
    LAKE_ASSIGN_OR_RETURN(delta::SnapshotPtr snap, engine::LoadTableSnapshot(*db, table.string()));
    return SnapshotAnswer(*snap);
  };
  // The generator's own count is a third opinion: both sides must match it too.
  auto checked = [&](Result<std::string> r) -> Result<std::string> {
    if (r.ok() && *r != expected) {
      return Status::Internal("answer " + *r + " differs from the generator's " + expected);
    }
    return r;
  };

  const std::string json_sql = ReplayAnswerSql(CommitsSql("'" + (json_table / "_delta_log").string() + "/*.json'"));
  runner.Pair("snapshot_json", 0.5, [&] { return checked(QueryText(s, json_sql)); },
              [&] { return checked(lake_load(json_table)); },
              std::to_string(commits) + " commits, " + std::to_string(adds) + " adds");

  std::string tail_files = "[";
  for (int64_t v = ckpt_version + 1; v < commits; ++v) {
    tail_files += (v > ckpt_version + 1 ? ", '" : "'") + (ckpt_table / "_delta_log" / CommitName(v)).string() + "'";
  }
  tail_files += "]";
  char ckpt_name[64];
  std::snprintf(ckpt_name, sizeof ckpt_name, "%020lld.checkpoint.parquet", static_cast<long long>(ckpt_version));
  const std::string ckpt_sql = ReplayAnswerSql(
      "SELECT " + std::to_string(ckpt_version) + "::BIGINT AS version, add, remove FROM read_parquet('" +
      (ckpt_table / "_delta_log" / ckpt_name).string() + "') UNION ALL " + CommitsSql(tail_files));
  runner.Pair("snapshot_checkpoint", 1.0, [&] { return checked(QueryText(s, ckpt_sql)); },
              [&] { return checked(lake_load(ckpt_table)); },
              "checkpoint at " + std::to_string(ckpt_version) + " + " + std::to_string(tail) + " commits");

  // Peak memory in a fresh process (this one has run DuckDB's replays).
  {
    const std::string cmd = "'" + fs::read_symlink("/proc/self/exe").string() + "' --rss-child '" + json_table.string() + "'";
    FILE* p = popen(cmd.c_str(), "r");
    long long before = 0, after = 0;
    size_t files = 0;
    const int got = p ? std::fscanf(p, "%lld %lld %zu", &before, &after, &files) : 0;
    const int rc = p ? pclose(p) : -1;
    if (got != 3 || rc != 0 || static_cast<int64_t>(files) != live_files) {
      runner.Fail("snapshot_peak_rss", "child load failed (rc " + std::to_string(rc) + ", files " +
                                           std::to_string(files) + ")");
    } else {
      runner.Absolute("snapshot_peak_rss", {}, {}, static_cast<double>(after) / (1 << 20), "MiB", 1024,
                      "JSON-only load; " + std::to_string(before >> 20) + " MiB before loading");
    }
  }

  // Refresh after one new commit, on the checkpointed table (last: it appends commits).
  {
    auto store = CheckResult(storage::LocalStore::Open(ckpt_table.string()), "open store");
    std::unique_ptr<delta::Engine> delta_engine = engine::MakeDeltaEngine(*db, std::move(store));
    delta::SnapshotPtr base = CheckResult(delta::LoadSnapshot(*delta_engine), "load base");
    std::vector<double> wall, cpu;
    int64_t next_idx = commits * per_commit;
    bool ok = true;
    for (int i = 0; i <= options.runs && ok; ++i) {
      const int64_t v = base->version() + 1;
      std::vector<std::string> actions = {CommitInfoAction(kGenT0 + v * 1000, "WRITE")};
      for (int k = 0; k < 10; ++k) actions.push_back(GenAddFor(next_idx++, v));
      if (!WriteCommit(ckpt_table, v, actions)) {
        ok = runner.Fail("snapshot_refresh", "cannot write commit " + std::to_string(v));
        break;
      }
      const double c0 = ProcessCpuSeconds(), t0 = WallMs();
      Result<delta::SnapshotPtr> fresh = delta::RefreshSnapshot(*delta_engine, base);
      const double ms = WallMs() - t0, c = ProcessCpuSeconds() - c0;
      if (!fresh.ok()) {
        ok = runner.Fail("snapshot_refresh", fresh.status().ToString());
      } else if ((*fresh)->version() != v || (*fresh)->files().size() != base->files().size() + 10) {
        ok = runner.Fail("snapshot_refresh", "refreshed snapshot has version " +
                                                 std::to_string((*fresh)->version()) + " and " +
                                                 std::to_string((*fresh)->files().size()) + " files; want " +
                                                 std::to_string(v) + " and " +
                                                 std::to_string(base->files().size() + 10));
      } else {
        if (i > 0) {  // the first refresh is the warm-up
          wall.push_back(ms);
          cpu.push_back(c);
        }
        base = *fresh;
      }
    }
    if (ok) runner.Absolute("snapshot_refresh", wall, cpu, Median(wall), "ms", 5.0, "1 new commit of 10 adds");
  }
  return runner.Finish("snapshot_bench");
}

}  // namespace
}  // namespace lake::bench

int main(int argc, char** argv) { return lake::bench::Main(argc, argv); }
