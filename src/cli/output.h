// Result printers for `--format table|csv|json|jsonl` (STYLE.md §11, issue #2 §5).
//
// Each printer is an engine::RowSink writing to a std::ostream (stdout in the CLI):
//  - csv and jsonl stream: every batch is written as it arrives, nothing is kept.
//  - json streams too, as one document {"columns":[{"name","type"}],"rows":[{...}]}; if the
//    query fails after the document was opened, Fail() closes it with an "error" member so
//    the output stays one valid JSON document.
//  - table keeps the first `max_rows` rendered rows (it needs every cell to size columns)
//    and counts the rest; the footer gives the total.
// Values are encoded by cli/value_format.h. Column names that repeat in one result get a
// "_<n>" suffix in json/jsonl so that no key is lost to a duplicate.
// Printers are single-threaded (one query at a time).
#pragma once

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/database.h"

namespace lake::cli {

enum class OutputFormat { kTable, kCsv, kJson, kJsonl };

// Parses "table", "csv", "json" or "jsonl"; kInvalidArgument otherwise.
Result<OutputFormat> ParseOutputFormat(std::string_view name);
std::string_view OutputFormatName(OutputFormat format);
// True for the machine formats, where errors are printed as JSON on stdout.
inline bool IsJsonFormat(OutputFormat f) {
  return f == OutputFormat::kJson || f == OutputFormat::kJsonl;
}

struct TableOptions {
  size_t max_rows = 1000;       // rows rendered in table mode; 0 = all
  size_t max_cell_width = 48;   // display columns; longer cells end in "…"
};

class ResultPrinter : public engine::RowSink {
 public:
  // Reports a failed query in this format: JSON formats write the error object to the
  // output (closing an open document); table/csv write nothing (the caller prints
  // error:/hint: on stderr). Returns true if it wrote the error.
  virtual bool Fail(const Status& status) = 0;
};

std::unique_ptr<ResultPrinter> MakePrinter(OutputFormat format, std::ostream& out,
                                           const TableOptions& table_options = {});

// Returns {"error":{"code":"NOT_FOUND","message":"…","hint":"…"}} (no newline).
std::string ErrorToJson(const Status& status);

// Returns the number of terminal columns `s` (UTF-8) occupies, counting a code point as one.
size_t DisplayWidth(std::string_view s);

}  // namespace lake::cli
