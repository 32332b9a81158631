// Fuzzes _last_checkpoint parsing: the file is a hint, so any content must parse or fail
// with a Status, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "delta/log_segment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  lake::Result<lake::delta::LastCheckpointHint> hint = lake::delta::ParseLastCheckpoint(input);
  if (hint.ok() && hint->version < 0) __builtin_trap();  // the header promises >= 0
  return 0;
}
