#include "cli/output.h"

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "cli/value_format.h"

namespace lake::cli {
namespace {

using engine::ColumnType;
using engine::ResultColumn;
using engine::Value;
using Kind = engine::ColumnType::Kind;

// Decodes the UTF-8 code point at s[i] and advances i; invalid bytes count as one point.
uint32_t NextCodePoint(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
  if (i + len > s.size()) len = 1;
  uint32_t cp = len == 1 ? c : c & (0x7f >> len);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += len;
  return cp;
}

// Terminal columns of one code point: 0 for combining marks, 2 for East Asian wide and
// emoji, 1 otherwise. Approximate on purpose: it only aligns a table.
int CodePointWidth(uint32_t cp) {
  if ((cp >= 0x300 && cp <= 0x36f) || cp == 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd)) {
    return 2;
  }
  return 1;
}

// Cuts `s` to at most `width` columns, ending in "…" when something was cut.
std::string Truncate(const std::string& s, size_t width) {
  if (DisplayWidth(s) <= width) return s;
  size_t used = 0, i = 0, keep = 0;
  while (i < s.size()) {
    int w = CodePointWidth(NextCodePoint(s, i));
    if (used + w + 1 > width) break;  // leave one column for the ellipsis
    used += w;
    keep = i;
  }
  return s.substr(0, keep) + "…";
}

bool IsNumeric(Kind kind) {
  switch (kind) {
    case Kind::kTinyInt: case Kind::kSmallInt: case Kind::kInteger: case Kind::kBigInt:
    case Kind::kHugeInt: case Kind::kUTinyInt: case Kind::kUSmallInt: case Kind::kUInteger:
    case Kind::kUBigInt: case Kind::kFloat: case Kind::kDouble: case Kind::kDecimal:
      return true;
    default:
      return false;
  }
}

// Column names made unique for JSON keys: a repeated "a" becomes "a_1" (or the next free
// "a_<n>" that no other column is called).
std::vector<std::string> UniqueNames(const std::vector<ResultColumn>& columns) {
  std::set<std::string> original, emitted;
  for (const ResultColumn& c : columns) original.insert(c.name);
  std::vector<std::string> names;
  for (const ResultColumn& c : columns) {
    std::string name = c.name;
    for (int n = 1; emitted.count(name) > 0; ++n) {
      do {
        name = StrCat(c.name, "_", n);
      } while (original.count(name) > 0 && ++n);
    }
    emitted.insert(name);
    names.push_back(std::move(name));
  }
  return names;
}

Status CheckStream(std::ostream& out) {
  if (!out) return Status::IOError("cannot write the result to standard output");
  return Status::OK();
}

class CsvPrinter : public ResultPrinter {
 public:
  explicit CsvPrinter(std::ostream& out) : out_(out) {}

  Status Begin(const std::vector<ResultColumn>& columns) override {
    columns_ = columns;
    std::string line;
    for (size_t col = 0; col < columns.size(); ++col) {
      if (col > 0) line += ',';
      AppendField(columns[col].name, line);
    }
    if (!columns.empty()) out_ << line << '\n';
    return CheckStream(out_);
  }

  Status Rows(const std::vector<std::vector<Value>>& rows) override {
    std::string buf;
    for (const auto& row : rows) {
      for (size_t col = 0; col < row.size() && col < columns_.size(); ++col) {
        if (col > 0) buf += ',';
        std::optional<std::string> text = ValueToText(row[col], columns_[col].type);
        // NULL is an empty field; an empty string is "" so the two stay distinct.
        if (text) AppendField(*text, buf, /*quote_empty=*/true);
      }
      buf += '\n';
    }
    out_ << buf;
    return CheckStream(out_);
  }

  Status End() override {
    out_.flush();
    return CheckStream(out_);
  }
  bool Fail(const Status&) override {
    out_.flush();
    return false;
  }

 private:
  // RFC 4180 §2: a field with a comma, quote or line break is quoted, quotes doubled.
  static void AppendField(const std::string& s, std::string& out, bool quote_empty = false) {
    bool quote = (quote_empty && s.empty()) ||
                 s.find_first_of(",\"\r\n") != std::string::npos;
    if (!quote) {
      out += s;
      return;
    }
    out += '"';
    for (char c : s) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }

