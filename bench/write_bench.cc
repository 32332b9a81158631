// write_bench: appending to a Delta table vs DuckDB writing the same rows to Parquet
// (issue #3 §6 "append").
//
// Workload:
//   append   lake `INSERT INTO t SELECT <N generated rows>` (a managed table of a temp lake
//            home: Parquet files through DuckDB's own writer in the pipeline, per-file stats,
//            one Delta commit) vs `COPY (SELECT <the same rows>) TO '<dir>' (FORMAT parquet,
//            COMPRESSION snappy, FILE_SIZE_BYTES <delta.targetFileSize>)`.   target <= 1.10x
// N = 20,000,000 (--small: 2,000,000) rows of (id BIGINT, v DOUBLE, cat VARCHAR).
// Both sides answer with the row count their statement reports; afterwards the files are
// checked: the baseline's last folder read with read_parquet, and the Delta table read by
// name and, independently, with read_parquet over the files the log names (the log's adds
// collected by read_json), each must hold the generated rows' count and sums, once per run.
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <string>

#include "bench_util.h"
#include "engine/database.h"
#include "sql/lakehouse.h"

namespace lake::bench {
namespace {

namespace fs = std::filesystem;

std::string RowsSql(int64_t n) {
  return "SELECT i AS id, CAST(i % 1000 AS DOUBLE) * 0.5 AS v, 'c' || (i % 100) AS cat "
         "FROM range(" +
         std::to_string(n) + ") r(i)";
}

// count, sum(id), sum(v) of the generated rows, computed here (the third opinion).
std::string ExpectedCheck(int64_t n, int64_t times) {
  // sum(i) = n(n-1)/2; sum(v) = 0.5 * sum(i % 1000), whole blocks of 1000 plus the rest.
  const __int128 sum_id = static_cast<__int128>(n) * (n - 1) / 2;
  const int64_t blocks = n / 1000, rest = n % 1000;
  const double sum_v = 0.5 * (static_cast<double>(blocks) * 499500.0 +
                              static_cast<double>(rest) * static_cast<double>(rest - 1) / 2);
  char buf[128];
  // QueryText renders the single VARCHAR answer quoted.
  std::snprintf(buf, sizeof buf, "'%lld|%lld|%.1f'", static_cast<long long>(n * times),
                static_cast<long long>(sum_id * times), sum_v * static_cast<double>(times));
  return buf;
}

Result<std::string> CheckSql(engine::Session& s, const std::string& from) {
  return QueryText(s, "SELECT count(*) || '|' || sum(id) || '|' || printf('%.1f', sum(v)) FROM " +
                          from);
}

int Main(int argc, char** argv) {
  Options options = ParseArgs(argc, argv);
  const int64_t rows = options.small ? 2'000'000 : 20'000'000;
  TempDir tmp(options);
  const fs::path home = fs::path(tmp.path()) / "home";
  const fs::path copies = fs::path(tmp.path()) / "copy";

  sql::LakehouseOptions house_options;
  house_options.home = home.string();
  auto house = CheckResult(sql::Lakehouse::Open(house_options), "open lakehouse");
  auto session = CheckResult(house->database().Connect(), "connect");
  engine::Session& s = *session;
  Check(s.Query("CREATE TABLE t AS " + RowsSql(rows) + " LIMIT 0").status(), "create table");
  const std::string location = (home / "warehouse" / "default.db" / "t").string();

  fs::create_directories(copies);
  const std::string insert = "INSERT INTO t " + RowsSql(rows);
  int copy_run = 0;
  fs::path last_copy;
  auto baseline = [&]() -> Result<std::string> {
    last_copy = copies / std::to_string(copy_run++);
    return QueryText(s, "COPY (" + RowsSql(rows) + ") TO '" + last_copy.string() +
                            "' (FORMAT parquet, COMPRESSION snappy, FILE_SIZE_BYTES " +
                            std::to_string(int64_t{128} << 20) + ")");
  };
  auto lake = [&]() -> Result<std::string> { return QueryText(s, insert); };

  Runner runner(options);
  int64_t inserts = 0;
  auto counted_lake = [&]() -> Result<std::string> {
    ++inserts;
    return lake();
  };
  const bool paired = runner.Pair("append", 1.10, baseline, counted_lake,
                                  std::to_string(rows) + " rows, snappy, 128 MiB files");
  if (paired) {
    // The files each side wrote hold exactly the generated rows.
    const std::string want_copy = ExpectedCheck(rows, 1) + "\n";
    Result<std::string> got = CheckSql(s, "read_parquet('" + last_copy.string() + "/*.parquet')");
    if (!got.ok() || *got != want_copy) {
      runner.Fail("append_check", "COPY output: " + (got.ok() ? *got : got.status().ToString()) +
                                      " want " + want_copy);
    }
    const std::string want_lake = ExpectedCheck(rows, inserts) + "\n";
    got = CheckSql(s, "t");
    if (!got.ok() || *got != want_lake) {
      runner.Fail("append_check", "Delta table: " + (got.ok() ? *got : got.status().ToString()) +
                                      " want " + want_lake);
    }
    // Independent reader: the adds of every commit, by read_json, then read_parquet.
    Result<std::string> files = QueryText(
        s, "SELECT string_agg('''' || '" + location +
               "/' || url_decode(add.path) || '''', ', ') FROM read_json('" + location +
               "/_delta_log/*.json', format = 'newline_delimited', "
               "columns = {'add': 'STRUCT(path VARCHAR)'}) WHERE add IS NOT NULL");
    if (files.ok()) {
      std::string list = *files;
      while (!list.empty() && (list.back() == '\n')) list.pop_back();
      // QueryText quotes strings: strip the outer quotes it added.
      if (list.size() >= 2 && list.front() == '\'' && list.back() == '\'') {
        list = list.substr(1, list.size() - 2);
      }
      got = CheckSql(s, "read_parquet([" + list + "])");
    } else {
      got = files.status();
    }
    if (!got.ok() || *got != want_lake) {
      runner.Fail("append_check", "files the log names: " +
                                      (got.ok() ? *got : got.status().ToString()) + " want " +
                                      want_lake);
    }
  }
  return runner.Finish("write_bench");
}

}  // namespace
}  // namespace lake::bench

int main(int argc, char** argv) { return lake::bench::Main(argc, argv); }
