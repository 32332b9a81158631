// Deletion vectors (PROTOCOL.md "Deletion Vectors", Appendix "Deletion Vector Format").
//
// Layout of what we read:
//  - Descriptor 'i': pathOrInlineDv = Z85(serialized bitmap, zero-padded to 4 bytes);
//    sizeInBytes is the unpadded length.
//  - Descriptor 'u': pathOrInlineDv = <random prefix> + Z85(16-byte UUID) (20 chars), the file
//    is <table>/<prefix>/deletion_vector_<uuid>.bin. 'p': an absolute path/URI of the file.
//  - DV file: byte 0 = format version 1; at `offset`: u32 big-endian size, `size` bytes of
//    serialized bitmap, u32 big-endian CRC-32 (IEEE) of those bytes.
//  - Serialized bitmap (RoaringBitmapArray, "portable" 64-bit Roaring): u32 LE magic
//    1681511377, u64 LE bucket count, then per bucket a u32 LE high key followed by a
//    standard portable 32-bit Roaring bitmap of the low 32 bits (decoded here, see
//    DecodePortableRoaring).
// Every length read from the bytes is checked against what is left before it is used: the
// bytes come from disk and a bad DV must fail with kCorruption, never yield an empty set
// (that would resurrect deleted rows).
#include "delta/deletion_vector.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <optional>
#include <span>

#include "base/strings.h"
#include "base/uuid.h"

