// CheckpointWriter on DuckDB's Parquet writer (PROTOCOL.md "Checkpoint Schema").
//
// Design notes.
//  (1) No per-row SQL: the table function __lake_checkpoint_rows(job) builds the action rows as
//      DataChunks straight from the snapshot's actions (borrowed through a process-wide job
//      registry: a table function's arguments are SQL values, so the job is named by an id),
//      and one `COPY (SELECT ...) TO file (FORMAT parquet)` writes them. The scan is parallel:
//      threads claim ranges of rows, and the range number is the batch index, so DuckDB's
//      order-preserving COPY keeps the rows in file order.
//  (2) Chunks of only add rows (nearly all of a big checkpoint) give the other action columns
//      as constant NULL vectors instead of 2048 null rows each.
//  (3) The parsed forms stay vectorised SQL: add.stats_parsed is json_transform of add.stats
//      into the layout's stats struct (lenient: a field that does not parse is NULL, and
//      try() turns a malformed stats string into a NULL struct instead of failing the
//      checkpoint), add.partitionValues_parsed is TRY_CAST of each map value, as Spark's
//      non-ANSI cast does.
//  (4) Atomic publication: for a LocalStore the file is written next to its final name as
//      ".<name>.tmp.<random>" (a name LocalStore listings skip), fsynced, renamed, and the
//      folder fsynced. Any other store gets a local temp file whose bytes go through
//      ObjectStore::Put, which is atomic by contract (and where FaultyStore injects faults).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <unordered_map>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "engine/delta_engine.h"
#include "engine/internal/checkpoint_writer.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/errors.h"
#include "storage/local_store.h"

namespace lake::engine::internal {
namespace {

using duckdb::idx_t;
using duckdb::list_entry_t;
using duckdb::LogicalType;
using duckdb::string_t;
using duckdb::Vector;

constexpr std::string_view kFunctionName = "__lake_checkpoint_rows";

// --- Jobs ------------------------------------------------------------------------------------

struct Job {
  const delta::CheckpointActions* actions = nullptr;
  bool stats_as_json = true;      // add.stats column
  bool hidden_stats = false;      // a top-level __stats column (struct stats without JSON)
};

class JobRegistry {
 public:
  int64_t Add(const Job* job) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t id = next_id_++;
    jobs_[id] = job;
    return id;
  }
  void Remove(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.erase(id);
  }
  const Job* Find(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second;
  }

