/* The C ABI between psahost and its plugins and connectors.
 * Plain C, versioned MAJOR.MINOR; tables carry their size and only ever grow at the end. */
#ifndef PSA_PLUGIN_API_H
#define PSA_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Versioning rules (the host enforces them when it loads a library):
 * - MAJOR changes when an existing member changes meaning or layout. A host refuses a
 *   plugin built for another major.
 * - MINOR changes when members are appended. A host refuses a plugin built for a newer
 *   minor than its own (the plugin may call members the host does not have); a plugin
 *   built for an older minor loads fine and never sees the members it does not know.
 * - PATCH is informational. */
#define PSA_PLUGIN_API_VERSION_MAJOR 1
#define PSA_PLUGIN_API_VERSION_MINOR 0
#define PSA_PLUGIN_API_VERSION_PATCH 0

/* The one symbol a plugin library exports. */
#define PSA_PLUGIN_ENTRY_SYMBOL "psa_plugin_entry"

#if defined(_WIN32)
#define PSA_PLUGIN_EXPORT __declspec(dllexport)
#else
#define PSA_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Return codes of every function below that returns int32_t. */
#define PSA_OK 0
#define PSA_ERROR 1            /* the call failed; a message says why */
#define PSA_NOT_FOUND 2        /* the named thing (hook, key, method) does not exist */
#define PSA_DENIED 3           /* the caller lacks the permission for this call */
#define PSA_INVALID_ARGUMENT 4 /* the request was malformed */

/* Log levels for psa_host_api.log. */
#define PSA_LOG_DEBUG 0
#define PSA_LOG_INFO 1
#define PSA_LOG_WARN 2
#define PSA_LOG_ERROR 3

/* Opaque to the plugin: the host's context for one loaded plugin. */
typedef struct psa_host_context psa_host_context;
/* Opaque to the host: whatever state the plugin keeps. */
typedef struct psa_plugin_state psa_plugin_state;

/* What the host offers a plugin. The host owns this table and keeps it valid until the
 * plugin's destroy() has returned. Every function may be called from any thread.
 * Every member of ABI 1.0 is required: the host always sets it. Members appended in a later
 * minor are optional: read one only if it lies below size, and it may still be NULL. */
typedef struct psa_host_api {
  /* Required. sizeof(psa_host_api) as the host compiled it. A plugin must check that a member
   * lies below this size before it reads it (members appended in a later minor). */
  uint32_t size;
  /* Required. The host's handle for this plugin; pass it back as the first argument of each
   * call. */
  psa_host_context* ctx;

  /* Required. Writes one log line, attributed to the plugin. message: borrowed, NUL-terminated,
   * UTF-8; the host copies it. Never fails. */
  void (*log)(psa_host_context* ctx, int32_t level, const char* message);

  /* Required. Calls a host service by name ("clients.get", "events.emit", ...), with a JSON
   * request. method, request_json: borrowed, NUL-terminated. On return *response_json points to a
   * NUL-terminated JSON document allocated by the host (on success the result, on failure
   * {"error":{"message":...}}); the plugin releases it with free_string(). *response_json is NULL
   * only if the host could not allocate. Returns PSA_OK, PSA_NOT_FOUND (no such method), PSA_DENIED
   * (the manifest does not grant the permission the method needs), PSA_INVALID_ARGUMENT or
   * PSA_ERROR. */
  int32_t (*call)(psa_host_context* ctx, const char* method, const char* request_json,
                  char** response_json);

  /* Required. Releases a string the host allocated for the plugin (call, kv_get). NULL is a no-op.
   */
  void (*free_string)(psa_host_context* ctx, char* s);

  /* Required (kv_get, kv_put, kv_delete). The plugin-scoped key/value store, durable in the host's
   * database. Keys are at most 256 bytes, values at most 1 MiB; both are borrowed byte strings with
   * explicit length. kv_get: on PSA_OK *value (host-allocated, release with free_string,
   * NUL-terminated for convenience) and *value_len are set; PSA_NOT_FOUND when the key is absent.
   */
  int32_t (*kv_get)(psa_host_context* ctx, const char* key, size_t key_len, char** value,
                    size_t* value_len);
  /* Stores value under key, replacing any previous value. Returns PSA_OK once committed. */
  int32_t (*kv_put)(psa_host_context* ctx, const char* key, size_t key_len, const char* value,
                    size_t value_len);
  /* Removes key. Returns PSA_OK whether or not it existed. */
  int32_t (*kv_delete)(psa_host_context* ctx, const char* key, size_t key_len);
} psa_host_api;

/* What a plugin offers the host: returned by psa_plugin_entry(). The table is static in
 * the library and lives as long as the library is loaded. Every member of ABI 1.0 is
 * required (the host refuses a table with a NULL one); members appended in a later minor are
 * optional and may be NULL. */
typedef struct psa_plugin_api {
  /* Required. sizeof(psa_plugin_api) as the plugin compiled it. The host reads no member at
   * or beyond this size. */
  uint32_t size;
  /* Required. PSA_PLUGIN_API_VERSION_MAJOR/MINOR/PATCH the plugin was built against. */
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t abi_patch;

  /* Required. A JSON document describing the library: {"id":..., "version":..., "hooks":[...]},
   * where hooks lists every hook name the library handles ("admission.review",
   * "event.handle", "command.<name>", "numbering.allocate", "webhook.map", "sync.push").
   * Returned string is static, owned by the library, never freed. Never fails. */
  const char* (*describe)(void);

  /* Required. Creates the plugin's state. host: borrowed, valid until destroy() returns.
   * config_json: borrowed, NUL-terminated, the plugin's configuration (manifest defaults
   * merged with the partner's settings).
   * Sets *rc to PSA_OK on success. On failure sets *rc to another code and MAY still
   * return a state, from which the host reads get_last_error() before calling destroy();
   * it may also return NULL. */
  psa_plugin_state* (*init)(const psa_host_api* host, const char* config_json, int32_t* rc);

  /* Required. Destroys what init() returned (NULL is a no-op). After it returns the plugin holds no
   * thread, callback or allocation that refers to the host. */
  void (*destroy)(psa_plugin_state* state);

  /* Required. Why init() failed, or "" if it did not. The host calls it only after init()
   * set *rc to an error, before destroy(); nothing else may change the message, so it stays
   * valid until destroy() even while other threads are in handle(). Owned by the state.
   * Never returns NULL. */
  const char* (*get_last_error)(psa_plugin_state* state);

  /* Required. Handles one hook. hook: borrowed, NUL-terminated. request_json: borrowed, length
   * request_len (NUL-terminated as well). May be called concurrently from several threads.
   * On return *response_json and *response_len hold a JSON document allocated by the plugin,
   * released by the host with free_response(); on failure it is
   * {"error":{"message":...}} or NULL. Returns PSA_OK, PSA_NOT_FOUND (hook not handled),
   * PSA_INVALID_ARGUMENT or PSA_ERROR. The plugin must not let an exception or a longjmp
   * cross this boundary. */
  int32_t (*handle)(psa_plugin_state* state, const char* hook, const char* request_json,
                    size_t request_len, char** response_json, size_t* response_len);

  /* Required. Releases a response from handle(). NULL is a no-op. */
  void (*free_response)(psa_plugin_state* state, char* response_json);
} psa_plugin_api;

/* The type of the single exported entry symbol. Returns a pointer to a static table. */
typedef const psa_plugin_api* (*psa_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* PSA_PLUGIN_API_H */
