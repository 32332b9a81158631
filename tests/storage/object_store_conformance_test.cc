// ObjectStoreConformance: the one suite every ObjectStore implementation passes (STYLE.md §9).
// Expected values are written out by hand from the contract in storage/object_store.h.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/faulty_store.h"
#include "storage/local_store.h"
#include "storage/memory_store.h"
#include "storage/object_store.h"
#include "test_util.h"

namespace lake::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Owns a store and whatever it needs (a temp folder, an inner store).
class Harness {
 public:
  virtual ~Harness() = default;
  virtual ObjectStore& store() = 0;
};

class LocalHarness : public Harness {
 public:
  LocalHarness() {
    auto opened = LocalStore::Open(dir_.path() + "/root");
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (opened.ok()) store_ = std::move(opened).value();
  }
  ObjectStore& store() override { return *store_; }

 private:
  testing::TempDir dir_;
  std::unique_ptr<LocalStore> store_;
};

class MemoryHarness : public Harness {
 public:
  ObjectStore& store() override { return store_; }

 private:
  MemoryStore store_;
};

class FaultyHarness : public Harness {
 public:
  ObjectStore& store() override { return faulty_; }

 private:
  MemoryStore inner_;
  FaultyStore faulty_{inner_, /*trigger_call=*/0, FaultyStore::Mode::kCrash};
};

struct StoreKind {
  std::string name;
  std::function<std::unique_ptr<Harness>()> make;
};

// Names the store in failure messages instead of dumping the struct's bytes.
void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

class ObjectStoreConformance : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override { harness_ = GetParam().make(); }
  ObjectStore& store() { return harness_->store(); }

  // Returns the keys ListAfter returns, or one "ERROR: ..." entry.
  std::vector<std::string> Keys(std::string_view prefix, std::string_view start) {
    auto listed = store().ListAfter(prefix, start);
    if (!listed.ok()) return {"ERROR: " + listed.status().ToString()};
    std::vector<std::string> keys;
    for (const ObjectInfo& info : *listed) keys.push_back(info.key);
    return keys;
  }

  void PutAll(const std::vector<std::string>& keys) {
    for (const std::string& key : keys) ASSERT_OK(store().Put(key, "x"));
  }

 private:
  std::unique_ptr<Harness> harness_;
};

TEST_P(ObjectStoreConformance, PutThenGetReturnsTheSameBytes) {
  const std::string binary("a\0b\xff\x80z", 6);
  ASSERT_OK(store().Put("dir/sub/bin", binary));
  ASSERT_OK(store().Put("empty", ""));
  ASSERT_OK_AND_ASSIGN(std::string got, store().Get("dir/sub/bin"));
  EXPECT_EQ(got, binary);
  ASSERT_OK_AND_ASSIGN(std::string empty, store().Get("empty"));
  EXPECT_EQ(empty, "");
}

TEST_P(ObjectStoreConformance, APreparedPutPublishesUnderTheFirstAbsentKey) {
  ObjectStore& store = this->store();
  ASSERT_OK(store.PutIfAbsent("_delta_log/00000000000000000005.json", "theirs"));
  ASSERT_OK_AND_ASSIGN(auto prepared,
                       store.PreparePut("_delta_log/00000000000000000005.json", "mine"));
  EXPECT_EQ(prepared->PublishIfAbsent("_delta_log/00000000000000000005.json").code(),
            StatusCode::kAlreadyExists);
  ASSERT_OK(prepared->PublishIfAbsent("_delta_log/00000000000000000006.json"));
  ASSERT_OK_AND_ASSIGN(std::string five, store.Get("_delta_log/00000000000000000005.json"));
  ASSERT_OK_AND_ASSIGN(std::string six, store.Get("_delta_log/00000000000000000006.json"));
  EXPECT_EQ(five, "theirs");
  EXPECT_EQ(six, "mine");
}

TEST_P(ObjectStoreConformance, PutOverwritesAnExistingObject) {
  ASSERT_OK(store().Put("k", "first version"));
  ASSERT_OK(store().Put("k", "two"));
  ASSERT_OK_AND_ASSIGN(std::string got, store().Get("k"));
  EXPECT_EQ(got, "two");
  ASSERT_OK_AND_ASSIGN(ObjectInfo info, store().Head("k"));
  EXPECT_EQ(info.size, 3);
}

