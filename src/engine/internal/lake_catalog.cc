// The `lake` catalog: Delta tables by name inside DuckDB (DUCKDB-INTEGRATION.md §2.2).
//
// Design notes.
//  (1) Nothing is cached across statements: every lookup asks the TableDirectory (the
//      metastore, one SQLite read) and the snapshot cache (which re-lists the log for the
//      latest version), so a table created, dropped or written by another process is seen by
//      the next statement. Entries built during a DuckDB transaction belong to that
//      transaction (LakeTransaction), so in BEGIN ... COMMIT a table keeps the version the
//      transaction first saw.
//  (2) A table entry pins one snapshot version: its columns are that version's schema and its
//      scan is delta_scan(location, version := v), bound like a delta_scan call, so names,
//      paths and time travel read through one code path (file skipping, DVs, column mapping).
//      `t AT (VERSION => n)` / `(TIMESTAMP => ts)` (also written VERSION AS OF / TIMESTAMP AS OF
//      / t@v12, see sql_rewrite.h) looks up an entry for that version.
//  (3) A table whose log cannot be read still gets an entry, with a single placeholder column;
//      its scan throws the load error. DROP TABLE and SHOW TABLES keep working for a table
//      whose folder was deleted or damaged behind lake's back. A transient read error
//      (kIOError, kUnavailable, kCancelled) fails the lookup instead: the table is fine and a
//      retry is the fix, while a placeholder would turn the error into a misleading bind
//      error ("table t has 1 columns but 2 values were supplied" for an INSERT).
//  (4) DDL changes the directory at once: the metastore is not part of DuckDB's transaction,
//      so ROLLBACK does not undo CREATE SCHEMA / DROP TABLE / RENAME (as in Spark).
//  (5) INSERT and CTAS plan into lake_write.h's pipeline and commit one Delta version per
//      table when DuckDB commits (LakeTransactionManager); DELETE and UPDATE plan into
//      lake_dml.h's operators, MERGE into lake_merge.h's. DDL (CREATE
//      TABLE, ALTER TABLE) commits through lake_ddl.h.
//  (6) Every error leaving a callback is DuckDB-typed with the lake Status encoded
//      (errors.h); never InternalException (it invalidates the instance, §2.4 (1)).
//  (7) Tables by path. Spark's delta.`/path` is a table with no catalog entry; reads become
//      delta_scan, but DuckDB's INSERT / UPDATE / DELETE / MERGE need a catalog entry, so
//      schema `delta` (kPathSchemaName) resolves a name that looks like a path (it has a '/';
//      relative to the working directory unless absolute or a URI) to the table at that path, even when no schema of that name was created. Such
//      an entry has no placeholder form (note 3): a path without a readable Delta log fails
//      the lookup, naming the path.
#include "engine/internal/lake_catalog.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "base/strings.h"
#include "delta/snapshot.h"
#include "duckdb/catalog/catalog.hpp"
#include "duckdb/common/multi_file/multi_file_reader.hpp"
#include "duckdb/catalog/catalog_entry/schema_catalog_entry.hpp"
#include "duckdb/catalog/catalog_entry/table_catalog_entry.hpp"
#include "duckdb/catalog/catalog_entry/table_function_catalog_entry.hpp"
#include "duckdb/catalog/catalog_search_path.hpp"
#include "duckdb/catalog/entry_lookup_info.hpp"
#include "duckdb/main/attached_database.hpp"
#include "duckdb/main/client_data.hpp"
#include "duckdb/parser/parsed_data/alter_table_info.hpp"
#include "duckdb/parser/parsed_data/attach_info.hpp"
#include "duckdb/parser/parsed_data/create_schema_info.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "duckdb/parser/parsed_data/drop_info.hpp"
#include "duckdb/parser/tableref/table_function_ref.hpp"
#include "duckdb/planner/operator/logical_create_table.hpp"
#include "duckdb/planner/operator/logical_delete.hpp"
#include "duckdb/planner/operator/logical_insert.hpp"
#include "duckdb/planner/expression/bound_columnref_expression.hpp"
#include "duckdb/planner/operator/logical_get.hpp"
#include "duckdb/planner/operator/logical_merge_into.hpp"
#include "duckdb/planner/operator/logical_projection.hpp"
#include "duckdb/planner/operator/logical_update.hpp"
#include "duckdb/planner/parsed_data/bound_create_table_info.hpp"
#include "duckdb/planner/tableref/bound_at_clause.hpp"
#include "duckdb/storage/database_size.hpp"
#include "duckdb/storage/statistics/base_statistics.hpp"
#include "duckdb/storage/storage_extension.hpp"
#include "duckdb/storage/table_storage_info.hpp"
#include "duckdb/transaction/transaction.hpp"
#include "duckdb/transaction/transaction_manager.hpp"
#include "engine/internal/errors.h"
#include "engine/internal/lake_ddl.h"
#include "engine/internal/lake_dml.h"
#include "engine/internal/lake_merge.h"
#include "engine/internal/lake_write.h"
#include "engine/internal/scan.h"
#include "engine/internal/snapshot_cache.h"

