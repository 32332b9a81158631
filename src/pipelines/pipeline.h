// A declarative pipeline (issue #5 §2): a folder of .sql files, each holding
// `CREATE OR REFRESH STREAMING TABLE` / `MATERIALIZED VIEW` statements, plus an optional
// pipeline.yml. This header is the parsed form and the DAG; runner.h runs it.
//
// Design notes (docs/pipelines.md).
//  (1) Datasets live in the pipeline's own namespace: an unqualified name after FROM / JOIN,
//      inside STREAM(...), or with the legacy LIVE. prefix, is a reference to a dataset of the
//      pipeline and must exist (kInvalidArgument naming the file and dataset otherwise).
//      Qualified names (schema.t, delta.`/path`) and table functions are outside the DAG.
//  (2) A streaming table reads exactly one streaming source: STREAM read_files('<dir>', ...)
//      (a landing folder; a relative dir is relative to the pipeline folder) or STREAM(name)
//      (another dataset's Delta table). Its other references are read whole at each batch.
//  (3) A materialized view reads its references whole; STREAM there is refused.
//  (4) The DAG must be acyclic; the run order is a topological order, ties broken by the
//      order the statements appear (files in name order), so runs are reproducible.
// Thread-safety: plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lake::pipelines {

struct Expectation {
  enum class Action { kWarn, kDrop, kFail };  // default keep-and-count; DROP ROW; FAIL UPDATE
  std::string name;
  std::string condition;  // SQL boolean expression over the dataset's output columns
  Action action = Action::kWarn;
};

std::string_view ActionName(Expectation::Action action);  // "warn", "drop", "fail"

struct StreamSource {
  enum class Kind { kFiles, kDataset };
  Kind kind = Kind::kFiles;
  std::string path;                           // kFiles: the landing folder, absolute
  std::map<std::string, std::string> options;  // kFiles: read_files' named arguments, lowercased
  std::string dataset;                        // kDataset: the dataset streamed from
};

struct Dataset {
  enum class Kind { kStreamingTable, kMaterializedView };
  Kind kind = Kind::kStreamingTable;
  std::string name;  // lower case: SQL names are case-insensitive
  std::string file;  // the .sql file it came from (for messages)
  std::vector<Expectation> expectations;
  // The SELECT with the streaming source replaced by kBatchTable and LIVE. prefixes removed;
  // references stay as names (the runner binds them to temporary views).
  std::string select_sql;
  std::optional<StreamSource> stream;  // streaming tables only
  std::vector<std::string> references;  // every dataset read, incl. the stream source, sorted
};

std::string_view KindName(Dataset::Kind kind);  // "streaming_table", "materialized_view"

// The name the streaming source has in a streaming table's select_sql.
inline constexpr std::string_view kBatchTable = "__lake_pipeline_batch";

struct Pipeline {
  std::string dir;   // the pipeline folder, absolute
  std::string name;  // pipeline.yml `name`, else the folder's name
  std::optional<std::string> target;          // pipeline.yml `target` (schema)
  std::string storage;                        // pipeline.yml `storage`, else <dir>/.pipeline
  std::map<std::string, std::string> configuration;  // ${key} substitutions in the SQL
  std::vector<Dataset> datasets;              // in statement order
  std::vector<std::string> order;             // a topological order (note 4)

  const Dataset* Find(std::string_view name) const;
  // Where things live under `storage` (docs/pipelines.md "Storage").
  std::string TablePath(std::string_view dataset) const;
  std::string CheckpointPath(std::string_view dataset) const;
  std::string EventLogPath() const;
};

// Parses the statements of one .sql file (`file` names it in messages). `base_dir` resolves
// relative read_files folders. Errors: kInvalidArgument (syntax, naming the file and the
// statement), kNotSupported (a statement kind lake does not run yet, e.g. AUTO CDC).
Result<std::vector<Dataset>> ParseSqlFile(std::string_view text, std::string_view file,
                                          std::string_view base_dir);

// Checks references (note 1) and cycles (note 4); returns the run order. Errors name the
// dataset and file: kInvalidArgument for an unknown reference, a duplicate name or a cycle
// (the cycle is spelled out, e.g. "a -> b -> a").
Result<std::vector<std::string>> ResolveOrder(const std::vector<Dataset>& datasets);

// Reads pipeline.yml (optional) and every *.sql file directly in `dir` (name order), then
// resolves the DAG. kNotFound when `dir` is not a folder or holds no .sql file.
Result<Pipeline> LoadPipeline(std::string_view dir);

}  // namespace lake::pipelines
