#include "base/uuid.h"

#include <cstdint>
#include <random>

namespace lake {

std::string NewUuidV4() {
  // Seeded once per thread from the OS: two processes (or threads) writing one table must
  // never draw the same ids, so no fixed or time-based seed.
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  uint64_t hi = gen();
  uint64_t lo = gen();
  hi = (hi & ~uint64_t{0xF000}) | uint64_t{0x4000};            // version 4
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // variant 10xx
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) out += kHex[(v >> (4 * i)) & 0xF];
  };
  put(hi >> 32, 8);
  out += '-';
  put(hi >> 16, 4);
  out += '-';
  put(hi, 4);
  out += '-';
  put(lo >> 48, 4);
  out += '-';
  put(lo, 12);
  return out;
}

}  // namespace lake
