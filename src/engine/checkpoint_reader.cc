// CheckpointReader on DuckDB's Parquet reader (PROTOCOL.md "Checkpoints", "Checkpoint Schema").
//
// Design notes.
//  (1) One scan of the file. Each action kind present projects only the fields lake uses,
//      flattened and CAST to fixed types in SQL, side by side in one SELECT, so the C++ side
//      reads plain vectors at fixed positions (no per-value duckdb::Value boxing: a checkpoint
//      can hold millions of adds). A row holds one action: each kind's decoder takes the rows
//      whose key field (add.path, metaData.id, ...) is set. DuckDB's projection pushdown
//      reads only those Parquet columns.
//  (2) Writers differ in which optional fields they write (tags, deletionVector, baseRowId,
//      stats vs stats_parsed...). The file's schema is read first (a LIMIT 0 query) and a
//      missing field becomes a typed NULL instead of a bind error.
//  (3) add.stats is the JSON string when present; otherwise stats_parsed is rendered with
//      to_json (delta/engine.h contract).
//  (4) Each call opens its own duckdb::Connection: the reader is thread-safe and may be used
//      while another connection of the same instance is binding a delta_scan.
//  (5) ForEachParquetActionPiece decodes chunks on worker threads while the calling thread
//      keeps pulling them from DuckDB: a 1M-add checkpoint is mostly decoding (strings and
//      maps into AddFiles) and replay, which then run on every core.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <type_traits>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "engine/delta_engine.h"
#include "engine/internal/checkpoint_writer.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/errors.h"
#include "engine/internal/scan.h"

namespace lake::engine {
namespace internal {
namespace {

using duckdb::idx_t;
using duckdb::LogicalType;
using duckdb::LogicalTypeId;
using duckdb::UnifiedVectorFormat;
using duckdb::Vector;

// Finds the type at `path` (struct fields, case-sensitive as Parquet is) under `type`.
const LogicalType* FindField(const LogicalType& type,
                             std::initializer_list<std::string_view> path) {
  const LogicalType* current = &type;
  for (std::string_view name : path) {
    if (current->id() != LogicalTypeId::STRUCT) return nullptr;
    const LogicalType* next = nullptr;
    for (auto& [child_name, child_type] : duckdb::StructType::GetChildTypes(*current)) {
      if (child_name == name) next = &child_type;
    }
    if (!next) return nullptr;
    current = next;
  }
  return current;
}

// Builds the projection of one action kind.
class Projection {
 public:
  Projection(std::string action, const LogicalType& type)
      : action_(std::move(action)), type_(type) {}

  // Adds `action.path...` cast to `sql_type`, or a typed NULL when the file lacks it.
  void Add(std::initializer_list<std::string_view> path, std::string_view sql_type) {
    if (FindField(type_, path)) {
      std::string expr = SqlIdent(action_);
      for (std::string_view p : path) expr += "." + SqlIdent(p);
      Push(StrCat("CAST(", expr, " AS ", sql_type, ")"));
    } else {
      Push(StrCat("CAST(NULL AS ", sql_type, ")"));
    }
  }
  void AddRaw(std::string expr) { Push(std::move(expr)); }
  bool Has(std::initializer_list<std::string_view> path) const { return FindField(type_, path); }
  const std::string& select() const { return select_; }
  idx_t width() const { return width_; }

 private:
  void Push(std::string expr) {
    if (!select_.empty()) select_ += ", ";
    select_ += expr;
    ++width_;
  }
  idx_t width_ = 0;
  std::string action_;
  const LogicalType& type_;
  std::string select_;
};

// Reads one column of a chunk through UnifiedVectorFormat.
class Col {
 public:
  Col(Vector& v, idx_t count) : vector_(v) { v.ToUnifiedFormat(count, fmt_); }
  bool Valid(idx_t i) const { return fmt_.validity.RowIsValid(fmt_.sel->get_index(i)); }
  template <typename T>
  T Get(idx_t i) const {
    return UnifiedVectorFormat::GetData<T>(fmt_)[fmt_.sel->get_index(i)];
  }
  std::optional<std::string> Str(idx_t i) const {
    if (!Valid(i)) return std::nullopt;
    auto s = Get<duckdb::string_t>(i);
    return std::string(s.GetData(), s.GetSize());
  }
  std::string StrOr(idx_t i, std::string fallback = "") const {
    auto s = Str(i);
    return s ? *s : fallback;
  }
  std::optional<int64_t> I64(idx_t i) const {
    if (!Valid(i)) return std::nullopt;
    return Get<int64_t>(i);
  }
  std::optional<int32_t> I32(idx_t i) const {
    if (!Valid(i)) return std::nullopt;
    return Get<int32_t>(i);
  }
  std::optional<bool> Bool(idx_t i) const {
    if (!Valid(i)) return std::nullopt;
    return Get<bool>(i);
  }
  Vector& vector() { return vector_; }
  const UnifiedVectorFormat& format() const { return fmt_; }

