// DDL as Delta commits (issue #3 §2, §3). See lake_ddl.h for the two ways in.
//
// Design notes.
//  (1) Every DDL statement is one Delta commit through delta::Transaction, so the protocol
//      rules live in one place: a new table gets the lowest protocol its metadata needs
//      (table_features.h MinimumProtocolFor: 1/2 by default, writer 3 for CHECK constraints,
//      3/7 with features for deletion vectors, ...), and an ALTER that needs a feature
//      upgrades the protocol in the same commit (Transaction::UpdateMetadata). Column
//      mapping ids and physical names are assigned there too.
//  (2) Order for a new table: commit version 0, then register the name (the metastore is not
//      part of the commit). A crash in between leaves a table without a name, never a name
//      without a table; for a managed table the folder is removed when registering fails.
//  (3) ALTERs that promise something about existing rows (SET NOT NULL, ADD CONSTRAINT)
//      check the rows of the version the transaction read, with a DuckDB query over
//      delta_scan(location, version := v), and mark the whole table read: a concurrent
//      commit that adds files makes this one fail with a conflict instead of slipping rows
//      past the check (transaction.h "Reads").
//  (4) commitInfo carries Spark's operation names and operationParameters (values are
//      JSON-encoded strings, as Spark writes them): CREATE TABLE, CREATE OR REPLACE TABLE,
//      ADD COLUMNS, CHANGE COLUMN, SET TBLPROPERTIES, UNSET TBLPROPERTIES, ADD CONSTRAINT,
//      DROP CONSTRAINT.
//  (5) The DDL runs when lake_ddl is executed (or when DuckDB's PhysicalCreateTable /
//      PhysicalAlter runs), never at bind: EXPLAIN and re-bound prepared statements commit
//      nothing. The metastore and the Delta log are not part of DuckDB's transaction, so
//      ROLLBACK does not undo DDL (as in Spark).
#include "engine/internal/lake_ddl.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include "base/strings.h"
#include "delta/transaction.h"
#include "duckdb/parser/constraints/check_constraint.hpp"
#include "duckdb/parser/constraints/not_null_constraint.hpp"
#include "duckdb/parser/parsed_data/alter_table_info.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "duckdb/planner/parsed_data/bound_create_table_info.hpp"
#include "engine/data_writer.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/errors.h"
#include "engine/internal/lake_catalog.h"
#include "engine/internal/scan.h"
#include "engine/internal/snapshot_cache.h"
#include "storage/object_store.h"

namespace lake::engine::internal {
namespace {

using duckdb::ClientContext;
using duckdb::LogicalType;
using Rows = std::vector<duckdb::vector<duckdb::Value>>;

constexpr std::string_view kConstraintPrefix = "delta.constraints.";

std::function<void(int64_t)>& CommitSyncPoint() {
  static std::function<void(int64_t)> hook;
  return hook;
}

delta::TransactionOptions DdlTransactionOptions() {
  delta::TransactionOptions options;
  if (CommitSyncPoint()) options.before_commit_attempt = CommitSyncPoint();
  return options;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string Qualified(const LakeTableName& name) { return StrCat(name.schema, ".", name.name); }

SnapshotCache& CacheOf(ClientContext& context) {
  return SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
}

// Runs `sql` on a new connection: the caller's context is busy running the DDL statement.
Result<Rows> QueryRows(ClientContext& context, const std::string& sql,
                       std::vector<std::string>* names = nullptr) {
  Rows rows;
  Status status = CatchAll([&]() -> Status {
    duckdb::Connection connection(duckdb::DatabaseInstance::GetDatabase(context));
    auto result = connection.Query(sql);
    if (result->HasError()) return StatusFromError(result->GetErrorObject());
    if (names) *names = result->names;
    for (duckdb::idx_t r = 0; r < result->RowCount(); ++r) {
      duckdb::vector<duckdb::Value> row;
      for (duckdb::idx_t c = 0; c < result->ColumnCount(); ++c)
        row.push_back(result->GetValue(c, r));
      rows.push_back(std::move(row));
    }
    return Status::OK();
  });
  if (!status.ok()) return status;
  return rows;
}

// delta_scan of the version a transaction read (design note 3).
std::string ScanOf(const std::string& location, delta::Version version) {
  return StrCat("delta_scan(", SqlQuote(location), ", version := ", version, ")");
}

// Returns a JSON object from keys and already-encoded JSON values.
std::string JsonObject(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i) out += ",";
    AppendJsonQuoted(members[i].first, out);
    out += ":";
    out += members[i].second;
  }
  return out + "}";
}

std::string StringMapJson(const delta::StringMap& map) {
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [k, v] : map) members.emplace_back(k, JsonQuote(v));
  return JsonObject(members);
}

std::string StringListJson(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) quoted.push_back(JsonQuote(s));
  return StrCat("[", StrJoin(quoted, ","), "]");
}

Status RefuseConstraintProperty(const std::string& key, const std::string& what) {
  return Status::InvalidArgument(
             StrCat(what, ": property '", key, "' is a CHECK constraint; it is not set directly"))
      .WithHint("use ALTER TABLE ... ADD CONSTRAINT name CHECK (expr) / DROP CONSTRAINT name");
}

// Index of the top-level field `name` (exact match first, then case-insensitive, as Spark
// resolves), or -1.
int FieldIndex(const delta::Schema& schema, std::string_view name) {
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    if (schema.fields[i].name == name) return static_cast<int>(i);
  }
  const std::string lower = ToLower(name);
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    if (ToLower(schema.fields[i].name) == lower) return static_cast<int>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// CREATE TABLE

