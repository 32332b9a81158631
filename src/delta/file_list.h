// FileList: the live files (or tombstones) of a snapshot, as an immutable list of shared
// chunks. A refreshed snapshot shares every chunk its new commits did not touch with the
// snapshot it was built from, so a refresh copies chunk pointers, not files
// (snapshot.cc RefreshSnapshot; the key index that finds a file's chunk is in
// internal/file_index.h).
//
// Invariants.
//  (1) A chunk never changes once it is in a list; a list that loses files from a chunk gets
//      a new chunk in its place (copy-on-write).
//  (2) Chunks may be empty: chunk positions are stable between a snapshot and its refreshes
//      so that the key index can name a file by (chunk, slot).
// Thread-safe for readers: the list and its chunks are immutable.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <memory>
#include <vector>

#include "delta/actions.h"

namespace lake::delta {

template <typename T>
class ChunkedList {
 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = ptrdiff_t;
  using reference = const T&;
  using const_reference = const T&;
  using Chunk = std::vector<T>;
  using ChunkPtr = std::shared_ptr<const Chunk>;

  // Files per chunk when a list is built from scratch. Small enough that copying a chunk
  // which loses a file is cheap, large enough that the chunk table stays small.
  static constexpr size_t kChunkSize = 1024;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    const_iterator() = default;
    reference operator*() const { return (*list_->chunks_[chunk_])[slot_]; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++() {
      ++slot_;
      SkipEmpty();
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const const_iterator& o) const {
      return chunk_ == o.chunk_ && slot_ == o.slot_;
    }
    bool operator!=(const const_iterator& o) const { return !(*this == o); }

   private:
    friend class ChunkedList;
    const_iterator(const ChunkedList* list, size_t chunk) : list_(list), chunk_(chunk) {
      SkipEmpty();
    }
    void SkipEmpty() {
      while (chunk_ < list_->chunks_.size() && slot_ >= list_->chunks_[chunk_]->size()) {
        ++chunk_;
        slot_ = 0;
      }
    }
    const ChunkedList* list_ = nullptr;
    size_t chunk_ = 0;
    size_t slot_ = 0;
  };
  using iterator = const_iterator;

  ChunkedList() = default;
  // Takes `chunks` as they are (empty ones included; null ones are not allowed).
  explicit ChunkedList(std::vector<ChunkPtr> chunks) : chunks_(std::move(chunks)) {
    ends_.reserve(chunks_.size());
    size_t total = 0;
    for (const ChunkPtr& c : chunks_) {
      total += c->size();
      ends_.push_back(total);
    }
  }
  // Splits `items` into chunks of kChunkSize (moving them).
  static ChunkedList FromVector(std::vector<T> items) {
    std::vector<ChunkPtr> chunks;
    for (size_t begin = 0; begin < items.size(); begin += kChunkSize) {
      const size_t end = std::min(items.size(), begin + kChunkSize);
      chunks.push_back(std::make_shared<const Chunk>(std::make_move_iterator(items.begin() + begin),
                                                     std::make_move_iterator(items.begin() + end)));
    }
    return ChunkedList(std::move(chunks));
  }

  size_t size() const { return ends_.empty() ? 0 : ends_.back(); }
  bool empty() const { return size() == 0; }
  // Returns item i (i < size()): O(log chunks).
  const T& operator[](size_t i) const {
    const size_t c =
        static_cast<size_t>(std::upper_bound(ends_.begin(), ends_.end(), i) - ends_.begin());
    return (*chunks_[c])[i - (c == 0 ? 0 : ends_[c - 1])];
  }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, chunks_.size()); }

  const std::vector<ChunkPtr>& chunks() const { return chunks_; }

 private:
  std::vector<ChunkPtr> chunks_;
  std::vector<size_t> ends_;  // ends_[c]: items in chunks 0..c
};

// Live data files of a snapshot.
using FileList = ChunkedList<AddFile>;
// Tombstones of a snapshot.
using TombstoneList = ChunkedList<RemoveFile>;

}  // namespace lake::delta
