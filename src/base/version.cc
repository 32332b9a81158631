#include "base/version.h"

#ifndef LAKE_VERSION
#define LAKE_VERSION "0.0.0"
#endif

namespace lake {

std::string_view LakeVersion() { return LAKE_VERSION; }

}  // namespace lake
