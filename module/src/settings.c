/* settings.c - resolves what a client needs the way the AWS CLI v2 does:
 * the explicit kms_config first, then the environment, then the profile
 * in the shared config/credentials files. Bad values are refused with
 * the AWS CLI's own messages (see awscli-behaviour.md sections 4, 11). */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "internal.h"

#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_MAX_ATTEMPTS 3

const char *kmsi_env(const char *name)
{
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

int kmsi_parse_int(const char *s, long *out)
{
  const char *p = s, *e;
  int neg = 0, digits = 0;
  long v = 0;

  if (!s)
    return 0;
  e = s + strlen(s);
  while (p < e && isspace((unsigned char)*p))
    p++;
  while (e > p && isspace((unsigned char)e[-1]))
    e--;
  if (p < e && (*p == '+' || *p == '-'))
    neg = *p++ == '-';
  for (; p < e; p++) {
    if (*p == '_' && digits && p + 1 < e && isdigit((unsigned char)p[1]))
      continue;
    if (!isdigit((unsigned char)*p))
      return 0;
    if (v > (LONG_MAX - (*p - '0')) / 10)
      return 0;
    v = v * 10 + (*p - '0');
    digits++;
  }
  if (!digits)
    return 0;
  *out = neg ? -v : v;
  return 1;
}

/* botocore's validate_region_name: a host label,
 * ^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$ . The empty string passes
 * (the endpoint then fails, as in the AWS CLI). */
static int region_format_ok(const char *r)
{
  size_t n = strlen(r), i;
  int all_digits = 1;

  if (n > 63)
    return 0;
  if (n && (r[0] == '-' || r[n - 1] == '-'))
    return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)r[i];
    if (c >= 0x80 || !(isalnum(c) || c == '-'))
      return 0;
    if (!isdigit(c))
      all_digits = 0;
  }
  return !(n && all_digits);
}

/* botocore's ensure_boolean for env and file values: "true" in any case
 * is true, anything else false. */
static int bool_loose(const char *v)
{
  return v && strcasecmp(v, "true") == 0;
}

/* An explicit true|false (kms_config_set). */
static kms_status bool_strict(const char *name, const char *v, int *out,
                              kms_error *err)
{
  if (strcasecmp(v, "true") == 0)
    *out = 1;
  else if (strcasecmp(v, "false") == 0)
    *out = 0;
  else
    return kmsi_error(err, KMS_ERR_CONFIG,
                      "config: %s must be \"true\" or \"false\", not \"%s\"",
                      name, v);
  return KMS_OK;
}

/* Copies s into *dst (NULL stays NULL). 0 on nomem. */
static int dup(const kmsi_allocator *a, char **dst, const char *s)
{
  if (!s)
    return 1;
  *dst = kmsi_strndup(a, s, strlen(s));
  return *dst != NULL;
}

static void free_str(const kmsi_allocator *a, char **s)
{
  if (*s)
    kmsi_free_secret(a, *s, strlen(*s) + 1);
  *s = NULL;
}

void kmsi_settings_free(kmsi_settings *s, const kmsi_allocator *a)
{
  if (!s)
    return;
  free_str(a, &s->region);
  free_str(a, &s->profile);
  free_str(a, &s->endpoint_url);
  free_str(a, &s->sts_endpoint_url);
  free_str(a, &s->ca_bundle);
  free_str(a, &s->user_agent);
  free_str(a, &s->config_file);
  free_str(a, &s->credentials_file);
}

/* A shared file's path: explicit setting, environment variable, or
 * ~/.aws/NAME. A leading "~/" is expanded with HOME as botocore's
 * os.path.expanduser does; without HOME the default file is not read. */
static kms_status file_path(const kmsi_allocator *a, const kms_config *cfg,
                            const char *setting, const char *env,
                            const char *name, char **out, kms_error *err)
{
  const char *v = kmsi_config_get(cfg, setting);
  const char *home = kmsi_env("HOME");
  kms_buf b;
  kms_status result = KMS_ERR_NOMEM;

  kmsi_buf_init(&b, a, 0);
  if (!v)
    v = kmsi_env(env);
  if (!v) {
    if (!home) {
      result = KMS_OK;
      goto cleanup;
    }
    if (kmsi_buf_printf(&b, "%s/.aws/%s", home, name) != KMS_OK)
      goto nomem;
  } else if (v[0] == '~' && (v[1] == '/' || v[1] == '\0') && home) {
    if (kmsi_buf_printf(&b, "%s%s", home, v + 1) != KMS_OK)
      goto nomem;
  } else if (kmsi_buf_puts(&b, v) != KMS_OK) {
    goto nomem;
  }
  if (!dup(a, out, b.data))
    goto nomem;
  result = KMS_OK;
  goto cleanup;
nomem:
  kmsi_error(err, KMS_ERR_NOMEM, "config: out of memory");
cleanup:
  kms_buf_free(&b);
  return result;
}

