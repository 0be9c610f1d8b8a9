// The channel between the host and a plugin runner (`psahost plugin-runner`): length-prefixed
// frames over a socketpair, each a type, a request id, a code and two byte strings.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace psahost::plugins::runner {

// The descriptor the runner finds its channel on.
inline constexpr int kChannelFd = 3;
// No frame may be larger, either way; a bigger length prefix is garbage.
inline constexpr uint32_t kMaxFrameBytes = 8u << 20;

enum class FrameType : uint8_t {
  hello = 1,       // runner -> host: a = describe(), b = "MAJOR.MINOR" of the library's ABI
  init = 2,        // host -> runner: a = configuration JSON
  init_done = 3,   // runner -> host: code = init()'s rc, a = its last error
  call = 4,        // host -> runner: id, a = hook, b = request JSON
  result = 5,      // runner -> host: id, code = handle()'s rc, a = response JSON ("" = none)
  host_call = 6,   // runner -> host: id, code = HostCallKind, a, b (see below)
  host_reply = 7,  // host -> runner: id, code = rc, a = response or value
  shutdown = 8,    // host -> runner: destroy the plugin and exit
};

// host_call: log (code of level in id, a = message, no reply), call (a = method, b = request),
// kv_get (a = key), kv_put (a = key, b = value), kv_delete (a = key).
enum class HostCallKind : int32_t { log = 0, call = 1, kv_get = 2, kv_put = 3, kv_delete = 4 };

struct Frame {
  FrameType type{};
  uint64_t id = 0;
  int32_t code = 0;
  std::string a;
  std::string b;
};

std::string encode(const Frame& frame);

// Reads and writes whole frames on a non-blocking descriptor.
class Channel {
 public:
  explicit Channel(int fd) : fd_(fd) {}
  ~Channel();  // closes the descriptor
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  int fd() const { return fd_; }

  enum class ReadStatus { frame, closed, garbage, error, timeout };
  // Blocks until a whole frame arrived (or the peer closed, or sent a bad frame, or deadline
  // passed). Only one thread reads. why says what was wrong with a garbage frame, or that the
  // channel ended in the middle of one. With stall_limit, a frame begun but not finished within
  // it is garbage: a peer that sends part of a frame and then nothing is not waited for forever.
  ReadStatus read(Frame& out, std::string& why,
                  std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt,
                  std::optional<std::chrono::milliseconds> stall_limit = std::nullopt);
  // Writes one encoded frame, waiting at most until deadline for room; false when it could not
  // (the peer is gone or did not read in time). Callers serialise writes.
  bool write(const std::string& bytes,
             std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

 private:
  ReadStatus fill(std::size_t want, std::optional<std::chrono::steady_clock::time_point> deadline);
  int fd_;
  std::string buffer_;
  std::size_t start_ = 0;
};

}  // namespace psahost::plugins::runner
