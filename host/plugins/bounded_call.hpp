// What the inbox and the outbox call connector hooks through. The deadline itself is
// Plugin::call's (the hook pool for in-process plugins, the runner's channel for isolated
// ones): one mechanism for every caller.
#pragma once

#include "plugins/plugin.hpp"

#include <chrono>
#include <memory>
#include <string_view>

namespace psahost::plugins {

class BoundedCalls {
 public:
  // The hook's result, or an error result when it did not answer within timeout (0 = the
  // manifest's timeout_ms) or earlier calls of the plugin never returned.
  HookResult call(const std::shared_ptr<Plugin>& plugin, std::string_view hook,
                  const Json::Value& request,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    return plugin->call(hook, request, timeout);
  }
};

}  // namespace psahost::plugins
