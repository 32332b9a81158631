// Source files and throw-away Delta tables for the benches that rewrite tables (OPTIMIZE,
// DELETE, MERGE): F Parquet files of R rows written once by DuckDB, and per run a fresh
// Delta table over hard links to them whose version 0 the bench writes by hand (delta_gen.h),
// so preparing a run costs no lake write and every run starts from the same files.
//
// Rows: i over 0 .. F*R-1, file i / R, columns
//   id BIGINT = i, a INTEGER = hash(i) % 1000, b INTEGER = hash(7i + 3) % 1000,
//   v DOUBLE = i / 4, s VARCHAR = 's' || (i % 977)
// (a and b are independent and spread over 0..999; id is sorted within and across files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "delta_gen.h"
#include "engine/database.h"
#include "sql/lakehouse.h"

namespace lake::bench {

inline constexpr char kSmallFilesSchema[] =
    R"({"type":"struct","fields":[)"
    R"({"name":"id","type":"long","nullable":true,"metadata":{}},)"
    R"({"name":"a","type":"integer","nullable":true,"metadata":{}},)"
    R"({"name":"b","type":"integer","nullable":true,"metadata":{}},)"
    R"({"name":"v","type":"double","nullable":true,"metadata":{}},)"
    R"({"name":"s","type":"string","nullable":true,"metadata":{}}]})";

struct SourceFile {
  std::string name;  // file name under the source folder and in every table folder
  int64_t size = 0;
  std::string stats;  // the add's stats JSON
};

// Strips QueryText's rendering of one VARCHAR value: the quotes and the newline.
inline std::string Unquote(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
    text = text.substr(1, text.size() - 2);
  }
  return text;
}

// Writes the files into `source` (exits on failure) and returns them with their stats.
inline std::vector<SourceFile> WriteSourceFiles(engine::Session& s, const std::filesystem::path& source,
                                                int64_t files, int64_t rows_per_file) {
  namespace fs = std::filesystem;
  const fs::path staging = source / "staging";
  // One writer thread: each value of f then arrives contiguously and becomes exactly one
  // file (a partitioned COPY closes files beyond its open-file limit and reopens new ones).
  Check(s.Query("SET threads = 1").status(), "set threads");
  Check(s.Query("COPY (SELECT i AS id, CAST(hash(i) % 1000 AS INTEGER) AS a, "
                "CAST(hash(i * 7 + 3) % 1000 AS INTEGER) AS b, CAST(i AS DOUBLE) * 0.25 AS v, "
                "'s' || (i % 977) AS s, i // " + std::to_string(rows_per_file) +
                " AS f FROM range(" + std::to_string(files * rows_per_file) +
                ") r(i) ORDER BY i) TO '" + staging.string() +
                "' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (f))")
            .status(),
        "write source files");
  Check(s.Query("RESET threads").status(), "reset threads");
  // Flatten f=<k>/<name>.parquet into part-<k>.parquet.
  std::vector<SourceFile> out;
  for (const auto& dir : fs::directory_iterator(staging)) {
    const std::string folder = dir.path().filename().string();
    std::vector<fs::path> parts;
    for (const auto& f : fs::directory_iterator(dir.path())) parts.push_back(f.path());
    if (parts.size() != 1) {
      Check(Status::Internal("expected one file in " + dir.path().string() + ", found " +
                             std::to_string(parts.size())),
            "write source files");
    }
    SourceFile file;
    file.name = "part-" + folder.substr(folder.find('=') + 1) + ".parquet";
    fs::rename(parts[0], source / file.name);
    file.size = static_cast<int64_t>(fs::file_size(source / file.name));
    out.push_back(std::move(file));
  }
  fs::remove_all(staging);
  if (static_cast<int64_t>(out.size()) != files) {
    Check(Status::Internal("wrote " + std::to_string(out.size()) + " files, wanted " +
                           std::to_string(files)),
          "write source files");
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
  for (SourceFile& f : out) f.stats = by_name.at(f.name);
  return out;
}

// The source files as a read_parquet list: ['<source>/part-0.parquet', ...].
inline std::string ParquetList(const std::filesystem::path& source,
                               const std::vector<SourceFile>& files) {
  std::string list;
  for (const SourceFile& f : files) {
    list += (list.empty() ? "'" : ", '") + (source / f.name).string() + "'";
  }
  return "[" + list + "]";
}

struct TableSpec {
  std::string protocol = ProtocolAction(1, 2);  // the protocol action, rendered
  std::string configuration;                    // the metaData configuration's body
};

// A fresh Delta table at `table` over hard links to the source files (see the file comment).
inline Status MakeTableOver(const std::filesystem::path& source,
                            const std::vector<SourceFile>& files,
                            const std::filesystem::path& table, const TableSpec& spec = {}) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove_all(table, ec);
  fs::create_directories(table / "_delta_log", ec);
  if (ec) return Status::IOError("mkdir " + table.string() + ": " + ec.message());
  std::vector<std::string> actions = {
      spec.protocol, MetadataAction(kSmallFilesSchema, {}, kGenT0, spec.configuration)};
  for (const SourceFile& f : files) {
    fs::create_hard_link(source / f.name, table / f.name, ec);
    if (ec) return Status::IOError("link " + f.name + ": " + ec.message());
    actions.push_back(AddAction(f.name, "", f.size, kGenT0, f.stats));
  }
  if (!WriteCommit(table, 0, actions)) {
    return Status::IOError("writing the log of " + table.string());
  }
  return Status::OK();
}

