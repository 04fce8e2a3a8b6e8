/* cred_tool.c - drives the credential chain over the default transport
 * it is linked with (libcurl's, or the native one for cred_tool-native)
 * for test_credentials.py: resolves settings from the
 * environment (and --profile), gets credentials at the given clock
 * offsets, and can prove them by signing an STS GetCallerIdentity.
 *
 *   cred_tool [--profile P] [--verify STS_URL] [--at SECONDS]...
 *
 * Prints "ok OFFSET SOURCE AKID LIFETIME" or "error OFFSET STATUS MESSAGE"
 * per get, "verify HTTP_STATUS" per proof; log lines go to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static void log_line(void *ud, kms_log_level level, const char *msg)
{
  (void)ud;
  fprintf(stderr, "log %d: %s\n", (int)level, msg);
}

/* Signs and sends Action=GetCallerIdentity with cred; returns the HTTP
 * status (0 when none came). */
static long verify(const kmsi_transport *t, const char *url, const kms_credentials *cred,
                   time_t now)
{
  static const char body[] = "Action=GetCallerIdentity&Version=2011-06-15";
  kms_http *msg = kms_http_new("POST", url, NULL, NULL, NULL);
  kms_http_response resp;
  kms_transport_opts opts = {10000, 10000, NULL, 1};
  kms_sign_params sp;
  kms_error e;
  long status = 0;

  kms_http_response_init(&resp, NULL, NULL);
  memset(&sp, 0, sizeof sp);
  sp.region = "us-east-1";
  sp.service = "sts";
  sp.time = now;
  kms_error_clear(&e);
  if (msg &&
      kms_http_add_header(msg, "Content-Type",
                          "application/x-www-form-urlencoded; charset=utf-8",
                          &e) == KMS_OK &&
      kms_http_set_body(msg, body, sizeof body - 1, &e) == KMS_OK &&
      kms_sign(NULL, msg, cred, &sp, &e) == KMS_OK &&
      t->send(t->ud, msg, &opts, &resp, &e) == KMS_OK)
    status = resp.status;
  else
    fprintf(stderr, "verify failed: %s\n", e.message);
  kms_http_response_free(&resp);
  kms_http_free(msg);
  return status;
}

int main(int argc, char **argv)
{
  kms_config *cfg = kms_config_new(NULL, NULL, NULL);
  kmsi_settings s;
  kmsi_cred_chain *chain = NULL;
  kmsi_transport t = {NULL, NULL, NULL};
  kmsi_allocator a;
  kms_error e;
  const char *verify_url = NULL;
  long offsets[32];
  int n = 0, i, rc = 1;
  time_t base = time(NULL);

  kmsi_allocator_init(&a, NULL, NULL);
  kms_config_set_log(cfg, log_line, NULL, KMS_LOG_DEBUG);
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
      kms_config_set(cfg, "profile", argv[++i], NULL);
    else if (strcmp(argv[i], "--verify") == 0 && i + 1 < argc)
      verify_url = argv[++i];
    else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc && n < 32)
      offsets[n++] = strtol(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "usage: cred_tool [--profile P] [--verify URL] "
              "[--at SECONDS]...\n");
      return 2;
    }
  }
  if (!n)
    offsets[n++] = 0;
  kms_error_clear(&e);
  if (kmsi_settings_resolve(cfg, &s, &e) != KMS_OK) {
    printf("error 0 %s %s\n", kms_strerror(e.status), e.message);
    goto cleanup;
  }
  if (kmsi_default_transport_new(&a, &t, &e) == KMS_OK)
    chain = kmsi_cred_chain_new(cfg, &s, t.send, t.ud, &e);
  kmsi_settings_free(&s, &a);
  if (!chain) {
    printf("error 0 %s %s\n", kms_strerror(e.status), e.message);
    goto cleanup;
  }
  for (i = 0; i < n; i++) {
    const kms_credentials *cred = NULL;
    const char *src = NULL;
    time_t now = base + offsets[i];
    kms_error_clear(&e);
    if (kmsi_cred_chain_get(chain, now, &cred, &src, &e) != KMS_OK) {
      printf("error %ld %s %s\n", offsets[i], kms_strerror(e.status),
             e.message);
      continue;
    }
    printf("ok %ld %s %s %ld\n", offsets[i], src,
           kms_credentials_access_key_id(cred),
           kms_credentials_expiration(cred)
               ? (long)(kms_credentials_expiration(cred) - now)
               : 0L);
    if (verify_url)
      printf("verify %ld\n", verify(&t, verify_url, cred, now));
    fflush(stdout);
  }
  rc = 0;
cleanup:
  kmsi_cred_chain_free(chain);
  if (t.free)
    t.free(t.ud);
  kms_config_free(cfg);
  return rc;
}