// Returns the metaData of a table created by `spec` (columns required).
Result<delta::Metadata> MetadataFor(const CreateTableSpec& spec, const std::string& what) {
  delta::Schema schema;
  schema.kind = delta::TypeKind::kStruct;
  for (const ColumnSpec& column : *spec.columns) {
    if (FieldIndex(schema, column.name) >= 0) {
      return Status::InvalidArgument(StrCat(what, ": column '", column.name, "' is declared twice"))
          .WithHint("column names are case-insensitive; rename one of them");
    }
    schema.fields.push_back(FieldFor(column));
  }
  if (schema.fields.empty()) {
    return Status::InvalidArgument(StrCat(what, ": a table needs at least one column"));
  }
  std::vector<std::string> partitions;
  for (const std::string& p : spec.partition_columns) {
    int idx = FieldIndex(schema, p);
    if (idx < 0) {
      return Status::InvalidArgument(
                 StrCat(what, ": partition column '", p, "' is not in the column list"))
          .WithHint("PARTITIONED BY names columns declared in the column list");
    }
    partitions.push_back(schema.fields[idx].name);
  }
  if (!partitions.empty() && partitions.size() == schema.fields.size()) {
    return Status::InvalidArgument(StrCat(what, ": every column is a partition column"))
        .WithHint("a Delta table needs at least one column that is not a partition column");
  }
  delta::StringMap configuration;
  for (const auto& [key, value] : spec.properties) {
    if (StartsWith(key, kConstraintPrefix)) return RefuseConstraintProperty(key, what);
    configuration[key] = value;
  }
  for (const auto& [name, expression] : spec.constraints) {
    configuration[StrCat(kConstraintPrefix, ToLower(name))] = expression;
  }
  delta::Metadata metadata = delta::NewTableMetadata(delta::SerializeDataType(schema), std::move(partitions),
                                                     std::move(configuration), NowMs());
  metadata.description = spec.comment;
  return metadata;
}

// Spark's CREATE TABLE operationParameters (values are JSON-encoded strings).
std::string CreateParameters(bool is_managed, const delta::Metadata& metadata) {
  return JsonObject({
      {"isManaged", JsonQuote(is_managed ? "true" : "false")},
      {"description", metadata.description ? JsonQuote(*metadata.description) : "null"},
      {"partitionBy", JsonQuote(StringListJson(metadata.partition_columns))},
      {"properties", JsonQuote(StringMapJson(metadata.configuration))},
  });
}

// Commits version 0 of a new table at `location`.
Result<delta::CommitResult> CommitNewTable(ClientContext& context, const CreateTableSpec& spec,
                                           const std::string& what, const std::string& location,
                                           bool is_managed) {
  LAKE_ASSIGN_OR_RETURN(delta::Metadata metadata, MetadataFor(spec, what));
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store, storage::OpenStore(location));
  std::unique_ptr<delta::Engine> engine =
      MakeDeltaEngine(duckdb::DatabaseInstance::GetDatabase(context), std::move(store));
  Result<std::unique_ptr<delta::Transaction>> txn =
      delta::Transaction::BeginCreate(*engine, DdlTransactionOptions());
  if (!txn.ok()) return txn.status().WithContext(what);
  Status updated = (*txn)->UpdateMetadata(std::move(metadata));
  if (!updated.ok()) return updated.WithContext(what);
  (*txn)->SetOperation("CREATE TABLE", CreateParameters(is_managed, (*txn)->metadata()));
  Result<delta::CommitResult> committed = (*txn)->Commit();
  if (!committed.ok()) return committed.status().WithContext(what);
  return committed;
}

// CREATE OR REPLACE of the table at `location`: new metadata, every live file removed.
Result<delta::CommitResult> ReplaceTable(ClientContext& context, const CreateTableSpec& spec,
                                         const std::string& what, const CachedTable& table,
                                         bool is_managed) {
  if (!spec.columns) {
    return Status::InvalidArgument(StrCat(what, ": CREATE OR REPLACE TABLE needs a column list"));
  }
  LAKE_ASSIGN_OR_RETURN(delta::Metadata metadata, MetadataFor(spec, what));
  const delta::Snapshot& snap = *table.snapshot;
  metadata.id = snap.metadata().id;  // the same table, so readers' references stay valid
  Result<std::unique_ptr<delta::Transaction>> txn =
      delta::Transaction::Begin(*table.engine, table.snapshot, DdlTransactionOptions());
  if (!txn.ok()) return txn.status().WithContext(what);
  (*txn)->ReadWholeTable();
  Status updated = (*txn)->UpdateMetadata(std::move(metadata));
  if (!updated.ok()) return updated.WithContext(what);
  const int64_t now = NowMs();
  for (const delta::AddFile& file : snap.files()) {
    delta::RemoveFile remove = delta::Transaction::RemoveFor(file, now);
    // The stats (optional on a remove) name the old schema's columns; this commit's
    // metaData no longer has them, so a reader checking stats against it would trip.
    remove.stats.reset();
    LAKE_RETURN_IF_ERROR((*txn)->StageRemove(std::move(remove)));
  }
  (*txn)->SetOperation("CREATE OR REPLACE TABLE", CreateParameters(is_managed, (*txn)->metadata()));
  Result<delta::CommitResult> committed = (*txn)->Commit();
  if (!committed.ok()) return committed.status().WithContext(what);
  (void)context;
  return committed;
}

