#include "streaming/stream_sql.h"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "streaming/checkpoint.h"
#include "streaming/delta_sink.h"
#include "streaming/delta_source.h"
#include "streaming/files_source.h"

namespace lake::streaming {
namespace {

namespace fs = std::filesystem;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) ||
                        s.back() == ';')) {
    s.remove_suffix(1);
  }
  return s;
}

// ---- Tokens ----

struct Token {
  enum class Kind { kWord, kString, kQuotedIdent, kBackquoted, kPunct };
  Kind kind;
  std::string text; // words as written; strings/identifiers unquoted
  size_t begin = 0;
  size_t end = 0;
};

Result<std::vector<Token>> Tokenize(std::string_view sql) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n')
        ++i;
    } else if (c == '\'' || c == '"' || c == '`') {
      Token t{c == '\''  ? Token::Kind::kString
              : c == '"' ? Token::Kind::kQuotedIdent
                         : Token::Kind::kBackquoted,
              "", i, 0};
      size_t j = i + 1;
      for (;; ++j) {
        if (j >= sql.size()) {
          return Status::InvalidArgument(StrCat(
              "unterminated ", std::string(1, c), " at position ", i + 1));
        }
        if (sql[j] == c) {
          if (j + 1 < sql.size() && sql[j + 1] == c) { // doubled quote
            t.text += c;
            ++j;
            continue;
          }
          break;
        }
        t.text += sql[j];
      }
      t.end = j + 1;
      out.push_back(std::move(t));
      i = j + 1;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (
          j < sql.size() &&
          (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) {
        ++j;
      }
      out.push_back(
          Token{Token::Kind::kWord, std::string(sql.substr(i, j - i)), i, j});
      i = j;
    } else if (c == '=' && i + 1 < sql.size() && sql[i + 1] == '>') {
      out.push_back(Token{Token::Kind::kPunct, "=>", i, i + 2});
      i += 2;
    } else {
      out.push_back(Token{Token::Kind::kPunct, std::string(1, c), i, i + 1});
      ++i;
    }
  }
  while (!out.empty() && out.back().kind == Token::Kind::kPunct &&
         out.back().text == ";") {
    out.pop_back();
  }
  return out;
}

class Parser {
public:
  Parser(std::string_view sql, std::vector<Token> tokens)
      : sql_(sql), t_(std::move(tokens)) {}

  bool IsWord(size_t i, std::string_view word) const {
    return i < t_.size() && t_[i].kind == Token::Kind::kWord &&
           ToLower(t_[i].text) == word;
  }
  bool IsPunct(size_t i, std::string_view p) const {
    return i < t_.size() && t_[i].kind == Token::Kind::kPunct &&
           t_[i].text == p;
  }
  bool IsName(size_t i) const {
    return i < t_.size() && (t_[i].kind == Token::Kind::kWord ||
                             t_[i].kind == Token::Kind::kQuotedIdent);
  }
  Status Expected(size_t i, std::string_view what) const {
    if (i >= t_.size()) {
      return Status::InvalidArgument(
                 StrCat("stream statement: expected ", what, " at the end"))
          .WithHint("CREATE STREAM s AS INSERT INTO <table> SELECT ... FROM "
                    "STREAM <source>");
    }
    return Status::InvalidArgument(StrCat("stream statement: expected ", what,
                                          " at position ", t_[i].begin + 1,
                                          ", found '", t_[i].text, "'"))
        .WithHint("CREATE STREAM s AS INSERT INTO <table> SELECT ... FROM "
                  "STREAM <source>");
  }
  const Token &at(size_t i) const { return t_[i]; }
  size_t size() const { return t_.size(); }

  // [schema.]name or delta.`/path` from i; `*path` set for the latter. Returns
  // the next index.
  Result<size_t> TableRef(size_t i, std::string *name,
                          std::optional<std::string> *path) const {
    if (IsWord(i, "delta") && IsPunct(i + 1, ".") && i + 2 < t_.size() &&
        t_[i + 2].kind == Token::Kind::kBackquoted) {
      *path = t_[i + 2].text;
      *name =
          std::string(sql_.substr(t_[i].begin, t_[i + 2].end - t_[i].begin));
      return i + 3;
    }
    if (!IsName(i))
      return Expected(i, "a table name or delta.`/path`");
    std::string out = t_[i].text;
    size_t j = i + 1;
    if (IsPunct(j, ".") && IsName(j + 1)) {
      out = StrCat(out, ".", t_[j + 1].text);
      j += 2;
    }
    *name = out;
    return j;
  }

private:
  std::string_view sql_;
  std::vector<Token> t_;
};