namespace lake::delta {
namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr uint32_t kRoaringArrayMagic = 1681511377;
// A DV is materialized as a sorted vector of row indexes; this bounds its memory (512 MiB)
// against a tiny bitmap of run containers that claims billions of rows.
constexpr uint64_t kMaxDeletedRows = uint64_t{1} << 26;

std::array<int8_t, 256> MakeZ85DecodeTable() {
  std::array<int8_t, 256> t;
  t.fill(-1);
  for (size_t i = 0; i < kZ85Alphabet.size(); ++i) {
    t[static_cast<unsigned char>(kZ85Alphabet[i])] = static_cast<int8_t>(i);
  }
  return t;
}

const std::array<int8_t, 256>& Z85DecodeTable() {
  static const std::array<int8_t, 256> table = MakeZ85DecodeTable();
  return table;
}

std::array<uint32_t, 256> MakeCrc32Table() {
  std::array<uint32_t, 256> t;
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

}  // namespace

uint32_t Crc32(std::string_view bytes) {
  static const std::array<uint32_t, 256> table = MakeCrc32Table();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

namespace {

uint32_t ReadU32LE(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 | uint32_t{u[3]} << 24;
}
uint64_t ReadU64LE(const char* p) {
  return uint64_t{ReadU32LE(p)} | uint64_t{ReadU32LE(p + 4)} << 32;
}
uint32_t ReadU32BE(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 | uint32_t{u[3]};
}

Status DvCorruption(std::string_view where, std::string_view what) {
  return Status::Corruption(StrCat(where, ": ", what))
      .WithHint("the deletion vector is damaged; its rows cannot be read safely");
}

// Formats the 16 UUID bytes as 8-4-4-4-12 lower-case hex.
std::string FormatUuid(std::string_view b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    unsigned char c = static_cast<unsigned char>(b[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Decodes "%XX" escapes of a file URI path.
std::string PercentDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Checks the parsed bitmap against the descriptor.
Status CheckCardinality(const DeletionVector& dv, const DeletionVectorDescriptor& d,
                        std::string_view where) {
  if (static_cast<int64_t>(dv.cardinality()) != d.cardinality) {
    return DvCorruption(where, StrCat("bitmap holds ", dv.cardinality(),
                                      " rows but the descriptor says cardinality ",
                                      d.cardinality));
  }
  return Status::OK();
}

}  // namespace

bool DeletionVector::Contains(uint64_t row) const {
  return std::binary_search(rows_.begin(), rows_.end(), row);
}

Result<std::string> Z85Decode(std::string_view text) {
  if (text.size() % 5 != 0) {
    return Status::Corruption(
        StrCat("Z85 text of length ", text.size(), " is not a multiple of 5"));
  }
  const auto& table = Z85DecodeTable();
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t pos = 0; pos < text.size(); pos += 5) {
    std::string_view chunk = text.substr(pos, 5);
    // The Rust z85 crate (delta-rs, delta-kernel-rs) ends a text whose length is not a
    // multiple of 4 with '#' x (missing bytes) + the tail's digits. A standard chunk cannot
    // start with '#' (84 * 85^4 > 2^32), so the form is unambiguous.
    size_t missing = 0;
    while (missing < chunk.size() && chunk[missing] == '#') ++missing;
    if (missing > 0 && pos + 5 != text.size()) {
      return Status::Corruption(StrCat("Z85 padding marker '#' at offset ", pos,
                                       " before the end of the text"));
    }
    if (missing > 3) return Status::Corruption("Z85 tail chunk has more than 3 padding marks");
    uint64_t value = 0;
    for (size_t i = missing; i < 5; ++i) {
      int8_t digit = table[static_cast<unsigned char>(chunk[i])];
      if (digit < 0) {
        return Status::Corruption(StrCat("invalid Z85 character at offset ", pos + i));
      }
      value = value * 85 + static_cast<uint64_t>(digit);
    }
    size_t nbytes = 4 - missing;
    if (value >> (8 * nbytes) != 0) {
      return Status::Corruption(StrCat("Z85 chunk at offset ", pos, " overflows ", nbytes,
                                       " bytes"));
    }
    for (size_t i = nbytes; i-- > 0;) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
  return out;
}

std::string Z85Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 3) / 4 * 5);
  for (size_t pos = 0; pos < bytes.size(); pos += 4) {
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) {
      // Zero padding, as Delta's Base85Codec pads inline DVs; sizeInBytes gives the length.
      unsigned char b = pos + i < bytes.size() ? static_cast<unsigned char>(bytes[pos + i]) : 0;
      value = value << 8 | b;
    }
    char chunk[5];
    for (int i = 4; i >= 0; --i) {
      chunk[i] = kZ85Alphabet[value % 85];
      value /= 85;
    }
    out.append(chunk, 5);
  }
  return out;
}

namespace {

uint16_t ReadU16LE(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | u[1] << 8);
}

// Decodes one portable 32-bit Roaring bitmap (the RoaringFormatSpec "portable" layout) at
// the start of `data`, appending (high << 32 | value) to `rows`; sets `consumed`. Returns
// false with `why` on any malformed input ("limit:" prefix when only our size cap is hit).
//
// Why not CRoaring: the Debian CRoaring (0.2.66) roaring_bitmap_portable_deserialize_safe
// accepts run containers it then crashes on while iterating (found by tests/fuzz/dv_fuzz),
// and validates neither sorted array containers nor run bounds. The layout is small, so
// lake decodes and validates it itself:
//   u32 cookie: 12346 (no run containers; u32 container count follows) or
//     12347 | (count - 1) << 16 (then a bitset of run containers, (count + 7) / 8 bytes);
//   per container u16 key + u16 (cardinality - 1), keys strictly increasing;
//   u32 offsets per container when the cookie is 12346, or when it has runs and count >= 4
//     (unused: containers follow each other);
//   containers: run = u16 run count + (u16 start, u16 length - 1) pairs; else cardinality
//     > 4096 = 8 KiB bitset; else a sorted array of u16.
bool DecodePortableRoaring(std::string_view data, uint32_t high, std::vector<uint64_t>& rows,
                           size_t& consumed, std::string& why) {
  constexpr uint32_t kCookieNoRuns = 12346;
  constexpr uint32_t kCookieRuns = 12347;
  size_t pos = 0;
  auto need = [&](size_t n) { return data.size() - pos >= n; };
  if (!need(4)) return why = "truncated cookie", false;
  uint32_t cookie = ReadU32LE(data.data());
  pos += 4;
  uint32_t count;
  std::string_view run_bitset;
  bool has_runs = (cookie & 0xFFFF) == kCookieRuns;
  if (has_runs) {
    count = (cookie >> 16) + 1;
    size_t bytes = (count + 7) / 8;
    if (!need(bytes)) return why = "truncated run bitset", false;
    run_bitset = data.substr(pos, bytes);
    pos += bytes;
  } else if (cookie == kCookieNoRuns) {
    if (!need(4)) return why = "truncated container count", false;
    count = ReadU32LE(data.data() + pos);
    pos += 4;
    if (count > 65536) return why = StrCat("container count ", count, " > 65536"), false;
  } else {
    return why = StrCat("bad Roaring cookie ", cookie), false;
  }
  if (!need(size_t{4} * count)) return why = "truncated container headers", false;
  const char* headers = data.data() + pos;
  pos += size_t{4} * count;
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (i > 0 && ReadU16LE(headers + 4 * i) <= ReadU16LE(headers + 4 * (i - 1))) {
      return why = "container keys not increasing", false;
    }
    total += uint64_t{ReadU16LE(headers + 4 * i + 2)} + 1;
  }
  if (total > kMaxDeletedRows - rows.size()) return why = "limit: too many rows", false;
  if (!has_runs || count >= 4) {
    if (!need(size_t{4} * count)) return why = "truncated container offsets", false;
    pos += size_t{4} * count;
  }
  rows.reserve(rows.size() + total);
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t base = uint64_t{high} << 32 | uint64_t{ReadU16LE(headers + 4 * i)} << 16;
    uint32_t card = uint32_t{ReadU16LE(headers + 4 * i + 2)} + 1;
    bool is_run = has_runs && (static_cast<unsigned char>(run_bitset[i / 8]) >> (i % 8)) & 1;
    if (is_run) {
      if (!need(2)) return why = "truncated run container", false;
      uint32_t runs = ReadU16LE(data.data() + pos);
      pos += 2;
      if (!need(size_t{4} * runs)) return why = "truncated run container", false;
      uint64_t seen = 0;
      int64_t next_free = 0;  // runs must be sorted and must not touch or overlap
      for (uint32_t r = 0; r < runs; ++r) {
        uint32_t start = ReadU16LE(data.data() + pos + 4 * r);
        uint32_t length = ReadU16LE(data.data() + pos + 4 * r + 2);
        if (start + length > 0xFFFF) return why = "run past the end of its container", false;
        if (static_cast<int64_t>(start) < next_free) return why = "runs overlap or unsorted", false;
        seen += length + 1;
        if (seen > card) return why = "run container cardinality mismatch", false;
        for (uint32_t v = start; v <= start + length; ++v) rows.push_back(base | v);
        next_free = int64_t{start} + length + 1;
      }
      if (seen != card) return why = "run container cardinality mismatch", false;
      pos += size_t{4} * runs;
    } else if (card > 4096) {
      if (!need(8192)) return why = "truncated bitset container", false;
      uint32_t seen = 0;
      for (uint32_t w = 0; w < 1024; ++w) {
        uint64_t word = ReadU64LE(data.data() + pos + 8 * w);
        seen += static_cast<uint32_t>(__builtin_popcountll(word));
        if (seen > card) return why = "bitset container cardinality mismatch", false;
        while (word != 0) {
          int bit = __builtin_ctzll(word);
          rows.push_back(base | (w * 64 + static_cast<uint32_t>(bit)));
          word &= word - 1;
        }
      }
      if (seen != card) return why = "bitset container cardinality mismatch", false;
      pos += 8192;
    } else {
      if (!need(size_t{2} * card)) return why = "truncated array container", false;
      for (uint32_t k = 0; k < card; ++k) {
        uint16_t v = ReadU16LE(data.data() + pos + 2 * k);
        if (k > 0 && v <= ReadU16LE(data.data() + pos + 2 * (k - 1))) {
          return why = "array container not sorted", false;
        }
        rows.push_back(base | v);
      }
      pos += size_t{2} * card;
    }
  }
  consumed = pos;
  return true;
}

}  // namespace

