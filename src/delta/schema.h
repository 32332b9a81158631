// Delta table schemas: the Spark StructType JSON of metaData.schemaString
// (PROTOCOL.md "Schema Serialization Format"), with column-mapping metadata resolved.
// Immutable after parsing; safe to share across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lake::delta {

enum class TypeKind {
  kString, kLong, kInteger, kShort, kByte, kFloat, kDouble, kDecimal, kBoolean, kBinary,
  kDate, kTimestamp, kTimestampNtz, kVoid, kVariant,
  kStruct, kArray, kMap,
};

struct StructField;

// A Delta data type. Primitive kinds use only `kind` (and precision/scale for decimals).
struct DataType {
  TypeKind kind = TypeKind::kString;
  int precision = 0;  // decimal
  int scale = 0;      // decimal
  std::vector<StructField> fields;             // struct
  std::shared_ptr<const DataType> element;     // array
  bool contains_null = true;                   // array
  std::shared_ptr<const DataType> key;         // map
  std::shared_ptr<const DataType> value;       // map
  bool value_contains_null = true;             // map

  bool is_primitive() const {
    return kind != TypeKind::kStruct && kind != TypeKind::kArray && kind != TypeKind::kMap;
  }
  // Returns the Delta type name: "long", "decimal(10,2)", "struct<a:int,...>" (simple form).
  std::string ToString() const;
};

struct StructField {
  std::string name;
  DataType type;
  bool nullable = true;
  std::string metadata_json = "{}";  // the raw "metadata" object
  // Column mapping (PROTOCOL.md "Column Mapping"): from metadata keys
  // delta.columnMapping.physicalName and delta.columnMapping.id; empty / nullopt if absent.
  std::string physical_name;
  std::optional<int64_t> field_id;

  // Returns the name to look up in data files for `mode` ("none", "name", "id").
  const std::string& PhysicalNameFor(std::string_view mode) const {
    return (mode == "none" || physical_name.empty()) ? name : physical_name;
  }
};

using Schema = DataType;  // kind == kStruct

// Parses a schemaString. kCorruption (naming the offending part) on malformed JSON or an
// unknown type name.
Result<Schema> ParseSchema(std::string_view schema_json);

// Serializes `type` as a schemaString (PROTOCOL.md "Schema Serialization Format"), the
// inverse of ParseSchema: a primitive as its quoted name, nested types as objects, each
// field's metadata copied as it is (column mapping keys included).
std::string SerializeDataType(const DataType& type);
// Serializes one struct field: {"name":..,"type":..,"nullable":..,"metadata":{..}}.
std::string SerializeField(const StructField& field);

// Parses a primitive type name as written in schemas ("long", "decimal(10,2)", ...).
Result<DataType> ParsePrimitiveType(std::string_view name);

// Returns the top-level field named `name` (exact match first, then case-insensitive, as
// Spark resolves), or nullptr.
const StructField* FindField(const Schema& schema, std::string_view name);

}  // namespace lake::delta
