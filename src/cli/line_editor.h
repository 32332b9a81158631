// Line input for `lake shell`: a small line editor of our own for terminals (no readline
// dependency), and plain getline for piped input.
//
// The editor puts the terminal in raw mode only while reading a line, so Ctrl-C during a
// query still raises SIGINT (see interrupt.h). Keys: left/right, Home/End, Ctrl-A/E/B/F,
// Backspace/Delete, Ctrl-K/U/W (kill to end / to start / previous word), Up/Down or
// Ctrl-P/N (history), Ctrl-L (clear screen), Ctrl-C (drop the line), Ctrl-D (end of input
// on an empty line). Lines wider than the terminal are not re-wrapped on redraw.
// Single-threaded.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lake::cli {

class LineReader {
 public:
  enum class Outcome { kLine, kEndOfInput, kInterrupted };
  virtual ~LineReader() = default;
  // Reads one line (without its newline) into `line`.
  virtual Outcome ReadLine(std::string_view prompt, std::string& line) = 0;
  // Makes `entry` reachable with the Up key.
  virtual void AddHistory(std::string entry) = 0;
  // True if a person is typing (prompts and the banner are shown).
  virtual bool interactive() const = 0;
};

// Returns the terminal editor when stdin and stdout are terminals, else a getline reader.
std::unique_ptr<LineReader> MakeLineReader();

}  // namespace lake::cli
