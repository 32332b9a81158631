// Helpers for the value-level Delta tests (schema, literals, skipping, deletion vectors).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "base/status.h"

#ifndef ASSERT_OK
#define ASSERT_OK(expr)                              \
  do {                                               \
    ::lake::Status lake_s_ = (expr);                 \
    ASSERT_TRUE(lake_s_.ok()) << lake_s_.ToString(); \
  } while (0)
#endif

#ifndef ASSERT_OK_AND_ASSIGN
#define LAKE_VT_CONCAT_INNER_(a, b) a##b
#define LAKE_VT_CONCAT_(a, b) LAKE_VT_CONCAT_INNER_(a, b)
#define LAKE_VT_ASSIGN_IMPL_(tmp, lhs, rexpr)       \
  auto tmp = (rexpr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  LAKE_VT_ASSIGN_IMPL_(LAKE_VT_CONCAT_(lake_vt_r_, __LINE__), lhs, rexpr)
#endif

namespace lake::delta::testing {

inline std::string ConformancePath(const std::string& rel) {
  return std::string(LAKE_CONFORMANCE_DIR) + "/" + rel;
}

// Returns the whole file, or "" (and a test failure) if it cannot be read.
inline std::string ReadFileOrFail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace lake::delta::testing
