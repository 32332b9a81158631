// lake's version, one source for `lake version` and the engineInfo ("lake/<version>") that
// every commit records (PROTOCOL.md "Commit Provenance Information").
#pragma once

#include <string_view>

namespace lake {

// Returns the project version from CMake ("0.1.0").
std::string_view LakeVersion();

}  // namespace lake
