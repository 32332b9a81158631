// Table maintenance statements run by lake: OPTIMIZE [WHERE] [ZORDER BY] (optimize.cc) and
// CONVERT TO DELTA (convert.cc). The grammar is maintenance_sql.h; sql_rewrite.h turns each
// statement into a scan of the table function registered here, which does the work when it
// is executed (never at bind, so EXPLAIN changes nothing):
//   lake_optimize('<statement>') -> (path VARCHAR, metrics STRUCT(...)), Spark's result shape
//   lake_convert('<statement>')  -> (path VARCHAR, version BIGINT, numConvertedFiles BIGINT)
// Both throw DuckDB-typed exceptions carrying a lake Status (errors.h).
#pragma once

#include <cstdint>
#include <functional>

// Declared, not included: tests above the engine set the sync point below without DuckDB
// on their include path.
namespace duckdb {
class DatabaseInstance;
}  // namespace duckdb

namespace lake::engine::internal {

// Registers lake_optimize and lake_convert on `db`.
void RegisterMaintenance(duckdb::DatabaseInstance& db);
// Registers lake_convert alone (convert.cc; RegisterMaintenance calls it).
void RegisterConvert(duckdb::DatabaseInstance& db);

// Test hook: called right before each commit attempt of OPTIMIZE with the version about to
// be claimed (delta::TransactionOptions::before_commit_attempt), so race tests can land a
// concurrent commit there. Empty clears it. Set it while no OPTIMIZE runs.
void SetOptimizeCommitSyncPointForTesting(std::function<void(int64_t)> hook);

}  // namespace lake::engine::internal
