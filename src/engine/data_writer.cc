// Data files for Delta writes through DuckDB's COPY ... TO (FORMAT parquet, RETURN_STATS).
//
// Design notes.
//  (1) One statement does the work: COPY (SELECT <conversions> FROM (<query>)) TO '<root>'.
//      It runs on the caller's session so that the query sees the session's state, and
//      DuckDB parallelizes it as it would a plain COPY (the append benchmark's baseline).
//  (2) Every column is converted explicitly to the DuckDB type that writes Spark's Parquet
//      encoding (DuckDbTypeFor); DuckDB's own choice is not trusted (HUGEINT would become a
//      DOUBLE). Structs are rebuilt field by field with struct_pack: DuckDB casts structs by
//      name and silently fills unmatched fields with NULL, and column mapping renames them
//      to physical names anyway.
//  (3) Partition columns are replaced, before DuckDB sees them, by their serialized form
//      (PROTOCOL.md "Partition Value Serialization"), so the Hive directory names and the
//      values RETURN_STATS hands back are exactly what goes into partitionValues. NULL (and
//      '' for strings, which the protocol reads as null) becomes __HIVE_DEFAULT_PARTITION__;
//      a string value starting with that marker gets it doubled, so decoding is unambiguous.
//  (4) add.path is the file's path relative to the root, percent-encoded once: DuckDB's
//      directory names already contain '%' escapes, which the log must show as "%25"
//      (readers decode once and must land on the actual file).
//  (5) The column check runs before any file is written (the query is planned with LIMIT 0);
//      NOT NULL is checked while writing, by an error() in the projection: such a write
//      fails and its files are never committed.
//  (6) The projection (internal/write_plan.h) is shared with the writes planned into DuckDB's
//      pipeline (lake_write.cc), which also pass the table's CHECK constraints; what this
//      file computes for a COPY is what an INSERT writes, by construction.
#include "engine/data_writer.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <utility>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "engine/internal/file_stats.h"
#include "engine/internal/write_plan.h"

namespace lake::engine {
namespace {

using delta::DataType;
using delta::StructField;
using delta::TypeKind;
using Kind = ColumnType::Kind;

constexpr std::string_view kNullPartition = "__HIVE_DEFAULT_PARTITION__";
constexpr std::string_view kSourceAlias = "__lake_src";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return ToLower(a) == ToLower(b); }

bool ContainsStruct(const DataType& type) {
  switch (type.kind) {
    case TypeKind::kStruct:
      return true;
    case TypeKind::kArray:
      return ContainsStruct(*type.element);
    case TypeKind::kMap:
      return ContainsStruct(*type.key) || ContainsStruct(*type.value);
    default:
      return false;
  }
}

// ---- Options ----

Result<int64_t> ParseByteSize(std::string_view key, std::string_view text) {
  std::string lower = ToLower(text);
  size_t digits_end = lower.find_first_not_of("0123456789");
  std::string_view number = std::string_view(lower).substr(0, digits_end);
  std::string_view unit = digits_end == std::string::npos
                              ? std::string_view()
                              : std::string_view(lower).substr(digits_end);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  int64_t scale = 1;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "k" || unit == "kb") {
    scale = int64_t{1} << 10;
  } else if (unit == "m" || unit == "mb") {
    scale = int64_t{1} << 20;
  } else if (unit == "g" || unit == "gb") {
    scale = int64_t{1} << 30;
  } else {
    scale = 0;
  }
  std::optional<int64_t> n = ParseInt64(number);
  if (!n || scale == 0 || *n <= 0 || *n > INT64_MAX / scale) {
    return Status::InvalidArgument(
               StrCat("table property ", key, " = \"", text, "\" is not a positive size in bytes"))
        .WithHint(StrCat("set it to a byte count such as 134217728 (or 128mb)"));
  }
  return *n * scale;
}

Status CheckCompression(std::string_view codec) {
  static constexpr std::string_view kCodecs[] = {"uncompressed", "snappy",  "gzip",  "zstd",
                                                 "lz4",          "lz4_raw", "brotli"};
  for (std::string_view c : kCodecs) {
    if (codec == c) return Status::OK();
  }
  return Status::InvalidArgument(StrCat("unknown Parquet compression codec \"", codec, "\""))
      .WithHint("use one of uncompressed, snappy, gzip, zstd, lz4, lz4_raw, brotli");
}

Status CheckMode(std::string_view mode) {
  if (mode == "none" || mode == "name" || mode == "id") return Status::OK();
  return Status::InvalidArgument(StrCat("unknown column mapping mode \"", mode, "\""))
      .WithHint("delta.columnMapping.mode is one of none, name, id");
}

// ---- Delta -> DuckDB ----