 private:
  std::mutex mu_;
  int64_t next_id_ = 1;
  std::unordered_map<int64_t, const Job*> jobs_;
};

JobRegistry& Registry() {
  static JobRegistry registry;
  return registry;
}

// --- Types (the columns Spark writes, all nullable) ------------------------------------------

LogicalType StringMap() { return LogicalType::MAP(LogicalType::VARCHAR, LogicalType::VARCHAR); }

LogicalType DeletionVectorType() {
  return LogicalType::STRUCT({{"storageType", LogicalType::VARCHAR},
                              {"pathOrInlineDv", LogicalType::VARCHAR},
                              {"offset", LogicalType::INTEGER},
                              {"sizeInBytes", LogicalType::INTEGER},
                              {"cardinality", LogicalType::BIGINT},
                              {"maxRowIndex", LogicalType::BIGINT}});
}

LogicalType TxnType() {
  return LogicalType::STRUCT({{"appId", LogicalType::VARCHAR},
                              {"version", LogicalType::BIGINT},
                              {"lastUpdated", LogicalType::BIGINT}});
}

LogicalType AddType(bool with_stats) {
  duckdb::child_list_t<LogicalType> fields = {{"path", LogicalType::VARCHAR},
                                              {"partitionValues", StringMap()},
                                              {"size", LogicalType::BIGINT},
                                              {"modificationTime", LogicalType::BIGINT},
                                              {"dataChange", LogicalType::BOOLEAN},
                                              {"tags", StringMap()},
                                              {"deletionVector", DeletionVectorType()},
                                              {"baseRowId", LogicalType::BIGINT},
                                              {"defaultRowCommitVersion", LogicalType::BIGINT},
                                              {"clusteringProvider", LogicalType::VARCHAR}};
  if (with_stats) fields.emplace_back("stats", LogicalType::VARCHAR);
  return LogicalType::STRUCT(std::move(fields));
}

// Spark drops remove.tags and remove.stats from checkpoints (Checkpoints.scala).
LogicalType RemoveType() {
  return LogicalType::STRUCT({{"path", LogicalType::VARCHAR},
                              {"deletionTimestamp", LogicalType::BIGINT},
                              {"dataChange", LogicalType::BOOLEAN},
                              {"extendedFileMetadata", LogicalType::BOOLEAN},
                              {"partitionValues", StringMap()},
                              {"size", LogicalType::BIGINT},
                              {"deletionVector", DeletionVectorType()},
                              {"baseRowId", LogicalType::BIGINT},
                              {"defaultRowCommitVersion", LogicalType::BIGINT}});
}

LogicalType MetadataType() {
  return LogicalType::STRUCT(
      {{"id", LogicalType::VARCHAR},
       {"name", LogicalType::VARCHAR},
       {"description", LogicalType::VARCHAR},
       {"format",
        LogicalType::STRUCT({{"provider", LogicalType::VARCHAR}, {"options", StringMap()}})},
       {"schemaString", LogicalType::VARCHAR},
       {"partitionColumns", LogicalType::LIST(LogicalType::VARCHAR)},
       {"configuration", StringMap()},
       {"createdTime", LogicalType::BIGINT}});
}

LogicalType ProtocolType() {
  return LogicalType::STRUCT({{"minReaderVersion", LogicalType::INTEGER},
                              {"minWriterVersion", LogicalType::INTEGER},
                              {"readerFeatures", LogicalType::LIST(LogicalType::VARCHAR)},
                              {"writerFeatures", LogicalType::LIST(LogicalType::VARCHAR)}});
}

LogicalType DomainMetadataType() {
  return LogicalType::STRUCT({{"domain", LogicalType::VARCHAR},
                              {"configuration", LogicalType::VARCHAR},
                              {"removed", LogicalType::BOOLEAN}});
}

LogicalType CheckpointMetadataType() {
  return LogicalType::STRUCT({{"version", LogicalType::BIGINT}, {"tags", StringMap()}});
}

// Column positions of the table function's output.
enum Column : idx_t { kTxn = 0, kAdd, kRemove, kMetadata, kProtocol, kDomain, kFixedColumns };

// --- Vector writing ----------------------------------------------------------------------------

void SetString(Vector& v, idx_t row, std::string_view s) {
  duckdb::FlatVector::GetData<string_t>(v)[row] =
      duckdb::StringVector::AddString(v, s.data(), s.size());
}

void SetString(Vector& v, idx_t row, const std::string& s) {
  SetString(v, row, std::string_view(s));
}

void SetString(Vector& v, idx_t row, const std::optional<std::string>& s) {
  if (s) {
    SetString(v, row, std::string_view(*s));
  } else {
    duckdb::FlatVector::SetNull(v, row, true);
  }
}

template <typename T>
void SetValue(Vector& v, idx_t row, T value) {
  duckdb::FlatVector::GetData<T>(v)[row] = value;
}

template <typename T>
void SetValue(Vector& v, idx_t row, const std::optional<T>& value) {
  if (value) {
    duckdb::FlatVector::GetData<T>(v)[row] = *value;
  } else {
    duckdb::FlatVector::SetNull(v, row, true);
  }
}

// Sets row `row` of `v` NULL all the way down, with empty list entries, so that no writer
// reads an uninitialised offset.
void SetNullDeep(Vector& v, idx_t row) {
  duckdb::FlatVector::SetNull(v, row, true);
  switch (v.GetType().InternalType()) {
    case duckdb::PhysicalType::STRUCT:
      for (auto& child : duckdb::StructVector::GetEntries(v)) SetNullDeep(*child, row);
      break;
    case duckdb::PhysicalType::LIST:
      duckdb::FlatVector::GetData<list_entry_t>(v)[row] = list_entry_t(0, 0);
      break;
    default:
      break;
  }
}

// Sets a MAP(VARCHAR, VARCHAR) row from (key, value) pairs; `null_if_empty` writes NULL for no
// entries (Spark's null tags) instead of an empty map.
template <typename Pairs>
void SetMap(Vector& map, idx_t row, const Pairs& pairs, bool null_if_empty) {
  if (pairs.empty() && null_if_empty) {
    SetNullDeep(map, row);
    return;
  }
  const idx_t offset = duckdb::ListVector::GetListSize(map);
  duckdb::ListVector::Reserve(map, offset + pairs.size());
  auto& entries = duckdb::StructVector::GetEntries(duckdb::ListVector::GetEntry(map));
  Vector& keys = *entries[0];
  Vector& values = *entries[1];
  idx_t i = offset;
  for (const auto& [key, value] : pairs) {
    SetString(keys, i, std::string_view(key));
    SetString(values, i, value);
    ++i;
  }
  duckdb::ListVector::SetListSize(map, i);
  duckdb::FlatVector::GetData<list_entry_t>(map)[row] = list_entry_t(offset, pairs.size());
}

void SetStringList(Vector& list, idx_t row, const std::optional<std::vector<std::string>>& items) {
  if (!items) {
    SetNullDeep(list, row);
    return;
  }
  const idx_t offset = duckdb::ListVector::GetListSize(list);
  duckdb::ListVector::Reserve(list, offset + items->size());
  Vector& child = duckdb::ListVector::GetEntry(list);
  idx_t i = offset;
  for (const std::string& item : *items) SetString(child, i++, std::string_view(item));
  duckdb::ListVector::SetListSize(list, i);
  duckdb::FlatVector::GetData<list_entry_t>(list)[row] = list_entry_t(offset, items->size());
}

void SetDeletionVector(Vector& dv, idx_t row,
                       const std::optional<delta::DeletionVectorDescriptor>& d) {
  if (!d) {
    SetNullDeep(dv, row);
    return;
  }
  auto& f = duckdb::StructVector::GetEntries(dv);
  SetString(*f[0], row, std::string_view(&d->storage_type, 1));
  SetString(*f[1], row, std::string_view(d->path_or_inline_dv));
  SetValue<int32_t>(*f[2], row, d->offset);
  SetValue<int32_t>(*f[3], row, d->size_in_bytes);
  SetValue<int64_t>(*f[4], row, d->cardinality);
  SetValue<int64_t>(*f[5], row, d->max_row_index);
}

void WriteAdd(Vector& add, idx_t row, const delta::AddFile& a, bool with_stats) {
  auto& f = duckdb::StructVector::GetEntries(add);
  SetString(*f[0], row, std::string_view(a.path));
  SetMap(*f[1], row, a.partition_values, /*null_if_empty=*/false);
  SetValue<int64_t>(*f[2], row, a.size);
  SetValue<int64_t>(*f[3], row, a.modification_time);
  SetValue<bool>(*f[4], row, a.data_change);
  SetMap(*f[5], row, a.tags, /*null_if_empty=*/true);
  SetDeletionVector(*f[6], row, a.deletion_vector);
  SetValue<int64_t>(*f[7], row, a.base_row_id);
  SetValue<int64_t>(*f[8], row, a.default_row_commit_version);
  SetString(*f[9], row, a.clustering_provider);
  if (with_stats) SetString(*f[10], row, a.stats);
}

void WriteRemove(Vector& remove, idx_t row, const delta::RemoveFile& r) {
  auto& f = duckdb::StructVector::GetEntries(remove);
  SetString(*f[0], row, std::string_view(r.path));
  SetValue<int64_t>(*f[1], row, r.deletion_timestamp);
  SetValue<bool>(*f[2], row, r.data_change);
  SetValue<bool>(*f[3], row, r.extended_file_metadata);
  if (r.partition_values) {
    SetMap(*f[4], row, *r.partition_values, /*null_if_empty=*/false);
  } else {
    SetNullDeep(*f[4], row);
  }
  SetValue<int64_t>(*f[5], row, r.size);
  SetDeletionVector(*f[6], row, r.deletion_vector);
  SetValue<int64_t>(*f[7], row, r.base_row_id);
  SetValue<int64_t>(*f[8], row, r.default_row_commit_version);
}

void WriteMetadata(Vector& metadata, idx_t row, const delta::Metadata& m) {
  auto& f = duckdb::StructVector::GetEntries(metadata);
  SetString(*f[0], row, std::string_view(m.id));
  SetString(*f[1], row, m.name);
  SetString(*f[2], row, m.description);
  auto& format = duckdb::StructVector::GetEntries(*f[3]);
  SetString(*format[0], row, std::string_view(m.format.provider));
  SetMap(*format[1], row, m.format.options, /*null_if_empty=*/false);
  SetString(*f[4], row, std::string_view(m.schema_string));
  SetStringList(*f[5], row, m.partition_columns);
  SetMap(*f[6], row, m.configuration, /*null_if_empty=*/false);
  SetValue<int64_t>(*f[7], row, m.created_time);
}

void WriteProtocol(Vector& protocol, idx_t row, const delta::Protocol& p) {
  auto& f = duckdb::StructVector::GetEntries(protocol);
  SetValue<int32_t>(*f[0], row, p.min_reader_version);
  SetValue<int32_t>(*f[1], row, p.min_writer_version);
  // PROTOCOL.md "Table Features": present (and non-null) exactly when the versions use them;
  // the snapshot carries them as the log had them.
  SetStringList(*f[2], row, p.reader_features);
  SetStringList(*f[3], row, p.writer_features);
}

void WriteTxn(Vector& txn, idx_t row, const delta::Txn& t) {
  auto& f = duckdb::StructVector::GetEntries(txn);
  SetString(*f[0], row, std::string_view(t.app_id));
  SetValue<int64_t>(*f[1], row, t.version);
  SetValue<int64_t>(*f[2], row, t.last_updated);
}

void WriteDomain(Vector& domain, idx_t row, const delta::DomainMetadata& d) {
  auto& f = duckdb::StructVector::GetEntries(domain);
  SetString(*f[0], row, std::string_view(d.domain));
  SetString(*f[1], row, std::string_view(d.configuration));
  SetValue<bool>(*f[2], row, d.removed);
}

void WriteCheckpointMetadata(Vector& cm, idx_t row, const delta::CheckpointMetadata& c) {
  auto& f = duckdb::StructVector::GetEntries(cm);
  SetValue<int64_t>(*f[0], row, c.version);
  SetMap(*f[1], row, c.tags, /*null_if_empty=*/true);
}

// --- The table function ------------------------------------------------------------------------

// Row order in the file: protocol, metaData, checkpointMetadata, txns, domains, adds, removes.
struct RowLayout {
  explicit RowLayout(const delta::CheckpointActions& a) {
    txn_begin = (a.protocol ? 1 : 0) + (a.metadata ? 1 : 0) + (a.checkpoint_metadata ? 1 : 0);
    domain_begin = txn_begin + a.txns.size();
    add_begin = domain_begin + a.domain_metadata.size();
    remove_begin = add_begin + a.adds.size();
    total = remove_begin + a.removes.size();
  }
  idx_t txn_begin, domain_begin, add_begin, remove_begin, total;
};

struct BindData final : public duckdb::TableFunctionData {
  const Job* job = nullptr;
};

// Rows per claimed range: big enough that claiming is rare, small enough to spread 1M rows
// over every thread.
constexpr idx_t kRangeRows = 16 * STANDARD_VECTOR_SIZE;

struct GlobalState final : public duckdb::GlobalTableFunctionState {
  explicit GlobalState(idx_t total) : total(total) {}
  idx_t MaxThreads() const override { return std::max<idx_t>(1, (total + kRangeRows - 1) / kRangeRows); }
  const idx_t total;
  std::atomic<idx_t> next_range{0};
};

struct LocalState final : public duckdb::LocalTableFunctionState {
  idx_t range = 0;
  idx_t position = 0;
  idx_t end = 0;
};

duckdb::unique_ptr<duckdb::FunctionData> Bind(duckdb::ClientContext&,
                                              duckdb::TableFunctionBindInput& input,
                                              duckdb::vector<LogicalType>& types,
                                              duckdb::vector<std::string>& names) {
  auto data = duckdb::make_uniq<BindData>();
  data->job = Registry().Find(input.inputs[0].GetValue<int64_t>());
  if (!data->job) {
    ThrowStatus(Status::InvalidArgument(
        StrCat(kFunctionName, ": no checkpoint write in progress with this id; the function is "
                              "internal to lake's checkpoint writer")));
  }
  const Job& job = *data->job;
  names = {"txn", "add", "remove", "metaData", "protocol", "domainMetadata"};
  types = {TxnType(), AddType(job.stats_as_json), RemoveType(), MetadataType(), ProtocolType(),
           DomainMetadataType()};
  if (job.actions->checkpoint_metadata) {
    names.push_back("checkpointMetadata");
    types.push_back(CheckpointMetadataType());
  }
  if (job.hidden_stats) {
    names.push_back("__stats");
    types.push_back(LogicalType::VARCHAR);
  }
  return data;
}

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> InitGlobal(
    duckdb::ClientContext&, duckdb::TableFunctionInitInput& input) {
  const Job& job = *input.bind_data->Cast<BindData>().job;
  return duckdb::make_uniq<GlobalState>(RowLayout(*job.actions).total);
}

duckdb::unique_ptr<duckdb::LocalTableFunctionState> InitLocal(duckdb::ExecutionContext&,
                                                              duckdb::TableFunctionInitInput&,
                                                              duckdb::GlobalTableFunctionState*) {
  return duckdb::make_uniq<LocalState>();
}

void Scan(duckdb::ClientContext&, duckdb::TableFunctionInput& input, duckdb::DataChunk& output) {
  const Job& job = *input.bind_data->Cast<BindData>().job;
  const delta::CheckpointActions& a = *job.actions;
  auto& global = input.global_state->Cast<GlobalState>();
  auto& local = input.local_state->Cast<LocalState>();
  if (local.position >= local.end) {
    local.range = global.next_range.fetch_add(1);
    local.position = local.range * kRangeRows;
    local.end = std::min(global.total, local.position + kRangeRows);
    if (local.position >= local.end) {
      output.SetCardinality(0);
      return;
    }
  }
  const RowLayout rows(a);
  const idx_t begin = local.position;
  const idx_t count = std::min<idx_t>(STANDARD_VECTOR_SIZE, local.end - begin);
  local.position += count;

  // Which columns have a row in [begin, begin + count): the others are constant NULL (note 2).
  const idx_t end = begin + count;
  auto overlaps = [&](idx_t lo, idx_t hi) { return lo < end && begin < hi; };
  std::vector<bool> used(output.ColumnCount(), false);
  used[kProtocol] = a.protocol && overlaps(0, 1);
  const idx_t metadata_row = a.protocol ? 1 : 0;
  used[kMetadata] = a.metadata && overlaps(metadata_row, metadata_row + 1);
  const idx_t cm_row = metadata_row + (a.metadata ? 1 : 0);
  const bool has_cm = a.checkpoint_metadata != nullptr;
  if (has_cm) used[kFixedColumns] = overlaps(cm_row, cm_row + 1);
  used[kTxn] = overlaps(rows.txn_begin, rows.domain_begin);
  used[kDomain] = overlaps(rows.domain_begin, rows.add_begin);
  used[kAdd] = overlaps(rows.add_begin, rows.remove_begin);
  used[kRemove] = overlaps(rows.remove_begin, rows.total);
  const idx_t hidden_stats_column = output.ColumnCount() - 1;
  if (job.hidden_stats) used[hidden_stats_column] = used[kAdd];
  for (idx_t c = 0; c < output.ColumnCount(); ++c) {
    if (!used[c]) {
      output.data[c].SetVectorType(duckdb::VectorType::CONSTANT_VECTOR);
      duckdb::ConstantVector::SetNull(output.data[c], true);
    }
  }

  // A chunk of adds only (nearly every chunk of a big checkpoint) has no other row to null.
  const bool adds_only = !used[kTxn] && !used[kRemove] && !used[kDomain] && !used[kMetadata] &&
                         !used[kProtocol] && !(has_cm && used[kFixedColumns]);
  for (idx_t i = 0; i < count; ++i) {
    const idx_t row = begin + i;
    // Null every used column at this row except the one(s) this row's action fills.
    auto null_others = [&](idx_t keep, idx_t also_keep) {
      for (idx_t c = 0; c < output.ColumnCount(); ++c) {
        if (used[c] && c != keep && c != also_keep) SetNullDeep(output.data[c], i);
      }
    };
    const idx_t no_column = output.ColumnCount();
    if (row >= rows.add_begin && row < rows.remove_begin) {
      const delta::AddFile& add = *a.adds[row - rows.add_begin];
      if (!adds_only) null_others(kAdd, job.hidden_stats ? hidden_stats_column : no_column);
      WriteAdd(output.data[kAdd], i, add, job.stats_as_json);
      if (job.hidden_stats) SetString(output.data[hidden_stats_column], i, add.stats);
    } else if (row >= rows.remove_begin) {
      null_others(kRemove, no_column);
      WriteRemove(output.data[kRemove], i, *a.removes[row - rows.remove_begin]);
    } else if (row >= rows.domain_begin) {
      null_others(kDomain, no_column);
      WriteDomain(output.data[kDomain], i, *a.domain_metadata[row - rows.domain_begin]);
    } else if (row >= rows.txn_begin) {
      null_others(kTxn, no_column);
      WriteTxn(output.data[kTxn], i, *a.txns[row - rows.txn_begin]);
    } else if (a.protocol && row == 0) {
      null_others(kProtocol, no_column);
      WriteProtocol(output.data[kProtocol], i, *a.protocol);
    } else if (a.metadata && row == metadata_row) {
      null_others(kMetadata, no_column);
      WriteMetadata(output.data[kMetadata], i, *a.metadata);
    } else {
      null_others(kFixedColumns, no_column);
      WriteCheckpointMetadata(output.data[kFixedColumns], i, *a.checkpoint_metadata);
    }
  }
  output.SetCardinality(count);
}

duckdb::OperatorPartitionData PartitionData(duckdb::ClientContext&,
                                            duckdb::TableFunctionGetPartitionInput& input) {
  return duckdb::OperatorPartitionData(input.local_state->Cast<LocalState>().range);
}

// --- SQL around it -----------------------------------------------------------------------------

// Returns the DuckDB type name of a primitive Delta type in stats / partition values.
Result<std::string> SqlType(const delta::DataType& type) {
  using delta::TypeKind;
  switch (type.kind) {
    case TypeKind::kString: return std::string("VARCHAR");
    case TypeKind::kLong: return std::string("BIGINT");
    case TypeKind::kInteger: return std::string("INTEGER");
    case TypeKind::kShort: return std::string("SMALLINT");
    case TypeKind::kByte: return std::string("TINYINT");
    case TypeKind::kFloat: return std::string("FLOAT");
    case TypeKind::kDouble: return std::string("DOUBLE");
    case TypeKind::kDecimal: return StrCat("DECIMAL(", type.precision, ",", type.scale, ")");
    case TypeKind::kBoolean: return std::string("BOOLEAN");
    case TypeKind::kBinary: return std::string("BLOB");
    case TypeKind::kDate: return std::string("DATE");
    case TypeKind::kTimestamp: return std::string("TIMESTAMPTZ");
    case TypeKind::kTimestampNtz: return std::string("TIMESTAMP");
    default:
      return Status::NotSupported(StrCat("type ", type.ToString(),
                                         " in a checkpoint's parsed statistics or partition "
                                         "values"));
  }
}

// Returns the json_transform structure of a stats struct: {"numRecords":"BIGINT",...}.
Result<std::string> JsonStructure(const delta::DataType& type) {
  if (type.kind != delta::TypeKind::kStruct) {
    LAKE_ASSIGN_OR_RETURN(std::string name, SqlType(type));
    return JsonQuote(name);
  }
  std::string out = "{";
  for (const delta::StructField& field : type.fields) {
    if (out.size() > 1) out += ",";
    LAKE_ASSIGN_OR_RETURN(std::string child, JsonStructure(field.type));
    out += StrCat(JsonQuote(field.name), ":", child);
  }
  return out + "}";
}

// Rows per Parquet row group. DuckDB's default (122,880) holds ~70 MB of a big checkpoint's
// adds per writing thread; 16,384 cut the writer's peak memory over a 1M-file snapshot from
// ~300 MB to ~200 MB (bench/checkpoint_bench.cc checkpoint_peak_rss) and readers do not mind.
constexpr idx_t kRowGroupRows = 16384;

Result<std::string> CopySql(const Job& job, const delta::CheckpointLayout& layout, int64_t id,
                            const std::string& file) {
  std::string add = "\"add\"";
  const bool struct_stats = layout.write_stats_as_struct && !layout.stats_schema.fields.empty();
  const bool struct_partitions =
      layout.write_stats_as_struct && !layout.partition_values_schema.fields.empty();
  if (struct_stats || struct_partitions) {
    std::string inserts;
    if (struct_partitions) {
      std::string pack;
      for (const delta::StructField& field : layout.partition_values_schema.fields) {
        LAKE_ASSIGN_OR_RETURN(std::string type, SqlType(field.type));
        const std::string value =
            StrCat("map_extract_value(\"add\".\"partitionValues\", ", SqlQuote(field.name), ")");
        // Binary partition values are the string's bytes (Spark casts string to binary so).
        const std::string cast = field.type.kind == delta::TypeKind::kBinary
                                     ? StrCat("encode(", value, ")")
                                     : StrCat("TRY_CAST(", value, " AS ", type, ")");
        pack += StrCat(pack.empty() ? "" : ", ", SqlIdent(field.name), " := ", cast);
      }
      inserts += StrCat(", \"partitionValues_parsed\" := struct_pack(", pack, ")");
    }
    if (struct_stats) {
      LAKE_ASSIGN_OR_RETURN(std::string structure, JsonStructure(layout.stats_schema));
      const std::string source = job.hidden_stats ? "\"__stats\"" : "\"add\".\"stats\"";
      inserts += StrCat(", \"stats_parsed\" := try(json_transform(", source, ", ",
                        SqlQuote(structure), "))");
    }
    add = StrCat("CASE WHEN \"add\" IS NULL THEN NULL ELSE struct_insert(\"add\"", inserts,
                 ") END AS \"add\"");
  }
  std::string columns = StrCat("\"txn\", ", add,
                               ", \"remove\", \"metaData\", \"protocol\", \"domainMetadata\"");
  if (job.actions->checkpoint_metadata) columns += ", \"checkpointMetadata\"";
  return StrCat("COPY (SELECT ", columns, " FROM ", kFunctionName, "(", id, ")) TO ",
                SqlQuote(file), " (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ",
                kRowGroupRows, ")");
}

// --- Files -------------------------------------------------------------------------------------

std::string RandomSuffix() {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  return StrCat(std::to_string(rd()), "-", counter++);
}

Status SyncPath(const std::string& path, bool is_dir) {
  const int fd = ::open(path.c_str(), is_dir ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return Status::IOError(StrCat(path, ": cannot open to sync: ", std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && !(is_dir && err == EINVAL)) {
    return Status::IOError(StrCat(path, ": cannot sync: ", std::strerror(err)));
  }
  return Status::OK();
}

class DuckDBCheckpointWriter final : public delta::CheckpointWriter {
 public:
  explicit DuckDBCheckpointWriter(duckdb::DatabaseInstance& db) : db_(db) {}

  Result<int64_t> WriteParquetActions(storage::ObjectStore& store, std::string_view key,
                                      const delta::CheckpointActions& actions,
                                      const delta::CheckpointLayout& layout) override {
    const std::string where = StrCat(store.uri(), "/", key);
    Job job;
    job.actions = &actions;
    job.stats_as_json = layout.write_stats_as_json;
    job.hidden_stats = !layout.write_stats_as_json && layout.write_stats_as_struct &&
                       !layout.stats_schema.fields.empty();
    const int64_t id = Registry().Add(&job);
    ScopeGuard unregister([&] { Registry().Remove(id); });

    // Note 4: where DuckDB writes.
    auto* local_store = dynamic_cast<storage::LocalStore*>(&store);
    std::optional<std::string> final_path = local_store ? store.LocalPath(key) : std::nullopt;
    std::string temp;
    if (final_path) {
      std::filesystem::path p(*final_path);
      std::error_code ec;
      std::filesystem::create_directories(p.parent_path(), ec);
      temp = (p.parent_path() / StrCat(".", p.filename().string(), ".tmp.", RandomSuffix()))
                 .string();
    } else {
      temp = (std::filesystem::temp_directory_path() /
              StrCat("lake-checkpoint-", RandomSuffix(), ".parquet"))
                 .string();
    }
    ScopeGuard remove_temp([&] {
      std::error_code ec;
      std::filesystem::remove(temp, ec);  // best effort: a temp file nobody reads
    });
    LAKE_ASSIGN_OR_RETURN(std::string sql, CopySql(job, layout, id, temp));
    Status copied = CatchAll([&]() -> Status {
      duckdb::Connection conn(db_);
      auto result = conn.Query(sql);
      if (result->HasError()) return StatusFromError(result->GetErrorObject());
      return Status::OK();
    });
    if (!copied.ok()) {
      return Status(copied.code(), StrCat(where, ": writing the checkpoint file: ",
                                          copied.message()));
    }
    std::error_code ec;
    const auto size = static_cast<int64_t>(std::filesystem::file_size(temp, ec));
    if (ec) return Status::IOError(StrCat(temp, ": cannot stat the written checkpoint"));

    if (final_path) {
      LAKE_RETURN_IF_ERROR(SyncPath(temp, /*is_dir=*/false));
      if (::rename(temp.c_str(), final_path->c_str()) != 0) {
        return Status::IOError(StrCat(where, ": cannot rename ", temp, ": ", std::strerror(errno)));
      }
      remove_temp.Dismiss();
      LAKE_RETURN_IF_ERROR(
          SyncPath(std::filesystem::path(*final_path).parent_path().string(), /*is_dir=*/true));
      return size;
    }
    std::string bytes;
    {
      std::ifstream in(temp, std::ios::binary);
      bytes.resize(static_cast<size_t>(size));
      in.read(bytes.data(), size);
      if (!in) return Status::IOError(StrCat(temp, ": cannot read the written checkpoint back"));
    }
    LAKE_RETURN_IF_ERROR(store.Put(key, std::string_view(bytes)));
    return size;
  }

 private:
  duckdb::DatabaseInstance& db_;
};

}  // namespace

void RegisterCheckpointRows(duckdb::DatabaseInstance& db) {
  duckdb::TableFunction function(std::string(kFunctionName), {LogicalType::BIGINT}, Scan, Bind,
                                 InitGlobal, InitLocal);
  function.get_partition_data = PartitionData;
  duckdb::ExtensionLoader loader(db, "lake");
  loader.RegisterFunction(function);
}

std::unique_ptr<delta::CheckpointWriter> MakeCheckpointWriter(duckdb::DatabaseInstance& db) {
  return std::make_unique<DuckDBCheckpointWriter>(db);
}

}  // namespace lake::engine::internal

namespace lake::engine {

std::unique_ptr<delta::CheckpointWriter> MakeCheckpointWriter(Database& db) {
  return internal::MakeCheckpointWriter(static_cast<internal::DatabaseImpl&>(db).instance());
}

}  // namespace lake::engine
