// Delta log actions (PROTOCOL.md "Actions"), as plain values. Parsed from JSON commits by
// log_parser.h and from Parquet checkpoints by the Engine's CheckpointReader. Unknown
// actions and fields are ignored on read (PROTOCOL.md "Protocol Evolution").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lake::delta {

using Version = int64_t;

// partitionValues: column (physical name) -> serialized value; nullopt is JSON null.
using PartitionValues = std::vector<std::pair<std::string, std::optional<std::string>>>;
using StringMap = std::map<std::string, std::string>;

struct Protocol {
  int32_t min_reader_version = 1;
  int32_t min_writer_version = 2;
  std::optional<std::vector<std::string>> reader_features;  // only with reader version 3
  std::optional<std::vector<std::string>> writer_features;  // only with writer version 7
};

struct Format {
  std::string provider = "parquet";
  StringMap options;
};

struct Metadata {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  Format format;
  std::string schema_string;
  std::vector<std::string> partition_columns;
  StringMap configuration;
  std::optional<int64_t> created_time;
};

// PROTOCOL.md "Deletion Vector Descriptor".
struct DeletionVectorDescriptor {
  char storage_type = 'u';          // 'u' relative UUID path, 'i' inline, 'p' absolute path
  std::string path_or_inline_dv;
  std::optional<int32_t> offset;    // absent for inline
  int32_t size_in_bytes = 0;
  int64_t cardinality = 0;
  std::optional<int64_t> max_row_index;

  // storageType + pathOrInlineDv (+ "@" offset when present): part of the file key.
  std::string UniqueId() const;
};

struct AddFile {
  std::string path;  // as written in the log: a URI, relative or absolute, percent-encoded
  PartitionValues partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;
  bool data_change = true;
  std::optional<std::string> stats;  // the JSON statistics string
  StringMap tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  std::optional<std::string> clustering_provider;
};

struct RemoveFile {
  std::string path;
  std::optional<int64_t> deletion_timestamp;
  bool data_change = true;
  std::optional<bool> extended_file_metadata;
  std::optional<PartitionValues> partition_values;
  std::optional<int64_t> size;
  std::optional<std::string> stats;
  StringMap tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
};

struct AddCdcFile {
  std::string path;
  PartitionValues partition_values;
  int64_t size = 0;
  bool data_change = false;
  StringMap tags;
};

struct Txn {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated;
};

// commitInfo is free-form; the fields lake uses are pulled out, the rest kept as raw JSON.
struct CommitInfo {
  std::optional<int64_t> timestamp;
  std::optional<int64_t> in_commit_timestamp;
  std::optional<std::string> operation;
  std::string operation_parameters_json = "{}";  // raw JSON object
  std::string operation_metrics_json = "{}";     // raw JSON object
  std::optional<std::string> engine_info;
  std::optional<bool> is_blind_append;
  std::optional<int64_t> read_version;
  std::optional<std::string> isolation_level;
  std::optional<std::string> txn_id;
  std::string raw_json;  // the whole commitInfo object
};

struct DomainMetadata {
  std::string domain;
  std::string configuration;
  bool removed = false;
};

struct CheckpointMetadata {
  Version version = 0;
  StringMap tags;
};

struct Sidecar {
  std::string path;  // relative to _delta_log/_sidecars/ (or absolute URI)
  int64_t size_in_bytes = 0;
  int64_t modification_time = 0;
  StringMap tags;
};

// The actions of one log file (a commit, a checkpoint part, a sidecar, a compaction), in
// file order per kind. Order across kinds carries no meaning within one commit.
struct ActionBatch {
  std::vector<Protocol> protocols;
  std::vector<Metadata> metadata;
  std::vector<AddFile> adds;
  std::vector<RemoveFile> removes;
  std::vector<AddCdcFile> cdcs;
  std::vector<Txn> txns;
  std::vector<CommitInfo> commit_infos;
  std::vector<DomainMetadata> domain_metadata;
  std::vector<CheckpointMetadata> checkpoint_metadata;
  std::vector<Sidecar> sidecars;
};

}  // namespace lake::delta
