// The DuckDB CheckpointReader on checkpoints written by Spark; expected counts come from the
// conformance manifest (an independent log replay), not from lake.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/database.h"
#include "engine/delta_engine.h"
#include "engine_test_util.h"
#include "storage/local_store.h"
#include "storage/memory_store.h"

namespace lake::engine {
namespace {

using testing::ManifestTable;
using testing::TablePath;

const nlohmann::json* ManifestVersion(const nlohmann::json& table, int64_t version) {
  for (const auto& v : table["expect"]["versions"]) {
    if (v["version"] == version) return &v;
  }
  return nullptr;
}

class CheckpointReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    reader_ = MakeCheckpointReader(*db_);
  }
  std::unique_ptr<Database> db_;
  std::unique_ptr<delta::CheckpointReader> reader_;
};

TEST_F(CheckpointReaderTest, ReadsClassicCheckpointActions) {
  const std::string table = "delta-spark-golden/basic-with-inserts-deletes-checkpoint";
  auto store = storage::LocalStore::Open(TablePath(table));
  ASSERT_TRUE(store.ok()) << store.status();
  auto batch =
      reader_->ReadParquetActions(**store, "_delta_log/00000000000000000010.checkpoint.parquet");
  ASSERT_TRUE(batch.ok()) << batch.status();
  const nlohmann::json* v10 = ManifestVersion(ManifestTable(table), 10);
  ASSERT_NE(v10, nullptr);
  EXPECT_EQ(batch->adds.size(), (*v10)["num_files"].get<size_t>());
  EXPECT_EQ(batch->removes.size(), (*v10)["num_tombstones"].get<size_t>());
  ASSERT_EQ(batch->protocols.size(), 1u);
  EXPECT_EQ(batch->protocols[0].min_reader_version, 1);
  EXPECT_EQ(batch->protocols[0].min_writer_version, 2);
  ASSERT_EQ(batch->metadata.size(), 1u);
  EXPECT_NE(batch->metadata[0].schema_string.find("\"id\""), std::string::npos);
  EXPECT_EQ(batch->metadata[0].format.provider, "parquet");
  int64_t size = 0;
  for (const auto& add : batch->adds) {
    EXPECT_TRUE(add.stats.has_value()) << add.path;
    EXPECT_NE(add.stats->find("numRecords"), std::string::npos);
    EXPECT_FALSE(add.deletion_vector.has_value());
    size += add.size;
  }
  EXPECT_EQ(size, (*v10)["size_bytes"].get<int64_t>());
}

TEST_F(CheckpointReaderTest, ReadsDeletionVectorsAndPartitionValues) {
  const std::string table = "delta-spark-golden/dv-partitioned-with-checkpoint";
  auto store = storage::LocalStore::Open(TablePath(table));
  ASSERT_TRUE(store.ok());
  auto batch =
      reader_->ReadParquetActions(**store, "_delta_log/00000000000000000010.checkpoint.parquet");
  ASSERT_TRUE(batch.ok()) << batch.status();
  const nlohmann::json* v10 = ManifestVersion(ManifestTable(table), 10);
  ASSERT_NE(v10, nullptr);
  EXPECT_EQ(batch->adds.size(), (*v10)["num_files"].get<size_t>());
  size_t with_dv = 0;
  for (const auto& add : batch->adds) {
    ASSERT_EQ(add.partition_values.size(), 1u) << add.path;
    EXPECT_EQ(add.partition_values[0].first, "part");
    ASSERT_TRUE(add.partition_values[0].second.has_value());
    if (add.deletion_vector) {
      ++with_dv;
      EXPECT_EQ(add.deletion_vector->storage_type, 'u');
      EXPECT_GT(add.deletion_vector->cardinality, 0);
      EXPECT_GT(add.deletion_vector->size_in_bytes, 0);
    }
  }
  EXPECT_EQ(with_dv, (*v10).value("num_files_with_dv", size_t{0}));
  ASSERT_EQ(batch->protocols.size(), 1u);
  ASSERT_TRUE(batch->protocols[0].reader_features.has_value());
  EXPECT_EQ(*batch->protocols[0].reader_features, std::vector<std::string>{"deletionVectors"});
  ASSERT_EQ(batch->metadata.size(), 1u);
  EXPECT_EQ(batch->metadata[0].partition_columns, std::vector<std::string>{"part"});
}

