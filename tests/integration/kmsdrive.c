/* kmsdrive.c - a small driver for the integration tests: creates a client
 * from --set options (plus the environment the test gives it), runs one
 * operation and prints the outcome as one JSON object: status, every
 * kms_error field, the output and the debug log lines.
 *
 *   kmsdrive [--set NAME=VALUE]... [--calls N] OP [ARGS]
 *     update-members JSON   members set one by one in model order (as the
 *                           AWS CLI's options); the credential keeps the
 *                           JSON's key order
 *     update-json JSON      kms_request_load_json (--cli-input-json)
 *     describe [ID]         paginated DescribeCustomKeyStores
 *     connect ID | disconnect ID
 *     prepare               kms_client_prepare of an Update body given by
 *                           --body, printed as text (redacted)
 *   --ctx TYPE,STATE        store context for update
 *   --calls N               repeat the operation N times on one client
 *                           (keep-alive), reporting the last */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "kms/kms.h"

typedef struct logbuf {
  cJSON *lines;
} logbuf;

static void on_log(void *ud, kms_log_level level, const char *msg)
{
  logbuf *l = ud;
  char line[2048];
  snprintf(line, sizeof line, "%d %s", (int)level, msg);
  cJSON_AddItemToArray(l->lines, cJSON_CreateString(line));
}

static int usage(void)
{
  fprintf(stderr, "usage: kmsdrive [--set NAME=VALUE]... [--ctx T,S] "
          "[--calls N] update-members|update-json|describe|connect|"
          "disconnect|prepare [ARG]\n");
  return 2;
}

/* Sets the members of obj on req in model order; the credential as one
 * structure in the order its keys have in the JSON. */
static kms_status set_members(kms_request *req, const cJSON *obj,
                              kms_error *err)
{
  kms_member m;
  const cJSON *v, *cred, *ak, *sk;
  kms_status st;

  for (m = 0; m < KMS_M__COUNT; m++) {
    const char *name = kms_member_name(m);
    if (m == KMS_M_XKS_ACCESS_KEY_ID) {
      cred = cJSON_GetObjectItemCaseSensitive(obj,
                                              "XksProxyAuthenticationCredential");
      if (!cJSON_IsObject(cred))
        continue;
      ak = cJSON_GetObjectItemCaseSensitive(cred, "AccessKeyId");
      sk = cJSON_GetObjectItemCaseSensitive(cred, "RawSecretAccessKey");
      st = kms_request_set_credential(
          req, cJSON_IsString(ak) ? ak->valuestring : NULL,
          cJSON_IsString(ak) ? strlen(ak->valuestring) : 0,
          cJSON_IsString(sk) ? sk->valuestring : NULL,
          cJSON_IsString(sk) ? strlen(sk->valuestring) : 0,
          cred->child && cred->child->string &&
              strcmp(cred->child->string, "RawSecretAccessKey") == 0,
          err);
      if (st != KMS_OK)
        return st;
      continue;
    }
    if (m == KMS_M_XKS_RAW_SECRET_ACCESS_KEY)
      continue;
    v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(v))
      continue;
    st = kms_request_set(req, m, v->valuestring, strlen(v->valuestring), err);
    if (st != KMS_OK)
      return st;
  }
  return KMS_OK;
}

