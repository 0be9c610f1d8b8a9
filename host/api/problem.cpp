#include "api/problem.hpp"

namespace psahost::api {

namespace {

int status_of(domain::RefusalKind kind) {
  switch (kind) {
    case domain::RefusalKind::not_found:
      return 404;
    case domain::RefusalKind::invalid:
      return 422;
    case domain::RefusalKind::conflict:
    case domain::RefusalKind::refused:
      return 409;
    case domain::RefusalKind::unavailable:
      return 503;
    case domain::RefusalKind::failed:
      return 500;
  }
  return 409;
}

std::string_view default_title(domain::RefusalKind kind) {
  switch (kind) {
    case domain::RefusalKind::not_found:
      return "Not Found";
    case domain::RefusalKind::invalid:
      return "Unprocessable Content";
    case domain::RefusalKind::conflict:
      return "Conflict";
    case domain::RefusalKind::refused:
      return "Refused";
    case domain::RefusalKind::unavailable:
      return "Service Unavailable";
    case domain::RefusalKind::failed:
      return "Internal Server Error";
  }
  return "Conflict";
}

}  // namespace

http::Response to_problem(const domain::Refusal& r) {
  Json::Value extra = r.extra.isObject() ? r.extra : Json::Value();
  std::string detail = r.detail;
  if (r.kind == domain::RefusalKind::invalid) {
    Json::Value list(Json::arrayValue);
    for (const auto& e : r.fields) {
      Json::Value v;
      v["field"] = e.field;
      v["message"] = e.message;
      list.append(v);
      if (r.detail.empty()) detail += (detail.empty() ? "" : "; ") + e.field + ": " + e.message;
    }
    extra["errors"] = list;
  }
  if (!r.prompt.isNull()) extra["prompt"] = r.prompt;
  return http::problem(status_of(r.kind), r.slug.empty() ? "refused" : r.slug,
                       r.title.empty() ? default_title(r.kind) : r.title, detail, extra);
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
  return to_problem(verdict.refusal());
}

}  // namespace psahost::api