// Checks that a column list given for an existing Delta table matches it (Spark: "The
// specified schema does not match the existing schema").
Status CheckMatchesExisting(const CreateTableSpec& spec, const std::string& what,
                            const delta::Snapshot& snap) {
  const std::string where = StrCat(" at ", snap.table_uri(), " (version ", snap.version(), ")");
  if (spec.columns) {
    std::vector<std::string> differences;
    const delta::Schema& existing = snap.schema();
    for (const ColumnSpec& column : *spec.columns) {
      int idx = FieldIndex(existing, column.name);
      if (idx < 0) {
        differences.push_back(StrCat("column ", column.name, " is not in the existing table"));
        continue;
      }
      const delta::StructField& field = existing.fields[idx];
      if (field.type.ToString() != column.type.ToString()) {
        differences.push_back(StrCat("column ", column.name, " is ", column.type.ToString(),
                                     " here but ", field.type.ToString(), " in the table"));
      } else if (field.nullable != column.nullable) {
        differences.push_back(StrCat("column ", column.name, " is ",
                                     column.nullable ? "nullable" : "NOT NULL", " here but ",
                                     field.nullable ? "nullable" : "NOT NULL", " in the table"));
      }
    }
    for (const delta::StructField& field : existing.fields) {
      bool declared = false;
      for (const ColumnSpec& column : *spec.columns) {
        declared |= ToLower(column.name) == ToLower(field.name);
      }
      if (!declared) differences.push_back(StrCat("column ", field.name, " is missing here"));
    }
    if (!differences.empty()) {
      return Status::InvalidArgument(StrCat(what,
                                            ": the specified schema does not match the "
                                            "existing schema",
                                            where, ": ", StrJoin(differences, "; ")))
          .WithHint("omit the column list to adopt the table's schema");
    }
  }
  if (!spec.partition_columns.empty()) {
    std::vector<std::string> given, existing;
    for (const std::string& p : spec.partition_columns) given.push_back(ToLower(p));
    for (const std::string& p : snap.metadata().partition_columns) existing.push_back(ToLower(p));
    if (given != existing) {
      return Status::InvalidArgument(StrCat(what, ": the specified partitioning [",
                                            StrJoin(spec.partition_columns, ", "),
                                            "] does not match the existing partitioning [",
                                            StrJoin(snap.metadata().partition_columns, ", "), "]",
                                            where))
          .WithHint("omit PARTITIONED BY to adopt the table's partitioning");
    }
  }
  for (const auto& [key, value] : spec.properties) {
    auto it = snap.metadata().configuration.find(key);
    if (it == snap.metadata().configuration.end() || it->second != value) {
      return Status::InvalidArgument(StrCat(what, ": the specified property ", key, "=", value,
                                            " does not match the existing table", where))
          .WithHint(
              "omit TBLPROPERTIES, or change them with ALTER TABLE ... SET TBLPROPERTIES "
              "after registering the table");
    }
  }
  return Status::OK();
}

struct CreateOutcome {
  std::string table;
  std::string location;
  bool is_managed = false;
};

// Refusals that do not depend on the catalog.
Status CheckCreateForm(const CreateTableSpec& spec, const std::string& what) {
  // CTAS with Spark clauses is planned by the catalog (sql_rewrite.h); what reaches here is
  // what that cannot take.
  if (spec.as_query && spec.path) {
    return Status::NotSupported(StrCat(what, " ... AS SELECT into a path table"))
        .WithHint("name the table: CREATE TABLE t LOCATION '<path>' AS SELECT ...");
  }
  if (spec.as_query) {
    return Status::InvalidArgument(StrCat(what,
                                          ": a column list cannot be given with AS SELECT "
                                          "(the query's columns define the table)"))
        .WithHint(
            "drop the column list, or create the table with it and then INSERT INTO "
            "t SELECT ...");
  }
  if (spec.or_replace && spec.if_not_exists) {
    return Status::InvalidArgument(
        StrCat(what, ": OR REPLACE and IF NOT EXISTS exclude each other"));
  }
  return Status::OK();
}

// CREATE TABLE delta.`/path` ...: a table at a location with no name, so no catalog either.
Result<std::optional<CreateOutcome>> RunCreateAtPath(ClientContext& context,
                                                     const CreateTableSpec& spec) {
  const std::string what =
      StrCat(spec.or_replace ? "CREATE OR REPLACE TABLE " : "CREATE TABLE ", spec.table);
  LAKE_RETURN_IF_ERROR(CheckCreateForm(spec, what));
  if (spec.location) {
    return Status::InvalidArgument(StrCat(what, ": a path table takes no LOCATION"))
        .WithHint("name the table (CREATE TABLE t ... LOCATION '<path>'), or drop LOCATION");
  }
  const std::string location = NormalizeLocation(*spec.path);
  const CreateOutcome outcome{spec.table, location, false};
  Result<CachedTable> cached = CacheOf(context).Latest(location);
  if (cached.ok()) {
    if (spec.if_not_exists) return std::optional<CreateOutcome>();
    if (spec.or_replace) {
      LAKE_RETURN_IF_ERROR(ReplaceTable(context, spec, what, *cached, false).status());
    } else {
      // As Spark: an existing table with the declared schema is "created" already.
      LAKE_RETURN_IF_ERROR(CheckMatchesExisting(spec, what, *cached->snapshot));
    }
    return std::optional<CreateOutcome>(outcome);
  }
  if (!spec.columns) {
    return Status::InvalidArgument(StrCat(what, ": creating a table needs a column list"));
  }
  Result<delta::CommitResult> created = CommitNewTable(context, spec, what, location, false);
  if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) {
    return created.status().WithContext(
        StrCat("the existing table does not load (", cached.status().message(), ")"));
  }
  LAKE_RETURN_IF_ERROR(created.status());
  return std::optional<CreateOutcome>(outcome);
}

