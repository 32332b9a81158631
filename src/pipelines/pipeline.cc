// The pipeline parser and DAG (pipeline.h). Statements are recognised on lake's SQL tokens
// (engine/internal/sql_tokens.h): only the CREATE ... AS head, the constraint list and the
// names a SELECT reads are interpreted; the SELECT itself is left to the engine.
#include "pipelines/pipeline.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "engine/internal/sql_tokens.h"

namespace lake::pipelines {
namespace {

namespace fs = std::filesystem;
using engine::internal::sql_tokens::Token;
using engine::internal::sql_tokens::TokKind;

bool IsWord(const Token& t, std::string_view word) {
  return t.kind == TokKind::kWord && ToLower(t.value) == word;
}
bool IsOther(const Token& t, std::string_view c) { return t.kind == TokKind::kOther && t.value == c; }
bool IsName(const Token& t) { return t.kind == TokKind::kWord || t.kind == TokKind::kQuotedIdent; }
std::string NameOf(const Token& t) {
  return t.kind == TokKind::kQuotedIdent ? ToLower(t.value) : ToLower(t.value);
}

// One statement: tokens [begin, end) of the file.
class StatementParser {
 public:
  StatementParser(std::string_view text, const std::vector<Token>& toks, size_t begin, size_t end,
                  std::string_view file, std::string_view base_dir)
      : text_(text), toks_(toks), i_(begin), end_(end), file_(file), base_dir_(base_dir) {}

  Result<Dataset> Parse() {
    Dataset ds;
    ds.file = std::string(file_);
    const size_t head = i_;
    if (IsWord(toks_[i_], "auto") || IsWord(toks_[i_], "apply")) {
      return Status::NotSupported(StrCat(file_, ": ", toks_[i_].value, " ", i_ + 1 < end_ ? toks_[i_ + 1].value : "",
                                         " is not supported in a pipeline yet (TODO(#5))"))
          .WithHint("lake pipelines run CREATE OR REFRESH STREAMING TABLE and MATERIALIZED VIEW");
    }
    if (!Word("create")) return Syntax("expected CREATE OR REFRESH STREAMING TABLE or MATERIALIZED VIEW");
    if (Word("or") && !Word("refresh") && !Word("replace")) return Syntax("expected OR REFRESH");
    if (Word("streaming")) {
      Word("live");
      if (!Word("table")) return Syntax("expected TABLE after STREAMING");
      ds.kind = Dataset::Kind::kStreamingTable;
    } else if (Word("materialized")) {
      if (!Word("view")) return Syntax("expected VIEW after MATERIALIZED");
      ds.kind = Dataset::Kind::kMaterializedView;
    } else if (Word("live")) {
      if (!Word("table")) return Syntax("expected TABLE after LIVE");
      ds.kind = Dataset::Kind::kMaterializedView;  // the legacy spelling of a view
    } else {
      std::string what;
      for (size_t k = head; k < std::min(end_, head + 4); ++k) what += (what.empty() ? "" : " ") + toks_[k].value;
      return Status::NotSupported(StrCat(file_, ": statement '", what, " ...' is not supported in a pipeline yet"))
          .WithHint("lake pipelines run CREATE OR REFRESH STREAMING TABLE and MATERIALIZED VIEW (TODO(#5): views, flows, AUTO CDC)");
    }
    if (i_ >= end_ || !IsName(toks_[i_])) return Syntax("expected the dataset's name");
    ds.name = NameOf(toks_[i_++]);
    if (i_ < end_ && IsOther(toks_[i_], ".")) {
      return Syntax(StrCat("dataset ", ds.name, " is qualified: pipeline datasets are named without a schema (pipeline.yml `target` names it)"));
    }
    name_ = ds.name;
    if (i_ < end_ && IsOther(toks_[i_], "(")) {
      ++i_;
      LAKE_RETURN_IF_ERROR(ParseConstraints(ds));
    }
    if (Word("comment")) {
      if (i_ >= end_ || toks_[i_].kind != TokKind::kString) return Syntax("expected a string after COMMENT");
      ++i_;
    }
    if (!Word("as")) return Syntax("expected AS SELECT ...");
    if (i_ >= end_) return Syntax("expected a query after AS");
    LAKE_RETURN_IF_ERROR(ParseSelect(ds));
    return ds;
  }

