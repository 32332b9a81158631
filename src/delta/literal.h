// Literal: one typed scalar value from the log (a partition value or a min/max statistic),
// independent of any engine. The engine converts it to its own value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"
#include "delta/schema.h"

namespace lake::delta {

struct Decimal {
  __int128 unscaled = 0;
  int precision = 38;
  int scale = 0;
  std::string ToString() const;  // "-12.30"
  friend auto operator<=>(const Decimal&, const Decimal&) = default;
};

// Days since 1970-01-01 (date) and microseconds since the epoch (timestamp: UTC instant;
// timestamp_ntz: wall clock with no zone).
struct Date { int32_t days = 0; friend auto operator<=>(const Date&, const Date&) = default; };
struct Timestamp { int64_t micros = 0; friend auto operator<=>(const Timestamp&, const Timestamp&) = default; };
struct TimestampNtz { int64_t micros = 0; friend auto operator<=>(const TimestampNtz&, const TimestampNtz&) = default; };
struct Binary { std::string bytes; friend auto operator<=>(const Binary&, const Binary&) = default; };

// monostate = SQL NULL. Integers of every width are int64_t; float and double are double.
using Literal = std::variant<std::monostate, bool, int64_t, double, std::string, Decimal, Date,
                             Timestamp, TimestampNtz, Binary>;

inline bool IsNull(const Literal& v) { return std::holds_alternative<std::monostate>(v); }

// Parses a partition value (PROTOCOL.md "Partition Value Serialization") of primitive type
// `type`. nullopt and "" are NULL. Timestamps accept "YYYY-MM-DD HH:MM:SS[.ffffff]" (read as
// UTC: the writer's zone is unknowable) and ISO-8601 "...T...Z" / with an offset. kCorruption
// naming the value and type when it does not parse.
Result<Literal> ParsePartitionValue(const DataType& type, const std::optional<std::string>& value);
// The same for a value given as text: "" is NULL. Statistics parse their numbers and dates
// with it, without copying the text.
Result<Literal> ParseLiteralText(const DataType& type, std::string_view value);

// Returns a human/JSON form: numbers as decimal text, dates "YYYY-MM-DD", timestamps
// "YYYY-MM-DDTHH:MM:SS.ffffffZ" (ntz without the Z), binary as hex, NULL as "NULL".
std::string LiteralToString(const Literal& v);

// Three-way compare of two non-null literals of the same type; nullopt if not comparable.
std::optional<int> CompareLiterals(const Literal& a, const Literal& b);

// Calendar helpers (proleptic Gregorian).
int32_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t& y, unsigned& m, unsigned& d);

}  // namespace lake::delta
