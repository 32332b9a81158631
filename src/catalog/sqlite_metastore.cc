// See sqlite_metastore.h for the design notes.
#include "catalog/sqlite_metastore.h"

#include <sqlite3.h>

#include <chrono>
#include <optional>
#include <thread>

#include "base/scope_guard.h"
#include "base/strings.h"

namespace lake::catalog {
namespace {

constexpr int kFormatVersion = 1;

// The whole on-disk format, version 1. Names are stored lower case (metastore.h).
constexpr const char* kCreateTables = R"sql(
CREATE TABLE IF NOT EXISTS schemas (
  name        TEXT PRIMARY KEY,
  comment     TEXT NOT NULL DEFAULT '',
  created_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
  schema_name TEXT NOT NULL REFERENCES schemas(name),
  name        TEXT NOT NULL,
  location    TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('MANAGED', 'EXTERNAL')),
  created_ms  INTEGER NOT NULL,
  comment     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (schema_name, name)
);
CREATE TABLE IF NOT EXISTS table_properties (
  schema_name TEXT NOT NULL,
  table_name  TEXT NOT NULL,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  PRIMARY KEY (schema_name, table_name, key)
);
)sql";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status SqliteError(sqlite3* db, int rc, std::string_view what, const std::string& path) {
  std::string message =
      StrCat("metastore ", path, ": ", what, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(std::move(message))
          .WithHint("another lake process holds the metastore; retry when it is done");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(std::move(message))
          .WithHint("restore metastore.db from a backup; the tables' data is not affected");
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return Status::IOError(std::move(message))
          .WithHint("check that the lake home folder exists and is writable");
    default:
      return Status::IOError(std::move(message));
  }
}

// One prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& path) : db_(db), path_(path) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status Prepare(const char* sql) {
    int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt_, nullptr);
    return rc == SQLITE_OK ? Status::OK() : SqliteError(db_, rc, "preparing a statement", path_);
  }
  // Binds parameters 1..n in order.
  template <typename... Args>
  Status Bind(const Args&... args) {
    int index = 0;
    int rc = SQLITE_OK;
    ((rc = rc == SQLITE_OK ? BindOne(++index, args) : rc), ...);
    return rc == SQLITE_OK ? Status::OK() : SqliteError(db_, rc, "binding a parameter", path_);
  }
  // Returns true while a row is available.
  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, "running a statement", path_);
  }
  Status Run() {
    LAKE_ASSIGN_OR_RETURN(bool row, Step());
    (void)row;
    return Status::OK();
  }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  int BindOne(int i, std::string_view s) {
    return sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  int BindOne(int i, const std::string& s) { return BindOne(i, std::string_view(s)); }
  int BindOne(int i, const char* s) { return BindOne(i, std::string_view(s)); }
  int BindOne(int i, int64_t v) { return sqlite3_bind_int64(stmt_, i, v); }

  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

Status Exec(sqlite3* db, const char* sql, const std::string& path, std::string_view what) {
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::OK();
  std::string detail = error ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  Status status = SqliteError(nullptr, rc, what, path);
  return Status(status.code(), StrCat(status.message(), " (", detail, ")")).WithHint(status.hint());
}

std::string_view KindText(TableKind kind) {
  return kind == TableKind::kManaged ? "MANAGED" : "EXTERNAL";
}

Status SchemaNotFound(std::string_view schema) {
  return Status::NotFound(StrCat("schema ", schema, " does not exist"))
      .WithHint("SHOW SCHEMAS lists the schemas; CREATE SCHEMA creates one");
}

Status TableNotFound(std::string_view schema, std::string_view name) {
  return Status::NotFound(StrCat("table ", schema, ".", name, " does not exist"))
      .WithHint(StrCat("SHOW TABLES IN ", schema, " lists its tables"));
}

}  // namespace

std::string_view TableKindName(TableKind kind) { return KindText(kind); }

Result<std::string> NormalizeName(std::string_view name, std::string_view what) {
  bool ok = !name.empty() && name.size() <= 128;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) ok = false;
  }
  if (!ok) {
    return Status::InvalidArgument(StrCat("invalid ", what, " name '", name, "'"))
        .WithHint(StrCat("a ", what,
                         " name is 1 to 128 letters, digits or underscores: it names a folder "
                         "of the warehouse"));
  }
  return ToLower(name);
}

