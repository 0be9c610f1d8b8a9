// A test plugin that reviews every admission operation the way its configured "mode" says: it
// allows ("ok"), or segfaults, aborts, exits, hangs, allocates far past any limit, writes garbage
// to its runner's channel (an oversized length, an answer to a request never sent, or half a
// frame and then nothing), or refuses to start. Loaded process-isolated (or in-process, for the
// hook pool's deadline) by the isolation tests.
#include <psa/sdk.hpp>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// A runner's result frame, laid out as the channel has it: length, type 5, id, code, |a|, |b|, a.
std::string result_frame(uint64_t id, const std::string& answer) {
  std::string out;
  const auto put = [&out](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  put(1 + 8 + 4 + 4 + 4 + answer.size(), 4);
  put(5, 1);
  put(id, 8);
  put(0, 4);
  put(answer.size(), 4);
  put(0, 4);
  return out + answer;
}

class Misbehaving final : public psa::Plugin {
 public:
  void init(const psa::Host&, const Json::Value& config) override {
    mode_ = config["mode"].asString();
    if (mode_ == "fail_init") throw std::runtime_error("misbehaving refuses to start, as told");
  }

  Json::Value handle(std::string_view hook, const Json::Value&) override {
    if (hook != "admission.review") throw psa::HookError(PSA_NOT_FOUND, "no such hook");
    if (mode_ == "segfault") {
      std::raise(SIGSEGV);
    } else if (mode_ == "abort") {
      std::abort();
    } else if (mode_ == "exit") {
      std::_Exit(7);
    } else if (mode_ == "hang") {
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    } else if (mode_ == "allocate") {
      // 2 GiB, touched, per call: what a leaking plugin does to whoever hosts it.
      std::vector<char> block(std::size_t{2} << 30);
      std::memset(block.data(), 1, block.size());
      return psa::admission::deny("allocated", std::to_string(block[block.size() - 1]));
    } else if (mode_ == "garbage") {
      // A length prefix far over any frame limit, on the runner's channel (descriptor 3).
      const unsigned char junk[] = {0xff, 0xff, 0xff, 0x7f, 'j', 'u', 'n', 'k'};
      if (::write(3, junk, sizeof junk) < 0) return psa::admission::deny("garbage", "no write");
      std::this_thread::sleep_for(std::chrono::seconds(5));
    } else if (mode_ == "wrong_id") {
      // A well-formed result frame for a request id the host never sent.
      const auto frame = result_frame(987654321, R"({"allowed":false,"reason":"not yours"})");
      if (::write(3, frame.data(), frame.size()) < 0) return psa::admission::deny("wrong_id", "");
      std::this_thread::sleep_for(std::chrono::seconds(5));
    } else if (mode_ == "partial") {
      // The first part of a frame, and then silence for good.
      const auto frame = result_frame(1, R"({"allowed":true})");
      if (::write(3, frame.data(), 12) < 0) return psa::admission::deny("partial", "");
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    return psa::admission::allow();
  }

 private:
  std::string mode_;
};

}  // namespace

PSA_PLUGIN(Misbehaving, R"({"id":"misbehaving","version":"0.1.0","hooks":["admission.review"]})")
