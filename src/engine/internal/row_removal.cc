// See row_removal.h for the method.
#include "engine/internal/row_removal.h"

#include <unordered_map>

#include "base/strings.h"
#include "delta/transaction.h"
#include "engine/internal/database_impl.h"
#include "engine/internal/scan.h"

namespace lake::engine::internal {
namespace {

// numRecords of an add's stats, nullopt when absent.
std::optional<int64_t> NumRecordsOf(const delta::AddFile& add) {
  if (!add.stats) return std::nullopt;
  size_t pos = add.stats->find("\"numRecords\"");
  if (pos == std::string::npos) return std::nullopt;
  pos = add.stats->find(':', pos);
  if (pos == std::string::npos) return std::nullopt;
  ++pos;
  while (pos < add.stats->size() && (*add.stats)[pos] == ' ') ++pos;
  size_t end = pos;
  while (end < add.stats->size() && std::isdigit(static_cast<unsigned char>((*add.stats)[end]))) {
    ++end;
  }
  return ParseInt64(std::string_view(*add.stats).substr(pos, end - pos));
}

}  // namespace

Result<RowRemoval> RemoveRowsWhere(duckdb::DatabaseInstance& db, const RowRemovalTarget& target,
                                   const std::string& predicate) {
  const delta::Snapshot& snap = *target.snapshot;
  std::unique_ptr<Session> session = NewSession(db);
  const std::string scan =
      StrCat("delta_scan(", SqlQuote(target.location), ", version := ", snap.version());
  // (1) The files holding matching rows, with how many.
  LAKE_ASSIGN_OR_RETURN(
      ResultTable matched,
      session->Query(StrCat("SELECT filename, count(*) FROM ", scan, ") WHERE (\n", predicate,
                            "\n) GROUP BY filename")));
  RowRemoval out;
  if (matched.rows.empty()) return out;

  std::unordered_map<std::string, size_t> by_local_path;
  const auto& files = snap.files();
  by_local_path.reserve(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    LAKE_ASSIGN_OR_RETURN(std::string local, LocalDataFilePath(snap, *target.store, files[i]));
    by_local_path.emplace(std::move(local), i);
  }
  // (2) Whole files go; partly matching ones are rewritten.
  std::vector<std::string> rewrite;
  for (const std::vector<Value>& row : matched.rows) {
    const std::string* filename = std::get_if<std::string>(&row[0].v);
    const int64_t* count = std::get_if<int64_t>(&row[1].v);
    if (filename == nullptr || count == nullptr) {
      return Status::Internal("row removal: unexpected result shape of the match query");
    }
    auto it = by_local_path.find(*filename);
    if (it == by_local_path.end()) {
      return Status::Internal(StrCat("row removal: delta_scan read ", *filename,
                                     ", which is not a live file of version ", snap.version()));
    }
    const delta::AddFile& add = files[it->second];
    std::optional<int64_t> records = NumRecordsOf(add);
    const int64_t deleted = add.deletion_vector ? add.deletion_vector->cardinality : 0;
    const bool whole = records && *records - deleted == *count;
    out.removes.push_back(delta::Transaction::RemoveFor(add, target.now_ms));
    out.rows_removed += *count;
    out.bytes_removed += add.size;
    if (!whole) rewrite.push_back(add.path);
  }
  if (!rewrite.empty()) {
    std::vector<std::string> quoted;
    for (const std::string& p : rewrite) quoted.push_back(SqlQuote(p));
    LAKE_ASSIGN_OR_RETURN(
        out.adds,
        WriteDataFiles(*session,
                       StrCat("SELECT * FROM ", scan, ", files := [", StrJoin(quoted, ", "),
                              "]) WHERE (\n", predicate, "\n) IS NOT TRUE"),
                       target.location, *target.schema, target.options));
    out.files_rewritten = static_cast<int64_t>(rewrite.size());
    for (const delta::AddFile& add : out.adds) out.rows_copied += NumRecordsOf(add).value_or(0);
  }
  return out;
}

}  // namespace lake::engine::internal
