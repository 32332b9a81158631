// OPTIMIZE [WHERE partition_predicate] [ZORDER BY (c, ...)] (issue #4 §3). See maintenance.h
// for how the statement arrives here.
//
// Design notes (after delta-io/delta OptimizeExecutor and BinPackingUtils).
//  (1) Selection. The live files of the version read are grouped by partition; WHERE picks
//      partitions (it is evaluated over the partition values alone, so a reference to a data
//      column fails to bind and is reported as such). Without ZORDER, a file is a candidate
//      when it is smaller than delta.targetFileSize (Spark's minFileSize) or when its deletion
//      vector hides more than 5% of its rows (Spark's maxDeletedRowsRatio). Candidates of a
//      partition are sorted by size and packed greedily into bins of at most the target size
//      (maxFileSize); a bin of one file without a deletion vector is dropped: rewriting it
//      alone would change nothing. With ZORDER every file of a selected partition is one job.
//  (2) Writing. Each bin becomes one file: WriteDataFiles over delta_scan(..., files := bin),
//      which drops rows deleted by deletion vectors and writes stats and column mapping. The
//      bin is written as an unpartitioned write into the folder of one of its files, then
//      its adds get that folder's prefix and the bin's partitionValues: DuckDB's partitioned
//      COPY would make one file per thread, and the folder is where a reader expects it.
//  (3) Z-order. Each Z-ordered column is mapped to an order-preserving rank with
//      ntile(2^b) over the partition (b = min(16, 64 / #columns) bits); the ranks' bits are
//      interleaved into one UBIGINT key, most significant bits first. The partition's rows,
//      sorted by that key, are cut into n = ceil(input bytes / target) runs of equal row
//      count, one file each: every file covers a narrow box of the key space, hence narrow
//      min/max ranges on every listed column. Partition columns are refused (Spark does: a
//      partition already holds a single value of them).
//  (4) Commit. Every rewritten file is removed and every new file added with dataChange =
//      false (PROTOCOL.md "Add File and Remove File": the rows did not change, so streaming
//      readers skip the commit). The transaction records no predicate: its staged removes are
//      its reads, so a concurrent append never conflicts while a concurrent commit that
//      removed one of the same files does (delete-delete / delete-read). Nothing to rewrite:
//      no commit.
//  (5) Files written before an error are orphans no commit names; they are deleted when the
//      failure happens before the commit is attempted, and left for VACUUM otherwise (a
//      commit whose outcome is unknown may have named them).
//  (6) REORG TABLE ... APPLY (PURGE) (reorg_sql.h) runs here with spec.purge: the candidates
//      are the files with a deletion vector, whatever their size or deleted ratio, binned as
//      in (1); the commit is operation REORG, parameters predicate and applyPurge (Spark's
//      DeltaOperations.Reorg), OPTIMIZE's metrics.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "delta/skipping.h"
#include "delta/transaction.h"
#include "engine/data_writer.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/errors.h"
#include "engine/internal/lake_catalog.h"
#include "engine/internal/maintenance.h"
#include "engine/internal/maintenance_sql.h"
#include "engine/internal/reorg_sql.h"
#include "engine/internal/scan.h"
#include "engine/internal/snapshot_cache.h"

