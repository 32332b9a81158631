// Data skipping over partition values and per-file statistics.
//
// Soundness rules (a file is dropped only when no row of it can match):
//  (1) Partition columns are evaluated exactly: every row of the file has the value in
//      add.partitionValues (keys are physical names under column mapping).
//  (2) A comparison never holds for NULL; a column whose nullCount equals numRecords holds
//      only NULLs. With tightBounds=false (files with deletion vectors) nullCount and
//      numRecords count physical rows, so only the extremes 0 and numRecords are used --
//      which is all rule (2) and IS [NOT] NULL ever use.
//  (3) min/max are bounds, never exact values, and are widened where writers lose precision
//      (PROTOCOL.md "Per-file Statistics"):
//       - timestamps are truncated to milliseconds: min - 999us, max + 999us;
//       - strings are truncated to a prefix: a max M only says that the first |M| bytes of
//         every value are <= M, so "every value < x" holds iff M < x and x does not start
//         with M; a min prefix is <= the true min, so it is used as is;
//       - float/double max is never used: a NaN is greater than every number in the engines
//         that read us but writers leave it out of max; float min is rounded down to the
//         float below, since its shortest decimal text read as a double may exceed it.
//       - strings with a collation are not skipped on (their order is not byte order).
//  (4) Anything unknown (no stats, a column not in the stats, a literal of another type,
//      a value that fails to parse) keeps the file. And/Or only combine "may match", which is
//      sound because the language has no negation.
#include "delta/skipping.h"

#include <charconv>
#include <cmath>
#include <simdjson.h>

#include "base/strings.h"
#include "delta/internal/stats_json.h"

