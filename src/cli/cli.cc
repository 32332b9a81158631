// The `lake` command line (STYLE.md §11): flag parsing with CLI11, then each command builds
// SQL for the engine and hands it to RunAndPrint (cli/query_runner.h). Nothing here talks
// to DuckDB: the engine API (engine/database.h) is the only door.
#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include "base/strings.h"
#include "cli/errors.h"
#include "cli/interrupt.h"
#include "cli/line_editor.h"
#include "cli/output.h"
#include "cli/pipeline_command.h"
#include "cli/query_runner.h"
#include "cli/shell.h"
#include "cli/stream_command.h"
#include "engine/database.h"
#include "sql/lakehouse.h"

#ifndef LAKE_VERSION
#define LAKE_VERSION "0.0.0"
#endif

namespace lake::cli {
namespace {

// Flags every command accepts, before or after its name.
struct GlobalFlags {
  std::string format = "table";
  bool json = false;
  bool no_progress = false;
  int threads = 0;  // 0: the engine's default (all cores)
  std::string memory_limit;
  size_t max_rows = 1000;
  std::string home;  // empty: $LAKE_HOME, else ./lakehouse
};

// Accepts a whole number >= 0 (CLI11's NonNegativeNumber prints a 300-digit range).
const CLI::Validator kCount(
    [](std::string& s) -> std::string {
      std::optional<int64_t> n = ParseInt64(s);
      return n && *n >= 0 ? std::string() : StrCat("expects a whole number >= 0, got '", s, "'");
    },
    "", "count");
const CLI::Validator kPositiveCount(
    [](std::string& s) -> std::string {
      std::optional<int64_t> n = ParseInt64(s);
      return n && *n > 0 ? std::string() : StrCat("expects a whole number >= 1, got '", s, "'");
    },
    "", "positive count");

void AddGlobalFlags(CLI::App& app, GlobalFlags& flags) {
  app.add_option("--format", flags.format, "Output: table (default), csv, json or jsonl")
      ->check(CLI::IsMember({"table", "csv", "json", "jsonl"}, CLI::ignore_case))
      ->option_text("FORMAT");
  app.add_flag("--json", flags.json, "Same as --format json");
  app.add_flag("--no-progress", flags.no_progress, "Never draw the progress line on stderr");
  app.add_option("--threads", flags.threads, "Worker threads (default: all cores)")
      ->check(kPositiveCount)
      ->option_text("N");
  app.add_option("--memory-limit", flags.memory_limit,
                 "Engine memory limit, e.g. 4GB (default: 80% of RAM)")
      ->option_text("SIZE");
  app.add_option("--max-rows", flags.max_rows,
                 "Rows shown by --format table, 0 for all (default: 1000)")
      ->check(kCount)
      ->option_text("N");
  app.add_option("--home", flags.home,
                 "Lake home: metastore and managed tables (default: $LAKE_HOME, else "
                 "./lakehouse)")
      ->option_text("DIR");
}

// Returns the output format named on the command line, for errors CLI11 reports before it
// has stored --format/--json: "--json", "--format json", "--format=jsonl".
OutputFormat FormatFromArgs(int argc, char** argv) {
  OutputFormat format = OutputFormat::kTable;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view name;
    if (arg == "--json") {
      format = OutputFormat::kJson;
    } else if (arg == "--format" && i + 1 < argc) {
      name = argv[i + 1];
    } else if (StartsWith(arg, "--format=")) {
      name = arg.substr(9);
    }
    if (!name.empty()) {
      if (Result<OutputFormat> f = ParseOutputFormat(name); f.ok()) format = *f;
    }
  }
  return format;
}

std::string Example(std::string_view command) { return StrCat("\nExample:\n  ", command, "\n"); }

// Returns whether `arg` reads as a table name (t, schema.t, lake.schema.t) rather than a path.
bool IsTableName(const std::string& arg) {
  if (arg.empty() || arg.find('/') != std::string::npos) return false;
  for (char c : arg) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  }
  return true;
}

// Fails fast, with a useful hint, on a local table path that is not there; other schemes
// are left to the engine.
Status CheckLocalTablePath(const std::string& path) {
  std::string local = path;
  if (StartsWith(path, "file://")) {
    local = path.substr(7);
  } else if (path.find("://") != std::string::npos) {
    return Status::OK();
  }
  std::error_code ec;
  if (!std::filesystem::exists(local, ec)) {
    return Status::NotFound(StrCat("table ", path, ": no such file or directory"))
        .WithHint("check the path; a Delta table is a folder holding a _delta_log folder");
  }
  if (!std::filesystem::is_directory(std::filesystem::path(local) / "_delta_log", ec)) {
    return Status::NotFound(StrCat("table ", path, ": not a Delta table (no _delta_log folder)"))
        .WithHint("point at the table's root folder, the one that holds _delta_log");
  }
  return Status::OK();
}

class Cli {
 public:
  int Run(int argc, char** argv);

