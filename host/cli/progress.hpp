// A one-line progress bar for commands whose work takes a while, drawn on stderr and only when
// stderr is a terminal: stdout carries the summary (or --json) alone, for scripts and pipes.
#pragma once

#include <cstdint>

namespace psahost::cli {

// True when stderr is a terminal (and the bar should be drawn).
bool progress_is_shown();

// Redraws "label [#####     ] done/total" in place.
void draw_progress(const char* label, int64_t done, int64_t total);

// Ends the bar's line, so what is printed next starts on its own.
void end_progress();

}  // namespace psahost::cli
