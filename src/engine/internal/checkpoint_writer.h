// The DuckDB CheckpointWriter (checkpoint_writer.cc): its factory.
#pragma once

#include <memory>

#include "delta/engine.h"
#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

// Returns a CheckpointWriter writing with `db`'s DuckDB Parquet writer (`db` must outlive
// it). Thread-safe: each write uses its own connection and worker threads.
std::unique_ptr<delta::CheckpointWriter> MakeCheckpointWriter(duckdb::DatabaseInstance& db);

}  // namespace lake::engine::internal