namespace lake::engine::internal {
namespace {

using duckdb::ClientContext;
using duckdb::LogicalType;

// Spark's spark.databricks.delta.optimize.maxDeletedRowsRatio.
constexpr double kMaxDeletedRowsRatio = 0.05;

std::function<void(int64_t)>& CommitSyncPoint() {
  static std::function<void(int64_t)> hook;
  return hook;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}


struct FileSizeStats {
  int64_t min = 0, max = 0, total_files = 0, total_size = 0;
  double avg = 0;
};

FileSizeStats SizeStats(const std::vector<int64_t>& sizes) {
  FileSizeStats s;
  if (sizes.empty()) return s;
  s.min = *std::min_element(sizes.begin(), sizes.end());
  s.max = *std::max_element(sizes.begin(), sizes.end());
  s.total_files = static_cast<int64_t>(sizes.size());
  for (int64_t v : sizes) s.total_size += v;
  s.avg = static_cast<double>(s.total_size) / static_cast<double>(sizes.size());
  return s;
}

// The p-th percentile (nearest rank) of sorted sizes.
int64_t Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

struct OptimizeOutcome {
  std::string path;
  std::vector<int64_t> added_sizes, removed_sizes;
  int64_t partitions_optimized = 0;
  int64_t num_batches = 0;
  int64_t considered_files = 0;
  int64_t dvs_removed = 0;
  int64_t dv_rows_removed = 0;
  std::optional<delta::Version> version;
};

// One partition: its values (as in the log) and the indexes of its live files.
struct PartitionGroup {
  delta::PartitionValues values;
  std::vector<size_t> files;
};

std::string FilesList(const std::vector<const delta::AddFile*>& files) {
  std::vector<std::string> quoted;
  for (const delta::AddFile* f : files) quoted.push_back(SqlQuote(f->path));
  return StrCat("[", StrJoin(quoted, ", "), "]");
}

bool IsAbsolutePath(std::string_view path) {
  return StartsWith(path, "/") || path.find("://") != std::string_view::npos ||
         StartsWith(path, "file:");
}

class Optimizer {
 public:
  Optimizer(ClientContext& context, const OptimizeSpec& spec)
      : context_(context), db_(duckdb::DatabaseInstance::GetDatabase(context)), spec_(spec) {}

  Result<OptimizeOutcome> Run() {
    LAKE_RETURN_IF_ERROR(ResolveTarget());
    what_ = StrCat(spec_.purge ? "REORG TABLE " : "OPTIMIZE ", display_);
    Result<CachedTable> cached = SnapshotCache::Get(db_).Latest(location_);
    if (!cached.ok()) return cached.status().WithContext(what_);
    table_ = std::move(*cached);
    const delta::Snapshot& snap = *table_.snapshot;
    LAKE_RETURN_IF_ERROR(snap.schema_status());
    delta::TransactionOptions options;
    if (CommitSyncPoint()) options.before_commit_attempt = CommitSyncPoint();
    Result<std::unique_ptr<delta::Transaction>> begun =
        delta::Transaction::Begin(*table_.engine, table_.snapshot, std::move(options));
    if (!begun.ok()) return begun.status().WithContext(what_);
    txn_ = std::move(*begun);
    Result<WriteOptions> write_options = WriteOptionsFor(snap.metadata());
    if (!write_options.ok()) return write_options.status().WithContext(what_);
    options_ = std::move(*write_options);
    target_size_ = options_.target_file_size_bytes;
    mode_ = snap.column_mapping_mode();
    LAKE_RETURN_IF_ERROR(CheckZOrderColumns());

    session_ = NewSession(db_);
    std::vector<PartitionGroup> groups = GroupByPartition();
    LAKE_ASSIGN_OR_RETURN(std::vector<bool> selected, SelectPartitions(groups));

    OptimizeOutcome out;
    out.path = location_;
    std::vector<delta::AddFile> adds;
    std::vector<const delta::AddFile*> removed;
    // (5) Until the commit is attempted, files written are ours to delete.
    std::vector<std::string> written_local;
    ScopeGuard remove_written([&] {
      for (const std::string& f : written_local) {
        std::error_code ec;
        std::filesystem::remove(f, ec);  // best effort: otherwise an orphan for VACUUM
      }
    });
    for (size_t g = 0; g < groups.size(); ++g) {
      if (!selected[g]) continue;
      out.considered_files += static_cast<int64_t>(groups[g].files.size());
      std::vector<std::vector<const delta::AddFile*>> bins = Bins(groups[g]);
      if (bins.empty()) continue;
      ++out.partitions_optimized;
      if (!spec_.zorder_by.empty()) {
        LAKE_RETURN_IF_ERROR(WriteZOrdered(groups[g], bins.front(), adds, written_local));
        ++out.num_batches;
      } else {
        for (const auto& bin : bins) {
          LAKE_RETURN_IF_ERROR(WriteBin(groups[g], bin, adds, written_local));
          ++out.num_batches;
        }
      }
      for (const auto& bin : bins) removed.insert(removed.end(), bin.begin(), bin.end());
    }
    if (removed.empty()) return out;  // (4) nothing to rewrite: no commit

    const int64_t now = NowMs();
    for (const delta::AddFile* file : removed) {
      out.removed_sizes.push_back(file->size);
      if (file->deletion_vector) {
        ++out.dvs_removed;
        out.dv_rows_removed += file->deletion_vector->cardinality;
      }
      Status staged = txn_->StageRemove(delta::Transaction::RemoveFor(*file, now, false));
      if (!staged.ok()) return staged.WithContext(what_);
    }
    for (delta::AddFile& add : adds) {
      out.added_sizes.push_back(add.size);
      Status staged = txn_->StageAdd(std::move(add));
      if (!staged.ok()) return staged.WithContext(what_);
    }
    txn_->SetOperation(spec_.purge ? "REORG" : "OPTIMIZE", Parameters(), Metrics(out));
    remove_written.Dismiss();
    Result<delta::CommitResult> committed = txn_->Commit();
    if (!committed.ok()) return committed.status().WithContext(what_);
    out.version = committed->version;
    return out;
  }

