// How the CLI reports a failed Status: exit codes (STYLE.md §11) and the error:/hint: lines.
#pragma once

#include <ostream>

#include "base/status.h"

namespace lake::cli {

// Exit codes of the `lake` binary (STYLE.md §11).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitConflict = 4;  // safe to rerun
inline constexpr int kExitCorruption = 5;
inline constexpr int kExitInterrupted = 130;

// Maps a status code to the exit code: kInvalidArgument (a bad request: bad SQL, bad flag
// value) -> 2, kNotFound -> 3, kConflict -> 4, kCorruption -> 5, kCancelled -> 130, every
// other failure -> 1.
int ExitCodeFor(StatusCode code);

// Writes "error: <message>" and, if the status has one, "hint: <hint>" to `err`.
void PrintErrorLines(const Status& status, std::ostream& err);

}  // namespace lake::cli