/* Python's urlsplit scheme: the text before the first ':' when it starts
 * with a letter and holds only letters, digits, "+", "-", "." . Writes
 * its length to *n; 0 when there is none. */
static size_t url_scheme(const char *url)
{
  size_t i;
  if (!isalpha((unsigned char)url[0]))
    return 0;
  for (i = 1; url[i] && url[i] != ':'; i++)
    if (!(isalnum((unsigned char)url[i]) || url[i] == '+' ||
          url[i] == '-' || url[i] == '.'))
      return 0;
  return url[i] == ':' ? i : 0;
}

/* The AWS CLI's check of --endpoint-url (a scheme is required), plus one
 * of its own: only http and https are sent to (the AWS CLI fails later,
 * after three attempts, with the same words). what names the source. */
static kms_status check_endpoint(const char *what, const char *url,
                                 kms_error *err)
{
  size_t n = url_scheme(url);
  if (!n)
    return kmsi_error(err, KMS_ERR_CONFIG,
                      "Bad value for %s \"%s\": scheme is missing.  Must "
                      "be of the form http://<hostname>/ or "
                      "https://<hostname>/",
                      what, url);
  if (!((n == 4 && strncasecmp(url, "http", 4) == 0) ||
        (n == 5 && strncasecmp(url, "https", 5) == 0)))
    return kmsi_error(err, KMS_ERR_CONFIG,
                      "An HTTP Client raised an unhandled exception: Not "
                      "supported URL scheme %.*s",
                      (int)n, url);
  return KMS_OK;
}

/* Where a service's endpoint comes from when nothing explicit gives it,
 * in botocore's order: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the
 * profile's services section, the profile's endpoint_url. Skipped when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile's
 * ignore_configured_endpoint_urls) is true. *what names the source for
 * error messages. */
static const char *configured_endpoint(const kmsi_profiles *p,
                                       const char *profile,
                                       const char *service,
                                       const char *env_service,
                                       const char **what)
{
  const char *v, *ignore = kmsi_env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

  if (!ignore)
    ignore = kmsi_profiles_get(p, profile, "ignore_configured_endpoint_urls");
  if (bool_loose(ignore))
    return NULL;
  if ((v = kmsi_env(env_service)) != NULL) {
    *what = env_service;
    return v;
  }
  if ((v = kmsi_env("AWS_ENDPOINT_URL")) != NULL) {
    *what = "AWS_ENDPOINT_URL";
    return v;
  }
  if ((v = kmsi_profiles_service_get(p, profile, service, "endpoint_url"))) {
    *what = "endpoint_url";
    return v;
  }
  *what = "endpoint_url";
  return kmsi_profiles_get(p, profile, "endpoint_url");
}

/* A timeout in whole seconds, explicit only: Python's int(), then 0 means
 * none; below 0 is urllib3's refusal. */
static kms_status parse_timeout(const char *which, const char *v, long *ms,
                                kms_error *err)
{
  long secs;
  if (!kmsi_parse_int(v, &secs))
    return kmsi_error(err, KMS_ERR_CONFIG,
                      "invalid literal for int() with base 10: '%s'", v);
  if (secs < 0)
    return kmsi_error(err, KMS_ERR_CONFIG,
                      "Attempted to set %s timeout to %ld, but the timeout "
                      "cannot be set to a value less than or equal to 0.",
                      which, secs);
  if (secs > LONG_MAX / 1000)
    secs = LONG_MAX / 1000;
  *ms = secs * 1000;
  return KMS_OK;
}

/* Looks a setting up: explicit, then the environment variables (first
 * set wins), then the profile key. Any of them may be NULL. */
static const char *lookup(const kms_config *cfg, const char *setting,
                          const char *env1, const char *env2,
                          const kmsi_profiles *p, const char *profile,
                          const char *key)
{
  const char *v = setting ? kmsi_config_get(cfg, setting) : NULL;
  if (!v && env1)
    v = kmsi_env(env1);
  if (!v && env2)
    v = kmsi_env(env2);
  if (!v && key)
    v = kmsi_profiles_get(p, profile, key);
  return v;
}

