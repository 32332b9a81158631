// Engine-internal entry points shared by checkpoint_reader.cc and delta_scan.cc.
#pragma once

#include <memory>

#include "delta/engine.h"
#include "engine/internal/duckdb_pch.h"
#include "storage/object_store.h"

namespace lake::engine::internal {

// As the public MakeCheckpointReader / MakeDeltaEngine (engine/delta_engine.h), on a raw
// DuckDB instance (delta_scan's bind has a ClientContext, not a Database).
std::unique_ptr<delta::CheckpointReader> MakeCheckpointReader(duckdb::DatabaseInstance& db);
std::unique_ptr<delta::Engine> MakeDeltaEngine(duckdb::DatabaseInstance& db,
                                               std::unique_ptr<storage::ObjectStore> store);

}  // namespace lake::engine::internal
