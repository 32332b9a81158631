// INSERT and CREATE TABLE AS SELECT through the lake catalog.
//
// Design notes.
//  (1) Streaming: the rows never gather in lake's memory. The statement's plan feeds a
//      projection (write_plan.h, the same SQL data_writer's COPY runs, bound here against
//      the plan's columns) into DuckDB's own PhysicalCopyToFile, configured as
//      PhysicalPlanGenerator::CreatePlan(LogicalCopyToFile&) would for COPY ... TO '<root>'
//      (FORMAT parquet, FILENAME_PATTERN 'part-{uuidv7}.<codec>', RETURN_STATS,
//      PARTITION_BY / FILE_SIZE_BYTES). Its source hands one statistics row per written file to
//      LakeInsert, which turns them into AddFiles (write_plan.h, shared with data_writer).
//  (2) Insertion order is not preserved across files (Delta has none), so the copy sinks in
//      parallel whenever the Parquet function supports it (execution_mode(false, false)).
//  (3) Nothing is visible until DuckDB commits: LakeInsert stages its adds in the DuckDB
//      transaction (LakeWrites); LakeTransactionManager::CommitTransaction commits one Delta
//      version per table with delta::Transaction, read version = the version the statement
//      pinned (a blind append: nothing but metadata/protocol/app-id conflicts). ROLLBACK drops
//      the staged adds; their files are orphans no commit names (VACUUM removes them).
//  (4) Refusals come before any file is written: the writer gate (Transaction::Begin), the
//      column check (types the query gives vs the table's, listing every difference), types
//      Delta cannot hold (CTAS). NOT NULL and CHECK constraints are checked per row in the
//      projection; a failing row raises with its values and nothing is committed.
//  (5) Idempotent writes (PROTOCOL.md "Transaction Identifiers"): with lake.txnAppId and
//      lake.txnVersion set, a table whose txn for that app is already >= the version gets no
//      write at all (the statement reports 0 rows); otherwise the commit carries the txn.
//  (6) A checkpoint is attempted after a commit when delta.checkpointInterval says so; its
//      failure is logged and ignored (issue #3 §4: a commit never fails on a checkpoint).
//  (7) Overwrites (docs/sql-syntax.md "Writes") commit their adds with the removes of what
//      they replace, staged when the rows are written (LakeInsert::Finalize):
//      - INSERT OVERWRITE t: every live file (the read is the whole table);
//      - ... PARTITION (p = v): the rows where p = v (row_removal.h; whole files, as the
//        predicate is on partition columns) -- Spark's static partition overwrite;
//      - in dynamic mode (lake.partitionOverwriteMode): the files of the partitions written;
//      - INSERT INTO t REPLACE WHERE pred: the rows where pred holds (row_removal.h: files
//        partly matching are rewritten), and every written row must satisfy pred (checked
//        like a CHECK constraint, so a bad row fails the statement before the commit).
//      The read recorded for conflicts is the predicate (or the whole table, or the written
//      partitions), so a concurrent write into what is replaced fails one of the two commits.
//      An overwrite must be the transaction's first write to its table: staged, uncommitted
//      adds of an earlier statement are not visible to it (loud error, not a silent keep).
#include "engine/internal/lake_write.h"

#include <chrono>
#include <set>
#include <cstdio>

#include "base/strings.h"
#include "delta/checkpoint.h"
#include "delta/table_features.h"
#include "duckdb/catalog/catalog_entry/copy_function_catalog_entry.hpp"
#include "duckdb/catalog/catalog_entry/schema_catalog_entry.hpp"
#include "duckdb/catalog/catalog_entry/table_catalog_entry.hpp"
#include "duckdb/execution/expression_executor.hpp"
#include "duckdb/execution/operator/persistent/physical_copy_to_file.hpp"
#include "duckdb/execution/operator/projection/physical_projection.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/parsed_data/copy_info.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "duckdb/planner/binder.hpp"
#include "duckdb/planner/expression/bound_cast_expression.hpp"
#include "duckdb/planner/expression/bound_columnref_expression.hpp"
#include "duckdb/planner/expression/bound_constant_expression.hpp"
#include "duckdb/planner/expression/bound_reference_expression.hpp"
#include "duckdb/planner/expression_binder.hpp"
#include "duckdb/planner/expression_iterator.hpp"
#include "duckdb/planner/operator/logical_create_table.hpp"
#include "duckdb/planner/operator/logical_insert.hpp"
#include "duckdb/planner/operator/logical_update.hpp"
#include "duckdb/planner/parsed_data/bound_create_table_info.hpp"
#include "engine/data_writer.h"
#include "engine/internal/change_data_writer.h"
#include "engine/internal/database_impl.h"
#include "delta/literal.h"
#include "engine/internal/errors.h"
#include "engine/internal/lake_dml.h"
#include "engine/internal/row_removal.h"
#include "engine/internal/scan.h"
#include "engine/internal/write_plan.h"

namespace lake::engine::internal {
namespace {

using duckdb::ClientContext;
using duckdb::LogicalType;

constexpr const char* kSourceAlias = "__lake_src";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- Binding the write projection ----

// Replaces references to the generic binding by positions in the operator's input.
void ToReferences(duckdb::unique_ptr<duckdb::Expression>& expr) {
  if (expr->GetExpressionClass() == duckdb::ExpressionClass::BOUND_COLUMN_REF) {
    auto& ref = expr->Cast<duckdb::BoundColumnRefExpression>();
    expr = duckdb::make_uniq<duckdb::BoundReferenceExpression>(ref.alias, ref.return_type,
                                                               ref.binding.column_index);
    return;
  }
  duckdb::ExpressionIterator::EnumerateChildren(
      *expr, [](duckdb::unique_ptr<duckdb::Expression>& child) { ToReferences(child); });
}

// Binds SQL expressions over `alias`.(names) to expressions over the input positions.
std::vector<duckdb::unique_ptr<duckdb::Expression>> BindOverInput(
    ClientContext& context, const duckdb::vector<std::string>& names,
    const duckdb::vector<LogicalType>& types, const std::vector<std::string>& sql) {
  auto binder = duckdb::Binder::CreateBinder(context);
  const duckdb::idx_t table_index = binder->GenerateTableIndex();
  binder->bind_context.AddGenericBinding(table_index, kSourceAlias, names, types);
  std::vector<duckdb::unique_ptr<duckdb::Expression>> out;
  for (const std::string& text : sql) {
    auto parsed = duckdb::Parser::ParseExpressionList(text, context.GetParserOptions());
    if (parsed.size() != 1) {
      ThrowStatus(Status::Internal(StrCat("write projection: cannot parse ", text)));
    }
    duckdb::ExpressionBinder expression_binder(*binder, context);
    auto bound = expression_binder.Bind(parsed[0]);
    ToReferences(bound);
    out.push_back(std::move(bound));
  }
  return out;
}

// Replaces constant subexpressions (CAST('2024-01-01' AS DATE)) by their values, so that
// the predicate translation (scan.h) sees column-vs-constant comparisons.
void FoldConstants(ClientContext& context, duckdb::unique_ptr<duckdb::Expression>& expr) {
  if (expr->IsFoldable() && expr->GetExpressionClass() != duckdb::ExpressionClass::BOUND_CONSTANT) {
    duckdb::Value value;
    if (duckdb::ExpressionExecutor::TryEvaluateScalar(context, *expr, value)) {
      expr = duckdb::make_uniq<duckdb::BoundConstantExpression>(value);
      return;
    }
  }
  duckdb::ExpressionIterator::EnumerateChildren(
      *expr, [&](duckdb::unique_ptr<duckdb::Expression>& child) { FoldConstants(context, child); });
}

// ---- The insert operator ----

struct WriteTarget {
  std::string display_name;
  std::string location;
  delta::Version read_version = -1;  // -1: the create of a new table
  bool replace = false;              // CREATE OR REPLACE of an existing table
  std::optional<delta::Metadata> new_metadata;  // CTAS
  std::optional<NewTable> register_as;          // CTAS of a new name
  std::shared_ptr<TableDirectory> directory;
  std::optional<std::pair<std::string, int64_t>> txn;  // idempotent write
  std::string operation;
  std::string operation_parameters;
  // Overwrites (design note 7).
  // kRowIds: UPDATE (lake_dml.h) — the rows whose ids `row_ids` collected.
  enum class Overwrite { kNone, kAll, kRowsWhere, kWrittenPartitions, kRowIds };
  Overwrite overwrite = Overwrite::kNone;
  std::string overwrite_predicate;                 // kRowsWhere: SQL over the columns
  // kRowsWhere: its skipping form, if any. On the heap: DuckDB's plan arena aligns operators
  // to 8 bytes and a Predicate's literals (__int128) need 16.
  std::shared_ptr<const delta::Predicate> read_predicate;
  std::shared_ptr<RowIdCollector> row_ids;   // kRowIds
  std::shared_ptr<const DmlRead> dml_read;   // kRowIds: what the statement read
  std::function<void(ClientContext&)> settle;  // PlanLakeRowRewrite
  std::function<int64_t()> result_count;     // PlanLakeRowRewrite: the statement's count
  std::function<std::string(const PendingTableWrite&)> metrics_at_commit;
  decltype(RowRewrite::change_data) change_data;  // PlanLakeRowRewrite (MERGE)
};

// A canonical text of a file's partition tuple (typed, so that "1" and "01" of an int
// column, or two spellings of one timestamp, are the same partition).
std::string PartitionTupleKey(const delta::AddFile& add, const delta::Schema& schema,
                              const std::vector<std::string>& partition_columns,
                              const std::string& mapping_mode) {
  std::string key;
  for (const std::string& column : partition_columns) {
    const delta::StructField* field = delta::FindField(schema, column);
    if (field == nullptr) continue;
    const std::string physical = field->PhysicalNameFor(mapping_mode);
    std::optional<std::string> raw;
    for (const auto& [k, v] : add.partition_values) {
      if (k == physical) raw = v;
    }
    Result<delta::Literal> value = delta::ParsePartitionValue(field->type, raw);
    if (!value.ok()) {
      key += StrCat("\x03", raw.value_or(""));  // unparsable: compare the text
    } else if (delta::IsNull(*value)) {
      key += "\x01";
    } else {
      key += StrCat("\x02", delta::LiteralToString(*value));
    }
    key += '\0';
  }
  return key;
}

struct InsertGlobalState final : duckdb::GlobalSinkState {
  std::mutex mu;
  std::vector<delta::AddFile> adds;
  int64_t rows = 0;
  bool emitted = false;
};

class LakeInsert final : public duckdb::PhysicalOperator {
 public:
  LakeInsert(duckdb::PhysicalPlan& physical_plan, duckdb::Catalog& catalog, WriteTarget target,
             WriteProjection projection, delta::Schema schema, WriteOptions options, bool skip)
      : PhysicalOperator(physical_plan, duckdb::PhysicalOperatorType::EXTENSION,
                         {LogicalType::BIGINT}, 1),
        catalog_(catalog),
        target_(std::move(target)),
        projection_(std::move(projection)),
        schema_(std::move(schema)),
        options_(std::move(options)),
        skip_(skip) {}