Result<std::string> DuckDbType(const DataType& type, std::string_view mode) {
  switch (type.kind) {
    case TypeKind::kString:
      return std::string("VARCHAR");
    case TypeKind::kLong:
      return std::string("BIGINT");
    case TypeKind::kInteger:
      return std::string("INTEGER");
    case TypeKind::kShort:
      return std::string("SMALLINT");
    case TypeKind::kByte:
      return std::string("TINYINT");
    case TypeKind::kFloat:
      return std::string("FLOAT");
    case TypeKind::kDouble:
      return std::string("DOUBLE");
    case TypeKind::kDecimal:
      return StrCat("DECIMAL(", type.precision, ",", type.scale, ")");
    case TypeKind::kBoolean:
      return std::string("BOOLEAN");
    case TypeKind::kBinary:
      return std::string("BLOB");
    case TypeKind::kDate:
      return std::string("DATE");
    // INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true): Spark's `timestamp`.
    case TypeKind::kTimestamp:
      return std::string("TIMESTAMPTZ");
    // INT64 TIMESTAMP(MICROS, isAdjustedToUTC=false): Spark's `timestamp_ntz`.
    case TypeKind::kTimestampNtz:
      return std::string("TIMESTAMP");
    case TypeKind::kVoid:
      return Status::NotSupported("writing a void column (PROTOCOL.md: void is never in files)")
          .WithHint("give the column a type, e.g. CAST(NULL AS STRING)");
    case TypeKind::kVariant:
      return Status::NotSupported("writing variant columns")
          .WithHint("store the value as a string");
    case TypeKind::kStruct: {
      if (type.fields.empty()) {
        return Status::NotSupported(
            "writing a struct with no fields (Parquet has no empty groups)");
      }
      std::vector<std::string> fields;
      for (const StructField& f : type.fields) {
        LAKE_ASSIGN_OR_RETURN(std::string child, DuckDbType(f.type, mode));
        fields.push_back(SqlIdent(f.PhysicalNameFor(mode)) + " " + child);
      }
      return StrCat("STRUCT(", StrJoin(fields, ", "), ")");
    }
    case TypeKind::kArray: {
      LAKE_ASSIGN_OR_RETURN(std::string element, DuckDbType(*type.element, mode));
      return element + "[]";
    }
    case TypeKind::kMap: {
      LAKE_ASSIGN_OR_RETURN(std::string key, DuckDbType(*type.key, mode));
      LAKE_ASSIGN_OR_RETURN(std::string value, DuckDbType(*type.value, mode));
      return StrCat("MAP(", key, ", ", value, ")");
    }
  }
  return Status::Internal("unhandled Delta type kind");
}

// ---- DuckDB -> Delta ----

bool IsIntegral(Kind k) {
  switch (k) {
    case Kind::kTinyInt:
    case Kind::kSmallInt:
    case Kind::kInteger:
    case Kind::kBigInt:
    case Kind::kHugeInt:
    case Kind::kUTinyInt:
    case Kind::kUSmallInt:
    case Kind::kUInteger:
    case Kind::kUBigInt:
      return true;
    default:
      return false;
  }
}

bool IsNumeric(const ColumnType& t) {
  return IsIntegral(t.kind) || t.kind == Kind::kFloat || t.kind == Kind::kDouble ||
         t.kind == Kind::kDecimal || (t.kind == Kind::kOther && t.name == "UHUGEINT");
}

DataType Primitive(TypeKind kind) {
  DataType t;
  t.kind = kind;
  return t;
}

