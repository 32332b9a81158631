// CheckpointWriter on DuckDB's Parquet writer (PROTOCOL.md "Checkpoint Schema").
//
// Design notes.
//  (1) No SQL and no per-row Values: the rows are built as DataChunks straight from the
//      snapshot's actions and handed to the Parquet copy function of DuckDB's catalog (the one
//      `COPY ... TO (FORMAT parquet)` binds) through its batch interface: prepare_batch encodes
//      one row group, flush_batch appends a prepared row group to the file. Nothing of the
//      whole checkpoint is materialised: at any time only the row groups in flight exist.
//  (2) Parallel and ordered: N workers (DuckDB's thread count) claim row groups by number,
//      fill and prepare them independently; prepared groups are flushed strictly in number
//      order by whichever worker holds the next one, so the file's rows are in action order
//      whatever the timing. A worker claims group g only while g < next_flush + 8N: at most N
//      groups are being filled and encoded (their rows, ~8 MB each on the bench's table) and
//      the others wait as encoded, compressed pages (~1 MB each), which bounds the writer's
//      memory. The wide window keeps a worker busy while another is descheduled or slow.
//  (3) The parsed forms are built here from lake's own parsers, not SQL: add.stats_parsed by
//      delta::StatsStructParser (lenient like Spark's from_json: a field that does not parse
//      is NULL, malformed stats are a NULL struct, never a failed checkpoint);
//      add.partitionValues_parsed by delta::ParsePartitionValue (a value that does not parse
//      is NULL, as Spark's non-ANSI cast gives; strings and binary are the value's bytes).
//  (4) Chunks of only add rows (nearly all of a big checkpoint) give the other action columns
//      as constant NULL vectors instead of 2048 null rows each, and null the optional add
//      fields none of their adds has (tags, deletionVector, ...) once for the whole chunk.
//      Measured (bench/checkpoint_bench.cc, 1M adds, 2 cores): ~1.7 s of CPU for the file,
//      about half of it in DuckDB's encoding, a fifth in parsing stats; peak RSS of load +
//      write 0.86 GiB, of which the writer's share is ~0.12 GiB.
//  (5) Atomic publication: for a LocalStore the file is written next to its final name as
//      ".<name>.tmp.<random>" (a name LocalStore listings skip), fsynced, renamed, and the
//      folder fsynced. Any other store gets a local temp file whose bytes go through
//      ObjectStore::Put, which is atomic by contract (and where FaultyStore injects faults).
//  (6) Errors: DuckDB throws; every worker catches into a Status (errors.h CatchAll), the
//      first error stops the others (they wake and leave) and is returned; the temp file is
//      removed, so the checkpoint is simply absent.
//  (7) Strings are not copied into the chunks: their string_t point into the snapshot's
//      actions (which outlive the write); appending a chunk to its row group's
//      ColumnDataCollection is the one copy. Only parsed values (stats_parsed strings) are
//      copied into the vector, since the parser's buffers are reused row after row.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "delta/literal.h"
#include "delta/stats_struct.h"
#include "duckdb/catalog/catalog_entry/copy_function_catalog_entry.hpp"
#include "duckdb/common/types/column/column_data_collection.hpp"
#include "duckdb/function/copy_function.hpp"
#include "duckdb/parallel/task_scheduler.hpp"
#include "duckdb/parser/parsed_data/copy_info.hpp"
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

// Rows per Parquet row group (one prepared batch). DuckDB's default (122,880) holds ~70 MB of
// a big checkpoint's adds per group in flight; 16,384 keeps the groups of note 2 small and
// readers do not mind.
constexpr idx_t kRowGroupRows = 16384;

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

