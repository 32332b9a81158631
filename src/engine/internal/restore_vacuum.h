// RESTORE TABLE and VACUUM (issue #4 §2, §3): what restore_vacuum_sql.h parses, run by the
// table functions lake_restore('<statement>') and lake_vacuum('<statement>') that
// sql_rewrite.h turns the statements into. Design notes in restore_vacuum.cc.
//
// Results:
//   RESTORE         one row: table_size_after_restore, num_of_files_after_restore,
//                   num_removed_files, num_restored_files, removed_files_size,
//                   restored_files_size (Spark's RestoreTableCommand columns)
//   VACUUM DRY RUN  one row per file a real run would delete: path
//   VACUUM          one row: path, the table's root (as Spark)
// Both run when executed, never at bind (EXPLAIN changes nothing). Errors are DuckDB-typed
// exceptions carrying a lake Status (errors.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

// Declared, not included: tests above the engine set the clock below without DuckDB on
// their include path.
namespace duckdb {
class ClientContext;
class DatabaseInstance;
class SQLStatement;
}  // namespace duckdb

namespace lake::engine::internal {

// SET lake.vacuum.retentionCheck = false lets VACUUM RETAIN go below the table's
// delta.deletedFileRetentionDuration (Spark: spark.databricks.delta.retentionDurationCheck
// .enabled).
inline constexpr const char* kVacuumRetentionCheckSetting = "lake.vacuum.retentionCheck";

// Registers lake_restore, lake_vacuum and the setting above.
void RegisterRestoreVacuum(duckdb::DatabaseInstance& db);

// DuckDB parses `VACUUM t` as its own statement and binds it, then refuses a lake table at
// execution. Returns `SELECT * FROM lake_vacuum('<text>')` for such a statement (by its text)
// when `t` is a lake table in `context`'s search path; nullopt for every other statement, so
// DuckDB's VACUUM of its own tables is unchanged.
std::optional<std::string> LakeVacuumFor(duckdb::ClientContext& context,
                                         const duckdb::SQLStatement& statement);

// Test hook: the clock (ms since the epoch) VACUUM measures retention against, so tests can
// age tombstones and files without sleeping. Empty restores the system clock. Set it while no
// VACUUM runs.
void SetVacuumClockForTesting(std::function<int64_t()> clock);

}  // namespace lake::engine::internal
