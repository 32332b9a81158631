// scan_bench: reading a Delta table through delta_scan vs DuckDB's read_parquet over exactly
// the same files (issue #2 §7; PERFORMANCE-ANCHORS.md B1, B2, B12).
//
// Data (generated here, into a temp folder): Parquet files written by DuckDB COPY, rows
// clustered by `id` (file i holds ids [i*R, (i+1)*R)), and a _delta_log written by hand with
// per-file stats computed by a DuckDB query over each file:
//   v0  protocol + metaData
//   v1  add files 0..N-1                                  (the "old version": N files)
//   v2  remove files 0..K-1, add files N..N+K-1            (latest: N files, K = N/5)
// Default N=50 files x 400k rows (20M rows per version); --small: N=5 x 200k (1M rows).
//
// Workloads (baseline = read_parquet over a file list this bench knows from generating the
// table, never from lake):
//   scan_latest       aggregate over the latest version         target <= 1.05x
//   scan_time_travel  the same at version 1                     target <= 1.10x
//   skipping_point    a range on the clustered `id` hitting one file, baseline reads only the
//                     file(s) whose id range overlaps                  target <= 1.20x
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.h"
#include "delta_gen.h"
#include "engine/database.h"
#include "engine/delta_engine.h"

namespace lake::bench {
namespace {

namespace fs = std::filesystem;

constexpr char kSchema[] =
    R"j({"type":"struct","fields":[)j"
    R"j({"name":"id","type":"long","nullable":true,"metadata":{}},)j"
    R"j({"name":"grp","type":"integer","nullable":true,"metadata":{}},)j"
    R"j({"name":"qty","type":"integer","nullable":true,"metadata":{}},)j"
    R"j({"name":"amount","type":"decimal(12,2)","nullable":true,"metadata":{}},)j"
    R"j({"name":"tag","type":"string","nullable":true,"metadata":{}}]})j";

struct DataFile {
  std::string name;  // relative to the table root
  int64_t first_id = 0, last_id = 0;
  int64_t size = 0;
  std::string stats;
};

std::string FileName(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "part-%05d-bench.snappy.parquet", i);
  return buf;
}

std::string SqlList(const std::string& root, const std::vector<DataFile>& files) {
  std::string out = "[";
  for (size_t i = 0; i < files.size(); ++i) out += (i ? ", '" : "'") + root + "/" + files[i].name + "'";
  return out + "]";
}

// Writes file i (ids [i*rows, (i+1)*rows)) and computes its Delta stats with DuckDB.
DataFile WriteDataFile(engine::Session& s, const fs::path& table, int i, int64_t rows) {
  DataFile f;
  f.name = FileName(i);
  f.first_id = static_cast<int64_t>(i) * rows;
  f.last_id = f.first_id + rows - 1;
  const std::string path = (table / f.name).string();
  Check(s.Query("COPY (SELECT i AS id, (i % 100)::INTEGER AS grp, ((i * 7919) % 1000)::INTEGER AS qty, "
                "(((i * 104729) % 100000) / 100)::DECIMAL(12,2) AS amount, 'tag' || (i % 1000) AS tag "
                "FROM range(" + std::to_string(f.first_id) + ", " + std::to_string(f.last_id + 1) +
                ") t(i)) TO '" + path + "' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)")
            .status(),
        "write " + path);
  engine::ResultTable st = CheckResult(
      s.Query("SELECT count(*), min(id), max(id), min(grp), max(grp), min(qty), max(qty), "
              "min(amount)::VARCHAR, max(amount)::VARCHAR, min(tag), max(tag), "
              "count(*) - count(id), count(*) - count(grp), count(*) - count(qty), "
              "count(*) - count(amount), count(*) - count(tag) FROM read_parquet('" + path + "')"),
      "stats of " + path);
  const auto& r = st.rows.at(0);
  auto t = [&](int c) { return ValueText(r[c]); };
  auto str = [&](int c) { return Quoted(std::get<std::string>(r[c].v)); };
  auto num = [&](int c) { return std::get<std::string>(r[c].v); };  // decimal rendered by DuckDB
  f.stats = "{\"numRecords\":" + t(0) + ",\"minValues\":{\"id\":" + t(1) + ",\"grp\":" + t(3) +
            ",\"qty\":" + t(5) + ",\"amount\":" + num(7) + ",\"tag\":" + str(9) +
            "},\"maxValues\":{\"id\":" + t(2) + ",\"grp\":" + t(4) + ",\"qty\":" + t(6) +
            ",\"amount\":" + num(8) + ",\"tag\":" + str(10) + "},\"nullCount\":{\"id\":" + t(11) +
            ",\"grp\":" + t(12) + ",\"qty\":" + t(13) + ",\"amount\":" + t(14) + ",\"tag\":" +
            t(15) + "}}";
  f.size = static_cast<int64_t>(fs::file_size(table / f.name));
  return f;
}

int Main(int argc, char** argv) {
  Options options = ParseArgs(argc, argv);
  const int n_files = options.small ? 5 : 50;
  const int64_t rows_per_file = options.small ? 200'000 : 400'000;
  const int n_replaced = n_files / 5;

  TempDir tmp(options);
  const fs::path table = fs::path(tmp.path()) / "scan_table";
  fs::create_directories(table);

  auto db = CheckResult(engine::Database::Open(), "open database");
  auto session = CheckResult(db->Connect(), "connect");

  std::fprintf(stderr, "generating %d+%d files x %lld rows in %s ...\n", n_files, n_replaced,
               static_cast<long long>(rows_per_file), table.c_str());
  const double gen_start = WallMs();
  std::vector<DataFile> files;
  for (int i = 0; i < n_files + n_replaced; ++i) files.push_back(WriteDataFile(*session, table, i, rows_per_file));

  const int64_t t0 = 1700000000000;
  if (!WriteCommit(table, 0, {CommitInfoAction(t0, "CREATE TABLE"), ProtocolAction(),
                              MetadataAction(kSchema, {}, t0)})) {
    std::fprintf(stderr, "cannot write the log\n");
    return 1;
  }
  std::vector<std::string> v1 = {CommitInfoAction(t0 + 1000, "WRITE")};
  for (int i = 0; i < n_files; ++i) v1.push_back(AddAction(files[i].name, "", files[i].size, t0 + 1000, files[i].stats));
  std::vector<std::string> v2 = {CommitInfoAction(t0 + 2000, "WRITE")};
  for (int i = 0; i < n_replaced; ++i) v2.push_back(RemoveAction(files[i].name, "", files[i].size, t0 + 2000));
  for (int i = n_files; i < n_files + n_replaced; ++i) {
    v2.push_back(AddAction(files[i].name, "", files[i].size, t0 + 2000, files[i].stats));
  }
  if (!WriteCommit(table, 1, v1) || !WriteCommit(table, 2, v2)) {
    std::fprintf(stderr, "cannot write the log\n");
    return 1;
  }
  std::fprintf(stderr, "generated in %.1f s\n", (WallMs() - gen_start) / 1e3);

  const std::vector<DataFile> v1_files(files.begin(), files.begin() + n_files);
  const std::vector<DataFile> latest_files(files.begin() + n_replaced, files.end());
  const std::string root = table.string();
  const std::string delta = "delta_scan('" + root + "')";

  Runner runner(options);
  const std::string agg =
      "SELECT grp % 10 AS g, count(*) AS n, sum(qty) AS q, sum(amount) AS a, max(id) AS m, "
      "min(tag) AS t FROM {} GROUP BY 1 ORDER BY 1";
  auto with = [](std::string sql, const std::string& src) {
    return sql.replace(sql.find("{}"), 2, src);
  };
  engine::Session& s = *session;

  runner.Pair("scan_latest", 1.05,
              [&] { return QueryText(s, with(agg, "read_parquet(" + SqlList(root, latest_files) + ")")); },
              [&] { return QueryText(s, with(agg, delta)); });

  runner.Pair("scan_time_travel", 1.10,
              [&] { return QueryText(s, with(agg, "read_parquet(" + SqlList(root, v1_files) + ")")); },
              [&] { return QueryText(s, with(agg, "delta_scan('" + root + "', version := 1)")); });

  // A range inside one file of the latest version; the ideal reads only the files whose id
  // range overlaps it (known from generation).
  const DataFile& target = latest_files[latest_files.size() / 2];
  const int64_t lo = target.first_id + rows_per_file / 4;
  const int64_t hi = lo + 5000;
  std::vector<DataFile> matching;
  for (const DataFile& f : latest_files) {
    if (f.last_id >= lo && f.first_id <= hi) matching.push_back(f);
  }
  const std::string point = "SELECT count(*) AS n, sum(qty) AS q, sum(amount) AS a FROM {} WHERE id BETWEEN " +
                            std::to_string(lo) + " AND " + std::to_string(hi);
  const engine::ScanCounters before = engine::GetScanCounters();
  Result<std::string> probe = QueryText(s, with(point, delta));
  const engine::ScanCounters after = engine::GetScanCounters();
  const std::string note = "lake opened " + std::to_string(after.files_opened - before.files_opened) +
                           " of " + std::to_string(after.files_in_snapshots - before.files_in_snapshots) +
                           " files; ideal " + std::to_string(matching.size());
  if (!probe.ok()) {
    runner.Fail("skipping_point", "lake failed: " + probe.status().ToString());
  } else {
    runner.Pair("skipping_point", 1.20,
                [&] { return QueryText(s, with(point, "read_parquet(" + SqlList(root, matching) + ")")); },
                [&] { return QueryText(s, with(point, delta)); }, note);
  }
  return runner.Finish("scan_bench");
}

}  // namespace
}  // namespace lake::bench

int main(int argc, char** argv) { return lake::bench::Main(argc, argv); }
