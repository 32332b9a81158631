// lake's Spark/Delta SQL forms inside DuckDB (DUCKDB-INTEGRATION.md §2.3).
//
// How a statement travels:
//  (1) DuckDB's own parser rejects it (backquotes, `VERSION AS OF`, `DESCRIBE HISTORY` are
//      not DuckDB syntax) and hands its text to LakeParse, one statement at a time.
//  (2) LakeParse rewrites it into DuckDB SQL (internal/sql_rewrite.h) or declines, so that
//      DuckDB's original error stands; a malformed lake form is a "lake: expected ..." error.
//  (3) DuckDB binds the resulting ExtensionStatement by calling LakePlan, which can only
//      return a single table function scan; that is too little for a whole query (joins,
//      subqueries, EXPLAIN). So LakePlan parks the rewritten SQL in the client context and
//      throws a BinderException on purpose.
//  (4) The Planner catches binder errors and offers the statement to operator extensions:
//      LakeBind takes the parked SQL, parses it with DuckDB's parser and binds it with the
//      *same* Binder, so the rewritten query is planned and optimized like any other.
// Invariant: the parked SQL is consumed by exactly the LakeBind call following its LakePlan
// (both run on the planning thread of that context, back to back); LakeBind ignores any
// statement that is not one of ours.
//
// SHOW SCHEMAS is the one lake statement DuckDB parses (as SHOW of a table "schemas") and
// then fails to bind; the Planner offers that failure to LakeBind too, which binds
// lake_schemas() instead when the database has a lake catalog.
//
// A bare quoted path of a Delta table (`FROM '/data/t'`) needs no rewrite: DuckDB parses it
// as a table name and asks replacement scans when no such table exists; DeltaFolderScan
// answers delta_scan('/data/t') when the folder holds a _delta_log/.
#include <cctype>
#include <optional>
#include <string>

#include "duckdb/common/file_system.hpp"
#include "duckdb/function/replacement_scan.hpp"
#include "duckdb/main/client_context_state.hpp"
#include "duckdb/parser/expression/function_expression.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/parser_extension.hpp"
#include "duckdb/parser/statement/explain_statement.hpp"
#include "duckdb/parser/statement/extension_statement.hpp"
#include "duckdb/parser/tableref/table_function_ref.hpp"
#include "duckdb/planner/operator_extension.hpp"
#include "engine/internal/duckdb_pch.h"
#include "engine/internal/errors.h"
#include "engine/internal/inspect.h"
#include "engine/internal/lake_catalog.h"
#include "engine/internal/lake_merge.h"
#include "engine/internal/lake_write.h"
#include "base/strings.h"
#include "delta/schema_evolution.h"
#include "engine/data_writer.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/maintenance.h"
#include "engine/internal/register.h"
#include "engine/internal/restore_vacuum.h"
#include "engine/internal/scan.h"
#include "engine/internal/snapshot_cache.h"
#include "engine/internal/sql_rewrite.h"
#include "engine/internal/table_changes.h"

