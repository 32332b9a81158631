// DELETE through the lake catalog.
//
// Design notes.
//  (1) Row ids: a row is (filename, file_row_number) — the file the scan opened and the row's
//      position in it, deletion vectors notwithstanding (a DV hides rows, positions stay). The
//      binder projects them under the WHERE filter, so DuckDB's filter pushdown and lake's file
//      skipping (delta_scan design note 5) decide which files are read at all.
//  (2) Copy-on-write (row_removal.h RemoveRows): a file whose every live row is deleted is
//      removed whole (a partition-only predicate is a metadata-only commit); the others are
//      removed and their remaining rows written anew, read through delta_scan with the deleted
//      positions excluded (exclude_rows). A DELETE that matched nothing commits nothing.
//  (3) Conflicts (PROTOCOL.md / Delta's ConflictChecker): the commit reads the filter
//      conjuncts on the target that translate to a skipping predicate (ReadOfDmlPlan: a
//      superset of the rows deleted) or the whole table; every removed file is marked read,
//      so a concurrent DELETE/UPDATE of the same file fails one of the two (delete-delete), and
//      one on another partition does not conflict.
//  (4) A DELETE must be its transaction's first write to the table: the positions refer to
//      the pinned snapshot; staged, uncommitted writes of an earlier statement are not visible
//      (refused loudly, as for overwrites, lake_write.cc design note 7).
//  (5) Change data feed (change_data_writer.h): when rows of a file are copied, the commit
//      carries cdc files with every deleted row, whole removed files' rows included, since
//      readers then ignore its removes; a DELETE that only drops whole files (a partition
//      predicate) writes none, its removes are the change record, as in Spark.
#include "engine/internal/lake_dml.h"

#include <chrono>
#include <map>
#include <mutex>

#include "base/strings.h"
#include "delta/transaction.h"
#include "duckdb/catalog/catalog_entry/table_catalog_entry.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "duckdb/planner/expression/bound_columnref_expression.hpp"
#include "duckdb/planner/expression/bound_reference_expression.hpp"
#include "duckdb/planner/operator/logical_delete.hpp"
#include "duckdb/planner/operator/logical_filter.hpp"
#include "duckdb/planner/operator/logical_get.hpp"
#include "engine/data_writer.h"
#include "engine/internal/change_data_writer.h"
#include "engine/internal/errors.h"
#include "engine/internal/lake_write.h"
#include "engine/internal/row_removal.h"
#include "engine/internal/scan.h"
#include "engine/internal/snapshot_cache.h"

namespace lake::engine::internal {
namespace {

using duckdb::ClientContext;
using duckdb::LogicalType;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Finds the scan of the target: the first LogicalGet down the first-child chain, collecting
// the filters above it on the way.
duckdb::LogicalGet* FindTargetGet(duckdb::LogicalOperator& op,
                                  std::vector<duckdb::LogicalFilter*>& filters) {
  duckdb::LogicalOperator* current = &op;
  while (current) {
    if (current->type == duckdb::LogicalOperatorType::LOGICAL_GET) {
      return &current->Cast<duckdb::LogicalGet>();
    }
    if (current->type == duckdb::LogicalOperatorType::LOGICAL_FILTER) {
      filters.push_back(&current->Cast<duckdb::LogicalFilter>());
    }
    current = current->children.empty() ? nullptr : current->children[0].get();
  }
  return nullptr;
}

// ---- The delete operator ----

struct DeleteGlobalState final : duckdb::GlobalSinkState {
  std::mutex mu;
  std::map<std::string, std::vector<uint64_t>> rows;  // local path -> positions
  int64_t count = 0;
};

struct DeleteLocalState final : duckdb::LocalSinkState {
  std::map<std::string, std::vector<uint64_t>> rows;
  int64_t count = 0;
};

class LakeDelete final : public duckdb::PhysicalOperator {
 public:
  LakeDelete(duckdb::PhysicalPlan& physical_plan, duckdb::Catalog& catalog, DmlTarget target,
             std::shared_ptr<const DmlRead> read, duckdb::idx_t filename_index,
             duckdb::idx_t row_index,
             duckdb::idx_t estimated_cardinality)
      : PhysicalOperator(physical_plan, duckdb::PhysicalOperatorType::EXTENSION,
                         {LogicalType::BIGINT}, estimated_cardinality),
        catalog_(catalog),
        target_(std::move(target)),
        read_(std::move(read)),
        filename_index_(filename_index),
        row_index_(row_index) {}

