#include "cli/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace psahost::cli {

bool progress_is_shown() {
  return isatty(STDERR_FILENO) == 1;
}

void draw_progress(const char* label, int64_t done, int64_t total) {
  constexpr int kWidth = 30;
  const int64_t shown = std::min(done, total);
  const int filled = total > 0 ? static_cast<int>(shown * kWidth / total) : kWidth;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld", label, bar.c_str(), static_cast<long long>(shown),
               static_cast<long long>(total));
  std::fflush(stderr);
}

void end_progress() {
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace psahost::cli