 private:
  Status ResolveTarget() {
    if (spec_.path) {
      location_ = NormalizeLocation(*spec_.path);
      display_ = spec_.table;
      return Status::OK();
    }
    Result<DirectoryTable> found = FindLakeTable(context_, spec_.table);
    if (!found.ok()) return found.status().WithContext(StrCat("OPTIMIZE ", spec_.table));
    location_ = found->location;
    display_ = StrCat(found->schema, ".", found->name);
    return Status::OK();
  }

  const delta::StructField* PartitionField(const std::string& name) const {
    for (const std::string& p : table_.snapshot->metadata().partition_columns) {
      if (ToLower(p) == ToLower(name)) return delta::FindField(table_.snapshot->schema(), p);
    }
    return nullptr;
  }

  Status CheckZOrderColumns() {
    const delta::Schema& schema = table_.snapshot->schema();
    for (const std::string& c : spec_.zorder_by) {
      const delta::StructField* field = delta::FindField(schema, c);
      if (field == nullptr) {
        return Status::InvalidArgument(StrCat(what_, ": ZORDER BY column ", c,
                                              " is not a column of the table"))
            .WithHint("DESCRIBE the table to see its columns");
      }
      if (PartitionField(c) != nullptr) {
        return Status::InvalidArgument(StrCat(what_, ": ZORDER BY column ", c,
                                              " is a partition column"))
            .WithHint(
                "a partition holds one value of it already; Z-order by data columns only");
      }
      switch (field->type.kind) {
        case delta::TypeKind::kStruct:
        case delta::TypeKind::kArray:
        case delta::TypeKind::kMap:
        case delta::TypeKind::kVariant:
        case delta::TypeKind::kVoid:
          return Status::NotSupported(StrCat(what_, ": ZORDER BY column ", c, " of type ",
                                             field->type.ToString()))
              .WithHint("Z-order by columns of primitive types (numbers, strings, dates, ...)");
        default:
          break;
      }
    }
    return Status::OK();
  }

  // The partition values of a file in the table's partition column order.
  std::vector<std::optional<std::string>> KeyOf(const delta::AddFile& add) const {
    std::vector<std::optional<std::string>> key;
    for (const std::string& p : table_.snapshot->metadata().partition_columns) {
      const delta::StructField* field = delta::FindField(table_.snapshot->schema(), p);
      const std::string physical = field ? field->PhysicalNameFor(mode_) : p;
      std::optional<std::string> value;
      for (const auto& [k, v] : add.partition_values) {
        if (k == physical) value = v;
      }
      key.push_back(value);
    }
    return key;
  }

