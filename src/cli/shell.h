// `lake shell`: an interactive SQL prompt. Input accumulates over lines until a statement
// ends with ';' (cli/sql_text.h); each statement then runs and prints on its own. Lines that
// start with '.' on an empty prompt are dot commands (.help lists them). History lives in
// memory and in ~/.lake_history (one entry per line, newlines folded to spaces; typed
// input only, never a piped script).
// With piped input there is no prompt, and the first failing statement stops the shell
// with its exit code (a script should not run on after an error).
#pragma once

#include <iosfwd>

#include "cli/line_editor.h"
#include "cli/query_runner.h"
#include "engine/database.h"

namespace lake::cli {

struct ShellOptions {
  OutputSettings output;
  bool timer = false;
  bool stderr_is_terminal = false;  // progress may be drawn for table/csv output
  bool no_progress = false;
  std::string history_path;  // empty: no history file
};

// Runs the shell until .quit or end of input; returns the exit code.
int RunShell(engine::Session& session, LineReader& reader, ShellOptions options,
             std::ostream& out, std::ostream& err);

}  // namespace lake::cli
