// MERGE INTO through the lake catalog.
//
// Design notes.
//  (1) Binding is DuckDB's (bind_merge_into.cpp): the join type follows the WHEN clauses
//      (only MATCHED: inner; NOT MATCHED [BY TARGET]: source left join target; BY SOURCE: right;
//      both: full), every condition and value is projected once, then the source marker (a
//      constant that is NULL for target rows no source row matched) and the target row ids.
//      DuckDB's own reading of `UPDATE SET *` / `INSERT *` is by position; Spark's is by name,
//      so PrepareLakeMerge expands them into explicit lists against the target's columns
//      before DuckDB binds (docs/sql-syntax.md "MERGE INTO").
//  (2) Per row (LakeMergeRows, Spark's MergeIntoCommand semantics): no source marker ->
//      NOT MATCHED BY SOURCE; no row id -> NOT MATCHED (BY TARGET); else MATCHED. The clauses
//      of that kind are tried in order and the first whose condition is true acts (DuckDB's
//      parser moves an unconditional clause last, where Spark requires it to be anyway).
//      UPDATE: the target row id is recorded and the full new row emitted; DELETE: the row id
//      is recorded; INSERT: the new row is emitted. A row no clause takes is left alone.
//  (3) Copy-on-write (row_removal.h RemoveRows): the recorded rows are removed from their
//      files at the commit (files left without live rows are removed whole, the others
//      rewritten without them); the emitted rows are written by the INSERT pipeline
//      (lake_write.h PlanLakeRowRewrite: constraints, partition folders, stats). A target row
//      recorded twice means several source rows matched it: Spark's error, before anything is
//      staged. Nothing removed and nothing emitted: no commit.
//  (4) Conflicts (Delta's ConflictChecker): the read is the target scan's pushed-down filters
//      (the ON clause's target-only conjuncts, translated as in DELETE) or the whole table;
//      removed files are read files. So a concurrent DELETE/UPDATE/MERGE of a file this MERGE
//      rewrites fails one of the two commits.
//  (5) Pruning: conjuncts of the ON clause on the target alone are pushed into its scan and
//      skip files by partition values and stats at plan time (delta_scan design note 5). Join
//      keys: DuckDB's join filter pushdown builds a min/max range of the source's keys and
//      hands it to the target scan as a dynamic filter before the scan starts;
//      delta_scan's DynamicFilterPushdown drops the files whose stats lie outside it.
//  (6) Refused (kNotSupported, before any file is written): MERGE ... RETURNING, DuckDB's
//      THEN ERROR, time travel on the target (sql_rewrite.cc). Deletion
//      vector tables: RemoveRows marks the removed rows in deletion vectors (dv_removal.h).
//  (7) Change data feed (delta.enableChangeDataFeed, Spark's MergeIntoCommand with CDF): the
//      commit carries cdc files with every change (change_data_writer.h rule 1):
//      'update_preimage' = removed rows minus deleted rows (a second collector records the
//      DELETE clauses' rows), read back by position; 'delete' = the deleted rows, likewise;
//      'insert' / 'update_postimage' = the emitted rows by their kind column, which the data
//      files do not hold: LakeMergeRows keeps a copy of them (ColumnDataCollections on DuckDB's
//      buffer manager, under its memory limit) and the commit writes it through a scratch in-memory database
//      (ATTACH ':memory:', visible to the nested session that writes the cdc files).
#include "engine/internal/lake_merge.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iterator>
#include <map>
#include <mutex>
#include <vector>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "base/uuid.h"
#include "delta/schema_evolution.h"
#include "delta/transaction.h"
#include "duckdb/catalog/catalog_entry/table_catalog_entry.hpp"
#include "duckdb/common/types/column/column_data_collection.hpp"
#include "duckdb/execution/expression_executor.hpp"
#include "duckdb/execution/operator/scan/physical_table_scan.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "duckdb/main/appender.hpp"
#include "duckdb/main/client_context_state.hpp"
#include "duckdb/main/connection.hpp"
#include "duckdb/parser/expression/columnref_expression.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/statement/merge_into_statement.hpp"
#include "duckdb/parser/statement/update_statement.hpp"
#include "duckdb/parser/tableref/basetableref.hpp"
#include "duckdb/planner/binder.hpp"
#include "duckdb/planner/expression/bound_cast_expression.hpp"
#include "duckdb/planner/operator/logical_merge_into.hpp"
#include "engine/data_writer.h"
#include "engine/internal/change_data_writer.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/errors.h"
#include "engine/internal/lake_catalog.h"
#include "engine/internal/lake_dml.h"
#include "engine/internal/lake_write.h"
#include "engine/internal/scan.h"
#include "engine/internal/snapshot_cache.h"

