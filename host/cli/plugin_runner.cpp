#include "cli/plugin_runner.hpp"

#include "plugins/runner_protocol.hpp"

#include <dlfcn.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <psa/plugin_api.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace psahost::cli {
namespace {

using plugins::runner::Channel;
using plugins::runner::Frame;
using plugins::runner::FrameType;
using plugins::runner::HostCallKind;

// Hook calls the runner works on at once; more wait in its queue (the host's deadlines apply).
constexpr int kWorkers = 8;

struct Options {
  std::string plugin;
  std::string library;
  long memory_mb = 1024;
  long cpu_seconds = 3600;
};

std::optional<Options> parse(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
    const std::string& name = args[i];
    const std::string& value = args[i + 1];
    if (name == "--plugin") {
      o.plugin = value;
    } else if (name == "--library") {
      o.library = value;
    } else if (name == "--memory-mb") {
      o.memory_mb = std::strtol(value.c_str(), nullptr, 10);
    } else if (name == "--cpu-seconds") {
      o.cpu_seconds = std::strtol(value.c_str(), nullptr, 10);
    } else {
      return std::nullopt;
    }
  }
  if (args.size() % 2 != 0 || o.library.empty() || o.memory_mb <= 0 || o.cpu_seconds <= 0) {
    return std::nullopt;
  }
  return o;
}

// The runner's side of the channel: sends frames, routes the host's replies to the threads
// waiting for them, and queues hook calls for the workers.
class RunnerChannel {
 public:
  explicit RunnerChannel(Channel& channel) : channel_(channel) {}

  void send(const Frame& frame) {
    const std::string bytes = plugins::runner::encode(frame);
    std::lock_guard lock(write_mutex_);
    if (!channel_.write(bytes)) ::_exit(0);  // the host is gone
  }

  // A host call: sends it and waits for the host's reply.
  Frame host_call(HostCallKind kind, std::string a, std::string b) {
    auto slot = std::make_shared<Reply>();
    uint64_t id;
    {
      std::lock_guard lock(mutex_);
      id = next_id_++;
      replies_[id] = slot;
    }
    send(Frame{FrameType::host_call, id, static_cast<int32_t>(kind), std::move(a), std::move(b)});
    std::unique_lock lock(mutex_);
    slot->arrived.wait(lock, [&] { return slot->frame.has_value(); });
    return std::move(*slot->frame);
  }

  void log(int32_t level, const char* message) {
    send(Frame{FrameType::host_call, static_cast<uint64_t>(level),
               static_cast<int32_t>(HostCallKind::log), message ? message : "", ""});
  }

  // Reads frames until the host closes the channel or asks the runner to stop.
  void read_loop() {
    for (;;) {
      Frame frame;
      std::string why;
      if (channel_.read(frame, why) != Channel::ReadStatus::frame) break;
      // Each wake-up is made after the lock is released: a thread woken while it is still held
      // would only run into it and sleep again.
      if (frame.type == FrameType::host_reply) {
        std::shared_ptr<Reply> slot;
        {
          std::lock_guard lock(mutex_);
          auto it = replies_.find(frame.id);
          if (it == replies_.end()) continue;
          slot = it->second;
          slot->frame = std::move(frame);
          replies_.erase(it);
        }
        slot->arrived.notify_one();
      } else if (frame.type == FrameType::init) {
        std::lock_guard lock(mutex_);
        config_ = std::move(frame.a);
        changed_.notify_all();
      } else if (frame.type == FrameType::call) {
        {
          std::lock_guard lock(mutex_);
          calls_.push_back(std::move(frame));
        }
        call_queued_.notify_one();
      } else {
        break;  // shutdown, or nothing a runner expects
      }
    }
    std::lock_guard lock(mutex_);
    ended_ = true;
    changed_.notify_all();
    call_queued_.notify_all();
  }

  std::optional<std::string> wait_for_config() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return config_.has_value() || ended_; });
    return config_;
  }

  // The next hook call, or nullopt once the channel ended.
  std::optional<Frame> next_call() {
    std::unique_lock lock(mutex_);
    call_queued_.wait(lock, [&] { return !calls_.empty() || ended_; });
    if (ended_) return std::nullopt;
    Frame f = std::move(calls_.front());
    calls_.pop_front();
    ++busy_;
    return f;
  }
  void call_done() {
    std::lock_guard lock(mutex_);
    --busy_;
    // Only the end of the runner waits for the busy count; waking it on every call cost a
    // context switch per call.
    if (ended_) changed_.notify_all();
  }

  // Waits for the end of the channel; true when no hook call is running then.
  bool wait_for_end() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return ended_; });
    changed_.wait_for(lock, std::chrono::milliseconds(500), [&] { return busy_ == 0; });
    return busy_ == 0;
  }

 private:
  Channel& channel_;
  std::mutex write_mutex_;
  // A host call's reply, and the one worker waiting for it.
  struct Reply {
    std::optional<Frame> frame;
    std::condition_variable arrived;
  };
  std::mutex mutex_;
  // Configuration, the end of the channel, and the busy count; each hook call queued wakes one
  // worker (call_queued_) and each reply only the worker that asked, never every thread.
  std::condition_variable changed_;
  std::condition_variable call_queued_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Reply>> replies_;
  std::optional<std::string> config_;
  std::deque<Frame> calls_;
  int busy_ = 0;
  bool ended_ = false;
};