  std::string GetName() const override { return "LAKE_DELETE"; }
  duckdb::InsertionOrderPreservingMap<std::string> ParamsToString() const override {
    duckdb::InsertionOrderPreservingMap<std::string> out;
    out["Table"] = StrCat(target_.table.schema, ".", target_.table.name);
    return out;
  }

  bool IsSink() const override { return true; }
  bool ParallelSink() const override { return true; }
  bool IsSource() const override { return true; }

  duckdb::unique_ptr<duckdb::GlobalSinkState> GetGlobalSinkState(ClientContext&) const override {
    return duckdb::make_uniq<DeleteGlobalState>();
  }
  duckdb::unique_ptr<duckdb::LocalSinkState> GetLocalSinkState(
      duckdb::ExecutionContext&) const override {
    return duckdb::make_uniq<DeleteLocalState>();
  }

  duckdb::SinkResultType Sink(duckdb::ExecutionContext&, duckdb::DataChunk& chunk,
                              duckdb::OperatorSinkInput& input) const override {
    auto& local = input.local_state.Cast<DeleteLocalState>();
    duckdb::UnifiedVectorFormat files, rows;
    chunk.data[filename_index_].ToUnifiedFormat(chunk.size(), files);
    chunk.data[row_index_].ToUnifiedFormat(chunk.size(), rows);
    auto file_data = duckdb::UnifiedVectorFormat::GetData<duckdb::string_t>(files);
    auto row_data = duckdb::UnifiedVectorFormat::GetData<int64_t>(rows);
    std::vector<uint64_t>* current = nullptr;
    duckdb::string_t current_name;
    for (duckdb::idx_t i = 0; i < chunk.size(); ++i) {
      const duckdb::idx_t f = files.sel->get_index(i);
      const duckdb::idx_t r = rows.sel->get_index(i);
      if (!files.validity.RowIsValid(f) || !rows.validity.RowIsValid(r)) {
        ThrowStatus(Status::Internal("DELETE: a row without a row id (file, position)"));
      }
      if (current == nullptr || !(file_data[f] == current_name)) {
        current = &local.rows[file_data[f].GetString()];
        current_name = file_data[f];
      }
      current->push_back(static_cast<uint64_t>(row_data[r]));
    }
    local.count += static_cast<int64_t>(chunk.size());
    return duckdb::SinkResultType::NEED_MORE_INPUT;
  }

  duckdb::SinkCombineResultType Combine(duckdb::ExecutionContext&,
                                        duckdb::OperatorSinkCombineInput& input) const override {
    auto& global = input.global_state.Cast<DeleteGlobalState>();
    auto& local = input.local_state.Cast<DeleteLocalState>();
    std::lock_guard lock(global.mu);
    for (auto& [file, rows] : local.rows) {
      auto& into = global.rows[file];
      into.insert(into.end(), rows.begin(), rows.end());
    }
    global.count += local.count;
    return duckdb::SinkCombineResultType::FINISHED;
  }

  duckdb::SinkFinalizeType Finalize(duckdb::Pipeline&, duckdb::Event&, ClientContext& context,
                                    duckdb::OperatorSinkFinalizeInput& input) const override {
    auto& global = input.global_state.Cast<DeleteGlobalState>();
    for (auto& [file, rows] : global.rows) {
      std::sort(rows.begin(), rows.end());
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    }
    if (global.count > 0) {
      OkOrThrow(Stage(context, global));
    } else {
      // Design note 2: no match, no commit — unless the transaction wrote the table already,
      // whose staged rows the scan could not see (design note 4).
      auto& transaction = duckdb::Transaction::Get(context, catalog_).Cast<LakeWriteTransaction>();
      if (transaction.writes().Contains(target_.table.location)) {
        OkOrThrow(Status::NotSupported(StrCat("DELETE from ", target_.table.schema, ".",
                                              target_.table.name,
                                              " after another write to it in the same "
                                              "transaction"))
                      .WithHint("COMMIT the earlier write first"));
      }
    }
    return duckdb::SinkFinalizeType::READY;
  }

