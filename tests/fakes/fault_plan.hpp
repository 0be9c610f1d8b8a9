// What a fake external system does instead of its normal answer for the next requests that
// match: a status, garbage, no answer at all, each either instead of the work or after it (the
// work done and the answer lost on the way, the case that duplicates records).
#pragma once

#include "http/message.hpp"
#include "support/receiver.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace psahost::test {

struct Fault {
  std::string method;     // "" for any
  std::string path_part;  // a part of the request target that must be in it
  int times = 1;
  enum class Kind { status, garbage, no_answer } kind = Kind::status;
  int status = 500;
  std::string body = R"({"error":"injected"})";
  bool after_the_work = false;
  int skip = 0;  // matching requests let through before the fault starts

  // The answer this fault gives; nullopt for no answer.
  std::optional<http::Response> answer() const;
};

class FaultPlan {
 public:
  void add(Fault fault);
  // The fault for this request, if one is planned; each planned fault is used up after times.
  std::optional<Fault> take(const Received& request);
  void clear();

 private:
  std::mutex mutex_;
  std::vector<Fault> faults_;
};

}  // namespace psahost::test
