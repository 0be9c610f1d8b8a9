// Why a rule said no, in terms the caller can act on. Feature modules return it; host/api maps
// it to problem+json in one place; the webhook applier and the CLI read it as it is.
#pragma once

#include <json/value.h>

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace psahost::domain {

struct FieldError {
  std::string field;    // JSON field path: "email", "address.zip"; "" for the body itself
  std::string message;  // what was expected
};

enum class RefusalKind {
  not_found,    // no such object for this tenant
  invalid,      // the request itself is wrong; fields name each part
  conflict,     // the object's state does not allow this now (a closed ticket, a stale version)
  refused,      // a rule or a plugin decided against it; prompt says what the user can do
  unavailable,  // cannot be done now (starting, stopping); the same request may work later
  failed,       // something the rule depends on broke (a plugin's answer); not the caller's doing
  upstream,  // another system asked on the caller's behalf (an accounting connector) could not say
};

struct Refusal {
  RefusalKind kind = RefusalKind::conflict;
  std::string slug;    // stable, names the rule: "ticket-closed", "billing-info-required"
  std::string title;   // short and fixed per slug; empty takes the kind's own
  std::string detail;  // this occurrence, for a person
  Json::Value prompt;  // what the user can do about it; null when nothing
  std::vector<FieldError> fields;
  Json::Value extra;  // further members a caller shows (an object, or null)

  static Refusal make(RefusalKind kind, std::string slug, std::string detail) {
    Refusal r;
    r.kind = kind;
    r.slug = std::move(slug);
    r.detail = std::move(detail);
    return r;
  }
  static Refusal not_found(std::string_view what, std::string_view id) {
    return make(RefusalKind::not_found, "not-found",
                std::string(what) + " " + std::string(id) + " does not exist");
  }
  static Refusal invalid(std::vector<FieldError> fields, std::string detail = {}) {
    Refusal r = make(RefusalKind::invalid, "validation-failed", std::move(detail));
    r.fields = std::move(fields);
    return r;
  }
  static Refusal conflict(std::string slug, std::string detail) {
    return make(RefusalKind::conflict, std::move(slug), std::move(detail));
  }
};

// A feature's answer: the value, or why not.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Refusal refusal) : v_(std::move(refusal)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Refusal& refusal() const { return std::get<1>(v_); }

 private:
  std::variant<T, Refusal> v_;
};

}  // namespace psahost::domain
