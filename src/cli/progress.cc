#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace lake::cli {
namespace {

void WriteStderr(const std::string& s) {
  ssize_t ignored = write(STDERR_FILENO, s.data(), s.size());
  (void)ignored;  // a progress line that cannot be drawn is not an error
}

}  // namespace

void Spinner::Start() {
  if (!enabled_ || thread_.joinable()) return;
  start_ = std::chrono::steady_clock::now();
  stop_ = false;
  thread_ = std::thread([this] { Draw(); });
}

void Spinner::Draw() {
  static constexpr const char* kFrames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
  std::unique_lock lock(mu_);
  if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) return;
  for (int frame = 0; !stop_; ++frame) {
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    char buf[96];
    std::snprintf(buf, sizeof buf, "\r%s running %.1f s (Ctrl-C to cancel)\x1b[K",
                  kFrames[frame % 10], elapsed);
    WriteStderr(buf);
    drawn_ = true;
    cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; });
  }
}

void Spinner::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (drawn_) WriteStderr("\r\x1b[K");
  drawn_ = false;
}

}  // namespace lake::cli
