// Writes through the `lake` catalog: INSERT INTO and CREATE [OR REPLACE] TABLE ... AS SELECT
// planned into DuckDB's pipeline (DUCKDB-INTEGRATION.md §2.2), committed as one Delta
// version per table when DuckDB commits the transaction. Design notes: lake_write.cc.
//
// Pipeline of an INSERT:
//   insert's child plan -> [defaults projection] -> projection (internal/write_plan.h: types,
//   partition serialization, NOT NULL and CHECK) -> PhysicalCopyToFile (Parquet, written
//   file statistics) -> LakeInsert (stats rows -> AddFiles, staged in the transaction;
//   its source returns the row count).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "engine/internal/ctas_clauses.h"
#include "engine/internal/duckdb_pch.h"
#include "engine/internal/insert_clauses.h"
#include "engine/internal/snapshot_cache.h"
#include "engine/table_directory.h"

namespace duckdb {
class PhysicalPlanGenerator;
class LogicalInsert;
class LogicalUpdate;
class LogicalCreateTable;
class PhysicalOperator;
}  // namespace duckdb

namespace lake::engine::internal {

// DuckDB settings: SET lake.txnAppId = 'app'; SET lake.txnVersion = 5 (Spark's txnAppId /
// txnVersion write options, PROTOCOL.md "Transaction Identifiers").
inline constexpr const char* kTxnAppIdSetting = "lake.txnAppId";
inline constexpr const char* kTxnVersionSetting = "lake.txnVersion";
// SET lake.partitionOverwriteMode = 'dynamic' | 'static' (Spark's partitionOverwriteMode):
// what INSERT OVERWRITE of a partitioned table without static partition values replaces.
inline constexpr const char* kPartitionOverwriteModeSetting = "lake.partitionOverwriteMode";
// SET lake.mergeSchema = true: INSERTs evolve the schema as INSERT WITH SCHEMA EVOLUTION does
// (Spark's mergeSchema option), when DuckDB cannot bind them to the table's columns.
inline constexpr const char* kMergeSchemaSetting = "lake.mergeSchema";

// What one DuckDB transaction will commit to one table.
struct PendingTableWrite {
  std::string display_name;  // schema.table
  std::string location;
  CachedTable read;  // the version the statements read (engine + snapshot); unset for create
  std::unique_ptr<delta::Transaction> txn;
  std::string operation = "WRITE";
  std::string operation_parameters = "{}";
  int64_t num_files = 0;
  int64_t num_output_rows = 0;
  int64_t num_output_bytes = 0;
  int64_t num_removed_files = 0;
  int64_t num_removed_bytes = 0;
  // Rows an overwrite by predicate removed, and the rows of partly matching files it copied.
  int64_t num_deleted_rows = 0;
  int64_t num_copied_rows = 0;
  int64_t num_change_files = 0;  // cdc files staged (change_data_writer.h)
  bool report_row_rewrites = false;
  // When set, commitInfo.operationMetrics as is (DML records its own, lake_dml.cc).
  std::string operation_metrics;
  // When set, commitInfo.operationMetrics from it at the commit (MERGE, lake_merge.h).
  std::function<std::string(const PendingTableWrite&)> metrics_at_commit;
  bool txn_staged = false;
  // Deletion vectors the statement's row removals added, removed, replaced (dv_removal.h).
  int64_t num_dvs_added = 0;
  int64_t num_dvs_removed = 0;
  int64_t num_dvs_updated = 0;
  // CREATE TABLE AS SELECT: registered in the directory after the commit.
  std::optional<NewTable> register_as;
  std::shared_ptr<TableDirectory> directory;
};

// The writes staged by one DuckDB transaction, keyed by table location. Thread-safe: the
// write operators of parallel statements call in from DuckDB's threads.
class LakeWrites {
 public:
  // Runs `fn` on the pending write of `location` (a unique_ptr&), creating it with `make`
  // first; an entry `make` left null (its error) is dropped after `fn`.
  template <typename Make, typename Fn>
  auto With(const std::string& location, Make make, Fn fn) {
    std::lock_guard lock(mu_);
    auto it = tables_.find(location);
    if (it == tables_.end()) it = tables_.emplace(location, make()).first;
    auto result = fn(it->second);
    if (!it->second) tables_.erase(it);
    return result;
  }
  bool empty() const {
    std::lock_guard lock(mu_);
    return tables_.empty();
  }
  bool Contains(const std::string& location) const {
    std::lock_guard lock(mu_);
    return tables_.count(location) > 0;
  }
  // Commits every pending write, one Delta version each, in location order; checkpoints when
  // due (a failed checkpoint is logged, never fails the commit); refreshes `cache`. Stops at
  // the first error (earlier tables stay committed: Delta has no multi-table atomicity).
  Status Commit(SnapshotCache& cache);
  void Clear() {
    std::lock_guard lock(mu_);
    tables_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<PendingTableWrite>> tables_;
};

// The DuckDB transaction of catalog lake: owns the writes (LakeTransaction derives from it).
class LakeWriteTransaction : public duckdb::Transaction {
 public:
  using duckdb::Transaction::Transaction;
  LakeWrites& writes() { return writes_; }

