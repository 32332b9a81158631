// Delta stats JSON from DuckDB's written-file statistics; the rules are in file_stats.h.
#include "engine/internal/file_stats.h"

#include <utility>

#include "base/strings.h"
#include "delta/literal.h"

namespace lake::engine::internal {
namespace {

using delta::DataType;
using delta::StructField;
using delta::TypeKind;

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

// Length of the UTF-8 sequence starting with `lead`; stray continuation bytes count as one.
size_t Utf8Length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the code point at s[pos] (len from Utf8Length, clamped to the string's end).
uint32_t CodePointAt(std::string_view s, size_t pos, size_t len) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]); };
  switch (len) {
    case 2:
      return ((byte(0) & 0x1Fu) << 6) | (byte(1) & 0x3Fu);
    case 3:
      return ((byte(0) & 0x0Fu) << 12) | ((byte(1) & 0x3Fu) << 6) | (byte(2) & 0x3Fu);
    case 4:
      return ((byte(0) & 0x07u) << 18) | ((byte(1) & 0x3Fu) << 12) | ((byte(2) & 0x3Fu) << 6) |
             (byte(3) & 0x3Fu);
    default:
      return byte(0);
  }
}

// Byte offset just after the first `chars` code points of `s` (s.size() if shorter).
size_t PrefixBytes(std::string_view s, size_t chars) {
  size_t pos = 0;
  for (size_t n = 0; n < chars && pos < s.size(); ++n) {
    pos = std::min(s.size(), pos + Utf8Length(static_cast<unsigned char>(s[pos])));
  }
  return pos;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    return i - start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Reads exactly `n` digits at s[pos].
std::optional<int64_t> FixedDigits(std::string_view s, size_t& pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int64_t v = 0;
  for (size_t k = 0; k < n; ++k) {
    if (!IsDigit(s[pos + k])) return std::nullopt;
    v = v * 10 + (s[pos + k] - '0');
  }
  pos += n;
  return v;
}

bool Eat(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

// Parses "YYYY-MM-DD" at s[pos] into days since the epoch; validates the calendar date.
std::optional<int64_t> ParseDate(std::string_view s, size_t& pos) {
  auto y = FixedDigits(s, pos, 4);
  if (!y || !Eat(s, pos, '-')) return std::nullopt;
  auto m = FixedDigits(s, pos, 2);
  if (!m || !Eat(s, pos, '-')) return std::nullopt;
  auto d = FixedDigits(s, pos, 2);
  if (!d || *y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > 31) return std::nullopt;
  int64_t days = delta::DaysFromCivil(*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d));
  int64_t ry;
  unsigned rm, rd;
  delta::CivilFromDays(days, ry, rm, rd);  // rejects Feb 30 and friends
  if (ry != *y || rm != *m || rd != *d) return std::nullopt;
  return days;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string Pad(int64_t v, int width) { return ZeroPad(v, width); }

// A Delta stat value for one leaf as JSON text, or nullopt to leave it out.
std::optional<std::string> MinMaxJson(const DataType& type, const WrittenColumnStats& column,
                                      bool is_max) {
  auto it = column.stats.find(is_max ? "max" : "min");
  if (it == column.stats.end()) return std::nullopt;
  const std::string& text = it->second;
  switch (type.kind) {
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
      if (!ParseInt64(text)) return std::nullopt;
      return text;
    case TypeKind::kFloat:
    case TypeKind::kDouble: {
      // With a NaN in the file DuckDB's bounds exclude it, but engines order NaN above every
      // number, so no max is right and a min alone would be an odd half; leave both out.
      auto nan = column.stats.find("has_nan");
      if (nan != column.stats.end() && nan->second != "false") return std::nullopt;
      // "inf" / "-inf" are not JSON; dropping one infinite bound leaves the other valid.
      if (!IsJsonNumber(text)) return std::nullopt;
      return text;
    }
    case TypeKind::kDecimal:
      if (!IsJsonNumber(text)) return std::nullopt;
      return text;  // Spark writes decimals as JSON numbers too (e.g. 123.45)
    case TypeKind::kDate: {
      size_t pos = 0;
      if (!ParseDate(text, pos) || pos != text.size()) return std::nullopt;
      return JsonQuote(text);
    }
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz: {
      auto ts = TimestampStatText(text, type.kind == TypeKind::kTimestamp, is_max);
      if (!ts) return std::nullopt;
      return JsonQuote(*ts);
    }
    case TypeKind::kString:
      return JsonQuote(is_max ? TruncateStringMax(text) : TruncateStringMin(text));
    default:
      return std::nullopt;  // (3): booleans, binary, nested, variant get no min/max
  }
}

std::optional<std::string> NullCountJson(const WrittenColumnStats& column) {
  auto it = column.stats.find("null_count");
  if (it == column.stats.end()) return std::nullopt;
  std::optional<int64_t> n = ParseInt64(it->second);
  if (!n || *n < 0) return std::nullopt;
  return std::to_string(*n);
}

enum class Section { kMin, kMax, kNullCount };

using StatsByPath = std::map<std::vector<std::string>, const WrittenColumnStats*>;

// Appends `"name":value` pairs of `columns` (under `prefix`) to `out`; returns how many.
int AppendSection(const std::vector<StatsColumn>& columns, Section section,
                  std::vector<std::string>& prefix, const StatsByPath& written, std::string& out) {
  int emitted = 0;
  for (const StatsColumn& column : columns) {
    prefix.push_back(column.physical_name);
    std::optional<std::string> value;
    if (column.type.kind == TypeKind::kStruct) {
      std::string nested;
      if (AppendSection(column.children, section, prefix, written, nested) > 0) {
        value = "{" + nested + "}";
      }
    } else if (auto it = written.find(prefix); it != written.end()) {
      value = section == Section::kNullCount
                  ? NullCountJson(*it->second)
                  : MinMaxJson(column.type, *it->second, section == Section::kMax);
    }
    prefix.pop_back();
    if (!value) continue;
    if (emitted++ > 0) out += ',';
    AppendJsonQuoted(column.physical_name, out);
    out += ':';
    out += *value;
  }
  return emitted;
}

StatsColumn AllOf(const StructField& field, std::string_view mode) {
  StatsColumn column{field.PhysicalNameFor(mode), field.type, {}};
  if (field.type.kind == TypeKind::kStruct) {
    column.type.fields.clear();  // children carry the nested fields
    for (const StructField& child : field.type.fields)
      column.children.push_back(AllOf(child, mode));
  }
  return column;
}

// Spark's truncateSchema: the first `budget` leaves in schema order.
std::vector<StatsColumn> FirstLeaves(const std::vector<StructField>& fields, std::string_view mode,
                                     int64_t& budget) {
  std::vector<StatsColumn> out;
  for (size_t i = 0; i < fields.size() && budget > 0; ++i) {
    const StructField& field = fields[i];
    if (field.type.kind == TypeKind::kStruct) {
      StatsColumn column{field.PhysicalNameFor(mode), DataType{}, {}};
      column.type.kind = TypeKind::kStruct;
      column.children = FirstLeaves(field.type.fields, mode, budget);
      out.push_back(std::move(column));
    } else {
      out.push_back(AllOf(field, mode));
      --budget;
    }
  }
  return out;
}

// Splits delta.dataSkippingStatsColumns into lower-cased name paths.
Result<std::vector<std::vector<std::string>>> ParseStatsColumnList(std::string_view text) {
  std::vector<std::vector<std::string>> paths;
  std::vector<std::string> path;
  std::string part;
  bool quoted_part = false;
  auto finish_part = [&]() -> Status {
    std::string trimmed = part;
    if (!quoted_part) {
      size_t b = trimmed.find_first_not_of(" \t\n");
      size_t e = trimmed.find_last_not_of(" \t\n");
      trimmed = b == std::string::npos ? "" : trimmed.substr(b, e - b + 1);
    }
    if (trimmed.empty()) {
      return Status::InvalidArgument(
          StrCat("delta.dataSkippingStatsColumns \"", text, "\" has an empty column name"));
    }
    path.push_back(ToLower(trimmed));
    part.clear();
    quoted_part = false;
    return Status::OK();
  };
  if (text.find_first_not_of(" \t\n") == std::string_view::npos) return paths;  // ""
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '`') {
      // `a``b` is the name a`b; text outside the quotes around it may only be blanks.
      if (part.find_first_not_of(" \t\n") != std::string::npos) {
        return Status::InvalidArgument(
            StrCat("delta.dataSkippingStatsColumns \"", text, "\": stray backquote"));
      }
      part.clear();
      for (++i;; ++i) {
        if (i >= text.size()) {
          return Status::InvalidArgument(
              StrCat("delta.dataSkippingStatsColumns \"", text, "\": unclosed backquote"));
        }
        if (text[i] == '`') {
          if (i + 1 < text.size() && text[i + 1] == '`') {
            part.push_back('`');
            ++i;
            continue;
          }
          break;
        }
        part.push_back(text[i]);
      }
      quoted_part = true;
      while (i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '\t')) ++i;
    } else if (c == '.' || c == ',') {
      LAKE_RETURN_IF_ERROR(finish_part());
      if (c == ',') {
        paths.push_back(std::move(path));
        path.clear();
      }
    } else {
      if (quoted_part) {
        return Status::InvalidArgument(
            StrCat("delta.dataSkippingStatsColumns \"", text, "\": text after a backquoted name"));
      }
      part.push_back(c);
    }
  }
  LAKE_RETURN_IF_ERROR(finish_part());
  paths.push_back(std::move(path));
  return paths;
}

