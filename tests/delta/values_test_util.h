// Helpers for the value-level Delta tests (schema, literals, skipping, deletion vectors).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "base/status.h"

#include "status_matchers.h"

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
