// Printers fed hand-built results; expected output written by hand (RFC 4180 for CSV, the
// document shapes in cli/output.h for JSON, the box layout for tables).
#include "cli/output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace lake::cli {
namespace {

using engine::ColumnType;
using engine::ResultColumn;
using engine::Value;
using Kind = ColumnType::Kind;

ResultColumn Col(std::string name, Kind kind, std::string type_name, int scale = 0) {
  ResultColumn c;
  c.name = std::move(name);
  c.type.kind = kind;
  c.type.name = std::move(type_name);
  c.type.scale = scale;
  return c;
}

std::vector<ResultColumn> Columns() {
  return {Col("id", Kind::kInteger, "INTEGER"), Col("name", Kind::kVarchar, "VARCHAR"),
          Col("d", Kind::kDecimal, "DECIMAL(5,2)", 2)};
}

std::vector<std::vector<Value>> Rows() {
  return {{Value{int64_t{1}}, Value{std::string("a,b")}, Value{int64_t{1230}}},
          {Value{}, Value{std::string("")}, Value{}},
          {Value{int64_t{2}}, Value{std::string("say \"hi\"")}, Value{int64_t{-5}}}};
}

std::string Print(OutputFormat format, const std::vector<ResultColumn>& columns,
                  const std::vector<std::vector<Value>>& rows, TableOptions options = {}) {
  std::ostringstream out;
  std::unique_ptr<ResultPrinter> printer = MakePrinter(format, out, options);
  EXPECT_TRUE(printer->Begin(columns).ok());
  // Two batches, to check that batches join seamlessly.
  if (!rows.empty()) {
    EXPECT_TRUE(printer->Rows({rows.begin(), rows.begin() + 1}).ok());
    EXPECT_TRUE(printer->Rows({rows.begin() + 1, rows.end()}).ok());
  }
  EXPECT_TRUE(printer->End().ok());
  return out.str();
}

TEST(CsvPrinter, QuotesPerRfc4180AndKeepsNullApartFromEmpty) {
  EXPECT_EQ(Print(OutputFormat::kCsv, Columns(), Rows()),
            "id,name,d\n"
            "1,\"a,b\",12.30\n"
            ",\"\",\n"
            "2,\"say \"\"hi\"\"\",-0.05\n");
}

TEST(CsvPrinter, QuotesLineBreaks) {
  std::vector<ResultColumn> cols = {Col("s", Kind::kVarchar, "VARCHAR")};
  EXPECT_EQ(Print(OutputFormat::kCsv, cols, {{Value{std::string("a\nb")}}}), "s\n\"a\nb\"\n");
}

TEST(JsonlPrinter, OneObjectPerRow) {
  EXPECT_EQ(Print(OutputFormat::kJsonl, Columns(), Rows()),
            "{\"id\":1,\"name\":\"a,b\",\"d\":\"12.30\"}\n"
            "{\"id\":null,\"name\":\"\",\"d\":null}\n"
            "{\"id\":2,\"name\":\"say \\\"hi\\\"\",\"d\":\"-0.05\"}\n");
}

TEST(JsonlPrinter, RepeatedColumnNamesGetSuffixes) {
  std::vector<ResultColumn> cols = {Col("a", Kind::kBigInt, "BIGINT"),
                                    Col("a", Kind::kBigInt, "BIGINT"),
                                    Col("a_1", Kind::kBigInt, "BIGINT")};
  EXPECT_EQ(Print(OutputFormat::kJsonl, cols,
                  {{Value{int64_t{1}}, Value{int64_t{2}}, Value{int64_t{3}}}}),
            "{\"a\":1,\"a_2\":2,\"a_1\":3}\n");
}

TEST(JsonPrinter, OneDocumentWithColumnsAndRows) {
  std::string text = Print(OutputFormat::kJson, Columns(), Rows());
  EXPECT_EQ(text,
            "{\"columns\":[{\"name\":\"id\",\"type\":\"INTEGER\"},"
            "{\"name\":\"name\",\"type\":\"VARCHAR\"},{\"name\":\"d\",\"type\":\"DECIMAL(5,2)\"}],"
            "\"rows\":[\n"
            "{\"id\":1,\"name\":\"a,b\",\"d\":\"12.30\"},\n"
            "{\"id\":null,\"name\":\"\",\"d\":null},\n"
            "{\"id\":2,\"name\":\"say \\\"hi\\\"\",\"d\":\"-0.05\"}\n"
            "]}\n");
  nlohmann::json doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["rows"].size(), 3u);
}

