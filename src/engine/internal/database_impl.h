// The DuckDB-backed Database, visible to the engine's own translation units only.
#pragma once

#include <memory>
#include <string>

#include "engine/database.h"
#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

// Owns the one DuckDB instance of a Database (DUCKDB-INTEGRATION.md §2.6: one instance per
// process, one Connection per thread). Thread-safe: Connect() may be called from any thread.
class DatabaseImpl final : public Database {
 public:
  // `session_setup`: SQL every new session runs first (USE of the lake catalog), or empty.
  DatabaseImpl(std::unique_ptr<duckdb::DuckDB> db, std::string session_setup)
      : db_(std::move(db)), session_setup_(std::move(session_setup)) {}
  Result<std::unique_ptr<Session>> Connect() override;
  std::string engine_version() const override;

  duckdb::DuckDB& duckdb() { return *db_; }
  duckdb::DatabaseInstance& instance() { return *db_->instance; }

 private:
  std::unique_ptr<duckdb::DuckDB> db_;
  const std::string session_setup_;
};

// A session on `db` with no setup (a nested connection for work a statement does inside its
// own execution, e.g. rewriting files; it sees committed state only).
std::unique_ptr<Session> NewSession(duckdb::DatabaseInstance& db);

// Converts a DuckDB type to lake's ColumnType.
ColumnType ToColumnType(const duckdb::LogicalType& type);
// Converts one DuckDB value of `type` to lake's Value (nested types recursively).
Value ToLakeValue(const duckdb::Value& value, const duckdb::LogicalType& type);
// Appends the rows of `chunk` to `rows`, converting column by column.
void AppendChunkRows(duckdb::DataChunk& chunk, std::vector<std::vector<Value>>& rows);

}  // namespace lake::engine::internal