namespace lake::engine::internal {
namespace {

using duckdb::ClientContext;
using duckdb::LogicalType;
using duckdb::MergeActionCondition;
using duckdb::MergeActionType;

// ---- Spark's texts for commitInfo.operationParameters ----

// The clause texts of one MERGE as Spark's MergeIntoCommand records them, kept from the parsed
// statement (bound expressions have lost their names) until the MERGE is planned.
struct MergeTexts {
  std::string table_key;  // "schema.table", lower case
  std::string fingerprint;  // clause kinds and actions, to match the bound statement
  std::string predicate;
  std::vector<std::string> matched, not_matched, not_matched_by_source;  // JSON objects
};

// Texts of the MERGEs prepared on one client, in statement order. A script's statements are
// all prepared before the first runs, so this is a queue; an entry whose statement never got
// planned (a bind error) is skipped by the fingerprint check.
struct MergeTextsState final : duckdb::ClientContextState {
  std::mutex mu;
  std::vector<MergeTexts> queue;
};
constexpr const char* kMergeTextsKey = "lake_merge_texts";

const char* ActionName(MergeActionType type) {
  switch (type) {
    case MergeActionType::MERGE_UPDATE:
      return "update";
    case MergeActionType::MERGE_DELETE:
      return "delete";
    case MergeActionType::MERGE_INSERT:
      return "insert";
    case MergeActionType::MERGE_DO_NOTHING:
      return "nothing";
    case MergeActionType::MERGE_ERROR:
      return "error";
  }
  return "unknown";
}

const char* ConditionName(MergeActionCondition condition) {
  switch (condition) {
    case MergeActionCondition::WHEN_MATCHED:
      return "matched";
    case MergeActionCondition::WHEN_NOT_MATCHED_BY_TARGET:
      return "notMatched";
    case MergeActionCondition::WHEN_NOT_MATCHED_BY_SOURCE:
      return "notMatchedBySource";
  }
  return "unknown";
}

template <typename Actions>
std::string Fingerprint(const Actions& actions) {
  std::string out;
  for (const auto& [condition, list] : actions) {
    out += StrCat(ConditionName(condition), ":");
    for (const auto& action : list) out += StrCat(ActionName(action->action_type), ",");
    out += ";";
  }
  return out;
}

std::string JsonArrayString(const std::vector<std::string>& objects) {
  return JsonQuote(StrCat("[", StrJoin(objects, ","), "]"));
}

// ---- The per-row operator ----

// One WHEN clause, ready to run.
struct MergeClause {
  MergeActionType type;
  duckdb::unique_ptr<duckdb::Expression> condition;  // null: always
  // UPDATE / INSERT: the new row, one expression per table column, in table order.
  duckdb::vector<duckdb::unique_ptr<duckdb::Expression>> values;
};

// What the statement did, summed over threads when they finish (Spark's metric names).
struct MergeCounters {
  std::atomic<int64_t> source_rows{0};
  std::atomic<int64_t> matched_updated{0};
  std::atomic<int64_t> matched_deleted{0};
  std::atomic<int64_t> not_matched_by_source_updated{0};
  std::atomic<int64_t> not_matched_by_source_deleted{0};
  std::atomic<int64_t> inserted{0};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // The query the counts belong to: a re-run plan starts from zero (as RowIdCollector).
  std::mutex mu;
  uint64_t query = 0;
  void ForQuery(uint64_t q) {
    std::lock_guard lock(mu);
    if (q == query) return;
    query = q;
    source_rows = matched_updated = matched_deleted = 0;
    not_matched_by_source_updated = not_matched_by_source_deleted = inserted = 0;
    started = std::chrono::steady_clock::now();
  }
};

// Design note 7: the rows LakeMergeRows emitted (the table's columns plus the kind column),
// per thread, for the query `query` (a re-run plan starts afresh, as RowIdCollector).
struct MergeChangeRows {
  std::mutex mu;
  uint64_t query = 0;
  std::vector<std::unique_ptr<duckdb::ColumnDataCollection>> parts;
  void Add(uint64_t q, std::unique_ptr<duckdb::ColumnDataCollection> part) {
    std::lock_guard lock(mu);
    if (q != query) {
      parts.clear();
      query = q;
    }
    parts.push_back(std::move(part));
  }
  void Settle(uint64_t q) {
    std::lock_guard lock(mu);
    if (q != query) parts.clear();
  }
};

struct ClauseState {
  duckdb::unique_ptr<duckdb::ExpressionExecutor> condition;
  duckdb::unique_ptr<duckdb::ExpressionExecutor> values;
  duckdb::unique_ptr<duckdb::DataChunk> values_chunk;  // DataChunk does not move
};

struct MergeRowsState final : duckdb::OperatorState {
  // Clause states by kind (matched, not matched by target, not matched by source).
  std::vector<std::vector<ClauseState>> clauses;
  duckdb::DataChunk sliced;
  duckdb::DataChunk staged;  // one clause's new rows plus the kind column
  std::map<std::string, std::vector<uint64_t>> rows;
  int64_t row_count = 0;
  // Design note 7 (CDF tables only): the deleted subset of `rows`, and the emitted rows.
  std::map<std::string, std::vector<uint64_t>> deleted_rows;
  int64_t deleted_count = 0;
  std::shared_ptr<RowIdCollector> deleted;
  std::unique_ptr<duckdb::ColumnDataCollection> changes;
  std::shared_ptr<MergeChangeRows> change_rows;
  int64_t source_rows = 0, matched_updated = 0, matched_deleted = 0, nmbs_updated = 0,
          nmbs_deleted = 0, inserted = 0;
  std::shared_ptr<RowIdCollector> collector;
  std::shared_ptr<MergeCounters> counters;

  void Finalize(const duckdb::PhysicalOperator&, duckdb::ExecutionContext& context) override {
    const uint64_t query = context.client.transaction.GetActiveQuery();
    collector->Add(query, rows, row_count);
    if (deleted) deleted->Add(query, deleted_rows, deleted_count);
    if (change_rows && changes && changes->Count() > 0) change_rows->Add(query, std::move(changes));
    changes.reset();
    deleted_count = 0;
    counters->ForQuery(query);
    counters->source_rows += source_rows;
    counters->matched_updated += matched_updated;
    counters->matched_deleted += matched_deleted;
    counters->not_matched_by_source_updated += nmbs_updated;
    counters->not_matched_by_source_deleted += nmbs_deleted;
    counters->inserted += inserted;
    rows.clear();
    row_count = source_rows = matched_updated = matched_deleted = nmbs_updated = nmbs_deleted =
        inserted = 0;
  }
};

constexpr size_t kMatched = 0, kNotMatchedByTarget = 1, kNotMatchedBySource = 2;

class LakeMergeRows final : public duckdb::PhysicalOperator {
 public:
  LakeMergeRows(duckdb::PhysicalPlan& physical_plan, duckdb::vector<LogicalType> types,
                std::vector<std::vector<MergeClause>> clauses, duckdb::idx_t row_id_index,
                duckdb::optional_idx source_marker, std::shared_ptr<RowIdCollector> collector,
                std::shared_ptr<MergeCounters> counters, std::shared_ptr<RowIdCollector> deleted,
                std::shared_ptr<MergeChangeRows> change_rows, duckdb::idx_t estimated_cardinality)
      : PhysicalOperator(physical_plan, duckdb::PhysicalOperatorType::EXTENSION, std::move(types),
                         estimated_cardinality),
        clauses_(std::move(clauses)),
        row_id_index_(row_id_index),
        source_marker_(source_marker),
        collector_(std::move(collector)),
        counters_(std::move(counters)),
        deleted_(std::move(deleted)),
        change_rows_(std::move(change_rows)) {}

