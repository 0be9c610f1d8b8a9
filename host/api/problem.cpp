#include "api/problem.hpp"

#include "http/problem.hpp"

namespace psahost::api {

http::Response to_problem(const domain::Refusal& r) {
  return http::problem(r);
}

http::Response not_found(std::string_view what, std::string_view id) {
  return to_problem(domain::Refusal::not_found(what, id));
}

http::Response validation_failed(const Json::Value& errors, std::string_view detail) {
  std::vector<domain::FieldError> fields;
  for (const auto& e : errors) fields.push_back({e["field"].asString(), e["message"].asString()});
  return to_problem(domain::Refusal::invalid(std::move(fields), std::string(detail)));
}

http::Response validation_failed(const std::vector<domain::FieldError>& errors) {
  return to_problem(domain::Refusal::invalid(errors));
}

http::Response refused(const admission::Verdict& verdict) {
  return to_problem(verdict.to_refusal());
}

}  // namespace psahost::api
