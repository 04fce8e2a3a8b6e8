/* plugin.c - kmscks.so, the host plugin: the one exported entry point
 * (kms_plugin_entry_v1) and its table, ABI version and size checks, every
 * failure copied into the caller's kms_plugin_error as far as its size
 * reaches, and the instance: its configuration under a lock plus a pool
 * of clients, so one instance serves many threads. The operations that
 * use them are in plugin_calls.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "plugin_int.h"

#define KMSP_EXPORT __attribute__((visibility("default")))
#define POOL_MAX 16                 /* idle clients kept per instance */

/* The one exported symbol (its type is kms_plugin_entry_fn). */
KMSP_EXPORT const kms_plugin_ops *kms_plugin_entry_v1(uint32_t abi_major,
                                                      uint32_t abi_minor,
                                                      kms_plugin_error *err);

/* {===== errors across the ABI ===== */

int kmsp_perr_usable(const kms_plugin_error *p)
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

  if (!kmsp_perr_usable(p))
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

void kmsp_perr_clear(kms_plugin_error *p)
{
  kms_plugin_error full;

  memset(&full, 0, sizeof full);
  full.struct_size = sizeof full;
  snprintf(full.code_name, sizeof full.code_name, "%s", kms_strerror(KMS_OK));
  perr_store(p, &full);
}

int kmsp_report(kms_plugin_error *p, const kms_error *e)
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

int kmsp_fail(kms_plugin_error *p, kms_status status, const char *fmt, ...)
{
  kms_error e;
  va_list ap;

  kms_error_clear(&e);
  e.status = status;
  va_start(ap, fmt);
  vsnprintf(e.message, sizeof e.message, fmt, ap);
  va_end(ap);
  return kmsp_report(p, &e);
}
/* }===== */

/* {===== memory and logging ===== */

void *kmsp_imalloc(const kms_plugin_instance *inst, size_t n)
{
  return inst->alloc ? inst->alloc(inst->alloc_ud, NULL, 0, n) : malloc(n);
}

void kmsp_ifree(const kms_plugin_instance *inst, void *p, size_t n)
{
  if (!p)
    return;
  if (inst->alloc)
    inst->alloc(inst->alloc_ud, p, n, 0);
  else
    free(p);
}

char *kmsp_out_string(const kms_plugin_instance *inst, const char *s,
                      size_t n)
{
  char *r = kmsp_imalloc(inst, n + 1);
  if (r) {
    memcpy(r, s, n);
    r[n] = '\0';
  }
  return r;
}

void kmsp_wipe_free(char *s)
{
  if (s) {
    OPENSSL_cleanse(s, strlen(s));
    free(s);
  }
}

/* The core's log sink: every line the client emits goes to the host
 * (each client filters by the level its configuration had when it was
 * built; log and log_ud never change after create). */
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

