// A per-database cache of loaded Delta snapshots, so that repeated queries of one table do not
// re-read its log. Thread-safe.
//
// Design notes.
//  (1) A latest-version lookup is never served blindly: it lists _delta_log/ from the cached
//      version's commit on (one ListAfter) and reuses the snapshot only when that commit is
//      the newest file and unchanged (same size and mtime as when cached). Anything newer ->
//      delta::RefreshSnapshot replays just the new commits; the cached commit missing or
//      changed (table deleted or recreated) -> a full load. So a commit by another process is
//      seen by the next query.
//  (2) A pinned version (version := n) is immutable once committed and is served without I/O,
//      keyed by (uri, version). Timestamps are not cached: the version a timestamp names
//      changes as commits land.
//  (3) Bounded: at most `max_entries` snapshots and, beyond the most recent one, at most
//      `max_files` data files in total; the least recently used go first. Snapshots are
//      shared_ptr<const>: eviction never invalidates one a query still holds.
//  (4) Loads run outside the lock, so a slow table never blocks another; two queries that
//      miss at once both load, and the newer version wins the slot.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "delta/engine.h"
#include "delta/snapshot.h"
#include "engine/delta_engine.h"
#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

struct SnapshotCacheOptions {
  size_t max_entries = 8;
  int64_t max_files = 4'000'000;
};

// A loaded table: the engine it was read with (its store is needed to read deletion vectors)
// and the snapshot.
struct CachedTable {
  std::string table_uri;  // normalized (ObjectStore::uri())
  std::shared_ptr<delta::Engine> engine;
  delta::SnapshotPtr snapshot;
};

class SnapshotCache {
 public:
  SnapshotCache(duckdb::DatabaseInstance& db, SnapshotCacheOptions options)
      : db_(db), options_(options) {}

  // Returns the cache of `db`, creating it (with default options) on first use.
  static SnapshotCache& Get(duckdb::DatabaseInstance& db);
  // Creates the cache of `db` with `options`; call before any lookup (Database::Open).
  static void Install(duckdb::DatabaseInstance& db, SnapshotCacheOptions options);

  // Returns `uri` at its latest version as of this call (design note 1).
  Result<CachedTable> Latest(std::string_view uri);
  // Returns `uri` at `version` (design note 2).
  Result<CachedTable> AtVersion(std::string_view uri, delta::Version version);
  // Returns `uri` at the latest version committed at or before `timestamp_ms` (not cached).
  Result<CachedTable> AtTimestamp(std::string_view uri, int64_t timestamp_ms);

  SnapshotCacheCounters stats() const;
  void Clear();

 private:
  struct Entry {
    std::string key;
    CachedTable table;
    // The cached version's commit file when the entry is a latest one (design note 1).
    std::optional<storage::ObjectInfo> commit;
  };
  using Lru = std::list<Entry>;

  Result<CachedTable> Open(std::string_view uri);
  std::optional<Entry> Find(const std::string& key);
  void Insert(Entry entry);

  duckdb::DatabaseInstance& db_;
  const SnapshotCacheOptions options_;
  mutable std::mutex mu_;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string, Lru::iterator> index_;
  int64_t files_ = 0;
  SnapshotCacheCounters stats_;
};

}  // namespace lake::engine::internal
