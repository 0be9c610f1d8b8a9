// A plugin run as an HTTPS service (isolation "remote"): each hook call is POSTed to the
// manifest's URL as the hook document, signed the Standard Webhooks way, and its answer read by
// the call's deadline. A remote plugin has no host calls, no init and nothing to restart.
#pragma once

#include "plugins/manifest.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace psahost::net {
class HttpsClient;
}

namespace psahost::plugins {

struct HookResult;

// The largest answer a remote plugin may give; anything longer is a failed call.
inline constexpr std::size_t kMaxRemoteAnswerBytes = std::size_t{1} << 20;

class RemoteHook {
 public:
  using Clock = std::chrono::steady_clock;
  // The plugin's current signing key (decoded bytes), or nullopt when none has been issued.
  // Asked on every call, so a secret issued or rotated while the host runs applies at once.
  using KeySource = std::function<std::optional<std::string>()>;

  // client may be null (commands that only list or verify plugins): every call then fails.
  RemoteHook(const Manifest& manifest, net::HttpsClient* client, KeySource key);

  // POSTs one hook call and waits for the answer until deadline. Never throws; a failure (no
  // connection, a timeout, a status other than 2xx, a body that is not a JSON object or is over
  // kMaxRemoteAnswerBytes) is an error result saying what happened.
  HookResult call(const std::string& hook, const std::string& request_json,
                  Clock::time_point deadline) const;

 private:
  std::string id_;
  std::string url_;
  net::HttpsClient* client_;
  KeySource key_;
};

}  // namespace psahost::plugins
