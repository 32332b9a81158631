// Change data files; the rules callers follow are in change_data_writer.h.
//
// Design notes.
//  (1) One writer for every change type: a query with the table's columns and _change_type
//      goes through the data writer's projection (write_plan.h PlanWriteProjection) with the
//      table schema plus a nullable string column _change_type, so cdc files hold what data
//      files hold (physical names, Parquet field ids, Spark-readable types) and
//      table_changes reads them as it reads Spark's. Statistics are not collected: cdc actions
//      carry none.
//  (2) The COPY is the data writer's, with Spark's cdc file name (DelayedCommitProtocol:
//      "cdc-%05d-%s.c000<ext>", the task number is always 00000 here and the uuid keeps names
//      unique across threads and rotated files) under <table>/_change_data, partitioned by
//      the table's partition columns (Hive folders, WRITE_PARTITION_COLUMNS false).
//  (3) Rows a DML removes are read back from the version it read through
//      delta_scan(..., files := [...], only_rows := token): the positions the statement
//      collected, minus rows a deletion vector already hides. So a preimage is exactly the row
//      the statement saw, whatever the file layout (copy-on-write or deletion vectors).
//  (4) Rows a statement wrote are read back from its new, uncommitted files with read_parquet
//      by physical name, partition values as typed constants from the add (never parsed from
//      the folder name: hive_partitioning = false), cast to delta_scan's types. This costs a
//      read of the written rows only, and keeps the INSERT pipeline untouched.
#include "engine/internal/change_data_writer.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "delta/change_feed.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/scan.h"
#include "engine/internal/write_plan.h"

namespace lake::engine::internal {
namespace {

constexpr const char* kAlias = "__lake_cdc";

const std::string* StringOf(const Value& v) { return std::get_if<std::string>(&v.v); }

Result<size_t> ColumnIndex(const ResultTable& table, std::string_view name) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (table.columns[i].name == name) return i;
  }
  return Status::Internal(StrCat("COPY ... RETURN_STATS has no column ", name));
}