 private:
  void DefineCommands();
  // Resolves --format/--json and checks stdout/stderr to build the output settings.
  OutputSettings Output() const;
  OutputFormat Format() const {
    if (flags_.json) return OutputFormat::kJson;
    Result<OutputFormat> f = ParseOutputFormat(flags_.format);  // checked by CLI11
    return f.ok() ? *f : OutputFormat::kTable;
  }
  Result<std::unique_ptr<sql::Lakehouse>> OpenLakehouse() const;
  // Opens a session and runs `sql`; returns the exit code.
  int RunSql(std::string_view sql);
  int Fail(const Status& status) {
    ReportError(status, Format(), std::cout, std::cerr);
    return ExitCodeFor(status.code());
  }

  int CmdSql();
  int CmdShell();
  int CmdTable(std::string_view function, bool with_version);
  int CmdVersion();

  CLI::App app_{"lake: query Delta Lake tables with SQL", "lake"};
  GlobalFlags flags_;
  CLI::App* sql_ = nullptr;
  CLI::App* shell_ = nullptr;
  CLI::App* table_ = nullptr;
  CLI::App* history_ = nullptr;
  CLI::App* files_ = nullptr;
  CLI::App* detail_ = nullptr;
  CLI::App* version_ = nullptr;
  PipelineCommands pipeline_;
  StreamCommands stream_;
  std::string statements_;
  std::string table_path_;
  std::optional<int64_t> limit_;
  std::optional<int64_t> table_version_;
};

void Cli::DefineCommands() {
  app_.require_subcommand(1);
  // Single quotes: inside double quotes a shell would run the backticks as a command.
  app_.footer(Example("lake sql 'SELECT count(*) FROM delta.`examples/sample_table`'"));
  AddGlobalFlags(app_, flags_);

  sql_ = app_.add_subcommand("sql", "Run SQL statements and print the last one's result");
  sql_->add_option("statements", statements_,
                   "SQL text; '-' or nothing reads it from stdin (when piped)")
      ->option_text("SQL");
  sql_->footer(Example(
      "lake sql --format jsonl 'SELECT * FROM delta.`examples/sample_table` VERSION AS OF 0'"));
  AddGlobalFlags(*sql_, flags_);

  shell_ = app_.add_subcommand("shell", "Start an interactive SQL shell (.help inside)");
  shell_->footer(Example("lake shell --format csv"));
  AddGlobalFlags(*shell_, flags_);

  table_ = app_.add_subcommand("table", "Inspect a Delta table: history, files, detail");
  table_->require_subcommand(1);
  table_->footer(Example("lake table history examples/sample_table --limit 5"));
  AddGlobalFlags(*table_, flags_);

  history_ = table_->add_subcommand("history", "List a table's commits, newest first");
  history_->add_option("table", table_path_, "Table folder (holding _delta_log) or name (sales.orders)")->required();
  history_->add_option("--limit", limit_, "Show only the newest N commits")
      ->check(kCount)
      ->option_text("N");
  history_->footer(Example("lake table history examples/sample_table --limit 5"));
  AddGlobalFlags(*history_, flags_);

  files_ = table_->add_subcommand("files", "List a table's active data files");
  files_->add_option("table", table_path_, "Table folder (holding _delta_log) or name (sales.orders)")->required();
  files_->add_option("--version", table_version_, "Read the table as of this version")
      ->check(kCount)
      ->option_text("N");
  files_->footer(Example("lake table files examples/sample_table --version 0 --format csv"));
  AddGlobalFlags(*files_, flags_);

  detail_ = table_->add_subcommand(
      "detail", "Show a table's protocol, features, schema, properties and checkpoint");
  detail_->add_option("table", table_path_, "Table folder (holding _delta_log) or name (sales.orders)")->required();
  detail_->add_option("--version", table_version_, "Read the table as of this version")
      ->check(kCount)
      ->option_text("N");
  detail_->footer(Example("lake table detail examples/sample_table --json"));
  AddGlobalFlags(*detail_, flags_);

  stream_.Define(app_, [this](CLI::App& app) { AddGlobalFlags(app, flags_); });

  pipeline_.Define(app_, [this](CLI::App& app) { AddGlobalFlags(app, flags_); });

  version_ = app_.add_subcommand("version", "Print lake's version and the engine's");
  version_->footer(Example("lake version --json"));
  AddGlobalFlags(*version_, flags_);
}

OutputSettings Cli::Output() const {
  OutputSettings settings;
  settings.format = Format();
  settings.table.max_rows = flags_.max_rows;
  settings.progress = isatty(STDERR_FILENO) && !flags_.no_progress && !IsJsonFormat(settings.format);
  return settings;
}

Result<std::unique_ptr<sql::Lakehouse>> Cli::OpenLakehouse() const {
  sql::LakehouseOptions options;
  options.home = flags_.home;
  if (flags_.threads > 0) options.database.threads = flags_.threads;
  if (!flags_.memory_limit.empty()) options.database.memory_limit = flags_.memory_limit;
  return sql::Lakehouse::Open(options);
}

