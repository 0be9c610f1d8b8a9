// The outbound address policy: every spelling of an internal address is refused, public ones
// pass, and an operator's range lets exactly that range through.
#include "net/address_policy.hpp"

#include <catch2/catch.hpp>

using psahost::net::AddressPolicy;
using psahost::net::Cidr;
using psahost::net::IpAddress;

TEST_CASE("internal addresses are refused in every spelling a resolver accepts", "[net][ssrf]") {
  const AddressPolicy policy;
  for (const char* host : {"127.0.0.1",
                           "127.1",
                           "0x7f000001",
                           "2130706433",
                           "0177.0.0.1",
                           "0x7f.1",
                           "127.255.255.254",
                           "localhost",
                           "LOCALHOST.",
                           "api.localhost",
                           "[::1]",
                           "::1",
                           "[::ffff:127.0.0.1]",
                           "[::ffff:7f00:1]",
                           "[::127.0.0.1]",
                           "[0:0:0:0:0:0:0:1]",
                           "0.0.0.0",
                           "0",
                           "[::]",
                           "10.0.0.1",
                           "172.16.5.4",
                           "172.31.255.255",
                           "192.168.1.1",
                           "169.254.169.254",
                           "100.64.0.1",
                           "100.127.255.255",
                           "[fd00::1]",
                           "[fc12::1]",
                           "[fe80::1]",
                           "[fe80::1%25eth0]",
                           "224.0.0.1",
                           "239.255.255.250",
                           "255.255.255.255",
                           "[ff02::1]",
                           "[64:ff9b::7f00:1]",
                           "[2002:7f00:1::]",
                           "[::ffff:10.0.0.1]",
                           "[::ffff:8.8.8.8]"}) {
    INFO(host);
    const auto refused = policy.refusal_for_host(host);
    REQUIRE(refused);
    CHECK(refused->find("--allow-outbound-network") != std::string::npos);
  }
}

TEST_CASE("public addresses and ordinary names pass the policy", "[net][ssrf]") {
  const AddressPolicy policy;
  for (const char* host :
       {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1", "[2606:4700:4700::1111]",
        "example.com", "hooks.partner.example", "localhost.example.com", "deadbeef.example"}) {
    INFO(host);
    CHECK_FALSE(policy.refusal_for_host(host));
  }
}

TEST_CASE("odd IPv4 spellings parse to the address a resolver would connect to", "[net][ssrf]") {
  CHECK(IpAddress::parse("127.1")->to_string() == "127.0.0.1");
  CHECK(IpAddress::parse("0x7f000001")->to_string() == "127.0.0.1");
  CHECK(IpAddress::parse("2130706433")->to_string() == "127.0.0.1");
  CHECK(IpAddress::parse("0177.0.0.1")->to_string() == "127.0.0.1");
  CHECK(IpAddress::parse("[::ffff:127.0.0.1]")->to_string() == "::ffff:127.0.0.1");
  CHECK_FALSE(IpAddress::parse("example.com"));
  CHECK_FALSE(IpAddress::parse("deadbeef"));
  CHECK_FALSE(IpAddress::parse("1.2.3.4.5"));
}

TEST_CASE("an operator's ranges allow exactly those ranges", "[net][ssrf]") {
  const auto policy = AddressPolicy::parse_allowed("127.0.0.0/8, 10.20.0.0/16,fd00::/8");
  CHECK_FALSE(policy.refusal_for_host("127.0.0.1"));
  CHECK_FALSE(policy.refusal_for_host("localhost"));
  CHECK_FALSE(policy.refusal_for_host("[::ffff:127.0.0.1]"));
  CHECK_FALSE(policy.refusal_for_host("10.20.3.4"));
  CHECK(policy.refusal_for_host("10.21.3.4"));
  CHECK_FALSE(policy.refusal_for_host("[fd12::1]"));
  CHECK(policy.refusal_for_host("[::1]"));
  CHECK(policy.refusal_for_host("192.168.1.1"));
  CHECK(AddressPolicy::parse_allowed("").refusal_for_host("127.0.0.1"));
  CHECK(AddressPolicy::parse_allowed("none").refusal_for_host("127.0.0.1"));
}

TEST_CASE("a malformed range is refused naming the entry and the setting", "[net][ssrf]") {
  for (const char* bad : {"10.0.0.0/33", "10.1/16", "example.com", "::1/129", "10.0.0.0/", "/8"}) {
    INFO(bad);
    CHECK_FALSE(Cidr::parse(bad));
    try {
      AddressPolicy::parse_allowed(std::string("127.0.0.0/8,") + bad);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find(bad) != std::string::npos);
      CHECK(std::string(e.what()).find("--allow-outbound-network") != std::string::npos);
    }
  }
}