// A write transaction: BEGIN IMMEDIATE now, ROLLBACK unless Commit() succeeded.
class SqliteMetastore::Tx {
 public:
  explicit Tx(SqliteMetastore& m) : m_(m) {}
  ~Tx() {
    if (open_) Exec(m_.db_, "ROLLBACK", m_.path_, "rolling back").IgnoreError();  // nothing to undo
  }
  Status Begin() {
    LAKE_RETURN_IF_ERROR(Exec(m_.db_, "BEGIN IMMEDIATE", m_.path_, "starting a transaction"));
    open_ = true;
    return Status::OK();
  }
  Status Commit() {
    LAKE_RETURN_IF_ERROR(Exec(m_.db_, "COMMIT", m_.path_, "committing"));
    open_ = false;
    return Status::OK();
  }

 private:
  SqliteMetastore& m_;
  bool open_ = false;
};

Result<std::unique_ptr<SqliteMetastore>> SqliteMetastore::Open(
    const std::string& path, const SqliteMetastoreOptions& options) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqliteError(db, rc, "opening", path);
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<SqliteMetastore> store(new SqliteMetastore(path, db));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  // Processes opening a fresh file at once race to switch it to WAL and create the tables;
  // the journal-mode switch can fail with SQLITE_BUSY without SQLite's busy handler being
  // called. Initialize is idempotent and rolls back on failure: retry within the timeout.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.busy_timeout_ms);
  Status init = store->Initialize();
  while (init.code() == StatusCode::kUnavailable && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    init = store->Initialize();
  }
  LAKE_RETURN_IF_ERROR(init);
  return store;
}

SqliteMetastore::~SqliteMetastore() { sqlite3_close(db_); }

Status SqliteMetastore::Initialize() {
  std::lock_guard lock(mu_);
  // WAL before anything else: switching needs no other connection mid-transaction.
  LAKE_RETURN_IF_ERROR(Exec(db_, "PRAGMA journal_mode=WAL", path_, "enabling WAL"));
  LAKE_RETURN_IF_ERROR(Exec(db_, "PRAGMA foreign_keys=ON", path_, "enabling foreign keys"));
  Tx tx(*this);
  LAKE_RETURN_IF_ERROR(tx.Begin());
  Stmt version(db_, path_);
  LAKE_RETURN_IF_ERROR(version.Prepare("PRAGMA user_version"));
  LAKE_ASSIGN_OR_RETURN(bool has_row, version.Step());
  int64_t format = has_row ? version.Int(0) : 0;
  if (format > kFormatVersion) {
    return Status::FailedPrecondition(StrCat("metastore ", path_, " has format version ", format,
                                             "; this lake reads up to ", kFormatVersion))
        .WithHint("use the newer lake that wrote it");
  }
  LAKE_RETURN_IF_ERROR(Exec(db_, kCreateTables, path_, "creating the metastore tables"));
  LAKE_RETURN_IF_ERROR(
      Exec(db_, "PRAGMA user_version = 1", path_, "recording the metastore format"));
  Stmt insert(db_, path_);
  LAKE_RETURN_IF_ERROR(
      insert.Prepare("INSERT OR IGNORE INTO schemas (name, comment, created_ms) VALUES (?, ?, ?)"));
  LAKE_RETURN_IF_ERROR(insert.Bind(kDefaultSchema, "Default schema", NowMs()));
  LAKE_RETURN_IF_ERROR(insert.Run());
  return tx.Commit();
}

Status SqliteMetastore::CreateSchema(const SchemaInfo& schema, bool if_not_exists) {
  LAKE_ASSIGN_OR_RETURN(std::string name, NormalizeName(schema.name, "schema"));
  std::lock_guard lock(mu_);
  Tx tx(*this);
  LAKE_RETURN_IF_ERROR(tx.Begin());
  Stmt exists(db_, path_);
  LAKE_RETURN_IF_ERROR(exists.Prepare("SELECT 1 FROM schemas WHERE name = ?"));
  LAKE_RETURN_IF_ERROR(exists.Bind(name));
  LAKE_ASSIGN_OR_RETURN(bool found, exists.Step());
  if (found) {
    if (if_not_exists) return Status::OK();
    return Status::AlreadyExists(StrCat("schema ", name, " already exists"))
        .WithHint("use CREATE SCHEMA IF NOT EXISTS, or pick another name");
  }
  Stmt insert(db_, path_);
  LAKE_RETURN_IF_ERROR(
      insert.Prepare("INSERT INTO schemas (name, comment, created_ms) VALUES (?, ?, ?)"));
  LAKE_RETURN_IF_ERROR(
      insert.Bind(name, schema.comment, schema.created_ms ? schema.created_ms : NowMs()));
  LAKE_RETURN_IF_ERROR(insert.Run());
  return tx.Commit();
}

