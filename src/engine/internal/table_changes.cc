// table_changes / table_changes_by_path (internal/table_changes.h).
//
// Design notes.
//  (1) The functions are bind_replace: bind plans the range with delta::ListChangeFiles and
//      replaces itself by one UNION ALL query, one branch per (version, kind of change). So
//      DuckDB plans, parallelises and pushes projections into every file read, and the feed
//      is read with exactly the code that reads the table (delta_scan): deletion vectors,
//      partition values and column mapping cannot drift between a query and its changes.
//  (2) Inserts of version v read the added files in v's snapshot (their DV at v applied);
//      deletes read the removed files in v-1's snapshot (the DV they had before removal:
//      PROTOCOL.md "Deletion Vectors", rows deleted earlier were not deleted again at v).
//  (3) A DV update of one file at v (change_feed.h note 3) is two anti-joins on
//      file_row_number between the file at v-1 and at v: rows that left are 'delete', rows
//      that came back are 'insert'. No DV is decoded here; delta_scan applies them.
//  (4) cdc files are not in any snapshot, so they are read with read_parquet: by physical
//      column names (they are written like data files), partition columns as constants
//      from the cdc action, every value cast to delta_scan's type of its column so the branches
//      of the union agree. _change_type comes from the file as written.
//  (5) Each snapshot a branch names comes from the database's SnapshotCache, so every
//      distinct version a branch reads costs a snapshot load and a bind. Hence added files
//      without a DV are read at the last version of the range where they are still live as
//      added (the end, or the version before the commit that removes them, which the delete
//      branch reads anyway): one scan per such version, each row tagged with its commit by
//      a join on `filename`. A file's rows are the same in every snapshot where it is live
//      without a DV.
#include "engine/internal/table_changes.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "delta/change_feed.h"
#include "delta/snapshot.h"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/subqueryref.hpp"
#include "engine/internal/errors.h"
#include "engine/internal/lake_catalog.h"
#include "engine/internal/scan.h"
#include "engine/internal/snapshot_cache.h"

namespace lake::engine::internal {
namespace {

using duckdb::LogicalType;
using duckdb::LogicalTypeId;
using duckdb::Value;

constexpr const char* kChangeColumns[] = {"_change_type", "_commit_version", "_commit_timestamp"};

std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string QuoteString(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// A TIMESTAMPTZ literal for `ms` since the epoch, with an explicit UTC offset so the session's
// TimeZone setting cannot shift it.
std::string TimestampLiteral(int64_t ms) {
  int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  int64_t millis = ms - secs * 1000;
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  snprintf(buf, sizeof(buf), "'%04d-%02d-%02d %02d:%02d:%02d.%03d+00'::TIMESTAMPTZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           static_cast<int>(millis));
  return buf;
}

std::string StringList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += QuoteString(items[i]);
  }
  return out + "]";
}

struct Column {
  const delta::StructField* field;
  std::string type_sql;  // delta_scan's DuckDB type of the column
  bool is_partition = false;
};

class QueryBuilder {
 public:
  QueryBuilder(const std::string& table_uri, const delta::Snapshot& snapshot,
               storage::ObjectStore& store, std::vector<Column> columns)
      : uri_(table_uri), snapshot_(snapshot), store_(store), columns_(std::move(columns)) {}

  // The data columns as delta_scan names them, optionally qualified by `alias`.
  std::string DataColumns(const std::string& alias = "") const {
    std::string out;
    for (const Column& c : columns_) {
      if (!out.empty()) out += ", ";
      if (!alias.empty()) out += alias + ".";
      out += QuoteIdent(c.field->name);
    }
    return out;
  }

  std::string ChangeColumns(const std::string& change_type_sql,
                            const delta::CommitChanges& commit) const {
    return StrCat(change_type_sql, " AS _change_type, CAST(", commit.version,
                  " AS BIGINT) AS _commit_version, ", TimestampLiteral(commit.timestamp_ms),
                  " AS _commit_timestamp");
  }

