// OpenStore: which locations open a local folder and which schemes are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "storage/object_store.h"
#include "test_util.h"

namespace lake::storage {
namespace {

using ::testing::HasSubstr;

TEST(OpenStore, PlainAbsolutePathOpensThatFolder) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, OpenStore(dir.path()));
  EXPECT_EQ(store->uri(), "file://" + dir.path());
  EXPECT_EQ(store->LocalPath("_delta_log/x.json"), dir.path() + "/_delta_log/x.json");
  ASSERT_OK_AND_ASSIGN(auto trailing, OpenStore(dir.path() + "/"));
  EXPECT_EQ(trailing->uri(), "file://" + dir.path());
}

TEST(OpenStore, RelativePathIsMadeAbsolute) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_OK_AND_ASSIGN(auto plain, OpenStore("some/table"));
  EXPECT_EQ(plain->LocalPath("k"), std::string(cwd) + "/some/table/k");
  ASSERT_OK_AND_ASSIGN(auto dotted, OpenStore("./some/../table"));
  EXPECT_EQ(dotted->LocalPath("k"), std::string(cwd) + "/table/k");
}

TEST(OpenStore, FileUrisOpenTheLocalFolder) {
  testing::TempDir dir;
  for (const std::string& uri : {"file://" + dir.path(), "file:" + dir.path(),
                                 "file://localhost" + dir.path(), "FILE://" + dir.path()}) {
    ASSERT_OK_AND_ASSIGN(auto store, OpenStore(uri));
    EXPECT_EQ(store->LocalPath("k"), dir.path() + "/k") << uri;
    EXPECT_EQ(store->uri(), "file://" + dir.path()) << uri;
  }
}

TEST(OpenStore, UriEscapesSurviveARoundTrip) {
  testing::TempDir dir;
  const std::string odd = dir.path() + "/my table%#1";
  ASSERT_OK_AND_ASSIGN(auto store, OpenStore(odd));
  EXPECT_EQ(store->uri(), "file://" + dir.path() + "/my%20table%25%231");
  ASSERT_OK_AND_ASSIGN(auto again, OpenStore(store->uri()));
  EXPECT_EQ(again->LocalPath("k"), odd + "/k");
}

TEST(OpenStore, RemoteSchemesAreNotSupportedYet) {
  for (std::string_view uri :
       {"s3://bucket/t", "s3a://bucket/t", "abfss://c@acct.dfs.core.windows.net/t", "gs://bucket/t",
        "hdfs://namenode:8020/t", "http://host/t", "https://host/t"}) {
    auto opened = OpenStore(uri);
    ASSERT_FALSE(opened.ok()) << uri;
    EXPECT_EQ(opened.status().code(), StatusCode::kNotSupported) << uri;
    std::string scheme(uri.substr(0, uri.find("://") + 3));
    EXPECT_THAT(opened.status().message(), HasSubstr("\"" + scheme + "\"")) << uri;
    EXPECT_FALSE(opened.status().hint().empty()) << uri;
  }
}

TEST(OpenStore, MalformedLocationsAreInvalid) {
  EXPECT_EQ(OpenStore("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("file:relative/t").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("file:///tmp/bad%zzescape").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("file:///tmp/cut%2").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("file://otherhost/t").status().code(), StatusCode::kNotSupported);
}

TEST(OpenStore, TestingWrapperWrapsEveryStoreOpenedWhileSet) {
  testing::TempDir dir;
  std::vector<std::string> wrapped;
  SetStoreWrapperForTesting([&](std::unique_ptr<ObjectStore> store) {
    wrapped.push_back(store->uri());
    return store;
  });
  auto first = OpenStore(dir.path());
  auto second = OpenStore("file://" + dir.path());
  SetStoreWrapperForTesting(nullptr);
  auto after = OpenStore(dir.path());
  ASSERT_OK(first.status());
  ASSERT_OK(second.status());
  ASSERT_OK(after.status());
  EXPECT_EQ(wrapped, (std::vector<std::string>{"file://" + dir.path(), "file://" + dir.path()}));
}

}  // namespace
}  // namespace lake::storage