Result<DeletionVector> ParseRoaringBitmapArray(std::string_view bytes) {
  constexpr std::string_view kWhere = "deletion vector bitmap";
  if (bytes.size() < 12) {
    return DvCorruption(kWhere, StrCat("only ", bytes.size(), " bytes, shorter than the header"));
  }
  uint32_t magic = ReadU32LE(bytes.data());
  if (magic != kRoaringArrayMagic) {
    return DvCorruption(kWhere, StrCat("bad magic number ", magic, " (expected ",
                                       kRoaringArrayMagic, ")"));
  }
  uint64_t buckets = ReadU64LE(bytes.data() + 4);
  size_t pos = 12;
  // Each bucket needs at least a 4-byte key and an 8-byte Roaring header.
  if (buckets > (bytes.size() - pos) / 12) {
    return DvCorruption(kWhere, StrCat("claims ", buckets, " buckets in ", bytes.size(),
                                       " bytes"));
  }
  std::vector<uint64_t> rows;
  std::optional<uint32_t> previous_key;
  for (uint64_t bucket = 0; bucket < buckets; ++bucket) {
    if (bytes.size() - pos < 4) return DvCorruption(kWhere, StrCat("bucket ", bucket, " truncated"));
    uint32_t key = ReadU32LE(bytes.data() + pos);
    pos += 4;
    if (previous_key && key <= *previous_key) {
      return DvCorruption(kWhere, StrCat("bucket keys not increasing at bucket ", bucket));
    }
    previous_key = key;
    std::string why;
    size_t consumed = 0;
    if (!DecodePortableRoaring(bytes.substr(pos), key, rows, consumed, why)) {
      if (why.starts_with("limit:")) {
        return Status::NotSupported(StrCat(kWhere, ": more than ", kMaxDeletedRows,
                                           " deleted rows in one file"));
      }
      return DvCorruption(kWhere, StrCat("bucket ", bucket, ": ", why));
    }
    pos += consumed;
  }
  if (pos != bytes.size()) {
    return DvCorruption(kWhere, StrCat(bytes.size() - pos, " trailing bytes after ", buckets,
                                       " buckets"));
  }
  return DeletionVector(std::move(rows));
}

