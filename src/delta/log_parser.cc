// Newline-delimited JSON log files -> ActionBatch, with simdjson On-Demand.
//
// Design notes.
//  (1) This is the hot path of snapshot loading (a log of 1M adds is ~0.5 GB of JSON), so the
//      file is copied once into a padded buffer and every line is parsed in place: simdjson
//      only needs SIMDJSON_PADDING readable bytes after each line, which the rest of the
//      buffer (and its padding) provides. No per-line copies, no DOM.
//  (2) Fields are read in whatever order the writer used: each action object is walked field
//      by field and unknown keys are skipped (PROTOCOL.md "Protocol Evolution"), as are
//      unknown action types.
//  (3) Leniency where real writers differ from the spec and the meaning is unambiguous:
//      numbers written as strings, non-string scalars in string maps (kept as their JSON
//      text), `null` where an optional object is expected. Anything else that contradicts
//      the schema of a known action is kCorruption naming the file and line.
//  (4) commitInfo is free-form: its raw text is kept and the fields lake uses are pulled out
//      by a second pass over that text (one per commit, so the cost does not matter).
#include "delta/log_parser.h"

#include <cmath>

#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace lake::delta {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// A parse failure inside one line: what went wrong, without the file/line prefix.
struct LineError {
  std::string what;
};