  std::string GetName() const override {
    return target_.operation.rfind("CREATE", 0) == 0 ? "LAKE_CREATE_TABLE_AS" : "LAKE_INSERT";
  }
  duckdb::InsertionOrderPreservingMap<std::string> ParamsToString() const override {
    duckdb::InsertionOrderPreservingMap<std::string> out;
    out["Table"] = target_.display_name;
    return out;
  }

  bool IsSink() const override { return true; }
  bool ParallelSink() const override { return false; }
  bool IsSource() const override { return true; }

  duckdb::unique_ptr<duckdb::GlobalSinkState> GetGlobalSinkState(ClientContext&) const override {
    // Not the place to reset the row ids of an earlier execution: this pipeline may be
    // initialized after the producers handed them over (RowIdCollector::query).
    return duckdb::make_uniq<InsertGlobalState>();
  }

  // One row per written file: filename, count, file_size_bytes, footer_size_bytes,
  // column_statistics MAP(path -> MAP(stat -> value)), partition_keys MAP(name -> value).
  duckdb::SinkResultType Sink(duckdb::ExecutionContext&, duckdb::DataChunk& chunk,
                              duckdb::OperatorSinkInput& input) const override {
    auto& state = input.global_state.Cast<InsertGlobalState>();
    if (skip_) return duckdb::SinkResultType::NEED_MORE_INPUT;
    for (duckdb::idx_t row = 0; row < chunk.size(); ++row) {
      WrittenFile file;
      file.filename = chunk.GetValue(0, row).ToString();
      file.num_records = chunk.GetValue(1, row).GetValue<int64_t>();
      duckdb::Value stats = chunk.GetValue(4, row);
      if (!stats.IsNull()) {
        for (const duckdb::Value& entry : duckdb::MapValue::GetChildren(stats)) {
          const auto& kv = duckdb::StructValue::GetChildren(entry);
          std::optional<std::vector<std::string>> path = ParseStatsColumnPath(kv[0].ToString());
          if (!path || kv[1].IsNull()) continue;  // unknown key shape: no stats, never wrong ones
          WrittenColumnStats column{std::move(*path), {}};
          for (const duckdb::Value& stat : duckdb::MapValue::GetChildren(kv[1])) {
            const auto& skv = duckdb::StructValue::GetChildren(stat);
            if (!skv[0].IsNull() && !skv[1].IsNull()) {
              column.stats[skv[0].ToString()] = skv[1].ToString();
            }
          }
          file.stats.push_back(std::move(column));
        }
      }
      duckdb::Value keys = chunk.GetValue(5, row);
      if (!keys.IsNull()) {
        for (const duckdb::Value& entry : duckdb::MapValue::GetChildren(keys)) {
          const auto& kv = duckdb::StructValue::GetChildren(entry);
          file.partition_keys[kv[0].ToString()] =
              kv[1].IsNull() ? std::optional<std::string>() : kv[1].ToString();
        }
      }
      std::optional<delta::AddFile> add =
          ValueOrThrow(AddFileForWrittenFile(projection_, schema_, options_, file));
      std::lock_guard lock(state.mu);
      state.rows += file.num_records;
      if (add) state.adds.push_back(std::move(*add));
    }
    return duckdb::SinkResultType::NEED_MORE_INPUT;
  }

  duckdb::SinkFinalizeType Finalize(duckdb::Pipeline&, duckdb::Event&, ClientContext& context,
                                    duckdb::OperatorSinkFinalizeInput& input) const override {
    auto& state = input.global_state.Cast<InsertGlobalState>();
    if (target_.row_ids) target_.row_ids->Settle(context.transaction.GetActiveQuery());
    if (target_.settle) target_.settle(context);
    // An UPDATE (a MERGE) that changed nothing commits nothing.
    const bool nothing_updated = target_.overwrite == WriteTarget::Overwrite::kRowIds &&
                                 target_.row_ids->count == 0 && state.rows == 0;
    if (nothing_updated) {
      // The scan saw the pinned snapshot only: rows an earlier statement of this transaction
      // wrote were not candidates (design note 7), so "nothing matched" may be wrong.
      auto& transaction = duckdb::Transaction::Get(context, catalog_).Cast<LakeWriteTransaction>();
      if (transaction.writes().Contains(target_.location)) {
        OkOrThrow(Status::NotSupported(StrCat(target_.operation, " of ", target_.display_name,
                                              " after another write to it in the same "
                                              "transaction"))
                      .WithHint("COMMIT the earlier write first"));
      }
    }
    if (!skip_ && !nothing_updated) OkOrThrow(Stage(context, state));
    return duckdb::SinkFinalizeType::READY;
  }

  duckdb::SourceResultType GetData(duckdb::ExecutionContext&, duckdb::DataChunk& chunk,
                                   duckdb::OperatorSourceInput&) const override {
    auto& state = sink_state->Cast<InsertGlobalState>();
    chunk.SetCardinality(1);
    const int64_t count = target_.result_count ? target_.result_count() : state.rows;
    chunk.SetValue(0, 0, duckdb::Value::BIGINT(skip_ ? 0 : count));
    return duckdb::SourceResultType::FINISHED;
  }