const std::set<std::string> &KnownOptions() {
  static const std::set<std::string> known = {"trigger",
                                              "maxfilespertrigger",
                                              "maxbytespertrigger",
                                              "schemaevolutionmode",
                                              "mergeschema",
                                              "startingversion",
                                              "ignoredeletes",
                                              "skipchangecommits",
                                              "infercolumntypes"};
  return known;
}

bool ValidName(std::string_view name) {
  if (name.empty())
    return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
      return false;
  }
  return true;
}

Result<StreamDefinition> ParseCreate(std::string_view sql, const Parser &p) {
  StreamDefinition d;
  d.sql = std::string(Trim(sql));
  size_t i = 2;
  if (!p.IsName(i))
    return p.Expected(i, "the stream's name");
  d.name = p.at(i).text;
  if (!ValidName(d.name)) {
    return Status::InvalidArgument(
        StrCat("stream name '", d.name, "': use letters, digits, _ or -"));
  }
  ++i;
  if (p.IsWord(i, "options")) {
    if (!p.IsPunct(i + 1, "("))
      return p.Expected(i + 1, "'(' after OPTIONS");
    i += 2;
    while (!p.IsPunct(i, ")")) {
      if (i >= p.size() || (p.at(i).kind != Token::Kind::kWord &&
                            p.at(i).kind != Token::Kind::kString)) {
        return p.Expected(i, "an option name");
      }
      const std::string key = ToLower(p.at(i).text);
      if (!KnownOptions().count(key)) {
        return Status::InvalidArgument(StrCat("CREATE STREAM ", d.name,
                                              ": unknown option '",
                                              p.at(i).text, "'"))
            .WithHint("known: trigger, maxFilesPerTrigger, maxBytesPerTrigger, "
                      "schemaEvolutionMode, inferColumnTypes, mergeSchema, "
                      "startingVersion, "
                      "ignoreDeletes, skipChangeCommits");
      }
      ++i;
      if (p.IsPunct(i, "="))
        ++i;
      if (i >= p.size() || (p.at(i).kind != Token::Kind::kString &&
                            p.at(i).kind != Token::Kind::kWord)) {
        return p.Expected(i, StrCat("a value for option ", key));
      }
      d.options[key] = p.at(i).text;
      ++i;
      if (p.IsPunct(i, ",")) {
        ++i;
      } else if (!p.IsPunct(i, ")")) {
        return p.Expected(i, "',' or ')'");
      }
    }
    ++i;
  }
  if (!p.IsWord(i, "as"))
    return p.Expected(i, "AS");
  if (!p.IsWord(i + 1, "insert"))
    return p.Expected(i + 1, "INSERT");
  if (!p.IsWord(i + 2, "into"))
    return p.Expected(i + 2, "INTO");
  std::optional<std::string> target_path;
  LAKE_ASSIGN_OR_RETURN(i, p.TableRef(i + 3, &d.target, &target_path));
  if (!p.IsWord(i, "select"))
    return p.Expected(i, "SELECT (the stream's query)");
  const size_t select_begin = p.at(i).begin;
  // FROM STREAM <source>: exactly one.
  std::optional<size_t> stream_at;
  for (size_t j = i; j + 1 < p.size(); ++j) {
    if (p.IsWord(j, "from") && p.IsWord(j + 1, "stream")) {
      if (stream_at) {
        return Status::NotSupported(
                   StrCat("CREATE STREAM ", d.name,
                          ": more than one FROM STREAM source"))
            .WithHint(
                "a stream reads one source; join other tables as plain tables");
      }
      stream_at = j + 1;
    }
  }
  if (!stream_at) {
    return Status::InvalidArgument(
               StrCat("CREATE STREAM ", d.name, ": no FROM STREAM <source>"))
        .WithHint(
            "write ... FROM STREAM read_files('<dir>', format => 'json')");
  }
  size_t j = *stream_at + 1;
  size_t source_end = 0;
  if (p.IsWord(j, "read_files") && p.IsPunct(j + 1, "(")) {
    d.source.kind = StreamSourceSpec::Kind::kFiles;
    j += 2;
    if (j >= p.size() || p.at(j).kind != Token::Kind::kString) {
      return p.Expected(j, "the landing folder as a string");
    }
    d.source.location = p.at(j).text;
    ++j;
    while (p.IsPunct(j, ",")) {
      if (!p.IsName(j + 1) || !p.IsPunct(j + 2, "=>") || j + 3 >= p.size() ||
          p.at(j + 3).kind != Token::Kind::kString) {
        return p.Expected(j + 1, "name => 'value'");
      }
      const std::string key = ToLower(p.at(j + 1).text);
      if (key != "format") {
        return Status::NotSupported(StrCat("read_files argument '",
                                           p.at(j + 1).text,
                                           "' in CREATE STREAM ", d.name))
            .WithHint("read_files takes format => 'json' | 'csv' | 'parquet'; "
                      "other settings "
                      "go in OPTIONS (...)");
      }
      LAKE_RETURN_IF_ERROR(ParseFileFormat(p.at(j + 3).text).status());
      d.source.format = ToLower(p.at(j + 3).text);
      j += 4;
    }
    if (!p.IsPunct(j, ")"))
      return p.Expected(j, "')'");
    source_end = p.at(j).end;
  } else {
    std::string name;
    std::optional<std::string> path;
    LAKE_ASSIGN_OR_RETURN(size_t next, p.TableRef(j, &name, &path));
    if (path) {
      d.source.kind = StreamSourceSpec::Kind::kDeltaPath;
      d.source.location = *path;
    } else {
      d.source.kind = StreamSourceSpec::Kind::kDeltaTable;
      d.source.table = name;
    }
    source_end = p.at(next - 1).end;
  }
  const size_t stream_begin = p.at(*stream_at).begin;
  d.transformation =
      StrCat(sql.substr(select_begin, stream_begin - select_begin), "batch",
             sql.substr(source_end, p.at(p.size() - 1).end - source_end));
  if (target_path)
    d.target = StrCat("delta.`", *target_path, "`");
  return d;
}

