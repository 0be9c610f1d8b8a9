#include "webhooks/signature.hpp"

#include "core/crypto.hpp"

#include <array>
#include <charconv>
#include <cstdlib>

namespace psahost::webhooks {
namespace {

constexpr std::string_view kWhsec = "whsec_";

Verification result(Check check, std::string reason) {
  return {check, std::move(reason)};
}

// Some senders drop base64 padding; decoding needs it.
bool decode_base64(std::string_view text, std::string& out) {
  if (text.empty() || text.size() > 512) return false;
  std::string padded(text);
  while (padded.size() % 4 != 0) padded += '=';
  return crypto::base64_decode(padded, out);
}

// One presented MAC (base64) against the expected bytes.
bool matches(std::string_view presented_base64, const std::string& expected) {
  std::string presented;
  if (!decode_base64(presented_base64, presented)) return false;
  return crypto::constant_time_equal(presented, expected);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void append_u_escape(std::string& out, uint32_t unit) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xF];
}

// Decodes one UTF-8 sequence starting at s[i]; returns its length, 0 if it is not valid UTF-8.
std::size_t decode_utf8(std::string_view s, std::size_t i, uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  return n;
}

}  // namespace

std::optional<std::string> standard_webhooks_key(std::string_view secret) {
  if (!secret.starts_with(kWhsec)) return std::nullopt;
  std::string key;
  if (!crypto::base64_decode(secret.substr(kWhsec.size()), key)) return std::nullopt;
  if (key.size() < 24 || key.size() > 64) return std::nullopt;
  return key;
}

std::string new_standard_webhooks_secret() {
  return std::string(kWhsec) + crypto::base64_encode(crypto::random_bytes(32));
}

std::string standard_webhooks_signature(std::string_view key, std::string_view id,
                                        std::string_view timestamp, std::string_view body) {
  return "v1," + crypto::base64_encode(crypto::hmac_sha256(key, {id, ".", timestamp, ".", body}));
}

Verification verify_standard_webhooks(std::string_view key, std::string_view id,
                                      std::string_view timestamp, std::string_view signatures,
                                      std::string_view body, int64_t now,
                                      std::chrono::seconds window) {
  if (id.empty()) return result(Check::missing, "the webhook-id header is missing");
  if (timestamp.empty()) return result(Check::missing, "the webhook-timestamp header is missing");
  if (signatures.empty()) return result(Check::missing, "the webhook-signature header is missing");
  int64_t sent = 0;
  const auto [end, error] =
      std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), sent);
  if (error != std::errc() || end != timestamp.data() + timestamp.size() || timestamp.size() > 19 ||
      timestamp[0] == '-' || timestamp[0] == '+') {
    return result(Check::malformed, "webhook-timestamp is not a Unix time in seconds");
  }
  if (std::llabs(now - sent) > window.count()) {
    return result(Check::stale, "webhook-timestamp is more than " + std::to_string(window.count()) +
                                    " s from now");
  }
  const std::string expected = crypto::hmac_sha256(key, {id, ".", timestamp, ".", body});
  bool any_v1 = false;
  bool matched = false;
  std::string_view rest = signatures;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    const std::string_view entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    if (!entry.starts_with("v1,")) continue;  // other versions and decoys do not count
    any_v1 = true;
    // Every entry is checked, matched or not, so the time taken does not say which one matched.
    matched = matches(entry.substr(3), expected) || matched;
  }
  if (matched) return result(Check::ok, "");
  if (!any_v1) return result(Check::malformed, "webhook-signature holds no v1 signature");
  return result(Check::mismatch, "no v1 signature in webhook-signature matches");
}

Verification verify_mac_header(Mac mac, std::string_view key, std::string_view header_value,
                               std::string_view prefix, std::string_view body, bool escaped_body) {
  std::string_view presented = trim(header_value);
  if (presented.empty()) return result(Check::missing, "the signature header is missing");
  if (!prefix.empty()) {
    if (!presented.starts_with(prefix)) {
      return result(Check::malformed,
                    "the signature header does not start with " + std::string(prefix));
    }
    presented.remove_prefix(prefix.size());
  }
  const auto compute = [&](std::string_view data) {
    return mac == Mac::sha256 ? crypto::hmac_sha256(key, data) : crypto::hmac_sha1(key, data);
  };
  if (matches(presented, compute(body))) return result(Check::ok, "");
  if (escaped_body && matches(presented, compute(autotask_escaped(body)))) {
    return result(Check::ok, "");
  }
  return result(Check::mismatch, "the signature does not match the body");
}

Verification verify_connectwise(std::string_view signing_key, std::string_view header_value,
                                std::string_view body) {
  const std::string_view presented = trim(header_value);
  if (presented.empty()) return result(Check::missing, "the x-content-signature header is missing");
  const std::string expected = crypto::hmac_sha256(crypto::sha256(signing_key), body);
  if (matches(presented, expected)) return result(Check::ok, "");
  return result(Check::mismatch, "x-content-signature does not match the body");
}

std::string autotask_escaped(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 8);
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (!in_string) {
      out += c;
      if (c == '"') in_string = true;
      continue;
    }
    if (c == '\\' && i + 1 < body.size()) {
      if (body[i + 1] == '"') {
        append_u_escape(out, '"');
      } else {
        out += c;
        out += body[i + 1];
      }
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = false;
      out += c;
      continue;
    }
    if (c == '&' || c == '<' || c == '>' || c == '\'') {
      append_u_escape(out, static_cast<unsigned char>(c));
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x80) {
      out += c;
      continue;
    }
    uint32_t cp = 0;
    const std::size_t n = decode_utf8(body, i, cp);
    if (n == 0) {  // not UTF-8: leave the byte as it is
      out += c;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      append_u_escape(out, 0xD800 + (cp >> 10));
      append_u_escape(out, 0xDC00 + (cp & 0x3FF));
    } else {
      append_u_escape(out, cp);
    }
    i += n - 1;
  }
  return out;
}

}  // namespace psahost::webhooks