 private:
  // Starts the pending write of the target table in this DuckDB transaction; `written`:
  // the files this statement wrote (dynamic partition overwrite replaces their partitions).
  Result<std::unique_ptr<PendingTableWrite>> StartPending(
      duckdb::DatabaseInstance& db, SnapshotCache& cache,
      const std::vector<delta::AddFile>& written) const {
    auto pending = std::make_unique<PendingTableWrite>();
    pending->display_name = target_.display_name;
    pending->location = target_.location;
    pending->operation = target_.operation;
    pending->operation_parameters = target_.operation_parameters;
    pending->register_as = target_.register_as;
    pending->directory = target_.directory;
    pending->metrics_at_commit = target_.metrics_at_commit;
    if (target_.read_version >= 0) {
      LAKE_ASSIGN_OR_RETURN(pending->read, cache.AtVersion(target_.location, target_.read_version));
      LAKE_ASSIGN_OR_RETURN(pending->txn,
                            delta::Transaction::Begin(*pending->read.engine, pending->read.snapshot));
    } else {
      LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store,
                            storage::OpenStore(target_.location));
      pending->read.table_uri = store->uri();
      pending->read.engine = MakeDeltaEngine(db, std::move(store));
      LAKE_ASSIGN_OR_RETURN(pending->txn, delta::Transaction::BeginCreate(*pending->read.engine));
    }
    if (target_.new_metadata) {
      LAKE_RETURN_IF_ERROR(pending->txn->UpdateMetadata(*target_.new_metadata));
    }
    if (target_.replace) {
      // REPLACE TABLE AS SELECT: every live file goes (Spark's ReplaceTable semantics).
      pending->txn->ReadWholeTable();
      const int64_t now = NowMs();
      for (const delta::AddFile& add : pending->read.snapshot->files()) {
        delta::RemoveFile remove = delta::Transaction::RemoveFor(add, now);
        // The old file's stats name the old schema's columns; the commit's metaData is the
        // new one, so they would read as stats of unknown columns. Optional in a remove.
        remove.stats.reset();
        LAKE_RETURN_IF_ERROR(pending->txn->StageRemove(std::move(remove)));
        ++pending->num_removed_files;
        pending->num_removed_bytes += add.size;
      }
    }
    if (target_.overwrite != WriteTarget::Overwrite::kNone) {
      LAKE_RETURN_IF_ERROR(StageOverwrite(db, *pending, written));
    }
    return pending;
  }

  // Where row_removal.h reads and writes for this target.
  RowRemovalTarget RemovalTarget(PendingTableWrite& pending, int64_t now_ms) const {
    RowRemovalTarget t;
    t.location = target_.location;
    t.snapshot = pending.read.snapshot.get();
    t.store = &pending.read.engine->store();
    t.schema = &schema_;
    t.options = options_;
    t.now_ms = now_ms;
    return t;
  }

  // Where change_data_writer.h writes this target's change data.
  ChangeDataTarget ChangeTarget(PendingTableWrite& pending) const {
    ChangeDataTarget t;
    t.location = target_.location;
    t.snapshot = pending.read.snapshot.get();
    t.store = &pending.read.engine->store();
    t.schema = &schema_;
    t.options = options_;
    return t;
  }

  // Stages a planned row removal: its removes, and the rewritten rows' adds.
  static Status StageRemoval(PendingTableWrite& pending, RowRemoval removal) {
    for (delta::RemoveFile& remove : removal.removes) {
      LAKE_RETURN_IF_ERROR(pending.txn->StageRemove(std::move(remove)));
    }
    for (delta::AddFile& add : removal.adds) {
      pending.num_output_bytes += add.size;
      ++pending.num_files;
      LAKE_RETURN_IF_ERROR(pending.txn->StageAdd(std::move(add)));
    }
    pending.num_removed_files += static_cast<int64_t>(removal.removes.size());
    pending.num_removed_bytes += removal.bytes_removed;
    pending.num_copied_rows += removal.rows_copied;
    // Files added back under a deletion vector are not new data (dv_removal.h).
    pending.num_files -= removal.files_dv_marked;
    pending.num_output_bytes -= removal.bytes_dv_marked;
    pending.num_dvs_added += removal.dvs_added;
    pending.num_dvs_removed += removal.dvs_removed;
    pending.num_dvs_updated += removal.dvs_updated;
    return Status::OK();
  }

  // Stages the removes of an overwrite (design note 7).
  Status StageOverwrite(duckdb::DatabaseInstance& db, PendingTableWrite& pending,
                        const std::vector<delta::AddFile>& written) const {
    delta::Transaction& txn = *pending.txn;
    const delta::Snapshot& snap = *pending.read.snapshot;
    const int64_t now = NowMs();
    switch (target_.overwrite) {
      case WriteTarget::Overwrite::kNone:
        return Status::OK();
      case WriteTarget::Overwrite::kAll:
        txn.ReadWholeTable();
        for (const delta::AddFile& add : snap.files()) {
          LAKE_RETURN_IF_ERROR(txn.StageRemove(delta::Transaction::RemoveFor(add, now)));
          ++pending.num_removed_files;
          pending.num_removed_bytes += add.size;
        }
        return Status::OK();
      case WriteTarget::Overwrite::kWrittenPartitions: {
        const std::vector<std::string>& partitions = snap.metadata().partition_columns;
        const std::string mode = snap.column_mapping_mode();
        auto written_keys = std::make_shared<std::set<std::string>>();
        for (const delta::AddFile& add : written) {
          written_keys->insert(PartitionTupleKey(add, snap.schema(), partitions, mode));
        }
        for (const delta::AddFile& add : snap.files()) {
          if (!written_keys->count(PartitionTupleKey(add, snap.schema(), partitions, mode))) {
            continue;
          }
          LAKE_RETURN_IF_ERROR(txn.StageRemove(delta::Transaction::RemoveFor(add, now)));
          ++pending.num_removed_files;
          pending.num_removed_bytes += add.size;
        }
        // A concurrent append into a partition we replace would survive the overwrite.
        txn.ReadMatching(
            [written_keys, schema = snap.schema(), partitions, mode](const delta::AddFile& add) {
              return written_keys->count(PartitionTupleKey(add, schema, partitions, mode)) > 0;
            },
            "the partitions INSERT OVERWRITE (dynamic) replaces");
        return Status::OK();
      }
      case WriteTarget::Overwrite::kRowIds: {
        LAKE_RETURN_IF_ERROR(
            target_.row_ids->Finish(StrCat(target_.operation, " ", target_.display_name)));
        if (target_.dml_read && target_.dml_read->predicate) {
          txn.ReadPredicate(*target_.dml_read->predicate);
        } else {
          txn.ReadWholeTable();
        }
        LAKE_ASSIGN_OR_RETURN(RowRemoval removal,
                              RemoveRows(db, RemovalTarget(pending, now), target_.row_ids->rows));
        if (target_.change_data && RecordsChangeData(txn.metadata())) {
          // The rewrite tells its own change types (MERGE: lake_merge.h).
          LAKE_ASSIGN_OR_RETURN(auto cdcs, target_.change_data(db, ChangeTarget(pending),
                                                               target_.row_ids->rows));
          LAKE_RETURN_IF_ERROR(StageChangeData(txn, std::move(cdcs), &pending.num_change_files));
        } else if (target_.operation == "UPDATE" && RecordsChangeData(txn.metadata())) {
          // Spark's UpdateCommand with change data feed: the updated rows as they were
          // (preimages) and as `written` holds them (postimages), so the copied rows of the
          // rewritten files are no change (change_data_writer.h rule 1). Other row rewrites
          // (MERGE) tell their own change types; without cdc files the writer gate refuses.
          const ChangeDataTarget cdc = ChangeTarget(pending);
          LAKE_ASSIGN_OR_RETURN(auto pre, WriteChangeRowsAt(db, cdc, target_.row_ids->rows,
                                                            ChangeType::kUpdatePreimage));
          LAKE_RETURN_IF_ERROR(StageChangeData(txn, std::move(pre), &pending.num_change_files));
          LAKE_ASSIGN_OR_RETURN(
              auto post, WriteChangeRowsOfFiles(db, cdc, written, ChangeType::kUpdatePostimage));
          LAKE_RETURN_IF_ERROR(StageChangeData(txn, std::move(post), &pending.num_change_files));
        }
        return StageRemoval(pending, std::move(removal));
      }
      case WriteTarget::Overwrite::kRowsWhere: {
        if (target_.read_predicate) {
          txn.ReadPredicate(*target_.read_predicate);
        } else {
          txn.ReadWholeTable();
        }
        LAKE_ASSIGN_OR_RETURN(
            RowRemoval removal,
            RemoveRowsWhere(db, RemovalTarget(pending, now), target_.overwrite_predicate));
        if (!removal.adds.empty() && RecordsChangeData(txn.metadata())) {
          // The copied rows would read as deleted and inserted again (change_data_writer.h
          // rules 1 and 3): cdc files hold the rows the predicate removes, from every removed
          // file, and the rows written. Whole-file replaces need none (rule 2).
          std::vector<std::string> removed;
          for (const delta::RemoveFile& r : removal.removes) removed.push_back(SqlQuote(r.path));
          const ChangeDataTarget cdc = ChangeTarget(pending);
          std::unique_ptr<Session> session = NewSession(db);
          LAKE_ASSIGN_OR_RETURN(
              auto deleted,
              WriteChangeRows(*session, cdc,
                              StrCat("SELECT * FROM delta_scan(", SqlQuote(target_.location),
                                     ", version := ", snap.version(), ", files := [",
                                     StrJoin(removed, ", "), "]) WHERE (\n",
                                     target_.overwrite_predicate, "\n)"),
                              ChangeType::kDelete));
          LAKE_RETURN_IF_ERROR(StageChangeData(txn, std::move(deleted), &pending.num_change_files));
          LAKE_ASSIGN_OR_RETURN(auto inserted,
                                WriteChangeRowsOfFiles(db, cdc, written, ChangeType::kInsert));
          LAKE_RETURN_IF_ERROR(
              StageChangeData(txn, std::move(inserted), &pending.num_change_files));
        }
        pending.num_deleted_rows += removal.rows_removed;
        pending.report_row_rewrites = true;
        return StageRemoval(pending, std::move(removal));
      }
    }
    return Status::OK();
  }

