// See spark_ddl.h for the grammar.
//
// The tokenizer follows Spark's lexical rules where they differ from DuckDB's: `backquoted`
// identifiers, and backslash escapes inside '...' and "..." strings. Comments (-- and
// /* */) are skipped. '<', '>' and ':' are single punctuation tokens, so ARRAY<ARRAY<INT>>
// closes with two '>' tokens.
#include "engine/internal/spark_ddl.h"

#include <cctype>
#include <memory>

#include "base/strings.h"

namespace lake::engine::internal {
namespace {

enum class TokKind { kWord, kString, kQuotedIdent, kNumber, kPunct };

struct Token {
  TokKind kind;
  size_t begin = 0, end = 0;
  std::string value;  // unquoted text of strings/identifiers; raw text otherwise
  bool backquoted = false;
};

struct SyntaxError {
  std::string message;
  size_t position;
};

bool IsWordStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsWordChar(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }

// Returns the tokens of `s`, or the offset of an unterminated quote or comment.
std::variant<std::vector<Token>, size_t> Tokenize(std::string_view s) {
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
      if (close == std::string_view::npos) return i;
      i = close + 2;
    } else if (c == '\'' || c == '"' || c == '`') {
      Token t{c == '\'' ? TokKind::kString : TokKind::kQuotedIdent, i, i, ""};
      t.backquoted = c == '`';
      size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        if (c != '`' && s[j] == '\\' && j + 1 < s.size()) {
          char e = s[j + 1];
          t.value += e == 'n' ? '\n' : e == 't' ? '\t' : e;
          j += 2;
        } else if (s[j] == static_cast<char>(c)) {
          if (j + 1 < s.size() && s[j + 1] == static_cast<char>(c)) {
            t.value += static_cast<char>(c);
            j += 2;
          } else {
            closed = true;
            ++j;
            break;
          }
        } else {
          t.value += s[j++];
        }
      }
      if (!closed) return i;
      t.end = j;
      i = j;
      out.push_back(std::move(t));
    } else if (IsWordStart(c)) {
      size_t start = i;
      while (i < s.size() && IsWordChar(s[i])) ++i;
      out.push_back({TokKind::kWord, start, i, std::string(s.substr(start, i - start))});
    } else if (std::isdigit(c) || (c == '-' && i + 1 < s.size() && std::isdigit(s[i + 1]))) {
      size_t start = i++;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      out.push_back({TokKind::kNumber, start, i, std::string(s.substr(start, i - start))});
    } else {
      out.push_back({TokKind::kPunct, i, i + 1, std::string(1, static_cast<char>(c))});
      ++i;
    }
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> tokens) : sql_(sql), t_(std::move(tokens)) {}

  DdlParse Run() {
    DdlParse result;
    std::variant<std::monostate, DdlStatement, SyntaxError> r;
    if (Word(0, "create")) {
      r = ParseCreate();
    } else if (Word(0, "alter") && Word(1, "table")) {
      r = ParseAlter();
    } else if (Word(0, "show") && Word(1, "tblproperties")) {
      r = ParseShow();
    }
    if (auto* e = std::get_if<SyntaxError>(&r)) {
      result.kind = DdlParse::Kind::kError;
      result.error = e->message;
      result.error_position = e->position;
    } else if (auto* s = std::get_if<DdlStatement>(&r)) {
      result.kind = DdlParse::Kind::kParsed;
      result.statement = std::move(*s);
    }
    return result;
  }

  // Parses a whole text as one type (ParseSparkType).
  std::variant<delta::DataType, SyntaxError> TypeOnly() {
    size_t i = 0;
    auto type = ParseType(i);
    if (auto* e = std::get_if<SyntaxError>(&type)) return *e;
    if (i < t_.size()) return Expected("the end of the type", i);
    return std::get<delta::DataType>(std::move(type));
  }

 private:
  using Step = std::optional<SyntaxError>;

  bool Word(size_t i, std::string_view w) const {
    return i < t_.size() && t_[i].kind == TokKind::kWord && ToLower(t_[i].value) == w;
  }
  bool Punct(size_t i, char c) const {
    return i < t_.size() && t_[i].kind == TokKind::kPunct && t_[i].value[0] == c;
  }
  bool IsName(size_t i) const {
    return i < t_.size() && (t_[i].kind == TokKind::kWord || t_[i].kind == TokKind::kQuotedIdent);
  }
  bool AtEnd(size_t i) const { return i >= t_.size() || (Punct(i, ';') && i + 1 == t_.size()); }

  SyntaxError Expected(std::string_view what, size_t i) const {
    if (AtEnd(i)) {
      return {StrCat("lake: expected ", what, " near the end of the statement"), sql_.size()};
    }
    std::string_view text = sql_.substr(t_[i].begin, t_[i].end - t_[i].begin);
    if (text.size() > 40) text = text.substr(0, 40);
    return {StrCat("lake: expected ", what, " near \"", text, "\" at position ", t_[i].begin + 1),
            t_[i].begin};
  }

  // A (possibly qualified) table name; quoted parts keep double quotes (as sql_rewrite does).
  std::optional<std::string> TableName(size_t& i) const {
    std::string text;
    for (int parts = 0; parts < 3 && IsName(i); ++parts) {
      if (parts) text += ".";
      text += t_[i].kind == TokKind::kQuotedIdent ? StrCat("\"", t_[i].value, "\"") : t_[i].value;
      ++i;
      if (!(Punct(i, '.') && IsName(i + 1))) break;
      ++i;
    }
    if (text.empty()) return std::nullopt;
    return text;
  }

  // delta.`/path` at i: the path.
  std::optional<std::string> PathRef(size_t& i) const {
    if (!(Word(i, "delta") && Punct(i + 1, '.') && i + 2 < t_.size() &&
          t_[i + 2].kind == TokKind::kQuotedIdent && t_[i + 2].backquoted)) {
      return std::nullopt;
    }
    i += 3;
    return t_[i - 1].value;
  }

  // A table name or delta.`/path`; sets `table` (and `path` for a path).
  bool TableRef(size_t& i, std::string& table, std::optional<std::string>& path) const {
    if ((path = PathRef(i))) {
      table = StrCat("delta.`", *path, "`");
      return true;
    }
    std::optional<std::string> name = TableName(i);
    if (!name) return false;
    table = *name;
    return true;
  }

  std::optional<std::string> Name(size_t& i) const {
    if (!IsName(i)) return std::nullopt;
    return t_[i++].value;
  }

  Step ExpectEnd(size_t i) const {
    if (Punct(i, ';')) ++i;
    if (i < t_.size()) return Expected("the end of the statement", i);
    return std::nullopt;
  }

  Step ExpectPunct(size_t& i, char c, std::string_view what) const {
    if (!Punct(i, c)) return Expected(what, i);
    ++i;
    return std::nullopt;
  }

  std::optional<std::string> StringLit(size_t& i) const {
    if (i >= t_.size() || t_[i].kind != TokKind::kString) return std::nullopt;
    return t_[i++].value;
  }

  // ---- Types ----

  std::variant<delta::DataType, SyntaxError> ParseType(size_t& i) {
    if (i >= t_.size() || t_[i].kind != TokKind::kWord) return Expected("a type name", i);
    const size_t at = i;
    const std::string name = ToLower(t_[i++].value);
    delta::DataType type;
    using K = delta::TypeKind;
    static const std::pair<const char*, K> kSimple[] = {
        {"string", K::kString},
        {"int", K::kInteger},
        {"integer", K::kInteger},
        {"bigint", K::kLong},
        {"long", K::kLong},
        {"smallint", K::kShort},
        {"short", K::kShort},
        {"tinyint", K::kByte},
        {"byte", K::kByte},
        {"double", K::kDouble},
        {"float", K::kFloat},
        {"real", K::kFloat},
        {"boolean", K::kBoolean},
        {"date", K::kDate},
        {"timestamp", K::kTimestamp},
        {"timestamp_ltz", K::kTimestamp},
        {"timestamp_ntz", K::kTimestampNtz},
        {"binary", K::kBinary},
    };
    for (const auto& [n, kind] : kSimple) {
      if (name == n) {
        type.kind = kind;
        return type;
      }
    }
    if (name == "varchar" || name == "char") {
      // Spark stores CHAR/VARCHAR columns as string (the length is not enforced by lake).
      if (Punct(i, '(')) {
        if (i + 2 >= t_.size() || t_[i + 1].kind != TokKind::kNumber || !Punct(i + 2, ')')) {
          return Expected(StrCat("(length) after ", ToUpper(name)), i);
        }
        i += 3;
      }
      type.kind = K::kString;
      return type;
    }
    if (name == "decimal" || name == "dec" || name == "numeric") {
      type.kind = K::kDecimal;
      type.precision = 10;  // Spark's default DECIMAL is decimal(10,0)
      type.scale = 0;
      if (Punct(i, '(')) {
        ++i;
        std::optional<int64_t> p = i < t_.size() && t_[i].kind == TokKind::kNumber
                                       ? ParseInt64(t_[i].value)
                                       : std::nullopt;
        if (!p) return Expected("a precision", i);
        ++i;
        std::optional<int64_t> s = 0;
        if (Punct(i, ',')) {
          ++i;
          s = i < t_.size() && t_[i].kind == TokKind::kNumber ? ParseInt64(t_[i].value)
                                                              : std::nullopt;
          if (!s) return Expected("a scale", i);
          ++i;
        }
        if (auto e = ExpectPunct(i, ')', "')' after the decimal precision and scale")) return *e;
        if (*p < 1 || *p > 38 || *s < 0 || *s > *p) {
          return SyntaxError{
              StrCat("lake: DECIMAL(", *p, ",", *s, ") at position ", t_[at].begin + 1,
                     ": precision must be 1..38 and scale 0..precision"),
              t_[at].begin};
        }
        type.precision = static_cast<int>(*p);
        type.scale = static_cast<int>(*s);
      }
      return type;
    }
    if (name == "array") {
      if (auto e = ExpectPunct(i, '<', "'<' after ARRAY")) return *e;
      auto element = ParseType(i);
      if (auto* e = std::get_if<SyntaxError>(&element)) return *e;
      if (auto e = ExpectPunct(i, '>', "'>' closing ARRAY<")) return *e;
      type.kind = K::kArray;
      type.element = std::make_shared<delta::DataType>(std::get<delta::DataType>(element));
      type.contains_null = true;
      return type;
    }
    if (name == "map") {
      if (auto e = ExpectPunct(i, '<', "'<' after MAP")) return *e;
      auto key = ParseType(i);
      if (auto* e = std::get_if<SyntaxError>(&key)) return *e;
      if (auto e = ExpectPunct(i, ',', "',' between the MAP key and value types")) return *e;
      auto value = ParseType(i);
      if (auto* e = std::get_if<SyntaxError>(&value)) return *e;
      if (auto e = ExpectPunct(i, '>', "'>' closing MAP<")) return *e;
      type.kind = K::kMap;
      type.key = std::make_shared<delta::DataType>(std::get<delta::DataType>(key));
      type.value = std::make_shared<delta::DataType>(std::get<delta::DataType>(value));
      type.value_contains_null = true;
      return type;
    }
    if (name == "struct") {
      if (auto e = ExpectPunct(i, '<', "'<' after STRUCT")) return *e;
      type.kind = K::kStruct;
      if (Punct(i, '>')) {
        ++i;
        return type;
      }
      while (true) {
        auto column = ParseColumn(i, /*in_struct=*/true);
        if (auto* e = std::get_if<SyntaxError>(&column)) return *e;
        type.fields.push_back(FieldFor(std::get<ColumnSpec>(column)));
        if (Punct(i, ',')) {
          ++i;
          continue;
        }
        if (auto e = ExpectPunct(i, '>', "',' or '>' in STRUCT<")) return *e;
        return type;
      }
    }
    return SyntaxError{
        StrCat("lake: unknown type ", ToUpper(t_[at].value), " at position ", t_[at].begin + 1,
               "; use a Spark type (STRING, INT, BIGINT, DOUBLE, DECIMAL(p,s), "
               "TIMESTAMP, ARRAY<...>, MAP<...>, STRUCT<...>, ...)"),
        t_[at].begin};
  }

  static std::string ToUpper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  }

  // name type [NOT NULL] [COMMENT 'text']; in a STRUCT<> a ':' may follow the name.
  std::variant<ColumnSpec, SyntaxError> ParseColumn(size_t& i, bool in_struct) {
    ColumnSpec column;
    std::optional<std::string> name = Name(i);
    if (!name) return Expected(in_struct ? "a field name" : "a column name", i);
    column.name = *name;
    if (in_struct && Punct(i, ':')) ++i;
    auto type = ParseType(i);
    if (auto* e = std::get_if<SyntaxError>(&type)) return *e;
    column.type = std::get<delta::DataType>(std::move(type));
    while (true) {
      if (Word(i, "not") && Word(i + 1, "null")) {
        column.nullable = false;
        i += 2;
      } else if (Word(i, "comment")) {
        ++i;
        column.comment = StringLit(i);
        if (!column.comment) return Expected("a quoted comment after COMMENT", i);
      } else if (!in_struct && (Word(i, "generated") || Word(i, "default"))) {
        return SyntaxError{StrCat("lake: ", ToUpper(t_[i].value), " columns (column ", column.name,
                                  ", position ", t_[i].begin + 1,
                                  ") are not supported yet: lake cannot write generated or "
                                  "default columns"),
                           t_[i].begin};
      } else {
        return column;
      }
    }
  }

  // ( column, ... ) with the '(' at i.
  std::variant<std::vector<ColumnSpec>, SyntaxError> ParseColumnList(size_t& i) {
    std::vector<ColumnSpec> columns;
    if (auto e = ExpectPunct(i, '(', "'(' before the column list")) return *e;
    while (true) {
      auto column = ParseColumn(i, /*in_struct=*/false);
      if (auto* e = std::get_if<SyntaxError>(&column)) return *e;
      columns.push_back(std::get<ColumnSpec>(std::move(column)));
      if (Punct(i, ',')) {
        ++i;
        continue;
      }
      if (auto e = ExpectPunct(i, ')', "',' or ')' in the column list")) return *e;
      return columns;
    }
  }

  // A property key: 'text' or a dotted name (delta.appendOnly).
  std::optional<std::string> PropertyKey(size_t& i) const {
    if (std::optional<std::string> s = StringLit(i)) return s;
    std::string key;
    while (IsName(i)) {
      key += t_[i++].value;
      if (!(Punct(i, '.') && IsName(i + 1))) break;
      key += ".";
      ++i;
    }
    if (key.empty()) return std::nullopt;
    return key;
  }

  std::variant<PropertyList, SyntaxError> ParseProperties(size_t& i, bool with_values) {
    PropertyList out;
    if (auto e = ExpectPunct(i, '(', "'(' before the property list")) return *e;
    while (true) {
      std::optional<std::string> key = PropertyKey(i);
      if (!key) return Expected("a property key ('key' or a dotted name)", i);
      std::string value;
      if (with_values) {
        if (Punct(i, '=')) ++i;
        if (i >= t_.size() || (t_[i].kind != TokKind::kString && t_[i].kind != TokKind::kNumber &&
                               t_[i].kind != TokKind::kWord)) {
          return Expected(StrCat("a value for property '", *key, "'"), i);
        }
        value = t_[i].kind == TokKind::kWord ? ToLower(t_[i].value) : t_[i].value;
        ++i;
      }
      out.emplace_back(std::move(*key), std::move(value));
      if (Punct(i, ',')) {
        ++i;
        continue;
      }
      if (auto e = ExpectPunct(i, ')', "',' or ')' in the property list")) return *e;
      return out;
    }
  }

  // ---- Statements ----

  // Whether a CREATE TABLE is ours: a Spark-only table clause before any AS, or a column
  // list without AS (DuckDB hands us only statements it rejected, so a column list that
  // reaches us uses Spark-only column syntax: COMMENT, ARRAY<...>, STRUCT<...>).
  // Returns 2 for a table clause, 1 for a column list alone, 0 when not ours.
  int IsOurCreate(size_t after_name) const {
    int depth = 0;
    for (size_t j = after_name; j < t_.size(); ++j) {
      if (Punct(j, '(')) ++depth;
      if (Punct(j, ')')) --depth;
      if (depth != 0) continue;
      if (Word(j, "as")) return 0;
      if (Word(j, "using") || Word(j, "location") || Word(j, "partitioned") ||
          Word(j, "tblproperties") || Word(j, "comment")) {
        return 2;
      }
    }
    return Punct(after_name, '(') ? 1 : 0;
  }

  std::variant<std::monostate, DdlStatement, SyntaxError> ParseCreate() {
    CreateTableSpec spec;
    size_t i = 1;
    if (Word(i, "or") && Word(i + 1, "replace")) {
      spec.or_replace = true;
      i += 2;
    }
    if (!Word(i, "table")) return std::monostate{};
    ++i;
    if (Word(i, "if")) {
      if (!Word(i + 1, "not") || !Word(i + 2, "exists")) return Expected("IF NOT EXISTS", i);
      spec.if_not_exists = true;
      i += 3;
    }
    // Not a table name: DuckDB's error stands.
    if (!TableRef(i, spec.table, spec.path)) return std::monostate{};
    const int ours = IsOurCreate(i);
    if (ours == 0) return std::monostate{};
    if (Punct(i, '(')) {
      auto columns = ParseColumnList(i);
      if (auto* e = std::get_if<SyntaxError>(&columns)) {
        // A bare column list is no marker of ours: DuckDB's own syntax error stands.
        if (ours == 1) return std::monostate{};
        return *e;
      }
      spec.columns = std::get<std::vector<ColumnSpec>>(std::move(columns));
    }
    while (!AtEnd(i)) {
      if (Word(i, "using")) {
        if (!Word(i + 1, "delta")) return Expected("DELTA after USING (lake writes Delta)", i + 1);
        i += 2;
      } else if (Word(i, "location")) {
        ++i;
        spec.location = StringLit(i);
        if (!spec.location) return Expected("a quoted path after LOCATION", i);
      } else if (Word(i, "comment")) {
        ++i;
        spec.comment = StringLit(i);
        if (!spec.comment) return Expected("a quoted comment after COMMENT", i);
      } else if (Word(i, "partitioned")) {
        if (!Word(i + 1, "by")) return Expected("BY after PARTITIONED", i + 1);
        i += 2;
        if (auto e = ExpectPunct(i, '(', "'(' after PARTITIONED BY")) return *e;
        while (true) {
          std::optional<std::string> column = Name(i);
          if (!column) {
            return Expected(
                "a column name in PARTITIONED BY (a column type there is not "
                "supported: declare the column in the column list)",
                i);
          }
          spec.partition_columns.push_back(*column);
          if (Punct(i, ',')) {
            ++i;
            continue;
          }
          if (auto e = ExpectPunct(i, ')', "',' or ')' in PARTITIONED BY")) return *e;
          break;
        }
      } else if (Word(i, "tblproperties")) {
        ++i;
        auto props = ParseProperties(i, /*with_values=*/true);
        if (auto* e = std::get_if<SyntaxError>(&props)) return *e;
        for (auto& p : std::get<PropertyList>(props)) spec.properties.push_back(std::move(p));
      } else if (Word(i, "as")) {
        if (AtEnd(i + 1)) return Expected("a query after AS", i + 1);
        spec.as_query = true;
        spec.query_begin = t_[i + 1].begin;
        i = t_.size();
      } else {
        // After a bare column list, text we do not know is DuckDB's to report.
        if (ours == 1) return std::monostate{};
        return Expected("USING, LOCATION, COMMENT, PARTITIONED BY, TBLPROPERTIES or AS", i);
      }
    }
    return DdlStatement(std::move(spec));
  }

  std::variant<std::monostate, DdlStatement, SyntaxError> ParseAlter() {
    size_t i = 2;
    AlterTableSpec spec;
    if (!TableRef(i, spec.table, spec.path)) return std::monostate{};
    using Kind = AlterTableSpec::Kind;
    if (Word(i, "add") && (Word(i + 1, "columns") || Word(i + 1, "column"))) {
      i += 2;
      spec.kind = Kind::kAddColumns;
      if (Punct(i, '(')) {
        auto columns = ParseColumnList(i);
        if (auto* e = std::get_if<SyntaxError>(&columns)) return *e;
        spec.columns = std::get<std::vector<ColumnSpec>>(std::move(columns));
      } else {
        auto column = ParseColumn(i, /*in_struct=*/false);
        if (auto* e = std::get_if<SyntaxError>(&column)) return *e;
        spec.columns.push_back(std::get<ColumnSpec>(std::move(column)));
      }
    } else if (Word(i, "alter") || Word(i, "change")) {
      ++i;
      if (Word(i, "column")) ++i;
      std::optional<std::string> column = Name(i);
      if (!column) return Expected("a column name", i);
      spec.column = *column;
      if ((Word(i, "set") || Word(i, "drop")) && Word(i + 1, "not") && Word(i + 2, "null")) {
        spec.kind = Word(i, "set") ? Kind::kSetNotNull : Kind::kDropNotNull;
        i += 3;
      } else {
        return Expected(
            "SET NOT NULL or DROP NOT NULL (other column changes are not supported "
            "yet)",
            i);
      }
    } else if (Word(i, "set") && Word(i + 1, "tblproperties")) {
      i += 2;
      spec.kind = Kind::kSetProperties;
      auto props = ParseProperties(i, /*with_values=*/true);
      if (auto* e = std::get_if<SyntaxError>(&props)) return *e;
      spec.properties = std::get<PropertyList>(std::move(props));
    } else if (Word(i, "unset") && Word(i + 1, "tblproperties")) {
      i += 2;
      spec.kind = Kind::kUnsetProperties;
      if (Word(i, "if")) {
        if (!Word(i + 1, "exists")) return Expected("IF EXISTS", i);
        spec.if_exists = true;
        i += 2;
      }
      auto props = ParseProperties(i, /*with_values=*/false);
      if (auto* e = std::get_if<SyntaxError>(&props)) return *e;
      for (auto& [k, v] : std::get<PropertyList>(props)) spec.keys.push_back(k);
    } else if (Word(i, "add") && Word(i + 1, "constraint")) {
      i += 2;
      spec.kind = Kind::kAddConstraint;
      std::optional<std::string> cname = Name(i);
      if (!cname) return Expected("a constraint name", i);
      spec.constraint_name = *cname;
      if (!Word(i, "check")) return Expected("CHECK (only CHECK constraints are supported)", i);
      ++i;
      if (!Punct(i, '(')) return Expected("'(' after CHECK", i);
      const size_t open = i;
      int depth = 0;
      for (; i < t_.size(); ++i) {
        if (Punct(i, '(')) ++depth;
        if (Punct(i, ')') && --depth == 0) break;
      }
      if (i >= t_.size()) return Expected("')' closing CHECK (", i);
      if (i == open + 1) return Expected("an expression in CHECK ( )", i);
      spec.constraint_expression =
          std::string(sql_.substr(t_[open + 1].begin, t_[i - 1].end - t_[open + 1].begin));
      ++i;
    } else if (Word(i, "drop") && Word(i + 1, "constraint")) {
      i += 2;
      spec.kind = Kind::kDropConstraint;
      if (Word(i, "if") && Word(i + 1, "exists")) {
        spec.if_exists = true;
        i += 2;
      }
      std::optional<std::string> cname = Name(i);
      if (!cname) return Expected("a constraint name", i);
      spec.constraint_name = *cname;
    } else {
      return std::monostate{};  // another ALTER form: DuckDB's own error stands
    }
    if (auto e = ExpectEnd(i)) return *e;
    return DdlStatement(std::move(spec));
  }

  std::variant<std::monostate, DdlStatement, SyntaxError> ParseShow() {
    size_t i = 2;
    ShowTblPropertiesSpec spec;
    if (!TableRef(i, spec.table, spec.path)) return Expected("a table name or delta.`/path`", i);
    if (Punct(i, '(')) {
      auto keys = ParseProperties(i, /*with_values=*/false);
      if (auto* e = std::get_if<SyntaxError>(&keys)) return *e;
      const PropertyList& list = std::get<PropertyList>(keys);
      if (list.size() != 1) return Expected("one property key in SHOW TBLPROPERTIES t (key)", i);
      spec.key = list[0].first;
    }
    if (auto e = ExpectEnd(i)) return *e;
    return DdlStatement(std::move(spec));
  }

  std::string_view sql_;
  std::vector<Token> t_;
};

}  // namespace

