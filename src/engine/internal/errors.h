// Error translation between lake's Status and DuckDB's exceptions, in one place
// (STYLE.md §4: "engine/ wraps every DuckDB call in one helper that returns Status").
//
// Two directions:
//  (1) DuckDB -> lake: StatusFromException / StatusFromError map DuckDB's ExceptionType to a
//      StatusCode (Binder/Parser/Catalog -> kInvalidArgument, IO -> kIOError, ...).
//  (2) lake -> DuckDB -> lake: a callback of ours (delta_scan bind, a checkpoint read on a
//      worker thread) must throw a DuckDB-typed exception (DUCKDB-INTEGRATION.md §2.6: anything
//      else aborts the process or invalidates the instance). ThrowStatus encodes the Status
//      into the exception message as
//          "[lake:<CODE>] <message>\n[hint] <hint>"
//      and (1) decodes that marker back, so code and hint survive the trip through DuckDB
//      (which may prepend context to the message). ThrowStatus never throws
//      InternalException, even for kInternal.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include "base/status.h"
#include "engine/internal/duckdb_pch.h"

namespace lake::engine::internal {

// Returns the Status for an error DuckDB reported (a result's ErrorData).
Status StatusFromError(const duckdb::ErrorData& error);
// Returns the Status for an exception thrown by DuckDB (or by our callbacks through it).
Status StatusFromException(const std::exception& ex);

// Returns the message text that StatusFromError decodes back into `status`.
std::string EncodeStatus(const Status& status);

// Throws `status` (not OK) as a DuckDB exception whose type suits its code.
[[noreturn]] void ThrowStatus(const Status& status);

// Runs `fn` (returning Status or void), translating anything it throws.
template <typename Fn>
Status CatchAll(Fn&& fn) {
  try {
    if constexpr (std::is_same_v<decltype(fn()), void>) {
      fn();
      return Status::OK();
    } else {
      return fn();
    }
  } catch (const std::exception& ex) {
    return StatusFromException(ex);
  } catch (...) {
    return Status::Internal("unknown non-standard exception from DuckDB");
  }
}

// Returns the value of a Result or throws its status (for use inside DuckDB callbacks).
template <typename T>
T ValueOrThrow(Result<T> result) {
  if (!result.ok()) ThrowStatus(result.status());
  return std::move(result).value();
}
inline void OkOrThrow(const Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

}  // namespace lake::engine::internal