  // Stages the written files in the DuckDB transaction (design note 3).
  Status Stage(ClientContext& context, InsertGlobalState& state) const {
    auto& transaction = duckdb::Transaction::Get(context, catalog_).Cast<LakeWriteTransaction>();
    duckdb::DatabaseInstance& db = duckdb::DatabaseInstance::GetDatabase(context);
    SnapshotCache& cache = SnapshotCache::Get(db);
    Status make_error;
    bool created = false;
    auto make = [&]() -> std::unique_ptr<PendingTableWrite> {
      created = true;
      Result<std::unique_ptr<PendingTableWrite>> pending = StartPending(db, cache, state.adds);
      if (!pending.ok()) {
        make_error = pending.status();
        return nullptr;
      }
      return std::move(pending).value();
    };
    return transaction.writes().With(
        target_.location, make,
        [&](std::unique_ptr<PendingTableWrite>& pending) -> Status {
          if (!pending) return make_error;
          if (!created && target_.overwrite != WriteTarget::Overwrite::kNone) {
            // Design note 7: the earlier statement's adds are staged, not readable.
            return Status::NotSupported(
                       StrCat("an overwrite of ", target_.display_name,
                              " after another write to it in the same transaction"))
                .WithHint("COMMIT the earlier write first, or make the overwrite the "
                          "transaction's first write to the table");
          }
          for (delta::AddFile& add : state.adds) {
            pending->num_output_bytes += add.size;
            ++pending->num_files;
            LAKE_RETURN_IF_ERROR(pending->txn->StageAdd(std::move(add)));
          }
          state.adds.clear();
          pending->num_output_rows += state.rows;
          if (target_.txn && !pending->txn_staged) {
            LAKE_RETURN_IF_ERROR(pending->txn->SetTxn(target_.txn->first, target_.txn->second));
            pending->txn_staged = true;
          }
          return Status::OK();
        });
  }