Result<std::optional<CreateOutcome>> RunCreate(ClientContext& context,
                                               const CreateTableSpec& spec) {
  if (spec.path) return RunCreateAtPath(context, spec);
  LAKE_ASSIGN_OR_RETURN(TableDirectory * directory, LakeDirectory(context));
  LAKE_ASSIGN_OR_RETURN(LakeTableName name, ResolveLakeTableName(context, spec.table));
  const std::string qualified = Qualified(name);
  const std::string what =
      StrCat(spec.or_replace ? "CREATE OR REPLACE TABLE " : "CREATE TABLE ", qualified);
  LAKE_RETURN_IF_ERROR(CheckCreateForm(spec, what));
  LAKE_ASSIGN_OR_RETURN(std::optional<DirectorySchema> schema, directory->FindSchema(name.schema));
  if (!schema) {
    return Status::NotFound(
               StrCat(what, ": schema ", name.schema, " does not exist in catalog lake"))
        .WithHint(StrCat("CREATE SCHEMA ", name.schema, " first"));
  }
  SnapshotCache& cache = CacheOf(context);
  LAKE_ASSIGN_OR_RETURN(std::optional<DirectoryTable> existing,
                        directory->FindTable(name.schema, name.name));
  if (existing) {
    if (spec.if_not_exists) return std::optional<CreateOutcome>();
    if (!spec.or_replace) {
      return Status::AlreadyExists(StrCat("table ", qualified, " already exists"))
          .WithHint(
              "CREATE TABLE IF NOT EXISTS keeps it; CREATE OR REPLACE TABLE replaces its "
              "schema and data");
    }
    if (spec.location && NormalizeLocation(*spec.location) != existing->location) {
      return Status::InvalidArgument(StrCat(what, " LOCATION '", *spec.location,
                                            "': the table is at '", existing->location, "'"))
          .WithHint("drop the table first to move it to another location");
    }
    Result<CachedTable> cached = cache.Latest(existing->location);
    if (!cached.ok()) return cached.status().WithContext(what);
    LAKE_RETURN_IF_ERROR(ReplaceTable(context, spec, what, *cached, existing->is_managed).status());
    return std::optional<CreateOutcome>(
        CreateOutcome{qualified, existing->location, existing->is_managed});
  }

  const bool is_managed = !spec.location;
  std::string location;
  if (is_managed) {
    LAKE_ASSIGN_OR_RETURN(location, directory->ManagedLocation(name.schema, name.name));
  } else {
    location = NormalizeLocation(*spec.location);
  }
  Result<CachedTable> cached = cache.Latest(location);
  if (cached.ok() && is_managed) {
    return Status::AlreadyExists(StrCat(what, ": the managed location ", location,
                                        " already holds a Delta table that no name refers to"))
        .WithHint("register it with CREATE TABLE t LOCATION '<path>', or remove the folder");
  }
  if (cached.ok()) {
    if (spec.or_replace) {
      LAKE_RETURN_IF_ERROR(ReplaceTable(context, spec, what, *cached, false).status());
    } else {
      LAKE_RETURN_IF_ERROR(CheckMatchesExisting(spec, what, *cached->snapshot));
    }
  } else if (!spec.columns) {
    return Status(cached.status().code(),
                  StrCat(what, " LOCATION '", location,
                         "': no readable Delta table there: ", cached.status().message()))
        .WithHint(
            "LOCATION must name the root folder of an existing Delta table (the one "
            "holding _delta_log); creating a new table needs a column list");
  } else {
    Result<delta::CommitResult> created = CommitNewTable(context, spec, what, location, is_managed);
    if (!created.ok()) {
      if (created.status().code() == StatusCode::kAlreadyExists) {
        // A log exists but does not load: say why it did not load.
        return created.status().WithContext(
            StrCat("the existing table does not load (", cached.status().message(), ")"));
      }
      return created.status();
    }
  }

  NewTable entry;
  entry.schema = name.schema;
  entry.name = name.name;
  entry.location = is_managed ? "" : location;
  entry.comment = spec.comment.value_or("");
  Result<DirectoryTable> registered = directory->RegisterTable(entry);
  if (!registered.ok()) {
    if (is_managed) {
      // Nothing names the folder we just created (design note 2).
      std::error_code ec;
      std::filesystem::remove_all(location, ec);  // best effort; VACUUM-free: it has no name
    }
    return registered.status().WithContext(what);
  }
  return std::optional<CreateOutcome>(
      CreateOutcome{StrCat(registered->schema, ".", registered->name), registered->location,
                    registered->is_managed});
}

// ---------------------------------------------------------------------------------------------
// ALTER TABLE

// Returns the values of `row` as "name=value, ..." for error messages.
std::string FormatRow(const std::vector<std::string>& names,
                      const duckdb::vector<duckdb::Value>& row) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < row.size() && i < names.size(); ++i) {
    parts.push_back(StrCat(names[i], "=", row[i].IsNull() ? "NULL" : row[i].ToString()));
  }
  return StrJoin(parts, ", ");
}

