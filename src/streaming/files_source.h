// The landing folder source (Auto Loader style): JSON (newline-delimited), CSV (with a header)
// and Parquet files arriving anywhere under a folder are each read exactly once.
//
// Design notes (docs/streaming.md "Landing folder source").
//  (1) File index: sources/<i>/files.db in the checkpoint, a SQLite table of every file the
//      stream has taken (path, size, mtime, batch id, committed). The checkpoint must be a
//      local folder for it (kNotSupported otherwise).
//  (2) Planning batch N lists the folder, drops index rows of batches >= N (planned by a run
//      that died before writing offsets/N), and records the next files -- oldest modification
//      time first, then path; at most maxFilesPerTrigger / maxBytesPerTrigger -- under batch
//      N in one SQLite transaction, before the query writes offsets/N = {"logOffset":N}. So
//      offsets/N names exactly the files of batch N, and a re-run reads the same files.
//  (3) A file is taken once: a later change to it (same path) is not read again. Writers
//      should move finished files into the folder (a rename), never write them in place;
//      names starting with '.' or '_' (in any folder of the path) are ignored.
//  (4) Schema: inferred from the first batch's files (JSON/CSV columns as strings unless
//      inferColumnTypes; Parquet's own types) and kept as "v1\n<Delta schema JSON>" in
//      <schemaLocation>/_schemas/<n>, n growing with each evolution; the highest n is read.
//  (5) schemaEvolutionMode, when a batch's files have columns the schema lacks:
//        addNewColumns (default)  write _schemas/<n+1> with them and stop with kUnavailable;
//                                 the restarted query reads on (the batch re-runs) with them
//        rescue                   the schema never changes; they go to _rescued_data
//        failOnNewColumns         stop with kFailedPrecondition, on every restart
//        none                     they are ignored
//      In addNewColumns and rescue mode the rows carry `_rescued_data` (string): a JSON object
//      of the values that did not fit (new columns, values not castable to the column's type)
//      and "_file_path"; NULL when everything fit. In the other modes a value that does not
//      cast fails the batch.
//  (6) With include_metadata the rows carry `_metadata` struct<file_path string,
//      file_modification_time timestamp, file_size long>.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "delta/schema.h"
#include "streaming/source.h"

struct sqlite3;

namespace lake::streaming {

enum class FileFormat { kJson, kCsv, kParquet };
enum class SchemaEvolutionMode { kAddNewColumns, kRescue, kFailOnNewColumns, kNone };

// Parse "json" / "csv" / "parquet" and "addNewColumns" / "rescue" / "failOnNewColumns" /
// "none" (case-insensitive); kInvalidArgument naming the choices otherwise.
Result<FileFormat> ParseFileFormat(std::string_view text);
Result<SchemaEvolutionMode> ParseSchemaEvolutionMode(std::string_view text);

inline constexpr std::string_view kRescuedDataColumn = "_rescued_data";

struct FilesSourceOptions {
  std::string path;  // the landing folder (local)
  FileFormat format = FileFormat::kJson;
  // Where schemas are kept; default: the source's folder in the checkpoint.
  std::optional<std::string> schema_location;
  SchemaEvolutionMode schema_evolution_mode = SchemaEvolutionMode::kAddNewColumns;
  bool infer_column_types = false;
  bool include_metadata = false;
  std::optional<int64_t> max_files_per_trigger = 1000;
  std::optional<int64_t> max_bytes_per_trigger;
};

class FilesSource : public Source {
 public:
  explicit FilesSource(FilesSourceOptions options);
  ~FilesSource() override;
  std::string description() const override;
  Status Open(const SourceContext& context) override;
  ReadLimit DefaultReadLimit() const override;
  Status PrepareForAvailableNow() override;
  Result<std::optional<std::string>> LatestOffset(const std::optional<std::string>& start,
                                                  const ReadLimit& limit, BatchId batch) override;
  Result<int64_t> GetBatch(engine::Session& session, const std::optional<std::string>& start,
                           const std::string& end, BatchId batch, std::string_view table) override;
  Status Commit(BatchId batch, const std::string& end) override;

  // The schema the stream reads with (empty until the first files arrive) and its number.
  const delta::Schema& schema() const { return schema_; }
  std::optional<int64_t> schema_version() const { return schema_version_; }

 private:
  struct FileEntry {
    std::string key;  // relative to the landing folder
    int64_t size = 0;
    int64_t mtime_ms = 0;
  };
  Result<std::vector<FileEntry>> ListFolder();
  Status LoadSchema();
  Status WriteSchema(int64_t version, const delta::Schema& schema);
  Status InferSchema(engine::Session& session, const std::vector<FileEntry>& files);
  std::string ReaderSql(const std::vector<FileEntry>& files) const;
  Status Exec(std::string_view sql);

  FilesSourceOptions options_;
  SourceContext context_;
  std::unique_ptr<storage::ObjectStore> folder_;
  std::unique_ptr<storage::ObjectStore> schema_store_;  // null: the checkpoint store
  std::string schema_prefix_;                           // "<...>/_schemas/"
  sqlite3* index_ = nullptr;
  std::string index_path_;
  delta::Schema schema_;
  std::optional<int64_t> schema_version_;
  std::optional<std::set<std::string>> available_now_files_;
};

}  // namespace lake::streaming
