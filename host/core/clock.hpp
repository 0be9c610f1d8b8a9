// Wall-clock time as the host writes it everywhere: UTC, RFC 3339, millisecond precision.
#pragma once

#include <string>

namespace psahost {

std::string now_rfc3339();

}  // namespace psahost
