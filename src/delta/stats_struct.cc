// StatsStructParser: rules in stats_struct.h.
//  (1) Two walks with the same rules: over simdjson's DOM (fast: SIMD kernels chosen for the
//      CPU at run time, numbers parsed in the same pass), and over the text with On-Demand
//      (compiled for the baseline ISA, but it sees each number's text).
//  (2) The DOM walk answers unless a value needs its text: a decimal with a fraction (a double
//      cannot hold it exactly) or a document the DOM rejects (which may be valid JSON with an
//      integer beyond 64 bits, or malformed: the text walk decides). Then the text walk
//      starts over on the same buffer.
//  (3) Both read leaves through internal/stats_json.h, the readers data skipping uses.
// Nothing is allocated per call once the thread's buffers and `out` have grown.
#include "delta/stats_struct.h"

#include <simdjson.h>

#include <string>

#include "delta/internal/stats_json.h"

namespace lake::delta {
namespace {

using simdjson::ondemand::json_type;

// Whether a field name can be compared with a key's raw JSON text as it is: JSON writers
// escape only quotes, backslashes and control characters.
bool IsPlainName(std::string_view name) {
  for (char c : name) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

// Whether a key's raw JSON text holds an escape (it ends at the first unescaped quote).
bool HasEscape(simdjson::ondemand::raw_json_string key) {
  for (const char* p = key.raw(); *p != '"'; ++p) {
    if (*p == '\\') return true;
  }
  return false;
}

struct Walk {
  const std::vector<StatsStructParser::Node>& nodes;
  const std::vector<uint8_t>& plain_name;
  StatsStructParser::Values& out;
};

// Returns the child of `node` named `key`, or -1. Keys are compared as raw JSON text first,
// which needs no unescaping (the common case: stats keys are plain column names).
simdjson::error_code FindChild(const Walk& walk, int node, simdjson::ondemand::field& field,
                               int& child) {
  const std::vector<int>& children = walk.nodes[node].children;
  simdjson::ondemand::raw_json_string raw = field.key();
  bool all_plain = true;
  for (int c : children) {
    if (!walk.plain_name[c]) {
      all_plain = false;
    } else if (raw.is_equal(walk.nodes[c].name)) {
      child = c;
      return simdjson::SUCCESS;
    }
  }
  child = -1;
  if (all_plain && !HasEscape(raw)) return simdjson::SUCCESS;
  std::string_view key;
  if (auto error = field.unescaped_key().get(key)) return error;
  for (int c : children) {
    if (walk.nodes[c].name == key) {
      child = c;
      break;
    }
  }
  return simdjson::SUCCESS;
}

// Reads the value of struct node `node` (rule 3); false only when the document turns out
// malformed (rule 1).
bool ParseStruct(const Walk& walk, int node, simdjson::ondemand::value& value) {
  const std::vector<StatsStructParser::Node>& nodes = walk.nodes;
  StatsStructParser::Values& out = walk.out;
  json_type type;
  if (value.type().get(type)) return false;
  if (type == json_type::null) return true;
  out.is_valid[node] = 1;
  if (type != json_type::object) return true;  // a struct of NULLs; the iterator skips it
  simdjson::ondemand::object object;
  if (value.get_object().get(object)) return false;
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    if (std::move(field_result).get(field)) return false;
    int child;
    if (FindChild(walk, node, field, child)) return false;
    if (child < 0 || out.seen[child]) continue;  // unknown or duplicate key (rule 2)
    out.seen[child] = 1;
    simdjson::ondemand::value& child_value = field.value();
    const DataType& child_type = *nodes[child].type;
    if (child_type.kind == TypeKind::kStruct) {
      if (!ParseStruct(walk, child, child_value)) return false;
      continue;
    }
    if (!child_type.is_primitive()) continue;  // arrays and maps have no statistics
    if (internal::ReadStatValue(child_value, child_type, out.leaves[child])) {
      out.is_valid[child] = 1;
    }
  }
  return true;
}

enum class DomWalk { kOk, kNeedsText };

// The DOM twin of ParseStruct (same rules); kNeedsText when a value can only be read exactly
// from its text (internal::DomRead::kNeedsText).
DomWalk WalkDom(const Walk& walk, int node, simdjson::dom::element value) {
  const std::vector<StatsStructParser::Node>& nodes = walk.nodes;
  StatsStructParser::Values& out = walk.out;
  const simdjson::dom::element_type type = value.type();
  if (type == simdjson::dom::element_type::NULL_VALUE) return DomWalk::kOk;
  out.is_valid[node] = 1;
  if (type != simdjson::dom::element_type::OBJECT) return DomWalk::kOk;  // a struct of NULLs
  const std::vector<int>& children = nodes[node].children;
  const simdjson::dom::object object = value.get_object().value_unsafe();
  for (simdjson::dom::key_value_pair field : object) {
    int child = -1;
    for (int c : children) {
      if (nodes[c].name == field.key) {  // the DOM's keys are unescaped already
        child = c;
        break;
      }
    }
    if (child < 0 || out.seen[child]) continue;  // unknown or duplicate key (rule 2)
    out.seen[child] = 1;
    const DataType& child_type = *nodes[child].type;
    if (child_type.kind == TypeKind::kStruct) {
      if (WalkDom(walk, child, field.value) == DomWalk::kNeedsText) return DomWalk::kNeedsText;
      continue;
    }
    if (!child_type.is_primitive()) continue;
    switch (internal::ReadStatValue(field.value, child_type, out.leaves[child])) {
      case internal::DomRead::kValue: out.is_valid[child] = 1; break;
      case internal::DomRead::kNull: break;
      case internal::DomRead::kNeedsText: return DomWalk::kNeedsText;
    }
  }
  return DomWalk::kOk;
}

}  // namespace

StatsStructParser::StatsStructParser(const DataType& stats_type) {
  AddNode(stats_type, -1, {});
}

void StatsStructParser::AddNode(const DataType& type, int parent, std::string_view name) {
  const int index = static_cast<int>(nodes_.size());
  nodes_.push_back(Node{.type = &type, .parent = parent, .name = name, .children = {}});
  plain_name_.push_back(IsPlainName(name) ? 1 : 0);
  if (parent >= 0) nodes_[parent].children.push_back(index);
  if (type.kind != TypeKind::kStruct) return;
  for (const StructField& field : type.fields) AddNode(field.type, index, field.name);
}

static void ResetValues(size_t nodes, StatsStructParser::Values& out) {
  out.is_valid.assign(nodes, 0);
  out.seen.assign(nodes, 0);
  out.leaves.resize(nodes);  // stale values of invalid leaves are never read
}

bool StatsStructParser::Parse(std::string_view json, Values& out) const {
  // simdjson reads up to SIMDJSON_PADDING bytes past the text: copy it into a padded buffer
  // of this thread, reused across calls.
  thread_local std::string buffer;
  if (buffer.size() < json.size() + simdjson::SIMDJSON_PADDING) {
    buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
  }
  json.copy(buffer.data(), json.size());

  // The DOM parser first: its SIMD kernels are picked for this CPU at run time, while the
  // On-Demand walk below is compiled for the baseline ISA, and it parses numbers up front.
  // Anything it cannot answer exactly (a document it rejects, which may still be JSON with an
  // integer beyond 64 bits; a decimal with a fraction) goes to the text walk.
  thread_local simdjson::dom::parser dom_parser;
  simdjson::dom::element root;
  if (!dom_parser.parse(buffer.data(), json.size(), /*realloc_if_needed=*/false).get(root)) {
    if (root.type() != simdjson::dom::element_type::OBJECT) return false;  // rule 1
    ResetValues(nodes_.size(), out);
    if (WalkDom(Walk{nodes_, plain_name_, out}, 0, root) == DomWalk::kOk) return true;
  }
  return ParseText(buffer, json.size(), out);
}

bool StatsStructParser::ParseText(std::string& buffer, size_t size, Values& out) const {
  ResetValues(nodes_.size(), out);
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(buffer.data(), size, buffer.size()).get(doc)) return false;
  simdjson::ondemand::value root;
  json_type type;
  if (doc.type().get(type) || type != json_type::object) return false;  // rule 1
  if (doc.get_value().get(root)) return false;
  if (!ParseStruct(Walk{nodes_, plain_name_, out}, 0, root)) return false;
  // Text after the object makes the whole document malformed.
  const char* rest = nullptr;
  return doc.current_location().get(rest) == simdjson::OUT_OF_BOUNDS;
}

}  // namespace lake::delta
