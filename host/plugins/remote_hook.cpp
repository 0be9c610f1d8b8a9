#include "plugins/remote_hook.hpp"

#include "core/crypto.hpp"
#include "net/https_client.hpp"
#include "plugins/plugin.hpp"

#include <psa/sdk.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace psahost::plugins {

namespace {

HookResult failed(const std::string& message) {
  HookResult r;
  r.code = PSA_ERROR;
  r.body["error"]["message"] = message;
  return r;
}

// Where the client's callback leaves the answer; the caller may have stopped waiting by then.
struct Exchange {
  std::mutex mutex;
  std::condition_variable done;
  std::optional<net::OutboundResponse> response;
};

}  // namespace

RemoteHook::RemoteHook(const Manifest& manifest, net::HttpsClient* client, KeySource key)
    : id_(manifest.id),
      url_(manifest.remote ? manifest.remote->url : ""),
      client_(client),
      key_(std::move(key)) {}

HookResult RemoteHook::call(const std::string& hook, const std::string& request_json,
                            Clock::time_point deadline) const {
  const std::string who = "remote plugin " + id_;
  if (!client_) return failed(who + " cannot be called by this command (no outbound client)");
  std::optional<std::string> key;
  try {
    key = key_ ? key_() : std::nullopt;
  } catch (const std::exception&) {
    key.reset();
  }
  if (!key) {
    return failed(who + " has no signing secret yet; issue one with `psahost plugins secret " +
                  id_ + "` and configure the service with it");
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return failed(hook + " was not sent to " + who + ": its deadline passed");

  net::OutboundRequest request;
  request.method = "POST";
  request.url = url_;
  request.timeout = left;
  request.body = request_json;
  const std::string message_id = "msg_" + crypto::random_token(16);
  const std::string timestamp =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  request.headers = {
      {"Content-Type", "application/json"},
      {"psa-hook", hook},
      {"webhook-id", message_id},
      {"webhook-timestamp", timestamp},
      {"webhook-signature", "v1," + crypto::base64_encode(crypto::hmac_sha256(
                                        *key, {message_id, ".", timestamp, ".", request.body}))},
  };

  auto exchange = std::make_shared<Exchange>();
  client_->async_send(std::move(request), [exchange](net::OutboundResponse response) {
    std::lock_guard lock(exchange->mutex);
    exchange->response = std::move(response);
    exchange->done.notify_all();
  });
  net::OutboundResponse response;
  {
    std::unique_lock lock(exchange->mutex);
    if (!exchange->done.wait_until(lock, deadline,
                                   [&] { return exchange->response.has_value(); })) {
      return failed(hook + " timed out: " + who + " did not answer within its timeout_ms");
    }
    response = std::move(*exchange->response);
  }
  if (!response.ok()) {
    return failed(who + " could not be reached (" + std::string(net::to_string(response.failure)) +
                  "): " + response.error);
  }
  if (response.truncated || response.body.size() > kMaxRemoteAnswerBytes) {
    return failed(who + " answered " + hook + " with more than " +
                  std::to_string(kMaxRemoteAnswerBytes) + " bytes");
  }
  if (response.status < 200 || response.status > 299) {
    return failed(who + " answered " + hook + " with HTTP " + std::to_string(response.status));
  }
  HookResult result;
  std::string errors;
  const char* begin = response.body.data();
  bool parsed = false;
  try {
    parsed = psa::json::reader().parse(begin, begin + response.body.size(), &result.body, &errors);
  } catch (const std::exception&) {
    parsed = false;  // jsoncpp throws past its nesting limit
  }
  if (!parsed || !result.body.isObject()) {
    return failed(who + " answered " + hook + " with HTTP " + std::to_string(response.status) +
                  " and a body that is not a JSON object");
  }
  result.code = PSA_OK;
  return result;
}

}  // namespace psahost::plugins
