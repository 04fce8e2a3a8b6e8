/* plugin_config.c - the global options of the host plugin and of the
 * collectd plugin (Region, EndpointURL, VerifyTLS, ...), type-checked and
 * mapped onto kms_config_set names, and secrets read from files. Shared by
 * module/plugin/ and bindings/collectd/ so both faces accept the same
 * keys with the same messages. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "plugin_int.h"

#define SECRET_FILE_MAX (64 * 1024)

kms_status kmsp_error(kms_error *err, kms_status status, const char *fmt,
                      ...)
{
  va_list ap;

  if (!err)
    return status;
  kms_error_clear(err);
  err->status = status;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return status;
}

typedef enum opt_kind {
  OPT_STRING,        /* one string */
  OPT_BOOLEAN,       /* one boolean: "true" / "false" */
  OPT_SECONDS,       /* one whole number >= 0 */
  OPT_POSITIVE,      /* one whole number >= 1 */
  OPT_SECRET_FILE,   /* one string: a path whose content is the value */
  OPT_LOG_LEVEL,     /* one string: error | warning | info | debug */
  OPT_INLINE_SECRET  /* refused: secrets come from files */
} opt_kind;

typedef struct option {
  const char *key;      /* collectd-style CamelCase */
  const char *setting;  /* kms_config_set name, or the *File to use */
  opt_kind kind;
} option;