namespace lake::engine::internal {
namespace {

using duckdb::ClientContext;
using duckdb::LogicalType;

// The column a table whose log cannot be read is given (design note 3).
constexpr const char* kBrokenColumn = "__lake_unreadable_table";

[[noreturn]] void ThrowNotSupported(std::string what) {
  ThrowStatus(Status::NotSupported(StrCat(what, " is not supported yet in catalog lake"))
                  .WithHint("lake writes Delta tables once its transaction API lands (issue #3 "
                            "§2); CREATE TABLE t LOCATION '/path' registers an existing table"));
}

// Returns `value` (a TIMESTAMP, TIMESTAMPTZ, DATE or text) as ms since the epoch, UTC.
int64_t TimestampMs(const duckdb::Value& value) {
  int64_t micros = 0;
  switch (value.type().id()) {
    case duckdb::LogicalTypeId::TIMESTAMP:
    case duckdb::LogicalTypeId::TIMESTAMP_TZ:
      micros = value.GetValueUnsafe<int64_t>();
      break;
    case duckdb::LogicalTypeId::DATE:
      return int64_t{value.GetValueUnsafe<int32_t>()} * 86400000;
    default:
      micros = duckdb::Timestamp::GetEpochMicroSeconds(
          duckdb::Timestamp::FromString(value.ToString(), /*use_offset=*/true));
      break;
  }
  return micros / 1000 - ((micros % 1000) < 0 ? 1 : 0);
}

// delta_scan, copied out of the system catalog (its bind fills in per-call state).
duckdb::TableFunction DeltaScanFunction(ClientContext& context) {
  auto& entry =
      duckdb::Catalog::GetSystemCatalog(context).GetEntry<duckdb::TableFunctionCatalogEntry>(
          context, DEFAULT_SCHEMA, "delta_scan");
  return entry.functions.GetFunctionByArguments(context, {LogicalType::VARCHAR});
}

// Binds delta_scan(location, version := version) as a table scan would.
// `evolved_schema`: the columns schema evolution gives the table for one statement
// (lake_write.h SetInsertSchemaOverride); the new ones read NULL.
duckdb::TableFunction BindDeltaScan(ClientContext& context, const std::string& location,
                                    delta::Version version,
                                    duckdb::unique_ptr<duckdb::FunctionData>& bind_data,
                                    duckdb::vector<LogicalType>& types,
                                    duckdb::vector<std::string>& names,
                                    const std::string& evolved_schema = "") {
  duckdb::TableFunction function = DeltaScanFunction(context);
  duckdb::vector<duckdb::Value> inputs{duckdb::Value(location)};
  duckdb::named_parameter_map_t params;
  params["version"] = duckdb::Value::BIGINT(version);
  if (!evolved_schema.empty()) params["evolved_schema"] = duckdb::Value(evolved_schema);
  duckdb::vector<LogicalType> input_types;
  duckdb::vector<std::string> input_names;
  duckdb::TableFunctionRef ref;
  duckdb::TableFunctionBindInput input(inputs, params, input_types, input_names, nullptr, nullptr,
                                       function, ref);
  bind_data = function.bind(context, input, types, names);
  return function;
}

class LakeCatalog;

// ---------------------------------------------------------------------------------------------
// Table entries

class LakeTableEntry final : public duckdb::TableCatalogEntry {
 public:
  LakeTableEntry(duckdb::Catalog& catalog, duckdb::SchemaCatalogEntry& schema,
                 duckdb::CreateTableInfo& info, DirectoryTable table, delta::Version version,
                 Status load_error, std::string evolved_schema = "")
      : TableCatalogEntry(catalog, schema, info),
        table_(std::move(table)),
        version_(version),
        load_error_(std::move(load_error)),
        evolved_schema_(std::move(evolved_schema)) {}

  const DirectoryTable& table() const { return table_; }
  delta::Version version() const { return version_; }

  duckdb::unique_ptr<duckdb::BaseStatistics> GetStatistics(ClientContext&,
                                                           duckdb::column_t) override {
    return nullptr;
  }

  duckdb::TableFunction GetScanFunction(
      ClientContext& context, duckdb::unique_ptr<duckdb::FunctionData>& bind_data) override {
    OkOrThrow(load_error_);
    duckdb::vector<LogicalType> types;
    duckdb::vector<std::string> names;
    duckdb::TableFunction function = BindDeltaScan(context, table_.location, version_, bind_data,
                                                   types, names, evolved_schema_);
    // The entry's columns are the scan's: the same pinned version (design note 2).
    if (names.size() != columns.LogicalColumnCount()) {
      ThrowStatus(Status::Internal(StrCat("table ", table_.schema, ".", table_.name, " version ",
                                          version_, ": scan and catalog columns differ")));
    }
    return function;
  }

  duckdb::TableStorageInfo GetStorageInfo(ClientContext&) override { return {}; }

  // The scan's virtual columns (delta_scan is a multi-file Parquet scan): `filename` and
  // `file_row_number` name a row for DELETE (lake_dml.h design note 1).
  duckdb::virtual_column_map_t GetVirtualColumns() const override {
    duckdb::virtual_column_map_t out;
    out.insert(std::make_pair(duckdb::MultiFileReader::COLUMN_IDENTIFIER_FILENAME,
                              duckdb::TableColumn("filename", LogicalType::VARCHAR)));
    out.insert(std::make_pair(duckdb::MultiFileReader::COLUMN_IDENTIFIER_FILE_ROW_NUMBER,
                              duckdb::TableColumn("file_row_number", LogicalType::BIGINT)));
    return out;
  }
  duckdb::vector<duckdb::column_t> GetRowIdColumns() const override {
    return {duckdb::MultiFileReader::COLUMN_IDENTIFIER_FILENAME,
            duckdb::MultiFileReader::COLUMN_IDENTIFIER_FILE_ROW_NUMBER};
  }
  // UPDATE rewrites whole rows (lake_dml.h): every column the SET list does not name is added
  // as `c = c`, reading the scan's existing column when it projects one already (a second
  // column id for the same column returned wrong values, DUCKDB-INTEGRATION.md §2.4 (3)).
  void BindUpdateConstraints(duckdb::Binder&, duckdb::LogicalGet& get,
                             duckdb::LogicalProjection& proj, duckdb::LogicalUpdate& update,
                             ClientContext&) override {
    if (update.return_chunk) {
      ThrowStatus(Status::NotSupported(StrCat("UPDATE ... RETURNING of lake table ",
                                              table_.schema, ".", table_.name)));
    }
    for (const auto& column : GetColumns().Physical()) {
      bool set = false;
      for (const auto& c : update.columns) set = set || c == column.Physical();
      if (set) continue;
      const auto& ids = get.GetColumnIds();
      duckdb::idx_t get_index = ids.size();
      for (duckdb::idx_t i = 0; i < ids.size(); ++i) {
        if (ids[i].GetPrimaryIndex() == column.Logical().index) get_index = i;
      }
      if (get_index == ids.size()) get.AddColumnId(column.Logical().index);
      update.expressions.push_back(duckdb::make_uniq<duckdb::BoundColumnRefExpression>(
          column.Type(), duckdb::ColumnBinding(proj.table_index, proj.expressions.size())));
      proj.expressions.push_back(duckdb::make_uniq<duckdb::BoundColumnRefExpression>(
          column.Type(), duckdb::ColumnBinding(get.table_index, get_index)));
      update.columns.push_back(column.Physical());
    }
    update.update_is_del_and_insert = true;
  }

