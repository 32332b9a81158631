// See row_removal.h for the method.
#include "engine/internal/row_removal.h"

#include <functional>
#include <unordered_map>

#include "base/scope_guard.h"

#include "base/strings.h"
#include "delta/skipping.h"
#include "delta/transaction.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/dv_removal.h"
#include "engine/internal/scan.h"

namespace lake::engine::internal {
namespace {

// Local path -> index in the snapshot's files.
Result<std::unordered_map<std::string, size_t>> FilesByLocalPath(const RowRemovalTarget& target) {
  const auto& files = target.snapshot->files();
  std::unordered_map<std::string, size_t> out;
  out.reserve(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    LAKE_ASSIGN_OR_RETURN(std::string local,
                          LocalDataFilePath(*target.snapshot, *target.store, files[i]));
    out.emplace(std::move(local), i);
  }
  return out;
}

std::string ScanOf(const RowRemovalTarget& target) {
  // Schema evolution (a MERGE that adds columns): the copied rows get the new columns, NULL.
  const bool evolved = target.schema->fields.size() > target.snapshot->schema().fields.size();
  return StrCat("delta_scan(", SqlQuote(target.location), ", version := ",
                target.snapshot->version(),
                evolved ? StrCat(", evolved_schema := ",
                                 SqlQuote(delta::SerializeDataType(*target.schema)))
                        : std::string());
}

// Step (2): removes every touched file; files whose every live row goes need no rewrite, the
// others are rewritten by `rewrite_query(paths)` (their remaining rows).
struct Touched {
  size_t file = 0;
  int64_t rows = 0;  // rows removed from it
};
Result<RowRemoval> RemoveTouched(
    Session& session, const RowRemovalTarget& target, const std::vector<Touched>& touched,
    const std::function<std::string(const std::vector<std::string>&)>& rewrite_query) {
  const auto& files = target.snapshot->files();
  RowRemoval out;
  std::vector<std::string> rewrite;
  for (const Touched& t : touched) {
    const delta::AddFile& add = files[t.file];
    std::optional<int64_t> records = delta::StatsNumRecords(add.stats);
    const int64_t deleted = add.deletion_vector ? add.deletion_vector->cardinality : 0;
    const bool whole = records && *records - deleted == t.rows;
    out.removes.push_back(delta::Transaction::RemoveFor(add, target.now_ms));
    out.rows_removed += t.rows;
    out.bytes_removed += add.size;
    if (!whole) rewrite.push_back(add.path);
  }
  if (!rewrite.empty()) {
    LAKE_ASSIGN_OR_RETURN(out.adds, WriteDataFiles(session, rewrite_query(rewrite),
                                                   target.location, *target.schema,
                                                   target.options));
    out.files_rewritten = static_cast<int64_t>(rewrite.size());
    for (const delta::AddFile& add : out.adds) {
      out.rows_copied += delta::StatsNumRecords(add.stats).value_or(0);
    }
  }
  return out;
}

std::string FilesList(const std::vector<std::string>& paths) {
  std::vector<std::string> quoted;
  for (const std::string& p : paths) quoted.push_back(SqlQuote(p));
  return StrCat("[", StrJoin(quoted, ", "), "]");
}

}  // namespace

Result<RowRemoval> RemoveRowsWhere(duckdb::DatabaseInstance& db, const RowRemovalTarget& target,
                                   const std::string& predicate) {
  std::unique_ptr<Session> session = NewSession(db);
  const std::string scan = ScanOf(target);
  // (1) The files holding matching rows, with how many.
  LAKE_ASSIGN_OR_RETURN(
      ResultTable matched,
      session->Query(StrCat("SELECT filename, count(*) FROM ", scan, ") WHERE (\n", predicate,
                            "\n) GROUP BY filename")));
  if (matched.rows.empty()) return RowRemoval{};
  LAKE_ASSIGN_OR_RETURN(auto by_local_path, FilesByLocalPath(target));
  std::vector<Touched> touched;
  for (const std::vector<Value>& row : matched.rows) {
    const std::string* filename = std::get_if<std::string>(&row[0].v);
    const int64_t* count = std::get_if<int64_t>(&row[1].v);
    if (filename == nullptr || count == nullptr) {
      return Status::Internal("row removal: unexpected result shape of the match query");
    }
    auto it = by_local_path.find(*filename);
    if (it == by_local_path.end()) {
      return Status::Internal(StrCat("row removal: delta_scan read ", *filename,
                                     ", which is not a live file of version ",
                                     target.snapshot->version()));
    }
    touched.push_back(Touched{it->second, *count});
  }
  return RemoveTouched(*session, target, touched, [&](const std::vector<std::string>& paths) {
    return StrCat("SELECT * FROM ", scan, ", files := ", FilesList(paths), ") WHERE (\n",
                  predicate, "\n) IS NOT TRUE");
  });
}

Result<RowRemoval> RemoveRows(duckdb::DatabaseInstance& db, const RowRemovalTarget& target,
                              const std::map<std::string, std::vector<uint64_t>>& rows_by_file) {
  if (WritesDeletionVectors(*target.snapshot)) {
    return RemoveRowsWithDeletionVectors(db, target, rows_by_file);
  }
  return RemoveRowsCopyOnWrite(db, target, rows_by_file);
}

Result<RowRemoval> RemoveRowsCopyOnWrite(
    duckdb::DatabaseInstance& db, const RowRemovalTarget& target,
    const std::map<std::string, std::vector<uint64_t>>& rows_by_file) {
  if (rows_by_file.empty()) return RowRemoval{};
  LAKE_ASSIGN_OR_RETURN(auto by_local_path, FilesByLocalPath(target));
  const auto& files = target.snapshot->files();
  std::vector<Touched> touched;
  auto exclusions = std::make_shared<RowExclusions>();
  for (const auto& [filename, rows] : rows_by_file) {
    auto it = by_local_path.find(filename);
    if (it == by_local_path.end()) {
      return Status::Internal(StrCat("row removal: row ids name ", filename,
                                     ", which is not a live file of version ",
                                     target.snapshot->version()));
    }
    touched.push_back(Touched{it->second, static_cast<int64_t>(rows.size())});
    (*exclusions)[files[it->second].path] = rows;
  }
  const std::string token = RegisterRowExclusions(exclusions);
  ScopeGuard release([&] { ReleaseRowExclusions(token); });
  std::unique_ptr<Session> session = NewSession(db);
  return RemoveTouched(*session, target, touched, [&](const std::vector<std::string>& paths) {
    return StrCat("SELECT * FROM ", ScanOf(target), ", files := ", FilesList(paths),
                  ", exclude_rows := ", SqlQuote(token), ")");
  });
}

}  // namespace lake::engine::internal
