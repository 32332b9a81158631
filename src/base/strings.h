// Small string helpers shared by every layer.
#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace lake {

// Concatenates the stream representations of its arguments: StrCat("v", 3) == "v3".
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// Joins `parts` with `sep`.
std::string StrJoin(const std::vector<std::string>& parts, std::string_view sep);
// Splits on `sep`; keeps empty pieces.
std::vector<std::string> StrSplit(std::string_view s, char sep);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
std::string ToLower(std::string_view s);
// Parses a whole decimal integer; nullopt on anything else (sign allowed, no spaces).
std::optional<int64_t> ParseInt64(std::string_view s);
// Zero-pads `v` to `width` digits ("%020lld" for log file names).
std::string ZeroPad(int64_t v, int width);
// Quotes `s` as a SQL string literal: 'it''s', so any text (a path) is safe to embed in SQL.
std::string SqlQuote(std::string_view s);

// Returns `s` as a double-quoted SQL identifier ("a""b" for a"b).
std::string SqlIdent(std::string_view s);
// Quotes `s` as a JSON string literal (with escapes).
std::string JsonQuote(std::string_view s);
// Appends JsonQuote(s) to `out` in place: for hot paths (one call per jsonl cell).
void AppendJsonQuoted(std::string_view s, std::string& out);

}  // namespace lake
