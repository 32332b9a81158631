#include "cli/value_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>

#include "base/strings.h"

namespace lake::cli {
namespace {

using engine::ColumnType;
using engine::Value;
using Kind = engine::ColumnType::Kind;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;
// DuckDB's special values: date_t::infinity() is INT32_MAX days, timestamp_t::infinity()
// INT64_MAX micros, and their negations.
constexpr int64_t kDateInfinity = std::numeric_limits<int32_t>::max();
constexpr int64_t kTimestampInfinity = std::numeric_limits<int64_t>::max();

// Returns the integer held by `v` widened to int128, if it holds one.
std::optional<__int128> AsInt128(const Value& v) {
  if (auto* i = std::get_if<int64_t>(&v.v)) return *i;
  if (auto* u = std::get_if<uint64_t>(&v.v)) return static_cast<__int128>(*u);
  if (auto* h = std::get_if<__int128>(&v.v)) return *h;
  if (auto* b = std::get_if<bool>(&v.v)) return *b ? 1 : 0;
  return std::nullopt;
}

std::optional<double> AsDouble(const Value& v) {
  if (auto* d = std::get_if<double>(&v.v)) return *d;
  if (auto i = AsInt128(v)) return static_cast<double>(*i);
  return std::nullopt;
}

// Howard Hinnant's civil_from_days: proleptic Gregorian date of a day count since epoch.
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

std::string FormatYear(int64_t y) {
  char buf[32];
  if (y < 0) {
    std::snprintf(buf, sizeof buf, "-%04lld", static_cast<long long>(-y));
  } else if (y > 9999) {
    std::snprintf(buf, sizeof buf, "+%lld", static_cast<long long>(y));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(y));
  }
  return buf;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// True for kinds whose JSON form is a quoted string produced by ValueToText.
bool IsTextKind(Kind kind) {
  switch (kind) {
    case Kind::kDecimal:
    case Kind::kVarchar:
    case Kind::kBlob:
    case Kind::kDate:
    case Kind::kTime:
    case Kind::kTimestamp:
    case Kind::kTimestampTz:
    case Kind::kInterval:
    case Kind::kUuid:
      return true;
    default:
      return false;
  }
}

const ColumnType& ChildType(const ColumnType& type, size_t idx) {
  static const ColumnType kUnknown{ColumnType::Kind::kOther, 0, 0, {}, "UNKNOWN"};
  return idx < type.children.size() ? type.children[idx].second : kUnknown;
}

// Returns the scalar text (the JSON form without quotes) of a non-null, non-nested value.
std::string ScalarText(const Value& value, const ColumnType& type) {
  switch (type.kind) {
    case Kind::kBoolean:
      if (auto* b = std::get_if<bool>(&value.v)) return *b ? "true" : "false";
      break;
    case Kind::kFloat:
    case Kind::kDouble:
      if (auto d = AsDouble(value)) return FormatFloating(*d, type.kind == Kind::kFloat);
      break;
    case Kind::kDecimal:
      if (auto i = AsInt128(value)) return FormatDecimal(*i, type.scale);
      break;
    case Kind::kBlob:
      if (auto* s = std::get_if<std::string>(&value.v)) return Base64Encode(*s);
      break;
    case Kind::kDate:
      if (auto i = AsInt128(value)) return FormatDate(static_cast<int64_t>(*i));
      break;
    case Kind::kTime:
      if (auto i = AsInt128(value)) return FormatTime(static_cast<int64_t>(*i));
      break;
    case Kind::kTimestamp:
    case Kind::kTimestampTz:
      if (auto i = AsInt128(value)) {
        return FormatTimestamp(static_cast<int64_t>(*i), type.kind == Kind::kTimestampTz);
      }
      break;
    default:
      break;
  }
  // Integers, text-carried types (VARCHAR, INTERVAL, UUID, ...) and anything whose storage
  // does not match its kind: print what the storage holds.
  if (auto* s = std::get_if<std::string>(&value.v)) return *s;
  if (auto* b = std::get_if<bool>(&value.v)) return *b ? "true" : "false";
  if (auto* d = std::get_if<double>(&value.v)) return FormatFloating(*d, false);
  if (auto i = AsInt128(value)) return FormatInt128(*i);
  return "";
}

bool IsNonFiniteText(const std::string& s) {
  return s == "NaN" || s == "Infinity" || s == "-Infinity";
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                 uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string FormatDate(int64_t days) {
  if (days == kDateInfinity) return "infinity";
  if (days == -kDateInfinity) return "-infinity";
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "-%02u-%02u", m, d);
  return FormatYear(y) + buf;
}

std::string FormatTime(int64_t micros) {
  int64_t secs = FloorDiv(micros, kMicrosPerSecond);
  int64_t frac = micros - secs * kMicrosPerSecond;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%06lld", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                static_cast<long long>(frac));
  return buf;
}

std::string FormatTimestamp(int64_t micros, bool utc) {
  if (micros == kTimestampInfinity) return "infinity";
  if (micros == -kTimestampInfinity) return "-infinity";
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t in_day = micros - days * kMicrosPerDay;
  std::string out = FormatDate(days);
  out += 'T';
  out += FormatTime(in_day);
  if (utc) out += 'Z';
  return out;
}

std::string FormatInt128(__int128 v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  // Work with the unsigned magnitude so that INT128_MIN does not overflow.
  unsigned __int128 mag = negative ? -static_cast<unsigned __int128>(v)
                                   : static_cast<unsigned __int128>(v);
  char buf[48];
  int pos = sizeof buf;
  while (mag > 0) {
    buf[--pos] = static_cast<char>('0' + static_cast<int>(mag % 10));
    mag /= 10;
  }
  if (negative) buf[--pos] = '-';
  return std::string(buf + pos, sizeof buf - pos);
}

std::string FormatDecimal(__int128 unscaled, int scale) {
  std::string digits = FormatInt128(unscaled);
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  if (scale <= 0) return (negative ? "-" : "") + digits;
  if (digits.size() <= static_cast<size_t>(scale)) {
    digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
  }
  digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
  return (negative ? "-" : "") + digits;
}

std::string FormatFloating(double v, bool as_float) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::to_chars_result r = as_float ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                                    : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void AppendValueJson(const Value& value, const ColumnType& type, std::string& out) {
  if (value.is_null() || type.kind == Kind::kNull) {
    out += "null";
    return;
  }
  if (auto* list = std::get_if<std::shared_ptr<engine::ValueList>>(&value.v)) {
    const ColumnType& element = ChildType(type, 0);
    out += '[';
    for (size_t idx = 0; *list && idx < (*list)->size(); ++idx) {
      if (idx > 0) out += ',';
      AppendValueJson((**list)[idx], element, out);
    }
    out += ']';
    return;
  }
  if (auto* fields = std::get_if<std::shared_ptr<engine::ValueStruct>>(&value.v)) {
    out += '{';
    for (size_t idx = 0; *fields && idx < (*fields)->size(); ++idx) {
      if (idx > 0) out += ',';
      const auto& [name, field] = (**fields)[idx];
      AppendJsonQuoted(name, out);
      out += ':';
      AppendValueJson(field, ChildType(type, idx), out);
    }
    out += '}';
    return;
  }
  if (auto* map = std::get_if<std::shared_ptr<engine::ValueMap>>(&value.v)) {
    const ColumnType& key_type = ChildType(type, 0);
    const ColumnType& value_type = ChildType(type, 1);
    out += '[';
    for (size_t idx = 0; *map && idx < (*map)->size(); ++idx) {
      if (idx > 0) out += ',';
      out += '[';
      AppendValueJson((**map)[idx].first, key_type, out);
      out += ',';
      AppendValueJson((**map)[idx].second, value_type, out);
      out += ']';
    }
    out += ']';
    return;
  }
  // Fast paths for the common cells; everything else goes through ScalarText.
  if (!IsTextKind(type.kind) || type.kind == Kind::kVarchar) {
    if (auto* i = std::get_if<int64_t>(&value.v); i && type.kind != Kind::kBoolean &&
                                                   type.kind != Kind::kFloat &&
                                                   type.kind != Kind::kDouble) {
      char buf[24];
      out.append(buf, std::to_chars(buf, buf + sizeof buf, *i).ptr);
      return;
    }
    if (auto* str = std::get_if<std::string>(&value.v)) {
      AppendJsonQuoted(*str, out);
      return;
    }
  }
  std::string text = ScalarText(value, type);
  bool quoted = IsTextKind(type.kind) || std::holds_alternative<std::string>(value.v) ||
                IsNonFiniteText(text);
  if (quoted) {
    AppendJsonQuoted(text, out);
  } else {
    out += text;
  }
}

std::string ValueToJson(const Value& value, const ColumnType& type) {
  std::string out;
  AppendValueJson(value, type, out);
  return out;
}

std::optional<std::string> ValueToText(const Value& value, const ColumnType& type) {
  if (value.is_null() || type.kind == Kind::kNull) return std::nullopt;
  if (std::holds_alternative<std::shared_ptr<engine::ValueList>>(value.v) ||
      std::holds_alternative<std::shared_ptr<engine::ValueStruct>>(value.v) ||
      std::holds_alternative<std::shared_ptr<engine::ValueMap>>(value.v)) {
    return ValueToJson(value, type);
  }
  return ScalarText(value, type);
}

namespace {

// Escapes bytes that would break a one-line cell: control characters and, for blobs,
// every byte outside printable ASCII.
std::string EscapeForDisplay(std::string_view s, bool is_blob) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f || (is_blob && (c >= 0x80 || c == '\\'))) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// "2024-01-02T03:04:05.000000" -> "2024-01-02 03:04:05"; keeps a non-zero fraction.
std::string HumanTimestamp(int64_t micros, bool utc) {
  std::string iso = FormatTimestamp(micros, false);
  size_t t = iso.find('T');
  if (t == std::string::npos) return iso;  // infinity
  iso[t] = ' ';
  if (EndsWith(iso, ".000000")) iso.resize(iso.size() - 7);
  if (utc) iso += " UTC";
  return iso;
}

}  // namespace

std::string ValueToDisplay(const Value& value, const ColumnType& type) {
  if (value.is_null() || type.kind == Kind::kNull) return "NULL";
  if ((type.kind == Kind::kTimestamp || type.kind == Kind::kTimestampTz)) {
    if (auto i = AsInt128(value)) {
      return HumanTimestamp(static_cast<int64_t>(*i), type.kind == Kind::kTimestampTz);
    }
  }
  if (type.kind == Kind::kBlob) {
    if (auto* s = std::get_if<std::string>(&value.v)) return EscapeForDisplay(*s, true);
  }
  std::optional<std::string> text = ValueToText(value, type);
  return EscapeForDisplay(text ? *text : "NULL", false);
}

}  // namespace lake::cli