 private:
  DirectoryTable table_;
  delta::Version version_;
  Status load_error_;
  std::string evolved_schema_;  // schema evolution of this statement (BindDeltaScan)
};

// Owns the table entries handed out during one DuckDB transaction (design note 1).
// Also holds the transaction's staged writes (LakeWriteTransaction, lake_write.h).
class LakeTransaction final : public LakeWriteTransaction {
 public:
  LakeTransaction(duckdb::TransactionManager& manager, ClientContext& context)
      : LakeWriteTransaction(manager, context) {}

  // Returns the entry under `key`, building it with `make` on first use.
  template <typename Make>
  LakeTableEntry& GetOrCreate(const std::string& key, Make make) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) it = entries_.emplace(key, make()).first;
    return *it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, duckdb::unique_ptr<LakeTableEntry>> entries_;
};

class LakeTransactionManager final : public duckdb::TransactionManager {
 public:
  explicit LakeTransactionManager(duckdb::AttachedDatabase& db) : TransactionManager(db) {}

  duckdb::Transaction& StartTransaction(ClientContext& context) override {
    auto transaction = duckdb::make_uniq<LakeTransaction>(*this, context);
    auto& ref = *transaction;
    std::lock_guard lock(mu_);
    transactions_[&ref] = std::move(transaction);
    return ref;
  }
  // Commits the transaction's writes: one Delta version per table (lake_write.h). A lost
  // conflict surfaces as DuckDB's commit error carrying lake's [lake:CONFLICT] text.
  duckdb::ErrorData CommitTransaction(ClientContext& context,
                                      duckdb::Transaction& transaction) override {
    auto& lake_transaction = transaction.Cast<LakeTransaction>();
    Status committed = Status::OK();
    if (!lake_transaction.writes().empty()) {
      committed = lake_transaction.writes().Commit(
          SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context)));
    }
    std::lock_guard lock(mu_);
    transactions_.erase(&transaction);
    if (!committed.ok()) {
      return duckdb::ErrorData(duckdb::ExceptionType::TRANSACTION, EncodeStatus(committed));
    }
    return duckdb::ErrorData();
  }
  void RollbackTransaction(duckdb::Transaction& transaction) override {
    std::lock_guard lock(mu_);
    transactions_.erase(&transaction);
  }
  void Checkpoint(ClientContext&, bool) override {}

 private:
  std::mutex mu_;
  std::map<duckdb::Transaction*, duckdb::unique_ptr<LakeTransaction>> transactions_;
};

// ---------------------------------------------------------------------------------------------
// Schemas

class LakeSchemaEntry final : public duckdb::SchemaCatalogEntry {
 public:
  LakeSchemaEntry(LakeCatalog& catalog, duckdb::CreateSchemaInfo& info);

  void Scan(ClientContext& context, duckdb::CatalogType type,
            const std::function<void(duckdb::CatalogEntry&)>& callback) override;
  // Without a client context no snapshot can be loaded: nothing to report.
  void Scan(duckdb::CatalogType, const std::function<void(duckdb::CatalogEntry&)>&) override {}

  duckdb::optional_ptr<duckdb::CatalogEntry> CreateTable(
      duckdb::CatalogTransaction transaction, duckdb::BoundCreateTableInfo& info) override {
    if (!transaction.HasContext()) {
      ThrowStatus(Status::Internal(StrCat("CREATE TABLE ", name, ".", info.Base().table,
                                          " without a client context")));
    }
    CreateTableFromDuckDb(transaction.GetContext(), name, info);
    return nullptr;  // PhysicalCreateTable does not use the entry; lookups re-read the log
  }
  duckdb::optional_ptr<duckdb::CatalogEntry> CreateIndex(duckdb::CatalogTransaction,
                                                         duckdb::CreateIndexInfo&,
                                                         duckdb::TableCatalogEntry&) override {
    ThrowNotSupported("CREATE INDEX");
  }
  duckdb::optional_ptr<duckdb::CatalogEntry> CreateFunction(duckdb::CatalogTransaction,
                                                            duckdb::CreateFunctionInfo&) override {
    ThrowNotSupported("CREATE FUNCTION / MACRO");
  }
  duckdb::optional_ptr<duckdb::CatalogEntry> CreateView(duckdb::CatalogTransaction,
                                                        duckdb::CreateViewInfo&) override {
    ThrowNotSupported("CREATE VIEW");
  }
  duckdb::optional_ptr<duckdb::CatalogEntry> CreateSequence(duckdb::CatalogTransaction,
                                                            duckdb::CreateSequenceInfo&) override {
    ThrowNotSupported("CREATE SEQUENCE");
  }
  duckdb::optional_ptr<duckdb::CatalogEntry> CreateTableFunction(
      duckdb::CatalogTransaction, duckdb::CreateTableFunctionInfo&) override {
    ThrowNotSupported("CREATE of a table function");
  }
  duckdb::optional_ptr<duckdb::CatalogEntry> CreateCopyFunction(
      duckdb::CatalogTransaction, duckdb::CreateCopyFunctionInfo&) override {
    ThrowNotSupported("CREATE of a copy function");
  }
  duckdb::optional_ptr<duckdb::CatalogEntry> CreatePragmaFunction(
      duckdb::CatalogTransaction, duckdb::CreatePragmaFunctionInfo&) override {
    ThrowNotSupported("CREATE of a pragma function");
  }
  duckdb::optional_ptr<duckdb::CatalogEntry> CreateCollation(
      duckdb::CatalogTransaction, duckdb::CreateCollationInfo&) override {
    ThrowNotSupported("CREATE COLLATION");
  }
  duckdb::optional_ptr<duckdb::CatalogEntry> CreateType(duckdb::CatalogTransaction,
                                                        duckdb::CreateTypeInfo&) override {
    ThrowNotSupported("CREATE TYPE");
  }

