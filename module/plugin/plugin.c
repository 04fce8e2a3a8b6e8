/* plugin.c - kmscks.so, the host plugin: the one exported entry point
 * (kms_plugin_entry_v1), ABI version checks, the instance (configuration
 * under a lock plus a pool of clients, so one instance serves many
 * threads), and the operations table over the core. Requests cross as
 * JSON and are parsed by the core (kms_request_load_json); every failure
 * is copied into the caller's kms_plugin_error as far as its size
 * reaches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include <openssl/crypto.h>
#include "plugin_int.h"

#define KMSP_EXPORT __attribute__((visibility("default")))
#define STRUCT_SIZE_MAX (64 * 1024) /* a larger size is not a struct */
#define POOL_MAX 16                 /* idle clients kept per instance */

/* The one exported symbol (its type is kms_plugin_entry_fn). */
KMSP_EXPORT const kms_plugin_ops *kms_plugin_entry_v1(uint32_t abi_major,
                                                      uint32_t abi_minor,
                                                      kms_plugin_error *err);

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

/* {===== errors across the ABI ===== */

/* 1 when the host's error struct can be written: it holds at least the
 * code, and its size is plausible. */
static int perr_usable(const kms_plugin_error *p)
{
  return p && p->struct_size >= offsetof(kms_plugin_error, http_status) &&
         p->struct_size <= STRUCT_SIZE_MAX;
}

/* Copies full (whose struct_size is sizeof) into the host's struct as far
 * as its struct_size reaches; a text field cut by the size ends in NUL. */
static void perr_store(kms_plugin_error *p, const kms_plugin_error *full)
{
  static const struct {
    size_t off, size;
  } texts[] = {
    {offsetof(kms_plugin_error, aws_type), sizeof full->aws_type},
    {offsetof(kms_plugin_error, request_id), sizeof full->request_id},
    {offsetof(kms_plugin_error, message), sizeof full->message},
    {offsetof(kms_plugin_error, code_name), sizeof full->code_name},
  };
  size_t n, i, keep;

  if (!perr_usable(p))
    return;
  keep = p->struct_size;
  n = keep < sizeof *full ? keep : sizeof *full;
  memcpy((char *)p + sizeof p->struct_size,
         (const char *)full + sizeof full->struct_size,
         n - sizeof p->struct_size);
  for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
    if (texts[i].off < n && texts[i].off + texts[i].size > n)
      ((char *)p)[n - 1] = '\0';
  p->struct_size = keep;
}

static void perr_clear(kms_plugin_error *p)
{
  kms_plugin_error full;

  memset(&full, 0, sizeof full);
  full.struct_size = sizeof full;
  snprintf(full.code_name, sizeof full.code_name, "%s", kms_strerror(KMS_OK));
  perr_store(p, &full);
}

/* Reports a core error report e into p and returns its status as int. */
static int report(kms_plugin_error *p, const kms_error *e)
{
  kms_plugin_error full;

  memset(&full, 0, sizeof full);
  full.struct_size = sizeof full;
  full.code = (int)e->status;
  full.http_status = e->http_status;
  snprintf(full.aws_type, sizeof full.aws_type, "%s", e->aws_type);
  snprintf(full.request_id, sizeof full.request_id, "%s", e->request_id);
  snprintf(full.message, sizeof full.message, "%s", e->message);
  snprintf(full.code_name, sizeof full.code_name, "%s",
           kms_strerror(e->status));
  full.attempts = e->attempts;
  perr_store(p, &full);
  return (int)e->status;
}

/* Reports a failure made here (no HTTP involved). */
static int fail(kms_plugin_error *p, kms_status status, const char *fmt, ...)
    KMSP_PRINTF(3, 4);
static int fail(kms_plugin_error *p, kms_status status, const char *fmt, ...)
{
  kms_error e;
  va_list ap;

  kms_error_clear(&e);
  e.status = status;
  va_start(ap, fmt);
  vsnprintf(e.message, sizeof e.message, fmt, ap);
  va_end(ap);
  return report(p, &e);
}

