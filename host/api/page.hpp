// The one reader of a list's ?after and ?limit: every paged list reads its page the same way and
// names a bad limit the same way.
#pragma once

#include "domain/refusal.hpp"
#include "http/message.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace psahost::api {

// after: the previous page's last id ("" for the first page); limit: 1..max, 100 when absent.
struct Page {
  std::string after;
  int64_t limit = 100;
};

// A limit that is not a whole number from 1 to max_limit is added to errors.
Page list_page(const http::Request& req, std::vector<domain::FieldError>& errors,
               int64_t max_limit = 1000);

// The same where ids are whole numbers (deliveries, the inbox): 0 is before the first, and an
// ?after that is no id is added to errors too.
struct IdPage {
  int64_t after = 0;
  int64_t limit = 100;
};
IdPage id_page(const http::Request& req, std::vector<domain::FieldError>& errors,
               int64_t max_limit = 1000);

}  // namespace psahost::api
