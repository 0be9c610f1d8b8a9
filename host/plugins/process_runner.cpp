#include "plugins/process_runner.hpp"

#include "core/log.hpp"
#include "plugins/hook_pool.hpp"
#include "plugins/library.hpp"
#include "plugins/plugin.hpp"
#include "plugins/runner_protocol.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <psa/sdk.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace psahost::plugins {
namespace fs = std::filesystem;
using runner::Frame;
using runner::FrameType;

namespace {

HookResult failed_result(const std::string& message) {
  HookResult r;
  r.code = PSA_ERROR;
  r.body["error"]["message"] = message;
  return r;
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) return "killed by " + signal_name(WTERMSIG(status));
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended";
}

// fork + exec with nothing inherited but the channel (as fd 3) and /dev/null on 0, 1 and 2, an
// environment of env alone, and SIGKILL when the thread that started it (the supervisor) goes
// away.
pid_t spawn(const fs::path& exe, const std::vector<std::string>& args,
            const std::vector<std::string>& env, int channel_fd) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string path = exe.string();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // The child: async-signal-safe calls only until exec.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (channel_fd == runner::kChannelFd) {
    ::fcntl(channel_fd, F_SETFD, 0);
  } else if (::dup2(channel_fd, runner::kChannelFd) < 0) {
    ::_exit(127);
  }
  const int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
  }
  ::syscall(SYS_close_range, runner::kChannelFd + 1, ~0U, 0);
  ::execve(path.c_str(), argv.data(), envp.data());
  ::_exit(127);
}

// A hook call sent and not answered yet: answered once, by the runner, its crash or the
// deadline's timer, whichever takes it out of the map first. timer is written under the
// runner's lock while the call is in the map, and read by whoever took it out.
struct Pending {
  std::function<void(HookResult)> answer;
  HookPool::Timer timer;
};

struct StartFailure {
  std::string field;
  std::string message;
};

}  // namespace

struct ProcessRunner::Impl : std::enable_shared_from_this<ProcessRunner::Impl> {
  Manifest manifest;
  fs::path library;
  std::string config_json;
  const psa_host_api* host_api;
  HookPool& pool;
  Logger& log;
  RunnerSettings settings;

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::shared_ptr<runner::Channel> channel;  // the current runner's, from spawn to teardown
  pid_t pid = -1;
  bool running = false;  // handshake and init done
  bool stopping = false;
  std::string kill_reason;  // set when the host killed the runner on purpose
  std::string failed;
  std::deque<Clock::time_point> restarts_at;
  int restarts_total = 0;
  int missed_in_row = 0;
  uint64_t next_id = 1;
  std::map<uint64_t, std::shared_ptr<Pending>> pending;
  int host_calls_running = 0;
  std::timed_mutex write_mutex;
  // The first start's outcome, for the constructor.
  bool first_reported = false;
  std::optional<StartFailure> first_failure;
  std::thread supervisor;

  Impl(const Manifest& m, fs::path lib, std::string config, const psa_host_api* api, HookPool& p,
       Logger& l, RunnerSettings s)
      : manifest(m),
        library(std::move(lib)),
        config_json(std::move(config)),
        host_api(api),
        pool(p),
        log(l),
        settings(std::move(s)) {}

  Json::Value fields() const {
    Json::Value f;
    f["plugin"] = manifest.id;
    return f;
  }

  // Kills the runner that owns ch (if it is still the current one), so that its reader ends.
  void kill_runner(const std::shared_ptr<runner::Channel>& ch, const std::string& reason) {
    std::lock_guard lock(mutex);
    if (!ch || channel != ch) return;
    if (kill_reason.empty()) kill_reason = reason;
    ::shutdown(ch->fd(), SHUT_RDWR);
    if (pid > 0) ::kill(pid, SIGKILL);
  }

