// Log replay (PROTOCOL.md "Action Reconciliation").
//
// Design notes.
//  (1) Each batch (a commit, or a piece of a checkpoint) keeps its file actions in the vectors
//      the parser filled; nothing is copied while replaying. A key table (logical file key ->
//      batch, line) names the action that currently wins for each key; the loser is flagged
//      dead in its batch. At the end the live actions are handed to the FileList in log order
//      (batches of 32+ live files become chunks as they are), and the key table, whose entries
//      have the index's layout, becomes the snapshot's file index in place.
//  (2) Which action wins does not depend on the order batches are applied in: the later
//      ordinal (log position) wins; within one commit an add beats a remove (PROTOCOL.md
//      "Action Reconciliation": a valid commit never holds both for one key; if one does, the
//      file stays live, as in the reference implementation), and of two adds the later line.
//  (3) Canonical keys: "file:/a", "file:///a" and "/a" are one file, and an absolute path
//      under the table root is the same file as its relative form (corpus:
//      canonicalized-paths-*). Paths are percent-decoded once before comparison.
//  (4) Because of (2), commits are read, parsed and applied by every core at once, in any
//      order, and checkpoint pieces are applied as the engine decodes them. The key table is
//      split into 16 shards by the hash's top bits, each with its own lock; a batch computes
//      its keys and hashes without a lock, then takes each shard's lock once.
#include "delta/internal/log_replay.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <tuple>
#include <type_traits>

#include "base/strings.h"
#include "delta/internal/file_index.h"
#include "delta/log_parser.h"

namespace lake::delta::internal {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when `s` starts with a URI scheme ("s3:", "file:", "memory:").
bool HasScheme(std::string_view s) {
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':') return true;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return false;
}

void MoveAppend(auto& dst, auto& src) {
  if (dst.empty()) {
    dst = std::move(src);
  } else {
    dst.reserve(dst.size() + src.size());
    std::move(src.begin(), src.end(), std::back_inserter(dst));
  }
  src.clear();
}


// Runs fn(i) for i in [0, n) on worker threads; Next() returns results in index order.
// Workers stay at most `window` results ahead of the consumer (bounded memory). Destruction
// stops the workers and joins them; fn must therefore not block forever.
template <typename T>
class OrderedParallelMap {
 public:
  OrderedParallelMap(size_t n, int threads, size_t window, std::function<Result<T>(size_t)> fn)
      : fn_(std::move(fn)), slots_(n), window_(std::max<size_t>(window, 1)) {
    for (int t = 0; t < threads; ++t) workers_.emplace_back([this] { Work(); });
  }
  ~OrderedParallelMap() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  OrderedParallelMap(const OrderedParallelMap&) = delete;
  OrderedParallelMap& operator=(const OrderedParallelMap&) = delete;

  // Returns result i, for i = 0, 1, 2, ... in turn.
  Result<T> Next() {
    std::unique_lock lock(mu_);
    size_t i = next_to_consume_;
    if (workers_.empty()) {  // no threads: compute inline
      lock.unlock();
      ++next_to_consume_;
      return fn_(i);
    }
    cv_.wait(lock, [&] { return slots_[i].has_value(); });
    Result<T> out = std::move(*slots_[i]);
    slots_[i].reset();
    ++next_to_consume_;
    lock.unlock();
    cv_.notify_all();  // the window moved
    return out;
  }

 private:
  void Work() {
    while (true) {
      size_t i;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] {
          return stop_ || next_to_claim_ >= slots_.size() ||
                 next_to_claim_ < next_to_consume_ + window_;
        });
        if (stop_ || next_to_claim_ >= slots_.size()) return;
        i = next_to_claim_++;
      }
      Result<T> r = fn_(i);
      {
        std::lock_guard lock(mu_);
        slots_[i].emplace(std::move(r));
      }
      cv_.notify_all();
    }
  }

  std::function<Result<T>(size_t)> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Result<T>>> slots_;  // guarded by mu_
  size_t window_;
  size_t next_to_claim_ = 0;    // guarded by mu_
  size_t next_to_consume_ = 0;  // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  std::vector<std::thread> workers_;
};

constexpr size_t kWindow = 64;

int WorkerThreads(size_t files) {
  if (files < 4) return 0;
  unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp<unsigned>(hw, 1, 4));
}

// Runs fn(0..n-1) on WorkerThreads(n) threads (the caller's among them), in no particular
// order. Returns the error of the lowest index that failed; after a failure no new index
// starts.
Status ParallelFor(size_t n, const std::function<Status(size_t)>& fn);

}  // namespace