// The table an ALTER or SHOW names: by name through the catalog, or delta.`/path`.
struct Target {
  std::string display;  // schema.table or delta.`/path`
  std::string location;
};

Result<Target> ResolveTarget(ClientContext& context, const std::string& table,
                             const std::optional<std::string>& path) {
  if (path) return Target{table, NormalizeLocation(*path)};
  LAKE_ASSIGN_OR_RETURN(DirectoryTable found, FindLakeTable(context, table));
  return Target{StrCat(found.schema, ".", found.name), found.location};
}

struct AlterOutcome {
  std::string table;
  delta::Version version = 0;
};

Result<AlterOutcome> RunAlter(ClientContext& context, const AlterTableSpec& spec) {
  LAKE_ASSIGN_OR_RETURN(Target table, ResolveTarget(context, spec.table, spec.path));
  const std::string& qualified = table.display;
  const std::string what = StrCat("ALTER TABLE ", qualified);
  Result<CachedTable> cached = CacheOf(context).Latest(table.location);
  if (!cached.ok()) return cached.status().WithContext(what);
  const delta::Snapshot& snap = *cached->snapshot;
  Result<std::unique_ptr<delta::Transaction>> begun =
      delta::Transaction::Begin(*cached->engine, cached->snapshot, DdlTransactionOptions());
  if (!begun.ok()) return begun.status().WithContext(what);
  delta::Transaction& txn = **begun;
  delta::Metadata metadata = snap.metadata();
  delta::Schema schema = snap.schema();
  const std::string scan = ScanOf(table.location, snap.version());
  const AlterOutcome unchanged{qualified, snap.version()};
  std::string operation, parameters;

  using Kind = AlterTableSpec::Kind;
  switch (spec.kind) {
    case Kind::kAddColumns: {
      std::vector<std::string> added;
      for (const ColumnSpec& column : spec.columns) {
        if (FieldIndex(schema, column.name) >= 0) {
          if (spec.if_not_exists) continue;
          return Status::InvalidArgument(
                     StrCat(what, " ADD COLUMNS: column ", column.name, " already exists"))
              .WithHint("DESCRIBE the table to see its columns");
        }
        if (!column.nullable) {
          return Status::InvalidArgument(StrCat(what, " ADD COLUMNS: new column ", column.name,
                                                " cannot be NOT NULL: existing rows hold NULL "
                                                "in it"))
              .WithHint(StrCat("add it nullable, fill it, then ALTER COLUMN ", column.name,
                               " SET NOT NULL"));
        }
        schema.fields.push_back(FieldFor(column));
        added.push_back(StrCat("{\"column\":", delta::SerializeField(schema.fields.back()), "}"));
      }
      if (added.empty()) return unchanged;
      operation = "ADD COLUMNS";
      parameters = JsonObject({{"columns", JsonQuote(StrCat("[", StrJoin(added, ","), "]"))}});
      metadata.schema_string = delta::SerializeDataType(schema);
      break;
    }
    case Kind::kSetNotNull:
    case Kind::kDropNotNull: {
      const bool set = spec.kind == Kind::kSetNotNull;
      int idx = FieldIndex(schema, spec.column);
      if (idx < 0) {
        return Status::NotFound(StrCat(what, ": column ", spec.column, " does not exist"))
            .WithHint("DESCRIBE the table to see its columns");
      }
      delta::StructField& field = schema.fields[idx];
      if (set) {
        LAKE_ASSIGN_OR_RETURN(Rows rows,
                              QueryRows(context, StrCat("SELECT count(*) FROM ", scan, " WHERE ",
                                                        QuoteIdent(field.name), " IS NULL")));
        const int64_t nulls = rows.at(0).at(0).GetValue<int64_t>();
        if (nulls > 0) {
          return Status::FailedPrecondition(StrCat(what, " ALTER COLUMN ", field.name,
                                                   " SET NOT NULL: ", nulls, " row(s) at version ",
                                                   snap.version(), " hold NULL in it"))
              .WithHint(StrCat("UPDATE or DELETE the rows WHERE ", field.name, " IS NULL first"));
        }
        txn.ReadWholeTable();  // design note 3
      }
      field.nullable = !set;
      operation = "CHANGE COLUMN";
      parameters = JsonObject({{"column", JsonQuote(delta::SerializeField(field))}});
      metadata.schema_string = delta::SerializeDataType(schema);
      break;
    }
    case Kind::kSetProperties: {
      delta::StringMap set;
      for (const auto& [key, value] : spec.properties) {
        if (StartsWith(key, kConstraintPrefix)) return RefuseConstraintProperty(key, what);
        metadata.configuration[key] = value;
        set[key] = value;
      }
      operation = "SET TBLPROPERTIES";
      parameters = JsonObject({{"properties", JsonQuote(StringMapJson(set))}});
      break;
    }
    case Kind::kUnsetProperties: {
      std::vector<std::string> removed;
      for (const std::string& key : spec.keys) {
        if (StartsWith(key, kConstraintPrefix)) return RefuseConstraintProperty(key, what);
        if (metadata.configuration.erase(key) == 0) {
          if (spec.if_exists) continue;
          return Status::InvalidArgument(
                     StrCat(what, " UNSET TBLPROPERTIES: property '", key, "' is not set"))
              .WithHint(
                  "SHOW TBLPROPERTIES lists them; UNSET TBLPROPERTIES IF EXISTS ignores "
                  "missing ones");
        }
        removed.push_back(key);
      }
      if (removed.empty()) return unchanged;
      operation = "UNSET TBLPROPERTIES";
      parameters = JsonObject({{"properties", JsonQuote(StringListJson(removed))},
                               {"ifExists", JsonQuote(spec.if_exists ? "true" : "false")}});
      break;
    }
    case Kind::kAddConstraint: {
      const std::string name = ToLower(spec.constraint_name);
      const std::string key = StrCat(kConstraintPrefix, name);
      auto it = metadata.configuration.find(key);
      if (it != metadata.configuration.end()) {
        return Status::AlreadyExists(StrCat(what, ": constraint ", name,
                                            " already exists as CHECK (", it->second, ")"))
            .WithHint(StrCat("DROP CONSTRAINT ", name, " first to change it"));
      }
      const std::string violated = StrCat("((", spec.constraint_expression, ") IS NOT TRUE)");
      Result<Rows> counted =
          QueryRows(context, StrCat("SELECT count(*) FROM ", scan, " WHERE ", violated));
      if (!counted.ok()) {
        return Status::InvalidArgument(StrCat(what, " ADD CONSTRAINT ", name, " CHECK (",
                                              spec.constraint_expression,
                                              "): the expression does not evaluate on the "
                                              "table: ",
                                              counted.status().message()))
            .WithHint("write a boolean SQL expression over the table's columns");
      }
      const int64_t violations = counted->at(0).at(0).GetValue<int64_t>();
      if (violations > 0) {
        std::vector<std::string> names;
        LAKE_ASSIGN_OR_RETURN(
            Rows example,
            QueryRows(context, StrCat("SELECT * FROM ", scan, " WHERE ", violated, " LIMIT 1"),
                      &names));
        const std::string shown = example.empty() ? "" : FormatRow(names, example[0]);
        return Status::FailedPrecondition(StrCat(what, " ADD CONSTRAINT ", name, " CHECK (",
                                                 spec.constraint_expression, "): ", violations,
                                                 " row(s) at version ", snap.version(),
                                                 " violate it, e.g. {", shown, "}"))
            .WithHint("UPDATE or DELETE the violating rows first");
      }
      txn.ReadWholeTable();  // design note 3
      metadata.configuration[key] = spec.constraint_expression;
      operation = "ADD CONSTRAINT";
      parameters =
          JsonObject({{"name", JsonQuote(name)}, {"expr", JsonQuote(spec.constraint_expression)}});
      break;
    }
    case Kind::kDropConstraint: {
      const std::string name = ToLower(spec.constraint_name);
      auto it = metadata.configuration.find(StrCat(kConstraintPrefix, name));
      if (it == metadata.configuration.end()) {
        if (spec.if_exists) return unchanged;
        return Status::NotFound(StrCat(what, ": constraint ", name, " does not exist"))
            .WithHint(
                "SHOW TBLPROPERTIES lists constraints as delta.constraints.<name>; DROP "
                "CONSTRAINT IF EXISTS ignores a missing one");
      }
      parameters = JsonObject({{"name", JsonQuote(name)}, {"expr", JsonQuote(it->second)}});
      metadata.configuration.erase(it);
      operation = "DROP CONSTRAINT";
      break;
    }
  }
  Status updated = txn.UpdateMetadata(std::move(metadata));
  if (!updated.ok()) return updated.WithContext(what);
  txn.SetOperation(operation, parameters);
  Result<delta::CommitResult> committed = txn.Commit();
  if (!committed.ok()) return committed.status().WithContext(what);
  return AlterOutcome{qualified, committed->version};
}

