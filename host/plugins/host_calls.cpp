#include "plugins/host_calls.hpp"

#include <stdexcept>

namespace psahost::plugins {

CallResult CallResult::error(int32_t code, const std::string& message) {
  Json::Value body;
  body["error"]["message"] = message;
  return {code, std::move(body)};
}

void HostCalls::add(std::string method, std::string permission, Fn fn) {
  if (!entries_.emplace(std::move(method), Entry{std::move(permission), std::move(fn)}).second) {
    throw std::logic_error("host call registered twice");
  }
}

const HostCalls::Entry* HostCalls::find(std::string_view method) const {
  auto it = entries_.find(method);
  return it == entries_.end() ? nullptr : &it->second;
}

std::map<std::string, std::string, std::less<>> HostCalls::methods() const {
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& [name, entry] : entries_) out.emplace(name, entry.permission);
  return out;
}

}  // namespace psahost::plugins
