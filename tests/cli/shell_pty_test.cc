// Drives `lake shell` through a pseudo-terminal, as a person would: the line editor, the
// history (Up arrow and ~/.lake_history), Ctrl-C at the prompt and during a query.
// Each step waits for the text it needs (no sleeps); alarm() bounds a stuck child.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using ::testing::HasSubstr;

class PtyShell {
 public:
  explicit PtyShell(const std::string& home) {
    pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      setenv("HOME", home.c_str(), 1);
      setenv("TERM", "xterm", 1);
      alarm(120);  // kept across exec: a hung shell dies instead of hanging the test
      std::string lake = std::string(LAKE_BINARY_DIR) + "/lake";
      execl(lake.c_str(), "lake", "shell", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PtyShell() {
    if (fd_ >= 0) close(fd_);
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }

  void Type(const std::string& keys) {
    ssize_t n = write(fd_, keys.data(), keys.size());
    ASSERT_EQ(n, static_cast<ssize_t>(keys.size()));
  }

  // Reads until `needle` appears in the output since the last call; returns that output.
  std::string ReadUntil(const std::string& needle) {
    while (pending_.find(needle) == std::string::npos) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, -1) <= 0) break;
      char buf[4096];
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      pending_.append(buf, static_cast<size_t>(n));
    }
    size_t end = pending_.find(needle);
    end = end == std::string::npos ? pending_.size() : end + needle.size();
    std::string out = pending_.substr(0, end);
    pending_.erase(0, end);
    return out;
  }

  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  bool waited_ = false;
  std::string pending_;
};

std::string TempHome() {
  char tmpl[] = "/tmp/lake_shell_home_XXXXXX";
  return mkdtemp(tmpl);
}

TEST(ShellPty, MultiLineStatementHistoryAndCtrlC) {
  std::string home = TempHome();
  {
    PtyShell shell(home);
    ASSERT_TRUE(shell.started());
    // "lake> " followed by the erase-line code is a freshly drawn, empty prompt: the editor
    // has the terminal in raw mode again, so keys typed now reach it as keys.
    const std::string kFreshPrompt = "lake> \x1b[0K";
    shell.ReadUntil(kFreshPrompt);
    // A statement over two lines: the second prompt is the continuation prompt.
    shell.Type("SELECT 40 + 2\r");
    shell.ReadUntil("..> ");
    shell.Type("AS answer;\r");
    std::string result = shell.ReadUntil(kFreshPrompt);
    EXPECT_THAT(result, HasSubstr("│ answer  │"));
    EXPECT_THAT(result, HasSubstr("│      42 │"));
    // Ctrl-C at the prompt drops the half-typed line; nothing runs.
    shell.Type("SELECT 'dropped'\x03");
    shell.ReadUntil("^C");
    shell.ReadUntil(kFreshPrompt);
    // Up arrow recalls the previous statement (folded onto one line); edit it: Home, then
    // Delete the 'S' and type it back, then run it.
    shell.Type("\x1b[A\x1b[H\x1b[3~S\r");
    result = shell.ReadUntil(kFreshPrompt);
    EXPECT_THAT(result, HasSubstr("│      42 │"));
    EXPECT_THAT(result, ::testing::Not(HasSubstr("dropped")));
    // Dot commands change the format.
    shell.Type(".format jsonl\r");
    shell.ReadUntil(kFreshPrompt);
    shell.Type("SELECT 7 AS seven;\r");
    EXPECT_THAT(shell.ReadUntil(kFreshPrompt), HasSubstr("{\"seven\":7}"));
    // Ctrl-C during a long query stops the query, not the shell. The progress line shows
    // after a second of running (in table format; never in JSON formats): only then is the
    // terminal back in its normal mode, where Ctrl-C is a signal, not a key for the editor.
    shell.Type(".format table\r");
    shell.ReadUntil(kFreshPrompt);
    shell.Type("SELECT count(*) FROM range(1000000000000) a;\r");
    shell.ReadUntil("running");
    shell.Type("\x03");
    result = shell.ReadUntil(kFreshPrompt);
    EXPECT_THAT(result, HasSubstr("error: interrupted"));
    shell.Type(".quit\r");
    EXPECT_EQ(shell.Wait(), 0);
  }
  std::ifstream in(home + "/.lake_history");
  std::stringstream history;
  history << in.rdbuf();
  EXPECT_EQ(history.str(),
            "SELECT 40 + 2 AS answer;\n"
            "SELECT 40 + 2 AS answer;\n"
            ".format jsonl\n"
            "SELECT 7 AS seven;\n"
            ".format table\n"
            "SELECT count(*) FROM range(1000000000000) a;\n"
            ".quit\n");
  std::filesystem::remove_all(home);
}

}  // namespace
