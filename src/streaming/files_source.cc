#include "streaming/files_source.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "engine/data_writer.h"

namespace lake::streaming {
namespace {

using nlohmann::json;

// The column the readers add with each row's file; no data column may use the name.
constexpr std::string_view kFileColumn = "__lake_source_file";

bool Hidden(std::string_view key) {
  for (const std::string& part : StrSplit(key, '/')) {
    if (!part.empty() && (part[0] == '.' || part[0] == '_')) return true;
  }
  return false;
}

struct SourceColumn {
  std::string name;
  std::string type;  // DuckDB's type name
};

const SourceColumn* FindColumn(const std::vector<SourceColumn>& columns, std::string_view name) {
  for (const SourceColumn& c : columns) {
    if (ToLower(c.name) == ToLower(name)) return &c;
  }
  return nullptr;
}

// A Delta type for a column the files bring: strings unless types are kept.
delta::DataType TypeFor(const engine::ResultColumn& column, bool keep_types) {
  delta::DataType string_type;
  if (!keep_types) return string_type;
  Result<engine::QuerySchema> schema = engine::DeltaSchemaFor({column});
  if (!schema.ok() || schema->schema.fields.size() != 1) return string_type;
  return schema->schema.fields[0].type;
}

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

}  // namespace

Result<FileFormat> ParseFileFormat(std::string_view text) {
  const std::string lower = ToLower(text);
  if (lower == "json") return FileFormat::kJson;
  if (lower == "csv") return FileFormat::kCsv;
  if (lower == "parquet") return FileFormat::kParquet;
  return Status::InvalidArgument(StrCat("unknown landing file format '", text, "'"))
      .WithHint("use json, csv or parquet");
}

Result<SchemaEvolutionMode> ParseSchemaEvolutionMode(std::string_view text) {
  const std::string lower = ToLower(text);
  if (lower == "addnewcolumns") return SchemaEvolutionMode::kAddNewColumns;
  if (lower == "rescue") return SchemaEvolutionMode::kRescue;
  if (lower == "failonnewcolumns") return SchemaEvolutionMode::kFailOnNewColumns;
  if (lower == "none") return SchemaEvolutionMode::kNone;
  return Status::InvalidArgument(StrCat("unknown schemaEvolutionMode '", text, "'"))
      .WithHint("use addNewColumns, rescue, failOnNewColumns or none");
}

FilesSource::FilesSource(FilesSourceOptions options) : options_(std::move(options)) {}

FilesSource::~FilesSource() {
  if (index_ != nullptr) sqlite3_close(index_);
}

std::string FilesSource::description() const { return StrCat("FilesSource[", options_.path, "]"); }

Status FilesSource::Exec(std::string_view sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(index_, std::string(sql).c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::OK();
  std::string message = error ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return Status::IOError(StrCat(description(), ": file index ", index_path_, ": ", message));
}

Status FilesSource::Open(const SourceContext& context) {
  context_ = context;
  LAKE_ASSIGN_OR_RETURN(folder_, storage::OpenStore(options_.path));
  const std::string index_key = StrCat(context.state_prefix, "files.db");
  std::optional<std::string> local = context.checkpoint->LocalPath(index_key);
  if (!local) {
    return Status::NotSupported(StrCat(description(),
                                       ": the file index needs a local "
                                       "checkpoint folder, not ",
                                       context.checkpoint->uri()))
        .WithHint("put the checkpoint on a local disk");
  }
  index_path_ = *local;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(index_path_).parent_path(), ec);
  if (sqlite3_open(index_path_.c_str(), &index_) != SQLITE_OK) {
    return Status::IOError(StrCat(description(), ": cannot open file index ", index_path_, ": ",
                                  sqlite3_errmsg(index_)));
  }
  sqlite3_busy_timeout(index_, 5000);
  // Journal mode DELETE + synchronous FULL: a transaction that returned is on disk before
  // the query writes offsets/N (design note 2), across kill -9 and power loss alike.
  LAKE_RETURN_IF_ERROR(Exec("PRAGMA synchronous = FULL"));
  LAKE_RETURN_IF_ERROR(
      Exec("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
           "mtime_ms INTEGER NOT NULL, batch_id INTEGER NOT NULL, committed INTEGER NOT NULL "
           "DEFAULT 0)"));
  LAKE_RETURN_IF_ERROR(Exec("CREATE INDEX IF NOT EXISTS files_batch ON files (batch_id)"));

  if (options_.schema_location) {
    LAKE_ASSIGN_OR_RETURN(schema_store_, storage::OpenStore(*options_.schema_location));
    schema_prefix_ = "_schemas/";
  } else {
    schema_prefix_ = StrCat(context.state_prefix, "_schemas/");
  }
  return LoadSchema();
}

Status FilesSource::LoadSchema() {
  storage::ObjectStore& store = schema_store_ ? *schema_store_ : *context_.checkpoint;
  LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                        store.ListAfter(schema_prefix_, ""));
  std::optional<int64_t> latest;
  for (const storage::ObjectInfo& o : objects) {
    std::optional<int64_t> n = ParseInt64(std::string_view(o.key).substr(schema_prefix_.size()));
    if (n && (!latest || *n > *latest)) latest = n;
  }
  if (!latest) return Status::OK();
  const std::string key = StrCat(schema_prefix_, *latest);
  LAKE_ASSIGN_OR_RETURN(std::string text, store.Get(key));
  const size_t newline = text.find('\n');
  if (newline == std::string::npos || text.substr(0, newline) != "v1") {
    return Status::Corruption(StrCat(description(), ": schema file ", store.uri(), "/", key,
                                     " does not start with 'v1'"));
  }
  LAKE_ASSIGN_OR_RETURN(schema_, delta::ParseSchema(text.substr(newline + 1)));
  schema_version_ = latest;
  return Status::OK();
}

