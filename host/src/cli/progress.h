// A one-line progress bar on stderr, shown only when stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace polyhost {

class ProgressBar {
 public:
  // enabled = false (or stderr not a TTY) makes every call a no-op.
  explicit ProgressBar(std::string label, bool enabled = true);
  ~ProgressBar();

  // done/total in bytes; items is what the rate is reported in (lines).
  void Update(int64_t done, int64_t total, int64_t items);
  // Clears the line.
  void Finish();

 private:
  std::string label_;
  bool active_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace polyhost