Result<SchemaInfo> SqliteMetastore::GetSchema(std::string_view name_in) {
  LAKE_ASSIGN_OR_RETURN(std::string name, NormalizeName(name_in, "schema"));
  std::lock_guard lock(mu_);
  Stmt q(db_, path_);
  LAKE_RETURN_IF_ERROR(q.Prepare("SELECT name, comment, created_ms FROM schemas WHERE name = ?"));
  LAKE_RETURN_IF_ERROR(q.Bind(name));
  LAKE_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return SchemaNotFound(name);
  return SchemaInfo{q.Text(0), q.Text(1), q.Int(2)};
}

Result<std::vector<SchemaInfo>> SqliteMetastore::ListSchemas() {
  std::lock_guard lock(mu_);
  Stmt q(db_, path_);
  LAKE_RETURN_IF_ERROR(q.Prepare("SELECT name, comment, created_ms FROM schemas ORDER BY name"));
  std::vector<SchemaInfo> out;
  while (true) {
    LAKE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(SchemaInfo{q.Text(0), q.Text(1), q.Int(2)});
  }
  return out;
}

namespace {

// Reads the tables matching `where` (a clause over `tables t` with parameters `args`),
// properties included.
template <typename... Args>
Result<std::vector<TableInfo>> ReadTables(sqlite3* db, const std::string& path, const char* where,
                                          const Args&... args) {
  std::string sql = StrCat(
      "SELECT t.schema_name, t.name, t.location, t.kind, t.created_ms, t.comment, p.key, p.value "
      "FROM tables t LEFT JOIN table_properties p "
      "ON p.schema_name = t.schema_name AND p.table_name = t.name WHERE ",
      where, " ORDER BY t.schema_name, t.name, p.key");
  Stmt q(db, path);
  LAKE_RETURN_IF_ERROR(q.Prepare(sql.c_str()));
  LAKE_RETURN_IF_ERROR(q.Bind(args...));
  std::vector<TableInfo> out;
  while (true) {
    LAKE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::string schema = q.Text(0), name = q.Text(1);
    if (out.empty() || out.back().schema != schema || out.back().name != name) {
      TableInfo t;
      t.schema = std::move(schema);
      t.name = std::move(name);
      t.location = q.Text(2);
      t.kind = q.Text(3) == "MANAGED" ? TableKind::kManaged : TableKind::kExternal;
      t.created_ms = q.Int(4);
      t.comment = q.Text(5);
      out.push_back(std::move(t));
    }
    if (!q.IsNull(6)) out.back().properties.emplace_back(q.Text(6), q.Text(7));
  }
  return out;
}

}  // namespace

Result<std::vector<TableInfo>> SqliteMetastore::DropSchema(std::string_view name_in, bool if_exists,
                                                           bool cascade) {
  LAKE_ASSIGN_OR_RETURN(std::string name, NormalizeName(name_in, "schema"));
  if (name == kDefaultSchema) {
    return Status::InvalidArgument("schema default cannot be dropped")
        .WithHint("unqualified table names resolve in it; drop its tables instead");
  }
  std::lock_guard lock(mu_);
  Tx tx(*this);
  LAKE_RETURN_IF_ERROR(tx.Begin());
  Stmt exists(db_, path_);
  LAKE_RETURN_IF_ERROR(exists.Prepare("SELECT 1 FROM schemas WHERE name = ?"));
  LAKE_RETURN_IF_ERROR(exists.Bind(name));
  LAKE_ASSIGN_OR_RETURN(bool found, exists.Step());
  if (!found) {
    if (if_exists) return std::vector<TableInfo>{};
    return SchemaNotFound(name);
  }
  LAKE_ASSIGN_OR_RETURN(std::vector<TableInfo> tables,
                        ReadTables(db_, path_, "t.schema_name = ?", name));
  if (!tables.empty() && !cascade) {
    return Status::FailedPrecondition(StrCat("schema ", name, " still holds ", tables.size(),
                                             " table(s), e.g. ", tables.front().qualified_name()))
        .WithHint("drop its tables first, or use DROP SCHEMA ... CASCADE");
  }
  for (const char* sql :
       {"DELETE FROM table_properties WHERE schema_name = ?",
        "DELETE FROM tables WHERE schema_name = ?", "DELETE FROM schemas WHERE name = ?"}) {
    Stmt del(db_, path_);
    LAKE_RETURN_IF_ERROR(del.Prepare(sql));
    LAKE_RETURN_IF_ERROR(del.Bind(name));
    LAKE_RETURN_IF_ERROR(del.Run());
  }
  LAKE_RETURN_IF_ERROR(tx.Commit());
  return tables;
}

