// `lake stream start|status|stop <name>` and the stream statements of `lake
// sql` (CREATE STREAM / SHOW STREAMS / DROP STREAM, streaming/stream_sql.h).
//
//   start   runs the stream in this process: a pidfile in the stream's folder
//   while it runs
//           (a second start of a running stream fails), one progress line per
//           batch, SIGINT or SIGTERM finish the batch in flight and stop
//           cleanly (exit 0).
//   status  the last batches' progress from the checkpoint (progress/<N>):
//   batch id, input
//           rows, rows/s, duration, output rows, offsets; --format json for
//           tools.
//   stop    SIGTERM to the running start (from its pidfile), then waits for it
//   to exit.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "base/status.h"
#include "cli/query_runner.h"
#include "sql/lakehouse.h"

namespace lake::cli {

class StreamCommands {
public:
  // Adds `stream` and its verbs under `app`; `add_flags` adds the global flags
  // to each.
  void Define(CLI::App &app, const std::function<void(CLI::App &)> &add_flags);
  bool parsed() const;
  // Runs the parsed verb; returns its status (already printed as an error on
  // failure).
  Status Run(sql::Lakehouse &house, const OutputSettings &settings,
             std::ostream &out, std::ostream &err);

private:
  Status Start(sql::Lakehouse &house, const OutputSettings &settings,
               std::ostream &out);
  Status ShowStatus(sql::Lakehouse &house, const OutputSettings &settings,
                    std::ostream &out);
  Status Stop(sql::Lakehouse &house, std::ostream &out);

  CLI::App *stream_ = nullptr;
  CLI::App *start_ = nullptr;
  CLI::App *status_ = nullptr;
  CLI::App *stop_ = nullptr;
  std::string name_;
  std::string trigger_;
  int64_t last_ = 10;
  int64_t timeout_s_ = 120;
};

// When `sql` is a stream statement, runs it on `house` and prints its result as
// RunAndPrint would; nullopt otherwise (the caller runs `sql` on the engine).
std::optional<Status> RunStreamStatement(sql::Lakehouse &house,
                                         std::string_view sql,
                                         const OutputSettings &settings,
                                         std::ostream &out, std::ostream &err);

} // namespace lake::cli
