// See restore_vacuum_sql.h for the grammar.
#include "engine/internal/restore_vacuum_sql.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
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

  RestoreVacuumParse Run() {
    std::optional<size_t> unterminated;
    t_ = Tokenize(sql_, unterminated);
    while (!t_.empty() && IsPunct(t_.size() - 1, ';')) t_.pop_back();
    if (IsWord(0, "restore")) {
      if (unterminated) return Error("lake: unterminated quote or comment", *unterminated);
      return ParseRestore();
    }
    if (IsWord(0, "vacuum")) {
      // VACUUM, VACUUM ANALYZE, VACUUM FULL t (PostgreSQL's forms) belong to DuckDB. Spark's
      // VACUUM LITE|FULL t come after the table, so a leading keyword here is never ours.
      if (t_.size() < 2 || IsWord(1, "analyze") || IsWord(1, "full") || IsWord(1, "lite") ||
          IsWord(1, "verbose") || IsPunct(1, '(')) {
        return {};
      }
      if (unterminated) return Error("lake: unterminated quote or comment", *unterminated);
      return ParseVacuum();
    }
    return {};
  }

 private:
  bool IsWord(size_t i, std::string_view word) const {
    return i < t_.size() && t_[i].kind == TokKind::kWord && ToLower(t_[i].value) == word;
  }
  bool IsPunct(size_t i, char c) const {
    return i < t_.size() && t_[i].kind == TokKind::kOther && t_[i].value[0] == c;
  }
  bool IsNamePart(size_t i) const {
    return i < t_.size() && (t_[i].kind == TokKind::kWord || t_[i].kind == TokKind::kQuotedIdent ||
                             t_[i].kind == TokKind::kBacktick);
  }
  size_t PositionOf(size_t i) const { return i < t_.size() ? t_[i].begin : sql_.size(); }
  std::string Near(size_t i) const {
    if (i >= t_.size()) return "near the end of the statement";
    return StrCat("near \"", sql_.substr(t_[i].begin, t_[i].end - t_[i].begin), "\" at position ",
                  t_[i].begin + 1);
  }
  RestoreVacuumParse Error(std::string message, size_t position) const {
    RestoreVacuumParse r;
    r.kind = RestoreVacuumParse::Kind::kError;
    r.error = std::move(message);
    r.error_position = position;
    return r;
  }
  RestoreVacuumParse Expected(std::string_view what, size_t i) const {
    return Error(StrCat("lake: expected ", what, " ", Near(i)), PositionOf(i));
  }
  static RestoreVacuumParse Parsed(RestoreVacuumStatement statement) {
    RestoreVacuumParse r;
    r.kind = RestoreVacuumParse::Kind::kParsed;
    r.statement = std::move(statement);
    return r;
  }

  // A table at `i`: delta.`/path`, '/path' when `allow_string`, or a name of up to three
  // parts. Advances `i` past it.
  std::optional<RestoreVacuumTarget> ParseTarget(size_t& i, bool allow_string) const {
    RestoreVacuumTarget target;
    if (IsWord(i, "delta") && IsPunct(i + 1, '.') && i + 2 < t_.size() &&
        t_[i + 2].kind == TokKind::kBacktick) {
      target.path = t_[i + 2].value;
      target.table = StrCat("delta.`", t_[i + 2].value, "`");
      i += 3;
      return target;
    }
    if (allow_string && i < t_.size() && t_[i].kind == TokKind::kString) {
      target.path = t_[i].value;
      target.table = StrCat("delta.`", t_[i].value, "`");
      ++i;
      return target;
    }
    if (!IsNamePart(i)) return std::nullopt;
    std::string name;
    for (int parts = 0; parts < 3; ++parts) {
      const Token& t = t_[i];
      name += t.kind == TokKind::kWord ? t.value : StrCat("\"", t.value, "\"");
      ++i;
      if (parts < 2 && IsPunct(i, '.') && IsNamePart(i + 1)) {
        name += ".";
        ++i;
        continue;
      }
      break;
    }
    target.table = std::move(name);
    return target;
  }

  // RESTORE [TABLE] table [TO] {VERSION | TIMESTAMP} AS OF ...
  RestoreVacuumParse ParseRestore() {
    size_t i = 1;
    // "TABLE" is optional, so `RESTORE table TO ...` names a table called "table" only when
    // followed by TO/VERSION/TIMESTAMP.
    if (IsWord(i, "table") && !IsWord(i + 1, "to") && !IsWord(i + 1, "version") &&
        !IsWord(i + 1, "timestamp")) {
      ++i;
    }
    std::optional<RestoreVacuumTarget> target = ParseTarget(i, /*allow_string=*/false);
    if (!target) return Expected("a table name or delta.`/path` after RESTORE [TABLE]", i);
    RestoreSpec spec;
    spec.target = std::move(*target);
    if (IsWord(i, "to")) ++i;
    const bool version = IsWord(i, "version");
    if ((!version && !IsWord(i, "timestamp")) || !IsWord(i + 1, "as") || !IsWord(i + 2, "of")) {
      return Expected("TO VERSION AS OF n or TO TIMESTAMP AS OF 'timestamp'", i);
    }
    i += 3;
    if (version) {
      std::optional<int64_t> n;
      if (i < t_.size() && t_[i].kind == TokKind::kNumber) n = ParseInt64(t_[i].value);
      if (!n || *n < 0) return Expected("a non-negative integer version after VERSION AS OF", i);
      spec.version = *n;
    } else {
      // TIMESTAMP AS OF '...' or TIMESTAMP AS OF TIMESTAMP '...'.
      if (IsWord(i, "timestamp") && i + 1 < t_.size() && t_[i + 1].kind == TokKind::kString) ++i;
      if (i >= t_.size() || t_[i].kind != TokKind::kString) {
        return Expected("a quoted timestamp after TIMESTAMP AS OF", i);
      }
      spec.timestamp = t_[i].value;
    }
    ++i;
    if (i < t_.size()) return Expected("the end of the statement", i);
    return Parsed(std::move(spec));
  }

  // VACUUM table [RETAIN n HOURS] [DRY RUN]
  RestoreVacuumParse ParseVacuum() {
    size_t i = 1;
    std::optional<RestoreVacuumTarget> target = ParseTarget(i, /*allow_string=*/true);
    if (!target) return {};  // not a table: DuckDB's own error stands
    VacuumSpec spec;
    spec.target = std::move(*target);
    if (IsWord(i, "using") && IsWord(i + 1, "inventory")) {
      return Error("lake: VACUUM ... USING INVENTORY is not supported; VACUUM lists the table's "
                   "folder itself",
                   PositionOf(i));
    }
    if (IsWord(i, "lite") || IsWord(i, "full")) {
      return Error(StrCat("lake: VACUUM ", ToUpper(t_[i].value),
                          " is not supported; plain VACUUM lists the whole folder (Spark's "
                          "FULL mode)"),
                   PositionOf(i));
    }
    if (IsWord(i, "retain")) {
      char* end = nullptr;
      double hours = 0;
      bool ok = i + 1 < t_.size() && t_[i + 1].kind == TokKind::kNumber;
      if (ok) {
        const std::string& text = t_[i + 1].value;
        hours = std::strtod(text.c_str(), &end);
        ok = end == text.c_str() + text.size() && std::isfinite(hours);
      }
      if (!ok) return Expected("a number of hours after RETAIN", i + 1);
      if (!IsWord(i + 2, "hours")) return Expected("HOURS after RETAIN n", i + 2);
      spec.retain_hours = hours;
      i += 3;
    }
    if (IsWord(i, "dry")) {
      if (!IsWord(i + 1, "run")) return Expected("RUN after DRY", i + 1);
      spec.dry_run = true;
      i += 2;
    }
    if (i < t_.size()) {
      return Expected(spec.dry_run        ? "the end of the statement"
                      : spec.retain_hours ? "DRY RUN or the end of the statement"
                                          : "RETAIN n HOURS, DRY RUN or the end of the statement",
                      i);
    }
    return Parsed(std::move(spec));
  }

  static std::string ToUpper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  std::string_view sql_;
  std::vector<Token> t_;
};

}  // namespace

RestoreVacuumParse ParseRestoreVacuum(std::string_view sql) { return Parser(sql).Run(); }

}  // namespace lake::engine::internal
