// See sql_rewrite.h for the forms and invariants.
//
// The tokenizer knows just enough of DuckDB's lexical rules to never mistake quoted text or
// comments for keywords: '...' strings ('' escapes; E'...' with backslash escapes),
// "..." identifiers ("" escapes), `...` paths (`` escapes), $tag$...$tag$ strings, -- and
// nested /* */ comments. Everything else is words, numbers and single punctuation chars.
#include "engine/internal/sql_rewrite.h"

#include <cctype>
#include <optional>
#include <variant>
#include <vector>

#include "base/strings.h"
#include "engine/internal/maintenance_sql.h"
#include "engine/internal/reorg_sql.h"
#include "engine/internal/restore_vacuum_sql.h"
#include "engine/internal/spark_ddl.h"

namespace lake::engine::internal {
namespace {

enum class TokKind { kWord, kString, kQuotedIdent, kBacktick, kNumber, kParam, kPunct };

struct Token {
  TokKind kind;
  size_t begin = 0, end = 0;  // byte span in the input
  std::string value;          // unquoted text for strings/identifiers/backticks, else raw
};

struct Tokens {
  std::vector<Token> tokens;
  // Set when a quote or comment never closes: the byte offset where it opened.
  std::optional<size_t> unterminated_at;
  char unterminated_quote = 0;
};

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool IsWordStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsWordChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

// Reads a quoted run starting at `pos` (which holds `quote`); a doubled quote is one quote
// character. Returns the end offset (past the closing quote) or nullopt if unterminated.
std::optional<size_t> ReadQuoted(std::string_view s, size_t pos, char quote, bool backslash_escapes,
                                 std::string& value) {
  size_t i = pos + 1;
  while (i < s.size()) {
    char c = s[i];
    if (backslash_escapes && c == '\\' && i + 1 < s.size()) {
      value += s[i + 1];
      i += 2;
      continue;
    }
    if (c == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) {
        value += quote;
        i += 2;
        continue;
      }
      return i + 1;
    }
    value += c;
    ++i;
  }
  return std::nullopt;
}

Tokens Tokenize(std::string_view s) {
  Tokens out;
  size_t i = 0;
  auto unterminated = [&](size_t at, char quote) {
    out.unterminated_at = at;
    out.unterminated_quote = quote;
  };
  while (i < s.size()) {
    unsigned char c = s[i];
    if (std::isspace(c)) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      // Block comments nest, as in PostgreSQL (and DuckDB's parser derived from it).
      size_t start = i;
      int depth = 0;
      while (i < s.size()) {
        if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (s[i] == '*' && i + 1 < s.size() && s[i + 1] == '/') {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
      if (depth != 0) {
        unterminated(start, '*');
        return out;
      }
    } else if (c == '\'' || c == '"' || c == '`') {
      Token t{c == '\''  ? TokKind::kString
              : c == '"' ? TokKind::kQuotedIdent
                         : TokKind::kBacktick,
              i, i, ""};
      std::optional<size_t> end = ReadQuoted(s, i, static_cast<char>(c), false, t.value);
      if (!end) {
        unterminated(i, static_cast<char>(c));
        return out;
      }
      t.end = *end;
      i = *end;
      out.tokens.push_back(std::move(t));
    } else if ((c == 'e' || c == 'E') && i + 1 < s.size() && s[i + 1] == '\'') {
      Token t{TokKind::kString, i, i, ""};
      std::optional<size_t> end = ReadQuoted(s, i + 1, '\'', true, t.value);
      if (!end) {
        unterminated(i, '\'');
        return out;
      }
      t.end = *end;
      i = *end;
      out.tokens.push_back(std::move(t));
    } else if (c == '$' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      size_t start = i++;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      out.tokens.push_back({TokKind::kParam, start, i, std::string(s.substr(start, i - start))});
    } else if (c == '$') {
      // Dollar-quoted string: $tag$ ... $tag$ (tag may be empty).
      size_t tag_end = i + 1;
      while (tag_end < s.size() && IsWordChar(s[tag_end]) && s[tag_end] != '$') ++tag_end;
      if (tag_end < s.size() && s[tag_end] == '$') {
        std::string_view tag = s.substr(i, tag_end - i + 1);
        size_t close = s.find(tag, tag_end + 1);
        if (close == std::string_view::npos) {
          unterminated(i, '$');
          return out;
        }
        out.tokens.push_back({TokKind::kString, i, close + tag.size(),
                              std::string(s.substr(tag_end + 1, close - tag_end - 1))});
        i = close + tag.size();
      } else {
        out.tokens.push_back({TokKind::kPunct, i, i + 1, "$"});
        ++i;
      }
    } else if (IsWordStart(c)) {
      size_t start = i;
      while (i < s.size() && IsWordChar(s[i])) ++i;
      out.tokens.push_back({TokKind::kWord, start, i, std::string(s.substr(start, i - start))});
    } else if (std::isdigit(c)) {
      size_t start = i;
      while (i < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == '_')) {
        ++i;
      }
      out.tokens.push_back({TokKind::kNumber, start, i, std::string(s.substr(start, i - start))});
    } else {
      out.tokens.push_back({TokKind::kPunct, i, i + 1, std::string(1, static_cast<char>(c))});
      ++i;
    }
  }
  return out;
}

bool IsWord(const std::vector<Token>& t, size_t i, std::string_view word) {
  return i < t.size() && t[i].kind == TokKind::kWord && ToLower(t[i].value) == word;
}
bool IsPunct(const std::vector<Token>& t, size_t i, char c) {
  return i < t.size() && t[i].kind == TokKind::kPunct && t[i].value[0] == c;
}

// Thrown-free error plumbing: the first syntax error wins and stops the rewrite.
struct SyntaxError {
  std::string message;
  size_t position;
};

class Rewriter {
 public:
  explicit Rewriter(std::string_view sql) : sql_(sql) {}