  bool send(const std::shared_ptr<runner::Channel>& ch, const Frame& frame,
            Clock::time_point deadline) {
    const std::string bytes = runner::encode(frame);
    std::unique_lock<std::timed_mutex> writing(write_mutex, deadline);
    if (!writing.owns_lock()) return false;
    return ch->write(bytes, deadline);
  }

  // Serves one host call of the plugin through the same table an in-process plugin gets, so
  // the permission checks are the very same.
  Frame serve_host_call(const Frame& in) {
    Frame out{FrameType::host_reply, in.id, PSA_ERROR, "", ""};
    switch (static_cast<runner::HostCallKind>(in.code)) {
      case runner::HostCallKind::call: {
        char* response = nullptr;
        out.code = host_api->call(host_api->ctx, in.a.c_str(), in.b.c_str(), &response);
        if (response) out.a = response;
        host_api->free_string(host_api->ctx, response);
        break;
      }
      case runner::HostCallKind::kv_get: {
        char* value = nullptr;
        size_t len = 0;
        out.code = host_api->kv_get(host_api->ctx, in.a.data(), in.a.size(), &value, &len);
        if (value) out.a.assign(value, len);
        host_api->free_string(host_api->ctx, value);
        break;
      }
      case runner::HostCallKind::kv_put:
        out.code =
            host_api->kv_put(host_api->ctx, in.a.data(), in.a.size(), in.b.data(), in.b.size());
        break;
      case runner::HostCallKind::kv_delete:
        out.code = host_api->kv_delete(host_api->ctx, in.a.data(), in.a.size());
        break;
      default:
        out.code = PSA_INVALID_ARGUMENT;
        out.a = R"({"error":{"message":"unknown host call kind"}})";
    }
    return out;
  }

  // A host call frame from the runner: a log line is written at once, the rest go to the pool
  // so that a slow host call never holds up the answers of other hook calls.
  void on_host_call(const std::shared_ptr<runner::Channel>& ch, Frame frame) {
    if (static_cast<runner::HostCallKind>(frame.code) == runner::HostCallKind::log) {
      host_api->log(host_api->ctx, static_cast<int32_t>(frame.id), frame.a.c_str());
      return;
    }
    // The job keeps this state alive; it serves the call only if the runner is not being
    // destroyed by then (the host API table goes with the plugin), and the destructor waits
    // for the ones it serves. A job the stopped pool drops is simply never run.
    pool.post([self = shared_from_this(), ch, frame = std::move(frame)] {
      {
        std::lock_guard lock(self->mutex);
        if (self->stopping) return;
        ++self->host_calls_running;
      }
      const Frame reply = self->serve_host_call(frame);
      const auto deadline = Clock::now() + std::chrono::milliseconds(self->manifest.timeout_ms) +
                            std::chrono::seconds(1);
      if (!self->send(ch, reply, deadline)) {
        self->kill_runner(ch, "did not read the answer to a host call");
      }
      std::lock_guard lock(self->mutex);
      --self->host_calls_running;
      self->changed.notify_all();
    });
  }

  // Starts a runner and takes it through the handshake and init. On failure fills why.
  bool start(std::optional<StartFailure>& why) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      why = StartFailure{"isolation", std::string("socketpair: ") + std::strerror(errno)};
      return false;
    }
    ::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    const std::vector<std::string> args = {
        "psahost",       "plugin-runner",
        "--plugin",      manifest.id,
        "--library",     library.string(),
        "--memory-mb",   std::to_string(manifest.limits.memory_mb),
        "--cpu-seconds", std::to_string(manifest.limits.cpu_seconds)};
    std::vector<std::string> env;  // none: the runner sees no secret of the host's
#if defined(__SANITIZE_ADDRESS__)
    // A build under AddressSanitizer (the test suite's) reserves terabytes of address space, so
    // its runner cannot take the address-space limit; ASan's own RSS limit holds it to the
    // manifest's memory instead. A plugin's own crash ends it as it would unsanitized.
    env.push_back("ASAN_OPTIONS=hard_rss_limit_mb=" + std::to_string(manifest.limits.memory_mb) +
                  ":abort_on_error=1:detect_leaks=0:handle_segv=0:handle_abort=0");
