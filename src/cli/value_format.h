// How lake prints one result value: the lossless JSON encoding of `--format jsonl`/`json`
// (issue #2 §5) and the text forms used by the table and CSV outputs.
//
// JSON encoding, by column type (engine::ColumnType::Kind):
//  (1) NULL of any type -> null. BOOLEAN -> true/false.
//  (2) Integers of every width, signed or not (incl. BIGINT, UBIGINT, HUGEINT) -> a JSON
//      integer written exactly; readers must use an int64/int128-capable parser.
//  (3) FLOAT -> the shortest decimal that round-trips through float32; DOUBLE -> shortest
//      round-trip double. NaN, Infinity, -Infinity -> the strings "NaN", "Infinity",
//      "-Infinity" (JSON has no such numbers).
//  (4) DECIMAL(p,s) -> a string with exactly s fractional digits: unscaled -1230, s=2 ->
//      "-12.30"; never a JSON number, which most readers would round through a double.
//  (5) VARCHAR -> a JSON string. BLOB -> standard base64 with padding (RFC 4648 §4).
//  (6) DATE -> "YYYY-MM-DD" (proleptic Gregorian); TIME -> "HH:MM:SS.ffffff";
//      TIMESTAMP WITH TIME ZONE (Delta `timestamp`) -> "YYYY-MM-DDTHH:MM:SS.ffffffZ";
//      TIMESTAMP (Delta `timestamp_ntz`) -> the same without the "Z". Always 6 fractional
//      digits. Years outside 0000..9999 are written with a sign ("+10000", "-0001", ISO 8601
//      expanded); DuckDB's infinite dates/timestamps -> "infinity" / "-infinity".
//  (7) STRUCT -> an object keyed by field name, in field order; LIST -> an array;
//      MAP -> an array of [key, value] pairs in the engine's order (Delta maps are unordered;
//      the order is whatever the data file holds).
//  (8) INTERVAL, UUID and other types the engine hands over as text -> a JSON string.
//
// The table output uses human text for the same values (ValueToDisplay) and CSV uses the
// JSON scalars unquoted (ValueToText), so a CSV round-trip loses nothing either.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/database.h"

namespace lake::cli {

// Returns the JSON text of `value` of column type `type` (rules above).
std::string ValueToJson(const engine::Value& value, const engine::ColumnType& type);
// Appends the JSON text of `value` to `out`; the allocation-friendly form of ValueToJson.
void AppendValueJson(const engine::Value& value, const engine::ColumnType& type,
                     std::string& out);

// Returns the lossless text of a value without JSON quoting: scalars exactly as in JSON but
// unquoted (decimal "-12.30", base64 blob, ISO timestamps), nested values as their JSON text.
// nullopt for NULL.
std::optional<std::string> ValueToText(const engine::Value& value,
                                       const engine::ColumnType& type);

// Returns the human-readable text shown in a table cell: NULL as "NULL", timestamps as
// "YYYY-MM-DD HH:MM:SS[.ffffff]" (+ " UTC" with a time zone), blobs with non-printable
// bytes as \xNN, control characters escaped so a cell stays on one line.
std::string ValueToDisplay(const engine::Value& value, const engine::ColumnType& type);

// Encoding building blocks, public so that tests and other printers share them.
std::string Base64Encode(std::string_view bytes);
// Days since 1970-01-01 -> "YYYY-MM-DD".
std::string FormatDate(int64_t days_since_epoch);
// Microseconds since midnight -> "HH:MM:SS.ffffff".
std::string FormatTime(int64_t micros_since_midnight);
// Microseconds since 1970-01-01 00:00:00 -> "YYYY-MM-DDTHH:MM:SS.ffffff", plus "Z" if `utc`.
std::string FormatTimestamp(int64_t micros_since_epoch, bool utc);
// Unscaled integer and scale -> "-12.30".
std::string FormatDecimal(__int128 unscaled, int scale);
std::string FormatInt128(__int128 v);
// Shortest round-trip text; `as_float` rounds to float32 first. NaN/Infinity/-Infinity as
// those words (without quotes).
std::string FormatFloating(double v, bool as_float);

}  // namespace lake::cli
