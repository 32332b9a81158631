// LocalStore behaviour beyond the shared suite: files on disk, temp files, cross-process
// PutIfAbsent. Expected file contents and paths are spelled out by hand.
#include "storage/local_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace lake::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

// Every entry (files and folders) under `root`, relative, sorted.
std::set<std::string> Tree(const std::string& root) {
  std::set<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    out.insert(fs::relative(entry.path(), root).string());
  }
  return out;
}

std::vector<std::string> Keys(ObjectStore& store, std::string_view prefix, std::string_view start) {
  auto listed = store.ListAfter(prefix, start);
  if (!listed.ok()) return {"ERROR: " + listed.status().ToString()};
  std::vector<std::string> keys;
  for (const ObjectInfo& info : *listed) keys.push_back(info.key);
  return keys;
}

TEST(LocalStore, KeysAreFilesUnderTheRoot) {
  testing::TempDir dir;
  const std::string root = dir.path() + "/tables/t";  // created on the first write
  ASSERT_OK_AND_ASSIGN(auto store, LocalStore::Open(root));
  EXPECT_EQ(store->root(), root);
  EXPECT_EQ(store->uri(), "file://" + root);
  EXPECT_EQ(store->LocalPath("a/b.parquet"), root + "/a/b.parquet");
  EXPECT_EQ(store->LocalPath("../x"), std::nullopt);
  EXPECT_FALSE(fs::exists(root));

  ASSERT_OK(store->Put("a/b.parquet", "data"));
  ASSERT_OK(store->PutIfAbsent("_delta_log/00000000000000000000.json", "{}\n"));
  EXPECT_EQ(ReadFile(root + "/a/b.parquet"), "data");
  EXPECT_EQ(ReadFile(root + "/_delta_log/00000000000000000000.json"), "{}\n");
  // No temp file survives a Put, a winning PutIfAbsent or a losing one.
  EXPECT_EQ(store->PutIfAbsent("_delta_log/00000000000000000000.json", "late").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(Tree(root), (std::set<std::string>{"_delta_log", "_delta_log/00000000000000000000.json",
                                               "a", "a/b.parquet"}));
}

TEST(LocalStore, APreparedPutIsWrittenOnceAndLinkedUnderTheFirstFreeName) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, LocalStore::Open(dir.path()));
  ASSERT_OK(store->PutIfAbsent("_delta_log/00000000000000000001.json", "winner\n"));
  ASSERT_OK_AND_ASSIGN(auto prepared,
                       store->PreparePut("_delta_log/00000000000000000001.json", "ours\n"));
  // One hidden temp file holds the bytes until a publish wins.
  EXPECT_EQ(Tree(dir.path()).size(), 3u);  // _delta_log, 1.json, the temp file
  EXPECT_EQ(prepared->PublishIfAbsent("_delta_log/00000000000000000001.json").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(dir.path() + "/_delta_log/00000000000000000001.json"), "winner\n");
  ASSERT_OK(prepared->PublishIfAbsent("_delta_log/00000000000000000002.json"));
  EXPECT_EQ(ReadFile(dir.path() + "/_delta_log/00000000000000000002.json"), "ours\n");
  // Published: the temp name is gone; the object outlives the prepared put.
  EXPECT_EQ(Tree(dir.path()),
            (std::set<std::string>{"_delta_log", "_delta_log/00000000000000000001.json",
                                   "_delta_log/00000000000000000002.json"}));
  prepared.reset();
  EXPECT_EQ(ReadFile(dir.path() + "/_delta_log/00000000000000000002.json"), "ours\n");
  // Dropped without a publish: nothing is left behind.
  ASSERT_OK_AND_ASSIGN(auto unused,
                       store->PreparePut("_delta_log/00000000000000000003.json", "never\n"));
  unused.reset();
  EXPECT_EQ(Tree(dir.path()).size(), 3u);
  // Another folder than the hint's still works (a plain PutIfAbsent).
  ASSERT_OK_AND_ASSIGN(auto elsewhere, store->PreparePut("_delta_log/x.json", "e\n"));
  ASSERT_OK(elsewhere->PublishIfAbsent("other/y.json"));
  EXPECT_EQ(ReadFile(dir.path() + "/other/y.json"), "e\n");
}

