// delta_history, delta_files, delta_detail: see internal/inspect.h.
//
// Each function loads what it reports at bind time (the result is small: one row per commit,
// file or table) and keeps it as rows of DuckDB values in the bind data; the scan only copies
// rows out, STANDARD_VECTOR_SIZE at a time. Loading at bind also means a missing table or
// version fails before any output, with the core's message and hint.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"
#include "delta/engine.h"
#include "delta/snapshot.h"
#include "engine/internal/duckdb_pch.h"
#include "engine/internal/errors.h"
#include "engine/internal/inspect.h"
#include "engine/internal/lake_catalog.h"
#include "engine/internal/scan.h"
#include "engine/internal/snapshot_cache.h"
#include "storage/object_store.h"

namespace lake::engine::internal {
namespace {

using duckdb::LogicalType;
using duckdb::Value;

// Opens the table at `path` (anything storage::OpenStore accepts) with the engine's
// delta::Engine, whose Parquet checkpoints are read by this DuckDB instance.
std::unique_ptr<delta::Engine> OpenTableOrThrow(duckdb::ClientContext& context,
                                                const std::string& path) {
  std::unique_ptr<storage::ObjectStore> store = ValueOrThrow(storage::OpenStore(path));
  return MakeDeltaEngine(duckdb::DatabaseInstance::GetDatabase(context), std::move(store));
}

// Returns the snapshot of `path` at `version` (latest if nullopt) through the database's
// snapshot cache: the latest one still lists the log, so a new commit is always seen.
delta::SnapshotPtr LoadSnapshotOrThrow(duckdb::ClientContext& context, const std::string& path,
                                       std::optional<int64_t> version) {
  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  return ValueOrThrow(version ? cache.AtVersion(path, *version) : cache.Latest(path)).snapshot;
}

// Returns the table path argument; with by_name := true the argument is a table name
// (t, schema.t, lake.schema.t) resolved through the lake catalog (DESCRIBE HISTORY t).
std::string PathArgument(duckdb::ClientContext& context, duckdb::TableFunctionBindInput& input,
                         const char* function) {
  const Value& v = input.inputs[0];
  if (v.IsNull() || v.ToString().empty()) {
    throw duckdb::InvalidInputException("%s: the table path must be a non-empty string", function);
  }
  auto by_name = input.named_parameters.find("by_name");
  if (by_name != input.named_parameters.end() && !by_name->second.IsNull() &&
      by_name->second.GetValue<bool>()) {
    return ValueOrThrow(ResolveTableLocation(context, v.ToString()));
  }
  return v.ToString();
}

std::optional<int64_t> NamedInt(duckdb::TableFunctionBindInput& input, const char* name,
                                const char* function) {
  auto it = input.named_parameters.find(name);
  if (it == input.named_parameters.end() || it->second.IsNull()) return std::nullopt;
  int64_t v = it->second.GetValue<int64_t>();
  if (v < 0) {
    throw duckdb::InvalidInputException("%s: %s must be >= 0, got %lld", function, name,
                                        static_cast<long long>(v));
  }
  return v;
}

Value TimestampMs(int64_t ms) { return Value::TIMESTAMPTZ(duckdb::timestamp_tz_t(ms * 1000)); }
Value OptionalString(const std::optional<std::string>& s) {
  return s ? Value(*s) : Value(LogicalType::VARCHAR);
}
Value OptionalBigInt(const std::optional<int64_t>& v) {
  return v ? Value::BIGINT(*v) : Value(LogicalType::BIGINT);
}
Value OptionalBool(const std::optional<bool>& v) {
  return v ? Value::BOOLEAN(*v) : Value(LogicalType::BOOLEAN);
}
Value StringList(const std::optional<std::vector<std::string>>& items) {
  if (!items) return Value(LogicalType::LIST(LogicalType::VARCHAR));
  duckdb::vector<Value> values;
  for (const std::string& s : *items) values.emplace_back(s);
  return Value::LIST(LogicalType::VARCHAR, std::move(values));
}
Value StringMap(const std::vector<std::pair<std::string, std::optional<std::string>>>& pairs) {
  duckdb::vector<Value> keys, values;
  for (const auto& [k, v] : pairs) {
    keys.emplace_back(k);
    values.push_back(OptionalString(v));
  }
  return Value::MAP(LogicalType::VARCHAR, LogicalType::VARCHAR, std::move(keys), std::move(values));
}

// numRecords of an add's stats JSON; NULL when absent or unparsable (stats are optional).
Value NumRecords(const std::optional<std::string>& stats) {
  if (!stats) return Value(LogicalType::BIGINT);
  nlohmann::json j = nlohmann::json::parse(*stats, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Value(LogicalType::BIGINT);
  auto it = j.find("numRecords");
  if (it == j.end() || !it->is_number_integer()) return Value(LogicalType::BIGINT);
  return Value::BIGINT(it->get<int64_t>());
}

// Rows materialized at bind, emitted by RowsScan.
struct RowsBindData final : duckdb::TableFunctionData {
  std::vector<duckdb::vector<Value>> rows;
};

struct RowsScanState final : duckdb::GlobalTableFunctionState {
  size_t next_row = 0;
};

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> RowsInit(duckdb::ClientContext&,
                                                              duckdb::TableFunctionInitInput&) {
  return duckdb::make_uniq<RowsScanState>();
}

void RowsScan(duckdb::ClientContext&, duckdb::TableFunctionInput& input,
              duckdb::DataChunk& output) {
  const auto& data = input.bind_data->Cast<RowsBindData>();
  auto& state = input.global_state->Cast<RowsScanState>();
  duckdb::idx_t count = 0;
  while (state.next_row < data.rows.size() && count < STANDARD_VECTOR_SIZE) {
    const auto& row = data.rows[state.next_row++];
    for (duckdb::idx_t col_idx = 0; col_idx < row.size(); ++col_idx) {
      output.SetValue(col_idx, count, row[col_idx]);
    }
    ++count;
  }
  output.SetCardinality(count);
}

// ---- delta_history ---------------------------------------------------------------------

duckdb::unique_ptr<duckdb::FunctionData> HistoryBind(duckdb::ClientContext& context,
                                                     duckdb::TableFunctionBindInput& input,
                                                     duckdb::vector<LogicalType>& types,
                                                     duckdb::vector<std::string>& names) {
  std::string path = PathArgument(context, input, "delta_history");
  std::optional<int64_t> limit = NamedInt(input, "limit", "delta_history");
  std::unique_ptr<delta::Engine> engine = OpenTableOrThrow(context, path);
  std::vector<delta::HistoryEntry> history = ValueOrThrow(delta::LoadHistory(*engine, limit));

  names = {"version",           "timestamp",   "operation",       "operation_parameters",
           "operation_metrics", "engine_info", "is_blind_append", "read_version"};
  types = {LogicalType::BIGINT,  LogicalType::TIMESTAMP_TZ, LogicalType::VARCHAR,
           LogicalType::VARCHAR, LogicalType::VARCHAR,      LogicalType::VARCHAR,
           LogicalType::BOOLEAN, LogicalType::BIGINT};
  auto data = duckdb::make_uniq<RowsBindData>();
  for (const delta::HistoryEntry& entry : history) {
    const delta::CommitInfo& info = entry.commit_info;
    data->rows.push_back({Value::BIGINT(entry.version), TimestampMs(entry.timestamp_ms),
                          OptionalString(info.operation), Value(info.operation_parameters_json),
                          Value(info.operation_metrics_json), OptionalString(info.engine_info),
                          OptionalBool(info.is_blind_append), OptionalBigInt(info.read_version)});
  }
  return data;
}

// ---- delta_files -----------------------------------------------------------------------

duckdb::unique_ptr<duckdb::FunctionData> FilesBind(duckdb::ClientContext& context,
                                                   duckdb::TableFunctionBindInput& input,
                                                   duckdb::vector<LogicalType>& types,
                                                   duckdb::vector<std::string>& names) {
  std::string path = PathArgument(context, input, "delta_files");
  std::optional<int64_t> version = NamedInt(input, "version", "delta_files");
  delta::SnapshotPtr snapshot = LoadSnapshotOrThrow(context, path, version);

  names = {"path",        "size_bytes", "modification_time", "partition_values",
           "num_records", "stats",      "dv_cardinality",    "data_change"};
  types = {LogicalType::VARCHAR,      LogicalType::BIGINT,
           LogicalType::TIMESTAMP_TZ, LogicalType::MAP(LogicalType::VARCHAR, LogicalType::VARCHAR),
           LogicalType::BIGINT,       LogicalType::VARCHAR,
           LogicalType::BIGINT,       LogicalType::BOOLEAN};
  auto data = duckdb::make_uniq<RowsBindData>();
  data->rows.reserve(snapshot->files().size());
  for (const delta::AddFile& add : snapshot->files()) {
    data->rows.push_back({Value(snapshot->ResolvePath(add.path)), Value::BIGINT(add.size),
                          TimestampMs(add.modification_time), StringMap(add.partition_values),
                          NumRecords(add.stats), OptionalString(add.stats),
                          add.deletion_vector ? Value::BIGINT(add.deletion_vector->cardinality)
                                              : Value(LogicalType::BIGINT),
                          Value::BOOLEAN(add.data_change)});
  }
  return data;
}

// ---- delta_detail ----------------------------------------------------------------------

duckdb::unique_ptr<duckdb::FunctionData> DetailBind(duckdb::ClientContext& context,
                                                    duckdb::TableFunctionBindInput& input,
                                                    duckdb::vector<LogicalType>& types,
                                                    duckdb::vector<std::string>& names) {
  std::string path = PathArgument(context, input, "delta_detail");
  std::optional<int64_t> version = NamedInt(input, "version", "delta_detail");
  delta::SnapshotPtr snapshot = LoadSnapshotOrThrow(context, path, version);
  const delta::Protocol& protocol = snapshot->protocol();
  const delta::Metadata& metadata = snapshot->metadata();

  const LogicalType string_list = LogicalType::LIST(LogicalType::VARCHAR);
  names = {"location",
           "version",
           "timestamp",
           "min_reader_version",
           "min_writer_version",
           "reader_features",
           "writer_features",
           "schema_string",
           "partition_columns",
           "properties",
           "num_files",
           "size_bytes",
           "checkpoint_version",
           "column_mapping_mode",
           "id",
           "name",
           "description",
           "created_time"};
  types = {LogicalType::VARCHAR,
           LogicalType::BIGINT,
           LogicalType::TIMESTAMP_TZ,
           LogicalType::INTEGER,
           LogicalType::INTEGER,
           string_list,
           string_list,
           LogicalType::VARCHAR,
           string_list,
           LogicalType::MAP(LogicalType::VARCHAR, LogicalType::VARCHAR),
           LogicalType::BIGINT,
           LogicalType::BIGINT,
           LogicalType::BIGINT,
           LogicalType::VARCHAR,
           LogicalType::VARCHAR,
           LogicalType::VARCHAR,
           LogicalType::VARCHAR,
           LogicalType::TIMESTAMP_TZ};

  std::vector<std::pair<std::string, std::optional<std::string>>> properties(
      metadata.configuration.begin(), metadata.configuration.end());
  auto data = duckdb::make_uniq<RowsBindData>();
  data->rows.push_back(
      {Value(snapshot->table_uri()), Value::BIGINT(snapshot->version()),
       TimestampMs(snapshot->timestamp_ms()), Value::INTEGER(protocol.min_reader_version),
       Value::INTEGER(protocol.min_writer_version), StringList(protocol.reader_features),
       StringList(protocol.writer_features), Value(metadata.schema_string),
       StringList(metadata.partition_columns), StringMap(properties),
       Value::BIGINT(static_cast<int64_t>(snapshot->files().size())),
       Value::BIGINT(snapshot->size_bytes()), OptionalBigInt(snapshot->checkpoint_version()),
       Value(snapshot->column_mapping_mode()), Value(metadata.id), OptionalString(metadata.name),
       OptionalString(metadata.description),
       metadata.created_time ? TimestampMs(*metadata.created_time)
                             : Value(LogicalType::TIMESTAMP_TZ)});
  return data;
}

duckdb::TableFunction RowsFunction(const char* name, duckdb::table_function_bind_t bind) {
  duckdb::TableFunction function(name, {LogicalType::VARCHAR}, RowsScan, bind, RowsInit);
  return function;
}

}  // namespace

void RegisterInspectFunctions(duckdb::DatabaseInstance& db) {
  duckdb::ExtensionLoader loader(db, "lake");

  duckdb::TableFunction history = RowsFunction("delta_history", HistoryBind);
  history.named_parameters["limit"] = LogicalType::BIGINT;
  history.named_parameters["by_name"] = LogicalType::BOOLEAN;
  loader.RegisterFunction(history);

  duckdb::TableFunction files = RowsFunction("delta_files", FilesBind);
  files.named_parameters["version"] = LogicalType::BIGINT;
  files.named_parameters["by_name"] = LogicalType::BOOLEAN;
  loader.RegisterFunction(files);

  duckdb::TableFunction detail = RowsFunction("delta_detail", DetailBind);
  detail.named_parameters["version"] = LogicalType::BIGINT;
  detail.named_parameters["by_name"] = LogicalType::BOOLEAN;
  loader.RegisterFunction(detail);
}

}  // namespace lake::engine::internal
