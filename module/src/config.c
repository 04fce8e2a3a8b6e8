/* config.c - the public kms_config object: the settings a caller gives
 * explicitly, by name, before the AWS lookup (environment, shared files,
 * credential providers) fills in the rest. Values are only stored here;
 * settings.c checks them, with the AWS CLI's messages. */
#include <string.h>
#include "internal.h"

/* The names kms_config_set accepts, in the order of kms.h. Every value is
 * held in wiped memory (the secret ones must be; the others cost nothing
 * more). */
static const char *const setting_names[] = {
  "region", "profile", "endpoint_url", "access_key_id",
  "secret_access_key", "session_token", "retry_mode", "max_attempts",
  "connect_timeout", "read_timeout", "ca_bundle", "verify_tls",
  "use_fips_endpoint", "use_dualstack_endpoint", "no_sign_request",
  "user_agent", "config_file", "credentials_file",
};

#define N_SETTINGS (sizeof setting_names / sizeof setting_names[0])

struct kms_config {
  kmsi_allocator a;
  char *values[N_SETTINGS];   /* NULL: not set */
  size_t lens[N_SETTINGS];
  kms_log_fn log;
  void *log_ud;
  kms_log_level log_max;
  kms_transport_fn transport;
  void *transport_ud;
};

/* Index of a setting name, or -1. Case-sensitive, as the AWS config
 * variable names are. */
static int setting_index(const char *name)
{
  size_t i;
  for (i = 0; name && i < N_SETTINGS; i++)
    if (strcmp(setting_names[i], name) == 0)
      return (int)i;
  return -1;
}

/* Creates an empty configuration. Returns NULL (err: nomem) when the
 * allocation fails. */
kms_config *kms_config_new(kms_alloc_fn alloc, void *alloc_ud,
                           kms_error *err)
{
  kmsi_allocator a;
  kms_config *cfg;

  kmsi_allocator_init(&a, alloc, alloc_ud);
  cfg = kmsi_calloc(&a, sizeof *cfg);
  if (!cfg) {
    kmsi_error(err, KMS_ERR_NOMEM, "config: out of memory");
    return NULL;
  }
  cfg->a = a;
  cfg->log_max = KMS_LOG_INFO;
  return cfg;
}

/* Wipes every value (secrets among them) and frees. NULL is a no-op. */
void kms_config_free(kms_config *cfg)
{
  kmsi_allocator a;
  size_t i;

  if (!cfg)
    return;
  a = cfg->a;
  for (i = 0; i < N_SETTINGS; i++)
    kmsi_free_secret(&a, cfg->values[i], cfg->lens[i] + 1);
  kmsi_wipe(cfg, sizeof *cfg);
  kmsi_free(&a, cfg, sizeof *cfg);
}

/* Stores a copy of value under name, replacing (and wiping) an earlier
 * one; NULL unsets. The value is not checked here: kms_client_new reports
 * a bad one with the AWS CLI's message. An unknown name is KMS_ERR_CONFIG
 * naming it, and the configuration is then unchanged; so it is on
 * KMS_ERR_NOMEM. */
kms_status kms_config_set(kms_config *cfg, const char *name,
                          const char *value, kms_error *err)
{
  kms_status result = KMS_ERR_INVALID_ARG;
  char *copy = NULL;
  size_t len = 0;
  int i;

  if (!cfg || !name) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "config: NULL argument");
    goto cleanup;
  }
  i = setting_index(name);
  if (i < 0) {
    result = kmsi_error(err, KMS_ERR_CONFIG,
                        "config: unknown setting \"%s\"", name);
    goto cleanup;
  }
  if (value) {
    len = strlen(value);
    copy = kmsi_strndup(&cfg->a, value, len);
    if (!copy) {
      result = kmsi_error(err, KMS_ERR_NOMEM, "config: out of memory");
      goto cleanup;
    }
  }
  kmsi_free_secret(&cfg->a, cfg->values[i], cfg->lens[i] + 1);
  cfg->values[i] = copy;
  cfg->lens[i] = len;
  result = KMS_OK;
cleanup:
  return result;
}

void kms_config_set_log(kms_config *cfg, kms_log_fn log, void *ud,
                        kms_log_level max_level)
{
  if (!cfg)
    return;
  cfg->log = log;
  cfg->log_ud = ud;
  cfg->log_max = max_level;
}

void kms_config_set_transport(kms_config *cfg, kms_transport_fn fn, void *ud)
{
  if (!cfg)
    return;
  cfg->transport = fn;
  cfg->transport_ud = fn ? ud : NULL;
}

/* {===== internal accessors ===== */

/* The explicit value of a setting (borrowed until it changes), or NULL
 * when it was not set, the name is unknown, or cfg is NULL (a NULL
 * configuration is an empty one). */
const char *kmsi_config_get(const kms_config *cfg, const char *name)
{
  int i = setting_index(name);
  if (!cfg || i < 0)
    return NULL;
  return cfg->values[i];
}

const kmsi_allocator *kmsi_config_allocator(const kms_config *cfg)
{
  static const kmsi_allocator default_allocator = {kmsi_default_alloc,
                                                   NULL};
  return cfg ? &cfg->a : &default_allocator;
}

void kmsi_config_log(const kms_config *cfg, kms_log_fn *fn, void **ud,
                     kms_log_level *max_level)
{
  if (fn)
    *fn = cfg ? cfg->log : NULL;
  if (ud)
    *ud = cfg ? cfg->log_ud : NULL;
  if (max_level)
    *max_level = cfg ? cfg->log_max : KMS_LOG_INFO;
}

void kmsi_config_transport(const kms_config *cfg, kms_transport_fn *fn,
                           void **ud)
{
  if (fn)
    *fn = cfg ? cfg->transport : NULL;
  if (ud)
    *ud = cfg ? cfg->transport_ud : NULL;
}
/* }===== */
