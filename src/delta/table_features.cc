// Table features on the write side: protocol selection and the writer gate (design table in
// table_features.h). Feature facts follow PROTOCOL.md "Valid Feature Names in Table Features"
// and "Writer Version Requirements".
#include "delta/table_features.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/strings.h"
#include "delta/snapshot.h"

namespace lake::delta {
namespace {

// What lake's writer does with a supported feature.
enum class WriteSupport {
  kYes,         // honoured (enforced here, or by the engine through an exposed helper)
  kIfInactive,  // fine while no table property / column uses it; refused when active
  kNo,          // refused whenever the protocol supports it
};

struct FeatureSpec {
  std::string_view name;
  bool reader_writer;  // listed in readerFeatures too
  int legacy_reader;   // reader version that implies it (0: none)
  int legacy_writer;   // writer version that implies it (0: none, needs writer 7)
  WriteSupport write;
  std::string_view why_refused;  // for kIfInactive / kNo
};

constexpr FeatureSpec kFeatures[] = {
    {"appendOnly", false, 0, 2, WriteSupport::kYes, ""},
    {"invariants", false, 0, 2, WriteSupport::kYes, ""},
    {"checkConstraints", false, 0, 3, WriteSupport::kYes, ""},
    {"changeDataFeed", false, 0, 4, WriteSupport::kYes, ""},
    {"generatedColumns", false, 0, 4, WriteSupport::kIfInactive,
     "lake does not compute generated columns yet"},
    {"columnMapping", true, 2, 5, WriteSupport::kYes, ""},
    {"identityColumns", false, 0, 6, WriteSupport::kIfInactive,
     "lake does not generate identity column values yet"},
    {"deletionVectors", true, 0, 0, WriteSupport::kYes, ""},
    {"timestampNtz", true, 0, 0, WriteSupport::kYes, ""},
    {"typeWidening", true, 0, 0, WriteSupport::kYes, ""},
    {"typeWidening-preview", true, 0, 0, WriteSupport::kYes, ""},
    {"v2Checkpoint", true, 0, 0, WriteSupport::kYes, ""},
    {"vacuumProtocolCheck", true, 0, 0, WriteSupport::kYes, ""},
    {"domainMetadata", false, 0, 0, WriteSupport::kYes, ""},
    {"inCommitTimestamp", false, 0, 0, WriteSupport::kYes, ""},
    {"icebergCompatV1", false, 0, 0, WriteSupport::kIfInactive,
     "lake does not write Iceberg-compatible tables yet"},
    {"icebergCompatV2", false, 0, 0, WriteSupport::kIfInactive,
     "lake does not write Iceberg-compatible tables yet"},
    {"allowColumnDefaults", false, 0, 0, WriteSupport::kIfInactive,
     "lake does not apply column defaults yet"},
    {"variantType", true, 0, 0, WriteSupport::kIfInactive,
     "lake does not write variant columns yet"},
    {"variantType-preview", true, 0, 0, WriteSupport::kIfInactive,
     "lake does not write variant columns yet"},
    {"variantShredding", true, 0, 0, WriteSupport::kNo, "lake does not write shredded variants"},
    {"variantShredding-preview", true, 0, 0, WriteSupport::kNo,
     "lake does not write shredded variants"},
    {"rowTracking", false, 0, 0, WriteSupport::kNo,
     "writers must assign row ids and commit versions, which lake does not do yet"},
    {"clustering", false, 0, 0, WriteSupport::kNo, "lake does not write clustered tables yet"},
    {"catalogManaged", true, 0, 0, WriteSupport::kNo,
     "commits must go through the table's catalog"},
    {"checkpointProtection", false, 0, 0, WriteSupport::kNo,
     "lake does not implement its log cleanup rules yet"},
};

const FeatureSpec* FindFeature(std::string_view name) {
  for (const FeatureSpec& f : kFeatures) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Features a feature needs supported as well (PROTOCOL.md "Row Tracking", "Clustered
// Table": both keep their state in domain metadata).
std::vector<std::string_view> Dependencies(std::string_view name) {
  if (name == "rowTracking" || name == "clustering") return {"domainMetadata"};
  return {};
}

bool Contains(const std::optional<std::vector<std::string>>& list, std::string_view name) {
  return list && std::find(list->begin(), list->end(), name) != list->end();
}

// Every feature `protocol` supports: the listed ones, and those its legacy versions imply.
std::set<std::string> SupportedSet(const Protocol& protocol) {
  std::set<std::string> out;
  if (protocol.writer_features)
    out.insert(protocol.writer_features->begin(), protocol.writer_features->end());
  if (protocol.reader_features)
    out.insert(protocol.reader_features->begin(), protocol.reader_features->end());
  for (const FeatureSpec& f : kFeatures) {
    if (protocol.min_writer_version < 7 && f.legacy_writer != 0 &&
        protocol.min_writer_version >= f.legacy_writer) {
      out.insert(std::string(f.name));
    }
    if (protocol.min_reader_version < 3 && f.legacy_reader != 0 &&
        protocol.min_reader_version >= f.legacy_reader) {
      out.insert(std::string(f.name));
    }
  }
  return out;
}

// Calls `fn(field, path)` for every struct field of `type`, nested ones included.
template <typename Fn>
void ForEachField(const DataType& type, const std::string& prefix, const Fn& fn) {
  if (type.kind == TypeKind::kStruct) {
    for (const StructField& f : type.fields) {
      std::string path = prefix.empty() ? f.name : StrCat(prefix, ".", f.name);
      fn(f, path);
      ForEachField(f.type, path, fn);
    }
  } else if (type.kind == TypeKind::kArray && type.element) {
    ForEachField(*type.element, prefix + ".element", fn);
  } else if (type.kind == TypeKind::kMap) {
    if (type.key) ForEachField(*type.key, prefix + ".key", fn);
    if (type.value) ForEachField(*type.value, prefix + ".value", fn);
  }
}

bool HasKind(const DataType& type, TypeKind kind) {
  if (type.kind == kind) return true;
  for (const StructField& f : type.fields) {
    if (HasKind(f.type, kind)) return true;
  }
  if (type.element && HasKind(*type.element, kind)) return true;
  if (type.key && HasKind(*type.key, kind)) return true;
  if (type.value && HasKind(*type.value, kind)) return true;
  return false;
}

nlohmann::json FieldMetadata(const StructField& f) {
  nlohmann::json j = nlohmann::json::parse(f.metadata_json, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json::object();
}

std::string ConfigValue(const Metadata& metadata, std::string_view key) {
  auto it = metadata.configuration.find(std::string(key));
  return it == metadata.configuration.end() ? std::string() : it->second;
}

Result<int> VersionProperty(const Metadata& metadata, std::string_view key, int max) {
  auto it = metadata.configuration.find(std::string(key));
  if (it == metadata.configuration.end()) return 0;
  std::optional<int64_t> v = ParseInt64(it->second);
  if (!v || *v < 1 || *v > max) {
    return Status::InvalidArgument(
               StrCat("table property ", key, "='", it->second, "' is not a protocol version"))
        .WithHint(StrCat("use a version from 1 to ", max));
  }
  return static_cast<int>(*v);
}

// Builds the lowest protocol supporting every feature in `features` with versions at least
// `floor_reader` / `floor_writer`. Features of `existing` (may be null) keep their place in
// the lists; the rest follow sorted.
Protocol BuildProtocol(std::set<std::string> features, int floor_reader, int floor_writer,
                       const Protocol* existing) {
  // Features imply the ones they depend on.
  for (bool grew = true; grew;) {
    grew = false;
    for (const std::string& f : std::vector<std::string>(features.begin(), features.end())) {
      for (std::string_view dep : Dependencies(f)) grew |= features.insert(std::string(dep)).second;
    }
  }
  bool legacy = floor_writer < 7 && floor_reader < 3;
  for (const std::string& name : features) {
    const FeatureSpec* spec = FindFeature(name);
    if (!spec || spec->legacy_writer == 0) legacy = false;
  }
  Protocol p;
  if (legacy) {
    p.min_reader_version = std::max(1, floor_reader);
    p.min_writer_version = std::max(2, floor_writer);
    for (const std::string& name : features) {
      const FeatureSpec* spec = FindFeature(name);
      p.min_writer_version = std::max(p.min_writer_version, spec->legacy_writer);
      if (spec->reader_writer)
        p.min_reader_version = std::max(p.min_reader_version, spec->legacy_reader);
    }
    return p;
  }
  // Table features. The versions the lists replace imply features too: a legacy floor (from
  // an existing table or delta.minWriterVersion) must stay supported, so list them.
  Protocol floor;
  floor.min_reader_version = floor_reader < 3 ? floor_reader : 0;
  floor.min_writer_version = floor_writer < 7 ? floor_writer : 0;
  std::set<std::string> implied = SupportedSet(floor);
  features.insert(implied.begin(), implied.end());

  bool needs_reader_list = floor_reader >= 3;
  int reader = std::max(1, floor_reader);
  for (const std::string& name : features) {
    const FeatureSpec* spec = FindFeature(name);
    if (spec && !spec->reader_writer) continue;
    // Unknown names are treated as reader-writer: the safe side.
    if (!spec || spec->legacy_reader == 0) {
      needs_reader_list = true;
    } else {
      reader = std::max(reader, spec->legacy_reader);
    }
  }
  auto ordered = [&](auto keep) {
    std::vector<std::string> out;
    const std::optional<std::vector<std::string>>* old =
        existing ? &existing->writer_features : nullptr;
    if (old && *old) {
      for (const std::string& f : **old) {
        if (features.count(f) && keep(f)) out.push_back(f);
      }
    }
    for (const std::string& f : features) {
      if (keep(f) && std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
    }
    return out;
  };
  p.min_writer_version = 7;
  p.writer_features = ordered([](const std::string&) { return true; });
  if (needs_reader_list) {
    p.min_reader_version = 3;
    p.reader_features = ordered([](const std::string& f) {
      const FeatureSpec* spec = FindFeature(f);
      return !spec || spec->reader_writer;
    });
  } else {
    p.min_reader_version = reader;
  }
  return p;
}

Status CheckKnown(const std::vector<std::string>& features) {
  for (const std::string& f : features) {
    if (!FindFeature(f)) {
      return Status::InvalidArgument(StrCat("unknown table feature '", f, "'"))
          .WithHint("check the spelling of the delta.feature.<name> property");
    }
  }
  return Status::OK();
}

}  // namespace

bool ConfigIsTrue(const Metadata& metadata, std::string_view key) {
  return ToLower(ConfigValue(metadata, key)) == "true";
}

bool IsFeatureSupported(const Protocol& protocol, std::string_view feature) {
  return SupportedSet(protocol).count(std::string(feature)) > 0;
}

std::vector<std::string> ActiveFeatures(const Metadata& metadata, const Schema& schema) {
  std::set<std::string> out;
  auto enabled = [&](std::string_view key, std::string_view feature) {
    if (ConfigIsTrue(metadata, key)) out.insert(std::string(feature));
  };
  enabled("delta.appendOnly", "appendOnly");
  enabled("delta.enableChangeDataFeed", "changeDataFeed");
  enabled("delta.enableDeletionVectors", "deletionVectors");
  enabled("delta.enableTypeWidening", "typeWidening");
  enabled("delta.enableInCommitTimestamps", "inCommitTimestamp");
  enabled("delta.enableRowTracking", "rowTracking");
  enabled("delta.enableIcebergCompatV1", "icebergCompatV1");
  enabled("delta.enableIcebergCompatV2", "icebergCompatV2");
  enabled("delta.enableVariantShredding", "variantShredding");
  if (ToLower(ConfigValue(metadata, "delta.checkpointPolicy")) == "v2") out.insert("v2Checkpoint");
  const std::string mode = ToLower(ConfigValue(metadata, "delta.columnMapping.mode"));
  if (mode == "name" || mode == "id") out.insert("columnMapping");
  for (const auto& [key, value] : metadata.configuration) {
    if (StartsWith(key, "delta.constraints.")) out.insert("checkConstraints");
    // Spark's explicit way to add a feature: TBLPROPERTIES ('delta.feature.x' = 'supported').
    if (StartsWith(key, "delta.feature."))
      out.insert(key.substr(std::string_view("delta.feature.").size()));
  }
  ForEachField(schema, "", [&](const StructField& field, const std::string&) {
    nlohmann::json meta = FieldMetadata(field);
    if (meta.contains("delta.invariants")) out.insert("invariants");
    if (meta.contains("delta.generationExpression")) out.insert("generatedColumns");
    if (meta.contains("CURRENT_DEFAULT")) out.insert("allowColumnDefaults");
    for (const auto& item : meta.items()) {
      if (StartsWith(item.key(), "delta.identity.")) out.insert("identityColumns");
    }
  });
  if (HasKind(schema, TypeKind::kTimestampNtz)) out.insert("timestampNtz");
  if (HasKind(schema, TypeKind::kVariant)) out.insert("variantType");
  return {out.begin(), out.end()};
}

namespace {

// The shared part of MinimumProtocolFor (current == nullptr) and UpgradeProtocolFor.
Result<Protocol> ProtocolFor(const Protocol* current, const Metadata& metadata,
                             const Schema& schema, const std::vector<std::string>& extra) {
  std::vector<std::string> needed = ActiveFeatures(metadata, schema);
  needed.insert(needed.end(), extra.begin(), extra.end());
  LAKE_RETURN_IF_ERROR(CheckKnown(needed));
  LAKE_ASSIGN_OR_RETURN(int floor_reader, VersionProperty(metadata, "delta.minReaderVersion", 3));
  LAKE_ASSIGN_OR_RETURN(int floor_writer, VersionProperty(metadata, "delta.minWriterVersion", 7));
  std::set<std::string> supported(needed.begin(), needed.end());
  if (!current) return BuildProtocol(std::move(supported), floor_reader, floor_writer, nullptr);

  std::set<std::string> had = SupportedSet(*current);
  bool missing =
      floor_reader > current->min_reader_version || floor_writer > current->min_writer_version;
  for (const std::string& f : needed) missing |= had.count(f) == 0;
  if (!missing) return *current;
  supported.insert(had.begin(), had.end());
  Protocol p =
      BuildProtocol(std::move(supported), std::max(floor_reader, current->min_reader_version),
                    std::max(floor_writer, current->min_writer_version), current);
  // Keep reader features listed before even if the rules would not need them.
  if (current->reader_features && p.reader_features) {
    for (const std::string& f : *current->reader_features) {
      if (!Contains(p.reader_features, f)) p.reader_features->push_back(f);
    }
  }
  return p;
}

}  // namespace

Result<Protocol> MinimumProtocolFor(const Metadata& metadata, const Schema& schema,
                                    const std::vector<std::string>& extra_features) {
  return ProtocolFor(nullptr, metadata, schema, extra_features);
}

Result<Protocol> UpgradeProtocolFor(const Protocol& current, const Metadata& metadata,
                                    const Schema& schema,
                                    const std::vector<std::string>& extra_features) {
  return ProtocolFor(&current, metadata, schema, extra_features);
}

Status CheckNoDowngrade(const Protocol& from, const Protocol& to) {
  std::vector<std::string> lost;
  if (to.min_reader_version < from.min_reader_version) {
    lost.push_back(
        StrCat("minReaderVersion ", from.min_reader_version, " -> ", to.min_reader_version));
  }
  if (to.min_writer_version < from.min_writer_version) {
    lost.push_back(
        StrCat("minWriterVersion ", from.min_writer_version, " -> ", to.min_writer_version));
  }
  std::set<std::string> kept = SupportedSet(to);
  for (const std::string& f : SupportedSet(from)) {
    if (!kept.count(f)) lost.push_back(StrCat("feature '", f, "'"));
  }
  if (lost.empty()) return Status::OK();
  return Status::InvalidArgument(StrCat("protocol downgrade is not allowed: ", StrJoin(lost, ", ")))
      .WithHint("a protocol change may only add features (PROTOCOL.md \"Supported Features\")");
}

Status CheckWriteSupported(const Protocol& protocol, const Metadata& metadata,
                           const Schema& schema) {
  // A writer reads the table first, so it must implement every reader feature as well
  // (PROTOCOL.md "Table Features").
  LAKE_RETURN_IF_ERROR(CheckReadSupported(protocol));
  if (protocol.min_writer_version < 1 || protocol.min_writer_version > 7) {
    return Status::NotSupported(StrCat("protocol minWriterVersion ", protocol.min_writer_version,
                                       " is not supported (lake writes writer versions 1 to 7)"))
        .WithHint("write the table with an engine that supports it, or upgrade lake");
  }
  std::vector<std::string> active = ActiveFeatures(metadata, schema);
  auto is_active = [&](std::string_view f) {
    // The preview spellings ("variantType-preview") share their stable name's markers.
    constexpr std::string_view kPreview = "-preview";
    if (EndsWith(f, kPreview)) f.remove_suffix(kPreview.size());
    return std::find(active.begin(), active.end(), f) != active.end();
  };
  std::vector<std::string> refused;
  for (const std::string& name : SupportedSet(protocol)) {
    const FeatureSpec* spec = FindFeature(name);
    if (!spec) {
      refused.push_back(StrCat("'", name, "' (unknown to lake)"));
      continue;
    }
    const bool refuse = spec->write == WriteSupport::kNo ||
                        (spec->write == WriteSupport::kIfInactive && is_active(name));
    if (refuse) refused.push_back(StrCat("'", name, "' (", spec->why_refused, ")"));
  }
  if (refused.empty()) return WriterColumnMappingMode(protocol, metadata).status();
  return Status::NotSupported(StrCat("lake cannot write this table: unsupported writer feature",
                                     refused.size() > 1 ? "s " : " ", StrJoin(refused, ", ")))
      .WithHint("write it with an engine that implements the feature, or upgrade lake");
}

Result<std::vector<TableConstraint>> TableConstraints(const Metadata& metadata,
                                                      const Schema& schema) {
  std::vector<TableConstraint> out;
  constexpr std::string_view kPrefix = "delta.constraints.";
  for (const auto& [key, value] : metadata.configuration) {  // std::map: sorted by name
    if (StartsWith(key, kPrefix)) out.push_back({key.substr(kPrefix.size()), value, "", ""});
  }
  Status bad;
  ForEachField(schema, "", [&](const StructField& field, const std::string& path) {
    nlohmann::json meta = FieldMetadata(field);
    auto it = meta.find("delta.invariants");
    if (it == meta.end() || !bad.ok()) return;
    // PROTOCOL.md "Column Invariants": a JSON string {"expression": {"expression": "<SQL>"}}.
    nlohmann::json inner =
        it->is_string() ? nlohmann::json::parse(it->get<std::string>(), nullptr, false) : *it;
    const nlohmann::json* expr = nullptr;
    if (inner.is_object() && inner.contains("expression") && inner["expression"].is_object() &&
        inner["expression"].contains("expression") &&
        inner["expression"]["expression"].is_string()) {
      expr = &inner["expression"]["expression"];
    }
    if (!expr) {
      bad = Status::Corruption(StrCat("column '", path,
                                      "': delta.invariants is not {\"expression\": "
                                      "{\"expression\": \"<SQL>\"}}"))
                .WithHint("fix the column metadata with the engine that wrote it");
      return;
    }
    out.push_back({StrCat("invariant(", path, ")"), expr->get<std::string>(), path, ""});
  });
  LAKE_RETURN_IF_ERROR(bad);
  return out;
}

Result<std::string> PhysicalColumnName(const Schema& schema, std::string_view mode,
                                       std::string_view logical_name) {
  const StructField* field = FindField(schema, logical_name);
  if (!field) {
    return Status::NotFound(StrCat("no column '", logical_name, "' in the table schema"));
  }
  if (mode == "none") return field->name;
  if (field->physical_name.empty()) {
    return Status::Corruption(StrCat("column '", field->name,
                                     "' has no delta.columnMapping.physicalName but the table "
                                     "uses column mapping mode '",
                                     mode, "'"))
        .WithHint("the table's schema is incomplete; repair it with the engine that wrote it");
  }
  return field->physical_name;
}

Result<std::string> WriterColumnMappingMode(const Protocol& protocol, const Metadata& metadata) {
  // PROTOCOL.md "Column Mapping": the property counts only when the protocol supports the
  // feature (writer 5 or 6, or 7 with the feature listed).
  if (!IsFeatureSupported(protocol, "columnMapping")) return std::string("none");
  std::string mode = ToLower(ConfigValue(metadata, "delta.columnMapping.mode"));
  if (mode.empty()) return std::string("none");
  if (mode != "none" && mode != "name" && mode != "id") {
    return Status::NotSupported(StrCat("unknown delta.columnMapping.mode '", mode, "'"))
        .WithHint("lake writes column mapping modes none, name and id");
  }
  return mode;
}

}  // namespace lake::delta
