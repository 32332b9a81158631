// FileKeyIndex: finds a file of a FileList/TombstoneList by its logical key (canonical path,
// plus "\0" + DV unique id; log_replay.cc design notes 1 and 3), shared between a snapshot
// and its refreshes.
//
// Design notes.
//  (1) Two layers: a base table built over the whole list at some version (hash -> chunk,
//      slot; 16 bytes per file, no key strings: a candidate is verified by recomputing the
//      key of the file it points at; log replay hands over its key table, split in shards
//      by the hash's top bits), shared by pointer, and a small overlay (key -> location,
//      or "absent") of every key added, removed or moved since the base was built. A lookup
//      asks the overlay first, then the base.
//  (2) Why a stale base entry cannot lie: a base hit is accepted only when the file now at
//      (chunk, slot) has the key asked for, which means that file is live there. A key not in
//      the overlay has not moved since the base was built, so its base entry is still right.
//  (3) ApplyFileChanges copies the chunk pointers and the overlay, copies only the chunks that
//      lose files (the chunk's last files fill the holes and are re-entered in the overlay:
//      at most one move per file dropped), and appends new
//      files after the last chunk (merging into it while it is small). Its cost is the
//      changes plus the overlay, not the list. When the overlay outgrows
//      max(kMinOverlay, base / kOverlayFraction), the base is rebuilt over the whole list and
//      the overlay emptied: O(list) once per that many changes.
// Immutable once built; share as shared_ptr<const FileKeyIndex>.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "delta/actions.h"
#include "delta/file_list.h"

namespace lake::delta::internal {

// Returns the logical file key of (path, dv): a view of `path` itself in the common case (a
// relative, unescaped path without a DV), else of `scratch`, which it fills.
std::string_view FileKey(std::string_view path, const std::optional<DeletionVectorDescriptor>& dv,
                         std::string_view canonical_root, std::string& scratch);

// Hash of a file key (well mixed in the low bits, which pick the table slot).
uint64_t HashFileKey(std::string_view key);

struct FileLoc {
  uint32_t chunk = 0;
  uint32_t slot = 0;
};

// One slot of an open-addressing key table (the replay's and the index's share the layout,
// so the replay can hand its table over as the index). `chunk` is kEmpty for a free slot;
// a used slot whose `chunk` is past the list's chunks (kDeleted) never matches.
struct IndexEntry {
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr uint32_t kDeleted = UINT32_MAX - 1;
  uint64_t hash = 0;
  uint32_t chunk = kEmpty;
  uint32_t slot = 0;
};
static_assert(sizeof(IndexEntry) == 16);

// Tables of more than one shard pick the shard by the hash's top bits (the slot within a
// shard comes from its low bits).
inline size_t ShardOfHash(uint64_t hash, int shard_bits) {
  return shard_bits == 0 ? 0 : static_cast<size_t>(hash >> (64 - shard_bits));
}

class FileKeyIndex {
 public:
  static constexpr size_t kMinOverlay = 1024;
  static constexpr size_t kOverlayFraction = 64;

  // Builds a base over every item of `list`.
  template <typename T>
  static std::shared_ptr<const FileKeyIndex> Build(const ChunkedList<T>& list,
                                                   std::string_view canonical_root);
  // Adopts ready tables as the base: 2^shard_bits shards, each a power of two in size,
  // holding `count` live entries (log replay hands over its key table this way).
  static std::shared_ptr<const FileKeyIndex> FromTables(std::vector<std::vector<IndexEntry>> shards,
                                                        int shard_bits, size_t count);

  // Returns where `key` (with hash `hash`) lives in `list`, the list this index was built or
  // updated for.
  template <typename T>
  std::optional<FileLoc> Find(std::string_view key, uint64_t hash, const ChunkedList<T>& list,
                              std::string_view canonical_root) const;

  size_t overlay_size() const { return overlay_.size(); }
  size_t base_size() const { return base_ ? base_->count : 0; }

