// Log lines are limited per cause: a flood of one message writes a bounded number of lines and
// the next one written says how many were left out; other messages are not held back by it.
#include "core/log.hpp"

#include <catch2/catch.hpp>

#include <json/reader.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using psahost::Logger;
using psahost::LogLevel;

namespace {

std::vector<Json::Value> lines_of(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::vector<Json::Value> out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f)) {
    Json::Value v;
    std::istringstream in(buf);
    Json::CharReaderBuilder rb;
    std::string errors;
    REQUIRE(Json::parseFromStream(rb, in, &v, &errors));
    out.push_back(v);
  }
  return out;
}

}  // namespace

TEST_CASE("a flood of one log message is cut to a few lines a second with a suppressed count",
          "[log]") {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::tmpfile(), &std::fclose);
  REQUIRE(file);
  Logger log(LogLevel::info, file.get(), 5);
  for (int i = 0; i < 1000; ++i) log.error("disk full: commit refused");
  log.warn("another cause");
  auto lines = lines_of(file.get());
  // The flood finished within one second on any machine this runs on, or spilled into a second
  // window: either way far fewer than 1000 lines.
  REQUIRE(lines.size() <= 11);
  REQUIRE(lines.size() >= 6);
  CHECK(lines.back()["msg"].asString() == "another cause");

  // Once its second has passed, the next line of the flooded cause carries the count.
  int calls = 1000;
  uint64_t written = 0, suppressed = 0;
  for (int tries = 0; tries < 200 && suppressed == 0; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log.error("disk full: commit refused");
    ++calls;
    written = 0;
    suppressed = 0;
    for (const auto& l : lines_of(file.get())) {
      if (l["msg"].asString() != "disk full: commit refused") continue;
      ++written;
      suppressed += l.get("suppressed", 0).asUInt64();
    }
  }
  CHECK(suppressed > 0);
  // Every call is either a line or counted in one (the last window's may still be pending).
  CHECK(written + suppressed <= static_cast<uint64_t>(calls));
  CHECK(written < 30);
}
