// Writing Delta logs for benchmarks, by hand: the JSON actions of PROTOCOL.md ("Actions"),
// with no lake writer involved, so the benches read tables lake did not produce.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace lake::bench {

inline std::string JsonEscape(std::string_view s) {
  std::string o;
  o.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += c;
        }
    }
  }
  return o;
}

inline std::string Quoted(std::string_view s) { return "\"" + JsonEscape(s) + "\""; }

// "_delta_log/00000000000000000042.json"
inline std::string CommitName(int64_t version) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%020lld.json", static_cast<long long>(version));
  return buf;
}

inline std::string ProtocolAction(int reader = 1, int writer = 2) {
  return "{\"protocol\":{\"minReaderVersion\":" + std::to_string(reader) +
         ",\"minWriterVersion\":" + std::to_string(writer) + "}}";
}

inline std::string MetadataAction(std::string_view schema_string,
                                  const std::vector<std::string>& partition_columns,
                                  int64_t created_ms) {
  std::string parts = "[";
  for (size_t i = 0; i < partition_columns.size(); ++i) {
    parts += (i ? "," : "") + Quoted(partition_columns[i]);
  }
  parts += "]";
  return "{\"metaData\":{\"id\":\"6c7a7b3e-7c1e-4a55-9b1d-3f1f6d5e2a10\",\"format\":{\"provider\":"
         "\"parquet\",\"options\":{}},\"schemaString\":" +
         Quoted(schema_string) + ",\"partitionColumns\":" + parts +
         ",\"configuration\":{},\"createdTime\":" + std::to_string(created_ms) + "}}";
}

inline std::string CommitInfoAction(int64_t ts_ms, std::string_view operation) {
  return "{\"commitInfo\":{\"timestamp\":" + std::to_string(ts_ms) + ",\"operation\":" +
         Quoted(operation) + ",\"engineInfo\":\"lake-bench\"}}";
}

// partition_values: already-rendered JSON object body, e.g. "\"part\":\"p3\"".
inline std::string AddAction(std::string_view path, std::string_view partition_values, int64_t size,
                             int64_t mod_ms, std::string_view stats_json) {
  return "{\"add\":{\"path\":" + Quoted(path) + ",\"partitionValues\":{" +
         std::string(partition_values) + "},\"size\":" + std::to_string(size) +
         ",\"modificationTime\":" + std::to_string(mod_ms) + ",\"dataChange\":true,\"stats\":" +
         Quoted(stats_json) + "}}";
}

inline std::string RemoveAction(std::string_view path, std::string_view partition_values,
                                int64_t size, int64_t deletion_ms) {
  return "{\"remove\":{\"path\":" + Quoted(path) + ",\"deletionTimestamp\":" +
         std::to_string(deletion_ms) + ",\"dataChange\":true,\"extendedFileMetadata\":true," +
         "\"partitionValues\":{" + std::string(partition_values) + "},\"size\":" +
         std::to_string(size) + "}}";
}

// Writes one commit file (one action per line). Returns false on I/O failure.
inline bool WriteCommit(const std::filesystem::path& table, int64_t version,
                        const std::vector<std::string>& actions) {
  std::filesystem::create_directories(table / "_delta_log");
  std::ofstream out(table / "_delta_log" / CommitName(version), std::ios::binary);
  for (const std::string& a : actions) out << a << '\n';
  out.close();
  return static_cast<bool>(out);
}

}  // namespace lake::bench
