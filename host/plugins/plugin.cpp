#include "plugins/plugin.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "plugins/hook_pool.hpp"
#include "plugins/process_runner.hpp"
#include "plugins/remote_hook.hpp"
#include "plugins/remote_secret.hpp"
#include "store/store.hpp"

#include <psa/sdk.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>

// The host's side of the opaque context handed to a plugin: everything the host API
// callbacks need to serve that plugin.
struct psa_host_context {
  psahost::plugins::Plugin* plugin;

  static constexpr std::size_t kMaxKeyBytes = 256;
  static constexpr std::size_t kMaxValueBytes = 1 << 20;

  static char* dup(const std::string& s) {
    char* out = static_cast<char*>(std::malloc(s.size() + 1));
    if (out) {
      std::memcpy(out, s.data(), s.size());
      out[s.size()] = '\0';
    }
    return out;
  }

  static std::string compact(const Json::Value& v) { return psa::json::write(v); }

  static void log(psa_host_context* ctx, int32_t level, const char* message) {
    const auto lvl = level <= PSA_LOG_DEBUG  ? psahost::LogLevel::debug
                     : level == PSA_LOG_INFO ? psahost::LogLevel::info
                     : level == PSA_LOG_WARN ? psahost::LogLevel::warn
                                             : psahost::LogLevel::error;
    Json::Value fields;
    fields["plugin"] = ctx->plugin->id();
    ctx->plugin->env_.log.log(lvl, message ? message : "", fields);
  }

  static int32_t finish(const psahost::plugins::CallResult& r, char** response) {
    *response = dup(compact(r.body));
    return r.code;
  }

  static int32_t call(psa_host_context* ctx, const char* method, const char* request_json,
                      char** response_json) {
    using psahost::plugins::CallResult;
    auto& self = *ctx->plugin;
    const std::string name = method ? method : "";
    const auto* entry = self.env_.calls.find(name);
    if (!entry)
      return finish(CallResult::error(PSA_NOT_FOUND, "no host call " + name), response_json);
    if (!entry->permission.empty() && !self.manifest_.has_permission(entry->permission)) {
      Json::Value f;
      f["plugin"] = self.id();
      f["method"] = name;
      f["permission"] = entry->permission;
      self.env_.log.warn("plugin host call denied: the manifest lacks the permission", f);
      return finish(CallResult::error(PSA_DENIED, name + " needs permission " + entry->permission +
                                                      ", which the manifest does not grant"),
                    response_json);
    }
    Json::Value request;
    std::string errors;
    const std::string_view text = request_json ? request_json : "{}";
    if (!psa::json::reader().parse(text.data(), text.data() + text.size(), &request, &errors)) {
      return finish(CallResult::error(PSA_INVALID_ARGUMENT, "malformed request JSON: " + errors),
                    response_json);
    }
    try {
      return finish(entry->fn({self.id()}, request), response_json);
    } catch (const std::exception& e) {
      Json::Value f;
      f["plugin"] = self.id();
      f["method"] = name;
      f["error"] = e.what();
      self.env_.log.error("host call failed", f);
      return finish(CallResult::error(PSA_ERROR, name + " failed"), response_json);
    }
  }

  static void free_string(psa_host_context*, char* s) { std::free(s); }

  static bool kv_allowed(psa_host_context* ctx, size_t key_len) {
    auto& self = *ctx->plugin;
    return self.env_.store && self.manifest_.has_permission("kv") && key_len <= kMaxKeyBytes;
  }

  static int32_t kv_get(psa_host_context* ctx, const char* key, size_t key_len, char** value,
                        size_t* value_len) {
    *value = nullptr;
    *value_len = 0;
    if (!kv_allowed(ctx, key_len)) return PSA_DENIED;
    std::optional<std::string> found;
    try {
      ctx->plugin->env_.store->read([&](psahost::store::Tx& tx) {
        auto row = tx.query_one("SELECT value FROM plugin_kv WHERE plugin_id = ? AND key = ?",
                                {ctx->plugin->id(), std::string(key, key_len)});
        if (row) found = row->text(0);
      });
    } catch (const std::exception&) {
      return PSA_ERROR;
    }
    if (!found) return PSA_NOT_FOUND;
    *value = dup(*found);
    if (!*value) return PSA_ERROR;
    *value_len = found->size();
    return PSA_OK;
  }

