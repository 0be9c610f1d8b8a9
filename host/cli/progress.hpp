// A one-line progress bar for commands whose work takes a while; drawn only when stdout is a
// terminal, so scripts and logs get the summary alone.
#pragma once

#include <cstdint>

namespace psahost::cli {

// True when stdout is a terminal (and the bar should be drawn).
bool stdout_is_terminal();

// Redraws "label [#####     ] done/total" in place.
void draw_progress(const char* label, int64_t done, int64_t total);

// Ends the bar's line, so what is printed next starts on its own.
void end_progress();

}  // namespace psahost::cli
