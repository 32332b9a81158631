// The DuckDB CheckpointWriter (checkpoint_writer.cc): its table function and factory.
#pragma once

#include <memory>

#include "delta/engine.h"
#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

// Registers __lake_checkpoint_rows(job_id), the table function the writer's COPY reads its
// rows from. Internal to the writer: an id that no write in progress holds is an error.
void RegisterCheckpointRows(duckdb::DatabaseInstance& db);

// Returns a CheckpointWriter writing with `db`'s DuckDB (which must outlive it and have had
// RegisterCheckpointRows called). Thread-safe: each write uses its own connection.
std::unique_ptr<delta::CheckpointWriter> MakeCheckpointWriter(duckdb::DatabaseInstance& db);

}  // namespace lake::engine::internal
