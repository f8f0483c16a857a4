#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace polyhost {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), active_(enabled && isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(int64_t done, int64_t total, int64_t items) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done < total) return;
  last_draw_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const int pct = total > 0 ? static_cast<int>(done * 100 / total) : 0;
  constexpr int kWidth = 30;
  char bar[kWidth + 1];
  const int filled = pct * kWidth / 100;
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  std::fprintf(stderr, "\r%s [%s] %3d%%  %lld lines  %.0f lines/s ", label_.c_str(), bar, pct,
               static_cast<long long>(items), secs > 0 ? static_cast<double>(items) / secs : 0.0);
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (!active_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  active_ = false;
}

}  // namespace polyhost
