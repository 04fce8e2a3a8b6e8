/* plugin.h - the host plugin ABI of kmscks.so: the one contract between a
 * host program and the plugin. The .so exports exactly one symbol,
 * KMS_PLUGIN_ENTRY; the host calls it with its ABI version and gets a
 * const table of operations (collectd-style registration). Requests and
 * results cross as JSON text in the API's shape, so an FFI caller mirrors
 * no data struct but kms_plugin_error; C hosts may also build kms_request
 * objects through the table (the plain C way).
 *
 * Versioning. Both tables that cross the ABI (kms_plugin_host, passed in,
 * and kms_plugin_ops, handed back) start with abi_major, abi_minor and
 * struct_size. A minor version only appends fields at the end, so:
 *   - the plugin reads a host struct only as far as its struct_size
 *     reaches (a field beyond it counts as absent: NULL / 0);
 *   - a host reads a field of the ops table only when the table's
 *     struct_size covers it (KMS_PLUGIN_HAS below).
 * A different major version is refused: the entry point returns NULL and
 * its error says which versions the plugin supports.
 *
 * The host never links libkmscks: kms.h is included for its enums and
 * plain types (kms_status, kms_member, kms_store_context, kms_alloc_fn)
 * only; every function it needs is in the table.
 *
 * Secrets (KeyStorePassword, the XKS credential, the AWS secret key and
 * session token) are never written to the log callback nor to an error.
 * Strings the plugin hands out that can hold them (a signed message) are
 * wiped by free_string. */
#ifndef KMS_PLUGIN_H
#define KMS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include "kms/kms.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KMS_PLUGIN_ABI_MAJOR 1
#define KMS_PLUGIN_ABI_MINOR 0
#define KMS_PLUGIN_ENTRY "kms_plugin_entry_v1"

/* 1 when the table t (kms_plugin_ops or kms_plugin_host) is long enough
 * to hold field f and f is set. */
#define KMS_PLUGIN_HAS(t, f)                                              \
  ((t)->struct_size >= offsetof(__typeof__(*(t)), f) + sizeof((t)->f) && \
   (t)->f)

/* {=====================================================================
 * Errors
 * ===================================================================== */

/* Every call that can fail reports here (NULL is allowed: "don't tell
 * me"). The caller sets struct_size (sizeof(kms_plugin_error)); a smaller
 * one from an older host is filled only as far as it reaches, a size
 * below offsetof(kms_plugin_error, http_status) or above 64 KiB is
 * treated as NULL. Every call that takes an error clears it first. No
 * secret is ever written into it. */
typedef struct kms_plugin_error {
  size_t struct_size;
  int code;               /* a kms_status: 0 (KMS_OK) on success */
  long http_status;       /* 0 when no HTTP response came */
  char aws_type[128];     /* modeled error type ("CustomKeyStore
                             InvalidStateException") or validation code */
  char request_id[128];   /* x-amzn-RequestId, if any */
  char message[512];      /* "what failed: detail", one line */
  char code_name[32];     /* kms_strerror(code): "ok", "validation", ... */
  int attempts;           /* HTTP requests made, retries included */
} kms_plugin_error;

#define KMS_PLUGIN_ERROR_INIT \
  { sizeof(kms_plugin_error), 0, 0, "", "", "", "", 0 }

/* {=====================================================================
 * A collectd-style configuration tree
 * ===================================================================== */

typedef enum kms_plugin_value_type {
  KMS_PLUGIN_STRING = 0,
  KMS_PLUGIN_NUMBER = 1,
  KMS_PLUGIN_BOOLEAN = 2
} kms_plugin_value_type;

typedef struct kms_plugin_value {
  kms_plugin_value_type type;
  const char *string;   /* KMS_PLUGIN_STRING */
  double number;        /* KMS_PLUGIN_NUMBER */
  int boolean;          /* KMS_PLUGIN_BOOLEAN: 0 or 1 */
} kms_plugin_value;

/* One `Key value...` line, or a `<Key value...>` block with children.
 * The same shape as collectd's oconfig_item_t. All borrowed. */
