#include "cli/query_runner.h"

#include "cli/errors.h"
#include "cli/interrupt.h"
#include "cli/progress.h"

namespace lake::cli {
namespace {

// Forwards to the printer and takes the spinner off the terminal before the first byte of
// output: at the first batch for streaming formats, at End() for the table (which prints
// nothing before the last row has arrived).
class ProgressSink : public engine::RowSink {
 public:
  ProgressSink(ResultPrinter& printer, Spinner& spinner, bool streams)
      : printer_(printer), spinner_(spinner), streams_(streams) {}

  Status Begin(const std::vector<engine::ResultColumn>& columns) override {
    began_ = true;
    return printer_.Begin(columns);
  }
  Status Rows(const std::vector<std::vector<engine::Value>>& rows) override {
    if (streams_) spinner_.Stop();
    return printer_.Rows(rows);
  }
  Status End() override {
    spinner_.Stop();
    return printer_.End();
  }
  bool began() const { return began_; }

 private:
  ResultPrinter& printer_;
  Spinner& spinner_;
  const bool streams_;
  bool began_ = false;
};

}  // namespace

void ReportError(const Status& status, OutputFormat format, std::ostream& out,
                 std::ostream& err) {
  if (IsJsonFormat(format)) {
    out << ErrorToJson(status) << '\n';
    out.flush();
  } else {
    PrintErrorLines(status, err);
  }
}

Status RunAndPrint(engine::Session& session, std::string_view sql,
                   const OutputSettings& settings, std::ostream& out, std::ostream& err) {
  std::unique_ptr<ResultPrinter> printer = MakePrinter(settings.format, out, settings.table);
  Spinner spinner(settings.progress);
  ProgressSink sink(*printer, spinner, settings.format != OutputFormat::kTable);
  Status status;
  bool interrupted = false;
  {
    InterruptScope interrupts(session);
    spinner.Start();
    status = session.QueryStreaming(sql, sink);
    spinner.Stop();
    interrupted = interrupts.interrupted();
  }
  if (!status.ok() && interrupted) {
    status = Status::Cancelled("interrupted (Ctrl-C); the query was stopped")
                 .WithHint("tables stay at their last commit; rerun the statement to try again");
  }
  if (status.ok()) {
    if (!sink.began() && settings.format == OutputFormat::kJson) {
      Status printed = printer->Begin({});
      if (printed.ok()) printed = printer->End();
      return printed;
    }
    return status;
  }
  if (!sink.began() || !printer->Fail(status)) ReportError(status, settings.format, out, err);
  return status;
}

}  // namespace lake::cli
