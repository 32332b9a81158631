// See schema_evolution.h.
#include "delta/schema_evolution.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/strings.h"

namespace lake::delta {
namespace {

// Integer kinds by width; -1 for others.
int IntegerRank(TypeKind kind) {
  switch (kind) {
    case TypeKind::kByte:
      return 0;
    case TypeKind::kShort:
      return 1;
    case TypeKind::kInteger:
      return 2;
    case TypeKind::kLong:
      return 3;
    default:
      return -1;
  }
}

// Decimal digits an integer kind needs (Spark's DecimalType.forType).
int IntegerDigits(TypeKind kind) {
  switch (kind) {
    case TypeKind::kByte:
      return 3;
    case TypeKind::kShort:
      return 5;
    case TypeKind::kInteger:
      return 10;
    default:
      return 20;
  }
}

}  // namespace

bool IsTypeWidening(const DataType& from, const DataType& to) {
  if (!from.is_primitive() || !to.is_primitive()) return false;
  const int from_rank = IntegerRank(from.kind);
  const int to_rank = IntegerRank(to.kind);
  if (from_rank >= 0 && to_rank >= 0) return from_rank < to_rank;
  if (from.kind == TypeKind::kFloat && to.kind == TypeKind::kDouble) return true;
  if (from.kind == TypeKind::kDate && to.kind == TypeKind::kTimestampNtz) return true;
  // byte/short/int to double is exact; long is not.
  if (from_rank >= 0 && from_rank <= 2 && to.kind == TypeKind::kDouble) return true;
  if (from_rank >= 0 && to.kind == TypeKind::kDecimal) {
    return to.precision - to.scale >= IntegerDigits(from.kind);
  }
  if (from.kind == TypeKind::kDecimal && to.kind == TypeKind::kDecimal) {
    const int k = to.precision - from.precision;
    const int j = to.scale - from.scale;
    return (k > 0 || j > 0) && j >= 0 && k >= j;
  }
  return false;
}

Result<EvolvedSchema> EvolveSchema(const Schema& table, const std::vector<IncomingColumn>& incoming,
                                   bool type_widening_enabled) {
  EvolvedSchema out;
  out.schema = table;
  std::set<std::string> seen;
  for (const IncomingColumn& column : incoming) {
    if (!seen.insert(ToLower(column.name)).second) {
      return Status::InvalidArgument(
          StrCat("schema evolution: the write brings column ", column.name, " twice"));
    }
    StructField* field = nullptr;
    for (StructField& f : out.schema.fields) {
      if (ToLower(f.name) == ToLower(column.name)) field = &f;
    }
    if (field == nullptr) {
      if (column.type.kind == TypeKind::kVoid) {
        return Status::InvalidArgument(StrCat("schema evolution: new column ", column.name,
                                              " has no type (only NULLs)"))
            .WithHint(StrCat("CAST the column to a type, e.g. CAST(NULL AS STRING) AS ",
                             column.name));
      }
      StructField added;
      added.name = column.name;
      added.type = column.type;
      added.nullable = true;
      out.schema.fields.push_back(std::move(added));
      out.added.push_back(column.name);
      continue;
    }
    if (type_widening_enabled && IsTypeWidening(field->type, column.type)) {
      nlohmann::json metadata = nlohmann::json::parse(field->metadata_json, nullptr, false);
      if (!metadata.is_object()) metadata = nlohmann::json::object();
      nlohmann::json change = {{"fromType", field->type.ToString()},
                               {"toType", column.type.ToString()}};
      metadata["delta.typeChanges"].push_back(change);
      out.widened.push_back(
          StrCat(field->name, ": ", field->type.ToString(), " -> ", column.type.ToString()));
      field->metadata_json = metadata.dump();
      field->type = column.type;
    }
  }
  return out;
}

}  // namespace lake::delta