Result<std::string> DeletionVectorRelativePath(const DeletionVectorDescriptor& dv) {
  if (dv.storage_type != 'u') {
    return Status::InvalidArgument(
        StrCat("deletion vector with storageType '", dv.storage_type, "' has no relative path"));
  }
  const std::string& p = dv.path_or_inline_dv;
  if (p.size() < 20) {
    return Status::Corruption(StrCat("deletion vector pathOrInlineDv \"", p,
                                     "\" is shorter than the 20-character encoded UUID"));
  }
  std::string_view prefix = std::string_view(p).substr(0, p.size() - 20);
  Result<std::string> uuid = Z85Decode(std::string_view(p).substr(p.size() - 20));
  if (!uuid.ok() || uuid->size() != 16) {
    return Status::Corruption(StrCat("deletion vector pathOrInlineDv \"", p,
                                     "\" does not end in a Z85-encoded UUID"));
  }
  std::string name = StrCat("deletion_vector_", FormatUuid(*uuid), ".bin");
  if (prefix.empty()) return name;
  return StrCat(prefix, "/", name);
}

namespace {

// Reads the DV stored at `offset` of `key` in `store`, checking size and checksum.
Result<std::string> ReadDvFromFile(storage::ObjectStore& store, const std::string& key,
                                   const DeletionVectorDescriptor& dv, const std::string& where) {
  if (dv.size_in_bytes < 12) {
    return DvCorruption(where, StrCat("descriptor sizeInBytes ", dv.size_in_bytes,
                                      " is too small for a bitmap"));
  }
  // The spec reads an absent offset as 0, but byte 0 is the format version, so every real
  // writer records it. A file holding a single DV has it at 1, so that is what an absent
  // offset can only mean; the size and CRC checks catch a wrong guess. An explicit 0 (or
  // less) cannot be valid.
  int64_t offset = dv.offset.value_or(1);
  if (offset < 1) {
    return DvCorruption(where, StrCat("offset ", offset, " points at the format version byte"));
  }
  LAKE_ASSIGN_OR_RETURN(std::string version, store.GetRange(key, 0, 1));
  if (version.empty()) return DvCorruption(where, "empty file");
  if (static_cast<unsigned char>(version.front()) != 1) {
    return DvCorruption(where, StrCat("unsupported format version ",
                                      static_cast<int>(static_cast<unsigned char>(version.front()))));
  }
  int64_t length = int64_t{dv.size_in_bytes} + 8;
  LAKE_ASSIGN_OR_RETURN(std::string block, store.GetRange(key, offset, length));
  if (static_cast<int64_t>(block.size()) != length) {
    return DvCorruption(where, StrCat("file ends ", length - static_cast<int64_t>(block.size()),
                                      " bytes early (offset ", offset, ", sizeInBytes ",
                                      dv.size_in_bytes, ")"));
  }
  uint32_t stored_size = ReadU32BE(block.data());
  if (stored_size != static_cast<uint32_t>(dv.size_in_bytes)) {
    return DvCorruption(where, StrCat("stored size ", stored_size,
                                      " does not match descriptor sizeInBytes ",
                                      dv.size_in_bytes));
  }
  std::string bitmap = block.substr(4, dv.size_in_bytes);
  uint32_t stored_crc = ReadU32BE(block.data() + 4 + dv.size_in_bytes);
  uint32_t crc = Crc32(bitmap);
  if (crc != stored_crc) {
    return DvCorruption(where, StrCat("CRC-32 mismatch (stored ", stored_crc, ", computed ", crc,
                                      ")"));
  }
  return bitmap;
}

}  // namespace