 private:
  Vector& vector_;
  UnifiedVectorFormat fmt_;
};

// Reads a MAP(VARCHAR, VARCHAR) or VARCHAR[] column: child vectors decoded once per chunk.
class ListCol {
 public:
  ListCol(Vector& v, idx_t count, bool is_map) : list_(v, count) {
    Vector& child = duckdb::ListVector::GetEntry(v);
    idx_t child_count = duckdb::ListVector::GetListSize(v);
    if (is_map) {
      auto& entries = duckdb::StructVector::GetEntries(child);
      keys_.emplace(*entries[0], child_count);
      values_.emplace(*entries[1], child_count);
    } else {
      keys_.emplace(child, child_count);
    }
  }
  bool Valid(idx_t i) const { return list_.Valid(i); }
  delta::PartitionValues Map(idx_t i) const {
    delta::PartitionValues out;
    if (!Valid(i)) return out;
    auto entry = list_.Get<duckdb::list_entry_t>(i);
    out.reserve(entry.length);
    for (idx_t k = entry.offset; k < entry.offset + entry.length; ++k) {
      out.emplace_back(keys_->StrOr(k), values_->Str(k));
    }
    return out;
  }
  delta::StringMap StringMap(idx_t i) const {
    delta::StringMap out;
    if (!Valid(i)) return out;
    auto entry = list_.Get<duckdb::list_entry_t>(i);
    for (idx_t k = entry.offset; k < entry.offset + entry.length; ++k) {
      out[keys_->StrOr(k)] = values_->StrOr(k);
    }
    return out;
  }
  std::optional<std::vector<std::string>> List(idx_t i) const {
    if (!Valid(i)) return std::nullopt;
    std::vector<std::string> out;
    auto entry = list_.Get<duckdb::list_entry_t>(i);
    for (idx_t k = entry.offset; k < entry.offset + entry.length; ++k)
      out.push_back(keys_->StrOr(k));
    return out;
  }

 private:
  Col list_;
  std::optional<Col> keys_;
  std::optional<Col> values_;
};

// The one query that reads a checkpoint file: every action kind's projection side by side
// (design note 1), each decoded from its own columns of every chunk.
class Plan {
 public:
  // Decodes the rows of `chunk` whose key column (the first of `width` columns from `base`)
  // is set into `batch`.
  using Decode = void (*)(duckdb::DataChunk& chunk, idx_t base, idx_t width,
                          delta::ActionBatch& batch);

  Status Add(const Projection& p, Decode decode) {
    parts_.push_back(Part{columns_, p.width(), decode});
    if (!select_.empty()) select_ += ", ";
    select_ += p.select();
    columns_ += p.width();
    return Status::OK();
  }
  bool empty() const { return parts_.empty(); }
  std::string Sql(const std::string& file) const {
    return StrCat("SELECT ", select_, " FROM read_parquet(", SqlQuote(file), ")");
  }
  void DecodeChunk(duckdb::DataChunk& chunk, delta::ActionBatch& batch) const {
    for (const Part& part : parts_) part.decode(chunk, part.base, part.width, batch);
  }