  static int32_t kv_put(psa_host_context* ctx, const char* key, size_t key_len, const char* value,
                        size_t value_len) {
    if (!kv_allowed(ctx, key_len)) return PSA_DENIED;
    if (value_len > kMaxValueBytes) return PSA_INVALID_ARGUMENT;
    try {
      ctx->plugin->env_.store->write([&](psahost::store::Tx& tx) {
        tx.exec(
            "INSERT INTO plugin_kv (plugin_id, key, value, updated_at) VALUES (?, ?, ?, "
            "strftime('%Y-%m-%dT%H:%M:%fZ','now')) ON CONFLICT (plugin_id, key) DO UPDATE SET "
            "value = excluded.value, updated_at = excluded.updated_at",
            {ctx->plugin->id(), std::string(key, key_len), std::string(value, value_len)});
      });
    } catch (const std::exception&) {
      return PSA_ERROR;
    }
    return PSA_OK;
  }

  static int32_t kv_delete(psa_host_context* ctx, const char* key, size_t key_len) {
    if (!kv_allowed(ctx, key_len)) return PSA_DENIED;
    try {
      ctx->plugin->env_.store->write([&](psahost::store::Tx& tx) {
        tx.exec("DELETE FROM plugin_kv WHERE plugin_id = ? AND key = ?",
                {ctx->plugin->id(), std::string(key, key_len)});
      });
    } catch (const std::exception&) {
      return PSA_ERROR;
    }
    return PSA_OK;
  }
};

namespace psahost::plugins {

std::string HookResult::error_message() const {
  if (body.isObject() && body["error"].isObject()) return body["error"]["message"].asString();
  return ok() ? "" : "plugin returned error code " + std::to_string(code);
}

void Plugin::install_host_api() {
  context_ = std::make_unique<psa_host_context>(psa_host_context{this});
  host_api_ = std::make_unique<psa_host_api>();
  host_api_->size = sizeof(psa_host_api);
  host_api_->ctx = context_.get();
  host_api_->log = &psa_host_context::log;
  host_api_->call = &psa_host_context::call;
  host_api_->free_string = &psa_host_context::free_string;
  host_api_->kv_get = &psa_host_context::kv_get;
  host_api_->kv_put = &psa_host_context::kv_put;
  host_api_->kv_delete = &psa_host_context::kv_delete;
}

Plugin::Plugin(Manifest manifest, std::shared_ptr<PluginLibrary> library, const Json::Value& config,
               PluginEnv env)
    : manifest_(std::move(manifest)), library_(std::move(library)), env_(env) {
  install_host_api();
  const std::string config_json = psa_host_context::compact(config);
  int32_t rc = PSA_ERROR;
  state_ = library_->api().init(host_api_.get(), config_json.c_str(), &rc);
  if (rc != PSA_OK) {
    std::string why = state_ ? library_->api().get_last_error(state_) : "";
    if (state_) library_->api().destroy(state_);
    state_ = nullptr;
    throw LoadError("init", "plugin " + manifest_.id + " refused to start: " +
                                (why.empty() ? "init returned " + std::to_string(rc) : why));
  }
}

Plugin::Plugin(Manifest manifest, const std::filesystem::path& library, const Json::Value& config,
               PluginEnv env, const RunnerSettings& runner)
    : manifest_(std::move(manifest)), env_(env) {
  if (!env_.pool) throw LoadError("isolation", "a process-isolated plugin needs the hook pool");
  install_host_api();
  runner_ = std::make_unique<ProcessRunner>(manifest_, library, psa_host_context::compact(config),
                                            host_api_.get(), *env_.pool, env_.log, runner);
}

Plugin::Plugin(Manifest manifest, PluginEnv env) : manifest_(std::move(manifest)), env_(env) {
  if (!manifest_.remote) throw LoadError("remote", "a remote plugin needs remote.url");
  RemoteHook::KeySource key;
  if (env_.store && env_.secrets) {
    key = [store = env_.store, box = env_.secrets, id = manifest_.id] {
      return remote_signing_key(*store, *box, id);
    };
  }
  remote_ = std::make_unique<RemoteHook>(manifest_, env_.remote_client, std::move(key));
}

Plugin::~Plugin() {
  runner_.reset();
  if (state_) library_->api().destroy(state_);
}

std::string Plugin::failure() const {
  return runner_ ? runner_->failure() : "";
}

void Plugin::reset() {
  if (runner_) runner_->reset();
}

int Plugin::restarts() const {
  return runner_ ? runner_->restarts() : 0;
}

HookResult Plugin::call(std::string_view hook, const Json::Value& request,
                        std::chrono::milliseconds timeout) {
  return call_json(hook, psa_host_context::compact(request), timeout);
}

namespace {

HookResult error_result(const std::string& message) {
  HookResult r;
  r.code = PSA_ERROR;
  r.body["error"]["message"] = message;
  return r;
}

// In-process calls past their deadline that may still run, per plugin, before it gets no more:
// each holds a pool thread, and the pool is shared by every plugin.
constexpr int kMaxStuckCalls = 4;

}  // namespace

namespace {

std::string timed_out_message(const std::string& hook, std::chrono::milliseconds timeout) {
  return hook + " timed out after " + std::to_string(timeout.count()) +
         " ms (the plugin's timeout_ms)";
}

std::string stuck_message(const std::string& plugin_id, int n) {
  return std::to_string(n) + " earlier calls to " + plugin_id +
         " never returned; it gets no more until they do";
}

}  // namespace

HookResult Plugin::call_json(std::string_view hook, const std::string& request_json,
                             std::chrono::milliseconds timeout) {
  const auto started = std::chrono::steady_clock::now();
  if (timeout.count() <= 0) timeout = std::chrono::milliseconds(manifest_.timeout_ms);
  const auto deadline = started + timeout;
  const std::string hook_name(hook);
  HookResult result;
  if (remote_) {
    result = remote_->call(hook_name, request_json, deadline);
  } else if (runner_) {
    result = runner_->call(hook_name, request_json, deadline);
  } else if (!env_.pool) {
    result = call_here(hook_name, request_json);
  } else if (const int n = stuck(); n >= kMaxStuckCalls) {
    result = error_result(stuck_message(manifest_.id, n));
  } else {
    // The job holds the plugin (and so its library) and its own copy of the call until it
    // returns, even when its caller has stopped waiting.
    struct Call {
      std::shared_ptr<Plugin> plugin;
      std::string hook;
      std::string request;
      HookResult answer;
    };
    auto job = std::make_shared<Call>(Call{shared_from_this(), hook_name, request_json, {}});
    const auto outcome = env_.pool->run(
        [job] { job->answer = job->plugin->call_here(job->hook, job->request); }, deadline,
        [job] { job->plugin->stuck_.fetch_sub(1, std::memory_order_relaxed); });
    if (outcome == HookPool::Outcome::done) {
      result = std::move(job->answer);
    } else {
      if (outcome == HookPool::Outcome::late) stuck_.fetch_add(1, std::memory_order_relaxed);
      result = error_result(timed_out_message(hook_name, timeout));
    }
  }
  account(hook_name, result, started);
  return result;
}

void Plugin::account(const std::string& hook, const HookResult& result,
                     std::chrono::steady_clock::time_point started) {
  calls_.fetch_add(1, std::memory_order_relaxed);
  if (!result.ok()) errors_.fetch_add(1, std::memory_order_relaxed);
  if (env_.metrics) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    env_.metrics->observe_plugin_call(manifest_.id, hook, result.ok(), secs);
  }
}

