// Typed statistics for checkpoints: an add's stats JSON parsed into the struct a checkpoint's
// add.stats_parsed column holds (PROTOCOL.md "Checkpoint Schema"; the struct's layout is
// CheckpointLayout::stats_schema, checkpoint.h). Engine-neutral: a CheckpointWriter copies the
// parsed values into its own column format, so no engine re-parses the JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "delta/literal.h"
#include "delta/schema.h"

namespace lake::delta {

// Parses stats JSON along a struct type, the way a JSON-to-struct cast does (Spark's
// from_json, DuckDB's json_transform), leniently: a bad field is NULL, never an error.
//  (1) Anything but a JSON object (malformed text, null, a number) gives a NULL struct:
//      Parse returns false.
//  (2) Keys match field names exactly (they are physical names, PROTOCOL.md "Column
//      Mapping"); the first of duplicate keys wins; unknown keys are skipped.
//  (3) A missing or null field is NULL. A nested struct given as anything but an object is a
//      struct of NULLs (as json_transform does).
//  (4) Leaves are read as data skipping reads them (internal/stats_json.h): a value of the
//      wrong JSON type, or one that does not parse as the field's type, is NULL.
// Immutable after construction; Parse may be called from many threads at once.
class StatsStructParser {
 public:
  // One node of the struct, in pre-order: node 0 is the struct itself.
  struct Node {
    const DataType* type = nullptr;  // borrowed from the schema given to the constructor
    int parent = -1;                 // -1 for node 0
    std::string_view name;           // the field name; empty for node 0
    std::vector<int> children;       // struct nodes: their fields' nodes, in field order
  };

  // The values of one stats string, indexed by node.
  struct Values {
    std::vector<uint8_t> is_valid;  // 1 when the node is non-null
    std::vector<Literal> leaves;    // primitive nodes: the value, meaningful only when valid
    std::vector<uint8_t> seen;      // scratch: keys already matched (duplicate keys)
  };

  // `stats_type` is a struct type; it must outlive the parser.
  explicit StatsStructParser(const DataType& stats_type);

  const std::vector<Node>& nodes() const { return nodes_; }

  // Parses `json` into `out` (sized and reset here, so one Values serves many calls).
  // Returns false when the whole struct is NULL (rule 1); `out` is then unspecified.
  bool Parse(std::string_view json, Values& out) const;

 private:
  void AddNode(const DataType& type, int parent, std::string_view name);
  // Parses the padded copy in `buffer` ([0, size) is the text) with simdjson On-Demand.
  bool ParseText(std::string& buffer, size_t size, Values& out) const;
  std::vector<Node> nodes_;
  std::vector<uint8_t> plain_name_;  // per node: IsPlainName(name), see stats_struct.cc
};

}  // namespace lake::delta
