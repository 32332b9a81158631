// Streams defined in SQL and kept in the lake home (issue #5 §1 "CLI and SQL";
// docs/streaming.md "Streams in SQL"):
//
//   CREATE STREAM s [OPTIONS (key = 'value', ...)]
//     AS INSERT INTO <target> SELECT ... FROM STREAM <source> [...]
//   SHOW STREAMS
//   DROP STREAM [IF EXISTS] s
//
// <target> is a table name ([schema.]table, registered in the home) or
// delta.`/path`; <source> is read_files('<dir>' [, format =>
// 'json'|'csv'|'parquet']) (a landing folder, files_source.h), a Delta table by
// name, or delta.`/path` (delta_source.h). The SELECT runs over each
// micro-batch: `STREAM <source>` becomes the batch table. Options: trigger
// (default availableNow), maxFilesPerTrigger, maxBytesPerTrigger,
// schemaEvolutionMode, inferColumnTypes (default true), mergeSchema,
// startingVersion, ignoreDeletes, skipChangeCommits; any other is refused.
//
// A stream lives in <home>/streams/<name>/: stream.json (the definition; a
// landing folder is stored as an absolute path), checkpoint/ (the query's
// checkpoint, query.h) and `pid` while `lake stream start` runs it.
// Thread-safety: functions are independent; StreamStore is not meant for
// concurrent CREATE / DROP of one name (the folder's creation is the claim).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "engine/database.h"
#include "sql/lakehouse.h"
#include "streaming/query.h"

namespace lake::streaming {

struct StreamSourceSpec {
  enum class Kind { kFiles, kDeltaTable, kDeltaPath };
  Kind kind = Kind::kFiles;
  std::string
      location;      // kFiles: folder (absolute once stored); kDeltaPath: path
  std::string table; // kDeltaTable: [schema.]name as written
  std::string format = "json"; // kFiles
};

struct StreamDefinition {
  std::string name;
  std::map<std::string, std::string> options; // keys lowercased
  std::string target; // as written: [schema.]table, or delta.`/path`
  StreamSourceSpec source;
  std::string transformation; // the SELECT over the batch table `batch`
  std::string sql;            // the CREATE STREAM text
};

struct ShowStreams {};
struct DropStream {
  std::string name;
  bool if_exists = false;
};
using StreamStatement = std::variant<StreamDefinition, ShowStreams, DropStream>;

// Parses a stream statement. nullopt: `sql` is not one (any other statement);
// kInvalidArgument naming the position and the expected word for a malformed
// one.
Result<std::optional<StreamStatement>>
ParseStreamStatement(std::string_view sql);

// The streams of one lake home.
class StreamStore {
public:
  explicit StreamStore(std::string home);
  std::string folder(std::string_view name) const;
  std::string checkpoint(std::string_view name) const {
    return folder(name) + "/checkpoint";
  }
  std::string pidfile(std::string_view name) const {
    return folder(name) + "/pid";
  }
  // kAlreadyExists when a stream of that name exists.
  Status Create(const StreamDefinition &definition);
  // kNotFound naming the stream and SHOW STREAMS.
  Result<StreamDefinition> Get(std::string_view name) const;
  Result<std::vector<StreamDefinition>> List() const;
  // Removes the definition and its checkpoint. kFailedPrecondition while it
  // runs (pidfile of a live process); kNotFound unless if_exists.
  Status Drop(std::string_view name, bool if_exists);
  // The pid in the pidfile when that process is alive, else nullopt.
  std::optional<int> RunningPid(std::string_view name) const;

private:
  std::string root_; // <home>/streams
};

// Runs a stream statement on the home of `house`; nullopt when `sql` is not
// one. CREATE STREAM checks that the target and a table source exist.
Result<std::optional<engine::ResultTable>>
ExecuteStreamStatement(sql::Lakehouse &house, std::string_view sql);

// Opens the streaming query of a stored stream: its source, a Delta sink
// (append, exactly once) into the target's location, its checkpoint.
// `options.trigger` is used when `trigger_override` is set, else the stream's
// `trigger` option (default availableNow).
Result<std::unique_ptr<StreamingQuery>>
OpenStream(sql::Lakehouse &house, const StreamDefinition &definition,
           QueryOptions options, bool trigger_override);

} // namespace lake::streaming