 private:
  struct Part {
    idx_t base;
    idx_t width;
    Decode decode;
  };
  std::vector<Part> parts_;
  std::string select_;
  idx_t columns_ = 0;
};

constexpr std::string_view kMap = "MAP(VARCHAR, VARCHAR)";

void AddDeletionVectorFields(Projection& p) {
  p.Add({"deletionVector", "storageType"}, "VARCHAR");
  p.Add({"deletionVector", "pathOrInlineDv"}, "VARCHAR");
  p.Add({"deletionVector", "offset"}, "INTEGER");
  p.Add({"deletionVector", "sizeInBytes"}, "INTEGER");
  p.Add({"deletionVector", "cardinality"}, "BIGINT");
  p.Add({"deletionVector", "maxRowIndex"}, "BIGINT");
}

// Reads the 6 deletion vector columns starting at `first`.
std::optional<delta::DeletionVectorDescriptor> ReadDeletionVector(duckdb::DataChunk& chunk,
                                                                  idx_t first, idx_t row,
                                                                  std::vector<Col>& cols) {
  (void)chunk;
  auto storage = cols[first].Str(row);
  if (!storage || storage->empty()) return std::nullopt;
  delta::DeletionVectorDescriptor dv;
  dv.storage_type = (*storage)[0];
  dv.path_or_inline_dv = cols[first + 1].StrOr(row);
  dv.offset = cols[first + 2].I32(row);
  dv.size_in_bytes = cols[first + 3].I32(row).value_or(0);
  dv.cardinality = cols[first + 4].I64(row).value_or(0);
  dv.max_row_index = cols[first + 5].I64(row);
  return dv;
}

class DuckDBCheckpointReader final : public delta::CheckpointReader {
 public:
  explicit DuckDBCheckpointReader(duckdb::DatabaseInstance& db) : db_(db) {}

  Result<delta::ActionBatch> ReadParquetActions(storage::ObjectStore& store,
                                                std::string_view key) override {
    delta::ActionBatch batch;
    LAKE_RETURN_IF_ERROR(WithFile(store, key, [&](duckdb::Connection& conn,
                                                  const std::string& file) -> Status {
      LAKE_ASSIGN_OR_RETURN(Plan plan, MakePlan(conn, file));
      if (plan.empty()) return Status::OK();
      LAKE_RETURN_IF_ERROR(ReserveAdds(conn, file, batch));
      return Run(conn, plan.Sql(file),
                 [&](duckdb::DataChunk& chunk) { plan.DecodeChunk(chunk, batch); });
    }, nullptr));
    return batch;
  }

  Status ForEachParquetActionPiece(
      storage::ObjectStore& store, std::string_view key,
      const std::function<Status(uint32_t, delta::ActionBatch&&)>& consume) override {
    Status consumer_error;
    Status status = WithFile(store, key, [&](duckdb::Connection& conn,
                                             const std::string& file) -> Status {
      LAKE_ASSIGN_OR_RETURN(Plan plan, MakePlan(conn, file));
      if (plan.empty()) return Status::OK();
      return RunPieces(conn, plan, file, consume, consumer_error);
    }, &consumer_error);
    return status;
  }

 private:
  // Runs `read(conn, local_file)` on a local copy of `key` (the file itself when the store is
  // local). A failure of `read` is reported as an unreadable checkpoint, unless it is
  // `*passthrough` (an error of the caller's own, returned as is).
  template <typename Fn>
  Status WithFile(storage::ObjectStore& store, std::string_view key, Fn&& read,
                  const Status* passthrough) {
    std::string where = StrCat(store.uri(), "/", key);
    std::string file;
    std::optional<std::string> local = store.LocalPath(key);
    ScopeGuard remove_temp([&] {
      if (!local && !file.empty()) {
        std::error_code ec;
        std::filesystem::remove(file, ec);  // best effort: a temp file
      }
    });
    if (local) {
      std::error_code ec;
      if (!std::filesystem::exists(*local, ec)) {
        return Status::NotFound(StrCat(where, ": checkpoint file does not exist"));
      }
      file = *local;
    } else {
      LAKE_ASSIGN_OR_RETURN(std::string bytes, store.Get(key));
      LAKE_ASSIGN_OR_RETURN(file, WriteTempFile(bytes));
    }
    Status status = CatchAll([&]() -> Status {
      duckdb::Connection conn(db_);
      return read(conn, file);
    });
    if (!status.ok()) {
      if (passthrough && !passthrough->ok()) return *passthrough;
      if (status.code() == StatusCode::kNotFound) return status;
      return Status::Corruption(
                 StrCat(where, ": not a readable Parquet checkpoint: ", status.message()))
          .WithHint(
              "the checkpoint may be truncated; delete it (and _last_checkpoint) to read "
              "the table from its JSON commits");
    }
    return Status::OK();
  }

