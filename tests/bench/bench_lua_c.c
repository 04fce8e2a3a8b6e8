/* bench_lua_c.c - the C baseline for bench_lua.lua: the same work per
 * operation through the public API (build the request member by member,
 * validate, encode, sign with kms_client_prepare at a fixed time, hand the
 * signed message to the host - here: copy its request line, headers and
 * body into the host's buffer, as a host with its own I/O does and as the
 * Lua binding does into a Lua table - and free).
 *   bench_lua_c [iterations]   prints "c: N ops, X us/op"
 * A benchmark, not a test: nothing is asserted about speed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kms/kms.h"

static const struct {
  kms_member m;
  const char *value;
} members[] = {
  {KMS_M_CUSTOM_KEY_STORE_ID, "cks-0987654321fedcba0"},
  {KMS_M_NEW_CUSTOM_KEY_STORE_NAME, "ExampleExternalKeyStore"},
  {KMS_M_XKS_PROXY_URI_ENDPOINT, "https://myproxy.xks.example.com"},
  {KMS_M_XKS_PROXY_URI_PATH, "/kms/xks/v1"},
  {KMS_M_XKS_ACCESS_KEY_ID, "AKIAXKSPROXYEXAMPLE2"},
  {KMS_M_XKS_RAW_SECRET_ACCESS_KEY,
   "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="},
  {KMS_M_XKS_PROXY_CONNECTIVITY, "PUBLIC_ENDPOINT"},
};

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* like os.clock */
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What a host does with the signed message: its bytes into its own
 * buffer. */
static size_t render(const kms_http *msg, char *out, size_t size)
{
  size_t used = 0, i, blen = 0;
  const char *name, *value, *body = kms_http_body(msg, &blen);
  int n = snprintf(out, size, "%s %s HTTP/1.1\r\n", kms_http_method(msg),
                   kms_http_target(msg));

  used = n > 0 ? (size_t)n : 0;
  for (i = 0; kms_http_header_at(msg, i, &name, &value); i++) {
    size_t nl = strlen(name), vl = strlen(value);
    if (used + nl + vl + 4 >= size)
      return 0;
    memcpy(out + used, name, nl);
    memcpy(out + used + nl, ": ", 2);
    memcpy(out + used + nl + 2, value, vl);
    memcpy(out + used + nl + 2 + vl, "\r\n", 2);
    used += nl + vl + 4;
  }
  if (used + blen + 2 >= size)
    return 0;
  memcpy(out + used, "\r\n", 2);
  memcpy(out + used + 2, body, blen);
  return used + 2 + blen;
}

/* One operation; returns 0 on success. */
static int one(kms_client *c)
{
  static char wire[4096];
  kms_request *req = kms_request_new(NULL, NULL, NULL);
  kms_problems *problems = NULL;
  kms_http *msg = NULL;
  kms_buf body;
  size_t i;
  int rc = 1;

  memset(&body, 0, sizeof body);
  if (!req)
    return 1;
  for (i = 0; i < sizeof members / sizeof members[0]; i++)
    if (kms_request_set(req, members[i].m, members[i].value,
                        strlen(members[i].value), NULL) != KMS_OK)
      goto cleanup;
  if (kms_request_validate(req, NULL, &problems, NULL) != KMS_OK)
    goto cleanup;
  if (kms_request_encode_body(req, &body, NULL) != KMS_OK)
    goto cleanup;
  if (kms_client_prepare(c, KMS_OP_UPDATE_CUSTOM_KEY_STORE, body.data,
                         body.len, (time_t)1795889240, &msg, NULL) != KMS_OK)
    goto cleanup;
  if (render(msg, wire, sizeof wire) == 0)
    goto cleanup;
  rc = 0;
cleanup:
  kms_http_free(msg);
  kms_buf_free(&body);
  kms_problems_free(problems);
  kms_request_free(req);
  return rc;
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 100000, i;
  kms_config *cfg = kms_config_new(NULL, NULL, NULL);
  kms_client *c;
  kms_error err;
  double t;

  kms_error_clear(&err);
  if (!cfg || kms_config_set(cfg, "region", "us-east-1", &err) ||
      kms_config_set(cfg, "endpoint_url", "http://127.0.0.1:38865", &err) ||
      kms_config_set(cfg, "access_key_id", "AKIDEXAMPLE", &err) ||
      kms_config_set(cfg, "secret_access_key",
                     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", &err)) {
    fprintf(stderr, "bench_lua_c: config: %s\n", err.message);
    return 1;
  }
  c = kms_client_new(cfg, &err);
  kms_config_free(cfg);
  if (!c) {
    fprintf(stderr, "bench_lua_c: client: %s\n", err.message);
    return 1;
  }
  for (i = 0; i < n / 10 + 1; i++)        /* warm up (key cache, heap) */
    if (one(c)) {
      fprintf(stderr, "bench_lua_c: an operation failed\n");
      return 1;
    }
  t = now();
  for (i = 0; i < n; i++)
    one(c);
  t = now() - t;
  printf("c: %ld ops, %.2f us/op\n", n, t * 1e6 / (double)n);
  kms_client_free(c);
  return 0;
}