 private:
  template <typename T>
  friend void ApplyFileChanges(const ChunkedList<T>&, const FileKeyIndex&, std::string_view,
                               const std::vector<std::pair<std::string, uint64_t>>&,
                               const ChunkedList<T>&, ChunkedList<T>&,
                               std::shared_ptr<const FileKeyIndex>&);
  static constexpr uint32_t kEmpty = IndexEntry::kEmpty;
  using Entry = IndexEntry;
  struct Base {
    std::vector<std::vector<Entry>> shards;  // each a power of two in size
    int shard_bits = 0;
    size_t count = 0;
  };
  std::shared_ptr<const Base> base_;
  // Location of every key changed since base_ was built; chunk == kEmpty: no longer present.
  std::unordered_map<std::string, FileLoc> overlay_;
};

// Makes `out_list`/`out_index` = `list` without the files whose keys are in `dropped`
// (key, HashFileKey(key)) and with every item of `added` appended. Keys in `added` must not
// be live in `list` unless also in `dropped`. Design note 3.
template <typename T>
void ApplyFileChanges(const ChunkedList<T>& list, const FileKeyIndex& index,
                      std::string_view canonical_root,
                      const std::vector<std::pair<std::string, uint64_t>>& dropped,
                      const ChunkedList<T>& added, ChunkedList<T>& out_list,
                      std::shared_ptr<const FileKeyIndex>& out_index);

// ----- implementation -----

inline std::shared_ptr<const FileKeyIndex> FileKeyIndex::FromTables(
    std::vector<std::vector<IndexEntry>> shards, int shard_bits, size_t count) {
  auto base = std::make_shared<Base>();
  base->shards = std::move(shards);
  base->shard_bits = shard_bits;
  base->count = count;
  auto index = std::make_shared<FileKeyIndex>();
  index->base_ = std::move(base);
  return index;
}

template <typename T>
std::shared_ptr<const FileKeyIndex> FileKeyIndex::Build(const ChunkedList<T>& list,
                                                        std::string_view canonical_root) {
  auto base = std::make_shared<Base>();
  size_t capacity = 1024;
  while (capacity * 3 < list.size() * 4 + 4) capacity *= 2;  // load <= 3/4
  std::vector<Entry>& table = base->shards.emplace_back(capacity, Entry{});
  const size_t mask = capacity - 1;
  std::string scratch;
  const auto& chunks = list.chunks();
  for (size_t c = 0; c < chunks.size(); ++c) {
    const auto& chunk = *chunks[c];
    for (size_t s = 0; s < chunk.size(); ++s) {
      const uint64_t hash =
          HashFileKey(FileKey(chunk[s].path, chunk[s].deletion_vector, canonical_root, scratch));
      size_t i = hash & mask;
      while (table[i].chunk != kEmpty) i = (i + 1) & mask;  // keys are unique in a list
      table[i] = Entry{hash, static_cast<uint32_t>(c), static_cast<uint32_t>(s)};
    }
  }
  base->count = list.size();
  auto index = std::make_shared<FileKeyIndex>();
  index->base_ = std::move(base);
  return index;
}

template <typename T>
std::optional<FileLoc> FileKeyIndex::Find(std::string_view key, uint64_t hash,
                                          const ChunkedList<T>& list,
                                          std::string_view canonical_root) const {
  if (!overlay_.empty()) {
    auto it = overlay_.find(std::string(key));
    if (it != overlay_.end()) {
      if (it->second.chunk == kEmpty) return std::nullopt;
      return it->second;
    }
  }
  if (!base_) return std::nullopt;
  const std::vector<Entry>& table = base_->shards[ShardOfHash(hash, base_->shard_bits)];
  const size_t mask = table.size() - 1;
  const auto& chunks = list.chunks();
  std::string scratch;
  for (size_t i = hash & mask; table[i].chunk != kEmpty; i = (i + 1) & mask) {
    const Entry& e = table[i];
    if (e.hash != hash || e.chunk >= chunks.size() || e.slot >= chunks[e.chunk]->size()) continue;
    const T& item = (*chunks[e.chunk])[e.slot];
    if (FileKey(item.path, item.deletion_vector, canonical_root, scratch) == key) {
      return FileLoc{e.chunk, e.slot};
    }
  }
  return std::nullopt;
}

template <typename T>
void ApplyFileChanges(const ChunkedList<T>& list, const FileKeyIndex& index,
                      std::string_view canonical_root,
                      const std::vector<std::pair<std::string, uint64_t>>& dropped,
                      const ChunkedList<T>& added, ChunkedList<T>& out_list,
                      std::shared_ptr<const FileKeyIndex>& out_index) {
  using Chunk = typename ChunkedList<T>::Chunk;
  using ChunkPtr = typename ChunkedList<T>::ChunkPtr;
  constexpr uint32_t kEmpty = FileKeyIndex::kEmpty;
  std::vector<ChunkPtr> chunks = list.chunks();
  auto next = std::make_shared<FileKeyIndex>();
  next->base_ = index.base_;
  next->overlay_ = index.overlay_;
  std::string scratch;

  // Drop: group the slots to remove by chunk, then copy each such chunk once.
  std::unordered_map<uint32_t, std::vector<uint32_t>> drops_by_chunk;
  for (const auto& [key, hash] : dropped) {
    std::optional<FileLoc> loc = index.Find(key, hash, list, canonical_root);
    if (!loc) continue;
    drops_by_chunk[loc->chunk].push_back(loc->slot);
    next->overlay_.insert_or_assign(key, FileLoc{kEmpty, 0});
  }
  for (auto& [c, slots] : drops_by_chunk) {
    // Swap-remove from the highest slot down: the chunk's last file fills each hole, so at
    // most one file moves per file dropped (and the overlay grows with the changes only).
    std::sort(slots.begin(), slots.end(), std::greater<>());
    auto fresh = std::make_shared<Chunk>(*chunks[c]);
    for (uint32_t s : slots) {
      const uint32_t last = static_cast<uint32_t>(fresh->size() - 1);
      if (s != last) {
        (*fresh)[s] = std::move(fresh->back());
        const T& item = (*fresh)[s];
        next->overlay_.insert_or_assign(
            std::string(FileKey(item.path, item.deletion_vector, canonical_root, scratch)),
            FileLoc{c, s});
      }
      fresh->pop_back();
    }
    chunks[c] = std::move(fresh);
  }

  // Append: into a copy of the last chunk while it is small (slots of its files do not
  // change), else into new chunks.
  if (!added.empty()) {
    std::shared_ptr<Chunk> tail;
    uint32_t tail_idx = 0;
    constexpr size_t kSmallTail = 256;
    if (!chunks.empty() && chunks.back()->size() <= kSmallTail &&
        chunks.back()->size() + added.size() <= ChunkedList<T>::kChunkSize) {
      tail = std::make_shared<Chunk>(*chunks.back());
      tail_idx = static_cast<uint32_t>(chunks.size() - 1);
    }
    for (const T& item : added) {
      if (!tail || tail->size() >= ChunkedList<T>::kChunkSize) {
        if (tail) chunks[tail_idx] = std::move(tail);
        tail = std::make_shared<Chunk>();
        tail->reserve(std::min(added.size(), ChunkedList<T>::kChunkSize));
        tail_idx = static_cast<uint32_t>(chunks.size());
        chunks.push_back(nullptr);  // filled below
      }
      const uint32_t slot = static_cast<uint32_t>(tail->size());
      tail->push_back(item);
      next->overlay_.insert_or_assign(
          std::string(FileKey(item.path, item.deletion_vector, canonical_root, scratch)),
          FileLoc{tail_idx, slot});
    }
    chunks[tail_idx] = std::move(tail);
  }

  out_list = ChunkedList<T>(std::move(chunks));
  const size_t limit =
      std::max(FileKeyIndex::kMinOverlay, next->base_size() / FileKeyIndex::kOverlayFraction);
  if (next->overlay_.size() > limit) {
    out_index = FileKeyIndex::Build(out_list, canonical_root);
  } else {
    out_index = std::move(next);
  }
}

}  // namespace lake::delta::internal