  // Design note 5: the main thread pulls chunks from DuckDB (whose own threads scan the
  // file) while worker threads decode them and hand each to `consume`.
  static Status RunPieces(duckdb::Connection& conn, const Plan& plan, const std::string& file,
                          const std::function<Status(uint32_t, delta::ActionBatch&&)>& consume,
                          Status& consumer_error) {
    struct Queue {
      std::mutex mu;
      std::condition_variable cv;
      std::deque<std::pair<uint32_t, std::unique_ptr<duckdb::DataChunk>>> items;
      bool done = false;
      bool failed = false;
    } q;
    const size_t capacity = 8;
    auto work = [&] {
      while (true) {
        std::pair<uint32_t, std::unique_ptr<duckdb::DataChunk>> item;
        {
          std::unique_lock lock(q.mu);
          q.cv.wait(lock, [&] { return !q.items.empty() || q.done || q.failed; });
          if (q.failed || q.items.empty()) return;
          item = std::move(q.items.front());
          q.items.pop_front();
        }
        q.cv.notify_all();
        delta::ActionBatch batch;
        Status s = CatchAll([&]() -> Status {
          plan.DecodeChunk(*item.second, batch);
          return Status::OK();
        });
        item.second.reset();
        if (s.ok()) s = consume(item.first, std::move(batch));
        if (!s.ok()) {
          std::lock_guard lock(q.mu);
          if (!q.failed) consumer_error = std::move(s);
          q.failed = true;
          q.cv.notify_all();
          return;
        }
      }
    };
    const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
    ScopeGuard join([&] {
      {
        std::lock_guard lock(q.mu);
        q.done = true;
      }
      q.cv.notify_all();
      for (std::thread& t : pool) t.join();
    });
    uint32_t piece = 0;
    Status status = Run(conn, plan.Sql(file), [&](std::unique_ptr<duckdb::DataChunk> chunk) {
      std::unique_lock lock(q.mu);
      q.cv.wait(lock, [&] { return q.items.size() < capacity || q.failed; });
      if (q.failed) return false;
      q.items.emplace_back(piece++, std::move(chunk));
      lock.unlock();
      q.cv.notify_all();
      return true;
    });
    join.Dismiss();
    {
      std::lock_guard lock(q.mu);
      q.done = true;
    }
    q.cv.notify_all();
    for (std::thread& t : pool) t.join();
    if (!consumer_error.ok()) return consumer_error;
    return status;
  }

  static Result<std::string> WriteTempFile(const std::string& bytes) {
    static std::atomic<uint64_t> counter{0};
    std::random_device rd;
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 StrCat("lake-checkpoint-", rd(), "-", counter++, ".parquet");
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out)
      return Status::IOError(StrCat(path.string(), ": cannot write a temp copy of a checkpoint"));
    return path.string();
  }

  // Runs `sql`, calling `on_chunk` per chunk: with a DataChunk& it borrows the chunk; with a
  // unique_ptr it takes it and returns false to stop.
  template <typename Fn>
  static Status Run(duckdb::Connection& conn, const std::string& sql, Fn&& on_chunk) {
    auto result = conn.SendQuery(sql);
    if (result->HasError()) return StatusFromError(result->GetErrorObject());
    while (true) {
      auto chunk = result->Fetch();
      if (result->HasError()) return StatusFromError(result->GetErrorObject());
      if (!chunk || chunk->size() == 0) break;
      if constexpr (std::is_invocable_v<Fn, duckdb::DataChunk&>) {
        on_chunk(*chunk);
      } else {
        if (!on_chunk(std::move(chunk))) break;
      }
    }
    return Status::OK();
  }

