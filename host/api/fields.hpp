// The JSON field reader the routes validate request bodies with (domain/fields, shared with the
// feature modules' host calls), under its api name.
#pragma once

#include "domain/fields.hpp"

namespace psahost::api {

using domain::Fields;
using domain::is_date;
using domain::positive_id;

}  // namespace psahost::api
