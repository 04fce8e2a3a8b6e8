/* creds.c - the kms_credentials object: an AWS access key id, its secret
 * and an optional session token, held in memory kms owns and wiped on
 * free. Providers (environment, profiles, STS, IMDS...) build these; the
 * signer reads the secret halves through the kmsi_ accessors only. */
#include <string.h>
#include "internal.h"

struct kms_credentials {
  kmsi_allocator a;
  char *access_key_id;
  size_t access_key_id_len;
  char *secret;             /* secret: wiped on free */
  size_t secret_len;
  char *token;              /* secret: wiped on free; NULL when none */
  size_t token_len;
  time_t expiration;        /* 0: does not expire */
};

/* Copies the three strings into owned memory. The access key id and the
 * secret are required and must not be empty; a NULL or empty session
 * token means "no token" (as the AWS SDKs treat an empty
 * AWS_SESSION_TOKEN). Returns NULL with err filled on bad arguments or
 * when an allocation fails; nothing is left allocated then. */
kms_credentials *kms_credentials_new(const char *access_key_id,
                                     const char *secret_access_key,
                                     const char *session_token,
                                     time_t expiration, kms_alloc_fn alloc,
                                     void *alloc_ud, kms_error *err)
{
  kmsi_allocator a;
  kms_credentials *c = NULL;
  kms_credentials *result = NULL;

  if (!access_key_id || !*access_key_id || !secret_access_key ||
      !*secret_access_key) {
    kmsi_error(err, KMS_ERR_INVALID_ARG,
               "credentials: access key id and secret access key are "
               "required");
    goto cleanup;
  }
  kmsi_allocator_init(&a, alloc, alloc_ud);
  c = kmsi_calloc(&a, sizeof *c);
  if (!c)
    goto nomem;
  c->a = a;
  c->expiration = expiration;
  c->access_key_id_len = strlen(access_key_id);
  c->access_key_id = kmsi_strndup(&a, access_key_id, c->access_key_id_len);
  if (!c->access_key_id)
    goto nomem;
  c->secret_len = strlen(secret_access_key);
  c->secret = kmsi_strndup(&a, secret_access_key, c->secret_len);
  if (!c->secret)
    goto nomem;
  if (session_token && *session_token) {
    c->token_len = strlen(session_token);
    c->token = kmsi_strndup(&a, session_token, c->token_len);
    if (!c->token)
      goto nomem;
  }
  result = c;
  c = NULL;
  goto cleanup;

nomem:
  kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
cleanup:
  kms_credentials_free(c);
  return result;
}

/* Wipes the three strings (the access key id too: it is not secret, but
 * wiping it costs nothing) and frees the object. NULL is a no-op. */
void kms_credentials_free(kms_credentials *c)
{
  kmsi_allocator a;
  if (!c)
    return;
  a = c->a;
  kmsi_free_secret(&a, c->access_key_id, c->access_key_id_len + 1);
  kmsi_free_secret(&a, c->secret, c->secret_len + 1);
  kmsi_free_secret(&a, c->token, c->token_len + 1);
  kmsi_wipe(c, sizeof *c);
  kmsi_free(&a, c, sizeof *c);
}

const char *kms_credentials_access_key_id(const kms_credentials *c)
{
  return c ? c->access_key_id : NULL;
}

time_t kms_credentials_expiration(const kms_credentials *c)
{
  return c ? c->expiration : 0;
}

const char *kmsi_credentials_secret(const kms_credentials *c, size_t *len)
{
  if (len)
    *len = c ? c->secret_len : 0;
  return c ? c->secret : NULL;
}

const char *kmsi_credentials_token(const kms_credentials *c, size_t *len)
{
  if (len)
    *len = c ? c->token_len : 0;
  return c ? c->token : NULL;
}
