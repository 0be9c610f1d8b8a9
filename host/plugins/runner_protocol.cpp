#include "plugins/runner_protocol.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace psahost::plugins::runner {

namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
uint64_t get(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

constexpr std::size_t kFixed = 1 + 8 + 4 + 4 + 4;  // type, id, code, |a|, |b|

int remaining_ms(std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (!deadline) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      *deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

std::string encode(const Frame& frame) {
  std::string out;
  out.reserve(4 + kFixed + frame.a.size() + frame.b.size());
  put_u32(out, static_cast<uint32_t>(kFixed + frame.a.size() + frame.b.size()));
  out += static_cast<char>(frame.type);
  put_u64(out, frame.id);
  put_u32(out, static_cast<uint32_t>(frame.code));
  put_u32(out, static_cast<uint32_t>(frame.a.size()));
  put_u32(out, static_cast<uint32_t>(frame.b.size()));
  out += frame.a;
  out += frame.b;
  return out;
}

Channel::ReadStatus Channel::fill(std::size_t want,
                                  std::optional<std::chrono::steady_clock::time_point> deadline) {
  while (buffer_.size() - start_ < want) {
    if (start_ > 0 && start_ == buffer_.size()) {
      buffer_.clear();
      start_ = 0;
    }
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return buffer_.size() == start_ ? ReadStatus::closed : ReadStatus::error;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      const int wait = remaining_ms(deadline);
      if (wait == 0) return ReadStatus::timeout;
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, wait);
      if (r < 0 && errno != EINTR) return ReadStatus::error;
      if (r == 0) return ReadStatus::timeout;
      continue;
    }
    return ReadStatus::error;
  }
  return ReadStatus::frame;
}

Channel::ReadStatus Channel::read(Frame& out, std::string& why,
                                  std::optional<std::chrono::steady_clock::time_point> deadline,
                                  std::optional<std::chrono::milliseconds> stall_limit) {
  if (auto s = fill(1, deadline); s != ReadStatus::frame) return s;
  // From the frame's first byte on, the rest must follow within stall_limit.
  auto rest_deadline = deadline;
  bool stall_decides = false;
  if (stall_limit) {
    const auto stall_at = std::chrono::steady_clock::now() + *stall_limit;
    if (!deadline || stall_at < *deadline) {
      rest_deadline = stall_at;
      stall_decides = true;
    }
  }
  const auto unfinished = [&](ReadStatus s, std::size_t want) {
    const std::size_t have = buffer_.size() - start_;
    const std::string part = std::to_string(have) + " of " +
                             (want > 4 ? std::to_string(want) : std::string("at least 4")) +
                             " bytes";
    if (s == ReadStatus::timeout && stall_decides) {
      why = "part of a frame (" + part + ") and then nothing for " +
            std::to_string(stall_limit->count()) + " ms";
      return ReadStatus::garbage;
    }
    if (s == ReadStatus::closed || s == ReadStatus::error) {
      why = "part of a frame (" + part + ") and then closed the channel";
      return ReadStatus::error;
    }
    return s;
  };
  if (auto s = fill(4, rest_deadline); s != ReadStatus::frame) return unfinished(s, 4);
  const auto length = static_cast<uint32_t>(get(buffer_.data() + start_, 4));
  if (length > kMaxFrameBytes) {
    why = "a frame of " + std::to_string(length) + " bytes, over the limit of " +
          std::to_string(kMaxFrameBytes);
    return ReadStatus::garbage;
  }
  if (length < kFixed) {
    why = "a frame of " + std::to_string(length) + " bytes, too short for its header";
    return ReadStatus::garbage;
  }
  if (auto s = fill(4 + length, rest_deadline); s != ReadStatus::frame) {
    return unfinished(s, 4 + length);
  }
  const char* p = buffer_.data() + start_ + 4;
  const auto type = static_cast<uint8_t>(p[0]);
  const auto a_len = get(p + 13, 4);
  const auto b_len = get(p + 17, 4);
  if (type < 1 || type > 8 || a_len + b_len != length - kFixed) {
    why = "a malformed frame (type " + std::to_string(type) + ")";
    return ReadStatus::garbage;
  }
  out.type = static_cast<FrameType>(type);
  out.id = get(p + 1, 8);
  out.code = static_cast<int32_t>(static_cast<uint32_t>(get(p + 9, 4)));
  out.a.assign(p + kFixed, a_len);
  out.b.assign(p + kFixed + a_len, b_len);
  start_ += 4 + length;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return ReadStatus::frame;
}

Channel::~Channel() {
  if (fd_ >= 0) ::close(fd_);
}

bool Channel::write(const std::string& bytes,
                    std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int wait = remaining_ms(deadline);
      if (wait == 0) return false;
      pollfd p{fd_, POLLOUT, 0};
      const int r = ::poll(&p, 1, wait);
      if (r < 0 && errno != EINTR) return false;
      if (r == 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace psahost::plugins::runner