// psa_host_api over the channel: the plugin sees the same table as in-process.
struct RemoteHost {
  static RunnerChannel& of(psa_host_context* ctx) { return *reinterpret_cast<RunnerChannel*>(ctx); }

  static char* dup(const std::string& s) {
    char* out = static_cast<char*>(std::malloc(s.size() + 1));
    if (out) {
      std::memcpy(out, s.data(), s.size());
      out[s.size()] = '\0';
    }
    return out;
  }
  static void log(psa_host_context* ctx, int32_t level, const char* message) {
    of(ctx).log(level, message);
  }
  static int32_t call(psa_host_context* ctx, const char* method, const char* request,
                      char** response) {
    Frame r = of(ctx).host_call(HostCallKind::call, method ? method : "", request ? request : "{}");
    *response = dup(r.a);
    return r.code;
  }
  static void free_string(psa_host_context*, char* s) { std::free(s); }
  static int32_t kv_get(psa_host_context* ctx, const char* key, size_t key_len, char** value,
                        size_t* value_len) {
    *value = nullptr;
    *value_len = 0;
    Frame r = of(ctx).host_call(HostCallKind::kv_get, std::string(key, key_len), "");
    if (r.code == PSA_OK) {
      *value = dup(r.a);
      if (!*value) return PSA_ERROR;
      *value_len = r.a.size();
    }
    return r.code;
  }
  static int32_t kv_put(psa_host_context* ctx, const char* key, size_t key_len, const char* value,
                        size_t value_len) {
    return of(ctx)
        .host_call(HostCallKind::kv_put, std::string(key, key_len), std::string(value, value_len))
        .code;
  }
  static int32_t kv_delete(psa_host_context* ctx, const char* key, size_t key_len) {
    return of(ctx).host_call(HostCallKind::kv_delete, std::string(key, key_len), "").code;
  }
};

void apply_limits(const Options& o) {
  // Few malloc arenas: each reserves 64 MiB of address space, which the memory limit counts.
  ::mallopt(M_ARENA_MAX, 2);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's shadow memory is terabytes of address space; the
                                    // host gives a sanitized runner an RSS limit instead
  const rlim_t bytes = static_cast<rlim_t>(o.memory_mb) << 20;
  const rlimit memory{bytes, bytes};
  ::setrlimit(RLIMIT_AS, &memory);
#endif
  const rlimit cpu{static_cast<rlim_t>(o.cpu_seconds), static_cast<rlim_t>(o.cpu_seconds) + 5};
  ::setrlimit(RLIMIT_CPU, &cpu);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
}

}  // namespace

int run_plugin_runner(const std::vector<std::string>& args) {
  const auto options = parse(args);
  if (!options) return 2;
  apply_limits(*options);

  void* lib = ::dlopen(options->library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) return 3;
  auto entry = reinterpret_cast<psa_plugin_entry_fn>(::dlsym(lib, PSA_PLUGIN_ENTRY_SYMBOL));
  const psa_plugin_api* api = entry ? entry() : nullptr;
  constexpr auto kV1Size = offsetof(psa_plugin_api, free_response) + sizeof(api->free_response);
  if (!api || api->size < kV1Size || !api->describe || !api->init || !api->handle ||
      !api->free_response || !api->destroy || !api->get_last_error) {
    return 3;
  }

  Channel channel(plugins::runner::kChannelFd);
  RunnerChannel host(channel);
  const char* described = api->describe();
  host.send(Frame{FrameType::hello, 0, 0, described ? described : "",
                  std::to_string(api->abi_major) + "." + std::to_string(api->abi_minor)});
  std::thread reader([&host] { host.read_loop(); });
  reader.detach();

  const auto config = host.wait_for_config();
  if (!config) ::_exit(0);
  psa_host_api table{};
  table.size = sizeof(psa_host_api);
  table.ctx = reinterpret_cast<psa_host_context*>(&host);
  table.log = &RemoteHost::log;
  table.call = &RemoteHost::call;
  table.free_string = &RemoteHost::free_string;
  table.kv_get = &RemoteHost::kv_get;
  table.kv_put = &RemoteHost::kv_put;
  table.kv_delete = &RemoteHost::kv_delete;
  int32_t rc = PSA_ERROR;
  psa_plugin_state* state = api->init(&table, config->c_str(), &rc);
  if (rc != PSA_OK) {
    const char* why = state ? api->get_last_error(state) : "";
    host.send(Frame{FrameType::init_done, 0, rc, why ? why : "", ""});
    ::_exit(0);
  }
  host.send(Frame{FrameType::init_done, 0, PSA_OK, "", ""});

  for (int i = 0; i < kWorkers; ++i) {
    std::thread([&host, api, state] {
      while (auto call = host.next_call()) {
        char* response = nullptr;
        size_t len = 0;
        const int32_t code =
            api->handle(state, call->a.c_str(), call->b.c_str(), call->b.size(), &response, &len);
        Frame result{FrameType::result, call->id, code, "", ""};
        if (response) result.a.assign(response, len);
        api->free_response(state, response);
        host.send(result);
        host.call_done();
      }
    }).detach();
  }
  // Destroy only when no hook runs any more; a hung one is not waited for.
  if (host.wait_for_end()) api->destroy(state);
  ::_exit(0);
}

}  // namespace psahost::cli