  Result<Plan> MakePlan(duckdb::Connection& conn, const std::string& file) {
    auto schema = conn.Query(StrCat("SELECT * FROM read_parquet(", SqlQuote(file), ") LIMIT 0"));
    if (schema->HasError()) return StatusFromError(schema->GetErrorObject());
    auto column = [&](std::string_view name) -> const LogicalType* {
      for (size_t i = 0; i < schema->names.size(); ++i) {
        if (schema->names[i] == name && schema->types[i].id() == LogicalTypeId::STRUCT) {
          return &schema->types[i];
        }
      }
      return nullptr;
    };
    Plan plan;
    if (const LogicalType* t = column("add")) LAKE_RETURN_IF_ERROR(ReadAdds(plan, *t));
    if (const LogicalType* t = column("remove")) LAKE_RETURN_IF_ERROR(ReadRemoves(plan, *t));
    if (const LogicalType* t = column("metaData")) LAKE_RETURN_IF_ERROR(ReadMetadata(plan, *t));
    if (const LogicalType* t = column("protocol")) LAKE_RETURN_IF_ERROR(ReadProtocol(plan, *t));
    if (const LogicalType* t = column("txn")) LAKE_RETURN_IF_ERROR(ReadTxn(plan, *t));
    if (const LogicalType* t = column("domainMetadata")) {
      LAKE_RETURN_IF_ERROR(ReadDomainMetadata(plan, *t));
    }
    if (const LogicalType* t = column("checkpointMetadata")) {
      LAKE_RETURN_IF_ERROR(ReadCheckpointMetadata(plan, *t));
    }
    if (const LogicalType* t = column("sidecar")) LAKE_RETURN_IF_ERROR(ReadSidecars(plan, *t));
    return plan;
  }

  // One allocation for the adds instead of ~20 doublings, each moving every AddFile built so
  // far (a 1M-add checkpoint is ~300 MB of them). Rows bound the adds from above.
  static Status ReserveAdds(duckdb::Connection& conn, const std::string& file,
                            delta::ActionBatch& batch) {
    auto rows = conn.Query(
        StrCat("SELECT sum(num_rows)::BIGINT FROM parquet_file_metadata(", SqlQuote(file), ")"));
    if (rows->HasError()) return StatusFromError(rows->GetErrorObject());
    duckdb::Value n = rows->GetValue(0, 0);
    if (!n.IsNull()) batch.adds.reserve(batch.adds.size() + n.GetValue<int64_t>());
    return Status::OK();
  }

  static std::vector<Col> Cols(duckdb::DataChunk& chunk, idx_t first, idx_t last) {
    std::vector<Col> cols;
    cols.reserve(last - first);
    for (idx_t c = first; c < last; ++c) cols.emplace_back(chunk.data[c], chunk.size());
    return cols;
  }

  static Status ReadAdds(Plan& plan, const LogicalType& type) {
    if (!FindField(type, {"path"})) return Status::OK();
    Projection p("add", type);
    p.Add({"path"}, "VARCHAR");             // 0
    p.Add({"partitionValues"}, kMap);       // 1
    p.Add({"size"}, "BIGINT");              // 2
    p.Add({"modificationTime"}, "BIGINT");  // 3
    p.Add({"dataChange"}, "BOOLEAN");       // 4
    bool has_stats = p.Has({"stats"});
    bool has_parsed = p.Has({"stats_parsed"});
    if (has_stats && has_parsed) {  // 5
      p.AddRaw(
          "COALESCE(CAST(\"add\".\"stats\" AS VARCHAR), CAST(to_json(\"add\".\"stats_parsed\") AS "
          "VARCHAR))");
    } else if (has_parsed) {
      p.AddRaw("CAST(to_json(\"add\".\"stats_parsed\") AS VARCHAR)");
    } else {
      p.Add({"stats"}, "VARCHAR");
    }
    p.Add({"tags"}, kMap);                         // 6
    AddDeletionVectorFields(p);                    // 7..12
    p.Add({"baseRowId"}, "BIGINT");                // 13
    p.Add({"defaultRowCommitVersion"}, "BIGINT");  // 14
    p.Add({"clusteringProvider"}, "VARCHAR");      // 15
    return plan.Add(p, [](duckdb::DataChunk& chunk, idx_t base, idx_t width,
                          delta::ActionBatch& batch) {
      idx_t n = chunk.size();
      std::vector<Col> cols = Cols(chunk, base, base + width);
      ListCol partition_values(chunk.data[base + 1], n, /*is_map=*/true);
      ListCol tags(chunk.data[base + 6], n, /*is_map=*/true);
      for (idx_t i = 0; i < n; ++i) {
        if (!cols[0].Valid(i)) continue;  // a row of another action kind
        delta::AddFile& add = batch.adds.emplace_back();
        add.path = cols[0].StrOr(i);
        add.partition_values = partition_values.Map(i);
        add.size = cols[2].I64(i).value_or(0);
        add.modification_time = cols[3].I64(i).value_or(0);
        add.data_change = cols[4].Bool(i).value_or(false);
        add.stats = cols[5].Str(i);
        add.tags = tags.StringMap(i);
        add.deletion_vector = ReadDeletionVector(chunk, 7, i, cols);
        add.base_row_id = cols[13].I64(i);
        add.default_row_commit_version = cols[14].I64(i);
        add.clustering_provider = cols[15].Str(i);
      }
    });
  }

