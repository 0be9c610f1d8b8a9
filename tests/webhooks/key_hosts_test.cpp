// Where a ConnectWise signing key may be fetched from: the connection's site and its region's
// ConnectWise hosts (sandbox included), or exactly the hosts its settings name; never elsewhere.
#include "webhooks/key_hosts.hpp"

#include <psa/sdk.hpp>

#include <catch2/catch.hpp>

using psahost::webhooks::Connection;
using psahost::webhooks::key_origins;
using psahost::webhooks::key_url_allowed;

namespace {

Connection connection(const std::string& base_url, const std::string& settings = "{}") {
  Connection c;
  c.name = "cw";
  c.connector = "connectwise";
  c.base_url = base_url;
  c.settings = psa::json::parse(settings);
  return c;
}

}  // namespace

// The shape of a real sandbox callback: the connection is configured with the API host, the
// records link to na.myconnectwise.net, and Metadata.key_url is on sandbox-na.
TEST_CASE("a key_url on the region's sandbox host is allowed for a connection on the API host",
          "[webhooks][connectwise]") {
  const Connection c = connection("https://api-na.myconnectwise.net/v4_6_release/apis/3.0");
  CHECK(key_url_allowed(
      "https://sandbox-na.myconnectwise.net/v4_6_release/apis/3.0/system/callbackentry/key/11", c));
  CHECK(key_url_allowed("https://na.myconnectwise.net/v4_6_release/apis/3.0/key/11", c));
  CHECK(key_url_allowed("https://API-NA.myconnectwise.net/v4_6_release/apis/3.0/key/11", c));
  CHECK(key_origins(c) == std::vector<std::string>{"https://api-na.myconnectwise.net",
                                                   "https://na.myconnectwise.net",
                                                   "https://sandbox-na.myconnectwise.net"});
}

TEST_CASE("a key_url off the region, off the vendor or not https is refused",
          "[webhooks][connectwise]") {
  const Connection c = connection("https://sandbox-na.myconnectwise.net/v4_6_release/apis/3.0");
  for (const std::string url : {
           "https://eu.myconnectwise.net/v4_6_release/apis/3.0/key/1",  // another region
           "http://na.myconnectwise.net/v4_6_release/apis/3.0/key/1",   // not TLS
           "https://na.myconnectwise.net:8443/key/1",                   // another port
           "https://na.myconnectwise.net.attacker.example/key/1",       // a lookalike
           "https://attacker.example/na.myconnectwise.net/key/1",       // elsewhere
           "https://user@na.myconnectwise.net/key/1",                   // userinfo
           "https://evil-na.myconnectwise.net/key/1",                   // not a vendor host
           "https://127.0.0.1/key/1",                                   // loopback
           "",
       }) {
    INFO(url);
    CHECK_FALSE(key_url_allowed(url, c));
  }
}

TEST_CASE("a connection off ConnectWise's cloud allows its own origin only",
          "[webhooks][connectwise]") {
  const Connection c = connection("https://psa.partner.example:8443/v4_6_release/apis/3.0");
  CHECK(key_url_allowed("https://psa.partner.example:8443/v4_6_release/key/1", c));
  CHECK_FALSE(key_url_allowed("https://psa.partner.example/v4_6_release/key/1", c));
  CHECK_FALSE(key_url_allowed("https://na.myconnectwise.net/v4_6_release/key/1", c));
  CHECK(key_origins(connection("")).empty());
}

TEST_CASE("settings.key_hosts names exactly the hosts allowed besides the connection's own",
          "[webhooks][connectwise]") {
  // The partner leaves the sandbox out.
  const Connection narrow = connection("https://api-eu.myconnectwise.net/v4_6_release/apis/3.0",
                                       R"({"key_hosts":["eu.myconnectwise.net"]})");
  CHECK(key_url_allowed("https://eu.myconnectwise.net/key/1", narrow));
  CHECK(key_url_allowed("https://api-eu.myconnectwise.net/key/1", narrow));
  CHECK_FALSE(key_url_allowed("https://sandbox-eu.myconnectwise.net/key/1", narrow));
  // Entries that would widen the match are ignored, never read as patterns.
  const Connection odd =
      connection("https://na.myconnectwise.net",
                 R"({"key_hosts":["*.myconnectwise.net","https://x.example","a.example/x",
          "b.example:44300",7,"localhost:1"]})");
  CHECK(key_origins(odd) == std::vector<std::string>{"https://na.myconnectwise.net",
                                                     "https://b.example:44300",
                                                     "https://localhost:1"});
  CHECK_FALSE(key_url_allowed("https://x.myconnectwise.net/key", odd));
  CHECK(key_url_allowed("https://b.example:44300/key", odd));
}