// ---- Resolution ----

// The location of [schema.]table in the home's metastore, or of delta.`/path`.
Result<std::string> ResolveTable(sql::Lakehouse &house, std::string_view ref) {
  if (StartsWith(ref, "delta.`") && ref.size() > 8 && ref.back() == '`') {
    return std::string(ref.substr(7, ref.size() - 8));
  }
  std::shared_ptr<engine::TableDirectory> dir =
      sql::MakeMetastoreDirectory(house.home());
  std::string schema = dir->default_schema();
  std::string name(ref);
  const size_t dot = name.find('.');
  if (dot != std::string::npos) {
    schema = name.substr(0, dot);
    name = name.substr(dot + 1);
  }
  LAKE_ASSIGN_OR_RETURN(std::optional<engine::DirectoryTable> table,
                        dir->FindTable(ToLower(schema), ToLower(name)));
  if (!table) {
    return Status::NotFound(StrCat("table ", schema, ".", name,
                                   " does not exist in lake home ",
                                   house.home()))
        .WithHint("CREATE TABLE it first, or name a path as delta.`/path`");
  }
  return table->location;
}

nlohmann::json ToJson(const StreamDefinition &d) {
  nlohmann::json source = {
      {"kind", d.source.kind == StreamSourceSpec::Kind::kFiles ? "files"
               : d.source.kind == StreamSourceSpec::Kind::kDeltaTable
                   ? "deltaTable"
                   : "deltaPath"},
      {"location", d.source.location},
      {"table", d.source.table},
      {"format", d.source.format}};
  return {{"name", d.name},
          {"options", d.options},
          {"target", d.target},
          {"source", source},
          {"transformation", d.transformation},
          {"sql", d.sql}};
}

