// Which addresses outbound connections may reach: loopback, private, link-local, CGNAT, ULA,
// multicast, unspecified and IPv4-in-IPv6 forms are refused unless the operator allows a range.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psahost::net {

// An IPv4 or IPv6 address; IPv4 keeps its four bytes in the first four.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;

  static IpAddress from_v4(uint32_t host_order);
  static IpAddress from_v6(const std::array<uint8_t, 16>& bytes);
  // A host as written in a URL: dotted quads and every spelling inet_aton takes (127.1,
  // 0x7f000001, 2130706433, 0177.0.0.1), and IPv6 with or without brackets. nullopt for a name.
  static std::optional<IpAddress> parse(std::string_view host);
  std::string to_string() const;
};

struct Cidr {
  IpAddress base;
  int prefix = 0;
  // "10.0.0.0/8", "::1/128", or an address alone (one address); nullopt when malformed.
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& address) const;
};

class AddressPolicy {
 public:
  AddressPolicy() = default;  // refuses every special range, allows nothing extra
  explicit AddressPolicy(std::vector<Cidr> allowed) : allowed_(std::move(allowed)) {}
  // "CIDR,CIDR,..." as --allow-outbound-network takes it ("none" or "" for no range); throws
  // std::invalid_argument naming the entry that is not a CIDR.
  static AddressPolicy parse_allowed(std::string_view list);

  // Why an outbound connection to address is refused, or nullopt when it is allowed.
  std::optional<std::string> refusal(const IpAddress& address) const;
  // The same for the host of a URL at registration: an IP literal in any spelling, or a name
  // that always means this machine (localhost). Other names are checked when resolved.
  std::optional<std::string> refusal_for_host(std::string_view host) const;

 private:
  bool allowed(const IpAddress& address) const;
  std::vector<Cidr> allowed_;
};

// The name of the special range address lies in ("loopback", "private (RFC 1918)", ...), or
// nullopt for an ordinary public address.
std::optional<std::string> special_range(const IpAddress& address);

// The setting that allows refused ranges, named in every refusal.
inline constexpr const char* kAllowOutboundSetting = "--allow-outbound-network";

}  // namespace psahost::net
