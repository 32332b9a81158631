// Log replay (PROTOCOL.md "Action Reconciliation").
//
// Design notes.
//  (1) One hash map keyed by the logical file key (canonical path, plus "\0" + DV unique id
//      when the action has a DV) maps to a slot in one of two chunked vectors: live adds and
//      tombstones. A newer action for a key overwrites its slot in place or flips it to the
//      other vector (the old entry is marked dead and dropped when the chunks are handed to
//      the snapshot's FileList). The map holds only keys and 8-byte slots, so the big AddFile
//      values are moved once from the parser's batch into their final chunk.
//  (2) Within one commit the order of actions carries no meaning: removes are applied first,
//      then adds (PROTOCOL.md "Action Reconciliation": a valid commit never holds both for
//      one key; if one does, the file stays live, as in the reference implementation).
//  (3) Canonical keys: "file:/a", "file:///a" and "/a" are one file, and an absolute path
//      under the table root is the same file as its relative form (corpus:
//      canonicalized-paths-*). Paths are percent-decoded once before comparison.
//  (4) Commit files are read and parsed by worker threads, at most kWindow commits ahead
//      of the replay, which consumes them strictly in version order.
#include "delta/internal/log_replay.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
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

void AppendBatch(ActionBatch& dst, ActionBatch&& src) {
  MoveAppend(dst.protocols, src.protocols);
  MoveAppend(dst.metadata, src.metadata);
  MoveAppend(dst.adds, src.adds);
  MoveAppend(dst.removes, src.removes);
  MoveAppend(dst.cdcs, src.cdcs);
  MoveAppend(dst.txns, src.txns);
  MoveAppend(dst.commit_infos, src.commit_infos);
  MoveAppend(dst.domain_metadata, src.domain_metadata);
  MoveAppend(dst.checkpoint_metadata, src.checkpoint_metadata);
  MoveAppend(dst.sidecars, src.sidecars);
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

ReplayState::Key ReplayState::MakeKey(std::string_view path,
                                      const std::optional<DeletionVectorDescriptor>& dv) const {
  Key key;
  std::string_view view = FileKey(path, dv, root_, key.owned);
  key.view = view.data() == key.owned.data() ? std::string_view(key.owned) : view;
  return key;
}

std::string_view ReplayState::StoredKey(const Entry& e) const {
  if (e.live) {
    const std::string& k = add_keys_[e.index];
    return k.empty() ? std::string_view(At(add_chunks_, e.index).path) : std::string_view(k);
  }
  const std::string& k = remove_keys_[e.index];
  return k.empty() ? std::string_view(At(remove_chunks_, e.index).path) : std::string_view(k);
}

ReplayState::Entry& ReplayState::Find(std::string_view key, uint64_t hash) {
  if (table_.empty() || (used_ + 1) * 4 > table_.size() * 3) Grow();
  const size_t mask = table_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    Entry& e = table_[i];
    if (!e.used) return e;
    if (e.hash == hash && StoredKey(e) == key) return e;
  }
}

void ReplayState::Grow() {
  std::vector<Entry> old = std::move(table_);
  table_.assign(std::max<size_t>(1024, old.size() * 2), Entry{});
  const size_t mask = table_.size() - 1;
  for (const Entry& e : old) {
    if (!e.used) continue;
    size_t i = e.hash & mask;
    while (table_[i].used) i = (i + 1) & mask;
    table_[i] = e;
  }
}

