// Header-only: the test CMake globs only *_test.cc files into the binary.
//
// Canonical row encoding of the conformance manifest ("canonical_encoding" in
// ../shared/conformance/manifest.json), written from that text alone so that the expected rows
// never pass through lake's own formatting code:
//  (1) EncodeValue turns one engine::Value into a JSON value (decimals as strings with their
//      scale, binary as lowercase hex, dates and timestamps as text, maps as [k, v] pairs).
//  (2) CompareKey renders a JSON value, expected or actual, into one text used to compare rows
//      as a multiset: floats go through float32 and doubles through their shortest round trip,
//      struct fields come in schema order, map pairs sorted by their key's text. Both sides
//      are rendered by the same function, driven by the result's column types.
//  (3) ExactText renders the manifest's exact row text (JSON.stringify of the encoded row),
//      used only for rows_sha256 where the manifest lists no rows.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/database.h"

namespace lake::conformance {

namespace canonical_internal {

using engine::ColumnType;
using Kind = engine::ColumnType::Kind;

inline int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 -> "YYYY-MM-DD", proleptic Gregorian (H. Hinnant's civil_from_days).
inline std::string DateText(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t year = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  if (month <= 2) ++year;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(year),
                static_cast<long long>(month), static_cast<long long>(day));
  return buf;
}

// Micros since the epoch -> "YYYY-MM-DDTHH:MM:SS.ffffff".
inline std::string TimestampText(int64_t micros) {
  constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rem = micros - days * kMicrosPerDay;
  const int64_t frac = rem % 1000000;
  rem /= 1000000;
  char buf[96];
  std::snprintf(buf, sizeof buf, "T%02lld:%02lld:%02lld.%06lld", static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                static_cast<long long>(frac));
  return DateText(days) + buf;
}

inline std::string Int128Text(__int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string digits;
  while (u != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// Unscaled integer + scale -> "-12.30" (exactly `scale` fractional digits).
inline std::string DecimalText(__int128 unscaled, int scale) {
  std::string digits = Int128Text(unscaled < 0 ? -unscaled : unscaled);
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) {
      digits.insert(0, static_cast<size_t>(scale + 1 - static_cast<int>(digits.size())), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return unscaled < 0 ? "-" + digits : digits;
}

inline nlohmann::json DoubleJson(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return d;
}

inline std::optional<__int128> IntegerOf(const engine::Value& value) {
  if (auto* i = std::get_if<int64_t>(&value.v)) return *i;
  if (auto* u = std::get_if<uint64_t>(&value.v)) return static_cast<__int128>(*u);
  if (auto* h = std::get_if<__int128>(&value.v)) return *h;
  return std::nullopt;
}

inline std::string ShortestFloat(float f) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  return std::string(buf, r.ptr);
}

inline std::string ShortestDouble(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

inline std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace canonical_internal

inline nlohmann::json EncodeValue(const engine::Value& value, const engine::ColumnType& type) {
  using namespace canonical_internal;
  if (value.is_null()) return nullptr;
  const std::string* str = std::get_if<std::string>(&value.v);
  switch (type.kind) {
    case Kind::kNull:
      return nullptr;
    case Kind::kBoolean:
      if (auto* b = std::get_if<bool>(&value.v)) return *b;
      break;
    case Kind::kTinyInt: case Kind::kSmallInt: case Kind::kInteger: case Kind::kBigInt:
    case Kind::kUTinyInt: case Kind::kUSmallInt: case Kind::kUInteger: case Kind::kUBigInt:
      if (auto* i = std::get_if<int64_t>(&value.v)) return *i;
      if (auto* u = std::get_if<uint64_t>(&value.v)) return *u;
      break;
    case Kind::kHugeInt:
      if (auto i = IntegerOf(value)) return Int128Text(*i);
      break;
    case Kind::kFloat: case Kind::kDouble:
      if (auto* d = std::get_if<double>(&value.v)) return DoubleJson(*d);
      break;
    case Kind::kDecimal:
      if (auto i = IntegerOf(value)) return DecimalText(*i, type.scale);
      break;
    case Kind::kVarchar:
      if (str) return *str;
      break;
    case Kind::kBlob:
      if (str) {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string hex;
        hex.reserve(str->size() * 2);
        for (unsigned char c : *str) {
          hex.push_back(kHex[c >> 4]);
          hex.push_back(kHex[c & 15]);
        }
        return hex;
      }
      break;
    case Kind::kDate:
      if (auto i = IntegerOf(value)) return DateText(static_cast<int64_t>(*i));
      break;
    case Kind::kTimestamp:
      if (auto i = IntegerOf(value)) return TimestampText(static_cast<int64_t>(*i));
      break;
    case Kind::kTimestampTz:
      if (auto i = IntegerOf(value)) return TimestampText(static_cast<int64_t>(*i)) + "Z";
      break;
    case Kind::kList:
      if (auto* list = std::get_if<std::shared_ptr<engine::ValueList>>(&value.v)) {
        nlohmann::json out = nlohmann::json::array();
        const ColumnType& element = type.children.at(0).second;
        for (const engine::Value& e : **list) out.push_back(EncodeValue(e, element));
        return out;
      }
      break;
    case Kind::kStruct:
      if (auto* st = std::get_if<std::shared_ptr<engine::ValueStruct>>(&value.v)) {
        nlohmann::json out = nlohmann::json::object();
        for (size_t i = 0; i < (*st)->size(); ++i) {
          const auto& [name, field] = (**st)[i];
          const ColumnType* field_type = nullptr;
          for (const auto& child : type.children) {
            if (child.first == name) field_type = &child.second;
          }
          out[name] = field_type ? EncodeValue(field, *field_type)
                                 : nlohmann::json("<field not in column type>");
        }
        return out;
      }
      break;
    case Kind::kMap:
      if (auto* map = std::get_if<std::shared_ptr<engine::ValueMap>>(&value.v)) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& [k, v] : **map) {
          out.push_back(nlohmann::json::array(
              {EncodeValue(k, type.children.at(0).second), EncodeValue(v, type.children.at(1).second)}));
        }
        return out;
      }
      break;
    default:
      break;
  }
  // A type Delta cannot produce, or a value whose storage does not fit its type: encode it so
  // that it can never equal an expected value.
  return "<unexpected " + type.name + " value>";
}

inline std::string CompareKey(const nlohmann::json& json, const engine::ColumnType& type) {
  using namespace canonical_internal;
  if (json.is_null()) return "null";
  switch (type.kind) {
    case Kind::kFloat:
      // "compare as float32": both sides go through float, then its shortest text.
      if (json.is_number()) return ShortestFloat(static_cast<float>(json.get<double>()));
      break;
    case Kind::kDouble:
      if (json.is_number()) return ShortestDouble(json.get<double>());
      break;
    case Kind::kList:
      if (json.is_array()) {
        std::string out = "[";
        for (size_t i = 0; i < json.size(); ++i) {
          if (i) out += ",";
          out += CompareKey(json[i], type.children.at(0).second);
        }
        return out + "]";
      }
      break;
    case Kind::kStruct:
      if (json.is_object()) {
        std::string out = "{";
        size_t found = 0;
        for (size_t i = 0; i < type.children.size(); ++i) {
          const auto& [name, child] = type.children[i];
          if (i) out += ",";
          out += Dump(name) + ":";
          auto it = json.find(name);
          if (it == json.end()) {
            out += "<missing>";
          } else {
            ++found;
            out += CompareKey(*it, child);
          }
        }
        if (found != json.size()) out += ",<extra fields " + Dump(json) + ">";
        return out + "}";
      }
      break;
    case Kind::kMap:
      if (json.is_array()) {
        std::vector<std::pair<std::string, std::string>> pairs;
        for (const auto& pair : json) {
          if (!pair.is_array() || pair.size() != 2) return "<bad map pair " + Dump(pair) + ">";
          pairs.emplace_back(CompareKey(pair[0], type.children.at(0).second),
                             CompareKey(pair[1], type.children.at(1).second));
        }
        std::sort(pairs.begin(), pairs.end());
        std::string out = "[";
        for (size_t i = 0; i < pairs.size(); ++i) {
          if (i) out += ",";
          out += "[" + pairs[i].first + "," + pairs[i].second + "]";
        }
        return out + "]";
      }
      break;
    default:
      return Dump(json);
  }
  return "<" + type.name + " mismatch: " + Dump(json) + ">";
}

inline std::string RowCompareKey(const nlohmann::json& row,
                                 const std::vector<engine::ResultColumn>& cols) {
  if (!row.is_array() || row.size() != cols.size()) {
    return "<row of " + std::to_string(row.size()) + " values: " + canonical_internal::Dump(row) + ">";
  }
  std::string out = "[";
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i) out += ",";
    out += CompareKey(row[i], cols[i].type);
  }
  return out + "]";
}

inline std::string ExactText(const nlohmann::json& row) { return canonical_internal::Dump(row); }

inline std::string DeltaTypeNameOf(const engine::ColumnType& type) {
  switch (type.kind) {
    case engine::ColumnType::Kind::kNull: return "void";
    case engine::ColumnType::Kind::kBoolean: return "boolean";
    case engine::ColumnType::Kind::kTinyInt: return "byte";
    case engine::ColumnType::Kind::kSmallInt: return "short";
    case engine::ColumnType::Kind::kInteger: return "integer";
    case engine::ColumnType::Kind::kBigInt: return "long";
    case engine::ColumnType::Kind::kFloat: return "float";
    case engine::ColumnType::Kind::kDouble: return "double";
    case engine::ColumnType::Kind::kDecimal:
      return "decimal(" + std::to_string(type.precision) + "," + std::to_string(type.scale) + ")";
    case engine::ColumnType::Kind::kVarchar: return "string";
    case engine::ColumnType::Kind::kBlob: return "binary";
    case engine::ColumnType::Kind::kDate: return "date";
    case engine::ColumnType::Kind::kTimestampTz: return "timestamp";
    case engine::ColumnType::Kind::kTimestamp: return "timestamp_ntz";
    case engine::ColumnType::Kind::kList:
      if (type.children.size() == 1) return "array<" + DeltaTypeNameOf(type.children[0].second) + ">";
      break;
    case engine::ColumnType::Kind::kMap:
      if (type.children.size() == 2) {
        return "map<" + DeltaTypeNameOf(type.children[0].second) + "," +
               DeltaTypeNameOf(type.children[1].second) + ">";
      }
      break;
    case engine::ColumnType::Kind::kStruct: {
      std::string out = "struct<";
      for (size_t i = 0; i < type.children.size(); ++i) {
        if (i) out += ",";
        out += type.children[i].first + ":" + DeltaTypeNameOf(type.children[i].second);
      }
      return out + ">";
    }
    default:
      break;
  }
  return "engine:" + type.name;
}

// FIPS 180-4 SHA-256; only for rows_sha256, so a plain byte-at-a-time implementation.
inline std::string Sha256Hex(const std::string& data) {
  static constexpr uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string msg = data;
  const uint64_t bit_len = static_cast<uint64_t>(data.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>((bit_len >> (i * 8)) & 0xff));
  auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + off + 4 * i);
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  char out[65];
  for (int i = 0; i < 8; ++i) std::snprintf(out + 8 * i, 9, "%08x", h[i]);
  return std::string(out, 64);
}

inline std::string PercentDecode(const std::string& s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 &&
        hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace lake::conformance