  SqlRewrite Run() {
    Tokens tokenized = Tokenize(sql_);
    t_ = std::move(tokenized.tokens);
    if (tokenized.unterminated_at) {
      // An unterminated backquote right after `delta.` is ours to report; any other
      // unterminated quote or comment is DuckDB's.
      size_t n = t_.size();
      if (tokenized.unterminated_quote == '`' && n >= 2 && IsPunct(t_, n - 1, '.') &&
          IsWord(t_, n - 2, "delta")) {
        return Error(
            {"lake: unterminated backquoted path after delta.", *tokenized.unterminated_at});
      }
      return {};
    }
    if (IsWord(t_, 0, "create") || (IsWord(t_, 0, "alter") && IsWord(t_, 1, "table")) ||
        (IsWord(t_, 0, "show") && IsWord(t_, 1, "tblproperties"))) {
      // Spark DDL (spark_ddl.h): validated here, so syntax errors surface at parse time;
      // lake_ddl parses the same text again and runs it.
      DdlParse ddl = ParseSparkDdl(sql_);
      if (ddl.kind == DdlParse::Kind::kError) return Error({ddl.error, ddl.error_position});
      const auto* create = std::get_if<CreateTableSpec>(&ddl.statement);
      if (ddl.kind == DdlParse::Kind::kParsed && create && create->as_query && !create->path &&
          !create->columns) {
        return RewriteCtas(*create);
      }
      if (ddl.kind == DdlParse::Kind::kParsed) {
        SqlRewrite r;
        r.kind = SqlRewrite::Kind::kRewritten;
        r.sql = StrCat("SELECT * FROM lake_ddl(", SqlQuote(sql_), ")");
        return r;
      }
    }
    if (IsWord(t_, 0, "restore") || IsWord(t_, 0, "vacuum")) {
      // RESTORE / VACUUM (restore_vacuum_sql.h), run by lake_restore / lake_vacuum.
      RestoreVacuumParse rv = ParseRestoreVacuum(sql_);
      if (rv.kind == RestoreVacuumParse::Kind::kError) return Error({rv.error, rv.error_position});
      if (rv.kind == RestoreVacuumParse::Kind::kParsed) {
        SqlRewrite r;
        r.kind = SqlRewrite::Kind::kRewritten;
        r.sql = StrCat("SELECT * FROM ",
                       std::holds_alternative<RestoreSpec>(rv.statement) ? "lake_restore("
                                                                         : "lake_vacuum(",
                       SqlQuote(sql_), ")");
        return r;
      }
    }
    if (IsWord(t_, 0, "optimize") || IsWord(t_, 0, "convert")) {
      // OPTIMIZE / CONVERT TO DELTA (maintenance_sql.h), run by lake_optimize / lake_convert.
      MaintenanceParse m = ParseMaintenanceSql(sql_);
      if (m.kind == MaintenanceParse::Kind::kError) return Error({m.error, m.error_position});
      if (m.kind == MaintenanceParse::Kind::kParsed) {
        SqlRewrite r;
        r.kind = SqlRewrite::Kind::kRewritten;
        r.sql = StrCat("SELECT * FROM ",
                       std::holds_alternative<OptimizeSpec>(m.statement) ? "lake_optimize("
                                                                         : "lake_convert(",
                       SqlQuote(sql_), ")");
        return r;
      }
    }
    if (IsWord(t_, 0, "reorg")) {
      // REORG TABLE ... APPLY (PURGE) (reorg_sql.h), run by lake_optimize.
      ReorgParse reorg = ParseReorgSql(sql_);
      if (reorg.kind == ReorgParse::Kind::kError) return Error({reorg.error, reorg.error_position});
      if (reorg.kind == ReorgParse::Kind::kParsed) {
        SqlRewrite r;
        r.kind = SqlRewrite::Kind::kRewritten;
        r.sql = StrCat("SELECT * FROM lake_optimize(", SqlQuote(sql_), ")");
        return r;
      }
    }
    if (IsWord(t_, 0, "merge")) {
      // A MERGE writes its target's latest version: time travel on the target is refused
      // here, where its spelling is still known (DuckDB's MERGE has no AT clause there).
      size_t j = IsWord(t_, 1, "into") ? 2 : IsWord(t_, 4, "into") ? 5 : t_.size();
      while (j < t_.size()) {
        if (IsAtVersionAt(j) || IsTimeTravelAt(j + 1)) {
          const size_t at = j + 1;
          return Error({StrCat("lake: MERGE INTO writes the latest version of its target; "
                               "remove the time travel at position ",
                               t_[at].begin + 1, " (a MERGE source may travel)"),
                        t_[at].begin});
        }
        if (!IsPunct(t_, j + 1, '.')) break;
        j += 2;
      }
    }
    if (IsWord(t_, 0, "merge") && IsWord(t_, 1, "with") && IsWord(t_, 2, "schema") &&
        IsWord(t_, 3, "evolution") && IsWord(t_, 4, "into")) {
      // MERGE WITH SCHEMA EVOLUTION INTO ... (lake_merge.h): DuckDB's MERGE plus a flag; the
      // rest may hold other lake forms.
      const std::string plain = StrCat("MERGE ", sql_.substr(t_[4].begin));
      SqlRewrite r = RewriteLakeSql(plain);
      if (r.kind == SqlRewrite::Kind::kError) {
        r.error_position += t_[4].begin - 6;
        return r;
      }
      if (r.kind == SqlRewrite::Kind::kNotOurs) r.sql = plain;
      r.kind = SqlRewrite::Kind::kRewritten;
      r.merge_schema_evolution = true;
      return r;
    }
    if (IsWord(t_, 0, "insert")) {
      std::optional<SqlRewrite> insert = RewriteInsert();
      if (insert) return std::move(*insert);
    }
    std::optional<SyntaxError> err;
    bool describe = IsWord(t_, 0, "describe") || IsWord(t_, 0, "desc");
    if (describe && (IsWord(t_, 1, "history") || IsWord(t_, 1, "detail"))) {
      err = RewriteDescribe();
    } else if (describe) {
      err = RewriteDescribeTable();
    } else if (IsWord(t_, 0, "show") && IsWord(t_, 1, "schemas")) {
      err = RewriteShow();
    } else if (IsWord(t_, 0, "show") && IsWord(t_, 1, "tables")) {
      err = RewriteShow();
    } else {
      err = RewriteRefs();
    }
    if (err) return Error(*err);
    if (!changed_) return {};
    out_ += sql_.substr(copied_to_);
    SqlRewrite r;
    r.kind = SqlRewrite::Kind::kRewritten;
    r.sql = std::move(out_);
    return r;
  }