#endif
    const pid_t child = spawn(settings.executable, args, env, sv[1]);
    ::close(sv[1]);
    auto ch = std::make_shared<runner::Channel>(sv[0]);
    if (child < 0) {
      why = StartFailure{"isolation", std::string("fork: ") + std::strerror(errno)};
      return false;
    }
    {
      std::lock_guard lock(mutex);
      channel = ch;
      pid = child;
      kill_reason.clear();
      if (stopping) return false;
    }
    const auto deadline = Clock::now() + settings.handshake_timeout;
    Frame frame;
    std::string garbage;
    const auto status = ch->read(frame, garbage, deadline);
    if (status != runner::Channel::ReadStatus::frame || frame.type != FrameType::hello) {
      why = StartFailure{
          "isolation", "the plugin runner sent no handshake (" +
                           (garbage.empty() ? "it ended or stayed silent" : "it sent " + garbage) +
                           ")"};
      return false;
    }
    try {
      unsigned major = 0, minor = 0;
      if (std::sscanf(frame.b.c_str(), "%u.%u", &major, &minor) != 2) {
        throw LoadError("sdk", "the plugin runner's handshake carries no ABI version");
      }
      if (auto bad = check_abi({}, major, minor); !bad.empty()) throw LoadError("sdk", bad);
      if (major != static_cast<unsigned>(manifest.sdk_major) ||
          minor != static_cast<unsigned>(manifest.sdk_minor)) {
        throw LoadError("sdk", "the library was built against ABI " + frame.b +
                                   " but the manifest declares " + manifest.sdk);
      }
      check_description(manifest, frame.a, library.string());
    } catch (const LoadError& e) {
      why = StartFailure{e.field(), e.what()};
      return false;
    }
    if (!send(ch, Frame{FrameType::init, 0, 0, config_json, ""}, deadline)) {
      why = StartFailure{"init", "the plugin runner did not take its configuration"};
      return false;
    }
    // init() may already use host calls; they are served here, in order.
    for (;;) {
      const auto s = ch->read(frame, garbage, deadline);
      if (s != runner::Channel::ReadStatus::frame) {
        why = StartFailure{"init", "the plugin runner ended or stayed silent during init"};
        return false;
      }
      if (frame.type == FrameType::host_call) {
        if (static_cast<runner::HostCallKind>(frame.code) == runner::HostCallKind::log) {
          host_api->log(host_api->ctx, static_cast<int32_t>(frame.id), frame.a.c_str());
        } else if (!send(ch, serve_host_call(frame), deadline)) {
          why = StartFailure{"init", "the plugin runner did not read a host call's answer"};
          return false;
        }
        continue;
      }
      if (frame.type != FrameType::init_done) {
        why = StartFailure{"init", "the plugin runner answered init with an unexpected frame"};
        return false;
      }
      break;
    }
    if (frame.code != PSA_OK) {
      why = StartFailure{
          "init", "plugin " + manifest.id + " refused to start: " +
                      (frame.a.empty() ? "init returned " + std::to_string(frame.code) : frame.a)};
      return false;
    }
    std::lock_guard lock(mutex);
    running = true;
    missed_in_row = 0;
    return true;
  }

  // How long a frame the runner has begun may take to arrive whole. A runner writes each frame
  // at once, so a longer pause means it sent part of one and stopped; it is then restarted
  // rather than left holding the channel until enough calls have missed their deadlines.
  std::chrono::milliseconds frame_stall_limit() const {
    return std::max(std::chrono::milliseconds(manifest.timeout_ms),
                    std::chrono::milliseconds(2000));
  }

  // Reads the runner's frames until it ends or misbehaves; returns what happened.
  std::string read_loop(const std::shared_ptr<runner::Channel>& ch) {
    for (;;) {
      Frame frame;
      std::string why;
      switch (ch->read(frame, why, std::nullopt, frame_stall_limit())) {
        case runner::Channel::ReadStatus::frame:
          break;
        case runner::Channel::ReadStatus::closed:
        case runner::Channel::ReadStatus::error:
        case runner::Channel::ReadStatus::timeout:
          return why.empty() ? "closed its channel" : "sent " + why;
        case runner::Channel::ReadStatus::garbage:
          return "sent " + why;
      }
      if (frame.type == FrameType::host_call) {
        on_host_call(ch, std::move(frame));
        continue;
      }
      if (frame.type != FrameType::result) {
        return "sent an unexpected frame of type " + std::to_string(static_cast<int>(frame.type));
      }
      {
        std::lock_guard lock(mutex);
        if (frame.id == 0 || frame.id >= next_id) {
          return "answered request id " + std::to_string(frame.id) + ", which was never sent";
        }
        // A late answer: its caller has had the policy's.
        if (pending.find(frame.id) == pending.end()) continue;
      }
      // Parsed without the lock, so that other callers' sends and wake-ups do not wait on it.
      HookResult result;
      result.code = frame.code;
      if (!frame.a.empty()) {
        std::string errors;
        if (!psa::json::reader().parse(frame.a.data(), frame.a.data() + frame.a.size(),
                                       &result.body, &errors)) {
          result = failed_result("plugin answered with malformed JSON: " + errors);
        }
      } else if (frame.code == PSA_OK) {
        result = failed_result("plugin answered with no response");
      }
      std::shared_ptr<Pending> p;
      {
        std::lock_guard lock(mutex);
        auto it = pending.find(frame.id);
        if (it == pending.end()) continue;
        p = std::move(it->second);
        pending.erase(it);
        missed_in_row = 0;
      }
      answer(*p, std::move(result));  // outside the lock: the answer may start the next call
    }
  }

  void answer(Pending& p, HookResult result) {
    pool.cancel(p.timer);
    auto to = std::move(p.answer);
    to(std::move(result));
  }

  std::shared_ptr<Pending> take(uint64_t id) {
    std::lock_guard lock(mutex);
    const auto it = pending.find(id);
    if (it == pending.end()) return nullptr;
    auto p = std::move(it->second);
    pending.erase(it);
    return p;
  }

  // The deadline of call id passed: answered as timed out, and a runner that keeps missing
  // deadlines is killed (its supervisor restarts it).
  void expire(uint64_t id, const std::shared_ptr<runner::Channel>& ch, const std::string& hook,
              Clock::time_point started) {
    std::shared_ptr<Pending> p;
    int missed = 0;
    {
      std::lock_guard lock(mutex);
      const auto it = pending.find(id);
      if (it == pending.end()) return;
      p = std::move(it->second);
      pending.erase(it);
      missed = ++missed_in_row;
    }
    if (missed >= settings.missed_deadlines_before_kill) {
      kill_runner(ch, "missed " + std::to_string(missed) + " deadlines in a row");
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    auto to = std::move(p->answer);
    to(failed_result(hook + " timed out after " + std::to_string(ms) +
                     " ms (the plugin's timeout_ms)"));
  }

  // Ends the runner that just stopped (killing it if needed), fails every call in flight and
  // returns how it ended.
  std::string teardown(const std::string& what_happened) {
    pid_t child;
    std::map<uint64_t, std::shared_ptr<Pending>> in_flight;
    std::string reason;
    {
      std::lock_guard lock(mutex);
      running = false;
      child = pid;
      // A runner killed on purpose may have been caught half-way through a frame: say both.
      if (kill_reason.empty()) {
        reason = what_happened;
      } else if (what_happened == "closed its channel") {
        reason = kill_reason;
      } else {
        reason = kill_reason + " (it " + what_happened + ")";
      }
      in_flight.swap(pending);
    }
    int status = 0;
    bool reaped = false;
    if (child > 0) {
      // A runner that crashed is reapable about when its channel closes; one that is merely
      // misbehaving is killed.
      for (int i = 0; i < 50 && !reaped; ++i) {
        if (::waitpid(child, &status, WNOHANG) == child) {
          reaped = true;
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(i < 10 ? 2 : 20));
        }
      }
      if (!reaped) {
        ::kill(child, SIGKILL);
        reaped = ::waitpid(child, &status, 0) == child;
      }
    }
    std::string ended = reaped ? describe_status(status) : "gone";
    const std::string full = reason + "; the runner " + ended;
    {
      std::lock_guard lock(mutex);
      channel.reset();
      pid = -1;
      changed.notify_all();
    }
    for (auto& [id, p] : in_flight)
      answer(*p, failed_result("the plugin runner crashed (" + full + ")"));
    return full;
  }

  // True while the restart budget allows one more restart.
  bool within_budget() {
    std::lock_guard lock(mutex);
    const auto now = Clock::now();
    restarts_at.push_back(now);
    while (!restarts_at.empty() && restarts_at.front() < now - settings.restart_window) {
      restarts_at.pop_front();
    }
    return static_cast<int>(restarts_at.size()) <= settings.restart_budget;
  }

  void supervise() {
    bool first = true;
    int backoff_step = 0;
    for (;;) {
      std::optional<StartFailure> why;
      const bool up = start(why);
      if (first) {
        std::lock_guard lock(mutex);
        first_reported = true;
        if (!up) first_failure = why ? *why : StartFailure{"isolation", "the runner stopped"};
        changed.notify_all();
      }
      std::shared_ptr<runner::Channel> ch;
      {
        std::lock_guard lock(mutex);
        ch = channel;
      }
      std::string happened =
          up ? read_loop(ch) : (why ? why->message : std::string("stopped while starting"));
      const std::string reason = teardown(happened);
      if (first && !up) return;
      first = false;
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
        ++restarts_total;
      }
      Json::Value f = fields();
      f["reason"] = reason;
      if (!within_budget()) {
        const std::string message =
            "the plugin runner failed " + std::to_string(settings.restart_budget + 1) +
            " times in " + std::to_string(settings.restart_window.count()) + " s; last: " + reason;
        f["error"] = message;
        log.error("plugin failed: its runner keeps crashing; re-enable it to try again", f);
        std::unique_lock lock(mutex);
        failed = message;
        changed.wait(lock, [&] { return stopping || failed.empty(); });
        if (stopping) return;
        backoff_step = 0;
        continue;
      }
      log.error(
          "plugin runner crashed; calls in flight answered by the failure policy; "
          "restarting",
          f);
      const auto backoff =
          std::chrono::milliseconds(std::min(100 << std::min(backoff_step, 6), 5000));
      ++backoff_step;
      std::unique_lock lock(mutex);
      if (changed.wait_for(lock, backoff, [&] { return stopping; })) return;
    }
  }
};

