/* fuzz_request.c - libFuzzer target for the request pipeline: the first
 * byte picks a store context, the rest is --cli-input-json text fed to
 * kms_request_load_json, kms_request_validate and the encoders, and also a
 * raw value given to kms_request_set. Traps when an invariant breaks. */
#include <stdint.h>
#include <string.h>
#include "kms/kms.h"
#include "request_int.h"
#include "fuzz.h"

static const char *const types[] = {NULL, "AWS_CLOUDHSM",
                                    "EXTERNAL_KEY_STORE", "FUTURE"};
static const char *const states[] = {NULL, "CONNECTED", "DISCONNECTED",
                                     "FAILED", "CONNECTING", "WEIRD",
                                     "DISCONNECTING", NULL};
static const char *const conns[] = {NULL, "PUBLIC_ENDPOINT",
                                    "VPC_ENDPOINT_SERVICE", "BOGUS"};

/* A body must be printable ASCII, valid JSON, and load back into a request
 * that encodes to the same bytes. */
static void check_body(const kms_buf *b)
{
  kms_request *again;
  kms_buf b2;
  size_t i, where;
  const char *why;

  for (i = 0; i < b->len; i++)
    if (b->data[i] < 0x20 || b->data[i] > 0x7E)
      __builtin_trap();
  /* kms_request_set takes NUL bytes, which encode as \u0000: valid JSON
     that kmsi_json_check refuses on purpose (cJSON cannot hold it) */
  if (strstr(b->data, "\\u0000"))
    return;
  if (!kmsi_json_check(b->data, b->len, &where, &why))
    __builtin_trap();
  again = kms_request_new(NULL, NULL, NULL);
  if (!again)
    return;
  if (kms_request_load_json(again, b->data, b->len, NULL) != KMS_OK)
    __builtin_trap();
  if (kms_request_encode_body(again, &b2, NULL) == KMS_OK) {
    if (b2.len != b->len || memcmp(b2.data, b->data, b->len) != 0)
      __builtin_trap();
    kms_buf_free(&b2);
  }
  kms_request_free(again);
}

static void check_problems(const kms_problems *p, kms_status st)
{
  size_t i, n = kms_problems_count(p), errors = 0;

  for (i = 0; i < n; i++) {
    const kms_problem *pr = kms_problems_at(p, i);
    if (!pr || !pr->code || !pr->member ||
        !memchr(pr->message, '\0', sizeof pr->message))
      __builtin_trap();
    errors += pr->severity == KMS_SEVERITY_ERROR;
  }
  if (errors != kms_problems_error_count(p) ||
      (st == KMS_OK) != (errors == 0))
    __builtin_trap();
}

static void pipeline(kms_request *req, const kms_store_context *ctx)
{
  kms_problems *p = NULL;
  kms_buf body, red;
  kms_status st;

  st = kms_request_validate(req, ctx, &p, NULL);
  if (st == KMS_OK || st == KMS_ERR_VALIDATION)
    check_problems(p, st);
  kms_problems_free(p);
  if (kms_request_encode_body(req, &body, NULL) == KMS_OK) {
    check_body(&body);
    kms_buf_free(&body);
  }
  if (kms_request_to_redacted_json(req, &red, NULL) == KMS_OK)
    kms_buf_free(&red);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  kms_store_context ctx;
  kms_request *req;
  kms_error err;
  uint8_t sel;

  if (size < 1)
    return 0;
  sel = data[0];
  ctx.custom_key_store_type = types[sel & 3];
  ctx.connection_state = states[(sel >> 2) & 7];
  ctx.xks_proxy_connectivity = conns[(sel >> 5) & 3];
  data++;
  size--;

  req = kms_request_new(NULL, NULL, &err);
  if (!req)
    return 0;
  if (kms_request_load_json(req, (const char *)data, size, &err) == KMS_OK)
    pipeline(req, (sel & 0x80) ? NULL : &ctx);
  else if (err.status != KMS_ERR_PARSE)
    __builtin_trap();     /* NOMEM here: cJSON refused checked text */
  /* the same bytes as a raw member value (invalid UTF-8, NUL, ...) */
  kms_request_set(req, (kms_member)(sel % KMS_M__COUNT), (const char *)data,
                  size, &err);
  kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "cks-1", 5, &err);
  pipeline(req, &ctx);
  kms_request_free(req);
  return 0;
}