 private:
  struct Ref {
    std::string path;
    size_t next;  // token index after the reference
  };
  struct TimeTravel {
    std::optional<std::string> version;    // integer literal text
    std::optional<std::string> timestamp;  // timestamp literal value (unquoted)
    size_t next;
  };

  static SqlRewrite Error(const SyntaxError& e) {
    SqlRewrite r;
    r.kind = SqlRewrite::Kind::kError;
    r.error = e.message;
    r.error_position = e.position;
    return r;
  }

  // "near 'x' at position 12" / "near the end of the statement".
  SyntaxError Expected(std::string_view what, size_t i) const {
    if (i >= t_.size() || (IsPunct(t_, i, ';') && i + 1 == t_.size())) {
      return {StrCat("lake: expected ", what, " near the end of the statement"), sql_.size()};
    }
    std::string_view text = sql_.substr(t_[i].begin, t_[i].end - t_[i].begin);
    if (text.size() > 40) text = text.substr(0, 40);
    return {StrCat("lake: expected ", what, " near \"", text, "\" at position ", t_[i].begin + 1),
            t_[i].begin};
  }

  void Replace(size_t begin, size_t end, std::string_view text) {
    out_ += sql_.substr(copied_to_, begin - copied_to_);
    out_ += text;
    copied_to_ = end;
    changed_ = true;
  }

  // The end (token index) of a table alias starting at token `i` (`AS name` or a bare name
  // that is not a keyword able to follow a table reference), or nullopt.
  std::optional<size_t> AliasEndAt(size_t i) const {
    if (IsWord(t_, i, "as")) {
      if (i + 1 < t_.size() &&
          (t_[i + 1].kind == TokKind::kWord || t_[i + 1].kind == TokKind::kQuotedIdent)) {
        return i + 2;
      }
      return std::nullopt;
    }
    if (i >= t_.size()) return std::nullopt;
    if (t_[i].kind == TokKind::kQuotedIdent) return i + 1;
    if (t_[i].kind != TokKind::kWord) return std::nullopt;
    static constexpr std::string_view kFollowers[] = {
        "on",     "where",   "join",      "left",     "right",  "inner",  "full",
        "cross",  "natural", "using",     "group",    "order",  "limit",  "union",
        "except", "intersect", "window",  "having",   "qualify", "when",  "set",
        "offset", "fetch",   "sample",    "tablesample", "positional", "asof", "anti",
        "semi",   "returning", "lateral", "pivot",    "unpivot", "values", "outer"};
    for (std::string_view w : kFollowers) {
      if (IsWord(t_, i, w)) return std::nullopt;
    }
    return i + 1;
  }
  // DuckDB takes a table's alias before its AT clause (`t AS s AT (...)`), Spark after the
  // time travel clause (`t VERSION AS OF 3 AS s`). Replaces the clause's bytes [begin, end of
  // token next - 1) by `clause`, or, when an alias starts at token `next`, the bytes from the
  // table name's end `name_end` through the alias by the alias and then `clause`. Returns the
  // token after what was replaced.
  size_t ReplaceWithAliasFirst(size_t name_end, size_t begin, size_t next,
                               std::string_view clause) {
    std::optional<size_t> alias_end = AliasEndAt(next);
    if (!alias_end) {
      Replace(begin, t_[next - 1].end, clause);
      return next;
    }
    while (!clause.empty() && clause.front() == ' ') clause.remove_prefix(1);
    const std::string_view alias =
        sql_.substr(t_[next].begin, t_[*alias_end - 1].end - t_[next].begin);
    Replace(name_end, t_[*alias_end - 1].end, StrCat(" ", alias, " ", clause));
    return *alias_end;
  }