typedef struct kms_plugin_config_item {
  const char *key;
  const kms_plugin_value *values;
  int values_num;
  const struct kms_plugin_config_item *children;
  int children_num;
} kms_plugin_config_item;

/* {=====================================================================
 * What the host offers: log sink, optional transport and allocator
 * ===================================================================== */

/* Levels are syslog's, as kms_log_level: 3 error, 4 warning, 6 info,
 * 7 debug. One line, no newline, never a secret; msg is borrowed for the
 * call. Called from whichever thread made the call being logged, so it
 * must be thread-safe if the host calls the plugin from several
 * threads. */
typedef void (*kms_plugin_log_fn)(void *ud, int level, const char *msg);

/* A request the plugin asks the host to send. All borrowed for the call.
 * The body can hold secrets: send it, never log or keep it. */
typedef struct kms_plugin_http_header {
  const char *name;
  const char *value;
} kms_plugin_http_header;

typedef struct kms_plugin_http_request {
  size_t struct_size;
  const char *method;                    /* "POST" */
  const char *url;                       /* "https://host[:port]/path" */
  const kms_plugin_http_header *headers; /* in order, Host first */
  size_t header_count;
  const char *body;
  size_t body_len;
  long connect_timeout_ms;               /* 0: none */
  long read_timeout_ms;                  /* 0: none */
  const char *ca_bundle;                 /* NULL: the system's */
  int verify_tls;                        /* 1 unless turned off */
} kms_plugin_http_request;

/* Filled by the host's transport: it sets status and calls add_header
 * once per response header and write_body as often as it likes (both
 * copy; they return 0, or non-zero when out of memory). */
typedef struct kms_plugin_http_response kms_plugin_http_response;
struct kms_plugin_http_response {
  size_t struct_size;
  long status;
  int (*add_header)(kms_plugin_http_response *resp, const char *name,
                    const char *value);
  int (*write_body)(kms_plugin_http_response *resp, const void *data,
                    size_t len);
  void *plugin_private;  /* the plugin's: do not touch */
};

/* Sends req and fills resp. Returns 0 when an HTTP response came back,
 * whatever its status; otherwise a kms_status (KMS_ERR_CONNECT,
 * KMS_ERR_CONNECT_TIMEOUT, KMS_ERR_READ_TIMEOUT,
 * KMS_ERR_CONNECTION_CLOSED, KMS_ERR_TLS) with err->message set. The
 * plugin retries as the AWS retry mode says. Must not follow redirects.
 * Called from the thread making the call. */
typedef int (*kms_plugin_transport_fn)(void *ud,
                                       const kms_plugin_http_request *req,
                                       kms_plugin_http_response *resp,
                                       kms_plugin_error *err);

/* What the host passes to create(). Borrowed for the instance's life.
 * abi_major must be KMS_PLUGIN_ABI_MAJOR and struct_size at least
 * offsetof(kms_plugin_host, host_name); fields past struct_size are
 * absent. A NULL host means: no log, libcurl, malloc. */
typedef struct kms_plugin_host {
  uint32_t abi_major;
  uint32_t abi_minor;
  size_t struct_size;
  const char *host_name;       /* for log lines and the User-Agent */
  kms_plugin_log_fn log;       /* NULL: quiet */
  void *log_ud;
  int log_level;               /* most verbose level passed on; 0: info */
  kms_plugin_transport_fn transport; /* NULL: the plugin's libcurl */
  void *transport_ud;
  kms_alloc_fn alloc;          /* NULL: malloc (cJSON's own temporary
                                  copies always use malloc) */
  void *alloc_ud;
} kms_plugin_host;

/* {=====================================================================
 * The operations table
 * ===================================================================== */

typedef struct kms_plugin_instance kms_plugin_instance;

