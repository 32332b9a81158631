// Rewrites lake's Spark/Delta SQL forms into SQL DuckDB understands. Pure text in, text out:
// no DuckDB types, so the rules are unit-tested without a database (tests/engine/
// sql_rewrite_test.cc); sql_syntax.cc hooks it into DuckDB's parser.
//
// Forms recognised (anywhere in a statement DuckDB's own parser rejected):
//  (1) delta.`/path`                      -> delta_scan('/path')
//      as the target of INSERT INTO / MERGE INTO / UPDATE / DELETE FROM
//                                         -> PathTableName('/path'), a catalog name
//  (2) <ref> VERSION AS OF <n>            -> delta_scan('/path', version := n)
//      <ref> TIMESTAMP AS OF '<ts>'       -> delta_scan('/path', "timestamp" := '<ts>')
//      where <ref> is (1) or a quoted path '/path'. After a plain (possibly qualified)
//      table name the clause becomes DuckDB's own `AT (VERSION => n)` /
//      `AT (TIMESTAMP => TIMESTAMP '<ts>')`, for catalogs that support time travel.
//      <name>@v12 / <name>@yyyyMMddHHmmssSSS (no spaces) -> <name> AT (VERSION => 12) /
//      AT (TIMESTAMP => TIMESTAMP 'yyyy-MM-dd HH:mm:ss.SSS').
//  (3) a whole statement DESCRIBE HISTORY <ref> [LIMIT n]
//                                         -> SELECT * FROM delta_history('/path', "limit" := n)
//      DESCRIBE DETAIL <ref>              -> SELECT * FROM delta_detail('/path')
//      where <ref> may also be a table name: ... delta_history('s.t', by_name := true).
//  (4) whole statements of the lake catalog (lake_catalog.h), when DuckDB rejected them:
//      SHOW SCHEMAS                       -> SELECT * FROM lake_schemas()
//      SHOW TABLES [IN|FROM s]            -> SELECT * FROM lake_tables(['s'])
//      DESCRIBE [TABLE] EXTENDED t        -> SELECT * FROM lake_describe('t', extended := true)
//  (5) Spark DDL (spark_ddl.h: CREATE TABLE with Spark clauses or column syntax, the ALTER
//      TABLE forms DuckDB rejects, SHOW TBLPROPERTIES), whole statements:
//                                         -> SELECT * FROM lake_ddl('<the statement>')
//      CREATE [OR REPLACE] TABLE [IF NOT EXISTS] t <Spark clauses> AS <query>
//                                         -> CREATE ... TABLE ... t AS <query, rewritten>
//      with the clauses in SqlRewrite::ctas_clauses.
//  (6) Spark INSERT forms (insert_clauses.h), whole statements: INSERT OVERWRITE, INSERT
//      WITH SCHEMA EVOLUTION, a PARTITION clause, INSERT INTO t REPLACE WHERE <predicate>
//      <query> (the query starts at the first SELECT/WITH/VALUES/FROM/TABLE outside
//      parentheses) -> SqlRewrite::insert; `sql` is the plain INSERT without those clauses,
//      and the front end builds the final one with BuildInsertSql once it knows the table.
//  (7) RESTORE [TABLE] t TO VERSION|TIMESTAMP AS OF ..., VACUUM t [RETAIN n HOURS] [DRY RUN]
//      (restore_vacuum_sql.h), whole statements -> SELECT * FROM lake_restore|lake_vacuum(
//      '<the statement>').
//  (8) OPTIMIZE t [WHERE p] [ZORDER BY (c, ...)], CONVERT TO DELTA parquet.`/path` [...]
//      (maintenance_sql.h), whole statements -> SELECT * FROM lake_optimize|lake_convert(
//      '<the statement>').
//  (9) MERGE WITH SCHEMA EVOLUTION INTO ... -> MERGE INTO ... (rest rewritten as usual), with
//      SqlRewrite::merge_schema_evolution.
//
// Invariants:
//  - Only recognised spans are replaced; everything else (comments, other quoting, spacing)
//    is copied byte for byte, so DuckDB reports its own errors on the rest.
//  - A statement is "ours" only once an unambiguous marker is seen: `delta.` before a
//    backquote, the three words `VERSION AS OF` / `TIMESTAMP AS OF`, `name@v<n>`, or a
//    leading `DESCRIBE HISTORY|DETAIL|TABLE|EXTENDED`, `SHOW SCHEMAS|TABLES`, `INSERT OVERWRITE`,
//    `INSERT WITH`, `INSERT INTO [TABLE] t PARTITION|REPLACE`, or a statement
//    ParseSparkDdl accepts. Past a marker, malformed text is a lake syntax
//    error ("lake: expected ... near ..."); before one, the statement is not ours and DuckDB's
//    original error stands.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "engine/internal/ctas_clauses.h"
#include "engine/internal/insert_clauses.h"

namespace lake::engine::internal {

struct SqlRewrite {
  enum class Kind {
    kNotOurs,    // no lake form found: let DuckDB report its own error
    kRewritten,  // `sql` holds the DuckDB statement
    kError,      // a lake form with a syntax error: `error` says what was expected
  };
  Kind kind = Kind::kNotOurs;
  std::string sql;
  std::string error;
  size_t error_position = 0;  // byte offset into the input
  // CREATE TABLE ... AS SELECT with Spark clauses (USING, PARTITIONED BY, LOCATION,
  // TBLPROPERTIES, COMMENT): `sql` is DuckDB's plain CTAS of `ctas_table` and these are the
  // clauses it cannot carry, for the catalog's CTAS planning (lake_write.h StashCtasClauses).
  std::optional<std::string> ctas_table;
  CtasClauses ctas_clauses;
  // A Spark INSERT form (6).
  std::optional<InsertStatement> insert;
  // (9) MERGE WITH SCHEMA EVOLUTION INTO ...: `sql` is the MERGE without the clause
  // (lake_merge.h PrepareLakeMerge evolves the schema).
  bool merge_schema_evolution = false;
};

// Rewrites one statement (DuckDB hands extensions one statement at a time; a trailing ';'
// is allowed).
SqlRewrite RewriteLakeSql(std::string_view sql);

// The catalog name of the table at `path` with no catalog entry: lake.delta."<path>" (the
// lake catalog resolves names in its schema `delta` that look like paths to the table
// there, lake_catalog.h kPathSchemaName), so DuckDB's own DML can target it.
std::string PathTableName(std::string_view path);

}  // namespace lake::engine::internal