  std::vector<PartitionGroup> GroupByPartition() const {
    std::map<std::vector<std::optional<std::string>>, size_t> index;
    std::vector<PartitionGroup> groups;
    const auto& files = table_.snapshot->files();
    for (size_t i = 0; i < files.size(); ++i) {
      auto [it, inserted] = index.emplace(KeyOf(files[i]), groups.size());
      if (inserted) groups.push_back(PartitionGroup{files[i].partition_values, {}});
      groups[it->second].files.push_back(i);
    }
    return groups;
  }

  // (1) Which partitions WHERE selects: the predicate runs over a VALUES list of the
  // partitions' typed values, so anything but a partition column fails to bind.
  Result<std::vector<bool>> SelectPartitions(const std::vector<PartitionGroup>& groups) {
    std::vector<bool> selected(groups.size(), true);
    if (!spec_.where) return selected;
    const auto& partition_columns = table_.snapshot->metadata().partition_columns;
    if (partition_columns.empty()) {
      return Status::InvalidArgument(StrCat(what_, ": WHERE ", *spec_.where,
                                            ": the table is not partitioned"))
          .WithHint("OPTIMIZE selects whole partitions; drop WHERE to compact the whole table");
    }
    std::vector<std::string> names = {"__lake_group"};
    std::vector<std::string> types;
    for (const std::string& p : partition_columns) {
      const delta::StructField* field = delta::FindField(table_.snapshot->schema(), p);
      if (field == nullptr) return Status::Corruption(StrCat(what_, ": partition column ", p,
                                                             " is not in the schema"));
      LAKE_ASSIGN_OR_RETURN(LogicalType type, DuckTypeOf(field->type, p));
      names.push_back(SqlIdent(field->name));
      types.push_back(type.ToString());
    }
    // A typed empty row keeps the query valid (and bound) when the table has no files.
    std::vector<std::string> rows;
    {
      std::vector<std::string> cells = {"NULL::BIGINT"};
      for (const std::string& t : types) cells.push_back(StrCat("NULL::", t));
      rows.push_back(StrCat("(", StrJoin(cells, ", "), ")"));
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      std::vector<std::optional<std::string>> key = KeyOf(*FirstFile(groups[g]));
      std::vector<std::string> cells = {std::to_string(g)};
      for (size_t c = 0; c < key.size(); ++c) {
        cells.push_back(key[c] ? StrCat("CAST(", SqlQuote(*key[c]), " AS ", types[c], ")")
                               : StrCat("NULL::", types[c]));
      }
      rows.push_back(StrCat("(", StrJoin(cells, ", "), ")"));
    }
    Result<ResultTable> matched = session_->Query(
        StrCat("SELECT __lake_group FROM (VALUES ", StrJoin(rows, ", "), ") AS __lake_partitions(",
               StrJoin(names, ", "), ") WHERE __lake_group IS NOT NULL AND (\n", *spec_.where,
               "\n)"));
    if (!matched.ok()) {
      std::vector<std::string> quoted;
      for (const std::string& p : partition_columns) quoted.push_back(p);
      return Status::InvalidArgument(StrCat(what_, ": WHERE ", *spec_.where,
                                            ": OPTIMIZE can filter on partition columns only (",
                                            StrJoin(quoted, ", "), "): ",
                                            matched.status().message()))
          .WithHint("OPTIMIZE rewrites whole partitions; name partition columns in WHERE");
    }
    std::fill(selected.begin(), selected.end(), false);
    for (const auto& row : matched->rows) {
      if (const int64_t* g = std::get_if<int64_t>(&row[0].v)) selected[static_cast<size_t>(*g)] = true;
    }
    return selected;
  }

  const delta::AddFile* FirstFile(const PartitionGroup& group) const {
    return &table_.snapshot->files()[group.files.front()];
  }

