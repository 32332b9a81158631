#include "cli/interrupt.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace lake::cli {
namespace {

// The self-pipe: the handler writes 'i', ~InterruptScope writes 'q' to stop the watcher.
int g_pipe[2] = {-1, -1};
std::atomic<bool> g_query_running{false};
std::atomic<int> g_interrupts{0};
std::atomic<bool> g_exit_when_idle{true};

void OnSigint(int) {
  if (!g_query_running.load()) {
    if (g_exit_when_idle.load()) _exit(130);
    return;
  }
  if (g_interrupts.fetch_add(1) >= 1) _exit(130);  // (3) second Ctrl-C: stop waiting
  char c = 'i';
  ssize_t ignored = write(g_pipe[1], &c, 1);
  (void)ignored;  // nothing a signal handler can do about a full pipe
}

}  // namespace

void InstallInterruptHandler() {
  if (g_pipe[0] >= 0) return;
  if (pipe2(g_pipe, O_CLOEXEC) != 0) return;  // no pipe: Ctrl-C keeps its default (exit)
  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  // A parent may have started us with SIGINT blocked; Ctrl-C must reach the handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

void SetExitOnIdleInterrupt(bool exit) { g_exit_when_idle.store(exit); }

InterruptScope::InterruptScope(engine::Session& session) : session_(session) {
  g_interrupts.store(0);
  if (g_pipe[0] < 0) return;
  watcher_ = std::thread([this] {
    for (;;) {
      char c = 0;
      ssize_t n = read(g_pipe[0], &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || c == 'q') return;
      if (c == 'i') session_.Interrupt();
    }
  });
  g_query_running.store(true);
}

InterruptScope::~InterruptScope() {
  g_query_running.store(false);
  if (watcher_.joinable()) {
    char c = 'q';
    while (write(g_pipe[1], &c, 1) < 0 && errno == EINTR) {
    }
    watcher_.join();
  }
}

bool InterruptScope::interrupted() const { return g_interrupts.load() > 0; }

}  // namespace lake::cli
