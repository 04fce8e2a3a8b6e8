/* kms.h - the one public header of libkmscks.
 * Builds, validates, encodes, signs and sends AWS KMS UpdateCustomKeyStore
 * requests (and the Describe/Connect/Disconnect calls a safe update needs).
 * Every face (CLI, Lua, host plugin, collectd) is a thin layer over this. */
#ifndef KMS_KMS_H
#define KMS_KMS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(KMS_BUILDING) && defined(__GNUC__)
#define KMS_API __attribute__((visibility("default")))
#else
#define KMS_API
#endif

#define KMS_VERSION_MAJOR 0
#define KMS_VERSION_MINOR 1
#define KMS_VERSION_PATCH 0
#define KMS_VERSION_STRING "0.1.0"

/* Returns a static string such as "0.1.0". */
KMS_API const char *kms_version(void);

/* {=====================================================================
 * Status and errors
 * ===================================================================== */

typedef enum kms_status {
  KMS_OK = 0,
  KMS_ERR_NOMEM,          /* an allocation failed */
  KMS_ERR_INVALID_ARG,    /* misuse: NULL where required, bad enum */
  KMS_ERR_PARSE,          /* input JSON/INI/shorthand malformed, unknown key,
                             wrong type */
  KMS_ERR_VALIDATION,     /* the request breaks a rule: nothing was sent */
  KMS_ERR_CONFIG,         /* bad configuration (profile not found, bad
                             max_attempts, bad retry mode, bad endpoint URL) */
  KMS_ERR_NO_REGION,      /* no region could be found */
  KMS_ERR_NO_CREDENTIALS, /* no credentials could be found */
  KMS_ERR_CREDENTIALS,    /* a credential source failed (partial env,
                             credential_process failed, STS error) */
  KMS_ERR_CRYPTO,         /* OpenSSL failed */
  KMS_ERR_CONNECT,        /* could not connect to the endpoint */
  KMS_ERR_CONNECT_TIMEOUT,/* connect timed out */
  KMS_ERR_READ_TIMEOUT,   /* no response in time */
  KMS_ERR_CONNECTION_CLOSED, /* connection dropped before a response */
  KMS_ERR_TLS,            /* TLS handshake or verification failed */
  KMS_ERR_SERVICE,        /* KMS answered with an error response */
  KMS_ERR_RESPONSE,       /* a success response could not be parsed */
  KMS_ERR_IO,             /* a local file could not be read */
  KMS_ERR_INTERRUPTED,    /* the caller asked to stop */
  KMS_ERR__COUNT
} kms_status;

#define KMS_ERROR_MESSAGE_SIZE 512
#define KMS_ERROR_FIELD_SIZE 128

/* A caller-owned error report. Every function that can fail takes one
 * (NULL is allowed and means "don't tell me"). No secret is ever written
 * into it. */
typedef struct kms_error {
  kms_status status;
  long http_status;                       /* 0 when no response came */
  int attempts;                           /* requests sent, retries included */
  int retryable;                          /* 1 when the last failure was one
                                             the retry policy retries */
  char aws_type[KMS_ERROR_FIELD_SIZE];    /* e.g. "CustomKeyStoreInvalidStateException",
                                             or a validation code */
  char request_id[KMS_ERROR_FIELD_SIZE];  /* x-amzn-RequestId, if any */
  char message[KMS_ERROR_MESSAGE_SIZE];   /* "what failed: detail" */
} kms_error;

/* Returns a static, stable name for a status: "ok", "nomem", "validation",
 * ... Never NULL. */
KMS_API const char *kms_strerror(kms_status status);

/* Resets an error report to KMS_OK with empty fields. */
KMS_API void kms_error_clear(kms_error *err);

/* {=====================================================================
 * Allocator and logging (per object, never process-wide)
 * ===================================================================== */

/* lua_Alloc-style allocator: nsize == 0 frees, ptr == NULL allocates.
 * NULL everywhere means malloc/realloc/free. */
