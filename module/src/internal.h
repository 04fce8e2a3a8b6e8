/* internal.h - helpers shared by the files of the C core (kmsi_ prefix,
 * hidden visibility). Nothing here is part of the public ABI. */
#ifndef KMS_INTERNAL_H
#define KMS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "kms/kms.h"

#if defined(__GNUC__)
#define KMSI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KMSI_PRINTF(a, b)
#endif

/* {===== allocation (alloc.c) ===== */

/* The default allocator (realloc/free). */
void *kmsi_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* An allocator and its user data, carried by every object. */
typedef struct kmsi_allocator {
  kms_alloc_fn fn;
  void *ud;
} kmsi_allocator;

/* Fills a with (fn, ud), or the default allocator when fn is NULL. */
void kmsi_allocator_init(kmsi_allocator *a, kms_alloc_fn fn, void *ud);
void *kmsi_malloc(const kmsi_allocator *a, size_t n);
void *kmsi_calloc(const kmsi_allocator *a, size_t n);
void kmsi_free(const kmsi_allocator *a, void *p, size_t n);
/* Wipes n bytes with a primitive the compiler cannot remove, then frees. */
void kmsi_free_secret(const kmsi_allocator *a, void *p, size_t n);
/* NUL-terminated copy of s[0..len); NULL on failure. Free with size len+1. */
char *kmsi_strndup(const kmsi_allocator *a, const char *s, size_t len);
/* Wipes memory (OPENSSL_cleanse). */
void kmsi_wipe(void *p, size_t n);
/* }===== */

/* {===== byte buffers (buf.c) ===== */

/* Initialises an empty buffer using allocator a (NULL: default). */
void kmsi_buf_init(kms_buf *b, const kmsi_allocator *a, int secret);
/* Makes room for n more bytes (plus a NUL). Secret buffers move into a
 * fresh block and wipe the old one rather than realloc. */
kms_status kmsi_buf_reserve(kms_buf *b, size_t n);
kms_status kmsi_buf_append(kms_buf *b, const void *data, size_t n);
kms_status kmsi_buf_puts(kms_buf *b, const char *s);
kms_status kmsi_buf_putc(kms_buf *b, char c);
kms_status kmsi_buf_printf(kms_buf *b, const char *fmt, ...) KMSI_PRINTF(2, 3);
/* Lowercase hex of data[0..n). */
kms_status kmsi_buf_hex(kms_buf *b, const unsigned char *data, size_t n);
/* Empties the buffer (wiping secret contents) but keeps its memory. */
void kmsi_buf_reset(kms_buf *b);
/* }===== */

/* {===== errors (error.c) ===== */

/* Sets err (if not NULL) to status with a formatted message. Returns
 * status so callers can `return kmsi_error(err, ...)`. Must never be given
 * a secret. */
kms_status kmsi_error(kms_error *err, kms_status status, const char *fmt, ...)
    KMSI_PRINTF(3, 4);
/* Appends OpenSSL's error queue to err's message and clears the queue, so
 * nothing is left behind for the host. */
kms_status kmsi_error_openssl(kms_error *err, const char *what);
/* The AWS CLI's text for a certificate that does not name host (a DNS
 * name or an IP address): KMS_ERR_TLS "SSL validation failed for URL
 * [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname
 * mismatch, certificate is not valid for 'HOST'." (Python's wording). */
kms_status kmsi_error_tls_mismatch(kms_error *err, const char *url,
                                   const char *host);
/* Copies src into a fixed field, truncating. */
void kmsi_strlcpy(char *dst, const char *src, size_t size);
/* }===== */

/* {===== JSON text (json.c) ===== */

/* Appends s[0..len) as a JSON string literal the way Python's json.dumps
 * does with ensure_ascii (botocore's encoder): ", \\, \b \f \n \r \t,
 * other controls and every non-ASCII code point as lowercase \uXXXX,
 * astral ones as surrogate pairs. Invalid UTF-8 bytes are escaped as
 * U+FFFD. */
kms_status kmsi_json_put_string(kms_buf *b, const char *s, size_t len);

/* Counts Unicode code points in UTF-8 text (as the AWS tools count
 * lengths); an invalid byte counts as one. */