Status FilesSource::WriteSchema(int64_t version, const delta::Schema& schema) {
  storage::ObjectStore& store = schema_store_ ? *schema_store_ : *context_.checkpoint;
  Status put = store.PutIfAbsent(StrCat(schema_prefix_, version),
                                 StrCat("v1\n", delta::SerializeDataType(schema)));
  // Another run wrote this version first: its schema is the one to read with.
  if (!put.ok() && put.code() != StatusCode::kAlreadyExists) return put;
  return LoadSchema();
}

ReadLimit FilesSource::DefaultReadLimit() const {
  ReadLimit limit;
  limit.max_files = options_.max_files_per_trigger;
  limit.max_bytes = options_.max_bytes_per_trigger;
  return limit;
}

Result<std::vector<FilesSource::FileEntry>> FilesSource::ListFolder() {
  LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, folder_->ListAfter("", ""));
  std::vector<FileEntry> files;
  for (storage::ObjectInfo& o : objects) {
    if (Hidden(o.key)) continue;
    files.push_back(FileEntry{std::move(o.key), o.size, o.mtime_ms});
  }
  return files;
}

Status FilesSource::PrepareForAvailableNow() {
  LAKE_ASSIGN_OR_RETURN(std::vector<FileEntry> files, ListFolder());
  available_now_files_.emplace();
  for (const FileEntry& f : files) available_now_files_->insert(f.key);
  return Status::OK();
}

std::string FilesSource::ReaderSql(const std::vector<FileEntry>& files) const {
  std::vector<std::string> paths;
  for (const FileEntry& f : files) {
    paths.push_back(SqlQuote(folder_->LocalPath(f.key).value_or(f.key)));
  }
  const std::string list = StrCat("[", StrJoin(paths, ", "), "]");
  const std::string file_column = StrCat("filename = ", SqlQuote(kFileColumn));
  switch (options_.format) {
    case FileFormat::kJson:
      return StrCat("read_json(", list,
                    ", format = 'newline_delimited', union_by_name = true, "
                    "sample_size = -1, ",
                    file_column, ")");
    case FileFormat::kCsv:
      return StrCat("read_csv(", list, ", header = true, union_by_name = true, all_varchar = ",
                    options_.infer_column_types ? "false" : "true", ", ", file_column, ")");
    case FileFormat::kParquet:
      return StrCat("read_parquet(", list, ", union_by_name = true, ", file_column, ")");
  }
  return "";
}