  // (1) The bins of one partition; for ZORDER a single bin of every file.
  std::vector<std::vector<const delta::AddFile*>> Bins(const PartitionGroup& group) const {
    const auto& files = table_.snapshot->files();
    std::vector<const delta::AddFile*> candidates;
    for (size_t i : group.files) candidates.push_back(&files[i]);
    if (!spec_.zorder_by.empty()) return {candidates};
    std::erase_if(candidates, [&](const delta::AddFile* f) {
      // REORG ... APPLY (PURGE): every file with a deletion vector, whatever its size or
      // deleted ratio (Spark's DeletionVectorsPurge strategy); bins as below.
      if (spec_.purge) return !f->deletion_vector;
      if (f->size < target_size_) return false;
      if (!f->deletion_vector) return true;
      std::optional<int64_t> records = delta::StatsNumRecords(f->stats);
      // Without numRecords the ratio is unknown: rewriting drops the deleted rows for sure.
      return records && *records > 0 &&
             static_cast<double>(f->deletion_vector->cardinality) /
                     static_cast<double>(*records) <=
                 kMaxDeletedRowsRatio;
    });
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const delta::AddFile* a, const delta::AddFile* b) { return a->size < b->size; });
    std::vector<std::vector<const delta::AddFile*>> bins;
    std::vector<const delta::AddFile*> current;
    int64_t current_size = 0;
    for (const delta::AddFile* f : candidates) {
      if (!current.empty() && current_size + f->size > target_size_) {
        bins.push_back(std::move(current));
        current.clear();
        current_size = 0;
      }
      current.push_back(f);
      current_size += f->size;
    }
    if (!current.empty()) bins.push_back(std::move(current));
    std::erase_if(bins, [](const std::vector<const delta::AddFile*>& bin) {
      return bin.size() == 1 && !bin.front()->deletion_vector;
    });
    return bins;
  }

  std::string Scan(const std::vector<const delta::AddFile*>& files) const {
    return StrCat("delta_scan(", SqlQuote(location_), ", version := ", table_.snapshot->version(),
                  ", files := ", FilesList(files), ")");
  }

  // The data (non-partition) fields, and their quoted logical names for a SELECT list.
  delta::Schema DataSchema(std::vector<std::string>* select) const {
    delta::Schema data = table_.snapshot->schema();
    std::erase_if(data.fields,
                  [&](const delta::StructField& f) { return PartitionField(f.name) != nullptr; });
    for (const delta::StructField& f : data.fields) select->push_back(SqlIdent(f.name));
    return data;
  }

  // (2) Writes `query` (the partition's data columns) next to `like`; fixes up the adds.
  Status WriteLike(const PartitionGroup& group, const delta::AddFile& like,
                   const std::string& query, const delta::Schema& data_schema,
                   int64_t file_size_bytes, std::vector<delta::AddFile>& adds,
                   std::vector<std::string>& written_local) {
    std::string prefix;
    std::string folder = location_;
    if (!IsAbsolutePath(like.path)) {
      size_t slash = like.path.rfind('/');
      if (slash != std::string::npos) {
        prefix = like.path.substr(0, slash + 1);
        LAKE_ASSIGN_OR_RETURN(std::string local,
                              LocalDataFilePath(*table_.snapshot, table_.engine->store(), like));
        folder = std::filesystem::path(local).parent_path().string();
      }
    }
    WriteOptions options = options_;
    options.partition_columns.clear();
    options.target_file_size_bytes = file_size_bytes;
    Result<std::vector<delta::AddFile>> written =
        WriteDataFiles(*session_, query, folder, data_schema, options);
    if (!written.ok()) return written.status().WithContext(what_);
    for (delta::AddFile& add : *written) {
      written_local.push_back((std::filesystem::path(folder) / add.path).string());
      add.path = prefix + add.path;
      add.partition_values = group.values;
      add.data_change = false;
      adds.push_back(std::move(add));
    }
    return Status::OK();
  }

