// A progress line on stderr for queries that run longer than a second (STYLE.md §11).
// The engine API reports no done/total yet, so this is a spinner with the elapsed time;
// when the engine grows a progress callback, the percentage goes here.
// Shown only when the caller decided it may be (stderr is a terminal, no --no-progress,
// not a JSON format). Start/Stop from one thread; drawing happens on an owned thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace lake::cli {

class Spinner {
 public:
  explicit Spinner(bool enabled) : enabled_(enabled) {}
  ~Spinner() { Stop(); }
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;

  // Starts the clock; the line appears after one second.
  void Start();
  // Erases the line (if drawn) and stops drawing. Idempotent.
  void Stop();

 private:
  void Draw();

  const bool enabled_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

}  // namespace lake::cli
