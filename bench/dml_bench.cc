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
//   <kind>_f<F>_m<M>_n<N>  the grid of delta-io/delta's MergeBenchmark (MergeTestCases.scala):
//                    insert-only (one or two NOT MATCHED clauses), delete-only and upsert MERGEs
//                    with changes drawn from a fraction F of the files, M of their rows matched
//                    (by id % 1000) and N times their rows as new keys; copy-on-write vs the
//                    same change by hand (insert-only: the changes anti-joined with the whole
//                    table).                                                          <= 1.25x
#include <algorithm>
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

enum class MergeKind { kUpsert, kInsertOnly, kMultiInsertOnly, kDeleteOnly };

// One MERGE workload (after delta-io/delta's MergeTestCases, with our reading of its
// fractions): the changes hold `row_matched` of the rows of `file_matched` of the files
// (every 1/file_matched-th file; rows by id % 1000), with new values, plus `row_not_matched`
// times as many rows of those files with new keys.
struct MergeCase {
  MergeKind kind;
  double file_matched;
  double row_matched;
  double row_not_matched;

  std::string Name() const {
    const char* names[] = {"upsert", "insert_only", "multi_insert", "delete_only"};
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s_f%g_m%g_n%g", names[static_cast<int>(kind)], file_matched,
                  row_matched, row_not_matched);
    return buf;
  }
  std::string Clauses() const {
    switch (kind) {
      case MergeKind::kUpsert:
        return "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *";
      case MergeKind::kInsertOnly:
        return "WHEN NOT MATCHED THEN INSERT *";
      case MergeKind::kMultiInsertOnly:
        return "WHEN NOT MATCHED AND s.b % 2 = 0 THEN INSERT * WHEN NOT MATCHED THEN INSERT *";
      case MergeKind::kDeleteOnly:
        return "WHEN MATCHED THEN DELETE";
    }
    return "";
  }
};

class MergeBench {
 public:
  MergeBench(engine::Session& s, Runner& runner, fs::path source, std::vector<SourceFile> files,
             int64_t rows_per_file, fs::path tables, fs::path copies, fs::path tmp)
      : s_(s), runner_(runner), source_(std::move(source)), files_(std::move(files)),
        rows_per_file_(rows_per_file), tables_(std::move(tables)), copies_(std::move(copies)),
        tmp_(std::move(tmp)) {}

