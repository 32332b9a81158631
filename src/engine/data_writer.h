// Writing Delta data files: rows of a query in, Spark-readable Parquet files and their
// delta::AddFile actions out. DuckDB's Parquet writer does the writing (COPY ... TO with
// RETURN_STATS, DUCKDB-INTEGRATION.md §2.5); no DuckDB type appears here.
//
// Nothing here commits: the files stay invisible until a commit names the returned adds
// (PROTOCOL.md "Actions": readers only see files the log names). After any error, files
// already written are orphans that no commit names; VACUUM removes them.
//
// Parquet choices (docs/write-path.md): snappy by default; timestamp as INT64 micros with
// isAdjustedToUTC=true, timestamp_ntz with isAdjustedToUTC=false; decimals as INT32/INT64/
// FIXED_LEN_BYTE_ARRAY by precision; standard 3-level lists and key_value maps; partition
// columns only in the directory names (Hive style, null as __HIVE_DEFAULT_PARTITION__);
// file names part-<uuidv7>[.<codec>].parquet; column mapping writes physical names and
// Parquet field ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/schema.h"
#include "engine/database.h"

namespace lake::engine {

inline constexpr int64_t kDefaultTargetFileSizeBytes = int64_t{128} << 20;  // delta.targetFileSize
inline constexpr int kDefaultNumIndexedCols = 32;  // delta.dataSkippingNumIndexedCols

struct WriteOptions {
  // Logical names of the partition columns, in the table's order (metadata.partitionColumns).
  std::vector<std::string> partition_columns;
  // Files are cut near this size. DuckDB 1.4 cannot rotate files of a partitioned COPY, so
  // on partitioned tables each write makes one file per partition value and thread.
  int64_t target_file_size_bytes = kDefaultTargetFileSizeBytes;
  // uncompressed, snappy, gzip, zstd, lz4, lz4_raw, brotli.
  std::string compression = "snappy";
  // Statistics for the first N leaf columns (< 0: all), unless `stats_columns` names them.
  int num_indexed_cols = kDefaultNumIndexedCols;
  std::optional<std::string> stats_columns;  // delta.dataSkippingStatsColumns
  std::string column_mapping_mode = "none";  // delta.columnMapping.mode: none, name, id
};

// Returns the options a write to a table with `metadata` must use: its partition columns,
// delta.targetFileSize, delta.parquet.compression.codec, delta.dataSkippingNumIndexedCols,
// delta.dataSkippingStatsColumns, delta.columnMapping.mode. kInvalidArgument naming the
// property whose value is malformed.
Result<WriteOptions> WriteOptionsFor(const delta::Metadata& metadata);

// --- Type mapping ---

// Returns the DuckDB type whose Parquet encoding Spark reads as `type` (struct field names
// are physical names under `column_mapping_mode`). kNotSupported for void and variant.
Result<std::string> DuckDbTypeFor(const delta::DataType& type,
                                  std::string_view column_mapping_mode = "none");

// A Delta schema for a query result (CREATE TABLE ... AS SELECT).
struct QuerySchema {
  delta::Schema schema;
  // The columns written with a lossless conversion, e.g. "u: UUID is written as string".
  // WriteDataFiles applies them; callers may show them.
  std::vector<std::string> conversions;
};

// Returns the Delta schema for result columns. Converted: UUID and ENUM -> string, unsigned
// integers -> the next wider signed type (UBIGINT -> decimal(20,0)), TIMESTAMP_S/MS/NS ->
// timestamp_ntz (NS loses its nanoseconds). Refused with kNotSupported listing every such
// column: HUGEINT/UHUGEINT (DuckDB would write a lossy DOUBLE), TIME, INTERVAL, UNION,
// VARIANT, BIT, BIGNUM and other types Spark cannot read; a NULL-typed column (Delta's void
// cannot be written). kInvalidArgument for duplicate column names (case-insensitive).
Result<QuerySchema> DeltaSchemaFor(const std::vector<ResultColumn>& columns);
// Same, for the result columns of `query` (planned, not run).
Result<QuerySchema> DeltaSchemaOfQuery(Session& session, std::string_view query);

// --- Writing ---

// Runs `query` on `session` and writes its rows as data files under `table_root` (a local
// folder or file:// URI; created if missing) for a table with `schema` and `options`.
// `query` must produce exactly the table's columns, matched by name (case-insensitively),
// in any order. Returns one add per file: path relative to the root and percent-encoded,
// partitionValues serialized per PROTOCOL.md "Partition Value Serialization" (keys are
// physical names), size and modificationTime from the file system, dataChange=true, stats
// JSON (engine/internal/file_stats.h). No rows: no files, an empty vector.
//
// Errors: kInvalidArgument before any file is written when the query's columns do not fit
// the schema (the message lists every missing, extra and mistyped column); kInvalidArgument
// when a NOT NULL column receives a NULL (the message shows the row); kNotSupported for
// non-local roots and for partition columns of type binary or nested; DuckDB's errors
// otherwise (a failed cast, an I/O error).
// The session is used for the duration of the call; one call at a time per session.
Result<std::vector<delta::AddFile>> WriteDataFiles(Session& session, std::string_view query,
                                                   std::string_view table_root,
                                                   const delta::Schema& schema,
                                                   const WriteOptions& options);
// Same, on a new session of `db`.
Result<std::vector<delta::AddFile>> WriteDataFiles(Database& db, std::string_view query,
                                                   std::string_view table_root,
                                                   const delta::Schema& schema,
                                                   const WriteOptions& options);

}  // namespace lake::engine