// Maps one result type; `problems` collects refusals (naming `path`), `notes` conversions.
DataType DeltaType(const ColumnType& type, const std::string& path,
                   std::vector<std::string>& problems, std::vector<std::string>& notes) {
  auto refuse = [&](std::string why) {
    problems.push_back(StrCat(path, " (", type.name, "): ", why));
    return Primitive(TypeKind::kString);
  };
  auto convert = [&](TypeKind kind, std::string as) {
    notes.push_back(StrCat(path, ": ", type.name, " is written as ", as));
    return Primitive(kind);
  };
  switch (type.kind) {
    case Kind::kNull:
      return refuse(
          "a NULL without a type would be a void column, which cannot be written; "
          "CAST it to the intended type");
    case Kind::kBoolean:
      return Primitive(TypeKind::kBoolean);
    case Kind::kTinyInt:
      return Primitive(TypeKind::kByte);
    case Kind::kSmallInt:
      return Primitive(TypeKind::kShort);
    case Kind::kInteger:
      return Primitive(TypeKind::kInteger);
    case Kind::kBigInt:
      return Primitive(TypeKind::kLong);
    case Kind::kHugeInt:
      return refuse(
          "128-bit integers have no Spark type (DuckDB would write a lossy DOUBLE); "
          "CAST to DECIMAL(38,0) or BIGINT");
    case Kind::kUTinyInt:
      return convert(TypeKind::kShort, "short");
    case Kind::kUSmallInt:
      return convert(TypeKind::kInteger, "integer");
    case Kind::kUInteger:
      return convert(TypeKind::kLong, "long");
    case Kind::kUBigInt: {
      notes.push_back(StrCat(path, ": UBIGINT is written as decimal(20,0)"));
      DataType t = Primitive(TypeKind::kDecimal);
      t.precision = 20;
      return t;
    }
    case Kind::kFloat:
      return Primitive(TypeKind::kFloat);
    case Kind::kDouble:
      return Primitive(TypeKind::kDouble);
    case Kind::kDecimal: {
      DataType t = Primitive(TypeKind::kDecimal);
      t.precision = type.precision;
      t.scale = type.scale;
      return t;
    }
    case Kind::kVarchar:
      // ToColumnType reports ENUM as VARCHAR; its name still says ENUM(...).
      if (StartsWith(type.name, "ENUM")) return convert(TypeKind::kString, "string");
      return Primitive(TypeKind::kString);
    case Kind::kBlob:
      return Primitive(TypeKind::kBinary);
    case Kind::kDate:
      return Primitive(TypeKind::kDate);
    case Kind::kTime:
      return refuse("TIME has no Spark type; CAST to STRING, or store a timestamp");
    case Kind::kTimestamp:
      // TIMESTAMP_S/_MS/_NS share the kind; the name tells them apart.
      if (type.name != "TIMESTAMP")
        return convert(TypeKind::kTimestampNtz, "timestamp_ntz (microseconds)");
      return Primitive(TypeKind::kTimestampNtz);
    case Kind::kTimestampTz:
      return Primitive(TypeKind::kTimestamp);
    case Kind::kInterval:
      return refuse("INTERVAL has no Delta type; store its parts, or CAST to STRING");
    case Kind::kUuid:
      return convert(TypeKind::kString, "string");
    case Kind::kList: {
      DataType t = Primitive(TypeKind::kArray);
      t.element = std::make_shared<DataType>(
          DeltaType(type.children.at(0).second, path + ".element", problems, notes));
      return t;
    }
    case Kind::kMap: {
      DataType t = Primitive(TypeKind::kMap);
      t.key = std::make_shared<DataType>(
          DeltaType(type.children.at(0).second, path + ".key", problems, notes));
      t.value = std::make_shared<DataType>(
          DeltaType(type.children.at(1).second, path + ".value", problems, notes));
      return t;
    }
    case Kind::kStruct: {
      DataType t = Primitive(TypeKind::kStruct);
      std::map<std::string, int> seen;
      for (const auto& [name, child] : type.children) {
        if (name.empty()) problems.push_back(StrCat(path, ": a struct field has no name"));
        if (seen[ToLower(name)]++ == 1) {
          problems.push_back(StrCat(path, ": struct field name \"", name,
                                    "\" repeats (names are case-insensitive in Delta)"));
        }
        StructField f;
        f.name = name;
        f.type = DeltaType(child, path + "." + name, problems, notes);
        t.fields.push_back(std::move(f));
      }
      if (type.children.empty()) problems.push_back(StrCat(path, ": a struct needs fields"));
      return t;
    }
    case Kind::kOther:
      if (type.name == "UHUGEINT") {
        return refuse("128-bit integers have no Spark type; CAST to DECIMAL(38,0)");
      }
      return refuse("no Delta type can hold it (Spark cannot read it); CAST to a supported type");
  }
  return refuse("unknown type");
}

// ---- Write-time type checks ----

std::string TypeName(const DataType& t) { return t.ToString(); }

// Checks that a result column of type `src` can be written to a column of type `target`;
// appends a problem per mismatch (nested paths included).
void CheckAssignable(const ColumnType& src, const DataType& target, const std::string& path,
                     std::vector<std::string>& problems) {
  if (src.kind == Kind::kNull) return;  // an untyped NULL fits anything
  auto mismatch = [&] {
    problems.push_back(StrCat("column ", path, ": the query gives ", src.name, ", the table has ",
                              TypeName(target)));
  };
  switch (target.kind) {
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
    case TypeKind::kFloat:
    case TypeKind::kDouble:
    case TypeKind::kDecimal:
      // Narrowing is checked row by row by DuckDB's cast (an overflow fails the write),
      // like Spark's ANSI store assignment.
      if (!IsNumeric(src)) mismatch();
      return;
    case TypeKind::kString:
      if (src.kind != Kind::kVarchar && src.kind != Kind::kUuid) mismatch();
      return;
    case TypeKind::kBinary:
      if (src.kind != Kind::kBlob) mismatch();
      return;
    case TypeKind::kBoolean:
      if (src.kind != Kind::kBoolean) mismatch();
      return;
    case TypeKind::kDate:
      if (src.kind != Kind::kDate) mismatch();
      return;
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      // Between the two, DuckDB converts in the session's time zone (UTC unless SET), as
      // Spark does in its session zone.
      if (src.kind != Kind::kTimestamp && src.kind != Kind::kTimestampTz &&
          src.kind != Kind::kDate) {
        mismatch();
      }
      return;
    case TypeKind::kVoid:
    case TypeKind::kVariant:
      mismatch();
      return;
    case TypeKind::kArray:
      if (src.kind != Kind::kList) return mismatch();
      CheckAssignable(src.children.at(0).second, *target.element, path + ".element", problems);
      return;
    case TypeKind::kMap:
      if (src.kind != Kind::kMap) return mismatch();
      CheckAssignable(src.children.at(0).second, *target.key, path + ".key", problems);
      CheckAssignable(src.children.at(1).second, *target.value, path + ".value", problems);
      return;
    case TypeKind::kStruct: {
      if (src.kind != Kind::kStruct) return mismatch();
      std::vector<bool> used(src.children.size(), false);
      for (const StructField& f : target.fields) {
        std::optional<size_t> match;
        for (size_t i = 0; i < src.children.size() && !match; ++i) {
          if (src.children[i].first == f.name) match = i;
        }
        for (size_t i = 0; i < src.children.size() && !match; ++i) {
          if (EqualsIgnoreCase(src.children[i].first, f.name)) match = i;
        }
        if (!match) {
          problems.push_back(StrCat("column ", path, ": struct field ", f.name, " is missing"));
          continue;
        }
        used[*match] = true;
        CheckAssignable(src.children[*match].second, f.type, path + "." + f.name, problems);
      }
      for (size_t i = 0; i < src.children.size(); ++i) {
        if (!used[i]) {
          problems.push_back(StrCat("column ", path, ": struct field ", src.children[i].first,
                                    " is not in the table"));
        }
      }
      return;
    }
  }
}