Result<std::shared_ptr<const DeletionVector>> LoadDeletionVector(
    storage::ObjectStore& table_store, const DeletionVectorDescriptor& dv) {
  std::string bitmap;
  std::string where;
  switch (dv.storage_type) {
    case 'i': {
      where = StrCat(table_store.uri(), ": inline deletion vector");
      Result<std::string> decoded = Z85Decode(dv.path_or_inline_dv);
      if (!decoded.ok()) return DvCorruption(where, decoded.status().message());
      if (dv.size_in_bytes < 0 || static_cast<size_t>(dv.size_in_bytes) > decoded->size() ||
          decoded->size() - static_cast<size_t>(dv.size_in_bytes) > 3) {
        return DvCorruption(where, StrCat("decodes to ", decoded->size(),
                                          " bytes but sizeInBytes is ", dv.size_in_bytes));
      }
      bitmap = decoded->substr(0, dv.size_in_bytes);
      break;
    }
    case 'u': {
      LAKE_ASSIGN_OR_RETURN(std::string key, DeletionVectorRelativePath(dv));
      where = StrCat(table_store.uri(), "/", key);
      Result<std::string> read = ReadDvFromFile(table_store, key, dv, where);
      if (!read.ok()) {
        if (read.status().code() == StatusCode::kNotFound) {
          return Status::NotFound(StrCat(where, ": deletion vector file is missing"))
              .WithHint("the table references a deletion vector file that was deleted");
        }
        return read.status();
      }
      bitmap = std::move(*read);
      break;
    }
    case 'p': {
      std::string path = dv.path_or_inline_dv;
      // Spark writes local files as "file:/x"; OpenStore takes "file:///x" or a plain path.
      if (StartsWith(path, "file:") && !StartsWith(path, "file://")) {
        path = PercentDecode(path.substr(5));
      } else if (StartsWith(path, "file://")) {
        path = "file://" + PercentDecode(path.substr(7));
      }
      size_t slash = path.rfind('/');
      if (slash == std::string::npos || slash + 1 == path.size()) {
        return Status::Corruption(StrCat(table_store.uri(), ": deletion vector path \"",
                                         dv.path_or_inline_dv, "\" names no file"));
      }
      where = dv.path_or_inline_dv;
      LAKE_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectStore> store,
                            storage::OpenStore(path.substr(0, slash)));
      LAKE_ASSIGN_OR_RETURN(bitmap, ReadDvFromFile(*store, path.substr(slash + 1), dv, where));
      break;
    }
    default:
      return Status::NotSupported(StrCat(table_store.uri(), ": deletion vector storageType '",
                                         dv.storage_type, "'"));
  }
  Result<DeletionVector> parsed = ParseRoaringBitmapArray(bitmap);
  if (!parsed.ok()) {
    Status s = parsed.status().WithContext(where);
    return s;
  }
  LAKE_RETURN_IF_ERROR(CheckCardinality(*parsed, dv, where));
  return std::make_shared<const DeletionVector>(std::move(*parsed));
}


