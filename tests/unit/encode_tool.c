/* encode_tool.c - reads encoding cases (one JSON line each) on stdin, runs
 * them through the request model and encoders, and prints one line per
 * case: "OK <body>" or "ERR <status> <message>". Driven by
 * botocore_bodies.py, which compares the bodies with botocore's.
 *
 * A case: {"output": "body"|"redacted", "ops": [op, ...]} where op is
 *   ["set", "<member path>", "<hex bytes>"]     kms_request_set
 *   ["unset", "<member path>"]                  kms_request_unset
 *   ["json", "<hex bytes>"]                     kms_request_load_json
 *   ["cred", "<hex>"|null, "<hex>"|null, 0|1]   kms_request_set_credential
 *   ["describe", id|null, name|null, limit, marker|null]  (hex strings)
 *   ["id_only", id|null]
 * Values travel as hex so that any byte (NUL, invalid UTF-8) gets through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "kms/kms.h"

/* Decodes the hex string of item into a malloc'd buffer; NULL item or JSON
 * null gives NULL. */
static char *unhex(const cJSON *item, size_t *len)
{
  const char *h;
  size_t n, i;
  char *out;

  *len = 0;
  if (!item || !cJSON_IsString(item))
    return NULL;
  h = item->valuestring;
  n = strlen(h) / 2;
  out = malloc(n + 1);
  if (!out)
    return NULL;
  for (i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(h + 2 * i, "%2x", &v) != 1)
      v = 0;
    out[i] = (char)v;
  }
  out[n] = '\0';
  *len = n;
  return out;
}

static void print_result(kms_status st, const kms_buf *body,
                         const kms_error *err)
{
  if (st == KMS_OK)
    printf("OK %.*s\n", (int)body->len, body->data);
  else
    printf("ERR %s %s\n", kms_strerror(st), err->message);
}

/* Runs one case; returns 0 when it could be run at all. */
static int run_case(const char *line)
{
  cJSON *c = cJSON_Parse(line);
  const cJSON *ops, *op, *output;
  kms_request *req = NULL;
  kms_error err;
  kms_buf body;
  kms_status st = KMS_OK;
  int redacted, rc = 1, done = 0;

  memset(&body, 0, sizeof body);
  kms_error_clear(&err);
  if (!c)
    goto cleanup;
  ops = cJSON_GetObjectItemCaseSensitive(c, "ops");
  output = cJSON_GetObjectItemCaseSensitive(c, "output");
  redacted = cJSON_IsString(output) &&
             strcmp(output->valuestring, "redacted") == 0;
  req = kms_request_new(NULL, NULL, &err);
  if (!req || !cJSON_IsArray(ops))
    goto cleanup;
  cJSON_ArrayForEach(op, ops) {
    const char *kind = cJSON_GetArrayItem(op, 0)->valuestring;
    size_t l1, l2, l3;
    char *a1 = NULL, *a2 = NULL, *a3 = NULL;

    if (strcmp(kind, "set") == 0) {
      kms_member m =
          kms_member_lookup(cJSON_GetArrayItem(op, 1)->valuestring);
      a1 = unhex(cJSON_GetArrayItem(op, 2), &l1);
      st = kms_request_set(req, m, a1, l1, &err);
    } else if (strcmp(kind, "unset") == 0) {
      kms_request_unset(req,
          kms_member_lookup(cJSON_GetArrayItem(op, 1)->valuestring));
    } else if (strcmp(kind, "json") == 0) {
      a1 = unhex(cJSON_GetArrayItem(op, 1), &l1);
      st = kms_request_load_json(req, a1, l1, &err);
    } else if (strcmp(kind, "cred") == 0) {
      a1 = unhex(cJSON_GetArrayItem(op, 1), &l1);
      a2 = unhex(cJSON_GetArrayItem(op, 2), &l2);
      st = kms_request_set_credential(req, a1, l1, a2, l2,
          cJSON_GetArrayItem(op, 3)->valueint, &err);
    } else if (strcmp(kind, "describe") == 0) {
      a1 = unhex(cJSON_GetArrayItem(op, 1), &l1);
      a2 = unhex(cJSON_GetArrayItem(op, 2), &l2);
      a3 = unhex(cJSON_GetArrayItem(op, 4), &l3);
      st = kms_encode_describe(a1, a2, cJSON_GetArrayItem(op, 3)->valueint,
                               a3, &body, &err);
      done = 1;
    } else if (strcmp(kind, "id_only") == 0) {
      a1 = unhex(cJSON_GetArrayItem(op, 1), &l1);
      st = kms_encode_id_only(a1, &body, &err);
      done = 1;
    }
    free(a1);
    free(a2);
    free(a3);
    if (st != KMS_OK)
      break;
  }
  if (st == KMS_OK && !done) {
    if (redacted)
      st = kms_request_to_redacted_json(req, &body, &err);
    else
      st = kms_request_encode_body(req, &body, &err);
  }
  print_result(st, &body, &err);
  rc = 0;
cleanup:
  if (rc)
    printf("ERR tool cannot run this case\n");
  fflush(stdout);
  kms_buf_free(&body);
  kms_request_free(req);
  cJSON_Delete(c);
  return rc;
}

int main(void)
{
  static char line[1 << 20];
  int bad = 0;

  while (fgets(line, sizeof line, stdin))
    bad |= run_case(line);
  return bad;
}