// ---- Expressions ----

const ColumnType* FindChild(const ColumnType& src, std::string_view name, std::string* src_name) {
  for (bool exact : {true, false}) {
    for (const auto& [n, t] : src.children) {
      if (exact ? n == name : EqualsIgnoreCase(n, name)) {
        *src_name = n;
        return &t;
      }
    }
  }
  return nullptr;
}

// Returns SQL converting `expr` (of result type `src`) to `target`'s DuckDB type, see (2).
Result<std::string> ConvertExpr(const std::string& expr, const ColumnType& src,
                                const DataType& target, std::string_view mode, int depth) {
  LAKE_ASSIGN_OR_RETURN(std::string duck_type, DuckDbType(target, mode));
  if (src.kind == Kind::kNull || !ContainsStruct(target)) {
    return StrCat("CAST(", expr, " AS ", duck_type, ")");
  }
  const std::string var = StrCat("__lake_e", depth);
  switch (target.kind) {
    case TypeKind::kStruct: {
      std::vector<std::string> fields;
      for (const StructField& f : target.fields) {
        std::string src_name;
        const ColumnType* child = FindChild(src, f.name, &src_name);
        if (child == nullptr) return Status::Internal(StrCat("struct field ", f.name, " vanished"));
        LAKE_ASSIGN_OR_RETURN(std::string value, ConvertExpr(StrCat("struct_extract(", expr, ", ",
                                                                    SqlQuote(src_name), ")"),
                                                             *child, f.type, mode, depth));
        fields.push_back(StrCat(SqlIdent(f.PhysicalNameFor(mode)), " := ", value));
      }
      return StrCat("CASE WHEN (", expr, ") IS NULL THEN NULL ELSE struct_pack(",
                    StrJoin(fields, ", "), ") END");
    }
    case TypeKind::kArray: {
      LAKE_ASSIGN_OR_RETURN(std::string element, ConvertExpr(var, src.children.at(0).second,
                                                             *target.element, mode, depth + 1));
      return StrCat("list_transform(", expr, ", lambda ", var, ": ", element, ")");
    }
    case TypeKind::kMap: {
      LAKE_ASSIGN_OR_RETURN(std::string key,
                            ConvertExpr(StrCat("struct_extract(", var, ", 'key')"),
                                        src.children.at(0).second, *target.key, mode, depth + 1));
      LAKE_ASSIGN_OR_RETURN(std::string value,
                            ConvertExpr(StrCat("struct_extract(", var, ", 'value')"),
                                        src.children.at(1).second, *target.value, mode, depth + 1));
      return StrCat("map_from_entries(list_transform(map_entries(", expr, "), lambda ", var,
                    ": struct_pack(key := ", key, ", value := ", value, ")))");
    }
    default:
      return StrCat("CAST(", expr, " AS ", duck_type, ")");
  }
}

// Serializes a partition value (already of the column's DuckDB type) to text, see (3).
Result<std::string> PartitionExpr(const std::string& v, const StructField& field) {
  const std::string null_marker = SqlQuote(kNullPartition);
  switch (field.type.kind) {
    case TypeKind::kString:
      return StrCat("CASE WHEN ", v, " IS NULL OR ", v, " = '' THEN ", null_marker,
                    " WHEN starts_with(", v, ", ", null_marker, ") THEN ", null_marker, " || ", v,
                    " ELSE ", v, " END");
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
    case TypeKind::kDecimal:
    case TypeKind::kBoolean:
    case TypeKind::kDate:
      return StrCat("COALESCE(CAST(", v, " AS VARCHAR), ", null_marker, ")");
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      // Spark's spelling of the special values (DuckDB would say inf / nan).
      return StrCat("CASE WHEN ", v, " IS NULL THEN ", null_marker, " WHEN isnan(", v,
                    ") THEN 'NaN' WHEN ", v, " = 'infinity'::DOUBLE THEN 'Infinity' WHEN ", v,
                    " = '-infinity'::DOUBLE THEN '-Infinity' ELSE CAST(", v, " AS VARCHAR) END");
    case TypeKind::kTimestamp:
      // ISO-8601 in UTC: the protocol's unambiguous form (zone-less text means the writer's
      // zone, which no reader can know).
      return StrCat("COALESCE(strftime(timezone('UTC', ", v, "), '%Y-%m-%dT%H:%M:%S.%fZ'), ",
                    null_marker, ")");
    case TypeKind::kTimestampNtz:
      return StrCat("COALESCE(strftime(", v, ", '%Y-%m-%d %H:%M:%S.%f'), ", null_marker, ")");
    default:
      return Status::NotSupported(
                 StrCat("partition column ", field.name, " of type ", field.type.ToString()))
          .WithHint("partition by a string, number, boolean, date or timestamp column");
  }
}