/* Every int-returning function returns 0 (KMS_OK) on success and a
 * kms_status on failure, with err filled. A NULL where a pointer is
 * required is KMS_ERR_INVALID_ARG naming the argument. Strings handed
 * back through char ** are owned by the caller and released with
 * free_string (which wipes them); *out is NULL on failure.
 *
 * Thread safety, per call ("any": from any thread, concurrently with any
 * other call on the same instance, destroy excepted):
 *   entry point, create ........ any (no shared state; the table is const)
 *   destroy .................... exclusive: no other call on that instance
 *                                may be running or start (the host stops
 *                                using it first); other instances are
 *                                unaffected
 *   configure_tree/_kv ......... any: takes the instance lock; calls that
 *                                start after it returns use the new
 *                                settings, calls in flight finish with the
 *                                old ones (their clients are then dropped)
 *   validate, check_response ... any: pure, touch no instance state
 *   sign, update, describe,
 *   connect, disconnect,
 *   update_request ............. any: each takes a client of its own from
 *                                the instance's pool (under the lock, then
 *                                released), so calls run in parallel, each
 *                                on its own connection
 *   validate_request ........... any, if no other thread changes req
 *   request_new / request_free . any; a kms_request itself is not locked:
 *   request_set                  one thread at a time per request
 *   free_string ................ any, once per string, before destroy
 * Callbacks the host gives (log, transport, alloc) are called from the
 * thread making the call, possibly from several at once. The plugin
 * starts no thread (libcurl may resolve a name on a short-lived thread
 * inside a call); nothing of it runs once every call has returned, so an
 * idle plugin may be dlclose()d after its instances are destroyed. */
