// See sql_tokens.h.
#include "engine/internal/sql_tokens.h"

#include <cctype>

namespace lake::engine::internal::sql_tokens {
namespace {

bool IsWordChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

}  // namespace

std::vector<Token> Tokenize(std::string_view s, std::optional<size_t>& unterminated_at) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (std::isspace(c)) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t close = s.find("*/", i + 2);
      if (close == std::string_view::npos) {
        unterminated_at = i;
        return out;
      }
      i = close + 2;
    } else if (c == '\'' || c == '"' || c == '`') {
      Token t{c == '\''  ? TokKind::kString
              : c == '"' ? TokKind::kQuotedIdent
                         : TokKind::kBacktick,
              i, i, ""};
      size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        if (s[j] == static_cast<char>(c)) {
          if (j + 1 < s.size() && s[j + 1] == static_cast<char>(c)) {  // doubled: one quote
            t.value += static_cast<char>(c);
            j += 2;
            continue;
          }
          closed = true;
          ++j;
          break;
        }
        t.value += s[j++];
      }
      if (!closed) {
        unterminated_at = i;
        return out;
      }
      t.end = j;
      i = j;
      out.push_back(std::move(t));
    } else if (std::isdigit(c) || (c == '.' && i + 1 < s.size() && std::isdigit(s[i + 1]))) {
      size_t start = i;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      out.push_back({TokKind::kNumber, start, i, std::string(s.substr(start, i - start))});
    } else if (IsWordChar(c)) {
      size_t start = i;
      while (i < s.size() && IsWordChar(s[i])) ++i;
      out.push_back({TokKind::kWord, start, i, std::string(s.substr(start, i - start))});
    } else {
      out.push_back({TokKind::kOther, i, i + 1, std::string(1, static_cast<char>(c))});
      ++i;
    }
  }
  return out;
}

}  // namespace lake::engine::internal::sql_tokens