// The query without a trailing ';' (it is nested in a COPY).
std::string StripQuery(std::string_view query) {
  std::string out(query);
  while (!out.empty() && (out.back() == ';' || out.back() == ' ' || out.back() == '\n' ||
                          out.back() == '\t' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

}  // namespace

std::string_view ChangeTypeName(ChangeType type) {
  switch (type) {
    case ChangeType::kInsert:
      return "insert";
    case ChangeType::kDelete:
      return "delete";
    case ChangeType::kUpdatePreimage:
      return "update_preimage";
    case ChangeType::kUpdatePostimage:
      return "update_postimage";
  }
  return "insert";
}

bool RecordsChangeData(const delta::Metadata& metadata) {
  return delta::IsChangeDataFeedEnabled(metadata);
}

Result<std::vector<delta::AddCdcFile>> WriteChangeData(Session& session,
                                                       const ChangeDataTarget& target,
                                                       std::string_view query) {
  if (target.schema == nullptr) {
    return Status::Internal(StrCat(target.location, ": change data target without a schema"));
  }
  const std::string source = StripQuery(query);
  // (1) The table's schema plus _change_type; no statistics.
  delta::Schema schema = *target.schema;
  delta::StructField change_type;
  change_type.name = kChangeTypeColumn;
  change_type.type.kind = delta::TypeKind::kString;
  change_type.nullable = true;
  schema.fields.push_back(std::move(change_type));
  WriteOptions options = target.options;
  options.num_indexed_cols = 0;
  options.stats_columns.reset();
  const std::string root = StrCat(target.location, "/", kChangeDataFolder);

  LAKE_ASSIGN_OR_RETURN(
      ResultTable described,
      session.Query(StrCat("SELECT * FROM (\n", source, "\n) AS ", kAlias, " LIMIT 0")));
  LAKE_ASSIGN_OR_RETURN(
      WriteProjection projection,
      PlanWriteProjection(described.columns, kAlias, root, schema, options, {}));

  std::vector<std::string> select, partition_names;
  for (const WriteColumn& c : projection.columns) {
    select.push_back(StrCat(c.expr, " AS ", SqlIdent(c.physical_name)));
    if (c.is_partition) partition_names.push_back(SqlIdent(c.physical_name));
  }
  // (2) Spark's cdc file name.
  const std::string pattern =
      StrCat("cdc-00000-{uuid}.c000",
             options.compression == "uncompressed" ? "" : "." + options.compression);
  std::vector<std::string> copy_options = {
      "FORMAT parquet", StrCat("COMPRESSION ", SqlQuote(options.compression)),
      StrCat("FILENAME_PATTERN ", SqlQuote(pattern)), "RETURN_STATS", "APPEND"};
  if (!partition_names.empty()) {
    copy_options.push_back(StrCat("PARTITION_BY (", StrJoin(partition_names, ", "), ")"));
    copy_options.push_back("WRITE_PARTITION_COLUMNS false");
  } else {
    copy_options.push_back(StrCat("FILE_SIZE_BYTES ", options.target_file_size_bytes));
  }
  if (!projection.field_ids.empty()) {
    copy_options.push_back(StrCat("FIELD_IDS {", StrJoin(projection.field_ids, ", "), "}"));
  }
  // Rows without a change type (e.g. the copied rows of a one-pass MERGE) are not changes.
  const std::string copy = StrCat(
      "COPY (SELECT ", StrJoin(select, ", "), " FROM (SELECT * FROM (\n", source, "\n) WHERE ",
      kChangeTypeColumn, " IS NOT NULL) AS ", kAlias, ") TO ", SqlQuote(projection.root), " (",
      StrJoin(copy_options, ", "), ")");
  LAKE_ASSIGN_OR_RETURN(ResultTable written, session.Query(copy));

  std::vector<std::string> files;
  ScopeGuard remove_files([&] {
    for (const std::string& f : files) {
      std::error_code ec;
      std::filesystem::remove(f, ec);  // best effort: an orphan otherwise, for VACUUM
    }
  });
  LAKE_ASSIGN_OR_RETURN(size_t filename_col, ColumnIndex(written, "filename"));
  LAKE_ASSIGN_OR_RETURN(size_t count_col, ColumnIndex(written, "count"));
  LAKE_ASSIGN_OR_RETURN(size_t keys_col, ColumnIndex(written, "partition_keys"));
  for (const auto& row : written.rows) {
    if (const std::string* f = StringOf(row[filename_col])) files.push_back(*f);
  }
  std::vector<delta::AddCdcFile> out;
  for (const auto& row : written.rows) {
    WrittenFile file;
    if (const std::string* filename = StringOf(row[filename_col])) file.filename = *filename;
    if (const int64_t* count = std::get_if<int64_t>(&row[count_col].v)) {
      file.num_records = *count;
    } else if (const uint64_t* ucount = std::get_if<uint64_t>(&row[count_col].v)) {
      file.num_records = static_cast<int64_t>(*ucount);
    } else {
      return Status::Internal("COPY ... RETURN_STATS gave no row count");
    }
    if (auto* map = std::get_if<std::shared_ptr<ValueMap>>(&row[keys_col].v); map && *map) {
      for (const auto& [k, v] : **map) {
        const std::string* key = StringOf(k);
        if (key == nullptr) continue;
        const std::string* value = StringOf(v);
        file.partition_keys[*key] =
            value ? std::optional<std::string>(*value) : std::optional<std::string>();
      }
    }
    // The add the data writer would make, relative to _change_data/.
    LAKE_ASSIGN_OR_RETURN(std::optional<delta::AddFile> add,
                          AddFileForWrittenFile(projection, schema, options, file));
    if (!add) continue;  // no rows: the empty file is gone already
    delta::AddCdcFile cdc;
    cdc.path = StrCat(kChangeDataFolder, "/", add->path);
    cdc.partition_values = std::move(add->partition_values);
    cdc.size = add->size;
    cdc.data_change = false;
    out.push_back(std::move(cdc));
  }
  remove_files.Dismiss();
  return out;
}

Result<std::vector<delta::AddCdcFile>> WriteChangeRows(Session& session,
                                                       const ChangeDataTarget& target,
                                                       std::string_view query, ChangeType type) {
  return WriteChangeData(session, target,
                         StrCat("SELECT *, ", SqlQuote(ChangeTypeName(type)), " AS ",
                                kChangeTypeColumn, " FROM (\n", StripQuery(query), "\n)"));
}

Result<std::vector<delta::AddCdcFile>> WriteChangeRowsAt(
    duckdb::DatabaseInstance& db, const ChangeDataTarget& target,
    const std::map<std::string, std::vector<uint64_t>>& rows_by_file, ChangeType type) {
  if (rows_by_file.empty()) return std::vector<delta::AddCdcFile>{};
  // (3) Local path -> add.path, as delta_scan's files := and only_rows := name files.
  std::unordered_map<std::string, const delta::AddFile*> by_local_path;
  for (const delta::AddFile& add : target.snapshot->files()) {
    LAKE_ASSIGN_OR_RETURN(std::string local,
                          LocalDataFilePath(*target.snapshot, *target.store, add));
    by_local_path.emplace(std::move(local), &add);
  }
  auto rows = std::make_shared<RowExclusions>();
  std::vector<std::string> paths;
  for (const auto& [filename, positions] : rows_by_file) {
    auto it = by_local_path.find(filename);
    if (it == by_local_path.end()) {
      return Status::Internal(StrCat("change data: row ids name ", filename,
                                     ", which is not a live file of version ",
                                     target.snapshot->version()));
    }
    std::vector<uint64_t>& sorted = (*rows)[it->second->path];
    sorted = positions;
    std::sort(sorted.begin(), sorted.end());
    paths.push_back(SqlQuote(it->second->path));
  }
  const std::string token = RegisterRowExclusions(rows);
  ScopeGuard release([&] { ReleaseRowExclusions(token); });
  std::unique_ptr<Session> session = NewSession(db);
  return WriteChangeRows(
      *session, target,
      StrCat("SELECT * FROM delta_scan(", SqlQuote(target.location),
             ", version := ", target.snapshot->version(), ", files := [", StrJoin(paths, ", "),
             "], only_rows := ", SqlQuote(token), ")"),
      type);
}

Result<std::string> WrittenFilesQuery(const ChangeDataTarget& target,
                                      const std::vector<delta::AddFile>& adds) {
  const delta::Schema& schema = *target.schema;
  const std::string& mode = target.options.column_mapping_mode;
  struct Column {
    const delta::StructField* field;
    std::string type_sql;
    bool is_partition = false;
  };
  std::vector<Column> columns;
  for (const delta::StructField& field : schema.fields) {
    LAKE_ASSIGN_OR_RETURN(duckdb::LogicalType type, DuckTypeOf(field.type, field.name));
    Column column{&field, type.ToString(), false};
    for (const std::string& p : target.options.partition_columns) {
      if (ToLower(p) == ToLower(field.name)) column.is_partition = true;
    }
    if (!column.is_partition && mode != "none" && !field.type.is_primitive()) {
      return Status::NotSupported(StrCat(target.location,
                                         ": change data of a column-mapped table with nested "
                                         "column ",
                                         field.name, " is not supported yet"))
          .WithHint("disable delta.enableChangeDataFeed, or write the change with Spark");
    }
    columns.push_back(std::move(column));
  }
  // (4) One branch per partition tuple: its values are constants.
  std::map<delta::PartitionValues, std::vector<std::string>> groups;
  for (const delta::AddFile& add : adds) {
    LAKE_ASSIGN_OR_RETURN(std::string local,
                          LocalDataFilePath(*target.snapshot, *target.store, add));
    delta::PartitionValues key = add.partition_values;
    std::sort(key.begin(), key.end());
    groups[std::move(key)].push_back(SqlQuote(local));
  }
  std::vector<std::string> branches;
  for (const auto& [partition_values, files] : groups) {
    std::vector<std::string> select;
    for (const Column& c : columns) {
      const std::string& physical = c.field->PhysicalNameFor(mode);
      if (c.is_partition) {
        std::optional<std::string> raw;
        for (const auto& [k, v] : partition_values) {
          if (k == physical) raw = v;
        }
        // PROTOCOL.md "Partition Value Serialization": DuckDB's casts read the text back.
        select.push_back(StrCat("CAST(", raw ? SqlQuote(*raw) : std::string("NULL"), " AS ",
                                c.type_sql, ") AS ", SqlIdent(c.field->name)));
      } else {
        select.push_back(StrCat("CAST(", SqlIdent(physical), " AS ", c.type_sql, ") AS ",
                                SqlIdent(c.field->name)));
      }
    }
    branches.push_back(StrCat("SELECT ", StrJoin(select, ", "), " FROM read_parquet([",
                              StrJoin(files, ", "), "], hive_partitioning = false)"));
  }
  if (branches.empty()) {
    std::vector<std::string> select;
    for (const Column& c : columns) {
      select.push_back(StrCat("CAST(NULL AS ", c.type_sql, ") AS ", SqlIdent(c.field->name)));
    }
    return StrCat("SELECT ", StrJoin(select, ", "), " WHERE false");
  }
  return StrJoin(branches, "\nUNION ALL\n");
}

Result<std::vector<delta::AddCdcFile>> WriteChangeRowsOfFiles(duckdb::DatabaseInstance& db,
                                                              const ChangeDataTarget& target,
                                                              const std::vector<delta::AddFile>& adds,
                                                              ChangeType type) {
  if (adds.empty()) return std::vector<delta::AddCdcFile>{};
  LAKE_ASSIGN_OR_RETURN(std::string query, WrittenFilesQuery(target, adds));
  std::unique_ptr<Session> session = NewSession(db);
  return WriteChangeRows(*session, target, query, type);
}

Status StageChangeData(delta::Transaction& txn, std::vector<delta::AddCdcFile> cdcs,
                       int64_t* count) {
  for (delta::AddCdcFile& cdc : cdcs) {
    LAKE_RETURN_IF_ERROR(txn.StageCdc(std::move(cdc)));
    if (count != nullptr) ++*count;
  }
  return Status::OK();
}

}  // namespace lake::engine::internal
