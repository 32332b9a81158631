// `lake pipeline validate|run|events <dir>` (docs/pipelines.md).
//
//   validate  parses the folder's .sql files and pipeline.yml and resolves the DAG; prints
//             the datasets in run order with their kind and inputs. Nothing is written.
//   run       runs every flow once in dependency order ([--full-refresh [dataset ...]]);
//             prints one line per flow (batches, rows in/out, expectation counts).
//   events    prints the pipeline's event log (a Delta table), oldest first.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "base/status.h"
#include "cli/query_runner.h"
#include "sql/lakehouse.h"

namespace lake::cli {

class PipelineCommands {
 public:
  // Adds `pipeline` and its verbs under `app`; `add_flags` adds the global flags to each.
  void Define(CLI::App& app, const std::function<void(CLI::App&)>& add_flags);
  bool parsed() const;
  // Runs the parsed verb; returns its status (already printed as an error on failure).
  Status Run(sql::Lakehouse& house, const OutputSettings& settings, std::ostream& out,
             std::ostream& err);

 private:
  CLI::App* pipeline_ = nullptr;
  CLI::App* validate_ = nullptr;
  CLI::App* run_ = nullptr;
  CLI::App* events_ = nullptr;
  std::string dir_;
  std::vector<std::string> full_refresh_;
};

}  // namespace lake::cli