DdlParse ParseSparkDdl(std::string_view sql) {
  auto tokens = Tokenize(sql);
  if (std::holds_alternative<size_t>(tokens)) return {};  // unterminated quote: DuckDB's error
  return Parser(sql, std::get<std::vector<Token>>(std::move(tokens))).Run();
}

std::optional<std::string> RewriteDdlDuckDbRejects(std::string_view script) {
  auto tokens = Tokenize(script);
  if (std::holds_alternative<size_t>(tokens)) return std::nullopt;
  // Statement boundaries: ';' tokens (quotes and comments are already skipped).
  std::vector<size_t> ends;
  for (const Token& t : std::get<std::vector<Token>>(tokens)) {
    if (t.kind == TokKind::kPunct && t.value == ";") ends.push_back(t.begin);
  }
  ends.push_back(script.size());
  std::string out;
  bool changed = false;
  size_t begin = 0;
  for (size_t end : ends) {
    std::string_view statement = script.substr(begin, end - begin);
    DdlParse parsed = ParseSparkDdl(statement);
    if (parsed.kind == DdlParse::Kind::kParsed) {
      out += StrCat("SELECT * FROM lake_ddl(", SqlQuote(statement), ")");
      changed = true;
    } else {
      out += statement;
    }
    if (end < script.size()) out += ";";
    begin = end + 1;
  }
  if (!changed) return std::nullopt;
  return out;
}

Result<delta::DataType> ParseSparkType(std::string_view text) {
  auto tokens = Tokenize(text);
  if (std::holds_alternative<size_t>(tokens)) {
    return Status::InvalidArgument(StrCat("type '", text, "' has an unterminated quote"));
  }
  auto type = Parser(text, std::get<std::vector<Token>>(std::move(tokens))).TypeOnly();
  if (auto* e = std::get_if<SyntaxError>(&type)) {
    return Status::InvalidArgument(StrCat("type '", text, "': ", e->message));
  }
  return std::get<delta::DataType>(std::move(type));
}

delta::StructField FieldFor(const ColumnSpec& column) {
  delta::StructField field;
  field.name = column.name;
  field.type = column.type;
  field.nullable = column.nullable;
  field.metadata_json =
      column.comment ? StrCat("{\"comment\":", JsonQuote(*column.comment), "}") : std::string("{}");
  return field;
}

}  // namespace lake::engine::internal
