// Opaque ids that sort by creation time, for rows written thousands at a time: their indexes then
// grow at the right edge instead of touching one random page per row.
#pragma once

#include <string>
#include <string_view>

namespace psahost {

// prefix + "_" + microseconds since the epoch (13 hex digits) + randomness: unguessable, and
// ordered by creation time across one host.
std::string ordered_id(std::string_view prefix);

}  // namespace psahost
