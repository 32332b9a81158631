// Key rules shared by every ObjectStore implementation, so that all of them accept and refuse
// the same keys (the conformance suite checks it). Not for use outside src/storage.
#pragma once

#include <string_view>

#include "base/status.h"

namespace lake::storage::internal {

// Returns OK when `key` names an object: non-empty, '/'-separated, no leading '/', no empty,
// "." or ".." component, no NUL byte. A bad key must never reach the file system: "../x"
// would escape the store root. kInvalidArgument otherwise.
Status ValidateKey(std::string_view key);

// Returns OK when `prefix` may be listed: empty, or its folder part (up to the last '/')
// obeys the key rules. The last part is a plain string prefix of a name and may be empty.
Status ValidatePrefix(std::string_view prefix);

}  // namespace lake::storage::internal