  duckdb::optional_ptr<duckdb::CatalogEntry> LookupEntry(
      duckdb::CatalogTransaction transaction, const duckdb::EntryLookupInfo& lookup) override;
  void DropEntry(ClientContext& context, duckdb::DropInfo& info) override;
  void Alter(duckdb::CatalogTransaction transaction, duckdb::AlterInfo& info) override;

  // Returns the entry of `table` at `at` (latest when null), owned by the transaction.
  LakeTableEntry& TableEntry(ClientContext& context, const DirectoryTable& table,
                             duckdb::optional_ptr<duckdb::BoundAtClause> at);

 private:
  LakeCatalog& lake_catalog_;
};

// ---------------------------------------------------------------------------------------------
// The catalog

class LakeCatalog final : public duckdb::Catalog {
 public:
  LakeCatalog(duckdb::AttachedDatabase& db, std::shared_ptr<TableDirectory> directory)
      : Catalog(db), directory_(std::move(directory)) {}

  TableDirectory& directory() { return *directory_; }

  void Initialize(bool) override {}
  std::string GetCatalogType() override { return kLakeCatalogType; }
  std::string GetDefaultSchema() const override { return directory_->default_schema(); }
  bool SupportsTimeTravel() const override { return true; }
  bool InMemory() override { return false; }
  std::string GetDBPath() override { return kLakeCatalogName; }
  duckdb::DatabaseSize GetDatabaseSize(ClientContext&) override { return {}; }

  duckdb::optional_ptr<duckdb::CatalogEntry> CreateSchema(duckdb::CatalogTransaction transaction,
                                                          duckdb::CreateSchemaInfo& info) override {
    if (info.on_conflict == duckdb::OnCreateConflict::REPLACE_ON_CONFLICT) {
      ThrowNotSupported("CREATE OR REPLACE SCHEMA");
    }
    std::string comment = info.comment.IsNull() ? "" : info.comment.ToString();
    OkOrThrow(directory_->CreateSchema(
        info.schema, comment, info.on_conflict == duckdb::OnCreateConflict::IGNORE_ON_CONFLICT));
    return SchemaEntry(info.schema).get();
  }

  duckdb::optional_ptr<duckdb::SchemaCatalogEntry> LookupSchema(
      duckdb::CatalogTransaction, const duckdb::EntryLookupInfo& lookup,
      duckdb::OnEntryNotFound if_not_found) override {
    const std::string& name = lookup.GetEntryName();
    std::optional<DirectorySchema> schema = ValueOrThrow(directory_->FindSchema(name));
    if (!schema && ToLower(name) == kPathSchemaName) return SchemaEntry(name);  // note 7
    if (!schema) {
      if (if_not_found == duckdb::OnEntryNotFound::RETURN_NULL) return nullptr;
      ThrowStatus(Status::NotFound(StrCat("schema ", name, " does not exist in catalog lake"))
                      .WithHint("SHOW SCHEMAS lists them; CREATE SCHEMA creates one"));
    }
    return SchemaEntry(schema->name);
  }

  void ScanSchemas(ClientContext&,
                   std::function<void(duckdb::SchemaCatalogEntry&)> callback) override {
    for (const DirectorySchema& schema : ValueOrThrow(directory_->ListSchemas())) {
      callback(*SchemaEntry(schema.name));
    }
  }

  void DropSchema(ClientContext&, duckdb::DropInfo& info) override {
    OkOrThrow(directory_->DropSchema(
        info.name, info.if_not_found == duckdb::OnEntryNotFound::RETURN_NULL, info.cascade));
  }

  // Write planning hooks (design note 5).
  duckdb::PhysicalOperator& PlanCreateTableAs(ClientContext& context,
                                              duckdb::PhysicalPlanGenerator& planner,
                                              duckdb::LogicalCreateTable& op,
                                              duckdb::PhysicalOperator& plan) override {
    const std::string& schema = op.schema.name;
    std::optional<DirectoryTable> existing =
        ValueOrThrow(directory_->FindTable(schema, op.info->Base().table));
    return PlanLakeCreateTableAs(context, planner, op, plan, directory_, schema, existing);
  }
  duckdb::PhysicalOperator& PlanInsert(ClientContext& context,
                                       duckdb::PhysicalPlanGenerator& planner,
                                       duckdb::LogicalInsert& op,
                                       duckdb::optional_ptr<duckdb::PhysicalOperator> plan) override;
  duckdb::PhysicalOperator& PlanDelete(ClientContext& context,
                                       duckdb::PhysicalPlanGenerator& planner,
                                       duckdb::LogicalDelete& op) override;
  duckdb::PhysicalOperator& PlanDelete(ClientContext&, duckdb::PhysicalPlanGenerator&,
                                       duckdb::LogicalDelete&, duckdb::PhysicalOperator&) override {
    ThrowStatus(Status::Internal("lake plans DELETE from its logical operator"));
  }
  duckdb::PhysicalOperator& PlanUpdate(ClientContext& context,
                                       duckdb::PhysicalPlanGenerator& planner,
                                       duckdb::LogicalUpdate& op) override;
  duckdb::PhysicalOperator& PlanUpdate(ClientContext&, duckdb::PhysicalPlanGenerator&,
                                       duckdb::LogicalUpdate&, duckdb::PhysicalOperator&) override {
    ThrowStatus(Status::Internal("lake plans UPDATE from its logical operator"));
  }
  duckdb::PhysicalOperator& PlanMergeInto(ClientContext& context,
                                          duckdb::PhysicalPlanGenerator& planner,
                                          duckdb::LogicalMergeInto& op,
                                          duckdb::PhysicalOperator& plan) override {
    auto* entry = dynamic_cast<LakeTableEntry*>(&op.table);
    if (entry == nullptr) ThrowStatus(Status::Internal("MERGE INTO a non-lake table entry"));
    if (entry->version() < 0) {
      ThrowStatus(Status::FailedPrecondition(StrCat("MERGE INTO ", entry->table().schema, ".",
                                                    entry->table().name,
                                                    ": the table's log cannot be read"))
                      .WithHint("SELECT from it shows the load error"));
    }
    return PlanLakeMerge(context, planner, op, plan, MergeTarget{entry->table(), entry->version()});
  }