static const option options[] = {
  {"Region", "region", OPT_STRING},
  {"Profile", "profile", OPT_STRING},
  {"EndpointURL", "endpoint_url", OPT_STRING},
  {"CABundle", "ca_bundle", OPT_STRING},
  {"VerifyTLS", "verify_tls", OPT_BOOLEAN},
  {"Timeout", "read_timeout", OPT_SECONDS},
  {"ConnectTimeout", "connect_timeout", OPT_SECONDS},
  {"MaxAttempts", "max_attempts", OPT_POSITIVE},
  {"RetryMode", "retry_mode", OPT_STRING},
  {"AccessKeyId", "access_key_id", OPT_STRING},
  {"SecretAccessKeyFile", "secret_access_key", OPT_SECRET_FILE},
  {"SessionTokenFile", "session_token", OPT_SECRET_FILE},
  {"UseFIPSEndpoint", "use_fips_endpoint", OPT_BOOLEAN},
  {"UseDualstackEndpoint", "use_dualstack_endpoint", OPT_BOOLEAN},
  {"NoSignRequest", "no_sign_request", OPT_BOOLEAN},
  {"UserAgent", "user_agent", OPT_STRING},
  {"ConfigFile", "config_file", OPT_STRING},
  {"CredentialsFile", "credentials_file", OPT_STRING},
  {"LogLevel", NULL, OPT_LOG_LEVEL},
  {"SecretAccessKey", "SecretAccessKeyFile", OPT_INLINE_SECRET},
  {"SessionToken", "SessionTokenFile", OPT_INLINE_SECRET},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static const option *find_option(const char *key)
{
  size_t i;
  for (i = 0; key && i < N_OPTIONS; i++)
    if (strcasecmp(options[i].key, key) == 0)
      return &options[i];
  return NULL;
}

int kmsp_config_is_option(const char *key)
{
  return find_option(key) != NULL;
}

static const char *type_name(kms_plugin_value_type t)
{
  switch (t) {
  case KMS_PLUGIN_STRING:
    return "a string";
  case KMS_PLUGIN_NUMBER:
    return "a number";
  case KMS_PLUGIN_BOOLEAN:
    return "a boolean";
  }
  return "an unknown type";
}

int kmsp_log_level(const char *name)
{
  if (!name)
    return 0;
  if (strcasecmp(name, "error") == 0 || strcasecmp(name, "err") == 0)
    return KMS_LOG_ERROR;
  if (strcasecmp(name, "warning") == 0 || strcasecmp(name, "warn") == 0)
    return KMS_LOG_WARNING;
  if (strcasecmp(name, "info") == 0 || strcasecmp(name, "notice") == 0)
    return KMS_LOG_INFO;
  if (strcasecmp(name, "debug") == 0)
    return KMS_LOG_DEBUG;
  return 0;
}

/* {===== secret files ===== */

void kmsp_secret_free(char *s, size_t len)
{
  if (!s)
    return;
  OPENSSL_cleanse(s, len + 1);
  free(s);
}

kms_status kmsp_read_secret_file(const char *what, const char *path,
                                 char **out, size_t *len, kms_error *err)
{
  kms_status result = KMS_ERR_IO;
  struct stat sb;
  char *buf = NULL;
  size_t n = 0, cap = 0;
  ssize_t r;
  int fd = -1;

  *out = NULL;
  *len = 0;
  if (!path || !*path) {
    result = kmsp_error(err, KMS_ERR_CONFIG, "%s: empty file name", what);
    goto cleanup;
  }
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0 || fstat(fd, &sb) != 0) {
    kmsp_error(err, KMS_ERR_IO, "%s: cannot read %s: %s", what, path,
               strerror(errno));
    goto cleanup;
  }
  if (!S_ISREG(sb.st_mode)) {
    kmsp_error(err, KMS_ERR_IO, "%s: %s is not a regular file", what, path);
    goto cleanup;
  }
  if (sb.st_size > SECRET_FILE_MAX) {
    kmsp_error(err, KMS_ERR_IO, "%s: %s is larger than %d bytes", what, path,
               SECRET_FILE_MAX);
    goto cleanup;
  }
  cap = (size_t)sb.st_size + 2; /* one byte more shows growth, plus NUL */
  buf = malloc(cap);
  if (!buf) {
    result = kmsp_error(err, KMS_ERR_NOMEM, "%s: out of memory", what);
    goto cleanup;
  }
  for (;;) {
    if (n + 1 >= cap) { /* the file grew since fstat: refuse */
      kmsp_error(err, KMS_ERR_IO, "%s: %s changed while being read", what,
                 path);
      goto cleanup;
    }
    r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      kmsp_error(err, KMS_ERR_IO, "%s: cannot read %s: %s", what, path,
                 strerror(errno));
      goto cleanup;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  if (memchr(buf, '\0', n)) {
    kmsp_error(err, KMS_ERR_CONFIG, "%s: %s holds a NUL byte", what, path);
    goto cleanup;
  }
  if (n && buf[n - 1] == '\n')
    buf[--n] = '\0';
  if (n && buf[n - 1] == '\r')
    buf[--n] = '\0';
  if (!n) {
    kmsp_error(err, KMS_ERR_CONFIG, "%s: %s is empty", what, path);
    goto cleanup;
  }
  *out = buf;
  *len = n;
  buf = NULL;
  result = KMS_OK;
cleanup:
  if (buf) {
    OPENSSL_cleanse(buf, cap);
    free(buf);
  }
  if (fd >= 0)
    close(fd);
  return result;
}

/* Reads path and stores its content as setting. */
static kms_status set_from_file(kms_config *cfg, const char *what,
                                const char *setting, const char *path,
                                kms_error *err)
{
  char *secret = NULL;
  size_t len = 0;
  kms_status st;

  st = kmsp_read_secret_file(what, path, &secret, &len, err);
  if (st == KMS_OK)
    st = kms_config_set(cfg, setting, secret, err);
  kmsp_secret_free(secret, len);
  return st;
}
/* }===== */

kms_status kmsp_config_option(kms_config *cfg, const char *key,
                              const kms_plugin_value *values, int values_num,
                              int children_num, int *log_level,
                              kms_error *err)
{
  const option *o = find_option(key);
  const kms_plugin_value *v;
  char text[64];
  kms_plugin_value_type want;
  double d;
  int level;

  if (!o)
    return kmsp_error(err, KMS_ERR_CONFIG, "unknown option \"%s\"",
                      key ? key : "(null)");
  if (o->kind == OPT_INLINE_SECRET)
    return kmsp_error(err, KMS_ERR_CONFIG, "%s: secrets are read from "
                      "files only: use %s", o->key, o->setting);
  if (children_num > 0)
    return kmsp_error(err, KMS_ERR_CONFIG, "%s: is an option, not a block",
                      o->key);
  if (values_num != 1 || !values)
    return kmsp_error(err, KMS_ERR_CONFIG, "%s: expected one value, got %d",
                      o->key, values_num);
  v = &values[0];
  switch (o->kind) {
  case OPT_BOOLEAN:
    want = KMS_PLUGIN_BOOLEAN;
    break;
  case OPT_SECONDS:
  case OPT_POSITIVE:
    want = KMS_PLUGIN_NUMBER;
    break;
  default:
    want = KMS_PLUGIN_STRING;
    break;
  }
  if (v->type != want)
    return kmsp_error(err, KMS_ERR_CONFIG, "%s: expected %s, got %s",
                      o->key, type_name(want), type_name(v->type));
  if (want == KMS_PLUGIN_STRING && !v->string)
    return kmsp_error(err, KMS_ERR_INVALID_ARG, "%s: NULL string", o->key);

  switch (o->kind) {
  case OPT_STRING:
    return kms_config_set(cfg, o->setting, v->string, err);
  case OPT_BOOLEAN:
    return kms_config_set(cfg, o->setting, v->boolean ? "true" : "false",
                          err);
  case OPT_SECONDS:
  case OPT_POSITIVE:
    d = v->number;
    if (!isfinite(d) || d != floor(d) || d < (o->kind == OPT_POSITIVE) ||
        d > 1e9)
      return kmsp_error(err, KMS_ERR_CONFIG, "%s: expected a whole number "
                        "%s, got %g", o->key,
                        o->kind == OPT_POSITIVE ? ">= 1" : ">= 0", d);
    snprintf(text, sizeof text, "%.0f", d);
    return kms_config_set(cfg, o->setting, text, err);
  case OPT_SECRET_FILE:
    return set_from_file(cfg, o->key, o->setting, v->string, err);
  case OPT_LOG_LEVEL:
    level = kmsp_log_level(v->string);
    if (!level)
      return kmsp_error(err, KMS_ERR_CONFIG, "%s: expected error, warning, "
                        "info or debug", o->key);
    if (log_level)
      *log_level = level;
    return KMS_OK;
  case OPT_INLINE_SECRET:
    break;
  }
  return kmsp_error(err, KMS_ERR_CONFIG, "%s: not supported", o->key);
}

kms_status kmsp_config_kv(kms_config *cfg, const char *key,
                          const char *value, kms_error *err)
{
  if (!key)
    return kmsp_error(err, KMS_ERR_INVALID_ARG, "configure_kv: key is NULL");
  if (strcmp(key, "secret_access_key_file") == 0)
    return value ? set_from_file(cfg, key, "secret_access_key", value, err)
                 : kms_config_set(cfg, "secret_access_key", NULL, err);
  if (strcmp(key, "session_token_file") == 0)
    return value ? set_from_file(cfg, key, "session_token", value, err)
                 : kms_config_set(cfg, "session_token", NULL, err);
  return kms_config_set(cfg, key, value, err);
}