namespace lake::delta {

Predicate Predicate::Compare(Op op, std::string column, Literal value) {
  Predicate p;
  p.op = op;
  p.column = std::move(column);
  if (op == Op::kIn) {
    p.values.push_back(std::move(value));
  } else {
    p.value = std::move(value);
  }
  return p;
}

Predicate Predicate::And(std::vector<Predicate> children) {
  Predicate p;
  p.op = Op::kAnd;
  p.children = std::move(children);
  return p;
}

Predicate Predicate::Or(std::vector<Predicate> children) {
  Predicate p;
  p.op = Op::kOr;
  p.children = std::move(children);
  return p;
}

namespace {

std::string_view TrimJsonToken(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' ||
                        s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool HasCollation(const StructField& f) {
  return f.metadata_json.find("__COLLATIONS") != std::string::npos;
}

}  // namespace

namespace internal {

bool ReadStatValue(simdjson::ondemand::value& value, const DataType& type, Literal& out) {
  simdjson::ondemand::json_type jt;
  if (value.type().get(jt)) return false;
  switch (type.kind) {
    case TypeKind::kLong:
    case TypeKind::kInteger:
    case TypeKind::kShort:
    case TypeKind::kByte: {
      // simdjson's integer reader accepts exactly the JSON integers that fit in 64 bits, as
      // the text parser below would, and is several times faster (checkpoints read ~10 of
      // these per file).
      int64_t i;
      if (jt != simdjson::ondemand::json_type::number || value.get_int64().get(i)) {
        return false;
      }
      const int64_t lo = type.kind == TypeKind::kLong      ? INT64_MIN
                         : type.kind == TypeKind::kInteger ? INT32_MIN
                         : type.kind == TypeKind::kShort   ? INT16_MIN
                                                           : INT8_MIN;
      const int64_t hi = -(lo + 1);
      if (i < lo || i > hi) return false;
      out = i;
      return true;
    }
    case TypeKind::kFloat:
    case TypeKind::kDouble:
    case TypeKind::kDecimal: {
      if (jt != simdjson::ondemand::json_type::number) return false;
      std::string_view raw = value.raw_json_token();
      // The partition-value parser is exact (decimals into __int128), so reuse it on the
      // number's text rather than going through a double.
      Result<Literal> lit = ParseLiteralText(type, TrimJsonToken(raw));
      if (!lit.ok() || IsNull(*lit)) return false;
      out = std::move(*lit);
      return true;
    }
    case TypeKind::kString:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz: {
      if (jt != simdjson::ondemand::json_type::string) return false;
      std::string_view s;
      if (value.get_string().get(s)) return false;
      if (type.kind == TypeKind::kString) {
        out = std::string(s);
        return true;
      }
      Result<Literal> lit = ParseLiteralText(type, s);
      if (!lit.ok() || IsNull(*lit)) return false;
      out = std::move(*lit);
      return true;
    }
    case TypeKind::kBoolean: {
      bool b;
      if (jt != simdjson::ondemand::json_type::boolean || value.get_bool().get(b)) {
        return false;
      }
      out = b;
      return true;
    }
    default:
      return false;  // binary, variant (z85 encoded), void, nested: not used
  }
}

DomRead ReadStatValue(simdjson::dom::element value, const DataType& type, Literal& out) {
  using simdjson::dom::element_type;
  const element_type et = value.type();
  switch (type.kind) {
    case TypeKind::kLong:
    case TypeKind::kInteger:
    case TypeKind::kShort:
    case TypeKind::kByte: {
      // INT64 is exactly what the text path's get_int64 accepts: JSON integers in 64 bits.
      if (et != element_type::INT64) return DomRead::kNull;
      const int64_t i = value.get_int64().value_unsafe();
      const int64_t lo = type.kind == TypeKind::kLong      ? INT64_MIN
                         : type.kind == TypeKind::kInteger ? INT32_MIN
                         : type.kind == TypeKind::kShort   ? INT16_MIN
                                                           : INT8_MIN;
      if (i < lo || i > -(lo + 1)) return DomRead::kNull;
      out = i;
      return DomRead::kValue;
    }
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      // simdjson rounds number text to the nearest double, as from_chars does on the text
      // path; integers convert with the same rounding.
      if (et == element_type::DOUBLE) {
        out = value.get_double().value_unsafe();
      } else if (et == element_type::INT64) {
        out = static_cast<double>(value.get_int64().value_unsafe());
      } else if (et == element_type::UINT64) {
        out = static_cast<double>(value.get_uint64().value_unsafe());
      } else {
        return DomRead::kNull;
      }
      return DomRead::kValue;
    case TypeKind::kDecimal: {
      if (et == element_type::DOUBLE) return DomRead::kNeedsText;
      if (et != element_type::INT64 && et != element_type::UINT64) return DomRead::kNull;
      char digits[24];
      auto [end, ec] = et == element_type::INT64
                           ? std::to_chars(digits, digits + sizeof digits,
                                           value.get_int64().value_unsafe())
                           : std::to_chars(digits, digits + sizeof digits,
                                           value.get_uint64().value_unsafe());
      if (ec != std::errc()) return DomRead::kNull;
      Result<Literal> lit = ParseLiteralText(type, std::string_view(digits, end - digits));
      if (!lit.ok() || IsNull(*lit)) return DomRead::kNull;
      out = std::move(*lit);
      return DomRead::kValue;
    }
    case TypeKind::kString:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz: {
      if (et != element_type::STRING) return DomRead::kNull;
      const std::string_view s = value.get_string().value_unsafe();
      if (type.kind == TypeKind::kString) {
        out = std::string(s);
        return DomRead::kValue;
      }
      Result<Literal> lit = ParseLiteralText(type, s);
      if (!lit.ok() || IsNull(*lit)) return DomRead::kNull;
      out = std::move(*lit);
      return DomRead::kValue;
    }
    case TypeKind::kBoolean:
      if (et != element_type::BOOL) return DomRead::kNull;
      out = value.get_bool().value_unsafe();
      return DomRead::kValue;
    default:
      return DomRead::kNull;  // binary, variant (z85 encoded), void, nested: not used
  }
}

std::optional<Literal> ReadStatValue(simdjson::ondemand::value& value, const DataType& type) {
  Literal out;
  if (!ReadStatValue(value, type, out)) return std::nullopt;
  return out;
}

}  // namespace internal

namespace {

using internal::ReadStatValue;

// Resolves a stats key (a physical name) to a top-level primitive field.
const StructField* FieldForStatsKey(const Schema& schema, std::string_view mode,
                                    std::string_view key) {
  for (const StructField& f : schema.fields) {
    if (f.PhysicalNameFor(mode) == key) return &f;
  }
  std::string lower = ToLower(key);
  for (const StructField& f : schema.fields) {
    if (ToLower(f.PhysicalNameFor(mode)) == lower) return &f;
  }
  return nullptr;
}

bool ParseStatsInto(std::string_view stats_json, const Schema& schema, std::string_view mode,
                    FileStats& out) {
  using namespace simdjson;
  thread_local ondemand::parser parser;
  out.min_values.reserve(schema.fields.size());
  out.max_values.reserve(schema.fields.size());
  out.null_count.reserve(schema.fields.size());
  padded_string json(stats_json);
  ondemand::document doc;
  if (parser.iterate(json).get(doc)) return false;
  ondemand::object root;
  if (doc.get_object().get(root)) return false;
  for (auto field_result : root) {
    ondemand::field field;
    if (std::move(field_result).get(field)) return false;
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    ondemand::value value = field.value();
    if (key == "numRecords") {
      int64_t n;
      if (value.get_int64().get(n) || n < 0) return false;
      out.num_records = n;
    } else if (key == "tightBounds") {
      bool b;
      if (value.get_bool().get(b)) return false;
      out.tight_bounds = b;
    } else if (key == "minValues" || key == "maxValues" || key == "nullCount") {
      enum class Section { kMin, kMax, kNulls };
      const Section section = key == "minValues"   ? Section::kMin
                              : key == "maxValues" ? Section::kMax
                                                   : Section::kNulls;
      ondemand::object columns;
      if (value.get_object().get(columns)) return false;
      for (auto col_result : columns) {
        ondemand::field col;
        if (std::move(col_result).get(col)) return false;
        std::string_view col_key;
        if (col.unescaped_key().get(col_key)) return false;
        const StructField* f = FieldForStatsKey(schema, mode, col_key);
        ondemand::value col_value = col.value();
        if (f == nullptr || !f->type.is_primitive()) continue;  // skipped by the iterator
        if (section == Section::kNulls) {
          int64_t n;
          simdjson::ondemand::json_type jt;
          if (col_value.type().get(jt)) return false;
          if (jt != simdjson::ondemand::json_type::number) continue;
          if (col_value.get_int64().get(n) || n < 0) continue;
          out.null_count.emplace_back(f->name, n);
          continue;
        }
        if (f->type.kind == TypeKind::kString && HasCollation(*f)) continue;
        std::optional<Literal> lit = ReadStatValue(col_value, f->type);
        if (!lit) continue;
        auto& dest = section == Section::kMin ? out.min_values : out.max_values;
        dest.emplace_back(f->name, std::move(*lit));
      }
    }
  }
  // Trailing text after the object makes the whole document malformed.
  const char* rest = nullptr;
  return doc.current_location().get(rest) == simdjson::OUT_OF_BOUNDS;
}

template <typename T>
const T* Lookup(const std::vector<std::pair<std::string, T>>& entries, std::string_view name) {
  for (const auto& [k, v] : entries) {
    if (k == name) return &v;
  }
  return nullptr;
}

// "May some value satisfy `value <op> x`" given one exactly known non-null value.
bool CompareHolds(Predicate::Op op, int c) {
  switch (op) {
    case Predicate::Op::kEq: return c == 0;
    case Predicate::Op::kLt: return c < 0;
    case Predicate::Op::kLe: return c <= 0;
    case Predicate::Op::kGt: return c > 0;
    case Predicate::Op::kGe: return c >= 0;
    default: return true;
  }
}

// Bounds of one data column, widened per rule (3) of the file comment.
struct ColumnBounds {
  std::optional<Literal> min;
  std::optional<Literal> max;        // a true upper bound (not for strings)
  std::optional<std::string> max_prefix;  // strings: every value's |M|-byte prefix <= M
};

ColumnBounds BoundsFor(const StructField& field, const FileStats& stats) {
  ColumnBounds b;
  if (const Literal* min = Lookup(stats.min_values, field.name)) b.min = *min;
  if (const Literal* max = Lookup(stats.max_values, field.name)) b.max = *max;
  switch (field.type.kind) {
    case TypeKind::kTimestamp:
      if (b.min) std::get<Timestamp>(*b.min).micros -= 999;
      if (b.max) std::get<Timestamp>(*b.max).micros += 999;
      break;
    case TypeKind::kTimestampNtz:
      if (b.min) std::get<TimestampNtz>(*b.min).micros -= 999;
      if (b.max) std::get<TimestampNtz>(*b.max).micros += 999;
      break;
    case TypeKind::kString:
      if (b.max) b.max_prefix = std::get<std::string>(*b.max);
      b.max.reset();
      break;
    case TypeKind::kFloat:
      b.max.reset();
      if (b.min) {
        double& m = std::get<double>(*b.min);
        m = static_cast<double>(std::nextafter(static_cast<float>(m), -INFINITY));
      }
      break;
    case TypeKind::kDouble:
      b.max.reset();
      break;
    default:
      break;
  }
  return b;
}

// True when every value of the column is certainly < x (strings use the prefix rule).
bool AllBelow(const ColumnBounds& b, const Literal& x) {
  if (b.max_prefix) {
    const std::string* xs = std::get_if<std::string>(&x);
    return xs != nullptr && *b.max_prefix < *xs && !StartsWith(*xs, *b.max_prefix);
  }
  if (!b.max) return false;
  std::optional<int> c = CompareLiterals(*b.max, x);
  return c && *c < 0;
}

// True when every value is certainly <= x.
bool AllAtMost(const ColumnBounds& b, const Literal& x) {
  if (b.max_prefix) return AllBelow(b, x);
  if (!b.max) return false;
  std::optional<int> c = CompareLiterals(*b.max, x);
  return c && *c <= 0;
}

bool AllAbove(const ColumnBounds& b, const Literal& x) {
  if (!b.min) return false;
  std::optional<int> c = CompareLiterals(*b.min, x);
  return c && *c > 0;
}

bool AllAtLeast(const ColumnBounds& b, const Literal& x) {
  if (!b.min) return false;
  std::optional<int> c = CompareLiterals(*b.min, x);
  return c && *c >= 0;
}

// May some value v of the column satisfy `v <op> x`?
bool RangeMayMatch(Predicate::Op op, const ColumnBounds& b, const Literal& x) {
  switch (op) {
    case Predicate::Op::kEq: return !AllBelow(b, x) && !AllAbove(b, x);
    case Predicate::Op::kLt: return !AllAtLeast(b, x);
    case Predicate::Op::kLe: return !AllAbove(b, x);
    case Predicate::Op::kGt: return !AllAtMost(b, x);
    case Predicate::Op::kGe: return !AllBelow(b, x);
    default: return true;
  }
}

class Evaluator {
 public:
  Evaluator(const Schema& schema, const std::vector<std::string>& partition_columns,
            std::string_view mode, const AddFile& file)
      : schema_(schema), partition_columns_(partition_columns), mode_(mode), file_(file) {}

