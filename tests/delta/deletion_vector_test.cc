#include "delta/deletion_vector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include <roaring/roaring.h>

#include "delta/values_test_util.h"
#include "storage/local_store.h"
#include "storage/memory_store.h"

namespace lake::delta {
namespace {

using testing::ConformancePath;
using testing::ReadFileOrFail;

// --- byte builders, written from the format description (not from the parser) ---

void PutU16LE(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}
void PutU32LE(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU32BE(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// A portable 32-bit Roaring bitmap of array containers (no runs): cookie 12346, container
// count, per container (key, cardinality-1), per container a u32 offset, then the values.
std::string PortableRoaring(const std::vector<uint32_t>& sorted_values) {
  std::vector<std::pair<uint16_t, std::vector<uint16_t>>> containers;
  for (uint32_t v : sorted_values) {
    uint16_t key = static_cast<uint16_t>(v >> 16);
    if (containers.empty() || containers.back().first != key) containers.push_back({key, {}});
    containers.back().second.push_back(static_cast<uint16_t>(v & 0xFFFF));
  }
  std::string out;
  PutU32LE(out, 12346);
  PutU32LE(out, static_cast<uint32_t>(containers.size()));
  for (const auto& [key, values] : containers) {
    PutU16LE(out, key);
    PutU16LE(out, static_cast<uint16_t>(values.size() - 1));
  }
  uint32_t offset = static_cast<uint32_t>(out.size() + 4 * containers.size());
  for (const auto& [key, values] : containers) {
    PutU32LE(out, offset);
    offset += static_cast<uint32_t>(2 * values.size());
  }
  for (const auto& [key, values] : containers) {
    for (uint16_t v : values) PutU16LE(out, v);
  }
  return out;
}

// A RoaringBitmapArray of 64-bit row indexes.
std::string BitmapArray(const std::vector<uint64_t>& sorted_rows) {
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> buckets;
  for (uint64_t r : sorted_rows) {
    uint32_t key = static_cast<uint32_t>(r >> 32);
    if (buckets.empty() || buckets.back().first != key) buckets.push_back({key, {}});
    buckets.back().second.push_back(static_cast<uint32_t>(r));
  }
  std::string out;
  PutU32LE(out, 1681511377);
  uint64_t n = buckets.size();
  PutU32LE(out, static_cast<uint32_t>(n));
  PutU32LE(out, static_cast<uint32_t>(n >> 32));
  for (const auto& [key, values] : buckets) {
    PutU32LE(out, key);
    out += PortableRoaring(values);
  }
  return out;
}

// A DV file holding one bitmap at offset 1.
std::string DvFile(const std::string& bitmap) {
  std::string out(1, '\x01');
  PutU32BE(out, static_cast<uint32_t>(bitmap.size()));
  out += bitmap;
  PutU32BE(out, Crc32(bitmap));
  return out;
}

// --- Z85 ---

TEST(Z85, DecodesTheZeroMqSpecVector) {
  // ZeroMQ RFC 32: bytes 86 4F D2 6F B5 59 F7 5B <-> "HelloWorld".
  const std::string bytes("\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B", 8);
  ASSERT_OK_AND_ASSIGN(std::string decoded, Z85Decode("HelloWorld"));
  EXPECT_EQ(decoded, bytes);
  EXPECT_EQ(Z85Encode(bytes), "HelloWorld");
}

TEST(Z85, RoundTripsRandomBytes) {
  std::mt19937 rng(7);
  for (int len = 0; len <= 64; len += 4) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string text = Z85Encode(bytes);
    EXPECT_EQ(text.size(), static_cast<size_t>(len / 4 * 5));
    ASSERT_OK_AND_ASSIGN(std::string back, Z85Decode(text));
    EXPECT_EQ(back, bytes);
  }
}

TEST(Z85, AcceptsTheRustCrateShortTail) {
  // 2 tail bytes 0x03 0x00 = 768 = 0*85^2 + 9*85 + 3 -> digits "093", two '#' for the two
  // missing bytes.
  ASSERT_OK_AND_ASSIGN(std::string two, Z85Decode("HelloWorld##093"));
  EXPECT_EQ(two.size(), 10u);
  EXPECT_EQ(two.substr(8), std::string("\x03\x00", 2));
  // 1 tail byte 0xFF = 255 = 3*85 + 0 -> "30" after three '#'.
  ASSERT_OK_AND_ASSIGN(std::string one, Z85Decode("###30"));
  EXPECT_EQ(one, "\xff");
}

TEST(Z85, RejectsBadInput) {
  for (const char* bad : {"Hell", "Hello~orld", "#Hello", "##093HelloWorld", "####0",
                          "%%%%%" /* 84*85^4+... > 2^32 */, "##zzz" /* > 2 bytes */}) {
    Result<std::string> r = Z85Decode(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad;
  }
}

// --- RoaringBitmapArray ---

TEST(RoaringBitmapArray, ParsesRowsAcrossContainersAndBuckets) {
  std::vector<uint64_t> rows = {0, 9, 65535, 65536, 70000, (uint64_t{1} << 32) + 5,
                                (uint64_t{3} << 32) + 0xFFFFFFFF};
  ASSERT_OK_AND_ASSIGN(DeletionVector dv, ParseRoaringBitmapArray(BitmapArray(rows)));
  EXPECT_EQ(dv.rows(), rows);
  EXPECT_EQ(dv.cardinality(), rows.size());
  EXPECT_TRUE(dv.Contains(65536));
  EXPECT_TRUE(dv.Contains((uint64_t{1} << 32) + 5));
  EXPECT_FALSE(dv.Contains(5));
  EXPECT_FALSE(dv.Contains(uint64_t{1} << 32));
}

TEST(RoaringBitmapArray, EmptyArrayIsAnEmptySet) {
  ASSERT_OK_AND_ASSIGN(DeletionVector dv, ParseRoaringBitmapArray(BitmapArray({})));
  EXPECT_EQ(dv.cardinality(), 0u);
}

TEST(RoaringBitmapArray, EveryTruncationIsCorruption) {
  std::string bytes = BitmapArray({1, 2, 3, 100000, (uint64_t{2} << 32) + 1});
  for (size_t len = 0; len < bytes.size(); ++len) {
    Result<DeletionVector> r = ParseRoaringBitmapArray(bytes.substr(0, len));
    ASSERT_FALSE(r.ok()) << "truncated to " << len << " bytes parsed";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << len;
  }
}

TEST(RoaringBitmapArray, RejectsBadMagicTrailingBytesAndHugeCounts) {
  std::string good = BitmapArray({4});
  std::string bad_magic = good;
  bad_magic[0] ^= 1;
  EXPECT_EQ(ParseRoaringBitmapArray(bad_magic).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseRoaringBitmapArray(good + "x").status().code(), StatusCode::kCorruption);
  std::string huge = good;
  huge[11] = '\x7f';  // bucket count 0x7f00000000000001
  EXPECT_EQ(ParseRoaringBitmapArray(huge).status().code(), StatusCode::kCorruption);
}

TEST(RoaringBitmapArray, RejectsUnsortedArrayContainerAndDescendingKeys) {
  // An array container whose values go down: CRoaring accepts it, we must not.
  std::string bitmap;
  PutU32LE(bitmap, 1681511377);
  PutU32LE(bitmap, 1);
  PutU32LE(bitmap, 0);
  PutU32LE(bitmap, 0);
  std::string roaring = PortableRoaring({1, 2});
  roaring[roaring.size() - 4] = 9;  // values become 9, 2
  Result<DeletionVector> r = ParseRoaringBitmapArray(bitmap + roaring);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);

  std::string two_buckets;
  PutU32LE(two_buckets, 1681511377);
  PutU32LE(two_buckets, 2);
  PutU32LE(two_buckets, 0);
  PutU32LE(two_buckets, 5);
  two_buckets += PortableRoaring({1});
  PutU32LE(two_buckets, 4);  // key 4 after key 5
  two_buckets += PortableRoaring({1});
  EXPECT_EQ(ParseRoaringBitmapArray(two_buckets).status().code(), StatusCode::kCorruption);
}

TEST(RoaringBitmapArray, RandomBitFlipsNeverCrashAndNeverYieldTheOriginalSilentlyEmpty) {
  std::string good = BitmapArray({1, 5, 77, 65536 * 3 + 1});
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; ++i) {
    std::string b = good;
    b[rng() % b.size()] ^= static_cast<char>(1 << (rng() % 8));
    Result<DeletionVector> r = ParseRoaringBitmapArray(b);
    if (r.ok()) {
      // A flip inside a value changes the set but keeps it valid; it must not empty it.
      EXPECT_GT(r->cardinality(), 0u);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
}

// CRoaring is the reference writer of the 32-bit layout (Delta's writers use its Java
// twin): bitmaps it serializes -- array, bitset and run containers -- must decode to the
// same rows.
TEST(RoaringBitmapArray, DecodesWhatCRoaringSerializes) {
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint64_t> expected;
    std::string bytes;
    PutU32LE(bytes, 1681511377);
    int buckets = static_cast<int>(rng() % 3);
    PutU32LE(bytes, static_cast<uint32_t>(buckets));
    PutU32LE(bytes, 0);
    uint32_t key = 0;
    for (int b = 0; b < buckets; ++b) {
      key += 1 + rng() % 3;
      roaring_bitmap_t* r = roaring_bitmap_create();
      int shape = static_cast<int>(rng() % 3);
      int n = shape == 1 ? 5000 + static_cast<int>(rng() % 3000) : static_cast<int>(rng() % 300);
      for (int i = 0; i < n; ++i) {
        uint32_t v = shape == 2 ? static_cast<uint32_t>(rng() % 1000 + (rng() % 4) * 100000)
                                : static_cast<uint32_t>(rng() % (shape == 1 ? 65536 : 400000));
        roaring_bitmap_add(r, v);
        if (shape == 2) roaring_bitmap_add_range(r, v, v + rng() % 50);  // runs
      }
      if (shape == 2) roaring_bitmap_run_optimize(r);
      std::string buf(roaring_bitmap_portable_size_in_bytes(r), '\0');
      roaring_bitmap_portable_serialize(r, buf.data());
      uint64_t card = roaring_bitmap_get_cardinality(r);
      std::vector<uint32_t> values(card);
      roaring_bitmap_to_uint32_array(r, values.data());
      roaring_bitmap_free(r);
      for (uint32_t v : values) expected.push_back(uint64_t{key} << 32 | v);
      PutU32LE(bytes, key);
      bytes += buf;
    }
    ASSERT_OK_AND_ASSIGN(DeletionVector dv, ParseRoaringBitmapArray(bytes));
    ASSERT_EQ(dv.rows(), expected) << "trial " << trial;
  }
}

TEST(RoaringBitmapArray, FuzzFoundRunContainerCrashIsCorruption) {
  // tests/fuzz/dv_fuzz input that crashed CRoaring 0.2.66 while iterating a run container
  // its deserialize_safe had accepted (cookie 12347, zero runs against cardinality 1).
  const unsigned char input[] = {
      0xd1, 0xd3, 0x39, 0x64, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x3b, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x3b, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x09, 0x00, 0x53, 0x74, 0x39, 0x74, 0x79, 0x70, 0x65, 0x5f, 0x69, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x53,
      0x74, 0x39, 0x74, 0x79, 0x70, 0x65, 0x5f, 0x69, 0x6e, 0x66, 0x6f};
  Result<DeletionVector> r =
      ParseRoaringBitmapArray(std::string_view(reinterpret_cast<const char*>(input), sizeof input));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
}

TEST(RoaringBitmapArray, RejectsOverlappingRunsAndBadBitsetCardinality) {
  auto wrap = [](const std::string& roaring) {
    std::string b;
    PutU32LE(b, 1681511377);
    PutU32LE(b, 1);
    PutU32LE(b, 0);
    PutU32LE(b, 0);
    return b + roaring;
  };
  // One run container (cookie 12347, count 1, run bitset 0x01), header card 20,
  // runs [10..19] and [15..24] overlap.
  std::string runs;
  PutU32LE(runs, 12347);
  runs.push_back('\x01');
  PutU16LE(runs, 0);
  PutU16LE(runs, 19);
  PutU16LE(runs, 2);
  PutU16LE(runs, 10);
  PutU16LE(runs, 9);
  PutU16LE(runs, 15);
  PutU16LE(runs, 9);
  EXPECT_EQ(ParseRoaringBitmapArray(wrap(runs)).status().code(), StatusCode::kCorruption);
  // The same with disjoint runs [10..19], [30..39] is valid: 20 rows.
  runs[runs.size() - 4] = 30;
  ASSERT_OK_AND_ASSIGN(DeletionVector ok, ParseRoaringBitmapArray(wrap(runs)));
  EXPECT_EQ(ok.cardinality(), 20u);
  EXPECT_TRUE(ok.Contains(39));
  EXPECT_FALSE(ok.Contains(20));
  // A bitset container (card > 4096) whose bits disagree with its header: 5000 claimed, 0 set.
  std::string bitset;
  PutU32LE(bitset, 12346);
  PutU32LE(bitset, 1);
  PutU16LE(bitset, 0);
  PutU16LE(bitset, 4999);
  PutU32LE(bitset, 16);
  bitset += std::string(8192, '\0');
  EXPECT_EQ(ParseRoaringBitmapArray(wrap(bitset)).status().code(), StatusCode::kCorruption);
}

// --- descriptors and files ---

TEST(DeletionVectorPath, DecodesTheUuidAndPrefix) {
  DeletionVectorDescriptor dv;
  dv.storage_type = 'u';
  dv.path_or_inline_dv = "vBn[lx{q8@P<9BNH/isA";  // from delta-rs/table-with-dv-small
  ASSERT_OK_AND_ASSIGN(std::string path, DeletionVectorRelativePath(dv));
  EXPECT_EQ(path, "deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin");
  dv.path_or_inline_dv = "ab" + dv.path_or_inline_dv;
  ASSERT_OK_AND_ASSIGN(std::string prefixed, DeletionVectorRelativePath(dv));
  EXPECT_EQ(prefixed, "ab/deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin");
  dv.path_or_inline_dv = "short";
  EXPECT_EQ(DeletionVectorRelativePath(dv).status().code(), StatusCode::kCorruption);
}

TEST(Crc32, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

std::unique_ptr<storage::ObjectStore> OpenTable(const std::string& rel) {
  Result<std::unique_ptr<storage::LocalStore>> s = storage::LocalStore::Open(ConformancePath(rel));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(LoadDeletionVector, TableWithDvSmallDeletesFirstAndLastRow) {
  // The manifest: version 0 has rows 0..9, version 1 (with this DV) has 1..8.
  auto store = OpenTable("delta-rs/table-with-dv-small");
  ASSERT_NE(store, nullptr);
  DeletionVectorDescriptor d{.storage_type = 'u', .path_or_inline_dv = "vBn[lx{q8@P<9BNH/isA",
                             .offset = 1, .size_in_bytes = 36, .cardinality = 2, .max_row_index = std::nullopt};
  ASSERT_OK_AND_ASSIGN(auto dv, LoadDeletionVector(*store, d));
  EXPECT_EQ(dv->rows(), (std::vector<uint64_t>{0, 9}));
}

TEST(LoadDeletionVector, InlineDvWithRustTail) {
  // From delta-kernel-rs/cdf-table-with-dv: 34 bytes, so the z85 crate wrote a 2-byte tail.
  storage::MemoryStore store;
  DeletionVectorDescriptor d{.storage_type = 'i',
                             .path_or_inline_dv = "^Bg9^0rr910000000000iXQKl0rr91000005c8Xg##093",
                             .offset = std::nullopt, .size_in_bytes = 34, .cardinality = 1, .max_row_index = std::nullopt};
  ASSERT_OK_AND_ASSIGN(auto dv, LoadDeletionVector(store, d));
  EXPECT_EQ(dv->cardinality(), 1u);
  d.cardinality = 2;
  EXPECT_EQ(LoadDeletionVector(store, d).status().code(), StatusCode::kCorruption);
}

// Every add with a deletion vector in every conformance table loads with the descriptor's
// cardinality, and its rows stay below maxRowIndex when that is recorded.
TEST(LoadDeletionVector, EveryDvInTheConformanceCorpusLoads) {
  namespace fs = std::filesystem;
  int loaded = 0;
  for (const auto& entry : fs::recursive_directory_iterator(LAKE_CONFORMANCE_DIR)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json" ||
        entry.path().parent_path().filename() != "_delta_log") {
      continue;
    }
    std::string table = entry.path().parent_path().parent_path().string();
    std::string log = ReadFileOrFail(entry.path().string());
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("add") || !j["add"].contains("deletionVector") ||
          j["add"]["deletionVector"].is_null()) {
        continue;
      }
      const nlohmann::json& jd = j["add"]["deletionVector"];
      DeletionVectorDescriptor d;
      d.storage_type = jd["storageType"].get<std::string>()[0];
      d.path_or_inline_dv = jd["pathOrInlineDv"].get<std::string>();
      if (jd.contains("offset") && !jd["offset"].is_null()) d.offset = jd["offset"].get<int32_t>();
      d.size_in_bytes = jd["sizeInBytes"].get<int32_t>();
      d.cardinality = jd["cardinality"].get<int64_t>();
      if (d.storage_type == 'u') {
        ASSERT_OK_AND_ASSIGN(std::string rel, DeletionVectorRelativePath(d));
        if (!fs::exists(fs::path(table) / rel)) continue;  // removed later and vacuumed
      }
      Result<std::unique_ptr<storage::LocalStore>> store = storage::LocalStore::Open(table);
      ASSERT_TRUE(store.ok()) << store.status();
      Result<std::shared_ptr<const DeletionVector>> dv = LoadDeletionVector(**store, d);
      ASSERT_TRUE(dv.ok()) << entry.path() << ": " << dv.status();
      EXPECT_EQ(static_cast<int64_t>((*dv)->cardinality()), d.cardinality) << entry.path();
      if (jd.contains("maxRowIndex") && !jd["maxRowIndex"].is_null()) {
        EXPECT_LE((*dv)->rows().back(), jd["maxRowIndex"].get<uint64_t>());
      }
      ++loaded;
    }
  }
  std::cout << "loaded " << loaded << " deletion vectors from the corpus\n";
  EXPECT_GE(loaded, 10);
}

class DvFileTest : public ::testing::Test {
 protected:
  void Put(const std::string& bytes) { ASSERT_OK(store_.Put(key_, bytes)); }
  DeletionVectorDescriptor Descriptor(int32_t size, int64_t cardinality) {
    DeletionVectorDescriptor d;
    d.storage_type = 'u';
    d.path_or_inline_dv = uuid_text_;
    d.offset = 1;
    d.size_in_bytes = size;
    d.cardinality = cardinality;
    return d;
  }
  storage::MemoryStore store_;
  // 16 zero bytes encode as 20 '0's -> uuid 00000000-0000-0000-0000-000000000000.
  std::string uuid_text_ = std::string(20, '0');
  std::string key_ = "deletion_vector_00000000-0000-0000-0000-000000000000.bin";
};

TEST_F(DvFileTest, LoadsAWellFormedFile) {
  std::string bitmap = BitmapArray({3, 4, 1000});
  Put(DvFile(bitmap));
  ASSERT_OK_AND_ASSIGN(auto dv, LoadDeletionVector(store_, Descriptor(bitmap.size(), 3)));
  EXPECT_EQ(dv->rows(), (std::vector<uint64_t>{3, 4, 1000}));
}

TEST_F(DvFileTest, AbsentOffsetMeansTheFirstDvAndZeroIsCorruption) {
  std::string bitmap = BitmapArray({8});
  Put(DvFile(bitmap));
  DeletionVectorDescriptor d = Descriptor(bitmap.size(), 1);
  d.offset = std::nullopt;
  ASSERT_OK_AND_ASSIGN(auto dv, LoadDeletionVector(store_, d));
  EXPECT_EQ(dv->rows(), (std::vector<uint64_t>{8}));
  d.offset = 0;
  EXPECT_EQ(LoadDeletionVector(store_, d).status().code(), StatusCode::kCorruption);
}

TEST_F(DvFileTest, SecondDvInAFileIsReadAtItsOffset) {
  std::string first = BitmapArray({1, 2});
  std::string second = BitmapArray({70000});
  std::string file = DvFile(first);
  const int32_t offset = static_cast<int32_t>(file.size());
  PutU32BE(file, static_cast<uint32_t>(second.size()));
  file += second;
  PutU32BE(file, Crc32(second));
  Put(file);
  DeletionVectorDescriptor d = Descriptor(second.size(), 1);
  d.offset = offset;
  ASSERT_OK_AND_ASSIGN(auto dv, LoadDeletionVector(store_, d));
  EXPECT_EQ(dv->rows(), (std::vector<uint64_t>{70000}));
}

TEST_F(DvFileTest, ChecksumMismatchIsCorruptionNamingTheFile) {
  std::string bitmap = BitmapArray({3, 4, 1000});
  std::string file = DvFile(bitmap);
  file[file.size() - 6] ^= 0x01;  // a bitmap value byte: still a valid bitmap
  Put(file);
  Result<std::shared_ptr<const DeletionVector>> r =
      LoadDeletionVector(store_, Descriptor(bitmap.size(), 3));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find(key_), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("CRC"), std::string::npos) << r.status();
}

TEST_F(DvFileTest, SizeMismatchAndTruncationAreCorruption) {
  std::string bitmap = BitmapArray({3, 4, 1000});
  std::string file = DvFile(bitmap);
  Put(file);
  Result<std::shared_ptr<const DeletionVector>> r =
      LoadDeletionVector(store_, Descriptor(bitmap.size() - 2, 3));
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status();
  for (size_t len : {size_t{0}, size_t{1}, size_t{4}, file.size() - 1}) {
    Put(file.substr(0, len));
    r = LoadDeletionVector(store_, Descriptor(bitmap.size(), 3));
    ASSERT_FALSE(r.ok()) << "file truncated to " << len;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << len << ": " << r.status();
  }
}

TEST_F(DvFileTest, CardinalityMismatchAndBadVersionAreCorruption) {
  std::string bitmap = BitmapArray({3, 4, 1000});
  std::string file = DvFile(bitmap);
  Put(file);
  EXPECT_EQ(LoadDeletionVector(store_, Descriptor(bitmap.size(), 2)).status().code(),
            StatusCode::kCorruption);
  file[0] = 2;
  Put(file);
  Result<std::shared_ptr<const DeletionVector>> r =
      LoadDeletionVector(store_, Descriptor(bitmap.size(), 3));
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("version"), std::string::npos) << r.status();
}

