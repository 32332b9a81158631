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
#include <string>
#include <vector>

#include "bench_util.h"
#include "engine/database.h"
#include "engine/delta_engine.h"
#include "small_files.h"
#include "sql/lakehouse.h"

namespace lake::bench {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRowsPerFile = 1000;
constexpr int64_t kTargetFileSize = int64_t{128} << 20;

int Main(int argc, char** argv) {
  Options options = ParseArgs(argc, argv);
  const int64_t num_files = options.small ? 1'000 : 10'000;
  RewriteBench bench(options);
  engine::Session& s = *bench.session;
  const fs::path& source = bench.source;
  const fs::path& tables = bench.tables;
  const fs::path& copies = bench.copies;
  const std::vector<SourceFile> files = bench.Generate(num_files, kRowsPerFile);
  int64_t total_bytes = 0;
  for (const SourceFile& f : files) total_bytes += f.size;
  const std::string source_list = ParquetList(source, files);
  const int64_t total_rows = num_files * kRowsPerFile;

  Runner runner(options);

  // ---- optimize ----
  RunPlaces places(source, files, tables, copies, "optimize");  // the scan below reads the last
  const fs::path& table = places.table();
  const fs::path& copy = places.copy();
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
    return RowsAddedAt(s, table, 1);
  };
  const bool optimized = runner.Pair(
      "optimize", 1.15, baseline, lake,
      std::to_string(num_files) + " files of " + std::to_string(kRowsPerFile) +
          " rows -> 128 MiB files, snappy",
      places.AsPrepare());

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
    Check(MakeTableOver(source, files, ztable,
                        {.configuration = "\"delta.targetFileSize\":\"" +
                                          std::to_string(target) + "\""}),
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