  std::ostream& out_;
  std::vector<ResultColumn> columns_;
};

class JsonlPrinter : public ResultPrinter {
 public:
  explicit JsonlPrinter(std::ostream& out) : out_(out) {}

  Status Begin(const std::vector<ResultColumn>& columns) override {
    columns_ = columns;
    keys_.clear();
    for (const std::string& name : UniqueNames(columns)) keys_.push_back(JsonQuote(name) + ":");
    return Status::OK();
  }

  Status Rows(const std::vector<std::vector<Value>>& rows) override {
    std::string buf;
    for (const auto& row : rows) {
      AppendRowObject(row, buf);
      buf += '\n';
    }
    out_ << buf;
    return CheckStream(out_);
  }

  Status End() override {
    out_.flush();
    return CheckStream(out_);
  }

  bool Fail(const Status& status) override {
    out_ << ErrorToJson(status) << '\n';
    out_.flush();
    return true;
  }

 protected:
  void AppendRowObject(const std::vector<Value>& row, std::string& buf) const {
    buf += '{';
    for (size_t col = 0; col < row.size() && col < columns_.size(); ++col) {
      if (col > 0) buf += ',';
      buf += keys_[col];
      AppendValueJson(row[col], columns_[col].type, buf);
    }
    buf += '}';
  }

  std::ostream& out_;
  std::vector<ResultColumn> columns_;
  std::vector<std::string> keys_;
};

class JsonPrinter : public JsonlPrinter {
 public:
  using JsonlPrinter::JsonlPrinter;

  Status Begin(const std::vector<ResultColumn>& columns) override {
    LAKE_RETURN_IF_ERROR(JsonlPrinter::Begin(columns));
    std::vector<std::string> names = UniqueNames(columns);
    std::string buf = "{\"columns\":[";
    for (size_t col = 0; col < columns.size(); ++col) {
      if (col > 0) buf += ',';
      buf += StrCat("{\"name\":", JsonQuote(names[col]),
                    ",\"type\":", JsonQuote(columns[col].type.name), "}");
    }
    buf += "],\"rows\":[";
    out_ << buf;
    open_ = true;
    return CheckStream(out_);
  }

  Status Rows(const std::vector<std::vector<Value>>& rows) override {
    std::string buf;
    for (const auto& row : rows) {
      buf += first_row_ ? "\n" : ",\n";
      first_row_ = false;
      AppendRowObject(row, buf);
    }
    out_ << buf;
    return CheckStream(out_);
  }

  Status End() override {
    out_ << (first_row_ ? "]}\n" : "\n]}\n");
    open_ = false;
    out_.flush();
    return CheckStream(out_);
  }

  bool Fail(const Status& status) override {
    if (open_) {
      // Close the open document with the error inside it: {"columns":…,"rows":[…],"error":…}
      std::string err = ErrorToJson(status);
      out_ << (first_row_ ? "]," : "\n],") << err.substr(1) << '\n';
      open_ = false;
    } else {
      out_ << ErrorToJson(status) << '\n';
    }
    out_.flush();
    return true;
  }

 private:
  bool open_ = false;
  bool first_row_ = true;
};

class TablePrinter : public ResultPrinter {
 public:
  TablePrinter(std::ostream& out, const TableOptions& options) : out_(out), options_(options) {}

  Status Begin(const std::vector<ResultColumn>& columns) override {
    columns_ = columns;
    cells_.clear();
    total_rows_ = 0;
    return Status::OK();
  }

  Status Rows(const std::vector<std::vector<Value>>& rows) override {
    for (const auto& row : rows) {
      ++total_rows_;
      if (options_.max_rows != 0 && cells_.size() >= options_.max_rows) continue;
      std::vector<std::string> rendered;
      rendered.reserve(columns_.size());
      for (size_t col = 0; col < columns_.size(); ++col) {
        rendered.push_back(
            col < row.size() ? Truncate(ValueToDisplay(row[col], columns_[col].type),
                                        options_.max_cell_width)
                             : std::string());
      }
      cells_.push_back(std::move(rendered));
    }
    return Status::OK();
  }

