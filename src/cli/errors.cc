#include "cli/errors.h"

namespace lake::cli {

int ExitCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
      return kExitUsage;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kConflict:
      return kExitConflict;
    case StatusCode::kCorruption:
      return kExitCorruption;
    case StatusCode::kCancelled:
      return kExitInterrupted;
    // AlreadyExists is not "safe to rerun" (4): rerunning fails the same way.
    case StatusCode::kAlreadyExists:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnavailable:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kNotSupported:
    case StatusCode::kIOError:
    case StatusCode::kInternal:
      return kExitFailure;
  }
  return kExitFailure;
}

void PrintErrorLines(const Status& status, std::ostream& err) {
  err << "error: " << status.message() << '\n';
  if (!status.hint().empty()) {
    err << "hint: " << status.hint() << '\n';
  } else if (status.code() == StatusCode::kInternal) {
    err << "hint: this is a bug in lake; please report it with the command you ran\n";
  }
  err.flush();
}

}  // namespace lake::cli