TEST_P(ObjectStoreConformance, GetRangeReturnsTheSliceAndStopsAtTheEnd) {
  ASSERT_OK(store().Put("k", "hello world"));  // 11 bytes
  struct Case {
    int64_t offset, length;
    std::string want;
  };
  for (const Case& c : {Case{0, 5, "hello"}, Case{6, 5, "world"}, Case{6, 100, "world"},
                        Case{10, 1, "d"}, Case{3, 0, ""}, Case{11, 4, ""}, Case{50, 4, ""}}) {
    ASSERT_OK_AND_ASSIGN(std::string got, store().GetRange("k", c.offset, c.length));
    EXPECT_EQ(got, c.want) << "offset " << c.offset << " length " << c.length;
  }
  EXPECT_EQ(store().GetRange("k", -1, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store().GetRange("k", 0, -3).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ObjectStoreConformance, MissingKeysAreNotFound) {
  ASSERT_OK(store().Put("a/b", "x"));
  for (std::string_view key : {"nope", "a/nope", "nope/deeper/k"}) {
    EXPECT_EQ(store().Get(key).status().code(), StatusCode::kNotFound) << key;
    EXPECT_EQ(store().GetRange(key, 0, 1).status().code(), StatusCode::kNotFound) << key;
    EXPECT_EQ(store().Head(key).status().code(), StatusCode::kNotFound) << key;
    EXPECT_EQ(store().Delete(key).code(), StatusCode::kNotFound) << key;
  }
}

TEST_P(ObjectStoreConformance, APrefixOfAKeyIsNotAnObject) {
  ASSERT_OK(store().Put("a/b", "x"));
  EXPECT_EQ(store().Get("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().Head("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().Delete("a").code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(std::string got, store().Get("a/b"));
  EXPECT_EQ(got, "x");
}

TEST_P(ObjectStoreConformance, PutIfAbsentClaimsAKeyOnlyOnce) {
  ASSERT_OK(store().PutIfAbsent("_delta_log/00000000000000000000.json", "winner"));
  Status second = store().PutIfAbsent("_delta_log/00000000000000000000.json", "loser!");
  EXPECT_EQ(second.code(), StatusCode::kAlreadyExists) << second.ToString();
  ASSERT_OK_AND_ASSIGN(std::string got, store().Get("_delta_log/00000000000000000000.json"));
  EXPECT_EQ(got, "winner");

  ASSERT_OK(store().Put("plain", "by put"));
  EXPECT_EQ(store().PutIfAbsent("plain", "by put-if-absent").code(), StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(std::string plain, store().Get("plain"));
  EXPECT_EQ(plain, "by put");
}

TEST_P(ObjectStoreConformance, PutIfAbsentRaceBetweenThreadsHasExactlyOneWinner) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    std::string key = "_delta_log/race-" + std::to_string(round);
    std::vector<Status> results(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();  // release all writers together
        results[t] = store().PutIfAbsent(key, "writer-" + std::to_string(t));
      });
    }
    for (std::thread& thread : threads) thread.join();
    int winner = -1;
    for (int t = 0; t < kThreads; ++t) {
      if (results[t].ok()) {
        EXPECT_EQ(winner, -1) << "two winners for " << key;
        winner = t;
      } else {
        EXPECT_EQ(results[t].code(), StatusCode::kAlreadyExists) << results[t].ToString();
      }
    }
    ASSERT_NE(winner, -1) << "no winner for " << key;
    ASSERT_OK_AND_ASSIGN(std::string got, store().Get(key));
    EXPECT_EQ(got, "writer-" + std::to_string(winner));
  }
  EXPECT_EQ(Keys("_delta_log/", "").size(), static_cast<size_t>(kRounds));
}

TEST_P(ObjectStoreConformance, ListAfterReturnsEveryKeyInByteOrder) {
  // Byte order: '-' (0x2d) < '/' (0x2f) < '0' (0x30) < 'z' (0x7a) < 0xc3 (first byte of "é");
  // a signed-char comparison would put "aé" first.
  PutAll({"b", "a0", "a\xc3\xa9", "a/c/d", "az", "a-b", "a/b"});
  EXPECT_THAT(Keys("", ""), ElementsAre("a-b", "a/b", "a/c/d", "a0", "az", "a\xc3\xa9", "b"));
}

TEST_P(ObjectStoreConformance, ListAfterKeepsOnlyKeysStrictlyAfterStart) {
  PutAll({"b", "a0", "a/c/d", "a-b", "a/b"});
  EXPECT_THAT(Keys("", "a/b"), ElementsAre("a/c/d", "a0", "b"));
  EXPECT_THAT(Keys("", "a/"), ElementsAre("a/b", "a/c/d", "a0", "b"));  // start need not exist
  EXPECT_THAT(Keys("", "a/c"), ElementsAre("a/c/d", "a0", "b"));
  EXPECT_THAT(Keys("", "a/c/"), ElementsAre("a/c/d", "a0", "b"));
  EXPECT_THAT(Keys("", "a/c/d"), ElementsAre("a0", "b"));
  EXPECT_THAT(Keys("", "a/c0"), ElementsAre("a0", "b"));  // "a/c/d" < "a/c0"
  EXPECT_THAT(Keys("", "a/c/d/zz"), ElementsAre("a0", "b"));
  EXPECT_THAT(Keys("", "a-"), ElementsAre("a-b", "a/b", "a/c/d", "a0", "b"));
  EXPECT_THAT(Keys("", "b"), IsEmpty());
  EXPECT_THAT(Keys("", "\xff"), IsEmpty());
}

TEST_P(ObjectStoreConformance, ListAfterPrefixIsAPlainStringPrefix) {
  PutAll({"b", "a0", "a/c/d", "a-b", "a/b", "ab/x"});
  EXPECT_THAT(Keys("a/", ""), ElementsAre("a/b", "a/c/d"));
  EXPECT_THAT(Keys("a", ""), ElementsAre("a-b", "a/b", "a/c/d", "a0", "ab/x"));
  EXPECT_THAT(Keys("a/c", ""), ElementsAre("a/c/d"));
  EXPECT_THAT(Keys("a/", "a/b"), ElementsAre("a/c/d"));
  EXPECT_THAT(Keys("a", "a/zzz"), ElementsAre("a0", "ab/x"));
  EXPECT_THAT(Keys("ab/x", ""), ElementsAre("ab/x"));
}

TEST_P(ObjectStoreConformance, ListAfterOverADeltaLog) {
  const std::string v0 = "_delta_log/00000000000000000000.json";
  const std::string v1 = "_delta_log/00000000000000000001.json";
  const std::string v10 = "_delta_log/00000000000000000010.json";
  const std::string v10_checkpoint = "_delta_log/00000000000000000010.checkpoint.parquet";
  const std::string last = "_delta_log/_last_checkpoint";
  PutAll({v10, last, v0, "part-0.parquet", v1, v10_checkpoint, "_delta_log.bak/x"});
  EXPECT_THAT(Keys("_delta_log/", ""), ElementsAre(v0, v1, v10_checkpoint, v10, last));
  EXPECT_THAT(Keys("_delta_log/", v1), ElementsAre(v10_checkpoint, v10, last));
  // 18 zeros then '1': versions 10..19, not version 1 (19 zeros then '1').
  EXPECT_THAT(Keys("_delta_log/0000000000000000001", ""), ElementsAre(v10_checkpoint, v10));
  // '.' (0x2e) sorts before '/' (0x2f).
  EXPECT_THAT(Keys("_delta_log", "_delta_log/00000000000000000001.json"),
              ElementsAre(v10_checkpoint, v10, last));
  EXPECT_THAT(Keys("_delta_log", ""),
              ElementsAre("_delta_log.bak/x", v0, v1, v10_checkpoint, v10, last));
}

TEST_P(ObjectStoreConformance, ListAfterOfAMissingPrefixIsEmpty) {
  PutAll({"a0", "a/b"});
  EXPECT_THAT(Keys("nope/", ""), IsEmpty());
  EXPECT_THAT(Keys("nope/deeper/", ""), IsEmpty());
  EXPECT_THAT(Keys("nope/deeper/x", ""), IsEmpty());
  EXPECT_THAT(Keys("a0/", ""), IsEmpty());  // an object, not a folder
  EXPECT_THAT(Keys("a/b/", ""), IsEmpty());
}

TEST_P(ObjectStoreConformance, ListAfterReportsSizes) {
  ASSERT_OK(store().Put("d/one", "1"));
  ASSERT_OK(store().Put("d/three", "333"));
  ASSERT_OK(store().Put("d/zero", ""));
  ASSERT_OK_AND_ASSIGN(std::vector<ObjectInfo> listed, store().ListAfter("d/", ""));
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].key, "d/one");
  EXPECT_EQ(listed[0].size, 1);
  EXPECT_EQ(listed[1].key, "d/three");
  EXPECT_EQ(listed[1].size, 3);
  EXPECT_EQ(listed[2].key, "d/zero");
  EXPECT_EQ(listed[2].size, 0);
  for (const ObjectInfo& info : listed) {
    ASSERT_OK_AND_ASSIGN(ObjectInfo head, store().Head(info.key));
    EXPECT_EQ(head.mtime_ms, info.mtime_ms) << info.key;
  }
}

