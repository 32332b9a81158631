// CONVERT TO DELTA parquet.`/path` [NO STATISTICS] [PARTITIONED BY (c type, ...)]
// (issue #4 §3). See maintenance.h for how the statement arrives here.
//
// Design notes (after delta-io/delta ConvertToDeltaCommand).
//  (1) The files are left where they are: version 0 of a new log names them, with paths
//      relative to the folder and percent-encoded once (the folder names' own %XX escapes
//      become %25XX, so a reader that decodes once lands on the file on disk).
//  (2) Listing is recursive and skips names starting with '_' or '.' (Spark's hidden files:
//      _SUCCESS, _delta_log, .crc). A file's folders below the root must be exactly the
//      PARTITIONED BY columns, in order, as Hive `name=value` folders; anything else is
//      refused, naming the file, rather than guessed at.
//  (3) Partition values are the folder values, Hive-unescaped (%XX), typed by the clause
//      (a value that does not cast is refused) and serialized per PROTOCOL.md "Partition
//      Value Serialization"; __HIVE_DEFAULT_PARTITION__ is null.
//  (4) The schema is the files' schemas merged by name (case-insensitive), in order of first
//      appearance, followed by the partition columns; one column with two different types
//      in two files is refused (Spark's schema merge fails the same way). Files with the
//      same Parquet schema are described once.
//  (5) Stats (unless NO STATISTICS) come from one aggregate scan over all files, per file,
//      of the leaf columns delta.dataSkippingNumIndexedCols selects, handed to the same
//      builder the writer uses (file_stats.h), so they follow the same rules.
//  (6) Refused before anything is written: a folder that already has a _delta_log entry, no
//      data files, a conflict above. The commit is Transaction::BeginCreate's: it claims
//      version 0 with PutIfAbsent, so two concurrent converts cannot both win.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "base/strings.h"
#include "delta/transaction.h"
#include "engine/data_writer.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/errors.h"
#include "engine/internal/file_stats.h"
#include "engine/internal/lake_catalog.h"
#include "engine/internal/maintenance.h"
#include "engine/internal/maintenance_sql.h"
#include "engine/internal/scan.h"

namespace lake::engine::internal {
namespace {

namespace fs = std::filesystem;
using duckdb::ClientContext;
using duckdb::LogicalType;

constexpr std::string_view kNullPartition = "__HIVE_DEFAULT_PARTITION__";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// RFC 3986 percent-encoding of a relative path; unreserved characters, '/' and '=' stay.
std::string EncodeLogPath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '=') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Hive's folder-name unescaping: %XX is the byte XX.
std::string HiveUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool IsHidden(const std::string& name) {
  return !name.empty() && (name[0] == '_' || name[0] == '.');
}

struct SourceFile {
  std::string relative;  // on disk, below the root
  std::string local;     // absolute local path
  int64_t size = 0;
  int64_t modification_time = 0;
  std::vector<std::optional<std::string>> raw_partition;  // folder values, unescaped
  delta::PartitionValues partition_values;                // serialized, per (3)
};

struct ConvertOutcome {
  std::string path;
  delta::Version version = 0;
  int64_t num_files = 0;
};

class Converter {
 public:
  Converter(ClientContext& context, const ConvertSpec& spec)
      : db_(duckdb::DatabaseInstance::GetDatabase(context)), spec_(spec) {}