  // Returns the (stateless, kept for the catalog's lifetime) entry of schema `name`.
  duckdb::optional_ptr<duckdb::SchemaCatalogEntry> SchemaEntry(const std::string& name_in) {
    std::string name = ToLower(name_in);
    std::lock_guard lock(mu_);
    auto it = schemas_.find(name);
    if (it == schemas_.end()) {
      duckdb::CreateSchemaInfo info;
      info.schema = name;
      info.internal = false;
      it = schemas_.emplace(name, duckdb::make_uniq<LakeSchemaEntry>(*this, info)).first;
    }
    return it->second.get();
  }

 private:
  std::shared_ptr<TableDirectory> directory_;
  std::mutex mu_;
  std::map<std::string, duckdb::unique_ptr<LakeSchemaEntry>> schemas_;
};

// A table name in schema `delta` that names a path (design note 7): no registered name has
// a '/'.
bool IsPathName(const std::string& name) { return name.find('/') != std::string::npos; }

DirectoryTable PathTable(const std::string& path) {
  DirectoryTable table;
  table.schema = kPathSchemaName;
  table.name = path;
  table.location = NormalizeLocation(path);
  return table;
}

LakeSchemaEntry::LakeSchemaEntry(LakeCatalog& catalog, duckdb::CreateSchemaInfo& info)
    : SchemaCatalogEntry(catalog, info), lake_catalog_(catalog) {}

LakeTableEntry& LakeSchemaEntry::TableEntry(ClientContext& context, const DirectoryTable& table,
                                            duckdb::optional_ptr<duckdb::BoundAtClause> at) {
  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  Result<CachedTable> cached = Status::Internal("unset");
  std::string at_key = "latest";
  if (at) {
    std::string unit = ToLower(at->Unit());
    if (unit == "version") {
      int64_t version = at->GetValue().GetValue<int64_t>();
      if (version < 0) {
        ThrowStatus(Status::InvalidArgument(StrCat("version must be >= 0, got ", version)));
      }
      cached = cache.AtVersion(table.location, version);
    } else if (unit == "timestamp") {
      cached = cache.AtTimestamp(table.location, TimestampMs(at->GetValue()));
    } else {
      ThrowStatus(Status::InvalidArgument(
          StrCat("AT (", at->Unit(), " => ...): lake tables travel by VERSION or TIMESTAMP")));
    }
    // A time-travel read of a table that cannot travel there is an error, not a placeholder.
    if (!cached.ok()) {
      ThrowStatus(cached.status().WithContext(StrCat("table ", table.schema, ".", table.name)));
    }
    at_key = StrCat(unit, "=", at->GetValue().ToString());
  } else {
    cached = cache.Latest(table.location);
  }

  duckdb::CreateTableInfo info(*this, table.name);
  delta::Version version = cached.ok() ? cached->snapshot->version() : -1;
  Status load_error;
  // INSERT WITH SCHEMA EVOLUTION binds against the evolved columns (lake_write.h).
  std::optional<delta::Schema> evolved =
      at || !cached.ok() ? std::nullopt : InsertSchemaOverride(context, table.location);
  std::string evolved_schema;
  if (evolved) {
    for (const delta::StructField& field : evolved->fields) {
      info.columns.AddColumn(duckdb::ColumnDefinition(
          field.name, ValueOrThrow(DuckTypeOf(field.type, field.name))));
    }
    evolved_schema = delta::SerializeDataType(*evolved);
    at_key = StrCat("evolved=", evolved_schema);
  } else if (cached.ok()) {
    duckdb::unique_ptr<duckdb::FunctionData> bind_data;
    duckdb::vector<LogicalType> types;
    duckdb::vector<std::string> names;
    Status bound =
        CatchAll([&] { BindDeltaScan(context, table.location, version, bind_data, types, names); });
    if (bound.ok()) {
      for (size_t i = 0; i < names.size(); ++i) {
        info.columns.AddColumn(duckdb::ColumnDefinition(names[i], types[i]));
      }
    } else {
      load_error = bound;
    }
  } else {
    load_error = cached.status();
  }
  if (!load_error.ok()) {
    const bool by_path = table.schema == kPathSchemaName && IsPathName(table.name);
    load_error = load_error.WithContext(
        by_path ? StrCat("table delta.`", table.name, "`")
                : StrCat("table ", table.schema, ".", table.name, " at ", table.location));
    const StatusCode code = load_error.code();
    if (code == StatusCode::kIOError || code == StatusCode::kUnavailable ||
        code == StatusCode::kCancelled || by_path) {
      ThrowStatus(load_error);  // design notes 3 and 7
    }
    info.columns.AddColumn(duckdb::ColumnDefinition(kBrokenColumn, LogicalType::VARCHAR));
  }
  auto make = [&] {
    return duckdb::make_uniq<LakeTableEntry>(catalog, *this, info, table, version, load_error,
                                             evolved_schema);
  };
  std::string key = StrCat(table.name, "\n", table.location, "\n", at_key, "\n", version);
  auto& transaction = duckdb::Transaction::Get(context, catalog).Cast<LakeTransaction>();
  return transaction.GetOrCreate(key, make);
}

duckdb::optional_ptr<duckdb::CatalogEntry> LakeSchemaEntry::LookupEntry(
    duckdb::CatalogTransaction transaction, const duckdb::EntryLookupInfo& lookup) {
  if (lookup.GetCatalogType() != duckdb::CatalogType::TABLE_ENTRY || !transaction.HasContext()) {
    return nullptr;
  }
  const std::string& entry_name = lookup.GetEntryName();
  std::optional<DirectoryTable> table;
  if (name == kPathSchemaName && IsPathName(entry_name)) {
    table = PathTable(entry_name);  // note 7
  } else {
    table = ValueOrThrow(lake_catalog_.directory().FindTable(name, entry_name));
  }
  if (!table) return nullptr;
  return &TableEntry(transaction.GetContext(), *table, lookup.GetAtClause());
}