#define NEED(p, what, err)                                              \
  do {                                                                  \
    if (!(p))                                                           \
      return fail(err, KMS_ERR_INVALID_ARG, "%s: %s is NULL", what, #p); \
  } while (0)
/* }===== */

/* {===== memory and logging ===== */

static void *imalloc(const kms_plugin_instance *inst, size_t n)
{
  return inst->alloc ? inst->alloc(inst->alloc_ud, NULL, 0, n) : malloc(n);
}

static void ifree(const kms_plugin_instance *inst, void *p, size_t n)
{
  if (!p)
    return;
  if (inst->alloc)
    inst->alloc(inst->alloc_ud, p, n, 0);
  else
    free(p);
}

/* A copy of s[0..n) for the caller, allocated the host's way. */
static char *out_string(const kms_plugin_instance *inst, const char *s,
                        size_t n)
{
  char *r = imalloc(inst, n + 1);
  if (r) {
    memcpy(r, s, n);
    r[n] = '\0';
  }
  return r;
}

static void wipe_free(char *s)
{
  if (s) {
    OPENSSL_cleanse(s, strlen(s));
    free(s);
  }
}

/* The core's log sink: passes lines up to the instance's level on. The
 * level is read without the lock: it is set before the client that logs
 * is built, and a client is built under the lock. */
static void core_log(void *ud, kms_log_level level, const char *msg)
{
  const kms_plugin_instance *inst = ud;
  if (inst->log)
    inst->log(inst->log_ud, (int)level, msg);
}

static void plog(const kms_plugin_instance *inst, int level, int max,
                 const char *fmt, ...) KMSP_PRINTF(4, 5);
static void plog(const kms_plugin_instance *inst, int level, int max,
                 const char *fmt, ...)
{
  char line[512];
  va_list ap;

  if (!inst->log || level > max)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  inst->log(inst->log_ud, level, line);
}
/* }===== */

/* {===== instance and configuration ===== */

/* The field f of the host struct when its struct_size covers it. */
#define HOST_FIELD(h, f)                                                  \
  ((h)->struct_size >= offsetof(kms_plugin_host, f) + sizeof((h)->f)     \
       ? (h)->f                                                          \
       : 0)

static kms_plugin_instance *p_create(const kms_plugin_host *host,
                                     kms_plugin_error *err)
{
  kms_plugin_instance *inst;
  kms_alloc_fn alloc = NULL;
  void *alloc_ud = NULL;
  const char *name = NULL;

  perr_clear(err);
  if (host) {
    if (host->abi_major != KMS_PLUGIN_ABI_MAJOR) {
      fail(err, KMS_ERR_INVALID_ARG, "create: host ABI %u.%u is not "
           "supported: kmscks %s implements ABI %d.%d (any %d.x host works)",
           (unsigned)host->abi_major, (unsigned)host->abi_minor,
           KMS_VERSION_STRING, KMS_PLUGIN_ABI_MAJOR, KMS_PLUGIN_ABI_MINOR,
           KMS_PLUGIN_ABI_MAJOR);
      return NULL;
    }
    if (host->struct_size < offsetof(kms_plugin_host, host_name) ||
        host->struct_size > STRUCT_SIZE_MAX) {
      fail(err, KMS_ERR_INVALID_ARG, "create: host struct_size %zu is not "
           "valid for ABI %d (at least %zu, this plugin knows %zu)",
           host->struct_size, KMS_PLUGIN_ABI_MAJOR,
           offsetof(kms_plugin_host, host_name), sizeof *host);
      return NULL;
    }
    alloc = HOST_FIELD(host, alloc);
    alloc_ud = alloc ? HOST_FIELD(host, alloc_ud) : NULL;
    name = HOST_FIELD(host, host_name);
  }
  inst = alloc ? alloc(alloc_ud, NULL, 0, sizeof *inst)
               : malloc(sizeof *inst);
  if (!inst) {
    fail(err, KMS_ERR_NOMEM, "create: out of memory");
    return NULL;
  }
  memset(inst, 0, sizeof *inst);
  inst->alloc = alloc;
  inst->alloc_ud = alloc_ud;
  snprintf(inst->host_name, sizeof inst->host_name, "%s",
           name ? name : "host");
  if (host) {
    inst->log = HOST_FIELD(host, log);
    inst->log_ud = HOST_FIELD(host, log_ud);
    inst->host_log_level = HOST_FIELD(host, log_level);
    inst->transport.fn = HOST_FIELD(host, transport);
    inst->transport.ud = HOST_FIELD(host, transport_ud);
  }
  if (inst->host_log_level <= 0)
    inst->host_log_level = KMS_LOG_INFO;
  inst->log_level = inst->host_log_level;
  inst->transport.alloc = alloc;
  inst->transport.alloc_ud = alloc_ud;
  if (pthread_mutex_init(&inst->lock, NULL) != 0) {
    ifree(inst, inst, sizeof *inst);
    fail(err, KMS_ERR_NOMEM, "create: cannot create a mutex");
    return NULL;
  }
  plog(inst, KMS_LOG_DEBUG, inst->log_level,
       "kmscks %s loaded by %s (ABI %d.%d)", KMS_VERSION_STRING,
       inst->host_name, KMS_PLUGIN_ABI_MAJOR, KMS_PLUGIN_ABI_MINOR);
  return inst;
}

static void free_pool(kms_plugin_instance *inst, pooled *list)
{
  pooled *next;
  for (; list; list = next) {
    next = list->next;
    kms_client_free(list->client);
    ifree(inst, list, sizeof *list);
  }
}

static void p_destroy(kms_plugin_instance *inst)
{
  kms_alloc_fn alloc;
  void *alloc_ud;

  if (!inst)
    return;
  alloc = inst->alloc;
  alloc_ud = inst->alloc_ud;
  free_pool(inst, inst->idle);
  kms_config_free(inst->cfg);
  pthread_mutex_destroy(&inst->lock);
  OPENSSL_cleanse(inst, sizeof *inst);
  if (alloc)
    alloc(alloc_ud, inst, sizeof *inst, 0);
  else
    free(inst);
}

/* A fresh configuration with the instance's log sink, transport and
 * User-Agent; options set later override the User-Agent. */
static kms_config *new_config(kms_plugin_instance *inst, int level,
                              kms_error *e)
{
  char ua[160];
  kms_config *cfg = kms_config_new(inst->alloc, inst->alloc_ud, e);

  if (!cfg)
    return NULL;
  kms_config_set_log(cfg, inst->log ? core_log : NULL, inst,
                     (kms_log_level)level);
  if (inst->transport.fn)
    kms_config_set_transport(cfg, kmsp_transport_send, &inst->transport);
  snprintf(ua, sizeof ua, "kmscks/%s plugin/%d.%d %s", KMS_VERSION_STRING,
           KMS_PLUGIN_ABI_MAJOR, KMS_PLUGIN_ABI_MINOR, inst->host_name);
  if (kms_config_set(cfg, "user_agent", ua, e) != KMS_OK) {
    kms_config_free(cfg);
    return NULL;
  }
  return cfg;
}

/* Installs cfg (taking it) as the configuration, with c (may be NULL) as
 * its first pooled client. Clients of older generations are freed. */
static void install_config(kms_plugin_instance *inst, kms_config *cfg,
                           int level, pooled *first)
{
  kms_config *old;
  pooled *stale;

  pthread_mutex_lock(&inst->lock);
  old = inst->cfg;
  stale = inst->idle;
  inst->cfg = cfg;
  inst->log_level = level;
  inst->generation++;
  inst->idle = first;
  inst->n_idle = first ? 1 : 0;
  if (first)
    first->gen = inst->generation;
  pthread_mutex_unlock(&inst->lock);
  free_pool(inst, stale);
  kms_config_free(old);
}

static int p_configure_tree(kms_plugin_instance *inst,
                            const kms_plugin_config_item *root,
                            kms_plugin_error *err)
{
  const kms_plugin_config_item *it;
  kms_config *cfg = NULL;
  pooled *first = NULL;
  kms_error e;
  int i, level, rc;

  perr_clear(err);
  NEED(inst, "configure_tree", err);
  NEED(root, "configure_tree", err);
  kms_error_clear(&e);
  if (root->children_num < 0 || (root->children_num && !root->children))
    return fail(err, KMS_ERR_INVALID_ARG, "configure_tree: children_num "
                "%d does not match the children", root->children_num);
  level = inst->host_log_level;
  cfg = new_config(inst, level, &e);
  if (!cfg)
    goto fail_e;
  for (i = 0; i < root->children_num; i++) {
    it = &root->children[i];
    if (!it->key) {
      rc = fail(err, KMS_ERR_INVALID_ARG, "configure_tree: child %d has a "
                "NULL key", i);
      goto cleanup;
    }
    if (it->values_num < 0 || (it->values_num && !it->values) ||
        it->children_num < 0 || (it->children_num && !it->children)) {
      rc = fail(err, KMS_ERR_INVALID_ARG, "configure_tree: %s: values_num "
                "or children_num does not match the pointers", it->key);
      goto cleanup;
    }
    if (kmsp_config_option(cfg, it->key, it->values, it->values_num,
                           it->children_num, &level, &e) != KMS_OK)
      goto fail_e;
  }
  kms_config_set_log(cfg, inst->log ? core_log : NULL, inst,
                     (kms_log_level)level);
  /* Build a client now, so a bad setting is reported by this call. */
  first = imalloc(inst, sizeof *first);
  if (!first) {
    rc = fail(err, KMS_ERR_NOMEM, "configure_tree: out of memory");
    goto cleanup;
  }
  memset(first, 0, sizeof *first);
  first->client = kms_client_new(cfg, &e);
  if (!first->client) {
    if (e.status == KMS_OK)
      e.status = KMS_ERR_CONFIG;
    goto fail_e;
  }
  plog(inst, KMS_LOG_INFO, level, "kmscks: configured: region %s, endpoint "
       "%s", kms_client_region(first->client),
       kms_client_endpoint(first->client));
  install_config(inst, cfg, level, first);
  return 0;
fail_e:
  rc = report(err, &e);
cleanup:
  if (first)
    free_pool(inst, first);
  kms_config_free(cfg);
  return rc;
}

static int p_configure_kv(kms_plugin_instance *inst, const char *key,
                          const char *value, kms_plugin_error *err)
{
  kms_error e;
  kms_status st = KMS_OK;
  pooled *stale = NULL;
  int level;

  perr_clear(err);
  NEED(inst, "configure_kv", err);
  NEED(key, "configure_kv", err);
  kms_error_clear(&e);
  pthread_mutex_lock(&inst->lock);
  if (!inst->cfg)
    inst->cfg = new_config(inst, inst->log_level, &e);
  if (!inst->cfg) {
    st = e.status ? e.status : KMS_ERR_NOMEM;
  } else if (strcmp(key, "log_level") == 0) {
    /* Not a kms_config setting: the level of the host's log sink. */
    level = value ? kmsp_log_level(value) : inst->host_log_level;
    if (!level) {
      st = kmsp_error(&e, KMS_ERR_CONFIG, "log_level: expected error, "
                      "warning, info or debug");
    } else {
      inst->log_level = level;
      kms_config_set_log(inst->cfg, inst->log ? core_log : NULL, inst,
                         (kms_log_level)level);
    }
  } else {
    st = kmsp_config_kv(inst->cfg, key, value, &e);
  }
  if (st == KMS_OK) {
    inst->generation++;
    stale = inst->idle;
    inst->idle = NULL;
    inst->n_idle = 0;
  }
  pthread_mutex_unlock(&inst->lock);
  free_pool(inst, stale);
  if (st != KMS_OK)
    return report(err, &e);
  return 0;
}

/* Takes a client for one call: an idle one, or a new one built from the
 * current configuration. Give it back with release(). */
static pooled *acquire(kms_plugin_instance *inst, const char *what,
                       kms_plugin_error *err)
{
  pooled *p = NULL;
  kms_error e;

  kms_error_clear(&e);
  pthread_mutex_lock(&inst->lock);
  if (!inst->cfg) {
    pthread_mutex_unlock(&inst->lock);
    fail(err, KMS_ERR_CONFIG, "%s: the plugin is not configured (call "
         "configure_tree or configure_kv first)", what);
    return NULL;
  }
  if (inst->idle) {
    p = inst->idle;
    inst->idle = p->next;
    inst->n_idle--;
  } else {
    p = imalloc(inst, sizeof *p);
    if (p) {
      memset(p, 0, sizeof *p);
      p->gen = inst->generation;
      p->client = kms_client_new(inst->cfg, &e);
      if (!p->client) {
        ifree(inst, p, sizeof *p);
        p = NULL;
      }
    } else {
      kmsp_error(&e, KMS_ERR_NOMEM, "%s: out of memory", what);
    }
  }
  pthread_mutex_unlock(&inst->lock);
  if (!p)
    report(err, &e);
  else
    p->next = NULL;
  return p;
}

static void release(kms_plugin_instance *inst, pooled *p)
{
  int keep;

  if (!p)
    return;
  pthread_mutex_lock(&inst->lock);
  keep = p->gen == inst->generation && inst->n_idle < POOL_MAX;
  if (keep) {
    p->next = inst->idle;
    inst->idle = p;
    inst->n_idle++;
  }
  pthread_mutex_unlock(&inst->lock);
  if (!keep)
    free_pool(inst, p);
}
/* }===== */

/* {===== JSON face ===== */

/* Parses request_json into a new request (the core's parser: member
 * rules live there). */
static kms_request *load_request(kms_plugin_instance *inst,
                                 const char *request_json, kms_error *e)
{
  kms_request *req = kms_request_new(inst->alloc, inst->alloc_ud, e);
  if (!req)
    return NULL;
  if (kms_request_load_json(req, request_json, strlen(request_json), e) !=
      KMS_OK) {
    kms_request_free(req);
    return NULL;
  }
  return req;
}

/* Validates req with ctx (NULL: static rules only) and hands out the
 * problems. */
static int validate_common(kms_plugin_instance *inst, const kms_request *req,
                           const kms_store_context *ctx, char **problems_json,
                           kms_plugin_error *err)
{
  kms_problems *probs = NULL;
  kms_error e;
  kms_status st;
  char *text;

  kms_error_clear(&e);
  st = kms_request_validate(req, ctx, &probs, &e);
  if (st != KMS_OK && st != KMS_ERR_VALIDATION) {
    kms_problems_free(probs);
    return report(err, &e);
  }
  text = kmsp_problems_json(probs);
  kms_problems_free(probs);
  if (!text)
    return fail(err, KMS_ERR_NOMEM, "validate: out of memory");
  *problems_json = out_string(inst, text, strlen(text));
  free(text);
  if (!*problems_json)
    return fail(err, KMS_ERR_NOMEM, "validate: out of memory");
  return st == KMS_OK ? 0 : report(err, &e);
}

static int p_validate(kms_plugin_instance *inst, const char *request_json,
                      const char *store_json, char **problems_json,
                      kms_plugin_error *err)
{
  kms_store_context ctx;
  kms_request *req = NULL;
  void *holder = NULL;
  kms_error e;
  int rc;

  perr_clear(err);
  NEED(problems_json, "validate", err);
  *problems_json = NULL;
  NEED(inst, "validate", err);
  NEED(request_json, "validate", err);
  kms_error_clear(&e);
  if (kmsp_store_context(store_json, &ctx, &holder, &e) != KMS_OK)
    return report(err, &e);
  req = load_request(inst, request_json, &e);
  if (!req)
    rc = report(err, &e);
  else
    rc = validate_common(inst, req, store_json ? &ctx : NULL, problems_json,
                         err);
  kms_request_free(req);
  kmsp_json_free(holder);
  return rc;
}

static int p_sign(kms_plugin_instance *inst, const char *operation,
                  const char *request_json, int64_t time, char **signed_json,
                  kms_plugin_error *err)
{
  kms_operation op;
  kms_request *req = NULL;
  kms_problems *probs = NULL;
  kms_http *msg = NULL;
  kms_buf body;
  pooled *p = NULL;
  kms_error e;
  char *text = NULL;
  int rc = 0;

  perr_clear(err);
  NEED(signed_json, "sign", err);
  *signed_json = NULL;
  NEED(inst, "sign", err);
  NEED(operation, "sign", err);
  memset(&body, 0, sizeof body);
  kms_error_clear(&e);
  op = kmsp_operation_lookup(operation);
  if (op == KMS_OP__COUNT)
    return fail(err, KMS_ERR_INVALID_ARG, "sign: unknown operation \"%.64s\""
                " (UpdateCustomKeyStore, DescribeCustomKeyStores, "
                "ConnectCustomKeyStore or DisconnectCustomKeyStore)",
                operation);
  if (time < 0)
    return fail(err, KMS_ERR_INVALID_ARG, "sign: time is negative");
  if (op == KMS_OP_UPDATE_CUSTOM_KEY_STORE) {
    NEED(request_json, "sign", err);
    req = load_request(inst, request_json, &e);
    if (!req || kms_request_validate(req, NULL, &probs, &e) != KMS_OK ||
        kms_request_encode_body(req, &body, &e) != KMS_OK)
      goto fail_e;
  } else if (kmsp_helper_body(op, request_json, &body, &e) != KMS_OK) {
    goto fail_e;
  }
  p = acquire(inst, "sign", err);
  if (!p) {
    rc = err && perr_usable(err) ? err->code : KMS_ERR_CONFIG;
    goto cleanup;
  }
  if (kms_client_prepare(p->client, op, body.data, body.len, (time_t)time,
                         &msg, &e) != KMS_OK ||
      kmsp_http_json(msg, &text, &e) != KMS_OK)
    goto fail_e;
  *signed_json = out_string(inst, text, strlen(text));
  if (!*signed_json)
    rc = fail(err, KMS_ERR_NOMEM, "sign: out of memory");
  goto cleanup;
fail_e:
  rc = report(err, &e);
cleanup:
  release(inst, p);
  wipe_free(text);
  kms_http_free(msg);
  kms_buf_free(&body);
  kms_problems_free(probs);
  kms_request_free(req);
  return rc;
}

static int p_check_response(kms_plugin_instance *inst, const char *operation,
                            long http_status, const char *headers,
                            const char *body, size_t body_len,
                            char **result_json, kms_plugin_error *err)
{
  kms_http_response resp;
  kms_operation op;
  kms_error e;
  cJSON *root = NULL;
  int is_obj = 0;

  perr_clear(err);
  if (result_json)
    *result_json = NULL;
  NEED(inst, "check_response", err);
  NEED(operation, "check_response", err);
  if (!body && body_len)
    return fail(err, KMS_ERR_INVALID_ARG, "check_response: body is NULL "
                "with body_len %zu", body_len);
  op = kmsp_operation_lookup(operation);
  if (op == KMS_OP__COUNT)
    return fail(err, KMS_ERR_INVALID_ARG, "check_response: unknown "
                "operation \"%.64s\"", operation);
  /* A read-only view of the host's bytes: never freed here. */
  memset(&resp, 0, sizeof resp);
  resp.status = http_status;
  resp.headers.data = (char *)(headers ? headers : "");
  resp.headers.len = headers ? strlen(headers) : 0;
  resp.body.data = (char *)(body ? body : "");
  resp.body.len = body_len;
  kms_error_clear(&e);
  if (kms_response_check(op, &resp, &e) != KMS_OK)
    return report(err, &e);
  if (result_json) {
    if (body_len) {
      root = cJSON_ParseWithLength(body, body_len);
      is_obj = cJSON_IsObject(root);
      cJSON_Delete(root);
    }
    *result_json = is_obj ? out_string(inst, body, body_len)
                          : out_string(inst, "{}", 2);
    if (!*result_json)
      return fail(err, KMS_ERR_NOMEM, "check_response: out of memory");
  }
  report(err, &e);
  return 0;
}

/* Sends req with ctx through a pooled client. */
static int update_common(kms_plugin_instance *inst, const kms_request *req,
                         const kms_store_context *ctx, kms_plugin_error *err)
{
  pooled *p;
  kms_error e;
  int rc = 0;

  p = acquire(inst, "update", err);
  if (!p)
    return err && perr_usable(err) ? err->code : KMS_ERR_CONFIG;
  kms_error_clear(&e);
  if (kms_client_update_custom_key_store(p->client, req, ctx, &e) != KMS_OK)
    rc = report(err, &e);
  else
    report(err, &e);
  release(inst, p);
  return rc;
}

static int p_update(kms_plugin_instance *inst, const char *request_json,
                    const char *store_json, kms_plugin_error *err)
{
  kms_store_context ctx;
  kms_request *req;
  void *holder = NULL;
  kms_error e;
  int rc;

  perr_clear(err);
  NEED(inst, "update", err);
  NEED(request_json, "update", err);
  kms_error_clear(&e);
  if (kmsp_store_context(store_json, &ctx, &holder, &e) != KMS_OK)
    return report(err, &e);
  req = load_request(inst, request_json, &e);
  rc = req ? update_common(inst, req, store_json ? &ctx : NULL, err)
           : report(err, &e);
  kms_request_free(req);
  kmsp_json_free(holder);
  return rc;
}

static int p_describe(kms_plugin_instance *inst, const char *id,
                      char **response_json, kms_plugin_error *err)
{
  kms_buf out;
  kms_error e;
  pooled *p;
  int rc = 0;

  perr_clear(err);
  NEED(response_json, "describe", err);
  *response_json = NULL;
  NEED(inst, "describe", err);
  memset(&out, 0, sizeof out);
  p = acquire(inst, "describe", err);
  if (!p)
    return err && perr_usable(err) ? err->code : KMS_ERR_CONFIG;
  kms_error_clear(&e);
  if (kms_client_describe_custom_key_stores(p->client, id, NULL, &out, &e) !=
      KMS_OK) {
    rc = report(err, &e);
  } else {
    report(err, &e);
    *response_json = out_string(inst, out.data, out.len);
    if (!*response_json)
      rc = fail(err, KMS_ERR_NOMEM, "describe: out of memory");
  }
  kms_buf_free(&out);
  release(inst, p);
  return rc;
}

static int connect_common(kms_plugin_instance *inst, const char *id,
                          int disconnect, kms_plugin_error *err)
{
  const char *what = disconnect ? "disconnect" : "connect";
  kms_error e;
  kms_status st;
  pooled *p;

  perr_clear(err);
  if (!inst || !id)
    return fail(err, KMS_ERR_INVALID_ARG, "%s: %s is NULL", what,
                inst ? "custom_key_store_id" : "inst");
  p = acquire(inst, what, err);
  if (!p)
    return err && perr_usable(err) ? err->code : KMS_ERR_CONFIG;
  kms_error_clear(&e);
  st = disconnect
           ? kms_client_disconnect_custom_key_store(p->client, id, &e)
           : kms_client_connect_custom_key_store(p->client, id, &e);
  report(err, &e);
  release(inst, p);
  return (int)st;
}

static int p_connect(kms_plugin_instance *inst, const char *id,
                     kms_plugin_error *err)
{
  return connect_common(inst, id, 0, err);
}

static int p_disconnect(kms_plugin_instance *inst, const char *id,
                        kms_plugin_error *err)
{
  return connect_common(inst, id, 1, err);
}

static void p_free_string(kms_plugin_instance *inst, char *s)
{
  size_t n;

  if (!s)
    return;
  n = strlen(s) + 1;
  OPENSSL_cleanse(s, n);
  if (inst)
    ifree(inst, s, n);
  else
    free(s);
}
/* }===== */

/* {===== plain C face ===== */

static kms_request *p_request_new(kms_plugin_instance *inst,
                                  kms_plugin_error *err)
{
  kms_request *req;
  kms_error e;

  perr_clear(err);
  if (!inst) {
    fail(err, KMS_ERR_INVALID_ARG, "request_new: inst is NULL");
    return NULL;
  }
  kms_error_clear(&e);
  req = kms_request_new(inst->alloc, inst->alloc_ud, &e);
  if (!req)
    report(err, &e);
  return req;
}

static int p_request_set(kms_request *req, kms_member member,
                         const char *value, size_t len,
                         kms_plugin_error *err)
{
  kms_error e;

  perr_clear(err);
  NEED(req, "request_set", err);
  if ((int)member < 0 || member >= KMS_M__COUNT)
    return fail(err, KMS_ERR_INVALID_ARG, "request_set: member %d is not a "
                "kms_member", (int)member);
  if (!value && len)
    return fail(err, KMS_ERR_INVALID_ARG, "request_set: value is NULL with "
                "len %zu", len);
  kms_error_clear(&e);
  if (kms_request_set(req, member, value, len, &e) != KMS_OK)
    return report(err, &e);
  return 0;
}

static void p_request_free(kms_request *req)
{
  kms_request_free(req);
}

static int p_validate_request(kms_plugin_instance *inst,
                              const kms_request *req,
                              const kms_store_context *ctx,
                              char **problems_json, kms_plugin_error *err)
{
  perr_clear(err);
  NEED(problems_json, "validate_request", err);
  *problems_json = NULL;
  NEED(inst, "validate_request", err);
  NEED(req, "validate_request", err);
  return validate_common(inst, req, ctx, problems_json, err);
}

static int p_update_request(kms_plugin_instance *inst, const kms_request *req,
                            const kms_store_context *ctx,
                            kms_plugin_error *err)
{
  perr_clear(err);
  NEED(inst, "update_request", err);
  NEED(req, "update_request", err);
  return update_common(inst, req, ctx, err);
}
/* }===== */

/* {===== the table and the entry point ===== */

static const kms_plugin_ops plugin_ops = {
  .abi_major = KMS_PLUGIN_ABI_MAJOR,
  .abi_minor = KMS_PLUGIN_ABI_MINOR,
  .struct_size = sizeof(kms_plugin_ops),
  .name = "kmscks",
  .version = KMS_VERSION_STRING,
  .create = p_create,
  .destroy = p_destroy,
  .configure_tree = p_configure_tree,
  .configure_kv = p_configure_kv,
  .validate = p_validate,
  .sign = p_sign,
  .check_response = p_check_response,
  .update = p_update,
  .describe = p_describe,
  .connect = p_connect,
  .disconnect = p_disconnect,
  .free_string = p_free_string,
  .request_new = p_request_new,
  .request_set = p_request_set,
  .request_free = p_request_free,
  .validate_request = p_validate_request,
  .update_request = p_update_request,
};

const kms_plugin_ops *kms_plugin_entry_v1(uint32_t abi_major,
                                          uint32_t abi_minor,
                                          kms_plugin_error *err)
{
  perr_clear(err);
  if (abi_major != KMS_PLUGIN_ABI_MAJOR) {
    fail(err, KMS_ERR_INVALID_ARG, "kmscks plugin: ABI major version %u is "
         "not supported (requested %u.%u; kmscks %s implements ABI %d.%d and "
         "serves any %d.x host)", (unsigned)abi_major, (unsigned)abi_major,
         (unsigned)abi_minor, KMS_VERSION_STRING, KMS_PLUGIN_ABI_MAJOR,
         KMS_PLUGIN_ABI_MINOR, KMS_PLUGIN_ABI_MAJOR);
    return NULL;
  }
  return &plugin_ops;
}
/* }===== */