// The files the JSON commits of `table` name as live, as a read_parquet list.
inline Result<std::string> LiveFilesList(engine::Session& s, const std::filesystem::path& table) {
  const std::string log = "read_json('" + (table / "_delta_log" / "*.json").string() +
                          "', format = 'newline_delimited', columns = {'add': 'STRUCT(path "
                          "VARCHAR)', 'remove': 'STRUCT(path VARCHAR)'})";
  LAKE_ASSIGN_OR_RETURN(
      std::string list,
      QueryText(s, "SELECT string_agg('''" + table.string() +
                       "/' || path || '''', ', ' ORDER BY path) FROM (SELECT add.path AS path "
                       "FROM " + log + " WHERE add IS NOT NULL EXCEPT SELECT remove.path FROM " +
                       log + " WHERE remove IS NOT NULL)"));
  return "[" + Unquote(list) + "]";
}

// The rows the adds of commit `version` of `table` hold (the sum of their numRecords).
inline Result<std::string> RowsAddedAt(engine::Session& s, const std::filesystem::path& table,
                                       int64_t version) {
  return QueryText(
      s, "SELECT sum(CAST(json_extract(add.stats, '$.numRecords') AS BIGINT)) FROM read_json('" +
             (table / "_delta_log" / CommitName(version)).string() +
             "', format = 'newline_delimited', columns = {'add': 'STRUCT(stats VARCHAR)'}) "
             "WHERE add IS NOT NULL");
}

// Fresh places for the runs of one workload (Runner::Pair's prepare): before each lake run a
// new table over the source files, before each baseline run a new output folder. Only the
// latest of each is kept, for what a later workload reads.
class RunPlaces {
 public:
  RunPlaces(std::filesystem::path source, const std::vector<SourceFile>& files,
            std::filesystem::path tables, std::filesystem::path copies, std::string prefix,
            TableSpec spec = {})
      : source_(std::move(source)), files_(files), tables_(std::move(tables)),
        copies_(std::move(copies)), prefix_(std::move(prefix)), spec_(std::move(spec)) {}

  Status Prepare(bool is_lake) {
    std::error_code ec;
    std::filesystem::path& place = is_lake ? table_ : copy_;
    if (!place.empty()) std::filesystem::remove_all(place, ec);
    place = (is_lake ? tables_ : copies_) / (prefix_ + std::to_string(run_++));
    return is_lake ? MakeTableOver(source_, files_, table_, spec_) : Status::OK();
  }
  Runner::Prepare AsPrepare() {
    return [this](bool is_lake) { return Prepare(is_lake); };
  }
  const std::filesystem::path& table() const { return table_; }
  const std::filesystem::path& copy() const { return copy_; }

 private:
  std::filesystem::path source_;
  const std::vector<SourceFile>& files_;
  std::filesystem::path tables_, copies_;
  std::string prefix_;
  TableSpec spec_;
  int run_ = 0;
  std::filesystem::path table_, copy_;
};

// The scratch space of a bench that rewrites tables: under one folder, source/ (the source
// files), tables/ (lake's tables), copy/ (DuckDB's outputs) and home/ (the lake home of the
// Lakehouse the bench's session runs in).
struct RewriteBench {
  explicit RewriteBench(const Options& options)
      : tmp(options),
        source(std::filesystem::path(tmp.path()) / "source"),
        tables(std::filesystem::path(tmp.path()) / "tables"),
        copies(std::filesystem::path(tmp.path()) / "copy") {
    for (const auto& dir : {source, tables, copies}) std::filesystem::create_directories(dir);
    sql::LakehouseOptions house_options;
    house_options.home = (std::filesystem::path(tmp.path()) / "home").string();
    house = CheckResult(sql::Lakehouse::Open(house_options), "open lakehouse");
    session = CheckResult(house->database().Connect(), "connect");
  }

  // WriteSourceFiles into source/, reporting what it wrote on stderr.
  std::vector<SourceFile> Generate(int64_t files, int64_t rows_per_file) {
    const double t0 = WallMs();
    std::vector<SourceFile> out = WriteSourceFiles(*session, source, files, rows_per_file);
    int64_t bytes = 0;
    for (const SourceFile& f : out) bytes += f.size;
    std::fprintf(stderr, "generated %lld files of %lld rows, %.1f MiB, in %.1f s\n",
                 static_cast<long long>(files), static_cast<long long>(rows_per_file),
                 static_cast<double>(bytes) / (1 << 20), (WallMs() - t0) / 1e3);
    return out;
  }

  TempDir tmp;
  std::filesystem::path source, tables, copies;
  std::unique_ptr<sql::Lakehouse> house;
  std::unique_ptr<engine::Session> session;
};

}  // namespace lake::bench
