// optimize_bench: OPTIMIZE and ZORDER BY on a table of many small files (issue #4 §5).
//
// Data: F = 10,000 (--small: 1,000) Parquet files of R = 1,000 rows of
// (id BIGINT, a INTEGER, b INTEGER, v DOUBLE, s VARCHAR), written once by DuckDB (a partitioned
// COPY, one file per value of a throw-away key); a and b are independent, spread over 0..999.
// Each lake run gets a fresh Delta table: the files hard-linked into a new folder and a
// version 0 written directly by the bench (protocol 1/2, one add per file with numRecords and
// min/max of id, a, b computed by DuckDB from the files), so preparing a run costs no OPTIMIZE.
//
// Workloads:
//   optimize      lake `OPTIMIZE delta.`<table>`` (bin-packing into delta.targetFileSize =
//                 128 MiB files, snappy, one commit) vs DuckDB `COPY (SELECT * FROM
//                 read_parquet([<the F files>])) TO <dir> (FORMAT parquet, COMPRESSION snappy,
//                 FILE_SIZE_BYTES 128 MiB)`.                                      target <= 1.15x
//                 Answers: the rows the output files hold (lake: the numRecords of the adds
//                 of the OPTIMIZE commit; DuckDB: the rows COPY wrote).
//   scan          an aggregate over the optimized table through lake vs the same aggregate by
//                 read_parquet over the files the optimized table's log names.  target <= 1.10x
//   zorder_a/_b   `OPTIMIZE ... ZORDER BY (a, b)` on a fresh table with delta.targetFileSize
//                 set to about 1/32 of the data, then `count(*) WHERE a = 17` (and b = 17):
//                 the fraction of files delta_scan opened (engine::GetScanCounters), target
//                 <= 0.5; the counts must equal read_parquet's over the small files.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/uuid.h"
#include "bench_util.h"
#include "engine/database.h"
#include "engine/delta_engine.h"
#include "sql/lakehouse.h"

namespace lake::bench {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRowsPerFile = 1000;
constexpr int64_t kTargetFileSize = int64_t{128} << 20;

// Strips QueryText's rendering of one VARCHAR value: the quotes and the newline.
std::string Unquote(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
    text = text.substr(1, text.size() - 2);
  }
  return text;
}

struct SmallFile {
  std::string name;  // file name under the source folder and in every table folder
  int64_t size = 0;
  std::string stats;  // the add's stats JSON
};