Status SqliteMetastore::CreateTable(const TableInfo& table) {
  LAKE_ASSIGN_OR_RETURN(std::string schema, NormalizeName(table.schema, "schema"));
  LAKE_ASSIGN_OR_RETURN(std::string name, NormalizeName(table.name, "table"));
  if (table.location.empty()) {
    return Status::InvalidArgument(StrCat("table ", schema, ".", name, " has no location"));
  }
  std::lock_guard lock(mu_);
  Tx tx(*this);
  LAKE_RETURN_IF_ERROR(tx.Begin());
  Stmt schema_q(db_, path_);
  LAKE_RETURN_IF_ERROR(schema_q.Prepare("SELECT 1 FROM schemas WHERE name = ?"));
  LAKE_RETURN_IF_ERROR(schema_q.Bind(schema));
  LAKE_ASSIGN_OR_RETURN(bool schema_found, schema_q.Step());
  if (!schema_found) return SchemaNotFound(schema);
  Stmt exists(db_, path_);
  LAKE_RETURN_IF_ERROR(exists.Prepare("SELECT 1 FROM tables WHERE schema_name = ? AND name = ?"));
  LAKE_RETURN_IF_ERROR(exists.Bind(schema, name));
  LAKE_ASSIGN_OR_RETURN(bool found, exists.Step());
  if (found) {
    return Status::AlreadyExists(StrCat("table ", schema, ".", name, " already exists"))
        .WithHint("use CREATE TABLE IF NOT EXISTS, DROP TABLE it first, or pick another name");
  }
  Stmt insert(db_, path_);
  LAKE_RETURN_IF_ERROR(
      insert.Prepare("INSERT INTO tables (schema_name, name, location, kind, created_ms, comment) "
                     "VALUES (?, ?, ?, ?, ?, ?)"));
  LAKE_RETURN_IF_ERROR(insert.Bind(schema, name, table.location, KindText(table.kind),
                                   table.created_ms ? table.created_ms : NowMs(), table.comment));
  LAKE_RETURN_IF_ERROR(insert.Run());
  for (const auto& [key, value] : table.properties) {
    Stmt prop(db_, path_);
    LAKE_RETURN_IF_ERROR(prop.Prepare(
        "INSERT OR REPLACE INTO table_properties (schema_name, table_name, key, value) "
        "VALUES (?, ?, ?, ?)"));
    LAKE_RETURN_IF_ERROR(prop.Bind(schema, name, key, value));
    LAKE_RETURN_IF_ERROR(prop.Run());
  }
  return tx.Commit();
}

Result<TableInfo> SqliteMetastore::GetTable(std::string_view schema_in, std::string_view name_in) {
  LAKE_ASSIGN_OR_RETURN(std::string schema, NormalizeName(schema_in, "schema"));
  LAKE_ASSIGN_OR_RETURN(std::string name, NormalizeName(name_in, "table"));
  std::lock_guard lock(mu_);
  LAKE_ASSIGN_OR_RETURN(std::vector<TableInfo> tables,
                        ReadTables(db_, path_, "t.schema_name = ? AND t.name = ?", schema, name));
  if (!tables.empty()) return std::move(tables.front());
  Stmt schema_q(db_, path_);
  LAKE_RETURN_IF_ERROR(schema_q.Prepare("SELECT 1 FROM schemas WHERE name = ?"));
  LAKE_RETURN_IF_ERROR(schema_q.Bind(schema));
  LAKE_ASSIGN_OR_RETURN(bool schema_found, schema_q.Step());
  return schema_found ? TableNotFound(schema, name) : SchemaNotFound(schema);
}

Result<std::vector<TableInfo>> SqliteMetastore::ListTables(std::string_view schema_in) {
  LAKE_ASSIGN_OR_RETURN(std::string schema, NormalizeName(schema_in, "schema"));
  std::lock_guard lock(mu_);
  // One read transaction: the schema check and the listing see the same state.
  LAKE_RETURN_IF_ERROR(Exec(db_, "BEGIN", path_, "starting a read"));
  ScopeGuard end([&] { Exec(db_, "COMMIT", path_, "ending a read").IgnoreError(); });
  Stmt schema_q(db_, path_);
  LAKE_RETURN_IF_ERROR(schema_q.Prepare("SELECT 1 FROM schemas WHERE name = ?"));
  LAKE_RETURN_IF_ERROR(schema_q.Bind(schema));
  LAKE_ASSIGN_OR_RETURN(bool schema_found, schema_q.Step());
  if (!schema_found) return SchemaNotFound(schema);
  return ReadTables(db_, path_, "t.schema_name = ?", schema);
}

