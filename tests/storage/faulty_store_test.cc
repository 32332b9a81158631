// FaultyStore: which call fails, whether the inner store saw it, and what follows.
#include "storage/faulty_store.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storage/memory_store.h"
#include "test_util.h"

namespace lake::storage {
namespace {

using Mode = FaultyStore::Mode;

TEST(FaultyStore, WithoutTriggerEveryCallPassesAndIsCounted) {
  MemoryStore inner;
  FaultyStore store(inner, 0, Mode::kCrash);
  ASSERT_OK(store.Put("a", "1"));
  ASSERT_OK(store.PutIfAbsent("b", "2"));
  ASSERT_OK_AND_ASSIGN(std::string a, store.Get("a"));
  EXPECT_EQ(a, "1");
  EXPECT_EQ(store.Get("missing").status().code(), StatusCode::kNotFound);  // inner's answer
  EXPECT_EQ(store.calls(), 4);
  EXPECT_FALSE(store.triggered());
}

// One call of each method, in a fixed order, against a store holding "k" = "v".
std::vector<std::function<StatusCode(ObjectStore&)>> OneCallOfEachMethod() {
  return {
      [](ObjectStore& s) { return s.Get("k").status().code(); },
      [](ObjectStore& s) { return s.GetRange("k", 0, 1).status().code(); },
      [](ObjectStore& s) { return s.Put("p", "x").code(); },
      [](ObjectStore& s) { return s.PutIfAbsent("q", "x").code(); },
      [](ObjectStore& s) { return s.ListAfter("", "").status().code(); },
      [](ObjectStore& s) { return s.Head("k").status().code(); },
      [](ObjectStore& s) { return s.Delete("k").code(); },
  };
}

TEST(FaultyStore, EachMethodCallCountsAsOneCall) {
  const auto calls = OneCallOfEachMethod();
  for (int trigger = 1; trigger <= static_cast<int>(calls.size()); ++trigger) {
    MemoryStore inner;
    ASSERT_OK(inner.Put("k", "v"));
    FaultyStore store(inner, trigger, Mode::kFailOnce);
    for (int call = 1; call <= static_cast<int>(calls.size()); ++call) {
      StatusCode want = call == trigger ? StatusCode::kIOError : StatusCode::kOk;
      EXPECT_EQ(calls[call - 1](store), want) << "trigger " << trigger << ", call " << call;
    }
    EXPECT_EQ(store.calls(), static_cast<int64_t>(calls.size()));
    EXPECT_TRUE(store.triggered());
  }
}

TEST(FaultyStore, StoresSharingAScheduleCountOnOneCounter) {
  MemoryStore first_inner, second_inner;
  auto schedule = std::make_shared<FaultyStore::Schedule>(3, Mode::kCrash);
  FaultyStore first(first_inner, 0, Mode::kCrash);  // its own schedule: never fails
  FaultyStore a(std::make_unique<MemoryStore>(), schedule);
  FaultyStore b(std::make_unique<MemoryStore>(), schedule);
  ASSERT_OK(a.Put("k", "1"));                                      // call 1
  ASSERT_OK(b.Put("k", "2"));                                      // call 2
  EXPECT_EQ(a.Get("k").status().code(), StatusCode::kIOError);    // call 3: the crash
  EXPECT_EQ(b.Get("k").status().code(), StatusCode::kIOError);    // dead after it
  EXPECT_EQ(schedule->calls(), 4);
  EXPECT_EQ(a.calls(), 4);
  EXPECT_TRUE(b.triggered());
  ASSERT_OK(first.Put("k", "3"));
  EXPECT_EQ(first.calls(), 1);
}

TEST(FaultyStore, OwningStoreReachesItsInnerStore) {
  auto inner = std::make_unique<MemoryStore>();
  ASSERT_OK(inner->Put("k", "v"));
  const std::string uri = inner->uri();
  FaultyStore store(std::move(inner), std::make_shared<FaultyStore::Schedule>(0, Mode::kCrash));
  ASSERT_OK_AND_ASSIGN(std::string v, store.Get("k"));
  EXPECT_EQ(v, "v");
  EXPECT_EQ(store.uri(), uri);
}

TEST(FaultyStore, FailOnceFailsOnlyTheTriggerCallAndHasNoEffect) {
  MemoryStore inner;
  FaultyStore store(inner, 2, Mode::kFailOnce);
  ASSERT_OK(store.Put("a", "1"));
  EXPECT_FALSE(store.triggered());
  Status failed = store.PutIfAbsent("b", "2");
  EXPECT_EQ(failed.code(), StatusCode::kIOError);
  EXPECT_TRUE(store.triggered());
  EXPECT_EQ(inner.Get("b").status().code(), StatusCode::kNotFound);
  ASSERT_OK(store.PutIfAbsent("b", "2"));  // the retry goes through
  ASSERT_OK_AND_ASSIGN(std::string b, inner.Get("b"));
  EXPECT_EQ(b, "2");
}

TEST(FaultyStore, CrashFailsTheTriggerAndEveryLaterCallWithoutEffect) {
  MemoryStore inner;
  FaultyStore store(inner, 2, Mode::kCrash);
  ASSERT_OK(store.Put("a", "1"));
  EXPECT_EQ(store.Put("b", "2").code(), StatusCode::kIOError);
  EXPECT_EQ(store.Get("a").status().code(), StatusCode::kIOError);
  EXPECT_EQ(store.Delete("a").code(), StatusCode::kIOError);
  EXPECT_EQ(store.ListAfter("", "").status().code(), StatusCode::kIOError);
  EXPECT_EQ(inner.Get("b").status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(std::string a, inner.Get("a"));  // the Delete never reached it
  EXPECT_EQ(a, "1");
  EXPECT_EQ(store.calls(), 5);
}

TEST(FaultyStore, CrashAfterAppliesTheEffectButReportsFailure) {
  MemoryStore inner;
  ASSERT_OK(inner.Put("old", "x"));
  FaultyStore store(inner, 2, Mode::kCrashAfter);
  ASSERT_OK(store.Head("old").status());
  Status claimed = store.PutIfAbsent("_delta_log/00000000000000000001.json", "commit");
  EXPECT_EQ(claimed.code(), StatusCode::kIOError);
  ASSERT_OK_AND_ASSIGN(std::string commit, inner.Get("_delta_log/00000000000000000001.json"));
  EXPECT_EQ(commit, "commit");  // the commit landed; its writer never learned it
  EXPECT_EQ(store.Delete("old").code(), StatusCode::kIOError);
  ASSERT_OK(inner.Head("old").status());  // later calls are dead: no effect
}

TEST(FaultyStore, CrashAfterADeleteLeavesTheObjectDeleted) {
  MemoryStore inner;
  ASSERT_OK(inner.Put("k", "v"));
  FaultyStore store(inner, 1, Mode::kCrashAfter);
  EXPECT_EQ(store.Delete("k").code(), StatusCode::kIOError);
  EXPECT_EQ(inner.Get("k").status().code(), StatusCode::kNotFound);
}

TEST(FaultyStore, PassesUriAndLocalPathThrough) {
  MemoryStore inner("t1");
  FaultyStore store(inner, 1, Mode::kCrash);
  EXPECT_EQ(store.uri(), "memory://t1");
  EXPECT_EQ(store.LocalPath("k"), std::nullopt);
  EXPECT_EQ(store.calls(), 0);  // not I/O: not counted, never fails
}

}  // namespace
}  // namespace lake::storage