// ---------------------------------------------------------------------------------------------
// SHOW TBLPROPERTIES

Result<Rows> ShowTblProperties(ClientContext& context, const ShowTblPropertiesSpec& spec) {
  LAKE_ASSIGN_OR_RETURN(Target table, ResolveTarget(context, spec.table, spec.path));
  const std::string& qualified = table.display;
  Result<CachedTable> cached = CacheOf(context).Latest(table.location);
  if (!cached.ok()) return cached.status().WithContext(StrCat("SHOW TBLPROPERTIES ", qualified));
  const delta::Snapshot& snap = *cached->snapshot;
  // Spark shows the protocol among the properties: versions and supported features.
  std::map<std::string, std::string> props(snap.metadata().configuration.begin(),
                                           snap.metadata().configuration.end());
  props["delta.minReaderVersion"] = StrCat(snap.protocol().min_reader_version);
  props["delta.minWriterVersion"] = StrCat(snap.protocol().min_writer_version);
  for (const auto* features :
       {&snap.protocol().reader_features, &snap.protocol().writer_features}) {
    if (!*features) continue;
    for (const std::string& f : **features) props[StrCat("delta.feature.", f)] = "supported";
  }
  Rows rows;
  if (spec.key) {
    auto it = props.find(*spec.key);
    rows.push_back(
        {duckdb::Value(*spec.key),
         duckdb::Value(it != props.end()
                           ? it->second
                           : StrCat("Table ", qualified, " does not have property: ", *spec.key))});
    return rows;
  }
  for (const auto& [k, v] : props) rows.push_back({duckdb::Value(k), duckdb::Value(v)});
  return rows;
}

// ---------------------------------------------------------------------------------------------
// lake_ddl(sql)

struct DdlData final : duckdb::TableFunctionData {
  DdlStatement statement;
  Rows rows;  // SHOW TBLPROPERTIES: computed at bind
};

