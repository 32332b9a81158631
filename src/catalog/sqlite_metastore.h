// A Metastore in one SQLite file (<home>/metastore.db). A later issue moves the governed
// catalog to PostgreSQL behind the same interface; nothing outside this file knows SQLite.
//
// Design notes.
//  (1) Every change runs in one `BEGIN IMMEDIATE` transaction: the write lock is taken up
//      front, so two processes never both read, then both write (no lost update, no
//      deadlock between upgrading readers). A busy database is waited for up to
//      `busy_timeout_ms`, then kUnavailable (retry later).
//  (2) WAL journal: readers do not block the writer nor each other, across processes.
//  (3) The file carries its format in `PRAGMA user_version` (1). A newer format is refused
//      (kFailedPrecondition) rather than misread; creating the tables and the default schema
//      is idempotent and itself one transaction, so concurrent first opens are safe.
// Thread-safe: one connection per instance, calls serialized by a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "catalog/metastore.h"

struct sqlite3;

namespace lake::catalog {

struct SqliteMetastoreOptions {
  int busy_timeout_ms = 10'000;
};

class SqliteMetastore final : public Metastore {
 public:
  // Opens (creating if missing) the metastore file at `path`, whose folder must exist.
  static Result<std::unique_ptr<SqliteMetastore>> Open(const std::string& path,
                                                       const SqliteMetastoreOptions& options = {});
  ~SqliteMetastore() override;
  SqliteMetastore(const SqliteMetastore&) = delete;
  SqliteMetastore& operator=(const SqliteMetastore&) = delete;

  Status CreateSchema(const SchemaInfo& schema, bool if_not_exists) override;
  Result<SchemaInfo> GetSchema(std::string_view name) override;
  Result<std::vector<SchemaInfo>> ListSchemas() override;
  Result<std::vector<TableInfo>> DropSchema(std::string_view name, bool if_exists,
                                            bool cascade) override;
  Status CreateTable(const TableInfo& table) override;
  Result<TableInfo> GetTable(std::string_view schema, std::string_view name) override;
  Result<std::vector<TableInfo>> ListTables(std::string_view schema) override;
  Result<TableInfo> DropTable(std::string_view schema, std::string_view name) override;
  Status RenameTable(std::string_view schema, std::string_view name, std::string_view new_schema,
                     std::string_view new_name, std::string_view new_location) override;

  const std::string& path() const { return path_; }

 private:
  class Tx;
  SqliteMetastore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  Status Initialize();

  const std::string path_;
  std::mutex mu_;  // serializes use of db_ (a transaction spans several statements)
  sqlite3* db_;
};

}  // namespace lake::catalog