  static Status ReadRemoves(Plan& plan, const LogicalType& type) {
    if (!FindField(type, {"path"})) return Status::OK();
    Projection p("remove", type);
    p.Add({"path"}, "VARCHAR");                    // 0
    p.Add({"deletionTimestamp"}, "BIGINT");        // 1
    p.Add({"dataChange"}, "BOOLEAN");              // 2
    p.Add({"extendedFileMetadata"}, "BOOLEAN");    // 3
    p.Add({"partitionValues"}, kMap);              // 4
    p.Add({"size"}, "BIGINT");                     // 5
    p.Add({"stats"}, "VARCHAR");                   // 6
    p.Add({"tags"}, kMap);                         // 7
    AddDeletionVectorFields(p);                    // 8..13
    p.Add({"baseRowId"}, "BIGINT");                // 14
    p.Add({"defaultRowCommitVersion"}, "BIGINT");  // 15
    return plan.Add(p, [](duckdb::DataChunk& chunk, idx_t base, idx_t width,
                          delta::ActionBatch& batch) {
      idx_t n = chunk.size();
      std::vector<Col> cols = Cols(chunk, base, base + width);
      ListCol partition_values(chunk.data[base + 4], n, true);
      ListCol tags(chunk.data[base + 7], n, true);
      for (idx_t i = 0; i < n; ++i) {
        if (!cols[0].Valid(i)) continue;  // a row of another action kind
        delta::RemoveFile& remove = batch.removes.emplace_back();
        remove.path = cols[0].StrOr(i);
        remove.deletion_timestamp = cols[1].I64(i);
        remove.data_change = cols[2].Bool(i).value_or(false);
        remove.extended_file_metadata = cols[3].Bool(i);
        if (partition_values.Valid(i)) remove.partition_values = partition_values.Map(i);
        remove.size = cols[5].I64(i);
        remove.stats = cols[6].Str(i);
        remove.tags = tags.StringMap(i);
        remove.deletion_vector = ReadDeletionVector(chunk, 8, i, cols);
        remove.base_row_id = cols[14].I64(i);
        remove.default_row_commit_version = cols[15].I64(i);
      }
    });
  }