  duckdb::Catalog& catalog_;
  WriteTarget target_;
  WriteProjection projection_;
  delta::Schema schema_;
  WriteOptions options_;
  bool skip_;
};

// ---- Planning ----

// The settings of an idempotent write (design note 5), or nullopt.
std::optional<std::pair<std::string, int64_t>> TxnSetting(ClientContext& context) {
  duckdb::Value app, version;
  context.TryGetCurrentSetting(kTxnAppIdSetting, app);
  context.TryGetCurrentSetting(kTxnVersionSetting, version);
  const bool has_app = !app.IsNull() && !app.ToString().empty();
  const bool has_version = !version.IsNull() && version.GetValue<int64_t>() >= 0;
  if (has_app != has_version) {
    ThrowStatus(Status::InvalidArgument(
                    StrCat("idempotent writes need both ", kTxnAppIdSetting, " and ",
                           kTxnVersionSetting, "; only ", has_app ? kTxnAppIdSetting
                                                                  : kTxnVersionSetting,
                           " is set"))
                    .WithHint(StrCat("SET ", has_app ? kTxnVersionSetting : kTxnAppIdSetting,
                                     " too, or RESET the other")));
  }
  if (!has_app) return std::nullopt;
  return std::make_pair(app.ToString(), version.GetValue<int64_t>());
}

// Whether lake.partitionOverwriteMode says dynamic (Spark's default, static, otherwise).
bool PartitionOverwriteIsDynamic(ClientContext& context) {
  duckdb::Value value;
  context.TryGetCurrentSetting(kPartitionOverwriteModeSetting, value);
  const std::string mode = value.IsNull() ? "static" : ToLower(value.ToString());
  if (mode == "dynamic") return true;
  if (mode == "static") return false;
  ThrowStatus(Status::InvalidArgument(StrCat(kPartitionOverwriteModeSetting, " is '", mode,
                                             "'; it takes 'static' or 'dynamic'")));
}

std::string PartitionByJson(const std::vector<std::string>& columns) {
  std::vector<std::string> quoted;
  for (const std::string& c : columns) quoted.push_back(JsonQuote(c));
  return JsonQuote(StrCat("[", StrJoin(quoted, ","), "]"));
}

// Plans projection -> PhysicalCopyToFile -> LakeInsert over `plan` (design note 1).
duckdb::PhysicalOperator& PlanWrite(ClientContext& context, duckdb::PhysicalPlanGenerator& planner,
                                    duckdb::PhysicalOperator& plan, duckdb::Catalog& catalog,
                                    const duckdb::vector<std::string>& names,
                                    const std::vector<ResultColumn>& columns,
                                    const delta::Schema& schema, const WriteOptions& options,
                                    const std::vector<delta::TableConstraint>& constraints,
                                    WriteTarget target, bool skip) {
  WriteProjection projection = ValueOrThrow(PlanWriteProjection(
      columns, kSourceAlias, target.location, schema, options, constraints));
  if (skip) {
    auto& insert = planner.Make<LakeInsert>(catalog, std::move(target), std::move(projection),
                                            schema, options, /*skip=*/true);
    insert.children.push_back(plan);
    return insert;
  }
  std::vector<std::string> sql;
  for (const WriteColumn& c : projection.columns) sql.push_back(c.expr);
  std::vector<duckdb::unique_ptr<duckdb::Expression>> bound =
      BindOverInput(context, names, plan.types, sql);
  duckdb::vector<LogicalType> all_types;
  duckdb::vector<std::string> all_names, data_names;
  duckdb::vector<LogicalType> data_types;
  duckdb::vector<duckdb::idx_t> partition_indexes;
  duckdb::vector<duckdb::unique_ptr<duckdb::Expression>> expressions;
  for (size_t i = 0; i < bound.size(); ++i) {
    const WriteColumn& c = projection.columns[i];
    all_types.push_back(bound[i]->return_type);
    all_names.push_back(c.physical_name);
    if (c.is_partition) {
      partition_indexes.push_back(i);
    } else {
      data_names.push_back(c.physical_name);
      data_types.push_back(bound[i]->return_type);
    }
    expressions.push_back(std::move(bound[i]));
  }
  auto& projection_op = planner.Make<duckdb::PhysicalProjection>(
      all_types, std::move(expressions), plan.estimated_cardinality);
  projection_op.children.push_back(plan);

  // The Parquet copy function, bound as COPY ... TO would bind it: with the columns that go
  // into the files (partition columns live in the folder names only).
  auto& copy_entry =
      duckdb::Catalog::GetSystemCatalog(context).GetEntry<duckdb::CopyFunctionCatalogEntry>(
          context, DEFAULT_SCHEMA, "parquet");
  duckdb::CopyInfo info;
  info.is_from = false;
  info.format = "parquet";
  info.file_path = projection.root;
  info.options["compression"].emplace_back(duckdb::Value(options.compression));
  if (!projection.field_ids.empty()) {
    auto ids_bound = BindOverInput(context, names, plan.types,
                                   {StrCat("{", StrJoin(projection.field_ids, ", "), "}")});
    info.options["field_ids"].push_back(
        duckdb::ExpressionExecutor::EvaluateScalar(context, *ids_bound[0]));
  }
  duckdb::CopyFunctionBindInput bind_input(info);
  bind_input.file_extension = "parquet";
  duckdb::CopyFunction function = copy_entry.function;
  auto bind_data = function.copy_to_bind(context, bind_input, data_names, data_types);

  auto& copy = planner
                   .Make<duckdb::PhysicalCopyToFile>(
                       duckdb::GetCopyFunctionReturnLogicalTypes(
                           duckdb::CopyFunctionReturnType::WRITTEN_FILE_STATISTICS),
                       function, std::move(bind_data), plan.estimated_cardinality)
                   .Cast<duckdb::PhysicalCopyToFile>();
  copy.file_path = projection.root;
  copy.use_tmp_file = false;
  copy.filename_pattern.SetFilenamePattern(projection.filename_pattern);
  copy.file_extension = "parquet";
  copy.overwrite_mode = duckdb::CopyOverwriteMode::COPY_OVERWRITE_OR_IGNORE;
  copy.per_thread_output = false;
  copy.return_type = duckdb::CopyFunctionReturnType::WRITTEN_FILE_STATISTICS;
  copy.hive_file_pattern = true;
  copy.names = all_names;
  copy.expected_types = all_types;
  if (!partition_indexes.empty()) {
    // DUCKDB-INTEGRATION.md §2.4 (2): partitioned output needs write_empty_file and no
    // rotation, else the sink opens the folder as a file.
    copy.partition_output = true;
    copy.partition_columns = partition_indexes;
    copy.write_partition_columns = false;
    copy.write_empty_file = true;
    copy.rotate = false;
  } else {
    copy.partition_output = false;
    copy.write_partition_columns = true;
    copy.write_empty_file = false;
    copy.file_size_bytes = static_cast<duckdb::idx_t>(options.target_file_size_bytes);
    copy.rotate =
        function.rotate_files && function.rotate_files(*copy.bind_data, copy.file_size_bytes);
  }
  // Design note 2.
  copy.parallel = function.execution_mode &&
                  function.execution_mode(false, false) ==
                      duckdb::CopyFunctionExecutionMode::PARALLEL_COPY_TO_FILE;
  copy.children.push_back(projection_op);

  auto& insert = planner.Make<LakeInsert>(catalog, std::move(target), std::move(projection),
                                          schema, options, /*skip=*/false);
  insert.children.push_back(copy);
  return insert;
}

// Returns the types an INSERT's query gave before DuckDB's binder cast them to the table's
// (a projection of casts over the query), by insert column; the cast types where none.
std::vector<LogicalType> SourceTypes(duckdb::PhysicalOperator& plan) {
  std::vector<LogicalType> out = plan.types;
  if (plan.type != duckdb::PhysicalOperatorType::PROJECTION) return out;
  auto& projection = plan.Cast<duckdb::PhysicalProjection>();
  for (size_t i = 0; i < projection.select_list.size() && i < out.size(); ++i) {
    const auto& expr = *projection.select_list[i];
    if (expr.GetExpressionClass() == duckdb::ExpressionClass::BOUND_CAST) {
      out[i] = expr.Cast<duckdb::BoundCastExpression>().child->return_type;
    }
  }
  return out;
}

// The stashed CTAS clauses of one client, by "schema.table" (lower case). Dropped when the
// query ends: a statement that bound but never reached planning leaves nothing behind.
struct CtasClausesState final : duckdb::ClientContextState {
  std::mutex mu;
  std::map<std::string, CtasClauses> by_table;
  void QueryEnd() override {
    std::lock_guard lock(mu);
    by_table.clear();
  }
};

// The stashed INSERT clauses of one client, by "schema.table" (lower case); same lifetime.
struct InsertClausesState final : duckdb::ClientContextState {
  std::mutex mu;
  std::map<std::string, InsertClauses> by_table;
  void QueryEnd() override {
    std::lock_guard lock(mu);
    by_table.clear();
  }
};
constexpr const char* kInsertClausesKey = "lake_insert_clauses";

std::optional<InsertClauses> TakeInsertClauses(ClientContext& context, const std::string& schema,
                                               const std::string& table) {
  auto state = context.registered_state->Get<InsertClausesState>(kInsertClausesKey);
  if (!state) return std::nullopt;
  std::lock_guard lock(state->mu);
  auto it = state->by_table.find(StrCat(ToLower(schema), ".", ToLower(table)));
  if (it == state->by_table.end()) return std::nullopt;
  InsertClauses out = std::move(it->second);
  state->by_table.erase(it);
  return out;
}
constexpr const char* kCtasClausesKey = "lake_ctas_clauses";

std::function<std::optional<CtasClauses>(const std::string&, const std::string&)>&
CtasClausesForTesting() {
  static auto* fn =
      new std::function<std::optional<CtasClauses>(const std::string&, const std::string&)>();
  return *fn;
}

std::optional<CtasClauses> TakeCtasClauses(ClientContext& context, const std::string& schema,
                                           const std::string& table) {
  const std::string key = StrCat(ToLower(schema), ".", ToLower(table));
  auto state = context.registered_state->Get<CtasClausesState>(kCtasClausesKey);
  if (!state) {
    if (CtasClausesForTesting()) return CtasClausesForTesting()(schema, table);
    return std::nullopt;
  }
  std::lock_guard lock(state->mu);
  auto it = state->by_table.find(key);
  if (it == state->by_table.end()) {
    if (CtasClausesForTesting()) return CtasClausesForTesting()(schema, table);
    return std::nullopt;
  }
  CtasClauses out = std::move(it->second);
  state->by_table.erase(it);
  return out;
}

}  // namespace

void SetCtasClausesForTesting(
    std::function<std::optional<CtasClauses>(const std::string&, const std::string&)> fn) {
  CtasClausesForTesting() = std::move(fn);
}

void StashCtasClauses(ClientContext& context, const std::string& schema, const std::string& table,
                      CtasClauses clauses) {
  auto state = context.registered_state->GetOrCreate<CtasClausesState>(kCtasClausesKey);
  std::lock_guard lock(state->mu);
  state->by_table[StrCat(ToLower(schema), ".", ToLower(table))] = std::move(clauses);
}

namespace {

// The evolved schemas of the INSERTs being bound on one client, by table location.
struct SchemaOverrideState final : duckdb::ClientContextState {
  std::mutex mu;
  std::map<std::string, delta::Schema> by_location;
  void QueryEnd() override {
    std::lock_guard lock(mu);
    by_location.clear();
  }
};
constexpr const char* kSchemaOverrideKey = "lake_insert_schema_override";

}  // namespace

void SetInsertSchemaOverride(ClientContext& context, const std::string& location,
                             delta::Schema schema) {
  auto state = context.registered_state->GetOrCreate<SchemaOverrideState>(kSchemaOverrideKey);
  std::lock_guard lock(state->mu);
  state->by_location[location] = std::move(schema);
}

std::optional<delta::Schema> InsertSchemaOverride(ClientContext& context,
                                                  const std::string& location) {
  auto state = context.registered_state->Get<SchemaOverrideState>(kSchemaOverrideKey);
  if (!state) return std::nullopt;
  std::lock_guard lock(state->mu);
  auto it = state->by_location.find(location);
  if (it == state->by_location.end()) return std::nullopt;
  return it->second;
}

void StashInsertClauses(ClientContext& context, const std::string& schema,
                        const std::string& table, InsertClauses clauses) {
  auto state = context.registered_state->GetOrCreate<InsertClausesState>(kInsertClausesKey);
  std::lock_guard lock(state->mu);
  state->by_table[StrCat(ToLower(schema), ".", ToLower(table))] = std::move(clauses);
}

