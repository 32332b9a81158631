// Spark's INSERT forms that DuckDB's INSERT cannot carry (docs/sql-syntax.md "Writes"):
//   INSERT [WITH SCHEMA EVOLUTION] {INTO | OVERWRITE} [TABLE] t [PARTITION (p = lit, q, ...)]
//          [(columns) | BY NAME] <query>
//   INSERT [WITH SCHEMA EVOLUTION] INTO [TABLE] t REPLACE WHERE <predicate> <query>
// The front end (sql_rewrite.h) parses them; BuildInsertSql turns one into a plain DuckDB
// INSERT once the table's columns are known, and the clauses travel to the catalog's INSERT
// planning (lake_write.h StashInsertClauses). No DuckDB type here, so tests can use it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lake::engine::internal {

struct InsertClauses {
  enum class Mode { kAppend, kOverwrite, kReplaceWhere };
  Mode mode = Mode::kAppend;
  // kOverwrite with a static partition spec: the rows to replace, as SQL over the table's
  // columns (`"d" IS NOT DISTINCT FROM CAST('x' AS DATE) AND ...`); empty: the whole table
  // (or, in dynamic partition overwrite mode, the partitions written).
  std::string static_partition_predicate;
  // The same as the user wrote it (`d = '2024-01-01'`), for commitInfo's predicate.
  std::string static_partition_display;
  // kReplaceWhere: the predicate as written (SQL over the table's columns).
  std::string replace_where;
  bool schema_evolution = false;  // INSERT WITH SCHEMA EVOLUTION
  // Set by the front end when schema evolution changed the table's schema: the new
  // schemaString, committed with the data.
  std::string evolved_schema_string;
  std::vector<std::string> evolution_notes;  // "added c", "widened c: integer -> long"
};

// One parsed Spark INSERT statement.
struct InsertStatement {
  std::string table;  // as written (possibly qualified, quotes kept)
  InsertClauses clauses;
  // PARTITION (...): column name (unquoted) -> static value as SQL literal text, or nullopt
  // for a dynamic partition column.
  std::vector<std::pair<std::string, std::optional<std::string>>> partition_spec;
  std::optional<std::vector<std::string>> columns;  // (a, "b") as written
  bool by_name = false;
  std::string query;  // DuckDB SQL (lake forms inside already rewritten)
};

// A column of the target table, for BuildInsertSql.
struct InsertTableColumn {
  std::string name;
  std::string duckdb_type;  // e.g. DATE, DECIMAL(10,2)
  bool is_partition = false;
};

struct BuiltInsert {
  std::string sql;         // a DuckDB INSERT INTO <table> ...
  InsertClauses clauses;   // with static_partition_predicate filled in
};

// Builds the DuckDB INSERT for `statement` into a table with `columns` (schema order).
// Static partition values become constant columns cast to the column's type; without a
// column list the query supplies the other columns in table order (Spark's rule).
// kInvalidArgument when the PARTITION clause names a column that is not a partition column
// or names one twice, or when a static column also appears in the column list.
Result<BuiltInsert> BuildInsertSql(const InsertStatement& statement,
                                   const std::vector<InsertTableColumn>& columns);

}  // namespace lake::engine::internal
