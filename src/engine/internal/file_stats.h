// Delta per-file statistics from what DuckDB's Parquet writer reports about a file it wrote
// (COPY ... RETURN_STATS, or PhysicalCopyToFile's WRITTEN_FILE_STATISTICS inside a pipeline).
// No DuckDB type appears here: both callers turn DuckDB's values into WrittenColumnStats.
//
// What is written (PROTOCOL.md "Per-file Statistics"; Spark's StatisticsCollection is the
// reference for the choices the protocol leaves open):
//  (1) numRecords always; minValues / maxValues / nullCount mirror the physical schema
//      (nested structs as nested objects, keys are physical names under column mapping).
//  (2) Only the indexed leaf columns: the first delta.dataSkippingNumIndexedCols leaves of
//      the data schema (partition columns excluded; a struct counts its leaves, an array or
//      a map counts as one), or exactly delta.dataSkippingStatsColumns when set.
//  (3) min/max only for numbers, dates, timestamps and strings (Spark's
//      SkippingEligibleDataType): not for booleans, binary, arrays, maps.
//  (4) Every value written must stay a bound after the rewrite:
//       - strings are cut to a 32-character prefix; a cut max gets a U+FFFD tie-breaker
//         appended, after first keeping any following characters >= U+FFFD, so it is still
//         >= every value in UTF-8 byte order (Spark's truncateMaxStringAgg, with code points
//         instead of UTF-16 units so a cut before a 4-byte character stays an upper bound);
//       - timestamps go to milliseconds: min rounded down, max rounded UP (Spark truncates
//         both, and readers widen max by 1 ms; rounding up keeps naive readers correct);
//       - floats with a NaN get no min/max (engines sort NaN above every number); an
//         infinite bound is left out alone (JSON has no Infinity; the other stays valid);
//       - anything that does not parse (DuckDB's text for an out-of-range year, "infinity")
//         is left out: a missing statistic means "unknown", a wrong one hides rows.
//  (5) nullCount only where DuckDB counts it: top-level and struct leaves (a struct leaf
//      counts rows where the struct itself is null, as Spark does). Arrays and maps have no
//      row-level null count in the Parquet footer, so they get none.
//  (6) tightBounds is not written: it only matters once a deletion vector is attached.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "delta/schema.h"

namespace lake::engine::internal {

// Characters kept of a string min/max (Spark's DATA_SKIPPING_STRING_PREFIX_LENGTH default).
inline constexpr size_t kStatsStringPrefixChars = 32;

// One leaf column's statistics as DuckDB reports them: stat name ("min", "max",
// "null_count", "has_nan", ...) -> value text.
struct WrittenColumnStats {
  std::vector<std::string> path;  // names as written in the file, from the root: {"s", "a"}
  std::map<std::string, std::string> stats;
};

// Parses a RETURN_STATS column key: a '.'-separated list of double-quoted names with ""
// escapes ("\"s\".\"a\"" -> {"s", "a"}). nullopt if malformed.
std::optional<std::vector<std::string>> ParseStatsColumnPath(std::string_view key);

// One column that gets statistics: a leaf (type set) or a struct with indexed children.
struct StatsColumn {
  std::string physical_name;
  delta::DataType type;               // the leaf's type; kStruct for a struct node
  std::vector<StatsColumn> children;  // struct nodes only
};

// Returns the columns that get statistics, per (2) above. `data_fields` are the table's
// non-partition fields in schema order; `num_indexed_cols` < 0 means all; `stats_columns`
// (comma-separated, dotted for nested fields, `backquoted` where needed, case-insensitive)
// overrides it when set. kInvalidArgument naming an entry that matches no column.
Result<std::vector<StatsColumn>> IndexedStatsColumns(
    const std::vector<delta::StructField>& data_fields, std::string_view column_mapping_mode,
    int num_indexed_cols, const std::optional<std::string>& stats_columns);

// Returns the stats JSON of one file with `num_records` rows.
std::string BuildStatsJson(const std::vector<StatsColumn>& indexed, int64_t num_records,
                           const std::vector<WrittenColumnStats>& written);

// The value rewrites of (4), exposed for tests.
// Returns the first `prefix_chars` code points of `s` (all of it if shorter).
std::string TruncateStringMin(std::string_view s, size_t prefix_chars = kStatsStringPrefixChars);
// Returns `s` if at most `prefix_chars` code points long, else an upper bound of every string
// that starts with the same `prefix_chars` code points and is <= s.
std::string TruncateStringMax(std::string_view s, size_t prefix_chars = kStatsStringPrefixChars);
// Converts DuckDB's timestamp text ("2024-01-01 00:16:39.123456+00", zone-less for
// TIMESTAMP) to Delta's JSON form: "2024-01-01T00:16:39.123Z" (with_zone) or
// "2024-01-01T00:16:39.123". Rounds sub-millisecond parts down, or up when `round_up`.
// nullopt if the text does not parse or the result leaves years 0001-9999.
std::optional<std::string> TimestampStatText(std::string_view duckdb_text, bool with_zone,
                                             bool round_up);

}  // namespace lake::engine::internal