std::optional<std::string> DecodePartitionValue(std::string_view text) {
  if (text == kNullPartition) return std::nullopt;
  if (StartsWith(text, kNullPartition)) return std::string(text.substr(kNullPartition.size()));
  return std::string(text);
}

// FIELD_IDS entry for one field (physical name -> id, nested for structs), or "" if none.
std::string FieldIdsEntry(const StructField& f, std::string_view mode) {
  if (!f.field_id) return "";
  std::string key = SqlQuote(f.PhysicalNameFor(mode));
  if (f.type.kind != TypeKind::kStruct) return StrCat(key, ": ", *f.field_id);
  std::vector<std::string> parts = {StrCat("__duckdb_field_id: ", *f.field_id)};
  for (const StructField& child : f.type.fields) {
    std::string entry = FieldIdsEntry(child, mode);
    if (!entry.empty()) parts.push_back(std::move(entry));
  }
  return StrCat(key, ": {", StrJoin(parts, ", "), "}");
}

// RFC 3986 percent-encoding of a relative path: unreserved characters and '/' and '=' stay.
std::string PercentEncodePath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '=';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::filesystem::path> LocalRoot(std::string_view table_root) {
  std::string_view path = table_root;
  if (StartsWith(path, "file://")) {
    path.remove_prefix(7);
  } else if (StartsWith(path, "file:")) {
    path.remove_prefix(5);
  } else if (path.find("://") != std::string_view::npos) {
    return Status::NotSupported(StrCat("writing data files to ", table_root,
                                       ": only local folders are supported so far"))
        .WithHint("write to a local path or file:// URI");
  }
  if (path.empty()) return Status::InvalidArgument("writing data files: empty table root");
  std::error_code ec;
  std::filesystem::path root = std::filesystem::absolute(std::filesystem::path(path), ec);
  if (ec) return Status::IOError(StrCat("resolving table root ", table_root, ": ", ec.message()));
  root = root.lexically_normal();
  if (!root.has_filename() && root != root.root_path()) root = root.parent_path();  // a/b/
  std::filesystem::create_directories(root, ec);
  if (ec) {
    return Status::IOError(StrCat("creating table root ", root.string(), ": ", ec.message()))
        .WithHint("check that the folder is writable");
  }
  return root;
}

std::string StripQuery(std::string_view query) {
  while (!query.empty() && (query.back() == ';' || query.back() == ' ' || query.back() == '\n' ||
                            query.back() == '\t' || query.back() == '\r')) {
    query.remove_suffix(1);
  }
  return std::string(query);
}

Result<int64_t> IntValue(const Value& v, std::string_view what) {
  if (auto* i = std::get_if<int64_t>(&v.v)) return *i;
  if (auto* u = std::get_if<uint64_t>(&v.v)) return static_cast<int64_t>(*u);
  return Status::Internal(StrCat("COPY ... RETURN_STATS gave a non-integer ", what));
}

const std::string* StringValue(const Value& v) { return std::get_if<std::string>(&v.v); }

// One planned column of the write.
struct ColumnPlan {
  const StructField* field;
  size_t source;  // index in the query's result columns
  bool is_partition;
};

}  // namespace

Result<WriteOptions> WriteOptionsFor(const delta::Metadata& metadata) {
  WriteOptions options;
  options.partition_columns = metadata.partition_columns;
  const auto& conf = metadata.configuration;
  if (auto it = conf.find("delta.targetFileSize"); it != conf.end()) {
    LAKE_ASSIGN_OR_RETURN(options.target_file_size_bytes, ParseByteSize(it->first, it->second));
  }
  if (auto it = conf.find("delta.parquet.compression.codec"); it != conf.end()) {
    options.compression = ToLower(it->second);
    if (options.compression == "none") options.compression = "uncompressed";
    LAKE_RETURN_IF_ERROR(CheckCompression(options.compression));
  }
  if (auto it = conf.find("delta.dataSkippingNumIndexedCols"); it != conf.end()) {
    std::optional<int64_t> n = ParseInt64(it->second);
    if (!n || *n < -1 || *n > INT32_MAX) {
      return Status::InvalidArgument(StrCat("table property delta.dataSkippingNumIndexedCols = \"",
                                            it->second, "\" is not an integer >= -1"))
          .WithHint("-1 collects statistics on every column; the default is 32");
    }
    options.num_indexed_cols = static_cast<int>(*n);
  }
  if (auto it = conf.find("delta.dataSkippingStatsColumns"); it != conf.end()) {
    options.stats_columns = it->second;
  }
  if (auto it = conf.find("delta.columnMapping.mode"); it != conf.end()) {
    options.column_mapping_mode = ToLower(it->second);
    LAKE_RETURN_IF_ERROR(CheckMode(options.column_mapping_mode));
  }
  return options;
}

