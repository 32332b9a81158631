// engine::Database on DuckDB: one DuckDB instance per Database, one duckdb::Connection per
// Session, results converted to lake's Value/ColumnType so no DuckDB type leaves this layer.
//
// Design notes.
//  (1) Open() refuses a libduckdb.so other than the pinned build: every DuckDB class we
//      subclass is internal API whose layout changes between releases (DUCKDB-INTEGRATION.md
//      §4 risk 1), so a mismatch would crash rather than fail cleanly.
//  (2) Every DuckDB call is wrapped by internal::CatchAll; results carrying an error are
//      translated by internal::StatusFromError (internal/errors.h).
//  (3) Conversion reads vectors through UnifiedVectorFormat for flat primitive types (no
//      per-value duckdb::Value boxing); nested types go through duckdb::Value recursively.
#include <cstring>

#include "base/strings.h"
#include "engine/delta_engine.h"
#include "engine/internal/checkpoint_writer.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/errors.h"
#include "engine/internal/lake_catalog.h"
#include "engine/internal/lake_merge.h"
#include "engine/internal/register.h"
#include "engine/internal/restore_vacuum.h"
#include "engine/internal/snapshot_cache.h"
#include "engine/internal/spark_ddl.h"

namespace lake::engine {
namespace internal {
namespace {

using duckdb::LogicalType;
using duckdb::LogicalTypeId;

int64_t TimestampToMicros(LogicalTypeId id, int64_t raw) {
  switch (id) {
    case LogicalTypeId::TIMESTAMP_SEC:
      return raw * 1000000;
    case LogicalTypeId::TIMESTAMP_MS:
      return raw * 1000;
    case LogicalTypeId::TIMESTAMP_NS:
      return raw / 1000 - ((raw % 1000) < 0 ? 1 : 0);
    default:
      return raw;
  }
}

__int128 HugeintToInt128(duckdb::hugeint_t h) {
  return (static_cast<__int128>(h.upper) << 64) | static_cast<__int128>(h.lower);
}

}  // namespace

ColumnType ToColumnType(const LogicalType& type) {
  ColumnType out;
  out.name = type.ToString();
  using K = ColumnType::Kind;
  switch (type.id()) {
    case LogicalTypeId::SQLNULL:
      out.kind = K::kNull;
      break;
    case LogicalTypeId::BOOLEAN:
      out.kind = K::kBoolean;
      break;
    case LogicalTypeId::TINYINT:
      out.kind = K::kTinyInt;
      break;
    case LogicalTypeId::SMALLINT:
      out.kind = K::kSmallInt;
      break;
    case LogicalTypeId::INTEGER:
      out.kind = K::kInteger;
      break;
    case LogicalTypeId::BIGINT:
      out.kind = K::kBigInt;
      break;
    case LogicalTypeId::HUGEINT:
      out.kind = K::kHugeInt;
      break;
    case LogicalTypeId::UTINYINT:
      out.kind = K::kUTinyInt;
      break;
    case LogicalTypeId::USMALLINT:
      out.kind = K::kUSmallInt;
      break;
    case LogicalTypeId::UINTEGER:
      out.kind = K::kUInteger;
      break;
    case LogicalTypeId::UBIGINT:
      out.kind = K::kUBigInt;
      break;
    case LogicalTypeId::FLOAT:
      out.kind = K::kFloat;
      break;
    case LogicalTypeId::DOUBLE:
      out.kind = K::kDouble;
      break;
    case LogicalTypeId::DECIMAL:
      out.kind = K::kDecimal;
      out.precision = duckdb::DecimalType::GetWidth(type);
      out.scale = duckdb::DecimalType::GetScale(type);
      break;
    case LogicalTypeId::VARCHAR:
    case LogicalTypeId::ENUM:
      out.kind = K::kVarchar;
      break;
    case LogicalTypeId::BLOB:
      out.kind = K::kBlob;
      break;
    case LogicalTypeId::DATE:
      out.kind = K::kDate;
      break;
    case LogicalTypeId::TIME:
      out.kind = K::kTime;
      break;
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_SEC:
    case LogicalTypeId::TIMESTAMP_MS:
    case LogicalTypeId::TIMESTAMP_NS:
      out.kind = K::kTimestamp;
      break;
    case LogicalTypeId::TIMESTAMP_TZ:
      out.kind = K::kTimestampTz;
      break;
    case LogicalTypeId::INTERVAL:
      out.kind = K::kInterval;
      break;
    case LogicalTypeId::UUID:
      out.kind = K::kUuid;
      break;
    case LogicalTypeId::LIST:
      out.kind = K::kList;
      out.children.emplace_back("element", ToColumnType(duckdb::ListType::GetChildType(type)));
      break;
    case LogicalTypeId::ARRAY:
      out.kind = K::kList;
      out.children.emplace_back("element", ToColumnType(duckdb::ArrayType::GetChildType(type)));
      break;
    case LogicalTypeId::STRUCT:
      out.kind = K::kStruct;
      for (auto& [name, child] : duckdb::StructType::GetChildTypes(type)) {
        out.children.emplace_back(name, ToColumnType(child));
      }
      break;
    case LogicalTypeId::MAP:
      out.kind = K::kMap;
      out.children.emplace_back("key", ToColumnType(duckdb::MapType::KeyType(type)));
      out.children.emplace_back("value", ToColumnType(duckdb::MapType::ValueType(type)));
      break;
    default:
      out.kind = K::kOther;
      break;
  }
  return out;
}

Value ToLakeValue(const duckdb::Value& value, const LogicalType& type) {
  Value out;
  if (value.IsNull()) return out;
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN:
      out.v = value.GetValueUnsafe<bool>();
      break;
    case LogicalTypeId::TINYINT:
      out.v = int64_t{value.GetValueUnsafe<int8_t>()};
      break;
    case LogicalTypeId::SMALLINT:
      out.v = int64_t{value.GetValueUnsafe<int16_t>()};
      break;
    case LogicalTypeId::INTEGER:
    case LogicalTypeId::DATE:
      out.v = int64_t{value.GetValueUnsafe<int32_t>()};
      break;
    case LogicalTypeId::BIGINT:
    case LogicalTypeId::TIME:
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_TZ:
      out.v = value.GetValueUnsafe<int64_t>();
      break;
    case LogicalTypeId::TIMESTAMP_SEC:
    case LogicalTypeId::TIMESTAMP_MS:
    case LogicalTypeId::TIMESTAMP_NS:
      out.v = TimestampToMicros(type.id(), value.GetValueUnsafe<int64_t>());
      break;
    case LogicalTypeId::UTINYINT:
      out.v = uint64_t{value.GetValueUnsafe<uint8_t>()};
      break;
    case LogicalTypeId::USMALLINT:
      out.v = uint64_t{value.GetValueUnsafe<uint16_t>()};
      break;
    case LogicalTypeId::UINTEGER:
      out.v = uint64_t{value.GetValueUnsafe<uint32_t>()};
      break;
    case LogicalTypeId::UBIGINT:
      out.v = value.GetValueUnsafe<uint64_t>();
      break;
    case LogicalTypeId::HUGEINT:
      out.v = HugeintToInt128(value.GetValueUnsafe<duckdb::hugeint_t>());
      break;
    case LogicalTypeId::FLOAT:
      out.v = double{value.GetValueUnsafe<float>()};
      break;
    case LogicalTypeId::DOUBLE:
      out.v = value.GetValueUnsafe<double>();
      break;
    case LogicalTypeId::DECIMAL:
      switch (type.InternalType()) {
        case duckdb::PhysicalType::INT16:
          out.v = int64_t{value.GetValueUnsafe<int16_t>()};
          break;
        case duckdb::PhysicalType::INT32:
          out.v = int64_t{value.GetValueUnsafe<int32_t>()};
          break;
        case duckdb::PhysicalType::INT64:
          out.v = value.GetValueUnsafe<int64_t>();
          break;
        default:
          out.v = HugeintToInt128(value.GetValueUnsafe<duckdb::hugeint_t>());
          break;
      }
      break;
    case LogicalTypeId::VARCHAR:
    case LogicalTypeId::BLOB:
      out.v = duckdb::StringValue::Get(value);
      break;
    case LogicalTypeId::LIST:
    case LogicalTypeId::ARRAY: {
      const LogicalType& child_type = type.id() == LogicalTypeId::LIST
                                          ? duckdb::ListType::GetChildType(type)
                                          : duckdb::ArrayType::GetChildType(type);
      const auto& children = type.id() == LogicalTypeId::LIST
                                 ? duckdb::ListValue::GetChildren(value)
                                 : duckdb::ArrayValue::GetChildren(value);
      auto list = std::make_shared<ValueList>();
      list->reserve(children.size());
      for (const auto& child : children) list->push_back(ToLakeValue(child, child_type));
      out.v = std::move(list);
      break;
    }
    case LogicalTypeId::STRUCT: {
      const auto& child_types = duckdb::StructType::GetChildTypes(type);
      const auto& children = duckdb::StructValue::GetChildren(value);
      auto fields = std::make_shared<ValueStruct>();
      for (size_t i = 0; i < children.size() && i < child_types.size(); ++i) {
        fields->emplace_back(child_types[i].first, ToLakeValue(children[i], child_types[i].second));
      }
      out.v = std::move(fields);
      break;
    }
    case LogicalTypeId::MAP: {
      const LogicalType& key_type = duckdb::MapType::KeyType(type);
      const LogicalType& value_type = duckdb::MapType::ValueType(type);
      auto map = std::make_shared<ValueMap>();
      for (const auto& entry : duckdb::ListValue::GetChildren(value)) {
        const auto& kv = duckdb::StructValue::GetChildren(entry);
        map->emplace_back(ToLakeValue(kv[0], key_type), ToLakeValue(kv[1], value_type));
      }
      out.v = std::move(map);
      break;
    }
    default:
      // UUID, INTERVAL, ENUM, UHUGEINT, ...: DuckDB's own text form.
      out.v = value.ToString();
      break;
  }
  return out;
}

namespace {

template <typename T, typename Convert>
void ConvertFlat(duckdb::Vector& vector, size_t count, std::vector<std::vector<Value>>& rows,
                 size_t first_row, size_t col, Convert convert) {
  duckdb::UnifiedVectorFormat format;
  vector.ToUnifiedFormat(count, format);
  const T* data = duckdb::UnifiedVectorFormat::GetData<T>(format);
  for (size_t i = 0; i < count; ++i) {
    auto idx = format.sel->get_index(i);
    Value& out = rows[first_row + i][col];
    if (format.validity.RowIsValid(idx)) out.v = convert(data[idx]);
  }
}

void ConvertColumn(duckdb::Vector& vector, size_t count, std::vector<std::vector<Value>>& rows,
                   size_t first_row, size_t col) {
  const LogicalType& type = vector.GetType();
  auto as_i64 = [](auto x) { return static_cast<int64_t>(x); };
  auto as_u64 = [](auto x) { return static_cast<uint64_t>(x); };
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN:
      return ConvertFlat<bool>(vector, count, rows, first_row, col, [](bool b) { return b; });
    case LogicalTypeId::TINYINT:
      return ConvertFlat<int8_t>(vector, count, rows, first_row, col, as_i64);
    case LogicalTypeId::SMALLINT:
      return ConvertFlat<int16_t>(vector, count, rows, first_row, col, as_i64);
    case LogicalTypeId::INTEGER:
      return ConvertFlat<int32_t>(vector, count, rows, first_row, col, as_i64);
    case LogicalTypeId::DATE:
      return ConvertFlat<duckdb::date_t>(vector, count, rows, first_row, col,
                                         [](duckdb::date_t d) { return int64_t{d.days}; });
    case LogicalTypeId::BIGINT:
      return ConvertFlat<int64_t>(vector, count, rows, first_row, col, as_i64);
    case LogicalTypeId::TIME:
      return ConvertFlat<duckdb::dtime_t>(vector, count, rows, first_row, col,
                                          [](duckdb::dtime_t t) { return int64_t{t.micros}; });
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_TZ:
    case LogicalTypeId::TIMESTAMP_SEC:
    case LogicalTypeId::TIMESTAMP_MS:
    case LogicalTypeId::TIMESTAMP_NS: {
      LogicalTypeId id = type.id();
      return ConvertFlat<int64_t>(vector, count, rows, first_row, col,
                                  [id](int64_t t) { return TimestampToMicros(id, t); });
    }
    case LogicalTypeId::UTINYINT:
      return ConvertFlat<uint8_t>(vector, count, rows, first_row, col, as_u64);
    case LogicalTypeId::USMALLINT:
      return ConvertFlat<uint16_t>(vector, count, rows, first_row, col, as_u64);
    case LogicalTypeId::UINTEGER:
      return ConvertFlat<uint32_t>(vector, count, rows, first_row, col, as_u64);
    case LogicalTypeId::UBIGINT:
      return ConvertFlat<uint64_t>(vector, count, rows, first_row, col, as_u64);
    case LogicalTypeId::HUGEINT:
      return ConvertFlat<duckdb::hugeint_t>(vector, count, rows, first_row, col, HugeintToInt128);
    case LogicalTypeId::FLOAT:
      return ConvertFlat<float>(vector, count, rows, first_row, col,
                                [](float f) { return double{f}; });
    case LogicalTypeId::DOUBLE:
      return ConvertFlat<double>(vector, count, rows, first_row, col, [](double d) { return d; });
    case LogicalTypeId::DECIMAL:
      switch (type.InternalType()) {
        case duckdb::PhysicalType::INT16:
          return ConvertFlat<int16_t>(vector, count, rows, first_row, col, as_i64);
        case duckdb::PhysicalType::INT32:
          return ConvertFlat<int32_t>(vector, count, rows, first_row, col, as_i64);
        case duckdb::PhysicalType::INT64:
          return ConvertFlat<int64_t>(vector, count, rows, first_row, col, as_i64);
        default:
          return ConvertFlat<duckdb::hugeint_t>(vector, count, rows, first_row, col,
                                                HugeintToInt128);
      }
    case LogicalTypeId::VARCHAR:
    case LogicalTypeId::BLOB:
      return ConvertFlat<duckdb::string_t>(
          vector, count, rows, first_row, col,
          [](const duckdb::string_t& s) { return std::string(s.GetData(), s.GetSize()); });
    default:
      for (size_t i = 0; i < count; ++i) {
        rows[first_row + i][col] = ToLakeValue(vector.GetValue(i), type);
      }
      return;
  }
}

}  // namespace

