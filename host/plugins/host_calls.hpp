// The services a plugin may call through psa_host_api.call, each guarded by one permission.
// The host registers them at start; the plugin runtime checks the caller's manifest first.
#pragma once

#include <json/value.h>
#include <psa/plugin_api.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace psahost::plugins {

struct CallResult {
  int32_t code = PSA_OK;
  Json::Value body;  // the result, or {"error":{"message":...}}

  static CallResult ok(Json::Value body) { return {PSA_OK, std::move(body)}; }
  static CallResult error(int32_t code, const std::string& message);
};

// Who is calling: the plugin's id, for services that scope data per plugin.
struct CallerInfo {
  std::string plugin_id;
};

class HostCalls {
 public:
  using Fn = std::function<CallResult(const CallerInfo&, const Json::Value& request)>;
  struct Entry {
    std::string permission;  // "" = any loaded plugin may call it
    Fn fn;
  };

  void add(std::string method, std::string permission, Fn fn);
  const Entry* find(std::string_view method) const;
  std::map<std::string, std::string, std::less<>> methods() const;  // method -> permission

 private:
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace psahost::plugins