  bool MayMatch(const Predicate& p) {
    switch (p.op) {
      case Predicate::Op::kAnd:
        for (const Predicate& c : p.children) {
          if (!MayMatch(c)) return false;
        }
        return true;
      case Predicate::Op::kOr:
        if (p.children.empty()) return true;  // treated as unknown, never as FALSE
        for (const Predicate& c : p.children) {
          if (MayMatch(c)) return true;
        }
        return false;
      default:
        return LeafMayMatch(p);
    }
  }

 private:
  bool IsPartitionColumn(const StructField& f) const {
    for (const std::string& c : partition_columns_) {
      if (c == f.name || ToLower(c) == ToLower(f.name)) return true;
    }
    return false;
  }

  bool LeafMayMatch(const Predicate& p) {
    const StructField* field = FindField(schema_, p.column);
    if (field == nullptr || !field->type.is_primitive()) return true;
    if (IsPartitionColumn(*field)) return PartitionLeafMayMatch(p, *field);
    return DataLeafMayMatch(p, *field);
  }

  bool PartitionLeafMayMatch(const Predicate& p, const StructField& field) {
    const std::optional<std::string>* raw = nullptr;
    const std::string& key = field.PhysicalNameFor(mode_);
    for (const auto& [k, v] : file_.partition_values) {
      if (k == key) raw = &v;
    }
    if (raw == nullptr) {
      for (const auto& [k, v] : file_.partition_values) {
        if (ToLower(k) == ToLower(key) || k == field.name) raw = &v;
      }
    }
    if (raw == nullptr) return true;  // a writer bug; unknown
    Result<Literal> value = ParsePartitionValue(field.type, *raw);
    if (!value.ok()) return true;
    switch (p.op) {
      case Predicate::Op::kIsNull: return IsNull(*value);
      case Predicate::Op::kIsNotNull: return !IsNull(*value);
      case Predicate::Op::kIn:
        if (IsNull(*value)) return false;
        for (const Literal& x : p.values) {
          if (IsNull(x)) continue;
          std::optional<int> c = CompareLiterals(*value, x);
          if (!c || *c == 0) return true;
        }
        return false;
      default: {
        if (IsNull(p.value)) return true;  // not a comparison we understand; keep
        if (IsNull(*value)) return false;
        std::optional<int> c = CompareLiterals(*value, p.value);
        return !c || CompareHolds(p.op, *c);
      }
    }
  }

