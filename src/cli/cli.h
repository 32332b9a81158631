// The `lake` command line: `lake <noun> <verb>` (STYLE.md §11).
#pragma once

namespace lake::cli {

// Runs the CLI; returns the process exit code (STYLE.md §11: 0 ok, 1 failure, 2 usage,
// 3 not found, 4 conflict, 5 corruption or invalid data, 130 interrupted).
int Main(int argc, char** argv);

}  // namespace lake::cli
