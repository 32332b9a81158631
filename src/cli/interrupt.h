// Ctrl-C handling (STYLE.md §11: exit 130, the table stays at its last commit).
//
//  (1) InstallInterruptHandler() runs once, at startup. While no query runs, SIGINT ends
//      the process with exit code 130 (nothing is half-done between queries), except in
//      the interactive shell (SetExitOnIdleInterrupt(false)).
//  (2) While an InterruptScope is alive, SIGINT instead asks its Session to stop: the
//      handler only writes a byte to a pipe (all a signal handler may safely do); a watcher
//      thread owned by the scope reads it and calls Session::Interrupt(). The query then
//      fails and the caller checks interrupted().
//  (3) A second Ctrl-C while the query is still winding down ends the process (130).
// The shell's line editor reads Ctrl-C as a key (the terminal is in raw mode), so no signal
// arrives while a prompt is shown.
#pragma once

#include <thread>

#include "engine/database.h"

namespace lake::cli {

void InstallInterruptHandler();

// Sets what Ctrl-C does while no query runs: exit 130 (the default), or nothing — for the
// interactive shell, where a Ctrl-C that lands just after a query ended (before the line
// editor owns the terminal again) must not end the session.
void SetExitOnIdleInterrupt(bool exit);

// Routes Ctrl-C to `session` for the scope's lifetime. Single-threaded; not nestable.
class InterruptScope {
 public:
  explicit InterruptScope(engine::Session& session);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // True if Ctrl-C was pressed while this scope was alive.
  bool interrupted() const;

 private:
  engine::Session& session_;
  std::thread watcher_;
};

}  // namespace lake::cli
