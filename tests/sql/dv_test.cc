// Deletion vectors written by lake (issue #4 §1): DELETE and UPDATE on a table with
// delta.enableDeletionVectors = true mark rows in DVs instead of rewriting files; a second
// DML on the file combines its DV; REORG TABLE ... APPLY (PURGE) rewrites the files without
// their deleted rows; VACUUM keeps live DV files; RESTORE and time travel across DVs; the
// protocol upgrade of ALTER TABLE SET TBLPROPERTIES.
//
// Every DV lake writes is read back here by an independent decoder (DecodeDv below, written
// from PROTOCOL.md "Deletion Vector Format" and the RoaringFormatSpec, calling nothing of
// src/delta), and its rows compared with the positions DuckDB's own read_parquet gives the
// deleted rows (file_row_number), not with anything lake computed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "status_matchers.h"
#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Json = nlohmann::json;

// ---- An independent DV decoder (PROTOCOL.md "Deletion Vector Format") ----

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Z85 (ZeroMQ RFC 32): 5 characters -> 4 bytes, big-endian base 85.
std::string Z85(const std::string& text) {
  static const std::string kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  std::string out;
  for (size_t i = 0; i + 5 <= text.size(); i += 5) {
    uint64_t v = 0;
    for (size_t k = 0; k < 5; ++k) v = v * 85 + kAlphabet.find(text[i + k]);
    for (int b = 3; b >= 0; --b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xFF));
  }
  return out;
}

uint32_t Le(const std::string& b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b.at(at + i));
  return v;
}
uint32_t Be32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(b.at(at + i));
  return v;
}

// CRC-32 (IEEE, reflected polynomial 0xEDB88320), bit by bit.
uint32_t Crc(const std::string& data) {
  uint32_t c = 0xFFFFFFFF;
  for (unsigned char byte : data) {
    c ^= byte;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320 & (0 - (c & 1)));
  }
  return ~c;
}

// The rows of a serialized RoaringBitmapArray (portable): magic 1681511377, u64 bucket count,
// per bucket u32 key + a portable 32-bit Roaring bitmap.
std::vector<uint64_t> DecodeBitmapArray(const std::string& b) {
  EXPECT_EQ(Le(b, 0, 4), 1681511377u);
  const uint64_t buckets = Le(b, 4, 4) | uint64_t{Le(b, 8, 4)} << 32;
  size_t pos = 12;
  std::vector<uint64_t> rows;
  for (uint64_t k = 0; k < buckets; ++k) {
    const uint64_t high = uint64_t{Le(b, pos, 4)} << 32;
    pos += 4;
    const uint32_t cookie = Le(b, pos, 4);
    pos += 4;
    const bool runs = (cookie & 0xFFFF) == 12347;
    uint32_t n;
    std::string run_bits;
    if (runs) {
      n = (cookie >> 16) + 1;
      run_bits = b.substr(pos, (n + 7) / 8);
      pos += (n + 7) / 8;
    } else {
      EXPECT_EQ(cookie, 12346u);
      n = Le(b, pos, 4);
      pos += 4;
    }
    std::vector<std::pair<uint32_t, uint32_t>> headers;  // key, cardinality
    for (uint32_t i = 0; i < n; ++i, pos += 4) headers.emplace_back(Le(b, pos, 2), Le(b, pos + 2, 2) + 1);
    if (!runs || n >= 4) pos += 4 * n;  // offsets
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t base = high | headers[i].first << 16;
      const uint32_t card = headers[i].second;
      if (runs && (static_cast<unsigned char>(run_bits[i / 8]) >> (i % 8) & 1)) {
        const uint32_t count = Le(b, pos, 2);
        pos += 2;
        for (uint32_t r = 0; r < count; ++r, pos += 4) {
          for (uint32_t v = Le(b, pos, 2); v <= Le(b, pos, 2) + Le(b, pos + 2, 2); ++v) {
            rows.push_back(base | v);
          }
        }
      } else if (card > 4096) {
        for (uint32_t bit = 0; bit < 65536; ++bit) {
          if (static_cast<unsigned char>(b.at(pos + bit / 8)) >> (bit % 8) & 1) rows.push_back(base | bit);
        }
        pos += 8192;
      } else {
        for (uint32_t v = 0; v < card; ++v, pos += 2) rows.push_back(base | Le(b, pos, 2));
      }
    }
  }
  EXPECT_EQ(pos, b.size());
  return rows;
}