int Cli::RunSql(std::string_view sql) {
  Result<std::unique_ptr<sql::Lakehouse>> house = OpenLakehouse();
  if (!house.ok()) return Fail(house.status());
  Result<std::unique_ptr<engine::Session>> session = (*house)->database().Connect();
  if (!session.ok()) return Fail(session.status());
  // CREATE STREAM / SHOW STREAMS / DROP STREAM live in the home, not the engine.
  if (std::optional<Status> stream = RunStreamStatement(**house, sql, Output(), std::cout,
                                                        std::cerr)) {
    return ExitCodeFor(stream->code());
  }
  Status status = RunAndPrint(**session, sql, Output(), std::cout, std::cerr);
  std::cout.flush();
  return ExitCodeFor(status.code());
}

int Cli::CmdSql() {
  std::string sql = statements_;
  bool from_stdin = sql == "-" || (sql.empty() && !isatty(STDIN_FILENO));
  if (from_stdin) {
    sql.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else if (sql.empty()) {
    return Fail(Status::InvalidArgument("no SQL given")
                    .WithHint("pass statements as an argument (lake sql \"SELECT 1\"), pipe "
                              "them on stdin, or run lake shell"));
  }
  return RunSql(sql);
}

int Cli::CmdShell() {
  Result<std::unique_ptr<sql::Lakehouse>> house = OpenLakehouse();
  if (!house.ok()) return Fail(house.status());
  Result<std::unique_ptr<engine::Session>> session = (*house)->database().Connect();
  if (!session.ok()) return Fail(session.status());
  ShellOptions options;
  options.output = Output();
  options.stderr_is_terminal = isatty(STDERR_FILENO);
  options.no_progress = flags_.no_progress;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    options.history_path = StrCat(home, "/.lake_history");
  }
  std::unique_ptr<LineReader> reader = MakeLineReader();
  return RunShell(**session, *reader, options, std::cout, std::cerr);
}

int Cli::CmdTable(std::string_view function, bool with_version) {
  // A name (sales.orders) resolves in the lake home's metastore, unless a folder by that
  // name exists here: an existing path always wins.
  bool by_name = false;
  if (Status status = CheckLocalTablePath(table_path_); !status.ok()) {
    std::error_code ec;
    if (!IsTableName(table_path_) || std::filesystem::exists(table_path_, ec)) return Fail(status);
    by_name = true;
  }
  std::string sql = StrCat("SELECT * FROM ", function, "(", SqlQuote(table_path_));
  if (by_name) sql += ", by_name := true";
  if (with_version && table_version_) sql += StrCat(", version := ", *table_version_);
  sql += ")";
  // Spark's DESCRIBE HISTORY order: newest first.
  if (function == "delta_history") sql += " ORDER BY version DESC";
  if (limit_) sql += StrCat(" LIMIT ", *limit_);
  return RunSql(sql);
}

int Cli::CmdVersion() {
  Result<std::unique_ptr<sql::Lakehouse>> house = OpenLakehouse();
  if (!house.ok()) return Fail(house.status());
  std::string engine_version = (*house)->database().engine_version();
  if (IsJsonFormat(Format())) {
    std::cout << "{\"lake\":" << JsonQuote(LAKE_VERSION)
              << ",\"duckdb\":" << JsonQuote(engine_version) << "}\n";
  } else {
    std::cout << "lake " << LAKE_VERSION << "\nduckdb " << engine_version << "\n";
  }
  std::cout.flush();
  return kExitOk;
}

int Cli::Run(int argc, char** argv) {
  DefineCommands();
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app_.exit(e);  // --help: usage on stdout, exit 0
    // Point at the deepest command that was named, so its --help is the right one.
    std::string command = "lake";
    for (CLI::App* sub = &app_; sub != nullptr;) {
      std::vector<CLI::App*> parsed = sub->get_subcommands();
      sub = parsed.empty() ? nullptr : parsed.front();
      if (sub != nullptr) command += " " + sub->get_name();
    }
    // A format flag parsed before the error still decides how the error is printed.
    ReportError(Status::InvalidArgument(e.what())
                    .WithHint(StrCat("run '", command, " --help' for usage and an example")),
                FormatFromArgs(argc, argv), std::cout, std::cerr);
    return kExitUsage;
  }
  if (sql_->parsed()) return CmdSql();
  if (shell_->parsed()) return CmdShell();
  if (history_->parsed()) return CmdTable("delta_history", false);
  if (files_->parsed()) return CmdTable("delta_files", true);
  if (detail_->parsed()) return CmdTable("delta_detail", true);
  if (version_->parsed()) return CmdVersion();
  if (pipeline_.parsed()) {
    Result<std::unique_ptr<sql::Lakehouse>> house = OpenLakehouse();
    if (!house.ok()) return Fail(house.status());
    return ExitCodeFor(pipeline_.Run(**house, Output(), std::cout, std::cerr).code());
  }
  if (stream_.parsed()) {
    Result<std::unique_ptr<sql::Lakehouse>> house = OpenLakehouse();
    if (!house.ok()) return Fail(house.status());
    return ExitCodeFor(stream_.Run(**house, Output(), std::cout, std::cerr).code());
  }
  std::cerr << app_.help();
  return kExitUsage;
}

}  // namespace

int Main(int argc, char** argv) {
  InstallInterruptHandler();
  Cli cli;
  return cli.Run(argc, argv);
}

}  // namespace lake::cli
