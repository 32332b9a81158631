// Runs SQL on a Session and prints the result or the error: the one path shared by
// `lake sql`, `lake table …` and each statement of `lake shell`.
#pragma once

#include <ostream>
#include <string_view>

#include "base/status.h"
#include "cli/output.h"
#include "engine/database.h"

namespace lake::cli {

struct OutputSettings {
  OutputFormat format = OutputFormat::kTable;
  TableOptions table;
  // Draw the progress spinner; the caller has checked stderr is a terminal, --no-progress
  // and the format (never in JSON formats).
  bool progress = false;
};

// Runs `sql` (one or more statements; the last one's rows are printed to `out`), with
// Ctrl-C routed to Session::Interrupt. On failure prints the error — as a JSON object on
// `out` in JSON formats, else as error:/hint: lines on `err` — and returns it; an
// interrupted query returns kCancelled. A statement without a result set prints nothing,
// except `{"columns":[],"rows":[]}` in json format (always one document).
Status RunAndPrint(engine::Session& session, std::string_view sql,
                   const OutputSettings& settings, std::ostream& out, std::ostream& err);

// Prints a failure that happened outside a query (bad flag, missing table folder) the same
// way RunAndPrint prints a query error.
void ReportError(const Status& status, OutputFormat format, std::ostream& out,
                 std::ostream& err);

}  // namespace lake::cli
