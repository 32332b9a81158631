// Random identifiers: table ids, commit txnIds, data file names.
#pragma once

#include <string>

namespace lake {

// Returns a random UUID (version 4, RFC 9562 §5.4) in canonical text form,
// "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx" with N in 8..b. Thread-safe: each thread draws from
// its own generator seeded from std::random_device.
std::string NewUuidV4();

}  // namespace lake