void AppendChunkRows(duckdb::DataChunk& chunk, std::vector<std::vector<Value>>& rows) {
  size_t count = chunk.size();
  size_t first_row = rows.size();
  rows.resize(first_row + count, std::vector<Value>(chunk.ColumnCount()));
  for (size_t col = 0; col < chunk.ColumnCount(); ++col) {
    ConvertColumn(chunk.data[col], count, rows, first_row, col);
  }
}

namespace {

std::vector<ResultColumn> ResultColumns(const duckdb::QueryResult& result) {
  std::vector<ResultColumn> columns;
  columns.reserve(result.names.size());
  for (size_t i = 0; i < result.names.size(); ++i) {
    columns.push_back(ResultColumn{result.names[i], ToColumnType(result.types[i])});
  }
  return columns;
}

class SessionImpl final : public Session {
 public:
  explicit SessionImpl(duckdb::DuckDB& db) : conn_(db) {}
  explicit SessionImpl(duckdb::DatabaseInstance& db) : conn_(db) {}

  Result<ResultTable> Query(std::string_view sql) override {
    ResultTable table;
    Status status = CatchAll([&]() -> Status {
      auto statements = ExtractStatements(std::string(sql));
      for (size_t i = 0; i < statements.size(); ++i) {
        auto result = conn_.Query(std::move(statements[i]));
        if (result->HasError()) return StatusFromError(result->GetErrorObject());
        if (i + 1 < statements.size()) continue;
        table.columns = ResultColumns(*result);
        while (auto chunk = result->Fetch()) {
          if (chunk->size() == 0) break;
          AppendChunkRows(*chunk, table.rows);
        }
        if (result->HasError()) return StatusFromError(result->GetErrorObject());
      }
      return Status::OK();
    });
    if (!status.ok()) return status;
    return table;
  }