  static Status ReadMetadata(Plan& plan, const LogicalType& type) {
    if (!FindField(type, {"id"})) return Status::OK();
    Projection p("metaData", type);
    p.Add({"id"}, "VARCHAR");                  // 0
    p.Add({"name"}, "VARCHAR");                // 1
    p.Add({"description"}, "VARCHAR");         // 2
    p.Add({"format", "provider"}, "VARCHAR");  // 3
    p.Add({"format", "options"}, kMap);        // 4
    p.Add({"schemaString"}, "VARCHAR");        // 5
    p.Add({"partitionColumns"}, "VARCHAR[]");  // 6
    p.Add({"configuration"}, kMap);            // 7
    p.Add({"createdTime"}, "BIGINT");          // 8
    return plan.Add(p, [](duckdb::DataChunk& chunk, idx_t base, idx_t width,
                          delta::ActionBatch& batch) {
      idx_t n = chunk.size();
      std::vector<Col> cols = Cols(chunk, base, base + width);
      ListCol options(chunk.data[base + 4], n, true);
      ListCol partition_columns(chunk.data[base + 6], n, false);
      ListCol configuration(chunk.data[base + 7], n, true);
      for (idx_t i = 0; i < n; ++i) {
        if (!cols[0].Valid(i)) continue;  // a row of another action kind
        delta::Metadata& m = batch.metadata.emplace_back();
        m.id = cols[0].StrOr(i);
        m.name = cols[1].Str(i);
        m.description = cols[2].Str(i);
        m.format.provider = cols[3].StrOr(i, "parquet");
        m.format.options = options.StringMap(i);
        m.schema_string = cols[5].StrOr(i);
        m.partition_columns = partition_columns.List(i).value_or(std::vector<std::string>{});
        m.configuration = configuration.StringMap(i);
        m.created_time = cols[8].I64(i);
      }
    });
  }

  static Status ReadProtocol(Plan& plan, const LogicalType& type) {
    if (!FindField(type, {"minReaderVersion"})) return Status::OK();
    Projection p("protocol", type);
    p.Add({"minReaderVersion"}, "INTEGER");
    p.Add({"minWriterVersion"}, "INTEGER");
    p.Add({"readerFeatures"}, "VARCHAR[]");
    p.Add({"writerFeatures"}, "VARCHAR[]");
    return plan.Add(p, [](duckdb::DataChunk& chunk, idx_t base, idx_t width,
                          delta::ActionBatch& batch) {
      idx_t n = chunk.size();
      std::vector<Col> cols = Cols(chunk, base, base + width);
      ListCol reader(chunk.data[base + 2], n, false);
      ListCol writer(chunk.data[base + 3], n, false);
      for (idx_t i = 0; i < n; ++i) {
        if (!cols[0].Valid(i)) continue;  // a row of another action kind
        delta::Protocol& proto = batch.protocols.emplace_back();
        proto.min_reader_version = cols[0].I32(i).value_or(1);
        proto.min_writer_version = cols[1].I32(i).value_or(2);
        proto.reader_features = reader.List(i);
        proto.writer_features = writer.List(i);
      }
    });
  }

  static Status ReadTxn(Plan& plan, const LogicalType& type) {
    if (!FindField(type, {"appId"})) return Status::OK();
    Projection p("txn", type);
    p.Add({"appId"}, "VARCHAR");
    p.Add({"version"}, "BIGINT");
    p.Add({"lastUpdated"}, "BIGINT");
    return plan.Add(p, [](duckdb::DataChunk& chunk, idx_t base, idx_t width,
                          delta::ActionBatch& batch) {
      std::vector<Col> cols = Cols(chunk, base, base + width);
      for (idx_t i = 0; i < chunk.size(); ++i) {
        if (!cols[0].Valid(i)) continue;  // a row of another action kind
        delta::Txn& txn = batch.txns.emplace_back();
        txn.app_id = cols[0].StrOr(i);
        txn.version = cols[1].I64(i).value_or(0);
        txn.last_updated = cols[2].I64(i);
      }
    });
  }

  static Status ReadDomainMetadata(Plan& plan, const LogicalType& type) {
    if (!FindField(type, {"domain"})) return Status::OK();
    Projection p("domainMetadata", type);
    p.Add({"domain"}, "VARCHAR");
    p.Add({"configuration"}, "VARCHAR");
    p.Add({"removed"}, "BOOLEAN");
    return plan.Add(p, [](duckdb::DataChunk& chunk, idx_t base, idx_t width,
                          delta::ActionBatch& batch) {
      std::vector<Col> cols = Cols(chunk, base, base + width);
      for (idx_t i = 0; i < chunk.size(); ++i) {
        if (!cols[0].Valid(i)) continue;  // a row of another action kind
        delta::DomainMetadata& d = batch.domain_metadata.emplace_back();
        d.domain = cols[0].StrOr(i);
        d.configuration = cols[1].StrOr(i);
        d.removed = cols[2].Bool(i).value_or(false);
      }
    });
  }

