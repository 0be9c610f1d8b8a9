// The header-only C++ layer over plugin_api.h: derive from psa::Plugin, export it with
// PSA_PLUGIN(Type, R"({"id":"my-plugin","version":"1.0.0","hooks":["admission.review"]})"),
// and exchange jsoncpp values instead of C strings.
#pragma once

#include <json/json.h>
#include <psa/plugin_api.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace psa {

// Thrown by Host::call when the host answers with an error; carries the C return code.
class HostError : public std::runtime_error {
 public:
  HostError(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int32_t code() const noexcept { return code_; }

 private:
  int32_t code_;
};

// Thrown by a hook to answer with a specific return code (an unknown hook, a bad request).
class HookError : public std::runtime_error {
 public:
  HookError(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int32_t code() const noexcept { return code_; }

 private:
  int32_t code_;
};

namespace json {

// A reader per thread: building one per call costs more than parsing a small document.
inline Json::CharReader& reader() {
  thread_local std::unique_ptr<Json::CharReader> reader = [] {
    Json::CharReaderBuilder builder;
    builder["collectComments"] = false;
    return std::unique_ptr<Json::CharReader>(builder.newCharReader());
  }();
  return *reader;
}

inline Json::Value parse(std::string_view text) {
  Json::Value value;
  std::string errors;
  if (!reader().parse(text.data(), text.data() + text.size(), &value, &errors)) {
    throw HookError(PSA_INVALID_ARGUMENT, "malformed JSON: " + errors);
  }
  return value;
}

namespace detail {

inline void write_string(std::string& out, const char* begin, const char* end) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char* p = begin; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
}

inline void write_value(std::string& out, const Json::Value& v) {
  switch (v.type()) {
    case Json::nullValue:
      out += "null";
      break;
    case Json::booleanValue:
      out += v.asBool() ? "true" : "false";
      break;
    case Json::intValue:
      out += std::to_string(v.asLargestInt());
      break;
    case Json::uintValue:
      out += std::to_string(v.asLargestUInt());
      break;
    case Json::realValue: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v.asDouble());
      out += buf;
      break;
    }
    case Json::stringValue: {
      const char* begin = nullptr;
      const char* end = nullptr;
      v.getString(&begin, &end);
      write_string(out, begin, end);
      break;
    }
    case Json::arrayValue: {
      out += '[';
      for (Json::ArrayIndex i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        write_value(out, v[i]);
      }
      out += ']';
      break;
    }
    case Json::objectValue: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        first = false;
        const char* end = nullptr;
        const char* begin = it.memberName(&end);
        write_string(out, begin, end);
        out += ':';
        write_value(out, *it);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace detail

// Compact JSON with UTF-8 kept as is; equivalent to jsoncpp's writer with indentation "" but
// without building a writer and a stream for every document.
inline std::string write(const Json::Value& value) {
  std::string out;
  out.reserve(256);
  detail::write_value(out, value);
  return out;
}

// Appends s to out as a JSON string literal (quoted and escaped), for writers that build a
// document directly.
inline void append_string(std::string& out, std::string_view s) {
  detail::write_string(out, s.data(), s.data() + s.size());
}

inline Json::Value error(const std::string& message) {
  Json::Value v;
  v["error"]["message"] = message;
  return v;
}

}  // namespace json

// Answers of the admission.review hook.
namespace admission {

inline Json::Value allow() {
  Json::Value v;
  v["allowed"] = true;
  return v;
}

// type: a stable slug ("billing-info-required"); reason: for people; prompt: the next action
// offered ({"action":"add_billing_info","client_id":...}) or null.
inline Json::Value deny(const std::string& type, const std::string& reason,
                        const Json::Value& prompt = Json::nullValue) {
  Json::Value v;
  v["allowed"] = false;
  v["type"] = type;
  v["reason"] = reason;
  if (!prompt.isNull()) v["prompt"] = prompt;
  return v;
}

}  // namespace admission

// The host, as a plugin sees it. Valid from init() until the plugin is destroyed.
class Host {
 public:
  // Throws HostError when the table is NULL or smaller than ABI 1.0's, which every host
  // compatible with this SDK provides.
  explicit Host(const psa_host_api* api) : api_(api) {
    constexpr std::size_t kV1Size = offsetof(psa_host_api, kv_delete) + sizeof(api->kv_delete);
    if (api_ == nullptr || api_->size < kV1Size) {
      throw HostError(PSA_INVALID_ARGUMENT,
                      "the host's API table is missing or older than this SDK's ABI 1.0");
    }
  }

  void log(int32_t level, const std::string& message) const {
    api_->log(api_->ctx, level, message.c_str());
  }
  void info(const std::string& message) const { log(PSA_LOG_INFO, message); }
  void warn(const std::string& message) const { log(PSA_LOG_WARN, message); }
  void error(const std::string& message) const { log(PSA_LOG_ERROR, message); }

