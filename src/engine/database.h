// lake's engine API: a SQL database that knows Delta tables, with no DuckDB type in sight.
// Everything above the engine layer (sql, cli, later server/streaming) talks to this.
//
// Database is thread-safe; a Session is single-threaded (one per thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"
#include "engine/table_directory.h"

namespace lake::engine {

// A column type of a query result.
struct ColumnType {
  enum class Kind {
    kNull, kBoolean, kTinyInt, kSmallInt, kInteger, kBigInt, kHugeInt, kUTinyInt, kUSmallInt,
    kUInteger, kUBigInt, kFloat, kDouble, kDecimal, kVarchar, kBlob, kDate, kTime,
    kTimestamp,    // timestamp without zone (Delta timestamp_ntz)
    kTimestampTz,  // UTC instant (Delta timestamp)
    kInterval, kUuid, kList, kStruct, kMap, kOther,
  };
  Kind kind = Kind::kNull;
  int precision = 0, scale = 0;  // decimal
  std::vector<std::pair<std::string, ColumnType>> children;  // struct fields; list: 1 (element); map: 2 (key, value)
  std::string name;  // the engine's type name, e.g. "DECIMAL(10,2)"
};

struct Value;
using ValueList = std::vector<Value>;
using ValueStruct = std::vector<std::pair<std::string, Value>>;
using ValueMap = std::vector<std::pair<Value, Value>>;

// One result value. Integers: int64 (or uint64 for UBIGINT, __int128 for HUGEINT); DECIMAL:
// unscaled integer with the column's scale; DATE days since epoch; TIME micros since
// midnight; TIMESTAMP(TZ) micros since epoch; VARCHAR/BLOB raw bytes in `string`.
struct Value {
  using Storage = std::variant<std::monostate, bool, int64_t, uint64_t, __int128, double,
                               std::string, std::shared_ptr<ValueList>,
                               std::shared_ptr<ValueStruct>, std::shared_ptr<ValueMap>>;
  Storage v;
  bool is_null() const { return std::holds_alternative<std::monostate>(v); }
};

struct ResultColumn {
  std::string name;
  ColumnType type;
};

// A fully materialized result.
struct ResultTable {
  std::vector<ResultColumn> columns;
  std::vector<std::vector<Value>> rows;
};

// Receives a streamed result: columns once, then rows in batches.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual Status Begin(const std::vector<ResultColumn>& columns) = 0;
  virtual Status Rows(const std::vector<std::vector<Value>>& rows) = 0;
  virtual Status End() = 0;
};

struct DatabaseOptions {
  std::optional<int> threads;               // default: all cores
  std::optional<std::string> memory_limit;  // e.g. "8GB"; default: DuckDB's (80% of RAM)
  std::optional<std::string> temp_directory;
  // Most Delta snapshots kept for reuse by later queries (latest and pinned versions); 0
  // turns the cache off. Default 8, and at most 4M data files in total beyond the newest.
  std::optional<int> snapshot_cache_entries;
  // Tables by name. When set, the database attaches a catalog `lake` over it and every
  // session starts in `lake.<default schema>`, so `t`, `sales.t` and `lake.sales.t` resolve
  // through the directory (docs/catalog.md). Unset: paths only (delta.`/path`).
  std::shared_ptr<TableDirectory> table_directory;
};

class Session {
 public:
  virtual ~Session() = default;
  // Runs one or more ';'-separated statements; returns the last statement's result.
  virtual Result<ResultTable> Query(std::string_view sql) = 0;
  // Runs statements, streaming the last one's rows into `sink`.
  virtual Status QueryStreaming(std::string_view sql, RowSink& sink) = 0;
  // Interrupts the running query from another thread (Ctrl-C).
  virtual void Interrupt() = 0;
};

class Database {
 public:
  virtual ~Database() = default;
  // Opens an in-process database with lake's functions and SQL syntax registered; checks
  // that the loaded libduckdb is the pinned build (kFailedPrecondition otherwise).
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options = {});
  virtual Result<std::unique_ptr<Session>> Connect() = 0;
  // "v1.4.4 (6ddac802ff)"
  virtual std::string engine_version() const = 0;
};

}  // namespace lake::engine