TEST_F(CheckpointReaderTest, ReadsV2CheckpointSidecarsAndCheckpointMetadata) {
  const std::string table = "delta-spark-golden/v2-checkpoint-parquet";
  auto store = storage::LocalStore::Open(TablePath(table));
  ASSERT_TRUE(store.ok());
  auto top = reader_->ReadParquetActions(
      **store,
      "_delta_log/00000000000000000002.checkpoint.e8fa2696-9728-4e9c-b285-634743fdd4fb.parquet");
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(top->sidecars.size(), 2u);  // two files in _delta_log/_sidecars/
  ASSERT_EQ(top->checkpoint_metadata.size(), 1u);
  EXPECT_EQ(top->checkpoint_metadata[0].version, 2);
  size_t adds = top->adds.size();
  for (const auto& sidecar : top->sidecars) {
    auto part = reader_->ReadParquetActions(**store, "_delta_log/_sidecars/" + sidecar.path);
    ASSERT_TRUE(part.ok()) << part.status();
    adds += part->adds.size();
    EXPECT_GT(sidecar.size_in_bytes, 0);
  }
  const nlohmann::json* v2 = ManifestVersion(ManifestTable(table), 2);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(adds, (*v2)["num_files"].get<size_t>());
}

TEST_F(CheckpointReaderTest, RendersStatsParsedAsJsonWhenStatsIsAbsent) {
  // delta-rs 1.2.1 wrote only add.stats_parsed in this checkpoint.
  const std::string table = "delta-rs/delta-1.2.1-only-struct-stats";
  auto store = storage::LocalStore::Open(TablePath(table));
  ASSERT_TRUE(store.ok());
  auto batch =
      reader_->ReadParquetActions(**store, "_delta_log/00000000000000000010.checkpoint.parquet");
  ASSERT_TRUE(batch.ok()) << batch.status();
  const nlohmann::json* v10 = ManifestVersion(ManifestTable(table), 10);
  ASSERT_NE(v10, nullptr);
  ASSERT_EQ(batch->adds.size(), (*v10)["num_files"].get<size_t>());
  int64_t records = 0;
  for (const auto& add : batch->adds) {
    ASSERT_TRUE(add.stats.has_value()) << add.path;
    auto stats = nlohmann::json::parse(*add.stats);
    records += stats["numRecords"].get<int64_t>();
    EXPECT_TRUE(stats["minValues"].is_object());
  }
  EXPECT_EQ(records, (*v10)["row_count"].get<int64_t>());
}

TEST_F(CheckpointReaderTest, CopiesFilesOfNonLocalStores) {
  const std::string table = "delta-spark-golden/multi-part-checkpoint";
  const std::string key =
      "_delta_log/00000000000000000001.checkpoint.0000000001.0000000002.parquet";
  std::ifstream in(TablePath(table) + "/" + key, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  storage::MemoryStore memory;
  ASSERT_TRUE(memory.Put(key, bytes.str()).ok());
  auto from_memory = reader_->ReadParquetActions(memory, key);
  ASSERT_TRUE(from_memory.ok()) << from_memory.status();
  auto local = storage::LocalStore::Open(TablePath(table));
  ASSERT_TRUE(local.ok());
  auto from_disk = reader_->ReadParquetActions(**local, key);
  ASSERT_TRUE(from_disk.ok());
  EXPECT_EQ(from_memory->adds.size(), from_disk->adds.size());
  EXPECT_GT(from_disk->adds.size() + from_disk->metadata.size() + from_disk->protocols.size(), 0u);
}

TEST_F(CheckpointReaderTest, MissingFileIsNotFoundAndGarbageIsCorruption) {
  auto store = storage::LocalStore::Open(
      TablePath("delta-spark-golden/basic-with-inserts-deletes-checkpoint"));
  ASSERT_TRUE(store.ok());
  auto missing =
      reader_->ReadParquetActions(**store, "_delta_log/00000000000000000099.checkpoint.parquet");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("00000000000000000099.checkpoint.parquet"),
            std::string::npos);

  auto garbage = reader_->ReadParquetActions(**store, "_delta_log/00000000000000000000.json");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kCorruption) << garbage.status();
  EXPECT_NE(garbage.status().message().find("00000000000000000000.json"), std::string::npos);
}

}  // namespace
}  // namespace lake::engine