kms_status kmsi_settings_resolve(const kms_config *cfg, kmsi_settings *out,
                                 kms_error *err)
{
  const kmsi_allocator *a = kmsi_config_allocator(cfg);
  kms_status result = KMS_ERR_NOMEM;
  kmsi_profiles *p = NULL;
  const char *v, *what = "--endpoint-url", *prof;
  long n;

  memset(out, 0, sizeof *out);
  out->max_attempts = DEFAULT_MAX_ATTEMPTS;
  out->retry_mode = KMSI_RETRY_STANDARD;
  out->connect_timeout_ms = DEFAULT_TIMEOUT_MS;
  out->read_timeout_ms = DEFAULT_TIMEOUT_MS;
  out->verify_tls = 1;

  /* The files, then the profile, which must exist unless it is the
   * default one. */
  result = file_path(a, cfg, "config_file", "AWS_CONFIG_FILE", "config",
                     &out->config_file, err);
  if (result != KMS_OK)
    goto cleanup;
  result = file_path(a, cfg, "credentials_file",
                     "AWS_SHARED_CREDENTIALS_FILE", "credentials",
                     &out->credentials_file, err);
  if (result != KMS_OK)
    goto cleanup;
  v = kmsi_config_get(cfg, "profile");
  out->profile_explicit = v != NULL;
  if (!v)
    v = kmsi_env("AWS_PROFILE");
  if (!v)
    v = kmsi_env("AWS_DEFAULT_PROFILE");
  if (!v)
    v = "default";
  result = KMS_ERR_NOMEM;
  if (!dup(a, &out->profile, v))
    goto nomem;
  prof = out->profile;
  result = kmsi_profiles_load(a, out->config_file, out->credentials_file, &p,
                              err);
  if (result != KMS_OK)
    goto cleanup;
  result = KMS_ERR_CONFIG;
  if (strcmp(prof, "default") != 0 && !kmsi_profiles_exists(p, prof)) {
    kmsi_error(err, KMS_ERR_CONFIG,
               "The config profile (%s) could not be found", prof);
    goto cleanup;
  }

  /* Region: --region > AWS_REGION > AWS_DEFAULT_REGION > profile. */
  v = lookup(cfg, "region", "AWS_REGION", "AWS_DEFAULT_REGION", p, prof,
             "region");
  if (v && !region_format_ok(v)) {
    kmsi_error(err, KMS_ERR_CONFIG,
               "Provided region_name '%s' doesn't match a supported format.",
               v);
    goto cleanup;
  }
  result = KMS_ERR_NOMEM;
  if (!dup(a, &out->region, v))
    goto nomem;

  /* Endpoints: explicit (KMS only), then the configured ones. */
  v = kmsi_config_get(cfg, "endpoint_url");
  if (!v)
    v = configured_endpoint(p, prof, "kms", "AWS_ENDPOINT_URL_KMS", &what);
  if (v && (result = check_endpoint(what, v, err)) != KMS_OK)
    goto cleanup;
  result = KMS_ERR_NOMEM;
  if (!dup(a, &out->endpoint_url, v))
    goto nomem;
  v = configured_endpoint(p, prof, "sts", "AWS_ENDPOINT_URL_STS", &what);
  if (v && (result = check_endpoint(what, v, err)) != KMS_OK)
    goto cleanup;
  result = KMS_ERR_NOMEM;
  if (!dup(a, &out->sts_endpoint_url, v))
    goto nomem;

  /* Retries. */
  result = KMS_ERR_CONFIG;
  v = lookup(cfg, "retry_mode", "AWS_RETRY_MODE", NULL, p, prof,
             "retry_mode");
  if (v) {
    if (strcmp(v, "standard") == 0) {
      out->retry_mode = KMSI_RETRY_STANDARD;
    } else if (strcmp(v, "adaptive") == 0) {
      out->retry_mode = KMSI_RETRY_ADAPTIVE;
    } else {
      kmsi_error(err, KMS_ERR_CONFIG,
                 "Invalid value provided to \"mode\": \"%s\" must be one "
                 "of: \"standard\" or \"adaptive\"",
                 v);
      goto cleanup;
    }
  }
  v = lookup(cfg, "max_attempts", "AWS_MAX_ATTEMPTS", NULL, p, prof,
             "max_attempts");
  if (v) {
    if (!kmsi_parse_int(v, &n)) {
      kmsi_error(err, KMS_ERR_CONFIG,
                 "invalid literal for int() with base 10: '%s'", v);
      goto cleanup;
    }
    if (n < 1) {
      kmsi_error(err, KMS_ERR_CONFIG,
                 "Value provided to \"max_attempts\": %ld must be an "
                 "integer greater than or equal to one.",
                 n);
      goto cleanup;
    }
    out->max_attempts = n > INT_MAX ? INT_MAX : (int)n;
  }

  /* Timeouts and TLS: explicit only (the AWS CLI's --cli-*-timeout,
   * --no-verify-ssl), except the CA bundle. */
  v = kmsi_config_get(cfg, "connect_timeout");
  if (v && (result = parse_timeout("connect", v, &out->connect_timeout_ms,
                                   err)) != KMS_OK)
    goto cleanup;
  v = kmsi_config_get(cfg, "read_timeout");
  if (v && (result = parse_timeout("read", v, &out->read_timeout_ms,
                                   err)) != KMS_OK)
    goto cleanup;
  v = kmsi_config_get(cfg, "verify_tls");
  if (v && (result = bool_strict("verify_tls", v, &out->verify_tls, err)) !=
               KMS_OK)
    goto cleanup;
  v = kmsi_config_get(cfg, "no_sign_request");
  if (v && (result = bool_strict("no_sign_request", v, &out->no_sign_request,
                                 err)) != KMS_OK)
    goto cleanup;

  /* FIPS and dual-stack: explicit true|false, else botocore's loose
   * reading of the environment and the profile. */
  v = kmsi_config_get(cfg, "use_fips_endpoint");
  if (v) {
    if ((result = bool_strict("use_fips_endpoint", v, &out->use_fips,
                              err)) != KMS_OK)
      goto cleanup;
  } else {
    out->use_fips = bool_loose(lookup(NULL, NULL, "AWS_USE_FIPS_ENDPOINT",
                                      NULL, p, prof, "use_fips_endpoint"));
  }
  v = kmsi_config_get(cfg, "use_dualstack_endpoint");
  if (v) {
    if ((result = bool_strict("use_dualstack_endpoint", v,
                              &out->use_dualstack, err)) != KMS_OK)
      goto cleanup;
  } else {
    out->use_dualstack =
        bool_loose(lookup(NULL, NULL, "AWS_USE_DUALSTACK_ENDPOINT", NULL, p,
                          prof, "use_dualstack_endpoint"));
  }

  result = KMS_ERR_NOMEM;
  if (!dup(a, &out->ca_bundle, lookup(cfg, "ca_bundle", "AWS_CA_BUNDLE",
                                      NULL, p, prof, "ca_bundle")))
    goto nomem;
  if (!dup(a, &out->user_agent, kmsi_config_get(cfg, "user_agent")))
    goto nomem;
  result = KMS_OK;
  goto cleanup;

nomem:
  kmsi_error(err, KMS_ERR_NOMEM, "config: out of memory");
cleanup:
  kmsi_profiles_free(p);
  if (result != KMS_OK)
    kmsi_settings_free(out, a);
  return result;
}