  bool IsDeltaPathAt(size_t i) const {
    return IsWord(t_, i, "delta") && IsPunct(t_, i + 1, '.') && i + 2 < t_.size() &&
           t_[i + 2].kind == TokKind::kBacktick && !(i > 0 && IsPunct(t_, i - 1, '.'));
  }

  bool IsTimeTravelAt(size_t i) const {
    return (IsWord(t_, i, "version") || IsWord(t_, i, "timestamp")) && IsWord(t_, i + 1, "as") &&
           IsWord(t_, i + 2, "of");
  }

  // `name@v12` or `name@20240101000000000` with no spaces around '@', after a name token at
  // `i` ('@' is also DuckDB's absolute-value operator, which never touches a name like this).
  bool IsAtVersionAt(size_t i) const {
    if (i + 2 >= t_.size()) return false;
    if (t_[i].kind != TokKind::kWord && t_[i].kind != TokKind::kQuotedIdent) return false;
    if (!IsPunct(t_, i + 1, '@') || t_[i + 1].begin != t_[i].end) return false;
    if (t_[i + 2].begin != t_[i + 1].end) return false;
    const Token& at = t_[i + 2];
    auto all_digits = [](std::string_view d) {
      if (d.empty()) return false;
      for (char c : d) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      }
      return true;
    };
    if (at.kind == TokKind::kWord) {
      return at.value.size() > 1 && (at.value[0] == 'v' || at.value[0] == 'V') &&
             all_digits(std::string_view(at.value).substr(1));
    }
    return at.kind == TokKind::kNumber && at.value.size() == 17 && all_digits(at.value);
  }

  // A (possibly qualified) table name at `i`: up to three words or "quoted" identifiers
  // separated by '.'. Returns the dotted text (quotes kept for quoted parts).
  std::optional<Ref> ParseName(size_t i) const {
    std::string text;
    size_t parts = 0;
    while (i < t_.size() &&
           (t_[i].kind == TokKind::kWord || t_[i].kind == TokKind::kQuotedIdent) && parts < 3) {
      if (t_[i].kind == TokKind::kQuotedIdent) {
        text += StrCat("\"", t_[i].value, "\"");
      } else {
        text += t_[i].value;
      }
      ++parts;
      ++i;
      if (IsPunct(t_, i, '.') && i + 1 < t_.size() &&
          (t_[i + 1].kind == TokKind::kWord || t_[i + 1].kind == TokKind::kQuotedIdent)) {
        text += ".";
        ++i;
        continue;
      }
      break;
    }
    if (parts == 0) return std::nullopt;
    return Ref{text, i};
  }

  // Checks that only an optional ';' is left at `i`.
  std::optional<SyntaxError> ExpectEnd(size_t i, std::string_view what) const {
    if (IsPunct(t_, i, ';')) ++i;
    if (i < t_.size()) return Expected(what, i);
    return std::nullopt;
  }

  // CREATE TABLE ... <Spark clauses> AS <query>: DuckDB's CTAS plus the clauses. (A column
  // list or a delta.`/path` target stays with lake_ddl, which refuses them by name.)
  SqlRewrite RewriteCtas(const CreateTableSpec& spec) const {
    std::string_view query = sql_.substr(spec.query_begin);
    while (!query.empty() && (query.back() == ';' || std::isspace(static_cast<unsigned char>(
                                                         query.back())))) {
      query.remove_suffix(1);
    }
    std::string query_sql(query);
    SqlRewrite inner = RewriteLakeSql(query);  // delta.`/path`, VERSION AS OF, ... inside
    if (inner.kind == SqlRewrite::Kind::kError) {
      inner.error_position += spec.query_begin;
      return inner;
    }
    if (inner.kind == SqlRewrite::Kind::kRewritten) query_sql = inner.sql;
    SqlRewrite r;
    r.kind = SqlRewrite::Kind::kRewritten;
    r.sql = StrCat("CREATE ", spec.or_replace ? "OR REPLACE " : "", "TABLE ",
                   spec.if_not_exists ? "IF NOT EXISTS " : "", spec.table, " AS ", query_sql);
    r.ctas_table = spec.table;
    r.ctas_clauses.location = spec.location.value_or("");
    r.ctas_clauses.partition_columns = spec.partition_columns;
    r.ctas_clauses.properties = spec.properties;
    r.ctas_clauses.comment = spec.comment.value_or("");
    return r;
  }

