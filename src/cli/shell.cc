#include "cli/shell.h"

#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>

#include "base/strings.h"
#include "cli/errors.h"
#include "cli/interrupt.h"
#include "cli/sql_text.h"

namespace lake::cli {
namespace {

constexpr size_t kMaxHistoryEntries = 1000;

constexpr const char* kDotHelp =
    ".help                 show this list\n"
    ".quit, .exit          leave the shell (Ctrl-D works too)\n"
    ".format [FMT]         show or set the output format: table, csv, json, jsonl\n"
    ".timer on|off         print each statement's run time on stderr\n"
    "SQL statements end with ';' and may span lines. Ctrl-C stops a running query or\n"
    "drops the line being typed. Delta tables: SELECT * FROM delta.`/path/to/table`;\n";

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// One history entry per line: multi-line input is folded onto one line.
std::string FoldLines(std::string_view s) {
  std::string out = Trim(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

class History {
 public:
  History(std::string path, LineReader& reader) : path_(std::move(path)), reader_(reader) {
    if (path_.empty()) return;
    std::ifstream in(path_);
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      lines.push_back(std::move(line));
      if (lines.size() > kMaxHistoryEntries) lines.pop_front();
    }
    for (std::string& line : lines) reader_.AddHistory(std::move(line));
  }

  void Add(std::string_view entry) {
    std::string line = FoldLines(entry);
    if (line.empty()) return;
    reader_.AddHistory(line);
    if (path_.empty()) return;
    // Appended as we go so that a crash keeps what was typed. A history file that cannot
    // be written is not worth interrupting the user for.
    std::ofstream out(path_, std::ios::app);
    if (out) out << line << '\n';
  }

 private:
  std::string path_;
  LineReader& reader_;
};

}  // namespace

int RunShell(engine::Session& session, LineReader& reader, ShellOptions options,
             std::ostream& out, std::ostream& err) {
  const bool interactive = reader.interactive();
  // A piped script is not something the user typed: keep it out of the history.
  History history(interactive ? options.history_path : std::string(), reader);
  if (interactive) {
    SetExitOnIdleInterrupt(false);
    out << "lake shell. Statements end with ';'. Type .help for help, .quit to leave.\n";
    out.flush();
  }
  int exit_code = kExitOk;
  std::string buffer;

  // Returns false when a non-interactive shell must stop (a statement failed).
  auto run_buffer = [&]() -> bool {
    std::vector<std::string> statements = SplitStatements(buffer);
    buffer.clear();
    for (const std::string& sql : statements) {
      OutputSettings settings = options.output;
      settings.progress = options.stderr_is_terminal && !options.no_progress &&
                          !IsJsonFormat(settings.format);
      auto start = std::chrono::steady_clock::now();
      Status status = RunAndPrint(session, sql, settings, out, err);
      if (options.timer) {
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        char buf[64];
        std::snprintf(buf, sizeof buf, "time: %.3f s\n", seconds);
        err << buf;
        err.flush();
      }
      if (!status.ok() && !interactive) {
        exit_code = ExitCodeFor(status.code());
        return false;
      }
    }
    return true;
  };

  for (;;) {
    std::string line;
    LineReader::Outcome outcome = reader.ReadLine(buffer.empty() ? "lake> " : "  ..> ", line);
    if (outcome == LineReader::Outcome::kInterrupted) {
      buffer.clear();
      continue;
    }
    if (outcome == LineReader::Outcome::kEndOfInput) {
      // Piped scripts may leave the last ';' off.
      if (!Trim(buffer).empty()) {
        history.Add(buffer);
        run_buffer();
      }
      break;
    }
    std::string trimmed = Trim(line);
    if (buffer.empty() && StartsWith(trimmed, ".")) {
      history.Add(trimmed);
      std::vector<std::string> words;
      for (std::string& w : StrSplit(trimmed, ' ')) {
        if (!w.empty()) words.push_back(std::move(w));
      }
      const std::string& cmd = words[0];
      if (cmd == ".quit" || cmd == ".exit" || cmd == ".q") break;
      if (cmd == ".help") {
        out << kDotHelp;
      } else if (cmd == ".format" || cmd == ".mode") {
        if (words.size() == 1) {
          out << OutputFormatName(options.output.format) << '\n';
        } else if (Result<OutputFormat> f = ParseOutputFormat(words[1]); f.ok()) {
          options.output.format = *f;
        } else {
          PrintErrorLines(f.status(), err);
        }
      } else if (cmd == ".timer") {
        if (words.size() == 2 && (words[1] == "on" || words[1] == "off")) {
          options.timer = words[1] == "on";
        } else {
          PrintErrorLines(Status::InvalidArgument(".timer takes on or off")
                              .WithHint("type .timer on"),
                          err);
        }
      } else {
        PrintErrorLines(Status::InvalidArgument(StrCat("unknown command ", cmd))
                            .WithHint("type .help for the list of commands"),
                        err);
      }
      out.flush();
      continue;
    }
    if (buffer.empty() && trimmed.empty()) continue;
    buffer += line;
    buffer += '\n';
    if (EndsWithStatementTerminator(buffer)) {
      history.Add(buffer);
      if (!run_buffer()) break;
    }
  }
  out.flush();
  return exit_code;
}

}  // namespace lake::cli