TEST(JsonPrinter, EmptyResultIsStillADocument) {
  EXPECT_EQ(Print(OutputFormat::kJson, Columns(), {}),
            "{\"columns\":[{\"name\":\"id\",\"type\":\"INTEGER\"},"
            "{\"name\":\"name\",\"type\":\"VARCHAR\"},{\"name\":\"d\",\"type\":\"DECIMAL(5,2)\"}],"
            "\"rows\":[]}\n");
}

TEST(JsonPrinter, FailureAfterRowsClosesTheDocumentWithTheError) {
  std::ostringstream out;
  std::unique_ptr<ResultPrinter> printer = MakePrinter(OutputFormat::kJson, out);
  ASSERT_TRUE(printer->Begin(Columns()).ok());
  ASSERT_TRUE(printer->Rows({Rows()[0]}).ok());
  EXPECT_TRUE(printer->Fail(Status::Corruption("t: bad file").WithHint("restore it")));
  nlohmann::json doc = nlohmann::json::parse(out.str());  // throws if not one document
  EXPECT_EQ(doc["rows"].size(), 1u);
  EXPECT_EQ(doc["error"]["code"], "CORRUPTION");
  EXPECT_EQ(doc["error"]["message"], "t: bad file");
  EXPECT_EQ(doc["error"]["hint"], "restore it");
}

TEST(ErrorToJson, CodeMessageHint) {
  EXPECT_EQ(ErrorToJson(Status::NotFound("table /x: missing").WithHint("check the path")),
            "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"table /x: missing\","
            "\"hint\":\"check the path\"}}");
  EXPECT_EQ(ErrorToJson(Status::Conflict("lost")),
            "{\"error\":{\"code\":\"CONFLICT\",\"message\":\"lost\",\"hint\":null}}");
}

TEST(TablePrinter, AlignedBoxWithTypesAndRowCount) {
  EXPECT_EQ(Print(OutputFormat::kTable, Columns(), Rows()),
            "┌─────────┬──────────┬──────────────┐\n"
            "│ id      │ name     │ d            │\n"
            "│ integer │ varchar  │ decimal(5,2) │\n"
            "├─────────┼──────────┼──────────────┤\n"
            "│       1 │ a,b      │        12.30 │\n"
            "│    NULL │          │         NULL │\n"
            "│       2 │ say \"hi\" │        -0.05 │\n"
            "└─────────┴──────────┴──────────────┘\n"
            "3 rows\n");
}

TEST(TablePrinter, TruncatesWideCellsAndCountsRowsBeyondTheLimit) {
  std::vector<ResultColumn> cols = {Col("s", Kind::kVarchar, "VARCHAR")};
  std::vector<std::vector<Value>> rows = {{Value{std::string("abcdefghijklmnop")}},
                                          {Value{std::string("äöü")}},
                                          {Value{std::string("hidden")}}};
  TableOptions options;
  options.max_rows = 2;
  options.max_cell_width = 8;
  EXPECT_EQ(Print(OutputFormat::kTable, cols, rows, options),
            "┌──────────┐\n"
            "│ s        │\n"
            "│ varchar  │\n"
            "├──────────┤\n"
            "│ abcdefg… │\n"
            "│ äöü      │\n"
            "└──────────┘\n"
            "3 rows (first 2 shown; --format csv or jsonl prints all)\n");
}

TEST(DisplayWidth, CountsCodePointsAndWideCharacters) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("äöü"), 3u);
  EXPECT_EQ(DisplayWidth("日本"), 4u);
}

TEST(ParseOutputFormat, KnownNamesOnly) {
  EXPECT_EQ(*ParseOutputFormat("jsonl"), OutputFormat::kJsonl);
  EXPECT_EQ(*ParseOutputFormat("CSV"), OutputFormat::kCsv);
  Result<OutputFormat> bad = ParseOutputFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lake::cli