  std::string GetName() const override { return "LAKE_MERGE_ROWS"; }
  bool ParallelOperator() const override { return true; }

  duckdb::unique_ptr<duckdb::OperatorState> GetOperatorState(
      duckdb::ExecutionContext& context) const override {
    auto state = duckdb::make_uniq<MergeRowsState>();
    state->collector = collector_;
    state->counters = counters_;
    state->deleted = deleted_;
    state->change_rows = change_rows_;
    if (change_rows_) {
      state->changes = std::make_unique<duckdb::ColumnDataCollection>(context.client, types);
    }
    for (const auto& kind : clauses_) {
      std::vector<ClauseState> states;
      for (const MergeClause& clause : kind) {
        ClauseState s;
        if (clause.condition) {
          s.condition =
              duckdb::make_uniq<duckdb::ExpressionExecutor>(context.client, *clause.condition);
        }
        if (!clause.values.empty()) {
          s.values = duckdb::make_uniq<duckdb::ExpressionExecutor>(context.client, clause.values);
          duckdb::vector<LogicalType> value_types;
          for (const auto& v : clause.values) value_types.push_back(v->return_type);
          s.values_chunk = duckdb::make_uniq<duckdb::DataChunk>();
          s.values_chunk->Initialize(context.client, value_types);
        }
        states.push_back(std::move(s));
      }
      state->clauses.push_back(std::move(states));
    }
    state->sliced.Initialize(context.client, children[0].get().types);
    state->staged.Initialize(context.client, types);
    return state;
  }

  duckdb::OperatorResultType Execute(duckdb::ExecutionContext&, duckdb::DataChunk& input,
                                     duckdb::DataChunk& chunk, duckdb::GlobalOperatorState&,
                                     duckdb::OperatorState& state_p) const override {
    auto& state = state_p.Cast<MergeRowsState>();
    chunk.Reset();
    const duckdb::idx_t n = input.size();
    // Design note 2: the kind of each row.
    duckdb::UnifiedVectorFormat files, positions, marker;
    input.data[row_id_index_].ToUnifiedFormat(n, files);
    input.data[row_id_index_ + 1].ToUnifiedFormat(n, positions);
    if (source_marker_.IsValid()) input.data[source_marker_.GetIndex()].ToUnifiedFormat(n, marker);
    duckdb::SelectionVector kinds[3] = {duckdb::SelectionVector(n), duckdb::SelectionVector(n),
                                        duckdb::SelectionVector(n)};
    duckdb::idx_t counts[3] = {0, 0, 0};
    for (duckdb::idx_t i = 0; i < n; ++i) {
      size_t kind = kMatched;
      if (source_marker_.IsValid() && !marker.validity.RowIsValid(marker.sel->get_index(i))) {
        kind = kNotMatchedBySource;
      } else if (!files.validity.RowIsValid(files.sel->get_index(i))) {
        kind = kNotMatchedByTarget;
      }
      kinds[kind].set_index(counts[kind]++, i);
    }
    state.source_rows += static_cast<int64_t>(counts[kMatched] + counts[kNotMatchedByTarget]);
    auto file_data = duckdb::UnifiedVectorFormat::GetData<duckdb::string_t>(files);
    auto position_data = duckdb::UnifiedVectorFormat::GetData<int64_t>(positions);

    for (size_t kind = 0; kind < 3; ++kind) {
      // `remaining`: rows of this kind no earlier clause took (indices into `input`).
      duckdb::SelectionVector remaining(n);
      duckdb::idx_t remaining_count = counts[kind];
      for (duckdb::idx_t i = 0; i < remaining_count; ++i) {
        remaining.set_index(i, kinds[kind].get_index(i));
      }
      for (size_t c = 0; c < clauses_[kind].size() && remaining_count > 0; ++c) {
        const MergeClause& clause = clauses_[kind][c];
        ClauseState& clause_state = state.clauses[kind][c];
        duckdb::SelectionVector taken(n);
        duckdb::idx_t taken_count = remaining_count;
        if (clause.condition) {
          // Over the remaining rows only; both results are positions in `input`. A NULL
          // condition is not true: the row stays for the next clause.
          duckdb::SelectionVector left(n);
          taken_count = clause_state.condition->SelectExpression(input, &taken, &left, &remaining,
                                                                 remaining_count);
          remaining.Initialize(left);
          remaining_count -= taken_count;
        } else {
          taken.Initialize(remaining);
          remaining_count = 0;
        }
        if (taken_count == 0) continue;
        const bool removes = clause.type == MergeActionType::MERGE_UPDATE ||
                             clause.type == MergeActionType::MERGE_DELETE;
        if (removes) {
          std::vector<uint64_t>* current = nullptr;
          duckdb::string_t current_name;
          for (duckdb::idx_t i = 0; i < taken_count; ++i) {
            const duckdb::idx_t row = taken.get_index(i);
            const duckdb::idx_t f = files.sel->get_index(row);
            const duckdb::idx_t p = positions.sel->get_index(row);
            if (!files.validity.RowIsValid(f) || !positions.validity.RowIsValid(p)) {
              ThrowStatus(Status::Internal("MERGE: a target row without a row id (file, position)"));
            }
            if (current == nullptr || !(file_data[f] == current_name)) {
              current = &state.rows[file_data[f].GetString()];
              current_name = file_data[f];
            }
            current->push_back(static_cast<uint64_t>(position_data[p]));
            if (deleted_ && clause.type == MergeActionType::MERGE_DELETE) {
              state.deleted_rows[file_data[f].GetString()].push_back(
                  static_cast<uint64_t>(position_data[p]));
            }
          }
          state.row_count += static_cast<int64_t>(taken_count);
          if (deleted_ && clause.type == MergeActionType::MERGE_DELETE) {
            state.deleted_count += static_cast<int64_t>(taken_count);
          }
        }
        const auto count = static_cast<int64_t>(taken_count);
        switch (clause.type) {
          case MergeActionType::MERGE_UPDATE:
            (kind == kMatched ? state.matched_updated : state.nmbs_updated) += count;
            Emit(state, clause_state, input, taken, taken_count, chunk, kMergeRowUpdatePostimage);
            break;
          case MergeActionType::MERGE_DELETE:
            (kind == kMatched ? state.matched_deleted : state.nmbs_deleted) += count;
            break;
          case MergeActionType::MERGE_INSERT:
            state.inserted += count;
            Emit(state, clause_state, input, taken, taken_count, chunk, kMergeRowInsert);
            break;
          default:  // DO NOTHING
            break;
        }
      }
    }
    return duckdb::OperatorResultType::NEED_MORE_INPUT;
  }