 private:
  Status Syntax(std::string what) const {
    return Status::InvalidArgument(StrCat(file_, (name_.empty() ? "" : StrCat(", dataset ", name_)), ": ", what,
                                          i_ < end_ ? StrCat(" (at '", toks_[i_].value, "')") : " (at the end of the statement)"));
  }
  bool Word(std::string_view w) {
    if (i_ < end_ && IsWord(toks_[i_], w)) {
      ++i_;
      return true;
    }
    return false;
  }
  // Returns the index of the ')' closing the '(' at `open`, or end_.
  size_t Closing(size_t open) const {
    int depth = 0;
    for (size_t k = open; k < end_; ++k) {
      if (IsOther(toks_[k], "(")) ++depth;
      if (IsOther(toks_[k], ")") && --depth == 0) return k;
    }
    return end_;
  }

  Status ParseConstraints(Dataset& ds) {
    while (true) {
      if (!Word("constraint")) {
        if (i_ < end_ && IsName(toks_[i_])) {
          return Status::NotSupported(StrCat(file_, ", dataset ", ds.name, ": column definitions in the schema list are not supported yet"))
              .WithHint("list only CONSTRAINT name EXPECT (condition) entries; the columns come from the query");
        }
        return Syntax("expected CONSTRAINT name EXPECT (condition)");
      }
      Expectation e;
      if (i_ >= end_ || !IsName(toks_[i_])) return Syntax("expected the constraint's name");
      e.name = toks_[i_++].value;
      if (!Word("expect")) return Syntax(StrCat("expected EXPECT after CONSTRAINT ", e.name));
      if (i_ >= end_ || !IsOther(toks_[i_], "(")) return Syntax(StrCat("expected '(' after EXPECT of ", e.name));
      const size_t close = Closing(i_);
      if (close == end_ || close == i_ + 1) return Syntax(StrCat("expected (condition) for expectation ", e.name));
      e.condition = std::string(text_.substr(toks_[i_ + 1].begin, toks_[close - 1].end - toks_[i_ + 1].begin));
      i_ = close + 1;
      if (Word("on")) {
        if (!Word("violation")) return Syntax("expected VIOLATION after ON");
        if (Word("drop")) {
          if (!Word("row")) return Syntax("expected ROW after DROP");
          e.action = Expectation::Action::kDrop;
        } else if (Word("fail")) {
          if (!Word("update")) return Syntax("expected UPDATE after FAIL");
          e.action = Expectation::Action::kFail;
        } else {
          return Syntax("expected DROP ROW or FAIL UPDATE after ON VIOLATION");
        }
      }
      for (const Expectation& other : ds.expectations) {
        if (ToLower(other.name) == ToLower(e.name)) return Syntax(StrCat("expectation ", e.name, " is declared twice"));
      }
      ds.expectations.push_back(std::move(e));
      if (i_ < end_ && IsOther(toks_[i_], ",")) {
        ++i_;
        continue;
      }
      if (i_ < end_ && IsOther(toks_[i_], ")")) {
        ++i_;
        return Status::OK();
      }
      return Syntax("expected ',' or ')' after an expectation");
    }
  }

  // read_files('<dir>', key => value, ...): `open` is its '('.
  Result<StreamSource> ParseReadFiles(size_t open, size_t close) {
    StreamSource src;
    src.kind = StreamSource::Kind::kFiles;
    size_t k = open + 1;
    if (k >= close || toks_[k].kind != TokKind::kString) return Syntax("read_files needs the landing folder as its first argument, a string");
    fs::path p(toks_[k].value);
    if (p.is_relative()) p = fs::path(base_dir_) / p;
    src.path = p.lexically_normal().string();
    ++k;
    while (k < close) {
      if (!IsOther(toks_[k], ",") || k + 4 > close || !IsName(toks_[k + 1]) || !IsOther(toks_[k + 2], "=") ||
          !IsOther(toks_[k + 3], ">")) {
        return Syntax("read_files takes named options after the folder: name => 'value'");
      }
      const Token& value = toks_[k + 4];
      if (value.kind != TokKind::kString && value.kind != TokKind::kNumber && value.kind != TokKind::kWord) {
        return Syntax(StrCat("read_files option ", toks_[k + 1].value, " needs a literal value"));
      }
      src.options[ToLower(toks_[k + 1].value)] = value.value;
      k += 5;
    }
    return src;
  }