  Status WriteBin(const PartitionGroup& group, const std::vector<const delta::AddFile*>& bin,
                  std::vector<delta::AddFile>& adds, std::vector<std::string>& written_local) {
    std::vector<std::string> select;
    delta::Schema data_schema = DataSchema(&select);
    // One bin, one file: no size cut (the bin is at most the target size already).
    return WriteLike(group, *bin.front(),
                     StrCat("SELECT ", StrJoin(select, ", "), " FROM ", Scan(bin)), data_schema,
                     int64_t{1} << 62, adds, written_local);
  }

  // (3) Z-order one partition.
  Status WriteZOrdered(const PartitionGroup& group, const std::vector<const delta::AddFile*>& files,
                       std::vector<delta::AddFile>& adds, std::vector<std::string>& written_local) {
    std::vector<std::string> select;
    delta::Schema data_schema = DataSchema(&select);
    const int k = static_cast<int>(spec_.zorder_by.size());
    const int bits = std::min(16, 64 / k);
    std::vector<std::string> ranks;
    for (int j = 0; j < k; ++j) {
      const delta::StructField* field = delta::FindField(table_.snapshot->schema(), spec_.zorder_by[j]);
      ranks.push_back(StrCat("CAST(ntile(", int64_t{1} << bits, ") OVER (ORDER BY ",
                             SqlIdent(field->name), " ASC NULLS FIRST) - 1 AS UBIGINT) AS __lake_r",
                             j));
    }
    // Bit i of column j goes to position i*k + (k-1-j): the top bits of every rank lead.
    std::vector<std::string> terms;
    for (int i = 0; i < bits; ++i) {
      for (int j = 0; j < k; ++j) {
        terms.push_back(StrCat("(((__lake_r", j, " >> ", i, ") & 1::UBIGINT) << ",
                               i * k + (k - 1 - j), ")"));
      }
    }
    int64_t input_bytes = 0;
    for (const delta::AddFile* f : files) input_bytes += f->size;
    const int64_t num_files = std::max<int64_t>(1, (input_bytes + target_size_ - 1) / target_size_);
    const std::string keyed =
        StrCat("SELECT ", StrJoin(select, ", "), ", (", StrJoin(terms, " | "),
               ") AS __lake_zkey FROM (SELECT *, ", StrJoin(ranks, ", "), " FROM ", Scan(files),
               ")");
    LAKE_RETURN_IF_ERROR(
        session_
            ->Query(StrCat("CREATE OR REPLACE TEMP TABLE __lake_zorder AS SELECT *, ntile(",
                           num_files, ") OVER (ORDER BY __lake_zkey) AS __lake_run FROM (", keyed,
                           ")"))
            .status()
            .WithContext(what_));
    ScopeGuard drop([&] { session_->Query("DROP TABLE IF EXISTS __lake_zorder").status().IgnoreError(); });
    for (int64_t run = 1; run <= num_files; ++run) {
      LAKE_RETURN_IF_ERROR(WriteLike(
          group, *files.front(),
          StrCat("SELECT ", StrJoin(select, ", "), " FROM __lake_zorder WHERE __lake_run = ", run,
                 " ORDER BY __lake_zkey"),
          data_schema, int64_t{1} << 62, adds, written_local));
    }
    return Status::OK();
  }

  std::string Parameters() const {
    std::string predicate = "[";
    if (spec_.where) AppendJsonQuoted(*spec_.where, predicate);
    predicate += "]";
    if (spec_.purge) {  // Spark's DeltaOperations.Reorg
      return StrCat("{\"predicate\":", JsonQuote(predicate), ",\"applyPurge\":true}");
    }
    std::vector<std::string> zorder;
    for (const std::string& c : spec_.zorder_by) zorder.push_back(JsonQuote(c));
    return StrCat("{\"predicate\":", JsonQuote(predicate), ",\"zOrderBy\":",
                  JsonQuote(StrCat("[", StrJoin(zorder, ","), "]")), ",\"auto\":false}");
  }