void LakeSchemaEntry::Scan(ClientContext& context, duckdb::CatalogType type,
                           const std::function<void(duckdb::CatalogEntry&)>& callback) {
  if (type != duckdb::CatalogType::TABLE_ENTRY) return;
  for (const DirectoryTable& table : ValueOrThrow(lake_catalog_.directory().ListTables(name))) {
    callback(TableEntry(context, table, nullptr));
  }
}

void LakeSchemaEntry::DropEntry(ClientContext&, duckdb::DropInfo& info) {
  if (info.type != duckdb::CatalogType::TABLE_ENTRY) {
    ThrowNotSupported(StrCat("DROP ", duckdb::CatalogTypeToString(info.type)));
  }
  Result<DirectoryTable> dropped = lake_catalog_.directory().DropTable(name, info.name);
  if (!dropped.ok() && dropped.status().code() == StatusCode::kNotFound &&
      info.if_not_found == duckdb::OnEntryNotFound::RETURN_NULL) {
    return;
  }
  OkOrThrow(dropped.status());
}

void LakeSchemaEntry::Alter(duckdb::CatalogTransaction transaction, duckdb::AlterInfo& info) {
  if (info.type != duckdb::AlterType::ALTER_TABLE) {
    ThrowNotSupported(StrCat("ALTER of a ", duckdb::CatalogTypeToString(info.GetCatalogType())));
  }
  auto& alter = info.Cast<duckdb::AlterTableInfo>();
  if (alter.alter_table_type != duckdb::AlterTableType::RENAME_TABLE) {
    if (transaction.HasContext() && AlterTableFromDuckDb(transaction.GetContext(), name, alter)) {
      return;
    }
    ThrowStatus(Status::NotSupported(StrCat("this ALTER TABLE form on ", name, ".", info.name,
                                            " is not supported by lake"))
                    .WithHint("lake supports ADD COLUMN(S), ALTER COLUMN c SET|DROP NOT NULL, "
                              "SET|UNSET TBLPROPERTIES, ADD|DROP CONSTRAINT and RENAME TO "
                              "(docs/sql-syntax.md)"));
  }
  auto& rename = alter.Cast<duckdb::RenameTableInfo>();
  OkOrThrow(lake_catalog_.directory().RenameTable(name, info.name, rename.new_table_name));
}

duckdb::PhysicalOperator& LakeCatalog::PlanDelete(ClientContext& context,
                                                  duckdb::PhysicalPlanGenerator& planner,
                                                  duckdb::LogicalDelete& op) {
  auto* entry = dynamic_cast<LakeTableEntry*>(&op.table);
  if (entry == nullptr) ThrowStatus(Status::Internal("DELETE from a non-lake table entry"));
  if (entry->version() < 0) {
    ThrowStatus(Status::FailedPrecondition(StrCat("DELETE FROM ", entry->table().schema, ".",
                                                  entry->table().name,
                                                  ": the table's log cannot be read"))
                    .WithHint("SELECT from it shows the load error"));
  }
  return PlanLakeDelete(context, planner, op, DmlTarget{entry->table(), entry->version()});
}

duckdb::PhysicalOperator& LakeCatalog::PlanUpdate(ClientContext& context,
                                                  duckdb::PhysicalPlanGenerator& planner,
                                                  duckdb::LogicalUpdate& op) {
  auto* entry = dynamic_cast<LakeTableEntry*>(&op.table);
  if (entry == nullptr) ThrowStatus(Status::Internal("UPDATE of a non-lake table entry"));
  if (entry->version() < 0) {
    ThrowStatus(Status::FailedPrecondition(StrCat("UPDATE ", entry->table().schema, ".",
                                                  entry->table().name,
                                                  ": the table's log cannot be read"))
                    .WithHint("SELECT from it shows the load error"));
  }
  return PlanLakeUpdate(context, planner, op, InsertTarget{entry->table(), entry->version()});
}

duckdb::PhysicalOperator& LakeCatalog::PlanInsert(
    ClientContext& context, duckdb::PhysicalPlanGenerator& planner, duckdb::LogicalInsert& op,
    duckdb::optional_ptr<duckdb::PhysicalOperator> plan) {
  auto* entry = dynamic_cast<LakeTableEntry*>(&op.table);
  if (entry == nullptr) ThrowStatus(Status::Internal("INSERT into a non-lake table entry"));
  if (entry->version() < 0) {
    ThrowStatus(Status::FailedPrecondition(StrCat("INSERT INTO ", entry->table().schema, ".",
                                                  entry->table().name,
                                                  ": the table's log cannot be read"))
                    .WithHint("SELECT from it shows the load error"));
  }
  return PlanLakeInsert(context, planner, op, plan, InsertTarget{entry->table(), entry->version()});
}

// ---------------------------------------------------------------------------------------------
// Attaching

struct LakeStorageInfo final : duckdb::StorageExtensionInfo {
  explicit LakeStorageInfo(std::shared_ptr<TableDirectory> d) : directory(std::move(d)) {}
  std::shared_ptr<TableDirectory> directory;
};

duckdb::unique_ptr<duckdb::Catalog> AttachLake(
    duckdb::optional_ptr<duckdb::StorageExtensionInfo> storage_info, ClientContext&,
    duckdb::AttachedDatabase& db, const std::string&, duckdb::AttachInfo&, duckdb::AttachOptions&) {
  auto* info = dynamic_cast<LakeStorageInfo*>(storage_info.get());
  if (info == nullptr) {
    ThrowStatus(Status::Internal("the delta storage extension has no table directory"));
  }
  return duckdb::make_uniq<LakeCatalog>(db, info->directory);
}

duckdb::unique_ptr<duckdb::TransactionManager> CreateLakeTransactionManager(
    duckdb::optional_ptr<duckdb::StorageExtensionInfo>, duckdb::AttachedDatabase& db,
    duckdb::Catalog&) {
  return duckdb::make_uniq<LakeTransactionManager>(db);
}

// ---------------------------------------------------------------------------------------------
// Names

struct TableName {
  std::string schema;
  std::string name;
};