int main(int argc, char **argv)
{
  kms_config *cfg = NULL;
  kms_client *c = NULL;
  kms_request *req = NULL;
  kms_error err;
  kms_status st = KMS_ERR_INVALID_ARG;
  kms_store_context ctx, *pctx = NULL;
  kms_buf out;
  kms_http *msg = NULL;
  logbuf lb;
  cJSON *res, *in = NULL;
  char *printed, ctxbuf[128];
  const char *op = NULL, *arg = NULL, *body = "{}";
  int i, calls = 1, n;

  memset(&out, 0, sizeof out);
  memset(&ctx, 0, sizeof ctx);
  kms_error_clear(&err);
  lb.lines = cJSON_CreateArray();
  cfg = kms_config_new(NULL, NULL, &err);
  if (!cfg)
    return 1;
  kms_config_set_log(cfg, on_log, &lb, KMS_LOG_DEBUG);
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
      char *eq = strchr(argv[++i], '=');
      if (!eq)
        return usage();
      *eq = '\0';
      if (kms_config_set(cfg, argv[i], eq + 1, &err) != KMS_OK)
        goto report;
    } else if (strcmp(argv[i], "--ctx") == 0 && i + 1 < argc) {
      char *comma;
      snprintf(ctxbuf, sizeof ctxbuf, "%s", argv[++i]);
      comma = strchr(ctxbuf, ',');
      if (comma) {
        *comma = '\0';
        ctx.connection_state = comma + 1;
      }
      ctx.custom_key_store_type = ctxbuf;
      pctx = &ctx;
    } else if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc) {
      calls = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--body") == 0 && i + 1 < argc) {
      body = argv[++i];
    } else if (!op) {
      op = argv[i];
    } else if (!arg) {
      arg = argv[i];
    } else {
      return usage();
    }
  }
  if (!op)
    return usage();

  c = kms_client_new(cfg, &err);
  if (!c) {
    st = err.status;
    goto report;
  }
  if (strncmp(op, "update-", 7) == 0) {
    if (!arg)
      return usage();
    in = cJSON_Parse(arg);
    req = kms_request_new(NULL, NULL, &err);
    if (!in || !req) {
      fprintf(stderr, "kmsdrive: bad JSON\n");
      return 2;
    }
    st = strcmp(op, "update-json") == 0
             ? kms_request_load_json(req, arg, strlen(arg), &err)
             : set_members(req, in, &err);
    if (st != KMS_OK)
      goto report;
  }
  for (n = 0; n < calls; n++) {
    kms_buf_free(&out);
    kms_error_clear(&err);
    if (strncmp(op, "update-", 7) == 0)
      st = kms_client_update_custom_key_store(c, req, pctx, &err);
    else if (strcmp(op, "describe") == 0)
      st = kms_client_describe_custom_key_stores(c, arg, NULL, &out, &err);
    else if (strcmp(op, "connect") == 0)
      st = kms_client_connect_custom_key_store(c, arg, &err);
    else if (strcmp(op, "disconnect") == 0)
      st = kms_client_disconnect_custom_key_store(c, arg, &err);
    else if (strcmp(op, "prepare") == 0) {
      kms_http_free(msg);
      msg = NULL;
      st = kms_client_prepare(c, KMS_OP_UPDATE_CUSTOM_KEY_STORE, body,
                              strlen(body), 0, &msg, &err);
      if (st == KMS_OK)
        st = kms_http_to_text(msg, 1, &out, &err);
    } else
      return usage();
  }

report:
  res = cJSON_CreateObject();
  cJSON_AddStringToObject(res, "status", kms_strerror(st));
  cJSON_AddNumberToObject(res, "code", (double)st);
  cJSON_AddStringToObject(res, "err_status", kms_strerror(err.status));
  cJSON_AddNumberToObject(res, "http_status", (double)err.http_status);
  cJSON_AddNumberToObject(res, "attempts", err.attempts);
  cJSON_AddBoolToObject(res, "retryable", err.retryable);
  cJSON_AddStringToObject(res, "aws_type", err.aws_type);
  cJSON_AddStringToObject(res, "request_id", err.request_id);
  cJSON_AddStringToObject(res, "message", err.message);
  if (c) {
    cJSON_AddStringToObject(res, "region", kms_client_region(c));
    cJSON_AddStringToObject(res, "endpoint", kms_client_endpoint(c));
  }
  if (out.data && strcmp(op ? op : "", "prepare") == 0)
    cJSON_AddStringToObject(res, "output", out.data);
  else if (out.data)
    cJSON_AddItemToObject(res, "output", cJSON_Parse(out.data));
  else
    cJSON_AddNullToObject(res, "output");
  cJSON_AddItemToObject(res, "log", lb.lines);
  printed = cJSON_PrintUnformatted(res);
  printf("%s\n", printed);
  cJSON_free(printed);
  cJSON_Delete(res);
  cJSON_Delete(in);
  kms_http_free(msg);
  kms_buf_free(&out);
  kms_request_free(req);
  kms_client_free(c);
  kms_config_free(cfg);
  return st == KMS_OK ? 0 : 1;
}
