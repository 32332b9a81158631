// Fuzzes the deletion-vector decoders: bytes from disk or the log must give a valid,
// sorted row set or kCorruption, never a crash, a hang or an allocation the input does
// not justify.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "delta/deletion_vector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  lake::Result<lake::delta::DeletionVector> dv = lake::delta::ParseRoaringBitmapArray(input);
  if (dv.ok()) {
    const auto& rows = dv->rows();
    for (size_t i = 1; i < rows.size(); ++i) {
      if (rows[i - 1] >= rows[i]) __builtin_trap();  // the contract: sorted, no duplicates
    }
    if (!rows.empty() && !dv->Contains(rows.back())) __builtin_trap();
  } else if (dv.status().code() != lake::StatusCode::kCorruption &&
             dv.status().code() != lake::StatusCode::kNotSupported) {
    __builtin_trap();
  }

  lake::Result<std::string> decoded = lake::delta::Z85Decode(input);
  if (decoded.ok()) {
    // Standard Z85 has one text per byte string: re-encoding must give the input back.
    if (input.find('#') == std::string_view::npos &&
        lake::delta::Z85Encode(*decoded) != input) {
      __builtin_trap();
    }
    lake::Result<lake::delta::DeletionVector> inline_dv =
        lake::delta::ParseRoaringBitmapArray(*decoded);
    (void)inline_dv.ok();
  }
  return 0;
}