  Result<ConvertOutcome> Run() {
    location_ = NormalizeLocation(spec_.path);
    what_ = StrCat("CONVERT TO DELTA parquet.`", spec_.path, "`");
    std::string_view local = location_;
    if (StartsWith(local, "file://")) local.remove_prefix(7);
    if (local.find("://") != std::string_view::npos) {
      return Status::NotSupported(StrCat(what_, ": only local folders can be converted so far"))
          .WithHint("copy the files to a local folder first");
    }
    root_ = fs::path(local);
    std::error_code ec;
    if (!fs::is_directory(root_, ec)) {
      return Status::NotFound(StrCat(what_, ": ", root_.string(), " is not a folder"))
          .WithHint("name the folder that holds the Parquet files");
    }
    if (fs::exists(root_ / "_delta_log", ec) && !fs::is_empty(root_ / "_delta_log", ec)) {
      return Status::AlreadyExists(StrCat(what_, ": ", root_.string(),
                                          " already holds a Delta table (_delta_log exists)"))
          .WithHint(StrCat("query it as delta.`", root_.string(), "`; it needs no conversion"));
    }
    session_ = NewSession(db_);
    // Stats of timestamps come back as text: read them in UTC (as the writer's are).
    session_->Query("SET TimeZone = 'UTC'").status().IgnoreError();
    LAKE_RETURN_IF_ERROR(ListFiles());
    LAKE_RETURN_IF_ERROR(TypePartitionValues());
    LAKE_RETURN_IF_ERROR(MergeSchema());

    std::vector<std::optional<std::string>> stats(files_.size());
    if (spec_.collect_stats) {
      LAKE_ASSIGN_OR_RETURN(stats, CollectStats());
    }

    LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store,
                          storage::OpenStore(location_));
    std::unique_ptr<delta::Engine> engine = MakeDeltaEngine(db_, std::move(store));
    Result<std::unique_ptr<delta::Transaction>> begun = delta::Transaction::BeginCreate(*engine);
    if (!begun.ok()) return begun.status().WithContext(what_);
    delta::Transaction& txn = **begun;
    std::vector<std::string> partition_names;
    for (const ColumnSpec& c : spec_.partition_columns) partition_names.push_back(c.name);
    Status updated = txn.UpdateMetadata(delta::NewTableMetadata(
        delta::SerializeDataType(schema_), partition_names, {}, NowMs()));
    if (!updated.ok()) return updated.WithContext(what_);
    for (size_t i = 0; i < files_.size(); ++i) {
      delta::AddFile add;
      add.path = EncodeLogPath(files_[i].relative);
      add.partition_values = files_[i].partition_values;
      add.size = files_[i].size;
      add.modification_time = files_[i].modification_time;
      add.data_change = true;
      add.stats = std::move(stats[i]);
      Status staged = txn.StageAdd(std::move(add));
      if (!staged.ok()) return staged.WithContext(what_);
    }
    std::vector<std::string> quoted;
    for (const std::string& p : partition_names) quoted.push_back(JsonQuote(p));
    const std::string n = std::to_string(files_.size());
    txn.SetOperation(
        "CONVERT",
        StrCat("{\"numFiles\":", JsonQuote(n), ",\"partitionedBy\":",
               JsonQuote(StrCat("[", StrJoin(quoted, ","), "]")), ",\"collectStats\":",
               JsonQuote(spec_.collect_stats ? "true" : "false"),
               ",\"sourceFormat\":\"\\\"parquet\\\"\"}"),
        StrCat("{\"numConvertedFiles\":", JsonQuote(n), "}"));
    Result<delta::CommitResult> committed = txn.Commit();
    if (!committed.ok()) return committed.status().WithContext(what_);
    return ConvertOutcome{location_, committed->version, static_cast<int64_t>(files_.size())};
  }

 private:
  // (2) Lists the data files and checks their partition folders.
  Status ListFiles() {
    std::error_code ec;
    fs::recursive_directory_iterator it(root_, ec), end;
    if (ec) return Status::IOError(StrCat(what_, ": listing ", root_.string(), ": ", ec.message()));
    for (; it != end; it.increment(ec)) {
      if (ec) return Status::IOError(StrCat(what_, ": listing ", root_.string(), ": ", ec.message()));
      const std::string name = it->path().filename().string();
      if (IsHidden(name)) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      SourceFile file;
      file.local = it->path().string();
      file.relative = it->path().lexically_relative(root_).generic_string();
      struct stat st;
      if (::stat(file.local.c_str(), &st) != 0) {
        return Status::IOError(StrCat(what_, ": stat of ", file.local, " failed"));
      }
      file.size = static_cast<int64_t>(st.st_size);
      file.modification_time =
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
      LAKE_RETURN_IF_ERROR(ParseFolders(file));
      files_.push_back(std::move(file));
    }
    if (files_.empty()) {
      return Status::InvalidArgument(StrCat(what_, ": no Parquet files under ", root_.string()))
          .WithHint("a schema cannot be inferred from no files; CREATE TABLE with columns instead");
    }
    std::sort(files_.begin(), files_.end(),
              [](const SourceFile& a, const SourceFile& b) { return a.relative < b.relative; });
    return Status::OK();
  }

