// See reorg_sql.h for the grammar.
#include "engine/internal/reorg_sql.h"

#include <optional>
#include <vector>

#include "base/strings.h"
#include "engine/internal/sql_tokens.h"

namespace lake::engine::internal {
namespace {

using sql_tokens::Token;
using sql_tokens::TokKind;
using sql_tokens::Tokenize;

class Parser {
 public:
  explicit Parser(std::string_view sql) : sql_(sql) {}

  ReorgParse Run() {
    std::optional<size_t> unterminated;
    t_ = Tokenize(sql_, unterminated);
    while (!t_.empty() && IsPunct(t_.size() - 1, ';')) t_.pop_back();
    if (!IsWord(0, "reorg")) return {};
    if (unterminated) return Error("lake: unterminated quote or comment", *unterminated);
    if (!IsWord(1, "table")) return Expected("TABLE after REORG", 1);
    ReorgParse out;
    OptimizeSpec& spec = out.spec;
    spec.purge = true;
    size_t i = 2;
    if (IsWord(i, "delta") && IsPunct(i + 1, '.') && i + 2 < t_.size() &&
        t_[i + 2].kind == TokKind::kBacktick) {
      spec.path = t_[i + 2].value;
      spec.table = Text(i, i + 2);
      i += 3;
    } else if (i < t_.size() && t_[i].kind == TokKind::kString) {
      spec.path = t_[i].value;
      spec.table = Text(i, i);
      ++i;
    } else if (IsName(i) && !IsWord(i, "where") && !IsWord(i, "apply")) {
      const size_t first = i++;
      while (IsPunct(i, '.') && IsName(i + 1)) i += 2;
      spec.table = Text(first, i - 1);
    } else {
      return Expected("a table name or delta.`/path` after REORG TABLE", i);
    }
    if (IsWord(i, "where")) {
      // The predicate runs to the APPLY outside parentheses.
      const size_t begin = i + 1;
      size_t j = begin;
      int depth = 0;
      for (; j < t_.size(); ++j) {
        if (IsPunct(j, '(')) ++depth;
        if (IsPunct(j, ')')) --depth;
        if (depth == 0 && IsWord(j, "apply")) break;
      }
      if (j == begin) return Expected("a partition predicate after WHERE", j);
      spec.where = Text(begin, j - 1);
      i = j;
    }
    if (!IsWord(i, "apply")) return Expected("WHERE or APPLY", i);
    if (!IsPunct(i + 1, '(')) return Expected("'(' after APPLY", i + 1);
    i += 2;
    if (IsWord(i, "upgrade")) {
      return Error(StrCat("lake: REORG TABLE ... APPLY (UPGRADE UNIFORM(...)) is not supported; "
                          "feature 'icebergCompatV2': lake does not write Iceberg-compatible "
                          "tables ",
                          Near(i)),
                   PositionOf(i));
    }
    if (!IsWord(i, "purge")) return Expected("PURGE in APPLY (...)", i);
    if (!IsPunct(i + 1, ')')) return Expected("')' after PURGE", i + 1);
    i += 2;
    if (i < t_.size()) return Expected("the end of the statement", i);
    out.kind = ReorgParse::Kind::kParsed;
    return out;
  }

 private:
  bool IsWord(size_t i, std::string_view word) const {
    return i < t_.size() && t_[i].kind == TokKind::kWord && ToLower(t_[i].value) == word;
  }
  bool IsPunct(size_t i, char c) const {
    return i < t_.size() && t_[i].kind == TokKind::kOther && t_[i].value[0] == c;
  }
  bool IsName(size_t i) const {
    return i < t_.size() && (t_[i].kind == TokKind::kWord || t_[i].kind == TokKind::kQuotedIdent ||
                             t_[i].kind == TokKind::kBacktick);
  }
  // The source text of tokens first..last.
  std::string Text(size_t first, size_t last) const {
    return std::string(sql_.substr(t_[first].begin, t_[last].end - t_[first].begin));
  }
  size_t PositionOf(size_t i) const { return i < t_.size() ? t_[i].begin : sql_.size(); }
  std::string Near(size_t i) const {
    if (i >= t_.size()) return "near the end of the statement";
    return StrCat("near '", sql_.substr(t_[i].begin, t_[i].end - t_[i].begin), "'");
  }
  ReorgParse Error(std::string message, size_t position) const {
    ReorgParse r;
    r.kind = ReorgParse::Kind::kError;
    r.error = std::move(message);
    r.error_position = position;
    return r;
  }
  ReorgParse Expected(std::string_view what, size_t i) const {
    return Error(StrCat("lake: expected ", what, " ", Near(i)), PositionOf(i));
  }

  std::string_view sql_;
  std::vector<Token> t_;
};

}  // namespace

ReorgParse ParseReorgSql(std::string_view sql) { return Parser(sql).Run(); }

}  // namespace lake::engine::internal