  static std::string Metrics(const OptimizeOutcome& out) {
    std::vector<int64_t> sorted = out.added_sizes;
    std::sort(sorted.begin(), sorted.end());
    int64_t added_bytes = 0, removed_bytes = 0;
    for (int64_t s : out.added_sizes) added_bytes += s;
    for (int64_t s : out.removed_sizes) removed_bytes += s;
    std::vector<std::pair<std::string, int64_t>> metrics = {
        {"numRemovedFiles", static_cast<int64_t>(out.removed_sizes.size())},
        {"numRemovedBytes", removed_bytes},
        {"numAddedFiles", static_cast<int64_t>(out.added_sizes.size())},
        {"numAddedBytes", added_bytes},
        {"minFileSize", sorted.empty() ? 0 : sorted.front()},
        {"p25FileSize", Percentile(sorted, 0.25)},
        {"p50FileSize", Percentile(sorted, 0.50)},
        {"p75FileSize", Percentile(sorted, 0.75)},
        {"maxFileSize", sorted.empty() ? 0 : sorted.back()},
        {"numDeletionVectorsRemoved", out.dvs_removed},
    };
    std::vector<std::string> members;
    for (const auto& [k, v] : metrics) {
      members.push_back(StrCat(JsonQuote(k), ":", JsonQuote(std::to_string(v))));
    }
    return StrCat("{", StrJoin(members, ","), "}");
  }

  ClientContext& context_;
  duckdb::DatabaseInstance& db_;
  const OptimizeSpec& spec_;
  std::string location_, display_, what_;
  CachedTable table_;
  std::unique_ptr<delta::Transaction> txn_;
  WriteOptions options_;
  int64_t target_size_ = kDefaultTargetFileSizeBytes;
  std::string mode_ = "none";
  std::unique_ptr<Session> session_;
};

// ---- lake_optimize(sql) ----

LogicalType SizeStatsType() {
  return LogicalType::STRUCT({{"min", LogicalType::BIGINT},
                              {"max", LogicalType::BIGINT},
                              {"avg", LogicalType::DOUBLE},
                              {"totalFiles", LogicalType::BIGINT},
                              {"totalSize", LogicalType::BIGINT}});
}

LogicalType MetricsType() {
  return LogicalType::STRUCT(
      {{"numFilesAdded", LogicalType::BIGINT},
       {"numFilesRemoved", LogicalType::BIGINT},
       {"filesAdded", SizeStatsType()},
       {"filesRemoved", SizeStatsType()},
       {"partitionsOptimized", LogicalType::BIGINT},
       {"zOrderBy", LogicalType::LIST(LogicalType::VARCHAR)},
       {"numBatches", LogicalType::BIGINT},
       {"totalConsideredFiles", LogicalType::BIGINT},
       {"totalFilesSkipped", LogicalType::BIGINT},
       {"numDeletionVectorsRemoved", LogicalType::BIGINT},
       {"numDeletionVectorRowsRemoved", LogicalType::BIGINT},
       {"version", LogicalType::BIGINT}});
}

duckdb::Value SizeStatsValue(const std::vector<int64_t>& sizes) {
  FileSizeStats s = SizeStats(sizes);
  return duckdb::Value::STRUCT({{"min", duckdb::Value::BIGINT(s.min)},
                                {"max", duckdb::Value::BIGINT(s.max)},
                                {"avg", duckdb::Value::DOUBLE(s.avg)},
                                {"totalFiles", duckdb::Value::BIGINT(s.total_files)},
                                {"totalSize", duckdb::Value::BIGINT(s.total_size)}});
}

struct OptimizeData final : duckdb::TableFunctionData {
  OptimizeSpec spec;
};

struct OptimizeState final : duckdb::GlobalTableFunctionState {
  bool done = false;
};

