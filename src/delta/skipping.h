// Data skipping: a small predicate language the engine translates its pushed-down filters
// into, evaluated against partition values and per-file statistics (PROTOCOL.md "Per-file
// Statistics"). Evaluation is conservative: a file is skipped only when the predicate is
// certainly false for every row in it; anything unknown keeps the file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/literal.h"
#include "delta/schema.h"

namespace lake::delta {

struct Predicate {
  enum class Op { kEq, kLt, kLe, kGt, kGe, kIsNull, kIsNotNull, kIn, kAnd, kOr };
  Op op = Op::kAnd;
  // Comparisons: a top-level logical column name, and the value(s).
  std::string column;
  Literal value;
  std::vector<Literal> values;  // kIn
  std::vector<Predicate> children;  // kAnd / kOr

  static Predicate Compare(Op op, std::string column, Literal value);
  static Predicate And(std::vector<Predicate> children);
  static Predicate Or(std::vector<Predicate> children);
};

// Parsed statistics of one file, keyed by top-level logical column.
struct FileStats {
  std::optional<int64_t> num_records;
  bool tight_bounds = true;
  std::vector<std::pair<std::string, Literal>> min_values;
  std::vector<std::pair<std::string, Literal>> max_values;
  std::vector<std::pair<std::string, int64_t>> null_count;
};

// Returns numRecords of an add's stats JSON (a cheap scan for the key, no full parse), or
// nullopt when there are no stats or no such key.
std::optional<int64_t> StatsNumRecords(const std::optional<std::string>& stats);

// Parses an add's stats JSON for the top-level primitive columns of `schema` (keys in the JSON
// are physical names under column mapping `mode`). Malformed stats give an empty FileStats
// (unknown), never an error: bad stats must not make a table unreadable.
FileStats ParseFileStats(std::string_view stats_json, const Schema& schema,
                         std::string_view column_mapping_mode);

// Prepares skipping over one snapshot's files.
class FileSkipper {
 public:
  FileSkipper(const Schema& schema, std::vector<std::string> partition_columns,
              std::string column_mapping_mode);
  // Returns false only if no row of `file` can satisfy `predicate`.
  bool MayMatch(const AddFile& file, const Predicate& predicate) const;

 private:
  const Schema& schema_;
  std::vector<std::string> partition_columns_;
  std::string mode_;
};

}  // namespace lake::delta
