// Helpers shared by the storage tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "base/status.h"

#define LAKE_TEST_CONCAT_INNER_(a, b) a##b
#define LAKE_TEST_CONCAT_(a, b) LAKE_TEST_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr)                              \
  do {                                               \
    ::lake::Status lake_s_ = (expr);                 \
    ASSERT_TRUE(lake_s_.ok()) << lake_s_.ToString(); \
  } while (0)

#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(LAKE_TEST_CONCAT_(lake_r_, __LINE__), lhs, rexpr)

namespace lake::storage::testing {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string base = std::filesystem::temp_directory_path() / "lake-storage-test-XXXXXX";
    if (::mkdtemp(base.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << base;
    path_ = base;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace lake::storage::testing
