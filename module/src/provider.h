/* provider.h - private glue of the credential providers (provider_*.c):
 * the provider interface with its refresh-before-expiry cache, the chain
 * context they share, and the helpers for HTTP, JSON, time and files.
 * Not part of the public ABI; the unit tests include it. */
#ifndef KMS_PROVIDER_H
#define KMS_PROVIDER_H

#include "internal.h"

/* Temporary credentials are refreshed when they expire within this many
 * seconds. */
#define KMSI_REFRESH_WINDOW 300

typedef struct kmsi_provider kmsi_provider;

/* Fetches fresh credentials. KMS_OK with *out set (a new object the
 * caller owns); KMS_OK with *out NULL when the source is not configured
 * (the chain moves on); an error when it is configured but failed (the
 * chain stops there, as botocore's does). */
typedef kms_status (*kmsi_fetch_fn)(kmsi_provider *p, time_t now,
                                    kms_credentials **out, kms_error *err);

struct kmsi_provider {
  const char *name;            /* static, botocore's METHOD: "env", ... */
  kmsi_cred_chain *chain;      /* the shared context (borrowed) */
  size_t size;                 /* of the whole struct, for freeing */
  kmsi_fetch_fn fetch;         /* NULL for a list */
  void (*destroy)(kmsi_provider *p); /* frees the extra fields, or NULL */
  kms_credentials *cached;     /* last fetched, until it nears expiry */
  kmsi_provider *children;     /* a list: tried in order */
  kmsi_provider *current;      /* a list: the child that answered */
  kmsi_provider *next;         /* sibling in a list */
};

typedef void (*kmsi_cred_sleep_fn)(void *ud, double seconds);

/* What every provider can reach. Strings are owned copies. */
struct kmsi_cred_chain {
  kmsi_allocator a;
  kms_transport_fn transport;
  void *tud;
  kms_log_fn log;
  void *log_ud;
  kms_log_level log_max;
  kmsi_cred_sleep_fn sleep;
  void *sleep_ud;
  kmsi_profiles *profiles;
  char *profile;
  int profile_explicit;
  char *region;                /* NULL: none */
  int use_fips, use_dualstack;
  char *sts_url;               /* the STS endpoint (override or regional) */
  char *sts_region;            /* the region STS requests are signed for */
  char *ca_bundle;
  int verify_tls;
  long connect_timeout_ms, read_timeout_ms;
  char *user_agent;
  kmsi_provider *root;         /* the default chain (a list) */
};

/* {===== the provider object (provider_chain.c) ===== */

/* Allocates a provider of size bytes (>= sizeof(kmsi_provider), zeroed)
 * with its name and fetch function; NULL on nomem (err says so). */
kmsi_provider *kmsi_provider_alloc(kmsi_cred_chain *c, size_t size,
                                   const char *name, kmsi_fetch_fn fetch,
                                   kms_error *err);
/* Frees a provider, its children and its cached credentials. */
void kmsi_provider_free(kmsi_provider *p);
/* A list provider: its children are tried in order, and the first that
 * answers is kept for later calls (as a botocore session keeps the
 * provider that found its credentials). */
kmsi_provider *kmsi_provider_list(kmsi_cred_chain *c, const char *name,
                                  kms_error *err);
/* Appends child to list (taking it). */
void kmsi_provider_add(kmsi_provider *list, kmsi_provider *child);

/* Credentials valid at now, borrowed until the next call on p: the cached
 * ones while they are more than KMSI_REFRESH_WINDOW from expiry, fresh
 * ones otherwise. When a refresh fails while the cached credentials have
 * not yet expired, those are returned (logged as a warning). *out NULL
 * with KMS_OK: not configured. *source (may be NULL) receives the name of
 * the provider that answered. */
kms_status kmsi_provider_get(kmsi_provider *p, time_t now,
                             const kms_credentials **out,
                             const char **source, kms_error *err);
/* }===== */

/* {===== the providers ===== */

/* Explicit keys (kms_config). Takes copies. */
kmsi_provider *kmsi_provider_static(kmsi_cred_chain *c, const char *name,
                                    const char *akid, const char *secret,
                                    const char *token, kms_error *err);
/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (or
 * AWS_SECURITY_TOKEN), AWS_CREDENTIAL_EXPIRATION. (provider_chain.c) */