ProcessRunner::ProcessRunner(const Manifest& manifest, fs::path library, std::string config_json,
                             const psa_host_api* host_api, HookPool& pool, Logger& log,
                             RunnerSettings settings)
    : impl_(std::make_shared<Impl>(manifest, std::move(library), std::move(config_json), host_api,
                                   pool, log, std::move(settings))) {
  impl_->supervisor = std::thread([impl = impl_.get()] { impl->supervise(); });
  std::optional<StartFailure> failure;
  {
    std::unique_lock lock(impl_->mutex);
    impl_->changed.wait(lock, [&] { return impl_->first_reported; });
    failure = impl_->first_failure;
  }
  if (failure) {
    impl_->supervisor.join();
    throw LoadError(failure->field, failure->message);
  }
  Json::Value f = impl_->fields();
  f["pid"] = pid();
  log.info("plugin runner started", f);
}

ProcessRunner::~ProcessRunner() {
  std::shared_ptr<runner::Channel> ch;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    impl_->changed.notify_all();
    ch = impl_->channel;
  }
  if (ch) {
    impl_->send(ch, Frame{FrameType::shutdown, 0, 0, "", ""},
                Clock::now() + std::chrono::milliseconds(200));
    std::unique_lock lock(impl_->mutex);
    impl_->changed.wait_for(lock, std::chrono::seconds(1), [&] { return impl_->channel != ch; });
  }
  impl_->kill_runner(ch, "the host is stopping");
  if (impl_->supervisor.joinable()) impl_->supervisor.join();
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait(lock, [&] { return impl_->host_calls_running == 0; });
}

