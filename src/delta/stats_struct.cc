// StatsStructParser: rules in stats_struct.h. The parse is a walk of simdjson's on-demand
// iterator in document order, matching keys against the current struct node's children; it
// allocates nothing per call once the scratch buffers of its thread and of `out` have grown.
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

bool StatsStructParser::Parse(std::string_view json, Values& out) const {
  const size_t n = nodes_.size();
  out.is_valid.assign(n, 0);
  out.seen.assign(n, 0);
  out.leaves.resize(n);  // stale values of invalid leaves are never read

  // simdjson reads up to SIMDJSON_PADDING bytes past the text: copy it into a padded buffer
  // of this thread, reused across calls.
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string buffer;
  if (buffer.size() < json.size() + simdjson::SIMDJSON_PADDING) {
    buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
  }
  json.copy(buffer.data(), json.size());
  simdjson::ondemand::document doc;
  if (parser.iterate(buffer.data(), json.size(), buffer.size()).get(doc)) return false;
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