Result<std::string> DuckDbTypeFor(const DataType& type, std::string_view column_mapping_mode) {
  LAKE_RETURN_IF_ERROR(CheckMode(column_mapping_mode));
  return DuckDbType(type, column_mapping_mode);
}

Result<QuerySchema> DeltaSchemaFor(const std::vector<ResultColumn>& columns) {
  QuerySchema out;
  out.schema.kind = TypeKind::kStruct;
  std::vector<std::string> problems;
  std::map<std::string, int> seen;
  for (const ResultColumn& column : columns) {
    if (seen[ToLower(column.name)]++ == 1) {
      return Status::InvalidArgument(StrCat("the query gives two columns named ", column.name,
                                            " (Delta column names are case-insensitive)"))
          .WithHint("give the columns distinct names with AS");
    }
    StructField f;
    f.name = column.name;
    f.type = DeltaType(column.type, column.name, problems, out.conversions);
    out.schema.fields.push_back(std::move(f));
  }
  if (!problems.empty()) {
    return Status::NotSupported(
               StrCat("column types Delta cannot store: ", StrJoin(problems, "; ")))
        .WithHint("CAST these columns in the query to a type Spark can read");
  }
  return out;
}

Result<QuerySchema> DeltaSchemaOfQuery(Session& session, std::string_view query) {
  LAKE_ASSIGN_OR_RETURN(ResultTable empty,
                        session.Query(StrCat("SELECT * FROM (\n", StripQuery(query), "\n) AS ",
                                             kSourceAlias, " LIMIT 0")));
  return DeltaSchemaFor(empty.columns);
}

Result<std::vector<delta::AddFile>> WriteDataFiles(Database& db, std::string_view query,
                                                   std::string_view table_root,
                                                   const delta::Schema& schema,
                                                   const WriteOptions& options) {
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, db.Connect());
  return WriteDataFiles(*session, query, table_root, schema, options);
}

namespace internal {

void CheckColumnAssignable(const ColumnType& src, const DataType& target, const std::string& path,
                           std::vector<std::string>& problems) {
  CheckAssignable(src, target, path, problems);
}

size_t WriteProjection::num_data_columns() const {
  size_t n = 0;
  for (const WriteColumn& c : columns) n += c.is_partition ? 0 : 1;
  return n;
}

Result<WriteProjection> PlanWriteProjection(const std::vector<ResultColumn>& columns,
                                            std::string_view alias, std::string_view table_root,
                                            const delta::Schema& schema,
                                            const WriteOptions& options,
                                            const std::vector<delta::TableConstraint>& constraints) {
  const std::string& mode = options.column_mapping_mode;
  LAKE_RETURN_IF_ERROR(CheckMode(mode));
  LAKE_RETURN_IF_ERROR(CheckCompression(options.compression));
  if (options.target_file_size_bytes <= 0) {
    return Status::InvalidArgument(
        StrCat("target file size must be positive, got ", options.target_file_size_bytes));
  }
  if (schema.fields.empty()) {
    return Status::InvalidArgument(StrCat(table_root, ": the table schema has no columns"));
  }
  LAKE_ASSIGN_OR_RETURN(std::filesystem::path root, LocalRoot(table_root));
  WriteProjection out;
  out.root = root.string();
  const std::string& root_text = out.root;

  // (5) Match the query's columns to the table's before writing anything.
  std::vector<std::string> problems;
  std::vector<bool> used(columns.size(), false);
  std::vector<ColumnPlan> plan;
  for (const StructField& field : schema.fields) {
    std::optional<size_t> match;
    for (size_t i = 0; i < columns.size() && !match; ++i) {
      if (columns[i].name == field.name) match = i;
    }
    for (size_t i = 0; i < columns.size() && !match; ++i) {
      if (EqualsIgnoreCase(columns[i].name, field.name)) match = i;
    }
    if (!match) {
      problems.push_back(StrCat("column ", field.name, " (", field.type.ToString(),
                                ") is missing from the query"));
      continue;
    }
    if (used[*match]) {
      problems.push_back(StrCat("the query gives column ", field.name, " twice"));
      continue;
    }
    used[*match] = true;
    CheckAssignable(columns[*match].type, field.type, field.name, problems);
    bool is_partition = false;
    for (const std::string& p : options.partition_columns) {
      if (EqualsIgnoreCase(p, field.name)) is_partition = true;
    }
    plan.push_back(ColumnPlan{&field, *match, is_partition});
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!used[i]) {
      problems.push_back(StrCat("the query's column ", columns[i].name, " (", columns[i].type.name,
                                ") is not in the table"));
    }
  }
  for (const std::string& p : options.partition_columns) {
    if (delta::FindField(schema, p) == nullptr) {
      problems.push_back(StrCat("partition column ", p, " is not in the schema"));
    }
  }
  if (!problems.empty()) {
    return Status::InvalidArgument(StrCat("the query does not match the columns of ", root_text,
                                          ": ", StrJoin(problems, "; ")))
        .WithHint(
            "select exactly the table's columns, by name, with types that convert to "
            "the table's (CAST where needed)");
  }