size_t kmsi_utf8_length(const char *s, size_t len);

/* Decodes one well-formed UTF-8 sequence at s[0..len) (len >= 1: no
 * overlong form, surrogate or code point above U+10FFFF) into *cp.
 * Returns its length, 0 when it is not well-formed. */
size_t kmsi_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Writes code point cp (at most U+10FFFF) as UTF-8 into out (room for 4
 * bytes). Returns the number of bytes. */
size_t kmsi_utf8_put(uint32_t cp, char *out);

/* The value of the 4 hex digits (either case) at s, the digits of a \u
 * escape, into *out. Returns 1, or 0 when one is not a hex digit. */
int kmsi_hex4(const char *s, uint32_t *out);
/* }===== */


/* {===== settings resolution (settings.c, profile.c) ===== */

typedef enum kmsi_retry_mode {
  KMSI_RETRY_STANDARD = 0,
  KMSI_RETRY_ADAPTIVE = 1
} kmsi_retry_mode;

/* Everything a client needs, resolved the AWS way from the explicit
 * kms_config, then the environment, then the shared config/credentials
 * files (profile). Strings are owned (allocator a) and freed by
 * kmsi_settings_free. */
typedef struct kmsi_settings {
  char *region;              /* NULL when none was found */
  char *profile;             /* the profile in effect ("default" if none) */
  char *endpoint_url;        /* explicit endpoint (config, env, profile
                                services section), or NULL */
  char *ca_bundle;
  char *user_agent;
  char *config_file, *credentials_file; /* resolved paths */
  int max_attempts;          /* >= 1; default 3 */
  kmsi_retry_mode retry_mode;
  long connect_timeout_ms;   /* default 60000; 0 = none */
  long read_timeout_ms;      /* default 60000; 0 = none */
  int verify_tls;            /* default 1 */
  int use_fips;
  int use_dualstack;
  int no_sign_request;
  int profile_explicit;      /* profile came from kms_config (--profile):
                                it then beats env credentials */
  char *sts_endpoint_url;    /* AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL,
                                services/profile; NULL: regional STS */
} kmsi_settings;

/* Reads one explicit setting from a kms_config (NULL when not set). */
const char *kmsi_config_get(const kms_config *cfg, const char *name);
const kmsi_allocator *kmsi_config_allocator(const kms_config *cfg);
void kmsi_config_log(const kms_config *cfg, kms_log_fn *fn, void **ud,
                     kms_log_level *max_level);
void kmsi_config_transport(const kms_config *cfg, kms_transport_fn *fn,
                           void **ud);

/* Fills out (zeroed first) from cfg (NULL: nothing explicit), the
 * environment and the shared files. KMS_ERR_CONFIG with the AWS CLI's
 * text for a missing named profile, a bad region format, retry mode,
 * max_attempts, timeout or endpoint URL; KMS_ERR_PARSE for a malformed
 * shared file. No region is not an error here (region stays NULL). On
 * failure out holds nothing to free. */
kms_status kmsi_settings_resolve(const kms_config *cfg, kmsi_settings *out,
                                 kms_error *err);
void kmsi_settings_free(kmsi_settings *s, const kmsi_allocator *a);

/* The environment variable name, or NULL when it is unset or empty (an
 * empty AWS_* variable counts as missing throughout). */
const char *kmsi_env(const char *name);

/* Python's int() on a config string (spaces around, a sign, digits with
 * single "_" between them). Returns 1 and *out on success, 0 otherwise
 * (also beyond the range of long). */
int kmsi_parse_int(const char *s, long *out);

/* The shared files, parsed (profile.c). Every value is kept in wiped
 * memory: the credentials file holds secret keys. */
typedef struct kmsi_profiles kmsi_profiles;
typedef enum kmsi_file {
  KMSI_FILE_CONFIG = 0,       /* [default], [profile x], [services x] */
  KMSI_FILE_CREDENTIALS = 1   /* [x] */
} kmsi_file;

/* Parses both files (a NULL path, a missing or unreadable file is an
 * empty one). KMS_ERR_PARSE "Unable to parse config file: PATH (line N)"
 * on a malformed file; the offending text is never quoted. */