typedef struct kms_plugin_ops {
  uint32_t abi_major;
  uint32_t abi_minor;
  size_t struct_size;
  const char *name;     /* "kmscks" */
  const char *version;  /* KMS_VERSION_STRING of the plugin's core */

  kms_plugin_instance *(*create)(const kms_plugin_host *host,
                                 kms_plugin_error *err);
  /* Frees the instance, wiping its secrets. NULL is a no-op. */
  void (*destroy)(kms_plugin_instance *inst);

  /* Configuration from a collectd-style tree: the children of root are
   * options (root's own key and values are ignored, so root may be the
   * <Plugin kmscks> block): Region, Profile, EndpointURL, CABundle,
   * VerifyTLS (boolean), Timeout and ConnectTimeout (whole seconds, 0 =
   * none), MaxAttempts (integer >= 1), RetryMode, AccessKeyId,
   * SecretAccessKeyFile, SessionTokenFile, UseFIPSEndpoint,
   * UseDualstackEndpoint, NoSignRequest (booleans), UserAgent,
   * ConfigFile, CredentialsFile, LogLevel ("error" | "warning" | "info" |
   * "debug"). Keys are case-insensitive as in collectd; secrets come from
   * files only. An unknown key, a wrong value type or a setting the
   * client refuses is KMS_ERR_CONFIG naming the option; the tree
   * replaces the whole configuration only when all of it is good (the
   * client is built at once, so a bad region or endpoint shows here). */
  int (*configure_tree)(kms_plugin_instance *inst,
                        const kms_plugin_config_item *root,
                        kms_plugin_error *err);
  /* One setting by its kms_config_set name (region, profile,
   * endpoint_url, access_key_id, secret_access_key, session_token,
   * retry_mode, max_attempts, connect_timeout, read_timeout, ca_bundle,
   * verify_tls, use_fips_endpoint, use_dualstack_endpoint,
   * no_sign_request, user_agent, config_file, credentials_file), plus
   * secret_access_key_file and session_token_file (the secret read from
   * that file) and log_level (error | warning | info | debug). value NULL
   * unsets. An unknown key is KMS_ERR_CONFIG naming it.
   * Values are checked when the next call builds a client, and that
   * call reports a bad one. */
  int (*configure_kv)(kms_plugin_instance *inst, const char *key,
                      const char *value, kms_plugin_error *err);

  /* {----- JSON face ----- */

  /* request_json: an UpdateCustomKeyStore request in the API's shape
   * (the --cli-input-json shape, parsed by kms_request_load_json).
   * store_json (may be NULL) describes the store for the contextual
   * rules: {"CustomKeyStoreType", "ConnectionState",
   * "XksProxyConnectivity"}, or one DescribeCustomKeyStores entry, or a
   * whole DescribeCustomKeyStores response (its first entry).
   * *problems_json receives every problem,
   * [{"severity": "error"|"warning", "code", "member", "message"}], in
   * the core's order, whenever the request could be parsed. Returns 0
   * when no problem is an error, KMS_ERR_VALIDATION otherwise (err names
   * the first), KMS_ERR_PARSE for bad JSON. Makes no network call. */
  int (*validate)(kms_plugin_instance *inst, const char *request_json,
                  const char *store_json, char **problems_json,
                  kms_plugin_error *err);
  /* Builds and signs one call for a host that sends by itself: operation
   * is "UpdateCustomKeyStore" (request_json as above, validated with the
   * static rules first), "DescribeCustomKeyStores" ({"CustomKeyStoreId",
   * "CustomKeyStoreName", "Limit", "Marker"}, all optional),
   * "ConnectCustomKeyStore" or "DisconnectCustomKeyStore"
   * ({"CustomKeyStoreId"}). time is seconds since the epoch, 0 for now.
   * *signed_json = {"method", "url", "headers": [[name, value], ...],
   * "body"}: it holds the secrets being sent; free it with free_string.
   * Credentials may be fetched (a network call for some sources). */
  int (*sign)(kms_plugin_instance *inst, const char *operation,
              const char *request_json, int64_t time, char **signed_json,
              kms_plugin_error *err);
  /* Maps a response the host received for operation to success or a
   * typed error, as botocore does. headers: "Name: value" lines separated
   * by "\n" (may be NULL). On success *result_json (may be NULL) is the
   * JSON result ("{}" for an empty one). */
  int (*check_response)(kms_plugin_instance *inst, const char *operation,
                        long http_status, const char *headers,
                        const char *body, size_t body_len,
                        char **result_json, kms_plugin_error *err);
  /* Validates (static rules, and contextual ones when store_json is
   * given), signs and sends an UpdateCustomKeyStore, with retries.
   * Nothing is sent when a rule is broken. */
  int (*update)(kms_plugin_instance *inst, const char *request_json,
                const char *store_json, kms_plugin_error *err);
  /* DescribeCustomKeyStores (every page); id NULL: every store.
   * *response_json = {"CustomKeyStores": [...]}. */
  int (*describe)(kms_plugin_instance *inst, const char *custom_key_store_id,
                  char **response_json, kms_plugin_error *err);
  int (*connect)(kms_plugin_instance *inst, const char *custom_key_store_id,
                 kms_plugin_error *err);
  int (*disconnect)(kms_plugin_instance *inst,
                    const char *custom_key_store_id, kms_plugin_error *err);
  /* Wipes and frees a string handed out by inst. NULL is a no-op. Call it
   * before destroy. */
  void (*free_string)(kms_plugin_instance *inst, char *s);

  /* {----- plain C face: kms_request objects made by the plugin ----- */

  /* An empty request, allocated with the host's allocator. Free it with
   * request_free (never with a libkmscks the host links: the plugin
   * carries its own copy of the core). */
  kms_request *(*request_new)(kms_plugin_instance *inst,
                              kms_plugin_error *err);
  /* kms_request_set: copies value[0..len) (secrets into wiped memory). */
  int (*request_set)(kms_request *req, kms_member member, const char *value,
                     size_t len, kms_plugin_error *err);
  void (*request_free)(kms_request *req);
  /* As validate and update, with a request from request_new and the
   * store context as kms.h's struct (NULL: unknown). Borrowed. */
  int (*validate_request)(kms_plugin_instance *inst, const kms_request *req,
                          const kms_store_context *ctx,
                          char **problems_json, kms_plugin_error *err);
  int (*update_request)(kms_plugin_instance *inst, const kms_request *req,
                        const kms_store_context *ctx,
                        kms_plugin_error *err);
} kms_plugin_ops;

/* The one exported symbol. Returns the table when abi_major is
 * KMS_PLUGIN_ABI_MAJOR, whatever abi_minor (an older host reads a prefix
 * of the table; a newer one checks struct_size before using a field this
 * plugin may lack). Otherwise NULL, with err saying which versions are
 * supported. The table is static: valid until dlclose. */
typedef const kms_plugin_ops *(*kms_plugin_entry_fn)(uint32_t abi_major,
                                                     uint32_t abi_minor,
                                                     kms_plugin_error *err);

#ifdef __cplusplus
}
#endif
#endif /* KMS_PLUGIN_H */
