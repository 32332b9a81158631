#include "engine/internal/errors.h"

#include <string_view>

#include "base/strings.h"

namespace lake::engine::internal {
namespace {

constexpr std::string_view kMarker = "[lake:";
constexpr std::string_view kHintMarker = "\n[hint] ";

// Codes are spelled as StatusCodeName spells them.
constexpr StatusCode kAllCodes[] = {
    StatusCode::kInvalidArgument,    StatusCode::kNotFound,
    StatusCode::kAlreadyExists,      StatusCode::kPermissionDenied,
    StatusCode::kConflict,           StatusCode::kUnavailable,
    StatusCode::kFailedPrecondition, StatusCode::kCorruption,
    StatusCode::kNotSupported,       StatusCode::kIOError,
    StatusCode::kCancelled,          StatusCode::kInternal,
};

StatusCode CodeForExceptionType(duckdb::ExceptionType type) {
  using duckdb::ExceptionType;
  switch (type) {
    case ExceptionType::PARSER:
    case ExceptionType::SYNTAX:
    case ExceptionType::BINDER:
    case ExceptionType::CATALOG:
    case ExceptionType::INVALID_INPUT:
    case ExceptionType::CONVERSION:
    case ExceptionType::OUT_OF_RANGE:
    case ExceptionType::MISMATCH_TYPE:
    case ExceptionType::INVALID_TYPE:
    case ExceptionType::DIVIDE_BY_ZERO:
    case ExceptionType::DECIMAL:
    case ExceptionType::UNKNOWN_TYPE:
    case ExceptionType::PARAMETER_NOT_RESOLVED:
    case ExceptionType::PARAMETER_NOT_ALLOWED:
    case ExceptionType::SETTINGS:
    case ExceptionType::INVALID_CONFIGURATION:
    case ExceptionType::CONSTRAINT:
    case ExceptionType::DEPENDENCY:
    case ExceptionType::SEQUENCE:
    case ExceptionType::EXPRESSION:
    case ExceptionType::MISSING_EXTENSION:
    case ExceptionType::AUTOLOAD:
      return StatusCode::kInvalidArgument;
    case ExceptionType::NOT_IMPLEMENTED:
      return StatusCode::kNotSupported;
    case ExceptionType::IO:
    case ExceptionType::NETWORK:
    case ExceptionType::HTTP:
    case ExceptionType::OUT_OF_MEMORY:
      return StatusCode::kIOError;
    case ExceptionType::PERMISSION:
      return StatusCode::kPermissionDenied;
    case ExceptionType::INTERRUPT:
      return StatusCode::kCancelled;
    case ExceptionType::TRANSACTION:
      return StatusCode::kConflict;
    case ExceptionType::CONNECTION:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kInternal;
  }
}

// Decodes "[lake:CODE] message\n[hint] hint" found anywhere in `raw`.
std::optional<Status> DecodeStatus(const std::string& raw) {
  size_t start = raw.find(kMarker);
  if (start == std::string::npos) return std::nullopt;
  size_t code_begin = start + kMarker.size();
  size_t code_end = raw.find(']', code_begin);
  if (code_end == std::string::npos) return std::nullopt;
  std::string_view code_name(raw.data() + code_begin, code_end - code_begin);
  std::optional<StatusCode> code;
  for (StatusCode c : kAllCodes) {
    if (StatusCodeName(c) == code_name) code = c;
  }
  if (!code) return std::nullopt;
  size_t msg_begin = code_end + 1;
  if (msg_begin < raw.size() && raw[msg_begin] == ' ') ++msg_begin;
  size_t hint_pos = raw.find(kHintMarker, msg_begin);
  std::string message = raw.substr(
      msg_begin, hint_pos == std::string::npos ? std::string::npos : hint_pos - msg_begin);
  std::string hint = hint_pos == std::string::npos ? "" : raw.substr(hint_pos + kHintMarker.size());
  // DuckDB appends the query location ("\n\nLINE 1: ...") after our text.
  std::string& tail = hint_pos == std::string::npos ? message : hint;
  if (size_t location = tail.find("\n\n"); location != std::string::npos) tail.resize(location);
  Status status(*code, std::move(message));
  if (!hint.empty()) status = std::move(status).WithHint(std::move(hint));
  return status;
}

}  // namespace

Status StatusFromError(const duckdb::ErrorData& error) {
  const std::string& raw = error.RawMessage();
  if (std::optional<Status> ours = DecodeStatus(raw)) return *ours;
  StatusCode code = CodeForExceptionType(error.Type());
  std::string type_name = duckdb::Exception::ExceptionTypeToString(error.Type());
  Status status(code, type_name.empty() ? raw : StrCat(type_name, " Error: ", raw));
  if (error.Type() == duckdb::ExceptionType::INTERNAL ||
      error.Type() == duckdb::ExceptionType::FATAL) {
    return std::move(status).WithHint(
        "this is a bug in lake or DuckDB; if the database reports it was invalidated, restart "
        "the process");
  }
  return status;
}

Status StatusFromException(const std::exception& ex) {
  // ErrorData parses DuckDB's JSON what() back into type + raw message; for a plain
  // std::exception it keeps the text with type INVALID.
  return StatusFromError(duckdb::ErrorData(ex));
}

std::string EncodeStatus(const Status& status) {
  std::string text = StrCat(kMarker, StatusCodeName(status.code()), "] ", status.message());
  if (!status.hint().empty()) text += StrCat(kHintMarker, status.hint());
  return text;
}

void ThrowStatus(const Status& status) {
  std::string text = EncodeStatus(status);
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
      throw duckdb::InvalidInputException(text);
    case StatusCode::kNotSupported:
      throw duckdb::NotImplementedException(text);
    case StatusCode::kPermissionDenied:
      throw duckdb::PermissionException(text);
    case StatusCode::kCancelled:
      throw duckdb::Exception(duckdb::ExceptionType::INTERRUPT, text);
    case StatusCode::kConflict:
      throw duckdb::TransactionException(text);
    default:
      // kIOError, kCorruption, kUnavailable, kFailedPrecondition and even kInternal: an
      // InternalException would invalidate the whole DuckDB instance (§2.6).
      throw duckdb::IOException(text);
  }
}

}  // namespace lake::engine::internal
