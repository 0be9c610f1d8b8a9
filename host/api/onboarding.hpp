// The onboarding picture of a tenant: who lacks billing information (and what), who has services
// but no contract (the banner's count), and whether invoice numbering is verified.
#pragma once

#include "store/store.hpp"

#include <json/value.h>

#include <string>

namespace psahost::api {

// Lists at most item_limit clients per list; the counts are always complete.
Json::Value onboarding_status(store::Tx& tx, const std::string& tenant_id, int item_limit = 100);

}  // namespace psahost::api