std::string PercentDecode(std::string_view s) {
  if (s.find('%') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::optional<std::string> LocalPathOf(std::string_view uri) {
  if (StartsWith(uri, "file:")) {
    std::string_view rest = uri.substr(5);
    if (StartsWith(rest, "//")) {
      rest.remove_prefix(2);
      size_t slash = rest.find('/');
      if (slash == std::string_view::npos) return std::nullopt;
      rest.remove_prefix(slash);  // drop the authority ("", "localhost")
    }
    if (!StartsWith(rest, "/")) return std::nullopt;
    // "file:////a" style: collapse leading slashes.
    while (rest.size() > 1 && rest[1] == '/') rest.remove_prefix(1);
    return std::string(rest);
  }
  if (StartsWith(uri, "/")) return std::string(uri);
  return std::nullopt;
}

std::string CanonicalRoot(std::string_view store_uri) {
  std::string root;
  if (std::optional<std::string> local = LocalPathOf(PercentDecode(store_uri))) {
    root = std::move(*local);
  } else {
    root = std::string(store_uri);
  }
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

std::string CanonicalPath(std::string_view log_path, std::string_view canonical_root) {
  // Fast path: a relative path without escapes is its own key (nearly every real add).
  if (log_path.find('%') == std::string_view::npos && !log_path.empty() && log_path[0] != '/' &&
      !HasScheme(log_path)) {
    return std::string(log_path);
  }
  std::string decoded = PercentDecode(log_path);
  std::string path;
  if (std::optional<std::string> local = LocalPathOf(decoded)) {
    path = std::move(*local);
  } else {
    path = std::move(decoded);
  }
  if (!canonical_root.empty() && path.size() > canonical_root.size() + 1 &&
      StartsWith(path, canonical_root) && path[canonical_root.size()] == '/') {
    return path.substr(canonical_root.size() + 1);
  }
  return path;
}

namespace {

// True when a path is its own canonical key: relative, no escapes, no scheme.
bool IsPlainRelative(std::string_view path) {
  return !path.empty() && path[0] != '/' && path.find('%') == std::string_view::npos &&
         !HasScheme(path);
}

}  // namespace

uint64_t HashFileKey(std::string_view key) {
  // std::hash is a good-enough byte hash; mix so low bits (the table index) spread well.
  uint64_t h = std::hash<std::string_view>{}(key);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

std::string_view FileKey(std::string_view path, const std::optional<DeletionVectorDescriptor>& dv,
                         std::string_view canonical_root, std::string& scratch) {
  if (!dv && IsPlainRelative(path)) return path;
  scratch = CanonicalPath(path, canonical_root);
  if (dv) {
    scratch += '\0';
    scratch += dv->UniqueId();
  }
  return scratch;
}

// ----- ReplayState (design notes 1, 2 and 4) -----

namespace {
constexpr int kShardBits = 4;
constexpr size_t kShards = size_t{1} << kShardBits;
constexpr uint32_t kBlockBits = 12;
constexpr uint32_t kBlockSize = uint32_t{1} << kBlockBits;
constexpr uint32_t kMaxBatches = kBlockSize * 4096;
constexpr uint32_t kAddBit = 0x80000000u;  // IndexEntry::slot: the entry names an add
}  // namespace

// A batch's file actions, where the parser put them. dead[i] = 1 once a later action of the
// same key won (written under the key's shard lock; distinct bytes, so shards never race).
struct ReplayState::Stored {
  BatchPosition pos;
  std::vector<AddFile> adds;
  std::vector<RemoveFile> removes;
  std::vector<uint8_t> add_dead, remove_dead;
  // Empty, or one per action: the key when it differs from the path.
  std::vector<std::string> add_keys, remove_keys;
};

struct ReplayState::Shard {
  std::mutex mu;
  std::vector<IndexEntry> table;  // guarded by mu; size a power of two (or empty)
  size_t used = 0;                // guarded by mu
};

ReplayState::ReplayState(std::string canonical_root)
    : root_(std::move(canonical_root)), shards_(new Shard[kShards]) {}

ReplayState::~ReplayState() = default;

void ReplayState::Reserve(size_t file_actions) {
  size_t per_shard = file_actions / kShards + 16;
  size_t capacity = 64;
  while (capacity * 3 < per_shard * 4) capacity *= 2;
  for (size_t s = 0; s < kShards; ++s) {
    std::lock_guard lock(shards_[s].mu);
    if (shards_[s].table.empty()) shards_[s].table.assign(capacity, IndexEntry{});
  }
}

Result<uint32_t> ReplayState::Register(BatchPosition pos, ActionBatch& batch) {
  auto stored = std::make_unique<Stored>();
  stored->pos = pos;
  stored->adds = std::move(batch.adds);
  stored->removes = std::move(batch.removes);
  stored->add_dead.assign(stored->adds.size(), 0);
  stored->remove_dead.assign(stored->removes.size(), 0);
  std::lock_guard lock(registry_mu_);
  if (batch_count_ >= kMaxBatches) {
    return Status::NotSupported(StrCat("a log replay of more than ", kMaxBatches,
                                       " commits and checkpoint pieces"))
        .WithHint("checkpoint the table so that a load replays fewer commits");
  }
  const uint32_t b = batch_count_++;
  auto& block = blocks_[b >> kBlockBits];
  if (!block) block = std::make_unique<std::unique_ptr<Stored>[]>(kBlockSize);
  block[b & (kBlockSize - 1)] = std::move(stored);
  return b;
}

const ReplayState::Stored& ReplayState::BatchAt(uint32_t b) const {
  return *blocks_[b >> kBlockBits][b & (kBlockSize - 1)];
}

std::string_view ReplayState::StoredKey(const IndexEntry& e) const {
  const Stored& s = BatchAt(e.chunk);
  const uint32_t i = e.slot & ~kAddBit;
  if (e.slot & kAddBit) {
    return s.add_keys.empty() || s.add_keys[i].empty() ? std::string_view(s.adds[i].path)
                                                        : std::string_view(s.add_keys[i]);
  }
  return s.remove_keys.empty() || s.remove_keys[i].empty() ? std::string_view(s.removes[i].path)
                                                            : std::string_view(s.remove_keys[i]);
}

// Precedence between two actions of one key: the later ordinal wins; within an ordinal an add
// beats a remove (PROTOCOL.md "Action Reconciliation": a valid commit never holds both; the
// reference implementation keeps the file); then the later part and the later line (the
// same file re-added in one commit: the newer action wins).
void ReplayState::Upsert(Shard& shard, std::string_view key, uint64_t hash, uint32_t batch,
                         uint32_t slot, bool is_add) {
  std::vector<IndexEntry>& table = shard.table;
  if (table.empty() || (shard.used + 1) * 4 > table.size() * 3) {
    std::vector<IndexEntry> old = std::move(table);
    table.assign(std::max<size_t>(64, old.size() * 2), IndexEntry{});
    const size_t mask = table.size() - 1;
    for (const IndexEntry& e : old) {
      if (e.chunk == IndexEntry::kEmpty) continue;
      size_t i = e.hash & mask;
      while (table[i].chunk != IndexEntry::kEmpty) i = (i + 1) & mask;
      table[i] = e;
    }
  }
  const size_t mask = table.size() - 1;
  const uint32_t tagged = slot | (is_add ? kAddBit : 0);
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    IndexEntry& e = table[i];
    if (e.chunk == IndexEntry::kEmpty) {
      e = IndexEntry{hash, batch, tagged};
      ++shard.used;
      return;
    }
    if (e.hash != hash || StoredKey(e) != key) continue;
    const Stored& old_batch = BatchAt(e.chunk);
    const Stored& new_batch = BatchAt(batch);
    const bool old_add = (e.slot & kAddBit) != 0;
    const uint32_t old_slot = e.slot & ~kAddBit;
    auto rank = [](const Stored& s, bool add, uint32_t line) {
      return std::tuple(s.pos.ordinal, add, s.pos.part, line);
    };
    const bool newer = rank(new_batch, is_add, slot) > rank(old_batch, old_add, old_slot);
    // The loser is dead; only this shard's lock guards its flag, and only for this key.
    Stored& loser = const_cast<Stored&>(newer ? old_batch : new_batch);
    const bool loser_add = newer ? old_add : is_add;
    const uint32_t loser_slot = newer ? old_slot : slot;
    (loser_add ? loser.add_dead : loser.remove_dead)[loser_slot] = 1;
    if (newer) e = IndexEntry{hash, batch, tagged};
    return;
  }
}

Status ReplayState::Apply(BatchPosition pos, ActionBatch&& batch) {
  {
    std::lock_guard lock(meta_mu_);
    if (!batch.protocols.empty() && (!protocol_ordinal_ || pos.ordinal >= *protocol_ordinal_)) {
      protocol = std::move(batch.protocols.back());
      protocol_ordinal_ = pos.ordinal;
    }
    if (!batch.metadata.empty() && (!metadata_ordinal_ || pos.ordinal >= *metadata_ordinal_)) {
      metadata = std::move(batch.metadata.back());
      metadata_ordinal_ = pos.ordinal;
    }
    for (Txn& t : batch.txns) {
      auto [it, fresh] = txn_ordinals_.try_emplace(t.app_id, pos.ordinal);
      if (!fresh && it->second > pos.ordinal) continue;
      it->second = pos.ordinal;
      std::string app = t.app_id;
      txns.insert_or_assign(std::move(app), std::move(t));
    }
    for (DomainMetadata& d : batch.domain_metadata) {
      auto [it, fresh] = domain_ordinals_.try_emplace(d.domain, pos.ordinal);
      if (!fresh && it->second > pos.ordinal) continue;
      it->second = pos.ordinal;
      std::string domain = d.domain;
      domains.insert_or_assign(std::move(domain), std::move(d));
    }
  }
  if (batch.adds.empty() && batch.removes.empty()) return Status::OK();
  LAKE_ASSIGN_OR_RETURN(const uint32_t b, Register(pos, batch));
  // Only this thread writes the batch's keys; other threads read them after taking a shard
  // lock this thread released later, so they see them.
  Stored& s = const_cast<Stored&>(BatchAt(b));
  // Keys and hashes first (no lock), then each shard's actions under one lock.
  struct Item {
    uint64_t hash;
    uint32_t slot;
    bool is_add;
  };
  std::vector<Item> items;
  items.reserve(s.removes.size() + s.adds.size());
  std::string scratch;
  auto key_of = [&](const auto& action, std::vector<std::string>& keys, size_t i,
                    size_t n) -> std::string_view {
    std::string_view key = FileKey(action.path, action.deletion_vector, root_, scratch);
    if (key.data() != action.path.data()) {
      if (keys.empty()) keys.resize(n);
      keys[i] = std::move(scratch);
      scratch.clear();
      return keys[i];
    }
    return key;
  };
  for (size_t i = 0; i < s.removes.size(); ++i) {
    uint64_t hash = HashFileKey(key_of(s.removes[i], s.remove_keys, i, s.removes.size()));
    items.push_back({hash, static_cast<uint32_t>(i), false});
  }
  for (size_t i = 0; i < s.adds.size(); ++i) {
    uint64_t hash = HashFileKey(key_of(s.adds[i], s.add_keys, i, s.adds.size()));
    items.push_back({hash, static_cast<uint32_t>(i), true});
  }
  // Group by shard, keeping each shard's items in batch order (removes, then adds, each in
  // line order): a counting sort.
  std::array<uint32_t, kShards + 1> starts{};
  for (const Item& item : items) ++starts[ShardOfHash(item.hash, kShardBits) + 1];
  for (size_t sh = 0; sh < kShards; ++sh) starts[sh + 1] += starts[sh];
  std::vector<Item> grouped(items.size());
  {
    std::array<uint32_t, kShards> next;
    std::copy(starts.begin(), starts.end() - 1, next.begin());
    for (const Item& item : items) grouped[next[ShardOfHash(item.hash, kShardBits)]++] = item;
  }
  for (size_t sh = 0; sh < kShards; ++sh) {
    if (starts[sh] == starts[sh + 1]) continue;
    Shard& shard = shards_[sh];
    std::lock_guard lock(shard.mu);
    for (uint32_t k = starts[sh]; k < starts[sh + 1]; ++k) {
      const Item& item = grouped[k];
      std::string_view key;
      if (item.is_add) {
        key = s.add_keys.empty() || s.add_keys[item.slot].empty()
                  ? std::string_view(s.adds[item.slot].path)
                  : std::string_view(s.add_keys[item.slot]);
      } else {
        key = s.remove_keys.empty() || s.remove_keys[item.slot].empty()
                  ? std::string_view(s.removes[item.slot].path)
                  : std::string_view(s.remove_keys[item.slot]);
      }
      Upsert(shard, key, item.hash, b, item.slot, item.is_add);
    }
  }
  return Status::OK();
}

namespace {

// Moves the live items of `batches` (in log order) into chunks; loc[b][i] receives where item
// i of batch b went (chunk kEmpty when it was dead). Batches with at least kMinOwnChunk live
// items become chunks of their own (unless above 2 * kChunkSize, which are split); smaller
// ones are merged.
template <typename T>
ChunkedList<T> PackChunks(std::vector<std::vector<T>*> items, std::vector<std::vector<uint8_t>*> dead,
                          std::vector<std::vector<FileLoc>>* locs) {
  using Chunk = typename ChunkedList<T>::Chunk;
  constexpr size_t kChunk = ChunkedList<T>::kChunkSize;
  // Own chunks cost a chunk header (~80 bytes) per batch; merging costs a move per file.
  constexpr size_t kMinOwnChunk = 32;
  std::vector<typename ChunkedList<T>::ChunkPtr> chunks;
  Chunk merged;
  auto flush = [&] {
    if (merged.empty()) return;
    chunks.push_back(std::make_shared<const Chunk>(std::move(merged)));
    merged = Chunk();
  };
  if (locs) locs->resize(items.size());
  for (size_t b = 0; b < items.size(); ++b) {
    std::vector<T>& v = *items[b];
    const std::vector<uint8_t>& d = *dead[b];
    size_t live = 0;
    for (uint8_t x : d) live += x == 0;
    std::vector<FileLoc>* loc = nullptr;
    if (locs) {
      loc = &(*locs)[b];
      loc->assign(v.size(), FileLoc{IndexEntry::kEmpty, 0});
    }
    if (live == 0) continue;
    if (live >= kMinOwnChunk && live <= 2 * kChunk) {
      flush();
      size_t kept = 0;
      const uint32_t c = static_cast<uint32_t>(chunks.size());
      for (size_t i = 0; i < v.size(); ++i) {
        if (d[i]) continue;
        if (kept != i) v[kept] = std::move(v[i]);
        if (loc) (*loc)[i] = FileLoc{c, static_cast<uint32_t>(kept)};
        ++kept;
      }
      v.resize(kept);
      chunks.push_back(std::make_shared<const Chunk>(std::move(v)));
      continue;
    }
    for (size_t i = 0; i < v.size(); ++i) {
      if (d[i]) continue;
      if (merged.size() >= kChunk) flush();
      if (merged.empty()) merged.reserve(std::min(kChunk, live));
      if (loc) {
        (*loc)[i] = FileLoc{static_cast<uint32_t>(chunks.size()),
                            static_cast<uint32_t>(merged.size())};
      }
      merged.push_back(std::move(v[i]));
    }
    std::vector<T>().swap(v);
  }
  flush();
  return ChunkedList<T>(std::move(chunks));
}

}  // namespace

void ReplayState::TakeFiles(FileList& files, TombstoneList& tombstones,
                            std::shared_ptr<const FileKeyIndex>* file_index) {
  std::vector<Stored*> order;
  order.reserve(batch_count_);
  for (uint32_t b = 0; b < batch_count_; ++b) {
    order.push_back(blocks_[b >> kBlockBits][b & (kBlockSize - 1)].get());
  }
  std::vector<uint32_t> rank(batch_count_);  // registration number -> position in `order`
  {
    std::vector<uint32_t> idx(batch_count_);
    for (uint32_t i = 0; i < batch_count_; ++i) idx[i] = i;
    std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
      const BatchPosition& x = order[a]->pos;
      const BatchPosition& y = order[b]->pos;
      return std::pair(x.ordinal, x.part) < std::pair(y.ordinal, y.part);
    });
    std::vector<Stored*> sorted;
    sorted.reserve(batch_count_);
    for (uint32_t i = 0; i < batch_count_; ++i) {
      rank[idx[i]] = i;
      sorted.push_back(order[idx[i]]);
    }
    order = std::move(sorted);
  }
  std::vector<std::vector<AddFile>*> add_items;
  std::vector<std::vector<uint8_t>*> add_dead;
  std::vector<std::vector<RemoveFile>*> remove_items;
  std::vector<std::vector<uint8_t>*> remove_dead;
  for (Stored* s : order) {
    add_items.push_back(&s->adds);
    add_dead.push_back(&s->add_dead);
    remove_items.push_back(&s->removes);
    remove_dead.push_back(&s->remove_dead);
  }
  std::vector<std::vector<FileLoc>> add_locs;
  files = PackChunks(std::move(add_items), std::move(add_dead), file_index ? &add_locs : nullptr);
  tombstones = PackChunks(std::move(remove_items), std::move(remove_dead), nullptr);
  if (file_index) {
    // The key table becomes the files' index in place: an add entry now names its file's
    // (chunk, slot); a remove entry can never match a file (kDeleted).
    std::vector<std::vector<IndexEntry>> tables(kShards);
    size_t count = 0;
    for (size_t sh = 0; sh < kShards; ++sh) {
      std::vector<IndexEntry>& table = shards_[sh].table;
      if (table.empty()) table.assign(64, IndexEntry{});
      for (IndexEntry& e : table) {
        if (e.chunk == IndexEntry::kEmpty) continue;
        if (e.slot & kAddBit) {
          e = IndexEntry{e.hash, add_locs[rank[e.chunk]][e.slot & ~kAddBit].chunk,
                         add_locs[rank[e.chunk]][e.slot & ~kAddBit].slot};
          ++count;
        } else {
          e.chunk = IndexEntry::kDeleted;
          e.slot = 0;
        }
      }
      tables[sh] = std::move(table);
      shards_[sh].used = 0;
    }
    *file_index = FileKeyIndex::FromTables(std::move(tables), kShardBits, count);
  } else {
    for (size_t sh = 0; sh < kShards; ++sh) {
      std::vector<IndexEntry>().swap(shards_[sh].table);
      shards_[sh].used = 0;
    }
  }
  for (uint32_t b = 0; b < batch_count_; ++b) blocks_[b >> kBlockBits][b & (kBlockSize - 1)].reset();
  batch_count_ = 0;
}

std::vector<std::pair<std::string, uint64_t>> ReplayState::TouchedKeys() const {
  std::vector<std::pair<std::string, uint64_t>> keys;
  for (size_t sh = 0; sh < kShards; ++sh) {
    for (const IndexEntry& e : shards_[sh].table) {
      if (e.chunk != IndexEntry::kEmpty) keys.emplace_back(std::string(StoredKey(e)), e.hash);
    }
  }
  return keys;
}

Result<ActionBatch> ReadJsonLogFile(storage::ObjectStore& store, std::string_view table,
                                    std::string_view key) {
  Result<std::string> text = store.Get(key);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      // Listed a moment ago: someone deleted it (cleanup racing with us).
      return Status::NotFound(StrCat(table, "/", key, ": log file disappeared while reading"))
          .WithHint("retry: the log was cleaned up concurrently");
    }
    return text.status().WithContext(StrCat(table, "/", key));
  }
  return ParseJsonActions(*text, StrCat(table, "/", key));
}

