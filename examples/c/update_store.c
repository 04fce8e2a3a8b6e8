/* update_store.c - the README's main job: change a custom key store with
 * the public API only. Shows the store, validates the update against the
 * store's type and state, sends it, and shows the store again.
 *
 *   update_store [--endpoint-url URL] [--ca-bundle PEM] ID MEMBER=VALUE...
 *
 * MEMBER is an API member name (NewCustomKeyStoreName, KeyStorePassword,
 * ...; the credential halves as XksProxyAuthenticationCredential.AccessKeyId
 * and .RawSecretAccessKey). Region and credentials come the AWS way
 * (environment, ~/.aws/config and credentials, ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "kms/kms.h"

static int fail(const char *what, const kms_error *err)
{
  fprintf(stderr, "update_store: %s: %s", what, err->message);
  if (err->aws_type[0])
    fprintf(stderr, " (%s)", err->aws_type);
  fprintf(stderr, "\n");
  return 1;
}

/* Prints the store's public settings and copies its type and state into
 * the context (borrowed from *doc, which the caller frees). */
static int show_store(kms_client *c, const char *id, const char *when,
                      cJSON **doc, kms_store_context *ctx)
{
  kms_buf out = {0};
  kms_error err;
  const cJSON *stores, *s, *f;

  kms_error_clear(&err);
  if (kms_client_describe_custom_key_stores(c, id, NULL, &out, &err) != KMS_OK)
    return fail("describe", &err);
  cJSON_Delete(*doc);
  *doc = cJSON_ParseWithLength(out.data, out.len);
  kms_buf_free(&out);
  stores = cJSON_GetObjectItemCaseSensitive(*doc, "CustomKeyStores");
  s = cJSON_GetArrayItem(stores, 0);
  if (!s) {
    fprintf(stderr, "update_store: describe: no store %s\n", id);
    return 1;
  }
  printf("%s:\n", when);
  cJSON_ArrayForEach(f, s) {
    char *v = cJSON_PrintUnformatted(f);
    /* Long values (the trust anchor certificate) are shortened. */
    printf("  %-28s %.64s%s\n", f->string, v ? v : "?",
           v && strlen(v) > 64 ? "..." : "");
    free(v);
  }
  ctx->custom_key_store_type = cJSON_GetStringValue(
      cJSON_GetObjectItemCaseSensitive(s, "CustomKeyStoreType"));
  ctx->connection_state = cJSON_GetStringValue(
      cJSON_GetObjectItemCaseSensitive(s, "ConnectionState"));
  return 0;
}

int main(int argc, char **argv)
{
  kms_error err;
  kms_config *cfg = NULL;
  kms_client *c = NULL;
  kms_request *req = NULL;
  kms_problems *problems = NULL;
  kms_store_context ctx = {0};
  cJSON *doc = NULL;
  const char *id;
  int i = 1, rc = 1;

  kms_error_clear(&err);
  cfg = kms_config_new(NULL, NULL, &err);
  if (!cfg)
    return fail("config", &err);
  for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    const char *name = strcmp(argv[i], "--endpoint-url") == 0 ? "endpoint_url"
                       : strcmp(argv[i], "--ca-bundle") == 0  ? "ca_bundle"
                       : strcmp(argv[i], "--region") == 0     ? "region"
                                                              : NULL;
    if (!name || kms_config_set(cfg, name, argv[i + 1], &err) != KMS_OK) {
      fprintf(stderr, "update_store: unknown option %s\n", argv[i]);
      goto cleanup;
    }
  }
  if (i >= argc) {
    fprintf(stderr, "usage: update_store [--endpoint-url URL] [--ca-bundle PEM]"
                    " [--region R] ID MEMBER=VALUE...\n");
    goto cleanup;
  }
  id = argv[i++];

  c = kms_client_new(cfg, &err);
  if (!c) {
    rc = fail("client", &err);
    goto cleanup;
  }
  printf("region %s, endpoint %s\n", kms_client_region(c),
         kms_client_endpoint(c));

  req = kms_request_new(NULL, NULL, &err);
  if (!req || kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, id, strlen(id),
                              &err) != KMS_OK) {
    rc = fail("request", &err);
    goto cleanup;
  }
  for (; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    char name[96];
    kms_member m;
    if (!eq || (size_t)(eq - argv[i]) >= sizeof name) {
      fprintf(stderr, "update_store: expected MEMBER=VALUE, got an argument"
                      " without '='\n");
      goto cleanup;
    }
    memcpy(name, argv[i], (size_t)(eq - argv[i]));
    name[eq - argv[i]] = '\0';
    m = kms_member_lookup(name);
    if (m == KMS_M__COUNT) {
      fprintf(stderr, "update_store: unknown member %s\n", name);
      goto cleanup;
    }
    if (kms_request_set(req, m, eq + 1, strlen(eq + 1), &err) != KMS_OK) {
      rc = fail(name, &err);
      goto cleanup;
    }
  }

  if (show_store(c, id, "before", &doc, &ctx))
    goto cleanup;

  /* Every problem at once, against the store as it is now. */
  if (kms_request_validate(req, &ctx, &problems, &err) != KMS_OK) {
    size_t k;
    fprintf(stderr, "update_store: not sent, the update breaks %zu rule(s):\n",
            kms_problems_error_count(problems));
    for (k = 0; k < kms_problems_count(problems); k++)
      fprintf(stderr, "  [%s] %s\n", kms_problems_at(problems, k)->code,
              kms_problems_at(problems, k)->message);
    goto cleanup;
  }

  {
    kms_buf shown = {0};
    if (kms_request_to_redacted_json(req, &shown, &err) == KMS_OK)
      printf("sending UpdateCustomKeyStore %s\n", shown.data);
    kms_buf_free(&shown);
  }
  if (kms_client_update_custom_key_store(c, req, &ctx, &err) != KMS_OK) {
    rc = fail("update", &err);
    goto cleanup;
  }
  printf("updated (%d attempt%s)\n", err.attempts, err.attempts == 1 ? "" : "s");
  if (show_store(c, id, "after", &doc, &ctx))
    goto cleanup;
  rc = 0;

cleanup:
  cJSON_Delete(doc);
  kms_problems_free(problems);
  kms_request_free(req);
  kms_client_free(c);
  kms_config_free(cfg);
  return rc;
}