duckdb::PhysicalOperator& PlanLakeInsert(ClientContext& context,
                                         duckdb::PhysicalPlanGenerator& planner,
                                         duckdb::LogicalInsert& op,
                                         duckdb::optional_ptr<duckdb::PhysicalOperator> plan,
                                         const InsertTarget& target) {
  const std::string display = StrCat(target.table.schema, ".", target.table.name);
  if (op.return_chunk) {
    ThrowStatus(Status::NotSupported(StrCat("INSERT ... RETURNING into lake table ", display))
                    .WithHint("run a SELECT after the INSERT"));
  }
  if (op.on_conflict_info.action_type != duckdb::OnConflictAction::THROW) {
    ThrowStatus(Status::NotSupported(StrCat("INSERT ... ON CONFLICT into lake table ", display))
                    .WithHint("Delta tables have no keys; use MERGE INTO"));
  }
  if (!plan) ThrowStatus(Status::Internal(StrCat("INSERT into ", display, " without a query")));
  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  CachedTable read = ValueOrThrow(cache.AtVersion(target.table.location, target.version));
  // The writer gate and the table's rules, before anything is written (design note 4).
  std::unique_ptr<delta::Transaction> probe =
      ValueOrThrow(delta::Transaction::Begin(*read.engine, read.snapshot));
  const InsertClauses clauses =
      TakeInsertClauses(context, target.table.schema, target.table.name).value_or(InsertClauses{});
  std::optional<delta::Metadata> evolved_metadata;
  if (!clauses.evolved_schema_string.empty()) {
    // Schema evolution: the evolved metadata is committed with the data (and upgrades the
    // protocol there when it needs to, e.g. column mapping ids for the new columns).
    evolved_metadata = probe->metadata();
    evolved_metadata->schema_string = clauses.evolved_schema_string;
    OkOrThrow(probe->UpdateMetadata(*evolved_metadata));
  }
  const delta::Schema& schema = probe->schema();
  WriteOptions options = ValueOrThrow(WriteOptionsFor(probe->metadata()));
  std::vector<delta::TableConstraint> constraints = ValueOrThrow(probe->Constraints());

  // The column check against what the query gave, before DuckDB's casts (design note 4).
  const auto& table_columns = op.table.GetColumns();
  std::vector<LogicalType> source_types = SourceTypes(*plan);
  std::vector<std::string> problems;
  for (duckdb::idx_t i = 0; i < table_columns.PhysicalColumnCount(); ++i) {
    duckdb::idx_t source = i;
    if (!op.column_index_map.empty()) {
      source = op.column_index_map[duckdb::PhysicalIndex(i)];
      if (source == duckdb::DConstants::INVALID_INDEX) continue;  // default / NULL
    }
    if (source >= source_types.size() || i >= schema.fields.size()) continue;
    const delta::StructField& field = schema.fields[i];
    ColumnType type = ToColumnType(source_types[source]);
    // Text into date/timestamp columns converts row by row (a bad value fails the write).
    bool text_to_time = type.kind == ColumnType::Kind::kVarchar &&
                        (field.type.kind == delta::TypeKind::kDate ||
                         field.type.kind == delta::TypeKind::kTimestamp ||
                         field.type.kind == delta::TypeKind::kTimestampNtz);
    if (!text_to_time) CheckColumnAssignable(type, field.type, field.name, problems);
  }
  if (!problems.empty()) {
    ThrowStatus(Status::InvalidArgument(StrCat("INSERT INTO ", display, " (version ",
                                               target.version, "): ", StrJoin(problems, "; ")))
                    .WithHint("CAST the query's columns to the table's types (DESCRIBE " +
                              display + " shows them)"));
  }

  if (!op.column_index_map.empty()) plan = planner.ResolveDefaultsProjection(op, *plan);
  duckdb::vector<std::string> names;
  std::vector<ResultColumn> columns;
  for (duckdb::idx_t i = 0; i < table_columns.PhysicalColumnCount(); ++i) {
    names.push_back(table_columns.GetColumn(duckdb::PhysicalIndex(i)).Name());
    columns.push_back(ResultColumn{names.back(), ToColumnType(plan->types[i])});
  }

  WriteTarget write;
  write.display_name = display;
  write.location = target.table.location;
  write.read_version = target.version;
  write.txn = TxnSetting(context);
  write.operation = "WRITE";
  if (evolved_metadata) write.new_metadata = probe->metadata();
  std::string mode = "Append";
  std::string extra_parameters;
  switch (clauses.mode) {
    case InsertClauses::Mode::kAppend:
      break;
    case InsertClauses::Mode::kOverwrite: {
      mode = "Overwrite";
      if (PartitionOverwriteIsDynamic(context) && !options.partition_columns.empty()) {
        write.overwrite = WriteTarget::Overwrite::kWrittenPartitions;
        extra_parameters = ",\"partitionOverwriteMode\":\"DYNAMIC\"";
      } else if (!clauses.static_partition_predicate.empty()) {
        write.overwrite = WriteTarget::Overwrite::kRowsWhere;
        write.overwrite_predicate = clauses.static_partition_predicate;
      } else {
        write.overwrite = WriteTarget::Overwrite::kAll;
      }
      break;
    }
    case InsertClauses::Mode::kReplaceWhere: {
      mode = "Overwrite";
      write.overwrite = WriteTarget::Overwrite::kRowsWhere;
      write.overwrite_predicate = clauses.replace_where;
      // Every written row must match (Spark: "Data written out does not match replaceWhere").
      delta::TableConstraint check;
      check.name = "replaceWhere";
      check.expression = clauses.replace_where;
      check.violation = StrCat("INSERT INTO ", display, " REPLACE WHERE ", clauses.replace_where,
                               ": the predicate is not true for a written row; it is");
      constraints.push_back(std::move(check));
      break;
    }
  }
  if (write.overwrite == WriteTarget::Overwrite::kRowsWhere) {
    // Binds the predicate now (an unknown column fails before any file is written) and keeps
    // its skipping form for conflict detection.
    duckdb::vector<std::string> column_names;
    duckdb::vector<LogicalType> column_types;
    for (duckdb::idx_t i = 0; i < table_columns.PhysicalColumnCount(); ++i) {
      const auto& column = table_columns.GetColumn(duckdb::PhysicalIndex(i));
      column_names.push_back(column.Name());
      column_types.push_back(column.Type());
    }
    auto bound = BindOverInput(context, column_names, column_types, {write.overwrite_predicate});
    if (bound[0]->return_type != LogicalType::BOOLEAN) {
      ThrowStatus(Status::InvalidArgument(StrCat("INSERT INTO ", display, ": the predicate ",
                                                 write.overwrite_predicate, " is not boolean")));
    }
    FoldConstants(context, bound[0]);
    std::optional<delta::Predicate> read_predicate = TranslateToPredicate(
        *bound[0], [&](const duckdb::Expression& e)
                       -> std::optional<std::pair<std::string, const delta::DataType*>> {
          if (e.GetExpressionClass() != duckdb::ExpressionClass::BOUND_REF) return std::nullopt;
          auto index = e.Cast<duckdb::BoundReferenceExpression>().index;
          if (index >= schema.fields.size()) return std::nullopt;
          return std::make_pair(schema.fields[index].name, &schema.fields[index].type);
        });
    if (read_predicate) {
      write.read_predicate = std::make_shared<const delta::Predicate>(std::move(*read_predicate));
    }
    const std::string& shown = clauses.mode == InsertClauses::Mode::kReplaceWhere
                                   ? clauses.replace_where
                                   : clauses.static_partition_display;
    extra_parameters =
        StrCat(",\"predicate\":", JsonQuote(StrCat("[", JsonQuote(shown), "]")));
  }
  write.operation_parameters =
      StrCat("{\"mode\":\"", mode, "\",\"partitionBy\":",
             PartitionByJson(options.partition_columns), extra_parameters, "}");
  bool skip = false;
  if (write.txn) {
    auto it = read.snapshot->txns().find(write.txn->first);
    skip = it != read.snapshot->txns().end() && it->second.version >= write.txn->second;
  }
  return PlanWrite(context, planner, *plan, op.table.catalog, names, columns, schema, options,
                   constraints, std::move(write), skip);
}