TEST_P(ObjectStoreConformance, HeadReportsSizeAndModificationTime) {
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t before_ms = now_ms();
  ASSERT_OK(store().Put("x/y", "12345"));
  int64_t after_ms = now_ms();
  ASSERT_OK_AND_ASSIGN(ObjectInfo info, store().Head("x/y"));
  EXPECT_EQ(info.key, "x/y");
  EXPECT_EQ(info.size, 5);
  // File systems stamp times from a coarse clock that may lag the wall clock a little; the
  // bound only checks the unit (ms since the epoch) and that the time is the write's.
  EXPECT_GE(info.mtime_ms, before_ms - 1000);
  EXPECT_LE(info.mtime_ms, after_ms + 1000);
}

TEST_P(ObjectStoreConformance, DeleteRemovesOnlyThatObject) {
  PutAll({"a/b", "a/c", "d"});
  ASSERT_OK(store().Delete("a/b"));
  EXPECT_EQ(store().Get("a/b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().Delete("a/b").code(), StatusCode::kNotFound);
  EXPECT_THAT(Keys("", ""), ElementsAre("a/c", "d"));
  // A deleted key can be claimed again.
  ASSERT_OK(store().PutIfAbsent("a/b", "again"));
  ASSERT_OK_AND_ASSIGN(std::string got, store().Get("a/b"));
  EXPECT_EQ(got, "again");
}

TEST_P(ObjectStoreConformance, InvalidKeysAreRefused) {
  const std::vector<std::string> bad = {"",     "/abs",   "/",     "..",
                                        "../x", "a/../b", "a/..",  "a//b",
                                        "a/",   "./a",    "a/./b", std::string("a\0b", 3)};
  for (const std::string& key : bad) {
    SCOPED_TRACE("key \"" + key + "\"");
    EXPECT_EQ(store().Put(key, "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store().PutIfAbsent(key, "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store().Get(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store().GetRange(key, 0, 1).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store().Head(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store().Delete(key).code(), StatusCode::kInvalidArgument);
  }
  for (std::string_view prefix : {"/", "/a", "../", "a/../", "a//"}) {
    EXPECT_EQ(store().ListAfter(prefix, "").status().code(), StatusCode::kInvalidArgument)
        << prefix;
  }
  EXPECT_THAT(Keys("", ""), IsEmpty());  // nothing was written
  EXPECT_FALSE(store().Get("../x").status().hint().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Stores, ObjectStoreConformance,
    ::testing::Values(
        StoreKind{"Local",
                  []() -> std::unique_ptr<Harness> { return std::make_unique<LocalHarness>(); }},
        StoreKind{"Memory",
                  []() -> std::unique_ptr<Harness> { return std::make_unique<MemoryHarness>(); }},
        StoreKind{"FaultyWithoutTrigger",
                  []() -> std::unique_ptr<Harness> { return std::make_unique<FaultyHarness>(); }}),
    [](const ::testing::TestParamInfo<StoreKind>& info) { return info.param.name; });

}  // namespace
}  // namespace lake::storage