  duckdb::SourceResultType GetData(duckdb::ExecutionContext&, duckdb::DataChunk& chunk,
                                   duckdb::OperatorSourceInput&) const override {
    auto& global = sink_state->Cast<DeleteGlobalState>();
    chunk.SetCardinality(1);
    chunk.SetValue(0, 0, duckdb::Value::BIGINT(global.count));
    return duckdb::SourceResultType::FINISHED;
  }

 private:
  Status Stage(ClientContext& context, DeleteGlobalState& global) const {
    auto& transaction = duckdb::Transaction::Get(context, catalog_).Cast<LakeWriteTransaction>();
    duckdb::DatabaseInstance& db = duckdb::DatabaseInstance::GetDatabase(context);
    SnapshotCache& cache = SnapshotCache::Get(db);
    const std::string display = StrCat(target_.table.schema, ".", target_.table.name);
    Status make_error;
    bool created = false;
    auto make = [&]() -> std::unique_ptr<PendingTableWrite> {
      created = true;
      auto pending = std::make_unique<PendingTableWrite>();
      pending->display_name = display;
      pending->location = target_.table.location;
      Result<CachedTable> read = cache.AtVersion(target_.table.location, target_.version);
      if (!read.ok()) {
        make_error = read.status();
        return nullptr;
      }
      pending->read = std::move(*read);
      Result<std::unique_ptr<delta::Transaction>> txn =
          delta::Transaction::Begin(*pending->read.engine, pending->read.snapshot);
      if (!txn.ok()) {
        make_error = txn.status();
        return nullptr;
      }
      pending->txn = std::move(*txn);
      return pending;
    };
    return transaction.writes().With(
        target_.table.location, make, [&](std::unique_ptr<PendingTableWrite>& pending) -> Status {
          if (!pending) return make_error;
          if (!created) {  // design note 4
            return Status::NotSupported(StrCat("DELETE from ", display,
                                               " after another write to it in the same "
                                               "transaction"))
                .WithHint("COMMIT the earlier write first, or make the DELETE the "
                          "transaction's first write to the table");
          }
          const auto started = std::chrono::steady_clock::now();
          delta::Transaction& txn = *pending->txn;
          if (read_->predicate) {
            txn.ReadPredicate(*read_->predicate);
          } else {
            txn.ReadWholeTable();
          }
          LAKE_ASSIGN_OR_RETURN(WriteOptions options, WriteOptionsFor(txn.metadata()));
          RowRemovalTarget removal_target;
          removal_target.location = target_.table.location;
          removal_target.snapshot = pending->read.snapshot.get();
          removal_target.store = &pending->read.engine->store();
          removal_target.schema = &txn.schema();
          removal_target.options = options;
          removal_target.now_ms = NowMs();
          LAKE_ASSIGN_OR_RETURN(RowRemoval removal,
                                RemoveRows(db, removal_target, global.rows));
          int64_t change_files = 0;
          if (!removal.adds.empty() && RecordsChangeData(txn.metadata())) {  // design note 5
            ChangeDataTarget cdc;
            cdc.location = removal_target.location;
            cdc.snapshot = removal_target.snapshot;
            cdc.store = removal_target.store;
            cdc.schema = removal_target.schema;
            cdc.options = options;
            LAKE_ASSIGN_OR_RETURN(auto deleted,
                                  WriteChangeRowsAt(db, cdc, global.rows, ChangeType::kDelete));
            LAKE_RETURN_IF_ERROR(StageChangeData(txn, std::move(deleted), &change_files));
          }
          // Files added back under a deletion vector are neither removed nor added data
          // (Spark's DELETE with DVs counts only whole-file removes and new files).
          int64_t added_bytes = -removal.bytes_dv_marked;
          const int64_t added_files =
              static_cast<int64_t>(removal.adds.size()) - removal.files_dv_marked;
          const int64_t removed_files =
              static_cast<int64_t>(removal.removes.size()) - removal.files_dv_marked;
          for (delta::RemoveFile& remove : removal.removes) {
            LAKE_RETURN_IF_ERROR(txn.StageRemove(std::move(remove)));
          }
          for (delta::AddFile& add : removal.adds) {
            added_bytes += add.size;
            LAKE_RETURN_IF_ERROR(txn.StageAdd(std::move(add)));
          }
          const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - started)
                                      .count();
          std::vector<std::string> quoted;
          for (const std::string& c : read_->conditions) quoted.push_back(JsonQuote(c));
          pending->operation = "DELETE";
          pending->operation_parameters = StrCat(
              "{\"predicate\":", JsonQuote(StrCat("[", StrJoin(quoted, ","), "]")), "}");
          pending->operation_metrics = StrCat(
              "{\"numDeletedRows\":\"", removal.rows_removed, "\",\"numRemovedFiles\":\"",
              removed_files, "\",\"numAddedFiles\":\"", added_files,
              "\",\"numCopiedRows\":\"", removal.rows_copied, "\",\"numRemovedBytes\":\"",
              removal.bytes_removed, "\",\"numAddedBytes\":\"", added_bytes,
              "\",\"numAddedChangeFiles\":\"", change_files,
              "\",\"numDeletionVectorsAdded\":\"", removal.dvs_added,
              "\",\"numDeletionVectorsRemoved\":\"", removal.dvs_removed,
              "\",\"numDeletionVectorsUpdated\":\"", removal.dvs_updated,
              "\",\"rewriteTimeMs\":\"", elapsed_ms, "\"}");
          return Status::OK();
        });
  }

