// Status and Result<T>: lake's one error style (STYLE.md §4). Returned, never thrown.
// A Status carries a code (what the caller should do next), a message (what happened and
// where: table, version, file) and an optional hint (what to do about it).
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lake {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // fix the request
  kNotFound,           // fix the request
  kAlreadyExists,      // fix the request
  kPermissionDenied,   // fix the request
  kConflict,           // re-read the table and retry the whole transaction
  kUnavailable,        // retry the same call later
  kFailedPrecondition, // fix the state first
  kCorruption,         // bytes on disk break the format
  kNotSupported,       // a feature is missing; the message names it
  kIOError,
  kCancelled,
  kInternal,  // a lake bug
};

// Returns the stable upper-case name of `code` ("NOT_FOUND"), as used in JSON errors.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status NotSupported(std::string msg) { return {StatusCode::kNotSupported, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  const std::string& hint() const;

  // Returns a copy with `hint` attached (what the user should do).
  Status WithHint(std::string hint) &&;
  Status WithHint(std::string hint) const&;
  // Returns a copy whose message is "<context>: <message>", code and hint kept.
  Status WithContext(std::string_view context) const;

  // Explicitly drops this status; say why at the call site (STYLE.md §4).
  void IgnoreError() const {}

  // "NOT_FOUND: message (hint: ...)"
  std::string ToString() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
    std::string hint;
  };
  std::shared_ptr<const State> state_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

// A value or an error Status. Accessing value() of an error is a programmer error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) v_ = Status::Internal("Result built from an OK status");
  }
  template <typename U>
    requires std::is_convertible_v<U&&, T> && (!std::is_same_v<std::decay_t<U>, Status>) &&
             (!std::is_same_v<std::decay_t<U>, T>)
  Result(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const& {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  Status status() && { return ok() ? Status() : std::get<Status>(std::move(v_)); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T ValueOr(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace lake

#define LAKE_CONCAT_INNER_(a, b) a##b
#define LAKE_CONCAT_(a, b) LAKE_CONCAT_INNER_(a, b)

#define LAKE_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::lake::Status lake_status_ = (expr);        \
    if (!lake_status_.ok()) return lake_status_; \
  } while (0)

#define LAKE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

// LAKE_ASSIGN_OR_RETURN(auto x, Compute()); returns the error status if Compute() failed.
#define LAKE_ASSIGN_OR_RETURN(lhs, rexpr) \
  LAKE_ASSIGN_OR_RETURN_IMPL_(LAKE_CONCAT_(lake_result_, __LINE__), lhs, rexpr)

// For programmer errors only; user input never reaches one (STYLE.md §4).
#define LAKE_DCHECK(cond)                                                              \
  do {                                                                                 \
    if (!(cond)) ::lake::internal::DcheckFailed(#cond, __FILE__, __LINE__);            \
  } while (0)

namespace lake::internal {
[[noreturn]] void DcheckFailed(const char* cond, const char* file, int line);
}
