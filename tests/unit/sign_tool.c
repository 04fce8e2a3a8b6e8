/* sign_tool.c - helper of botocore_sign.py: reads one JSON case per line
 * on stdin ({"op", "url", "body", "region", "service", "time", "akid",
 * "secret", "token"}), builds the request with kms_http_new_for, signs it
 * with one shared kms_signer, and writes one JSON line per case:
 * {"headers": [[name, value], ...], "target", "creq"} or {"error"}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "kms/kms.h"

static const char *str(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *sign_one(kms_signer *signer, const cJSON *in)
{
  cJSON *out = cJSON_CreateObject(), *hdrs;
  const char *opname = str(in, "op"), *body = str(in, "body");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(in, "time");
  kms_credentials *cred = NULL;
  kms_http *m = NULL;
  kms_sign_params p;
  kms_buf creq = {0}, sts = {0};
  kms_error err;
  int op;
  size_t i;

  memset(&p, 0, sizeof p);
  memset(&err, 0, sizeof err);
  for (op = 0; op < KMS_OP__COUNT; op++)
    if (opname && strcmp(kms_operation_name((kms_operation)op), opname) == 0)
      break;
  p.region = str(in, "region");
  p.service = str(in, "service");
  p.time = cJSON_IsNumber(t) ? (time_t)t->valuedouble : 0;
  p.flags = KMS_SIGN_NORMALIZE_PATH;
  cred = kms_credentials_new(str(in, "akid"), str(in, "secret"),
                             str(in, "token"), 0, NULL, NULL, &err);
  if (cred && body)
    m = kms_http_new_for((kms_operation)op, str(in, "url"), body,
                         strlen(body), NULL, NULL, &err);
  if (!m || kms_sign_debug(m, cred, &p, &creq, &sts, &err) != KMS_OK ||
      kms_sign(signer, m, cred, &p, &err) != KMS_OK) {
    cJSON_AddStringToObject(out, "error", err.message);
    goto cleanup;
  }
  hdrs = cJSON_AddArrayToObject(out, "headers");
  for (i = 0; i < kms_http_header_count(m); i++) {
    const char *name, *value;
    cJSON *pair = cJSON_CreateArray();
    kms_http_header_at(m, i, &name, &value);
    cJSON_AddItemToArray(pair, cJSON_CreateString(name));
    cJSON_AddItemToArray(pair, cJSON_CreateString(value));
    cJSON_AddItemToArray(hdrs, pair);
  }
  cJSON_AddStringToObject(out, "target", kms_http_target(m));
  cJSON_AddStringToObject(out, "creq", creq.data);
cleanup:
  kms_buf_free(&creq);
  kms_buf_free(&sts);
  kms_http_free(m);
  kms_credentials_free(cred);
  return out;
}

int main(void)
{
  static char line[1 << 16];
  kms_error err;
  kms_signer *signer = kms_signer_new(NULL, NULL, NULL, NULL, &err);

  if (!signer) {
    fprintf(stderr, "sign_tool: %s\n", err.message);
    return 1;
  }
  while (fgets(line, sizeof line, stdin)) {
    cJSON *in = cJSON_Parse(line), *out;
    char *text;
    if (!in) {
      printf("{\"error\": \"bad input line\"}\n");
      continue;
    }
    out = sign_one(signer, in);
    text = cJSON_PrintUnformatted(out);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(out);
    cJSON_Delete(in);
  }
  kms_signer_free(signer);
  return 0;
}
