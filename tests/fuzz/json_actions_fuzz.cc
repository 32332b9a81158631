// Fuzzes the commit-file parser: any bytes under _delta_log/ must parse or fail with a
// Status, never crash. What parses must serialize to text that parses again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "delta/log_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  lake::Result<lake::delta::ActionBatch> batch =
      lake::delta::ParseJsonActions(input, "00000000000000000000.json");
  if (!batch.ok()) return 0;
  std::string text = lake::delta::SerializeJsonActions(*batch);
  lake::Result<lake::delta::ActionBatch> again =
      lake::delta::ParseJsonActions(text, "roundtrip.json");
  if (!again.ok()) __builtin_trap();
  return 0;
}