duckdb::PhysicalOperator& PlanLakeUpdate(ClientContext& context,
                                         duckdb::PhysicalPlanGenerator& planner,
                                         duckdb::LogicalUpdate& op, const InsertTarget& target) {
  const std::string display = StrCat(target.table.schema, ".", target.table.name);
  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  CachedTable read = ValueOrThrow(cache.AtVersion(target.table.location, target.version));
  std::unique_ptr<delta::Transaction> probe =
      ValueOrThrow(delta::Transaction::Begin(*read.engine, read.snapshot));
  const delta::Schema& schema = probe->schema();
  WriteOptions options = ValueOrThrow(WriteOptionsFor(probe->metadata()));
  std::vector<delta::TableConstraint> constraints = ValueOrThrow(probe->Constraints());
  auto dml_read = std::make_shared<const DmlRead>(ReadOfDmlPlan(*op.children[0], schema));
  auto& child = planner.CreatePlan(*op.children[0]);

  // The child gives the SET values and the other columns (BindUpdateConstraints), then the
  // two row-id columns last (DuckDB's BindRowIdColumns): order them as the table's columns.
  const auto& table_columns = op.table.GetColumns();
  const duckdb::idx_t n = table_columns.PhysicalColumnCount();
  if (child.types.size() < 2 || op.columns.size() != n) {
    ThrowStatus(Status::Internal(StrCat("UPDATE ", display, ": unexpected plan shape")));
  }
  duckdb::vector<duckdb::unique_ptr<duckdb::Expression>> select;
  duckdb::vector<LogicalType> types;
  duckdb::vector<std::string> names;
  std::vector<ResultColumn> columns;
  for (duckdb::idx_t i = 0; i < n; ++i) {
    const auto& column = table_columns.GetColumn(duckdb::PhysicalIndex(i));
    duckdb::Expression* value = nullptr;
    for (duckdb::idx_t k = 0; k < op.columns.size(); ++k) {
      if (op.columns[k].index == i) value = op.expressions[k].get();
    }
    if (value == nullptr || value->GetExpressionClass() != duckdb::ExpressionClass::BOUND_REF) {
      ThrowStatus(Status::NotSupported(StrCat("UPDATE ", display, " SET ", column.Name(),
                                              " = DEFAULT (lake tables have no defaults)"))
                      .WithHint("SET it to NULL or a value"));
    }
    select.push_back(value->Copy());
    types.push_back(column.Type());
    names.push_back(column.Name());
    columns.push_back(ResultColumn{column.Name(), ToColumnType(column.Type())});
  }
  const duckdb::idx_t filename_index = child.types.size() - 2;
  const duckdb::idx_t row_index = child.types.size() - 1;
  select.push_back(duckdb::make_uniq<duckdb::BoundReferenceExpression>(
      child.types[filename_index], filename_index));
  select.push_back(
      duckdb::make_uniq<duckdb::BoundReferenceExpression>(child.types[row_index], row_index));
  duckdb::vector<LogicalType> projected = types;
  projected.push_back(child.types[filename_index]);
  projected.push_back(child.types[row_index]);
  auto& projection = planner.Make<duckdb::PhysicalProjection>(projected, std::move(select),
                                                               child.estimated_cardinality);
  projection.children.push_back(child);
  auto collector = std::make_shared<RowIdCollector>();
  auto& tap = PlanRowIdTap(planner, projection, collector, n, n + 1, n);

  WriteTarget write;
  write.display_name = display;
  write.location = target.table.location;
  write.read_version = target.version;
  write.operation = "UPDATE";
  std::vector<std::string> quoted;
  for (const std::string& c : dml_read->conditions) quoted.push_back(JsonQuote(c));
  write.operation_parameters =
      StrCat("{\"predicate\":", JsonQuote(StrCat("[", StrJoin(quoted, ","), "]")), "}");
  write.overwrite = WriteTarget::Overwrite::kRowIds;
  write.row_ids = collector;
  write.dml_read = dml_read;
  return PlanWrite(context, planner, tap, op.table.catalog, names, columns, schema, options,
                   constraints, std::move(write), /*skip=*/false);
}

duckdb::PhysicalOperator& PlanLakeRowRewrite(ClientContext& context,
                                             duckdb::PhysicalPlanGenerator& planner,
                                             duckdb::PhysicalOperator& rows,
                                             duckdb::Catalog& catalog, const InsertTarget& target,
                                             RowRewrite rewrite) {
  const std::string display = StrCat(target.table.schema, ".", target.table.name);
  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  CachedTable read = ValueOrThrow(cache.AtVersion(target.table.location, target.version));
  std::unique_ptr<delta::Transaction> probe =
      ValueOrThrow(delta::Transaction::Begin(*read.engine, read.snapshot));
  // Schema evolution: the evolved metadata is committed with the data (as INSERT's).
  if (rewrite.new_metadata) OkOrThrow(probe->UpdateMetadata(*rewrite.new_metadata));
  if (RecordsChangeData(probe->metadata()) && !rewrite.change_data) {
    ThrowStatus(Status::NotSupported(StrCat(rewrite.operation, " ", display, " (version ",
                                            target.version, "): the table has "
                                            "delta.enableChangeDataFeed and this rewrite "
                                            "writes no _change_data files"))
                    .WithHint("disable delta.enableChangeDataFeed for the statement"));
  }
  const delta::Schema& schema = probe->schema();
  WriteOptions options = ValueOrThrow(WriteOptionsFor(probe->metadata()));
  std::vector<delta::TableConstraint> constraints = ValueOrThrow(probe->Constraints());
  if (rows.types.size() != schema.fields.size() + 1) {
    ThrowStatus(Status::Internal(StrCat(rewrite.operation, " ", display, ": ", rows.types.size(),
                                        " columns for a table of ", schema.fields.size())));
  }
  duckdb::vector<std::string> names;
  std::vector<ResultColumn> columns;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    names.push_back(schema.fields[i].name);
    columns.push_back(ResultColumn{names.back(), ToColumnType(rows.types[i])});
  }
  names.push_back("__lake_row_kind");  // not written (RowRewrite)
  WriteTarget write;
  write.display_name = display;
  write.location = target.table.location;
  write.read_version = target.version;
  write.operation = rewrite.operation;
  write.operation_parameters = rewrite.operation_parameters;
  write.overwrite = WriteTarget::Overwrite::kRowIds;
  write.row_ids = std::move(rewrite.removed);
  write.dml_read = std::move(rewrite.read);
  write.settle = std::move(rewrite.settle);
  write.metrics_at_commit = std::move(rewrite.metrics);
  write.result_count = std::move(rewrite.result_count);
  write.change_data = std::move(rewrite.change_data);
  if (rewrite.new_metadata) write.new_metadata = probe->metadata();
  // Idempotent MERGE (design note 5; the streaming MergeSink's exactly once): the txn rides
  // in the same commit as the rewrite, and a version already committed skips the statement.
  write.txn = TxnSetting(context);
  bool skip = false;
  if (write.txn) {
    auto it = read.snapshot->txns().find(write.txn->first);
    skip = it != read.snapshot->txns().end() && it->second.version >= write.txn->second;
  }
  return PlanWrite(context, planner, rows, catalog, names, columns, schema, options, constraints,
                   std::move(write), skip);
}

