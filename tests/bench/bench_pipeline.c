/* bench_pipeline.c - cost of one UpdateCustomKeyStore through the pure
 * stages: build (kms_request_new + two sets), validate, encode,
 * kms_http_new_for and kms_sign. Not a test: run.sh turns it into ns/op
 * and, under callgrind, instructions/op.
 *   bench_pipeline [warm|cold|fresh|all] [OPS]
 * warm:  one signer, every op on the same day: the signing key is cached.
 * cold:  one signer, every op on another day: the key is derived each op.
 * fresh: a new signer per op (an empty key cache), for comparison. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kms/kms.h"

#define URL "https://kms.us-east-1.amazonaws.com"
#define T0 ((time_t)1795852800) /* 2026-11-28T00:00:00Z */

typedef enum mode { WARM, COLD, FRESH } mode;

static const char *const mode_names[] = {"warm", "cold", "fresh"};

/* One op; returns 0 on success. */
static int one_op(kms_signer *signer, const kms_credentials *cred,
                  time_t now)
{
  static const char id[] = "cks-1234567890abcdef0";
  static const char pw[] = "ExamplePassword";
  kms_request *req = NULL;
  kms_problems *probs = NULL;
  kms_buf body = {0};
  kms_http *msg = NULL;
  kms_sign_params p;
  kms_error err;
  int rc = 1;

  req = kms_request_new(NULL, NULL, &err);
  if (!req ||
      kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, id, sizeof id - 1,
                      &err) != KMS_OK ||
      kms_request_set(req, KMS_M_KEY_STORE_PASSWORD, pw, sizeof pw - 1,
                      &err) != KMS_OK ||
      kms_request_validate(req, NULL, &probs, &err) != KMS_OK ||
      kms_request_encode_body(req, &body, &err) != KMS_OK)
    goto cleanup;
  msg = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE, URL, body.data,
                         body.len, NULL, NULL, &err);
  if (!msg)
    goto cleanup;
  memset(&p, 0, sizeof p);
  p.region = "us-east-1";
  p.service = "kms";
  p.time = now;
  p.flags = KMS_SIGN_NORMALIZE_PATH;
  if (kms_sign(signer, msg, cred, &p, &err) != KMS_OK)
    goto cleanup;
  rc = 0;
cleanup:
  if (rc)
    fprintf(stderr, "bench_pipeline: %s\n", err.message);
  kms_http_free(msg);
  kms_buf_free(&body);
  kms_problems_free(probs);
  kms_request_free(req);
  return rc;
}

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs ops operations in mode m; returns ns/op, or -1 on failure. */
static double run(mode m, long ops, const kms_credentials *cred)
{
  kms_error err;
  kms_signer *signer = NULL;
  double start, ns;
  long i;
  int failed = 0;

  if (m != FRESH) {
    signer = kms_signer_new(NULL, NULL, NULL, NULL, &err);
    if (!signer)
      return -1;
  }
  start = now_ns();
  for (i = 0; i < ops && !failed; i++) {
    /* warm: a new second every op, the same day; cold: a new day. */
    time_t t = m == COLD ? T0 + (time_t)i * 86400 : T0 + (time_t)(i % 86400);
    if (m == FRESH) {
      signer = kms_signer_new(NULL, NULL, NULL, NULL, &err);
      failed = !signer || one_op(signer, cred, t);
      kms_signer_free(signer);
      signer = NULL;
    } else {
      failed = one_op(signer, cred, t);
    }
  }
  ns = (now_ns() - start) / (double)ops;
  kms_signer_free(signer);
  return failed ? -1 : ns;
}

int main(int argc, char **argv)
{
  const char *which = argc > 1 ? argv[1] : "all";
  long ops = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
  kms_error err;
  kms_credentials *cred;
  int m, ran = 0, rc = 0;

  if (ops <= 0) {
    fprintf(stderr, "usage: bench_pipeline [warm|cold|fresh|all] [OPS]\n");
    return 2;
  }
  cred = kms_credentials_new("AKIDEXAMPLE",
                             "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL,
                             0, NULL, NULL, &err);
  if (!cred) {
    fprintf(stderr, "bench_pipeline: %s\n", err.message);
    return 1;
  }
  for (m = WARM; m <= FRESH; m++) {
    double ns;
    if (strcmp(which, "all") != 0 && strcmp(which, mode_names[m]) != 0)
      continue;
    ran = 1;
    ns = run((mode)m, ops, cred);
    if (ns < 0) {
      rc = 1;
      break;
    }
    printf("%-5s %8ld ops %10.0f ns/op\n", mode_names[m], ops, ns);
  }
  kms_credentials_free(cred);
  if (!ran) {
    fprintf(stderr, "usage: bench_pipeline [warm|cold|fresh|all] [OPS]\n");
    return 2;
  }
  return rc;
}