  // (2)/(3) The projection; data columns first, in schema order.
  const std::string row_json = StrCat("CAST(to_json(", alias, ") AS VARCHAR)");
  std::vector<WriteColumn> partitions;
  std::vector<StructField> data_fields;
  for (const ColumnPlan& column : plan) {
    const StructField& field = *column.field;
    const std::string physical = field.PhysicalNameFor(mode);
    std::string src = StrCat(alias, ".", SqlIdent(columns[column.source].name));
    LAKE_ASSIGN_OR_RETURN(std::string expr,
                          ConvertExpr(src, columns[column.source].type, field.type, mode, 0));
    if (!field.nullable) {
      expr = StrCat("CASE WHEN ", src, " IS NULL THEN error(",
                    SqlQuote(StrCat("NOT NULL constraint violated: column ", field.name, " of ",
                                    root_text, " is NULL in row ")),
                    " || ", row_json, ") ELSE ", expr, " END");
    }
    if (column.is_partition) {
      LAKE_ASSIGN_OR_RETURN(std::string text, PartitionExpr("(" + expr + ")", field));
      partitions.push_back(WriteColumn{std::move(text), physical, true});
    } else {
      out.columns.push_back(WriteColumn{std::move(expr), physical, false});
      data_fields.push_back(field);
      if (mode != "none") {
        std::string ids = FieldIdsEntry(field, mode);
        if (!ids.empty()) out.field_ids.push_back(std::move(ids));
      }
    }
  }
  if (out.columns.empty()) {
    return Status::NotSupported(StrCat(root_text, ": every column is a partition column"))
        .WithHint("keep at least one column out of PARTITIONED BY (data files need a column)");
  }
  // (6) CHECK constraints and invariants guard the first data column: a row that fails one
  // raises before its values reach a file (PROTOCOL.md "Column Invariants", "Check
  // Constraints": the expression must be true; false and NULL fail).
  if (!constraints.empty()) {
    std::string guarded = "CASE";
    for (const delta::TableConstraint& c : constraints) {
      guarded += StrCat(" WHEN (", c.expression, ") IS NOT TRUE THEN error(",
                        SqlQuote(StrCat(c.violation.empty()
                                            ? StrCat("CHECK constraint ", c.name, " (",
                                                     c.expression, ")")
                                            : c.violation,
                                        " violated by row ")),
                        " || ", row_json, ")");
    }
    out.columns.front().expr = StrCat(guarded, " ELSE ", out.columns.front().expr, " END");
  }
  for (WriteColumn& p : partitions) out.columns.push_back(std::move(p));
  LAKE_ASSIGN_OR_RETURN(out.indexed, IndexedStatsColumns(data_fields, mode,
                                                         options.num_indexed_cols,
                                                         options.stats_columns));
  out.filename_pattern = StrCat(
      "part-{uuidv7}", options.compression == "uncompressed" ? "" : "." + options.compression);
  return out;
}

Result<std::optional<delta::AddFile>> AddFileForWrittenFile(const WriteProjection& projection,
                                                            const delta::Schema& schema,
                                                            const WriteOptions& options,
                                                            const WrittenFile& file) {
  const std::string& root_text = projection.root;
  const std::string prefix = root_text == "/" ? root_text : root_text + "/";
  if (!StartsWith(file.filename, prefix)) {
    return Status::Internal(StrCat("DuckDB wrote a file outside ", root_text, ": ",
                                   file.filename.empty() ? "(no name)" : file.filename));
  }
  if (file.num_records == 0) {
    // An unpartitioned write of no rows still writes one empty file; no rows, no file.
    std::error_code ec;
    std::filesystem::remove(file.filename, ec);
    return std::optional<delta::AddFile>();
  }
  struct stat st;
  if (::stat(file.filename.c_str(), &st) != 0) {
    return Status::IOError(StrCat("stat of the new data file ", file.filename, " failed"));
  }
  delta::AddFile add;
  add.path = PercentEncodePath(std::string_view(file.filename).substr(prefix.size()));
  add.size = static_cast<int64_t>(st.st_size);
  add.modification_time =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  add.data_change = true;
  // partitionValues, in the table's partition order, keyed by physical name.
  for (const std::string& p : options.partition_columns) {
    const StructField* field = delta::FindField(schema, p);
    if (field == nullptr) return Status::Internal(StrCat("partition column ", p, " vanished"));
    const std::string physical = field->PhysicalNameFor(options.column_mapping_mode);
    auto it = file.partition_keys.find(physical);
    if (it == file.partition_keys.end()) {
      return Status::Internal(
          StrCat("DuckDB reported no value of partition column ", p, " for ", file.filename));
    }
    add.partition_values.emplace_back(
        physical, it->second ? DecodePartitionValue(*it->second) : std::nullopt);
  }
  add.stats = BuildStatsJson(projection.indexed, file.num_records, file.stats);
  return std::optional<delta::AddFile>(std::move(add));
}

}  // namespace internal

