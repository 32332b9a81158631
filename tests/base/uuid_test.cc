#include "base/uuid.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "base/version.h"

namespace lake {
namespace {

TEST(NewUuidV4, HasTheVersionAndVariantBits) {
  const std::regex kV4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 100; ++i) {
    std::string id = NewUuidV4();
    EXPECT_TRUE(std::regex_match(id, kV4)) << id;
  }
}

TEST(NewUuidV4, DoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(seen.insert(NewUuidV4()).second);
}

TEST(LakeVersion, IsTheProjectVersion) {
  EXPECT_TRUE(std::regex_match(std::string(LakeVersion()), std::regex(R"(\d+\.\d+\.\d+)")))
      << LakeVersion();
  EXPECT_NE(LakeVersion(), "0.0.0");  // the CMake definition reached version.cc
}

}  // namespace
}  // namespace lake