  Status ParseFolders(SourceFile& file) {
    std::vector<std::string> folders = StrSplit(file.relative, '/');
    folders.pop_back();  // the file name
    const auto& columns = spec_.partition_columns;
    auto refuse = [&](std::string why) {
      std::vector<std::string> expected;
      for (const ColumnSpec& c : columns) expected.push_back(c.name + "=<value>");
      return Status::InvalidArgument(StrCat(what_, ": ", file.relative, ": ", why))
          .WithHint(columns.empty()
                        ? std::string("files in Hive partition folders need PARTITIONED BY "
                                      "(column type, ...) naming the folders' columns")
                        : StrCat("every file must sit in folders ", StrJoin(expected, "/"),
                                 " matching PARTITIONED BY"));
    };
    if (folders.size() != columns.size()) {
      return refuse(StrCat("is ", folders.size(), " folder(s) deep, PARTITIONED BY names ",
                           columns.size(), " column(s)"));
    }
    for (size_t i = 0; i < folders.size(); ++i) {
      size_t eq = folders[i].find('=');
      if (eq == std::string::npos) return refuse(StrCat("folder ", folders[i], " is not name=value"));
      std::string name = HiveUnescape(folders[i].substr(0, eq));
      if (ToLower(name) != ToLower(columns[i].name)) {
        return refuse(StrCat("folder ", folders[i], " is partition column ", name,
                             ", PARTITIONED BY expects ", columns[i].name, " at this level"));
      }
      std::string value = HiveUnescape(folders[i].substr(eq + 1));
      file.raw_partition.push_back(value == kNullPartition ? std::nullopt
                                                           : std::optional<std::string>(value));
    }
    return Status::OK();
  }

  // (3) Types each distinct folder value with one query per partition column.
  Status TypePartitionValues() {
    for (size_t c = 0; c < spec_.partition_columns.size(); ++c) {
      const ColumnSpec& column = spec_.partition_columns[c];
      std::set<std::string> distinct;
      for (const SourceFile& f : files_) {
        if (f.raw_partition[c]) distinct.insert(*f.raw_partition[c]);
      }
      std::map<std::string, std::string> serialized;
      if (column.type.kind == delta::TypeKind::kString) {
        for (const std::string& v : distinct) serialized[v] = v;
      } else if (!distinct.empty()) {
        LAKE_ASSIGN_OR_RETURN(LogicalType type, DuckTypeOf(column.type, column.name));
        std::string expr;
        const std::string cast = StrCat("TRY_CAST(v AS ", type.ToString(), ")");
        switch (column.type.kind) {
          case delta::TypeKind::kTimestamp:
            expr = StrCat("strftime(timezone('UTC', ", cast, "), '%Y-%m-%dT%H:%M:%S.%fZ')");
            break;
          case delta::TypeKind::kTimestampNtz:
            expr = StrCat("strftime(", cast, ", '%Y-%m-%d %H:%M:%S.%f')");
            break;
          case delta::TypeKind::kBinary:
          case delta::TypeKind::kStruct:
          case delta::TypeKind::kArray:
          case delta::TypeKind::kMap:
            return Status::NotSupported(StrCat(what_, ": partition column ", column.name,
                                               " of type ", column.type.ToString()))
                .WithHint("partition by a string, number, boolean, date or timestamp column");
          default:
            expr = StrCat("CAST(", cast, " AS VARCHAR)");
        }
        std::vector<std::string> values;
        for (const std::string& v : distinct) values.push_back(StrCat("(", SqlQuote(v), ")"));
        LAKE_ASSIGN_OR_RETURN(ResultTable typed,
                              session_->Query(StrCat("SELECT v, ", expr, " FROM (VALUES ",
                                                     StrJoin(values, ", "), ") AS t(v)")));
        for (const auto& row : typed.rows) {
          const std::string* raw = std::get_if<std::string>(&row[0].v);
          const std::string* text = std::get_if<std::string>(&row[1].v);
          if (raw == nullptr) continue;
          if (text == nullptr) {
            return Status::InvalidArgument(StrCat(what_, ": partition folder ", column.name, "=",
                                                  *raw, " is not a value of type ",
                                                  column.type.ToString()))
                .WithHint("fix the type in PARTITIONED BY, or move the files");
          }
          serialized[*raw] = *text;
        }
      }
      for (SourceFile& f : files_) {
        const auto& raw = f.raw_partition[c];
        f.partition_values.emplace_back(
            column.name, raw && !(column.type.kind == delta::TypeKind::kString && raw->empty())
                             ? std::optional<std::string>(serialized.at(*raw))
                             : std::nullopt);
      }
    }
    return Status::OK();
  }

