// Spark SQL DDL for lake tables, parsed from text: CREATE TABLE with Spark's table clauses,
// the ALTER TABLE forms DuckDB cannot parse, SHOW TBLPROPERTIES (docs/sql-syntax.md). Pure
// text in, structs out: no DuckDB types, so the grammar is unit-tested without a database
// (tests/engine/spark_ddl_test.cc). lake_ddl.h runs what this parses.
//
// Grammar (keywords case-insensitive; names are words, "quoted" or `backquoted`; wherever a
// table name goes, delta.`/path` names the table at that location instead):
//   CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name [( column, ... )]
//       { USING DELTA | LOCATION 'path' | COMMENT 'text' | PARTITIONED BY (name, ...)
//       | TBLPROPERTIES (property, ...) } ... [AS query]
//     column   := name type [NOT NULL] [COMMENT 'text']
//     property := key [=] value;  key: 'text' or a dotted name; value: 'text', number,
//                 TRUE/FALSE or a word
//   ALTER TABLE name ADD COLUMN[S] ( column, ... ) | ADD COLUMN[S] column
//   ALTER TABLE name {ALTER | CHANGE} [COLUMN] c {SET | DROP} NOT NULL
//   ALTER TABLE name SET TBLPROPERTIES (property, ...)
//   ALTER TABLE name UNSET TBLPROPERTIES [IF EXISTS] (key, ...)
//   ALTER TABLE name ADD CONSTRAINT c CHECK (expression)
//   ALTER TABLE name DROP CONSTRAINT [IF EXISTS] c
//   SHOW TBLPROPERTIES name [(key)]
//   type := STRING | VARCHAR(n) | CHAR(n) | INT | INTEGER | BIGINT | LONG | SMALLINT | SHORT
//         | TINYINT | BYTE | DOUBLE | FLOAT | REAL | BOOLEAN | DATE | TIMESTAMP | TIMESTAMP_LTZ
//         | TIMESTAMP_NTZ | DECIMAL[(p[,s])] | DEC | NUMERIC | BINARY | ARRAY<type>
//         | MAP<type, type> | STRUCT<name[:] type [NOT NULL] [COMMENT 'text'], ...>
// TIMESTAMP is Spark's: an instant (Delta timestamp); TIMESTAMP_NTZ has no time zone.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"
#include "delta/schema.h"

namespace lake::engine::internal {

using PropertyList = std::vector<std::pair<std::string, std::string>>;

struct ColumnSpec {
  std::string name;
  delta::DataType type;
  bool nullable = true;
  std::optional<std::string> comment;
};

struct CreateTableSpec {
  std::string table;                // as written: t, s.t or lake.s.t (quotes kept for quoted parts)
  std::optional<std::string> path;  // delta.`/path`: the table at a location, with no name
  bool or_replace = false;
  bool if_not_exists = false;
  std::optional<std::vector<ColumnSpec>> columns;  // nullopt: no column list
  std::vector<std::string> partition_columns;
  std::optional<std::string> location;
  std::optional<std::string> comment;
  PropertyList properties;  // TBLPROPERTIES, in the order written
  // CHECK constraints (name, expression) from DuckDB's CREATE TABLE ... CHECK (...).
  PropertyList constraints;
  bool as_query = false;   // CREATE TABLE ... AS SELECT (planned by the catalog's CTAS)
  size_t query_begin = 0;  // as_query: byte offset of the query after AS
};

struct AlterTableSpec {
  enum class Kind {
    kAddColumns,
    kSetNotNull,
    kDropNotNull,
    kSetProperties,
    kUnsetProperties,
    kAddConstraint,
    kDropConstraint,
  };
  std::string table;
  std::optional<std::string> path;  // delta.`/path`
  Kind kind = Kind::kAddColumns;
  std::vector<ColumnSpec> columns;    // kAddColumns
  std::string column;                 // kSetNotNull / kDropNotNull
  PropertyList properties;            // kSetProperties
  std::vector<std::string> keys;      // kUnsetProperties
  bool if_exists = false;             // kUnsetProperties / kDropConstraint
  bool if_not_exists = false;         // kAddColumns: skip existing columns (DuckDB's IF NOT EXISTS)
  std::string constraint_name;        // kAddConstraint / kDropConstraint
  std::string constraint_expression;  // kAddConstraint: the text inside CHECK ( ... )
};

struct ShowTblPropertiesSpec {
  std::string table;
  std::optional<std::string> path;  // delta.`/path`
  std::optional<std::string> key;
};

using DdlStatement = std::variant<CreateTableSpec, AlterTableSpec, ShowTblPropertiesSpec>;

struct DdlParse {
  enum class Kind {
    kNotOurs,  // not a statement of the grammar above: DuckDB's own error stands
    kParsed,
    kError,  // one of ours with a syntax error: `error` says what was expected
  };
  Kind kind = Kind::kNotOurs;
  DdlStatement statement;
  std::string error;
  size_t error_position = 0;  // byte offset into the input
};

// Parses one statement (a trailing ';' is allowed). A CREATE TABLE is ours when it has a
// Spark table clause (USING, LOCATION, PARTITIONED BY, TBLPROPERTIES, a table COMMENT) or a
// column list DuckDB rejected (column COMMENT, ARRAY<...>); CREATE ... AS SELECT without
// those clauses is not ours. ALTER TABLE is ours in the forms above only.
DdlParse ParseSparkDdl(std::string_view sql);

// DuckDB's own parser throws NOT_IMPLEMENTED for ALTER TABLE ... ADD CONSTRAINT / DROP
// CONSTRAINT instead of handing them to parser extensions. For a script DuckDB refused,
// returns it with every statement ParseSparkDdl accepts replaced by
// `SELECT * FROM lake_ddl('<statement>')`; nullopt when there is none (DuckDB's error stands).
std::optional<std::string> RewriteDdlDuckDbRejects(std::string_view script);

// Parses a Spark type name (the `type` rule above). kInvalidArgument naming the bad part.
Result<delta::DataType> ParseSparkType(std::string_view text);

// Returns the Delta field for a column: its comment in the field metadata ("comment"), as
// Spark writes it.
delta::StructField FieldFor(const ColumnSpec& column);

}  // namespace lake::engine::internal
