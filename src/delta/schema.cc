// Schema parsing (PROTOCOL.md "Schema Serialization Format"). Schemas are small and parsed
// once per snapshot, so nlohmann's DOM is fine here (STYLE: keep it off hot paths).
#include "delta/schema.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace lake::delta {
namespace {

using Json = nlohmann::json;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status BadType(std::string_view path, std::string_view what) {
  return Status::Corruption(StrCat("schema: ", path.empty() ? "<root>" : path, ": ", what))
      .WithHint("the table's metaData.schemaString is not a valid Delta schema");
}

Result<DataType> ParseType(const Json& j, const std::string& path, int depth);

// Nesting beyond this is refused rather than recursed into (a corrupt schema must not
// overflow the stack).
constexpr int kMaxTypeDepth = 1000;

DataType Primitive(TypeKind kind, int precision = 0, int scale = 0) {
  DataType t;
  t.kind = kind;
  t.precision = precision;
  t.scale = scale;
  return t;
}

Result<StructField> ParseField(const Json& j, const std::string& parent_path, int depth) {
  if (!j.is_object()) return BadType(parent_path, "a struct field is not a JSON object");
  auto name_it = j.find("name");
  if (name_it == j.end() || !name_it->is_string()) {
    return BadType(parent_path, "a struct field has no string \"name\"");
  }
  StructField field;
  field.name = name_it->get<std::string>();
  std::string path = parent_path.empty() ? field.name : StrCat(parent_path, ".", field.name);
  auto type_it = j.find("type");
  if (type_it == j.end()) return BadType(path, "field has no \"type\"");
  LAKE_ASSIGN_OR_RETURN(field.type, ParseType(*type_it, path, depth));
  if (auto it = j.find("nullable"); it != j.end()) {
    if (!it->is_boolean()) return BadType(path, "\"nullable\" is not a boolean");
    field.nullable = it->get<bool>();
  }
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return BadType(path, "\"metadata\" is not an object");
    field.metadata_json = it->dump(-1, ' ', false, Json::error_handler_t::replace);
    // Column mapping (PROTOCOL.md "Column Mapping"): ids are JSON numbers in every table we
    // have seen; accept a numeric string too rather than dropping the mapping.
    if (auto pn = it->find("delta.columnMapping.physicalName"); pn != it->end()) {
      if (!pn->is_string()) return BadType(path, "delta.columnMapping.physicalName is not a string");
      field.physical_name = pn->get<std::string>();
    }
    if (auto id = it->find("delta.columnMapping.id"); id != it->end()) {
      if (id->is_number_integer()) {
        field.field_id = id->get<int64_t>();
      } else if (id->is_string()) {
        std::optional<int64_t> v = ParseInt64(id->get<std::string>());
        if (!v) return BadType(path, "delta.columnMapping.id is not an integer");
        field.field_id = *v;
      } else {
        return BadType(path, "delta.columnMapping.id is not an integer");
      }
    }
  }
  return field;
}