duckdb::unique_ptr<duckdb::FunctionData> OptimizeBind(ClientContext&,
                                                      duckdb::TableFunctionBindInput& input,
                                                      duckdb::vector<LogicalType>& types,
                                                      duckdb::vector<std::string>& names) {
  const std::string sql = input.inputs[0].ToString();
  MaintenanceParse parsed = ParseMaintenanceSql(sql);
  if (ReorgParse reorg = ParseReorgSql(sql); reorg.kind != ReorgParse::Kind::kNotOurs) {
    // REORG TABLE ... APPLY (PURGE) runs as an OPTIMIZE with purge set (reorg_sql.h).
    if (reorg.kind == ReorgParse::Kind::kError) ThrowStatus(Status::InvalidArgument(reorg.error));
    parsed.kind = MaintenanceParse::Kind::kParsed;
    parsed.statement = std::move(reorg.spec);
  }
  if (parsed.kind != MaintenanceParse::Kind::kParsed ||
      !std::holds_alternative<OptimizeSpec>(parsed.statement)) {
    ThrowStatus(Status::InvalidArgument(StrCat(
        "lake_optimize: not an OPTIMIZE statement: ",
        parsed.kind == MaintenanceParse::Kind::kError ? parsed.error : sql)));
  }
  auto data = duckdb::make_uniq<OptimizeData>();
  data->spec = std::get<OptimizeSpec>(std::move(parsed.statement));
  names = {"path", "metrics"};
  types = {LogicalType::VARCHAR, MetricsType()};
  return data;
}

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> OptimizeInit(
    ClientContext&, duckdb::TableFunctionInitInput&) {
  return duckdb::make_uniq<OptimizeState>();
}

void OptimizeScan(ClientContext& context, duckdb::TableFunctionInput& input,
                  duckdb::DataChunk& output) {
  auto& data = input.bind_data->Cast<OptimizeData>();
  auto& state = input.global_state->Cast<OptimizeState>();
  if (state.done) {
    output.SetCardinality(0);
    return;
  }
  state.done = true;
  OptimizeOutcome out = ValueOrThrow(Optimizer(context, data.spec).Run());
  duckdb::vector<duckdb::Value> zorder;
  for (const std::string& c : data.spec.zorder_by) zorder.emplace_back(c);
  const int64_t added = static_cast<int64_t>(out.added_sizes.size());
  const int64_t removed = static_cast<int64_t>(out.removed_sizes.size());
  duckdb::Value metrics = duckdb::Value::STRUCT({
      {"numFilesAdded", duckdb::Value::BIGINT(added)},
      {"numFilesRemoved", duckdb::Value::BIGINT(removed)},
      {"filesAdded", SizeStatsValue(out.added_sizes)},
      {"filesRemoved", SizeStatsValue(out.removed_sizes)},
      {"partitionsOptimized", duckdb::Value::BIGINT(out.partitions_optimized)},
      {"zOrderBy", duckdb::Value::LIST(LogicalType::VARCHAR, zorder)},
      {"numBatches", duckdb::Value::BIGINT(out.num_batches)},
      {"totalConsideredFiles", duckdb::Value::BIGINT(out.considered_files)},
      {"totalFilesSkipped", duckdb::Value::BIGINT(out.considered_files - removed)},
      {"numDeletionVectorsRemoved", duckdb::Value::BIGINT(out.dvs_removed)},
      {"numDeletionVectorRowsRemoved", duckdb::Value::BIGINT(out.dv_rows_removed)},
      {"version", out.version ? duckdb::Value::BIGINT(*out.version) : duckdb::Value(LogicalType::BIGINT)},
  });
  output.SetValue(0, 0, duckdb::Value(out.path));
  output.SetValue(1, 0, metrics);
  output.SetCardinality(1);
}

}  // namespace

void SetOptimizeCommitSyncPointForTesting(std::function<void(int64_t)> hook) {
  CommitSyncPoint() = std::move(hook);
}

void RegisterMaintenance(duckdb::DatabaseInstance& db) {
  duckdb::ExtensionLoader loader(db, "lake");
  loader.RegisterFunction(duckdb::TableFunction("lake_optimize", {LogicalType::VARCHAR},
                                                OptimizeScan, OptimizeBind, OptimizeInit));
  RegisterConvert(db);
}

}  // namespace lake::engine::internal