/* The profile's own keys that hold a secret: never copied out. */
static const char *const secret_keys[] = {
  "aws_secret_access_key", "aws_session_token", "aws_security_token", NULL
};

/* Resolves the settings (so that a bad configuration fails as
 * kms_client_new fails), then reads the key from the merged profile. */
kms_status kms_config_profile_value(const kms_config *cfg, const char *key,
                                    char *out, size_t size, kms_error *err)
{
  const kmsi_allocator *a = kmsi_config_allocator(cfg);
  kms_status result = KMS_ERR_INVALID_ARG;
  kmsi_profiles *p = NULL;
  kmsi_settings s;
  const char *v;
  size_t i;

  memset(&s, 0, sizeof s);
  if (out && size)
    out[0] = '\0';
  if (!key || !out || !size) {
    kmsi_error(err, result, "config: bad argument");
    goto cleanup;
  }
  for (i = 0; secret_keys[i]; i++) {
    if (strcasecmp(key, secret_keys[i]) == 0) {
      kmsi_error(err, result, "config: %s is a secret and is not returned",
                 secret_keys[i]);
      goto cleanup;
    }
  }
  result = kmsi_settings_resolve(cfg, &s, err);
  if (result != KMS_OK)
    goto cleanup;
  result = kmsi_profiles_load(a, s.config_file, s.credentials_file, &p, err);
  if (result != KMS_OK)
    goto cleanup;
  v = kmsi_profiles_get(p, s.profile, key);
  kmsi_strlcpy(out, v ? v : "", size);
  result = KMS_OK;
cleanup:
  kmsi_profiles_free(p);
  kmsi_settings_free(&s, a);
  return result;
}