namespace lake::engine::internal {
namespace {

constexpr const char* kStateKey = "lake_sql";

// A Spark CTAS's clauses DuckDB's CTAS cannot carry (sql_rewrite.h), for the catalog.
struct CtasParts {
  std::string table;
  CtasClauses clauses;
};

// The rewritten SQL of one statement, from parse to plan.
struct LakeParseData final : duckdb::ParserExtensionParseData {
  LakeParseData(std::string sql_p, std::optional<CtasParts> ctas_p,
                std::optional<InsertStatement> insert_p, bool merge_schema_evolution_p = false)
      : sql(std::move(sql_p)),
        ctas(std::move(ctas_p)),
        insert(std::move(insert_p)),
        merge_schema_evolution(merge_schema_evolution_p) {}
  duckdb::unique_ptr<duckdb::ParserExtensionParseData> Copy() const override {
    return duckdb::make_uniq<LakeParseData>(sql, ctas, insert, merge_schema_evolution);
  }
  std::string ToString() const override { return sql; }
  std::string sql;
  std::optional<CtasParts> ctas;
  std::optional<InsertStatement> insert;
  bool merge_schema_evolution = false;
};

// Carries the rewritten SQL from LakePlan to LakeBind (steps 3-4 above).
struct LakeSqlState final : duckdb::ClientContextState {
  std::optional<std::string> pending_sql;
  std::optional<CtasParts> pending_ctas;
  std::optional<InsertStatement> pending_insert;
  bool pending_merge_schema_evolution = false;
};

duckdb::ParserExtensionParseResult LakeParse(duckdb::ParserExtensionInfo*,
                                             const std::string& query) {
  SqlRewrite rewrite = RewriteLakeSql(query);
  switch (rewrite.kind) {
    case SqlRewrite::Kind::kNotOurs:
      return duckdb::ParserExtensionParseResult();
    case SqlRewrite::Kind::kError: {
      duckdb::ParserExtensionParseResult result(rewrite.error);
      result.error_location = rewrite.error_position;
      return result;
    }
    case SqlRewrite::Kind::kRewritten:
      break;
  }
  std::optional<CtasParts> ctas;
  if (rewrite.ctas_table) ctas = CtasParts{*rewrite.ctas_table, std::move(rewrite.ctas_clauses)};
  return duckdb::ParserExtensionParseResult(
      duckdb::make_uniq<LakeParseData>(std::move(rewrite.sql), std::move(ctas),
                                       std::move(rewrite.insert),
                                       rewrite.merge_schema_evolution));
}

duckdb::ParserExtensionPlanResult LakePlan(
    duckdb::ParserExtensionInfo*, duckdb::ClientContext& context,
    duckdb::unique_ptr<duckdb::ParserExtensionParseData> parse_data) {
  auto* data = dynamic_cast<LakeParseData*>(parse_data.get());
  if (data == nullptr) {
    throw duckdb::BinderException("lake: unexpected parse data for a lake statement");
  }
  auto state = context.registered_state->GetOrCreate<LakeSqlState>(kStateKey);
  state->pending_sql = std::move(data->sql);
  state->pending_ctas = std::move(data->ctas);
  state->pending_insert = std::move(data->insert);
  state->pending_merge_schema_evolution = data->merge_schema_evolution;
  // Deliberate: hands the statement to LakeBind through the Planner (header comment, (3)).
  throw duckdb::BinderException("lake: statement is bound by lake's operator extension");
}

// Returns whether `statement` is SHOW SCHEMAS, which DuckDB parses as SHOW of a table named
// "schemas" and then fails to bind (no such table): the Planner offers it to us. The binder
// has consumed the statement's FROM by then, so the check reads the statement's text.
bool IsShowSchemas(duckdb::SQLStatement& statement) {
  if (statement.type != duckdb::StatementType::SELECT_STATEMENT) return false;
  std::string text = statement.query;
  if (statement.stmt_length > 0 && statement.stmt_location + statement.stmt_length <= text.size()) {
    text = text.substr(statement.stmt_location, statement.stmt_length);
  }
  std::string words;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == ';') {
      if (!words.empty() && words.back() != ' ') words += ' ';
    } else {
      words += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  while (!words.empty() && words.back() == ' ') words.pop_back();
  while (!words.empty() && words.front() == ' ') words.erase(0, 1);
  return words == "show schemas";
}

// Binds `sql` (plain DuckDB SQL, one statement) with `binder`.
duckdb::BoundStatement BindRewritten(duckdb::ClientContext& context, duckdb::Binder& binder,
                                     const std::string& sql) {
  duckdb::ParserOptions options = context.GetParserOptions();
  options.extensions = nullptr;  // the rewrite is plain DuckDB SQL; never loop back to us
  duckdb::Parser parser(options);
  parser.ParseQuery(sql);
  return binder.Bind(*parser.statements[0]);
}

// INSERT WITH SCHEMA EVOLUTION (delta/schema_evolution.h): binds the query alone, maps its
// columns to the table's (by name, by the column list, or by position over the columns
// without a static partition value), and when the schema grows, has the catalog show the
// evolved columns to this query and records the new schema in the clauses; `columns` become
// the evolved table's.
void EvolveForInsert(duckdb::ClientContext& context, InsertStatement& insert,
                     const delta::Snapshot& snap, const std::string& location,
                     std::vector<InsertTableColumn>& columns) {
  duckdb::ParserOptions options = context.GetParserOptions();
  options.extensions = nullptr;
  duckdb::Parser parser(options);
  parser.ParseQuery(insert.query);
  if (parser.statements.size() != 1) {
    ThrowStatus(Status::InvalidArgument("INSERT WITH SCHEMA EVOLUTION: the query must be one "
                                        "statement"));
  }
  auto query_binder = duckdb::Binder::CreateBinder(context);
  duckdb::BoundStatement query = query_binder->Bind(*parser.statements[0]);
  std::vector<ResultColumn> result;
  for (size_t i = 0; i < query.names.size(); ++i) {
    result.push_back(ResultColumn{query.names[i], ToColumnType(query.types[i])});
  }
  QuerySchema query_schema = ValueOrThrow(DeltaSchemaFor(result));
  std::vector<std::string> targets;  // the table column each query column goes to
  if (insert.by_name) {
    for (const auto& field : query_schema.schema.fields) targets.push_back(field.name);
  } else if (insert.columns) {
    for (const std::string& c : *insert.columns) {
      targets.push_back(c.size() >= 2 && c.front() == '"' ? c.substr(1, c.size() - 2) : c);
    }
  } else {
    for (const InsertTableColumn& c : columns) {
      bool is_static = false;
      for (const auto& [name, value] : insert.partition_spec) {
        if (value && ToLower(name) == ToLower(c.name)) is_static = true;
      }
      if (!is_static) targets.push_back(c.name);
    }
    for (size_t i = targets.size(); i < query_schema.schema.fields.size(); ++i) {
      targets.push_back(query_schema.schema.fields[i].name);  // extra columns: new ones
    }
  }
  std::vector<delta::IncomingColumn> incoming;
  for (size_t i = 0; i < targets.size() && i < query_schema.schema.fields.size(); ++i) {
    incoming.push_back(delta::IncomingColumn{targets[i], query_schema.schema.fields[i].type});
  }
  auto widening = snap.metadata().configuration.find("delta.enableTypeWidening");
  const bool widening_enabled = widening != snap.metadata().configuration.end() &&
                                ToLower(widening->second) == "true";
  delta::EvolvedSchema evolved =
      ValueOrThrow(delta::EvolveSchema(snap.schema(), incoming, widening_enabled));
  if (!evolved.changed()) return;
  for (const std::string& c : evolved.added) insert.clauses.evolution_notes.push_back("added " + c);
  for (const std::string& c : evolved.widened) {
    insert.clauses.evolution_notes.push_back("widened " + c);
  }
  insert.clauses.evolved_schema_string = delta::SerializeDataType(evolved.schema);
  std::vector<InsertTableColumn> evolved_columns;
  for (const delta::StructField& field : evolved.schema.fields) {
    InsertTableColumn column;
    column.name = field.name;
    column.duckdb_type = ValueOrThrow(DuckTypeOf(field.type, field.name)).ToString();
    for (const InsertTableColumn& old : columns) {
      if (ToLower(old.name) == ToLower(field.name)) column.is_partition = old.is_partition;
    }
    evolved_columns.push_back(std::move(column));
  }
  columns = std::move(evolved_columns);
  SetInsertSchemaOverride(context, location, std::move(evolved.schema));
}

// SET lake.mergeSchema = true (Spark's mergeSchema write option): a plain INSERT that DuckDB
// could not bind (it brings columns the table lacks) is offered to us by the Planner like our
// own statements, and retried as INSERT WITH SCHEMA EVOLUTION. Reads the statement's text:
// the failed bind may have consumed parts of the parsed statement.
std::optional<SqlRewrite> MergeSchemaRetry(duckdb::ClientContext& context,
                                           duckdb::SQLStatement& statement) {
  duckdb::Value merge;
  context.TryGetCurrentSetting(kMergeSchemaSetting, merge);
  if (merge.IsNull() || !merge.GetValue<bool>()) return std::nullopt;
  if (!duckdb::Catalog::GetCatalogEntry(context, "lake")) return std::nullopt;
  std::string text = statement.query;
  if (statement.stmt_length > 0 && statement.stmt_location + statement.stmt_length <= text.size()) {
    text = text.substr(statement.stmt_location, statement.stmt_length);
  }
  size_t begin = 0;
  while (begin < text.size() && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  if (ToLower(text.substr(begin, 7)) != "insert " && ToLower(text.substr(begin, 7)) != "insert\n") {
    return std::nullopt;
  }
  SqlRewrite r = RewriteLakeSql(StrCat("INSERT WITH SCHEMA EVOLUTION ", text.substr(begin + 7)));
  if (r.kind != SqlRewrite::Kind::kRewritten || !r.insert) return std::nullopt;
  return r;
}

duckdb::BoundStatement LakeBind(duckdb::ClientContext& context, duckdb::Binder& binder,
                                duckdb::OperatorExtensionInfo*, duckdb::SQLStatement& statement) {
  if (IsShowSchemas(statement)) {
    // Only with a lake catalog; without one DuckDB's own error stands.
    if (!duckdb::Catalog::GetCatalogEntry(context, "lake")) return {};
    return BindRewritten(context, binder, "SELECT * FROM lake_schemas()");
  }
  std::string sql;
  std::optional<CtasParts> ctas;
  std::optional<InsertStatement> insert;
  bool merge_schema_evolution = false;
  if (statement.type == duckdb::StatementType::INSERT_STATEMENT) {
    std::optional<SqlRewrite> evolving = MergeSchemaRetry(context, statement);
    if (!evolving) return {};
    sql = std::move(evolving->sql);
    insert = std::move(evolving->insert);
  } else {
    if (statement.type != duckdb::StatementType::EXTENSION_STATEMENT) return {};
    auto& extension_statement = statement.Cast<duckdb::ExtensionStatement>();
    if (extension_statement.extension.parse_function != LakeParse) return {};
    auto state = context.registered_state->Get<LakeSqlState>(kStateKey);
    if (!state || !state->pending_sql) return {};
    sql = std::move(*state->pending_sql);
    state->pending_sql.reset();
    ctas = std::move(state->pending_ctas);
    state->pending_ctas.reset();
    insert = std::move(state->pending_insert);
    state->pending_insert.reset();
    merge_schema_evolution = state->pending_merge_schema_evolution;
    state->pending_merge_schema_evolution = false;
  }
  std::optional<BuiltInsert> built_insert;
  std::optional<LakeTableName> insert_table;
  if (insert) {
    // Spark's INSERT forms: the final INSERT needs the table's columns (static partitions).
    DirectoryTable table = ValueOrThrow(FindLakeTable(context, insert->table));
    insert_table = ValueOrThrow(ResolveLakeTableName(context, insert->table));
    CachedTable latest = ValueOrThrow(
        SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context)).Latest(table.location));
    const delta::Snapshot& snap = *latest.snapshot;
    std::vector<InsertTableColumn> columns;
    for (const delta::StructField& field : snap.schema().fields) {
      InsertTableColumn column;
      column.name = field.name;
      column.duckdb_type = ValueOrThrow(DuckTypeOf(field.type, field.name)).ToString();
      for (const std::string& p : snap.metadata().partition_columns) {
        if (ToLower(p) == ToLower(field.name)) column.is_partition = true;
      }
      columns.push_back(std::move(column));
    }
    if (insert->clauses.schema_evolution) {
      EvolveForInsert(context, *insert, snap, table.location, columns);
    }
    built_insert = ValueOrThrow(BuildInsertSql(*insert, columns));
    sql = built_insert->sql;
  }