// The rows of the DV `dv` (a deletionVector JSON object) of a table at `table_dir`.
std::vector<uint64_t> DecodeDv(const fs::path& table_dir, const Json& dv) {
  const std::string type = dv["storageType"];
  const std::string text = dv["pathOrInlineDv"];
  const int size = dv["sizeInBytes"];
  std::string bitmap;
  if (type == "i") {
    bitmap = Z85(text).substr(0, size);
  } else {
    EXPECT_EQ(type, "u");
    const std::string id = Z85(text.substr(text.size() - 20));
    std::string uuid;
    static const char* kHex = "0123456789abcdef";
    for (size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) uuid += '-';
      uuid += kHex[static_cast<unsigned char>(id[i]) >> 4];
      uuid += kHex[static_cast<unsigned char>(id[i]) & 15];
    }
    const std::string prefix = text.substr(0, text.size() - 20);
    const fs::path file = table_dir / (prefix.empty() ? "" : prefix) /
                          ("deletion_vector_" + uuid + ".bin");
    const std::string bytes = ReadAll(file);
    EXPECT_FALSE(bytes.empty()) << file;
    if (bytes.empty()) return {};
    EXPECT_EQ(bytes[0], 1) << "format version";
    const size_t offset = dv["offset"].get<size_t>();
    EXPECT_EQ(Be32(bytes, offset), static_cast<uint32_t>(size));
    bitmap = bytes.substr(offset + 4, size);
    EXPECT_EQ(Be32(bytes, offset + 4 + size), Crc(bitmap)) << "CRC-32 of " << file;
  }
  std::vector<uint64_t> rows = DecodeBitmapArray(bitmap);
  EXPECT_EQ(static_cast<int64_t>(rows.size()), dv["cardinality"].get<int64_t>());
  return rows;
}

class DvTest : public testing::TempLakehouse<> {
 protected:
  DvTest() : TempLakehouse("dv") {}

  void SetUp() override {
    TempLakehouse::SetUp();
    Exec("SET threads = 1");  // one INSERT, one data file
  }

  void Exec(const std::string& sql) {
    auto r = Query(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status();
  }

  // Creates t (id BIGINT, s STRING) with DVs enabled and 100 rows in one file (version 1).
  std::string CreateDvTable(const std::string& name = "t", int rows = 100) {
    const std::string location = (root_ / "data" / name).string();
    Exec("CREATE TABLE " + name + " (id BIGINT, s STRING) USING DELTA LOCATION '" + location +
         "' TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')");
    Exec("INSERT INTO " + name + " SELECT i, 's' || i FROM range(" + std::to_string(rows) +
         ") r(i)");
    return location;
  }

  // The physical positions (file_row_number) of the rows of data file `path` (relative to
  // `location`) that match `where`, read by DuckDB's own Parquet reader.
  std::vector<uint64_t> Positions(const std::string& location, const std::string& path,
                                  const std::string& where) {
    std::vector<uint64_t> out;
    for (const std::string& r :
         Rows("SELECT file_row_number FROM read_parquet('" + location + "/" + path +
              "', file_row_number = true) WHERE " + where + " ORDER BY 1")) {
      out.push_back(std::stoull(r));
    }
    return out;
  }

  static std::vector<uint64_t> Union(std::vector<uint64_t> a, const std::vector<uint64_t>& b) {
    std::set<uint64_t> s(a.begin(), a.end());
    s.insert(b.begin(), b.end());
    return {s.begin(), s.end()};
  }
  static int64_t Metric(const Json& info, const std::string& key) {
    if (!info["operationMetrics"].contains(key)) {
      ADD_FAILURE() << "no metric " << key << " in " << info.dump();
      return -1;
    }
    return std::stoll(info["operationMetrics"][key].get<std::string>());
  }
  static int64_t DataFiles(const std::string& location) {
    int64_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(location)) {
      if (e.path().extension() == ".parquet" &&
          e.path().string().find("_delta_log") == std::string::npos) {
        ++n;
      }
    }
    return n;
  }
};

