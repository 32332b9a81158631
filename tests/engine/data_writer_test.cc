// WriteDataFiles end to end: files on disk read back by plain DuckDB read_parquet (an
// independent reader of what was written), Parquet physical types from parquet_schema(),
// partition folders and values, stats, refusals; and a Delta table made of the adds (log
// written by hand with SerializeJsonActions) read and pruned by delta_scan. Expected values
// are derived by hand from the inputs.
#include "engine/data_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/strings.h"
#include "delta/log_parser.h"
#include "delta/schema.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "engine/delta_engine.h"
#include "sql_test_util.h"
#include "status_matchers.h"
#include "storage/object_store.h"

namespace lake::engine {
namespace {

namespace fs = std::filesystem;

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A schema from its Delta JSON fields, as a table's metaData.schemaString would hold it.
delta::Schema MakeSchema(const std::string& fields_json) {
  auto schema = delta::ParseSchema("{\"type\":\"struct\",\"fields\":[" + fields_json + "]}");
  EXPECT_TRUE(schema.ok()) << schema.status();
  return schema.ok() ? *schema : delta::Schema{};
}

std::string Field(const std::string& name, const std::string& type, bool nullable = true,
                  const std::string& metadata = "{}") {
  return "{\"name\":\"" + name + "\",\"type\":" + type +
         ",\"nullable\":" + (nullable ? "true" : "false") + ",\"metadata\":" + metadata + "}";
}
std::string Q(const std::string& s) { return "\"" + s + "\""; }

class DataWriterTest : public testing::SqlTest {
 protected:
  void SetUp() override {
    SqlTest::SetUp();
    char tmpl[] = "/tmp/lake-writer-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Root(const std::string& name) { return dir_ + "/" + name; }

  // Data files under `root` (recursively), excluding _delta_log.
  static std::set<std::string> ParquetFiles(const std::string& root) {
    std::set<std::string> out;
    if (!fs::exists(root)) return out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.is_regular_file() && e.path().extension() == ".parquet") out.insert(e.path().string());
    }
    return out;
  }

  // read_parquet over the files the adds name (paths decoded once, as a reader does).
  static std::string ReadAdds(const std::string& root, const std::vector<delta::AddFile>& adds) {
    std::vector<std::string> files;
    for (const auto& add : adds) files.push_back(SqlQuote(root + "/" + PercentDecode(add.path)));
    return "read_parquet([" + StrJoin(files, ", ") + "], hive_partitioning = false)";
  }

  // Rows of `a` not in `b` plus rows of `b` not in `a` (multiset difference): 0 iff equal.
  int64_t Difference(const std::string& a, const std::string& b) {
    return QueryInt("SELECT count(*) FROM ((SELECT * FROM " + a + " EXCEPT ALL SELECT * FROM " + b +
                    ") UNION ALL (SELECT * FROM " + b + " EXCEPT ALL SELECT * FROM " + a + "))");
  }

  // Writes version 0 of a Delta table at `root` naming `adds`.
  void Commit(const std::string& root, const std::string& schema_string,
              std::vector<std::string> partition_columns, const std::vector<delta::AddFile>& adds,
              std::map<std::string, std::string> configuration = {},
              delta::Protocol protocol = {}) {
    delta::ActionBatch batch;
    batch.protocols.push_back(protocol);
    delta::Metadata metadata;
    metadata.id = "00000000-0000-0000-0000-000000000001";
    metadata.schema_string = schema_string;
    metadata.partition_columns = std::move(partition_columns);
    metadata.configuration = std::move(configuration);
    metadata.created_time = 1700000000000;
    batch.metadata.push_back(metadata);
    batch.adds = adds;
    fs::create_directories(root + "/_delta_log");
    std::ofstream(root + "/_delta_log/00000000000000000000.json")
        << delta::SerializeJsonActions(batch);
  }

