// lake's SQL front door: a Database whose tables resolve by name through the metastore of a
// lake home (catalog/) — the one place the catalog and engine siblings meet (STYLE.md §2).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "engine/database.h"
#include "engine/table_directory.h"

namespace lake::sql {

struct LakehouseOptions {
  // The lake home folder; empty: $LAKE_HOME, else ./lakehouse (catalog::ResolveHomePath).
  std::string home;
  engine::DatabaseOptions database;  // its table_directory is set by Open
};

// Owns the Database. Thread-safe like engine::Database.
class Lakehouse {
 public:
  // Opens the engine with the home's metastore as its table directory. Nothing is written
  // until a statement creates something: the home folder and metastore.db are made on the
  // first CREATE SCHEMA / CREATE TABLE, so reading paths never litters the working directory.
  static Result<std::unique_ptr<Lakehouse>> Open(const LakehouseOptions& options);

  engine::Database& database() { return *database_; }
  // The absolute home folder.
  const std::string& home() const { return home_; }

 private:
  Lakehouse(std::string home, std::unique_ptr<engine::Database> database)
      : home_(std::move(home)), database_(std::move(database)) {}
  std::string home_;
  std::unique_ptr<engine::Database> database_;
};

// Returns a TableDirectory over the metastore of the lake home at `home` (absolute), opened
// lazily (see Lakehouse::Open). DropTable / DropSchema CASCADE delete managed tables'
// folders (only ever inside <home>/warehouse); RenameTable moves a managed table's folder.
std::shared_ptr<engine::TableDirectory> MakeMetastoreDirectory(std::string home);

}  // namespace lake::sql
