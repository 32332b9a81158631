// The metastore: which tables exist, by name. It maps `schema.table` to the location of a
// Delta table and remembers whether lake owns that folder (managed) or only points at it
// (external). It holds no table data and no Delta metadata: the schema, partitioning and
// versions of a table live in its _delta_log, which stays the source of truth.
//
// Implementations are thread-safe, and safe to share between processes that open the same
// store: every change is one transaction of the backing database.
//
// Names. Schema and table names are case-insensitive: they are stored and returned lower
// case (as Spark's and Hive's metastores do) and must match [A-Za-z0-9_]{1,128}, because a
// managed table's folder is named after them (docs/catalog.md).
//
// Errors. kNotFound (no such schema/table), kAlreadyExists, kInvalidArgument (a bad name),
// kFailedPrecondition (dropping a schema that still holds tables), kIOError / kCorruption
// from the backing store; every message names the schema/table, and carries a hint.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lake::catalog {

// The schema every metastore starts with, and the one unqualified names resolve in.
inline constexpr std::string_view kDefaultSchema = "default";

enum class TableKind {
  kManaged,   // lake owns the folder: DROP TABLE deletes it
  kExternal,  // lake only points at it: DROP TABLE forgets the entry, the data stays
};

// Returns "MANAGED" / "EXTERNAL" (Spark's DESCRIBE EXTENDED "Type" row).
std::string_view TableKindName(TableKind kind);

struct SchemaInfo {
  std::string name;
  std::string comment;
  int64_t created_ms = 0;  // ms since the epoch; set by the metastore when 0
};

struct TableInfo {
  std::string schema;
  std::string name;
  std::string location;  // a URI or absolute local path of the Delta table's root folder
  TableKind kind = TableKind::kExternal;
  int64_t created_ms = 0;  // ms since the epoch; set by the metastore when 0
  std::string comment;
  // Catalog-level properties (not the Delta table's configuration), sorted by key.
  std::vector<std::pair<std::string, std::string>> properties;

  // "schema.name"
  std::string qualified_name() const { return schema + "." + name; }
};

class Metastore {
 public:
  virtual ~Metastore() = default;

  // Creates `schema`. kAlreadyExists unless `if_not_exists`.
  virtual Status CreateSchema(const SchemaInfo& schema, bool if_not_exists) = 0;
  // Returns the schema, kNotFound if it does not exist.
  virtual Result<SchemaInfo> GetSchema(std::string_view name) = 0;
  // Returns every schema, sorted by name.
  virtual Result<std::vector<SchemaInfo>> ListSchemas() = 0;
  // Drops schema `name`. Without `cascade` a schema holding tables is kFailedPrecondition;
  // with it the tables are dropped too and returned, so that the caller can delete the
  // folders of the managed ones. The default schema cannot be dropped (kInvalidArgument).
  // kNotFound unless `if_exists`.
  virtual Result<std::vector<TableInfo>> DropSchema(std::string_view name, bool if_exists,
                                                    bool cascade) = 0;

  // Registers `table` (its schema must exist). kAlreadyExists if the name is taken.
  virtual Status CreateTable(const TableInfo& table) = 0;
  // Returns the table, kNotFound (naming whether the schema or the table is missing).
  virtual Result<TableInfo> GetTable(std::string_view schema, std::string_view name) = 0;
  // Returns the tables of `schema`, sorted by name; kNotFound if the schema does not exist.
  virtual Result<std::vector<TableInfo>> ListTables(std::string_view schema) = 0;
  // Removes the entry and returns what it was (the data is the caller's business).
  virtual Result<TableInfo> DropTable(std::string_view schema, std::string_view name) = 0;
  // Renames (and possibly moves to another schema) a table, setting its location to
  // `new_location` when that is not empty (a managed table's folder follows its name).
  virtual Status RenameTable(std::string_view schema, std::string_view name,
                             std::string_view new_schema, std::string_view new_name,
                             std::string_view new_location) = 0;
};

// Returns `name` lower-cased if it is a valid schema or table name, else kInvalidArgument
// naming `what` ("schema", "table").
Result<std::string> NormalizeName(std::string_view name, std::string_view what);

}  // namespace lake::catalog