// raw_json_token() of a scalar runs up to the next token, trailing whitespace included.
std::string_view TrimJsonText(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

class LineParser {
 public:
  LineParser(std::string_view file_name, const char* buffer_end)
      : file_name_(file_name), buffer_end_(buffer_end) {}

  // Parses one non-blank line into `out`.
  Status ParseLine(const char* line, size_t len, int64_t line_no, ActionBatch& out) {
    line_no_ = line_no;
    od::document doc;
    if (auto err = parser_.iterate(line, len, Capacity(line)).get(doc)) {
      return Fail(StrCat("not valid JSON (", simdjson::error_message(err), ")"));
    }
    od::object obj;
    if (auto err = doc.get_object().get(obj)) {
      return Fail(StrCat("not a JSON object (", simdjson::error_message(err), ")"));
    }
    for (auto field_result : obj) {
      od::field field;
      if (auto err = std::move(field_result).get(field)) return Fail(JsonError(err));
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) return Fail(JsonError(err));
      od::value& value = field.value();
      Status st = ParseAction(key, value, out);
      if (!st.ok()) return st;
    }
    return Status::OK();
  }

 private:
  size_t Capacity(const char* p) const { return static_cast<size_t>(buffer_end_ - p); }

  Status Fail(std::string_view what) const {
    return Status::Corruption(StrCat(file_name_, ": line ", line_no_, ": ", what))
        .WithHint(
            "the log file is damaged or was not written by a Delta writer; restore it "
            "from a backup, or read an earlier version");
  }
  static std::string JsonError(error_code err) {
    return StrCat("malformed JSON (", simdjson::error_message(err), ")");
  }

  // ---- typed field readers: each returns an error description or nullopt on success ----

  static bool IsNull(od::value& v) {
    bool is_null = false;
    return !v.is_null().get(is_null) && is_null;
  }

  static std::optional<LineError> ReadString(od::value& v, std::string& out, const char* name) {
    std::string_view s;
    if (auto err = v.get_string().get(s)) {
      return LineError{
          StrCat("field '", name, "' must be a string (", simdjson::error_message(err), ")")};
    }
    out.assign(s.data(), s.size());
    return std::nullopt;
  }

  static std::optional<LineError> ReadOptString(od::value& v, std::optional<std::string>& out,
                                                const char* name) {
    if (IsNull(v)) {
      out.reset();
      return std::nullopt;
    }
    std::string s;
    if (auto e = ReadString(v, s, name)) return e;
    out = std::move(s);
    return std::nullopt;
  }

  static std::optional<LineError> ReadInt64(od::value& v, int64_t& out, const char* name) {
    od::json_type type;
    if (auto err = v.type().get(type)) return LineError{JsonError(err)};
    if (type == od::json_type::string) {  // some writers quote numbers
      std::string_view s;
      if (!v.get_string().get(s)) {
        if (auto parsed = ParseInt64(s)) {
          out = *parsed;
          return std::nullopt;
        }
      }
      return LineError{StrCat("field '", name, "' must be an integer")};
    }
    if (auto err = v.get_int64().get(out)) {
      // 1.0 style numbers from loosely typed writers: accept when integral.
      // The range check comes first: casting an out-of-range double to int64 is undefined
      // (found by tests/fuzz/json_actions_fuzz).
      double d = 0;
      if (!v.get_double().get(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
          d == std::trunc(d)) {
        out = static_cast<int64_t>(d);
        return std::nullopt;
      }
      return LineError{
          StrCat("field '", name, "' must be an integer (", simdjson::error_message(err), ")")};
    }
    return std::nullopt;
  }

  static std::optional<LineError> ReadOptInt64(od::value& v, std::optional<int64_t>& out,
                                               const char* name) {
    if (IsNull(v)) {
      out.reset();
      return std::nullopt;
    }
    int64_t x = 0;
    if (auto e = ReadInt64(v, x, name)) return e;
    out = x;
    return std::nullopt;
  }

  static std::optional<LineError> ReadInt32(od::value& v, int32_t& out, const char* name) {
    int64_t x = 0;
    if (auto e = ReadInt64(v, x, name)) return e;
    if (x < INT32_MIN || x > INT32_MAX) {
      return LineError{StrCat("field '", name, "' is out of range: ", x)};
    }
    out = static_cast<int32_t>(x);
    return std::nullopt;
  }

  static std::optional<LineError> ReadBool(od::value& v, bool& out, const char* name) {
    od::json_type type;
    if (auto err = v.type().get(type)) return LineError{JsonError(err)};
    if (type == od::json_type::string) {
      std::string_view s;
      if (!v.get_string().get(s) && (s == "true" || s == "false")) {
        out = s == "true";
        return std::nullopt;
      }
      return LineError{StrCat("field '", name, "' must be a boolean")};
    }
    if (auto err = v.get_bool().get(out)) {
      return LineError{
          StrCat("field '", name, "' must be a boolean (", simdjson::error_message(err), ")")};
    }
    return std::nullopt;
  }

  static std::optional<LineError> ReadOptBool(od::value& v, std::optional<bool>& out,
                                              const char* name) {
    if (IsNull(v)) {
      out.reset();
      return std::nullopt;
    }
    bool b = false;
    if (auto e = ReadBool(v, b, name)) return e;
    out = b;
    return std::nullopt;
  }

  // A scalar's text: strings unescaped, other scalars as their JSON token. nullopt for null.
  static std::optional<LineError> ReadScalarText(od::value& v, std::optional<std::string>& out,
                                                 const char* name) {
    od::json_type type;
    if (auto err = v.type().get(type)) return LineError{JsonError(err)};
    switch (type) {
      case od::json_type::null:
        out.reset();
        return std::nullopt;
      case od::json_type::string: {
        std::string_view s;
        if (auto err = v.get_string().get(s)) return LineError{JsonError(err)};
        out.emplace(s);
        return std::nullopt;
      }
      case od::json_type::number:
      case od::json_type::boolean: {
        std::string_view raw = TrimJsonText(v.raw_json_token());
        out.emplace(raw);
        return std::nullopt;
      }
      default:
        return LineError{StrCat("values in '", name, "' must be strings")};
    }
  }

  static std::optional<LineError> ReadStringMap(od::value& v, StringMap& out, const char* name) {
    out.clear();
    if (IsNull(v)) return std::nullopt;
    od::object obj;
    if (auto err = v.get_object().get(obj)) {
      return LineError{
          StrCat("field '", name, "' must be an object (", simdjson::error_message(err), ")")};
    }
    for (auto fr : obj) {
      od::field f;
      if (auto err = std::move(fr).get(f)) return LineError{JsonError(err)};
      std::string_view k;
      if (auto err = f.unescaped_key().get(k)) return LineError{JsonError(err)};
      std::string key(k);
      std::optional<std::string> val;
      if (auto e = ReadScalarText(f.value(), val, name)) return e;
      if (val) out.insert_or_assign(std::move(key), std::move(*val));
    }
    return std::nullopt;
  }

  static std::optional<LineError> ReadPartitionValues(od::value& v, PartitionValues& out) {
    out.clear();
    if (IsNull(v)) return std::nullopt;
    od::object obj;
    if (auto err = v.get_object().get(obj)) {
      return LineError{
          StrCat("field 'partitionValues' must be an object (", simdjson::error_message(err), ")")};
    }
    for (auto fr : obj) {
      od::field f;
      if (auto err = std::move(fr).get(f)) return LineError{JsonError(err)};
      std::string_view k;
      if (auto err = f.unescaped_key().get(k)) return LineError{JsonError(err)};
      std::string key(k);
      std::optional<std::string> val;
      if (auto e = ReadScalarText(f.value(), val, "partitionValues")) return e;
      out.emplace_back(std::move(key), std::move(val));
    }
    return std::nullopt;
  }

  static std::optional<LineError> ReadStringArray(od::value& v, std::vector<std::string>& out,
                                                  const char* name) {
    out.clear();
    if (IsNull(v)) return std::nullopt;
    od::array arr;
    if (auto err = v.get_array().get(arr)) {
      return LineError{
          StrCat("field '", name, "' must be an array (", simdjson::error_message(err), ")")};
    }
    for (auto er : arr) {
      od::value e;
      if (auto err = std::move(er).get(e)) return LineError{JsonError(err)};
      std::string s;
      if (auto le = ReadString(e, s, name)) return le;
      out.push_back(std::move(s));
    }
    return std::nullopt;
  }

  static std::optional<LineError> ReadDeletionVector(od::value& v,
                                                     std::optional<DeletionVectorDescriptor>& out) {
    if (IsNull(v)) {
      out.reset();
      return std::nullopt;
    }
    od::object obj;
    if (auto err = v.get_object().get(obj)) {
      return LineError{
          StrCat("field 'deletionVector' must be an object (", simdjson::error_message(err), ")")};
    }
    DeletionVectorDescriptor dv;
    bool has_type = false, has_path = false;
    for (auto fr : obj) {
      od::field f;
      if (auto err = std::move(fr).get(f)) return LineError{JsonError(err)};
      std::string_view k;
      if (auto err = f.unescaped_key().get(k)) return LineError{JsonError(err)};
      od::value& fv = f.value();
      if (k == "storageType") {
        std::string s;
        if (auto e = ReadString(fv, s, "deletionVector.storageType")) return e;
        if (s.size() != 1) {
          return LineError{
              StrCat("deletionVector.storageType must be one character, got '", s, "'")};
        }
        dv.storage_type = s[0];
        has_type = true;
      } else if (k == "pathOrInlineDv") {
        if (auto e = ReadString(fv, dv.path_or_inline_dv, "deletionVector.pathOrInlineDv")) {
          return e;
        }
        has_path = true;
      } else if (k == "offset") {
        if (IsNull(fv)) continue;
        int32_t off = 0;
        if (auto e = ReadInt32(fv, off, "deletionVector.offset")) return e;
        dv.offset = off;
      } else if (k == "sizeInBytes") {
        if (auto e = ReadInt32(fv, dv.size_in_bytes, "deletionVector.sizeInBytes")) return e;
      } else if (k == "cardinality") {
        if (auto e = ReadInt64(fv, dv.cardinality, "deletionVector.cardinality")) return e;
      } else if (k == "maxRowIndex") {
        if (auto e = ReadOptInt64(fv, dv.max_row_index, "deletionVector.maxRowIndex")) return e;
      }
    }
    if (!has_type || !has_path) {
      return LineError{"deletionVector lacks storageType or pathOrInlineDv"};
    }
    out = std::move(dv);
    return std::nullopt;
  }

  // ---- actions ----

  Status ParseAction(std::string_view key, od::value& v, ActionBatch& out) {
    // An action key with a null value carries nothing (seen in checkpoint-derived JSON).
    if (key.empty()) return Status::OK();
    std::optional<LineError> err;
    switch (key[0]) {
      case 'a':
        if (key == "add") {
          if (IsNull(v)) return Status::OK();
          err = ParseAdd(v, out.adds.emplace_back());
        }
        break;
      case 'r':
        if (key == "remove") {
          if (IsNull(v)) return Status::OK();
          err = ParseRemove(v, out.removes.emplace_back());
        }
        break;
      case 'm':
        if (key == "metaData") {
          if (IsNull(v)) return Status::OK();
          err = ParseMetadata(v, out.metadata.emplace_back());
        }
        break;
      case 'p':
        if (key == "protocol") {
          if (IsNull(v)) return Status::OK();
          err = ParseProtocol(v, out.protocols.emplace_back());
        }
        break;
      case 'c':
        if (key == "commitInfo") {
          if (IsNull(v)) return Status::OK();
          err = ParseCommitInfo(v, out.commit_infos.emplace_back());
        } else if (key == "cdc") {
          if (IsNull(v)) return Status::OK();
          err = ParseCdc(v, out.cdcs.emplace_back());
        } else if (key == "checkpointMetadata") {
          if (IsNull(v)) return Status::OK();
          err = ParseCheckpointMetadata(v, out.checkpoint_metadata.emplace_back());
        }
        break;
      case 't':
        if (key == "txn") {
          if (IsNull(v)) return Status::OK();
          err = ParseTxn(v, out.txns.emplace_back());
        }
        break;
      case 'd':
        if (key == "domainMetadata") {
          if (IsNull(v)) return Status::OK();
          err = ParseDomainMetadata(v, out.domain_metadata.emplace_back());
        }
        break;
      case 's':
        if (key == "sidecar") {
          if (IsNull(v)) return Status::OK();
          err = ParseSidecar(v, out.sidecars.emplace_back());
        }
        break;
      default:
        break;
    }
    if (err) return Fail(StrCat(key, ": ", err->what));
    return Status::OK();
  }

  // Opens `v` as the object of action `name`.
  static std::optional<LineError> OpenObject(od::value& v, od::object& obj) {
    if (auto err = v.get_object().get(obj)) {
      return LineError{
          StrCat("the action must be a JSON object (", simdjson::error_message(err), ")")};
    }
    return std::nullopt;
  }

// Returns the LineError of `expr`, if any, from the enclosing reader (a macro because it
// returns from the caller).
#define LAKE_FIELD_(expr)            \
  do {                               \
    if (auto e_ = (expr)) return e_; \
  } while (0)

  // Calls fn(key, value) for each field of `obj`; stops at the first error fn returns.
  template <typename Fn>
  static std::optional<LineError> ForEachField(od::object& obj, Fn&& fn) {
    for (auto field_result : obj) {
      od::field field;
      if (auto err = std::move(field_result).get(field)) return LineError{JsonError(err)};
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) return LineError{JsonError(err)};
      if (auto e = fn(key, field.value())) return e;
    }
    return std::nullopt;
  }

  std::optional<LineError> ParseAdd(od::value& v, AddFile& add) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    bool has_path = false;
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "path") {
            LAKE_FIELD_(ReadString(fv, add.path, "path"));
            has_path = true;
          } else if (k == "partitionValues") {
            LAKE_FIELD_(ReadPartitionValues(fv, add.partition_values));
          } else if (k == "size") {
            LAKE_FIELD_(ReadInt64(fv, add.size, "size"));
          } else if (k == "modificationTime") {
            LAKE_FIELD_(ReadInt64(fv, add.modification_time, "modificationTime"));
          } else if (k == "dataChange") {
            LAKE_FIELD_(ReadBool(fv, add.data_change, "dataChange"));
          } else if (k == "stats") {
            LAKE_FIELD_(ReadOptString(fv, add.stats, "stats"));
          } else if (k == "tags") {
            LAKE_FIELD_(ReadStringMap(fv, add.tags, "tags"));
          } else if (k == "deletionVector") {
            LAKE_FIELD_(ReadDeletionVector(fv, add.deletion_vector));
          } else if (k == "baseRowId") {
            LAKE_FIELD_(ReadOptInt64(fv, add.base_row_id, "baseRowId"));
          } else if (k == "defaultRowCommitVersion") {
            LAKE_FIELD_(
                ReadOptInt64(fv, add.default_row_commit_version, "defaultRowCommitVersion"));
          } else if (k == "clusteringProvider") {
            LAKE_FIELD_(ReadOptString(fv, add.clustering_provider, "clusteringProvider"));
          }
          return std::nullopt;
        }));
    if (!has_path) return LineError{"required field 'path' is missing"};
    return std::nullopt;
  }

  std::optional<LineError> ParseRemove(od::value& v, RemoveFile& rm) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    bool has_path = false;
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "path") {
            LAKE_FIELD_(ReadString(fv, rm.path, "path"));
            has_path = true;
          } else if (k == "deletionTimestamp") {
            LAKE_FIELD_(ReadOptInt64(fv, rm.deletion_timestamp, "deletionTimestamp"));
          } else if (k == "dataChange") {
            LAKE_FIELD_(ReadBool(fv, rm.data_change, "dataChange"));
          } else if (k == "extendedFileMetadata") {
            LAKE_FIELD_(ReadOptBool(fv, rm.extended_file_metadata, "extendedFileMetadata"));
          } else if (k == "partitionValues") {
            if (IsNull(fv)) return std::nullopt;
            PartitionValues pv;
            LAKE_FIELD_(ReadPartitionValues(fv, pv));
            rm.partition_values = std::move(pv);
          } else if (k == "size") {
            LAKE_FIELD_(ReadOptInt64(fv, rm.size, "size"));
          } else if (k == "stats") {
            LAKE_FIELD_(ReadOptString(fv, rm.stats, "stats"));
          } else if (k == "tags") {
            LAKE_FIELD_(ReadStringMap(fv, rm.tags, "tags"));
          } else if (k == "deletionVector") {
            LAKE_FIELD_(ReadDeletionVector(fv, rm.deletion_vector));
          } else if (k == "baseRowId") {
            LAKE_FIELD_(ReadOptInt64(fv, rm.base_row_id, "baseRowId"));
          } else if (k == "defaultRowCommitVersion") {
            LAKE_FIELD_(ReadOptInt64(fv, rm.default_row_commit_version, "defaultRowCommitVersion"));
          }
          return std::nullopt;
        }));
    if (!has_path) return LineError{"required field 'path' is missing"};
    return std::nullopt;
  }

  std::optional<LineError> ParseCdc(od::value& v, AddCdcFile& cdc) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    bool has_path = false;
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "path") {
            LAKE_FIELD_(ReadString(fv, cdc.path, "path"));
            has_path = true;
          } else if (k == "partitionValues") {
            LAKE_FIELD_(ReadPartitionValues(fv, cdc.partition_values));
          } else if (k == "size") {
            LAKE_FIELD_(ReadInt64(fv, cdc.size, "size"));
          } else if (k == "dataChange") {
            LAKE_FIELD_(ReadBool(fv, cdc.data_change, "dataChange"));
          } else if (k == "tags") {
            LAKE_FIELD_(ReadStringMap(fv, cdc.tags, "tags"));
          }
          return std::nullopt;
        }));
    if (!has_path) return LineError{"required field 'path' is missing"};
    return std::nullopt;
  }

  std::optional<LineError> ParseProtocol(od::value& v, Protocol& p) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    bool has_reader = false;
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "minReaderVersion") {
            LAKE_FIELD_(ReadInt32(fv, p.min_reader_version, "minReaderVersion"));
            has_reader = true;
          } else if (k == "minWriterVersion") {
            LAKE_FIELD_(ReadInt32(fv, p.min_writer_version, "minWriterVersion"));
          } else if (k == "readerFeatures") {
            if (IsNull(fv)) return std::nullopt;
            std::vector<std::string> features;
            LAKE_FIELD_(ReadStringArray(fv, features, "readerFeatures"));
            p.reader_features = std::move(features);
          } else if (k == "writerFeatures") {
            if (IsNull(fv)) return std::nullopt;
            std::vector<std::string> features;
            LAKE_FIELD_(ReadStringArray(fv, features, "writerFeatures"));
            p.writer_features = std::move(features);
          }
          return std::nullopt;
        }));
    if (!has_reader) return LineError{"required field 'minReaderVersion' is missing"};
    return std::nullopt;
  }

  std::optional<LineError> ParseFormat(od::value& v, Format& format) {
    if (IsNull(v)) return std::nullopt;
    od::object obj;
    if (auto err = v.get_object().get(obj)) {
      return LineError{
          StrCat("field 'format' must be an object (", simdjson::error_message(err), ")")};
    }
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "provider") {
            LAKE_FIELD_(ReadString(fv, format.provider, "format.provider"));
          } else if (k == "options") {
            LAKE_FIELD_(ReadStringMap(fv, format.options, "format.options"));
          }
          return std::nullopt;
        }));
    return std::nullopt;
  }

  // schemaString is required by the spec, but tables without one exist (Spark test tables);
  // it is left empty here and Snapshot reports the schema as unreadable.
  std::optional<LineError> ParseMetadata(od::value& v, Metadata& m) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "id") {
            LAKE_FIELD_(ReadString(fv, m.id, "id"));
          } else if (k == "name") {
            LAKE_FIELD_(ReadOptString(fv, m.name, "name"));
          } else if (k == "description") {
            LAKE_FIELD_(ReadOptString(fv, m.description, "description"));
          } else if (k == "format") {
            LAKE_FIELD_(ParseFormat(fv, m.format));
          } else if (k == "schemaString") {
            if (IsNull(fv)) return std::nullopt;
            LAKE_FIELD_(ReadString(fv, m.schema_string, "schemaString"));
          } else if (k == "partitionColumns") {
            LAKE_FIELD_(ReadStringArray(fv, m.partition_columns, "partitionColumns"));
          } else if (k == "configuration") {
            LAKE_FIELD_(ReadStringMap(fv, m.configuration, "configuration"));
          } else if (k == "createdTime") {
            LAKE_FIELD_(ReadOptInt64(fv, m.created_time, "createdTime"));
          }
          return std::nullopt;
        }));
    return std::nullopt;
  }

  std::optional<LineError> ParseTxn(od::value& v, Txn& t) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    bool has_app = false, has_version = false;
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "appId") {
            LAKE_FIELD_(ReadString(fv, t.app_id, "appId"));
            has_app = true;
          } else if (k == "version") {
            LAKE_FIELD_(ReadInt64(fv, t.version, "version"));
            has_version = true;
          } else if (k == "lastUpdated") {
            LAKE_FIELD_(ReadOptInt64(fv, t.last_updated, "lastUpdated"));
          }
          return std::nullopt;
        }));
    if (!has_app || !has_version)
      return LineError{"required field 'appId' or 'version' is missing"};
    return std::nullopt;
  }

  std::optional<LineError> ParseDomainMetadata(od::value& v, DomainMetadata& d) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    bool has_domain = false;
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "domain") {
            LAKE_FIELD_(ReadString(fv, d.domain, "domain"));
            has_domain = true;
          } else if (k == "configuration") {
            if (IsNull(fv)) return std::nullopt;
            LAKE_FIELD_(ReadString(fv, d.configuration, "configuration"));
          } else if (k == "removed") {
            LAKE_FIELD_(ReadBool(fv, d.removed, "removed"));
          }
          return std::nullopt;
        }));
    if (!has_domain) return LineError{"required field 'domain' is missing"};
    return std::nullopt;
  }

  std::optional<LineError> ParseCheckpointMetadata(od::value& v, CheckpointMetadata& c) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    bool has_version = false;
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "version") {
            LAKE_FIELD_(ReadInt64(fv, c.version, "version"));
            has_version = true;
          } else if (k == "tags") {
            LAKE_FIELD_(ReadStringMap(fv, c.tags, "tags"));
          }
          return std::nullopt;
        }));
    if (!has_version) return LineError{"required field 'version' is missing"};
    return std::nullopt;
  }

  std::optional<LineError> ParseSidecar(od::value& v, Sidecar& s) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    bool has_path = false;
    LAKE_FIELD_(
        ForEachField(obj, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "path") {
            LAKE_FIELD_(ReadString(fv, s.path, "path"));
            has_path = true;
          } else if (k == "sizeInBytes") {
            LAKE_FIELD_(ReadInt64(fv, s.size_in_bytes, "sizeInBytes"));
          } else if (k == "modificationTime") {
            LAKE_FIELD_(ReadInt64(fv, s.modification_time, "modificationTime"));
          } else if (k == "tags") {
            LAKE_FIELD_(ReadStringMap(fv, s.tags, "tags"));
          }
          return std::nullopt;
        }));
    if (!has_path) return LineError{"required field 'path' is missing"};
    return std::nullopt;
  }

  // Raw JSON text of an object/array value, or of a scalar token.
  static std::optional<LineError> ReadRawJson(od::value& v, std::string& out) {
    od::json_type type;
    if (auto err = v.type().get(type)) return LineError{JsonError(err)};
    std::string_view raw;
    if (type == od::json_type::object) {
      od::object o;
      if (auto err = v.get_object().get(o)) return LineError{JsonError(err)};
      if (auto err = o.raw_json().get(raw)) return LineError{JsonError(err)};
    } else if (type == od::json_type::array) {
      od::array a;
      if (auto err = v.get_array().get(a)) return LineError{JsonError(err)};
      if (auto err = a.raw_json().get(raw)) return LineError{JsonError(err)};
    } else {
      raw = TrimJsonText(v.raw_json_token());
    }
    out.assign(raw.data(), raw.size());
    return std::nullopt;
  }

  std::optional<LineError> ParseCommitInfo(od::value& v, CommitInfo& ci) {
    od::object obj;
    LAKE_FIELD_(OpenObject(v, obj));
    std::string_view raw;
    if (auto err = obj.raw_json().get(raw)) return LineError{JsonError(err)};
    ci.raw_json.assign(raw.data(), raw.size());
    // Second pass over the object's own text (it lives in the padded buffer).
    od::document doc;
    if (auto err = nested_parser_.iterate(raw.data(), raw.size(), Capacity(raw.data())).get(doc)) {
      return LineError{JsonError(err)};
    }
    od::object inner;
    if (auto err = doc.get_object().get(inner)) return LineError{JsonError(err)};
    // commitInfo is free-form: a field of an unexpected type is ignored rather than fatal,
    // since other engines put their own things here.
    LAKE_FIELD_(
        ForEachField(inner, [&](std::string_view k, od::value& fv) -> std::optional<LineError> {
          if (k == "timestamp") {
            ReadOptInt64(fv, ci.timestamp, "timestamp");
          } else if (k == "inCommitTimestamp") {
            ReadOptInt64(fv, ci.in_commit_timestamp, "inCommitTimestamp");
          } else if (k == "operation") {
            ReadOptString(fv, ci.operation, "operation");
          } else if (k == "operationParameters") {
            if (IsNull(fv)) return std::nullopt;
            ReadRawJson(fv, ci.operation_parameters_json);
          } else if (k == "operationMetrics") {
            if (IsNull(fv)) return std::nullopt;
            ReadRawJson(fv, ci.operation_metrics_json);
          } else if (k == "engineInfo") {
            ReadOptString(fv, ci.engine_info, "engineInfo");
          } else if (k == "isBlindAppend") {
            ReadOptBool(fv, ci.is_blind_append, "isBlindAppend");
          } else if (k == "readVersion") {
            ReadOptInt64(fv, ci.read_version, "readVersion");
          } else if (k == "isolationLevel") {
            ReadOptString(fv, ci.isolation_level, "isolationLevel");
          } else if (k == "txnId") {
            ReadOptString(fv, ci.txn_id, "txnId");
          }
          return std::nullopt;
        }));
    return std::nullopt;
  }