kmsi_provider *kmsi_provider_env(kmsi_cred_chain *c, kms_error *err);

/* The providers botocore builds for one profile, in its order: web
 * identity (environment too unless disable_env), the credentials file's
 * static keys, credential_process, the config file's static keys.
 * (provider_profile.c) */
kmsi_provider *kmsi_provider_profile_list(kmsi_cred_chain *c,
                                          const char *profile,
                                          int disable_env, kms_error *err);
/* The credentials file's (or config file's) static keys for profile. */
kmsi_provider *kmsi_provider_shared_file(kmsi_cred_chain *c,
                                         const char *profile, kmsi_file f,
                                         kms_error *err);
/* credential_process of the profile. (provider_process.c) */
kmsi_provider *kmsi_provider_process(kmsi_cred_chain *c, const char *profile,
                                     kms_error *err);
/* role_arn with source_profile or credential_source. (provider_sts.c) */
kmsi_provider *kmsi_provider_assume_role(kmsi_cred_chain *c,
                                         const char *profile,
                                         kms_error *err);
/* AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (unless disable_env), or the
 * profile's web_identity_token_file + role_arn. (provider_sts.c) */
kmsi_provider *kmsi_provider_web_identity(kmsi_cred_chain *c,
                                          const char *profile,
                                          int disable_env, kms_error *err);
/* ECS/EKS container credentials and EC2 instance metadata (IMDSv2).
 * (provider_imds.c) */
kmsi_provider *kmsi_provider_container(kmsi_cred_chain *c, kms_error *err);
kmsi_provider *kmsi_provider_imds(kmsi_cred_chain *c, kms_error *err);

/* 1 when a profile would be taken by the assume-role provider: role_arn
 * without web_identity_token_file. */
int kmsi_profile_has_role(const kmsi_cred_chain *c, const char *profile);
/* }===== */

/* {===== helpers (provider_util.c) ===== */

/* Logs one line at level through the chain's sink (never a secret). */
void kmsi_cred_log(const kmsi_cred_chain *c, kms_log_level level,
                   const char *fmt, ...) KMSI_PRINTF(3, 4);

/* Sends msg through the chain's transport with the given timeouts (0:
 * the chain's own) and fills resp (initialised here, body secret). */
kms_status kmsi_cred_send(kmsi_cred_chain *c, const kms_http *msg,
                          long timeout_ms, kms_http_response *resp,
                          kms_error *err);

/* Parses ISO 8601 / RFC 3339 UTC times as the credential sources write
 * them: "2024-01-02T03:04:05Z", with fractions, "+00:00" offsets or a
 * space for the "T". Returns 1 and *out on success. */
int kmsi_parse_iso8601(const char *s, time_t *out);

/* Builds credentials from a JSON document with the given member names
 * (token_key and exp_key may be NULL; a missing required member is
 * reported as "Missing required key in response: 'AccessKeyId'"). Every
 * string cJSON held is wiped before it is freed. what prefixes error
 * messages. *version receives the "Version" member (-1 when absent or
 * not a number) when version is not NULL. */
kms_status kmsi_creds_from_json(kmsi_cred_chain *c, const char *what,
                                const char *json, size_t len,
                                const char *token_key, const char *exp_key,
                                int *version, kms_credentials **out,
                                kms_error *err);

/* Reads a small file into a secret buffer (initialised here). KMS_ERR_IO
 * "what: cannot read PATH: reason" when it cannot be read. */
kms_status kmsi_read_secret_file(const kmsi_allocator *a, const char *what,
                                 const char *path, size_t max, kms_buf *out,
                                 kms_error *err);

/* Appends s percent-encoded as botocore's query serializer does (all but
 * A-Z a-z 0-9 - _ . ~). */
kms_status kmsi_form_encode(kms_buf *b, const char *s, size_t len);
/* }===== */

/* {===== STS (provider_sts.c) ===== */

/* The text between <tag> and </tag> in xml[0..len), entity-decoded, into
 * out (appended). Returns 1 when found. The tiny extractor is enough for
 * STS's fixed shapes; it does not handle CDATA or attributes on tag. */
int kmsi_xml_text(const char *xml, size_t len, const char *tag, kms_buf *out);
/* }===== */

#endif /* KMS_PROVIDER_H */