 private:
  // Appends the new rows of one clause (its values over the taken input rows) to `out`.
  void Emit(MergeRowsState& state, ClauseState& clause_state, duckdb::DataChunk& input,
            const duckdb::SelectionVector& taken, duckdb::idx_t taken_count,
            duckdb::DataChunk& out, uint8_t row_kind) const {
    state.sliced.Reset();
    state.sliced.Slice(input, taken, taken_count);
    duckdb::DataChunk& values = *clause_state.values_chunk;
    values.Reset();
    clause_state.values->Execute(state.sliced, values);
    state.staged.Reset();
    const duckdb::idx_t columns = values.ColumnCount();
    for (duckdb::idx_t c = 0; c < columns; ++c) state.staged.data[c].Reference(values.data[c]);
    state.staged.data[columns].Reference(duckdb::Value::UTINYINT(row_kind));
    state.staged.SetCardinality(taken_count);
    out.Append(state.staged, /*resize=*/false);
    if (state.changes) state.changes->Append(state.staged);
  }

  std::vector<std::vector<MergeClause>> clauses_;
  duckdb::idx_t row_id_index_;
  duckdb::optional_idx source_marker_;
  std::shared_ptr<RowIdCollector> collector_;
  std::shared_ptr<MergeCounters> counters_;
  std::shared_ptr<RowIdCollector> deleted_;        // CDF tables (design note 7)
  std::shared_ptr<MergeChangeRows> change_rows_;  // CDF tables (design note 7)
};

// ---- Planning helpers ----

bool IsTrueSetting(const delta::Metadata& metadata, const std::string& key) {
  auto it = metadata.configuration.find(key);
  return it != metadata.configuration.end() && ToLower(it->second) == "true";
}

// Design note 4: the target scan's pushed-down filters, or nothing (the whole table).
DmlRead ReadOfTargetScan(duckdb::PhysicalOperator& plan, const delta::Schema& schema) {
  std::vector<duckdb::PhysicalTableScan*> scans;
  std::vector<duckdb::PhysicalOperator*> stack{&plan};
  while (!stack.empty()) {
    duckdb::PhysicalOperator* op = stack.back();
    stack.pop_back();
    if (op->type == duckdb::PhysicalOperatorType::TABLE_SCAN) {
      auto& scan = op->Cast<duckdb::PhysicalTableScan>();
      bool has_row_ids = false;
      for (const auto& id : scan.column_ids) {
        has_row_ids |= id.GetPrimaryIndex() == duckdb::MultiFileReader::COLUMN_IDENTIFIER_FILE_ROW_NUMBER;
      }
      if (scan.function.name == "delta_scan" && has_row_ids) scans.push_back(&scan);
    }
    for (auto& child : op->children) stack.push_back(&child.get());
  }
  DmlRead out;
  if (scans.size() != 1 || !scans[0]->table_filters) return out;  // unsure: the whole table
  const auto& scan = *scans[0];
  std::vector<delta::Predicate> conjuncts;
  for (const auto& [position, filter] : scan.table_filters->filters) {
    if (position >= scan.column_ids.size()) continue;
    const duckdb::column_t column = scan.column_ids[position].GetPrimaryIndex();
    if (duckdb::IsVirtualColumn(column) || column >= schema.fields.size()) continue;
    const delta::StructField& field = schema.fields[column];
    if (filter->filter_type == duckdb::TableFilterType::DYNAMIC_FILTER) continue;
    if (filter->filter_type != duckdb::TableFilterType::OPTIONAL_FILTER) {
      out.conditions.push_back(filter->ToString(field.name));
    }
    if (auto p = TranslateTableFilter(*filter, field.name, field.type)) {
      conjuncts.push_back(std::move(*p));
    }
  }
  if (!conjuncts.empty()) {
    out.predicate = conjuncts.size() == 1 ? std::move(conjuncts[0])
                                          : delta::Predicate::And(std::move(conjuncts));
  }
  return out;
}

std::optional<MergeTexts> TakeMergeTexts(ClientContext& context, const std::string& table_key,
                                         const std::string& fingerprint) {
  auto state = context.registered_state->Get<MergeTextsState>(kMergeTextsKey);
  if (!state) return std::nullopt;
  std::lock_guard lock(state->mu);
  for (size_t i = 0; i < state->queue.size(); ++i) {
    if (state->queue[i].table_key == table_key && state->queue[i].fingerprint == fingerprint) {
      MergeTexts out = std::move(state->queue[i]);
      state->queue.erase(state->queue.begin(), state->queue.begin() + i + 1);
      return out;
    }
  }
  return std::nullopt;
}

std::string Count(const std::atomic<int64_t>& v) { return std::to_string(v.load()); }

// Design note 7: the cdc files of one MERGE. `removed` and `deleted` are sorted row ids
// (deleted is a subset of removed); `emitted` holds the new rows with their kind.
Result<std::vector<delta::AddCdcFile>> WriteMergeChangeData(
    duckdb::DatabaseInstance& db, const ChangeDataTarget& cdc,
    const std::map<std::string, std::vector<uint64_t>>& removed,
    const std::map<std::string, std::vector<uint64_t>>& deleted, MergeChangeRows& emitted) {
  std::map<std::string, std::vector<uint64_t>> preimages;
  for (const auto& [file, positions] : removed) {
    auto it = deleted.find(file);
    if (it == deleted.end()) {
      preimages.emplace(file, positions);
      continue;
    }
    std::vector<uint64_t> updated;
    std::set_difference(positions.begin(), positions.end(), it->second.begin(), it->second.end(),
                        std::back_inserter(updated));
    if (!updated.empty()) preimages.emplace(file, std::move(updated));
  }
  LAKE_ASSIGN_OR_RETURN(std::vector<delta::AddCdcFile> out,
                        WriteChangeRowsAt(db, cdc, preimages, ChangeType::kUpdatePreimage));
  LAKE_ASSIGN_OR_RETURN(std::vector<delta::AddCdcFile> deletes,
                        WriteChangeRowsAt(db, cdc, deleted, ChangeType::kDelete));
  out.insert(out.end(), deletes.begin(), deletes.end());
  std::lock_guard lock(emitted.mu);
  if (emitted.parts.empty()) return out;

  // The emitted rows reach the nested session that writes them through a scratch in-memory
  // database: temporary tables are per connection, an attached database is not.
  const duckdb::vector<LogicalType>& types = emitted.parts.front()->Types();
  if (types.size() != cdc.schema->fields.size() + 1) {
    return Status::Internal(StrCat("MERGE change data: ", types.size(), " columns for a table of ",
                                   cdc.schema->fields.size()));
  }
  std::string scratch = "__lake_merge_cdc_" + NewUuidV4();
  for (char& c : scratch) {
    if (c == '-') c = '_';
  }
  constexpr const char* kKind = "__lake_row_kind";
  std::vector<std::string> columns, names;
  for (size_t i = 0; i < cdc.schema->fields.size(); ++i) {
    names.push_back(SqlIdent(cdc.schema->fields[i].name));
    columns.push_back(StrCat(names.back(), " ", types[i].ToString()));
  }
  columns.push_back(StrCat(kKind, " UTINYINT"));
  Status staged = CatchAll([&]() -> Status {
    duckdb::Connection conn(db);
    auto run = [&](const std::string& sql) -> Status {
      auto result = conn.Query(sql);
      if (result->HasError()) {
        return Status::Internal(StrCat("MERGE change data: ", result->GetError()));
      }
      return Status::OK();
    };
    LAKE_RETURN_IF_ERROR(run(StrCat("ATTACH ':memory:' AS ", scratch)));
    LAKE_RETURN_IF_ERROR(
        run(StrCat("CREATE TABLE ", scratch, ".main.rows (", StrJoin(columns, ", "), ")")));
    duckdb::Appender appender(conn, scratch, "main", "rows");
    for (const auto& part : emitted.parts) {
      for (duckdb::DataChunk& chunk : part->Chunks()) appender.AppendDataChunk(chunk);
    }
    appender.Close();
    return Status::OK();
  });
  ScopeGuard detach([&] {
    duckdb::Connection conn(db);
    conn.Query(StrCat("DETACH DATABASE IF EXISTS ", scratch));
  });
  LAKE_RETURN_IF_ERROR(staged);
  std::unique_ptr<Session> session = NewSession(db);
  LAKE_ASSIGN_OR_RETURN(
      std::vector<delta::AddCdcFile> written,
      WriteChangeData(*session, cdc,
                      StrCat("SELECT ", StrJoin(names, ", "), ", CASE ", kKind, " WHEN ",
                             static_cast<int>(kMergeRowInsert), " THEN ",
                             SqlQuote(ChangeTypeName(ChangeType::kInsert)), " ELSE ",
                             SqlQuote(ChangeTypeName(ChangeType::kUpdatePostimage)), " END AS ",
                             kChangeTypeColumn, " FROM ", scratch, ".main.rows")));
  out.insert(out.end(), written.begin(), written.end());
  return out;
}

}  // namespace

duckdb::PhysicalOperator& PlanLakeMerge(ClientContext& context,
                                        duckdb::PhysicalPlanGenerator& planner,
                                        duckdb::LogicalMergeInto& op, duckdb::PhysicalOperator& plan,
                                        const MergeTarget& target) {
  const std::string display = StrCat(target.table.schema, ".", target.table.name);
  if (op.return_chunk) {
    ThrowStatus(Status::NotSupported(StrCat("MERGE ... RETURNING into lake table ", display))
                    .WithHint("query the table after the MERGE"));
  }
  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  CachedTable read = ValueOrThrow(cache.AtVersion(target.table.location, target.version));
  // The writer gate before anything runs (design note 6).
  std::unique_ptr<delta::Transaction> probe =
      ValueOrThrow(delta::Transaction::Begin(*read.engine, read.snapshot));
  const bool change_data = RecordsChangeData(probe->metadata());

  // The rows the clauses produce: the table's columns, as the catalog entry has them (the
  // evolved ones under schema evolution).
  const auto& table_columns = op.table.GetColumns();
  const duckdb::idx_t n = table_columns.PhysicalColumnCount();
  duckdb::vector<LogicalType> types;
  for (duckdb::idx_t i = 0; i < n; ++i) {
    types.push_back(table_columns.GetColumn(duckdb::PhysicalIndex(i)).Type());
  }
  auto cast_to = [&](duckdb::unique_ptr<duckdb::Expression> expr, const LogicalType& type) {
    if (expr->return_type == type) return expr;
    return duckdb::BoundCastExpression::AddCastToType(context, std::move(expr), type);
  };
  std::vector<std::vector<MergeClause>> clauses(3);
  std::map<MergeActionCondition, size_t> slot = {
      {MergeActionCondition::WHEN_MATCHED, kMatched},
      {MergeActionCondition::WHEN_NOT_MATCHED_BY_TARGET, kNotMatchedByTarget},
      {MergeActionCondition::WHEN_NOT_MATCHED_BY_SOURCE, kNotMatchedBySource}};
  const std::string fingerprint = Fingerprint(op.actions);
  for (auto& [condition, actions] : op.actions) {
    for (auto& action : actions) {
      MergeClause clause;
      clause.type = action->action_type;
      clause.condition = std::move(action->condition);
      switch (action->action_type) {
        case MergeActionType::MERGE_UPDATE: {
          // BindUpdateConstraints (lake_catalog.cc) completed the SET list with c = c.
          for (duckdb::idx_t i = 0; i < n; ++i) {
            duckdb::unique_ptr<duckdb::Expression> value;
            for (size_t k = 0; k < action->columns.size(); ++k) {
              if (action->columns[k].index == i) value = action->expressions[k]->Copy();
            }
            if (!value) {
              ThrowStatus(Status::Internal(StrCat("MERGE INTO ", display, ": UPDATE without a "
                                                  "value for column ",
                                                  table_columns.GetColumn(duckdb::PhysicalIndex(i))
                                                      .Name())));
            }
            clause.values.push_back(cast_to(std::move(value), types[i]));
          }
          break;
        }
        case MergeActionType::MERGE_INSERT: {
          for (duckdb::idx_t i = 0; i < n; ++i) {
            duckdb::unique_ptr<duckdb::Expression> value;
            if (action->column_index_map.empty()) {
              value = action->expressions[i]->Copy();
            } else {
              const duckdb::idx_t mapped = action->column_index_map[duckdb::PhysicalIndex(i)];
              const auto& column = table_columns.GetColumn(duckdb::PhysicalIndex(i));
              value = mapped == duckdb::DConstants::INVALID_INDEX
                          ? op.bound_defaults[column.StorageOid()]->Copy()
                          : action->expressions[mapped]->Copy();
            }
            clause.values.push_back(cast_to(std::move(value), types[i]));
          }
          break;
        }
        case MergeActionType::MERGE_DELETE:
        case MergeActionType::MERGE_DO_NOTHING:
          break;
        case MergeActionType::MERGE_ERROR:
          ThrowStatus(Status::NotSupported(StrCat("MERGE INTO ", display, ": THEN ERROR"))
                          .WithHint("Spark's MERGE has no ERROR action; use a condition in "
                                    "the source instead"));
      }
      clauses[slot.at(condition)].push_back(std::move(clause));
    }
  }

  // Conflicts (design note 4); texts for commitInfo.
  const delta::Schema& schema = probe->schema();
  auto dml_read = std::make_shared<const DmlRead>(ReadOfTargetScan(plan, schema));
  std::optional<MergeTexts> texts = TakeMergeTexts(
      context, StrCat(ToLower(target.table.schema), ".", ToLower(target.table.name)), fingerprint);
  if (!texts) texts = MergeTexts{};
  std::string parameters =
      StrCat("{\"predicate\":", JsonArrayString({JsonQuote(texts->predicate)}),
             ",\"matchedPredicates\":", JsonArrayString(texts->matched),
             ",\"notMatchedPredicates\":", JsonArrayString(texts->not_matched),
             ",\"notMatchedBySourcePredicates\":", JsonArrayString(texts->not_matched_by_source),
             "}");

  auto collector = std::make_shared<RowIdCollector>();
  auto counters = std::make_shared<MergeCounters>();
  duckdb::vector<LogicalType> out_types = types;
  out_types.push_back(LogicalType::UTINYINT);  // kMergeRow*
  // Design note 7.
  std::shared_ptr<RowIdCollector> deleted;
  std::shared_ptr<MergeChangeRows> change_rows;
  if (change_data) {
    deleted = std::make_shared<RowIdCollector>();
    change_rows = std::make_shared<MergeChangeRows>();
  }
  auto& rows = planner.Make<LakeMergeRows>(out_types, std::move(clauses), op.row_id_start,
                                           op.source_marker, collector, counters, deleted,
                                           change_rows, plan.estimated_cardinality);
  rows.children.push_back(plan);

  RowRewrite rewrite;
  rewrite.operation = "MERGE";
  rewrite.operation_parameters = std::move(parameters);
  rewrite.removed = collector;
  rewrite.read = dml_read;
  rewrite.settle = [counters, deleted, change_rows](ClientContext& client) {
    const uint64_t query = client.transaction.GetActiveQuery();
    counters->ForQuery(query);
    if (deleted) deleted->Settle(query);
    if (change_rows) change_rows->Settle(query);
  };
  if (change_data) {
    rewrite.change_data = [deleted, change_rows, display](
                              duckdb::DatabaseInstance& db, const ChangeDataTarget& cdc,
                              const std::map<std::string, std::vector<uint64_t>>& removed)
        -> Result<std::vector<delta::AddCdcFile>> {
      LAKE_RETURN_IF_ERROR(deleted->Finish(StrCat("MERGE INTO ", display)));
      return WriteMergeChangeData(db, cdc, removed, deleted->rows, *change_rows);
    };
  }
  // Spark's num_affected_rows.
  rewrite.result_count = [counters] {
    return counters->matched_updated.load() + counters->matched_deleted.load() +
           counters->not_matched_by_source_updated.load() +
           counters->not_matched_by_source_deleted.load() + counters->inserted.load();
  };
  rewrite.metrics = [counters](const PendingTableWrite& pending) {
    const int64_t updated =
        counters->matched_updated.load() + counters->not_matched_by_source_updated.load();
    const int64_t deleted =
        counters->matched_deleted.load() + counters->not_matched_by_source_deleted.load();
    const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - counters->started)
                                .count();
    return StrCat(
        "{\"numSourceRows\":\"", Count(counters->source_rows), "\",\"numTargetRowsInserted\":\"",
        Count(counters->inserted), "\",\"numTargetRowsUpdated\":\"", updated,
        "\",\"numTargetRowsMatchedUpdated\":\"", Count(counters->matched_updated),
        "\",\"numTargetRowsNotMatchedBySourceUpdated\":\"",
        Count(counters->not_matched_by_source_updated), "\",\"numTargetRowsDeleted\":\"", deleted,
        "\",\"numTargetRowsMatchedDeleted\":\"", Count(counters->matched_deleted),
        "\",\"numTargetRowsNotMatchedBySourceDeleted\":\"",
        Count(counters->not_matched_by_source_deleted), "\",\"numTargetRowsCopied\":\"",
        pending.num_copied_rows, "\",\"numOutputRows\":\"",
        counters->inserted.load() + updated + pending.num_copied_rows,
        "\",\"numTargetFilesAdded\":\"", pending.num_files, "\",\"numTargetFilesRemoved\":\"",
        // A file added back under a deletion vector (dv_removal.h) is not removed for Spark.
        std::max<int64_t>(pending.num_removed_files - pending.num_dvs_added, 0),
        "\",\"numTargetBytesAdded\":\"", pending.num_output_bytes,
        "\",\"numTargetBytesRemoved\":\"", pending.num_removed_bytes,
        "\",\"numTargetChangeFilesAdded\":\"", pending.num_change_files,
        "\",\"numTargetDeletionVectorsAdded\":\"", pending.num_dvs_added,
        "\",\"numTargetDeletionVectorsRemoved\":\"", pending.num_dvs_removed,
        "\",\"numTargetDeletionVectorsUpdated\":\"", pending.num_dvs_updated,
        "\",\"executionTimeMs\":\"", elapsed_ms, "\"}");
  };
  // Schema evolution (PrepareLakeMerge): the entry shows more columns than the version read.
  if (n != schema.fields.size()) {
    std::optional<delta::Schema> evolved = InsertSchemaOverride(context, target.table.location);
    if (!evolved || evolved->fields.size() != n) {
      ThrowStatus(Status::Internal(StrCat("MERGE INTO ", display, ": the table has ",
                                          schema.fields.size(), " columns, the statement ", n)));
    }
    delta::Metadata metadata = probe->metadata();
    metadata.schema_string = delta::SerializeDataType(*evolved);
    rewrite.new_metadata = std::move(metadata);
  }
  return PlanLakeRowRewrite(context, planner, rows, op.table.catalog,
                            InsertTarget{target.table, target.version}, std::move(rewrite));
}

