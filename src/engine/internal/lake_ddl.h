// DDL of lake tables: CREATE TABLE and ALTER TABLE as Delta commits, SHOW TBLPROPERTIES.
// Two ways in, one implementation (lake_ddl.cc):
//  - Spark forms DuckDB cannot parse (spark_ddl.h) reach the table function
//    lake_ddl('<statement>') through the parser extension (sql_rewrite.h);
//  - DuckDB-parsed CREATE TABLE t (a INTEGER, ...) and ALTER TABLE ... ADD COLUMN /
//    ALTER COLUMN c SET|DROP NOT NULL reach LakeSchemaEntry::CreateTable / Alter, which
//    call CreateTableFromDuckDb / AlterTableFromDuckDb below.
// Every function here throws DuckDB-typed exceptions carrying a lake Status (errors.h): they
// run inside DuckDB callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/internal/spark_ddl.h"

// Declared, not included: tests above the engine set the sync point below without DuckDB
// on their include path.
namespace duckdb {
class ClientContext;
class DatabaseInstance;
struct AlterTableInfo;
struct BoundCreateTableInfo;
}  // namespace duckdb

namespace lake::engine::internal {

// Registers lake_ddl(sql): runs one statement ParseSparkDdl accepts, when executed (never at
// bind, so EXPLAIN changes nothing). Returns for CREATE TABLE (table_name, location, type),
// for ALTER TABLE (table_name, version), for SHOW TBLPROPERTIES (key, value). Also registers
// the DuckDB type name TIMESTAMP_NTZ (an alias of TIMESTAMP).
void RegisterLakeDdl(duckdb::DatabaseInstance& db);

// CREATE TABLE of a DuckDB-parsed statement in lake schema `schema`: DuckDB types are mapped
// as for CREATE TABLE AS SELECT (data_writer.h DeltaSchemaFor), except that TIMESTAMP means
// Spark's TIMESTAMP (an instant, Delta timestamp) and the type TIMESTAMP_NTZ that
// RegisterLakeDdl adds means timestamp_ntz; NOT NULL and CHECK constraints are kept;
// DEFAULT, generated columns, PRIMARY KEY, UNIQUE and FOREIGN KEY are refused.
void CreateTableFromDuckDb(duckdb::ClientContext& context, const std::string& schema,
                           duckdb::BoundCreateTableInfo& info);

// ALTER TABLE of a DuckDB-parsed statement on lake table `schema`.`info.name`: ADD COLUMN,
// ALTER COLUMN c SET NOT NULL / DROP NOT NULL. Returns false for other forms (the caller
// refuses them).
bool AlterTableFromDuckDb(duckdb::ClientContext& context, const std::string& schema,
                          duckdb::AlterTableInfo& info);

// Test hook: called right before each commit attempt of a DDL statement with the version
// about to be claimed (delta::TransactionOptions::before_commit_attempt), so race tests can
// land a concurrent commit there. Empty clears it. Set it while no DDL runs.
void SetDdlCommitSyncPointForTesting(std::function<void(int64_t)> hook);

}  // namespace lake::engine::internal
