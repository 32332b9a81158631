// Writing Delta logs for benchmarks, by hand: the JSON actions of PROTOCOL.md ("Actions"),
// with no lake writer involved, so the benches read tables lake did not produce.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
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

// configuration: already-rendered JSON object body, e.g. "\"delta.appendOnly\":\"true\"".
inline std::string MetadataAction(std::string_view schema_string,
                                  const std::vector<std::string>& partition_columns,
                                  int64_t created_ms, std::string_view configuration = "") {
  std::string parts = "[";
  for (size_t i = 0; i < partition_columns.size(); ++i) {
    parts += (i ? "," : "") + Quoted(partition_columns[i]);
  }
  parts += "]";
  return "{\"metaData\":{\"id\":\"6c7a7b3e-7c1e-4a55-9b1d-3f1f6d5e2a10\",\"format\":{\"provider\":"
         "\"parquet\",\"options\":{}},\"schemaString\":" +
         Quoted(schema_string) + ",\"partitionColumns\":" + parts +
         ",\"configuration\":{" + std::string(configuration) +
         "},\"createdTime\":" + std::to_string(created_ms) + "}}";
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

// ---- The generated table of snapshot_bench and checkpoint_bench --------------------------
// Partitioned by `part` over kGenPartitions values, JSON stats over id/value/ts (~450 B per
// add), file i added once; every 10th commit from 10 on also removes the first 10 files added
// 5 commits earlier, so replays must honour removes and checkpoints carry tombstones.

inline constexpr char kGenSchema[] =
    R"j({"type":"struct","fields":[)j"
    R"j({"name":"part","type":"string","nullable":true,"metadata":{}},)j"
    R"j({"name":"id","type":"long","nullable":true,"metadata":{}},)j"
    R"j({"name":"value","type":"double","nullable":true,"metadata":{}},)j"
    R"j({"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]})j";
inline constexpr int64_t kGenT0 = 1700000000000;  // commit v is at kGenT0 + v seconds
inline constexpr int kGenPartitions = 100;

struct GenFile {
  std::string path;
  std::string part;
  int64_t size;
};

inline GenFile GenFileFor(int64_t idx) {
  const int part = static_cast<int>(idx % kGenPartitions);
  char path[128];
  std::snprintf(path, sizeof path, "part=p%02d/part-%08lld-%08llx-c000.snappy.parquet", part,
                static_cast<long long>(idx),
                static_cast<unsigned long long>(static_cast<uint64_t>(idx) * 2654435761u % 0xffffffffu));
  char p[16];
  std::snprintf(p, sizeof p, "p%02d", part);
  return {path, p, 100'000 + (idx * 7919) % 900'000};
}

inline std::string GenStatsFor(int64_t idx) {
  const int64_t first = idx * 1000;
  return "{\"numRecords\":1000,\"minValues\":{\"id\":" + std::to_string(first) +
         ",\"value\":0.5,\"ts\":\"2024-01-01T00:00:00.000Z\"},\"maxValues\":{\"id\":" +
         std::to_string(first + 999) +
         ",\"value\":99.5,\"ts\":\"2024-01-02T00:00:00.000Z\"},\"nullCount\":{\"id\":0,\"value\":0,"
         "\"ts\":0}}";
}

inline std::string GenAddFor(int64_t idx, int64_t version) {
  const GenFile f = GenFileFor(idx);
  return AddAction(f.path, "\"part\":\"" + f.part + "\"", f.size, kGenT0 + version * 1000,
                   GenStatsFor(idx));
}

inline std::string GenRemoveFor(int64_t idx, int64_t version) {
  const GenFile f = GenFileFor(idx);
  return RemoveAction(f.path, "\"part\":\"" + f.part + "\"", f.size, kGenT0 + version * 1000);
}

// Writes commits 0..commits-1 of the generated table (exits on I/O failure); returns the live
// files' count and total bytes at the last version.
inline std::pair<int64_t, int64_t> WriteGeneratedLog(const std::filesystem::path& table,
                                                     int64_t commits, int64_t adds_per_commit) {
  std::vector<bool> live(static_cast<size_t>(commits * adds_per_commit), false);
  for (int64_t v = 0; v < commits; ++v) {
    std::vector<std::string> actions = {CommitInfoAction(kGenT0 + v * 1000, "WRITE")};
    if (v == 0) {
      actions.push_back(ProtocolAction());
      actions.push_back(MetadataAction(kGenSchema, {"part"}, kGenT0));
    }
    for (int64_t i = 0; i < adds_per_commit; ++i) {
      const int64_t idx = v * adds_per_commit + i;
      actions.push_back(GenAddFor(idx, v));
      live[static_cast<size_t>(idx)] = true;
    }
    if (v % 10 == 0 && v >= 10) {
      for (int64_t i = 0; i < 10 && i < adds_per_commit; ++i) {
        const int64_t idx = (v - 5) * adds_per_commit + i;
        actions.push_back(GenRemoveFor(idx, v));
        live[static_cast<size_t>(idx)] = false;
      }
    }
    if (!WriteCommit(table, v, actions)) {
      std::fprintf(stderr, "cannot write commit %lld\n", static_cast<long long>(v));
      std::exit(1);
    }
  }
  int64_t n = 0, bytes = 0;
  for (size_t idx = 0; idx < live.size(); ++idx) {
    if (live[idx]) {
      ++n;
      bytes += GenFileFor(static_cast<int64_t>(idx)).size;
    }
  }
  return {n, bytes};
}

}  // namespace lake::bench