  // Copy-on-write lake vs the change by hand in DuckDB: the files holding a matched key (a
  // semi-join), then one COPY of those files' rows anti-joined with the changes, plus the
  // rows the change inserts. Answers: the rows of the new files (with deletion vectors: the
  // rows of the new files that carry no DV, i.e. the rows written).
  void Run(const std::string& name, double target, const MergeCase& c, bool dvs,
           const std::string& note) {
    const std::string changes = WriteChanges(c);
    const std::string changes_scan = "read_parquet('" + changes + "')";
    const std::string all = ParquetList(source_, files_);
    RunPlaces places(source_, files_, tables_, copies_, name + "_", dvs ? DvSpec() : TableSpec{});
    const fs::path& table = places.table();
    const fs::path& copy = places.copy();
    auto baseline = [&]() -> Result<std::string> {
      const std::string copy_options = "' (FORMAT parquet, COMPRESSION snappy, FILE_SIZE_BYTES " +
                                       std::to_string(engine::kDefaultTargetFileSizeBytes) + ")";
      std::string written;
      if (c.kind == MergeKind::kInsertOnly || c.kind == MergeKind::kMultiInsertOnly) {
        // Only new rows are written: the changes whose key is not in the table.
        LAKE_ASSIGN_OR_RETURN(written,
                              QueryText(s_, "COPY (SELECT c.* FROM " + changes_scan +
                                                " c ANTI JOIN read_parquet(" + all +
                                                ") t ON t.id = c.id) TO '" + copy.string() +
                                                copy_options));
      } else {
        LAKE_ASSIGN_OR_RETURN(
            engine::ResultTable touched,
            s_.Query("SELECT DISTINCT filename FROM read_parquet(" + all +
                     ", filename = true) t SEMI JOIN " + changes_scan + " c ON t.id = c.id"));
        std::string list;
        for (const auto& row : touched.rows) {
          list += (list.empty() ? "'" : ", '") + std::get<std::string>(row[0].v) + "'";
        }
        std::string kept = list.empty() ? "SELECT * FROM " + changes_scan + " WHERE false"
                                        : "SELECT t.* FROM read_parquet([" + list +
                                              "]) t ANTI JOIN " + changes_scan +
                                              " c ON t.id = c.id";
        std::string rows = kept;
        if (c.kind == MergeKind::kUpsert) rows += " UNION ALL SELECT * FROM " + changes_scan;
        LAKE_ASSIGN_OR_RETURN(written, QueryText(s_, "COPY (" + rows + ") TO '" + copy.string() +
                                                         copy_options));
      }
      if (!dvs) return written;
      // With DVs lake writes only the changes' rows: compare those.
      return QueryText(s_, c.kind == MergeKind::kDeleteOnly
                               ? std::string("SELECT NULL")
                               : "SELECT count(*) FROM " + changes_scan);
    };
    auto lake = [&]() -> Result<std::string> {
      LAKE_RETURN_IF_ERROR(s_.Query("MERGE INTO delta.`" + table.string() + "` t USING " +
                                    changes_scan + " s ON t.id = s.id " + c.Clauses())
                               .status());
      return QueryText(
          s_, "SELECT sum(CAST(json_extract(add.stats, '$.numRecords') AS BIGINT)) FROM "
              "read_json('" + (table / "_delta_log" / CommitName(1)).string() +
              "', format = 'newline_delimited', columns = {'add': 'STRUCT(stats VARCHAR, "
              "deletionVector JSON)'}) WHERE add IS NOT NULL" +
              (dvs ? " AND add.deletionVector IS NULL" : ""));
    };
    runner_.Pair(name, target, baseline, lake, note, places.AsPrepare());
  }

 private:
  static TableSpec DvSpec() {
    return {.protocol = "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
                        "\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":["
                        "\"deletionVectors\"]}}",
            .configuration = "\"delta.enableDeletionVectors\":\"true\""};
  }

  // Writes the changes of `c` to a Parquet file (once per case); returns its path.
  std::string WriteChanges(const MergeCase& c) {
    const fs::path out = tmp_ / ("changes_" + c.Name() + ".parquet");
    if (fs::exists(out)) return out.string();
    const int64_t every = std::max<int64_t>(1, static_cast<int64_t>(1 / c.file_matched + 0.5));
    const int64_t files = static_cast<int64_t>(files_.size());
    std::string in_files;
    int64_t selected_rows = 0;
    for (int64_t f = 0; f < files; f += every) {
      in_files += (in_files.empty() ? "" : " OR ") + std::string("id BETWEEN ") +
                  std::to_string(f * rows_per_file_) + " AND " +
                  std::to_string((f + 1) * rows_per_file_ - 1);
      selected_rows += rows_per_file_;
    }
    const int64_t matched_per_mille = static_cast<int64_t>(c.row_matched * 1000 + 0.5);
    const int64_t new_rows = static_cast<int64_t>(c.row_not_matched * selected_rows + 0.5);
    const int64_t first_new = files * rows_per_file_;
    Check(s_.Query("COPY (SELECT id, a + 1 AS a, b, -v AS v, s || '!' AS s FROM read_parquet(" +
                   ParquetList(source_, files_) + ") WHERE (" + in_files + ") AND id % 1000 < " +
                   std::to_string(matched_per_mille) +
                   " UNION ALL SELECT i AS id, 1 AS a, CAST(i % 7 AS INTEGER) AS b, 0.5 AS v, "
                   "'new' AS s FROM range(" + std::to_string(first_new) + ", " +
                   std::to_string(first_new + new_rows) + ") r(i)) TO '" + out.string() +
                   "' (FORMAT parquet, COMPRESSION snappy)")
              .status(),
          "write the changes of " + c.Name());
    return out.string();
  }

  engine::Session& s_;
  Runner& runner_;
  fs::path source_;
  std::vector<SourceFile> files_;
  int64_t rows_per_file_;
  fs::path tables_, copies_, tmp_;
};

int Main(int argc, char** argv) {
  Options options = ParseArgs(argc, argv);
  const int64_t num_files = options.small ? 20 : 100;
  const int64_t rows_per_file = options.small ? 50'000 : 100'000;
  RewriteBench bench(options);
  engine::Session& s = *bench.session;
  const fs::path& source = bench.source;
  const fs::path& tables = bench.tables;
  const fs::path& copies = bench.copies;
  const std::vector<SourceFile> files = bench.Generate(num_files, rows_per_file);
  const std::string source_list = ParquetList(source, files);
  const std::string data_note = std::to_string(num_files) + " files of " +
                                std::to_string(rows_per_file) + " rows";

  Runner runner(options);

  // ---- DELETE, copy-on-write ----
  RunPlaces places(source, files, tables, copies, "delete");  // the scans below read the last
  const fs::path& table = places.table();
  const fs::path& copy = places.copy();
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
                                   data_note + ", 0.1% of the rows deleted from every file", places.AsPrepare());

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