// add with its optional trailing fields: stats (JSON), partitionValues_parsed, stats_parsed.
LogicalType AddType(bool with_stats, const std::optional<LogicalType>& partitions_parsed,
                    const std::optional<LogicalType>& stats_parsed) {
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
  if (partitions_parsed) fields.emplace_back("partitionValues_parsed", *partitions_parsed);
  if (stats_parsed) fields.emplace_back("stats_parsed", *stats_parsed);
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

// Sets a string the snapshot owns without copying it (note 7): the snapshot outlives the
// write, and the row group's ColumnDataCollection copies what it keeps.
void SetString(Vector& v, idx_t row, std::string_view s) {
  duckdb::FlatVector::GetData<string_t>(v)[row] =
      string_t(s.data(), static_cast<uint32_t>(s.size()));
}

// Sets a string that does not outlive this call (a parsed value): copied into the vector.
void CopyString(Vector& v, idx_t row, std::string_view s) {
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

// Sets rows [0, count) of `v` NULL all the way down at once: a column no row of a chunk uses.
void SetAllNullDeep(Vector& v, idx_t count) {
  duckdb::FlatVector::Validity(v).SetAllInvalid(count);
  switch (v.GetType().InternalType()) {
    case duckdb::PhysicalType::STRUCT:
      for (auto& child : duckdb::StructVector::GetEntries(v)) SetAllNullDeep(*child, count);
      break;
    case duckdb::PhysicalType::LIST: {
      list_entry_t* entries = duckdb::FlatVector::GetData<list_entry_t>(v);
      for (idx_t row = 0; row < count; ++row) entries[row] = list_entry_t(0, 0);
      break;
    }
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

// The optional fields of add that some add of a chunk has. The others are NULL in every row
// and are set so once per chunk (SetAllNullDeep), not row by row: most tables have no tags,
// deletion vectors, row tracking or clustering.
struct AddFieldsUsed {
  bool tags = true;
  bool deletion_vector = true;
  bool base_row_id = true;
  bool default_row_commit_version = true;
  bool clustering_provider = true;
  bool stats = true;
};

// Add fields by position (AddType).
enum AddField : idx_t {
  kAddPath = 0,
  kAddPartitionValues,
  kAddSize,
  kAddModificationTime,
  kAddDataChange,
  kAddTags,
  kAddDeletionVector,
  kAddBaseRowId,
  kAddDefaultRowCommitVersion,
  kAddClusteringProvider,
  kAddStats,  // when written as JSON
};

void WriteAdd(Vector& add, idx_t row, const delta::AddFile& a, bool with_stats,
              const AddFieldsUsed& used) {
  auto& f = duckdb::StructVector::GetEntries(add);
  SetString(*f[kAddPath], row, std::string_view(a.path));
  SetMap(*f[kAddPartitionValues], row, a.partition_values, /*null_if_empty=*/false);
  SetValue<int64_t>(*f[kAddSize], row, a.size);
  SetValue<int64_t>(*f[kAddModificationTime], row, a.modification_time);
  SetValue<bool>(*f[kAddDataChange], row, a.data_change);
  if (used.tags) SetMap(*f[kAddTags], row, a.tags, /*null_if_empty=*/true);
  if (used.deletion_vector) SetDeletionVector(*f[kAddDeletionVector], row, a.deletion_vector);
  if (used.base_row_id) SetValue<int64_t>(*f[kAddBaseRowId], row, a.base_row_id);
  if (used.default_row_commit_version) {
    SetValue<int64_t>(*f[kAddDefaultRowCommitVersion], row, a.default_row_commit_version);
  }
  if (used.clustering_provider) SetString(*f[kAddClusteringProvider], row, a.clustering_provider);
  if (with_stats && used.stats) SetString(*f[kAddStats], row, a.stats);
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

// --- Parsed statistics and partition values (note 3) --------------------------------------

// Returns the DuckDB type of a Delta type in stats_parsed / partitionValues_parsed.
Result<LogicalType> ParsedType(const delta::DataType& type) {
  using delta::TypeKind;
  switch (type.kind) {
    case TypeKind::kString: return LogicalType(LogicalType::VARCHAR);
    case TypeKind::kLong: return LogicalType(LogicalType::BIGINT);
    case TypeKind::kInteger: return LogicalType(LogicalType::INTEGER);
    case TypeKind::kShort: return LogicalType(LogicalType::SMALLINT);
    case TypeKind::kByte: return LogicalType(LogicalType::TINYINT);
    case TypeKind::kFloat: return LogicalType(LogicalType::FLOAT);
    case TypeKind::kDouble: return LogicalType(LogicalType::DOUBLE);
    case TypeKind::kDecimal:
      if (type.precision < 1 || type.precision > 38 || type.scale < 0 ||
          type.scale > type.precision) {
        break;
      }
      return LogicalType::DECIMAL(static_cast<uint8_t>(type.precision),
                                  static_cast<uint8_t>(type.scale));
    case TypeKind::kBoolean: return LogicalType(LogicalType::BOOLEAN);
    case TypeKind::kBinary: return LogicalType(LogicalType::BLOB);
    case TypeKind::kDate: return LogicalType(LogicalType::DATE);
    case TypeKind::kTimestamp: return LogicalType(LogicalType::TIMESTAMP_TZ);
    case TypeKind::kTimestampNtz: return LogicalType(LogicalType::TIMESTAMP);
    case TypeKind::kStruct: {
      duckdb::child_list_t<LogicalType> children;
      for (const delta::StructField& field : type.fields) {
        LAKE_ASSIGN_OR_RETURN(LogicalType child, ParsedType(field.type));
        children.emplace_back(field.name, std::move(child));
      }
      return LogicalType::STRUCT(std::move(children));
    }
    default:
      break;
  }
  return Status::NotSupported(StrCat("type ", type.ToString(),
                                     " in a checkpoint's parsed statistics or partition values"))
      .WithHint("set delta.checkpoint.writeStatsAsStruct = false on the table to checkpoint it "
                "without the typed columns");
}

// Writes a non-null literal of primitive `type` at `row`; NULL if the literal does not hold
// the alternative `type` parses to (which the delta parsers never produce).
void WriteLiteral(Vector& v, idx_t row, const delta::DataType& type, const delta::Literal& lit) {
  using delta::TypeKind;
  auto null = [&] { duckdb::FlatVector::SetNull(v, row, true); };
  switch (type.kind) {
    case TypeKind::kLong:
    case TypeKind::kInteger:
    case TypeKind::kShort:
    case TypeKind::kByte: {
      const int64_t* i = std::get_if<int64_t>(&lit);
      if (!i) return null();
      switch (type.kind) {
        case TypeKind::kLong: return SetValue<int64_t>(v, row, *i);
        case TypeKind::kInteger: return SetValue<int32_t>(v, row, static_cast<int32_t>(*i));
        case TypeKind::kShort: return SetValue<int16_t>(v, row, static_cast<int16_t>(*i));
        default: return SetValue<int8_t>(v, row, static_cast<int8_t>(*i));
      }
    }
    case TypeKind::kFloat:
    case TypeKind::kDouble: {
      const double* d = std::get_if<double>(&lit);
      if (!d) return null();
      if (type.kind == TypeKind::kDouble) return SetValue<double>(v, row, *d);
      return SetValue<float>(v, row, static_cast<float>(*d));
    }
    case TypeKind::kDecimal: {
      const delta::Decimal* d = std::get_if<delta::Decimal>(&lit);
      if (!d) return null();
      // DuckDB stores DECIMAL(p, s) in the narrowest integer holding p digits.
      switch (v.GetType().InternalType()) {
        case duckdb::PhysicalType::INT16:
          return SetValue<int16_t>(v, row, static_cast<int16_t>(d->unscaled));
        case duckdb::PhysicalType::INT32:
          return SetValue<int32_t>(v, row, static_cast<int32_t>(d->unscaled));
        case duckdb::PhysicalType::INT64:
          return SetValue<int64_t>(v, row, static_cast<int64_t>(d->unscaled));
        default: {
          duckdb::hugeint_t h;
          h.lower = static_cast<uint64_t>(d->unscaled);
          h.upper = static_cast<int64_t>(d->unscaled >> 64);
          return SetValue<duckdb::hugeint_t>(v, row, h);
        }
      }
    }
    case TypeKind::kBoolean: {
      const bool* b = std::get_if<bool>(&lit);
      return b ? SetValue<bool>(v, row, *b) : null();
    }
    case TypeKind::kDate: {
      const delta::Date* d = std::get_if<delta::Date>(&lit);
      return d ? SetValue<duckdb::date_t>(v, row, duckdb::date_t(d->days)) : null();
    }
    case TypeKind::kTimestamp: {
      const delta::Timestamp* t = std::get_if<delta::Timestamp>(&lit);
      return t ? SetValue<duckdb::timestamp_t>(v, row, duckdb::timestamp_t(t->micros)) : null();
    }
    case TypeKind::kTimestampNtz: {
      const delta::TimestampNtz* t = std::get_if<delta::TimestampNtz>(&lit);
      return t ? SetValue<duckdb::timestamp_t>(v, row, duckdb::timestamp_t(t->micros)) : null();
    }
    case TypeKind::kString: {
      const std::string* s = std::get_if<std::string>(&lit);
      return s ? CopyString(v, row, std::string_view(*s)) : null();
    }
    case TypeKind::kBinary: {
      const delta::Binary* b = std::get_if<delta::Binary>(&lit);
      if (!b) return null();
      duckdb::FlatVector::GetData<string_t>(v)[row] =
          duckdb::StringVector::AddStringOrBlob(v, b->bytes.data(), b->bytes.size());
      return;
    }
    default:
      return null();
  }
}

// Writes add.partitionValues_parsed at `row`: each partition column's value (looked up by its
// physical name, as map_extract_value would) parsed as the column's type.
void WritePartitionsParsed(Vector& parsed, idx_t row, const delta::Schema& schema,
                           const delta::PartitionValues& values) {
  auto& children = duckdb::StructVector::GetEntries(parsed);
  for (size_t field_idx = 0; field_idx < schema.fields.size(); ++field_idx) {
    const delta::StructField& field = schema.fields[field_idx];
    Vector& child = *children[field_idx];
    const std::optional<std::string>* value = nullptr;
    for (const auto& [key, v] : values) {
      if (key == field.name) {
        value = &v;
        break;
      }
    }
    if (!value || !value->has_value()) {
      duckdb::FlatVector::SetNull(child, row, true);
      continue;
    }
    const std::string& text = **value;
    if (field.type.kind == delta::TypeKind::kString) {
      SetString(child, row, std::string_view(text));  // "" stays "", as a cast to string keeps it
      continue;
    }
    if (field.type.kind == delta::TypeKind::kBinary) {
      duckdb::FlatVector::GetData<string_t>(child)[row] =
          duckdb::StringVector::AddStringOrBlob(child, text.data(), text.size());
      continue;
    }
    Result<delta::Literal> lit = delta::ParsePartitionValue(field.type, *value);
    if (!lit.ok() || delta::IsNull(*lit)) {
      duckdb::FlatVector::SetNull(child, row, true);
    } else {
      WriteLiteral(child, row, field.type, *lit);
    }
  }
}

// --- Rows ------------------------------------------------------------------------------------

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

// What one write needs, shared read-only by its workers.
struct Job {
  Job(const delta::CheckpointActions& a, const delta::CheckpointLayout& l)
      : actions(a), layout(l), rows(a) {}
  const delta::CheckpointActions& actions;
  const delta::CheckpointLayout& layout;
  const RowLayout rows;
  bool stats_as_json = true;
  bool partitions_parsed = false;
  std::optional<delta::StatsStructParser> stats_parser;  // when stats_parsed is written
  idx_t partitions_parsed_field = 0;  // positions of the optional fields within add
  idx_t stats_parsed_field = 0;
  duckdb::vector<std::string> names;
  duckdb::vector<LogicalType> types;
};

Result<std::unique_ptr<Job>> MakeJob(const delta::CheckpointActions& actions,
                                     const delta::CheckpointLayout& layout) {
  auto job = std::make_unique<Job>(actions, layout);
  job->stats_as_json = layout.write_stats_as_json;
  std::optional<LogicalType> partitions_type, stats_type;
  idx_t next_field = 10 + (job->stats_as_json ? 1 : 0);  // after add's fixed fields
  if (layout.write_stats_as_struct && !layout.partition_values_schema.fields.empty()) {
    LAKE_ASSIGN_OR_RETURN(partitions_type, ParsedType(layout.partition_values_schema));
    job->partitions_parsed = true;
    job->partitions_parsed_field = next_field++;
  }
  if (layout.write_stats_as_struct && !layout.stats_schema.fields.empty()) {
    LAKE_ASSIGN_OR_RETURN(stats_type, ParsedType(layout.stats_schema));
    job->stats_parser.emplace(layout.stats_schema);
    job->stats_parsed_field = next_field++;
  }
  job->names = {"txn", "add", "remove", "metaData", "protocol", "domainMetadata"};
  job->types = {TxnType(),
                AddType(job->stats_as_json, partitions_type, stats_type),
                RemoveType(),
                MetadataType(),
                ProtocolType(),
                DomainMetadataType()};
  if (actions.checkpoint_metadata) {
    job->names.push_back("checkpointMetadata");
    job->types.push_back(CheckpointMetadataType());
  }
  return job;
}

// Fills chunks with rows of a job; one per worker (it keeps the parser's scratch values).
class RowFiller {
 public:
  explicit RowFiller(const Job& job) : job_(job) {}

  // Fills `out` (freshly reset) with rows [begin, begin + count), count <= vector size.
  void Fill(idx_t begin, idx_t count, duckdb::DataChunk& out) {
    const delta::CheckpointActions& a = job_.actions;
    const RowLayout& rows = job_.rows;
    // Which columns have a row in [begin, begin + count): the others are constant NULL (note 4).
    const idx_t end = begin + count;
    auto overlaps = [&](idx_t lo, idx_t hi) { return lo < end && begin < hi; };
    std::vector<bool> used(out.ColumnCount(), false);
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
    for (idx_t c = 0; c < out.ColumnCount(); ++c) {
      if (!used[c]) {
        out.data[c].SetVectorType(duckdb::VectorType::CONSTANT_VECTOR);
        duckdb::ConstantVector::SetNull(out.data[c], true);
      }
    }
    if (used[kAdd]) FindStatsVectors(out.data[kAdd]);

    // A chunk of adds only (nearly every chunk of a big checkpoint) has no other row to null,
    // and its optional add fields that no row has are nulled once.
    const bool adds_only = !used[kTxn] && !used[kRemove] && !used[kDomain] && !used[kMetadata] &&
                           !used[kProtocol] && !(has_cm && used[kFixedColumns]);
    add_fields_ = AddFieldsUsed{};
    if (adds_only) NullUnusedAddFields(begin - rows.add_begin, count, out.data[kAdd]);
    for (idx_t i = 0; i < count; ++i) {
      const idx_t row = begin + i;
      // Null every used column at this row except the one this row's action fills.
      auto null_others = [&](idx_t keep) {
        for (idx_t c = 0; c < out.ColumnCount(); ++c) {
          if (used[c] && c != keep) SetNullDeep(out.data[c], i);
        }
      };
      if (row >= rows.add_begin && row < rows.remove_begin) {
        if (!adds_only) null_others(kAdd);
        WriteAddRow(out.data[kAdd], i, *a.adds[row - rows.add_begin]);
      } else if (row >= rows.remove_begin) {
        null_others(kRemove);
        WriteRemove(out.data[kRemove], i, *a.removes[row - rows.remove_begin]);
      } else if (row >= rows.domain_begin) {
        null_others(kDomain);
        WriteDomain(out.data[kDomain], i, *a.domain_metadata[row - rows.domain_begin]);
      } else if (row >= rows.txn_begin) {
        null_others(kTxn);
        WriteTxn(out.data[kTxn], i, *a.txns[row - rows.txn_begin]);
      } else if (a.protocol && row == 0) {
        null_others(kProtocol);
        WriteProtocol(out.data[kProtocol], i, *a.protocol);
      } else if (a.metadata && row == metadata_row) {
        null_others(kMetadata);
        WriteMetadata(out.data[kMetadata], i, *a.metadata);
      } else {
        null_others(kFixedColumns);
        WriteCheckpointMetadata(out.data[kFixedColumns], i, *a.checkpoint_metadata);
      }
    }
    out.SetCardinality(count);
  }

 private:
  // Points stats_vectors_[node] at the vector of each stats_parsed node in this chunk.
  void FindStatsVectors(Vector& add) {
    if (!job_.stats_parser) return;
    const auto& nodes = job_.stats_parser->nodes();
    stats_vectors_.assign(nodes.size(), nullptr);
    stats_vectors_[0] = duckdb::StructVector::GetEntries(add)[job_.stats_parsed_field].get();
    for (size_t node = 0; node < nodes.size(); ++node) {
      const auto& children = nodes[node].children;
      if (children.empty()) continue;
      auto& entries = duckdb::StructVector::GetEntries(*stats_vectors_[node]);
      for (size_t c = 0; c < children.size(); ++c) stats_vectors_[children[c]] = entries[c].get();
    }
  }

  // Finds the optional fields that none of adds [first, first + count) has and nulls them for
  // the whole chunk (AddFieldsUsed).
  void NullUnusedAddFields(idx_t first, idx_t count, Vector& add) {
    AddFieldsUsed& used = add_fields_;
    used = AddFieldsUsed{false, false, false, false, false, false};
    for (idx_t i = 0; i < count; ++i) {
      const delta::AddFile& a = *job_.actions.adds[first + i];
      used.tags |= !a.tags.empty();
      used.deletion_vector |= a.deletion_vector.has_value();
      used.base_row_id |= a.base_row_id.has_value();
      used.default_row_commit_version |= a.default_row_commit_version.has_value();
      used.clustering_provider |= a.clustering_provider.has_value();
      used.stats |= a.stats.has_value();
    }
    auto& f = duckdb::StructVector::GetEntries(add);
    if (!used.tags) SetAllNullDeep(*f[kAddTags], count);
    if (!used.deletion_vector) SetAllNullDeep(*f[kAddDeletionVector], count);
    if (!used.base_row_id) SetAllNullDeep(*f[kAddBaseRowId], count);
    if (!used.default_row_commit_version) SetAllNullDeep(*f[kAddDefaultRowCommitVersion], count);
    if (!used.clustering_provider) SetAllNullDeep(*f[kAddClusteringProvider], count);
    if (!used.stats) {
      if (job_.stats_as_json) SetAllNullDeep(*f[kAddStats], count);
      if (job_.stats_parser) SetAllNullDeep(*f[job_.stats_parsed_field], count);
    }
  }

  void WriteAddRow(Vector& add, idx_t row, const delta::AddFile& file) {
    WriteAdd(add, row, file, job_.stats_as_json, add_fields_);
    auto& fields = duckdb::StructVector::GetEntries(add);
    if (job_.partitions_parsed) {
      WritePartitionsParsed(*fields[job_.partitions_parsed_field], row,
                            job_.layout.partition_values_schema, file.partition_values);
    }
    if (!job_.stats_parser || !add_fields_.stats) return;
    if (!file.stats || !job_.stats_parser->Parse(*file.stats, values_)) {
      SetNullDeep(*stats_vectors_[0], row);
      return;
    }
    const auto& nodes = job_.stats_parser->nodes();
    for (size_t node = 0; node < nodes.size(); ++node) {
      Vector& v = *stats_vectors_[node];
      if (!values_.is_valid[node]) {
        duckdb::FlatVector::SetNull(v, row, true);
      } else if (nodes[node].children.empty() && nodes[node].type->is_primitive()) {
        WriteLiteral(v, row, *nodes[node].type, values_.leaves[node]);
      }
    }
  }

  const Job& job_;
  AddFieldsUsed add_fields_;  // of the chunk being filled
  delta::StatsStructParser::Values values_;
  std::vector<Vector*> stats_vectors_;
};

// --- The parallel, ordered writer (notes 1 and 2) ---------------------------------------------

class ParquetJob {
 public:
  ParquetJob(duckdb::ClientContext& context, const Job& job, duckdb::CopyFunction& function,
             duckdb::FunctionData& bind, duckdb::GlobalFunctionData& global, idx_t workers)
      : context_(context),
        job_(job),
        function_(function),
        bind_(bind),
        global_(global),
        workers_(workers),
        groups_((job.rows.total + kRowGroupRows - 1) / kRowGroupRows) {}

  // Writes every row group; returns the first error of any worker.
  Status Run() {
    std::vector<std::thread> threads;
    for (idx_t w = 1; w < workers_; ++w) threads.emplace_back([this] { Work(); });
    Work();
    for (std::thread& t : threads) t.join();
    return first_error_;
  }

 private:
  void Work() {
    Status status = CatchAll([&]() -> Status {
      RowFiller filler(job_);
      duckdb::DataChunk chunk;
      chunk.Initialize(duckdb::Allocator::Get(context_), job_.types);
      while (true) {
        idx_t group;
        {
          std::unique_lock<std::mutex> lock(mu_);
          // Back-pressure: stay at most 8N groups ahead of the file (note 2).
          cv_.wait(lock, [&] { return failed_ || next_group_ < next_flush_ + 8 * workers_; });
          if (failed_ || next_group_ >= groups_) return Status::OK();
          group = next_group_++;
        }
        auto rows = duckdb::make_uniq<duckdb::ColumnDataCollection>(context_, job_.types);
        duckdb::ColumnDataAppendState append;
        rows->InitializeAppend(append);
        const idx_t end = std::min(job_.rows.total, (group + 1) * kRowGroupRows);
        for (idx_t begin = group * kRowGroupRows; begin < end; begin += STANDARD_VECTOR_SIZE) {
          chunk.Reset();
          filler.Fill(begin, std::min<idx_t>(STANDARD_VECTOR_SIZE, end - begin), chunk);
          rows->Append(append, chunk);
        }
        FlushReady(group, function_.prepare_batch(context_, bind_, global_, std::move(rows)));
      }
    });
    if (!status.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!failed_) first_error_ = std::move(status);
      failed_ = true;
      cv_.notify_all();
    }
  }

  // Queues `group`; then, unless another worker is flushing, flushes every queued group that
  // is next in file order.
  void FlushReady(idx_t group, duckdb::unique_ptr<duckdb::PreparedBatchData> prepared) {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.emplace(group, std::move(prepared));
    if (flushing_) return;
    flushing_ = true;
    ScopeGuard done([&] {
      flushing_ = false;
      cv_.notify_all();
    });
    while (!failed_) {
      auto it = ready_.find(next_flush_);
      if (it == ready_.end()) break;
      duckdb::unique_ptr<duckdb::PreparedBatchData> batch = std::move(it->second);
      ready_.erase(it);
      lock.unlock();
      // flush_batch may throw: the guard above runs with the lock held again.
      ScopeGuard relock([&] { lock.lock(); });
      function_.flush_batch(context_, bind_, global_, *batch);
      batch.reset();
      relock.Dismiss();
      lock.lock();
      ++next_flush_;
      cv_.notify_all();
    }
  }

  duckdb::ClientContext& context_;
  const Job& job_;
  duckdb::CopyFunction& function_;
  duckdb::FunctionData& bind_;
  duckdb::GlobalFunctionData& global_;
  const idx_t workers_;
  const idx_t groups_;

  std::mutex mu_;
  std::condition_variable cv_;
  idx_t next_group_ = 0;  // the next group a worker claims
  idx_t next_flush_ = 0;  // the next group the file takes
  bool flushing_ = false;
  bool failed_ = false;
  Status first_error_;
  std::map<idx_t, duckdb::unique_ptr<duckdb::PreparedBatchData>> ready_;
};

// Writes the job's rows as a Parquet file at `path` with DuckDB's Parquet copy function, bound
// as `COPY ... TO path (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE n)` would bind it.
Status WriteParquet(duckdb::DatabaseInstance& db, const Job& job, const std::string& path) {
  duckdb::Connection conn(db);
  duckdb::ClientContext& context = *conn.context;
  Status status;
  Status thrown = CatchAll([&] {
    context.RunFunctionInTransaction([&] {
      auto& entry =
          duckdb::Catalog::GetSystemCatalog(context).GetEntry<duckdb::CopyFunctionCatalogEntry>(
              context, DEFAULT_SCHEMA, "parquet");
      duckdb::CopyFunction function = entry.function;
      if (!function.copy_to_bind || !function.prepare_batch || !function.flush_batch ||
          !function.copy_to_initialize_global || !function.copy_to_finalize) {
        status = Status::NotSupported(
            "this DuckDB's parquet copy function has no batch interface; lake needs DuckDB 1.4");
        return;
      }
      duckdb::CopyInfo info;
      info.is_from = false;
      info.format = "parquet";
      info.file_path = path;
      info.options["compression"].emplace_back(duckdb::Value("snappy"));
      info.options["row_group_size"].emplace_back(
          duckdb::Value::UBIGINT(static_cast<uint64_t>(kRowGroupRows)));
      duckdb::CopyFunctionBindInput input(info);
      input.file_extension = "parquet";
      auto bind = function.copy_to_bind(context, input, job.names, job.types);
      auto global = function.copy_to_initialize_global(context, *bind, path);
      const idx_t threads = static_cast<idx_t>(
          std::max<int32_t>(1, duckdb::TaskScheduler::GetScheduler(context).NumberOfThreads()));
      const idx_t groups = (job.rows.total + kRowGroupRows - 1) / kRowGroupRows;
      ParquetJob writer(context, job, function, *bind, *global,
                        std::max<idx_t>(1, std::min(threads, groups)));
      status = writer.Run();
      if (status.ok()) function.copy_to_finalize(context, *bind, *global);
    });
  });
  return thrown.ok() ? status : thrown;
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
    Result<std::unique_ptr<Job>> job = MakeJob(actions, layout);
    if (!job.ok()) {
      return Status(job.status().code(), StrCat(where, ": ", job.status().message()))
          .WithHint(job.status().hint());
    }

    // Note 5: where DuckDB writes.
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
    Status written = WriteParquet(db_, **job, temp);
    if (!written.ok()) {
      return Status(written.code(), StrCat(where, ": writing the checkpoint file: ",
                                           written.message()))
          .WithHint(written.hint());
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

std::unique_ptr<delta::CheckpointWriter> MakeCheckpointWriter(duckdb::DatabaseInstance& db) {
  return std::make_unique<DuckDBCheckpointWriter>(db);
}

}  // namespace lake::engine::internal

namespace lake::engine {

std::unique_ptr<delta::CheckpointWriter> MakeCheckpointWriter(Database& db) {
  return internal::MakeCheckpointWriter(static_cast<internal::DatabaseImpl&>(db).instance());
}

}  // namespace lake::engine