#undef LAKE_FIELD_

  std::string_view file_name_;
  const char* buffer_end_;
  int64_t line_no_ = 0;
  // Per-thread parsers, reused across files (their buffers grow to the longest line).
  static od::parser& LineParserInstance() {
    thread_local od::parser parser;
    return parser;
  }
  static od::parser& NestedParserInstance() {
    thread_local od::parser parser;
    return parser;
  }
  od::parser& parser_ = LineParserInstance();
  od::parser& nested_parser_ = NestedParserInstance();
};

}  // namespace

Result<ActionBatch> ParseJsonActions(std::string_view ndjson, std::string_view file_name) {
  ActionBatch batch;
  if (ndjson.empty()) return batch;
  // One padded copy of the file; lines are parsed in place (design note 1). The buffer and
  // the parsers are kept per thread: replay parses thousands of small commits in a row, and
  // fresh allocations (page faults) would cost more than the parsing.
  struct ThreadState {
    std::unique_ptr<char[]> buffer;
    size_t capacity = 0;
  };
  thread_local ThreadState state;
  constexpr size_t kMaxCachedBuffer = size_t{8} << 20;  // bigger files: a one-off buffer
  const size_t needed = ndjson.size() + simdjson::SIMDJSON_PADDING;
  std::unique_ptr<char[]> oversized;
  char* data = nullptr;
  if (needed <= kMaxCachedBuffer) {
    if (state.capacity < needed) {
      state.buffer = std::make_unique_for_overwrite<char[]>(needed);
      state.capacity = needed;
    }
    data = state.buffer.get();
  } else {
    oversized = std::make_unique_for_overwrite<char[]>(needed);
    data = oversized.get();
  }
  std::memcpy(data, ndjson.data(), ndjson.size());
  std::memset(data + ndjson.size(), 0, simdjson::SIMDJSON_PADDING);
  const char* end = data + ndjson.size();

  // Most lines of a big file are adds: reserve once instead of growing (and moving) the
  // vector ~20 times.
  size_t lines = 1;
  for (const char* q = data; (q = static_cast<const char*>(std::memchr(q, '\n', end - q))); ++q) {
    ++lines;
  }
  if (lines > 16) batch.adds.reserve(lines);

  LineParser parser(file_name, end + simdjson::SIMDJSON_PADDING);
  int64_t line_no = 0;
  const char* p = data;
  while (p < end) {
    ++line_no;
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* line_end = nl ? nl : end;
    const char* s = p;
    const char* e = line_end;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r')) ++s;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) --e;
    if (s < e) {
      LAKE_RETURN_IF_ERROR(parser.ParseLine(s, static_cast<size_t>(e - s), line_no, batch));
    }
    p = nl ? nl + 1 : end;
  }
  if (batch.adds.capacity() > batch.adds.size() * 2 + 16) batch.adds.shrink_to_fit();
  return batch;
}