kms_status kmsi_profiles_load(const kmsi_allocator *a,
                              const char *config_file,
                              const char *credentials_file,
                              kmsi_profiles **out, kms_error *err);
void kmsi_profiles_free(kmsi_profiles *p);
/* 1 when either file has a section for the profile. */
int kmsi_profiles_exists(const kmsi_profiles *p, const char *profile);
/* A profile's value for key (lowercase), the credentials file winning
 * over the config file as in botocore's merged profile; borrowed, NULL
 * when absent. */
const char *kmsi_profiles_get(const kmsi_profiles *p, const char *profile,
                              const char *key);
/* The same from one file only. */
const char *kmsi_profiles_get_in(const kmsi_profiles *p, kmsi_file f,
                                 const char *profile, const char *key);
/* The nested key of service in the [services NAME] section that the
 * profile's "services = NAME" names ("kms =" then "  endpoint_url = ...").
 * Borrowed, NULL when absent. */
const char *kmsi_profiles_service_get(const kmsi_profiles *p,
                                      const char *profile,
                                      const char *service, const char *key);
/* }===== */

/* {===== endpoints (endpoint.c) ===== */

/* The KMS URL for region by the endpoint rule set (partitions, FIPS,
 * dual-stack), e.g. "https://kms.us-east-1.amazonaws.com". out is
 * initialised by the call. */
kms_status kmsi_endpoint_resolve(const char *region, int use_fips,
                                 int use_dualstack, kms_buf *out,
                                 kms_error *err);
/* The regional STS URL by the same partitions ("https://sts.REGION.
 * amazonaws.com", FIPS and dual-stack alike, aws-us-gov FIPS being the
 * plain host as in STS's rule set); NULL region: the global
 * https://sts.amazonaws.com. out is initialised by the call. */
kms_status kmsi_sts_endpoint(const char *region, int use_fips,
                             int use_dualstack, kms_buf *out,
                             kms_error *err);
/* The partition a region belongs to ("aws", "aws-cn", ...). Static. */
const char *kmsi_partition_name(const char *region);
/* }===== */

/* {===== credentials, HTTP messages, SigV4 (creds.c, http.c, sigv4.c) ===== */

/* The secret halves of a kms_credentials (borrowed; never log them). The
 * token is NULL when there is none. */
const char *kmsi_credentials_secret(const kms_credentials *c, size_t *len);
const char *kmsi_credentials_token(const kms_credentials *c, size_t *len);

/* The message's allocator. */
const kmsi_allocator *kmsi_http_allocator(const kms_http *m);
/* Header i with lengths (borrowed); 0 when out of range. */
int kmsi_http_header_n(const kms_http *m, size_t i, const char **name,
                       size_t *name_len, const char **value,
                       size_t *value_len);
/* Inserts a header at pos ((size_t)-1: at the end). */
kms_status kmsi_http_insert_header(kms_http *m, size_t pos, const char *name,
                                   const char *value, size_t vlen,
                                   kms_error *err);
/* The same for a name and value the caller built and knows to be valid
 * (no check): the signer's own headers. */
kms_status kmsi_http_insert_checked(kms_http *m, size_t pos,
                                    const char *name, size_t nlen,
                                    const char *value, size_t vlen,
                                    kms_error *err);
/* Removes (and wipes) every header of that name, case-insensitive; the
 * second form removes every header named in names[0..n) in one pass.
 * Header names and values returned earlier are invalid afterwards. */
void kmsi_http_remove_header(kms_http *m, const char *name);
void kmsi_http_remove_headers(kms_http *m, const char *const *names,
                              size_t n);
/* The raw path and query (query NULL when the URL had no '?'). */
const char *kmsi_http_path(const kms_http *m, size_t *len);
const char *kmsi_http_query(const kms_http *m, size_t *len);
/* Appends already-encoded parameters to the query. */
kms_status kmsi_http_append_query(kms_http *m, const char *params,
                                  size_t len, kms_error *err);
/* Parses the SigV4 test suite's request.txt format (request line with a
 * raw target, "Name:value" lines, folded continuation lines, blank line,
 * body) into a message for https://<Host><target>. KMS_ERR_PARSE when
 * malformed. */