  duckdb::ParserOptions options = context.GetParserOptions();
  options.extensions = nullptr;  // the rewrite is plain DuckDB SQL; never loop back to us
  duckdb::Parser parser(options);
  parser.ParseQuery(sql);
  if (parser.statements.size() != 1) {
    throw duckdb::ParserException("lake: a rewritten statement became %llu statements: %s",
                                  static_cast<unsigned long long>(parser.statements.size()), sql);
  }
  duckdb::SQLStatement& rewritten = *parser.statements[0];
  // EXPLAIN ANALYZE is run by ClientContext from the statement's type, which here is
  // EXTENSION_STATEMENT: it would print "profiling is disabled" instead of a profile.
  if (rewritten.type == duckdb::StatementType::EXPLAIN_STATEMENT &&
      rewritten.Cast<duckdb::ExplainStatement>().explain_type ==
          duckdb::ExplainType::EXPLAIN_ANALYZE) {
    throw duckdb::NotImplementedException(
        "lake: EXPLAIN ANALYZE of a statement using delta.`path`, VERSION AS OF or TIMESTAMP "
        "AS OF is not supported yet; write it with delta_scan('path', version := n) instead:\n%s",
        sql);
  }
  // A rewritten MERGE (time travel in its source, WITH SCHEMA EVOLUTION) did not pass
  // Session's statement preparation: Spark's meaning of its star forms (lake_merge.h).
  PrepareLakeMerge(context, rewritten, merge_schema_evolution, /*inside_query=*/true);
  duckdb::BoundStatement bound = binder.Bind(rewritten);
  if (built_insert) {
    // Stashed once the INSERT bound, like the CTAS clauses below; PlanLakeInsert takes them.
    StashInsertClauses(context, insert_table->schema, insert_table->name,
                       std::move(built_insert->clauses));
  }
  if (ctas) {
    // Stashed only once the CTAS bound: a statement that fails to bind leaves nothing
    // behind for a later CTAS of the same name. PlanLakeCreateTableAs takes them.
    LakeTableName name = ValueOrThrow(ResolveLakeTableName(context, ctas->table));
    if (!ctas->clauses.location.empty()) {
      ctas->clauses.location = NormalizeLocation(ctas->clauses.location);
    }
    StashCtasClauses(context, name.schema, name.name, std::move(ctas->clauses));
  }
  return bound;
}

class LakeOperatorExtension final : public duckdb::OperatorExtension {
 public:
  LakeOperatorExtension() { Bind = LakeBind; }
  std::string GetName() override { return "lake_sql"; }
  duckdb::unique_ptr<duckdb::LogicalExtensionOperator> Deserialize(duckdb::Deserializer&) override {
    throw duckdb::NotImplementedException("lake: lake_sql has no serialized operators");
  }
};

// Returns the local folder a table name names, or nullopt for other URI schemes.
std::optional<std::string> LocalFolder(const std::string& name) {
  constexpr std::string_view kFileScheme = "file://";
  if (name.compare(0, kFileScheme.size(), kFileScheme) == 0) return name.substr(kFileScheme.size());
  if (name.find("://") != std::string::npos) return std::nullopt;
  return name;
}

duckdb::unique_ptr<duckdb::TableRef> DeltaFolderScan(
    duckdb::ClientContext& context, duckdb::ReplacementScanInput& input,
    duckdb::optional_ptr<duckdb::ReplacementScanData>) {
  if (!input.catalog_name.empty() || !input.schema_name.empty()) return nullptr;
  const std::string& name = input.table_name;
  std::optional<std::string> folder = LocalFolder(name);
  if (!folder || folder->empty()) return nullptr;
  try {
    auto& fs = duckdb::FileSystem::GetFileSystem(context);
    if (!fs.DirectoryExists(fs.JoinPath(*folder, "_delta_log"))) return nullptr;
  } catch (const std::exception&) {
    return nullptr;  // not a readable local folder: DuckDB's own error explains it best
  }
  auto ref = duckdb::make_uniq<duckdb::TableFunctionRef>();
  duckdb::vector<duckdb::unique_ptr<duckdb::ParsedExpression>> children;
  children.push_back(duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value(name)));
  ref->function = duckdb::make_uniq<duckdb::FunctionExpression>("delta_scan", std::move(children));
  return ref;
}

}  // namespace

void RegisterLakeSql(duckdb::DatabaseInstance& db) {
  // Registered on the live instance's config: the instance copied the DBConfig it was built
  // from, and does not copy operator extensions at all (DUCKDB-INTEGRATION.md §2.3).
  auto& config = duckdb::DBConfig::GetConfig(db);
  duckdb::ParserExtension parser_extension;
  parser_extension.parse_function = LakeParse;
  parser_extension.plan_function = LakePlan;
  config.parser_extensions.push_back(std::move(parser_extension));
  config.operator_extensions.push_back(duckdb::make_uniq<LakeOperatorExtension>());
  // First in line: it answers only for folders holding _delta_log/, which no other
  // replacement scan (CSV/Parquet/JSON by file extension) should claim.
  config.replacement_scans.insert(config.replacement_scans.begin(),
                                  duckdb::ReplacementScan(DeltaFolderScan));
  RegisterInspectFunctions(db);
  RegisterRestoreVacuum(db);
  RegisterMaintenance(db);
  RegisterTableChanges(db);
  RegisterLakeMerge(db);
}

}  // namespace lake::engine::internal