// ---------------------------------------------------------------------------------------
// Serialization (writer side, tests): nlohmann is fine here, it is not a hot path.

namespace {

using nlohmann::ordered_json;

ordered_json PartitionValuesJson(const PartitionValues& pv) {
  ordered_json o = ordered_json::object();
  for (const auto& [k, v] : pv) {
    if (v) {
      o[k] = *v;
    } else {
      o[k] = nullptr;
    }
  }
  return o;
}

ordered_json StringMapJson(const StringMap& m) {
  ordered_json o = ordered_json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

ordered_json DvJson(const DeletionVectorDescriptor& dv) {
  ordered_json o;
  o["storageType"] = std::string(1, dv.storage_type);
  o["pathOrInlineDv"] = dv.path_or_inline_dv;
  if (dv.offset) o["offset"] = *dv.offset;
  o["sizeInBytes"] = dv.size_in_bytes;
  o["cardinality"] = dv.cardinality;
  if (dv.max_row_index) o["maxRowIndex"] = *dv.max_row_index;
  return o;
}

ordered_json ParseRawOr(const std::string& raw, ordered_json fallback) {
  ordered_json j = ordered_json::parse(raw, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? fallback : j;
}

ordered_json CommitInfoJson(const CommitInfo& ci) {
  // Start from the raw object so fields lake does not model survive a round trip.
  ordered_json o = ci.raw_json.empty() ? ordered_json::object()
                                       : ParseRawOr(ci.raw_json, ordered_json::object());
  if (!o.is_object()) o = ordered_json::object();
  if (ci.timestamp) o["timestamp"] = *ci.timestamp;
  if (ci.in_commit_timestamp) o["inCommitTimestamp"] = *ci.in_commit_timestamp;
  if (ci.operation) o["operation"] = *ci.operation;
  o["operationParameters"] = ParseRawOr(ci.operation_parameters_json, ordered_json::object());
  if (ci.operation_metrics_json != "{}" || o.contains("operationMetrics")) {
    o["operationMetrics"] = ParseRawOr(ci.operation_metrics_json, ordered_json::object());
  }
  if (ci.engine_info) o["engineInfo"] = *ci.engine_info;
  if (ci.is_blind_append) o["isBlindAppend"] = *ci.is_blind_append;
  if (ci.read_version) o["readVersion"] = *ci.read_version;
  if (ci.isolation_level) o["isolationLevel"] = *ci.isolation_level;
  if (ci.txn_id) o["txnId"] = *ci.txn_id;
  return o;
}

void EmitLine(std::string& out, const char* key, ordered_json value) {
  ordered_json line;
  line[key] = std::move(value);
  out += line.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
  out += '\n';
}

}  // namespace

std::string SerializeJsonActions(const ActionBatch& batch) {
  std::string out;
  for (const CommitInfo& ci : batch.commit_infos) EmitLine(out, "commitInfo", CommitInfoJson(ci));
  for (const Protocol& p : batch.protocols) {
    ordered_json o;
    o["minReaderVersion"] = p.min_reader_version;
    o["minWriterVersion"] = p.min_writer_version;
    if (p.reader_features) o["readerFeatures"] = *p.reader_features;
    if (p.writer_features) o["writerFeatures"] = *p.writer_features;
    EmitLine(out, "protocol", std::move(o));
  }
  for (const Metadata& m : batch.metadata) {
    ordered_json o;
    o["id"] = m.id;
    if (m.name) o["name"] = *m.name;
    if (m.description) o["description"] = *m.description;
    o["format"] = {{"provider", m.format.provider}, {"options", StringMapJson(m.format.options)}};
    o["schemaString"] = m.schema_string;
    o["partitionColumns"] = m.partition_columns;
    o["configuration"] = StringMapJson(m.configuration);
    if (m.created_time) o["createdTime"] = *m.created_time;
    EmitLine(out, "metaData", std::move(o));
  }
  for (const Txn& t : batch.txns) {
    ordered_json o;
    o["appId"] = t.app_id;
    o["version"] = t.version;
    if (t.last_updated) o["lastUpdated"] = *t.last_updated;
    EmitLine(out, "txn", std::move(o));
  }
  for (const DomainMetadata& d : batch.domain_metadata) {
    ordered_json o;
    o["domain"] = d.domain;
    o["configuration"] = d.configuration;
    o["removed"] = d.removed;
    EmitLine(out, "domainMetadata", std::move(o));
  }
  for (const CheckpointMetadata& c : batch.checkpoint_metadata) {
    ordered_json o;
    o["version"] = c.version;
    if (!c.tags.empty()) o["tags"] = StringMapJson(c.tags);
    EmitLine(out, "checkpointMetadata", std::move(o));
  }
  for (const Sidecar& s : batch.sidecars) {
    ordered_json o;
    o["path"] = s.path;
    o["sizeInBytes"] = s.size_in_bytes;
    o["modificationTime"] = s.modification_time;
    if (!s.tags.empty()) o["tags"] = StringMapJson(s.tags);
    EmitLine(out, "sidecar", std::move(o));
  }
  for (const RemoveFile& r : batch.removes) {
    ordered_json o;
    o["path"] = r.path;
    if (r.deletion_timestamp) o["deletionTimestamp"] = *r.deletion_timestamp;
    o["dataChange"] = r.data_change;
    if (r.extended_file_metadata) o["extendedFileMetadata"] = *r.extended_file_metadata;
    if (r.partition_values) o["partitionValues"] = PartitionValuesJson(*r.partition_values);
    if (r.size) o["size"] = *r.size;
    if (r.stats) o["stats"] = *r.stats;
    if (!r.tags.empty()) o["tags"] = StringMapJson(r.tags);
    if (r.deletion_vector) o["deletionVector"] = DvJson(*r.deletion_vector);
    if (r.base_row_id) o["baseRowId"] = *r.base_row_id;
    if (r.default_row_commit_version) o["defaultRowCommitVersion"] = *r.default_row_commit_version;
    EmitLine(out, "remove", std::move(o));
  }
  for (const AddFile& a : batch.adds) {
    ordered_json o;
    o["path"] = a.path;
    o["partitionValues"] = PartitionValuesJson(a.partition_values);
    o["size"] = a.size;
    o["modificationTime"] = a.modification_time;
    o["dataChange"] = a.data_change;
    if (a.stats) o["stats"] = *a.stats;
    if (!a.tags.empty()) o["tags"] = StringMapJson(a.tags);
    if (a.deletion_vector) o["deletionVector"] = DvJson(*a.deletion_vector);
    if (a.base_row_id) o["baseRowId"] = *a.base_row_id;
    if (a.default_row_commit_version) o["defaultRowCommitVersion"] = *a.default_row_commit_version;
    if (a.clustering_provider) o["clusteringProvider"] = *a.clustering_provider;
    EmitLine(out, "add", std::move(o));
  }
  for (const AddCdcFile& c : batch.cdcs) {
    ordered_json o;
    o["path"] = c.path;
    o["partitionValues"] = PartitionValuesJson(c.partition_values);
    o["size"] = c.size;
    o["dataChange"] = c.data_change;
    if (!c.tags.empty()) o["tags"] = StringMapJson(c.tags);
    EmitLine(out, "cdc", std::move(o));
  }
  return out;
}

}  // namespace lake::delta