 private:
  LakeWrites writes_;
};

// What PlanLakeInsert needs about the target table.
struct InsertTarget {
  DirectoryTable table;
  delta::Version version = -1;  // the version the statement pinned
};

// Plans INSERT INTO a lake table (LakeCatalog::PlanInsert).
duckdb::PhysicalOperator& PlanLakeInsert(duckdb::ClientContext& context,
                                         duckdb::PhysicalPlanGenerator& planner,
                                         duckdb::LogicalInsert& op,
                                         duckdb::optional_ptr<duckdb::PhysicalOperator> plan,
                                         const InsertTarget& target);

// Plans UPDATE of a lake table (LakeCatalog::PlanUpdate; lake_dml.h): the new full rows go
// through the INSERT pipeline; the commit removes the updated rows copy-on-write.
duckdb::PhysicalOperator& PlanLakeUpdate(duckdb::ClientContext& context,
                                         duckdb::PhysicalPlanGenerator& planner,
                                         duckdb::LogicalUpdate& op, const InsertTarget& target);

struct DmlRead;
struct RowIdCollector;

// A row-level rewrite whose new rows come from a plan (MERGE, lake_merge.h): the rows are
// written like an INSERT's and the commit removes the rows `removed` collected (copy-on-write,
// row_removal.h RemoveRows; the seam where deletion vectors will replace the rewrite).
// `rows` gives the table's columns in order, then one UTINYINT kind column (lake_merge.h
// kMergeRowInsert / kMergeRowUpdatePostimage) that the data files do not hold. Change data
// feed: on a table that records it, the commit stages the cdc files `change_data` writes
// (the rewrite knows its change types: MERGE keeps the kind of its new rows and tells its
// preimages from its deletes), after the removal is planned and before it is staged.
struct ChangeDataTarget;
struct RowRewrite {
  std::string operation;             // commitInfo.operation
  std::string operation_parameters;  // JSON object
  std::shared_ptr<RowIdCollector> removed;
  std::shared_ptr<const DmlRead> read;  // what the statement read (conflicts)
  // Runs when the rows have all been written, before the commit is staged (settles
  // per-execution state, as RowIdCollector::Settle).
  std::function<void(duckdb::ClientContext&)> settle;
  std::function<std::string(const PendingTableWrite&)> metrics;
  std::function<int64_t()> result_count;  // the statement's row count (default: rows written)
  std::optional<delta::Metadata> new_metadata;  // schema evolution: committed with the rows
  // Required on a table with delta.enableChangeDataFeed (change_data_writer.h rule 1): the
  // cdc files of every change, given the removed rows (`removed`, settled and sorted).
  std::function<Result<std::vector<delta::AddCdcFile>>(
      duckdb::DatabaseInstance&, const ChangeDataTarget&,
      const std::map<std::string, std::vector<uint64_t>>& removed)>
      change_data;
};
duckdb::PhysicalOperator& PlanLakeRowRewrite(duckdb::ClientContext& context,
                                             duckdb::PhysicalPlanGenerator& planner,
                                             duckdb::PhysicalOperator& rows,
                                             duckdb::Catalog& catalog, const InsertTarget& target,
                                             RowRewrite rewrite);

// Stashes the Spark clauses (ctas_clauses.h) of the next CTAS of schema.table planned on
// `context`; PlanLakeCreateTableAs takes them.
void StashCtasClauses(duckdb::ClientContext& context, const std::string& schema,
                      const std::string& table, CtasClauses clauses);

// Stashes the Spark clauses (insert_clauses.h) of the INSERT into schema.table being planned
// on `context`; PlanLakeInsert takes them. Cleared at the end of the query either way.
void StashInsertClauses(duckdb::ClientContext& context, const std::string& schema,
                        const std::string& table, InsertClauses clauses);

// INSERT WITH SCHEMA EVOLUTION: until the query ends, the catalog gives the latest-version
// entry of the table at `location` the `schema` columns (the table evolved for this write),
// so DuckDB binds the INSERT against them; PlanLakeInsert commits the evolved metadata with
// the data (InsertClauses::evolved_schema_string).
void SetInsertSchemaOverride(duckdb::ClientContext& context, const std::string& location,
                             delta::Schema schema);
std::optional<delta::Schema> InsertSchemaOverride(duckdb::ClientContext& context,
                                                  const std::string& location);

// Plans CREATE [OR REPLACE] TABLE schema.name AS SELECT (LakeCatalog::PlanCreateTableAs).
// `existing`: the table registered under that name (REPLACE, or IF NOT EXISTS).
duckdb::PhysicalOperator& PlanLakeCreateTableAs(
    duckdb::ClientContext& context, duckdb::PhysicalPlanGenerator& planner,
    duckdb::LogicalCreateTable& op, duckdb::PhysicalOperator& plan,
    std::shared_ptr<TableDirectory> directory, const std::string& schema_name,
    const std::optional<DirectoryTable>& existing);

// Registers the lake.txnAppId / lake.txnVersion / lake.partitionOverwriteMode settings.
void RegisterLakeWriteSettings(duckdb::DatabaseInstance& db);

}  // namespace lake::engine::internal