Result<std::vector<delta::AddFile>> WriteDataFiles(Session& session, std::string_view query,
                                                   std::string_view table_root,
                                                   const delta::Schema& schema,
                                                   const WriteOptions& options) {
  const std::string source = StripQuery(query);
  LAKE_ASSIGN_OR_RETURN(
      ResultTable described,
      session.Query(StrCat("SELECT * FROM (\n", source, "\n) AS ", kSourceAlias, " LIMIT 0")));
  LAKE_ASSIGN_OR_RETURN(internal::WriteProjection projection,
                        internal::PlanWriteProjection(described.columns, kSourceAlias, table_root,
                                                      schema, options, {}));
  const std::string& root_text = projection.root;

  std::vector<std::string> select, partition_names;
  for (const internal::WriteColumn& c : projection.columns) {
    select.push_back(StrCat(c.expr, " AS ", SqlIdent(c.physical_name)));
    if (c.is_partition) partition_names.push_back(SqlIdent(c.physical_name));
  }
  std::vector<std::string> copy_options = {
      "FORMAT parquet", StrCat("COMPRESSION ", SqlQuote(options.compression)),
      StrCat("FILENAME_PATTERN ", SqlQuote(projection.filename_pattern)), "RETURN_STATS",
      "APPEND"};
  if (!partition_names.empty()) {
    copy_options.push_back(StrCat("PARTITION_BY (", StrJoin(partition_names, ", "), ")"));
    copy_options.push_back("WRITE_PARTITION_COLUMNS false");
  } else {
    copy_options.push_back(StrCat("FILE_SIZE_BYTES ", options.target_file_size_bytes));
  }
  if (!projection.field_ids.empty()) {
    copy_options.push_back(StrCat("FIELD_IDS {", StrJoin(projection.field_ids, ", "), "}"));
  }
  // The query on lines of its own: a trailing "-- comment" in it must not swallow the ")".
  const std::string copy =
      StrCat("COPY (SELECT ", StrJoin(select, ", "), " FROM (\n", source, "\n) AS ", kSourceAlias,
             ") TO ", SqlQuote(root_text), " (", StrJoin(copy_options, ", "), ")");
  LAKE_ASSIGN_OR_RETURN(ResultTable written, session.Query(copy));

  // Files named by an error below are never committed; remove what we know of.
  std::vector<std::string> files;
  ScopeGuard remove_files([&] {
    for (const std::string& f : files) {
      std::error_code ec;
      std::filesystem::remove(f, ec);  // best effort: an orphan otherwise, for VACUUM
    }
  });
  auto col = [&](std::string_view name) -> Result<size_t> {
    for (size_t i = 0; i < written.columns.size(); ++i) {
      if (written.columns[i].name == name) return i;
    }
    return Status::Internal(StrCat("COPY ... RETURN_STATS has no column ", name));
  };
  LAKE_ASSIGN_OR_RETURN(size_t filename_col, col("filename"));
  LAKE_ASSIGN_OR_RETURN(size_t count_col, col("count"));
  LAKE_ASSIGN_OR_RETURN(size_t stats_col, col("column_statistics"));
  LAKE_ASSIGN_OR_RETURN(size_t keys_col, col("partition_keys"));
  for (const auto& row : written.rows) {
    if (const std::string* f = StringValue(row[filename_col])) files.push_back(*f);
  }

  std::vector<delta::AddFile> adds;
  for (const auto& row : written.rows) {
    internal::WrittenFile file;
    if (const std::string* filename = StringValue(row[filename_col])) file.filename = *filename;
    LAKE_ASSIGN_OR_RETURN(file.num_records, IntValue(row[count_col], "count"));
    if (auto* map = std::get_if<std::shared_ptr<ValueMap>>(&row[keys_col].v); map && *map) {
      for (const auto& [k, v] : **map) {
        const std::string* key = StringValue(k);
        const std::string* value = StringValue(v);
        if (key == nullptr) continue;
        file.partition_keys[*key] =
            value ? std::optional<std::string>(*value) : std::optional<std::string>();
      }
    }
    if (auto* map = std::get_if<std::shared_ptr<ValueMap>>(&row[stats_col].v); map && *map) {
      for (const auto& [k, v] : **map) {
        const std::string* key = StringValue(k);
        auto* inner = std::get_if<std::shared_ptr<ValueMap>>(&v.v);
        if (key == nullptr || inner == nullptr || !*inner) continue;
        std::optional<std::vector<std::string>> path = internal::ParseStatsColumnPath(*key);
        if (!path) continue;  // unknown key shape: no stats for it, never wrong ones
        internal::WrittenColumnStats column{std::move(*path), {}};
        for (const auto& [sk, sv] : **inner) {
          const std::string* name = StringValue(sk);
          const std::string* text = StringValue(sv);
          if (name && text) column.stats[*name] = *text;
        }
        file.stats.push_back(std::move(column));
      }
    }
    LAKE_ASSIGN_OR_RETURN(std::optional<delta::AddFile> add,
                          internal::AddFileForWrittenFile(projection, schema, options, file));
    if (add) adds.push_back(std::move(*add));
  }
  remove_files.Dismiss();
  return adds;
}

}  // namespace lake::engine