duckdb::PhysicalOperator& PlanLakeCreateTableAs(
    ClientContext& context, duckdb::PhysicalPlanGenerator& planner, duckdb::LogicalCreateTable& op,
    duckdb::PhysicalOperator& plan, std::shared_ptr<TableDirectory> directory,
    const std::string& schema_name, const std::optional<DirectoryTable>& existing) {
  auto& base = op.info->Base();
  const std::string display = StrCat(schema_name, ".", ToLower(base.table));
  const CtasClauses clauses =
      TakeCtasClauses(context, schema_name, base.table).value_or(CtasClauses{});
  duckdb::vector<std::string> names;
  std::vector<ResultColumn> columns;
  for (const auto& column : base.columns.Logical()) {
    names.push_back(column.Name());
    columns.push_back(ResultColumn{column.Name(), ToColumnType(column.Type())});
  }
  QuerySchema query_schema = ValueOrThrow(DeltaSchemaFor(columns));
  const bool replace = base.on_conflict == duckdb::OnCreateConflict::REPLACE_ON_CONFLICT;
  const bool if_not_exists = base.on_conflict == duckdb::OnCreateConflict::IGNORE_ON_CONFLICT;
  if (existing && !replace && !if_not_exists) {
    ThrowStatus(Status::AlreadyExists(StrCat("table ", display, " already exists"))
                    .WithHint("CREATE OR REPLACE TABLE replaces it; INSERT INTO appends to it"));
  }
  WriteTarget write;
  write.display_name = display;
  write.directory = directory;
  delta::StringMap configuration;
  for (const auto& [key, value] : clauses.properties) configuration[key] = value;
  std::vector<std::string> partition_columns;
  for (const std::string& p : clauses.partition_columns) {
    const delta::StructField* field = delta::FindField(query_schema.schema, p);
    if (field == nullptr) {
      ThrowStatus(Status::InvalidArgument(StrCat("CREATE TABLE ", display, ": partition column ",
                                                 p, " is not a column of the query"))
                      .WithHint("PARTITIONED BY names columns the AS SELECT query returns"));
    }
    partition_columns.push_back(field->name);
  }
  delta::Metadata metadata = delta::NewTableMetadata(
      delta::SerializeDataType(query_schema.schema), partition_columns, configuration, NowMs());
  if (!clauses.comment.empty()) metadata.description = clauses.comment;
  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  if (existing) {
    write.location = existing->location;
    if (if_not_exists) {
      // Nothing to do; the query is still planned (and discarded).
      write.read_version = 0;
      return PlanWrite(context, planner, plan, op.schema.catalog, names, columns,
                       query_schema.schema, WriteOptions{}, {}, std::move(write), /*skip=*/true);
    }
    CachedTable read = ValueOrThrow(cache.Latest(existing->location));
    write.read_version = read.snapshot->version();
    write.replace = true;
    metadata.id = read.snapshot->metadata().id;  // the same table, replaced
    write.operation = "CREATE OR REPLACE TABLE AS SELECT";
  } else {
    write.location = clauses.location.empty()
                         ? ValueOrThrow(directory->ManagedLocation(schema_name, base.table))
                         : clauses.location;
    if (clauses.location.empty() && cache.Latest(write.location).ok()) {
      // E.g. an earlier CTAS committed version 0 and died before registering the name.
      ThrowStatus(Status::AlreadyExists(StrCat("CREATE TABLE ", display, ": the managed location ",
                                               write.location,
                                               " already holds a Delta table that no name "
                                               "refers to"))
                      .WithHint(StrCat("register it with CREATE TABLE ", display, " LOCATION '",
                                       write.location, "', or remove the folder")));
    }
    write.read_version = -1;
    NewTable table;
    table.schema = schema_name;
    table.name = base.table;
    table.location = clauses.location;  // empty: managed
    table.comment = clauses.comment;
    write.register_as = table;
    write.operation = "CREATE TABLE AS SELECT";
  }
  const bool is_managed = existing ? existing->is_managed : clauses.location.empty();
  write.operation_parameters =
      StrCat("{\"isManaged\":\"", is_managed ? "true" : "false",
             "\",\"partitionBy\":", PartitionByJson(partition_columns), "}");
  write.new_metadata = metadata;
  write.txn = TxnSetting(context);
  WriteOptions options = ValueOrThrow(WriteOptionsFor(metadata));
  return PlanWrite(context, planner, plan, op.schema.catalog, names, columns, query_schema.schema,
                   options, {}, std::move(write), /*skip=*/false);
}

// ---- Commit ----

Status LakeWrites::Commit(SnapshotCache& cache) {
  std::lock_guard lock(mu_);
  for (auto& [location, pending] : tables_) {
    if (!pending || !pending->txn) continue;
    if (pending->operation == "UPDATE") {
      pending->operation_metrics = StrCat(
          "{\"numUpdatedRows\":\"", pending->num_output_rows, "\",\"numCopiedRows\":\"",
          pending->num_copied_rows, "\",\"numAddedFiles\":\"", pending->num_files,
          "\",\"numRemovedFiles\":\"", pending->num_removed_files, "\",\"numAddedBytes\":\"",
          pending->num_output_bytes, "\",\"numRemovedBytes\":\"", pending->num_removed_bytes,
          "\",\"numAddedChangeFiles\":\"", pending->num_change_files,
          "\",\"numDeletionVectorsAdded\":\"", pending->num_dvs_added,
          "\",\"numDeletionVectorsRemoved\":\"", pending->num_dvs_removed,
          "\",\"numDeletionVectorsUpdated\":\"", pending->num_dvs_updated, "\"}");
    }
    if (pending->metrics_at_commit) {
      pending->operation_metrics = pending->metrics_at_commit(*pending);
    }
    pending->txn->SetOperation(
        pending->operation, pending->operation_parameters,
        !pending->operation_metrics.empty() ? pending->operation_metrics : StrCat("{\"numFiles\":\"", pending->num_files, "\",\"numOutputRows\":\"",
               pending->num_output_rows, "\",\"numOutputBytes\":\"", pending->num_output_bytes,
               "\"", pending->num_removed_files > 0
                         ? StrCat(",\"numRemovedFiles\":\"", pending->num_removed_files,
                                  "\",\"numRemovedBytes\":\"", pending->num_removed_bytes, "\"")
                         : std::string(),
               pending->report_row_rewrites
                   ? StrCat(",\"numDeletedRows\":\"", pending->num_deleted_rows,
                            "\",\"numCopiedRows\":\"", pending->num_copied_rows,
                            "\",\"numAddedChangeFiles\":\"", pending->num_change_files, "\"")
                   : std::string(),
               "}"));
    Result<delta::CommitResult> committed = pending->txn->Commit();
    if (!committed.ok()) {
      return committed.status().WithContext(StrCat("commit to table ", pending->display_name));
    }
    if (pending->register_as) {
      // register_as.location is empty for a managed table (the directory places it where
      // ManagedLocation said), else the external location written to.
      const NewTable& table = *pending->register_as;
      Result<DirectoryTable> registered = pending->directory->RegisterTable(table);
      if (!registered.ok()) {
        return registered.status().WithContext(
            StrCat("table ", pending->display_name, " was written at ", pending->location,
                   " (version ", committed->version, ") but not registered"));
      }
    }
    // Design note 6, and the next statement must see the new version.
    Result<CachedTable> latest = cache.Latest(pending->location);
    if (latest.ok() && delta::ShouldCheckpoint(committed->version,
                                               latest->snapshot->metadata())) {
      Result<delta::LastCheckpointHint> checkpoint =
          delta::WriteCheckpoint(*latest->engine, *latest->snapshot);
      if (!checkpoint.ok()) {
        std::fprintf(stderr, "lake: warning: checkpoint of %s at version %lld failed: %s\n",
                     pending->display_name.c_str(),
                     static_cast<long long>(committed->version),
                     checkpoint.status().ToString().c_str());
      }
    }
  }
  tables_.clear();
  return Status::OK();
}

void RegisterLakeWriteSettings(duckdb::DatabaseInstance& db) {
  auto& config = duckdb::DBConfig::GetConfig(db);
  config.AddExtensionOption(kTxnAppIdSetting,
                            "application id of idempotent lake writes (Delta txn.appId)",
                            LogicalType::VARCHAR, duckdb::Value(""));
  config.AddExtensionOption(kTxnVersionSetting,
                            "version of idempotent lake writes (Delta txn.version)",
                            LogicalType::BIGINT, duckdb::Value::BIGINT(-1));
  config.AddExtensionOption(kPartitionOverwriteModeSetting,
                            "what INSERT OVERWRITE of a partitioned table replaces: 'static' "
                            "(the whole table, or the PARTITION values) or 'dynamic' (the "
                            "partitions written)",
                            LogicalType::VARCHAR, duckdb::Value("static"));
  config.AddExtensionOption(kMergeSchemaSetting,
                            "INSERTs that bring new columns add them to the table (Spark's "
                            "mergeSchema)",
                            LogicalType::BOOLEAN, duckdb::Value::BOOLEAN(false));
}

}  // namespace lake::engine::internal
