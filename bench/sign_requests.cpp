// Writes N distinct Standard Webhooks deliveries of one body for wrk (bench/ingest.lua): one
// "webhook-id webhook-signature" line each, all with the given timestamp. Distinct ids make
// every request a new inbox entry, as real traffic is; one id repeated would measure only the
// duplicate check.
// Usage: psahost_bench_sign SECRET TIMESTAMP N BODY_FILE > lines
#include "webhooks/signature.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s SECRET TIMESTAMP N BODY_FILE\n", argv[0]);
    return 2;
  }
  const auto key = psahost::webhooks::standard_webhooks_key(argv[1]);
  if (!key) {
    std::fprintf(stderr, "not a whsec_ secret\n");
    return 2;
  }
  const std::string timestamp = argv[2];
  const long n = std::strtol(argv[3], nullptr, 10);
  std::ifstream in(argv[4], std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  std::string out;
  for (long i = 0; i < n; ++i) {
    const std::string id = "msg_bench_" + std::to_string(i);
    out += id;
    out += ' ';
    out += psahost::webhooks::standard_webhooks_signature(*key, id, timestamp, body.str());
    out += '\n';
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
