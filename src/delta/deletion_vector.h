// Deletion vectors (PROTOCOL.md "Deletion Vectors", Appendix "Deletion Vector Format"):
// Z85 decoding of inline and UUID-path descriptors, the RoaringBitmapArray (parsed and
// validated entirely by lake, see deletion_vector.cc for why not CRoaring), DV files with
// their size and CRC-32 checks; and the writing side: the portable serialization and
// DeletionVectorWriter (one DV file per commit, small DVs inline).
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

// ---- Writing (PROTOCOL.md "Deletion Vector Format", "Deletion Vector Descriptor Schema") ----

// Returns the portable RoaringBitmapArray serialization of `sorted_rows` (strictly increasing
// row indexes): u32 LE magic 1681511377, u64 LE count of non-empty buckets, per bucket (high 32
// bits, ascending) a u32 LE key and a portable 32-bit Roaring bitmap whose containers are the
// smallest of array / bitset / run, as CRoaring's run_optimize picks (ties: not run).
// The inverse of ParseRoaringBitmapArray.
std::string SerializeRoaringBitmapArray(const std::vector<uint64_t>& sorted_rows);

// A DV whose serialized bitmap is at most this many bytes is stored inline ('i') in the log.
// delta-spark never writes inline DVs; Databricks does for small ones (the kernel-rs
// cdf-table-with-dv table has 34..40-byte inline DVs next to 34-byte on-disk ones). 64 bytes
// (80 Z85 characters) holds one container of up to 16 scattered rows or 13 runs: about what a
// 'u' descriptor already costs in the log, and it saves the scan a read of the DV file.
inline constexpr size_t kMaxInlineDeletionVectorBytes = 64;

// Returns the 'u' pathOrInlineDv of a DV file: `random_prefix` + Z85 of the 16 UUID bytes
// (20 characters). kInvalidArgument when `uuid` is not a canonical 36-character UUID.
Result<std::string> DeletionVectorUuidPath(std::string_view random_prefix, std::string_view uuid);

// Returns `stats` (an add's stats JSON object) with its top-level "tightBounds" set to false,
// added when absent: the stats of a file that gains a DV keep their values, which now may be
// wider than the live rows' (PROTOCOL.md "Per-file Statistics"). kInvalidArgument when
// `stats` is not a JSON object.
Result<std::string> StatsWithLooseBounds(std::string_view stats);

// Collects the deletion vectors of one commit: small ones inline, the others appended to one
// new DV file (PROTOCOL.md "Deletion Vector File Storage Format": a version byte 1, then per
// DV a u32 BE size, the bitmap, a u32 BE CRC-32 of the bitmap), as Spark writes one file per
// commit. Single-thread object.
class DeletionVectorWriter {
 public:
  // The file will be "<random_prefix>/deletion_vector_<uuid>.bin" under the table root
  // ("deletion_vector_<uuid>.bin" for an empty prefix, as delta-spark writes it); `uuid` is
  // a canonical UUID (tests pass a fixed one), empty for a new random one. Bitmaps of at most
  // `max_inline_bytes` are stored inline (0: none).
  explicit DeletionVectorWriter(std::string random_prefix = "", std::string uuid = "",
                                size_t max_inline_bytes = kMaxInlineDeletionVectorBytes);

  // Returns the descriptor of a DV holding `sorted_rows` (strictly increasing, not empty):
  // inline when its bitmap is small (kMaxInlineDeletionVectorBytes), else stored in the file
  // at the returned offset. kInvalidArgument for an empty or unsorted set; kNotSupported when
  // the file would outgrow the descriptor's 32-bit offsets.
  Result<DeletionVectorDescriptor> Add(const std::vector<uint64_t>& sorted_rows);

  // Whether any DV went to the file (else there is nothing to write).
  bool has_file() const { return bytes_.size() > 1; }
  // The file's key relative to the table root.
  const std::string& file_key() const { return file_key_; }
  const std::string& file_bytes() const { return bytes_; }

  // Writes the file to `table_store` when has_file(). A failed or partial write leaves at
  // most an unreferenced file (VACUUM removes it); nothing refers to it before the commit.
  Status Write(storage::ObjectStore& table_store) const;

 private:
  std::string path_or_inline_;  // the 'u' descriptor's pathOrInlineDv
  std::string file_key_;
  std::string bytes_;
  size_t max_inline_bytes_;
  Status init_;  // a bad `uuid` argument, reported by Add
};

}  // namespace lake::delta