TEST_F(DvFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadDeletionVector(store_, Descriptor(20, 1)).status().code(), StatusCode::kNotFound);
}

TEST(LoadDeletionVector, AbsolutePathDescriptor) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("lake-dv-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string bitmap = BitmapArray({42});
  {
    std::ofstream out(dir / "my dv.bin", std::ios::binary);
    out << DvFile(bitmap);
  }
  storage::MemoryStore unused;
  DeletionVectorDescriptor d{.storage_type = 'p',
                             .path_or_inline_dv = "file:" + (dir / "my%20dv.bin").string(),
                             .offset = 1, .size_in_bytes = static_cast<int32_t>(bitmap.size()),
                             .cardinality = 1, .max_row_index = std::nullopt};
  Result<std::shared_ptr<const DeletionVector>> r = LoadDeletionVector(unused, d);
  fs::remove_all(dir);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->rows(), (std::vector<uint64_t>{42}));
}

}  // namespace
}  // namespace lake::delta

namespace lake::delta {
namespace {

// For every version of the conformance manifest that lists its active files: the live row
// count it expects equals sum(numRecords) - sum(DV cardinality) over those files, with each
// DV loaded from its bytes (inline, or the file beside the table).
TEST(LoadDeletionVector, LiveRowCountsMatchTheManifest) {
  namespace fs = std::filesystem;
  nlohmann::json manifest =
      nlohmann::json::parse(ReadFileOrFail(ConformancePath("manifest.json")));
  int checked_versions = 0;
  for (const nlohmann::json& table : manifest["tables"]) {
    std::string root = ConformancePath(table["path"].get<std::string>());
    if (!table.contains("expect") || !table["expect"].contains("versions")) continue;
    // (path, uniqueId or "") -> add
    std::map<std::pair<std::string, std::string>, nlohmann::json> adds;
    if (!fs::exists(fs::path(root) / "_delta_log")) continue;
    for (const auto& f : fs::directory_iterator(fs::path(root) / "_delta_log")) {
      std::string name = f.path().filename().string();
      if (name.size() != 25 || !name.ends_with(".json")) continue;
      std::istringstream lines(ReadFileOrFail(f.path().string()));
      std::string line;
      while (std::getline(lines, line)) {
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.contains("add")) continue;
        std::string id;
        const nlohmann::json& add = j["add"];
        if (add.contains("deletionVector") && !add["deletionVector"].is_null()) {
          const nlohmann::json& d = add["deletionVector"];
          id = d["storageType"].get<std::string>() + d["pathOrInlineDv"].get<std::string>();
          if (d.contains("offset") && !d["offset"].is_null()) id += "@" + d["offset"].dump();
        }
        adds[{add["path"].get<std::string>(), id}] = add;
      }
    }
    Result<std::unique_ptr<storage::LocalStore>> store = storage::LocalStore::Open(root);
    ASSERT_TRUE(store.ok()) << store.status();
    for (const nlohmann::json& version : table["expect"]["versions"]) {
      if (!version.contains("active_files") || !version.contains("row_count") ||
          !version.contains("num_files_with_dv") || version["num_files_with_dv"] == 0) {
        continue;
      }
      int64_t records = 0, deleted = 0;
      bool complete = true;
      for (const nlohmann::json& entry : version["active_files"]) {
        std::string text = entry.get<std::string>();
        std::string path = text, id;
        if (size_t at = text.find(" [dv:"); at != std::string::npos) {
          path = text.substr(0, at);
          id = text.substr(at + 5, text.size() - at - 6);
        }
        auto it = adds.find({path, id});
        if (it == adds.end() || !it->second.contains("stats") || !it->second["stats"].is_string()) {
          complete = false;  // added in a Parquet checkpoint, or no stats: cannot check
          break;
        }
        records += nlohmann::json::parse(it->second["stats"].get<std::string>())["numRecords"]
                       .get<int64_t>();
        if (id.empty()) continue;
        const nlohmann::json& jd = it->second["deletionVector"];
        DeletionVectorDescriptor d;
        d.storage_type = jd["storageType"].get<std::string>()[0];
        d.path_or_inline_dv = jd["pathOrInlineDv"].get<std::string>();
        if (jd.contains("offset") && !jd["offset"].is_null()) d.offset = jd["offset"].get<int32_t>();
        d.size_in_bytes = jd["sizeInBytes"].get<int32_t>();
        d.cardinality = jd["cardinality"].get<int64_t>();
        Result<std::shared_ptr<const DeletionVector>> dv = LoadDeletionVector(**store, d);
        ASSERT_TRUE(dv.ok()) << root << ": " << dv.status();
        deleted += static_cast<int64_t>((*dv)->cardinality());
      }
      if (!complete) continue;
      EXPECT_EQ(records - deleted, version["row_count"].get<int64_t>())
          << table["path"] << " version " << version["version"];
      ++checked_versions;
    }
  }
  std::cout << "checked " << checked_versions << " table versions with deletion vectors\n";
  EXPECT_GE(checked_versions, 10);
}

// --- Writing: expected bytes worked out by hand from the RoaringFormatSpec and PROTOCOL.md
// "Deletion Vector Format", or taken from files Spark and Databricks wrote ---

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

TEST(SerializeRoaringBitmapArray, TwoRowsAreOneArrayContainerAsSparkWritesThem) {
  // The bitmap inside delta-kernel-java/basic-dv-no-checkpoint's DV file (rows 0 and 1):
  // magic LE | 1 bucket (u64) | key 0 | cookie 12346 | 1 container | key 0, card-1 1 |
  // offset 16 (cookie 4 + count 4 + header 4 + offsets 4) | values 0, 1.
  EXPECT_EQ(SerializeRoaringBitmapArray({0, 1}),
            Hex("d1d33964 0100000000000000 00000000 3a300000 01000000 0000 0100 10000000 "
                "0000 0100"));
}

TEST(SerializeRoaringBitmapArray, MatchesADatabricksInlineDv) {
  // kernel-rs cdf-table-with-dv: an inline DV of 36 bytes, cardinality 2 (rows 0 and 5).
  EXPECT_EQ(Z85Encode(SerializeRoaringBitmapArray({0, 5})),
            "^Bg9^0rr910000000000iXQKl0rr91000315c8Xg000f5");
}

TEST(SerializeRoaringBitmapArray, ConsecutiveRowsBecomeARunContainer) {
  // Rows 3..10: array 16 bytes > run 2 + 4 = 6 bytes. Cookie 12347 | (1 - 1) << 16, run
  // bitset 0b1, header (key 0, card-1 7), no offsets (fewer than 4 containers), 1 run (3, 7).
  EXPECT_EQ(SerializeRoaringBitmapArray({3, 4, 5, 6, 7, 8, 9, 10}),
            Hex("d1d33964 0100000000000000 00000000 3b300000 01 0000 0700 0100 0300 0700"));
  // Two rows next to each other: array (4 bytes) beats run (6 bytes).
  EXPECT_EQ(SerializeRoaringBitmapArray({7, 8}).size(), 36u);
}

TEST(SerializeRoaringBitmapArray, FourRunContainersCarryOffsets) {
  // Keys 0..3, each rows (k << 16) + 100 .. + 109. Header: cookie 4 + bitset 1 + 4 headers 16
  // + 4 offsets 16 = 37; each container 2 + 4 = 6 bytes: offsets 37, 43, 49, 55.
  std::vector<uint64_t> rows;
  for (uint64_t k = 0; k < 4; ++k) {
    for (uint64_t v = 100; v < 110; ++v) rows.push_back(k << 16 | v);
  }
  EXPECT_EQ(SerializeRoaringBitmapArray(rows),
            Hex("d1d33964 0100000000000000 00000000 3b300300 0f "
                "0000 0900 0100 0900 0200 0900 0300 0900 "
                "25000000 2b000000 31000000 37000000 "
                "0100 6400 0900 0100 6400 0900 0100 6400 0900 0100 6400 0900"));
}

TEST(SerializeRoaringBitmapArray, ManyScatteredRowsBecomeABitset) {
  // Every even row below 10000: 5000 values, array 10000 bytes > bitset 8192 < 5000 runs.
  std::vector<uint64_t> rows;
  for (uint64_t v = 0; v < 10000; v += 2) rows.push_back(v);
  std::string bytes = SerializeRoaringBitmapArray(rows);
  // magic 4 + count 8 + key 4 + cookie 4 + containers 4 + header 4 + offset 4 = 32, + 8192.
  ASSERT_EQ(bytes.size(), 32u + 8192u);
  EXPECT_EQ(bytes.substr(16, 16), Hex("3a300000 01000000 0000 8713 10000000"));  // 4999 = 0x1387
  EXPECT_EQ(bytes.substr(32, 8), Hex("5555555555555555"));                         // rows 0,2,..,62
  EXPECT_EQ(bytes.substr(32 + 8 * 156, 8), Hex("5555000000000000"));  // rows 9984..9998
  EXPECT_EQ(bytes.substr(32 + 8 * 157, 8), std::string(8, '\0'));
}

TEST(SerializeRoaringBitmapArray, RowsAbove2To32GoToTheirOwnBucket) {
  const uint64_t high = (uint64_t{2} << 32) | 7;
  EXPECT_EQ(SerializeRoaringBitmapArray({1, high}),
            Hex("d1d33964 0200000000000000 "
                "00000000 3a300000 01000000 0000 0000 10000000 0100 "
                "02000000 3a300000 01000000 0000 0000 10000000 0700"));
}

// Round trips through lake's parser and, independently, through CRoaring's portable reader.
TEST(SerializeRoaringBitmapArray, RandomSetsRoundTripThroughLakeAndCRoaring) {
  std::mt19937_64 rng(20261121);
  std::cout << "seed 20261121\n";
  for (int trial = 0; trial < 300; ++trial) {
    std::set<uint64_t> set;
    const int shape = trial % 4;
    const int n = shape == 1 ? 6000 + static_cast<int>(rng() % 3000) : static_cast<int>(rng() % 400) + 1;
    for (int i = 0; i < n; ++i) {
      uint64_t v = rng() % (shape == 1 ? 70000 : 300000);
      if (shape == 2) {  // runs
        for (uint64_t k = 0; k < rng() % 40; ++k) set.insert(v + k);
      }
      if (shape == 3 && i % 7 == 0) v |= uint64_t{1 + rng() % 2} << 32;  // several buckets
      set.insert(v);
    }
    std::vector<uint64_t> rows(set.begin(), set.end());
    std::string bytes = SerializeRoaringBitmapArray(rows);
    ASSERT_OK_AND_ASSIGN(DeletionVector dv, ParseRoaringBitmapArray(bytes));
    ASSERT_EQ(dv.rows(), rows) << "trial " << trial;
    // CRoaring: bucket by bucket.
    size_t pos = 12;
    std::vector<uint64_t> decoded;
    while (pos < bytes.size()) {
      uint32_t key = static_cast<uint32_t>(static_cast<unsigned char>(bytes[pos])) |
                     static_cast<uint32_t>(static_cast<unsigned char>(bytes[pos + 1])) << 8 |
                     static_cast<uint32_t>(static_cast<unsigned char>(bytes[pos + 2])) << 16 |
                     static_cast<uint32_t>(static_cast<unsigned char>(bytes[pos + 3])) << 24;
      pos += 4;
      roaring_bitmap_t* r =
          roaring_bitmap_portable_deserialize_safe(bytes.data() + pos, bytes.size() - pos);
      ASSERT_NE(r, nullptr) << "trial " << trial;
      pos += roaring_bitmap_portable_size_in_bytes(r);
      std::vector<uint32_t> values(roaring_bitmap_get_cardinality(r));
      roaring_bitmap_to_uint32_array(r, values.data());
      roaring_bitmap_free(r);
      for (uint32_t v : values) decoded.push_back(uint64_t{key} << 32 | v);
    }
    ASSERT_EQ(pos, bytes.size());
    ASSERT_EQ(decoded, rows) << "trial " << trial;
  }
}

TEST(DeletionVectorUuidPath, MatchesSparksEncodingOfTheFileUuid) {
  // delta-kernel-java/basic-dv-no-checkpoint: pathOrInlineDv "IjB3V2d3#qUP%s94R0WF" names
  // deletion_vector_899cef78-06b3-4c14-b024-03860e62cd40.bin.
  ASSERT_OK_AND_ASSIGN(std::string path,
                       DeletionVectorUuidPath("", "899cef78-06b3-4c14-b024-03860e62cd40"));
  EXPECT_EQ(path, "IjB3V2d3#qUP%s94R0WF");
  ASSERT_OK_AND_ASSIGN(path, DeletionVectorUuidPath("ab", "899cef78-06b3-4c14-b024-03860e62cd40"));
  EXPECT_EQ(path, "abIjB3V2d3#qUP%s94R0WF");
  EXPECT_EQ(DeletionVectorUuidPath("", "not-a-uuid").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DeletionVectorWriter, WritesTheSameFileSparkWrote) {
  const std::string spark_file = ReadFileOrFail(ConformancePath(
      "delta-kernel-java/basic-dv-no-checkpoint/"
      "deletion_vector_899cef78-06b3-4c14-b024-03860e62cd40.bin"));
  DeletionVectorWriter writer("", "899cef78-06b3-4c14-b024-03860e62cd40", /*max_inline_bytes=*/0);
  ASSERT_OK_AND_ASSIGN(DeletionVectorDescriptor d, writer.Add({0, 1}));
  EXPECT_EQ(d.storage_type, 'u');
  EXPECT_EQ(d.path_or_inline_dv, "IjB3V2d3#qUP%s94R0WF");
  EXPECT_EQ(d.offset, 1);
  EXPECT_EQ(d.size_in_bytes, 36);
  EXPECT_EQ(d.cardinality, 2);
  EXPECT_EQ(writer.file_key(), "deletion_vector_899cef78-06b3-4c14-b024-03860e62cd40.bin");
  EXPECT_EQ(writer.file_bytes(), spark_file);
}

TEST(DeletionVectorWriter, ManyDvsShareOneFileAndSmallOnesGoInline) {
  storage::MemoryStore store;
  DeletionVectorWriter writer("xy", "00112233-4455-6677-8899-aabbccddeeff");
  std::vector<uint64_t> big;  // 40 scattered rows: 32 + 80 bytes, above the inline limit
  for (uint64_t v = 0; v < 40; ++v) big.push_back(v * 3);
  std::vector<uint64_t> big2;
  for (uint64_t v = 0; v < 30; ++v) big2.push_back(v * 5 + 1);
  ASSERT_OK_AND_ASSIGN(DeletionVectorDescriptor first, writer.Add(big));
  ASSERT_OK_AND_ASSIGN(DeletionVectorDescriptor small, writer.Add({2, 9, 4000}));
  ASSERT_OK_AND_ASSIGN(DeletionVectorDescriptor second, writer.Add(big2));
  EXPECT_EQ(first.storage_type, 'u');
  EXPECT_EQ(first.offset, 1);
  EXPECT_EQ(first.size_in_bytes, 32 + 80);
  EXPECT_EQ(second.offset, 1 + 4 + 112 + 4);  // after the first's size, bitmap and CRC
  EXPECT_EQ(second.size_in_bytes, 32 + 60);
  EXPECT_EQ(small.storage_type, 'i');
  EXPECT_EQ(small.size_in_bytes, 32 + 6);
  EXPECT_FALSE(small.offset.has_value());
  EXPECT_EQ(writer.file_key(), "xy/deletion_vector_00112233-4455-6677-8899-aabbccddeeff.bin");
  EXPECT_EQ(writer.file_bytes().size(), 1u + (4 + 112 + 4) + (4 + 92 + 4));
  ASSERT_OK(writer.Write(store));
  for (const auto& [d, rows] : std::vector<std::pair<DeletionVectorDescriptor, std::vector<uint64_t>>>{
           {first, big}, {small, {2, 9, 4000}}, {second, big2}}) {
    ASSERT_OK_AND_ASSIGN(auto loaded, LoadDeletionVector(store, d));
    EXPECT_EQ(loaded->rows(), rows);
  }
  EXPECT_EQ(writer.Add({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.Add({3, 2}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.Add({2, 2}).status().code(), StatusCode::kInvalidArgument);
}

TEST(DeletionVectorWriter, AllInlineWritesNoFile) {
  storage::MemoryStore store;
  DeletionVectorWriter writer;
  ASSERT_OK_AND_ASSIGN(DeletionVectorDescriptor d, writer.Add({5}));
  EXPECT_EQ(d.storage_type, 'i');
  EXPECT_FALSE(writer.has_file());
  ASSERT_OK(writer.Write(store));
  ASSERT_OK_AND_ASSIGN(auto listed, store.ListAfter("", ""));
  EXPECT_TRUE(listed.empty());
}

// The stats of a file that gains a DV keep every value and say "tightBounds":false.
TEST(StatsWithLooseBounds, AddsOrFlipsTheTopLevelKeyOnly) {
  auto loose = [](std::string_view stats) {
    Result<std::string> r = StatsWithLooseBounds(stats);
    EXPECT_TRUE(r.ok()) << stats << ": " << r.status();
    return r.ok() ? *r : std::string("<error>");
  };
  EXPECT_EQ(loose(R"({"numRecords":5,"minValues":{"id":0}})"),
            R"({"numRecords":5,"minValues":{"id":0},"tightBounds":false})");
  EXPECT_EQ(loose(R"({"numRecords":5,"tightBounds":true})"),
            R"({"numRecords":5,"tightBounds":false})");
  EXPECT_EQ(loose(R"({"tightBounds": false, "numRecords":5})"),
            R"({"tightBounds": false, "numRecords":5})");
  // A column named tightBounds, and a string holding the key's text, are not the key.
  EXPECT_EQ(loose(R"({"numRecords":1,"minValues":{"tightBounds":true},"x":"\"tightBounds\":true"})"),
            R"({"numRecords":1,"minValues":{"tightBounds":true},"x":"\"tightBounds\":true",)"
            R"("tightBounds":false})");
  EXPECT_EQ(loose(" {} "), R"({"tightBounds":false})");
  for (std::string_view bad : {"", "[]", "{\"a\":1", "{\"tightBounds\":1}", "{\"a\":\"}"}) {
    EXPECT_EQ(StatsWithLooseBounds(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace lake::delta
