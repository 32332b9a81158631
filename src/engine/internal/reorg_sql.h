// Spark's REORG TABLE statement, parsed from text (pure text in, a struct out; no DuckDB):
//
//   REORG TABLE table [WHERE partition_predicate] APPLY (PURGE)
//
// table is a name, delta.`/path` or '/path'. PURGE rewrites every file that has a deletion
// vector without its deleted rows (optimize.cc runs it as OPTIMIZE with purge set). Spark's
// other form, APPLY (UPGRADE UNIFORM(...)), is parsed and refused with kNotSupported
// wording, so the user learns which feature is missing rather than reading a syntax error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/internal/maintenance_sql.h"

namespace lake::engine::internal {

struct ReorgParse {
  enum class Kind {
    kNotOurs,  // not a REORG statement
    kParsed,
    kError,
  };
  Kind kind = Kind::kNotOurs;
  OptimizeSpec spec;  // table, path, where; purge = true
  std::string error;  // "lake: ..." with what was expected, or the unsupported feature
  size_t error_position = 0;  // byte offset into the input
};

// Parses one REORG TABLE statement (a trailing ';' is allowed).
ReorgParse ParseReorgSql(std::string_view sql);

}  // namespace lake::engine::internal
