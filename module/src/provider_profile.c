/* provider_profile.c - the static keys of a profile (the credentials file,
 * then the config file) and the list of providers botocore builds for one
 * profile, which the default chain and assume-role's source_profile
 * share. */
#include <string.h>
#include "provider.h"

typedef struct file_provider {
  kmsi_provider base;
  char *profile;
  kmsi_file file;
} file_provider;

static void file_destroy(kmsi_provider *p)
{
  file_provider *fp = (file_provider *)p;
  kmsi_free(&p->chain->a, fp->profile, strlen(fp->profile) + 1);
}

/* botocore's SharedCredentialProvider / ConfigProvider: nothing without
 * aws_access_key_id (an empty one counts as absent); the key id without
 * the secret is an error naming the file's provider. The token is
 * aws_security_token or else aws_session_token. */
static kms_status file_fetch(kmsi_provider *p, time_t now,
                             kms_credentials **out, kms_error *err)
{
  file_provider *fp = (file_provider *)p;
  const kmsi_profiles *pr = p->chain->profiles;
  const char *akid, *secret, *token;
  (void)now;

  akid = kmsi_profiles_get_in(pr, fp->file, fp->profile,
                              "aws_access_key_id");
  if (!akid || !*akid)
    return KMS_OK;
  secret = kmsi_profiles_get_in(pr, fp->file, fp->profile,
                                "aws_secret_access_key");
  if (!secret || !*secret)
    return kmsi_error(err, KMS_ERR_CREDENTIALS,
                      "Partial credentials found in %s, missing: "
                      "aws_secret_access_key",
                      p->name);
  token = kmsi_profiles_get_in(pr, fp->file, fp->profile,
                               "aws_security_token");
  if (!token)
    token = kmsi_profiles_get_in(pr, fp->file, fp->profile,
                                 "aws_session_token");
  *out = kms_credentials_new(akid, secret, token, 0, p->chain->a.fn,
                             p->chain->a.ud, err);
  return *out ? KMS_OK : KMS_ERR_NOMEM;
}

kmsi_provider *kmsi_provider_shared_file(kmsi_cred_chain *c,
                                         const char *profile, kmsi_file f,
                                         kms_error *err)
{
  file_provider *fp = (file_provider *)kmsi_provider_alloc(
      c, sizeof *fp,
      f == KMSI_FILE_CREDENTIALS ? "shared-credentials-file" : "config-file",
      file_fetch, err);
  if (!fp)
    return NULL;
  fp->file = f;
  fp->profile = kmsi_strndup(&c->a, profile, strlen(profile));
  if (!fp->profile) {
    kmsi_free(&c->a, fp, sizeof *fp);
    kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    return NULL;
  }
  fp->base.destroy = file_destroy;
  return &fp->base;
}

kmsi_provider *kmsi_provider_profile_list(kmsi_cred_chain *c,
                                          const char *profile,
                                          int disable_env, kms_error *err)
{
  kmsi_provider *list = kmsi_provider_list(c, "profile", err), *p;
  int i;

  for (i = 0; list && i < 4; i++) {
    switch (i) {
    case 0:
      p = kmsi_provider_web_identity(c, profile, disable_env, err);
      break;
    case 1:
      p = kmsi_provider_shared_file(c, profile, KMSI_FILE_CREDENTIALS, err);
      break;
    case 2:
      p = kmsi_provider_process(c, profile, err);
      break;
    default:
      p = kmsi_provider_shared_file(c, profile, KMSI_FILE_CONFIG, err);
      break;
    }
    if (!p) {
      kmsi_provider_free(list);
      return NULL;
    }
    kmsi_provider_add(list, p);
  }
  return list;
}

int kmsi_profile_has_role(const kmsi_cred_chain *c, const char *profile)
{
  return kmsi_profiles_get(c->profiles, profile, "role_arn") != NULL &&
         kmsi_profiles_get(c->profiles, profile,
                           "web_identity_token_file") == NULL;
}
