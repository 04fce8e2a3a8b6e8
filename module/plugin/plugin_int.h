/* plugin_int.h - internals of the host plugin kmscks.so (kmsp_ prefix,
 * hidden: only kms_plugin_entry_v1 is exported). plugin_config.c is also
 * compiled into the collectd plugin, which maps its oconfig tree onto the
 * same global options. */
#ifndef KMS_PLUGIN_INT_H
#define KMS_PLUGIN_INT_H

#include <pthread.h>
#include <stdarg.h>
#include "kms/kms.h"
#include "kms/plugin.h"

#if defined(__GNUC__)
#define KMSP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KMSP_PRINTF(a, b)
#endif

/* {===== errors (plugin_config.c) ===== */

/* Fills a core error report: status and a formatted message. Returns
 * status. Never give it a secret. */
kms_status kmsp_error(kms_error *err, kms_status status, const char *fmt,
                      ...) KMSP_PRINTF(3, 4);
/* }===== */

/* {===== global options (plugin_config.c) ===== */

/* Applies one collectd-style option (Region, EndpointURL, VerifyTLS, ...)
 * to cfg. key is matched case-insensitively; values are type-checked
 * ("VerifyTLS: expected a boolean, got a string") and converted to the
 * kms_config_set string. The *File options read the secret from the file
 * (the value is never echoed). *log_level receives LogLevel when that is
 * the option (may be NULL). Returns KMS_OK, KMS_ERR_CONFIG (unknown
 * option, wrong type, bad value), KMS_ERR_IO (unreadable file) or
 * KMS_ERR_NOMEM. */
kms_status kmsp_config_option(kms_config *cfg, const char *key,
                              const kms_plugin_value *values, int values_num,
                              int children_num, int *log_level,
                              kms_error *err);

/* 1 when key names a global option kmsp_config_option knows. */
int kmsp_config_is_option(const char *key);

/* kms_config_set plus secret_access_key_file and session_token_file. */
kms_status kmsp_config_kv(kms_config *cfg, const char *key,
                          const char *value, kms_error *err);

/* Parses a LogLevel name ("error", "warning", "info", "debug", any case)
 * into a kms_log_level; 0 when unknown. */
int kmsp_log_level(const char *name);

/* Reads a secret from path: the whole file, one trailing "\n" or "\r\n"
 * removed, at most 64 KiB, no NUL byte. *out is allocated with malloc and
 * must be released with kmsp_secret_free. what names the option for the
 * message ("KeyStorePasswordFile: cannot read /x: No such file or
 * directory"); the content never appears in a message. */
kms_status kmsp_read_secret_file(const char *what, const char *path,
                                 char **out, size_t *len, kms_error *err);
/* Wipes and frees a secret from kmsp_read_secret_file. NULL is a no-op. */
void kmsp_secret_free(char *s, size_t len);
/* }===== */

/* {===== host transport adapter (plugin_transport.c) ===== */

/* A kms_transport_fn over the host's kms_plugin_transport_fn; ud is a
 * kmsp_transport. */
typedef struct kmsp_transport {
  kms_plugin_transport_fn fn;
  void *ud;
  kms_alloc_fn alloc;
  void *alloc_ud;
} kmsp_transport;

kms_status kmsp_transport_send(void *ud, const kms_http *req,
                               const kms_transport_opts *opts,
                               kms_http_response *resp, kms_error *err);
/* }===== */

/* {===== JSON across the ABI (plugin_json.c) ===== */

/* The problems as [{"severity", "code", "member", "message"}], into a
 * malloc'ed string (NULL when out of memory). */
char *kmsp_problems_json(const kms_problems *p);

/* Parses store_json (see kms_plugin_ops.validate) into ctx. The strings
 * point into *holder, which the caller frees with kmsp_json_free. A NULL
 * store_json gives an empty context. */
kms_status kmsp_store_context(const char *store_json, kms_store_context *ctx,
                              void **holder, kms_error *err);
void kmsp_json_free(void *holder);

/* The signed message as {"method", "url", "headers", "body"}: built
 * without copying the body into cJSON and rendered into a buffer that is
 * wiped; *out is malloc'ed (the caller wipes and frees). */
kms_status kmsp_http_json(const kms_http *msg, char **out, kms_error *err);

/* The arguments of a helper operation: {"CustomKeyStoreId",
 * "CustomKeyStoreName", "Limit", "Marker"} (which keys are allowed
 * depends on op). Encodes the body into out. */
kms_status kmsp_helper_body(kms_operation op, const char *args_json,
                            kms_buf *out, kms_error *err);

/* Looks an operation up by its API name; KMS_OP__COUNT when unknown. */
kms_operation kmsp_operation_lookup(const char *name);
/* }===== */

#endif /* KMS_PLUGIN_INT_H */