Result<TableInfo> SqliteMetastore::DropTable(std::string_view schema_in, std::string_view name_in) {
  LAKE_ASSIGN_OR_RETURN(std::string schema, NormalizeName(schema_in, "schema"));
  LAKE_ASSIGN_OR_RETURN(std::string name, NormalizeName(name_in, "table"));
  std::lock_guard lock(mu_);
  Tx tx(*this);
  LAKE_RETURN_IF_ERROR(tx.Begin());
  LAKE_ASSIGN_OR_RETURN(std::vector<TableInfo> tables,
                        ReadTables(db_, path_, "t.schema_name = ? AND t.name = ?", schema, name));
  if (tables.empty()) return TableNotFound(schema, name);
  for (const char* sql : {"DELETE FROM table_properties WHERE schema_name = ? AND table_name = ?",
                          "DELETE FROM tables WHERE schema_name = ? AND name = ?"}) {
    Stmt del(db_, path_);
    LAKE_RETURN_IF_ERROR(del.Prepare(sql));
    LAKE_RETURN_IF_ERROR(del.Bind(schema, name));
    LAKE_RETURN_IF_ERROR(del.Run());
  }
  LAKE_RETURN_IF_ERROR(tx.Commit());
  return std::move(tables.front());
}

Status SqliteMetastore::RenameTable(std::string_view schema_in, std::string_view name_in,
                                    std::string_view new_schema_in, std::string_view new_name_in,
                                    std::string_view new_location) {
  LAKE_ASSIGN_OR_RETURN(std::string schema, NormalizeName(schema_in, "schema"));
  LAKE_ASSIGN_OR_RETURN(std::string name, NormalizeName(name_in, "table"));
  LAKE_ASSIGN_OR_RETURN(std::string new_schema, NormalizeName(new_schema_in, "schema"));
  LAKE_ASSIGN_OR_RETURN(std::string new_name, NormalizeName(new_name_in, "table"));
  std::lock_guard lock(mu_);
  Tx tx(*this);
  LAKE_RETURN_IF_ERROR(tx.Begin());
  Stmt exists(db_, path_);
  LAKE_RETURN_IF_ERROR(exists.Prepare("SELECT 1 FROM tables WHERE schema_name = ? AND name = ?"));
  LAKE_RETURN_IF_ERROR(exists.Bind(schema, name));
  LAKE_ASSIGN_OR_RETURN(bool found, exists.Step());
  if (!found) return TableNotFound(schema, name);
  Stmt schema_q(db_, path_);
  LAKE_RETURN_IF_ERROR(schema_q.Prepare("SELECT 1 FROM schemas WHERE name = ?"));
  LAKE_RETURN_IF_ERROR(schema_q.Bind(new_schema));
  LAKE_ASSIGN_OR_RETURN(bool schema_found, schema_q.Step());
  if (!schema_found) return SchemaNotFound(new_schema);
  Stmt taken(db_, path_);
  LAKE_RETURN_IF_ERROR(taken.Prepare("SELECT 1 FROM tables WHERE schema_name = ? AND name = ?"));
  LAKE_RETURN_IF_ERROR(taken.Bind(new_schema, new_name));
  LAKE_ASSIGN_OR_RETURN(bool is_taken, taken.Step());
  if (is_taken) {
    return Status::AlreadyExists(StrCat("cannot rename ", schema, ".", name, ": table ", new_schema,
                                        ".", new_name, " already exists"))
        .WithHint("drop that table first, or pick another name");
  }
  Stmt update(db_, path_);
  LAKE_RETURN_IF_ERROR(update.Prepare(
      "UPDATE tables SET schema_name = ?, name = ?, location = CASE WHEN ? = '' THEN location "
      "ELSE ? END WHERE schema_name = ? AND name = ?"));
  LAKE_RETURN_IF_ERROR(update.Bind(new_schema, new_name, new_location, new_location, schema, name));
  LAKE_RETURN_IF_ERROR(update.Run());
  Stmt props(db_, path_);
  LAKE_RETURN_IF_ERROR(
      props.Prepare("UPDATE table_properties SET schema_name = ?, table_name = ? "
                    "WHERE schema_name = ? AND table_name = ?"));
  LAKE_RETURN_IF_ERROR(props.Bind(new_schema, new_name, schema, name));
  LAKE_RETURN_IF_ERROR(props.Run());
  return tx.Commit();
}

}  // namespace lake::catalog
