// The one versioned list of schema migrations, shared by every store backend.
// Versions run 1..N without gaps; an applied migration is never edited, only followed by a new one.
#pragma once

#include <string>
#include <vector>

namespace psahost::store {

struct Migration {
  int version;
  std::string name;
  std::string sql;  // may hold several statements; applied in one transaction
};

// Ordered by version, starting at 1, without gaps.
const std::vector<Migration>& migrations();

}  // namespace psahost::store