  const FileStats* Stats() {
    if (!stats_parsed_) {
      stats_parsed_ = true;
      if (file_.stats) stats_ = ParseFileStats(*file_.stats, schema_, mode_);
    }
    return &stats_;
  }

  bool DataLeafMayMatch(const Predicate& p, const StructField& field) {
    if (field.type.kind == TypeKind::kVoid) {  // always NULL (PROTOCOL.md: void columns)
      return p.op == Predicate::Op::kIsNull;
    }
    const FileStats& stats = *Stats();
    const int64_t* null_count = Lookup(stats.null_count, field.name);
    std::optional<int64_t> nulls;
    if (null_count) nulls = *null_count;
    bool all_null = nulls && stats.num_records && *nulls == *stats.num_records;
    switch (p.op) {
      case Predicate::Op::kIsNull: return !(nulls && *nulls == 0);
      case Predicate::Op::kIsNotNull: return !all_null;
      default: break;
    }
    if (all_null) return false;  // comparisons never hold for NULL
    ColumnBounds bounds = BoundsFor(field, stats);
    if (p.op == Predicate::Op::kIn) {
      for (const Literal& x : p.values) {
        if (IsNull(x)) continue;
        if (RangeMayMatch(Predicate::Op::kEq, bounds, x)) return true;
      }
      return false;
    }
    if (IsNull(p.value)) return true;
    return RangeMayMatch(p.op, bounds, p.value);
  }