  std::string dir_;
};

// ---- Type mapping ----

TEST(DataWriterTypes, DeltaTypesMapToTheDuckDbTypesSparkReads) {
  auto type = [](const std::string& json, std::string_view mode = "none") -> std::string {
    delta::Schema s =
        MakeSchema(Field("c", json, true, "{\"delta.columnMapping.physicalName\":\"col-c\"}"));
    if (s.fields.empty()) return "bad schema";
    auto t = DuckDbTypeFor(s.fields[0].type, mode);
    return t.ok() ? *t : "error: " + t.status().ToString();
  };
  EXPECT_EQ(type(Q("string")), "VARCHAR");
  EXPECT_EQ(type(Q("long")), "BIGINT");
  EXPECT_EQ(type(Q("integer")), "INTEGER");
  EXPECT_EQ(type(Q("short")), "SMALLINT");
  EXPECT_EQ(type(Q("byte")), "TINYINT");
  EXPECT_EQ(type(Q("float")), "FLOAT");
  EXPECT_EQ(type(Q("double")), "DOUBLE");
  EXPECT_EQ(type(Q("decimal(38,10)")), "DECIMAL(38,10)");
  EXPECT_EQ(type(Q("boolean")), "BOOLEAN");
  EXPECT_EQ(type(Q("binary")), "BLOB");
  EXPECT_EQ(type(Q("date")), "DATE");
  EXPECT_EQ(type(Q("timestamp")), "TIMESTAMPTZ");
  EXPECT_EQ(type(Q("timestamp_ntz")), "TIMESTAMP");
  EXPECT_EQ(type("{\"type\":\"array\",\"elementType\":\"integer\",\"containsNull\":true}"),
            "INTEGER[]");
  EXPECT_EQ(type("{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"double\","
                 "\"valueContainsNull\":true}"),
            "MAP(VARCHAR, DOUBLE)");
  const std::string nested =
      "{\"type\":\"struct\",\"fields\":[" +
      Field("a b", Q("long"), true, "{\"delta.columnMapping.physicalName\":\"col-ab\"}") + "," +
      Field("q\\\"", Q("timestamp"), true, "{\"delta.columnMapping.physicalName\":\"col-q\"}") +
      "]}";
  EXPECT_EQ(type(nested), "STRUCT(\"a b\" BIGINT, \"q\"\"\" TIMESTAMPTZ)");
  EXPECT_EQ(type(nested, "name"), "STRUCT(\"col-ab\" BIGINT, \"col-q\" TIMESTAMPTZ)");
  EXPECT_NE(type(Q("void")).find("NOT_SUPPORTED"), std::string::npos) << type(Q("void"));
  EXPECT_NE(type(Q("long"), "bogus").find("INVALID_ARGUMENT"), std::string::npos);
}

TEST_F(DataWriterTest, QueryTypesMapToDeltaTypesWithConversionsNamed) {
  ASSERT_OK_AND_ASSIGN(
      QuerySchema qs,
      DeltaSchemaOfQuery(
          *session_,
          "SELECT 1::TINYINT AS a, 2::UBIGINT AS b, uuid() AS u, "
          "'x'::ENUM('x', 'y') AS e, TIMESTAMP_NS '2024-01-01 00:00:00.123456789' AS tn, "
          "{'k': 1::UTINYINT, 'v': 'z'} AS s, [1::INT] AS l, "
          "MAP {'a': 1.5::DECIMAL(4,1)} AS m, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS tz, "
          "TIMESTAMP '2024-01-01' AS t, DATE '2024-01-01' AS d, 'x'::BLOB AS bl, "
          "true AS bo, 1.5::FLOAT AS f, 2.5::DOUBLE AS db, 3::SMALLINT AS sm, "
          "4::BIGINT AS bi, 'str' AS str"));
  std::vector<std::string> types;
  for (const auto& f : qs.schema.fields) types.push_back(f.name + ":" + f.type.ToString());
  EXPECT_EQ(StrJoin(types, " "),
            "a:byte b:decimal(20,0) u:string e:string tn:timestamp_ntz "
            "s:struct<k:short,v:string> l:array<integer> m:map<string,decimal(4,1)> "
            "tz:timestamp t:timestamp_ntz d:date bl:binary bo:boolean f:float db:double sm:short "
            "bi:long str:string");
  std::string notes = StrJoin(qs.conversions, "\n");
  for (const char* expected :
       {"b: UBIGINT is written as decimal(20,0)", "u: UUID is written as string", "e: ENUM",
        "tn: TIMESTAMP_NS is written as timestamp_ntz", "s.k: UTINYINT is written as short"}) {
    EXPECT_NE(notes.find(expected), std::string::npos) << expected << " not in\n" << notes;
  }
  EXPECT_EQ(qs.conversions.size(), 5u) << notes;
}

TEST_F(DataWriterTest, HugeintAndOtherTypesSparkCannotReadAreRefusedByName) {
  auto qs =
      DeltaSchemaOfQuery(*session_,
                         "SELECT 1::HUGEINT AS big, TIME '10:00:00' AS t, INTERVAL 1 DAY AS i, "
                         "2 AS ok, union_value(k := 1) AS un, [1::UHUGEINT] AS ul");
  ASSERT_FALSE(qs.ok());
  EXPECT_EQ(qs.status().code(), StatusCode::kNotSupported);
  const std::string& msg = qs.status().message();
  for (const char* expected : {"big (HUGEINT)", "lossy DOUBLE", "t (TIME)", "i (INTERVAL)",
                               "un (UNION", "ul.element (UHUGEINT)"}) {
    EXPECT_NE(msg.find(expected), std::string::npos) << expected << " not in: " << msg;
  }
  EXPECT_EQ(msg.find("ok"), std::string::npos) << msg;
  EXPECT_FALSE(qs.status().hint().empty());

  // (A query's duplicate names are renamed by DuckDB's subquery; a NULL literal is typed
  // INTEGER by DuckDB. Both reach DeltaSchemaFor only as result columns built by hand.)
  ColumnType integer;
  integer.kind = ColumnType::Kind::kInteger;
  integer.name = "INTEGER";
  ColumnType null_type;
  null_type.name = "NULL";
  auto dup = DeltaSchemaFor({{"a", integer}, {"A", integer}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  auto void_column = DeltaSchemaFor({{"n", null_type}});
  ASSERT_FALSE(void_column.ok());
  EXPECT_NE(void_column.status().message().find("n (NULL)"), std::string::npos)
      << void_column.status();
}

// ---- Writing ----

constexpr const char* kAllTypesQuery = R"(
  SELECT i::BIGINT AS id, i::INTEGER AS i32, i::SMALLINT AS i16, (i % 100)::TINYINT AS i8,
         CASE WHEN i = 2 THEN NULL ELSE 'name-' || i END AS s,
         (i * 1.25)::FLOAT AS f, (i / 3)::DOUBLE AS d, i % 2 = 0 AS b,
         (i * 1.5)::DECIMAL(5,2) AS dec5, (i * 1.5)::DECIMAL(12,3) AS dec12,
         (i * 1.5)::DECIMAL(38,10) AS dec38,
         DATE '2024-01-01' + i::INT AS dt,
         TIMESTAMPTZ '2024-01-01 00:00:00.123456+00' + to_seconds(i) AS ts,
         TIMESTAMP '2024-01-01 00:00:00.5' + to_seconds(i) AS ntz,
         ('bin' || i)::BLOB AS bin,
         {'a': i::INTEGER, 'b': 'x' || i} AS st,
         [i, i + 1] AS arr,
         MAP {'k' || i: i::DOUBLE} AS m
  FROM range(5) t(i))";

std::string AllTypesSchema() {
  return Field("id", Q("long")) + "," + Field("i32", Q("integer")) + "," +
         Field("i16", Q("short")) + "," + Field("i8", Q("byte")) + "," + Field("s", Q("string")) +
         "," + Field("f", Q("float")) + "," + Field("d", Q("double")) + "," +
         Field("b", Q("boolean")) + "," + Field("dec5", Q("decimal(5,2)")) + "," +
         Field("dec12", Q("decimal(12,3)")) + "," + Field("dec38", Q("decimal(38,10)")) + "," +
         Field("dt", Q("date")) + "," + Field("ts", Q("timestamp")) + "," +
         Field("ntz", Q("timestamp_ntz")) + "," + Field("bin", Q("binary")) + "," +
         Field("st", "{\"type\":\"struct\",\"fields\":[" + Field("a", Q("integer")) + "," +
                         Field("b", Q("string")) + "]}") +
         "," + Field("arr", "{\"type\":\"array\",\"elementType\":\"long\",\"containsNull\":true}") +
         "," +
         Field("m",
               "{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"double\","
               "\"valueContainsNull\":true}");
}

TEST_F(DataWriterTest, WritesEveryTypeSoThatPlainParquetReadsTheSameRows) {
  delta::Schema schema = MakeSchema(AllTypesSchema());
  const std::string root = Root("all");
  ASSERT_OK_AND_ASSIGN(auto adds, WriteDataFiles(*session_, kAllTypesQuery, root, schema, {}));
  ASSERT_EQ(adds.size(), 1u);
  const delta::AddFile& add = adds[0];
  EXPECT_TRUE(StartsWith(add.path, "part-")) << add.path;
  EXPECT_TRUE(EndsWith(add.path, ".snappy.parquet")) << add.path;
  EXPECT_EQ(add.size, static_cast<int64_t>(fs::file_size(root + "/" + add.path)));
  EXPECT_GT(add.modification_time, 1700000000000);
  EXPECT_TRUE(add.data_change);
  EXPECT_TRUE(add.partition_values.empty());

  // The rows, read by DuckDB's own Parquet reader with no help from lake.
  EXPECT_EQ(Difference("(" + std::string(kAllTypesQuery) + ")", ReadAdds(root, {add})), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM " + ReadAdds(root, adds)), 5);

  // Spark-compatible physical types.
  auto physical = Query(
      "SELECT name, type, converted_type, logical_type, precision, scale "
      "FROM parquet_schema(" +
      SqlQuote(root + "/" + add.path) + ")");
  ASSERT_TRUE(physical.ok()) << physical.status();
  std::map<std::string, std::vector<std::string>> by_name;
  for (const auto& row : physical->rows) {
    std::vector<std::string> cells;
    for (size_t c = 1; c < row.size(); ++c) {
      const Value& v = row[c];
      cells.push_back(v.is_null() ? ""
                      : std::holds_alternative<std::string>(v.v)
                          ? std::get<std::string>(v.v)
                          : std::to_string(std::get<int64_t>(v.v)));
    }
    by_name[std::get<std::string>(row[0].v)] = cells;
  }
  EXPECT_EQ(by_name["ts"][0], "INT64");
  EXPECT_EQ(by_name["ts"][1], "TIMESTAMP_MICROS");
  EXPECT_NE(by_name["ts"][2].find("isAdjustedToUTC=1"), std::string::npos) << by_name["ts"][2];
  EXPECT_EQ(by_name["ntz"][0], "INT64");
  EXPECT_NE(by_name["ntz"][2].find("isAdjustedToUTC=0"), std::string::npos) << by_name["ntz"][2];
  EXPECT_EQ(by_name["dec5"][0], "INT32");
  EXPECT_EQ(by_name["dec12"][0], "INT64");
  EXPECT_EQ(by_name["dec38"][0], "FIXED_LEN_BYTE_ARRAY");
  EXPECT_EQ(by_name["dec38"][3], "38");
  EXPECT_EQ(by_name["dec38"][4], "10");
  EXPECT_EQ(by_name["i8"][1], "INT_8");
  EXPECT_EQ(by_name["i16"][1], "INT_16");
  EXPECT_EQ(by_name["dt"][1], "DATE");
  EXPECT_EQ(by_name["s"][1], "UTF8");
  EXPECT_EQ(by_name["bin"][0], "BYTE_ARRAY");
  EXPECT_EQ(by_name["bin"][1], "");
  EXPECT_TRUE(by_name.count("element"));    // 3-level list
  EXPECT_TRUE(by_name.count("key_value"));  // standard map

  // Stats by hand: i = 0..4, s NULL at i = 2.
  ASSERT_TRUE(add.stats.has_value());
  nlohmann::json stats = nlohmann::json::parse(*add.stats);
  EXPECT_EQ(stats["numRecords"], 5);
  EXPECT_EQ(stats["minValues"]["id"], 0);
  EXPECT_EQ(stats["maxValues"]["id"], 4);
  EXPECT_EQ(stats["minValues"]["s"], "name-0");
  EXPECT_EQ(stats["maxValues"]["s"], "name-4");
  EXPECT_EQ(stats["nullCount"]["s"], 1);
  // Decimals keep their scale in the JSON text (nlohmann would turn 0.00 into 0.0).
  EXPECT_NE(add.stats->find("\"minValues\":{\"id\":0,\"i32\":0"), std::string::npos) << *add.stats;
  EXPECT_NE(add.stats->find("\"dec5\":0.00,"), std::string::npos) << *add.stats;
  EXPECT_NE(add.stats->find("\"dec5\":6.00,"), std::string::npos) << *add.stats;
  EXPECT_EQ(stats["minValues"]["dt"], "2024-01-01");
  EXPECT_EQ(stats["maxValues"]["dt"], "2024-01-05");
  EXPECT_EQ(stats["minValues"]["ts"], "2024-01-01T00:00:00.123Z");
  EXPECT_EQ(stats["maxValues"]["ts"], "2024-01-01T00:00:04.124Z");  // .123456 rounded up
  EXPECT_EQ(stats["minValues"]["ntz"], "2024-01-01T00:00:00.500");
  EXPECT_EQ(stats["maxValues"]["ntz"], "2024-01-01T00:00:04.500");
  EXPECT_EQ(stats["minValues"]["st"]["a"], 0);
  EXPECT_EQ(stats["maxValues"]["st"]["b"], "x4");
  EXPECT_FALSE(stats["minValues"].contains("b"));      // no bounds for booleans
  EXPECT_FALSE(stats["minValues"].contains("bin"));    // nor binary
  EXPECT_FALSE(stats["minValues"].contains("dec38"));  // DuckDB gives none
  EXPECT_FALSE(stats["minValues"].contains("arr"));
  EXPECT_EQ(stats["nullCount"]["bin"], 0);
  EXPECT_FALSE(stats["nullCount"].contains("arr"));  // not counted for arrays
}

TEST_F(DataWriterTest, PartitionFoldersAndValuesFollowTheProtocol) {
  delta::Schema schema = MakeSchema(Field("id", Q("long")) + "," + Field("p", Q("string")) + "," +
                                    Field("d", Q("date")));
  const std::string root = Root("parts");
  WriteOptions options;
  options.partition_columns = {"p", "d"};
  // Expected partition of every id, by hand: '' is null (PROTOCOL.md), 'NULL' is a string.
  const std::string query = R"(
    SELECT * FROM (VALUES (1, 'a b', DATE '2024-01-01'), (2, 'a/b', DATE '2024-01-01'),
                          (3, 'x%y', NULL), (4, '😈', DATE '2024-01-01'), (5, '', NULL),
                          (6, NULL, NULL), (7, '__HIVE_DEFAULT_PARTITION__', DATE '2024-01-01'),
                          (8, 'NULL', DATE '2024-01-01'), (9, 'a b', DATE '2024-01-01'))
      AS v(id, p, d))";
  ASSERT_OK_AND_ASSIGN(auto adds, WriteDataFiles(*session_, query, root, schema, options));
  using Key = std::pair<std::optional<std::string>, std::optional<std::string>>;
  std::map<Key, std::set<int64_t>> expected = {
      {{"a b", "2024-01-01"}, {1, 9}},        {{"a/b", "2024-01-01"}, {2}},
      {{"x%y", std::nullopt}, {3}},           {{"😈", "2024-01-01"}, {4}},
      {{std::nullopt, std::nullopt}, {5, 6}}, {{"__HIVE_DEFAULT_PARTITION__", "2024-01-01"}, {7}},
      {{"NULL", "2024-01-01"}, {8}},
  };
  ASSERT_EQ(adds.size(), expected.size());
  std::map<Key, std::string> paths;
  for (const auto& add : adds) {
    ASSERT_EQ(add.partition_values.size(), 2u);
    EXPECT_EQ(add.partition_values[0].first, "p");
    EXPECT_EQ(add.partition_values[1].first, "d");
    Key key{add.partition_values[0].second, add.partition_values[1].second};
    ASSERT_TRUE(expected.count(key)) << add.path;
    paths[key] = add.path;
    // The path, decoded once, is the file; it holds exactly that partition's rows and no
    // partition column.
    const std::string file = root + "/" + PercentDecode(add.path);
    ASSERT_TRUE(fs::exists(file)) << add.path << " -> " << file;
    auto rows = Query("SELECT * FROM read_parquet(" + SqlQuote(file) +
                      ", hive_partitioning = false) ORDER BY id");
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_EQ(rows->columns.size(), 1u);
    EXPECT_EQ(rows->columns[0].name, "id");
    std::set<int64_t> ids;
    for (const auto& row : rows->rows) ids.insert(std::get<int64_t>(row[0].v));
    EXPECT_EQ(ids, expected[key]) << add.path;
    nlohmann::json stats = nlohmann::json::parse(add.stats.value());
    EXPECT_EQ(stats["numRecords"], expected[key].size());
    EXPECT_FALSE(stats["minValues"].contains("p"));  // partition columns have no stats
  }
  // Hive-style folders; DuckDB escapes ' ' as %20 and '%' as %25, and the log shows those
  // escapes percent-encoded once more, as Spark's log does (x=A%252FA).
  EXPECT_TRUE(StartsWith(paths[{"a b", "2024-01-01"}], "p=a%2520b/d=2024-01-01/part-"))
      << paths[{"a b", "2024-01-01"}];
  EXPECT_TRUE(StartsWith(paths[{"a/b", "2024-01-01"}], "p=a%252Fb/d=2024-01-01/"));
  EXPECT_TRUE(StartsWith(paths[{"x%y", std::nullopt}], "p=x%2525y/d=__HIVE_DEFAULT_PARTITION__/"));
  EXPECT_TRUE(StartsWith(paths[{std::nullopt, std::nullopt}],
                         "p=__HIVE_DEFAULT_PARTITION__/d=__HIVE_DEFAULT_PARTITION__/"));
  EXPECT_TRUE(StartsWith(paths[{"NULL", "2024-01-01"}], "p=NULL/"));
}

TEST_F(DataWriterTest, PartitionValuesOfEveryTypeAreSerializedPerTheProtocol) {
  delta::Schema schema =
      MakeSchema(Field("id", Q("long")) + "," + Field("ts", Q("timestamp")) + "," +
                 Field("ntz", Q("timestamp_ntz")) + "," + Field("dbl", Q("double")) + "," +
                 Field("flag", Q("boolean")) + "," + Field("dec", Q("decimal(5,2)")) + "," +
                 Field("n", Q("integer")));
  WriteOptions options;
  options.partition_columns = {"ts", "ntz", "dbl", "flag", "dec", "n"};
  ASSERT_OK_AND_ASSIGN(
      auto adds,
      WriteDataFiles(*session_,
                     "SELECT 1 AS id, TIMESTAMPTZ '2024-01-02 04:04:05.123456+01' AS ts, "
                     "TIMESTAMP '2024-01-02 03:04:05' AS ntz, 'NaN'::DOUBLE AS dbl, true AS flag, "
                     "12.3 AS dec, -7 AS n "
                     "UNION ALL SELECT 2, NULL, NULL, 1.5, false, NULL, NULL",
                     Root("types"), schema, options));
  ASSERT_EQ(adds.size(), 2u);
  std::map<std::string, std::vector<std::optional<std::string>>> by_first;
  for (const auto& add : adds) {
    std::vector<std::optional<std::string>> values;
    for (const auto& [k, v] : add.partition_values) values.push_back(v);
    by_first[add.partition_values[3].second.value()] = values;
  }
  using V = std::vector<std::optional<std::string>>;
  EXPECT_EQ(by_first["true"], (V{"2024-01-02T03:04:05.123456Z", "2024-01-02 03:04:05.000000", "NaN",
                                 "true", "12.30", "-7"}));
  EXPECT_EQ(by_first["false"],
            (V{std::nullopt, std::nullopt, "1.5", "false", std::nullopt, std::nullopt}));
}

TEST_F(DataWriterTest, NoRowsWriteNoFiles) {
  delta::Schema schema = MakeSchema(Field("id", Q("long")) + "," + Field("p", Q("string")));
  ASSERT_OK_AND_ASSIGN(auto flat, WriteDataFiles(*session_, "SELECT 1 AS id, 'a' AS p WHERE false",
                                                 Root("empty"), schema, {}));
  EXPECT_TRUE(flat.empty());
  WriteOptions partitioned;
  partitioned.partition_columns = {"p"};
  ASSERT_OK_AND_ASSIGN(auto parts, WriteDataFiles(*session_, "SELECT 1 AS id, 'a' AS p WHERE false",
                                                  Root("empty"), schema, partitioned));
  EXPECT_TRUE(parts.empty());
  EXPECT_TRUE(ParquetFiles(Root("empty")).empty());
}

TEST_F(DataWriterTest, MismatchedColumnsAreAllListedAndNothingIsWritten) {
  delta::Schema schema = MakeSchema(
      Field("a", Q("long")) + "," + Field("b", Q("string")) + "," + Field("c", Q("date")) + "," +
      Field("s", "{\"type\":\"struct\",\"fields\":[" + Field("x", Q("integer")) + "]}"));
  auto result = WriteDataFiles(*session_, "SELECT 1 AS A, 2 AS b, 'x' AS extra, {'y': 1} AS s",
                               Root("bad"), schema, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  const std::string& msg = result.status().message();
  for (const char* expected :
       {"column c (date) is missing", "column b: the query gives INTEGER, the table has string",
        "column extra (VARCHAR) is not in the table", "struct field x is missing",
        "struct field y is not in the table"}) {
    EXPECT_NE(msg.find(expected), std::string::npos) << expected << " not in: " << msg;
  }
  EXPECT_EQ(msg.find("column a"), std::string::npos) << "A matches a case-insensitively: " << msg;
  EXPECT_TRUE(ParquetFiles(Root("bad")).empty());
}

TEST_F(DataWriterTest, NotNullViolationNamesTheColumnAndShowsTheRow) {
  delta::Schema schema =
      MakeSchema(Field("a", Q("long"), /*nullable=*/false) + "," + Field("b", Q("string")));
  auto result =
      WriteDataFiles(*session_, "SELECT * FROM (VALUES (1, 'first'), (NULL, 'second')) v(a, b)",
                     Root("nn"), schema, {});
  ASSERT_FALSE(result.ok());
  const std::string& msg = result.status().message();
  EXPECT_NE(msg.find("NOT NULL constraint violated: column a"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"b\":\"second\""), std::string::npos) << msg;
}

TEST_F(DataWriterTest, WiderQueryTypesAreCastAndOverflowFails) {
  delta::Schema schema = MakeSchema(Field("a", Q("integer")));
  const std::string root = Root("cast");
  ASSERT_OK_AND_ASSIGN(
      auto adds,
      WriteDataFiles(*session_, "SELECT 5::HUGEINT AS a -- a trailing comment", root, schema, {}));
  EXPECT_EQ(QueryInt("SELECT sum(a) FROM " + ReadAdds(root, adds)), 5);
  auto types = Query("SELECT typeof(a) FROM " + ReadAdds(root, adds));
  ASSERT_TRUE(types.ok());
  EXPECT_EQ(std::get<std::string>(types->rows[0][0].v), "INTEGER");
  EXPECT_FALSE(WriteDataFiles(*session_, "SELECT 5000000000::BIGINT AS a", root, schema, {}).ok());
}

TEST_F(DataWriterTest, TargetFileSizeSplitsLargeWrites) {
  delta::Schema schema = MakeSchema(Field("id", Q("long")) + "," + Field("h", Q("long")));
  WriteOptions options;
  options.target_file_size_bytes = 1 << 20;
  options.compression = "uncompressed";
  const std::string root = Root("big");
  ASSERT_OK_AND_ASSIGN(
      auto adds,
      WriteDataFiles(*session_,
                     "SELECT i AS id, (hash(i) >> 1)::BIGINT AS h FROM range(600000) t(i)", root,
                     schema, options));
  // 600k rows x 16 bytes = 9.6 MB uncompressed: several files, cut at row groups.
  EXPECT_GE(adds.size(), 3u);
  int64_t records = 0;
  for (const auto& add : adds) {
    EXPECT_TRUE(EndsWith(add.path, ".parquet") && !EndsWith(add.path, ".snappy.parquet"))
        << add.path;
    records += nlohmann::json::parse(add.stats.value())["numRecords"].get<int64_t>();
  }
  EXPECT_EQ(records, 600000);
  EXPECT_EQ(QueryInt("SELECT count(DISTINCT id) FROM " + ReadAdds(root, adds)), 600000);
}

TEST_F(DataWriterTest, ColumnMappingWritesPhysicalNamesFieldIdsAndStatsKeys) {
  auto cm = [](const std::string& physical, int id) {
    return "{\"delta.columnMapping.physicalName\":\"" + physical +
           "\",\"delta.columnMapping.id\":" + std::to_string(id) + "}";
  };
  const std::string fields = Field("id", Q("long"), true, cm("col-id", 1)) + "," +
                             Field("s",
                                   "{\"type\":\"struct\",\"fields\":[" +
                                       Field("x", Q("integer"), true, cm("col-x", 3)) + "]}",
                                   true, cm("col-s", 2)) +
                             "," + Field("p", Q("string"), true, cm("col-p", 4));
  delta::Schema schema = MakeSchema(fields);
  WriteOptions options;
  options.column_mapping_mode = "name";
  options.partition_columns = {"p"};
  const std::string root = Root("cm");
  ASSERT_OK_AND_ASSIGN(
      auto adds, WriteDataFiles(*session_,
                                "SELECT i AS id, {'x': i::INT * 10} AS s, 'v' || (i % 2) AS p "
                                "FROM range(4) t(i)",
                                root, schema, options));
  ASSERT_EQ(adds.size(), 2u);
  for (const auto& add : adds) {
    ASSERT_EQ(add.partition_values.size(), 1u);
    EXPECT_EQ(add.partition_values[0].first, "col-p");
    EXPECT_TRUE(StartsWith(add.path, "col-p=v")) << add.path;
    nlohmann::json stats = nlohmann::json::parse(add.stats.value());
    EXPECT_TRUE(stats["minValues"].contains("col-id")) << *add.stats;
    EXPECT_TRUE(stats["minValues"]["col-s"].contains("col-x")) << *add.stats;
  }
  auto schema_rows = Query("SELECT name, field_id FROM parquet_schema(" +
                           SqlQuote(root + "/" + PercentDecode(adds[0].path)) +
                           ") WHERE field_id IS NOT NULL ORDER BY field_id");
  ASSERT_TRUE(schema_rows.ok()) << schema_rows.status();
  std::vector<std::string> ids;
  for (const auto& row : schema_rows->rows) {
    ids.push_back(std::get<std::string>(row[0].v) + "=" +
                  std::to_string(std::get<int64_t>(row[1].v)));
  }
  EXPECT_EQ(StrJoin(ids, " "), "col-id=1 col-s=2 col-x=3");

  // As a Delta table (protocol 2/5 for column mapping), logical names come back.
  delta::Protocol protocol;
  protocol.min_reader_version = 2;
  protocol.min_writer_version = 5;
  Commit(root, "{\"type\":\"struct\",\"fields\":[" + fields + "]}", {"p"}, adds,
         {{"delta.columnMapping.mode", "name"}, {"delta.columnMapping.maxColumnId", "4"}},
         protocol);
  EXPECT_EQ(QueryInt("SELECT sum(s.x) FROM delta_scan(" + SqlQuote(root) + ") WHERE p = 'v1'"), 40);
}

TEST_F(DataWriterTest, DeltaScanReadsAndPrunesFilesWeWrote) {
  const std::string fields = Field("id", Q("long")) + "," + Field("name", Q("string")) + "," +
                             Field("ts", Q("timestamp")) + "," + Field("region", Q("string"));
  delta::Schema schema = MakeSchema(fields);
  const std::string root = Root("table");
  WriteOptions options;
  options.partition_columns = {"region"};
  std::vector<delta::AddFile> adds;
  // Three writes of disjoint id ranges: one file each per region.
  for (int batch = 0; batch < 3; ++batch) {
    std::string lo = std::to_string(batch * 100 + 1), hi = std::to_string(batch * 100 + 100);
    ASSERT_OK_AND_ASSIGN(
        auto more,
        WriteDataFiles(*session_,
                       "SELECT i AS id, 'n' || lpad(i::VARCHAR, 4, '0') AS name, "
                       "TIMESTAMPTZ '2024-01-01 00:00:00.000500+00' + to_seconds(i) AS ts, "
                       "CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END AS region "
                       "FROM range(" +
                           lo + ", " + hi + " + 1) t(i)",
                       root, schema, options));
    adds.insert(adds.end(), more.begin(), more.end());
  }
  ASSERT_EQ(adds.size(), 6u);
  Commit(root, "{\"type\":\"struct\",\"fields\":[" + fields + "]}", {"region"}, adds);
  const std::string scan = "delta_scan(" + SqlQuote(root) + ")";
  EXPECT_EQ(QueryInt("SELECT count(*) FROM " + scan), 300);
  EXPECT_EQ(
      Difference("(SELECT id, name, ts, region FROM " + scan + ")",
                 "(SELECT i AS id, 'n' || lpad(i::VARCHAR, 4, '0') AS name, "
                 "TIMESTAMPTZ '2024-01-01 00:00:00.000500+00' + to_seconds(i) AS ts, "
                 "CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END AS region FROM range(1, 301) t(i))"),
      0);

  // ids 150..160 live in batch 1 only: 11 rows, sum 1705, 4 of 6 files pruned by id stats.
  ScanCounters before = GetScanCounters();
  EXPECT_EQ(QueryInt("SELECT sum(id) FROM " + scan + " WHERE id BETWEEN 150 AND 160"), 1705);
  ScanCounters after = GetScanCounters();
  EXPECT_EQ(after.files_skipped - before.files_skipped, 4);
  EXPECT_EQ(after.files_opened - before.files_opened, 2);

  // Strings and timestamps prune too; the last row of batch 0 (at .000500 past its second,
  // beyond the millisecond stats) is still found.
  before = GetScanCounters();
  EXPECT_EQ(QueryInt("SELECT count(*) FROM " + scan + " WHERE name >= 'n0290'"), 11);
  after = GetScanCounters();
  EXPECT_EQ(after.files_skipped - before.files_skipped, 4);
  before = GetScanCounters();
  EXPECT_EQ(QueryInt("SELECT count(*) FROM " + scan +
                     " WHERE ts >= TIMESTAMPTZ '2024-01-01 00:01:40.0005+00' AND ts <= TIMESTAMPTZ "
                     "'2024-01-01 00:01:40.0005+00'"),
            1);  // id 100: the max of batch 0
  after = GetScanCounters();
  EXPECT_EQ(after.files_skipped - before.files_skipped, 5);
}

TEST_F(DataWriterTest, TransactionsCommitWrittenFilesAndDeltaScanReadsThem) {
  const std::string fields = Field("id", Q("long")) + "," + Field("amount", Q("decimal(10,2)")) +
                             "," + Field("day", Q("date"));
  const std::string root = Root("txn");
  ASSERT_OK_AND_ASSIGN(auto store, storage::OpenStore(root));
  std::unique_ptr<delta::Engine> engine = MakeDeltaEngine(*db_, std::move(store));

  // Version 0: create the table and write its first rows, with options from its metadata.
  ASSERT_OK_AND_ASSIGN(auto create, delta::Transaction::BeginCreate(*engine));
  ASSERT_OK(create->UpdateMetadata(
      delta::NewTableMetadata("{\"type\":\"struct\",\"fields\":[" + fields + "]}", {"day"},
                              {{"delta.dataSkippingNumIndexedCols", "1"}}, 1700000000000)));
  ASSERT_OK_AND_ASSIGN(WriteOptions options, WriteOptionsFor(create->metadata()));
  EXPECT_EQ(options.num_indexed_cols, 1);
  ASSERT_OK_AND_ASSIGN(auto first, WriteDataFiles(*session_,
                                                  "SELECT i AS id, i * 1.25 AS amount, "
                                                  "DATE '2024-03-01' + (i % 2)::INT AS day "
                                                  "FROM range(10) t(i)",
                                                  root, create->schema(), options));
  ASSERT_EQ(first.size(), 2u);  // one per day
  for (const auto& add : first) {
    // Only the first leaf (id) is indexed; day is a partition column.
    EXPECT_EQ(nlohmann::json::parse(add.stats.value())["minValues"].size(), 1u) << *add.stats;
    ASSERT_OK(create->StageAdd(add));
  }
  ASSERT_OK_AND_ASSIGN(delta::CommitResult v0, create->Commit());
  EXPECT_EQ(v0.version, 0);

  // Version 1: a blind append.
  ASSERT_OK_AND_ASSIGN(delta::SnapshotPtr snapshot, delta::LoadSnapshot(*engine));
  ASSERT_OK_AND_ASSIGN(auto append, delta::Transaction::Begin(*engine, snapshot));
  ASSERT_OK_AND_ASSIGN(options, WriteOptionsFor(append->metadata()));
  ASSERT_OK_AND_ASSIGN(auto second, WriteDataFiles(*session_,
                                                   "SELECT 100 AS id, 7.5 AS amount, "
                                                   "NULL::DATE AS day",
                                                   root, append->schema(), options));
  ASSERT_EQ(second.size(), 1u);
  ASSERT_OK(append->StageAdd(second[0]));
  ASSERT_OK_AND_ASSIGN(delta::CommitResult v1, append->Commit());
  EXPECT_EQ(v1.version, 1);

  // By hand: ids 0..9 sum 45, amounts 1.25 * 45 = 56.25; plus 100 and 7.50.
  const std::string scan = "delta_scan(" + SqlQuote(root) + ")";
  EXPECT_EQ(QueryInt("SELECT count(*) FROM " + scan), 11);
  EXPECT_EQ(QueryInt("SELECT sum(id) FROM " + scan), 145);
  EXPECT_EQ(QueryInt("SELECT (sum(amount) * 100)::BIGINT FROM " + scan), 6375);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM " + scan + " WHERE day IS NULL"), 1);
  EXPECT_EQ(QueryInt("SELECT sum(id) FROM " + scan + " WHERE day = DATE '2024-03-02'"), 25);
  ScanCounters before = GetScanCounters();
  EXPECT_EQ(QueryInt("SELECT count(*) FROM " + scan + " WHERE id = 100"), 1);
  EXPECT_EQ(GetScanCounters().files_skipped - before.files_skipped, 2);
}

}  // namespace
}  // namespace lake::engine
