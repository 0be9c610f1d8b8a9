// Wall-clock time as the host writes it everywhere: UTC, RFC 3339, millisecond precision.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace psahost {

std::string now_rfc3339();
std::string rfc3339(std::chrono::system_clock::time_point t);
// Today's date in UTC, YYYY-MM-DD: the default start of what a request dates.
std::string today();
// Reads what rfc3339() writes ("2026-12-01T22:25:57.123Z", the fraction optional); nullopt for
// anything else.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace psahost