TEST_F(DvTest, DeleteMarksRowsInADeletionVectorFile) {
  const std::string location = CreateDvTable();
  auto v1_adds = Of(Actions(location, 1), "add");
  ASSERT_EQ(v1_adds.size(), 1u);
  const std::string path = v1_adds[0]["path"];

  EXPECT_EQ(One("DELETE FROM t WHERE id % 3 = 0"), "34");  // 0, 3, ..., 99
  EXPECT_EQ(One("SELECT count(*) FROM t"), "66");
  EXPECT_EQ(One("SELECT count(*) FROM t WHERE id % 3 = 0"), "0");
  EXPECT_EQ(One("SELECT sum(id) FROM t"), std::to_string(4950 - 3 * (33 * 34 / 2)));

  auto actions = Actions(location, 2);
  auto removes = Of(actions, "remove");
  auto adds = Of(actions, "add");
  ASSERT_EQ(removes.size(), 1u);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(removes[0]["path"], path);
  EXPECT_FALSE(removes[0].contains("deletionVector") && !removes[0]["deletionVector"].is_null());
  EXPECT_EQ(adds[0]["path"], path);  // the same file, now with a DV
  EXPECT_EQ(adds[0]["dataChange"], true);
  const Json& dv = adds[0]["deletionVector"];
  EXPECT_EQ(dv["storageType"], "u");  // 34 scattered rows: 32 + 68 bytes, not inline
  EXPECT_EQ(dv["offset"], 1);
  EXPECT_EQ(dv["cardinality"], 34);
  EXPECT_EQ(DecodeDv(location, dv), Positions(location, path, "id % 3 = 0"));
  Json stats = Json::parse(adds[0]["stats"].get<std::string>());
  EXPECT_EQ(stats["numRecords"], 100);  // physical rows (PROTOCOL.md)
  EXPECT_EQ(stats["tightBounds"], false);
  EXPECT_EQ(stats["minValues"]["id"], 0);

  const Json info = CommitInfo(location, 2);
  EXPECT_EQ(info["operation"], "DELETE");
  EXPECT_EQ(Metric(info, "numDeletedRows"), 34);
  EXPECT_EQ(Metric(info, "numRemovedFiles"), 0);
  EXPECT_EQ(Metric(info, "numAddedFiles"), 0);
  EXPECT_EQ(Metric(info, "numCopiedRows"), 0);
  EXPECT_EQ(Metric(info, "numRemovedBytes"), 0);
  EXPECT_EQ(Metric(info, "numAddedBytes"), 0);
  EXPECT_EQ(Metric(info, "numDeletionVectorsAdded"), 1);
  EXPECT_EQ(Metric(info, "numDeletionVectorsRemoved"), 0);
  EXPECT_EQ(Metric(info, "numDeletionVectorsUpdated"), 0);
  EXPECT_EQ(DataFiles(location), 1);  // nothing rewritten
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(DvTest, SecondDeleteOnTheFileCombinesTheVectors) {
  const std::string location = CreateDvTable();
  const std::string path = Of(Actions(location, 1), "add")[0]["path"];
  ASSERT_EQ(One("DELETE FROM t WHERE id % 3 = 0"), "34");
  // Multiples of 5 that are not multiples of 3: 20 - 7 (0, 15, ..., 90) = 13.
  EXPECT_EQ(One("DELETE FROM t WHERE id % 5 = 0"), "13");
  EXPECT_EQ(One("SELECT count(*) FROM t"), "53");

  auto actions = Actions(location, 3);
  auto removes = Of(actions, "remove");
  auto adds = Of(actions, "add");
  ASSERT_EQ(removes.size(), 1u);
  ASSERT_EQ(adds.size(), 1u);
  // The remove names the old DV, so the logical file (path, DV) it removes is the live one.
  EXPECT_EQ(removes[0]["deletionVector"], Of(Actions(location, 2), "add")[0]["deletionVector"]);
  EXPECT_EQ(adds[0]["deletionVector"]["cardinality"], 47);
  EXPECT_EQ(DecodeDv(location, adds[0]["deletionVector"]),
            Union(Positions(location, path, "id % 3 = 0"), Positions(location, path, "id % 5 = 0")));
  const Json info = CommitInfo(location, 3);
  EXPECT_EQ(Metric(info, "numDeletedRows"), 13);
  EXPECT_EQ(Metric(info, "numDeletionVectorsAdded"), 1);
  EXPECT_EQ(Metric(info, "numDeletionVectorsRemoved"), 1);
  EXPECT_EQ(Metric(info, "numDeletionVectorsUpdated"), 1);
  // Time travel to before each DV.
  EXPECT_EQ(One("SELECT count(*) FROM t VERSION AS OF 1"), "100");
  EXPECT_EQ(One("SELECT count(*) FROM t VERSION AS OF 2"), "66");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(DvTest, SmallVectorsAreInline) {
  const std::string location = CreateDvTable();
  const std::string path = Of(Actions(location, 1), "add")[0]["path"];
  EXPECT_EQ(One("DELETE FROM t WHERE id IN (7, 42)"), "2");
  auto adds = Of(Actions(location, 2), "add");
  ASSERT_EQ(adds.size(), 1u);
  const Json& dv = adds[0]["deletionVector"];
  EXPECT_EQ(dv["storageType"], "i");
  EXPECT_EQ(dv["sizeInBytes"], 36);  // 32 + 2 values of 2 bytes
  EXPECT_FALSE(dv.contains("offset") && !dv["offset"].is_null());
  EXPECT_EQ(DecodeDv(location, dv), Positions(location, path, "id IN (7, 42)"));
  EXPECT_EQ(One("SELECT count(*) FROM t"), "98");
  int64_t dv_files = 0;
  for (const auto& e : fs::directory_iterator(location)) {
    dv_files += e.path().filename().string().starts_with("deletion_vector_");
  }
  EXPECT_EQ(dv_files, 0);
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(DvTest, DeletingTheLastRowsOfAFileRemovesItWhole) {
  const std::string location = CreateDvTable();
  ASSERT_EQ(One("DELETE FROM t WHERE id >= 10"), "90");
  EXPECT_EQ(One("DELETE FROM t WHERE id < 10"), "10");
  auto actions = Actions(location, 3);
  EXPECT_THAT(Of(actions, "add"), IsEmpty());
  ASSERT_EQ(Of(actions, "remove").size(), 1u);
  EXPECT_EQ(Of(actions, "remove")[0]["deletionVector"]["cardinality"], 90);
  const Json info = CommitInfo(location, 3);
  EXPECT_EQ(Metric(info, "numRemovedFiles"), 1);
  EXPECT_EQ(Metric(info, "numDeletionVectorsAdded"), 0);
  EXPECT_EQ(Metric(info, "numDeletionVectorsRemoved"), 1);
  EXPECT_EQ(One("SELECT count(*) FROM t"), "0");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(DvTest, UpdateMarksTheOldRowsAndWritesOnlyTheNewOnes) {
  const std::string location = CreateDvTable();
  const std::string path = Of(Actions(location, 1), "add")[0]["path"];
  EXPECT_EQ(One("UPDATE t SET s = 'x' WHERE id < 30"), "30");
  EXPECT_EQ(One("SELECT count(*) FROM t"), "100");
  EXPECT_EQ(One("SELECT count(*) FROM t WHERE s = 'x'"), "30");
  EXPECT_EQ(One("SELECT count(*) FROM t WHERE s = 's' || id"), "70");
  auto actions = Actions(location, 2);
  auto adds = Of(actions, "add");
  ASSERT_EQ(adds.size(), 2u);
  ASSERT_EQ(Of(actions, "remove").size(), 1u);
  const Json& marked = adds[0]["path"] == path ? adds[0] : adds[1];
  const Json& written = adds[0]["path"] == path ? adds[1] : adds[0];
  ASSERT_EQ(marked["path"], path);
  // Rows 0..29: consecutive positions, one run container: 32 + 6 bytes, inline.
  EXPECT_EQ(DecodeDv(location, marked["deletionVector"]), Positions(location, path, "id < 30"));
  EXPECT_FALSE(written.contains("deletionVector") && !written["deletionVector"].is_null());
  EXPECT_EQ(Json::parse(written["stats"].get<std::string>())["numRecords"], 30);
  const Json info = CommitInfo(location, 2);
  EXPECT_EQ(info["operation"], "UPDATE");
  EXPECT_EQ(Metric(info, "numUpdatedRows"), 30);
  EXPECT_EQ(Metric(info, "numCopiedRows"), 0);
  EXPECT_EQ(Metric(info, "numAddedFiles"), 1);
  EXPECT_EQ(Metric(info, "numRemovedFiles"), 1);
  EXPECT_EQ(Metric(info, "numDeletionVectorsAdded"), 1);
  EXPECT_EQ(DataFiles(location), 2);
  // A second UPDATE of the same file combines its DV.
  EXPECT_EQ(One("UPDATE t SET s = 'y' WHERE id >= 95"), "5");
  for (const Json& add : Of(Actions(location, 3), "add")) {
    if (add["path"] == path) {
      EXPECT_EQ(DecodeDv(location, add["deletionVector"]),
                Positions(location, path, "id < 30 OR id >= 95"));
    }
  }
  EXPECT_THAT(Rows("SELECT s, count(*) FROM t GROUP BY s HAVING count(*) > 1 ORDER BY s"),
              ElementsAre("x|30", "y|5"));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(DvTest, ReorgPurgeRewritesFilesWithVectors) {
  const std::string location = CreateDvTable();
  Exec("INSERT INTO t VALUES (1000, 'other file')");  // no DV: not rewritten
  ASSERT_EQ(One("DELETE FROM t WHERE id % 3 = 0 AND id < 100"), "34");
  const std::vector<std::string> before = Rows("SELECT * FROM t ORDER BY id");
  auto r = Query("REORG TABLE t APPLY (PURGE)");
  ASSERT_TRUE(r.ok()) << r.status();
  auto actions = Actions(location, 4);
  auto removes = Of(actions, "remove");
  auto adds = Of(actions, "add");
  ASSERT_EQ(removes.size(), 1u);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(removes[0]["deletionVector"]["cardinality"], 34);
  EXPECT_EQ(removes[0]["dataChange"], false);
  EXPECT_EQ(adds[0]["dataChange"], false);
  EXPECT_FALSE(adds[0].contains("deletionVector") && !adds[0]["deletionVector"].is_null());
  EXPECT_EQ(Json::parse(adds[0]["stats"].get<std::string>())["numRecords"], 66);
  const Json info = CommitInfo(location, 4);
  EXPECT_EQ(info["operation"], "REORG");
  EXPECT_EQ(info["operationParameters"]["applyPurge"], true);
  EXPECT_EQ(info["operationParameters"]["predicate"], "[]");
  EXPECT_EQ(Metric(info, "numDeletionVectorsRemoved"), 1);
  EXPECT_EQ(Rows("SELECT * FROM t ORDER BY id"), before);
  // Nothing left to purge: no commit.
  ASSERT_OK(Query("REORG TABLE delta.`" + location + "` APPLY (PURGE)").status());
  EXPECT_FALSE(HasCommit(location, 5));
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(DvTest, ReorgParsesWhereAndRefusesWhatItCannotDo) {
  const std::string location = (root_ / "data" / "p").string();
  Exec("CREATE TABLE p (id BIGINT, part STRING) USING DELTA PARTITIONED BY (part) LOCATION '" +
       location + "' TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')");
  Exec("INSERT INTO p SELECT i, 'a' || (i % 2) FROM range(40) r(i)");
  ASSERT_EQ(One("DELETE FROM p WHERE id % 4 < 2"), "20");  // rows in both partitions
  auto r = Query("REORG TABLE p WHERE part = 'a0' APPLY (PURGE)");
  ASSERT_TRUE(r.ok()) << r.status();
  const int64_t version = std::stoll(One("SELECT max(version) FROM delta_history('" + location + "')"));
  auto adds = Of(Actions(location, static_cast<int>(version)), "add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]["partitionValues"]["part"], "a0");
  EXPECT_EQ(CommitInfo(location, static_cast<int>(version))["operationParameters"]["predicate"],
            "[\"part = 'a0'\"]");
  EXPECT_EQ(One("SELECT count(*) FROM p"), "20");
  auto upgrade = Query("REORG TABLE p APPLY (UPGRADE UNIFORM(ICEBERG_COMPAT_VERSION = 2))");
  ASSERT_FALSE(upgrade.ok());
  EXPECT_THAT(upgrade.status().message(), HasSubstr("not supported"));
  auto bad = Query("REORG TABLE p APPLY PURGE");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'(' after APPLY"));
}

TEST_F(DvTest, VacuumKeepsLiveVectorFilesAndDeletesUnreferencedOnes) {
  const std::string location = CreateDvTable();
  ASSERT_EQ(One("DELETE FROM t WHERE id % 3 = 0"), "34");
  const Json first = Of(Actions(location, 2), "add")[0]["deletionVector"];
  ASSERT_EQ(One("DELETE FROM t WHERE id % 5 = 0"), "13");
  const Json second = Of(Actions(location, 3), "add")[0]["deletionVector"];
  ASSERT_EQ(first["storageType"], "u");
  ASSERT_EQ(second["storageType"], "u");
  ASSERT_NE(first["pathOrInlineDv"], second["pathOrInlineDv"]);
  Exec("SET lake.vacuum.retentionCheck = false");
  ASSERT_OK(Query("VACUUM t RETAIN 0 HOURS").status());
  // The first DV file only a tombstone named; the second one is live.
  int64_t dv_files = 0;
  for (const auto& e : fs::directory_iterator(location)) {
    dv_files += e.path().filename().string().starts_with("deletion_vector_");
  }
  EXPECT_EQ(dv_files, 1);
  EXPECT_EQ(One("SELECT count(*) FROM t"), "53");
  EXPECT_EQ(DecodeDv(location, second).size(), 47u);
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(DvTest, RestoreToAVersionWithAVector) {
  const std::string location = CreateDvTable();
  ASSERT_EQ(One("DELETE FROM t WHERE id % 3 = 0"), "34");  // v2
  ASSERT_OK(Query("REORG TABLE t APPLY (PURGE)").status());  // v3
  ASSERT_OK(Query("DELETE FROM t WHERE id < 50").status());  // v4
  ASSERT_OK(Query("RESTORE TABLE t TO VERSION AS OF 2").status());
  EXPECT_EQ(One("SELECT count(*) FROM t"), "66");
  EXPECT_EQ(One("SELECT count(*) FROM t WHERE id % 3 = 0"), "0");
  auto adds = Of(Actions(location, 5), "add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]["deletionVector"]["cardinality"], 34);
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(DvTest, AlterTableEnablesVectorsAndUpgradesTheProtocol) {
  const std::string location = (root_ / "data" / "plain").string();
  Exec("CREATE TABLE plain (id BIGINT) USING DELTA LOCATION '" + location + "'");
  Exec("INSERT INTO plain SELECT i FROM range(50) r(i)");
  ASSERT_EQ(One("DELETE FROM plain WHERE id < 20"), "20");  // copy-on-write
  EXPECT_FALSE(Of(Actions(location, 2), "add")[0].contains("deletionVector"));
  Exec("ALTER TABLE plain SET TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')");
  auto protocols = Of(Actions(location, 3), "protocol");
  ASSERT_EQ(protocols.size(), 1u);
  EXPECT_EQ(protocols[0]["minReaderVersion"], 3);
  EXPECT_EQ(protocols[0]["minWriterVersion"], 7);
  EXPECT_THAT(protocols[0]["readerFeatures"].get<std::vector<std::string>>(),
              ::testing::Contains("deletionVectors"));
  EXPECT_THAT(protocols[0]["writerFeatures"].get<std::vector<std::string>>(),
              ::testing::Contains("deletionVectors"));
  ASSERT_EQ(One("DELETE FROM plain WHERE id = 30"), "1");
  auto adds = Of(Actions(location, 4), "add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]["deletionVector"]["cardinality"], 1);
  EXPECT_EQ(One("SELECT count(*) FROM plain"), "29");
  EXPECT_THAT(Validate(location), IsEmpty());
}

TEST_F(DvTest, ConcurrentDeletesOfOneFileConflict) {
  CreateDvTable();
  auto other = house_->database().Connect();
  ASSERT_TRUE(other.ok()) << other.status();
  Exec("BEGIN");
  ASSERT_EQ(One("DELETE FROM t WHERE id = 1"), "1");
  ASSERT_OK((*other)->Query("DELETE FROM t WHERE id = 2").status());  // commits first
  auto r = Query("COMMIT");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_EQ(One("SELECT count(*) FROM t"), "99");
  EXPECT_EQ(One("SELECT count(*) FROM t WHERE id = 1"), "1");
}

// A copy of a table Spark wrote with a DV on one of its two files (ids 0..9; 0 and 1
// deleted): lake's DELETE combines with Spark's vector and adds one to the other file.
TEST_F(DvTest, DeleteOnACopyOfASparkDvTable) {
  const std::string location = (root_ / "data" / "spark").string();
  fs::copy(std::string(LAKE_CONFORMANCE_DIR) + "/delta-kernel-java/basic-dv-no-checkpoint",
           location, fs::copy_options::recursive);
  // DML names tables (the catalog plans DELETE); register the copy.
  Exec("CREATE TABLE spark USING DELTA LOCATION '" + location + "'");
  const std::string table = "spark";
  ASSERT_THAT(Rows("SELECT id FROM " + table + " ORDER BY id"),
              ElementsAre("2", "3", "4", "5", "6", "7", "8", "9"));
  EXPECT_EQ(One("DELETE FROM " + table + " WHERE id IN (2, 3, 7)"), "3");
  EXPECT_THAT(Rows("SELECT id FROM " + table + " ORDER BY id"),
              ElementsAre("4", "5", "6", "8", "9"));
  ASSERT_EQ(One("SELECT max(version) FROM delta_history('" + location + "')"), "2");
  auto actions = Actions(location, 2);
  auto adds = Of(actions, "add");
  ASSERT_EQ(adds.size(), 2u);
  EXPECT_EQ(Of(actions, "remove").size(), 2u);
  for (const Json& add : adds) {
    const std::string path = add["path"];
    // Spark's vector of the first file (ids 0, 1) is in the union.
    EXPECT_EQ(DecodeDv(location, add["deletionVector"]),
              Positions(location, path, "id IN (0, 1, 2, 3, 7)"))
        << path;
    EXPECT_EQ(Json::parse(add["stats"].get<std::string>())["tightBounds"], false);
  }
  EXPECT_EQ(One("SELECT count(*) FROM " + table + " VERSION AS OF 1"), "8");
  EXPECT_THAT(Validate(location), IsEmpty());
}

}  // namespace
}  // namespace lake::sql
