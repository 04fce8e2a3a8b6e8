/* provider_chain.c - the AWS default credential chain: the provider object
 * with its refresh-before-expiry cache, lists of providers (the chain is
 * one), the explicit and environment providers, and kmsi_cred_chain_*.
 * The order is botocore's (see kmsi_cred_chain_new). */
#include <string.h>
#include <time.h>
#include "provider.h"

#define DEFAULT_USER_AGENT "kmscks/" KMS_VERSION_STRING

/* {===== the provider object ===== */

kmsi_provider *kmsi_provider_alloc(kmsi_cred_chain *c, size_t size,
                                   const char *name, kmsi_fetch_fn fetch,
                                   kms_error *err)
{
  kmsi_provider *p = kmsi_calloc(&c->a, size);
  if (!p) {
    kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    return NULL;
  }
  p->name = name;
  p->chain = c;
  p->size = size;
  p->fetch = fetch;
  return p;
}

void kmsi_provider_free(kmsi_provider *p)
{
  while (p) {
    kmsi_provider *next = p->next;
    kmsi_cred_chain *c = p->chain;
    size_t size = p->size;
    kmsi_provider_free(p->children);
    kms_credentials_free(p->cached);
    if (p->destroy)
      p->destroy(p);
    kmsi_wipe(p, size);
    kmsi_free(&c->a, p, size);
    p = next;
  }
}

kmsi_provider *kmsi_provider_list(kmsi_cred_chain *c, const char *name,
                                  kms_error *err)
{
  return kmsi_provider_alloc(c, sizeof(kmsi_provider), name, NULL, err);
}

void kmsi_provider_add(kmsi_provider *list, kmsi_provider *child)
{
  kmsi_provider **tail = &list->children;
  while (*tail)
    tail = &(*tail)->next;
  *tail = child;
}

/* 1 when cred is worth keeping at now: no expiry, or more than the
 * refresh window away. */
static int is_fresh(const kms_credentials *cred, time_t now)
{
  time_t exp = kms_credentials_expiration(cred);
  return exp == 0 || exp - now > KMSI_REFRESH_WINDOW;
}

/* 1 when cred can still sign at now, fresh or not. */
static int is_valid(const kms_credentials *cred, time_t now)
{
  time_t exp = kms_credentials_expiration(cred);
  return exp == 0 || now < exp;
}

static kms_status list_get(kmsi_provider *p, time_t now,
                           const kms_credentials **out, const char **source,
                           kms_error *err)
{
  kms_status st = KMS_OK;
  kmsi_provider *child;

  if (p->current)
    return kmsi_provider_get(p->current, now, out, source, err);
  for (child = p->children; child; child = child->next) {
    st = kmsi_provider_get(child, now, out, source, err);
    if (st != KMS_OK || *out) {
      if (*out)
        p->current = child;
      break;
    }
  }
  return st;
}

kms_status kmsi_provider_get(kmsi_provider *p, time_t now,
                             const kms_credentials **out,
                             const char **source, kms_error *err)
{
  kms_status result;
  kms_credentials *fresh = NULL;

  *out = NULL;
  if (!p->fetch)
    return list_get(p, now, out, source, err);
  if (source)
    *source = p->name;
  if (p->cached && is_fresh(p->cached, now)) {
    *out = p->cached;
    return KMS_OK;
  }
  if (p->cached)
    kmsi_cred_log(p->chain, KMS_LOG_DEBUG,
                  "credentials: refreshing %s credentials (expire in %ld s)",
                  p->name,
                  (long)(kms_credentials_expiration(p->cached) - now));
  result = p->fetch(p, now, &fresh, err);
  if (result != KMS_OK) {
    if (p->cached && is_valid(p->cached, now)) {
      /* An advisory refresh failed: the old ones still sign. */
      kmsi_cred_log(p->chain, KMS_LOG_WARNING,
                    "credentials: refreshing %s credentials failed, using "
                    "the current ones until they expire: %s",
                    p->name, err ? err->message : kms_strerror(result));
      kms_error_clear(err);
      *out = p->cached;
      result = KMS_OK;
    }
    return result;
  }
  if (fresh) {
    kms_credentials_free(p->cached);
    p->cached = fresh;
  } else if (p->cached && !is_valid(p->cached, now)) {
    kms_credentials_free(p->cached);
    p->cached = NULL;
  }
  *out = p->cached;
  return KMS_OK;
}
/* }===== */