void ReplayState::Apply(ActionBatch&& batch) {
  if (!batch.protocols.empty()) protocol = std::move(batch.protocols.back());
  if (!batch.metadata.empty()) metadata = std::move(batch.metadata.back());
  for (Txn& t : batch.txns) {
    std::string app = t.app_id;
    txns.insert_or_assign(std::move(app), std::move(t));
  }
  for (DomainMetadata& d : batch.domain_metadata) {
    std::string domain = d.domain;
    domains.insert_or_assign(std::move(domain), std::move(d));
  }
  // Design note 2: removes, then adds.
  for (RemoveFile& rm : batch.removes) {
    Key key = MakeKey(rm.path, rm.deletion_vector);
    const uint64_t hash = HashFileKey(key.view);
    Entry& e = Find(key.view, hash);
    if (e.used && !e.live) {  // newer tombstone for a tombstoned key
      At(remove_chunks_, e.index) = std::move(rm);
      remove_keys_[e.index] = std::move(key.owned);
      continue;
    }
    if (e.used) {
      add_dead_[e.index] = true;
    } else {
      ++used_;
    }
    e = Entry{hash, static_cast<uint32_t>(remove_count_++), 1, 0};
    Push(remove_chunks_, std::move(rm));
    remove_keys_.push_back(std::move(key.owned));
    remove_dead_.push_back(false);
  }
  for (AddFile& add : batch.adds) {
    Key key = MakeKey(add.path, add.deletion_vector);
    const uint64_t hash = HashFileKey(key.view);
    Entry& e = Find(key.view, hash);
    if (e.used && e.live) {  // the same file re-added: the newer action wins
      At(add_chunks_, e.index) = std::move(add);
      add_keys_[e.index] = std::move(key.owned);
      continue;
    }
    if (e.used) {
      remove_dead_[e.index] = true;
    } else {
      ++used_;
    }
    e = Entry{hash, static_cast<uint32_t>(add_count_++), 1, 1};
    Push(add_chunks_, std::move(add));
    add_keys_.push_back(std::move(key.owned));
    add_dead_.push_back(false);
  }
}

void ReplayState::TakeFiles(FileList& files, TombstoneList& tombstones) {
  // Compacts each chunk in place (dead items are dropped by moving the later ones down), so
  // no second copy of the list is ever allocated.
  auto take = [](auto& chunks, std::vector<bool>& dead, auto& to) {
    using Chunk = typename std::remove_reference_t<decltype(chunks)>::value_type;
    std::vector<std::shared_ptr<const Chunk>> out;
    out.reserve(chunks.size());
    for (size_t c = 0; c < chunks.size(); ++c) {
      Chunk& chunk = chunks[c];
      size_t kept = 0;
      for (size_t s = 0; s < chunk.size(); ++s) {
        if (dead[c * kChunk + s]) continue;
        if (kept != s) chunk[kept] = std::move(chunk[s]);
        ++kept;
      }
      chunk.resize(kept);
      if (kept > 0) out.push_back(std::make_shared<const Chunk>(std::move(chunk)));
    }
    chunks.clear();
    dead.clear();
    to = std::remove_reference_t<decltype(to)>(std::move(out));
  };
  // The key table goes first: the index built next over the lists needs memory too.
  std::vector<Entry>().swap(table_);
  std::vector<std::string>().swap(add_keys_);
  std::vector<std::string>().swap(remove_keys_);
  used_ = 0;
  take(add_chunks_, add_dead_, files);
  take(remove_chunks_, remove_dead_, tombstones);
  add_count_ = 0;
  remove_count_ = 0;
}

std::vector<std::pair<std::string, uint64_t>> ReplayState::TouchedKeys() const {
  std::vector<std::pair<std::string, uint64_t>> keys;
  keys.reserve(used_);
  for (const Entry& e : table_) {
    if (e.used) keys.emplace_back(std::string(StoredKey(e)), e.hash);
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

Result<ActionBatch> ReadCheckpoint(Engine& engine, std::string_view table,
                                   const CheckpointFiles& checkpoint) {
  storage::ObjectStore& store = engine.store();
  auto read_file = [&](std::string_view key) -> Result<ActionBatch> {
    if (EndsWith(key, ".json")) return ReadJsonLogFile(store, table, key);
    Result<ActionBatch> batch = engine.checkpoint_reader().ReadParquetActions(store, key);
    if (!batch.ok())
      return batch.status().WithContext(StrCat(table, " checkpoint ", checkpoint.version));
    return batch;
  };
  ActionBatch all;
  for (const storage::ObjectInfo& part : checkpoint.parts) {
    LAKE_ASSIGN_OR_RETURN(ActionBatch batch, read_file(part.key));
    AppendBatch(all, std::move(batch));
  }
  // V2 spec (UUID-named, or a classic name holding checkpointMetadata): file actions may live
  // in sidecars under _delta_log/_sidecars/ (PROTOCOL.md "V2 Spec").
  if (!all.sidecars.empty()) {
    const std::string root = CanonicalRoot(store.uri());
    std::vector<Sidecar> sidecars = std::move(all.sidecars);
    all.sidecars.clear();
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
      LAKE_ASSIGN_OR_RETURN(ActionBatch part, read_file(key));
      // Sidecars hold only file actions (PROTOCOL.md "Sidecar Files").
      MoveAppend(all.adds, part.adds);
      MoveAppend(all.removes, part.removes);
    }
  }
  if (all.checkpoint_metadata.size() > 1) {
    return Status::Corruption(StrCat(
        table, ": checkpoint ", checkpoint.version, " (", checkpoint.parts.front().key, ") has ",
        all.checkpoint_metadata.size(), " checkpointMetadata actions; V2 checkpoints have one"));
  }
  return all;
}

}  // namespace lake::delta::internal

