#include "net/address_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace psahost::net {

namespace {

struct Range {
  std::string_view cidr;
  std::string_view name;
};

// IANA's special-purpose registries, the ranges a tenant's URL must never reach by default.
constexpr Range kV4Ranges[] = {
    {"0.0.0.0/8", "unspecified (this network)"},
    {"10.0.0.0/8", "private (RFC 1918)"},
    {"100.64.0.0/10", "shared address space (CGNAT)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},
    {"172.16.0.0/12", "private (RFC 1918)"},
    {"192.0.0.0/24", "IETF protocol assignments"},
    {"192.0.2.0/24", "documentation"},
    {"192.168.0.0/16", "private (RFC 1918)"},
    {"198.18.0.0/15", "benchmarking"},
    {"198.51.100.0/24", "documentation"},
    {"203.0.113.0/24", "documentation"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
};

constexpr Range kV6Ranges[] = {
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"::ffff:0:0/96", "IPv4-mapped"},
    {"::/96", "IPv4-compatible"},
    {"64:ff9b::/96", "NAT64 (IPv4-embedded)"},
    {"64:ff9b:1::/48", "NAT64 (IPv4-embedded)"},
    {"100::/64", "discard-only"},
    {"2001:db8::/32", "documentation"},
    {"2002::/16", "6to4 (IPv4-embedded)"},
    {"fc00::/7", "unique local (ULA)"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local"},
    {"ff00::/8", "multicast"},
};

const std::vector<std::pair<Cidr, std::string_view>>& table() {
  // Built once from constants and never changed: constant data, not mutable state.
  static const auto ranges = [] {
    std::vector<std::pair<Cidr, std::string_view>> out;
    for (const auto& r : kV4Ranges) out.emplace_back(*Cidr::parse(r.cidr), r.name);
    for (const auto& r : kV6Ranges) out.emplace_back(*Cidr::parse(r.cidr), r.name);
    return out;
  }();
  return ranges;
}

// The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address.
std::optional<IpAddress> embedded_v4(const IpAddress& a) {
  if (a.v4) return std::nullopt;
  const auto& b = a.bytes;
  const bool zero80 = std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; });
  const bool mapped = zero80 && b[10] == 0xff && b[11] == 0xff;
  const bool compatible = zero80 && b[10] == 0 && b[11] == 0;
  const bool nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
                     std::all_of(b.begin() + 4, b.begin() + 12, [](uint8_t x) { return x == 0; });
  if (!mapped && !compatible && !nat64) return std::nullopt;
  IpAddress v4;
  v4.v4 = true;
  std::copy(b.begin() + 12, b.end(), v4.bytes.begin());
  return v4;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

IpAddress IpAddress::from_v4(uint32_t host_order) {
  IpAddress a;
  a.v4 = true;
  for (int i = 0; i < 4; ++i) a.bytes[i] = static_cast<uint8_t>(host_order >> (24 - 8 * i));
  return a;
}

IpAddress IpAddress::from_v6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.bytes = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() > 64) return std::nullopt;
  const std::string text(host);
  if (text.find(':') != std::string::npos) {
    in6_addr a6{};
    // A zone id ("fe80::1%eth0") names an interface of this machine: never a public address.
    if (text.find('%') != std::string::npos) {
      IpAddress a;
      a.bytes[0] = 0xfe;
      a.bytes[1] = 0x80;
      return a;
    }
    if (inet_pton(AF_INET6, text.c_str(), &a6) != 1) return std::nullopt;
    std::array<uint8_t, 16> b{};
    std::copy(a6.s6_addr, a6.s6_addr + 16, b.begin());
    return from_v6(b);
  }
  // inet_aton takes the historic spellings (fewer parts, hex, octal) that resolvers accept too;
  // anything with a letter beyond hex digits is a name.
  const bool numeric = std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isxdigit(c) || c == '.' || c == 'x' || c == 'X';
  });
  if (!numeric || !std::isdigit(static_cast<unsigned char>(text.front()))) return std::nullopt;
  in_addr a4{};
  if (inet_aton(text.c_str(), &a4) == 0) return std::nullopt;
  return from_v4(ntohl(a4.s_addr));
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (v4) {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  }
  return buf;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  // Only dotted quads for ranges: an operator's "10.1/16" is more likely a typo than meant.
  if (address->v4 &&
      std::count(text.begin(), text.begin() + std::min(slash, text.size()), '.') != 3) {
    return std::nullopt;
  }
  const int max = address->v4 ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    prefix = std::stoi(std::string(digits));
    if (prefix > max) return std::nullopt;
  }
  return Cidr{*address, prefix};
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.v4 != base.v4) return false;
  int bits = prefix;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((address.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<std::string> special_range(const IpAddress& address) {
  for (const auto& [cidr, name] : table()) {
    if (cidr.contains(address)) return std::string(name);
  }
  return std::nullopt;
}

AddressPolicy AddressPolicy::parse_allowed(std::string_view list) {
  std::vector<Cidr> allowed;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    std::string_view entry = list.substr(start, comma - start);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (!entry.empty() && entry != "none") {
      const auto cidr = Cidr::parse(entry);
      if (!cidr) {
        throw std::invalid_argument(std::string(kAllowOutboundSetting) + ": '" +
                                    std::string(entry) +
                                    "' is not an address range (expected CIDR, e.g. "
                                    "10.20.0.0/16 or fd00::/8)");
      }
      allowed.push_back(*cidr);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return AddressPolicy(std::move(allowed));
}

bool AddressPolicy::allowed(const IpAddress& address) const {
  const auto inner = embedded_v4(address);
  return std::any_of(allowed_.begin(), allowed_.end(), [&](const Cidr& c) {
    return c.contains(address) || (inner && c.contains(*inner));
  });
}

std::optional<std::string> AddressPolicy::refusal(const IpAddress& address) const {
  auto range = special_range(address);
  if (!range) return std::nullopt;
  if (allowed(address)) return std::nullopt;
  return address.to_string() + " is a " + *range +
         " address, which outbound connections may not reach unless the operator allows it (" +
         kAllowOutboundSetting + " CIDR)";
}

std::optional<std::string> AddressPolicy::refusal_for_host(std::string_view host) const {
  if (const auto address = IpAddress::parse(host)) return refusal(*address);
  std::string name = lower(host);
  while (!name.empty() && name.back() == '.') name.pop_back();
  if (name == "localhost" || name.ends_with(".localhost") || name == "localhost.localdomain") {
    // Always this machine (RFC 6761); allowed only with the loopback range itself.
    const auto loopback = IpAddress::from_v4(0x7f000001);
    if (allowed(loopback)) return std::nullopt;
    return name +
           " is this machine (loopback), which outbound connections may not reach unless "
           "the operator allows it (" +
           std::string(kAllowOutboundSetting) + " 127.0.0.0/8)";
  }
  return std::nullopt;
}

}  // namespace psahost::net