  // ---- MERGE: the main upsert, with deletion vectors, and delta-io/delta's grid ----
  {
    const int64_t merge_files = options.small ? 40 : 200;
    const int64_t merge_rows = options.small ? 25'000 : 100'000;
    const fs::path msource = fs::path(bench.tmp.path()) / "merge_source";
    fs::create_directories(msource);
    const std::vector<SourceFile> mfiles = WriteSourceFiles(s, msource, merge_files, merge_rows);
    MergeBench merge{s, runner, msource, mfiles, merge_rows, tables, copies, fs::path(bench.tmp.path())};
    const std::string size_note =
        std::to_string(merge_files) + " files of " + std::to_string(merge_rows) + " rows";
    merge.Run("merge_cow", 1.25, {MergeKind::kUpsert, 0.05, 0.5, 0.5}, false, size_note);
    merge.Run("merge_dv", 0.5, {MergeKind::kUpsert, 0.05, 0.5, 0.5}, true,
              size_note + ", deletion vectors");
    // delta-io/delta benchmarks/.../MergeTestCases.scala: (kind, fileMatchedFraction,
    // rowMatchedFraction, rowNotMatchedFraction).
    const std::vector<MergeCase> grid = {
        {MergeKind::kInsertOnly, 0.05, 0, 0.05},       {MergeKind::kInsertOnly, 0.05, 0, 0.5},
        {MergeKind::kInsertOnly, 0.05, 0, 1.0},        {MergeKind::kMultiInsertOnly, 0.05, 0, 0.05},
        {MergeKind::kMultiInsertOnly, 0.05, 0, 0.5},   {MergeKind::kMultiInsertOnly, 0.05, 0, 1.0},
        {MergeKind::kDeleteOnly, 0.05, 0.05, 0},       {MergeKind::kUpsert, 0.05, 0.1, 0.01},
        {MergeKind::kUpsert, 0.05, 0.0, 0.1},          {MergeKind::kUpsert, 0.05, 0.01, 0.1},
        {MergeKind::kUpsert, 0.05, 0.1, 0.0},          {MergeKind::kUpsert, 0.5, 0.01, 0.001},
        {MergeKind::kUpsert, 1.0, 0.01, 0.001},        {MergeKind::kUpsert, 0.05, 0.5, 0.001},
        {MergeKind::kUpsert, 0.05, 0.99, 0.001},       {MergeKind::kUpsert, 0.05, 1.0, 0.001}};
    for (const MergeCase& c : grid) merge.Run(c.Name(), 1.25, c, false, size_note);
  }

  return runner.Finish("dml_bench");
}

}  // namespace
}  // namespace lake::bench

int main(int argc, char** argv) { return lake::bench::Main(argc, argv); }
