#include "cli/sql_text.h"

#include <cctype>
#include <functional>

namespace lake::cli {
namespace {

// Walks `sql` and calls on_terminator(pos) at each top-level ';' and on_code(pos) at each
// other top-level character that is not blank and not inside a comment. Unterminated
// quotes or comments swallow the rest of the text; then it returns false (the statement
// is not complete).
bool Scan(std::string_view sql, const std::function<void(size_t)>& on_terminator,
          const std::function<void(size_t)>& on_code) {
  size_t i = 0;
  const size_t n = sql.size();
  while (i < n) {
    char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      on_code(i);
      size_t j = i + 1;
      while (j < n) {
        if (sql[j] == c) {
          if (j + 1 < n && sql[j + 1] == c) {  // doubled quote: an escaped quote
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      i = j + 1;  // past the closing quote (or past the end when unterminated)
      if (j >= n) return false;
      continue;
    }
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      size_t eol = sql.find('\n', i);
      if (eol == std::string_view::npos) return true;  // a comment to the end is fine
      i = eol + 1;
      continue;
    }
    if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      if (end == std::string_view::npos) return false;
      i = end + 2;
      continue;
    }
    if (c == '$') {
      // $tag$ … $tag$ where tag is empty or an identifier; "$1" parameters are not tags.
      size_t j = i + 1;
      while (j < n && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
      bool is_tag = j < n && sql[j] == '$' &&
                    (j == i + 1 || !std::isdigit(static_cast<unsigned char>(sql[i + 1])));
      if (is_tag) {
        on_code(i);
        std::string_view tag = sql.substr(i, j - i + 1);
        size_t end = sql.find(tag, j + 1);
        if (end == std::string_view::npos) return false;
        i = end + tag.size();
        continue;
      }
    }
    if (c == ';') {
      on_terminator(i);
    } else if (!std::isspace(static_cast<unsigned char>(c))) {
      on_code(i);
    }
    ++i;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

bool EndsWithStatementTerminator(std::string_view sql) {
  bool saw_code = false;
  bool last_was_terminator = false;
  bool complete = false;
  bool closed = Scan(
      sql,
      [&](size_t) {
        if (saw_code) complete = true;
        last_was_terminator = true;
      },
      [&](size_t) {
        saw_code = true;
        last_was_terminator = false;
        complete = false;
      });
  // A lone ";" after a finished statement keeps it complete; an open quote or comment
  // means the user is still typing.
  if (!closed || !last_was_terminator) return false;
  return complete;
}

std::vector<std::string> SplitStatements(std::string_view sql) {
  std::vector<std::string> out;
  size_t start = 0;
  bool has_code = false;
  auto flush = [&](size_t end) {
    if (has_code) out.emplace_back(Trim(sql.substr(start, end - start)));
    start = end + 1;
    has_code = false;
  };
  (void)Scan(sql, flush, [&](size_t) { has_code = true; });  // open quote: last piece as is
  if (has_code) out.emplace_back(Trim(sql.substr(start)));
  return out;
}

}  // namespace lake::cli
