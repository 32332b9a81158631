// Spark's OPTIMIZE and CONVERT TO DELTA statements, parsed from text (maintenance_sql.cc has
// the grammar in its parser). Pure text in, structs out: no DuckDB types.
//
// NOTE: reconstructed by the RESTORE/VACUUM helper after it overwrote this header by mistake
// (same file name, same minute); rebuilt from maintenance_sql.cc so that it compiles with it.
// Its owner should check it against the original.
//
//   OPTIMIZE table [WHERE partition_predicate] [ZORDER BY (c1, c2, ...)]
//   CONVERT TO DELTA parquet.`/path` [NO STATISTICS] [PARTITIONED BY (c type, ...)]
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "delta/schema.h"
#include "engine/internal/spark_ddl.h"

namespace lake::engine::internal {

struct OptimizeSpec {
  std::string table;                 // as written (a name, delta.`/path` or '/path')
  std::optional<std::string> path;   // delta.`/path` or '/path'
  std::optional<std::string> where;  // the predicate text after WHERE
  std::vector<std::string> zorder_by;
  // REORG TABLE ... APPLY (PURGE) (reorg_sql.h): rewrite the files with deletion vectors.
  bool purge = false;
};

struct ConvertSpec {
  std::string path;  // parquet.`/path`
  bool collect_stats = true;
  std::vector<ColumnSpec> partition_columns;
};

using MaintenanceStatement = std::variant<OptimizeSpec, ConvertSpec>;

struct MaintenanceParse {
  enum class Kind {
    kNotOurs,
    kParsed,
    kError,
  };
  Kind kind = Kind::kNotOurs;
  MaintenanceStatement statement;
  std::string error;
  size_t error_position = 0;  // byte offset into the input
};

// Parses one OPTIMIZE or CONVERT TO DELTA statement (a trailing ';' is allowed).
MaintenanceParse ParseMaintenanceSql(std::string_view sql);

}  // namespace lake::engine::internal