Result<std::optional<CommitInfo>> ExtractCommitInfo(std::string_view ndjson,
                                                    std::string_view file_name) {
  size_t pos = 0;
  while (pos < ndjson.size()) {
    size_t nl = ndjson.find('\n', pos);
    if (nl == std::string_view::npos) nl = ndjson.size();
    std::string_view line = ndjson.substr(pos, nl - pos);
    pos = nl + 1;
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size() || line[i] != '{') continue;
    ++i;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (line.substr(i, 12) != "\"commitInfo\"") continue;
    LAKE_ASSIGN_OR_RETURN(ActionBatch batch, ParseJsonActions(line, file_name));
    if (!batch.commit_infos.empty()) return std::optional<CommitInfo>(batch.commit_infos.front());
  }
  return std::optional<CommitInfo>();
}

Result<std::vector<std::optional<CommitInfo>>> ReadCommitInfos(
    storage::ObjectStore& store, std::string_view table, const std::vector<CommitFile>& commits) {
  std::string table_name(table);
  OrderedParallelMap<std::optional<CommitInfo>> loader(
      commits.size(), WorkerThreads(commits.size()), kWindow,
      [&](size_t i) -> Result<std::optional<CommitInfo>> {
        const std::string& key = commits[i].info.key;
        LAKE_ASSIGN_OR_RETURN(std::string text, store.Get(key));
        return ExtractCommitInfo(text, StrCat(table_name, "/", key));
      });
  std::vector<std::optional<CommitInfo>> out;
  out.reserve(commits.size());
  for (size_t i = 0; i < commits.size(); ++i) {
    LAKE_ASSIGN_OR_RETURN(std::optional<CommitInfo> info, loader.Next());
    out.push_back(std::move(info));
  }
  return out;
}

