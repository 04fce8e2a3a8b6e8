/* bench_send.c - sequential UpdateCustomKeyStore sends over keep-alive to a
 * fast local server: the whole kmscks path (validate, encode, sign, send,
 * check) against a bare libcurl loop that re-sends one pre-signed request
 * on one reused handle. Not a timed test: bench_send.sh runs it next to
 * boto3 and prints per-request microseconds and the ratio.
 *
 *   bench_send URL N [MODE]   MODE all (default), kmscks, bare or prepare
 *
 * Prints "kmscks US", "bare US" and "prepare US" lines (wall microseconds
 * per request) and "kmscks_cpu US", "bare_cpu US" (this process's CPU
 * time per request: the client-side cost without the server's). In "all"
 * mode the two send loops run interleaved in 40 rounds and each wall
 * figure is the median of its rounds, so that load from other processes
 * hits both alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "kms/kms.h"

static double now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
  (void)p;
  (void)ud;
  return size * n;
}

static int die(const char *what, const kms_error *err)
{
  fprintf(stderr, "bench_send: %s: %s\n", what, err ? err->message : "");
  return 1;
}

/* The pre-signed request on one reused easy handle, as a program that
 * does everything by hand would send it. */
typedef struct bare {
  CURL *h;
  struct curl_slist *hdrs;
} bare;

static void bare_init(bare *b, kms_http *msg)
{
  const char *name, *value, *body;
  char line[4096];
  size_t i, blen;

  b->h = curl_easy_init();
  b->hdrs = NULL;
  body = kms_http_body(msg, &blen);
  for (i = 0; kms_http_header_at(msg, i, &name, &value); i++) {
    snprintf(line, sizeof line, "%s: %s", name, value);
    b->hdrs = curl_slist_append(b->hdrs, line);
  }
  b->hdrs = curl_slist_append(b->hdrs, "Accept-Encoding: identity");
  b->hdrs = curl_slist_append(b->hdrs, "Accept:");
  b->hdrs = curl_slist_append(b->hdrs, "Expect:");
  curl_easy_setopt(b->h, CURLOPT_URL, kms_http_url(msg));
  curl_easy_setopt(b->h, CURLOPT_HTTPHEADER, b->hdrs);
  curl_easy_setopt(b->h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(b->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
  curl_easy_setopt(b->h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(b->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(b->h, CURLOPT_WRITEFUNCTION, discard);
}

static double bare_run(bare *b, int n)
{
  double t0 = now_us();
  long status = 0;
  int k;
  for (k = 0; k < n; k++)
    if (curl_easy_perform(b->h) != CURLE_OK)
      fprintf(stderr, "bench_send: bare request failed\n");
  curl_easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200)
    fprintf(stderr, "bench_send: bare loop got HTTP %ld\n", status);
  return (now_us() - t0) / n;
}

static void bare_free(bare *b)
{
  curl_slist_free_all(b->hdrs);
  curl_easy_cleanup(b->h);
}

static double ours_run(kms_client *c, const kms_request *req, int n)
{
  kms_error err;
  double t0 = now_us();
  int k;
  for (k = 0; k < n; k++)
    if (kms_client_update_custom_key_store(c, req, NULL, &err) != KMS_OK) {
      fprintf(stderr, "bench_send: update: %s\n", err.message);
      exit(1);
    }
  return (now_us() - t0) / n;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

#define ROUNDS 40

int main(int argc, char **argv)
{
  kms_config *cfg;
  kms_client *c;
  kms_request *req;
  kms_error err;
  kms_buf body;
  kms_http *msg = NULL;
  const char *url = argc > 1 ? argv[1] : NULL;
  int n = argc > 2 ? atoi(argv[2]) : 1000, k;
  const char *mode = argc > 3 ? argv[3] : "all";
  double t0, t1, ours = 0, bare_us = 0, prep, ro[ROUNDS], rb[ROUNDS];
  double cpu_ours = 0, cpu_bare = 0;
  bare b;
  static const char secret[] = "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs=";

  if (!url || n < 1) {
    fprintf(stderr, "usage: bench_send URL N\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  cfg = kms_config_new(NULL, NULL, &err);
  if (!cfg || kms_config_set(cfg, "endpoint_url", url, &err) ||
      kms_config_set(cfg, "region", "us-east-1", &err) ||
      kms_config_set(cfg, "access_key_id", "AKIDEXAMPLE", &err) ||
      kms_config_set(cfg, "secret_access_key",
                     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", &err))
    return die("config", &err);
  c = kms_client_new(cfg, &err);
  if (!c)
    return die("client", &err);
  req = kms_request_new(NULL, NULL, &err);
  if (!req ||
      kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "cks-0987654321fedcba0",
                      21, &err) ||
      kms_request_set(req, KMS_M_NEW_CUSTOM_KEY_STORE_NAME,
                      "ExampleExternalKeyStore", 23, &err) ||
      kms_request_set_credential(req, "BCDEF34567234EXAMPLE", 20, secret,
                                 sizeof secret - 1, 0, &err))
    return die("request", &err);

  /* The client-side CPU alone: validate, encode, sign (no I/O); its last
   * message is what the bare loop re-sends. */
  t0 = now_us();
  for (k = 0; k < n; k++) {
    kms_problems *p = NULL;
    kms_request_validate(req, NULL, &p, &err);
    kms_problems_free(p);
    if (kms_request_encode_body(req, &body, &err) != KMS_OK)
      return die("encode", &err);
    kms_http_free(msg);
    if (kms_client_prepare(c, KMS_OP_UPDATE_CUSTOM_KEY_STORE, body.data,
                           body.len, 0, &msg, &err) != KMS_OK)
      return die("prepare", &err);
    kms_buf_free(&body);
  }
  t1 = now_us();
  prep = (t1 - t0) / n;

  bare_init(&b, msg);
  ours_run(c, req, 20); /* warm up: connect, caches */
  bare_run(&b, 20);
  if (strcmp(mode, "kmscks") == 0) {
    ours = ours_run(c, req, n);
  } else if (strcmp(mode, "bare") == 0) {
    bare_us = bare_run(&b, n);
  } else if (strcmp(mode, "all") == 0) {
    int per = n / ROUNDS > 0 ? n / ROUNDS : 1;
    for (k = 0; k < ROUNDS; k++) {
      double c0 = cpu_us(), c1, c2;
      ro[k] = ours_run(c, req, per);
      c1 = cpu_us();
      rb[k] = bare_run(&b, per);
      c2 = cpu_us();
      cpu_ours += (c1 - c0) / per / ROUNDS;
      cpu_bare += (c2 - c1) / per / ROUNDS;
    }
    qsort(ro, ROUNDS, sizeof ro[0], cmp_double);
    qsort(rb, ROUNDS, sizeof rb[0], cmp_double);
    ours = (ro[ROUNDS / 2 - 1] + ro[ROUNDS / 2]) / 2;
    bare_us = (rb[ROUNDS / 2 - 1] + rb[ROUNDS / 2]) / 2;
  }
  bare_free(&b);

  printf("kmscks %.1f\n", ours);
  printf("bare %.1f\n", bare_us);
  printf("prepare %.1f\n", prep);
  printf("kmscks_cpu %.1f\n", cpu_ours);
  printf("bare_cpu %.1f\n", cpu_bare);
  kms_http_free(msg);
  kms_request_free(req);
  kms_client_free(c);
  kms_config_free(cfg);
  curl_global_cleanup();
  return 0;
}
