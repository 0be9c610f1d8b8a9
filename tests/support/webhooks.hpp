// Webhooks in tests: Standard Webhooks headers signed by the host's code or, independently, by
// the npm reference package `standardwebhooks`; connections made with the real CLI.
#pragma once

#include "support/receiver.hpp"

#include <json/value.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace psahost::test {

// The Standard Webhooks specification's example secret; any whsec_ secret would do.
inline constexpr const char* kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

int64_t unix_now();

// A JSON document a test received (a request body); throws on malformed JSON.
Json::Value json_of(const std::string& text);

// webhook-id/-timestamp/-signature for body, signed with psahost's own implementation.
std::map<std::string, std::string> standard_webhook_headers(const std::string& secret,
                                                            const std::string& id,
                                                            int64_t timestamp,
                                                            const std::string& body);

// The same headers, signed by the npm package standardwebhooks (an independent implementation).
std::map<std::string, std::string> npm_signed_headers(const std::string& secret,
                                                      const std::string& id, int64_t timestamp,
                                                      const std::string& body);

// Whether the npm package accepts what a receiver got (its webhook-* headers and raw body).
bool npm_verifies(const std::string& secret, const Received& request);

// `psahost connections add` on data_dir; throws with the CLI's output when it fails.
void add_connection(const std::filesystem::path& data_dir, const std::string& connector,
                    const std::string& name, const std::string& secret,
                    const std::vector<std::string>& extra = {},
                    const std::string& tenant = "default");

// Where the bundled and the test-only plugins are, as --plugins-dir arguments, with the test
// connectors named copied into their own folder under dir.
std::vector<std::string> plugin_args(const std::filesystem::path& dir,
                                     const std::vector<std::string>& test_plugins);

}  // namespace psahost::test