std::vector<std::pair<std::string, HookResult>> Plugin::call_sequence(std::string_view hook,
                                                                      Json::Value first,
                                                                      NextRequest next,
                                                                      std::size_t count) {
  if (runner_ || remote_ || !env_.pool || count == 0 || stuck() >= kMaxStuckCalls) return {};
  struct Sequence {
    std::shared_ptr<Plugin> plugin;
    std::string hook;
    Json::Value request;
    NextRequest next;
    std::size_t count;
    std::vector<std::pair<std::string, HookResult>> answers;
  };
  const auto started = std::chrono::steady_clock::now();
  auto seq = std::make_shared<Sequence>(Sequence{
      shared_from_this(), std::string(hook), std::move(first), std::move(next), count, {}});
  const auto outcome = env_.pool->run(
      [seq] {
        while (seq->answers.size() < seq->count && !seq->request.isNull()) {
          std::string text = psa_host_context::compact(seq->request);
          const auto call_started = std::chrono::steady_clock::now();
          HookResult result = seq->plugin->call_here(seq->hook, text);
          seq->plugin->account(seq->hook, result, call_started);
          const bool ok = result.ok();
          seq->answers.emplace_back(std::move(text), std::move(result));
          if (!ok) break;
          seq->request = seq->next(seq->request, seq->answers.back().second);
        }
      },
      started + std::chrono::milliseconds(manifest_.timeout_ms),
      [seq] { seq->plugin->stuck_.fetch_sub(1, std::memory_order_relaxed); });
  if (outcome == HookPool::Outcome::done) return std::move(seq->answers);
  if (outcome == HookPool::Outcome::late) stuck_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

void Plugin::call_async(std::string_view hook, std::string request_json, Answer answer,
                        std::chrono::milliseconds timeout) {
  // One call in flight: answered exactly once, by whoever comes first (the plugin, the runner,
  // the deadline), and accounted as call_json accounts a call.
  struct Call {
    std::shared_ptr<Plugin> plugin;
    std::string hook;
    std::string request;
    Answer answer;
    std::chrono::steady_clock::time_point started;
    std::atomic<bool> answered{false};
    // In-process: queued, running, done, expired (before it ran) or late (while it ran).
    enum State : int { queued, running, done, expired, late };
    std::atomic<int> state{queued};
    HookPool::Timer timer;

    void finish(HookResult result) {
      if (answered.exchange(true, std::memory_order_acq_rel)) return;
      plugin->account(hook, result, started);
      auto to = std::move(answer);
      to(std::move(result));
    }
  };
  const auto started = std::chrono::steady_clock::now();
  if (timeout.count() <= 0) timeout = std::chrono::milliseconds(manifest_.timeout_ms);
  const auto deadline = started + timeout;
  auto call = std::make_shared<Call>();
  call->plugin = shared_from_this();
  call->hook = std::string(hook);
  call->request = std::move(request_json);
  call->answer = std::move(answer);
  call->started = started;

  if (runner_) {
    runner_->call_async(call->hook, call->request, deadline,
                        [call](HookResult r) { call->finish(std::move(r)); });
    return;
  }
  if (!env_.pool) {
    call->finish(remote_ ? remote_->call(call->hook, call->request, deadline)
                         : call_here(call->hook, call->request));
    return;
  }
  if (remote_) {
    // The HTTPS call blocks a pool thread, never the caller's, and ends by its own deadline.
    const bool posted = env_.pool->post([call, deadline] {
      call->finish(call->plugin->remote_->call(call->hook, call->request, deadline));
    });
    if (!posted) call->finish(error_result("the host is stopping"));
    return;
  }
  if (const int n = stuck(); n >= kMaxStuckCalls) {
    call->finish(error_result(stuck_message(manifest_.id, n)));
    return;
  }
  // Set before the job is queued, so that a job done at once always finds its timer to cancel.
  call->timer = env_.pool->at(deadline, [call, timeout] {
    int s = Call::queued;
    if (call->state.compare_exchange_strong(s, Call::expired)) {
      call->finish(error_result(timed_out_message(call->hook, timeout)));
    } else if (s == Call::running && call->state.compare_exchange_strong(s, Call::late)) {
      // The job's end takes this back.
      call->plugin->stuck_.fetch_add(1, std::memory_order_relaxed);
      call->finish(error_result(timed_out_message(call->hook, timeout)));
    }
  });
  const bool posted = env_.pool->post([call] {
    int s = Call::queued;
    if (!call->state.compare_exchange_strong(s, Call::running)) return;  // answered at its deadline
    auto result = call->plugin->call_here(call->hook, call->request);
    s = Call::running;
    if (call->state.compare_exchange_strong(s, Call::done)) {
      call->plugin->env_.pool->cancel(call->timer);
      call->finish(std::move(result));
    } else {
      call->plugin->stuck_.fetch_sub(1, std::memory_order_relaxed);  // late: discarded
    }
  });
  if (!posted) {
    env_.pool->cancel(call->timer);
    call->finish(error_result("the host is stopping"));
  }
}

HookResult Plugin::call_here(const std::string& hook_name, const std::string& request_json) {
  char* raw = nullptr;
  size_t raw_len = 0;
  HookResult result;
  result.code = library_->api().handle(state_, hook_name.c_str(), request_json.c_str(),
                                       request_json.size(), &raw, &raw_len);
  if (raw) {
    std::string errors;
    if (!psa::json::reader().parse(raw, raw + raw_len, &result.body, &errors)) {
      result.code = PSA_ERROR;
      result.body = Json::Value();
      result.body["error"]["message"] =
          "plugin answered " + hook_name + " with malformed JSON: " + errors;
    }
    library_->api().free_response(state_, raw);
  } else if (result.code == PSA_OK) {
    result.code = PSA_ERROR;
    result.body["error"]["message"] = "plugin answered " + hook_name + " with no response";
  }
  return result;
}

}  // namespace psahost::plugins