// Spark's filterSchema: the named columns (whole structs when a struct is named), in schema
// order. Returns false in `found` entries that matched nothing.
std::vector<StatsColumn> NamedColumns(const std::vector<StructField>& fields, std::string_view mode,
                                      const std::vector<std::vector<std::string>>& paths,
                                      size_t depth, const std::vector<size_t>& candidates,
                                      std::vector<bool>& found) {
  std::vector<StatsColumn> out;
  for (const StructField& field : fields) {
    std::string lower = ToLower(field.name);
    bool whole = false;
    std::vector<size_t> deeper;
    for (size_t idx : candidates) {
      if (paths[idx][depth] != lower) continue;
      if (paths[idx].size() == depth + 1) {
        whole = true;
        found[idx] = true;
      } else {
        deeper.push_back(idx);
      }
    }
    if (whole) {
      out.push_back(AllOf(field, mode));
      for (size_t idx : deeper) found[idx] = true;  // covered by the whole column
    } else if (!deeper.empty() && field.type.kind == TypeKind::kStruct) {
      StatsColumn column{field.PhysicalNameFor(mode), DataType{}, {}};
      column.type.kind = TypeKind::kStruct;
      column.children = NamedColumns(field.type.fields, mode, paths, depth + 1, deeper, found);
      if (!column.children.empty()) out.push_back(std::move(column));
    }
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> ParseStatsColumnPath(std::string_view key) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (true) {
    if (i >= key.size() || key[i] != '"') return std::nullopt;
    std::string part;
    for (++i;; ++i) {
      if (i >= key.size()) return std::nullopt;
      if (key[i] == '"') {
        if (i + 1 < key.size() && key[i + 1] == '"') {
          part.push_back('"');
          ++i;
          continue;
        }
        ++i;
        break;
      }
      part.push_back(key[i]);
    }
    parts.push_back(std::move(part));
    if (i == key.size()) return parts;
    if (key[i] != '.') return std::nullopt;
    ++i;
  }
}

Result<std::vector<StatsColumn>> IndexedStatsColumns(
    const std::vector<StructField>& data_fields, std::string_view column_mapping_mode,
    int num_indexed_cols, const std::optional<std::string>& stats_columns) {
  if (!stats_columns) {
    int64_t budget = num_indexed_cols < 0 ? INT64_MAX : num_indexed_cols;
    return FirstLeaves(data_fields, column_mapping_mode, budget);
  }
  LAKE_ASSIGN_OR_RETURN(auto paths, ParseStatsColumnList(*stats_columns));
  std::vector<size_t> all(paths.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<bool> found(paths.size(), false);
  std::vector<StatsColumn> columns =
      NamedColumns(data_fields, column_mapping_mode, paths, 0, all, found);
  for (size_t i = 0; i < paths.size(); ++i) {
    if (!found[i]) {
      return Status::InvalidArgument(StrCat("delta.dataSkippingStatsColumns names ",
                                            StrJoin(paths[i], "."),
                                            ", which is not a data column of the table"))
          .WithHint("fix the table property (partition columns never have statistics)");
    }
  }
  return columns;
}

std::string BuildStatsJson(const std::vector<StatsColumn>& indexed, int64_t num_records,
                           const std::vector<WrittenColumnStats>& written) {
  StatsByPath by_path;
  for (const WrittenColumnStats& column : written) by_path.emplace(column.path, &column);
  std::string out = "{\"numRecords\":" + std::to_string(num_records);
  std::vector<std::string> prefix;
  static constexpr std::pair<Section, const char*> kSections[] = {
      {Section::kMin, "minValues"},
      {Section::kMax, "maxValues"},
      {Section::kNullCount, "nullCount"}};
  for (const auto& [section, name] : kSections) {
    std::string body;
    if (AppendSection(indexed, section, prefix, by_path, body) == 0) continue;
    out += ",\"";
    out += name;
    out += "\":{";
    out += body;
    out += '}';
  }
  out += '}';
  return out;
}

std::string TruncateStringMin(std::string_view s, size_t prefix_chars) {
  return std::string(s.substr(0, PrefixBytes(s, prefix_chars)));
}

std::string TruncateStringMax(std::string_view s, size_t prefix_chars) {
  size_t pos = PrefixBytes(s, prefix_chars);
  if (pos == s.size()) return std::string(s);
  // Appending U+FFFD bounds every string whose next character is below it; characters at
  // or above it (U+FFFD..U+FFFF and all 4-byte ones, which sort after it in UTF-8 byte
  // order) must be kept until one below it, or the end, is reached.
  while (pos < s.size()) {
    size_t len = std::min(Utf8Length(static_cast<unsigned char>(s[pos])), s.size() - pos);
    if (CodePointAt(s, pos, len) < 0xFFFD) break;
    pos += len;
  }
  std::string out(s.substr(0, pos));
  out += "\xEF\xBF\xBD";  // U+FFFD
  return out;
}

std::optional<std::string> TimestampStatText(std::string_view text, bool with_zone, bool round_up) {
  size_t pos = 0;
  std::optional<int64_t> days = ParseDate(text, pos);
  if (!days || !(Eat(text, pos, ' ') || Eat(text, pos, 'T'))) return std::nullopt;
  auto h = FixedDigits(text, pos, 2);
  if (!h || !Eat(text, pos, ':')) return std::nullopt;
  auto mi = FixedDigits(text, pos, 2);
  if (!mi || !Eat(text, pos, ':')) return std::nullopt;
  auto sec = FixedDigits(text, pos, 2);
  if (!sec || *h > 23 || *mi > 59 || *sec > 59) return std::nullopt;
  int64_t micros = 0;
  bool below_micros = false;  // nanoseconds beyond the 6th digit (TIMESTAMP_NS text)
  if (Eat(text, pos, '.')) {
    int digits = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (digits < 6) {
        micros = micros * 10 + (text[pos] - '0');
      } else if (text[pos] != '0') {
        below_micros = true;
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 6; ++d) micros *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    if (!with_zone) return std::nullopt;
    int sign = text[pos++] == '-' ? -1 : 1;
    auto oh = FixedDigits(text, pos, 2);
    if (!oh) return std::nullopt;
    int64_t om = 0, os = 0;
    if (Eat(text, pos, ':')) {
      auto m = FixedDigits(text, pos, 2);
      if (!m) return std::nullopt;
      om = *m;
      if (Eat(text, pos, ':')) {
        auto s = FixedDigits(text, pos, 2);
        if (!s) return std::nullopt;
        os = *s;
      }
    }
    offset_seconds = sign * (*oh * 3600 + om * 60 + os);
  }
  if (pos != text.size()) return std::nullopt;
  int64_t total =
      *days * kMicrosPerDay + ((*h * 60 + *mi) * 60 + *sec - offset_seconds) * 1000000 + micros;
  int64_t millis = FloorDiv(total, 1000);
  if (round_up && (total - millis * 1000 != 0 || below_micros)) ++millis;
  int64_t out_days = FloorDiv(millis, 86400LL * 1000);
  int64_t ms_of_day = millis - out_days * 86400LL * 1000;
  int64_t y;
  unsigned m, d;
  delta::CivilFromDays(out_days, y, m, d);
  if (y < 1 || y > 9999) return std::nullopt;
  int64_t secs = ms_of_day / 1000;
  return StrCat(Pad(y, 4), "-", Pad(m, 2), "-", Pad(d, 2), "T", Pad(secs / 3600, 2), ":",
                Pad(secs / 60 % 60, 2), ":", Pad(secs % 60, 2), ".", Pad(ms_of_day % 1000, 3),
                with_zone ? "Z" : "");
}

}  // namespace lake::engine::internal