int64_t CommitTimestamp(const std::optional<CommitInfo>& info, const storage::ObjectInfo& file,
                        bool use_ict) {
  if (use_ict && info && info->in_commit_timestamp) return *info->in_commit_timestamp;
  return file.mtime_ms;
}

Status ReadCheckpoint(Engine& engine, std::string_view table, const CheckpointFiles& checkpoint,
                      const std::function<Status(uint32_t part, ActionBatch&& actions)>& consume) {
  storage::ObjectStore& store = engine.store();
  // Sidecars and checkpointMetadata are collected here; the rest goes to `consume`.
  std::mutex mu;
  std::vector<Sidecar> sidecars;
  size_t checkpoint_metadata = 0;
  auto take_special = [&](ActionBatch& batch) {
    if (batch.sidecars.empty() && batch.checkpoint_metadata.empty()) return;
    std::lock_guard lock(mu);
    MoveAppend(sidecars, batch.sidecars);
    checkpoint_metadata += batch.checkpoint_metadata.size();
    batch.checkpoint_metadata.clear();
  };
  // Parts of file i are numbered i << 20 | piece, so file order is kept.
  constexpr uint32_t kPieceBits = 20;
  auto read_file = [&](std::string_view key, uint32_t file_index,
                       bool file_actions_only) -> Status {
    const uint32_t base = file_index << kPieceBits;
    auto forward = [&](uint32_t piece, ActionBatch&& batch) -> Status {
      if (piece >= (1u << kPieceBits)) {
        return Status::NotSupported(StrCat(table, "/", key, ": more than ", 1u << kPieceBits,
                                           " pieces in one checkpoint file"));
      }
      if (file_actions_only) {  // Sidecars hold only file actions (PROTOCOL.md "Sidecar Files").
        ActionBatch files;
        files.adds = std::move(batch.adds);
        files.removes = std::move(batch.removes);
        return consume(base | piece, std::move(files));
      }
      take_special(batch);
      return consume(base | piece, std::move(batch));
    };
    if (EndsWith(key, ".json")) {
      LAKE_ASSIGN_OR_RETURN(ActionBatch batch, ReadJsonLogFile(store, table, key));
      return forward(0, std::move(batch));
    }
    Status status = engine.checkpoint_reader().ForEachParquetActionPiece(store, key, forward);
    if (!status.ok()) return status.WithContext(StrCat(table, " checkpoint ", checkpoint.version));
    return Status::OK();
  };
  uint32_t file_index = 0;
  for (const storage::ObjectInfo& part : checkpoint.parts) {
    LAKE_RETURN_IF_ERROR(read_file(part.key, file_index++, false));
  }
  if (checkpoint_metadata > 1) {
    return Status::Corruption(StrCat(
        table, ": checkpoint ", checkpoint.version, " (", checkpoint.parts.front().key, ") has ",
        checkpoint_metadata, " checkpointMetadata actions; V2 checkpoints have one"));
  }
  // V2 spec (UUID-named, or a classic name holding checkpointMetadata): file actions may live
  // in sidecars under _delta_log/_sidecars/ (PROTOCOL.md "V2 Spec").
  if (!sidecars.empty()) {
    const std::string root = CanonicalRoot(store.uri());
    for (const Sidecar& sidecar : sidecars) {
      std::string key;
      std::string decoded = PercentDecode(sidecar.path);
      if (!HasScheme(decoded) && !StartsWith(decoded, "/")) {
        key = StrCat(kLogPrefix, "_sidecars/", decoded);
      } else {
        std::string canonical = CanonicalPath(sidecar.path, root);
        if (StartsWith(canonical, "/") || HasScheme(canonical)) {
          return Status::NotSupported(StrCat(table, ": checkpoint ", checkpoint.version,
                                             " names a sidecar outside the table: ", sidecar.path))
              .WithHint("lake reads sidecars only from the table's _delta_log/_sidecars/");
        }
        key = canonical;
      }
      LAKE_RETURN_IF_ERROR(read_file(key, file_index++, true));
    }
  }
  return Status::OK();
}