  // Calls a host service; throws HostError when the host refuses or fails.
  Json::Value call(const std::string& method,
                   const Json::Value& request = Json::objectValue) const {
    char* raw = nullptr;
    const std::string body = json::write(request);
    const int32_t rc = api_->call(api_->ctx, method.c_str(), body.c_str(), &raw);
    const std::string text = raw ? raw : "";
    api_->free_string(api_->ctx, raw);
    Json::Value response = text.empty() ? Json::Value() : json::parse(text);
    if (rc != PSA_OK) {
      std::string message = response["error"]["message"].asString();
      throw HostError(rc, message.empty() ? "host call " + method + " failed" : message);
    }
    return response;
  }

  std::optional<std::string> kv_get(std::string_view key) const {
    char* value = nullptr;
    size_t len = 0;
    const int32_t rc = api_->kv_get(api_->ctx, key.data(), key.size(), &value, &len);
    if (rc == PSA_NOT_FOUND) return std::nullopt;
    if (rc != PSA_OK) throw HostError(rc, "kv_get failed");
    std::string out(value, len);
    api_->free_string(api_->ctx, value);
    return out;
  }

  void kv_put(std::string_view key, std::string_view value) const {
    const int32_t rc = api_->kv_put(api_->ctx, key.data(), key.size(), value.data(), value.size());
    if (rc != PSA_OK) throw HostError(rc, "kv_put failed");
  }

  void kv_delete(std::string_view key) const {
    const int32_t rc = api_->kv_delete(api_->ctx, key.data(), key.size());
    if (rc != PSA_OK) throw HostError(rc, "kv_delete failed");
  }

 private:
  const psa_host_api* api_;
};

// Base class of a plugin. One instance per loaded plugin; handle() may run concurrently on
// several threads, so keep shared state immutable or guarded.
class Plugin {
 public:
  virtual ~Plugin() = default;
  // Called once after construction; throw to refuse to start (the message reaches the host).
  virtual void init(const Host& /*host*/, const Json::Value& /*config*/) {}
  // Answers one hook; throw HookError(PSA_NOT_FOUND, ...) for a hook it does not handle.
  virtual Json::Value handle(std::string_view hook, const Json::Value& request) = 0;
};

namespace detail {

// What the C ABI's psa_plugin_state points at.
struct State {
  std::unique_ptr<Host> host;
  std::unique_ptr<Plugin> plugin;
  std::string last_error;  // written by init() only, so handle() may run while it is read
};

inline char* copy_out(const std::string& s, size_t* len) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (!out) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  if (len) *len = s.size();
  return out;
}

template <class P>
psa_plugin_state* init(const psa_host_api* host, const char* config_json, int32_t* rc) {
  State* state = nullptr;
  try {
    state = new State();
    state->host = std::make_unique<Host>(host);
    state->plugin = std::make_unique<P>();
    const Json::Value config = json::parse(config_json ? config_json : "{}");
    state->plugin->init(*state->host, config);
    *rc = PSA_OK;
  } catch (const std::exception& e) {
    *rc = PSA_ERROR;
    if (state) state->last_error = e.what();
  } catch (...) {
    *rc = PSA_ERROR;
    if (state) state->last_error = "unknown exception during init";
  }
  return reinterpret_cast<psa_plugin_state*>(state);
}

inline void destroy(psa_plugin_state* s) {
  delete reinterpret_cast<State*>(s);
}

inline const char* last_error(psa_plugin_state* s) {
  return s ? reinterpret_cast<State*>(s)->last_error.c_str() : "";
}

inline int32_t handle(psa_plugin_state* s, const char* hook, const char* request, size_t len,
                      char** response, size_t* response_len) {
  *response = nullptr;
  *response_len = 0;
  auto* state = reinterpret_cast<State*>(s);
  int32_t rc = PSA_ERROR;
  std::string message;
  try {
    const Json::Value in = json::parse(std::string_view(request ? request : "", len));
    const Json::Value out = state->plugin->handle(hook ? hook : "", in);
    *response = copy_out(json::write(out), response_len);
    return *response ? PSA_OK : PSA_ERROR;
  } catch (const HookError& e) {
    rc = e.code();
    message = e.what();
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
    message = "unknown exception";
  }
  *response = copy_out(json::write(json::error(message)), response_len);
  return rc;
}

inline void free_response(psa_plugin_state*, char* response) {
  std::free(response);
}

}  // namespace detail
}  // namespace psa

// Exports Type (derived from psa::Plugin) as this library's plugin. describe_json lists the
// hooks it handles, e.g. R"({"id":"billing-gate","version":"1.0.0","hooks":["admission.review"]})".
#define PSA_PLUGIN(Type, describe_json)                                       \
  extern "C" PSA_PLUGIN_EXPORT const psa_plugin_api* psa_plugin_entry(void) { \
    static const psa_plugin_api table = {                                     \
        sizeof(psa_plugin_api),                                               \
        PSA_PLUGIN_API_VERSION_MAJOR,                                         \
        PSA_PLUGIN_API_VERSION_MINOR,                                         \
        PSA_PLUGIN_API_VERSION_PATCH,                                         \
        []() -> const char* { return describe_json; },                        \
        &::psa::detail::init<Type>,                                           \
        &::psa::detail::destroy,                                              \
        &::psa::detail::last_error,                                           \
        &::psa::detail::handle,                                               \
        &::psa::detail::free_response,                                        \
    };                                                                        \
    return &table;                                                            \
  }
