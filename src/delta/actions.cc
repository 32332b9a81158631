#include "delta/actions.h"

#include "base/strings.h"
#include "delta/engine.h"

namespace lake::delta {

std::string DeletionVectorDescriptor::UniqueId() const {
  std::string id(1, storage_type);
  id += path_or_inline_dv;
  if (offset) id += "@" + std::to_string(*offset);
  return id;
}

Result<ActionBatch> NoParquetCheckpointReader::ReadParquetActions(storage::ObjectStore& store,
                                                                  std::string_view key) {
  return Status::NotSupported(StrCat(store.uri(), "/", key,
                                     ": reading Parquet checkpoints needs the DuckDB engine"));
}

Result<int64_t> NoParquetCheckpointWriter::WriteParquetActions(storage::ObjectStore& store,
                                                               std::string_view key,
                                                               const CheckpointActions& actions,
                                                               const CheckpointLayout& layout) {
  (void)actions;
  (void)layout;
  return Status::NotSupported(StrCat(store.uri(), "/", key,
                                     ": writing Parquet checkpoints needs the DuckDB engine"))
      .WithHint("open the table through lake's engine (engine::MakeDeltaEngine)");
}

CheckpointWriter& Engine::checkpoint_writer() {
  static NoParquetCheckpointWriter no_parquet;  // stateless, so sharing it is thread-safe
  return no_parquet;
}

}  // namespace lake::delta
