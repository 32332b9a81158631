#include "cli/line_editor.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>

#include "base/scope_guard.h"
#include "cli/output.h"

namespace lake::cli {
namespace {

constexpr char kCtrlA = 1, kCtrlB = 2, kCtrlC = 3, kCtrlD = 4, kCtrlE = 5, kCtrlF = 6,
               kBackspaceCtrlH = 8, kTab = 9, kCtrlK = 11, kCtrlL = 12, kCtrlN = 14,
               kCtrlP = 16, kCtrlU = 21, kCtrlW = 23, kEscape = 27, kBackspace = 127;

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

class PlainLineReader : public LineReader {
 public:
  Outcome ReadLine(std::string_view, std::string& line) override {
    if (!std::getline(std::cin, line)) return Outcome::kEndOfInput;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return Outcome::kLine;
  }
  void AddHistory(std::string) override {}
  bool interactive() const override { return false; }
};

class TerminalLineEditor : public LineReader {
 public:
  Outcome ReadLine(std::string_view prompt, std::string& line) override {
    termios original{};
    if (tcgetattr(STDIN_FILENO, &original) != 0) return PlainRead(prompt, line);
    termios raw = original;
    raw.c_iflag &= ~static_cast<tcflag_t>(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | IEXTEN | ISIG);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    // TCSADRAIN, not TCSAFLUSH: flushing would drop type-ahead and the rest of a pasted
    // multi-line statement.
    if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) != 0) return PlainRead(prompt, line);
    ScopeGuard restore([&] { tcsetattr(STDIN_FILENO, TCSADRAIN, &original); });
    return Edit(prompt, line);
  }

  void AddHistory(std::string entry) override {
    if (entry.empty() || (!history_.empty() && history_.back() == entry)) return;
    history_.push_back(std::move(entry));
  }
  bool interactive() const override { return true; }

 private:
  Outcome PlainRead(std::string_view prompt, std::string& line) {
    Write(prompt);
    if (!std::getline(std::cin, line)) return Outcome::kEndOfInput;
    return Outcome::kLine;
  }

  static void Write(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = write(STDOUT_FILENO, s.data(), s.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Returns the next byte of input, or -1 at end of input / on error.
  static int ReadByte() {
    for (;;) {
      unsigned char c;
      ssize_t n = read(STDIN_FILENO, &c, 1);
      if (n == 1) return c;
      if (n < 0 && errno == EINTR) continue;
      return -1;
    }
  }

  void Refresh(std::string_view prompt) const {
    std::string s = "\r";
    s += prompt;
    s += buf_;
    s += "\x1b[0K\r";
    size_t col = DisplayWidth(prompt) + DisplayWidth(std::string_view(buf_).substr(0, pos_));
    if (col > 0) s += "\x1b[" + std::to_string(col) + "C";
    Write(s);
  }

  void MoveLeft() {
    while (pos_ > 0) {
      --pos_;
      if (!IsContinuationByte(buf_[pos_])) break;
    }
  }
  void MoveRight() {
    if (pos_ < buf_.size()) ++pos_;
    while (pos_ < buf_.size() && IsContinuationByte(buf_[pos_])) ++pos_;
  }
  void DeleteBack() {
    size_t end = pos_;
    MoveLeft();
    buf_.erase(pos_, end - pos_);
  }
  void DeleteForward() {
    size_t start = pos_;
    MoveRight();
    buf_.erase(start, pos_ - start);
    pos_ = start;
  }
  void ShowHistory(size_t idx) {
    entries_[entry_idx_] = buf_;  // keep edits to the entry we leave
    entry_idx_ = idx;
    buf_ = entries_[entry_idx_];
    pos_ = buf_.size();
  }

  Outcome Edit(std::string_view prompt, std::string& line) {
    buf_.clear();
    pos_ = 0;
    // The history plus the line being typed, so Up/Down can come back to it.
    entries_ = history_;
    entries_.emplace_back();
    entry_idx_ = entries_.size() - 1;
    Refresh(prompt);
    for (;;) {
      int c = ReadByte();
      if (c < 0) return Outcome::kEndOfInput;
      switch (c) {
        case '\r':
        case '\n':
          Write("\n");
          line = buf_;
          return Outcome::kLine;
        case kCtrlC:
          Write("^C\n");
          return Outcome::kInterrupted;
        case kCtrlD:
          if (buf_.empty()) {
            Write("\n");
            return Outcome::kEndOfInput;
          }
          DeleteForward();
          break;
        case kBackspace:
        case kBackspaceCtrlH:
          DeleteBack();
          break;
        case kCtrlA: pos_ = 0; break;
        case kCtrlE: pos_ = buf_.size(); break;
        case kCtrlB: MoveLeft(); break;
        case kCtrlF: MoveRight(); break;
        case kCtrlK: buf_.erase(pos_); break;
        case kCtrlU:
          buf_.erase(0, pos_);
          pos_ = 0;
          break;
        case kCtrlW: {
          size_t end = pos_;
          while (pos_ > 0 && buf_[pos_ - 1] == ' ') --pos_;
          while (pos_ > 0 && buf_[pos_ - 1] != ' ') --pos_;
          buf_.erase(pos_, end - pos_);
          break;
        }
        case kCtrlL: Write("\x1b[H\x1b[2J"); break;
        case kCtrlP:
          if (entry_idx_ > 0) ShowHistory(entry_idx_ - 1);
          break;
        case kCtrlN:
          if (entry_idx_ + 1 < entries_.size()) ShowHistory(entry_idx_ + 1);
          break;
        case kTab:
          buf_.insert(pos_, "  ");
          pos_ += 2;
          break;
        case kEscape:
          HandleEscape();
          break;
        default:
          if (c >= 32) {
            buf_.insert(buf_.begin() + static_cast<std::ptrdiff_t>(pos_), static_cast<char>(c));
            ++pos_;
          }
          break;
      }
      Refresh(prompt);
    }
  }

  // ESC [ A..D, ESC [ H/F, ESC O H/F, ESC [ n ~ (1/7 home, 4/8 end, 3 delete).
  void HandleEscape() {
    int a = ReadByte();
    if (a != '[' && a != 'O') return;
    int b = ReadByte();
    if (b >= '0' && b <= '9') {
      int code = b - '0';
      int t;
      while ((t = ReadByte()) >= '0' && t <= '9') code = code * 10 + (t - '0');
      if (t != '~') return;
      if (code == 3) DeleteForward();
      if (code == 1 || code == 7) pos_ = 0;
      if (code == 4 || code == 8) pos_ = buf_.size();
      return;
    }
    switch (b) {
      case 'A':
        if (entry_idx_ > 0) ShowHistory(entry_idx_ - 1);
        break;
      case 'B':
        if (entry_idx_ + 1 < entries_.size()) ShowHistory(entry_idx_ + 1);
        break;
      case 'C': MoveRight(); break;
      case 'D': MoveLeft(); break;
      case 'H': pos_ = 0; break;
      case 'F': pos_ = buf_.size(); break;
      default: break;
    }
  }

  std::vector<std::string> history_;
  std::vector<std::string> entries_;
  size_t entry_idx_ = 0;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<LineReader> MakeLineReader() {
  if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
    return std::make_unique<TerminalLineEditor>();
  }
  return std::make_unique<PlainLineReader>();
}

}  // namespace lake::cli
