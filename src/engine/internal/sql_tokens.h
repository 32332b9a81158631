// A small tokenizer for lake's whole-statement SQL parsers (maintenance_sql.h,
// restore_vacuum_sql.h): words, numbers, '...' strings, "..." identifiers, `...` paths
// (doubled quotes escape), -- and /* */ comments skipped, any other byte one token.
// No DuckDB types.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lake::engine::internal::sql_tokens {

enum class TokKind { kWord, kNumber, kString, kQuotedIdent, kBacktick, kOther };

struct Token {
  TokKind kind;
  size_t begin = 0, end = 0;  // byte span in the input
  std::string value;          // unquoted text for quoted kinds, else raw
};

// Splits `s` into tokens; an unterminated quote or comment sets `unterminated_at` and stops.
std::vector<Token> Tokenize(std::string_view s, std::optional<size_t>& unterminated_at);

}  // namespace lake::engine::internal::sql_tokens
