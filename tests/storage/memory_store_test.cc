// MemoryStore behaviour beyond the shared suite.
#include "storage/memory_store.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace lake::storage {
namespace {

TEST(MemoryStore, SetMtimeChangesWhatHeadAndListReport) {
  MemoryStore store("t");
  EXPECT_EQ(store.uri(), "memory://t");
  ASSERT_OK(store.Put("_delta_log/00000000000000000000.json", "{}"));
  ASSERT_OK(store.SetMtime("_delta_log/00000000000000000000.json", 1'700'000'000'123));
  ASSERT_OK_AND_ASSIGN(ObjectInfo head, store.Head("_delta_log/00000000000000000000.json"));
  EXPECT_EQ(head.mtime_ms, 1'700'000'000'123);
  ASSERT_OK_AND_ASSIGN(auto listed, store.ListAfter("_delta_log/", ""));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].mtime_ms, 1'700'000'000'123);
  EXPECT_EQ(store.SetMtime("missing", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(store.LocalPath("_delta_log/00000000000000000000.json"), std::nullopt);
}

}  // namespace
}  // namespace lake::storage