  Status ParseSelect(Dataset& ds) {
    const size_t first = i_;
    // CTE names (WITH x AS (...), y AS (...)) are not dataset references.
    std::set<std::string> ctes;
    for (size_t k = first; k + 2 < end_; ++k) {
      if (IsName(toks_[k]) && IsWord(toks_[k + 1], "as") && IsOther(toks_[k + 2], "(") && k > first &&
          (IsWord(toks_[k - 1], "with") || IsWord(toks_[k - 1], "recursive") || IsOther(toks_[k - 1], ","))) {
        ctes.insert(NameOf(toks_[k]));
      }
    }
    std::set<std::string> refs;
    std::string out;
    size_t copied = toks_[first].begin;
    auto replace = [&](size_t from_tok, size_t to_tok, std::string_view with) {
      out.append(text_.substr(copied, toks_[from_tok].begin - copied));
      out.append(with);
      copied = toks_[to_tok].end;
    };
    int streams = 0;
    for (size_t k = first; k < end_; ++k) {
      const Token& t = toks_[k];
      if (IsWord(t, "stream") && k + 1 < end_) {
        size_t last = k;
        if (IsWord(toks_[k + 1], "read_files") && k + 2 < end_ && IsOther(toks_[k + 2], "(")) {
          const size_t close = Closing(k + 2);
          if (close == end_) return Syntax("unclosed read_files(");
          LAKE_ASSIGN_OR_RETURN(StreamSource src, ParseReadFiles(k + 2, close));
          ds.stream = std::move(src);
          last = close;
        } else {
          size_t n = k + 1;
          const bool paren = IsOther(toks_[n], "(");
          if (paren) ++n;
          if (n + 2 < end_ && IsWord(toks_[n], "live") && IsOther(toks_[n + 1], ".")) n += 2;
          if (n >= end_ || !IsName(toks_[n])) return Syntax("expected a dataset name after STREAM");
          if (n + 1 < end_ && IsOther(toks_[n + 1], ".")) {
            return Status::NotSupported(StrCat(file_, ", dataset ", ds.name, ": STREAM of a table outside the pipeline (", toks_[n].value, ".", "...) is not supported yet"))
                .WithHint("stream from a dataset of the pipeline, or from read_files");
          }
          StreamSource src;
          src.kind = StreamSource::Kind::kDataset;
          src.dataset = NameOf(toks_[n]);
          refs.insert(src.dataset);
          ds.stream = std::move(src);
          last = n;
          if (paren) {
            if (n + 1 >= end_ || !IsOther(toks_[n + 1], ")")) return Syntax("expected ')' after STREAM(name");
            last = n + 1;
          }
        }
        ++streams;
        replace(k, last, kBatchTable);
        k = last;
        continue;
      }
      if (IsWord(t, "live") && k + 2 < end_ && IsOther(toks_[k + 1], ".") && IsName(toks_[k + 2])) {
        const std::string name = NameOf(toks_[k + 2]);
        refs.insert(name);
        replace(k, k + 2, SqlIdent(name));
        k += 2;
        continue;
      }
      if ((IsWord(t, "from") || IsWord(t, "join")) && k + 1 < end_) {
        const Token& n = toks_[k + 1];
        const bool qualified_or_call = k + 2 < end_ && (IsOther(toks_[k + 2], ".") || IsOther(toks_[k + 2], "("));
        if (IsName(n) && !qualified_or_call && !IsWord(n, "stream") && !IsWord(n, "live") && !IsWord(n, "lateral") &&
            !ctes.count(NameOf(n))) {
          refs.insert(NameOf(n));
        }
      }
    }
    out.append(text_.substr(copied, toks_[end_ - 1].end - copied));
    ds.select_sql = std::move(out);
    ds.references.assign(refs.begin(), refs.end());
    if (ds.kind == Dataset::Kind::kMaterializedView && streams > 0) {
      return Status::InvalidArgument(StrCat(file_, ", dataset ", ds.name, ": a materialized view reads its inputs whole; STREAM is for streaming tables"))
          .WithHint(StrCat("drop STREAM, or declare ", ds.name, " as CREATE OR REFRESH STREAMING TABLE"));
    }
    if (ds.kind == Dataset::Kind::kStreamingTable && streams == 0) {
      return Status::InvalidArgument(StrCat(file_, ", dataset ", ds.name, ": a streaming table reads one streaming source, and this query has none"))
          .WithHint("read FROM STREAM read_files('<folder>', format => 'json') or FROM STREAM(<dataset>)");
    }
    if (streams > 1) {
      return Status::NotSupported(StrCat(file_, ", dataset ", ds.name, ": a streaming table reading ", streams, " streams (stream unions and joins) is not supported yet"))
          .WithHint("read one STREAM source per streaming table");
    }
    return Status::OK();
  }

