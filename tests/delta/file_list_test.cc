// Tests for src/delta/file_list.h, internal/file_index.h and the RefreshSnapshot that uses
// them: a chain of refreshes must equal a full load at every version.
#include "delta/file_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <tuple>

#include "delta/internal/file_index.h"
#include "delta/snapshot.h"
#include "log_test_util.h"

namespace lake::delta {
namespace {

using testing::AddLine;
using testing::DvJson;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::MetadataLine;
using testing::ProtocolLine;
using testing::RemoveLine;

AddFile File(std::string path, int64_t size = 1) {
  AddFile f;
  f.path = std::move(path);
  f.size = size;
  return f;
}

std::shared_ptr<const std::vector<AddFile>> Chunk(std::vector<std::string> paths) {
  std::vector<AddFile> files;
  for (std::string& p : paths) files.push_back(File(std::move(p)));
  return std::make_shared<const std::vector<AddFile>>(std::move(files));
}

std::vector<std::string> Paths(const FileList& list) {
  std::vector<std::string> out;
  for (const AddFile& f : list) out.push_back(f.path);
  return out;
}

TEST(FileList, EmptyListHasNoItems) {
  FileList list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.begin(), list.end());
  FileList only_empty_chunks({Chunk({}), Chunk({})});
  EXPECT_TRUE(only_empty_chunks.empty());
  EXPECT_THAT(Paths(only_empty_chunks), IsEmpty());
}

TEST(FileList, IndexesAndIteratesAcrossChunksSkippingEmptyOnes) {
  FileList list({Chunk({"a", "b"}), Chunk({}), Chunk({"c"}), Chunk({}), Chunk({"d", "e", "f"})});
  ASSERT_EQ(list.size(), 6u);
  EXPECT_FALSE(list.empty());
  EXPECT_EQ(list[0].path, "a");
  EXPECT_EQ(list[1].path, "b");
  EXPECT_EQ(list[2].path, "c");
  EXPECT_EQ(list[3].path, "d");
  EXPECT_EQ(list[5].path, "f");
  EXPECT_THAT(Paths(list), ElementsAre("a", "b", "c", "d", "e", "f"));
}

TEST(FileList, FromVectorSplitsIntoChunksOfChunkSize) {
  const size_t n = 2 * FileList::kChunkSize + 3;
  std::vector<AddFile> files;
  for (size_t i = 0; i < n; ++i) files.push_back(File(StrCat("f", i), static_cast<int64_t>(i)));
  FileList list = FileList::FromVector(std::move(files));
  ASSERT_EQ(list.chunks().size(), 3u);
  EXPECT_EQ(list.chunks()[2]->size(), 3u);
  ASSERT_EQ(list.size(), n);
  for (size_t i = 0; i < n; i += 997) EXPECT_EQ(list[i].size, static_cast<int64_t>(i));
  EXPECT_EQ(list[n - 1].path, StrCat("f", n - 1));
  size_t count = 0;
  for (const AddFile& f : list) EXPECT_EQ(f.size, static_cast<int64_t>(count++));
  EXPECT_EQ(count, n);
}

// ---- FileKeyIndex / ApplyFileChanges ----

std::pair<std::string, uint64_t> Key(std::string k) {
  uint64_t h = internal::HashFileKey(k);
  return {std::move(k), h};
}

TEST(FileKeyIndex, DropsCopyOnlyTheChunksThatLoseFilesAndLeaveTheOldListIntact) {
  std::vector<AddFile> files;
  const size_t n = 3 * FileList::kChunkSize;
  for (size_t i = 0; i < n; ++i) files.push_back(File(StrCat("f", i)));
  FileList list = FileList::FromVector(std::move(files));
  auto index = internal::FileKeyIndex::Build(list, "/root");

  FileList next;
  std::shared_ptr<const internal::FileKeyIndex> next_index;
  internal::ApplyFileChanges(list, *index, "/root", {Key("f5"), Key("f6"), Key("absent")},
                             FileList({Chunk({"new1", "f5"})}), next, next_index);
  EXPECT_EQ(next.size(), n - 2 + 2);
  EXPECT_EQ(list.size(), n);  // the old list is unchanged
  EXPECT_EQ(list[5].path, "f5");
  EXPECT_EQ(list[6].path, "f6");
  // Chunks 1 and 2 lost nothing: shared, not copied.
  EXPECT_EQ(next.chunks()[1].get(), list.chunks()[1].get());
  EXPECT_EQ(next.chunks()[2].get(), list.chunks()[2].get());
  EXPECT_NE(next.chunks()[0].get(), list.chunks()[0].get());
  // The chunk's last two files filled the holes (highest slot first).
  const size_t last = FileList::kChunkSize - 1;
  EXPECT_EQ(next[5].path, StrCat("f", last - 1));
  EXPECT_EQ(next[6].path, StrCat("f", last));
  EXPECT_EQ(next[7].path, "f7");

  auto where = [&](const std::string& k) -> std::optional<std::string> {
    std::optional<internal::FileLoc> loc =
        next_index->Find(k, internal::HashFileKey(k), next, "/root");
    if (!loc) return std::nullopt;
    return (*next.chunks()[loc->chunk])[loc->slot].path;
  };
  EXPECT_EQ(where("f5"), "f5");  // re-added
  EXPECT_EQ(where("f6"), std::nullopt);
  EXPECT_EQ(where("f7"), "f7");
  EXPECT_EQ(where(StrCat("f", last)), StrCat("f", last));  // moved within chunk 0
  EXPECT_EQ(where(StrCat("f", last - 1)), StrCat("f", last - 1));
  // f5 (dropped, re-added), f6 (dropped), the 2 moved, new1: the changes, not the chunk.
  EXPECT_EQ(next_index->overlay_size(), 5u);
  EXPECT_EQ(where("f4"), "f4");
  EXPECT_EQ(where(StrCat("f", n - 1)), StrCat("f", n - 1));
  EXPECT_EQ(where("new1"), "new1");
  EXPECT_EQ(where("nope"), std::nullopt);
}

TEST(FileKeyIndex, RebuildsTheBaseOnceTheOverlayOutgrowsItsLimit) {
  FileList list = FileList::FromVector({File("seed")});
  auto index = internal::FileKeyIndex::Build(list, "/root");
  const size_t limit = internal::FileKeyIndex::kMinOverlay;  // the base is tiny
  std::vector<AddFile> adds;
  for (size_t i = 0; i < limit; ++i) adds.push_back(File(StrCat("a", i)));
  FileList next;
  std::shared_ptr<const internal::FileKeyIndex> next_index;
  internal::ApplyFileChanges(list, *index, "/root", {}, FileList::FromVector(adds), next,
                             next_index);
  EXPECT_EQ(next_index->overlay_size(), limit);  // at the limit: kept
  FileList third;
  std::shared_ptr<const internal::FileKeyIndex> third_index;
  internal::ApplyFileChanges(next, *next_index, "/root", {}, FileList::FromVector({File("x")}),
                             third, third_index);
  EXPECT_EQ(third_index->overlay_size(), 0u);  // past it: rebuilt
  EXPECT_EQ(third_index->base_size(), limit + 2);
  for (const char* k : {"seed", "a0", "x"}) {
    EXPECT_TRUE(third_index->Find(k, internal::HashFileKey(k), third, "/root").has_value()) << k;
  }
}

// ---- refresh chains against full loads ----

// (path, size, dv id) of every file / tombstone, sorted: what a snapshot's file state is.
using FileRow = std::tuple<std::string, int64_t, std::string>;

std::vector<FileRow> Rows(const FileList& files) {
  std::vector<FileRow> rows;
  for (const AddFile& f : files) {
    rows.emplace_back(f.path, f.size, f.deletion_vector ? f.deletion_vector->UniqueId() : "");
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<FileRow> Rows(const TombstoneList& tombstones) {
  std::vector<FileRow> rows;
  for (const RemoveFile& r : tombstones) {
    rows.emplace_back(r.path, 0, r.deletion_vector ? r.deletion_vector->UniqueId() : "");
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

uint64_t TestSeed() {
  if (const char* s = std::getenv("LAKE_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

// Random commits of adds, removes, re-adds (newer size), DV updates and percent-encoded
// spellings of one key; after each, RefreshSnapshot of the previous refreshed snapshot must
// hold exactly what LoadSnapshot of that version holds. Enough files for several chunks and
// enough changes to force index rebuilds.
TEST(RefreshSnapshot, RandomChainsEqualFullLoadsAtEveryVersion) {
  const uint64_t seed = TestSeed();
  std::printf("RandomChainsEqualFullLoadsAtEveryVersion seed=%llu (LAKE_TEST_SEED=%llu reruns)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  SCOPED_TRACE(StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };

  testing::TestTable t;
  // Model: live files by logical name ("p=1/fN"), with whether they carry a DV.
  std::vector<std::string> live;  // names
  std::set<std::string> dv_live;  // names whose live add has a DV
  std::vector<std::string> gone;  // removed names, candidates for re-adding
  int next_name = 0;
  auto spelled = [&](const std::string& name) {  // either spelling of "p=1/..." is one key
    return pick(2) ? name : "p%3D1/" + name.substr(4);
  };
  std::vector<std::string> first = {ProtocolLine(), MetadataLine()};
  const int initial = static_cast<int>(FileList::kChunkSize) * 6 + 100;
  for (int i = 0; i < initial; ++i) {
    std::string name = StrCat("p=1/f", next_name++);
    first.push_back(AddLine(spelled(name), 10));
    live.push_back(name);
  }
  t.Commit(0, first);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr snap, LoadSnapshot(t.engine()));
  std::vector<SnapshotPtr> chain = {snap};
  const int versions = 40;
  for (int v = 1; v <= versions; ++v) {
    std::vector<std::string> lines;
    std::set<std::string> touched;
    const int actions = 1 + static_cast<int>(pick(120));
    for (int a = 0; a < actions; ++a) {
      const size_t kind = pick(10);
      if (kind < 3 || live.empty()) {  // new file
        std::string name = StrCat("p=1/f", next_name++);
        lines.push_back(AddLine(spelled(name), static_cast<int64_t>(pick(1000))));
        live.push_back(name);
        touched.insert(name);
      } else if (kind < 6) {  // remove a live file
        size_t i = pick(live.size());
        const std::string name = live[i];
        if (touched.count(name)) continue;  // one action per key per commit
        const bool has_dv = dv_live.count(name) > 0;
        lines.push_back(RemoveLine(spelled(name), has_dv ? DvJson("dv-" + name.substr(4)) : ""));
        live.erase(live.begin() + static_cast<ptrdiff_t>(i));
        dv_live.erase(name);
        gone.push_back(name);
        touched.insert(name);
      } else if (kind < 8 && !gone.empty()) {  // re-add a removed file with a new size
        size_t i = pick(gone.size());
        const std::string name = gone[i];
        if (touched.count(name)) continue;
        lines.push_back(AddLine(spelled(name), 2000 + static_cast<int64_t>(pick(1000))));
        gone.erase(gone.begin() + static_cast<ptrdiff_t>(i));
        live.push_back(name);
        touched.insert(name);
      } else {  // a DV update: remove the old key, add (path, new DV)
        const std::string name = live[pick(live.size())];
        if (touched.count(name) || dv_live.count(name)) continue;
        lines.push_back(RemoveLine(spelled(name)));
        lines.push_back(AddLine(spelled(name), 10, DvJson("dv-" + name.substr(4))));
        dv_live.insert(name);
        touched.insert(name);
      }
    }
    t.Commit(v, lines);
    // Mostly refresh one commit at a time; sometimes let two commits pile up.
    if (v < versions && pick(4) == 0) continue;
    ASSERT_OK_AND_ASSIGN(SnapshotPtr refreshed, RefreshSnapshot(t.engine(), snap));
    ASSERT_OK_AND_ASSIGN(SnapshotPtr full, LoadSnapshot(t.engine()));
    ASSERT_EQ(refreshed->version(), v);
    ASSERT_EQ(full->files().size(), live.size());  // the model agrees with the full load
    ASSERT_EQ(Rows(refreshed->files()), Rows(full->files())) << "version " << v;
    ASSERT_EQ(Rows(refreshed->tombstones()), Rows(full->tombstones())) << "version " << v;
    ASSERT_EQ(refreshed->size_bytes(), full->size_bytes());
    snap = refreshed;
    chain.push_back(snap);
  }
  // Older snapshots share chunks with newer ones: they must still hold their own versions.
  for (const SnapshotPtr& old : chain) {
    ASSERT_OK_AND_ASSIGN(SnapshotPtr full, LoadSnapshot(t.engine(), old->version()));
    EXPECT_EQ(Rows(old->files()), Rows(full->files())) << "version " << old->version();
    EXPECT_EQ(Rows(old->tombstones()), Rows(full->tombstones())) << "version " << old->version();
  }
}

}  // namespace
}  // namespace lake::delta