kms_status kmsi_http_from_text(const char *text, size_t len,
                               kms_alloc_fn alloc, void *alloc_ud,
                               kms_http **out, kms_error *err);

/* How many signing keys this signer has derived (cache misses): lets the
 * tests prove a cache hit. */
unsigned long kmsi_signer_derivations(const kms_signer *s);
/* }===== */

/* {===== credential providers (credentials*.c) ===== */

typedef struct kmsi_cred_chain kmsi_cred_chain;

/* The AWS default chain for these settings: explicit, environment, web
 * identity, profile (static keys, credential_process, assume role), ECS
 * container, EC2 instance metadata. HTTP calls go through transport. */
kmsi_cred_chain *kmsi_cred_chain_new(const kms_config *cfg,
                                     const kmsi_settings *s,
                                     kms_transport_fn transport, void *tud,
                                     kms_error *err);
void kmsi_cred_chain_free(kmsi_cred_chain *chain);
/* Returns credentials valid at now (refreshing those that expire within
 * five minutes), borrowed until the next call. *source receives a static
 * name ("env", "shared-credentials-file", "assume-role", ...). */
kms_status kmsi_cred_chain_get(kmsi_cred_chain *chain, time_t now,
                               const kms_credentials **out,
                               const char **source, kms_error *err);
/* }===== */

/* {===== the request on the wire (wire.c) ===== */

#define KMSI_WIRE_MAX_HEADERS 64

/* A request's headers in the order they are sent (names and values
 * borrowed from the message, Content-Length's value from num). */
typedef struct kmsi_wire_headers {
  size_t n;
  const char *name[KMSI_WIRE_MAX_HEADERS + 3];
  const char *value[KMSI_WIRE_MAX_HEADERS + 3];
  char num[32];
} kmsi_wire_headers;

/* Fills w with req's headers in the AWS CLI's order, adding
 * Accept-Encoding: identity, User-Agent and (has_body) Content-Length when
 * req lacks them. More than KMSI_WIRE_MAX_HEADERS: KMS_ERR_INVALID_ARG. */
kms_status kmsi_wire_headers_order(const kms_http *req, int has_body,
                                   size_t body_len, kmsi_wire_headers *w);
/* }===== */

/* {===== the default transport (transport_default_*.c) ===== */

/* A transport the client owns: send with ud, released by free(ud). */
typedef struct kmsi_transport {
  kms_transport_fn send;
  void *ud;
  void (*free)(void *ud);
} kmsi_transport;

/* Creates the default transport into *out. Implemented twice, over libcurl
 * (transport_default_curl.c: the shared library, Lua module, plugins,
 * tests) and over the native transport (transport_default_native.c: the
 * CLI); the build links each face with exactly one. On failure err is set
 * and *out is zeroed. */
kms_status kmsi_default_transport_new(const kmsi_allocator *a,
                                      kmsi_transport *out, kms_error *err);
/* }===== */

/* {===== libcurl transport (transport_curl.c) ===== */

typedef struct kmsi_curl kmsi_curl;
/* One reused easy handle (keep-alive). curl_global_init is the host's or
 * kms_client_new's job, once, single-threaded. */
kmsi_curl *kmsi_curl_new(const kmsi_allocator *a, kms_error *err);
void kmsi_curl_free(kmsi_curl *t);
/* A kms_transport_fn; ud is a kmsi_curl. */
kms_status kmsi_curl_send(void *ud, const kms_http *req,
                          const kms_transport_opts *opts,
                          kms_http_response *resp, kms_error *err);
/* }===== */

/* {===== native transport (transport_native.c and its helpers) ===== */

/* HTTP/1.1 over a socket, TLS by libssl, one kept-alive connection, the
 * proxies of the environment: the same contract and messages as
 * kmsi_curl_send, without libcurl. */
typedef struct kmsi_native kmsi_native;
kmsi_native *kmsi_native_new(const kmsi_allocator *a, kms_error *err);
void kmsi_native_free(kmsi_native *t);
/* A kms_transport_fn; ud is a kmsi_native. */
kms_status kmsi_native_send(void *ud, const kms_http *req,
                            const kms_transport_opts *opts,
                            kms_http_response *resp, kms_error *err);
/* }===== */

#endif /* KMS_INTERNAL_H */
