// An independent checker of the Delta commits lake writes, for tests (delta and engine):
// every action against PROTOCOL.md's required fields and types, path encoding ("path is a
// URI as specified by RFC 2396"), "Partition Value Serialization", the "Per-file Statistics"
// JSON shape, protocol version/feature consistency ("Table Features"), and the per-commit
// rules of "Delta Log Entries" (one metaData, one protocol, one add/remove per path, one txn
// per appId). It parses with nlohmann, not with lake's log parser, so a parser bug cannot
// hide a writer bug.
//
//   EXPECT_THAT(ValidateTableLog(store), IsEmpty());      // every commit of a table
//   CommitValidator v;  v.Validate(text, version);       // commit by commit
// Header-only; needs nlohmann_json and lake_storage (both linked by delta_test/engine_test).
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"

namespace lake::delta::testing {

class CommitValidator {
 public:
  // Validates one commit file (`version` -1 when unknown); remembers its metaData and
  // protocol for the commits after it. Returns the problems found, each naming the line.
  std::vector<std::string> Validate(std::string_view ndjson, int64_t version = -1) {
    problems_.clear();
    version_ = version;
    std::vector<nlohmann::json> lines;
    size_t start = 0;
    int line_no = 0;
    while (start <= ndjson.size()) {
      size_t nl = ndjson.find('\n', start);
      std::string_view line = ndjson.substr(start, nl == std::string_view::npos ? nl : nl - start);
      start = nl == std::string_view::npos ? ndjson.size() + 1 : nl + 1;
      ++line_no;
      if (line.empty()) continue;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object() || j.size() != 1) {
        Problem(line_no, "is not a JSON object with exactly one action");
        continue;
      }
      lines.push_back(std::move(j));
      line_nos_.push_back(line_no);
    }
    if (!ndjson.empty() && ndjson.back() != '\n') Problem(0, "commit does not end with a newline");
    // First pass: protocol and metaData of this commit apply to its own files.
    int protocols = 0, metadata = 0, commit_infos = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string kind = lines[i].begin().key();
      const nlohmann::json& a = lines[i].begin().value();
      cur_line_ = line_nos_[i];
      if (kind == "protocol") {
        ++protocols;
        CheckProtocol(a);
      } else if (kind == "metaData") {
        ++metadata;
        CheckMetadata(a);
      } else if (kind == "commitInfo") {
        ++commit_infos;
        if (!a.is_object()) Problem(cur_line_, "commitInfo is not an object");
        if (a.is_object() && a.contains("inCommitTimestamp") && i != 0) {
          Problem(cur_line_, "commitInfo with inCommitTimestamp must be the first action");
        }
        CheckCommitInfo(a);
      }
    }
    if (protocols > 1) Problem(0, "more than one protocol action");
    if (metadata > 1) Problem(0, "more than one metaData action");
    if (commit_infos == 0) Problem(0, "no commitInfo action");
    if (commit_infos > 1) Problem(0, "more than one commitInfo action");
    if (version == 0 && (protocols == 0 || metadata == 0)) {
      Problem(0, "version 0 must contain protocol and metaData");
    }
    if (ict_enabled_ && (lines.empty() || lines[0].begin().key() != "commitInfo" ||
                         !lines[0].begin().value().contains("inCommitTimestamp"))) {
      Problem(0,
              "in-commit timestamps are enabled but commitInfo is not first with "
              "inCommitTimestamp");
    }
    std::set<std::string> add_paths, remove_paths, app_ids, domains;
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string kind = lines[i].begin().key();
      const nlohmann::json& a = lines[i].begin().value();
      cur_line_ = line_nos_[i];
      if (kind == "add") {
        CheckAdd(a);
        if (a.is_object() && a.contains("path") && !add_paths.insert(a["path"].dump()).second) {
          Problem(cur_line_, "path added twice in one commit");
        }
      } else if (kind == "remove") {
        CheckRemove(a);
        if (a.is_object() && a.contains("path") && !remove_paths.insert(a["path"].dump()).second) {
          Problem(cur_line_, "path removed twice in one commit");
        }
      } else if (kind == "cdc") {
        CheckCdc(a);
      } else if (kind == "txn") {
        if (Require(a, "appId", kString) && !app_ids.insert(a["appId"].get<std::string>()).second) {
          Problem(cur_line_, "two txn actions for one appId");
        }
        Require(a, "version", kInt);
        Optional(a, "lastUpdated", kInt);
      } else if (kind == "domainMetadata") {
        if (Require(a, "domain", kString) &&
            !domains.insert(a["domain"].get<std::string>()).second) {
          Problem(cur_line_, "two domainMetadata actions for one domain");
        }
        Require(a, "configuration", kString);
        Require(a, "removed", kBool);
        if (!Supports("domainMetadata")) {
          Problem(cur_line_, "domainMetadata written without the domainMetadata feature");
        }
      } else if (kind == "checkpointMetadata" || kind == "sidecar") {
        Problem(cur_line_, kind + " is not allowed in a commit file");
      } else if (kind != "protocol" && kind != "metaData" && kind != "commitInfo") {
        Problem(cur_line_, "unknown action '" + kind + "'");
      }
    }
    line_nos_.clear();
    return problems_;
  }

 private:
  enum Type { kString, kInt, kBool, kObject, kArray };

  void Problem(int line, const std::string& what) {
    std::string where = version_ >= 0 ? "version " + std::to_string(version_) : "commit";
    if (line > 0) where += " line " + std::to_string(line);
    problems_.push_back(where + ": " + what);
  }
  static bool HasType(const nlohmann::json& v, Type t) {
    switch (t) {
      case kString:
        return v.is_string();
      case kInt:
        return v.is_number_integer();
      case kBool:
        return v.is_boolean();
      case kObject:
        return v.is_object();
      case kArray:
        return v.is_array();
    }
    return false;
  }
  static const char* TypeName(Type t) {
    switch (t) {
      case kString:
        return "a string";
      case kInt:
        return "an integer";
      case kBool:
        return "a boolean";
      case kObject:
        return "an object";
      case kArray:
        return "an array";
    }
    return "?";
  }
  bool Require(const nlohmann::json& a, const char* field, Type t) {
    if (!a.is_object() || !a.contains(field) || a[field].is_null()) {
      Problem(cur_line_, std::string("missing required field '") + field + "'");
      return false;
    }
    if (!HasType(a[field], t)) {
      Problem(cur_line_, std::string("field '") + field + "' is not " + TypeName(t));
      return false;
    }
    return true;
  }
  bool Optional(const nlohmann::json& a, const char* field, Type t) {
    if (!a.is_object() || !a.contains(field) || a[field].is_null()) return false;
    if (!HasType(a[field], t)) {
      Problem(cur_line_, std::string("field '") + field + "' is not " + TypeName(t));
      return false;
    }
    return true;
  }
  void CheckStringMap(const nlohmann::json& a, const char* field, bool allow_null_values) {
    if (!a.contains(field) || a[field].is_null()) return;
    for (const auto& item : a[field].items()) {
      if (!item.value().is_string() && !(allow_null_values && item.value().is_null())) {
        Problem(cur_line_, std::string(field) + "['" + item.key() + "'] is not a string");
      }
    }
  }

  // ---- protocol, metaData, commitInfo ----
  void CheckProtocol(const nlohmann::json& a) {
    if (!Require(a, "minReaderVersion", kInt) || !Require(a, "minWriterVersion", kInt)) return;
    Optional(a, "readerFeatures", kArray);
    Optional(a, "writerFeatures", kArray);
    const int64_t r = a["minReaderVersion"], w = a["minWriterVersion"];
    const bool has_rf = a.contains("readerFeatures") && !a["readerFeatures"].is_null();
    const bool has_wf = a.contains("writerFeatures") && !a["writerFeatures"].is_null();
    if (r < 1 || r > 3) Problem(cur_line_, "minReaderVersion out of range");
    if (w < 1 || w > 7) Problem(cur_line_, "minWriterVersion out of range");
    if ((r == 3) != has_rf)
      Problem(cur_line_, "readerFeatures must be present exactly with reader version 3");
    if ((w == 7) != has_wf)
      Problem(cur_line_, "writerFeatures must be present exactly with writer version 7");
    if (r == 3 && w != 7) Problem(cur_line_, "reader version 3 requires writer version 7");
    protocol_features_.clear();
    if (has_wf) {
      for (const auto& f : a["writerFeatures"]) {
        if (!f.is_string())
          Problem(cur_line_, "writerFeatures holds a non-string");
        else
          protocol_features_.insert(f.get<std::string>());
      }
    }
    if (has_rf && has_wf) {
      for (const auto& f : a["readerFeatures"]) {
        if (!f.is_string() || !protocol_features_.count(f.get<std::string>())) {
          Problem(cur_line_, "reader feature " + f.dump() + " is not listed in writerFeatures");
        }
      }
    }
    reader_version_ = r;
    writer_version_ = w;
  }
  bool Supports(const std::string& feature) const {
    if (writer_version_ == 7) return protocol_features_.count(feature) > 0;
    static const std::map<std::string, int> kLegacy = {
        {"appendOnly", 2},     {"invariants", 2},       {"checkConstraints", 3},
        {"changeDataFeed", 4}, {"generatedColumns", 4}, {"columnMapping", 5},
        {"identityColumns", 6}};
    auto it = kLegacy.find(feature);
    return it != kLegacy.end() && writer_version_ >= it->second;
  }

  void CheckMetadata(const nlohmann::json& a) {
    if (Require(a, "id", kString) && a["id"].get<std::string>().empty()) {
      Problem(cur_line_, "metaData.id is empty");
    }
    if (Require(a, "format", kObject)) {
      if (!a["format"].contains("provider") || !a["format"]["provider"].is_string()) {
        Problem(cur_line_, "format.provider missing or not a string");
      }
      if (a["format"].contains("options") && !a["format"]["options"].is_object()) {
        Problem(cur_line_, "format.options is not an object");
      }
    }
    Optional(a, "name", kString);
    Optional(a, "description", kString);
    Optional(a, "createdTime", kInt);
    if (Require(a, "configuration", kObject)) CheckStringMap(a, "configuration", false);
    schema_fields_.clear();
    if (Require(a, "schemaString", kString)) {
      nlohmann::json schema =
          nlohmann::json::parse(a["schemaString"].get<std::string>(), nullptr, false);
      if (!schema.is_object() || schema.value("type", "") != "struct" ||
          !schema.contains("fields") || !schema["fields"].is_array()) {
        Problem(cur_line_, "schemaString is not a JSON struct type");
      } else {
        schema_ = schema;
        for (const auto& f : schema["fields"]) {
          if (f.is_object() && f.contains("name") && f["name"].is_string()) {
            schema_fields_[f["name"].get<std::string>()] = f;
          } else {
            Problem(cur_line_, "schemaString has a field without a name");
          }
        }
      }
    }
    partition_physical_.clear();
    partition_types_.clear();
    const std::string mode = a.contains("configuration") && a["configuration"].is_object()
                                 ? a["configuration"].value("delta.columnMapping.mode", "none")
                                 : "none";
    mapping_ = mode != "none";
    ict_enabled_ = a.contains("configuration") && a["configuration"].is_object() &&
                   a["configuration"].value("delta.enableInCommitTimestamps", "") == "true";
    if (Require(a, "partitionColumns", kArray)) {
      for (const auto& c : a["partitionColumns"]) {
        if (!c.is_string()) {
          Problem(cur_line_, "partitionColumns holds a non-string");
          continue;
        }
        auto it = schema_fields_.find(c.get<std::string>());
        if (it == schema_fields_.end()) {
          Problem(cur_line_, "partition column " + c.dump() + " is not a schema column");
          continue;
        }
        std::string physical = PhysicalName(it->second);
        partition_physical_.push_back(physical);
        partition_types_[physical] =
            it->second["type"].is_string() ? it->second["type"].get<std::string>() : "";
      }
    }
    append_only_ = a.contains("configuration") && a["configuration"].is_object() &&
                   a["configuration"].value("delta.appendOnly", "") == "true";
    has_metadata_ = true;
  }
  std::string PhysicalName(const nlohmann::json& field) const {
    if (mapping_ && field.contains("metadata") && field["metadata"].is_object() &&
        field["metadata"].contains("delta.columnMapping.physicalName")) {
      return field["metadata"]["delta.columnMapping.physicalName"].get<std::string>();
    }
    return field["name"].get<std::string>();
  }

  void CheckCommitInfo(const nlohmann::json& a) {
    if (!a.is_object()) return;
    Optional(a, "timestamp", kInt);
    Optional(a, "inCommitTimestamp", kInt);
    Optional(a, "operation", kString);
    Optional(a, "operationParameters", kObject);
    Optional(a, "operationMetrics", kObject);
    Optional(a, "isBlindAppend", kBool);
    Optional(a, "readVersion", kInt);
    Optional(a, "isolationLevel", kString);
    Optional(a, "engineInfo", kString);
    Optional(a, "txnId", kString);
    if (a.contains("isolationLevel") && a["isolationLevel"].is_string()) {
      const std::string level = a["isolationLevel"];
      if (level != "Serializable" && level != "WriteSerializable" && level != "SnapshotIsolation") {
        Problem(cur_line_, "unknown isolationLevel '" + level + "'");
      }
    }
  }

  // ---- file actions ----
  void CheckPath(const nlohmann::json& a) {
    if (!Require(a, "path", kString)) return;
    const std::string path = a["path"];
    if (path.empty()) return Problem(cur_line_, "empty path");
    if (path[0] == '/' || path.find("://") != std::string::npos || path.substr(0, 5) == "file:") {
      return Problem(cur_line_, "path '" + path + "' is not relative to the table root");
    }
    // RFC 2396 "path_segments": unreserved | escaped | ";:@&=+$," and '/'.
    static const std::string kAllowed = "-_.!~*'();:@&=+$,/";
    for (size_t i = 0; i < path.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(path[i]);
      if (c == '%') {
        if (i + 2 >= path.size() || !std::isxdigit(static_cast<unsigned char>(path[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(path[i + 2]))) {
          return Problem(cur_line_, "path '" + path + "' has a '%' that is not an escape");
        }
        i += 2;
        continue;
      }
      if (c >= 0x80 ||
          !(std::isalnum(c) || kAllowed.find(static_cast<char>(c)) != std::string::npos)) {
        return Problem(cur_line_,
                       "path '" + path + "' has a character that must be percent-encoded");
      }
    }
    // A relative URI's first segment may not hold ':' (it would read as a scheme).
    if (path.substr(0, path.find('/')).find(':') != std::string::npos) {
      Problem(cur_line_, "path '" + path + "' has ':' in its first segment");
    }
  }

  void CheckPartitionValues(const nlohmann::json& a, bool required) {
    if (!a.contains("partitionValues") || a["partitionValues"].is_null()) {
      if (required) Problem(cur_line_, "missing required field 'partitionValues'");
      return;
    }
    if (!a["partitionValues"].is_object())
      return Problem(cur_line_, "partitionValues is not an object");
    if (!has_metadata_) return;
    std::vector<std::string> keys;
    for (const auto& item : a["partitionValues"].items()) {
      keys.push_back(item.key());
      if (item.value().is_null()) continue;
      if (!item.value().is_string()) {
        Problem(cur_line_, "partition value '" + item.key() + "' is not a string or null");
        continue;
      }
      auto type = partition_types_.find(item.key());
      if (type != partition_types_.end())
        CheckPartitionValue(item.key(), type->second, item.value());
    }
    std::vector<std::string> expected = partition_physical_;
    std::sort(keys.begin(), keys.end());
    std::sort(expected.begin(), expected.end());
    if (keys != expected) {
      Problem(cur_line_, "partitionValues keys do not match the partition columns");
    }
  }
  // PROTOCOL.md "Partition Value Serialization"; "" is NULL for every type.
  void CheckPartitionValue(const std::string& col, const std::string& type, const std::string& v) {
    if (v.empty()) return;
    auto digits = [&](size_t from, size_t n) {
      if (from + n > v.size()) return false;
      for (size_t i = from; i < from + n; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
      }
      return true;
    };
    auto is_integer = [&] {
      size_t i = v[0] == '-' ? 1 : 0;
      return i < v.size() && digits(i, v.size() - i);
    };
    auto is_date = [&](size_t at) {
      return digits(at, 4) && v.size() >= at + 10 && v[at + 4] == '-' && digits(at + 5, 2) &&
             v[at + 7] == '-' && digits(at + 8, 2);
    };
    auto is_time = [&](size_t at, char sep) {  // "<sep>HH:MM:SS[.ffffff]" then end or 'Z'
      if (v.size() < at + 9 || v[at] != sep || !digits(at + 1, 2) || v[at + 3] != ':' ||
          !digits(at + 4, 2) || v[at + 6] != ':' || !digits(at + 7, 2)) {
        return std::string::npos;
      }
      size_t i = at + 9;
      if (i < v.size() && v[i] == '.') {
        size_t j = i + 1;
        while (j < v.size() && std::isdigit(static_cast<unsigned char>(v[j]))) ++j;
        if (j == i + 1 || j - i - 1 > 9) return std::string::npos;
        i = j;
      }
      return i;
    };
    bool ok = true;
    if (type == "byte" || type == "short" || type == "integer" || type == "long") {
      ok = is_integer();
    } else if (type == "boolean") {
      ok = v == "true" || v == "false";
    } else if (type == "date") {
      ok = v.size() == 10 && is_date(0);
    } else if (type == "timestamp") {
      size_t end = is_date(0) ? is_time(10, ' ') : std::string::npos;
      size_t iso = is_date(0) ? is_time(10, 'T') : std::string::npos;
      ok = (end != std::string::npos && end == v.size()) ||
           (iso != std::string::npos && iso + 1 == v.size() && v[iso] == 'Z');
    } else if (type == "timestamp_ntz") {
      size_t end = is_date(0) ? is_time(10, ' ') : std::string::npos;
      ok = end != std::string::npos && end == v.size();
    } else if (type == "float" || type == "double" || type.rfind("decimal", 0) == 0) {
      nlohmann::json n = nlohmann::json::parse(v, nullptr, false);
      ok = n.is_number() || v == "NaN" || v == "Infinity" || v == "-Infinity";
    }
    if (!ok)
      Problem(cur_line_, "partition value '" + v + "' of " + col + " is not a serialized " + type);
  }

  void CheckStats(const nlohmann::json& a) {
    if (!a.contains("stats") || a["stats"].is_null()) return;
    if (!a["stats"].is_string()) return Problem(cur_line_, "stats is not a JSON string");
    nlohmann::json s = nlohmann::json::parse(a["stats"].get<std::string>(), nullptr, false);
    if (!s.is_object()) return Problem(cur_line_, "stats is not a JSON object");
    for (const auto& item : s.items()) {
      const std::string& k = item.key();
      const nlohmann::json& v = item.value();
      if (k == "numRecords") {
        if (!v.is_number_integer() || v.get<int64_t>() < 0)
          Problem(cur_line_, "stats.numRecords is not a count");
      } else if (k == "tightBounds") {
        if (!v.is_boolean()) Problem(cur_line_, "stats.tightBounds is not a boolean");
      } else if (k == "minValues" || k == "maxValues" || k == "nullCount") {
        if (!v.is_object()) {
          Problem(cur_line_, "stats." + k + " is not an object");
          continue;
        }
        if (k == "nullCount") CheckNullCounts(v);
        if (has_metadata_ && !schema_fields_.empty()) {
          for (const auto& col : v.items()) {
            bool known = false;
            for (const auto& [name, field] : schema_fields_)
              known |= PhysicalName(field) == col.key();
            if (!known)
              Problem(cur_line_, "stats." + k + " names unknown column '" + col.key() + "'");
          }
        }
      } else {
        Problem(cur_line_, "stats has unknown key '" + k + "'");
      }
    }
    if (a.contains("deletionVector") && !a["deletionVector"].is_null() &&
        !s.contains("numRecords")) {
      Problem(cur_line_, "a file with a deletion vector needs stats.numRecords");
    }
  }
  void CheckNullCounts(const nlohmann::json& v) {
    for (const auto& item : v.items()) {
      if (item.value().is_object()) {
        CheckNullCounts(item.value());
      } else if (!item.value().is_number_integer() || item.value().get<int64_t>() < 0) {
        Problem(cur_line_, "stats.nullCount['" + item.key() + "'] is not a count");
      }
    }
  }
  void CheckDv(const nlohmann::json& a) {
    if (!a.contains("deletionVector") || a["deletionVector"].is_null()) return;
    const nlohmann::json& dv = a["deletionVector"];
    if (!dv.is_object()) return Problem(cur_line_, "deletionVector is not an object");
    if (Require(dv, "storageType", kString)) {
      const std::string t = dv["storageType"];
      if (t != "u" && t != "i" && t != "p") Problem(cur_line_, "bad deletionVector.storageType");
    }
    Require(dv, "pathOrInlineDv", kString);
    Require(dv, "sizeInBytes", kInt);
    Require(dv, "cardinality", kInt);
    Optional(dv, "offset", kInt);
    if (!Supports("deletionVectors"))
      Problem(cur_line_, "deletion vector without the deletionVectors feature");
  }

  void CheckAdd(const nlohmann::json& a) {
    if (!a.is_object()) return Problem(cur_line_, "add is not an object");
    CheckPath(a);
    CheckPartitionValues(a, /*required=*/true);
    if (Require(a, "size", kInt) && a["size"].get<int64_t>() < 0)
      Problem(cur_line_, "negative size");
    Require(a, "modificationTime", kInt);
    Require(a, "dataChange", kBool);
    Optional(a, "tags", kObject);
    CheckStringMap(a, "tags", true);
    Optional(a, "baseRowId", kInt);
    Optional(a, "defaultRowCommitVersion", kInt);
    Optional(a, "clusteringProvider", kString);
    CheckStats(a);
    CheckDv(a);
  }
  void CheckRemove(const nlohmann::json& a) {
    if (!a.is_object()) return Problem(cur_line_, "remove is not an object");
    CheckPath(a);
    Require(a, "dataChange", kBool);
    Optional(a, "deletionTimestamp", kInt);
    const bool extended =
        Optional(a, "extendedFileMetadata", kBool) && a["extendedFileMetadata"].get<bool>();
    CheckPartitionValues(a, /*required=*/extended);
    if (extended)
      Require(a, "size", kInt);
    else
      Optional(a, "size", kInt);
    Optional(a, "tags", kObject);
    CheckStats(a);
    CheckDv(a);
    if (a.contains("dataChange") && a["dataChange"] == true && has_metadata_ && append_only()) {
      Problem(cur_line_, "data-changing remove on an append-only table");
    }
  }
  void CheckCdc(const nlohmann::json& a) {
    if (!a.is_object()) return Problem(cur_line_, "cdc is not an object");
    CheckPath(a);
    CheckPartitionValues(a, true);
    Require(a, "size", kInt);
    if (Require(a, "dataChange", kBool) && a["dataChange"].get<bool>()) {
      Problem(cur_line_, "cdc.dataChange must be false");
    }
  }
  bool append_only() const { return append_only_ && Supports("appendOnly"); }

  std::vector<std::string> problems_;
  std::vector<int> line_nos_;
  int cur_line_ = 0;
  int64_t version_ = -1;
  // State carried from earlier commits of the table.
  bool has_metadata_ = false;
  bool mapping_ = false;
  bool ict_enabled_ = false;
  bool append_only_ = false;
  nlohmann::json schema_;
  std::map<std::string, nlohmann::json> schema_fields_;
  std::vector<std::string> partition_physical_;
  std::map<std::string, std::string> partition_types_;
  int64_t reader_version_ = 1;
  int64_t writer_version_ = 1;
  std::set<std::string> protocol_features_;
};

// Validates one commit on its own (no earlier metaData: partition values are checked only
// when the commit carries its metaData).
inline std::vector<std::string> ValidateCommit(std::string_view ndjson, int64_t version = -1) {
  CommitValidator v;
  return v.Validate(ndjson, version);
}

// Validates every JSON commit under _delta_log/ of `store`, in version order. A store error is
// reported as a problem.
inline std::vector<std::string> ValidateTableLog(storage::ObjectStore& store) {
  std::vector<std::string> problems;
  auto listing = store.ListAfter("_delta_log/", "");
  if (!listing.ok()) return {"listing _delta_log/: " + listing.status().ToString()};
  CommitValidator v;
  for (const storage::ObjectInfo& info : *listing) {
    std::string_view name = std::string_view(info.key).substr(11);
    if (name.size() != 25 || name.substr(20) != ".json") continue;
    int64_t version = std::stoll(std::string(name.substr(0, 20)));
    auto text = store.Get(info.key);
    if (!text.ok()) {
      problems.push_back(info.key + ": " + text.status().ToString());
      continue;
    }
    for (std::string& p : v.Validate(*text, version)) problems.push_back(std::move(p));
  }
  return problems;
}

}  // namespace lake::delta::testing
