/* plugin_int.h - internals of the host plugin kmscks.so (kmsp_ prefix,
 * hidden: only kms_plugin_entry_v1 is exported). plugin_config.c is also
 * compiled into the collectd plugin, which maps its oconfig tree onto the
 * same global options. */
#ifndef KMS_PLUGIN_INT_H
#define KMS_PLUGIN_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include "kms/kms.h"
#include "kms/plugin.h"

#if defined(__GNUC__)
#define KMSP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KMSP_PRINTF(a, b)
#endif

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

/* {===== the instance and errors across the ABI (plugin.c) ===== */

#define STRUCT_SIZE_MAX (64 * 1024) /* a larger size is not a struct */

/* A client and the configuration generation it was built from. */
typedef struct pooled {
  kms_client *client;
  unsigned long gen;
  struct pooled *next;
} pooled;

struct kms_plugin_instance {
  kms_alloc_fn alloc;            /* NULL: malloc */
  void *alloc_ud;
  char host_name[64];
  kms_plugin_log_fn log;
  void *log_ud;
  int host_log_level;
  kmsp_transport transport;      /* .fn NULL: libcurl */

  pthread_mutex_t lock;          /* guards everything below */
  kms_config *cfg;               /* NULL until configured */
  int log_level;                 /* effective: LogLevel, else the host's */
  unsigned long generation;      /* bumped by every configure */
  pooled *idle;                  /* clients of the current generation */
  size_t n_idle;
};

/* Returns KMS_ERR_INVALID_ARG from the calling operation when the
 * pointer p is NULL, naming it. */
#define NEED(p, what, err)                                              \
  do {                                                                  \
    if (!(p))                                                           \
      return kmsp_fail(err, KMS_ERR_INVALID_ARG, "%s: %s is NULL", what, \
                       #p);                                             \
  } while (0)

/* 1 when the host's error struct can be written: it holds at least the
 * code, and its size is plausible. */
int kmsp_perr_usable(const kms_plugin_error *p);
/* Clears the host's error struct (as far as its size reaches). */
void kmsp_perr_clear(kms_plugin_error *p);
/* Copies a core error report into the host's struct; returns its status
 * as an int (what the operations return). */
int kmsp_report(kms_plugin_error *p, const kms_error *e);
/* Reports a failure made here (no HTTP involved). */
int kmsp_fail(kms_plugin_error *p, kms_status status, const char *fmt, ...)
    KMSP_PRINTF(3, 4);

/* The host's allocator (malloc without one). */
void *kmsp_imalloc(const kms_plugin_instance *inst, size_t n);
void kmsp_ifree(const kms_plugin_instance *inst, void *p, size_t n);
/* A copy of s[0..n) for the caller, allocated the host's way; NULL when
 * out of memory. */
char *kmsp_out_string(const kms_plugin_instance *inst, const char *s,
                      size_t n);
/* Wipes and frees a malloc'ed string. NULL is a no-op. */
void kmsp_wipe_free(char *s);

/* Takes a client for one call: an idle one, or a new one built from the
 * current configuration; NULL with *rc and err set when there is none.
 * Give it back with kmsp_release. Thread-safe. */
pooled *kmsp_acquire(kms_plugin_instance *inst, const char *what, int *rc,
                     kms_plugin_error *err);
void kmsp_release(kms_plugin_instance *inst, pooled *p);

/* The operations of the table (see kms_plugin_ops in kms/plugin.h):
 * lifecycle and configuration in plugin.c, the rest in plugin_calls.c. */
kms_plugin_instance *kmsp_op_create(const kms_plugin_host *host,
                                    kms_plugin_error *err);
void kmsp_op_destroy(kms_plugin_instance *inst);
int kmsp_op_configure_tree(kms_plugin_instance *inst,
                           const kms_plugin_config_item *root,
                           kms_plugin_error *err);
int kmsp_op_configure_kv(kms_plugin_instance *inst, const char *key,
                         const char *value, kms_plugin_error *err);
int kmsp_op_validate(kms_plugin_instance *inst, const char *request_json,
                     const char *store_json, char **problems_json,
                     kms_plugin_error *err);
int kmsp_op_sign(kms_plugin_instance *inst, const char *operation,
                 const char *request_json, int64_t time, char **signed_json,
                 kms_plugin_error *err);
int kmsp_op_check_response(kms_plugin_instance *inst, const char *operation,
                           long http_status, const char *headers,
                           const char *body, size_t body_len,
                           char **result_json, kms_plugin_error *err);
int kmsp_op_update(kms_plugin_instance *inst, const char *request_json,
                   const char *store_json, kms_plugin_error *err);
int kmsp_op_describe(kms_plugin_instance *inst, const char *id,
                     char **response_json, kms_plugin_error *err);
int kmsp_op_connect(kms_plugin_instance *inst, const char *id,
                    kms_plugin_error *err);
int kmsp_op_disconnect(kms_plugin_instance *inst, const char *id,
                       kms_plugin_error *err);
void kmsp_op_free_string(kms_plugin_instance *inst, char *s);
kms_request *kmsp_op_request_new(kms_plugin_instance *inst,
                                 kms_plugin_error *err);
int kmsp_op_request_set(kms_request *req, kms_member member,
                        const char *value, size_t len,
                        kms_plugin_error *err);
void kmsp_op_request_free(kms_request *req);
int kmsp_op_validate_request(kms_plugin_instance *inst,
                             const kms_request *req,
                             const kms_store_context *ctx,
                             char **problems_json, kms_plugin_error *err);
int kmsp_op_update_request(kms_plugin_instance *inst, const kms_request *req,
                           const kms_store_context *ctx,
                           kms_plugin_error *err);
/* }===== */

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