// Writes the F small files into `source` and returns them with their stats.
std::vector<SmallFile> GenerateSmallFiles(engine::Session& s, const fs::path& source,
                                          int64_t files) {
  const fs::path staging = source / "staging";
  // One writer thread: each value of f then arrives contiguously and becomes exactly one
  // file (a partitioned COPY closes files beyond its open-file limit and reopens new ones).
  Check(s.Query("SET threads = 1").status(), "set threads");
  const std::string rows = std::to_string(files * kRowsPerFile);
  Check(s.Query("COPY (SELECT i AS id, CAST(hash(i) % 1000 AS INTEGER) AS a, "
                "CAST(hash(i * 7 + 3) % 1000 AS INTEGER) AS b, CAST(i AS DOUBLE) * 0.25 AS v, "
                "'s' || (i % 977) AS s, i // " +
                std::to_string(kRowsPerFile) + " AS f FROM range(" + rows + ") r(i) ORDER BY i) TO '" +
                staging.string() + "' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (f))")
            .status(),
        "write small files");
  Check(s.Query("RESET threads").status(), "reset threads");
  // Flatten f=<k>/<name>.parquet into part-<k>.parquet.
  std::vector<SmallFile> out;
  for (const auto& dir : fs::directory_iterator(staging)) {
    const std::string folder = dir.path().filename().string();
    std::vector<fs::path> parts;
    for (const auto& f : fs::directory_iterator(dir.path())) parts.push_back(f.path());
    if (parts.size() != 1) {
      Check(Status::Internal("expected one file in " + dir.path().string() + ", found " +
                             std::to_string(parts.size())),
            "write small files");
    }
    SmallFile file;
    file.name = "part-" + folder.substr(folder.find('=') + 1) + ".parquet";
    fs::rename(parts[0], source / file.name);
    file.size = static_cast<int64_t>(fs::file_size(source / file.name));
    out.push_back(std::move(file));
  }
  fs::remove_all(staging);
  if (static_cast<int64_t>(out.size()) != files) {
    Check(Status::Internal("wrote " + std::to_string(out.size()) + " files, wanted " +
                           std::to_string(files)),
          "write small files");
  }
  // Stats per file, by DuckDB over the written files (not from the generating formula).
  auto stats = CheckResult(
      s.Query("SELECT parse_filename(filename), '{\"numRecords\":' || count(*) || "
              "',\"minValues\":{\"id\":' || min(id) || ',\"a\":' || min(a) || ',\"b\":' || min(b) "
              "|| '},\"maxValues\":{\"id\":' || max(id) || ',\"a\":' || max(a) || ',\"b\":' || "
              "max(b) || '},\"nullCount\":{\"id\":' || count(*) - count(id) || ',\"a\":' || "
              "count(*) - count(a) || ',\"b\":' || count(*) - count(b) || ',\"v\":' || count(*) - "
              "count(v) || ',\"s\":' || count(*) - count(s) || '}}' FROM read_parquet('" +
              (source / "*.parquet").string() + "', filename = true) GROUP BY filename"),
      "collect stats");
  std::map<std::string, std::string> by_name;
  for (const auto& row : stats.rows) {
    by_name[std::get<std::string>(row[0].v)] = std::get<std::string>(row[1].v);
  }
  for (SmallFile& f : out) f.stats = by_name.at(f.name);
  return out;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// A fresh Delta table at `table` over hard links to the small files (see the file comment).
Status MakeTable(const fs::path& source, const std::vector<SmallFile>& files, const fs::path& table,
                 const std::string& configuration) {
  std::error_code ec;
  fs::remove_all(table, ec);
  fs::create_directories(table / "_delta_log", ec);
  if (ec) return Status::IOError("mkdir " + table.string() + ": " + ec.message());
  const std::string schema =
      "{\"type\":\"struct\",\"fields\":["
      "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
      "{\"name\":\"a\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
      "{\"name\":\"b\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
      "{\"name\":\"v\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
      "{\"name\":\"s\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
  std::string log;
  log += "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n";
  log += "{\"metaData\":{\"id\":\"" + NewUuidV4() +
         "\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"" +
         JsonEscape(schema) + "\",\"partitionColumns\":[],\"configuration\":{" + configuration +
         "},\"createdTime\":1700000000000}}\n";
  for (const SmallFile& f : files) {
    fs::create_hard_link(source / f.name, table / f.name, ec);
    if (ec) return Status::IOError("link " + f.name + ": " + ec.message());
    log += "{\"add\":{\"path\":\"" + f.name + "\",\"partitionValues\":{},\"size\":" +
           std::to_string(f.size) +
           ",\"modificationTime\":1700000000000,\"dataChange\":true,\"stats\":\"" +
           JsonEscape(f.stats) + "\"}}\n";
  }
  std::ofstream out(table / "_delta_log" / "00000000000000000000.json", std::ios::binary);
  out << log;
  out.close();
  if (!out) return Status::IOError("writing the log of " + table.string());
  return Status::OK();
}

// The files the latest commits of `table` name as live, as a read_parquet list.
Result<std::string> LiveFilesList(engine::Session& s, const fs::path& table) {
  LAKE_ASSIGN_OR_RETURN(
      std::string list,
      QueryText(s, "SELECT string_agg('''" + table.string() +
                       "/' || path || '''', ', ' ORDER BY path) FROM (SELECT add.path AS path "
                       "FROM read_json('" +
                       (table / "_delta_log" / "*.json").string() +
                       "', format = 'newline_delimited', columns = {'add': 'STRUCT(path "
                       "VARCHAR)', 'remove': 'STRUCT(path VARCHAR)'}) WHERE add IS NOT NULL "
                       "EXCEPT SELECT remove.path FROM read_json('" +
                       (table / "_delta_log" / "*.json").string() +
                       "', format = 'newline_delimited', columns = {'add': 'STRUCT(path "
                       "VARCHAR)', 'remove': 'STRUCT(path VARCHAR)'}) WHERE remove IS NOT "
                       "NULL)"));
  return "[" + Unquote(list) + "]";
}

int Main(int argc, char** argv) {
  Options options = ParseArgs(argc, argv);
  const int64_t num_files = options.small ? 1'000 : 10'000;
  TempDir tmp(options);
  const fs::path source = fs::path(tmp.path()) / "small";
  const fs::path tables = fs::path(tmp.path()) / "tables";
  const fs::path copies = fs::path(tmp.path()) / "copy";
  fs::create_directories(source);
  fs::create_directories(tables);
  fs::create_directories(copies);

  sql::LakehouseOptions house_options;
  house_options.home = (fs::path(tmp.path()) / "home").string();
  auto house = CheckResult(sql::Lakehouse::Open(house_options), "open lakehouse");
  auto session = CheckResult(house->database().Connect(), "connect");
  engine::Session& s = *session;

  const double gen_t0 = WallMs();
  const std::vector<SmallFile> files = GenerateSmallFiles(s, source, num_files);
  int64_t total_bytes = 0;
  for (const SmallFile& f : files) total_bytes += f.size;
  std::fprintf(stderr, "generated %lld files, %.1f MiB, in %.1f s\n",
               static_cast<long long>(files.size()), static_cast<double>(total_bytes) / (1 << 20),
               (WallMs() - gen_t0) / 1e3);
  std::string source_list;
  for (const SmallFile& f : files) {
    source_list += (source_list.empty() ? "'" : ", '") + (source / f.name).string() + "'";
  }
  source_list = "[" + source_list + "]";
  const int64_t total_rows = num_files * kRowsPerFile;

  Runner runner(options);

  // ---- optimize ----
  int run = 0;
  fs::path table, copy;
  auto prepare = [&](bool is_lake) -> Status {
    // Only the latest run's output is kept: the scan below reads the last optimized table.
    std::error_code ec;
    if (is_lake) {
      if (!table.empty()) fs::remove_all(table, ec);
      table = tables / std::to_string(run++);
      return MakeTable(source, files, table, "");
    }
    if (!copy.empty()) fs::remove_all(copy, ec);
    copy = copies / std::to_string(run++);
    return Status::OK();
  };
  auto baseline = [&]() -> Result<std::string> {
    return QueryText(s, "COPY (SELECT * FROM read_parquet(" + source_list + ")) TO '" +
                            copy.string() +
                            "' (FORMAT parquet, COMPRESSION snappy, FILE_SIZE_BYTES " +
                            std::to_string(kTargetFileSize) + ")");
  };
  auto lake = [&]() -> Result<std::string> {
    LAKE_ASSIGN_OR_RETURN(engine::ResultTable optimized,
                          s.Query("OPTIMIZE delta.`" + table.string() + "`"));
    (void)optimized;
    return QueryText(
        s, "SELECT sum(CAST(json_extract(add.stats, '$.numRecords') AS BIGINT)) FROM read_json('" +
               (table / "_delta_log" / "00000000000000000001.json").string() +
               "', format = 'newline_delimited', columns = {'add': 'STRUCT(stats VARCHAR)'}) "
               "WHERE add IS NOT NULL");
  };
  const bool optimized = runner.Pair(
      "optimize", 1.15, baseline, lake,
      std::to_string(num_files) + " files of " + std::to_string(kRowsPerFile) +
          " rows -> 128 MiB files, snappy",
      prepare);

  // ---- scan of the optimized table ----
  if (optimized) {
    const std::string aggregate =
        "SELECT count(*), sum(id), sum(a), sum(b), max(v), min(s), max(s) FROM ";
    Result<std::string> live = LiveFilesList(s, table);
    if (!live.ok()) {
      runner.Fail("scan", live.status().ToString());
    } else {
      std::fprintf(stderr, "optimized table: %s\n", live->c_str());
      const std::string want_count = std::to_string(total_rows) + "|";
      auto scan_base = [&]() { return QueryText(s, aggregate + "read_parquet(" + *live + ")"); };
      auto scan_lake = [&]() { return QueryText(s, aggregate + "delta_scan('" + table.string() + "')"); };
      if (runner.Pair("scan", 1.10, scan_base, scan_lake, "aggregate over the optimized table")) {
        Result<std::string> got = scan_lake();
        if (!got.ok() || got->rfind(want_count, 0) != 0) {
          runner.Fail("scan_check", "lake read " + (got.ok() ? *got : got.status().ToString()) +
                                        ", want " + want_count + "...");
        }
      }
    }
  }

  // ---- ZORDER BY (a, b), then selective queries on a and on b ----
  {
    const fs::path ztable = tables / "zorder";
    const int64_t target = std::max<int64_t>(1, total_bytes / 32);
    Check(MakeTable(source, files, ztable,
                    "\"delta.targetFileSize\":\"" + std::to_string(target) + "\""),
          "zorder table");
    const double z0 = WallMs(), c0 = ProcessCpuSeconds();
    Result<engine::ResultTable> z =
        s.Query("OPTIMIZE delta.`" + ztable.string() + "` ZORDER BY (a, b)");
    const double z_ms = WallMs() - z0, z_cpu = ProcessCpuSeconds() - c0;
    if (!z.ok()) {
      runner.Fail("zorder", z.status().ToString());
    } else {
      std::printf("%-20s lake %8.1f ms (cpu %7.3f s)  # OPTIMIZE ZORDER BY (a, b), target %lld bytes\n",
                  "zorder", z_ms, z_cpu, static_cast<long long>(target));
      for (const char* column : {"a", "b"}) {
        const std::string where = std::string(" WHERE ") + column + " = 17";
        const engine::ScanCounters before = engine::GetScanCounters();
        const double q0 = WallMs(), qc0 = ProcessCpuSeconds();
        Result<std::string> got =
            QueryText(s, "SELECT count(*) FROM delta_scan('" + ztable.string() + "')" + where);
        const double q_ms = WallMs() - q0, q_cpu = ProcessCpuSeconds() - qc0;
        const engine::ScanCounters after = engine::GetScanCounters();
        Result<std::string> want =
            QueryText(s, "SELECT count(*) FROM read_parquet(" + source_list + ")" + where);
        const std::string name = std::string("zorder_") + column;
        if (!got.ok() || !want.ok() || *got != *want) {
          runner.Fail(name, "lake " + (got.ok() ? *got : got.status().ToString()) + " vs " +
                                (want.ok() ? *want : want.status().ToString()));
          continue;
        }
        const int64_t in_snapshot = after.files_in_snapshots - before.files_in_snapshots;
        const int64_t opened = after.files_opened - before.files_opened;
        runner.Absolute(name, {q_ms}, {q_cpu},
                        in_snapshot > 0 ? static_cast<double>(opened) /
                                              static_cast<double>(in_snapshot)
                                        : 1.0,
                        "of files opened", 0.5,
                        std::to_string(opened) + " of " + std::to_string(in_snapshot) +
                            " files opened for " + column + " = 17 (" + Unquote(*got) + " rows)");
      }
    }
  }
  return runner.Finish("optimize_bench");
}

}  // namespace
}  // namespace lake::bench

int main(int argc, char** argv) { return lake::bench::Main(argc, argv); }