struct DdlState final : duckdb::GlobalTableFunctionState {
  bool executed = false;
  size_t next_row = 0;
  Rows rows;
};

duckdb::unique_ptr<duckdb::FunctionData> DdlBind(ClientContext& context,
                                                 duckdb::TableFunctionBindInput& input,
                                                 duckdb::vector<LogicalType>& types,
                                                 duckdb::vector<std::string>& names) {
  const std::string sql = input.inputs[0].ToString();
  DdlParse parsed = ParseSparkDdl(sql);
  if (parsed.kind != DdlParse::Kind::kParsed) {
    ThrowStatus(Status::InvalidArgument(
        StrCat("lake_ddl: not a lake DDL statement: ",
               parsed.kind == DdlParse::Kind::kError ? parsed.error : sql)));
  }
  auto data = duckdb::make_uniq<DdlData>();
  if (std::holds_alternative<CreateTableSpec>(parsed.statement)) {
    names = {"table_name", "location", "type"};
    types = {LogicalType::VARCHAR, LogicalType::VARCHAR, LogicalType::VARCHAR};
  } else if (std::holds_alternative<AlterTableSpec>(parsed.statement)) {
    names = {"table_name", "version"};
    types = {LogicalType::VARCHAR, LogicalType::BIGINT};
  } else {
    names = {"key", "value"};
    types = {LogicalType::VARCHAR, LogicalType::VARCHAR};
    data->rows =
        ValueOrThrow(ShowTblProperties(context, std::get<ShowTblPropertiesSpec>(parsed.statement)));
  }
  data->statement = std::move(parsed.statement);
  return data;
}

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> DdlInit(ClientContext&,
                                                             duckdb::TableFunctionInitInput&) {
  return duckdb::make_uniq<DdlState>();
}

Rows Execute(ClientContext& context, const DdlData& data) {
  if (const auto* create = std::get_if<CreateTableSpec>(&data.statement)) {
    std::optional<CreateOutcome> outcome = ValueOrThrow(RunCreate(context, *create));
    if (!outcome) return {};  // IF NOT EXISTS and it exists
    return {{duckdb::Value(outcome->table), duckdb::Value(outcome->location),
             duckdb::Value(outcome->is_managed ? "MANAGED" : "EXTERNAL")}};
  }
  if (const auto* alter = std::get_if<AlterTableSpec>(&data.statement)) {
    AlterOutcome outcome = ValueOrThrow(RunAlter(context, *alter));
    return {{duckdb::Value(outcome.table), duckdb::Value::BIGINT(outcome.version)}};
  }
  return data.rows;
}

void DdlScan(ClientContext& context, duckdb::TableFunctionInput& input, duckdb::DataChunk& output) {
  auto& data = input.bind_data->Cast<DdlData>();
  auto& state = input.global_state->Cast<DdlState>();
  if (!state.executed) {
    state.executed = true;
    state.rows = Execute(context, data);
  }
  duckdb::idx_t count = 0;
  while (state.next_row < state.rows.size() && count < STANDARD_VECTOR_SIZE) {
    const auto& row = state.rows[state.next_row++];
    for (duckdb::idx_t col = 0; col < row.size(); ++col) output.SetValue(col, count, row[col]);
    ++count;
  }
  output.SetCardinality(count);
}

// The type name lake registers in DuckDB for a timestamp without time zone: an alias of
// TIMESTAMP that DDL can tell apart from plain TIMESTAMP.
constexpr const char* kTimestampNtzAlias = "TIMESTAMP_NTZ";

bool IsTimestampNtzAlias(const LogicalType& type) {
  return type.HasAlias() && ToLower(type.GetAlias()) == ToLower(kTimestampNtzAlias);
}

// DuckDB's TIMESTAMP becomes Spark's TIMESTAMP (an instant) in DDL: lake sessions run in UTC,
// so values read back unchanged, and the table needs no timestampNtz feature. TIMESTAMP_NTZ
// (the alias above) stays a timestamp without time zone.
LogicalType SparkTimestamps(const LogicalType& type) {
  switch (type.id()) {
    case duckdb::LogicalTypeId::TIMESTAMP:
      return IsTimestampNtzAlias(type) ? LogicalType::TIMESTAMP : LogicalType::TIMESTAMP_TZ;
    case duckdb::LogicalTypeId::LIST:
      return LogicalType::LIST(SparkTimestamps(duckdb::ListType::GetChildType(type)));
    case duckdb::LogicalTypeId::MAP:
      return LogicalType::MAP(SparkTimestamps(duckdb::MapType::KeyType(type)),
                              SparkTimestamps(duckdb::MapType::ValueType(type)));
    case duckdb::LogicalTypeId::STRUCT: {
      duckdb::child_list_t<LogicalType> children;
      for (const auto& [name, child] : duckdb::StructType::GetChildTypes(type)) {
        children.emplace_back(name, SparkTimestamps(child));
      }
      return LogicalType::STRUCT(std::move(children));
    }
    default:
      return type;
  }
}