// ---- Spark's meaning of the parsed statement ----

namespace {

struct TargetColumns {
  DirectoryTable table;
  std::vector<std::string> names;
  CachedTable latest;
};

template <typename Fn>
void InTransaction(ClientContext& context, bool inside_query, Fn fn) {
  if (inside_query) {
    fn();
  } else {
    context.RunFunctionInTransaction(fn);
  }
}

// Returns the lake table a MERGE's target names, or nullopt when it is not a lake table.
std::optional<TargetColumns> LakeTargetOf(ClientContext& context, duckdb::BaseTableRef& ref,
                                          bool inside_query) {
  std::optional<TargetColumns> out;
  Status looked_up = CatchAll([&] {
    InTransaction(context, inside_query, [&] {
      auto entry = duckdb::Catalog::GetEntry<duckdb::TableCatalogEntry>(
          context, ref.catalog_name, ref.schema_name, ref.table_name,
          duckdb::OnEntryNotFound::RETURN_NULL);
      if (!entry || entry->ParentCatalog().GetCatalogType() != kLakeCatalogType) return;
      TargetColumns columns;
      if (entry->ParentSchema().name == kPathSchemaName &&
          entry->name.find('/') != std::string::npos) {
        // delta.`/path` (lake_catalog.cc design note 7): the table at that path.
        columns.table.schema = kPathSchemaName;
        columns.table.name = entry->name;
        columns.table.location = NormalizeLocation(entry->name);
      } else {
        Result<DirectoryTable> table =
            FindLakeTable(context, StrCat(entry->ParentSchema().name, ".", entry->name));
        if (!table.ok()) return;
        columns.table = std::move(*table);
      }
      for (const auto& column : entry->GetColumns().Logical()) {
        columns.names.push_back(column.Name());
      }
      out = std::move(columns);
    });
  });
  if (!looked_up.ok()) return std::nullopt;  // DuckDB's bind reports it
  return out;
}

std::string ExpressionText(const duckdb::ParsedExpression& e) { return e.ToString(); }

}  // namespace