  Status End() override {
    if (columns_.empty()) return Status::OK();  // a statement without a result set
    size_t n = columns_.size();
    std::vector<std::string> names(n), types(n);
    std::vector<size_t> widths(n);
    for (size_t col = 0; col < n; ++col) {
      names[col] = Truncate(columns_[col].name, options_.max_cell_width);
      types[col] = Truncate(ToLower(columns_[col].type.name), options_.max_cell_width);
      widths[col] = std::max(DisplayWidth(names[col]), DisplayWidth(types[col]));
      for (const auto& row : cells_) widths[col] = std::max(widths[col], DisplayWidth(row[col]));
    }
    std::string buf;
    AppendRule(widths, "┌", "┬", "┐", buf);
    AppendLine(names, widths, /*right_align=*/{}, buf);
    AppendLine(types, widths, {}, buf);
    AppendRule(widths, "├", "┼", "┤", buf);
    std::vector<bool> right(n);
    for (size_t col = 0; col < n; ++col) right[col] = IsNumeric(columns_[col].type.kind);
    for (const auto& row : cells_) AppendLine(row, widths, right, buf);
    AppendRule(widths, "└", "┴", "┘", buf);
    buf += StrCat(total_rows_, total_rows_ == 1 ? " row" : " rows");
    if (cells_.size() < total_rows_) {
      buf += StrCat(" (first ", cells_.size(), " shown; --format csv or jsonl prints all)");
    }
    buf += '\n';
    out_ << buf;
    out_.flush();
    return CheckStream(out_);
  }

  bool Fail(const Status&) override { return false; }

 private:
  static void AppendRule(const std::vector<size_t>& widths, const char* left, const char* mid,
                         const char* right, std::string& buf) {
    buf += left;
    for (size_t col = 0; col < widths.size(); ++col) {
      if (col > 0) buf += mid;
      for (size_t k = 0; k < widths[col] + 2; ++k) buf += "─";
    }
    buf += right;
    buf += '\n';
  }

  static void AppendLine(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
                         const std::vector<bool>& right_align, std::string& buf) {
    buf += "│";
    for (size_t col = 0; col < widths.size(); ++col) {
      std::string pad(widths[col] - DisplayWidth(cells[col]), ' ');
      bool right = col < right_align.size() && right_align[col];
      buf += ' ';
      buf += right ? pad + cells[col] : cells[col] + pad;
      buf += " │";
    }
    buf += '\n';
  }

  std::ostream& out_;
  TableOptions options_;
  std::vector<ResultColumn> columns_;
  std::vector<std::vector<std::string>> cells_;
  size_t total_rows_ = 0;
};

}  // namespace

size_t DisplayWidth(std::string_view s) {
  size_t width = 0, i = 0;
  while (i < s.size()) width += CodePointWidth(NextCodePoint(s, i));
  return width;
}

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  std::string lower = ToLower(name);
  if (lower == "table") return OutputFormat::kTable;
  if (lower == "csv") return OutputFormat::kCsv;
  if (lower == "json") return OutputFormat::kJson;
  if (lower == "jsonl") return OutputFormat::kJsonl;
  return Status::InvalidArgument(StrCat("unknown output format '", name, "'"))
      .WithHint("use one of: table, csv, json, jsonl");
}

std::string_view OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable: return "table";
    case OutputFormat::kCsv: return "csv";
    case OutputFormat::kJson: return "json";
    case OutputFormat::kJsonl: return "jsonl";
  }
  return "table";
}

std::unique_ptr<ResultPrinter> MakePrinter(OutputFormat format, std::ostream& out,
                                           const TableOptions& table_options) {
  switch (format) {
    case OutputFormat::kCsv: return std::make_unique<CsvPrinter>(out);
    case OutputFormat::kJson: return std::make_unique<JsonPrinter>(out);
    case OutputFormat::kJsonl: return std::make_unique<JsonlPrinter>(out);
    case OutputFormat::kTable: break;
  }
  return std::make_unique<TablePrinter>(out, table_options);
}

std::string ErrorToJson(const Status& status) {
  return StrCat("{\"error\":{\"code\":", JsonQuote(StatusCodeName(status.code())),
                ",\"message\":", JsonQuote(status.message()), ",\"hint\":",
                status.hint().empty() ? std::string("null") : JsonQuote(status.hint()), "}}");
}

}  // namespace lake::cli