  duckdb::Catalog& catalog_;
  DmlTarget target_;
  // Held on the heap: DuckDB's plan arena aligns to 8 bytes, and a Predicate's literals
  // (__int128 decimals) need 16.
  std::shared_ptr<const DmlRead> read_;
  duckdb::idx_t filename_index_;
  duckdb::idx_t row_index_;
};

// ---- The row-id tap (UPDATE) ----

struct TapLocalState final : duckdb::OperatorState {
  std::map<std::string, std::vector<uint64_t>> rows;
  int64_t count = 0;
  std::shared_ptr<RowIdCollector> collector;
  // Hands the thread's ids to the collector when the pipeline is done with this state.
  void Finalize(const duckdb::PhysicalOperator&, duckdb::ExecutionContext& context) override {
    collector->Add(context.client.transaction.GetActiveQuery(), rows, count);
    count = 0;
  }
};

class RowIdTap final : public duckdb::PhysicalOperator {
 public:
  RowIdTap(duckdb::PhysicalPlan& physical_plan, duckdb::vector<LogicalType> types,
           std::shared_ptr<RowIdCollector> collector, duckdb::idx_t filename_index,
           duckdb::idx_t row_index, duckdb::idx_t estimated_cardinality)
      : PhysicalOperator(physical_plan, duckdb::PhysicalOperatorType::EXTENSION, std::move(types),
                         estimated_cardinality),
        collector_(std::move(collector)),
        filename_index_(filename_index),
        row_index_(row_index) {}

  std::string GetName() const override { return "LAKE_ROW_ID_TAP"; }
  bool ParallelOperator() const override { return true; }

  duckdb::unique_ptr<duckdb::OperatorState> GetOperatorState(
      duckdb::ExecutionContext&) const override {
    auto state = duckdb::make_uniq<TapLocalState>();
    state->collector = collector_;
    return state;
  }