/* {===== explicit and environment ===== */

typedef struct static_provider {
  kmsi_provider base;
  kms_credentials *cred;
} static_provider;

static kms_status static_fetch(kmsi_provider *p, time_t now,
                               kms_credentials **out, kms_error *err)
{
  static_provider *sp = (static_provider *)p;
  (void)now;
  (void)err;
  /* Handed over once; the cache keeps it (it does not expire). */
  *out = sp->cred;
  sp->cred = NULL;
  return KMS_OK;
}

static void static_destroy(kmsi_provider *p)
{
  kms_credentials_free(((static_provider *)p)->cred);
}

kmsi_provider *kmsi_provider_static(kmsi_cred_chain *c, const char *name,
                                    const char *akid, const char *secret,
                                    const char *token, kms_error *err)
{
  static_provider *sp = (static_provider *)kmsi_provider_alloc(
      c, sizeof *sp, name, static_fetch, err);
  if (!sp)
    return NULL;
  sp->base.destroy = static_destroy;
  sp->cred = kms_credentials_new(akid, secret, token, 0, c->a.fn, c->a.ud,
                                 err);
  if (!sp->cred) {
    kmsi_provider_free(&sp->base);
    return NULL;
  }
  return &sp->base;
}

/* botocore's EnvProvider: nothing without AWS_ACCESS_KEY_ID (empty counts
 * as unset); the key id without the secret is an error. The token is
 * AWS_SECURITY_TOKEN or else AWS_SESSION_TOKEN, and
 * AWS_CREDENTIAL_EXPIRATION makes them refresh from the environment. */
