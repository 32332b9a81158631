// Schema evolution of a write (issue #3 §3; Spark's mergeSchema / INSERT WITH SCHEMA
// EVOLUTION): the table schema grown to take the columns a write brings.
//  - A column the table lacks is added at the end, nullable (existing rows read NULL).
//  - A column whose incoming type is a safe widening of the table's (PROTOCOL.md "Type
//    Widening": byte < short < int < long, float < double, date < timestamp_ntz, integers to
//    a decimal that holds them or to double, decimal(p,s) to decimal(p+k, s+j) with k >= j) is
//    widened when the table has delta.enableTypeWidening = true; the field's metadata records
//    it in delta.typeChanges ({"fromType", "toType"}), as Spark writes it. Any other type
//    difference is left to the write's column check, which refuses it with every difference.
// No DuckDB here: the engine maps a query's columns to these incoming columns.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "delta/schema.h"

namespace lake::delta {

// Returns whether values of `from` can be stored in a `to` column without loss, per the
// typeWidening feature's list (primitive types only).
bool IsTypeWidening(const DataType& from, const DataType& to);

struct IncomingColumn {
  std::string name;  // the table column it goes to (matched case-insensitively), or a new one
  DataType type;
};

struct EvolvedSchema {
  Schema schema;
  std::vector<std::string> added;    // new column names, in order
  std::vector<std::string> widened;  // "c: integer -> long"
  bool changed() const { return !added.empty() || !widened.empty(); }
};

// Returns `table` evolved to take `incoming`. kInvalidArgument when two incoming columns have
// the same name, or a new column's type is void.
Result<EvolvedSchema> EvolveSchema(const Schema& table, const std::vector<IncomingColumn>& incoming,
                                   bool type_widening_enabled);

}  // namespace lake::delta
