// Parses newline-delimited JSON log files (commits, JSON V2 checkpoints, compactions) into
// actions, with simdjson (the hot path of snapshot loading). Unknown action types and fields
// are ignored (PROTOCOL.md "Protocol Evolution"); blank lines are skipped.
#pragma once

#include <string_view>

#include "base/status.h"
#include "delta/actions.h"

namespace lake::delta {

// kCorruption naming `file_name` and the line number when a line is not a JSON object or a
// known action lacks a required field.
Result<ActionBatch> ParseJsonActions(std::string_view ndjson, std::string_view file_name);

// Serializes actions back to newline-delimited JSON, one action per line, in the order
// protocol, metaData, txn, domainMetadata, remove, add, cdc (commitInfo first). Used by the
// writer and by tests.
std::string SerializeJsonActions(const ActionBatch& batch);

}  // namespace lake::delta
