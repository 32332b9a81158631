// RESTORE and VACUUM, parsed from text (docs/sql-syntax.md "Maintenance: RESTORE, VACUUM").
// Pure text in, structs out: no DuckDB types, so the grammar is unit-tested without a
// database (tests/engine/restore_vacuum_sql_test.cc). restore_vacuum.h runs what this parses.
//
// Grammar (keywords case-insensitive; a table is a name — words, "quoted" or `backquoted`
// parts, up to three, dot-separated — or delta.`/path`, or for VACUUM also '/path'):
//   RESTORE [TABLE] table [TO] VERSION AS OF n
//   RESTORE [TABLE] table [TO] TIMESTAMP AS OF 'timestamp'
//   VACUUM table [RETAIN number HOURS] [DRY RUN]
// `VACUUM` alone and `VACUUM ANALYZE|FULL|LITE ...` are not ours (DuckDB's own statements, or
// its error); Spark's VACUUM ... USING INVENTORY is recognised and refused by name (kError).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace lake::engine::internal {

// The table a RESTORE or VACUUM names.
struct RestoreVacuumTarget {
  std::string table;                // as written: t, s.t, lake.s.t ("quoted" parts kept quoted)
  std::optional<std::string> path;  // delta.`/path` or '/path': the table at a location
};

struct RestoreSpec {
  RestoreVacuumTarget target;
  std::optional<int64_t> version;        // VERSION AS OF n
  std::optional<std::string> timestamp;  // TIMESTAMP AS OF '...' (unquoted text)
};

struct VacuumSpec {
  RestoreVacuumTarget target;
  std::optional<double> retain_hours;  // RETAIN n HOURS
  bool dry_run = false;
};

using RestoreVacuumStatement = std::variant<RestoreSpec, VacuumSpec>;

struct RestoreVacuumParse {
  enum class Kind {
    kNotOurs,  // not RESTORE / VACUUM <table> ...: DuckDB's own error (or statement) stands
    kParsed,
    kError,  // one of ours with a syntax error or a refused form: `error` says which
  };
  Kind kind = Kind::kNotOurs;
  RestoreVacuumStatement statement;
  std::string error;
  size_t error_position = 0;  // byte offset into the input
};

// Parses one statement (a trailing ';' is allowed).
RestoreVacuumParse ParseRestoreVacuum(std::string_view sql);

}  // namespace lake::engine::internal