  static bool IsQueryStart(const std::vector<Token>& t, size_t i) {
    return IsWord(t, i, "select") || IsWord(t, i, "with") || IsWord(t, i, "values") ||
           IsWord(t, i, "from") || IsWord(t, i, "table");
  }

  // Returns the index of the token closing the '(' at `open`, or nullopt.
  std::optional<size_t> Closing(size_t open) const {
    int depth = 0;
    for (size_t i = open; i < t_.size(); ++i) {
      if (IsPunct(t_, i, '(')) ++depth;
      if (IsPunct(t_, i, ')') && --depth == 0) return i;
    }
    return std::nullopt;
  }

  // Spark's INSERT forms (6); nullopt when the statement is a plain INSERT (DuckDB's, with
  // the usual reference rewrites).
  std::optional<SqlRewrite> RewriteInsert() {
    InsertStatement st;
    size_t i = 1;
    bool ours = false;
    if (IsWord(t_, i, "with")) {
      if (!IsWord(t_, i + 1, "schema") || !IsWord(t_, i + 2, "evolution")) {
        return std::nullopt;  // DuckDB's own error
      }
      st.clauses.schema_evolution = true;
      ours = true;
      i += 3;
    }
    if (IsWord(t_, i, "overwrite")) {
      st.clauses.mode = InsertClauses::Mode::kOverwrite;
      ours = true;
    } else if (!IsWord(t_, i, "into")) {
      if (!ours) return std::nullopt;
      return Error(Expected("INTO or OVERWRITE after INSERT WITH SCHEMA EVOLUTION", i));
    }
    ++i;
    if (IsWord(t_, i, "table")) ++i;
    if (IsDeltaPathAt(i)) {
      st.table = PathTableName(t_[i + 2].value);
      i += 3;
    } else {
      std::optional<Ref> name = ParseName(i);
      if (!name) {
        if (!ours) return std::nullopt;
        return Error(Expected("a table name or delta.`/path`", i));
      }
      st.table = name->path;
      i = name->next;
    }
    if (IsWord(t_, i, "partition") && IsPunct(t_, i + 1, '(')) {
      ours = true;
      std::optional<size_t> close = Closing(i + 1);
      if (!close) return Error(Expected("')' closing the PARTITION clause", t_.size()));
      size_t j = i + 2;
      while (j < *close) {
        if (t_[j].kind != TokKind::kWord && t_[j].kind != TokKind::kQuotedIdent) {
          return Error(Expected("a partition column name in PARTITION (...)", j));
        }
        std::string column = t_[j].value;
        ++j;
        std::optional<std::string> value;
        if (IsPunct(t_, j, '=')) {
          size_t begin = j + 1;
          size_t k = begin;
          int depth = 0;
          while (k < *close && !(depth == 0 && IsPunct(t_, k, ','))) {
            if (IsPunct(t_, k, '(')) ++depth;
            if (IsPunct(t_, k, ')')) --depth;
            ++k;
          }
          if (k == begin) return Error(Expected("a value after '=' in PARTITION (...)", k));
          value = std::string(sql_.substr(t_[begin].begin, t_[k - 1].end - t_[begin].begin));
          j = k;
        }
        st.partition_spec.emplace_back(std::move(column), std::move(value));
        if (IsPunct(t_, j, ',')) {
          ++j;
        } else if (j != *close) {
          return Error(Expected("',' or ')' in PARTITION (...)", j));
        }
      }
      i = *close + 1;
    }
    if (st.clauses.mode == InsertClauses::Mode::kAppend && IsWord(t_, i, "replace")) {
      if (!IsWord(t_, i + 1, "where")) return Error(Expected("WHERE after REPLACE", i + 1));
      if (!st.partition_spec.empty()) {
        return Error({"lake: INSERT ... REPLACE WHERE cannot have a PARTITION clause; put the "
                      "partition condition into the predicate",
                      t_[i].begin});
      }
      ours = true;
      st.clauses.mode = InsertClauses::Mode::kReplaceWhere;
      size_t begin = i + 2;
      size_t k = begin;
      int depth = 0;
      // (`IS [NOT] DISTINCT FROM` is part of a predicate, not the query's FROM.)
      while (k < t_.size() &&
             !(depth == 0 && IsQueryStart(t_, k) && !IsWord(t_, k - 1, "distinct"))) {
        if (IsPunct(t_, k, '(')) ++depth;
        if (IsPunct(t_, k, ')')) --depth;
        ++k;
      }
      if (k == begin) return Error(Expected("a predicate after REPLACE WHERE", k));
      if (k >= t_.size()) {
        return Error(Expected("the query (SELECT, VALUES, WITH, FROM or TABLE) after the "
                              "REPLACE WHERE predicate",
                              k));
      }
      st.clauses.replace_where =
          std::string(sql_.substr(t_[begin].begin, t_[k - 1].end - t_[begin].begin));
      i = k;
    }
    if (!ours) return std::nullopt;
    if (IsWord(t_, i, "by") && IsWord(t_, i + 1, "name")) {
      st.by_name = true;
      i += 2;
    } else if (IsPunct(t_, i, '(') && !IsQueryStart(t_, i + 1) && !IsPunct(t_, i + 1, '(')) {
      std::optional<size_t> close = Closing(i);
      if (!close) return Error(Expected("')' closing the column list", t_.size()));
      std::vector<std::string> columns;
      for (size_t j = i + 1; j < *close; ++j) {
        if (t_[j].kind != TokKind::kWord && t_[j].kind != TokKind::kQuotedIdent) {
          return Error(Expected("a column name in the column list", j));
        }
        columns.push_back(t_[j].kind == TokKind::kQuotedIdent ? SqlIdent(t_[j].value)
                                                                : t_[j].value);
        if (j + 1 < *close && !IsPunct(t_, ++j, ',')) {
          return Error(Expected("',' in the column list", j));
        }
      }
      st.columns = std::move(columns);
      i = *close + 1;
    }
    if (i >= t_.size() || IsPunct(t_, i, ';')) return Error(Expected("the query to insert", i));
    std::string_view query = sql_.substr(t_[i].begin);
    while (!query.empty() && (query.back() == ';' || std::isspace(static_cast<unsigned char>(
                                                         query.back())))) {
      query.remove_suffix(1);
    }
    st.query = std::string(query);
    SqlRewrite inner = RewriteLakeSql(query);  // delta.`/path`, VERSION AS OF, ... inside
    if (inner.kind == SqlRewrite::Kind::kError) {
      inner.error_position += t_[i].begin;
      return inner;
    }
    if (inner.kind == SqlRewrite::Kind::kRewritten) st.query = inner.sql;
    SqlRewrite r;
    r.kind = SqlRewrite::Kind::kRewritten;
    r.sql = StrCat("INSERT INTO ", st.table, st.by_name ? " BY NAME" : "",
                   st.columns ? StrCat(" (", StrJoin(*st.columns, ", "), ")") : "", " ", st.query);
    r.insert = std::move(st);
    return r;
  }