  std::string_view text_;
  const std::vector<Token>& toks_;
  size_t i_, end_;
  std::string_view file_, base_dir_;
  std::string name_;
};

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(StrCat(path.string(), ": cannot read"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Replaces ${key} with configuration values; an unknown key is an error naming it.
Result<std::string> Substitute(const std::string& text, const std::map<std::string, std::string>& conf,
                               const std::string& file) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t at = text.find("${", pos);
    if (at == std::string::npos) break;
    const size_t close = text.find('}', at);
    if (close == std::string::npos) break;
    const std::string key = text.substr(at + 2, close - at - 2);
    auto it = conf.find(key);
    if (it == conf.end()) {
      return Status::InvalidArgument(StrCat(file, ": ${", key, "} is not in the pipeline's configuration"))
          .WithHint(StrCat("add it under `configuration:` in pipeline.yml"));
    }
    out += text.substr(pos, at - pos);
    out += it->second;
    pos = close + 1;
  }
  out += text.substr(pos);
  return out;
}

Status LoadSpec(const fs::path& yml, Pipeline& p) {
  try {
    YAML::Node root = YAML::LoadFile(yml.string());
    if (!root.IsDefined() || root.IsNull()) return Status::OK();
    if (!root.IsMap()) return Status::InvalidArgument(StrCat(yml.string(), ": expected a mapping at the top"));
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (key == "name") {
        p.name = kv.second.as<std::string>();
      } else if (key == "target") {
        p.target = kv.second.as<std::string>();
      } else if (key == "storage") {
        fs::path s(kv.second.as<std::string>());
        if (s.is_relative()) s = fs::path(p.dir) / s;
        p.storage = s.lexically_normal().string();
      } else if (key == "configuration") {
        if (!kv.second.IsMap()) return Status::InvalidArgument(StrCat(yml.string(), ": `configuration` must map names to values"));
        for (const auto& c : kv.second) p.configuration[c.first.as<std::string>()] = c.second.as<std::string>();
      } else {
        return Status::InvalidArgument(StrCat(yml.string(), ": unknown key `", key, "`"))
            .WithHint("pipeline.yml knows name, target, storage and configuration");
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(StrCat(yml.string(), ": ", e.what()));
  }
  return Status::OK();
}

}  // namespace

std::string_view ActionName(Expectation::Action action) {
  switch (action) {
    case Expectation::Action::kWarn: return "warn";
    case Expectation::Action::kDrop: return "drop";
    case Expectation::Action::kFail: return "fail";
  }
  return "?";
}

std::string_view KindName(Dataset::Kind kind) {
  return kind == Dataset::Kind::kStreamingTable ? "streaming_table" : "materialized_view";
}

const Dataset* Pipeline::Find(std::string_view n) const {
  for (const Dataset& d : datasets) {
    if (d.name == n) return &d;
  }
  return nullptr;
}
std::string Pipeline::TablePath(std::string_view dataset) const {
  return (fs::path(storage) / "tables" / std::string(dataset)).string();
}
std::string Pipeline::CheckpointPath(std::string_view dataset) const {
  return (fs::path(storage) / "checkpoints" / std::string(dataset)).string();
}
std::string Pipeline::EventLogPath() const { return (fs::path(storage) / "system" / "events").string(); }

Result<std::vector<Dataset>> ParseSqlFile(std::string_view text, std::string_view file,
                                          std::string_view base_dir) {
  std::optional<size_t> unterminated;
  std::vector<Token> toks = engine::internal::sql_tokens::Tokenize(text, unterminated);
  if (unterminated) {
    return Status::InvalidArgument(StrCat(file, ": unterminated quote or comment at byte ", *unterminated));
  }
  std::vector<Dataset> out;
  size_t begin = 0;
  int depth = 0;
  for (size_t k = 0; k <= toks.size(); ++k) {
    if (k < toks.size()) {
      if (IsOther(toks[k], "(")) ++depth;
      if (IsOther(toks[k], ")")) --depth;
      if (!(IsOther(toks[k], ";") && depth == 0)) continue;
    }
    if (k > begin) {
      StatementParser parser(text, toks, begin, k, file, base_dir);
      LAKE_ASSIGN_OR_RETURN(Dataset ds, parser.Parse());
      out.push_back(std::move(ds));
    }
    begin = k + 1;
  }
  return out;
}

Result<std::vector<std::string>> ResolveOrder(const std::vector<Dataset>& datasets) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < datasets.size(); ++i) {
    auto [it, fresh] = index.emplace(datasets[i].name, i);
    if (!fresh) {
      return Status::InvalidArgument(StrCat("dataset ", datasets[i].name, " is defined twice: in ",
                                            datasets[it->second].file, " and in ", datasets[i].file))
          .WithHint("rename one of them");
    }
  }
  for (const Dataset& d : datasets) {
    for (const std::string& r : d.references) {
      if (!index.count(r)) {
        return Status::InvalidArgument(StrCat("dataset ", d.name, " (", d.file, ") reads `", r,
                                              "`, which no statement of the pipeline defines"))
            .WithHint("define it in a .sql file of the pipeline, or qualify a table outside it (schema.table, delta.`/path`)");
      }
    }
  }
  // Cycles: depth-first, reporting the first cycle found as a path.
  std::vector<int> state(datasets.size(), 0);  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> stack;
  std::function<Status(size_t)> visit = [&](size_t i) -> Status {
    state[i] = 1;
    stack.push_back(datasets[i].name);
    for (const std::string& r : datasets[i].references) {
      const size_t j = index.at(r);
      if (state[j] == 1) {
        auto from = std::find(stack.begin(), stack.end(), r);
        std::vector<std::string> cycle(from, stack.end());
        cycle.push_back(r);
        return Status::InvalidArgument(StrCat("the pipeline's datasets form a cycle: ", StrJoin(cycle, " -> "),
                                              " (", datasets[index.at(cycle.front())].file, ")"))
            .WithHint("a dataset cannot read itself, directly or through others");
      }
      if (state[j] == 0) LAKE_RETURN_IF_ERROR(visit(j));
    }
    stack.pop_back();
    state[i] = 2;
    return Status::OK();
  };
  for (size_t i = 0; i < datasets.size(); ++i) {
    if (state[i] == 0) LAKE_RETURN_IF_ERROR(visit(i));
  }
  // Kahn's algorithm, the earliest-declared ready dataset first (pipeline.h note 4).
  std::vector<size_t> missing(datasets.size());
  for (size_t i = 0; i < datasets.size(); ++i) missing[i] = datasets[i].references.size();
  std::vector<bool> done(datasets.size(), false);
  std::vector<std::string> order;
  while (order.size() < datasets.size()) {
    size_t next = datasets.size();
    for (size_t i = 0; i < datasets.size() && next == datasets.size(); ++i) {
      if (!done[i] && missing[i] == 0) next = i;
    }
    if (next == datasets.size()) return Status::Internal("pipeline DAG: no ready dataset after the cycle check");
    done[next] = true;
    order.push_back(datasets[next].name);
    for (size_t i = 0; i < datasets.size(); ++i) {
      for (const std::string& r : datasets[i].references) missing[i] -= (r == datasets[next].name);
    }
  }
  return order;
}