  std::string FileList() const {
    std::vector<std::string> quoted;
    for (const SourceFile& f : files_) quoted.push_back(SqlQuote(f.local));
    return StrCat("[", StrJoin(quoted, ", "), "]");
  }

  // (4) The merged schema.
  Status MergeSchema() {
    // Files with one Parquet schema share a fingerprint; each fingerprint is described once.
    LAKE_ASSIGN_OR_RETURN(
        ResultTable prints,
        session_->Query(StrCat(
            "SELECT file_name, CAST(list_sort(list(concat_ws(':', name, type, converted_type, "
            "logical_type, num_children, repetition_type, field_id))) AS VARCHAR) FROM "
            "parquet_schema(",
            FileList(), ") GROUP BY file_name")));
    std::map<std::string, std::string> representative;  // fingerprint -> file
    for (const auto& row : prints.rows) {
      const std::string* file = std::get_if<std::string>(&row[0].v);
      const std::string* print = std::get_if<std::string>(&row[1].v);
      if (file && print) representative.emplace(*print, *file);
    }
    std::map<std::string, std::pair<std::string, std::string>> seen;  // lower name -> type, file
    schema_.kind = delta::TypeKind::kStruct;
    for (const SourceFile& f : files_) {  // in file order, for a stable column order
      bool is_representative = false;
      for (const auto& [print, file] : representative) is_representative |= file == f.local;
      if (!is_representative) continue;
      LAKE_ASSIGN_OR_RETURN(
          ResultTable empty,
          session_->Query(StrCat("SELECT * FROM read_parquet(", SqlQuote(f.local),
                                 ", hive_partitioning = false) LIMIT 0")));
      Result<QuerySchema> schema = DeltaSchemaFor(empty.columns);
      if (!schema.ok()) return schema.status().WithContext(StrCat(what_, ": ", f.relative));
      for (delta::StructField& field : schema->schema.fields) {
        const std::string key = ToLower(field.name);
        const std::string type = field.type.ToString();
        auto [it, inserted] = seen.emplace(key, std::make_pair(type, f.relative));
        if (!inserted) {
          if (it->second.first != type) {
            return Status::InvalidArgument(
                       StrCat(what_, ": column ", field.name, " is ", it->second.first, " in ",
                              it->second.second, " but ", type, " in ", f.relative))
                .WithHint("rewrite the files so that every column has one type, then convert");
          }
          continue;
        }
        for (const ColumnSpec& p : spec_.partition_columns) {
          if (ToLower(p.name) == key) {
            return Status::InvalidArgument(StrCat(what_, ": partition column ", p.name,
                                                  " is also a column inside ", f.relative))
                .WithHint("a partition column lives in the folder names only");
          }
        }
        field.nullable = true;
        schema_.fields.push_back(std::move(field));
      }
    }
    data_fields_ = schema_.fields;
    for (const ColumnSpec& p : spec_.partition_columns) schema_.fields.push_back(FieldFor(p));
    return Status::OK();
  }