kms_plugin_instance *kmsp_op_create(const kms_plugin_host *host,
                                    kms_plugin_error *err)
{
  kms_plugin_instance *inst;
  kms_alloc_fn alloc = NULL;
  void *alloc_ud = NULL;
  const char *name = NULL;

  kmsp_perr_clear(err);
  if (host) {
    if (host->abi_major != KMS_PLUGIN_ABI_MAJOR) {
      kmsp_fail(err, KMS_ERR_INVALID_ARG,
                "create: host ABI %u.%u is not supported: kmscks %s "
                "implements ABI %d.%d (any %d.x host works)",
                (unsigned)host->abi_major, (unsigned)host->abi_minor,
                KMS_VERSION_STRING, KMS_PLUGIN_ABI_MAJOR, KMS_PLUGIN_ABI_MINOR,
                KMS_PLUGIN_ABI_MAJOR);
      return NULL;
    }
    if (host->struct_size < offsetof(kms_plugin_host, host_name) ||
        host->struct_size > STRUCT_SIZE_MAX) {
      kmsp_fail(err, KMS_ERR_INVALID_ARG, "create: host struct_size %zu is not "
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
    kmsp_fail(err, KMS_ERR_NOMEM, "create: out of memory");
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
    kmsp_ifree(inst, inst, sizeof *inst);
    kmsp_fail(err, KMS_ERR_NOMEM, "create: cannot create a mutex");
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
    kmsp_ifree(inst, list, sizeof *list);
  }
}

void kmsp_op_destroy(kms_plugin_instance *inst)
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

int kmsp_op_configure_tree(kms_plugin_instance *inst,
                           const kms_plugin_config_item *root,
                           kms_plugin_error *err)
{
  const kms_plugin_config_item *it;
  kms_config *cfg = NULL;
  pooled *first = NULL;
  kms_error e;
  int i, level, rc;

  kmsp_perr_clear(err);
  NEED(inst, "configure_tree", err);
  NEED(root, "configure_tree", err);
  kms_error_clear(&e);
  if (root->children_num < 0 || (root->children_num && !root->children))
    return kmsp_fail(err, KMS_ERR_INVALID_ARG, "configure_tree: children_num "
                     "%d does not match the children", root->children_num);
  level = inst->host_log_level;
  cfg = new_config(inst, level, &e);
  if (!cfg)
    goto fail_e;
  for (i = 0; i < root->children_num; i++) {
    it = &root->children[i];
    if (!it->key) {
      rc = kmsp_fail(err, KMS_ERR_INVALID_ARG, "configure_tree: child %d has a "
                     "NULL key", i);
      goto cleanup;
    }
    if (it->values_num < 0 || (it->values_num && !it->values) ||
        it->children_num < 0 || (it->children_num && !it->children)) {
      rc = kmsp_fail(err, KMS_ERR_INVALID_ARG, "configure_tree: %s: values_num "
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
  first = kmsp_imalloc(inst, sizeof *first);
  if (!first) {
    rc = kmsp_fail(err, KMS_ERR_NOMEM, "configure_tree: out of memory");
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
  rc = kmsp_report(err, &e);
cleanup:
  if (first)
    free_pool(inst, first);
  kms_config_free(cfg);
  return rc;
}

int kmsp_op_configure_kv(kms_plugin_instance *inst, const char *key,
                         const char *value, kms_plugin_error *err)
{
  kms_error e;
  kms_status st = KMS_OK;
  pooled *stale = NULL;
  int level;

  kmsp_perr_clear(err);
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
    return kmsp_report(err, &e);
  return 0;
}

/* Takes a client for one call: an idle one, or a new one built from the
 * current configuration. Give it back with kmsp_release(). */
pooled *kmsp_acquire(kms_plugin_instance *inst, const char *what,
                     int *rc, kms_plugin_error *err)
{
  pooled *p = NULL;
  kms_error e;

  kms_error_clear(&e);
  pthread_mutex_lock(&inst->lock);
  if (!inst->cfg) {
    pthread_mutex_unlock(&inst->lock);
    *rc = kmsp_fail(err, KMS_ERR_CONFIG, "%s: the plugin is not configured "
               "(call configure_tree or configure_kv first)", what);
    return NULL;
  }
  if (inst->idle) {
    p = inst->idle;
    inst->idle = p->next;
    inst->n_idle--;
  } else {
    p = kmsp_imalloc(inst, sizeof *p);
    if (p) {
      memset(p, 0, sizeof *p);
      p->gen = inst->generation;
      p->client = kms_client_new(inst->cfg, &e);
      if (!p->client) {
        kmsp_ifree(inst, p, sizeof *p);
        p = NULL;
      }
    } else {
      kmsp_error(&e, KMS_ERR_NOMEM, "%s: out of memory", what);
    }
  }
  pthread_mutex_unlock(&inst->lock);
  if (!p) {
    if (e.status == KMS_OK)
      e.status = KMS_ERR_CONFIG;
    *rc = kmsp_report(err, &e);
  } else {
    p->next = NULL;
  }
  return p;
}

void kmsp_release(kms_plugin_instance *inst, pooled *p)
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

/* {===== the table and the entry point ===== */

static const kms_plugin_ops plugin_ops = {
  .abi_major = KMS_PLUGIN_ABI_MAJOR,
  .abi_minor = KMS_PLUGIN_ABI_MINOR,
  .struct_size = sizeof(kms_plugin_ops),
  .name = "kmscks",
  .version = KMS_VERSION_STRING,
  .create = kmsp_op_create,
  .destroy = kmsp_op_destroy,
  .configure_tree = kmsp_op_configure_tree,
  .configure_kv = kmsp_op_configure_kv,
  .validate = kmsp_op_validate,
  .sign = kmsp_op_sign,
  .check_response = kmsp_op_check_response,
  .update = kmsp_op_update,
  .describe = kmsp_op_describe,
  .connect = kmsp_op_connect,
  .disconnect = kmsp_op_disconnect,
  .free_string = kmsp_op_free_string,
  .request_new = kmsp_op_request_new,
  .request_set = kmsp_op_request_set,
  .request_free = kmsp_op_request_free,
  .validate_request = kmsp_op_validate_request,
  .update_request = kmsp_op_update_request,
};

const kms_plugin_ops *kms_plugin_entry_v1(uint32_t abi_major,
                                          uint32_t abi_minor,
                                          kms_plugin_error *err)
{
  kmsp_perr_clear(err);
  if (abi_major != KMS_PLUGIN_ABI_MAJOR) {
    kmsp_fail(err, KMS_ERR_INVALID_ARG,
              "kmscks plugin: ABI major version %u is not supported "
              "(requested %u.%u; kmscks %s implements ABI %d.%d and serves "
              "any %d.x host)", (unsigned)abi_major, (unsigned)abi_major,
              (unsigned)abi_minor, KMS_VERSION_STRING, KMS_PLUGIN_ABI_MAJOR,
              KMS_PLUGIN_ABI_MINOR, KMS_PLUGIN_ABI_MAJOR);
    return NULL;
  }
  return &plugin_ops;
}
/* }===== */
