// dml_bench: row-level DML on a table of many files (issue #4 §5).
//
// Data (small_files.h): F = 100 files of R = 100,000 rows (--small: 20 of 50,000). Every run
// gets a fresh table over hard links to the same files.
//
// Workloads:
//   delete_cow       lake `DELETE FROM delta.`<t>` WHERE id % 1000 = 7` (0.1% of the rows, in
//                    every file: every file is rewritten) vs DuckDB rewriting those files:
//                    COPY (SELECT * FROM read_parquet(<files>) WHERE NOT (id % 1000 = 7)) TO
//                    <dir> (snappy, FILE_SIZE_BYTES = lake's delta.targetFileSize).  <= 1.2x
//                    Answers: the rows the new files hold (lake: numRecords of the commit's
//                    adds; DuckDB: the rows COPY wrote).
//   scan_after_delete  an aggregate over the table after lake's DELETE vs the same aggregate
//                    by read_parquet over the files DuckDB's rewrite wrote.          <= 1.10x
//   delete_dv        the same DELETE on a table with delta.enableDeletionVectors (rows marked
//                    in deletion vectors, no file rewritten) vs the floor: DuckDB finding the
//                    rows' positions per file and writing them to one file (the commit).
//                    <= 1.5x. Answers: the files that got a deletion vector.
//   scan_after_dv    an aggregate over the DV table after the delete vs the same aggregate by
//                    read_parquet over the rows without deletes (DuckDB's rewrite). <= 1.10x
//   merge_cow        an upsert of C changed rows into the table (--merge-files F' files of
//                    R rows: 200 x 100,000 = 20M rows; --small 40 x 25,000): half updates of
//                    existing keys (every other row of 5% of the files, spread over the
//                    table), half inserts of new keys. lake `MERGE INTO delta.`<t>` t USING
//                    read_parquet(<changes>) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *
//                    WHEN NOT MATCHED THEN INSERT *` vs the same change by hand in DuckDB:
//                    the files holding a matched key (a semi-join), then one COPY of those
//                    files' rows anti-joined with the changes, union all the changes. <= 1.25x
//                    Answers: the rows the new files hold.
//   merge_dv         the same MERGE into a table with deletion vectors (updated rows marked in
//                    DVs; only the new rows written) vs the same baseline.             <= 0.5x
//                    Answers: the rows of the changes (lake: numRecords of the new adds that
//                    carry no DV; DuckDB: the rows of the changes file).
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.h"
#include "engine/data_writer.h"
#include "engine/database.h"
#include "small_files.h"
#include "sql/lakehouse.h"