  Status QueryStreaming(std::string_view sql, RowSink& sink) override {
    return CatchAll([&]() -> Status {
      auto statements = ExtractStatements(std::string(sql));
      if (statements.empty()) {
        LAKE_RETURN_IF_ERROR(sink.Begin({}));
        return sink.End();
      }
      for (size_t i = 0; i + 1 < statements.size(); ++i) {
        auto result = conn_.Query(std::move(statements[i]));
        if (result->HasError()) return StatusFromError(result->GetErrorObject());
      }
      auto pending = conn_.PendingQuery(std::move(statements.back()), /*allow_stream_result=*/true);
      if (pending->HasError()) return StatusFromError(pending->GetErrorObject());
      auto result = pending->Execute();
      if (result->HasError()) return StatusFromError(result->GetErrorObject());
      LAKE_RETURN_IF_ERROR(sink.Begin(ResultColumns(*result)));
      std::vector<std::vector<Value>> rows;
      while (true) {
        auto chunk = result->Fetch();
        if (result->HasError()) return StatusFromError(result->GetErrorObject());
        if (!chunk || chunk->size() == 0) break;
        rows.clear();
        AppendChunkRows(*chunk, rows);
        // A sink error (e.g. a closed pipe) ends the query; the result's destructor
        // cancels the rest of the pipeline.
        LAKE_RETURN_IF_ERROR(sink.Rows(rows));
      }
      return sink.End();
    });
  }

