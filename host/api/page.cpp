#include "api/page.hpp"

#include "api/fields.hpp"

#include <algorithm>

namespace psahost::api {

Page list_page(const http::Request& req, std::vector<domain::FieldError>& errors,
               int64_t max_limit) {
  Page page;
  page.after = req.query_param("after").value_or("");
  if (const auto text = req.query_param("limit")) {
    const bool digits =
        !text->empty() && text->size() <= 9 &&
        std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
    const int64_t n = digits ? std::stoll(*text) : 0;
    if (n < 1 || n > max_limit) {
      errors.push_back({"limit", "expected a whole number from 1 to " + std::to_string(max_limit)});
    } else {
      page.limit = n;
    }
  }
  return page;
}

IdPage id_page(const http::Request& req, std::vector<domain::FieldError>& errors,
               int64_t max_limit) {
  const Page text = list_page(req, errors, max_limit);
  IdPage page;
  page.limit = text.limit;
  if (req.query_param("after")) {
    if (const auto id = positive_id(text.after)) {
      page.after = *id;
    } else {
      errors.push_back({"after", "expected the id of the previous page's last item"});
    }
  }
  return page;
}

}  // namespace psahost::api