Result<Pipeline> LoadPipeline(std::string_view dir_text) {
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(dir_text), ec).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  if (ec || !fs::is_directory(dir, ec)) {
    return Status::NotFound(StrCat("pipeline ", dir_text, ": no such folder"))
        .WithHint("a pipeline is a folder of .sql files (and an optional pipeline.yml)");
  }
  Pipeline p;
  p.dir = dir.string();
  p.name = dir.filename().string();
  p.storage = (dir / ".pipeline").string();
  if (fs::exists(dir / "pipeline.yml")) LAKE_RETURN_IF_ERROR(LoadSpec(dir / "pipeline.yml", p));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".sql") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return Status::NotFound(StrCat("pipeline ", p.dir, ": no .sql file in the folder"))
        .WithHint("define datasets in <name>.sql files with CREATE OR REFRESH STREAMING TABLE / MATERIALIZED VIEW");
  }
  for (const fs::path& f : files) {
    LAKE_ASSIGN_OR_RETURN(std::string text, ReadFile(f));
    LAKE_ASSIGN_OR_RETURN(text, Substitute(text, p.configuration, f.filename().string()));
    LAKE_ASSIGN_OR_RETURN(std::vector<Dataset> ds, ParseSqlFile(text, f.filename().string(), p.dir));
    for (Dataset& d : ds) p.datasets.push_back(std::move(d));
  }
  LAKE_ASSIGN_OR_RETURN(p.order, ResolveOrder(p.datasets));
  return p;
}

}  // namespace lake::pipelines