  duckdb::OperatorResultType Execute(duckdb::ExecutionContext&, duckdb::DataChunk& input,
                                     duckdb::DataChunk& chunk, duckdb::GlobalOperatorState&,
                                     duckdb::OperatorState& state_p) const override {
    auto& state = state_p.Cast<TapLocalState>();
    duckdb::UnifiedVectorFormat files, rows;
    input.data[filename_index_].ToUnifiedFormat(input.size(), files);
    input.data[row_index_].ToUnifiedFormat(input.size(), rows);
    auto file_data = duckdb::UnifiedVectorFormat::GetData<duckdb::string_t>(files);
    auto row_data = duckdb::UnifiedVectorFormat::GetData<int64_t>(rows);
    std::vector<uint64_t>* current = nullptr;
    duckdb::string_t current_name;
    for (duckdb::idx_t i = 0; i < input.size(); ++i) {
      const duckdb::idx_t f = files.sel->get_index(i);
      const duckdb::idx_t r = rows.sel->get_index(i);
      if (!files.validity.RowIsValid(f) || !rows.validity.RowIsValid(r)) {
        ThrowStatus(Status::Internal("UPDATE: a row without a row id (file, position)"));
      }
      if (current == nullptr || !(file_data[f] == current_name)) {
        current = &state.rows[file_data[f].GetString()];
        current_name = file_data[f];
      }
      current->push_back(static_cast<uint64_t>(row_data[r]));
    }
    state.count += static_cast<int64_t>(input.size());
    for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); ++c) chunk.data[c].Reference(input.data[c]);
    chunk.SetCardinality(input.size());
    return duckdb::OperatorResultType::NEED_MORE_INPUT;
  }

 private:
  std::shared_ptr<RowIdCollector> collector_;
  duckdb::idx_t filename_index_;
  duckdb::idx_t row_index_;
};

}  // namespace

void RowIdCollector::Add(uint64_t q, std::map<std::string, std::vector<uint64_t>>& from,
                         int64_t n) {
  std::lock_guard lock(mu);
  if (q != query) {
    rows.clear();
    count = 0;
    query = q;
  }
  for (auto& [file, positions] : from) {
    auto& into = rows[file];
    into.insert(into.end(), positions.begin(), positions.end());
  }
  count += n;
  from.clear();
}

void RowIdCollector::Settle(uint64_t q) {
  std::lock_guard lock(mu);
  if (q == query) return;
  rows.clear();
  count = 0;
  query = q;
}

Status RowIdCollector::Finish(const std::string& what) {
  std::lock_guard lock(mu);
  for (auto& [file, positions] : rows) {
    std::sort(positions.begin(), positions.end());
    auto dup = std::adjacent_find(positions.begin(), positions.end());
    if (dup != positions.end()) {
      return Status::InvalidArgument(StrCat(what, ": multiple source rows matched and attempted "
                                            "to modify the same target row: the row at "
                                            "position ", *dup, " of ", file,
                                            " matched more than one source row"))
          .WithHint("make the join keys unique in the source (e.g. deduplicate it first)");
    }
  }
  return Status::OK();
}

duckdb::PhysicalOperator& PlanRowIdTap(duckdb::PhysicalPlanGenerator& planner,
                                       duckdb::PhysicalOperator& child,
                                       std::shared_ptr<RowIdCollector> collector,
                                       duckdb::idx_t filename_index, duckdb::idx_t row_index,
                                       duckdb::idx_t passed_columns) {
  duckdb::vector<LogicalType> types(child.types.begin(), child.types.begin() + passed_columns);
  auto& tap = planner.Make<RowIdTap>(std::move(types), std::move(collector), filename_index,
                                     row_index, child.estimated_cardinality);
  tap.children.push_back(child);
  return tap;
}

