// MERGE INTO a lake table (issue #4 §1), copy-on-write. Design notes: lake_merge.cc.
//
// Pipeline: DuckDB binds MERGE itself (Binder::Bind(MergeIntoStatement)): a join of the source
// and the target scan (INNER / LEFT / RIGHT / FULL by the WHEN clauses present) under a
// projection of every clause's condition and values, the source marker and the target's
// row-id columns (filename, file_row_number). lake plans (LakeCatalog::PlanMergeInto):
//   that plan -> LakeMergeRows (per row: matched / not matched by target / by source, the
//   first WHEN clause whose condition holds; UPDATE and DELETE record the target row id in a
//   RowIdCollector; UPDATE and INSERT emit the new full row plus its kind) -> the INSERT write
//   pipeline (lake_write.h PlanLakeRowRewrite), whose commit removes the recorded rows with
//   RemoveRows (row_removal.h) and stages the new files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/internal/duckdb_pch.h"
#include "engine/table_directory.h"

namespace duckdb {
class LogicalMergeInto;
class LogicalOperator;
class MergeIntoStatement;
class PhysicalOperator;
class PhysicalPlanGenerator;
class SQLStatement;
}  // namespace duckdb

namespace lake::engine::internal {

// The kind column LakeMergeRows appends to every row it emits (after the table's columns):
// what the row is in Spark's change data feed. Today the data files do not hold it; a CDF
// write (_change_data files) tells inserted rows from updated ones by it (lake_write.h).
inline constexpr uint8_t kMergeRowInsert = 0;
inline constexpr uint8_t kMergeRowUpdatePostimage = 1;

struct MergeTarget {
  DirectoryTable table;
  int64_t version = -1;  // the version the statement pinned
};

// Plans MERGE INTO a lake table (LakeCatalog::PlanMergeInto); `plan` is the physical plan of
// op's child (the projection described above).
duckdb::PhysicalOperator& PlanLakeMerge(duckdb::ClientContext& context,
                                        duckdb::PhysicalPlanGenerator& planner,
                                        duckdb::LogicalMergeInto& op,
                                        duckdb::PhysicalOperator& plan, const MergeTarget& target);

// Gives a parsed MERGE INTO a lake table Spark's meaning before DuckDB binds it (a MERGE into
// another catalog's table is left alone):
//  - `UPDATE SET *` (and DuckDB's bare `UPDATE`): every target column = source.<same name>;
//  - `INSERT *` (and a bare `INSERT`): INSERT (every target column) VALUES (source.<name>);
//    DuckDB's own reading of both is by position;
//  - schema evolution (`schema_evolution`, or SET spark.databricks.delta.schema.autoMerge.
//    enabled = true): source columns the target lacks are added to it (delta/
//    schema_evolution.h) and the star forms assign them; with it, INSERT * gives NULL to
//    target columns the source lacks.
// Throws (DuckDB-typed, errors.h) on what lake refuses: time travel on the target, a star form
// whose source has no name to qualify its columns with. `inside_query`: called while a query
// holds the context (binding), so catalog reads run in its transaction; else each read runs
// in a transaction of its own (statements are prepared before DuckDB starts one).
void PrepareLakeMerge(duckdb::ClientContext& context, duckdb::SQLStatement& statement,
                      bool schema_evolution, bool inside_query);

// SET spark.databricks.delta.schema.autoMerge.enabled = true (Spark's session setting).
inline constexpr const char* kAutoMergeSetting = "spark.databricks.delta.schema.autoMerge.enabled";

// Registers the autoMerge setting and the optimizer hook that records what a MERGE reads.
void RegisterLakeMerge(duckdb::DatabaseInstance& db);

}  // namespace lake::engine::internal