  void Interrupt() override { conn_.Interrupt(); }

 private:
  // DuckDB's transformer throws NOT_IMPLEMENTED for ALTER TABLE ... ADD/DROP CONSTRAINT
  // before parser extensions see the statement; lake's DDL takes those (spark_ddl.h).
  duckdb::vector<duckdb::unique_ptr<duckdb::SQLStatement>> ExtractStatements(
      const std::string& sql) {
    duckdb::vector<duckdb::unique_ptr<duckdb::SQLStatement>> statements;
    try {
      statements = conn_.ExtractStatements(sql);
    } catch (const std::exception&) {
      std::optional<std::string> rewritten = internal::RewriteDdlDuckDbRejects(sql);
      if (!rewritten) throw;
      statements = conn_.ExtractStatements(*rewritten);
    }
    // DuckDB parses and binds `VACUUM t` itself, then fails on a lake table at execution.
    // MERGE INTO a lake table gets Spark's meaning of its star forms (lake_merge.h).
    for (auto& statement : statements) {
      internal::PrepareLakeMerge(*conn_.context, *statement, /*schema_evolution=*/false,
                                 /*inside_query=*/false);
      if (std::optional<std::string> vacuum = internal::LakeVacuumFor(*conn_.context, *statement)) {
        statement = std::move(conn_.ExtractStatements(*vacuum)[0]);
      }
    }
    return statements;
  }