  // SHOW SCHEMAS / SHOW TABLES [IN|FROM schema] (whole statements).
  std::optional<SyntaxError> RewriteShow() {
    if (IsWord(t_, 1, "schemas")) {
      if (auto e = ExpectEnd(2, "the end of the statement after SHOW SCHEMAS")) return e;
      Replace(0, sql_.size(), "SELECT * FROM lake_schemas()");
      return std::nullopt;
    }
    size_t i = 2;
    std::string call = "SELECT * FROM lake_tables()";
    if (IsWord(t_, i, "in") || IsWord(t_, i, "from")) {
      std::optional<Ref> schema = ParseName(i + 1);
      if (!schema) return Expected("a schema name after IN", i + 1);
      call = StrCat("SELECT * FROM lake_tables(", SqlQuote(schema->path), ")");
      i = schema->next;
    }
    if (auto e = ExpectEnd(i, "IN <schema> or the end of the statement")) return e;
    Replace(0, sql_.size(), call);
    return std::nullopt;
  }

  // DESCRIBE [TABLE] [EXTENDED] name (a whole statement DuckDB rejected).
  std::optional<SyntaxError> RewriteDescribeTable() {
    size_t i = 1;
    if (IsWord(t_, i, "table")) ++i;
    bool extended = false;
    if (IsWord(t_, i, "extended") || IsWord(t_, i, "formatted")) {
      extended = true;
      ++i;
    }
    if (i == 1) return std::nullopt;  // plain DESCRIBE ...: DuckDB's own statement
    std::optional<Ref> name = ParseName(i);
    if (!name) return Expected("a table name", i);
    if (auto e = ExpectEnd(name->next, "the end of the statement after the table name")) return e;
    Replace(0, sql_.size(), StrCat("SELECT * FROM lake_describe(", SqlQuote(name->path),
                                   extended ? ", extended := true" : "", ")"));
    return std::nullopt;
  }

  // A table reference of ours: delta.`path` or a quoted path.
  std::optional<Ref> ParseRef(size_t i) const {
    if (IsDeltaPathAt(i)) return Ref{t_[i + 2].value, i + 3};
    if (i < t_.size() && t_[i].kind == TokKind::kString) return Ref{t_[i].value, i + 1};
    return std::nullopt;
  }

  // Parses `VERSION AS OF n` / `TIMESTAMP AS OF 'ts'` at `i` (IsTimeTravelAt(i) holds).
  std::variant<TimeTravel, SyntaxError> ParseTimeTravel(size_t i) const {
    TimeTravel tt;
    size_t v = i + 3;
    if (IsWord(t_, i, "version")) {
      if (v >= t_.size() || t_[v].kind != TokKind::kNumber || !ParseInt64(t_[v].value) ||
          *ParseInt64(t_[v].value) < 0) {
        return Expected("a non-negative integer version after VERSION AS OF", v);
      }
      tt.version = t_[v].value;
      tt.next = v + 1;
      return tt;
    }
    // TIMESTAMP AS OF '...' or TIMESTAMP AS OF TIMESTAMP '...'.
    if (IsWord(t_, v, "timestamp") && v + 1 < t_.size() && t_[v + 1].kind == TokKind::kString) ++v;
    if (v >= t_.size() || t_[v].kind != TokKind::kString) {
      return Expected("a quoted timestamp after TIMESTAMP AS OF", v);
    }
    tt.timestamp = t_[v].value;
    tt.next = v + 1;
    return tt;
  }