  static Status ReadCheckpointMetadata(Plan& plan, const LogicalType& type) {
    if (!FindField(type, {"version"})) return Status::OK();
    Projection p("checkpointMetadata", type);
    p.Add({"version"}, "BIGINT");
    p.Add({"tags"}, kMap);
    return plan.Add(p, [](duckdb::DataChunk& chunk, idx_t base, idx_t width,
                          delta::ActionBatch& batch) {
      std::vector<Col> cols = Cols(chunk, base, base + width);
      ListCol tags(chunk.data[base + 1], chunk.size(), true);
      for (idx_t i = 0; i < chunk.size(); ++i) {
        if (!cols[0].Valid(i)) continue;  // a row of another action kind
        delta::CheckpointMetadata& c = batch.checkpoint_metadata.emplace_back();
        c.version = cols[0].I64(i).value_or(0);
        c.tags = tags.StringMap(i);
      }
    });
  }

  static Status ReadSidecars(Plan& plan, const LogicalType& type) {
    if (!FindField(type, {"path"})) return Status::OK();
    Projection p("sidecar", type);
    p.Add({"path"}, "VARCHAR");
    p.Add({"sizeInBytes"}, "BIGINT");
    p.Add({"modificationTime"}, "BIGINT");
    p.Add({"tags"}, kMap);
    return plan.Add(p, [](duckdb::DataChunk& chunk, idx_t base, idx_t width,
                          delta::ActionBatch& batch) {
      std::vector<Col> cols = Cols(chunk, base, base + width);
      ListCol tags(chunk.data[base + 3], chunk.size(), true);
      for (idx_t i = 0; i < chunk.size(); ++i) {
        if (!cols[0].Valid(i)) continue;  // a row of another action kind
        delta::Sidecar& s = batch.sidecars.emplace_back();
        s.path = cols[0].StrOr(i);
        s.size_in_bytes = cols[1].I64(i).value_or(0);
        s.modification_time = cols[2].I64(i).value_or(0);
        s.tags = tags.StringMap(i);
      }
    });
  }

  duckdb::DatabaseInstance& db_;
};

class DuckDBDeltaEngine final : public delta::Engine {
 public:
  DuckDBDeltaEngine(duckdb::DatabaseInstance& db, std::unique_ptr<storage::ObjectStore> store)
      : store_(std::move(store)), reader_(db), writer_(MakeCheckpointWriter(db)) {}
  storage::ObjectStore& store() override { return *store_; }
  delta::CheckpointReader& checkpoint_reader() override { return reader_; }
  delta::CheckpointWriter& checkpoint_writer() override { return *writer_; }

 private:
  std::unique_ptr<storage::ObjectStore> store_;
  DuckDBCheckpointReader reader_;
  std::unique_ptr<delta::CheckpointWriter> writer_;
};

}  // namespace

std::unique_ptr<delta::CheckpointReader> MakeCheckpointReader(duckdb::DatabaseInstance& db) {
  return std::make_unique<DuckDBCheckpointReader>(db);
}

std::unique_ptr<delta::Engine> MakeDeltaEngine(duckdb::DatabaseInstance& db,
                                               std::unique_ptr<storage::ObjectStore> store) {
  return std::make_unique<DuckDBDeltaEngine>(db, std::move(store));
}

}  // namespace internal

std::unique_ptr<delta::CheckpointReader> MakeCheckpointReader(Database& db) {
  return internal::MakeCheckpointReader(static_cast<internal::DatabaseImpl&>(db).instance());
}

std::unique_ptr<delta::Engine> MakeDeltaEngine(Database& db,
                                               std::unique_ptr<storage::ObjectStore> store) {
  return internal::MakeDeltaEngine(static_cast<internal::DatabaseImpl&>(db).instance(),
                                   std::move(store));
}

Result<delta::SnapshotPtr> LoadTableSnapshot(Database& db, std::string_view uri,
                                             std::optional<delta::Version> version) {
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store, storage::OpenStore(uri));
  auto engine = MakeDeltaEngine(db, std::move(store));
  return delta::LoadSnapshot(*engine, version);
}

}  // namespace lake::engine
