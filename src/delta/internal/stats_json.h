// Reading per-file statistics values out of add.stats JSON (PROTOCOL.md "Per-file
// Statistics"), shared by data skipping (skipping.cc) and the checkpoint's typed stats
// (stats_struct.cc). Not for other layers: they use skipping.h and stats_struct.h.
#pragma once

#include <simdjson.h>

#include <optional>

#include "delta/literal.h"
#include "delta/schema.h"

namespace lake::delta::internal {

// Returns one statistic value of primitive `type`, or nullopt when the JSON value is not of
// the JSON type the protocol writes for it (numbers for numeric types, strings for strings,
// dates and timestamps, booleans for booleans) or does not parse as `type`. Binary, variant
// and nested types have no usable min/max: always nullopt. `value` is taken by reference: it
// is consumed, and copying simdjson's iterator state costs more than reading a small number.
std::optional<Literal> ReadStatValue(simdjson::ondemand::value& value, const DataType& type);
// The same into `out` (left as it was when false is returned), for callers that keep one
// Literal per field across many parses.
bool ReadStatValue(simdjson::ondemand::value& value, const DataType& type, Literal& out);

// The same rules for an element of simdjson's DOM, whose numbers are parsed already. One
// exception: a decimal given as a non-integer number cannot be read exactly from the DOM's
// double, so that returns kNeedsText and the caller reads the text instead.
enum class DomRead { kValue, kNull, kNeedsText };
DomRead ReadStatValue(simdjson::dom::element value, const DataType& type, Literal& out);

}  // namespace lake::delta::internal
