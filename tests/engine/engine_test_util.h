// Helpers for engine tests: the conformance manifest and the canonical row encoding it uses
// (manifest.json "canonical_encoding"), for the types these tests need.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/database.h"

namespace lake::engine::testing {

inline std::string ConformanceDir() { return LAKE_CONFORMANCE_DIR; }

inline const nlohmann::json& Manifest() {
  static const nlohmann::json manifest = [] {
    std::ifstream in(ConformanceDir() + "/manifest.json");
    return nlohmann::json::parse(in);
  }();
  return manifest;
}

// Returns the manifest entry of the table at `path` (e.g. "delta-rs/table-with-dv-small").
inline const nlohmann::json& ManifestTable(const std::string& path) {
  for (const auto& t : Manifest()["tables"]) {
    if (t["path"] == path) return t;
  }
  static const nlohmann::json empty;
  return empty;
}

inline std::string TablePath(const std::string& path) { return ConformanceDir() + "/" + path; }

inline std::string Pad(int64_t v, int width) {
  std::string s = std::to_string(v);
  while (static_cast<int>(s.size()) < width) s = "0" + s;
  return s;
}

// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
inline std::string DateText(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  return Pad(y, 4) + "-" + Pad(m, 2) + "-" + Pad(d, 2);
}

inline std::string TimestampText(int64_t micros) {
  int64_t days = micros / 86400000000LL;
  int64_t rem = micros % 86400000000LL;
  if (rem < 0) {
    rem += 86400000000LL;
    --days;
  }
  int64_t secs = rem / 1000000, frac = rem % 1000000;
  return DateText(days) + "T" + Pad(secs / 3600, 2) + ":" + Pad(secs / 60 % 60, 2) + ":" +
         Pad(secs % 60, 2) + "." + Pad(frac, 6);
}

inline std::string Int128Text(__int128 v) {
  bool neg = v < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u);
  return neg ? "-" + s : s;
}

inline std::string DecimalText(__int128 unscaled, int scale) {
  bool neg = unscaled < 0;
  std::string digits = Int128Text(neg ? -unscaled : unscaled);
  if (scale > 0) {
    while (static_cast<int>(digits.size()) <= scale) digits = "0" + digits;
    digits.insert(digits.size() - scale, ".");
  }
  return neg ? "-" + digits : digits;
}

inline nlohmann::json Canonical(const Value& value, const ColumnType& type) {
  using K = ColumnType::Kind;
  if (value.is_null()) return nullptr;
  auto as_i128 = [&]() -> __int128 {
    if (auto* i = std::get_if<int64_t>(&value.v)) return *i;
    if (auto* h = std::get_if<__int128>(&value.v)) return *h;
    return 0;
  };
  switch (type.kind) {
    case K::kBoolean:
      return std::get<bool>(value.v);
    case K::kTinyInt:
    case K::kSmallInt:
    case K::kInteger:
    case K::kBigInt:
      return std::get<int64_t>(value.v);
    case K::kFloat:
    case K::kDouble: {
      double d = std::get<double>(value.v);
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      // The manifest writes the shortest text that round-trips through the column's width.
      char buf[64];
      auto end = type.kind == K::kFloat
                     ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(d)).ptr
                     : std::to_chars(buf, buf + sizeof buf, d).ptr;
      return nlohmann::json::parse(std::string(buf, end));
    }
    case K::kDecimal:
      return DecimalText(as_i128(), type.scale);
    case K::kVarchar:
      return std::get<std::string>(value.v);
    case K::kBlob: {
      std::string hex;
      char buf[3];
      for (unsigned char c : std::get<std::string>(value.v)) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        hex += buf;
      }
      return hex;
    }
    case K::kDate:
      return DateText(std::get<int64_t>(value.v));
    case K::kTimestamp:
      return TimestampText(std::get<int64_t>(value.v));
    case K::kTimestampTz:
      return TimestampText(std::get<int64_t>(value.v)) + "Z";
    case K::kList: {
      nlohmann::json arr = nlohmann::json::array();
      for (const Value& v : *std::get<std::shared_ptr<ValueList>>(value.v)) {
        arr.push_back(Canonical(v, type.children[0].second));
      }
      return arr;
    }
    case K::kStruct: {
      nlohmann::json obj = nlohmann::json::object();
      const auto& fields = *std::get<std::shared_ptr<ValueStruct>>(value.v);
      for (size_t i = 0; i < fields.size(); ++i) {
        obj[fields[i].first] = Canonical(fields[i].second, type.children[i].second);
      }
      return obj;
    }
    case K::kMap: {
      std::vector<nlohmann::json> pairs;
      for (const auto& [k, v] : *std::get<std::shared_ptr<ValueMap>>(value.v)) {
        pairs.push_back(nlohmann::json::array(
            {Canonical(k, type.children[0].second), Canonical(v, type.children[1].second)}));
      }
      std::sort(pairs.begin(), pairs.end(),
                [](const auto& a, const auto& b) { return a[0].dump() < b[0].dump(); });
      return pairs;
    }
    default:
      return "<unsupported " + type.name + ">";
  }
}

// Returns the rows of `table` as sorted canonical JSON texts.
inline std::vector<std::string> CanonicalRows(const ResultTable& table) {
  std::vector<std::string> rows;
  for (const auto& row : table.rows) {
    nlohmann::json arr = nlohmann::json::array();
    for (size_t c = 0; c < row.size(); ++c) arr.push_back(Canonical(row[c], table.columns[c].type));
    rows.push_back(arr.dump());
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

// Returns the expected rows of one manifest version, as sorted canonical JSON texts.
inline std::vector<std::string> ExpectedRows(const nlohmann::json& version) {
  std::vector<std::string> rows;
  for (const auto& row : version["rows"]) rows.push_back(row.dump());
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace lake::engine::testing