Result<StreamDefinition> FromJson(std::string_view text,
                                  const std::string &file) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("source")) {
    return Status::Corruption(
               StrCat("stream definition ", file, " is not valid JSON"))
        .WithHint("DROP STREAM and CREATE it again");
  }
  StreamDefinition d;
  d.name = j.value("name", "");
  d.options = j.value("options", std::map<std::string, std::string>{});
  d.target = j.value("target", "");
  d.transformation = j.value("transformation", "");
  d.sql = j.value("sql", "");
  const nlohmann::json &s = j["source"];
  const std::string kind = s.value("kind", "");
  d.source.kind = kind == "files"        ? StreamSourceSpec::Kind::kFiles
                  : kind == "deltaTable" ? StreamSourceSpec::Kind::kDeltaTable
                                         : StreamSourceSpec::Kind::kDeltaPath;
  d.source.location = s.value("location", "");
  d.source.table = s.value("table", "");
  d.source.format = s.value("format", "json");
  return d;
}

std::string SourceText(const StreamSourceSpec &s) {
  switch (s.kind) {
  case StreamSourceSpec::Kind::kFiles:
    return StrCat("read_files(", SqlQuote(s.location), ", format => ",
                  SqlQuote(s.format), ")");
  case StreamSourceSpec::Kind::kDeltaTable:
    return s.table;
  case StreamSourceSpec::Kind::kDeltaPath:
    return StrCat("delta.`", s.location, "`");
  }
  return "";
}

Result<std::optional<int64_t>> IntOption(const StreamDefinition &d,
                                         const std::string &key) {
  auto it = d.options.find(key);
  if (it == d.options.end())
    return std::optional<int64_t>();
  std::optional<int64_t> n = ParseInt64(it->second);
  if (!n || *n < 0) {
    return Status::InvalidArgument(StrCat("stream ", d.name, ": option ", key,
                                          " expects a whole number, got '",
                                          it->second, "'"));
  }
  return std::optional<int64_t>(*n);
}

bool BoolOption(const StreamDefinition &d, const std::string &key) {
  auto it = d.options.find(key);
  return it != d.options.end() && ToLower(it->second) == "true";
}

engine::Value Text(std::string s) { return engine::Value{std::move(s)}; }

} // namespace

Result<std::optional<StreamStatement>>
ParseStreamStatement(std::string_view sql) {
  Result<std::vector<Token>> tokens = Tokenize(sql);
  if (!tokens.ok())
    return std::optional<StreamStatement>(); // not ours to report
  Parser p(sql, std::move(*tokens));
  if (p.IsWord(0, "create") && p.IsWord(1, "stream")) {
    LAKE_ASSIGN_OR_RETURN(StreamDefinition d, ParseCreate(sql, p));
    return std::optional<StreamStatement>(std::move(d));
  }
  if (p.IsWord(0, "show") && p.IsWord(1, "streams")) {
    if (p.size() != 2)
      return p.Expected(2, "the end of SHOW STREAMS");
    return std::optional<StreamStatement>(ShowStreams{});
  }
  if (p.IsWord(0, "drop") && p.IsWord(1, "stream")) {
    DropStream drop;
    size_t i = 2;
    if (p.IsWord(i, "if") && p.IsWord(i + 1, "exists")) {
      drop.if_exists = true;
      i += 2;
    }
    if (!p.IsName(i))
      return p.Expected(i, "the stream's name");
    drop.name = p.at(i).text;
    if (p.size() != i + 1)
      return p.Expected(i + 1, "the end of DROP STREAM");
    return std::optional<StreamStatement>(std::move(drop));
  }
  return std::optional<StreamStatement>();
}

// ---- StreamStore ----

StreamStore::StreamStore(std::string home)
    : root_(std::move(home) + "/streams") {}

std::string StreamStore::folder(std::string_view name) const {
  return StrCat(root_, "/", name);
}

Status StreamStore::Create(const StreamDefinition &definition) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec)
    return Status::IOError(StrCat("cannot create ", root_, ": ", ec.message()));
  // create_directory is the claim: false when another stream has the name.
  if (!fs::create_directory(folder(definition.name), ec)) {
    if (ec)
      return Status::IOError(StrCat("cannot create ", folder(definition.name),
                                    ": ", ec.message()));
    return Status::AlreadyExists(
               StrCat("stream ", definition.name, " already exists"))
        .WithHint(StrCat("DROP STREAM ", definition.name,
                         " first, or pick another name"));
  }
  const std::string file = folder(definition.name) + "/stream.json";
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << ToJson(definition).dump(2) << "\n";
    if (!out)
      return Status::IOError(StrCat("cannot write ", tmp));
  }
  fs::rename(tmp, file, ec);
  if (ec)
    return Status::IOError(StrCat("cannot write ", file, ": ", ec.message()));
  return Status::OK();
}