  const Schema& schema_;
  const std::vector<std::string>& partition_columns_;
  std::string_view mode_;
  const AddFile& file_;
  bool stats_parsed_ = false;
  FileStats stats_;
};

}  // namespace

FileStats ParseFileStats(std::string_view stats_json, const Schema& schema,
                         std::string_view column_mapping_mode) {
  FileStats stats;
  if (!ParseStatsInto(stats_json, schema, column_mapping_mode, stats)) return FileStats{};
  return stats;
}

FileSkipper::FileSkipper(const Schema& schema, std::vector<std::string> partition_columns,
                         std::string column_mapping_mode)
    : schema_(schema),
      partition_columns_(std::move(partition_columns)),
      mode_(std::move(column_mapping_mode)) {}

bool FileSkipper::MayMatch(const AddFile& file, const Predicate& predicate) const {
  Evaluator evaluator(schema_, partition_columns_, mode_, file);
  return evaluator.MayMatch(predicate);
}

std::optional<int64_t> StatsNumRecords(const std::optional<std::string>& stats) {
  if (!stats) return std::nullopt;
  size_t pos = stats->find("\"numRecords\"");
  if (pos == std::string::npos) return std::nullopt;
  pos = stats->find(':', pos);
  if (pos == std::string::npos) return std::nullopt;
  ++pos;
  while (pos < stats->size() && (*stats)[pos] == ' ') ++pos;
  size_t end = pos;
  while (end < stats->size() &&
         (std::isdigit(static_cast<unsigned char>((*stats)[end])) || (*stats)[end] == '-')) {
    ++end;
  }
  return ParseInt64(std::string_view(*stats).substr(pos, end - pos));
}

}  // namespace lake::delta
