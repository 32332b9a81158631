// The two halves of a Delta data write that every writer shares, so that COPY-based writes
// (data_writer.h) and writes planned into DuckDB's pipeline (lake_write.h: INSERT, CREATE
// TABLE AS SELECT) produce the same files and the same add actions:
//  (1) PlanWriteProjection: SQL expressions, over the source rows, that convert each column
//      to the type whose Parquet encoding Spark reads, serialize partition values
//      (PROTOCOL.md "Partition Value Serialization") and enforce NOT NULL and CHECK
//      constraints; the column check against the table schema runs here, before any write.
//  (2) AddFileForWrittenFile: one written file as DuckDB reports it (RETURN_STATS /
//      WRITTEN_FILE_STATISTICS) -> the add action (path encoding, partitionValues, stats).
// No DuckDB type appears here. Design notes: data_writer.cc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/schema.h"
#include "delta/table_features.h"
#include "engine/data_writer.h"
#include "engine/database.h"
#include "engine/internal/file_stats.h"

namespace lake::engine::internal {

// One column the write produces: data columns first (schema order), then partition columns.
struct WriteColumn {
  std::string expr;           // SQL over `<alias>."<source column>"`
  std::string physical_name;  // name in the file / partition folder
  bool is_partition = false;
};

struct WriteProjection {
  std::string root;  // absolute local folder, no trailing '/'
  std::vector<WriteColumn> columns;
  // FIELD_IDS entries ('name': id, nested {...} for structs); empty when not column mapped.
  std::vector<std::string> field_ids;
  std::vector<StatsColumn> indexed;    // columns that get statistics
  std::string filename_pattern;        // part-{uuidv7}[.<codec>], extension "parquet" apart
  size_t num_data_columns() const;
};

// Plans the projection writing rows with result `columns` (source alias `alias`) into a table
// with `schema` and `options` at `table_root` (created if missing). Columns match by name,
// case-insensitively, in any order. Every row is checked against `constraints` (false or
// NULL fails the write; the error shows the row as JSON) and NOT NULL top-level columns.
// kInvalidArgument listing every missing, extra and mistyped column; kNotSupported for
// non-local roots, binary/nested partition columns, all-partition tables.
Result<WriteProjection> PlanWriteProjection(const std::vector<ResultColumn>& columns,
                                            std::string_view alias, std::string_view table_root,
                                            const delta::Schema& schema,
                                            const WriteOptions& options,
                                            const std::vector<delta::TableConstraint>& constraints);

// Appends to `problems` why a column of type `src` cannot be written to a `target` column
// (named `path`), nested paths included; nothing when it can (narrowing numbers are checked
// row by row by the cast, as Spark's ANSI store assignment).
void CheckColumnAssignable(const ColumnType& src, const delta::DataType& target,
                           const std::string& path, std::vector<std::string>& problems);

// One file DuckDB's Parquet writer reports.
struct WrittenFile {
  std::string filename;  // absolute path as DuckDB wrote it
  int64_t num_records = 0;
  // partition key (physical name) -> the folder value DuckDB reports (serialized form).
  std::map<std::string, std::optional<std::string>> partition_keys;
  std::vector<WrittenColumnStats> stats;
};

// Returns the add action for `file`: path relative to the root, percent-encoded once;
// partitionValues in the table's order keyed by physical name; size and modificationTime
// from the file system; dataChange; stats JSON. nullopt for a file with no rows (removed:
// DuckDB writes an empty file for an unpartitioned write of nothing). kInternal when DuckDB
// wrote outside the root or reported no value for a partition column; kIOError when the file
// cannot be stat'ed.
Result<std::optional<delta::AddFile>> AddFileForWrittenFile(const WriteProjection& projection,
                                                            const delta::Schema& schema,
                                                            const WriteOptions& options,
                                                            const WrittenFile& file);

}  // namespace lake::engine::internal