namespace lake::bench {
namespace {

namespace fs = std::filesystem;

constexpr char kDeletePredicate[] = "id % 1000 = 7";
constexpr char kAggregate[] = "SELECT count(*), sum(id), sum(a), sum(b), sum(v), min(s), max(s) FROM ";

int Main(int argc, char** argv) {
  Options options = ParseArgs(argc, argv);
  const int64_t num_files = options.small ? 20 : 100;
  const int64_t rows_per_file = options.small ? 50'000 : 100'000;
  TempDir tmp(options);
  const fs::path source = fs::path(tmp.path()) / "source";
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
  const std::vector<SourceFile> files = WriteSourceFiles(s, source, num_files, rows_per_file);
  int64_t total_bytes = 0;
  for (const SourceFile& f : files) total_bytes += f.size;
  std::fprintf(stderr, "generated %lld files of %lld rows, %.1f MiB, in %.1f s\n",
               static_cast<long long>(num_files), static_cast<long long>(rows_per_file),
               static_cast<double>(total_bytes) / (1 << 20), (WallMs() - gen_t0) / 1e3);
  const std::string source_list = ParquetList(source, files);
  const std::string data_note = std::to_string(num_files) + " files of " +
                                std::to_string(rows_per_file) + " rows";

  Runner runner(options);

  // ---- DELETE, copy-on-write ----
  int run = 0;
  fs::path table, copy;
  auto prepare = [&](bool is_lake) -> Status {
    // Only the latest run's output is kept: the scan below reads it.
    std::error_code ec;
    if (is_lake) {
      if (!table.empty()) fs::remove_all(table, ec);
      table = tables / std::to_string(run++);
      return MakeTableOver(source, files, table);
    }
    if (!copy.empty()) fs::remove_all(copy, ec);
    copy = copies / std::to_string(run++);
    return Status::OK();
  };
  auto baseline = [&]() -> Result<std::string> {
    return QueryText(s, "COPY (SELECT * FROM read_parquet(" + source_list + ") WHERE NOT (" +
                            kDeletePredicate + ")) TO '" + copy.string() +
                            "' (FORMAT parquet, COMPRESSION snappy, FILE_SIZE_BYTES " +
                            std::to_string(engine::kDefaultTargetFileSizeBytes) + ")");
  };
  auto lake = [&]() -> Result<std::string> {
    LAKE_RETURN_IF_ERROR(
        s.Query("DELETE FROM delta.`" + table.string() + "` WHERE " + kDeletePredicate).status());
    return RowsAddedAt(s, table, 1);
  };
  const bool deleted = runner.Pair("delete_cow", 1.2, baseline, lake,
                                   data_note + ", 0.1% of the rows deleted from every file", prepare);

  // ---- a scan after the delete ----
  if (deleted) {
    auto scan_base = [&]() {
      return QueryText(s, std::string(kAggregate) + "read_parquet('" + (copy / "*.parquet").string() + "')");
    };
    auto scan_lake = [&]() {
      return QueryText(s, std::string(kAggregate) + "delta_scan('" + table.string() + "')");
    };
    runner.Pair("scan_after_delete", 1.10, scan_base, scan_lake,
                "aggregate over the table after the copy-on-write delete");
  }
  // ---- DELETE into deletion vectors, and a scan after it ----
  if (deleted) {
    const TableSpec dv_spec{
        .protocol = "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
                    "\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":["
                    "\"deletionVectors\"]}}",
        .configuration = "\"delta.enableDeletionVectors\":\"true\""};
    fs::path dv_table, positions;
    int dv_run = 0;
    auto dv_prepare = [&](bool is_lake) -> Status {
      std::error_code ec;
      if (is_lake) {
        if (!dv_table.empty()) fs::remove_all(dv_table, ec);
        dv_table = tables / ("dv" + std::to_string(dv_run++));
        return MakeTableOver(source, files, dv_table, dv_spec);
      }
      positions = copies / ("positions" + std::to_string(dv_run++) + ".json");
      fs::remove(positions, ec);
      return Status::OK();
    };
    auto dv_floor = [&]() -> Result<std::string> {
      return QueryText(s, "COPY (SELECT filename, list(file_row_number ORDER BY file_row_number) "
                          "AS rows FROM read_parquet(" + source_list +
                          ", filename = true, file_row_number = true) WHERE " + kDeletePredicate +
                          " GROUP BY filename) TO '" + positions.string() + "' (FORMAT json)");
    };
    auto dv_lake = [&]() -> Result<std::string> {
      LAKE_RETURN_IF_ERROR(s.Query("DELETE FROM delta.`" + dv_table.string() + "` WHERE " +
                                   kDeletePredicate)
                               .status());
      return QueryText(s, "SELECT count(*) FROM read_json('" +
                              (dv_table / "_delta_log" / CommitName(1)).string() +
                              "', format = 'newline_delimited', columns = {'add': "
                              "'STRUCT(path VARCHAR, deletionVector JSON)'}) WHERE "
                              "add.deletionVector IS NOT NULL");
    };
    if (runner.Pair("delete_dv", 1.5, dv_floor, dv_lake,
                    data_note + ", 0.1% of the rows marked in deletion vectors", dv_prepare)) {
      auto scan_base = [&]() {
        return QueryText(s, std::string(kAggregate) + "read_parquet('" + (copy / "*.parquet").string() + "')");
      };
      auto scan_lake = [&]() {
        return QueryText(s, std::string(kAggregate) + "delta_scan('" + dv_table.string() + "')");
      };
      runner.Pair("scan_after_dv", 1.10, scan_base, scan_lake,
                  "aggregate over the table after the deletion-vector delete");
    }
  }

  // ---- MERGE (upsert), copy-on-write ----
  {
    const int64_t merge_files = options.small ? 40 : 200;
    const int64_t merge_rows = options.small ? 25'000 : 100'000;
    const fs::path msource = fs::path(tmp.path()) / "merge_source";
    fs::create_directories(msource);
    const std::vector<SourceFile> mfiles = WriteSourceFiles(s, msource, merge_files, merge_rows);
    // Touched files: every 20th (5%); updates: the even ids of those files; inserts: as many
    // new ids past the end of the table.
    std::string touched_ids;
    int64_t updates = 0;
    for (int64_t f = 0; f < merge_files; f += 20) {
      touched_ids += (touched_ids.empty() ? "" : " OR ") + std::string("id BETWEEN ") +
                     std::to_string(f * merge_rows) + " AND " + std::to_string((f + 1) * merge_rows - 1);
      updates += merge_rows / 2;
    }
    const int64_t table_rows = merge_files * merge_rows;
    const fs::path changes = fs::path(tmp.path()) / "changes.parquet";
    Check(s.Query("COPY (SELECT id, a + 1 AS a, b, -v AS v, s || '!' AS s FROM read_parquet(" +
                  ParquetList(msource, mfiles) + ") WHERE (" + touched_ids +
                  ") AND id % 2 = 0 UNION ALL SELECT i AS id, 1 AS a, 2 AS b, 0.5 AS v, 'new' AS s "
                  "FROM range(" + std::to_string(table_rows) + ", " +
                  std::to_string(table_rows + updates) + ") r(i)) TO '" + changes.string() +
                  "' (FORMAT parquet, COMPRESSION snappy)")
              .status(),
          "write the changes");
    const std::string changes_scan = "read_parquet('" + changes.string() + "')";
    const std::string mlist = ParquetList(msource, mfiles);
    int mrun = 0;
    fs::path mtable, mcopy;
    auto mprepare = [&](bool is_lake) -> Status {
      std::error_code ec;
      if (is_lake) {
        if (!mtable.empty()) fs::remove_all(mtable, ec);
        mtable = tables / ("m" + std::to_string(mrun++));
        return MakeTableOver(msource, mfiles, mtable);
      }
      if (!mcopy.empty()) fs::remove_all(mcopy, ec);
      mcopy = copies / ("m" + std::to_string(mrun++));
      return Status::OK();
    };
    auto mbaseline = [&]() -> Result<std::string> {
      LAKE_ASSIGN_OR_RETURN(
          engine::ResultTable touched,
          s.Query("SELECT DISTINCT filename FROM read_parquet(" + mlist +
                  ", filename = true) t SEMI JOIN " + changes_scan + " c ON t.id = c.id"));
      std::string list;
      for (const auto& row : touched.rows) {
        list += (list.empty() ? "'" : ", '") + std::get<std::string>(row[0].v) + "'";
      }
      return QueryText(s, "COPY (SELECT t.* FROM read_parquet([" + list + "]) t ANTI JOIN " +
                              changes_scan + " c ON t.id = c.id UNION ALL SELECT * FROM " +
                              changes_scan + ") TO '" + mcopy.string() +
                              "' (FORMAT parquet, COMPRESSION snappy, FILE_SIZE_BYTES " +
                              std::to_string(engine::kDefaultTargetFileSizeBytes) + ")");
    };
    auto mlake = [&]() -> Result<std::string> {
      LAKE_RETURN_IF_ERROR(s.Query("MERGE INTO delta.`" + mtable.string() + "` t USING " +
                                   changes_scan +
                                   " s ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT "
                                   "MATCHED THEN INSERT *")
                               .status());
      return RowsAddedAt(s, mtable, 1);
    };
    const std::string merge_note = std::to_string(merge_files) + " files of " +
                                   std::to_string(merge_rows) + " rows; " + std::to_string(updates) +
                                   " updates in 5% of the files + " + std::to_string(updates) +
                                   " inserts";
    runner.Pair("merge_cow", 1.25, mbaseline, mlake, merge_note, mprepare);

    // With deletion vectors: the answer is the rows written (the changes).
    auto mdv_prepare = [&](bool is_lake) -> Status {
      std::error_code ec;
      if (is_lake) {
        if (!mtable.empty()) fs::remove_all(mtable, ec);
        mtable = tables / ("mdv" + std::to_string(mrun++));
        return MakeTableOver(
            msource, mfiles, mtable,
            {.protocol = "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
                         "\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":["
                         "\"deletionVectors\"]}}",
             .configuration = "\"delta.enableDeletionVectors\":\"true\""});
      }
      return mprepare(false);
    };
    auto mdv_baseline = [&]() -> Result<std::string> {
      LAKE_RETURN_IF_ERROR(mbaseline().status());
      return QueryText(s, "SELECT count(*) FROM " + changes_scan);
    };
    auto mdv_lake = [&]() -> Result<std::string> {
      LAKE_RETURN_IF_ERROR(s.Query("MERGE INTO delta.`" + mtable.string() + "` t USING " +
                                   changes_scan +
                                   " s ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT "
                                   "MATCHED THEN INSERT *")
                               .status());
      return QueryText(
          s, "SELECT sum(CAST(json_extract(add.stats, '$.numRecords') AS BIGINT)) FROM read_json('" +
                 (mtable / "_delta_log" / CommitName(1)).string() +
                 "', format = 'newline_delimited', columns = {'add': 'STRUCT(stats VARCHAR, "
                 "deletionVector JSON)'}) WHERE add IS NOT NULL AND add.deletionVector IS NULL");
    };
    runner.Pair("merge_dv", 0.5, mdv_baseline, mdv_lake, merge_note + ", deletion vectors",
                mdv_prepare);
  }
  return runner.Finish("dml_bench");
}

}  // namespace
}  // namespace lake::bench

int main(int argc, char** argv) { return lake::bench::Main(argc, argv); }
