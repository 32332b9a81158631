#include "base/status.h"

#include <cstdio>
#include <cstdlib>

namespace lake {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kConflict: return "CONFLICT";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kCorruption: return "CORRUPTION";
    case StatusCode::kNotSupported: return "NOT_SUPPORTED";
    case StatusCode::kIOError: return "IO_ERROR";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kInternal: return "INTERNAL";
  }
  return "UNKNOWN";
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) {
    state_ = std::make_shared<const State>(State{code, std::move(message), {}});
  }
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

const std::string& Status::hint() const {
  static const std::string kEmpty;
  return state_ ? state_->hint : kEmpty;
}

Status Status::WithHint(std::string hint) && {
  if (!state_) return *this;
  state_ = std::make_shared<const State>(State{state_->code, state_->message, std::move(hint)});
  return std::move(*this);
}

Status Status::WithHint(std::string hint) const& {
  Status copy = *this;
  return std::move(copy).WithHint(std::move(hint));
}

Status Status::WithContext(std::string_view context) const {
  if (!state_) return *this;
  Status s(state_->code, std::string(context) + ": " + state_->message);
  return std::move(s).WithHint(state_->hint);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = std::string(StatusCodeName(code())) + ": " + message();
  if (!hint().empty()) out += " (hint: " + hint() + ")";
  return out;
}

std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

namespace internal {
void DcheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "lake: internal check failed: %s at %s:%d\n", cond, file, line);
  std::abort();
}
}  // namespace internal

}  // namespace lake
