// Row-level DML on lake tables planned into DuckDB's own DELETE and UPDATE (issue #4 §1). Design notes:
// lake_dml.cc.
//
// Pipeline of a DELETE: DuckDB's binder scans the table with the row-id columns lake declares
// (LakeTableEntry::GetRowIdColumns: the scan's `filename` and `file_row_number` virtual
// columns) under the WHERE filter -> LakeDelete (collects the positions per file; at the end
// stages the copy-on-write removal of those rows in the DuckDB transaction; its source
// returns the row count). Committed with the transaction like INSERT (lake_write.h).
// UPDATE (lake_write.h PlanLakeUpdate): the binder projects full new rows plus the row ids
// (LakeTableEntry::BindUpdateConstraints) -> RowIdTap (records the ids, passes the rows) ->
// the INSERT write pipeline, whose commit removes the recorded rows copy-on-write.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "delta/skipping.h"
#include "engine/internal/duckdb_pch.h"
#include "engine/table_directory.h"

namespace duckdb {
class PhysicalPlanGenerator;
class LogicalDelete;
class LogicalOperator;
class PhysicalOperator;
}  // namespace duckdb

namespace lake::engine::internal {

struct DmlTarget {
  DirectoryTable table;
  int64_t version = -1;  // the version the statement pinned
};

// What a DML statement read, from its optimized logical plan: the conjuncts of its filters on
// the target scan that translate to a skipping predicate (a superset of the rows it touches,
// for conflict detection), and their text for commitInfo. No predicate: the whole table.
struct DmlRead {
  std::optional<delta::Predicate> predicate;
  std::vector<std::string> conditions;  // SQL text of the filter conjuncts, for commitInfo
};
DmlRead ReadOfDmlPlan(duckdb::LogicalOperator& child, const delta::Schema& schema);

// Row ids (local file path -> sorted positions) a DML statement collects while its rows flow
// to the writer (UPDATE: RowIdTap), read by the write's finalize. Reset per execution.
struct RowIdCollector {
  std::mutex mu;
  std::map<std::string, std::vector<uint64_t>> rows;
  int64_t count = 0;
  // The query (ClientContext's active query number) the ids belong to. A plan may run again
  // (a prepared statement); no pipeline hook runs reliably before the producing threads
  // (the consumer pipeline's initialization may come after they flushed), so ids of another
  // query are dropped when new ones arrive (Add) and when they are read (Settle).
  uint64_t query = 0;
  // Hands one thread's ids of query `q` over (`from` is emptied).
  void Add(uint64_t q, std::map<std::string, std::vector<uint64_t>>& from, int64_t n);
  // Drops ids that belong to a query other than `q` (call before reading them).
  void Settle(uint64_t q);
  // Sorts the positions; kInvalidArgument when a row was collected twice (an UPDATE whose
  // FROM / a MERGE whose source matched one target row several times).
  Status Finish(const std::string& what);
};

// Plans the streaming operator that records the row ids (columns `filename_index`,
// `row_index` of its input) into `collector` and passes on the input's first
// `passed_columns` columns.
duckdb::PhysicalOperator& PlanRowIdTap(duckdb::PhysicalPlanGenerator& planner,
                                       duckdb::PhysicalOperator& child,
                                       std::shared_ptr<RowIdCollector> collector,
                                       duckdb::idx_t filename_index, duckdb::idx_t row_index,
                                       duckdb::idx_t passed_columns);

// Plans DELETE FROM a lake table (LakeCatalog::PlanDelete), from the logical operator.
duckdb::PhysicalOperator& PlanLakeDelete(duckdb::ClientContext& context,
                                         duckdb::PhysicalPlanGenerator& planner,
                                         duckdb::LogicalDelete& op, const DmlTarget& target);

}  // namespace lake::engine::internal