typedef void *(*kms_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef enum kms_log_level {
  KMS_LOG_ERROR = 3,
  KMS_LOG_WARNING = 4,
  KMS_LOG_INFO = 6,
  KMS_LOG_DEBUG = 7
} kms_log_level;

/* Receives one line (no newline), never containing a secret. The message
 * is borrowed for the duration of the call. */
typedef void (*kms_log_fn)(void *ud, kms_log_level level, const char *msg);

/* {=====================================================================
 * Byte buffer handed out by the library
 * ===================================================================== */

/* An owned result (JSON text, a printable request). data is NUL-terminated
 * after len bytes. Release with kms_buf_free, which wipes it. */
typedef struct kms_buf {
  char *data;
  size_t len;
  size_t cap;
  kms_alloc_fn alloc;
  void *alloc_ud;
  int secret;           /* wipe on growth and on free */
} kms_buf;

/* Frees the bytes (wiping them first if secret) and resets the struct.
 * NULL and an empty buffer are no-ops. */
KMS_API void kms_buf_free(kms_buf *buf);

/* {=====================================================================
 * The UpdateCustomKeyStore request model
 * ===================================================================== */

/* Members of UpdateCustomKeyStoreRequest in model order. The two halves of
 * XksProxyAuthenticationCredential are addressed as members of their own. */
typedef enum kms_member {
  KMS_M_CUSTOM_KEY_STORE_ID = 0,
  KMS_M_NEW_CUSTOM_KEY_STORE_NAME,
  KMS_M_KEY_STORE_PASSWORD,                  /* sensitive */
  KMS_M_CLOUD_HSM_CLUSTER_ID,
  KMS_M_XKS_PROXY_URI_ENDPOINT,
  KMS_M_XKS_PROXY_URI_PATH,
  KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME,
  KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER,
  KMS_M_XKS_ACCESS_KEY_ID,                   /* sensitive, in the credential */
  KMS_M_XKS_RAW_SECRET_ACCESS_KEY,           /* sensitive, in the credential */
  KMS_M_XKS_PROXY_CONNECTIVITY,
  KMS_M__COUNT
} kms_member;

/* The API name of a member ("KeyStorePassword"), or the dotted path for
 * the credential halves ("XksProxyAuthenticationCredential.AccessKeyId").
 * Static string; NULL for an out-of-range value. */
KMS_API const char *kms_member_name(kms_member m);

/* Looks a member up by its API name or dotted path; returns KMS_M__COUNT
 * when the name is unknown. Case-sensitive. */
KMS_API kms_member kms_member_lookup(const char *name);

/* 1 when the member is sensitive in the model (wiped, redacted). */
KMS_API int kms_member_is_secret(kms_member m);

typedef struct kms_request kms_request;

/* Creates an empty request (every member absent). alloc may be NULL.
 * Returns NULL on allocation failure (err says so). */
KMS_API kms_request *kms_request_new(kms_alloc_fn alloc, void *alloc_ud,
                                     kms_error *err);

/* Wipes every secret and frees the request. NULL is a no-op. */
KMS_API void kms_request_free(kms_request *req);

/* Sets a member to a copy of value[0..len) (len 0 means the empty string,
 * which is different from absent; value may then be NULL). value is
 * copied; secret members are held in wiped memory. A member set here is
 * an AWS CLI option: it is encoded in model order, before every member
 * loaded from JSON, and setting a member that came from JSON moves it
 * there (options win and come first). Setting one credential half makes
 * the structure present; a half that was absent goes after the other, so
 * the inner order is the order the halves were given in. */
KMS_API kms_status kms_request_set(kms_request *req, kms_member m,
                                   const char *value, size_t len,
                                   kms_error *err);

/* Makes a member absent again, wiping its value. */
KMS_API void kms_request_unset(kms_request *req, kms_member m);

/* Returns the member's value (borrowed, NUL-terminated, valid until the
 * member changes) and its length, or NULL when absent. */
KMS_API const char *kms_request_get(const kms_request *req, kms_member m,
                                    size_t *len);

/* Loads members from a JSON object in the --cli-input-json shape (API
 * member names; the credential as a nested object, which replaces the
 * whole structure). Members already set and present in the JSON are
 * replaced; the JSON's key order is kept for encoding after the members
 * set with kms_request_set (as the AWS CLI does: to mirror
 * --cli-input-json plus options, load the JSON first, then set the
 * options). A key already loaded from an earlier JSON keeps its place, and
 * a duplicate key takes the last value at the first place (Python dict
 * semantics). An unknown key, a wrong type or a null is KMS_ERR_PARSE
 * naming the key ("KeyStorePassword: expected a string, got null",
 * "unknown member \"Bogus\", must be one of: ..."); a syntax error names
 * the byte offset. Values are never echoed. Strict RFC 8259 JSON only,
 * and "\u0000" and lone surrogate escapes are refused. json[0..len) is
 * borrowed and not wiped (it is the caller's); cJSON's own copies of every
 * string are wiped before they are freed (cJSON allocates with malloc, not
 * with the request's allocator). On failure the request is unchanged. */
KMS_API kms_status kms_request_load_json(kms_request *req, const char *json,
                                         size_t len, kms_error *err);

/* Replaces the whole credential structure (both halves, in the order the
 * user gave them when secret_first is 1) as the AWS CLI does when the
 * option is given again. Either half may be NULL (absent). */
KMS_API kms_status kms_request_set_credential(kms_request *req,
                                              const char *access_key_id,
                                              size_t akid_len,
                                              const char *raw_secret,
                                              size_t secret_len,
                                              int secret_first,
                                              kms_error *err);

/* Renders the request as the JSON body with every secret replaced by
 * "***" (safe to print). out is initialised by the call. */
KMS_API kms_status kms_request_to_redacted_json(const kms_request *req,
                                                kms_buf *out, kms_error *err);

/* {=====================================================================
 * Validation
 * ===================================================================== */

typedef enum kms_severity {
  KMS_SEVERITY_ERROR = 0,
  KMS_SEVERITY_WARNING = 1
} kms_severity;

/* One problem: a stable code, the member path it concerns (or "" for the
 * whole request) and a message a person can act on, e.g.
 * "KeyStorePassword: length 5 is below the minimum of 7". The message of
 * a secret member names the rule only, never the value. Codes:
 *   required              CustomKeyStoreId is missing
 *   utf8                  a value is not well-formed UTF-8
 *   length.min/length.max lengths in Unicode code points, from the model
 *   pattern               the model's pattern, as a full match (also for
 *                         the unanchored CloudHsmClusterId and account id
 *                         patterns, as the service applies them)
 *   enum                  XksProxyConnectivity is not a model value
 *   credential.incomplete the credential lacks a half
 *   type.mixed            CloudHSM-only and XKS-only members together
 *   connectivity.vpc      a switch to VPC_ENDPOINT_SERVICE without a new
 *                         XksProxyUriEndpoint or a service name
 *   connectivity.public   a switch to PUBLIC_ENDPOINT without a new
 *                         endpoint, or PUBLIC_ENDPOINT with a non-empty
 *                         service name ("" clears it and is accepted
 *                         despite the minimum length of 20)
 *   connectivity.mismatch a service name or owner while the connectivity
 *                         in effect (request, else context) is PUBLIC
 *   connectivity.unknown  (warning) a service name or owner, and neither
 *                         the request nor the context gives connectivity
 *   context.type          a member that does not fit the store's type
 *   context.state         a change the store's connection state forbids
 *   context.unknown       (warning) a context type or connectivity value
 *                         this library does not know
 *   noop                  (warning) nothing but CustomKeyStoreId is set
 * A connectivity equal to the context's is not a switch. The state rules
 * follow the current API docs: NewCustomKeyStoreName, the XKS credential
 * and XksProxyUriPath may change while CONNECTED or DISCONNECTED, every
 * other member only while DISCONNECTED; in any other state (CONNECTING,
 * DISCONNECTING, FAILED, or one not known) every change needs
 * DISCONNECTED (a FAILED store must be disconnected first). Problems come
 * in this order: required; per member in model order (credential.
 * incomplete, utf8, length, pattern, enum); type.mixed; connectivity;
 * context; noop. */
typedef struct kms_problem {
  kms_severity severity;
  const char *code;     /* static */
  const char *member;   /* static */
  char message[256];
} kms_problem;

typedef struct kms_problems kms_problems;

/* What the caller knows about the store, for the contextual rules. NULL
 * fields (or a NULL pointer to the struct) mean unknown. */
typedef struct kms_store_context {
  const char *custom_key_store_type; /* "AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE" */
  const char *connection_state;      /* "CONNECTED", "DISCONNECTED", ... */
  const char *xks_proxy_connectivity;/* current connectivity, if known */
} kms_store_context;

/* Checks every rule and collects every problem (errors and warnings).
 * *out receives a list the caller frees with kms_problems_free. Returns
 * KMS_OK when there is no error-severity problem (warnings alone pass),
 * KMS_ERR_VALIDATION otherwise (err->message then summarises the first
 * problem and err->aws_type holds its code), KMS_ERR_NOMEM on failure. */
KMS_API kms_status kms_request_validate(const kms_request *req,
                                        const kms_store_context *ctx,
                                        kms_problems **out, kms_error *err);

KMS_API size_t kms_problems_count(const kms_problems *p);
/* Borrowed; valid until kms_problems_free. NULL when i is out of range. */
KMS_API const kms_problem *kms_problems_at(const kms_problems *p, size_t i);
KMS_API size_t kms_problems_error_count(const kms_problems *p);
KMS_API void kms_problems_free(kms_problems *p);

/* {=====================================================================
 * HTTP messages: what the encoder produces and the signer signs
 * ===================================================================== */

typedef struct kms_http kms_http;

/* Creates an HTTP message. method and url are copied. The URL is
 * "scheme://host[:port][/path][?query]"; the path and query are kept raw
 * (not yet percent-encoded) as the SigV4 test suite gives them. */
KMS_API kms_http *kms_http_new(const char *method, const char *url,
                               kms_alloc_fn alloc, void *alloc_ud,
                               kms_error *err);
KMS_API void kms_http_free(kms_http *msg); /* wipes body and headers */

/* Appends a header (duplicates allowed, order kept). Copied. */
KMS_API kms_status kms_http_add_header(kms_http *msg, const char *name,
                                       const char *value, kms_error *err);
/* Replaces every header of that name (case-insensitive) by one. */
KMS_API kms_status kms_http_set_header(kms_http *msg, const char *name,
                                       const char *value, kms_error *err);
/* Sets the body (copied into wiped memory). */
KMS_API kms_status kms_http_set_body(kms_http *msg, const char *body,
                                     size_t len, kms_error *err);

KMS_API const char *kms_http_method(const kms_http *msg);
KMS_API const char *kms_http_url(const kms_http *msg);
/* "host[:port]" as it goes into the Host header. */
KMS_API const char *kms_http_host(const kms_http *msg);
/* The path and query, as sent on the request line. */
KMS_API const char *kms_http_target(const kms_http *msg);
KMS_API size_t kms_http_header_count(const kms_http *msg);
/* Borrowed name/value of header i; returns 0 when out of range. */
KMS_API int kms_http_header_at(const kms_http *msg, size_t i,
                               const char **name, const char **value);
/* First header of that name (case-insensitive), or NULL. */
KMS_API const char *kms_http_header(const kms_http *msg, const char *name);
KMS_API const char *kms_http_body(const kms_http *msg, size_t *len);

/* Renders the message as HTTP/1.1 text for a person: Authorization's
 * signature, X-Amz-Security-Token and secret body members are redacted
 * when redact is 1. */
KMS_API kms_status kms_http_to_text(const kms_http *msg, int redact,
                                    kms_buf *out, kms_error *err);

/* {=====================================================================
 * Encoding (JSON 1.1 protocol, byte for byte as botocore)
 * ===================================================================== */

typedef enum kms_operation {
  KMS_OP_UPDATE_CUSTOM_KEY_STORE = 0,
  KMS_OP_DESCRIBE_CUSTOM_KEY_STORES,
  KMS_OP_CONNECT_CUSTOM_KEY_STORE,
  KMS_OP_DISCONNECT_CUSTOM_KEY_STORE,
  KMS_OP__COUNT
} kms_operation;

/* "UpdateCustomKeyStore", ... Static. */
KMS_API const char *kms_operation_name(kms_operation op);

/* Writes the UpdateCustomKeyStore body as botocore does: members as set
 * (see kms_request_set / kms_request_load_json for the order), ", " and
 * ": " separators, non-ASCII as lowercase \uXXXX. Bytes that are not
 * UTF-8 (botocore can never be given them) are written as \ufffd, one per
 * byte; kms_request_validate refuses them ("utf8"). out is initialised by
 * the call (with the request's allocator) and is marked secret. */
KMS_API kms_status kms_request_encode_body(const kms_request *req,
                                           kms_buf *out, kms_error *err);

/* Bodies of the helper operations. custom_key_store_id / name / marker may
 * be NULL (absent; kms_encode_id_only(NULL) gives "{}"); limit 0 means
 * absent. out uses the default allocator and is not secret. */
KMS_API kms_status kms_encode_describe(const char *custom_key_store_id,
                                       const char *custom_key_store_name,
                                       int limit, const char *marker,
                                       kms_buf *out, kms_error *err);
KMS_API kms_status kms_encode_id_only(const char *custom_key_store_id,
                                      kms_buf *out, kms_error *err);

/* Builds the unsigned HTTP message for op: POST to url with the body,
 * Content-Type: application/x-amz-json-1.1 and
 * X-Amz-Target: TrentService.<op>, headers in the AWS CLI's order. The
 * body is copied. */
KMS_API kms_http *kms_http_new_for(kms_operation op, const char *url,
                                   const char *body, size_t body_len,
                                   kms_alloc_fn alloc, void *alloc_ud,
                                   kms_error *err);

/* {=====================================================================
 * Credentials and SigV4 signing (pure: no I/O, clock injected)
 * ===================================================================== */

typedef struct kms_credentials kms_credentials;

/* Copies the three strings into wiped memory. session_token may be NULL.
 * expiration 0 means "does not expire". */
KMS_API kms_credentials *kms_credentials_new(const char *access_key_id,
                                             const char *secret_access_key,
                                             const char *session_token,
                                             time_t expiration,
                                             kms_alloc_fn alloc,
                                             void *alloc_ud, kms_error *err);
KMS_API void kms_credentials_free(kms_credentials *cred);
KMS_API const char *kms_credentials_access_key_id(const kms_credentials *c);
KMS_API time_t kms_credentials_expiration(const kms_credentials *c);

#define KMS_SIGN_NORMALIZE_PATH  0x01 /* remove . .. and // before signing */
#define KMS_SIGN_BODY_HEADER     0x02 /* add and sign x-amz-content-sha256 */
#define KMS_SIGN_QUERY           0x04 /* presign: put the signature in the
                                         query instead of Authorization */
#define KMS_SIGN_OMIT_TOKEN      0x08 /* add X-Amz-Security-Token after
                                         signing, unsigned */

typedef struct kms_sign_params {
  const char *region;    /* "us-east-1"; "" is allowed (empty scope) */
  const char *service;   /* "kms", "kms-xks-proxy", "sts", ... */
  time_t time;           /* seconds since the epoch, UTC */
  unsigned flags;        /* KMS_SIGN_* */
  long expires;          /* X-Amz-Expires for KMS_SIGN_QUERY */
} kms_sign_params;

typedef struct kms_signer kms_signer;

/* A signer caches derived signing keys per (access key, date, region,
 * service), wiping each when evicted or freed. log may be NULL; at debug
 * level it receives the canonical request and the string to sign, which
 * carry no secret. Not thread-safe: one per thread or a lock around it. */
KMS_API kms_signer *kms_signer_new(kms_alloc_fn alloc, void *alloc_ud,
                                   kms_log_fn log, void *log_ud,
                                   kms_error *err);
KMS_API void kms_signer_free(kms_signer *s);

/* Signs msg in place: adds X-Amz-Date, X-Amz-Security-Token (if the
 * credentials carry one) and Authorization, or the query parameters for
 * KMS_SIGN_QUERY. A Host header is added when msg has none. signer may be
 * NULL (no cache). */
KMS_API kms_status kms_sign(kms_signer *signer, kms_http *msg,
                            const kms_credentials *cred,
                            const kms_sign_params *params, kms_error *err);

/* The intermediate results of the last signature, for tests and debug:
 * canonical request and string to sign. With a signed session token the
 * canonical request holds the token, so both out buffers are initialised
 * by the call as secret (wiped when freed); the debug log of kms_sign
 * prints the token as "***". */
KMS_API kms_status kms_sign_debug(const kms_http *msg,
                                  const kms_credentials *cred,
                                  const kms_sign_params *params,
                                  kms_buf *canonical_request,
                                  kms_buf *string_to_sign, kms_error *err);


/* {=====================================================================
 * Transport (an interface: libcurl by default, or a host's own I/O)
 * ===================================================================== */

typedef struct kms_transport_opts {
  long connect_timeout_ms;  /* 0: no timeout */
  long read_timeout_ms;     /* 0: no timeout */
  const char *ca_bundle;    /* NULL: the system's */
  int verify_tls;           /* 1 unless the user turned it off */
} kms_transport_opts;

/* A response as the transport received it. headers holds "name: value"
 * lines separated by "\n" (names as received). The body is marked secret
 * when it could echo request data. */
typedef struct kms_http_response {
  long status;
  kms_buf headers;
  kms_buf body;
} kms_http_response;

/* Sends req and fills resp (whose buffers the caller initialised with
 * kms_http_response_init). Returns KMS_OK when any HTTP response came
 * back, whatever its status; KMS_ERR_CONNECT, KMS_ERR_CONNECT_TIMEOUT,
 * KMS_ERR_READ_TIMEOUT, KMS_ERR_CONNECTION_CLOSED or KMS_ERR_TLS when
 * none did. Must not follow redirects nor copy the body. */
typedef kms_status (*kms_transport_fn)(void *ud, const kms_http *req,
                                       const kms_transport_opts *opts,
                                       kms_http_response *resp,
                                       kms_error *err);

KMS_API void kms_http_response_init(kms_http_response *resp,
                                    kms_alloc_fn alloc, void *alloc_ud);
KMS_API void kms_http_response_free(kms_http_response *resp);
/* First response header of that name (case-insensitive), copied into
 * out (NUL-terminated, truncated to size). Returns 1 when found. */
KMS_API int kms_http_response_header(const kms_http_response *resp,
                                     const char *name, char *out,
                                     size_t size);

/* For a host that received a response by itself (its own transport, or a
 * transport of kms_transport_fn type): fills resp, which the caller
 * initialised with kms_http_response_init, so that kms_response_check
 * and kms_client_retry_after can read it. The caller sets resp->status.
 *
 * Appends one header line "name: value". name and value are copied
 * (borrowed for the call). name must be non-empty and hold no ':', CR or
 * LF, value no CR or LF (they would break the line format):
 * KMS_ERR_INVALID_ARG, as for a NULL argument. On failure resp is
 * unchanged. */
KMS_API kms_status kms_http_response_add_header(kms_http_response *resp,
                                                const char *name,
                                                const char *value,
                                                kms_error *err);

/* Appends data[0..len) to the body: copied into the body's buffer, which
 * is wiped when it grows or is freed; data is borrowed for the call and
 * may hold any byte. len 0 is a no-op (data may then be NULL); NULL resp,
 * or NULL data with len > 0, is KMS_ERR_INVALID_ARG. */
KMS_API kms_status kms_http_response_append_body(kms_http_response *resp,
                                                 const char *data,
                                                 size_t len, kms_error *err);

/* {=====================================================================
 * Configuration and client
 * ===================================================================== */

typedef struct kms_config kms_config;

/* An unresolved configuration: what the caller said explicitly. Anything
 * not set is looked up the AWS way (environment, shared config files,
 * credential providers) when the client is created. */
KMS_API kms_config *kms_config_new(kms_alloc_fn alloc, void *alloc_ud,
                                   kms_error *err);
KMS_API void kms_config_free(kms_config *cfg); /* wipes secrets */

/* Sets one setting by name; value is copied (secrets into wiped memory).
 * Names: region, profile, endpoint_url, access_key_id, secret_access_key,
 * session_token, retry_mode (standard|adaptive), max_attempts,
 * connect_timeout (seconds, 0 = none), read_timeout (seconds, 0 = none),
 * ca_bundle, verify_tls (true|false), use_fips_endpoint,
 * use_dualstack_endpoint, no_sign_request (true|false), user_agent,
 * config_file, credentials_file. An unknown name is KMS_ERR_CONFIG
 * naming it; NULL value unsets. */
KMS_API kms_status kms_config_set(kms_config *cfg, const char *name,
                                  const char *value, kms_error *err);

/* Log sink for the client (debug trace: resolved region, endpoint,
 * credential source name, canonical request, string to sign, redacted
 * headers, status, attempts, backoff). Borrowed until the client is
 * freed. */
KMS_API void kms_config_set_log(kms_config *cfg, kms_log_fn log, void *ud,
                                kms_log_level max_level);

/* Replaces the transport (NULL fn restores libcurl). ud is borrowed. */
KMS_API void kms_config_set_transport(kms_config *cfg, kms_transport_fn fn,
                                      void *ud);

/* The value of key (lowercase, e.g. "output") in the profile in effect
 * for cfg (explicit, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default"), read
 * from the shared files in effect, the credentials file winning over the
 * config file: for a face that needs a profile setting the core itself
 * does not use. cfg (NULL: nothing explicit) and key are borrowed; the
 * value is copied into
 * out[size] (NUL-terminated, truncated), "" when the profile has no such
 * key. Settings are resolved as kms_client_new resolves them, so a bad
 * configuration fails the same way: KMS_ERR_CONFIG (a missing named
 * profile, a bad region, retry mode, ...), KMS_ERR_PARSE (a malformed
 * file). The secret keys (aws_secret_access_key, aws_session_token,
 * aws_security_token) are never returned: KMS_ERR_INVALID_ARG, as for a
 * NULL key or out, or a size of 0. out is "" after any failure. */
KMS_API kms_status kms_config_profile_value(const kms_config *cfg,
                                            const char *key, char *out,
                                            size_t size, kms_error *err);

typedef struct kms_client kms_client;

/* Resolves region, endpoint, retry settings and the credential chain.
 * KMS_ERR_NO_REGION / KMS_ERR_CONFIG / KMS_ERR_CREDENTIALS on failure.
 * Credentials themselves are fetched lazily on the first request (so
 * KMS_ERR_NO_CREDENTIALS comes from the call). cfg is copied. One client
 * is used by one thread at a time. */
KMS_API kms_client *kms_client_new(const kms_config *cfg, kms_error *err);
KMS_API void kms_client_free(kms_client *c);

/* Borrowed views of the resolved settings. */
KMS_API const char *kms_client_region(const kms_client *c);
KMS_API const char *kms_client_endpoint(const kms_client *c);

/* The transport options the client resolved (connect and read timeouts,
 * CA bundle, TLS verification): exactly what its own transport receives,
 * for a host that sends by itself. *out is overwritten; out->ca_bundle
 * is borrowed from the client (valid until kms_client_free; NULL: the
 * system's). KMS_ERR_INVALID_ARG when c or out is NULL. */
KMS_API kms_status kms_client_transport_opts(const kms_client *c,
                                             kms_transport_opts *out);

/* The resolved max_attempts (>= 1; retries included), or 0 when c is
 * NULL. */
KMS_API int kms_client_max_attempts(const kms_client *c);

/* The resolved retry mode: "standard" or "adaptive" (static), or NULL
 * when c is NULL. */
KMS_API const char *kms_client_retry_mode(const kms_client *c);

/* Builds the signed HTTP message for op with body (for a host that sends
 * by itself). now 0 means the current time (plus the clock-skew
 * correction the client learned). The caller frees *out. */
KMS_API kms_status kms_client_prepare(kms_client *c, kms_operation op,
                                      const char *body, size_t body_len,
                                      time_t now, kms_http **out,
                                      kms_error *err);

/* Sends op with body through the transport, with retries, and returns
 * the response JSON (owned by the caller) on success. A KMS error response
 * is KMS_ERR_SERVICE with err->aws_type, message, http_status and
 * request_id filled. */
KMS_API kms_status kms_client_call(kms_client *c, kms_operation op,
                                   const char *body, size_t body_len,
                                   kms_buf *out_json, kms_error *err);

/* Maps an HTTP response to success or a typed error exactly as botocore
 * parses it (status >= 300 is an error; __type with the namespace
 * stripped; message or Message; x-amzn-RequestId). For hosts that send by
 * themselves. */
KMS_API kms_status kms_response_check(kms_operation op,
                                      const kms_http_response *resp,
                                      kms_error *err);

/* 1 when the failure in err is one the AWS standard retry mode retries
 * (throttling codes, 500/502/503/504, transient codes, dropped
 * connections, timeouts). */
KMS_API int kms_error_is_retryable(const kms_error *err);

/* {=====================================================================
 * Retries for a host that sends by itself
 * =====================================================================
 * A host with its own I/O (an event loop that must not block) runs the
 * call loop itself, with the client's own retry policy, the one
 * kms_client_call uses: max_attempts, the retry quota, exponential
 * backoff with full jitter, the adaptive mode's client-side rate limiter,
 * and the clock-skew correction learned from a response's Date. The
 * policy state (quota, limiter, skew) is the client's, shared by every
 * call on it; the state of one call is the caller's kms_retry_state. No
 * function here sleeps: the host waits with its own non-blocking sleep.
 *
 *   kms_retry_state st = KMS_RETRY_STATE_INIT;
 *   for (;;) {
 *     wait kms_client_before_send(c) seconds;
 *     kms_client_prepare(c, op, body, len, 0, &msg, &err);  (time 0!)
 *     send msg; on a response: kms_response_check(op, &resp, &err),
 *     else err.status = KMS_ERR_CONNECT, _TIMEOUT, ... (no response);
 *     act = kms_client_retry_after(c, op, &st, &resp or NULL, &err, &d);
 *     if (act == KMS_RETRY_STOP) break;      (err holds the outcome)
 *     wait d seconds (0 for KMS_RETRY_SKEW);
 *   } */

/* The state of one call (one operation with all its attempts). Set it to
 * KMS_RETRY_STATE_INIT (all zero) before the first attempt and pass it to
 * each kms_client_retry_after of that call. attempts may be read; the
 * other fields belong to the policy. A host that keeps the state
 * elsewhere between attempts (a Lua table) must give all three back. */
typedef struct kms_retry_state {
  int attempts;       /* attempts sent so far (clock-skew resends too) */
  int skew_retries;   /* clock-skew resends so far (at most one) */
  int quota_held;     /* retry-quota tokens the pending retry took */
} kms_retry_state;

#define KMS_RETRY_STATE_INIT {0, 0, 0}

typedef enum kms_retry_action {
  KMS_RETRY_STOP = 0,  /* success, or give up: err holds the outcome */
  KMS_RETRY_AGAIN = 1, /* wait *delay seconds, then sign again and send */
  KMS_RETRY_SKEW = 2   /* the client corrected its clock: sign again
                          (time 0) and send at once (*delay is 0) */
} kms_retry_action;

/* The client's retry decision after one attempt of op that the host sent.
 * err holds the attempt's outcome: status KMS_OK for a success (as
 * kms_response_check reported it), the kms_response_check error, or a
 * transport status with no response (KMS_ERR_CONNECT, _CONNECT_TIMEOUT,
 * _READ_TIMEOUT, _CONNECTION_CLOSED, _TLS). resp is the attempt's
 * response (its Date header corrects a clock skew), NULL when none came;
 * it is borrowed. Updates *state, the client's quota, rate limiter and
 * clock skew, and err: attempts (= state->attempts), retryable, and, when
 * a service error used up max_attempts, the AWS CLI's "(reached max
 * retries: N)" in the message, as kms_client_call words it. *delay
 * (may be NULL) receives the seconds to wait, 0 unless KMS_RETRY_AGAIN.
 * The decision is logged at debug level through the client's log. NULL
 * c, state or err, or an op out of range: KMS_RETRY_STOP, nothing
 * changed. */
KMS_API kms_retry_action kms_client_retry_after(kms_client *c,
                                                kms_operation op,
                                                kms_retry_state *state,
                                                const kms_http_response
                                                    *resp,
                                                kms_error *err,
                                                double *delay);

/* Before each attempt a host sends by itself: in adaptive mode, once
 * throttling has been seen, takes a token from the client's rate limiter
 * and returns the seconds the host must wait before sending (0 when a
 * token is there, in standard mode, and for a NULL c). Never sleeps: the
 * token is taken at once and the wait repays it, so the host must wait
 * that long. */
KMS_API double kms_client_before_send(kms_client *c);

/* Validates (static rules, and contextual ones when ctx is given),
 * encodes and sends an UpdateCustomKeyStore. Nothing is sent when the
 * request has an error-severity problem (KMS_ERR_VALIDATION). */
KMS_API kms_status kms_client_update_custom_key_store(
    kms_client *c, const kms_request *req, const kms_store_context *ctx,
    kms_error *err);

/* DescribeCustomKeyStores, following NextMarker until the end; out_json
 * receives {"CustomKeyStores": [...]} with every page merged. id and name
 * may be NULL. */
KMS_API kms_status kms_client_describe_custom_key_stores(
    kms_client *c, const char *custom_key_store_id,
    const char *custom_key_store_name, kms_buf *out_json, kms_error *err);
KMS_API kms_status kms_client_connect_custom_key_store(
    kms_client *c, const char *custom_key_store_id, kms_error *err);
KMS_API kms_status kms_client_disconnect_custom_key_store(
    kms_client *c, const char *custom_key_store_id, kms_error *err);

/* {=====================================================================
 * JMESPath (for --query and the describe/plan outputs)
 * ===================================================================== */

/* Evaluates a JMESPath expression over JSON text and writes the result as
 * compact JSON ("null" for no result). A bad expression is KMS_ERR_PARSE
 * with the position in the message; a bad JSON document likewise. */
KMS_API kms_status kms_jmespath_search(const char *expression,
                                       const char *json, size_t json_len,
                                       kms_buf *out, kms_error *err);

/* Checks the syntax of a JMESPath expression (borrowed) without a
 * document, as jmespath.compile() does when the AWS CLI checks --query
 * before it sends anything: KMS_ERR_PARSE with the position in the
 * message for a syntax error (or nesting too deep). An unknown function,
 * a wrong number of arguments or a wrong type pass here: like
 * jmespath.py, kms_jmespath_search reports them. KMS_ERR_INVALID_ARG for
 * a NULL expression, KMS_ERR_NOMEM when out of memory. */
KMS_API kms_status kms_jmespath_check(const char *expression,
                                      kms_error *err);

#ifdef __cplusplus
}
#endif
#endif /* KMS_KMS_H */