// Returns the lake catalog of `context`, or kFailedPrecondition.
Result<LakeCatalog*> GetLakeCatalog(ClientContext& context) {
  auto catalog = duckdb::Catalog::GetCatalogEntry(context, kLakeCatalogName);
  auto* lake = catalog ? dynamic_cast<LakeCatalog*>(catalog.get()) : nullptr;
  if (lake == nullptr) {
    return Status::FailedPrecondition(
               "this database has no lake catalog: tables by name need "
               "a lake home")
        .WithHint("open lake with --home (or LAKE_HOME), or use delta.`/path` references");
  }
  return lake;
}

// Splits `t`, `schema.t` or `lake.schema.t`; an unqualified name is in the session's current
// lake schema (USE lake.sales changes it).
Result<TableName> ParseTableName(ClientContext& context, LakeCatalog& lake,
                                 const std::string& text) {
  std::vector<std::string> parts = StrSplit(text, '.');
  for (std::string& part : parts) {
    if (part.size() >= 2 && part.front() == '"' && part.back() == '"') {
      part = part.substr(1, part.size() - 2);
    }
  }
  bool empty_part = false;
  for (const std::string& part : parts) empty_part |= part.empty();
  if (empty_part || parts.empty() || parts.size() > 3 ||
      (parts.size() == 3 && ToLower(parts[0]) != kLakeCatalogName)) {
    return Status::InvalidArgument(StrCat("'", text, "' is not a lake table name"))
        .WithHint("write table, schema.table or lake.schema.table");
  }
  if (parts.size() == 1) {
    std::string schema = duckdb::ClientData::Get(context).catalog_search_path->GetDefaultSchema(
        context, kLakeCatalogName);
    if (schema.empty() || schema == DEFAULT_SCHEMA) schema = lake.directory().default_schema();
    return TableName{schema, parts[0]};
  }
  return TableName{parts[parts.size() - 2], parts.back()};
}

Result<DirectoryTable> FindTableByName(ClientContext& context, const std::string& text) {
  LAKE_ASSIGN_OR_RETURN(LakeCatalog * lake, GetLakeCatalog(context));
  LAKE_ASSIGN_OR_RETURN(TableName name, ParseTableName(context, *lake, text));
  if (name.schema == kPathSchemaName && IsPathName(name.name)) return PathTable(name.name);
  LAKE_ASSIGN_OR_RETURN(std::optional<DirectorySchema> schema,
                        lake->directory().FindSchema(name.schema));
  if (!schema) {
    return Status::NotFound(StrCat("schema ", name.schema, " does not exist in catalog lake"))
        .WithHint("SHOW SCHEMAS lists them");
  }
  LAKE_ASSIGN_OR_RETURN(std::optional<DirectoryTable> table,
                        lake->directory().FindTable(name.schema, name.name));
  if (!table) {
    return Status::NotFound(StrCat("table ", schema->name, ".", name.name, " does not exist"))
        .WithHint(StrCat("SHOW TABLES IN ", schema->name, " lists its tables"));
  }
  return std::move(*table);
}

// ---------------------------------------------------------------------------------------------
// Catalog table functions (read-only): they compute their rows at bind (small results, and
// errors surface before any output). DDL is lake_ddl (lake_ddl.h).

struct RowsData final : duckdb::TableFunctionData {
  std::vector<duckdb::vector<duckdb::Value>> rows;
};

struct RowsState final : duckdb::GlobalTableFunctionState {
  size_t next_row = 0;
};

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> RowsInit(ClientContext&,
                                                              duckdb::TableFunctionInitInput&) {
  return duckdb::make_uniq<RowsState>();
}

void EmitRows(const std::vector<duckdb::vector<duckdb::Value>>& rows, RowsState& state,
              duckdb::DataChunk& output) {
  duckdb::idx_t count = 0;
  while (state.next_row < rows.size() && count < STANDARD_VECTOR_SIZE) {
    const auto& row = rows[state.next_row++];
    for (duckdb::idx_t col = 0; col < row.size(); ++col) output.SetValue(col, count, row[col]);
    ++count;
  }
  output.SetCardinality(count);
}

void RowsScan(ClientContext&, duckdb::TableFunctionInput& input, duckdb::DataChunk& output) {
  EmitRows(input.bind_data->Cast<RowsData>().rows, input.global_state->Cast<RowsState>(), output);
}

LakeCatalog& LakeOrThrow(ClientContext& context) { return *ValueOrThrow(GetLakeCatalog(context)); }

bool BoolArg(duckdb::TableFunctionBindInput& input, const char* name) {
  auto it = input.named_parameters.find(name);
  return it != input.named_parameters.end() && !it->second.IsNull() && it->second.GetValue<bool>();
}

// lake_schemas(): namespace (Spark's SHOW SCHEMAS).
duckdb::unique_ptr<duckdb::FunctionData> SchemasBind(ClientContext& context,
                                                     duckdb::TableFunctionBindInput&,
                                                     duckdb::vector<LogicalType>& types,
                                                     duckdb::vector<std::string>& names) {
  names = {"namespace"};
  types = {LogicalType::VARCHAR};
  auto data = duckdb::make_uniq<RowsData>();
  for (const DirectorySchema& s : ValueOrThrow(LakeOrThrow(context).directory().ListSchemas())) {
    data->rows.push_back({duckdb::Value(s.name)});
  }
  return data;
}

// lake_tables([schema]): namespace, tableName, isTemporary (Spark's SHOW TABLES), from the
// metastore alone: listing never opens a table's log.
duckdb::unique_ptr<duckdb::FunctionData> TablesBind(ClientContext& context,
                                                    duckdb::TableFunctionBindInput& input,
                                                    duckdb::vector<LogicalType>& types,
                                                    duckdb::vector<std::string>& names) {
  names = {"namespace", "tableName", "isTemporary"};
  types = {LogicalType::VARCHAR, LogicalType::VARCHAR, LogicalType::BOOLEAN};
  LakeCatalog& lake = LakeOrThrow(context);
  std::string schema;
  if (!input.inputs.empty() && !input.inputs[0].IsNull()) {
    schema = input.inputs[0].ToString();
    if (StartsWith(ToLower(schema), "lake.")) schema = schema.substr(5);
  } else {
    schema = ValueOrThrow(ParseTableName(context, lake, "x")).schema;
  }
  std::optional<DirectorySchema> found = ValueOrThrow(lake.directory().FindSchema(schema));
  if (!found) {
    ThrowStatus(Status::NotFound(StrCat("schema ", schema, " does not exist in catalog lake"))
                    .WithHint("SHOW SCHEMAS lists them"));
  }
  auto data = duckdb::make_uniq<RowsData>();
  for (const DirectoryTable& t : ValueOrThrow(lake.directory().ListTables(found->name))) {
    data->rows.push_back(
        {duckdb::Value(t.schema), duckdb::Value(t.name), duckdb::Value::BOOLEAN(false)});
  }
  return data;
}

