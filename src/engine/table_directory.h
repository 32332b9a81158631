// What the engine needs to resolve tables by name: a directory of schemas and tables. The
// engine's DuckDB catalog (`lake`, internal/lake_catalog.h) asks it on every lookup, so a
// change made by another process is seen by the next statement. No DuckDB type in sight.
//
// The engine does not include catalog/ (siblings, STYLE.md §2): sql/ implements this over the
// Metastore. Names are passed as the user wrote them; implementations normalize them (the
// metastore lower-cases). Errors: kNotFound / kAlreadyExists / kInvalidArgument with hints,
// as in catalog/metastore.h. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lake::engine {

struct DirectorySchema {
  std::string name;
  std::string comment;
};

struct DirectoryTable {
  std::string schema;
  std::string name;
  std::string location;  // the Delta table's root (a path or URI storage::OpenStore accepts)
  bool is_managed = false;
  int64_t created_ms = 0;
  std::string comment;
  std::vector<std::pair<std::string, std::string>> properties;  // catalog-level, by key
};

// How a new table is to be registered.
struct NewTable {
  std::string schema;
  std::string name;
  // Empty: a managed table, placed by the directory (ManagedLocation). Else external.
  std::string location;
  std::string comment;
  std::vector<std::pair<std::string, std::string>> properties;
};

class TableDirectory {
 public:
  virtual ~TableDirectory() = default;

  // The schema unqualified names resolve in ("default").
  virtual std::string default_schema() const = 0;

  virtual Result<std::vector<DirectorySchema>> ListSchemas() = 0;
  // Returns the schema, or nullopt when it does not exist (not an error: lookups probe).
  virtual Result<std::optional<DirectorySchema>> FindSchema(std::string_view name) = 0;
  virtual Status CreateSchema(std::string_view name, std::string_view comment,
                              bool if_not_exists) = 0;
  // Drops a schema; with `cascade` its tables too (managed ones' data deleted).
  virtual Status DropSchema(std::string_view name, bool if_exists, bool cascade) = 0;

  // Returns the table, or nullopt when the schema exists but the table does not; a missing
  // schema is nullopt too (DuckDB reports "does not exist" with its own suggestions).
  virtual Result<std::optional<DirectoryTable>> FindTable(std::string_view schema,
                                                          std::string_view name) = 0;
  virtual Result<std::vector<DirectoryTable>> ListTables(std::string_view schema) = 0;

  // Returns where a new managed table `schema.name` goes (its folder must not exist yet).
  virtual Result<std::string> ManagedLocation(std::string_view schema, std::string_view name) = 0;
  // Registers a table whose Delta log already exists at its location.
  virtual Result<DirectoryTable> RegisterTable(const NewTable& table) = 0;
  // Forgets a table; a managed table's folder is deleted too. Returns what was dropped.
  virtual Result<DirectoryTable> DropTable(std::string_view schema, std::string_view name) = 0;
  // Renames a table (a managed table's folder follows its new name).
  virtual Status RenameTable(std::string_view schema, std::string_view name,
                             std::string_view new_name) = 0;
};

}  // namespace lake::engine