namespace {

Status ParallelFor(size_t n, const std::function<Status(size_t)>& fn) {
  const int threads = WorkerThreads(n);
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) LAKE_RETURN_IF_ERROR(fn(i));
    return Status::OK();
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  size_t first_failure = n;
  Status failure;
  auto work = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (i < first_failure) {
          first_failure = i;
          failure = std::move(s);
        }
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return failure;
}

}  // namespace

Status ApplyCommits(storage::ObjectStore& store, std::string_view table,
                    const std::vector<CommitFile>& commits, ReplayState& state,
                    std::optional<CommitInfo>& last_commit_info) {
  // Design note 4: commits are read, parsed and applied by several threads, in any order.
  return ParallelFor(commits.size(), [&](size_t i) -> Status {
    LAKE_ASSIGN_OR_RETURN(ActionBatch batch, ReadJsonLogFile(store, table, commits[i].info.key));
    if (i + 1 == commits.size() && !batch.commit_infos.empty()) {
      last_commit_info = std::move(batch.commit_infos.front());  // only index i writes it
    }
    return state.Apply({static_cast<uint32_t>(i + 1), 0}, std::move(batch));
  });
}

}  // namespace lake::delta::internal

namespace lake::delta {

using internal::ReplayState;

Result<SnapshotPtr> SnapshotBuilder::Build(Engine& engine, const LogSegment& segment) {
  storage::ObjectStore& store = engine.store();
  const std::string table = store.uri();
  auto snap = std::make_shared<Snapshot>();
  snap->table_uri_ = table;
  snap->version_ = segment.version;
  ReplayState state(internal::CanonicalRoot(table));
  const std::vector<CommitFile>& commits = segment.commits;
  {
    // Key table room for a typical add line of ~400 bytes (stats included); a table that
    // turns out too small grows, one shard at a time.
    int64_t log_bytes = 0;
    for (const CommitFile& c : commits) log_bytes += c.info.size;
    if (segment.checkpoint) {
      for (const storage::ObjectInfo& part : segment.checkpoint->parts) log_bytes += part.size;
    }
    state.Reserve(static_cast<size_t>(log_bytes / 400) + 16);
  }
  int64_t mtime_ms = 0;
  if (segment.checkpoint) {
    // Design note 4: pieces of the checkpoint are replayed as the reader decodes them.
    LAKE_RETURN_IF_ERROR(internal::ReadCheckpoint(
        engine, table, *segment.checkpoint, [&](uint32_t part, ActionBatch&& batch) {
          return state.Apply({0, part}, std::move(batch));
        }));
    snap->checkpoint_version_ = segment.checkpoint->version;
    mtime_ms = segment.checkpoint->parts.front().mtime_ms;
  }
  {
    std::optional<CommitInfo> last_info;
    LAKE_RETURN_IF_ERROR(internal::ApplyCommits(store, table, commits, state, last_info));
    if (last_info) snap->commit_info_ = std::move(last_info);
  }
  if (!commits.empty()) {
    mtime_ms = commits.back().info.mtime_ms;
  } else if (segment.checkpoint_commit) {
    // The checkpoint is the snapshot version: its commitInfo lives only in the JSON commit.
    const storage::ObjectInfo& info = segment.checkpoint_commit->info;
    LAKE_ASSIGN_OR_RETURN(std::string text, store.Get(info.key));
    LAKE_ASSIGN_OR_RETURN(snap->commit_info_,
                          internal::ExtractCommitInfo(text, StrCat(table, "/", info.key)));
    mtime_ms = info.mtime_ms;
  }
  if (!state.protocol || !state.metadata) {
    return Status::Corruption(StrCat(table, ": no ", !state.protocol ? "protocol" : "metaData",
                                     " action found while reconstructing version ",
                                     segment.version))
        .WithHint(
            "the log is incomplete or was not written by a Delta writer; every table "
            "needs both in its first commit or checkpoint");
  }
  snap->protocol_ = std::move(*state.protocol);
  snap->metadata_ = std::move(*state.metadata);
  snap->txns_ = std::move(state.txns);
  for (auto& [domain, dm] : state.domains) {
    if (!dm.removed) snap->domains_.emplace(domain, std::move(dm));
  }
  state.TakeFiles(snap->files_, snap->tombstones_, &snap->file_index_);
  snap->tombstone_index_ =
      internal::FileKeyIndex::Build(snap->tombstones_, internal::CanonicalRoot(table));
  LAKE_RETURN_IF_ERROR(Finish(*snap, table, mtime_ms));
  return SnapshotPtr(std::move(snap));
}

Result<SnapshotPtr> SnapshotBuilder::Extend(Engine& engine, const Snapshot& base,
                                            const std::vector<CommitFile>& commits) {
  storage::ObjectStore& store = engine.store();
  const std::string& table = base.table_uri_;
  ReplayState state(internal::CanonicalRoot(table));
  std::optional<CommitInfo> commit_info;
  LAKE_RETURN_IF_ERROR(internal::ApplyCommits(store, table, commits, state, commit_info));
  auto snap = std::make_shared<Snapshot>();
  snap->table_uri_ = table;
  snap->version_ = commits.back().version;
  snap->checkpoint_version_ = base.checkpoint_version_;
  snap->commit_info_ = std::move(commit_info);
  snap->protocol_ = state.protocol ? std::move(*state.protocol) : base.protocol_;
  snap->metadata_ = state.metadata ? std::move(*state.metadata) : base.metadata_;
  snap->txns_ = base.txns_;
  for (auto& [app, txn] : state.txns) snap->txns_.insert_or_assign(app, std::move(txn));
  snap->domains_ = base.domains_;
  for (auto& [domain, dm] : state.domains) {
    if (dm.removed) {
      snap->domains_.erase(domain);
    } else {
      snap->domains_.insert_or_assign(domain, std::move(dm));
    }
  }
  // Base files and tombstones survive unless a new action touched their key (newest action
  // wins); the new commits' net files are appended. Cost: the changes, not the table
  // (internal/file_index.h).
  const std::string root = internal::CanonicalRoot(table);
  const std::vector<std::pair<std::string, uint64_t>> touched = state.TouchedKeys();
  FileList new_files;
  TombstoneList new_tombstones;
  state.TakeFiles(new_files, new_tombstones);
  std::shared_ptr<const internal::FileKeyIndex> file_index = base.file_index_;
  if (!file_index) file_index = internal::FileKeyIndex::Build(base.files_, root);
  std::shared_ptr<const internal::FileKeyIndex> tombstone_index = base.tombstone_index_;
  if (!tombstone_index) tombstone_index = internal::FileKeyIndex::Build(base.tombstones_, root);
  internal::ApplyFileChanges(base.files_, *file_index, root, touched, new_files, snap->files_,
                             snap->file_index_);
  internal::ApplyFileChanges(base.tombstones_, *tombstone_index, root, touched, new_tombstones,
                             snap->tombstones_, snap->tombstone_index_);
  LAKE_RETURN_IF_ERROR(Finish(*snap, table, commits.back().info.mtime_ms));
  return SnapshotPtr(std::move(snap));
}

Status SnapshotBuilder::Finish(Snapshot& snap, std::string_view table, int64_t commit_mtime_ms) {
  // The protocol gate comes before anything that interprets the table.
  Status supported = CheckReadSupported(snap.protocol_);
  if (!supported.ok()) {
    return supported.WithContext(StrCat(table, " at version ", snap.version_));
  }
  // Column mapping applies only when the protocol supports it (PROTOCOL.md "Column Mapping":
  // reader version 2, or 3 with the feature listed).
  const Protocol& p = snap.protocol_;
  bool supports_mapping =
      p.min_reader_version == 2 || (p.min_reader_version >= 3 && p.reader_features &&
                                    std::find(p.reader_features->begin(), p.reader_features->end(),
                                              "columnMapping") != p.reader_features->end());
  snap.column_mapping_mode_ = "none";
  if (supports_mapping) {
    auto it = snap.metadata_.configuration.find("delta.columnMapping.mode");
    if (it != snap.metadata_.configuration.end()) {
      std::string mode = ToLower(it->second);
      if (mode != "none" && mode != "name" && mode != "id") {
        return Status::NotSupported(StrCat(table, " at version ", snap.version_,
                                           ": unknown delta.columnMapping.mode '", it->second, "'"))
            .WithHint("lake reads column mapping modes none, name and id");
      }
      snap.column_mapping_mode_ = mode;
    }
  }
  if (snap.metadata_.schema_string.empty()) {
    snap.schema_ = Schema{};
    snap.schema_.kind = TypeKind::kStruct;
    snap.schema_status_ = Status::Corruption(StrCat(table, " at version ", snap.version_,
                                                    ": metaData action has no schemaString"))
                              .WithHint("the table's metadata is incomplete; it cannot be queried");
  } else {
    Result<Schema> schema = ParseSchema(snap.metadata_.schema_string);
    if (schema.ok()) {
      snap.schema_ = std::move(*schema);
    } else {
      snap.schema_ = Schema{};
      snap.schema_.kind = TypeKind::kStruct;
      snap.schema_status_ =
          schema.status().WithContext(StrCat(table, " at version ", snap.version_, ": schema"));
    }
  }
  auto ict = snap.metadata_.configuration.find("delta.enableInCommitTimestamps");
  bool use_ict = ict != snap.metadata_.configuration.end() && ToLower(ict->second) == "true";
  snap.timestamp_ms_ = (use_ict && snap.commit_info_ && snap.commit_info_->in_commit_timestamp)
                           ? *snap.commit_info_->in_commit_timestamp
                           : commit_mtime_ms;
  return Status::OK();
}

}  // namespace lake::delta