  // The table reference at `i` is what a DML statement writes: INSERT INTO / MERGE INTO
  // (INTO before a table name only appears there), UPDATE, DELETE FROM.
  bool IsDmlTargetAt(size_t i) const {
    return (i >= 1 && IsWord(t_, i - 1, "into")) || (i == 1 && IsWord(t_, 0, "update")) ||
           (i == 2 && IsWord(t_, 0, "delete") && IsWord(t_, 1, "from"));
  }

  std::optional<SyntaxError> RewriteRefs() {
    size_t i = 0;
    while (i < t_.size()) {
      if (IsDeltaPathAt(i) && IsDmlTargetAt(i)) {
        Replace(t_[i].begin, t_[i + 2].end, PathTableName(t_[i + 2].value));
        i += 3;
        continue;
      }
      std::optional<Ref> ref;
      if (IsDeltaPathAt(i) || (t_[i].kind == TokKind::kString && IsTimeTravelAt(i + 1))) {
        ref = ParseRef(i);
      }
      if (ref) {
        std::string call = StrCat("delta_scan(", SqlQuote(ref->path));
        size_t end = t_[ref->next - 1].end;
        size_t next = ref->next;
        if (IsTimeTravelAt(next)) {
          auto tt = ParseTimeTravel(next);
          if (auto* e = std::get_if<SyntaxError>(&tt)) return *e;
          const TimeTravel& travel = std::get<TimeTravel>(tt);
          if (travel.version) call += StrCat(", version := ", *travel.version);
          if (travel.timestamp) {
            call += StrCat(", \"timestamp\" := ", SqlQuote(*travel.timestamp));
          }
          end = t_[travel.next - 1].end;
          next = travel.next;
        }
        call += ")";
        Replace(t_[i].begin, end, call);
        i = next;
        continue;
      }
      if (IsAtVersionAt(i)) {
        // name@v12 / name@yyyyMMddHHmmssSSS (Delta's shorthand): DuckDB's AT clause.
        const Token& at = t_[i + 2];
        std::string clause;
        if (at.kind == TokKind::kWord) {
          clause = StrCat(" AT (VERSION => ", at.value.substr(1), ")");
        } else {
          const std::string& d = at.value;
          clause = StrCat(" AT (TIMESTAMP => TIMESTAMP '", d.substr(0, 4), "-", d.substr(4, 2), "-",
                          d.substr(6, 2), " ", d.substr(8, 2), ":", d.substr(10, 2), ":",
                          d.substr(12, 2), ".", d.substr(14, 3), "')");
        }
        i = ReplaceWithAliasFirst(t_[i].end, t_[i].end, i + 3, clause);
        continue;
      }
      if (IsTimeTravelAt(i)) {
        // After a plain table name: DuckDB's AT clause (the catalog decides whether it
        // supports time travel). After anything else the clause has nothing to apply to.
        bool after_name =
            i > 0 && (t_[i - 1].kind == TokKind::kWord || t_[i - 1].kind == TokKind::kQuotedIdent);
        if (!after_name) {
          return SyntaxError{
              StrCat("lake: expected a table reference (delta.`/path`, '/path' or a table name) "
                     "before ",
                     ToUpper(t_[i].value), " AS OF at position ", t_[i].begin + 1),
              t_[i].begin};
        }
        auto tt = ParseTimeTravel(i);
        if (auto* e = std::get_if<SyntaxError>(&tt)) return *e;
        const TimeTravel& travel = std::get<TimeTravel>(tt);
        std::string at = travel.version ? StrCat("AT (VERSION => ", *travel.version, ")")
                                        : StrCat("AT (TIMESTAMP => TIMESTAMP ",
                                                 SqlQuote(*travel.timestamp), ")");
        i = ReplaceWithAliasFirst(t_[i - 1].end, t_[i].begin, travel.next, at);
        continue;
      }
      ++i;
    }
    return std::nullopt;
  }