// ---- Writing ----
//
// Serialization mirrors DecodePortableRoaring above (the RoaringFormatSpec "portable" layout):
//  - containers hold the values sharing their high 16 bits; each is written as the smallest
//    of: array (2 bytes per value, only up to 4096 values), bitset (8 KiB, only above 4096,
//    since a reader tells the two apart by cardinality alone), run (2 + 4 per run). A run
//    container is chosen only when strictly smaller, as CRoaring's run_optimize does;
//  - with no run container: cookie 12346, u32 count, headers, u32 offsets, data;
//    with some: cookie 12347 | (count - 1) << 16, the run bitset, headers, offsets only when
//    count >= 4 (the spec's NO_OFFSET_THRESHOLD), data. Offsets count from the cookie.
namespace {

void PutU16LE(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void PutU32LE(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU32BE(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

enum class ContainerKind { kArray, kBitset, kRun };

struct Container {
  uint16_t key = 0;
  ContainerKind kind = ContainerKind::kArray;
  std::vector<uint16_t> values;  // sorted low 16 bits
  std::vector<std::pair<uint16_t, uint16_t>> runs;  // (start, length - 1)
};

Container MakeContainer(uint16_t key, std::vector<uint16_t> values) {
  Container c;
  c.key = key;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!c.runs.empty() && c.runs.back().first + c.runs.back().second + 1 == values[i]) {
      ++c.runs.back().second;
    } else {
      c.runs.emplace_back(values[i], 0);
    }
  }
  const size_t card = values.size();
  const size_t run_bytes = 2 + 4 * c.runs.size();
  const size_t plain_bytes = card <= 4096 ? 2 * card : 8192;
  if (run_bytes < plain_bytes) {
    c.kind = ContainerKind::kRun;
  } else {
    c.kind = card <= 4096 ? ContainerKind::kArray : ContainerKind::kBitset;
    c.runs.clear();
  }
  c.values = std::move(values);
  return c;
}

size_t ContainerBytes(const Container& c) {
  switch (c.kind) {
    case ContainerKind::kArray:
      return 2 * c.values.size();
    case ContainerKind::kBitset:
      return 8192;
    case ContainerKind::kRun:
      return 2 + 4 * c.runs.size();
  }
  return 0;
}

// Appends the portable 32-bit Roaring serialization of `low` (sorted, distinct) to `out`.
void SerializePortableRoaring(const std::vector<uint32_t>& low, std::string& out) {
  std::vector<Container> containers;
  for (size_t i = 0; i < low.size();) {
    const uint16_t key = static_cast<uint16_t>(low[i] >> 16);
    std::vector<uint16_t> values;
    for (; i < low.size() && (low[i] >> 16) == key; ++i) {
      values.push_back(static_cast<uint16_t>(low[i] & 0xFFFF));
    }
    containers.push_back(MakeContainer(key, std::move(values)));
  }
  const size_t start = out.size();
  const uint32_t count = static_cast<uint32_t>(containers.size());
  const bool has_runs = std::any_of(containers.begin(), containers.end(), [](const Container& c) {
    return c.kind == ContainerKind::kRun;
  });
  if (has_runs) {
    PutU32LE(out, 12347u | (count - 1) << 16);
    std::string bitset((count + 7) / 8, '\0');
    for (uint32_t i = 0; i < count; ++i) {
      if (containers[i].kind == ContainerKind::kRun) bitset[i / 8] |= static_cast<char>(1 << (i % 8));
    }
    out += bitset;
  } else {
    PutU32LE(out, 12346);
    PutU32LE(out, count);
  }
  for (const Container& c : containers) {
    PutU16LE(out, c.key);
    PutU16LE(out, static_cast<uint32_t>(c.values.size() - 1));
  }
  if (!has_runs || count >= 4) {
    size_t offset = out.size() - start + size_t{4} * count;
    for (const Container& c : containers) {
      PutU32LE(out, static_cast<uint32_t>(offset));
      offset += ContainerBytes(c);
    }
  }
  for (const Container& c : containers) {
    switch (c.kind) {
      case ContainerKind::kArray:
        for (uint16_t v : c.values) PutU16LE(out, v);
        break;
      case ContainerKind::kBitset: {
        std::array<uint64_t, 1024> words{};
        for (uint16_t v : c.values) words[v / 64] |= uint64_t{1} << (v % 64);
        for (uint64_t w : words) {
          PutU32LE(out, static_cast<uint32_t>(w));
          PutU32LE(out, static_cast<uint32_t>(w >> 32));
        }
        break;
      }
      case ContainerKind::kRun:
        PutU16LE(out, static_cast<uint32_t>(c.runs.size()));
        for (const auto& [run_start, length_minus_one] : c.runs) {
          PutU16LE(out, run_start);
          PutU16LE(out, length_minus_one);
        }
        break;
    }
  }
}

// Parses canonical UUID text into its 16 bytes (most significant first, as Java's UUID and
// FormatUuid above order them).
std::optional<std::string> UuidBytes(std::string_view uuid) {
  if (uuid.size() != 36) return std::nullopt;
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < uuid.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (uuid[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hex(uuid[i]);
    const int lo = i + 1 < uuid.size() ? hex(uuid[i + 1]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (out.size() != 16) return std::nullopt;
  return out;
}

}  // namespace

std::string SerializeRoaringBitmapArray(const std::vector<uint64_t>& sorted_rows) {
  std::string out;
  PutU32LE(out, kRoaringArrayMagic);
  const size_t count_at = out.size();
  PutU32LE(out, 0);
  PutU32LE(out, 0);
  uint64_t buckets = 0;
  for (size_t i = 0; i < sorted_rows.size();) {
    const uint32_t high = static_cast<uint32_t>(sorted_rows[i] >> 32);
    std::vector<uint32_t> low;
    for (; i < sorted_rows.size() && (sorted_rows[i] >> 32) == high; ++i) {
      low.push_back(static_cast<uint32_t>(sorted_rows[i]));
    }
    PutU32LE(out, high);
    SerializePortableRoaring(low, out);
    ++buckets;
  }
  for (int i = 0; i < 8; ++i) out[count_at + i] = static_cast<char>((buckets >> (8 * i)) & 0xFF);
  return out;
}

Result<std::string> DeletionVectorUuidPath(std::string_view random_prefix,
                                           std::string_view uuid) {
  std::optional<std::string> bytes = UuidBytes(uuid);
  if (!bytes) {
    return Status::InvalidArgument(StrCat("\"", uuid, "\" is not a canonical UUID"));
  }
  return StrCat(random_prefix, Z85Encode(*bytes));
}

Result<std::string> StatsWithLooseBounds(std::string_view stats) {
  auto not_object = [&] {
    return Status::InvalidArgument(StrCat("file statistics are not a JSON object: ", stats));
  };
  size_t begin = stats.find_first_not_of(" \t\r\n");
  size_t end = stats.find_last_not_of(" \t\r\n");
  if (begin == std::string_view::npos || stats[begin] != '{' || stats[end] != '}') {
    return not_object();
  }
  // Walk the object's top level: strings (with escapes) and nesting are skipped, so a column
  // named "tightBounds" inside minValues is not mistaken for the key.
  int depth = 0;
  bool expect_key = false;
  std::optional<size_t> value_at;  // where the top-level tightBounds value starts
  for (size_t i = begin; i <= end; ++i) {
    const char c = stats[i];
    if (c == '"') {
      size_t j = i + 1;
      while (j <= end && stats[j] != '"') j += stats[j] == '\\' ? 2 : 1;
      if (j > end) return not_object();
      if (depth == 1 && expect_key && stats.substr(i + 1, j - i - 1) == "tightBounds") {
        size_t colon = stats.find_first_not_of(" \t\r\n", j + 1);
        if (colon == std::string_view::npos || stats[colon] != ':') return not_object();
        value_at = stats.find_first_not_of(" \t\r\n", colon + 1);
      }
      expect_key = false;
      i = j;
    } else if (c == '{' || c == '[') {
      ++depth;
      expect_key = depth == 1;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',') {
      expect_key = depth == 1;
    }
  }
  if (depth != 0) return not_object();
  std::string out(stats.substr(begin, end - begin + 1));
  const size_t shift = begin;
  if (value_at) {
    const size_t at = *value_at - shift;
    if (out.compare(at, 4, "true") == 0) return out.replace(at, 4, "false");
    if (out.compare(at, 5, "false") == 0) return out;
    return not_object();
  }
  const bool empty = out.find_first_not_of(" \t\r\n", 1) == out.size() - 1;
  out.insert(out.size() - 1, empty ? "\"tightBounds\":false" : ",\"tightBounds\":false");
  return out;
}

DeletionVectorWriter::DeletionVectorWriter(std::string random_prefix, std::string uuid,
                                           size_t max_inline_bytes)
    : bytes_(1, '\x01'),  // format version 1
      max_inline_bytes_(max_inline_bytes) {
  if (uuid.empty()) uuid = NewUuidV4();
  Result<std::string> path = DeletionVectorUuidPath(random_prefix, uuid);
  if (!path.ok()) {
    init_ = path.status();
    return;
  }
  path_or_inline_ = std::move(*path);
  const std::string name = StrCat("deletion_vector_", ToLower(uuid), ".bin");
  file_key_ = random_prefix.empty() ? name : StrCat(random_prefix, "/", name);
}

Result<DeletionVectorDescriptor> DeletionVectorWriter::Add(
    const std::vector<uint64_t>& sorted_rows) {
  LAKE_RETURN_IF_ERROR(init_);
  if (sorted_rows.empty()) {
    return Status::InvalidArgument("a deletion vector must delete at least one row");
  }
  if (std::adjacent_find(sorted_rows.begin(), sorted_rows.end(),
                         std::greater_equal<uint64_t>()) != sorted_rows.end()) {
    return Status::InvalidArgument("deletion vector rows must be strictly increasing");
  }
  std::string bitmap = SerializeRoaringBitmapArray(sorted_rows);
  DeletionVectorDescriptor d;
  d.cardinality = static_cast<int64_t>(sorted_rows.size());
  d.size_in_bytes = static_cast<int32_t>(bitmap.size());
  if (bitmap.size() <= max_inline_bytes_) {
    d.storage_type = 'i';
    d.path_or_inline_dv = Z85Encode(bitmap);  // zero-padded; sizeInBytes has the length
    return d;
  }
  // Size, bitmap and CRC must stay addressable by the int32 offset and sizeInBytes.
  constexpr size_t kMaxFileBytes = size_t{1} << 31;
  if (bitmap.size() + 8 > kMaxFileBytes - bytes_.size()) {
    return Status::NotSupported(StrCat("deletion vector file ", file_key_, " would exceed 2 GiB"))
        .WithHint("delete in smaller batches");
  }
  d.storage_type = 'u';
  d.path_or_inline_dv = path_or_inline_;
  d.offset = static_cast<int32_t>(bytes_.size());
  PutU32BE(bytes_, static_cast<uint32_t>(bitmap.size()));
  bytes_ += bitmap;
  PutU32BE(bytes_, Crc32(bitmap));
  return d;
}

Status DeletionVectorWriter::Write(storage::ObjectStore& table_store) const {
  if (!has_file()) return Status::OK();
  Status put = table_store.Put(file_key_, std::as_bytes(std::span(bytes_.data(), bytes_.size())));
  if (!put.ok()) return put.WithContext(StrCat(table_store.uri(), ": deletion vector file"));
  return Status::OK();
}

}  // namespace lake::delta