std::string FormatTimeMs(int64_t ms) {
  return duckdb::Timestamp::ToString(duckdb::Timestamp::FromEpochMs(ms)) + " UTC";
}

// lake_describe(name [, extended := true]): col_name, data_type, comment (Spark's DESCRIBE
// [EXTENDED]): one row per column, then with extended the table's details.
duckdb::unique_ptr<duckdb::FunctionData> DescribeBind(ClientContext& context,
                                                      duckdb::TableFunctionBindInput& input,
                                                      duckdb::vector<LogicalType>& types,
                                                      duckdb::vector<std::string>& names) {
  names = {"col_name", "data_type", "comment"};
  types = {LogicalType::VARCHAR, LogicalType::VARCHAR, LogicalType::VARCHAR};
  DirectoryTable table = ValueOrThrow(FindTableByName(context, input.inputs[0].ToString()));
  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  Result<CachedTable> cached = cache.Latest(table.location);
  if (!cached.ok()) {
    ThrowStatus(cached.status().WithContext(StrCat("table ", table.schema, ".", table.name)));
  }
  const delta::Snapshot& snap = *cached->snapshot;
  auto data = duckdb::make_uniq<RowsData>();
  auto row = [&](std::string a, std::string b, std::string c = "") {
    data->rows.push_back({duckdb::Value(a), duckdb::Value(b), duckdb::Value(c)});
  };
  for (const delta::StructField& field : snap.schema().fields) {
    std::string comment;
    auto meta = duckdb::StringUtil::Split(field.metadata_json, "\"comment\":\"");
    if (meta.size() > 1) comment = meta[1].substr(0, meta[1].find('"'));
    row(field.name, field.type.ToString(), comment);
  }
  if (BoolArg(input, "extended")) {
    row("", "");
    row("# Detailed Table Information", "");
    row("Catalog", kLakeCatalogName);
    row("Database", table.schema);
    row("Table", table.name);
    row("Created Time", FormatTimeMs(table.created_ms));
    row("Type", table.is_managed ? "MANAGED" : "EXTERNAL");
    row("Provider", "delta");
    row("Location", table.location);
    row("Version", std::to_string(snap.version()));
    row("Partition Columns", StrCat("[", StrJoin(snap.metadata().partition_columns, ", "), "]"));
    std::vector<std::string> props;
    for (const auto& [k, v] : snap.metadata().configuration) props.push_back(StrCat(k, "=", v));
    row("Table Properties", StrCat("[", StrJoin(props, ","), "]"));
    std::vector<std::string> catalog_props;
    for (const auto& [k, v] : table.properties) catalog_props.push_back(StrCat(k, "=", v));
    if (!catalog_props.empty()) {
      row("Catalog Properties", StrCat("[", StrJoin(catalog_props, ","), "]"));
    }
    if (!table.comment.empty()) row("Comment", table.comment);
  }
  return data;
}

duckdb::TableFunction RowsFunction(const char* name, duckdb::vector<LogicalType> args,
                                   duckdb::table_function_bind_t bind) {
  return duckdb::TableFunction(name, std::move(args), RowsScan, bind, RowsInit);
}

}  // namespace

void RegisterLakeCatalog(duckdb::DatabaseInstance& db, std::shared_ptr<TableDirectory> directory) {
  auto extension = duckdb::make_uniq<duckdb::StorageExtension>();
  extension->attach = AttachLake;
  extension->create_transaction_manager = CreateLakeTransactionManager;
  extension->storage_info = duckdb::make_shared_ptr<LakeStorageInfo>(std::move(directory));
  duckdb::DBConfig::GetConfig(db).storage_extensions[kLakeCatalogType] = std::move(extension);
  RegisterLakeWriteSettings(db);

  duckdb::ExtensionLoader loader(db, "lake");
  loader.RegisterFunction(RowsFunction("lake_schemas", {}, SchemasBind));
  duckdb::TableFunctionSet tables("lake_tables");
  tables.AddFunction(RowsFunction("lake_tables", {}, TablesBind));
  tables.AddFunction(RowsFunction("lake_tables", {LogicalType::VARCHAR}, TablesBind));
  loader.RegisterFunction(std::move(tables));
  duckdb::TableFunction describe =
      RowsFunction("lake_describe", {LogicalType::VARCHAR}, DescribeBind);
  describe.named_parameters["extended"] = LogicalType::BOOLEAN;
  loader.RegisterFunction(describe);
  RegisterLakeDdl(db);
}

Result<TableDirectory*> LakeDirectory(ClientContext& context) {
  LAKE_ASSIGN_OR_RETURN(LakeCatalog * lake, GetLakeCatalog(context));
  return &lake->directory();
}

Result<LakeTableName> ResolveLakeTableName(ClientContext& context, const std::string& name) {
  LAKE_ASSIGN_OR_RETURN(LakeCatalog * lake, GetLakeCatalog(context));
  LAKE_ASSIGN_OR_RETURN(TableName parsed, ParseTableName(context, *lake, name));
  return LakeTableName{std::move(parsed.schema), std::move(parsed.name)};
}

Result<DirectoryTable> FindLakeTable(ClientContext& context, const std::string& name) {
  return FindTableByName(context, name);
}

std::string NormalizeLocation(const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(location, ec).lexically_normal();
  std::string out = ec ? location : abs.string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<std::string> ResolveTableLocation(ClientContext& context, const std::string& name) {
  LAKE_ASSIGN_OR_RETURN(DirectoryTable table, FindTableByName(context, name));
  return table.location;
}

}  // namespace lake::engine::internal
