// Statement boundaries in SQL text typed into `lake shell`: where a statement ends, so the
// shell knows when to run the input and can run (and print) each statement of a line.
//
// A ';' ends a statement only outside of: '…' strings ('' escapes a quote), "…" and `…`
// identifiers (delta.`/path` references), $tag$…$tag$ strings, -- line comments and
// /* … */ comments. This is a lexer, not a parser: DuckDB reports real syntax errors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lake::cli {

// Returns true if `sql` holds at least one statement and its last non-blank, non-comment
// character outside quotes is ';' (the input is ready to run).
bool EndsWithStatementTerminator(std::string_view sql);

// Splits `sql` at statement-ending ';' (kept out of the pieces), trims blanks and drops
// pieces that hold nothing but blanks and comments.
std::vector<std::string> SplitStatements(std::string_view sql);

}  // namespace lake::cli
