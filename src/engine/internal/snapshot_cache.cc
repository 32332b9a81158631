#include "engine/internal/snapshot_cache.h"

#include <utility>

#include "base/strings.h"
#include "delta/log_segment.h"
#include "duckdb/storage/object_cache.hpp"
#include "engine/internal/database_impl.h"
#include "engine/internal/scan.h"

namespace lake::engine::internal {
namespace {

constexpr char kObjectCacheKey[] = "lake_snapshot_cache";

// Holds the cache in the DuckDB instance's ObjectCache, so it lives and dies with the
// instance and is reachable from a table function's ClientContext.
class CacheHolder final : public duckdb::ObjectCacheEntry {
 public:
  CacheHolder(duckdb::DatabaseInstance& db, SnapshotCacheOptions options) : cache(db, options) {}
  static std::string ObjectType() { return "lake_snapshot_cache"; }
  std::string GetObjectType() override { return ObjectType(); }
  SnapshotCache cache;
};

std::string CommitKey(delta::Version version) {
  return StrCat(delta::kLogPrefix, ZeroPad(version, 20), ".json");
}

// Lists the log from `version`'s commit file on: that file (when present) and every log
// entry after it. Only names starting with a digit are listed: versions are zero-padded, so
// this skips sub-folders (_sidecars/, _commits/) and writers' dot-prefixed temp files.
Result<std::vector<storage::ObjectInfo>> ListFromCommit(storage::ObjectStore& store,
                                                        delta::Version version) {
  // "N.crc" sorts just before "N.json" and after every "N.checkpoint..." name.
  return store.ListAfter(StrCat(delta::kLogPrefix, "0"),
                         StrCat(delta::kLogPrefix, ZeroPad(version, 20), ".crc"));
}

std::optional<storage::ObjectInfo> FindCommit(const std::vector<storage::ObjectInfo>& listing,
                                              delta::Version version) {
  const std::string key = CommitKey(version);
  for (const storage::ObjectInfo& info : listing) {
    if (info.key == key) return info;
  }
  return std::nullopt;
}

}  // namespace

SnapshotCache& SnapshotCache::Get(duckdb::DatabaseInstance& db) {
  auto holder = db.GetObjectCache().GetOrCreate<CacheHolder>(kObjectCacheKey, db,
                                                             SnapshotCacheOptions{});
  // The holder lives as long as the instance (ObjectCache entries are never evicted in
  // DuckDB 1.4), so the reference outlives this shared_ptr.
  return holder->cache;
}

void SnapshotCache::Install(duckdb::DatabaseInstance& db, SnapshotCacheOptions options) {
  db.GetObjectCache().Put(kObjectCacheKey, duckdb::make_shared_ptr<CacheHolder>(db, options));
}

Result<CachedTable> SnapshotCache::Open(std::string_view uri) {
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store, storage::OpenStore(uri));
  CachedTable table;
  table.table_uri = store->uri();
  table.engine = MakeDeltaEngine(db_, std::move(store));
  return table;
}

Result<CachedTable> SnapshotCache::Latest(std::string_view uri) {
  LAKE_ASSIGN_OR_RETURN(CachedTable table, Open(uri));
  const std::string key = StrCat("latest\n", table.table_uri);
  std::optional<Entry> cached = Find(key);
  if (cached && cached->commit) {
    // Reuse the cached engine: its store is already open.
    table.engine = cached->table.engine;
    const delta::SnapshotPtr& base = cached->table.snapshot;
    LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> listing,
                          ListFromCommit(table.engine->store(), base->version()));
    std::optional<storage::ObjectInfo> commit = FindCommit(listing, base->version());
    bool unchanged = commit && commit->size == cached->commit->size &&
                     commit->mtime_ms == cached->commit->mtime_ms;
    if (unchanged && listing.size() == 1) {
      std::lock_guard lock(mu_);
      ++stats_.hits;
      return cached->table;
    }
    if (unchanged) {
      LAKE_ASSIGN_OR_RETURN(table.snapshot, delta::RefreshSnapshot(*table.engine, base));
      std::lock_guard lock(mu_);
      ++stats_.refreshes;
    }
  }
  if (!table.snapshot) {
    LAKE_ASSIGN_OR_RETURN(table.snapshot, delta::LoadSnapshot(*table.engine));
    std::lock_guard lock(mu_);
    ++stats_.full_loads;
  }
  // Remember the commit file the next lookup must find unchanged. A table whose newest
  // version has no JSON commit (cleaned-up log) is returned but not cached.
  LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> listing,
                        ListFromCommit(table.engine->store(), table.snapshot->version()));
  if (std::optional<storage::ObjectInfo> commit = FindCommit(listing, table.snapshot->version())) {
    Insert(Entry{key, table, std::move(commit)});
  }
  return table;
}

Result<CachedTable> SnapshotCache::AtVersion(std::string_view uri, delta::Version version) {
  LAKE_ASSIGN_OR_RETURN(CachedTable table, Open(uri));
  const std::string key = StrCat("version ", version, "\n", table.table_uri);
  if (std::optional<Entry> cached = Find(key)) {
    std::lock_guard lock(mu_);
    ++stats_.hits;
    return cached->table;
  }
  LAKE_ASSIGN_OR_RETURN(table.snapshot, delta::LoadSnapshot(*table.engine, version));
  {
    std::lock_guard lock(mu_);
    ++stats_.full_loads;
  }
  Insert(Entry{key, table, std::nullopt});
  return table;
}

Result<CachedTable> SnapshotCache::AtTimestamp(std::string_view uri, int64_t timestamp_ms) {
  LAKE_ASSIGN_OR_RETURN(CachedTable table, Open(uri));
  LAKE_ASSIGN_OR_RETURN(table.snapshot,
                        delta::LoadSnapshotAtTimestamp(*table.engine, timestamp_ms));
  std::lock_guard lock(mu_);
  ++stats_.full_loads;
  return table;
}

std::optional<SnapshotCache::Entry> SnapshotCache::Find(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return *it->second;
}

void SnapshotCache::Insert(Entry entry) {
  if (options_.max_entries == 0) return;
  std::lock_guard lock(mu_);
  auto it = index_.find(entry.key);
  if (it != index_.end()) {
    // A concurrent lookup may have cached a newer latest version: never move backwards.
    if (it->second->table.snapshot->version() > entry.table.snapshot->version()) return;
    files_ -= static_cast<int64_t>(it->second->table.snapshot->files().size());
    lru_.erase(it->second);
    index_.erase(it);
  }
  files_ += static_cast<int64_t>(entry.table.snapshot->files().size());
  lru_.push_front(std::move(entry));
  index_[lru_.front().key] = lru_.begin();
  // Evict from the cold end; the entry just inserted always stays.
  while (lru_.size() > 1 && (lru_.size() > options_.max_entries || files_ > options_.max_files)) {
    files_ -= static_cast<int64_t>(lru_.back().table.snapshot->files().size());
    index_.erase(lru_.back().key);
    lru_.pop_back();
    ++stats_.evictions;
  }
}

SnapshotCacheCounters SnapshotCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void SnapshotCache::Clear() {
  std::lock_guard lock(mu_);
  lru_.clear();
  index_.clear();
  files_ = 0;
}

}  // namespace lake::engine::internal

namespace lake::engine {

SnapshotCacheCounters GetSnapshotCacheCounters(Database& db) {
  auto& impl = static_cast<internal::DatabaseImpl&>(db);
  return internal::SnapshotCache::Get(impl.instance()).stats();
}

}  // namespace lake::engine