Result<DataType> ParseType(const Json& j, const std::string& path, int depth) {
  if (depth > kMaxTypeDepth) return BadType(path, "types nested too deeply");
  if (j.is_string()) {
    Result<DataType> t = ParsePrimitiveType(j.get<std::string>());
    if (!t.ok()) return BadType(path, t.status().message());
    return t;
  }
  if (!j.is_object()) return BadType(path, "type is neither a name nor an object");
  auto kind_it = j.find("type");
  if (kind_it == j.end() || !kind_it->is_string()) {
    return BadType(path, "complex type has no string \"type\"");
  }
  const std::string& kind = kind_it->get_ref<const std::string&>();
  DataType t;
  if (kind == "struct") {
    t.kind = TypeKind::kStruct;
    auto fields = j.find("fields");
    if (fields == j.end() || !fields->is_array()) return BadType(path, "struct has no \"fields\" array");
    t.fields.reserve(fields->size());
    for (const Json& f : *fields) {
      LAKE_ASSIGN_OR_RETURN(StructField field, ParseField(f, path, depth + 1));
      t.fields.push_back(std::move(field));
    }
    return t;
  }
  if (kind == "array") {
    t.kind = TypeKind::kArray;
    auto el = j.find("elementType");
    if (el == j.end()) return BadType(path, "array has no \"elementType\"");
    LAKE_ASSIGN_OR_RETURN(DataType element, ParseType(*el, path + ".element", depth + 1));
    t.element = std::make_shared<const DataType>(std::move(element));
    if (auto it = j.find("containsNull"); it != j.end()) {
      if (!it->is_boolean()) return BadType(path, "\"containsNull\" is not a boolean");
      t.contains_null = it->get<bool>();
    }
    return t;
  }
  if (kind == "map") {
    t.kind = TypeKind::kMap;
    auto k = j.find("keyType");
    auto v = j.find("valueType");
    if (k == j.end() || v == j.end()) return BadType(path, "map lacks \"keyType\" or \"valueType\"");
    LAKE_ASSIGN_OR_RETURN(DataType key, ParseType(*k, path + ".key", depth + 1));
    LAKE_ASSIGN_OR_RETURN(DataType value, ParseType(*v, path + ".value", depth + 1));
    t.key = std::make_shared<const DataType>(std::move(key));
    t.value = std::make_shared<const DataType>(std::move(value));
    if (auto it = j.find("valueContainsNull"); it != j.end()) {
      if (!it->is_boolean()) return BadType(path, "\"valueContainsNull\" is not a boolean");
      t.value_contains_null = it->get<bool>();
    }
    return t;
  }
  // Some writers spell a primitive as {"type": "long"}; accept it.
  Result<DataType> prim = ParsePrimitiveType(kind);
  if (prim.ok()) return prim;
  return BadType(path, StrCat("unknown type \"", kind, "\""));
}

}  // namespace

Result<DataType> ParsePrimitiveType(std::string_view name) {
  static constexpr std::pair<std::string_view, TypeKind> kNames[] = {
      {"string", TypeKind::kString},   {"long", TypeKind::kLong},
      {"integer", TypeKind::kInteger}, {"short", TypeKind::kShort},
      {"byte", TypeKind::kByte},       {"float", TypeKind::kFloat},
      {"double", TypeKind::kDouble},   {"boolean", TypeKind::kBoolean},
      {"binary", TypeKind::kBinary},   {"date", TypeKind::kDate},
      {"timestamp", TypeKind::kTimestamp}, {"timestamp_ntz", TypeKind::kTimestampNtz},
      {"void", TypeKind::kVoid},       {"variant", TypeKind::kVariant},
  };
  std::string_view n = Trim(name);
  for (const auto& [text, kind] : kNames) {
    if (n == text) return Primitive(kind);
  }
  if (n == "decimal") {  // Spark's DecimalType.USER_DEFAULT
    return Primitive(TypeKind::kDecimal, 10, 0);
  }
  if (StartsWith(n, "decimal(") && EndsWith(n, ")")) {
    std::string_view args = n.substr(8, n.size() - 9);
    size_t comma = args.find(',');
    if (comma != std::string_view::npos) {
      std::optional<int64_t> p = ParseInt64(Trim(args.substr(0, comma)));
      std::optional<int64_t> s = ParseInt64(Trim(args.substr(comma + 1)));
      if (p && s && *p >= 1 && *p <= 38 && *s >= 0 && *s <= *p) {
        return Primitive(TypeKind::kDecimal, static_cast<int>(*p), static_cast<int>(*s));
      }
    }
    return Status::Corruption(StrCat("invalid decimal type \"", name,
                                     "\" (precision must be 1..38 and 0 <= scale <= precision)"));
  }
  return Status::Corruption(StrCat("unknown type \"", name, "\""));
}

