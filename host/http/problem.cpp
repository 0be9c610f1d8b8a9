#include "http/problem.hpp"

#include <string>
#include <string_view>

namespace psahost::http {
namespace {

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
    case domain::RefusalKind::upstream:
      return "Bad Gateway";
  }
  return "Conflict";
}

}  // namespace

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
    case domain::RefusalKind::upstream:
      return 502;
  }
  return 409;
}

Json::Value problem_document(const domain::Refusal& r) {
  Json::Value body(Json::objectValue);
  if (r.extra.isObject()) body = r.extra;
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
    body["errors"] = list;
  }
  if (!r.prompt.isNull()) body["prompt"] = r.prompt;
  body["type"] = std::string(kProblemTypePrefix) + (r.slug.empty() ? "refused" : r.slug);
  body["title"] = std::string(r.title.empty() ? default_title(r.kind) : r.title);
  body["status"] = status_of(r.kind);
  if (!detail.empty()) body["detail"] = detail;
  return body;
}

Response problem(const domain::Refusal& refusal) {
  Response r = Response::json(status_of(refusal.kind), problem_document(refusal));
  r.content_type = "application/problem+json";
  return r;
}

}  // namespace psahost::http
