// See maintenance_sql.h for the grammar.
#include "engine/internal/maintenance_sql.h"

#include <cctype>

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

  MaintenanceParse Run() {
    std::optional<size_t> unterminated;
    t_ = Tokenize(sql_, unterminated);
    // A trailing ';' ends the statement.
    while (!t_.empty() && IsPunct(t_.size() - 1, ';')) t_.pop_back();
    const bool optimize = IsWord(0, "optimize");
    const bool convert = IsWord(0, "convert") && IsWord(1, "to") && IsWord(2, "delta");
    if (!optimize && !convert) return {};
    if (unterminated) return Error("lake: unterminated quote or comment", *unterminated);
    return optimize ? ParseOptimize() : ParseConvert();
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
  size_t PositionOf(size_t i) const { return i < t_.size() ? t_[i].begin : sql_.size(); }
  std::string Near(size_t i) const {
    if (i >= t_.size()) return "near the end of the statement";
    return StrCat("near '", sql_.substr(t_[i].begin, t_[i].end - t_[i].begin), "'");
  }
  MaintenanceParse Error(std::string message, size_t position) const {
    MaintenanceParse r;
    r.kind = MaintenanceParse::Kind::kError;
    r.error = std::move(message);
    r.error_position = position;
    return r;
  }
  MaintenanceParse Expected(std::string_view what, size_t i) const {
    return Error(StrCat("lake: expected ", what, " ", Near(i)), PositionOf(i));
  }
  static MaintenanceParse Parsed(MaintenanceStatement statement) {
    MaintenanceParse r;
    r.kind = MaintenanceParse::Kind::kParsed;
    r.statement = std::move(statement);
    return r;
  }

  // OPTIMIZE ref [WHERE predicate] [ZORDER BY ...]
  MaintenanceParse ParseOptimize() {
    OptimizeSpec spec;
    size_t i = 1;
    if (IsWord(i, "delta") && IsPunct(i + 1, '.') && i + 2 < t_.size() &&
        t_[i + 2].kind == TokKind::kBacktick) {
      spec.path = t_[i + 2].value;
      spec.table = std::string(sql_.substr(t_[i].begin, t_[i + 2].end - t_[i].begin));
      i += 3;
    } else if (i < t_.size() && t_[i].kind == TokKind::kString) {
      spec.path = t_[i].value;
      spec.table = std::string(sql_.substr(t_[i].begin, t_[i].end - t_[i].begin));
      ++i;
    } else if (IsName(i) && !IsWord(i, "where") && !IsWord(i, "zorder")) {
      size_t first = i;
      ++i;
      while (IsPunct(i, '.') && IsName(i + 1)) i += 2;
      spec.table = std::string(sql_.substr(t_[first].begin, t_[i - 1].end - t_[first].begin));
    } else {
      return Expected("a table name or delta.`/path` after OPTIMIZE", i);
    }
    if (IsWord(i, "where")) {
      size_t begin = i + 1;
      size_t j = begin;
      int depth = 0;
      for (; j < t_.size(); ++j) {
        if (IsPunct(j, '(')) ++depth;
        if (IsPunct(j, ')')) --depth;
        if (depth == 0 && IsWord(j, "zorder")) break;
      }
      if (j == begin) return Expected("a partition predicate after WHERE", j);
      spec.where = std::string(sql_.substr(t_[begin].begin, t_[j - 1].end - t_[begin].begin));
      i = j;
    }
    if (IsWord(i, "zorder")) {
      if (!IsWord(i + 1, "by")) return Expected("BY after ZORDER", i + 1);
      i += 2;
      const bool parenthesized = IsPunct(i, '(');
      if (parenthesized) ++i;
      while (true) {
        if (!IsName(i)) return Expected("a column name in ZORDER BY", i);
        spec.zorder_by.push_back(t_[i].value);
        ++i;
        if (IsPunct(i, '.')) {
          return Error(StrCat("lake: ZORDER BY takes top-level columns only ", Near(i)),
                       PositionOf(i));
        }
        if (!IsPunct(i, ',')) break;
        ++i;
      }
      if (parenthesized) {
        if (!IsPunct(i, ')')) return Expected("')' closing the ZORDER BY list", i);
        ++i;
      }
    }
    if (i < t_.size()) {
      return Expected(spec.zorder_by.empty() ? "WHERE, ZORDER BY or the end of the statement"
                                             : "the end of the statement",
                      i);
    }
    return Parsed(std::move(spec));
  }

  // CONVERT TO DELTA parquet.`/path` [NO STATISTICS] [PARTITIONED BY (c type, ...)]
  MaintenanceParse ParseConvert() {
    ConvertSpec spec;
    size_t i = 3;
    if (!(IsWord(i, "parquet") && IsPunct(i + 1, '.') && i + 2 < t_.size() &&
          t_[i + 2].kind == TokKind::kBacktick)) {
      if (IsName(i) || (i < t_.size() && t_[i].kind == TokKind::kString)) {
        return Error(StrCat("lake: CONVERT TO DELTA converts a folder of Parquet files named "
                            "parquet.`/path`; converting a catalog table is not supported ",
                            Near(i)),
                     PositionOf(i));
      }
      return Expected("parquet.`/path` after CONVERT TO DELTA", i);
    }
    spec.path = t_[i + 2].value;
    i += 3;
    if (IsWord(i, "no")) {
      if (!IsWord(i + 1, "statistics")) return Expected("STATISTICS after NO", i + 1);
      spec.collect_stats = false;
      i += 2;
    }
    if (IsWord(i, "partitioned")) {
      if (!IsWord(i + 1, "by")) return Expected("BY after PARTITIONED", i + 1);
      i += 2;
      if (!IsPunct(i, '(')) return Expected("'(' after PARTITIONED BY", i);
      ++i;
      while (true) {
        if (!IsName(i)) return Expected("a partition column name", i);
        ColumnSpec column;
        column.name = t_[i].value;
        ++i;
        // The type runs to the next ',' or ')' outside (), <>.
        size_t begin = i;
        int depth = 0;
        for (; i < t_.size(); ++i) {
          if (IsPunct(i, '(') || IsPunct(i, '<')) ++depth;
          if (IsPunct(i, '>')) --depth;
          if (IsPunct(i, ')')) {
            if (depth == 0) break;
            --depth;
          }
          if (depth == 0 && IsPunct(i, ',')) break;
        }
        if (i == begin) {
          return Expected(StrCat("a type for partition column ", column.name), i);
        }
        std::string_view type_text = sql_.substr(t_[begin].begin, t_[i - 1].end - t_[begin].begin);
        Result<delta::DataType> type = ParseSparkType(type_text);
        if (!type.ok()) {
          return Error(StrCat("lake: partition column ", column.name, ": ",
                              type.status().message()),
                       PositionOf(begin));
        }
        column.type = std::move(*type);
        spec.partition_columns.push_back(std::move(column));
        if (IsPunct(i, ',')) {
          ++i;
          continue;
        }
        if (!IsPunct(i, ')')) return Expected("')' closing PARTITIONED BY", i);
        ++i;
        break;
      }
    }
    if (i < t_.size()) return Expected("NO STATISTICS, PARTITIONED BY or the end", i);
    return Parsed(std::move(spec));
  }

  std::string_view sql_;
  std::vector<Token> t_;
};

}  // namespace

MaintenanceParse ParseMaintenanceSql(std::string_view sql) { return Parser(sql).Run(); }

}  // namespace lake::engine::internal
