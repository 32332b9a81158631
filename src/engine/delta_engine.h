// Delta on the DuckDB engine: a delta::Engine whose Parquet checkpoints are read and written
// by DuckDB, and helpers to open tables. No DuckDB type appears here (STYLE.md §2).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "delta/engine.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "storage/object_store.h"

namespace lake::engine {

// `db` below must be a Database returned by Database::Open (the only implementation).
//
// Returns a CheckpointReader that reads Parquet checkpoint parts, V2 checkpoints and sidecars
// with `db`'s DuckDB (DuckDB's own Parquet reader, vectors read directly: no per-value boxing).
// `db` must outlive the reader. Thread-safe: each call uses its own connection. A store
// without LocalPath() has the file copied to a temp file first.
std::unique_ptr<delta::CheckpointReader> MakeCheckpointReader(Database& db);

// Returns a CheckpointWriter that writes Parquet checkpoints with `db`'s DuckDB: the rows are
// built as vectors straight from the actions and written by one COPY (checkpoint_writer.cc).
// `db` must outlive the writer. Thread-safe.
std::unique_ptr<delta::CheckpointWriter> MakeCheckpointWriter(Database& db);

// Returns a delta::Engine over `store` (owned) reading checkpoints with `db` (borrowed; must
// outlive the engine). Thread-safe.
std::unique_ptr<delta::Engine> MakeDeltaEngine(Database& db,
                                               std::unique_ptr<storage::ObjectStore> store);

// Opens the table at `uri` (anything storage::OpenStore accepts) and loads its snapshot at
// `version` (latest if nullopt). Errors as delta::LoadSnapshot, plus OpenStore's.
Result<delta::SnapshotPtr> LoadTableSnapshot(Database& db, std::string_view uri,
                                             std::optional<delta::Version> version = std::nullopt);

// Process-wide counters of delta_scan's file pruning, for tests and EXPLAIN-less diagnostics.
// Monotonic; read before and after a query and subtract.
struct ScanCounters {
  int64_t files_in_snapshots = 0;  // data files in the snapshots delta_scan bound
  int64_t files_skipped = 0;       // files pruned by partition values / stats before opening
  int64_t files_opened = 0;        // data files actually opened by a scan
};
ScanCounters GetScanCounters();

// Counters of `db`'s snapshot cache (engine/internal/snapshot_cache.h), for tests. Monotonic.
struct SnapshotCacheCounters {
  int64_t hits = 0;        // served from the cache (latest: a listing found nothing new)
  int64_t refreshes = 0;   // latest: new commits replayed onto the cached snapshot
  int64_t full_loads = 0;  // loaded from scratch
  int64_t evictions = 0;
};
SnapshotCacheCounters GetSnapshotCacheCounters(Database& db);

}  // namespace lake::engine