void PrepareLakeMerge(ClientContext& context, duckdb::SQLStatement& statement,
                      bool schema_evolution, bool inside_query) {
  if (statement.type != duckdb::StatementType::MERGE_INTO_STATEMENT) return;
  auto& stmt = statement.Cast<duckdb::MergeIntoStatement>();
  if (!stmt.target || stmt.target->type != duckdb::TableReferenceType::BASE_TABLE) return;
  auto& target_ref = stmt.target->Cast<duckdb::BaseTableRef>();
  std::optional<TargetColumns> target = LakeTargetOf(context, target_ref, inside_query);
  if (!target) return;
  const std::string display = StrCat(target->table.schema, ".", target->table.name);
  if (target_ref.at_clause) {
    ThrowStatus(Status::NotSupported(StrCat("MERGE INTO ", display,
                                            " at a version or timestamp: a MERGE writes the "
                                            "latest version"))
                    .WithHint("drop VERSION AS OF / TIMESTAMP AS OF from the target; a source "
                              "may travel"));
  }
  if (!schema_evolution) {
    duckdb::Value auto_merge;
    context.TryGetCurrentSetting(kAutoMergeSetting, auto_merge);
    schema_evolution = !auto_merge.IsNull() && auto_merge.GetValue<bool>();
  }

  // The source's name for qualified references (its alias, or the table's name).
  std::string source_name = stmt.source->alias;
  if (source_name.empty() && stmt.source->type == duckdb::TableReferenceType::BASE_TABLE) {
    source_name = stmt.source->Cast<duckdb::BaseTableRef>().table_name;
  }
  auto is_update_star = [](const duckdb::MergeIntoAction& a) {
    return a.action_type == MergeActionType::MERGE_UPDATE && !a.update_info &&
           a.column_order == duckdb::InsertColumnOrder::INSERT_BY_POSITION;
  };
  auto is_insert_star = [](const duckdb::MergeIntoAction& a) {
    return a.action_type == MergeActionType::MERGE_INSERT && a.expressions.empty() &&
           a.insert_columns.empty() && !a.default_values &&
           a.column_order == duckdb::InsertColumnOrder::INSERT_BY_POSITION;
  };
  bool has_star = false;
  for (auto& [condition, actions] : stmt.actions) {
    for (auto& action : actions) has_star |= is_update_star(*action) || is_insert_star(*action);
  }
  if (has_star && source_name.empty()) {
    ThrowStatus(Status::InvalidArgument(StrCat("MERGE INTO ", display,
                                               ": UPDATE SET * / INSERT * need a name for the "
                                               "source"))
                    .WithHint("give the source an alias: USING (SELECT ...) AS s"));
  }

  // Schema evolution: the source columns the target lacks are added (delta/schema_evolution.h).
  std::vector<std::string> target_names = target->names;
  std::vector<std::string> source_names;
  if (schema_evolution && has_star) {
    auto binder = duckdb::Binder::CreateBinder(context);
    auto source_copy = stmt.source->Copy();
    std::vector<ResultColumn> source_columns;
    Status bound = CatchAll([&] {
      InTransaction(context, inside_query, [&] {
        binder->Bind(*source_copy);
        for (auto& binding : binder->bind_context.GetBindingsList()) {
          for (size_t c = 0; c < binding->names.size(); ++c) {
            source_columns.push_back(
                ResultColumn{binding->names[c], ToColumnType(binding->types[c])});
          }
        }
      });
    });
    OkOrThrow(bound);
    for (const ResultColumn& c : source_columns) source_names.push_back(c.name);
    CachedTable latest = ValueOrThrow(
        SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context)).Latest(
            target->table.location));
    QuerySchema query_schema = ValueOrThrow(DeltaSchemaFor(source_columns));
    std::vector<delta::IncomingColumn> incoming;
    for (const auto& field : query_schema.schema.fields) {
      incoming.push_back(delta::IncomingColumn{field.name, field.type});
    }
    const delta::Snapshot& snap = *latest.snapshot;
    delta::EvolvedSchema evolved = ValueOrThrow(delta::EvolveSchema(
        snap.schema(), incoming, IsTrueSetting(snap.metadata(), "delta.enableTypeWidening")));
    if (evolved.changed()) {
      target_names.clear();
      for (const delta::StructField& field : evolved.schema.fields) {
        target_names.push_back(field.name);
      }
      SetInsertSchemaOverride(context, target->table.location, std::move(evolved.schema));
    }
  }
  auto in_source = [&](const std::string& column) {
    if (source_names.empty()) return true;  // unknown without evolution: DuckDB's bind checks
    for (const std::string& s : source_names) {
      if (ToLower(s) == ToLower(column)) return true;
    }
    return false;
  };
  auto source_ref = [&](const std::string& column) {
    return duckdb::make_uniq<duckdb::ColumnRefExpression>(column, source_name);
  };

  MergeTexts texts;
  texts.table_key = StrCat(ToLower(target->table.schema), ".", ToLower(target->table.name));
  if (stmt.join_condition) {
    texts.predicate = ExpressionText(*stmt.join_condition);
  } else {
    texts.predicate = StrCat("USING (", StrJoin(stmt.using_columns, ", "), ")");
  }
  for (auto& [condition, actions] : stmt.actions) {
    for (auto& action : actions) {
      if (is_update_star(*action)) {
        action->update_info = duckdb::make_uniq<duckdb::UpdateSetInfo>();
        for (const std::string& column : target_names) {
          // Spark: SET * assigns every target column; under evolution a column the source
          // lacks keeps its value.
          if (!in_source(column)) continue;
          action->update_info->columns.push_back(column);
          action->update_info->expressions.push_back(source_ref(column));
        }
      } else if (is_insert_star(*action)) {
        for (const std::string& column : target_names) {
          action->insert_columns.push_back(column);
          if (in_source(column)) {
            action->expressions.push_back(source_ref(column));
          } else {
            action->expressions.push_back(
                duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value()));
          }
        }
      }
      std::string object = "{";
      if (action->condition) {
        object += StrCat("\"predicate\":", JsonQuote(ExpressionText(*action->condition)), ",");
      }
      object += StrCat("\"actionType\":\"", ActionName(action->action_type), "\"}");
      switch (condition) {
        case MergeActionCondition::WHEN_MATCHED:
          texts.matched.push_back(object);
          break;
        case MergeActionCondition::WHEN_NOT_MATCHED_BY_TARGET:
          texts.not_matched.push_back(object);
          break;
        case MergeActionCondition::WHEN_NOT_MATCHED_BY_SOURCE:
          texts.not_matched_by_source.push_back(object);
          break;
      }
    }
  }
  texts.fingerprint = Fingerprint(stmt.actions);
  auto state = context.registered_state->GetOrCreate<MergeTextsState>(kMergeTextsKey);
  std::lock_guard lock(state->mu);
  state->queue.push_back(std::move(texts));
  // Entries of statements that never got planned (bind errors) must not pile up.
  constexpr size_t kMaxQueued = 64;
  if (state->queue.size() > kMaxQueued) {
    state->queue.erase(state->queue.begin(), state->queue.end() - kMaxQueued);
  }
}

void RegisterLakeMerge(duckdb::DatabaseInstance& db) {
  duckdb::DBConfig::GetConfig(db).AddExtensionOption(
      kAutoMergeSetting,
      "MERGE adds the source columns the target lacks (Spark's schema.autoMerge.enabled)",
      LogicalType::BOOLEAN, duckdb::Value::BOOLEAN(false));
}

}  // namespace lake::engine::internal