  struct Leaf {
    std::vector<std::string> path;
    std::string expr;
    delta::DataType type;
  };

  static void Leaves(const std::vector<StatsColumn>& columns, std::vector<std::string>& path,
                     const std::string& parent, std::vector<Leaf>& out) {
    for (const StatsColumn& c : columns) {
      path.push_back(c.physical_name);
      std::string expr = parent.empty() ? SqlIdent(c.physical_name)
                                        : StrCat("struct_extract(", parent, ", ",
                                                 SqlQuote(c.physical_name), ")");
      if (c.type.kind == delta::TypeKind::kStruct) {
        Leaves(c.children, path, expr, out);
      } else {
        out.push_back(Leaf{path, expr, c.type});
      }
      path.pop_back();
    }
  }

  static bool HasMinMax(const delta::DataType& type) {
    switch (type.kind) {
      case delta::TypeKind::kByte:
      case delta::TypeKind::kShort:
      case delta::TypeKind::kInteger:
      case delta::TypeKind::kLong:
      case delta::TypeKind::kFloat:
      case delta::TypeKind::kDouble:
      case delta::TypeKind::kDecimal:
      case delta::TypeKind::kDate:
      case delta::TypeKind::kTimestamp:
      case delta::TypeKind::kTimestampNtz:
      case delta::TypeKind::kString:
        return true;
      default:
        return false;
    }
  }

  // (5) Stats JSON per file, in files_ order.
  Result<std::vector<std::optional<std::string>>> CollectStats() {
    LAKE_ASSIGN_OR_RETURN(std::vector<StatsColumn> indexed,
                          IndexedStatsColumns(data_fields_, "none", kDefaultNumIndexedCols,
                                              std::nullopt));
    std::vector<Leaf> leaves;
    std::vector<std::string> path;
    Leaves(indexed, path, "", leaves);
    std::vector<std::string> select = {"filename", "count(*)"};
    struct Slot {
      size_t leaf;
      std::string stat;
      size_t column;
    };
    std::vector<Slot> slots;
    for (size_t l = 0; l < leaves.size(); ++l) {
      const Leaf& leaf = leaves[l];
      const bool nested_container = leaf.type.kind == delta::TypeKind::kArray ||
                                    leaf.type.kind == delta::TypeKind::kMap;
      if (HasMinMax(leaf.type)) {
        slots.push_back({l, "min", select.size()});
        select.push_back(StrCat("CAST(min(", leaf.expr, ") AS VARCHAR)"));
        slots.push_back({l, "max", select.size()});
        select.push_back(StrCat("CAST(max(", leaf.expr, ") AS VARCHAR)"));
        if (leaf.type.kind == delta::TypeKind::kFloat || leaf.type.kind == delta::TypeKind::kDouble) {
          slots.push_back({l, "has_nan", select.size()});
          select.push_back(
              StrCat("CASE WHEN bool_or(isnan(", leaf.expr, ")) THEN 'true' ELSE 'false' END"));
        }
      }
      if (!nested_container) {
        slots.push_back({l, "null_count", select.size()});
        select.push_back(StrCat("CAST(count(*) - count(", leaf.expr, ") AS VARCHAR)"));
      }
    }
    LAKE_ASSIGN_OR_RETURN(
        ResultTable result,
        session_->Query(StrCat("SELECT ", StrJoin(select, ", "), " FROM read_parquet(", FileList(),
                               ", filename = true, union_by_name = true, hive_partitioning = "
                               "false) GROUP BY filename")));
    std::map<std::string, std::string> by_file;
    for (const auto& row : result.rows) {
      const std::string* file = std::get_if<std::string>(&row[0].v);
      if (file == nullptr) continue;
      int64_t records = 0;
      if (const int64_t* n = std::get_if<int64_t>(&row[1].v)) records = *n;
      std::vector<WrittenColumnStats> written(leaves.size());
      for (size_t l = 0; l < leaves.size(); ++l) written[l].path = leaves[l].path;
      for (const Slot& s : slots) {
        if (const std::string* text = std::get_if<std::string>(&row[s.column].v)) {
          written[s.leaf].stats[s.stat] = *text;
        }
      }
      by_file[*file] = BuildStatsJson(indexed, records, written);
    }
    std::vector<std::optional<std::string>> out;
    for (const SourceFile& f : files_) {
      auto it = by_file.find(f.local);
      // A file with no rows has no group: its stats say so.
      out.push_back(it != by_file.end() ? it->second : BuildStatsJson(indexed, 0, {}));
    }
    return out;
  }