namespace lake::delta {

using internal::OrderedParallelMap;
using internal::ReplayState;

Result<SnapshotPtr> SnapshotBuilder::Build(Engine& engine, const LogSegment& segment) {
  storage::ObjectStore& store = engine.store();
  const std::string table = store.uri();
  auto snap = std::make_shared<Snapshot>();
  snap->table_uri_ = table;
  snap->version_ = segment.version;
  ReplayState state(internal::CanonicalRoot(table));

  int64_t mtime_ms = 0;
  if (segment.checkpoint) {
    LAKE_ASSIGN_OR_RETURN(ActionBatch batch,
                          internal::ReadCheckpoint(engine, table, *segment.checkpoint));
    state.Apply(std::move(batch));
    snap->checkpoint_version_ = segment.checkpoint->version;
    mtime_ms = segment.checkpoint->parts.front().mtime_ms;
  }
  const std::vector<CommitFile>& commits = segment.commits;
  {
    // Adds are stored in chunks (no regrowth), but the key vector still grows by doubling;
    // an upper estimate (no add line is shorter than ~100 bytes) costs only address space,
    // since reserved pages are not touched until used.
    int64_t commit_bytes = 0;
    for (const CommitFile& c : commits) commit_bytes += c.info.size;
    state.Reserve(static_cast<size_t>(commit_bytes / 100) + 16);
    // Design note 4.
    OrderedParallelMap<ActionBatch> loader(
        commits.size(), internal::WorkerThreads(commits.size()), internal::kWindow,
        [&](size_t i) { return internal::ReadJsonLogFile(store, table, commits[i].info.key); });
    for (size_t i = 0; i < commits.size(); ++i) {
      LAKE_ASSIGN_OR_RETURN(ActionBatch batch, loader.Next());
      if (i + 1 == commits.size() && !batch.commit_infos.empty()) {
        snap->commit_info_ = std::move(batch.commit_infos.front());
      }
      state.Apply(std::move(batch));
    }
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
  state.TakeFiles(snap->files_, snap->tombstones_);
  const std::string root = internal::CanonicalRoot(table);
  snap->file_index_ = internal::FileKeyIndex::Build(snap->files_, root);
  snap->tombstone_index_ = internal::FileKeyIndex::Build(snap->tombstones_, root);
  LAKE_RETURN_IF_ERROR(Finish(*snap, table, mtime_ms));
  return SnapshotPtr(std::move(snap));
}

Result<SnapshotPtr> SnapshotBuilder::Extend(Engine& engine, const Snapshot& base,
                                            const std::vector<CommitFile>& commits) {
  storage::ObjectStore& store = engine.store();
  const std::string& table = base.table_uri_;
  ReplayState state(internal::CanonicalRoot(table));
  std::optional<CommitInfo> commit_info;
  {
    OrderedParallelMap<ActionBatch> loader(
        commits.size(), internal::WorkerThreads(commits.size()), internal::kWindow,
        [&](size_t i) { return internal::ReadJsonLogFile(store, table, commits[i].info.key); });
    for (size_t i = 0; i < commits.size(); ++i) {
      LAKE_ASSIGN_OR_RETURN(ActionBatch batch, loader.Next());
      if (i + 1 == commits.size() && !batch.commit_infos.empty()) {
        commit_info = std::move(batch.commit_infos.front());
      }
      state.Apply(std::move(batch));
    }
  }
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