  duckdb::Connection conn_;
};

}  // namespace

std::unique_ptr<Session> NewSession(duckdb::DatabaseInstance& db) {
  return std::make_unique<SessionImpl>(db);
}

Result<std::unique_ptr<Session>> DatabaseImpl::Connect() {
  std::unique_ptr<SessionImpl> session;
  LAKE_RETURN_IF_ERROR(CatchAll([&] { session = std::make_unique<SessionImpl>(*db_); }));
  if (!session_setup_.empty()) {
    Result<ResultTable> setup = session->Query(session_setup_);
    if (!setup.ok()) return setup.status().WithContext("starting a session");
  }
  return std::unique_ptr<Session>(std::move(session));
}

std::string DatabaseImpl::engine_version() const {
  return StrCat(duckdb::DuckDB::LibraryVersion(), " (", duckdb::DuckDB::SourceID(), ")");
}

}  // namespace internal

Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  std::string source_id = duckdb::DuckDB::SourceID();
  if (source_id != LAKE_DUCKDB_SOURCE_ID) {
    return Status::FailedPrecondition(StrCat("the loaded libduckdb is build ", source_id, " (",
                                             duckdb::DuckDB::LibraryVersion(),
                                             "), but lake was built for ", LAKE_DUCKDB_SOURCE_ID))
        .WithHint("use the libduckdb.so lake was built with (check LD_LIBRARY_PATH), or rebuild");
  }
  if (options.snapshot_cache_entries && *options.snapshot_cache_entries < 0) {
    return Status::InvalidArgument(StrCat("snapshot_cache_entries must be at least 0, got ",
                                          *options.snapshot_cache_entries));
  }
  if (options.threads && *options.threads < 1) {
    return Status::InvalidArgument(StrCat("threads must be at least 1, got ", *options.threads));
  }
  std::unique_ptr<duckdb::DuckDB> db;
  Status status = internal::CatchAll([&] {
    duckdb::DBConfig config;
    if (options.threads)
      config.options.maximum_threads = static_cast<duckdb::idx_t>(*options.threads);
    if (options.memory_limit)
      config.SetOptionByName("memory_limit", duckdb::Value(*options.memory_limit));
    if (options.temp_directory) {
      config.SetOptionByName("temp_directory", duckdb::Value(*options.temp_directory));
    }
    // Nothing can be downloaded here and lake carries what it needs (§1).
    config.options.autoinstall_known_extensions = false;
    config.options.autoload_known_extensions = false;
    db = std::make_unique<duckdb::DuckDB>(nullptr, &config);
    // Delta timestamps are UTC instants; files with zone-less timestamps (INT96, Spark's
    // legacy encoding) are cast to TIMESTAMPTZ by the scan, which must read them as UTC, not
    // as the machine's local zone. Sessions may still SET TimeZone for display.
    duckdb::Connection setup(*db);
    auto tz = setup.Query("SET GLOBAL TimeZone = 'UTC'");
    if (tz->HasError()) tz->ThrowError();
    internal::SnapshotCacheOptions cache_options;
    if (options.snapshot_cache_entries) {
      cache_options.max_entries = static_cast<size_t>(*options.snapshot_cache_entries);
    }
    internal::SnapshotCache::Install(*db->instance, cache_options);
    internal::RegisterDeltaScan(*db->instance);
    internal::RegisterLakeSql(*db->instance);
    if (options.table_directory) {
      internal::RegisterLakeCatalog(*db->instance, options.table_directory);
      auto attach = setup.Query(StrCat("ATTACH 'lake' AS ", internal::kLakeCatalogName,
                                       " (TYPE ", internal::kLakeCatalogType, ")"));
      if (attach->HasError()) attach->ThrowError();
    }
  });
  if (!status.ok()) {
    return Status(status.code(), StrCat("opening the DuckDB engine: ", status.message()))
        .WithHint(status.hint().empty()
                      ? "check the threads / memory_limit / temp_directory settings"
                      : status.hint());
  }
  // USE is per connection (DuckDB's search path lives in the client context), so every
  // session starts with it; a quoted name, since DEFAULT is a keyword.
  std::string session_setup;
  if (options.table_directory) {
    std::string schema = options.table_directory->default_schema();
    std::string quoted;
    for (char c : schema) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    session_setup = StrCat("USE ", internal::kLakeCatalogName, ".\"", quoted, "\"");
  }
  return std::unique_ptr<Database>(
      std::make_unique<internal::DatabaseImpl>(std::move(db), std::move(session_setup)));
}

}  // namespace lake::engine