Status FilesSource::InferSchema(engine::Session& session, const std::vector<FileEntry>& files) {
  LAKE_ASSIGN_OR_RETURN(engine::ResultTable described,
                        session.Query(StrCat("SELECT * FROM ", ReaderSql(files), " LIMIT 0")));
  const bool keep_types = options_.infer_column_types || options_.format == FileFormat::kParquet;
  delta::Schema schema;
  schema.kind = delta::TypeKind::kStruct;
  for (const engine::ResultColumn& column : described.columns) {
    if (column.name == kFileColumn || column.name == kRescuedDataColumn) continue;
    delta::StructField field;
    field.name = column.name;
    field.type = TypeFor(column, keep_types);
    schema.fields.push_back(std::move(field));
  }
  if (schema.fields.empty()) {
    return Status::InvalidArgument(StrCat(description(), ": no columns could be inferred from ",
                                          files.size(), " file(s), the first ", files[0].key))
        .WithHint("check the files' format option");
  }
  return WriteSchema(0, schema);
}

Result<std::optional<std::string>> FilesSource::LatestOffset(
    const std::optional<std::string>& start, const ReadLimit& limit, BatchId batch) {
  LAKE_ASSIGN_OR_RETURN(std::vector<FileEntry> listed, ListFolder());
  LAKE_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  // The error being returned matters more than a failed rollback.
  ScopeGuard rollback([&] { Exec("ROLLBACK").IgnoreError(); });

  // Design note 2: rows of batches >= N were planned by a run that never wrote offsets/N.
  {
    Statement drop(index_, "DELETE FROM files WHERE batch_id >= ?");
    sqlite3_bind_int64(drop.get(), 1, batch);
    if (!drop.ok() || sqlite3_step(drop.get()) != SQLITE_DONE) {
      return Status::IOError(
          StrCat(description(), ": file index ", index_path_, ": ", sqlite3_errmsg(index_)));
    }
  }
  std::vector<FileEntry> fresh;
  {
    Statement known(index_, "SELECT 1 FROM files WHERE path = ?");
    for (FileEntry& f : listed) {
      if (available_now_files_ && !available_now_files_->count(f.key)) continue;
      sqlite3_reset(known.get());
      sqlite3_bind_text(known.get(), 1, f.key.data(), static_cast<int>(f.key.size()),
                        SQLITE_TRANSIENT);
      const int rc = sqlite3_step(known.get());
      if (rc == SQLITE_ROW) continue;
      if (rc != SQLITE_DONE) {
        return Status::IOError(
            StrCat(description(), ": file index ", index_path_, ": ", sqlite3_errmsg(index_)));
      }
      fresh.push_back(std::move(f));
    }
  }
  std::sort(fresh.begin(), fresh.end(), [](const FileEntry& a, const FileEntry& b) {
    return a.mtime_ms != b.mtime_ms ? a.mtime_ms < b.mtime_ms : a.key < b.key;
  });
  std::vector<FileEntry> taken;
  int64_t bytes = 0;
  for (FileEntry& f : fresh) {
    if (limit.max_files && static_cast<int64_t>(taken.size()) >= *limit.max_files) break;
    if (limit.max_bytes && !taken.empty() && bytes + f.size > *limit.max_bytes) break;
    bytes += f.size;
    taken.push_back(std::move(f));
  }
  if (!taken.empty()) {
    Statement insert(index_,
                     "INSERT INTO files (path, size, mtime_ms, batch_id) VALUES (?, ?, ?, ?)");
    for (const FileEntry& f : taken) {
      sqlite3_reset(insert.get());
      sqlite3_bind_text(insert.get(), 1, f.key.data(), static_cast<int>(f.key.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_int64(insert.get(), 2, f.size);
      sqlite3_bind_int64(insert.get(), 3, f.mtime_ms);
      sqlite3_bind_int64(insert.get(), 4, batch);
      if (sqlite3_step(insert.get()) != SQLITE_DONE) {
        return Status::IOError(
            StrCat(description(), ": file index ", index_path_, ": ", sqlite3_errmsg(index_)));
      }
    }
  }
  LAKE_RETURN_IF_ERROR(Exec("COMMIT"));
  rollback.Dismiss();
  if (taken.empty()) return std::optional<std::string>();
  return std::optional<std::string>(json{{"logOffset", batch}}.dump());
}

Result<int64_t> FilesSource::GetBatch(engine::Session& session,
                                      const std::optional<std::string>& start,
                                      const std::string& end, BatchId batch,
                                      std::string_view table) {
  json offset = json::parse(end, nullptr, false);
  if (offset.is_discarded() || !offset.is_object() || !offset.contains("logOffset") ||
      !offset["logOffset"].is_number_integer() || offset["logOffset"].get<int64_t>() != batch) {
    return Status::Corruption(StrCat(description(), ": offset '", end, "' of batch ", batch,
                                     " is not {\"logOffset\":", batch, "}"))
        .WithHint("the checkpoint belongs to a different kind of source; use a new checkpoint");
  }
  std::vector<FileEntry> files;
  {
    Statement select(index_,
                     "SELECT path, size, mtime_ms FROM files WHERE batch_id = ? "
                     "ORDER BY mtime_ms, path");
    sqlite3_bind_int64(select.get(), 1, batch);
    int rc;
    while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
      files.push_back(FileEntry{reinterpret_cast<const char*>(sqlite3_column_text(select.get(), 0)),
                                sqlite3_column_int64(select.get(), 1),
                                sqlite3_column_int64(select.get(), 2)});
    }
    if (rc != SQLITE_DONE) {
      return Status::IOError(
          StrCat(description(), ": file index ", index_path_, ": ", sqlite3_errmsg(index_)));
    }
  }
  if (files.empty()) {
    return Status::Corruption(StrCat(description(), ": the file index ", index_path_,
                                     " has no files for batch ", batch, ", which offsets/", batch,
                                     " names"))
        .WithHint(
            "the index was lost or replaced; restart from a new checkpoint (files are "
            "then read again)");
  }
  if (schema_.fields.empty()) LAKE_RETURN_IF_ERROR(LoadSchema());
  if (schema_.fields.empty()) LAKE_RETURN_IF_ERROR(InferSchema(session, files));

  const std::string reader = ReaderSql(files);
  // A file that does not parse fails the batch: its rows cannot be told apart from the
  // rest, and skipping it would lose them silently.
  auto unreadable = [&](const Status& error) {
    return error.WithContext(StrCat(description(), ": batch ", batch))
        .WithHint(
            "fix the file the message names, in place: a restart re-reads the same "
            "files (moving it away fails the batch again)");
  };
  Result<engine::ResultTable> described_or =
      session.Query(StrCat("SELECT * FROM ", reader, " LIMIT 0"));
  if (!described_or.ok()) return unreadable(described_or.status());
  const engine::ResultTable& described = *described_or;
  std::vector<SourceColumn> columns;
  std::vector<engine::ResultColumn> extras;
  for (const engine::ResultColumn& c : described.columns) {
    if (c.name == kFileColumn) continue;
    columns.push_back(SourceColumn{c.name, c.type.name});
    if (delta::FindField(schema_, c.name) == nullptr && c.name != kRescuedDataColumn) {
      extras.push_back(c);
    }
  }
  const SchemaEvolutionMode mode = options_.schema_evolution_mode;
  if (!extras.empty() && (mode == SchemaEvolutionMode::kFailOnNewColumns ||
                          mode == SchemaEvolutionMode::kAddNewColumns)) {
    std::vector<std::string> names;
    for (const auto& c : extras) names.push_back(c.name);
    std::vector<std::string> keys;
    for (const FileEntry& f : files) keys.push_back(f.key);
    const std::string where = StrCat("new column(s) ", StrJoin(names, ", "), " in batch ", batch,
                                     " (files ", StrJoin(keys, ", "), ")");
    if (mode == SchemaEvolutionMode::kFailOnNewColumns) {
      return Status::FailedPrecondition(
                 StrCat(description(), ": ", where, "; schemaEvolutionMode is failOnNewColumns"))
          .WithHint(
              "add the columns to the schema, remove the files, or use another "
              "schemaEvolutionMode");
    }
    delta::Schema evolved = schema_;
    const bool keep_types = options_.infer_column_types || options_.format == FileFormat::kParquet;
    for (const auto& c : extras) {
      delta::StructField field;
      field.name = c.name;
      field.type = TypeFor(c, keep_types);
      evolved.fields.push_back(std::move(field));
    }
    const int64_t next = schema_version_.value_or(-1) + 1;
    LAKE_RETURN_IF_ERROR(WriteSchema(next, evolved));
    return Status::Unavailable(StrCat(description(), ": ", where,
                                      "; the schema evolved to "
                                      "version ",
                                      next, " with them and the stream stopped"))
        .WithHint(
            "restart the query: it reads on with the new columns (the Delta sink needs "
            "mergeSchema to add them to the table)");
  }

  // The projection onto the schema (design note 5).
  const bool rescue =
      mode == SchemaEvolutionMode::kRescue || mode == SchemaEvolutionMode::kAddNewColumns;
  std::vector<std::string> select;
  std::vector<std::string> rescued;  // json_object arguments
  for (const delta::StructField& field : schema_.fields) {
    LAKE_ASSIGN_OR_RETURN(std::string type, engine::DuckDbTypeFor(field.type));
    const SourceColumn* source = FindColumn(columns, field.name);
    const std::string out = SqlIdent(field.name);
    if (source == nullptr) {
      select.push_back(StrCat("CAST(NULL AS ", type, ") AS ", out));
      continue;
    }
    const std::string in = SqlIdent(source->name);
    if (source->type == type) {
      select.push_back(StrCat(in, " AS ", out));
    } else if (field.type.kind == delta::TypeKind::kString) {
      // Nested values and numbers in a string column: their JSON text.
      select.push_back(StrCat("CAST(to_json(", in, ") AS VARCHAR) AS ", out));
    } else if (rescue) {
      select.push_back(StrCat("TRY_CAST(", in, " AS ", type, ") AS ", out));
      rescued.push_back(StrCat(SqlQuote(source->name), ", CASE WHEN ", in,
                               " IS NOT NULL AND TRY_CAST(", in, " AS ", type,
                               ") IS NULL THEN to_json(", in, ") END"));
    } else {
      select.push_back(StrCat("CAST(", in, " AS ", type, ") AS ", out));
    }
  }
  if (rescue) {
    if (mode == SchemaEvolutionMode::kRescue) {
      for (const auto& c : extras) {
        rescued.push_back(StrCat(SqlQuote(c.name), ", to_json(", SqlIdent(c.name), ")"));
      }
    }
    if (rescued.empty()) {
      select.push_back(StrCat("CAST(NULL AS VARCHAR) AS ", SqlIdent(kRescuedDataColumn)));
    } else {
      // json_merge_patch drops the keys whose value is null: what remains did not fit.
      const std::string rest =
          StrCat("json_merge_patch('{}', json_object(", StrJoin(rescued, ", "), "))");
      select.push_back(StrCat("CASE WHEN CAST(", rest,
                              " AS VARCHAR) <> '{}' THEN CAST(json_merge_patch(", rest,
                              ", json_object('_file_path', ", SqlIdent(kFileColumn),
                              ")) AS VARCHAR) END AS ", SqlIdent(kRescuedDataColumn)));
    }
  }
  std::string from = StrCat(reader, " AS data");
  if (options_.include_metadata) {
    std::vector<std::string> values;
    for (const FileEntry& f : files) {
      values.push_back(StrCat("(", SqlQuote(folder_->LocalPath(f.key).value_or(f.key)), ", ",
                              f.mtime_ms, ", ", f.size, ")"));
    }
    from += StrCat(" JOIN (VALUES ", StrJoin(values, ", "),
                   ") AS meta(path, mtime_ms, size) ON "
                   "meta.path = data.",
                   SqlIdent(kFileColumn));
    select.push_back(
        "struct_pack(file_path := meta.path, file_modification_time := "
        "make_timestamptz(meta.mtime_ms * 1000), file_size := meta.size) AS _metadata");
  }
  Status created = session
                       .Query(StrCat("CREATE OR REPLACE TEMP TABLE ", SqlIdent(table),
                                     " AS SELECT ", StrJoin(select, ", "), " FROM ", from))
                       .status();
  if (!created.ok()) return unreadable(created);
  LAKE_ASSIGN_OR_RETURN(engine::ResultTable count,
                        session.Query(StrCat("SELECT count(*) FROM ", SqlIdent(table))));
  return std::get<int64_t>(count.rows.at(0).at(0).v);
}

Status FilesSource::Commit(BatchId batch, const std::string& end) {
  Statement mark(index_, "UPDATE files SET committed = 1 WHERE batch_id <= ? AND committed = 0");
  sqlite3_bind_int64(mark.get(), 1, batch);
  if (!mark.ok() || sqlite3_step(mark.get()) != SQLITE_DONE) {
    return Status::IOError(
        StrCat(description(), ": file index ", index_path_, ": ", sqlite3_errmsg(index_)));
  }
  return Status::OK();
}

}  // namespace lake::streaming