DmlRead ReadOfDmlPlan(duckdb::LogicalOperator& child, const delta::Schema& schema) {
  DmlRead out;
  std::vector<duckdb::LogicalFilter*> filters;
  duckdb::LogicalGet* get = FindTargetGet(child, filters);
  if (get == nullptr) return out;
  const auto& column_ids = get->GetColumnIds();
  std::vector<delta::Predicate> conjuncts;
  auto field_of = [&](duckdb::idx_t table_column) -> const delta::StructField* {
    return table_column < schema.fields.size() ? &schema.fields[table_column] : nullptr;
  };
  for (const auto& [column, filter] : get->table_filters.filters) {
    const delta::StructField* field = field_of(column);
    if (field == nullptr) continue;
    // Optional and dynamic filters are DuckDB's hints (e.g. from an OR above), not conditions.
    if (filter->filter_type != duckdb::TableFilterType::OPTIONAL_FILTER &&
        filter->filter_type != duckdb::TableFilterType::DYNAMIC_FILTER) {
      out.conditions.push_back(filter->ToString(field->name));
    }
    if (auto p = TranslateTableFilter(*filter, field->name, field->type)) {
      conjuncts.push_back(std::move(*p));
    }
  }
  auto resolve = [&](const duckdb::Expression& e)
      -> std::optional<std::pair<std::string, const delta::DataType*>> {
    if (e.GetExpressionClass() != duckdb::ExpressionClass::BOUND_COLUMN_REF) return std::nullopt;
    auto& ref = e.Cast<duckdb::BoundColumnRefExpression>();
    if (ref.binding.table_index != get->table_index) return std::nullopt;
    if (ref.binding.column_index >= column_ids.size()) return std::nullopt;
    const duckdb::column_t column = column_ids[ref.binding.column_index].GetPrimaryIndex();
    if (duckdb::IsVirtualColumn(column)) return std::nullopt;
    const delta::StructField* field = field_of(column);
    if (field == nullptr) return std::nullopt;
    return std::make_pair(field->name, &field->type);
  };
  for (duckdb::LogicalFilter* filter : filters) {
    for (const auto& expression : filter->expressions) {
      out.conditions.push_back(expression->ToString());
      if (auto p = TranslateToPredicate(*expression, resolve)) conjuncts.push_back(std::move(*p));
    }
  }
  // Conjuncts that did not translate are dropped: the predicate matches more, never less.
  if (!conjuncts.empty()) {
    out.predicate = conjuncts.size() == 1 ? std::move(conjuncts[0])
                                          : delta::Predicate::And(std::move(conjuncts));
  }
  return out;
}

duckdb::PhysicalOperator& PlanLakeDelete(ClientContext& context,
                                         duckdb::PhysicalPlanGenerator& planner,
                                         duckdb::LogicalDelete& op, const DmlTarget& target) {
  const std::string display = StrCat(target.table.schema, ".", target.table.name);
  if (op.return_chunk) {
    ThrowStatus(Status::NotSupported(StrCat("DELETE ... RETURNING from lake table ", display))
                    .WithHint("SELECT the rows before deleting them"));
  }
  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  CachedTable read = ValueOrThrow(cache.AtVersion(target.table.location, target.version));
  // The writer gate before anything runs.
  std::unique_ptr<delta::Transaction> probe =
      ValueOrThrow(delta::Transaction::Begin(*read.engine, read.snapshot));
  DmlRead dml_read = ReadOfDmlPlan(*op.children[0], probe->schema());
  auto& plan = planner.CreatePlan(*op.children[0]);
  if (op.expressions.size() != 2 ||
      op.expressions[0]->GetExpressionClass() != duckdb::ExpressionClass::BOUND_REF ||
      op.expressions[1]->GetExpressionClass() != duckdb::ExpressionClass::BOUND_REF) {
    ThrowStatus(Status::Internal(StrCat("DELETE from ", display,
                                        ": expected the two row-id columns (file, position)")));
  }
  const auto filename_index = op.expressions[0]->Cast<duckdb::BoundReferenceExpression>().index;
  const auto row_index = op.expressions[1]->Cast<duckdb::BoundReferenceExpression>().index;
  auto& del = planner.Make<LakeDelete>(op.table.catalog, target,
                                       std::make_shared<const DmlRead>(std::move(dml_read)),
                                       filename_index, row_index, op.estimated_cardinality);
  del.children.push_back(plan);
  return del;
}

}  // namespace lake::engine::internal