  // DESCRIBE HISTORY <ref> [LIMIT n] / DESCRIBE DETAIL <ref>: the whole statement.
  std::optional<SyntaxError> RewriteDescribe() {
    bool history = IsWord(t_, 1, "history");
    std::optional<Ref> ref = ParseRef(2);
    bool by_name = false;
    if (!ref) {
      ref = ParseName(2);
      by_name = true;
    }
    if (!ref) return Expected("a table reference (a table name, delta.`/path` or '/path')", 2);
    size_t i = ref->next;
    std::optional<std::string> limit;
    if (history && IsWord(t_, i, "limit")) {
      if (i + 1 >= t_.size() || t_[i + 1].kind != TokKind::kNumber ||
          !ParseInt64(t_[i + 1].value) || *ParseInt64(t_[i + 1].value) < 0) {
        return Expected("a non-negative integer after LIMIT", i + 1);
      }
      limit = t_[i + 1].value;
      i += 2;
    }
    if (IsPunct(t_, i, ';')) ++i;
    if (i < t_.size())
      return Expected(history ? "LIMIT or the end of the statement" : "the end of the statement",
                      i);
    std::string call = StrCat("SELECT * FROM ", history ? "delta_history(" : "delta_detail(",
                              SqlQuote(ref->path));
    if (limit) call += StrCat(", \"limit\" := ", *limit);
    if (by_name) call += ", by_name := true";
    call += ")";
    Replace(0, sql_.size(), call);
    return std::nullopt;
  }

  std::string_view sql_;
  std::vector<Token> t_;
  std::string out_;
  size_t copied_to_ = 0;
  bool changed_ = false;
};

}  // namespace

std::string PathTableName(std::string_view path) {
  std::string quoted;
  for (char c : path) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return StrCat("lake.delta.\"", quoted, "\"");
}

SqlRewrite RewriteLakeSql(std::string_view sql) { return Rewriter(sql).Run(); }

Result<BuiltInsert> BuildInsertSql(const InsertStatement& statement,
                                   const std::vector<InsertTableColumn>& columns) {
  auto find = [&](std::string_view name) -> const InsertTableColumn* {
    for (const InsertTableColumn& c : columns) {
      if (ToLower(c.name) == ToLower(name)) return &c;
    }
    return nullptr;
  };
  BuiltInsert out;
  out.clauses = statement.clauses;
  std::vector<const InsertTableColumn*> statics;
  std::vector<std::string> static_values, conditions, display;
  for (const auto& [name, value] : statement.partition_spec) {
    const InsertTableColumn* column = find(name);
    if (column == nullptr || !column->is_partition) {
      return Status::InvalidArgument(
                 StrCat("INSERT INTO ", statement.table, ": PARTITION names ", name,
                        ", which is not a partition column of the table"))
          .WithHint("PARTITION (...) lists partition columns only; DESCRIBE EXTENDED shows them");
    }
    for (const InsertTableColumn* s : statics) {
      if (s == column) {
        return Status::InvalidArgument(
            StrCat("INSERT INTO ", statement.table, ": PARTITION names ", name, " twice"));
      }
    }
    if (!value) continue;  // dynamic: the query supplies it
    statics.push_back(column);
    std::string cast = StrCat("CAST(", *value, " AS ", column->duckdb_type, ")");
    static_values.push_back(cast);
    conditions.push_back(StrCat(SqlIdent(column->name), " IS NOT DISTINCT FROM ", cast));
    display.push_back(StrCat(name, " = ", *value));
  }
  out.clauses.static_partition_predicate = StrJoin(conditions, " AND ");
  out.clauses.static_partition_display = StrJoin(display, " AND ");
  auto is_static = [&](std::string_view name) {
    for (const InsertTableColumn* s : statics) {
      if (ToLower(s->name) == ToLower(name)) return true;
    }
    return false;
  };
  std::string head = StrCat("INSERT INTO ", statement.table);
  if (statics.empty()) {
    out.sql = StrCat(head, statement.by_name ? " BY NAME" : "",
                     statement.columns ? StrCat(" (", StrJoin(*statement.columns, ", "), ")") : "",
                     " ", statement.query);
    return out;
  }
  // The query's columns, then the static values.
  constexpr const char* kAlias = "__lake_insert_query";
  std::vector<std::string> selected = {StrCat(kAlias, ".*")};
  for (size_t s = 0; s < statics.size(); ++s) {
    selected.push_back(statement.by_name
                           ? StrCat(static_values[s], " AS ", SqlIdent(statics[s]->name))
                           : static_values[s]);
  }
  std::string target;
  if (statement.by_name) {
    target = " BY NAME";
  } else {
    std::vector<std::string> names;
    if (statement.columns) {
      for (const std::string& c : *statement.columns) {
        std::string unquoted = c.size() >= 2 && c.front() == '"' ? c.substr(1, c.size() - 2) : c;
        if (is_static(unquoted)) {
          return Status::InvalidArgument(
                     StrCat("INSERT INTO ", statement.table, ": column ", unquoted,
                            " has a static value in PARTITION (...) and is in the column list"))
              .WithHint("name it in one place only");
        }
        names.push_back(c);
      }
    } else {
      for (const InsertTableColumn& c : columns) {
        if (!is_static(c.name)) names.push_back(SqlIdent(c.name));
      }
    }
    for (const InsertTableColumn* s : statics) names.push_back(SqlIdent(s->name));
    target = StrCat(" (", StrJoin(names, ", "), ")");
  }
  out.sql = StrCat(head, target, " SELECT ", StrJoin(selected, ", "), " FROM (\n", statement.query,
                   "\n) AS ", kAlias);
  return out;
}

}  // namespace lake::engine::internal
