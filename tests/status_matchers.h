// gtest assertions for lake::Status and lake::Result<T>, shared by every test binary.
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "base/status.h"

#define ASSERT_OK(expr)                              \
  do {                                               \
    ::lake::Status lake_s_ = (expr);                 \
    ASSERT_TRUE(lake_s_.ok()) << lake_s_.ToString(); \
  } while (0)

#define LAKE_TEST_ASSIGN_IMPL_(tmp, lhs, rexpr)     \
  auto tmp = (rexpr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

// ASSERT_OK_AND_ASSIGN(auto x, Compute()); fails the test with the status if Compute() failed.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  LAKE_TEST_ASSIGN_IMPL_(LAKE_CONCAT_(lake_test_r_, __LINE__), lhs, rexpr)