  std::string Scan(delta::Version version, const std::vector<std::string>& paths) const {
    return StrCat("delta_scan(", QuoteString(uri_), ", version := ", version,
                  ", files := ", StringList(paths), ")");
  }

  // Inserted or deleted rows of whole files (design note 2).
  void AddFiles(const delta::CommitChanges& commit, const std::vector<std::string>& paths,
                delta::Version read_version, const char* change_type) {
    if (paths.empty()) return;
    branches_.push_back(StrCat("SELECT ", DataColumns(), ", ",
                               ChangeColumns(QuoteString(change_type), commit), " FROM ",
                               Scan(read_version, paths)));
  }

  // Whole added files live, without a DV, at `end_version`: one scan of that snapshot for all
  // of them, each row tagged with its file's commit through a join on the scan's
  // `filename` (design note 5). `files`: (local path as delta_scan names it, log path,
  // version, timestamp ms); a path added twice in the range appears twice and yields its rows
  // once per add, as reading each add on its own would.
  struct LiveAdd {
    std::string local_path;
    std::string log_path;
    delta::Version version;
    int64_t timestamp_ms;
  };
  void LiveInserts(delta::Version end_version, const std::vector<LiveAdd>& files) {
    if (files.empty()) return;
    std::vector<std::string> paths;
    std::string values;
    for (const LiveAdd& f : files) {
      paths.push_back(f.log_path);
      if (!values.empty()) values += ", ";
      values += StrCat("(", QuoteString(f.local_path), ", CAST(", f.version, " AS BIGINT), ",
                       TimestampLiteral(f.timestamp_ms), ")");
    }
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    branches_.push_back(StrCat("SELECT ", DataColumns("a"),
                               ", 'insert' AS _change_type, m.v AS _commit_version, m.ts AS "
                               "_commit_timestamp FROM ",
                               Scan(end_version, paths), " AS a JOIN (VALUES ", values,
                               ") AS m(f, v, ts) ON a.filename = m.f"));
  }

  // Rows of `path` live at `from` but not at `to` (design note 3).
  void DvDifference(const delta::CommitChanges& commit, const std::string& path,
                    delta::Version from, delta::Version to, const char* change_type) {
    branches_.push_back(StrCat(
        "SELECT ", DataColumns("a"), ", ", ChangeColumns(QuoteString(change_type), commit),
        " FROM ", Scan(from, {path}), " AS a WHERE a.file_row_number NOT IN (SELECT ",
        "b.file_row_number FROM ", Scan(to, {path}), " AS b)"));
  }

  // cdc files of one commit (design note 4), one branch per set of partition values.
  Status CdcFiles(const delta::CommitChanges& commit) {
    const std::string& mode = snapshot_.column_mapping_mode();
    std::map<delta::PartitionValues, std::vector<std::string>> groups;
    for (const delta::AddCdcFile& cdc : commit.cdc_files) {
      delta::AddFile as_add;  // LocalDataFilePath resolves an add's path
      as_add.path = cdc.path;
      LAKE_ASSIGN_OR_RETURN(std::string local, LocalDataFilePath(snapshot_, store_, as_add));
      delta::PartitionValues key = cdc.partition_values;
      std::sort(key.begin(), key.end());
      groups[std::move(key)].push_back(std::move(local));
    }
    for (const auto& [partition_values, files] : groups) {
      std::string select;
      for (const Column& c : columns_) {
        if (!select.empty()) select += ", ";
        const std::string& physical = c.field->PhysicalNameFor(mode);
        if (c.is_partition) {
          std::optional<std::string> raw;
          for (const auto& [k, v] : partition_values) {
            if (k == physical) raw = v;
          }
          // Partition values are serialized as Spark casts them to strings (PROTOCOL.md
          // "Partition Value Serialization"), which DuckDB's casts read back.
          select += StrCat("CAST(", raw ? QuoteString(*raw) : std::string("NULL"), " AS ",
                           c.type_sql, ") AS ", QuoteIdent(c.field->name));
          continue;
        }
        if (mode != "none" && !c.field->type.is_primitive()) {
          return Status::NotSupported(
                     StrCat(uri_, " version ", commit.version, ": reading change data files of ",
                            "a column-mapped table with nested column ", c.field->name,
                            " is not supported yet"))
              .WithHint("read a range without cdc files, or select from the table instead");
        }
        select += StrCat("CAST(", QuoteIdent(physical), " AS ", c.type_sql, ") AS ",
                         QuoteIdent(c.field->name));
      }
      select += ", ";
      branches_.push_back(StrCat("SELECT ", select,
                                 ChangeColumns("CAST(_change_type AS VARCHAR)", commit),
                                 " FROM read_parquet(", StringList(files), ")"));
    }
    return Status::OK();
  }