Result<Schema> ParseSchema(std::string_view schema_json) {
  Json j = Json::parse(schema_json.begin(), schema_json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::Corruption("schema: schemaString is not valid JSON")
        .WithHint("the table's metaData.schemaString is not a valid Delta schema");
  }
  LAKE_ASSIGN_OR_RETURN(DataType t, ParseType(j, "", 0));
  if (t.kind != TypeKind::kStruct) return BadType("", "the top-level type is not a struct");
  return t;
}

const StructField* FindField(const Schema& schema, std::string_view name) {
  for (const StructField& f : schema.fields) {
    if (f.name == name) return &f;
  }
  std::string lower = ToLower(name);
  for (const StructField& f : schema.fields) {
    if (ToLower(f.name) == lower) return &f;
  }
  return nullptr;
}

std::string DataType::ToString() const {
  switch (kind) {
    case TypeKind::kString: return "string";
    case TypeKind::kLong: return "long";
    case TypeKind::kInteger: return "integer";
    case TypeKind::kShort: return "short";
    case TypeKind::kByte: return "byte";
    case TypeKind::kFloat: return "float";
    case TypeKind::kDouble: return "double";
    case TypeKind::kDecimal: return StrCat("decimal(", precision, ",", scale, ")");
    case TypeKind::kBoolean: return "boolean";
    case TypeKind::kBinary: return "binary";
    case TypeKind::kDate: return "date";
    case TypeKind::kTimestamp: return "timestamp";
    case TypeKind::kTimestampNtz: return "timestamp_ntz";
    case TypeKind::kVoid: return "void";
    case TypeKind::kVariant: return "variant";
    case TypeKind::kStruct: {
      std::string out = "struct<";
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i) out += ",";
        out += fields[i].name;
        out += ":";
        out += fields[i].type.ToString();
      }
      return out + ">";
    }
    case TypeKind::kArray:
      return StrCat("array<", element ? element->ToString() : "?", ">");
    case TypeKind::kMap:
      return StrCat("map<", key ? key->ToString() : "?", ",", value ? value->ToString() : "?", ">");
  }
  return "?";
}

namespace {

void AppendTypeJson(const DataType& type, std::string& out);

void AppendFieldJson(const StructField& field, std::string& out) {
  out += "{\"name\":";
  AppendJsonQuoted(field.name, out);
  out += ",\"type\":";
  AppendTypeJson(field.type, out);
  out += field.nullable ? ",\"nullable\":true" : ",\"nullable\":false";
  out += ",\"metadata\":";
  out += field.metadata_json.empty() ? "{}" : field.metadata_json;
  out += "}";
}

void AppendTypeJson(const DataType& type, std::string& out) {
  switch (type.kind) {
    case TypeKind::kStruct:
      out += "{\"type\":\"struct\",\"fields\":[";
      for (size_t f = 0; f < type.fields.size(); ++f) {
        if (f) out += ",";
        AppendFieldJson(type.fields[f], out);
      }
      out += "]}";
      return;
    case TypeKind::kArray:
      out += "{\"type\":\"array\",\"elementType\":";
      AppendTypeJson(*type.element, out);
      out += type.contains_null ? ",\"containsNull\":true}" : ",\"containsNull\":false}";
      return;
    case TypeKind::kMap:
      out += "{\"type\":\"map\",\"keyType\":";
      AppendTypeJson(*type.key, out);
      out += ",\"valueType\":";
      AppendTypeJson(*type.value, out);
      out += type.value_contains_null ? ",\"valueContainsNull\":true}"
                                      : ",\"valueContainsNull\":false}";
      return;
    default:
      AppendJsonQuoted(type.ToString(), out);
      return;
  }
}

}  // namespace

std::string SerializeDataType(const DataType& type) {
  std::string out;
  AppendTypeJson(type, out);
  return out;
}

std::string SerializeField(const StructField& field) {
  std::string out;
  AppendFieldJson(field, out);
  return out;
}

}  // namespace lake::delta
