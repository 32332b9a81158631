// Deletion vectors (PROTOCOL.md "Deletion Vectors", Appendix "Deletion Vector Format"):
// Z85 decoding of inline and UUID-path descriptors, the RoaringBitmapArray (parsed and
// validated entirely by lake, see deletion_vector.cc for why not CRoaring), DV files with
// their size and CRC-32 checks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "storage/object_store.h"

namespace lake::delta {

// The set of deleted row indexes of one data file. Immutable; thread-safe to read.
class DeletionVector {
 public:
  // Returns the sorted deleted row indexes.
  const std::vector<uint64_t>& rows() const { return rows_; }
  uint64_t cardinality() const { return rows_.size(); }
  bool Contains(uint64_t row) const;

  explicit DeletionVector(std::vector<uint64_t> sorted_rows) : rows_(std::move(sorted_rows)) {}

 private:
  std::vector<uint64_t> rows_;
};

// Z85 (ZeroMQ Base-85) as Delta uses it; also accepts the '#'-prefixed short tail the Rust
// z85 crate writes. kCorruption on bad characters or length.
Result<std::string> Z85Decode(std::string_view text);
std::string Z85Encode(std::string_view bytes);  // input length must be a multiple of 4

// Returns the CRC-32 (IEEE 802.3, as java.util.zip.CRC32) of `bytes`: the checksum that
// follows each bitmap in a DV file.
uint32_t Crc32(std::string_view bytes);

// Parses a serialized RoaringBitmapArray (magic 1681511377 LE, u64 bucket count, per bucket
// u32 key + portable 32-bit Roaring). kCorruption on any malformed or truncated input;
// kNotSupported when it holds more than 2^26 rows (the vector form's memory cap).
Result<DeletionVector> ParseRoaringBitmapArray(std::string_view bytes);

// Returns the relative store key of a 'u' descriptor's file:
// "<prefix>/deletion_vector_<uuid>.bin" or "deletion_vector_<uuid>.bin".
Result<std::string> DeletionVectorRelativePath(const DeletionVectorDescriptor& dv);

// Loads the DV described by `dv` of a table whose root is `table_store`; for 'p' (absolute
// path) descriptors the path is resolved through storage::OpenStore. Verifies the stored
// size, the CRC-32 and the cardinality. Errors name the file and the table.
Result<std::shared_ptr<const DeletionVector>> LoadDeletionVector(
    storage::ObjectStore& table_store, const DeletionVectorDescriptor& dv);

}  // namespace lake::delta