TEST(LocalStore, ReadsFilesOtherWritersPut) {
  testing::TempDir dir;
  WriteFile(dir.path() + "/_delta_log/00000000000000000000.json", "commit zero");
  WriteFile(dir.path() + "/p=1/part-0.parquet", "PAR1");
  ASSERT_OK_AND_ASSIGN(auto store, LocalStore::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(std::string got, store->Get("_delta_log/00000000000000000000.json"));
  EXPECT_EQ(got, "commit zero");
  EXPECT_THAT(Keys(*store, "", ""),
              ElementsAre("_delta_log/00000000000000000000.json", "p=1/part-0.parquet"));
}

TEST(LocalStore, ListAfterSkipsItsTempFilesButNotOtherDotFiles) {
  testing::TempDir dir;
  WriteFile(dir.path() + "/_delta_log/.00000000000000000001.json.tmp.0123456789abcdef", "half");
  WriteFile(dir.path() + "/.x.tmp.fedcba9876543210", "half");
  WriteFile(dir.path() + "/.part-0.parquet.crc", "crc");  // Hadoop checksum file
  WriteFile(dir.path() + "/.x.tmp.notours", "other");     // not our pattern
  WriteFile(dir.path() + "/_delta_log/00000000000000000000.json", "{}");
  ASSERT_OK_AND_ASSIGN(auto store, LocalStore::Open(dir.path()));
  EXPECT_THAT(Keys(*store, "", ""), ElementsAre(".part-0.parquet.crc", ".x.tmp.notours",
                                                "_delta_log/00000000000000000000.json"));
}

TEST(LocalStore, ListAfterInALargeLogReturnsOnlyLaterVersions) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, LocalStore::Open(dir.path()));
  auto name = [](int v) {
    std::string digits = std::to_string(v);
    return "_delta_log/" + std::string(20 - digits.size(), '0') + digits + ".json";
  };
  for (int v = 0; v < 2000; ++v) WriteFile(dir.path() + "/" + name(v), "{}");
  WriteFile(dir.path() + "/part-0.parquet", "PAR1");
  EXPECT_THAT(Keys(*store, "_delta_log/", name(1996)),
              ElementsAre(name(1997), name(1998), name(1999)));
  EXPECT_EQ(Keys(*store, "_delta_log/", "").size(), 2000u);
  EXPECT_THAT(Keys(*store, "_delta_log/0000000000000000199", name(1997)),
              ElementsAre(name(1998), name(1999)));
}

TEST(LocalStore, InvalidKeysTouchNothingOutsideTheRoot) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, LocalStore::Open(dir.path() + "/t"));
  EXPECT_EQ(store->Put("../escaped", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutIfAbsent("a/../../escaped", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Tree(dir.path()).empty());
}

TEST(LocalStore, ErrorsNameThePathAndTheReason) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, LocalStore::Open(dir.path()));
  Status missing = store->Get("_delta_log/00000000000000000007.json").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr(dir.path() + "/_delta_log/00000000000000000007.json"));
  EXPECT_THAT(missing.message(), HasSubstr("No such file or directory"));
  // A file where a folder is needed.
  ASSERT_OK(store->Put("f", "x"));
  Status blocked = store->Put("f/g", "y");
  EXPECT_FALSE(blocked.ok());
  EXPECT_THAT(blocked.message(), HasSubstr(dir.path() + "/f"));
}

TEST(LocalStore, OpenRefusesAFile) {
  testing::TempDir dir;
  WriteFile(dir.path() + "/file", "x");
  auto opened = LocalStore::Open(dir.path() + "/file");
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(opened.status().hint().empty());
}

// Forks `kChildren` processes that each try to claim the same key at the same moment, for
// several keys: exactly one claim per key may succeed and its bytes must be the ones stored.
TEST(LocalStore, PutIfAbsentIsAtomicAcrossProcesses) {
  constexpr int kChildren = 8;
  constexpr int kRounds = 10;
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, LocalStore::Open(dir.path()));
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "_delta_log/" + std::to_string(round) + ".json";
    int gate[2];
    ASSERT_EQ(::pipe(gate), 0);
    std::vector<pid_t> children;
    for (int child = 0; child < kChildren; ++child) {
      pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::close(gate[1]);
        char byte;
        // Blocks until the parent closes the write end: all children start together.
        while (::read(gate[0], &byte, 1) > 0) {
        }
        Status s = store->PutIfAbsent(key, "child-" + std::to_string(child));
        ::_exit(s.ok() ? 0 : s.code() == StatusCode::kAlreadyExists ? 1 : 2);
      }
      children.push_back(pid);
    }
    ::close(gate[0]);
    ::close(gate[1]);  // release
    int winners = 0, losers = 0, winner = -1;
    for (int child = 0; child < kChildren; ++child) {
      int status = 0;
      ASSERT_EQ(::waitpid(children[child], &status, 0), children[child]);
      ASSERT_TRUE(WIFEXITED(status));
      switch (WEXITSTATUS(status)) {
        case 0:
          ++winners;
          winner = child;
          break;
        case 1:
          ++losers;
          break;
        default:
          ADD_FAILURE() << "child " << child << " failed with an unexpected error";
      }
    }
    EXPECT_EQ(winners, 1) << key;
    EXPECT_EQ(losers, kChildren - 1) << key;
    ASSERT_OK_AND_ASSIGN(std::string got, store->Get(key));
    EXPECT_EQ(got, "child-" + std::to_string(winner)) << key;
  }
  // Only the claimed keys are on disk: every loser removed its temp file.
  std::set<std::string> want = {"_delta_log"};
  for (int round = 0; round < kRounds; ++round) {
    want.insert("_delta_log/" + std::to_string(round) + ".json");
  }
  EXPECT_EQ(Tree(dir.path()), want);
}

}  // namespace
}  // namespace lake::storage