  std::string Finish() const {
    if (branches_.empty()) {
      // An empty feed still has the feed's columns and types.
      std::string select;
      for (const Column& c : columns_) {
        select += StrCat("CAST(NULL AS ", c.type_sql, ") AS ", QuoteIdent(c.field->name), ", ");
      }
      return StrCat("SELECT ", select,
                    "CAST(NULL AS VARCHAR) AS _change_type, CAST(NULL AS BIGINT) AS "
                    "_commit_version, CAST(NULL AS TIMESTAMPTZ) AS _commit_timestamp WHERE false");
    }
    std::string out;
    for (const std::string& branch : branches_) {
      if (!out.empty()) out += "\nUNION ALL\n";
      out += branch;
    }
    return out;
  }

 private:
  const std::string& uri_;
  const delta::Snapshot& snapshot_;
  storage::ObjectStore& store_;
  std::vector<Column> columns_;
  std::vector<std::string> branches_;
};

// Returns the value of a start/end argument: a version, or a timestamp in ms.
struct Bound {
  int64_t value = 0;
  bool is_timestamp = false;
};

Bound ParseBound(const Value& v, const char* function, const char* which) {
  if (v.IsNull()) {
    ThrowStatus(Status::InvalidArgument(StrCat(function, ": the ", which, " must not be NULL"))
                    .WithHint("give a version (integer) or a timestamp ('YYYY-MM-DD hh:mm:ss')"));
  }
  switch (v.type().id()) {
    case LogicalTypeId::TINYINT:
    case LogicalTypeId::SMALLINT:
    case LogicalTypeId::INTEGER:
    case LogicalTypeId::BIGINT:
    case LogicalTypeId::UTINYINT:
    case LogicalTypeId::USMALLINT:
    case LogicalTypeId::UINTEGER:
    case LogicalTypeId::UBIGINT:
    case LogicalTypeId::HUGEINT:
      return Bound{v.GetValue<int64_t>(), false};
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_TZ: {
      int64_t micros = v.GetValueUnsafe<int64_t>();
      return Bound{micros / 1000 - ((micros % 1000) < 0 ? 1 : 0), true};
    }
    case LogicalTypeId::DATE:
      return Bound{int64_t{v.GetValueUnsafe<int32_t>()} * 86400000, true};
    case LogicalTypeId::VARCHAR: {
      // Spark reads a string bound as a timestamp; without an offset it is UTC here (lake
      // sessions run in UTC).
      std::string text = v.ToString();
      duckdb::timestamp_t ts;
      try {
        ts = duckdb::Timestamp::FromString(text, /*use_offset=*/true);
      } catch (const std::exception&) {
        ThrowStatus(Status::InvalidArgument(StrCat(function, ": the ", which, " '", text,
                                                   "' is not a timestamp"))
                        .WithHint("write it as 'YYYY-MM-DD hh:mm:ss[.fff][+hh:mm]', or give a "
                                  "version as an integer"));
      }
      int64_t micros = duckdb::Timestamp::GetEpochMicroSeconds(ts);
      return Bound{micros / 1000 - ((micros % 1000) < 0 ? 1 : 0), true};
    }
    default:
      ThrowStatus(Status::InvalidArgument(StrCat(function, ": the ", which, " has type ",
                                                 v.type().ToString()))
                      .WithHint("give a version (integer) or a timestamp string"));
  }
}

duckdb::unique_ptr<duckdb::TableRef> BindChanges(duckdb::ClientContext& context,
                                                 duckdb::TableFunctionBindInput& input,
                                                 bool by_name) {
  const char* function = by_name ? "table_changes" : "table_changes_by_path";
  const Value& target = input.inputs[0];
  if (target.IsNull() || target.ToString().empty()) {
    ThrowStatus(Status::InvalidArgument(
        StrCat(function, ": the table ", by_name ? "name" : "path", " must be a non-empty string")));
  }
  std::string location =
      by_name ? ValueOrThrow(ResolveTableLocation(context, target.ToString())) : target.ToString();
  Bound start = ParseBound(input.inputs[1], function, "start");
  std::optional<Bound> end;
  if (input.inputs.size() > 2) end = ParseBound(input.inputs[2], function, "end");

  SnapshotCache& cache = SnapshotCache::Get(duckdb::DatabaseInstance::GetDatabase(context));
  CachedTable latest = ValueOrThrow(cache.Latest(location));
  delta::ChangeFeedRange range = ValueOrThrow(delta::ResolveChangeFeedRange(
      *latest.engine, start.value, start.is_timestamp,
      end ? std::optional<int64_t>(end->value) : std::nullopt, end && end->is_timestamp));
  std::vector<delta::CommitChanges> commits =
      ValueOrThrow(delta::ListChangeFiles(*latest.engine, range));
  CachedTable at_end = ValueOrThrow(cache.AtVersion(latest.table_uri, range.end));
  std::string sql = ValueOrThrow(
      ChangeFeedQuery(latest.table_uri, *at_end.snapshot, latest.engine->store(), commits));

  duckdb::Parser parser(context.GetParserOptions());
  parser.ParseQuery(sql);
  if (parser.statements.size() != 1 ||
      parser.statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
    ThrowStatus(Status::Internal(StrCat(function, ": the change query did not parse as one SELECT")));
  }
  duckdb::unique_ptr<duckdb::SelectStatement> select(
      static_cast<duckdb::SelectStatement*>(parser.statements[0].release()));
  auto ref = duckdb::make_uniq<duckdb::SubqueryRef>(std::move(select));
  ref->alias = function;
  return ref;
}

duckdb::unique_ptr<duckdb::TableRef> BindByName(duckdb::ClientContext& context,
                                                duckdb::TableFunctionBindInput& input) {
  return BindChanges(context, input, /*by_name=*/true);
}

duckdb::unique_ptr<duckdb::TableRef> BindByPath(duckdb::ClientContext& context,
                                                duckdb::TableFunctionBindInput& input) {
  return BindChanges(context, input, /*by_name=*/false);
}

void NeverScanned(duckdb::ClientContext&, duckdb::TableFunctionInput&, duckdb::DataChunk&) {
  ThrowStatus(Status::Internal("table_changes: bind_replace always replaces the scan"));
}

}  // namespace

Result<std::string> ChangeFeedQuery(const std::string& table_uri,
                                    const delta::Snapshot& schema_snapshot,
                                    storage::ObjectStore& store,
                                    const std::vector<delta::CommitChanges>& commits) {
  LAKE_RETURN_IF_ERROR(schema_snapshot.schema_status());
  const delta::Metadata& metadata = schema_snapshot.metadata();
  std::vector<Column> columns;
  for (const delta::StructField& field : schema_snapshot.schema().fields) {
    for (const char* reserved : kChangeColumns) {
      if (ToLower(field.name) == reserved) {
        return Status::NotSupported(StrCat(table_uri, ": data column ", field.name,
                                           " has the name of a change data feed column"))
            .WithHint("rename the column to read the table's change data");
      }
    }
    LAKE_ASSIGN_OR_RETURN(LogicalType type, DuckTypeOf(field.type, field.name));
    Column column{&field, type.ToString(), false};
    for (const std::string& p : metadata.partition_columns) {
      if (ToLower(p) == ToLower(field.name)) column.is_partition = true;
    }
    columns.push_back(std::move(column));
  }
  // Versions in the range where each path stops being live as added (removed with or without
  // dataChange, or its DV changed: every such commit has a remove), ascending: an add without a DV at v reads the same rows at any version up to the
  // first of these after v, minus one (design note 5).
  std::map<std::string, std::vector<delta::Version>> touched;
  for (const delta::CommitChanges& commit : commits) {
    for (const std::string& path : commit.removed_paths) touched[path].push_back(commit.version);
  }
  bool can_join_on_filename = true;  // a data column `filename` would hide the scan's
  for (const Column& c : columns) {
    if (ToLower(c.field->name) == "filename") can_join_on_filename = false;
  }
  const delta::Version end_version =
      commits.empty() ? schema_snapshot.version() : commits.back().version;
  std::map<delta::Version, std::vector<QueryBuilder::LiveAdd>> grouped_inserts;
  QueryBuilder builder(table_uri, schema_snapshot, store, std::move(columns));
  for (const delta::CommitChanges& commit : commits) {
    if (!commit.cdc_files.empty()) {
      LAKE_RETURN_IF_ERROR(builder.CdcFiles(commit));
      continue;
    }
    std::vector<std::string> inserted, deleted;
    for (const delta::AddFile& add : commit.inserted) {
      if (!can_join_on_filename || add.deletion_vector) {
        inserted.push_back(add.path);
        continue;
      }
      delta::Version read_at = end_version;
      auto t = touched.find(add.path);
      if (t != touched.end()) {
        auto next = std::upper_bound(t->second.begin(), t->second.end(), commit.version);
        if (next != t->second.end()) read_at = *next - 1;
      }
      LAKE_ASSIGN_OR_RETURN(std::string local, LocalDataFilePath(schema_snapshot, store, add));
      grouped_inserts[read_at].push_back(
          {std::move(local), add.path, commit.version, commit.timestamp_ms});
    }
    for (const delta::RemoveFile& remove : commit.deleted) deleted.push_back(remove.path);
    builder.AddFiles(commit, inserted, commit.version, "insert");
    if (!deleted.empty() && commit.version == 0) {
      return Status::Corruption(StrCat(table_uri, ": commit 0 removes data files"));
    }
    builder.AddFiles(commit, deleted, commit.version - 1, "delete");
    for (const delta::DvUpdate& update : commit.dv_updates) {
      if (commit.version == 0) {
        return Status::Corruption(StrCat(table_uri, ": commit 0 removes data files"));
      }
      builder.DvDifference(commit, update.add.path, commit.version - 1, commit.version,
                           "delete");
      builder.DvDifference(commit, update.add.path, commit.version, commit.version - 1,
                           "insert");
    }
  }
  for (const auto& [read_at, files] : grouped_inserts) builder.LiveInserts(read_at, files);
  return builder.Finish();
}

void RegisterTableChanges(duckdb::DatabaseInstance& db) {
  duckdb::ExtensionLoader loader(db, "lake");
  for (bool by_name : {true, false}) {
    duckdb::TableFunctionSet set(by_name ? "table_changes" : "table_changes_by_path");
    for (size_t arity : {2, 3}) {
      duckdb::vector<LogicalType> args = {LogicalType::VARCHAR, LogicalType::ANY};
      if (arity == 3) args.push_back(LogicalType::ANY);
      duckdb::TableFunction f(set.name, args, NeverScanned);
      f.bind_replace = by_name ? BindByName : BindByPath;
      set.AddFunction(std::move(f));
    }
    loader.RegisterFunction(std::move(set));
  }
}

}  // namespace lake::engine::internal
