#include "net/prepared_request.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <charconv>

namespace psahost::net {
namespace {

namespace urls = boost::urls;

// RFC 9110 5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// True if the comma-separated list of tokens holds `token` (Connection: keep-alive, close).
bool has_list_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool method_has_content(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// Fills host, host_is_ip and port from the URL's authority; returns why not, or "".
std::string take_authority(const urls::url_view& url, PreparedRequest& out) {
  switch (url.host_type()) {
    case urls::host_type::ipv4:
      out.host = url.host_ipv4_address().to_string();
      out.host_is_ip = true;
      break;
    case urls::host_type::ipv6:
      out.host = url.host_ipv6_address().to_string();
      out.host_is_ip = true;
      break;
    case urls::host_type::name: {
      // Only what a DNS name can hold: a percent-encoded or otherwise exotic reg-name would be
      // resolved, sent as SNI and checked against the certificate in ways nobody can predict.
      const std::string_view name = url.encoded_host_name();
      const bool dns_chars = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
      });
      if (name.empty()) return "the URL has no host";
      if (!dns_chars) return "the URL's host is not a DNS name or IP address";
      out.host = lower(name);
      if (out.host.back() == '.') out.host.pop_back();  // an absolute name; SNI has no dot
      if (out.host.empty() || out.host.front() == '.' || out.host.find("..") != std::string::npos) {
        return "the URL's host is not a DNS name or IP address";
      }
      out.host_is_ip = false;
      break;
    }
    default:
      return "the URL's host is not a DNS name or IP address";
  }
  out.port = 443;
  if (url.has_port() && !url.port().empty()) {
    const std::string_view digits = url.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535) {
      return "the URL's port is not a number from 1 to 65535";
    }
    out.port = static_cast<uint16_t>(value);
  }
  return {};
}

}  // namespace

// Field values may hold visible characters, spaces, tabs and obs-text; any other control
// character (CR and LF above all, and NUL) could end the field early or split the request.
bool is_field_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

std::string prepare_request(const OutboundRequest& request, std::string_view user_agent,
                            PreparedRequest& out) {
  out = PreparedRequest{};
  if (!is_token(request.method)) return "the method is not an HTTP token";
  if (request.method == "CONNECT") return "CONNECT is not supported";
  out.method = request.method;

  // The URL itself is never quoted back: its query may carry a key.
  const auto parsed = urls::parse_uri(request.url);
  if (!parsed) return "the URL is malformed (" + parsed.error().message() + ")";
  const urls::url_view& url = *parsed;
  if (url.scheme_id() != urls::scheme::https) return "only https:// URLs are allowed";
  if (!url.has_authority()) return "the URL has no host";
  if (url.has_userinfo()) return "the URL carries user information; send credentials in a header";
  if (auto why = take_authority(url, out); !why.empty()) return why;

  std::string host_field =
      out.host_is_ip && out.host.find(':') != std::string::npos ? "[" + out.host + "]" : out.host;
  if (out.port != 443) host_field += ":" + std::to_string(out.port);
  out.origin = "https://" + host_field;

  bool has_host = false, has_user_agent = false, has_length = false;
  for (std::size_t i = 0; i < request.headers.size(); ++i) {
    const auto& [name, value] = request.headers[i];
    // A field's value is never quoted back either: it may be a credential or a signature.
    if (!is_token(name)) {
      return "the name of header field #" + std::to_string(i + 1) + " is not an HTTP token";
    }
    if (!is_field_value(value)) {
      return "the value of header field " + name + " holds a control character (CR, LF, NUL)";
    }
    if (iequals(name, "transfer-encoding") || iequals(name, "upgrade")) {
      return "header field " + name + " is not allowed: the client frames the message itself";
    }
    if (iequals(name, "host")) {
      if (has_host) return "header field Host is given twice";
      has_host = true;
    } else if (iequals(name, "content-length")) {
      if (has_length) return "header field Content-Length is given twice";
      has_length = true;
      if (value != std::to_string(request.body.size())) {
        return "header field Content-Length does not match the body";
      }
    } else if (iequals(name, "user-agent")) {
      has_user_agent = true;
    } else if (iequals(name, "connection")) {
      if (has_list_token(value, "close")) out.connection_close = true;
    }
  }

  std::string target(url.encoded_path());
  if (target.empty()) target = "/";
  if (url.has_query()) {
    target += '?';
    target += url.encoded_query();
  }

  std::string& head = out.head;
  head.reserve(256);
  head += request.method;
  head += ' ';
  head += target;
  head += " HTTP/1.1\r\n";
  if (!has_host) head += "Host: " + host_field + "\r\n";
  if (!has_user_agent) {
    head += "User-Agent: ";
    head += user_agent;
    head += "\r\n";
  }
  for (const auto& [name, value] : request.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  if (!has_length && (!request.body.empty() || method_has_content(request.method))) {
    head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  head += "\r\n";
  return {};
}

}  // namespace psahost::net