static kms_status env_fetch(kmsi_provider *p, time_t now,
                            kms_credentials **out, kms_error *err)
{
  const char *akid = kmsi_env("AWS_ACCESS_KEY_ID");
  const char *secret = kmsi_env("AWS_SECRET_ACCESS_KEY");
  const char *token = kmsi_env("AWS_SECURITY_TOKEN");
  const char *exp_text = kmsi_env("AWS_CREDENTIAL_EXPIRATION");
  time_t exp = 0;
  (void)now;

  if (!akid)
    return KMS_OK;
  if (!secret)
    return kmsi_error(err, KMS_ERR_CREDENTIALS,
                      "Partial credentials found in env, missing: "
                      "AWS_SECRET_ACCESS_KEY");
  if (!token)
    token = kmsi_env("AWS_SESSION_TOKEN");
  if (exp_text && !kmsi_parse_iso8601(exp_text, &exp))
    return kmsi_error(err, KMS_ERR_CREDENTIALS,
                      "Error when retrieving credentials from env: "
                      "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
  *out = kms_credentials_new(akid, secret, token, exp, p->chain->a.fn,
                             p->chain->a.ud, err);
  return *out ? KMS_OK : err ? err->status : KMS_ERR_NOMEM;
}

kmsi_provider *kmsi_provider_env(kmsi_cred_chain *c, kms_error *err)
{
  return kmsi_provider_alloc(c, sizeof(kmsi_provider), "env", env_fetch,
                             err);
}
/* }===== */

/* {===== the chain ===== */

static void real_sleep(void *ud, double seconds)
{
  struct timespec ts;
  (void)ud;
  if (seconds <= 0)
    return;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static int copy_str(const kmsi_allocator *a, char **dst, const char *s)
{
  if (!s)
    return 1;
  *dst = kmsi_strndup(a, s, strlen(s));
  return *dst != NULL;
}

static void free_str(const kmsi_allocator *a, char *s)
{
  if (s)
    kmsi_free_secret(a, s, strlen(s) + 1);
}

void kmsi_cred_chain_free(kmsi_cred_chain *c)
{
  kmsi_allocator a;
  if (!c)
    return;
  a = c->a;
  kmsi_provider_free(c->root);
  kmsi_profiles_free(c->profiles);
  free_str(&a, c->profile);
  free_str(&a, c->region);
  free_str(&a, c->sts_url);
  free_str(&a, c->sts_region);
  free_str(&a, c->ca_bundle);
  free_str(&a, c->user_agent);
  kmsi_wipe(c, sizeof *c);
  kmsi_free(&a, c, sizeof *c);
}

/* Adds a provider made by the caller to the root list; 0 when it is NULL
 * (the maker reported why). */
static int add(kmsi_cred_chain *c, kmsi_provider *p)
{
  if (!p)
    return 0;
  kmsi_provider_add(c->root, p);
  return 1;
}

/* botocore's create_credential_resolver, in order: explicit keys (they
 * bypass the chain); env (left out when the profile was given explicitly,
 * which then beats env keys); assume role (the profile's role_arn); the
 * profile's providers (web identity, credentials file, credential_process,
 * config file); ECS container; EC2 instance metadata. The profile files
 * are parsed again here so the chain owns what it reads. */
kmsi_cred_chain *kmsi_cred_chain_new(const kms_config *cfg,
                                     const kmsi_settings *s,
                                     kms_transport_fn transport, void *tud,
                                     kms_error *err)
{
  kmsi_cred_chain *c = NULL, *result = NULL;
  const kmsi_allocator *a = kmsi_config_allocator(cfg);
  const char *akid = kmsi_config_get(cfg, "access_key_id");
  const char *secret = kmsi_config_get(cfg, "secret_access_key");
  const char *token = kmsi_config_get(cfg, "session_token");

  c = kmsi_calloc(a, sizeof *c);
  if (!c)
    goto nomem;
  c->a = *a;
  c->transport = transport;
  c->tud = tud;
  c->sleep = real_sleep;
  kmsi_config_log(cfg, &c->log, &c->log_ud, &c->log_max);
  c->profile_explicit = s->profile_explicit;
  c->use_fips = s->use_fips;
  c->use_dualstack = s->use_dualstack;
  c->verify_tls = s->verify_tls;
  c->connect_timeout_ms = s->connect_timeout_ms;
  c->read_timeout_ms = s->read_timeout_ms;
  if (!copy_str(a, &c->profile, s->profile ? s->profile : "default") ||
      !copy_str(a, &c->region, s->region) ||
      !copy_str(a, &c->sts_url, s->sts_endpoint_url) ||
      !copy_str(a, &c->ca_bundle, s->ca_bundle) ||
      !copy_str(a, &c->user_agent,
                s->user_agent ? s->user_agent : DEFAULT_USER_AGENT))
    goto nomem;
  if (kmsi_profiles_load(a, s->config_file, s->credentials_file,
                         &c->profiles, err) != KMS_OK)
    goto cleanup;
  c->root = kmsi_provider_list(c, "chain", err);
  if (!c->root)
    goto cleanup;

  if (akid || secret) {
    if (!akid || !secret || !*akid || !*secret) {
      kmsi_error(err, KMS_ERR_CREDENTIALS,
                 "Partial credentials found in explicit, missing: %s",
                 akid && *akid ? "aws_secret_access_key"
                               : "aws_access_key_id");
      goto cleanup;
    }
    if (!add(c, kmsi_provider_static(c, "explicit", akid, secret, token,
                                     err)))
      goto cleanup;
  } else {
    if (!c->profile_explicit && !add(c, kmsi_provider_env(c, err)))
      goto cleanup;
    if (!add(c, kmsi_provider_assume_role(c, c->profile, err)) ||
        !add(c, kmsi_provider_profile_list(c, c->profile,
                                           c->profile_explicit, err)) ||
        !add(c, kmsi_provider_container(c, err)) ||
        !add(c, kmsi_provider_imds(c, err)))
      goto cleanup;
  }
  result = c;
  c = NULL;
  goto cleanup;
nomem:
  kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
cleanup:
  kmsi_cred_chain_free(c);
  return result;
}

kms_status kmsi_cred_chain_get(kmsi_cred_chain *chain, time_t now,
                               const kms_credentials **out,
                               const char **source, kms_error *err)
{
  kms_status st;
  const char *src = NULL;
  int known = chain && chain->root && chain->root->current != NULL;

  *out = NULL;
  if (source)
    *source = NULL;
  if (!chain)
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "credentials: no chain");
  st = kmsi_provider_get(chain->root, now, out, &src, err);
  if (st != KMS_OK)
    return st;
  if (!*out)
    return kmsi_error(err, KMS_ERR_NO_CREDENTIALS,
                      "Unable to locate credentials. You can configure "
                      "credentials by running \"aws configure\".");
  if (!known)
    kmsi_cred_log(chain, KMS_LOG_DEBUG, "credentials: found in %s (%s)",
                  src ? src : "?", kms_credentials_access_key_id(*out));
  if (source)
    *source = src;
  return KMS_OK;
}
/* }===== */