// Returns the lake columns of DuckDB column definitions (all nullable; constraints apply
// NOT NULL afterwards).
Result<std::vector<ColumnSpec>> ColumnsOf(const std::vector<const duckdb::ColumnDefinition*>& defs,
                                          const std::string& what) {
  std::vector<ResultColumn> result_columns;
  for (const duckdb::ColumnDefinition* def : defs) {
    if (def->Generated()) {
      return Status::NotSupported(StrCat(what, ": generated column ", def->Name()))
          .WithHint("lake cannot write Delta generated columns yet; declare a plain column");
    }
    if (def->HasDefaultValue()) {
      return Status::NotSupported(StrCat(what, ": DEFAULT on column ", def->Name()))
          .WithHint("lake cannot write Delta column defaults yet; drop the DEFAULT clause");
    }
    result_columns.push_back(ResultColumn{def->Name(), ToColumnType(SparkTimestamps(def->Type()))});
  }
  Result<QuerySchema> schema = DeltaSchemaFor(result_columns);
  if (!schema.ok()) return schema.status().WithContext(what);
  std::vector<ColumnSpec> columns;
  for (size_t i = 0; i < defs.size(); ++i) {
    ColumnSpec column;
    column.name = schema->schema.fields[i].name;
    column.type = schema->schema.fields[i].type;
    const duckdb::Value& comment = defs[i]->Comment();
    if (!comment.IsNull()) column.comment = comment.ToString();
    columns.push_back(std::move(column));
  }
  return columns;
}

std::string QuotedTableName(const std::string& schema, const std::string& table) {
  return StrCat(QuoteIdent(schema), ".", QuoteIdent(table));
}

}  // namespace

void SetDdlCommitSyncPointForTesting(std::function<void(int64_t)> hook) {
  CommitSyncPoint() = std::move(hook);
}

void RegisterLakeDdl(duckdb::DatabaseInstance& db) {
  duckdb::ExtensionLoader loader(db, "lake");
  loader.RegisterFunction(
      duckdb::TableFunction("lake_ddl", {LogicalType::VARCHAR}, DdlScan, DdlBind, DdlInit));
  // Spark's TIMESTAMP_NTZ spelled in statements DuckDB parses (CREATE TABLE t (a
  // TIMESTAMP_NTZ), CAST(x AS TIMESTAMP_NTZ)).
  LogicalType ntz = LogicalType::TIMESTAMP;
  ntz.SetAlias(kTimestampNtzAlias);
  loader.RegisterType(kTimestampNtzAlias, ntz);
}

void CreateTableFromDuckDb(ClientContext& context, const std::string& schema,
                           duckdb::BoundCreateTableInfo& info) {
  duckdb::CreateTableInfo& base = info.Base();
  CreateTableSpec spec;
  spec.table = QuotedTableName(schema, base.table);
  const std::string what = StrCat("CREATE TABLE ", schema, ".", base.table);
  if (base.temporary) {
    ThrowStatus(Status::NotSupported(StrCat(what, ": TEMPORARY lake tables"))
                    .WithHint("create the temporary table in DuckDB's memory: CREATE TEMP TABLE "
                              "temp.t (...)"));
  }
  spec.if_not_exists = base.on_conflict == duckdb::OnCreateConflict::IGNORE_ON_CONFLICT;
  spec.or_replace = base.on_conflict == duckdb::OnCreateConflict::REPLACE_ON_CONFLICT;
  std::vector<const duckdb::ColumnDefinition*> defs;
  for (const duckdb::ColumnDefinition& def : base.columns.Logical()) defs.push_back(&def);
  std::vector<ColumnSpec> columns = ValueOrThrow(ColumnsOf(defs, what));
  int checks = 0;
  for (const auto& constraint : base.constraints) {
    switch (constraint->type) {
      case duckdb::ConstraintType::NOT_NULL: {
        auto& not_null = constraint->Cast<duckdb::NotNullConstraint>();
        columns.at(not_null.index.index).nullable = false;
        break;
      }
      case duckdb::ConstraintType::CHECK: {
        // DuckDB keeps no constraint names: number them like Spark would need them named.
        auto& check = constraint->Cast<duckdb::CheckConstraint>();
        spec.constraints.emplace_back(StrCat("check_", ++checks), check.expression->ToString());
        break;
      }
      default:
        ThrowStatus(Status::NotSupported(StrCat(what,
                                                ": PRIMARY KEY, UNIQUE and FOREIGN KEY "
                                                "constraints"))
                        .WithHint("Delta tables have no key constraints; use NOT NULL or CHECK"));
    }
  }
  spec.columns = std::move(columns);
  ValueOrThrow(RunCreate(context, spec));
}

bool AlterTableFromDuckDb(ClientContext& context, const std::string& schema,
                          duckdb::AlterTableInfo& info) {
  AlterTableSpec spec;
  spec.table = QuotedTableName(schema, info.name);
  const std::string what = StrCat("ALTER TABLE ", schema, ".", info.name);
  switch (info.alter_table_type) {
    case duckdb::AlterTableType::ADD_COLUMN: {
      auto& add = info.Cast<duckdb::AddColumnInfo>();
      spec.kind = AlterTableSpec::Kind::kAddColumns;
      spec.if_not_exists = add.if_column_not_exists;
      spec.columns = ValueOrThrow(ColumnsOf({&add.new_column}, what));
      break;
    }
    case duckdb::AlterTableType::SET_NOT_NULL:
      spec.kind = AlterTableSpec::Kind::kSetNotNull;
      spec.column = info.Cast<duckdb::SetNotNullInfo>().column_name;
      break;
    case duckdb::AlterTableType::DROP_NOT_NULL:
      spec.kind = AlterTableSpec::Kind::kDropNotNull;
      spec.column = info.Cast<duckdb::DropNotNullInfo>().column_name;
      break;
    default:
      return false;
  }
  ValueOrThrow(RunAlter(context, spec));
  return true;
}

}  // namespace lake::engine::internal