void ProcessRunner::call_async(const std::string& hook, const std::string& request_json,
                               Clock::time_point deadline, std::function<void(HookResult)> answer) {
  auto& impl = *impl_;
  const auto started = Clock::now();
  auto pending = std::make_shared<Pending>();
  pending->answer = std::move(answer);
  std::shared_ptr<runner::Channel> ch;
  uint64_t id = 0;
  std::string refused;
  {
    std::lock_guard lock(impl.mutex);
    if (!impl.failed.empty()) {
      refused = "plugin " + impl.manifest.id + " has failed: " + impl.failed;
    } else if (!impl.running) {
      refused = "the plugin runner is restarting";
    } else {
      id = impl.next_id++;
      impl.pending.emplace(id, pending);
      ch = impl.channel;
    }
  }
  if (!refused.empty()) {
    auto to = std::move(pending->answer);
    to(failed_result(refused));
    return;
  }
  // Set before the frame goes out, so that an answer always finds its timer to cancel; under
  // the lock, since a runner that crashes meanwhile answers the call from another thread.
  const auto timer =
      impl.pool.at(deadline, [weak = std::weak_ptr<Impl>(impl_), id, ch, hook, started] {
        if (auto self = weak.lock()) self->expire(id, ch, hook, started);
      });
  bool answered_already = false;
  {
    std::lock_guard lock(impl.mutex);
    if (const auto it = impl.pending.find(id); it != impl.pending.end()) {
      it->second->timer = timer;
    } else {
      answered_already = true;
    }
  }
  if (answered_already) {
    impl.pool.cancel(timer);
    return;
  }
  if (!impl.send(ch, Frame{FrameType::call, id, 0, hook, request_json}, deadline)) {
    impl.kill_runner(ch, "did not read its channel in time");
    if (auto p = impl.take(id)) {
      impl.answer(*p, failed_result(hook + " could not be sent to the plugin runner in time"));
    }
  }
}

HookResult ProcessRunner::call(const std::string& hook, const std::string& request_json,
                               Clock::time_point deadline) {
  struct Wait {
    std::mutex mutex;
    std::condition_variable answered;
    std::optional<HookResult> result;
  };
  auto wait = std::make_shared<Wait>();
  call_async(hook, request_json, deadline, [wait](HookResult r) {
    {
      std::lock_guard lock(wait->mutex);
      wait->result = std::move(r);
    }
    wait->answered.notify_one();
  });
  // The deadline's timer answers a call the runner does not; the wait needs no deadline of its
  // own.
  std::unique_lock lock(wait->mutex);
  wait->answered.wait(lock, [&] { return wait->result.has_value(); });
  return std::move(*wait->result);
}

std::string ProcessRunner::failure() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->failed;
}

void ProcessRunner::reset() {
  std::lock_guard lock(impl_->mutex);
  impl_->failed.clear();
  impl_->restarts_at.clear();
  impl_->changed.notify_all();
}

int ProcessRunner::restarts() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->restarts_total;
}

int ProcessRunner::pid() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->pid;
}

}  // namespace psahost::plugins