Result<StreamDefinition> StreamStore::Get(std::string_view name) const {
  const std::string file = folder(name) + "/stream.json";
  std::ifstream in(file, std::ios::binary);
  if (!ValidName(name) || !in) {
    return Status::NotFound(StrCat("stream ", name, " does not exist"))
        .WithHint("SHOW STREAMS lists the streams of this lake home");
  }
  std::stringstream text;
  text << in.rdbuf();
  return FromJson(text.str(), file);
}

Result<std::vector<StreamDefinition>> StreamStore::List() const {
  std::vector<StreamDefinition> out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec))
    return out;
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(root_, ec)) {
    if (fs::exists(entry.path() / "stream.json"))
      names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  for (const std::string &name : names) {
    LAKE_ASSIGN_OR_RETURN(StreamDefinition d, Get(name));
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<int> StreamStore::RunningPid(std::string_view name) const {
  std::ifstream in(pidfile(name));
  int pid = 0;
  if (!(in >> pid) || pid <= 0)
    return std::nullopt;
  if (::kill(pid, 0) != 0 && errno != EPERM)
    return std::nullopt;
  return pid;
}

Status StreamStore::Drop(std::string_view name, bool if_exists) {
  Result<StreamDefinition> d = Get(name);
  if (!d.ok())
    return if_exists && d.status().code() == StatusCode::kNotFound
               ? Status::OK()
               : d.status();
  if (std::optional<int> pid = RunningPid(name)) {
    return Status::FailedPrecondition(
               StrCat("stream ", name, " is running (pid ", *pid, ")"))
        .WithHint(StrCat("lake stream stop ", name, " first"));
  }
  std::error_code ec;
  fs::remove_all(folder(name), ec);
  if (ec)
    return Status::IOError(
        StrCat("cannot remove ", folder(name), ": ", ec.message()));
  return Status::OK();
}

// ---- Statements ----

Result<std::optional<engine::ResultTable>>
ExecuteStreamStatement(sql::Lakehouse &house, std::string_view sql) {
  LAKE_ASSIGN_OR_RETURN(std::optional<StreamStatement> statement,
                        ParseStreamStatement(sql));
  if (!statement)
    return std::optional<engine::ResultTable>();
  StreamStore store(house.home());
  engine::ResultTable result;
  engine::ColumnType varchar;
  varchar.kind = engine::ColumnType::Kind::kVarchar;
  varchar.name = "VARCHAR";
  if (auto *create = std::get_if<StreamDefinition>(&*statement)) {
    // Fail now rather than at the first start: the target and a table source
    // must resolve, the options parse.
    LAKE_RETURN_IF_ERROR(ResolveTable(house, create->target).status());
    if (create->source.kind == StreamSourceSpec::Kind::kDeltaTable) {
      LAKE_RETURN_IF_ERROR(ResolveTable(house, create->source.table).status());
    }
    if (create->source.kind == StreamSourceSpec::Kind::kFiles) {
      create->source.location =
          fs::absolute(create->source.location).lexically_normal();
    }
    if (auto it = create->options.find("trigger");
        it != create->options.end()) {
      LAKE_RETURN_IF_ERROR(Trigger::Parse(it->second).status());
    }
    for (const char *key :
         {"maxfilespertrigger", "maxbytespertrigger", "startingversion"}) {
      LAKE_RETURN_IF_ERROR(IntOption(*create, key).status());
    }
    LAKE_RETURN_IF_ERROR(store.Create(*create));
    result.columns = {{"stream", varchar}, {"checkpoint", varchar}};
    result.rows.push_back(
        {Text(create->name), Text(store.checkpoint(create->name))});
  } else if (std::get_if<ShowStreams>(&*statement)) {
    result.columns = {{"name", varchar},   {"source", varchar},
                      {"target", varchar}, {"trigger", varchar},
                      {"status", varchar}, {"last_batch", varchar}};
    LAKE_ASSIGN_OR_RETURN(std::vector<StreamDefinition> streams, store.List());
    for (const StreamDefinition &d : streams) {
      auto trigger = d.options.find("trigger");
      std::optional<int> pid = store.RunningPid(d.name);
      engine::Value last;
      if (fs::exists(store.checkpoint(d.name) + "/metadata")) {
        LAKE_ASSIGN_OR_RETURN(std::unique_ptr<Checkpoint> checkpoint,
                              Checkpoint::Open(store.checkpoint(d.name)));
        LAKE_ASSIGN_OR_RETURN(std::optional<BatchId> batch,
                              checkpoint->LatestCommittedBatch());
        if (batch)
          last = Text(std::to_string(*batch));
      }
      result.rows.push_back(
          {Text(d.name), Text(SourceText(d.source)), Text(d.target),
           Text(trigger == d.options.end() ? "availableNow" : trigger->second),
           Text(pid ? StrCat("running (pid ", *pid, ")") : "stopped"), last});
    }
  } else {
    const DropStream &drop = std::get<DropStream>(*statement);
    LAKE_RETURN_IF_ERROR(store.Drop(drop.name, drop.if_exists));
    result.columns = {{"dropped", varchar}};
    result.rows.push_back({Text(drop.name)});
  }
  return std::optional<engine::ResultTable>(std::move(result));
}

Result<std::unique_ptr<StreamingQuery>> OpenStream(sql::Lakehouse &house,
                                                   const StreamDefinition &d,
                                                   QueryOptions options,
                                                   bool trigger_override) {
  StreamStore store(house.home());
  std::unique_ptr<Source> source;
  LAKE_ASSIGN_OR_RETURN(std::optional<int64_t> max_files,
                        IntOption(d, "maxfilespertrigger"));
  LAKE_ASSIGN_OR_RETURN(std::optional<int64_t> max_bytes,
                        IntOption(d, "maxbytespertrigger"));
  if (d.source.kind == StreamSourceSpec::Kind::kFiles) {
    FilesSourceOptions files;
    files.path = d.source.location;
    LAKE_ASSIGN_OR_RETURN(files.format, ParseFileFormat(d.source.format));
    if (auto it = d.options.find("schemaevolutionmode");
        it != d.options.end()) {
      LAKE_ASSIGN_OR_RETURN(files.schema_evolution_mode,
                            ParseSchemaEvolutionMode(it->second));
    }
    // read_files infers column types by default (Databricks SQL's read_files),
    // unlike Auto Loader's all-strings JSON: INSERT INTO a typed table needs
    // them.
    auto infer = d.options.find("infercolumntypes");
    files.infer_column_types =
        infer == d.options.end() || ToLower(infer->second) != "false";
    if (max_files)
      files.max_files_per_trigger = *max_files;
    if (max_bytes)
      files.max_bytes_per_trigger = *max_bytes;
    source = std::make_unique<FilesSource>(std::move(files));
  } else {
    DeltaSourceOptions delta;
    if (d.source.kind == StreamSourceSpec::Kind::kDeltaPath) {
      delta.path = d.source.location;
    } else {
      LAKE_ASSIGN_OR_RETURN(delta.path, ResolveTable(house, d.source.table));
    }
    LAKE_ASSIGN_OR_RETURN(delta.starting_version,
                          IntOption(d, "startingversion"));
    if (max_files)
      delta.max_files_per_trigger = *max_files;
    if (max_bytes)
      delta.max_bytes_per_trigger = *max_bytes;
    delta.ignore_deletes = BoolOption(d, "ignoredeletes");
    delta.skip_change_commits = BoolOption(d, "skipchangecommits");
    source = std::make_unique<DeltaSource>(std::move(delta));
  }
  DeltaSinkOptions sink;
  LAKE_ASSIGN_OR_RETURN(sink.path, ResolveTable(house, d.target));
  sink.merge_schema = BoolOption(d, "mergeschema");
  options.checkpoint_location = store.checkpoint(d.name);
  options.batch_table = "batch";
  options.transformation = d.transformation;
  if (!trigger_override) {
    auto it = d.options.find("trigger");
    LAKE_ASSIGN_OR_RETURN(
        options.trigger,
        Trigger::Parse(it == d.options.end() ? "availableNow" : it->second));
  }
  return StreamingQuery::Open(house.database(), std::move(source),
                              std::make_unique<DeltaSink>(std::move(sink)),
                              std::move(options));
}

} // namespace lake::streaming