  duckdb::DatabaseInstance& db_;
  const ConvertSpec& spec_;
  std::string location_, what_;
  fs::path root_;
  std::unique_ptr<Session> session_;
  std::vector<SourceFile> files_;
  delta::Schema schema_;
  std::vector<delta::StructField> data_fields_;
};

// ---- lake_convert(sql) ----

struct ConvertData final : duckdb::TableFunctionData {
  ConvertSpec spec;
};

struct ConvertState final : duckdb::GlobalTableFunctionState {
  bool done = false;
};

duckdb::unique_ptr<duckdb::FunctionData> ConvertBind(ClientContext&,
                                                     duckdb::TableFunctionBindInput& input,
                                                     duckdb::vector<LogicalType>& types,
                                                     duckdb::vector<std::string>& names) {
  const std::string sql = input.inputs[0].ToString();
  MaintenanceParse parsed = ParseMaintenanceSql(sql);
  if (parsed.kind != MaintenanceParse::Kind::kParsed ||
      !std::holds_alternative<ConvertSpec>(parsed.statement)) {
    ThrowStatus(Status::InvalidArgument(StrCat(
        "lake_convert: not a CONVERT TO DELTA statement: ",
        parsed.kind == MaintenanceParse::Kind::kError ? parsed.error : sql)));
  }
  auto data = duckdb::make_uniq<ConvertData>();
  data->spec = std::get<ConvertSpec>(std::move(parsed.statement));
  names = {"path", "version", "numConvertedFiles"};
  types = {LogicalType::VARCHAR, LogicalType::BIGINT, LogicalType::BIGINT};
  return data;
}

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> ConvertInit(ClientContext&,
                                                                 duckdb::TableFunctionInitInput&) {
  return duckdb::make_uniq<ConvertState>();
}

void ConvertScan(ClientContext& context, duckdb::TableFunctionInput& input,
                 duckdb::DataChunk& output) {
  auto& data = input.bind_data->Cast<ConvertData>();
  auto& state = input.global_state->Cast<ConvertState>();
  if (state.done) {
    output.SetCardinality(0);
    return;
  }
  state.done = true;
  ConvertOutcome out = ValueOrThrow(Converter(context, data.spec).Run());
  output.SetValue(0, 0, duckdb::Value(out.path));
  output.SetValue(1, 0, duckdb::Value::BIGINT(out.version));
  output.SetValue(2, 0, duckdb::Value::BIGINT(out.num_files));
  output.SetCardinality(1);
}

}  // namespace

void RegisterConvert(duckdb::DatabaseInstance& db) {
  duckdb::ExtensionLoader loader(db, "lake");
  loader.RegisterFunction(duckdb::TableFunction("lake_convert", {LogicalType::VARCHAR},
                                                ConvertScan, ConvertBind, ConvertInit));
}

}  // namespace lake::engine::internal
