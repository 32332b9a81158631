// The `lake` catalog inside DuckDB: tables by name through a TableDirectory
// (engine/table_directory.h), scanned by delta_scan. See lake_catalog.cc for the design notes.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "engine/internal/duckdb_pch.h"
#include "engine/table_directory.h"

namespace lake::engine::internal {

// The name of the attached catalog, and DuckDB's attach TYPE of it.
inline constexpr const char* kLakeCatalogName = "lake";
inline constexpr const char* kLakeCatalogType = "delta";
// The schema whose table names that look like paths (with a '/') name the Delta
// table at that path with no catalog entry: lake.delta."/data/t" (design note 7). DML on
// delta.`/data/t` is rewritten to it (sql_rewrite.h PathTableName).
inline constexpr const char* kPathSchemaName = "delta";

// Registers the `delta` storage extension over `directory` and the catalog's table functions
// (lake_schemas, lake_tables, lake_describe; lake_ddl from lake_ddl.h). Database::Open then
// runs ATTACH and every session USE lake."default".
void RegisterLakeCatalog(duckdb::DatabaseInstance& db, std::shared_ptr<TableDirectory> directory);

struct LakeTableName {
  std::string schema;
  std::string name;
};

// Returns the table directory behind `context`'s lake catalog; kFailedPrecondition when the
// database has no lake catalog.
Result<TableDirectory*> LakeDirectory(duckdb::ClientContext& context);
// Splits a table name as written (t, schema.t, lake.schema.t; "quoted" parts unquoted); an
// unqualified name is in the session's current lake schema. kInvalidArgument otherwise.
Result<LakeTableName> ResolveLakeTableName(duckdb::ClientContext& context,
                                           const std::string& name);
// Returns the table a name resolves to: kNotFound naming the missing schema or table.
Result<DirectoryTable> FindLakeTable(duckdb::ClientContext& context, const std::string& name);
// Returns `location` as the metastore stores it: a local path absolute and normalized, so an
// entry does not depend on the working directory of the process that registered it.
std::string NormalizeLocation(const std::string& location);

// Returns the location of the table a (possibly qualified: t, schema.t, lake.schema.t) name
// resolves to in `context`'s search path: kNotFound naming it, kFailedPrecondition when the
// database has no lake catalog.
Result<std::string> ResolveTableLocation(duckdb::ClientContext& context, const std::string& name);

}  // namespace lake::engine::internal
