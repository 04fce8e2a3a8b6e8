/* plugin_calls.c - the operations of kmscks.so over the core: the JSON
 * face (validate, sign, check_response, update, describe, connect,
 * disconnect) and the plain C face (kms_request objects from the table).
 * Requests are parsed by the core (kms_request_load_json), never here;
 * each call that talks to KMS takes a client of its own from the
 * instance's pool (plugin.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include <openssl/crypto.h>
#include "plugin_int.h"

/* {===== JSON face ===== */

/* Parses request_json into a new request (the core's parser: member
 * rules live there). */
static kms_request *load_request(kms_plugin_instance *inst,
                                 const char *request_json, kms_error *e)
{
  kms_request *req = kms_request_new(inst->alloc, inst->alloc_ud, e);
  if (!req)
    return NULL;
  if (kms_request_load_json(req, request_json, strlen(request_json), e) !=
      KMS_OK) {
    kms_request_free(req);
    return NULL;
  }
  return req;
}

/* Validates req with ctx (NULL: static rules only) and hands out the
 * problems. */
static int validate_common(kms_plugin_instance *inst, const kms_request *req,
                           const kms_store_context *ctx, char **problems_json,
                           kms_plugin_error *err)
{
  kms_problems *probs = NULL;
  kms_error e;
  kms_status st;
  char *text;

  kms_error_clear(&e);
  st = kms_request_validate(req, ctx, &probs, &e);
  if (st != KMS_OK && st != KMS_ERR_VALIDATION) {
    kms_problems_free(probs);
    return kmsp_report(err, &e);
  }
  text = kmsp_problems_json(probs);
  kms_problems_free(probs);
  if (!text)
    return kmsp_fail(err, KMS_ERR_NOMEM, "validate: out of memory");
  *problems_json = kmsp_out_string(inst, text, strlen(text));
  free(text);
  if (!*problems_json)
    return kmsp_fail(err, KMS_ERR_NOMEM, "validate: out of memory");
  return st == KMS_OK ? 0 : kmsp_report(err, &e);
}

int kmsp_op_validate(kms_plugin_instance *inst, const char *request_json,
                     const char *store_json, char **problems_json,
                     kms_plugin_error *err)
{
  kms_store_context ctx;
  kms_request *req = NULL;
  void *holder = NULL;
  kms_error e;
  int rc;

  kmsp_perr_clear(err);
  NEED(problems_json, "validate", err);
  *problems_json = NULL;
  NEED(inst, "validate", err);
  NEED(request_json, "validate", err);
  kms_error_clear(&e);
  if (kmsp_store_context(store_json, &ctx, &holder, &e) != KMS_OK)
    return kmsp_report(err, &e);
  req = load_request(inst, request_json, &e);
  if (!req)
    rc = kmsp_report(err, &e);
  else
    rc = validate_common(inst, req, store_json ? &ctx : NULL, problems_json,
                         err);
  kms_request_free(req);
  kmsp_json_free(holder);
  return rc;
}

int kmsp_op_sign(kms_plugin_instance *inst, const char *operation,
                 const char *request_json, int64_t time, char **signed_json,
                 kms_plugin_error *err)
{
  kms_operation op;
  kms_request *req = NULL;
  kms_problems *probs = NULL;
  kms_http *msg = NULL;
  kms_buf body;
  pooled *p = NULL;
  kms_error e;
  char *text = NULL;
  int rc = 0;

  kmsp_perr_clear(err);
  NEED(signed_json, "sign", err);
  *signed_json = NULL;
  NEED(inst, "sign", err);
  NEED(operation, "sign", err);
  memset(&body, 0, sizeof body);
  kms_error_clear(&e);
  op = kmsp_operation_lookup(operation);
  if (op == KMS_OP__COUNT)
    return kmsp_fail(err, KMS_ERR_INVALID_ARG,
                     "sign: unknown operation \"%.64s\""
                     " (UpdateCustomKeyStore, DescribeCustomKeyStores, "
                     "ConnectCustomKeyStore or DisconnectCustomKeyStore)",
                     operation);
  if (time < 0)
    return kmsp_fail(err, KMS_ERR_INVALID_ARG, "sign: time is negative");
  if (op == KMS_OP_UPDATE_CUSTOM_KEY_STORE) {
    NEED(request_json, "sign", err);
    req = load_request(inst, request_json, &e);
    if (!req || kms_request_validate(req, NULL, &probs, &e) != KMS_OK ||
        kms_request_encode_body(req, &body, &e) != KMS_OK)
      goto fail_e;
  } else if (kmsp_helper_body(op, request_json, &body, &e) != KMS_OK) {
    goto fail_e;
  }
  p = kmsp_acquire(inst, "sign", &rc, err);
  if (!p)
    goto cleanup;
  if (kms_client_prepare(p->client, op, body.data, body.len, (time_t)time,
                         &msg, &e) != KMS_OK ||
      kmsp_http_json(msg, &text, &e) != KMS_OK)
    goto fail_e;
  *signed_json = kmsp_out_string(inst, text, strlen(text));
  if (!*signed_json)
    rc = kmsp_fail(err, KMS_ERR_NOMEM, "sign: out of memory");
  goto cleanup;
fail_e:
  rc = kmsp_report(err, &e);
cleanup:
  kmsp_release(inst, p);
  kmsp_wipe_free(text);
  kms_http_free(msg);
  kms_buf_free(&body);
  kms_problems_free(probs);
  kms_request_free(req);
  return rc;
}

/* Adds the host's header text ("Name: value" lines, LF or CRLF) to resp,
 * a line at a time. A line without ':' or with an empty name (a status
 * line) can never be looked up and is left out, and so is one the
 * response's line format cannot hold (a stray CR). The value is trimmed
 * as kms_http_response_header trims it. KMS_ERR_NOMEM is the only
 * failure. */
static kms_status add_header_lines(const kms_plugin_instance *inst,
                                   kms_http_response *resp,
                                   const char *text)
{
  kms_status result = KMS_ERR_NOMEM;
  size_t size = strlen(text) + 1;
  char *copy = kmsp_imalloc(inst, size), *p, *eol, *colon, *v, *ve;
  int last = 0;

  if (!copy)
    goto cleanup;
  memcpy(copy, text, size);
  for (p = copy; !last; p = eol + 1) {
    eol = strchr(p, '\n');
    if (!eol)
      eol = p + strlen(p);
    last = *eol == '\0';         /* before the line is cut up below */
    colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && colon > p) {
      v = colon + 1;
      ve = eol;
      while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
        ve--;
      *colon = '\0';
      *ve = '\0';
      if (kms_http_response_add_header(resp, p, v, NULL) == KMS_ERR_NOMEM)
        goto cleanup;
    }
  }
  result = KMS_OK;
cleanup:
  kmsp_ifree(inst, copy, size);
  return result;
}

int kmsp_op_check_response(kms_plugin_instance *inst, const char *operation,
                           long http_status, const char *headers,
                           const char *body, size_t body_len,
                           char **result_json, kms_plugin_error *err)
{
  kms_http_response resp;
  kms_operation op;
  kms_status st;
  kms_error e;
  cJSON *root = NULL;
  int is_obj = 0;

  kmsp_perr_clear(err);
  if (result_json)
    *result_json = NULL;
  NEED(inst, "check_response", err);
  NEED(operation, "check_response", err);
  if (!body && body_len)
    return kmsp_fail(err, KMS_ERR_INVALID_ARG, "check_response: body is NULL "
                     "with body_len %zu", body_len);
  op = kmsp_operation_lookup(operation);
  if (op == KMS_OP__COUNT)
    return kmsp_fail(err, KMS_ERR_INVALID_ARG, "check_response: unknown "
                     "operation \"%.64s\"", operation);
  /* The host's response, copied in as a transport would fill it. */
  kms_http_response_init(&resp, inst->alloc, inst->alloc_ud);
  resp.status = http_status;
  if ((headers && add_header_lines(inst, &resp, headers) != KMS_OK) ||
      kms_http_response_append_body(&resp, body, body_len, NULL) != KMS_OK) {
    kms_http_response_free(&resp);
    return kmsp_fail(err, KMS_ERR_NOMEM, "check_response: out of memory");
  }
  kms_error_clear(&e);
  st = kms_response_check(op, &resp, &e);
  kms_http_response_free(&resp);                  /* wipes the body */
  if (st != KMS_OK)
    return kmsp_report(err, &e);
  if (result_json) {
    if (body_len) {
      root = cJSON_ParseWithLength(body, body_len);
      is_obj = cJSON_IsObject(root);
      cJSON_Delete(root);
    }
    *result_json = is_obj ? kmsp_out_string(inst, body, body_len)
                          : kmsp_out_string(inst, "{}", 2);
    if (!*result_json)
      return kmsp_fail(err, KMS_ERR_NOMEM, "check_response: out of memory");
  }
  kmsp_report(err, &e);
  return 0;
}

/* Sends req with ctx through a pooled client. */
static int update_common(kms_plugin_instance *inst, const kms_request *req,
                         const kms_store_context *ctx, kms_plugin_error *err)
{
  pooled *p;
  kms_error e;
  int rc = 0;

  p = kmsp_acquire(inst, "update", &rc, err);
  if (!p)
    return rc;
  kms_error_clear(&e);
  if (kms_client_update_custom_key_store(p->client, req, ctx, &e) != KMS_OK)
    rc = kmsp_report(err, &e);
  else
    kmsp_report(err, &e);
  kmsp_release(inst, p);
  return rc;
}

int kmsp_op_update(kms_plugin_instance *inst, const char *request_json,
                   const char *store_json, kms_plugin_error *err)
{
  kms_store_context ctx;
  kms_request *req;
  void *holder = NULL;
  kms_error e;
  int rc;

  kmsp_perr_clear(err);
  NEED(inst, "update", err);
  NEED(request_json, "update", err);
  kms_error_clear(&e);
  if (kmsp_store_context(store_json, &ctx, &holder, &e) != KMS_OK)
    return kmsp_report(err, &e);
  req = load_request(inst, request_json, &e);
  rc = req ? update_common(inst, req, store_json ? &ctx : NULL, err)
           : kmsp_report(err, &e);
  kms_request_free(req);
  kmsp_json_free(holder);
  return rc;
}

int kmsp_op_describe(kms_plugin_instance *inst, const char *id,
                     char **response_json, kms_plugin_error *err)
{
  kms_buf out;
  kms_error e;
  pooled *p;
  int rc = 0;

  kmsp_perr_clear(err);
  NEED(response_json, "describe", err);
  *response_json = NULL;
  NEED(inst, "describe", err);
  memset(&out, 0, sizeof out);
  p = kmsp_acquire(inst, "describe", &rc, err);
  if (!p)
    return rc;
  kms_error_clear(&e);
  if (kms_client_describe_custom_key_stores(p->client, id, NULL, &out, &e) !=
      KMS_OK) {
    rc = kmsp_report(err, &e);
  } else {
    kmsp_report(err, &e);
    *response_json = kmsp_out_string(inst, out.data, out.len);
    if (!*response_json)
      rc = kmsp_fail(err, KMS_ERR_NOMEM, "describe: out of memory");
  }
  kms_buf_free(&out);
  kmsp_release(inst, p);
  return rc;
}

static int connect_common(kms_plugin_instance *inst, const char *id,
                          int disconnect, kms_plugin_error *err)
{
  const char *what = disconnect ? "disconnect" : "connect";
  kms_error e;
  kms_status st;
  pooled *p;
  int rc = 0;

  kmsp_perr_clear(err);
  if (!inst || !id)
    return kmsp_fail(err, KMS_ERR_INVALID_ARG, "%s: %s is NULL", what,
                     inst ? "custom_key_store_id" : "inst");
  p = kmsp_acquire(inst, what, &rc, err);
  if (!p)
    return rc;
  kms_error_clear(&e);
  st = disconnect
           ? kms_client_disconnect_custom_key_store(p->client, id, &e)
           : kms_client_connect_custom_key_store(p->client, id, &e);
  kmsp_report(err, &e);
  kmsp_release(inst, p);
  return (int)st;
}

int kmsp_op_connect(kms_plugin_instance *inst, const char *id,
                    kms_plugin_error *err)
{
  return connect_common(inst, id, 0, err);
}

int kmsp_op_disconnect(kms_plugin_instance *inst, const char *id,
                       kms_plugin_error *err)
{
  return connect_common(inst, id, 1, err);
}

void kmsp_op_free_string(kms_plugin_instance *inst, char *s)
{
  size_t n;

  if (!s)
    return;
  n = strlen(s) + 1;
  OPENSSL_cleanse(s, n);
  if (inst)
    kmsp_ifree(inst, s, n);
  else
    free(s);
}
/* }===== */

/* {===== plain C face ===== */

kms_request *kmsp_op_request_new(kms_plugin_instance *inst,
                                 kms_plugin_error *err)
{
  kms_request *req;
  kms_error e;

  kmsp_perr_clear(err);
  if (!inst) {
    kmsp_fail(err, KMS_ERR_INVALID_ARG, "request_new: inst is NULL");
    return NULL;
  }
  kms_error_clear(&e);
  req = kms_request_new(inst->alloc, inst->alloc_ud, &e);
  if (!req)
    kmsp_report(err, &e);
  return req;
}

int kmsp_op_request_set(kms_request *req, kms_member member,
                        const char *value, size_t len,
                        kms_plugin_error *err)
{
  kms_error e;

  kmsp_perr_clear(err);
  NEED(req, "request_set", err);
  if ((int)member < 0 || member >= KMS_M__COUNT)
    return kmsp_fail(err, KMS_ERR_INVALID_ARG,
                     "request_set: member %d is not a kms_member",
                     (int)member);
  if (!value && len)
    return kmsp_fail(err, KMS_ERR_INVALID_ARG,
                     "request_set: value is NULL with len %zu", len);
  kms_error_clear(&e);
  if (kms_request_set(req, member, value, len, &e) != KMS_OK)
    return kmsp_report(err, &e);
  return 0;
}

void kmsp_op_request_free(kms_request *req)
{
  kms_request_free(req);
}

int kmsp_op_validate_request(kms_plugin_instance *inst,
                             const kms_request *req,
                             const kms_store_context *ctx,
                             char **problems_json, kms_plugin_error *err)
{
  kmsp_perr_clear(err);
  NEED(problems_json, "validate_request", err);
  *problems_json = NULL;
  NEED(inst, "validate_request", err);
  NEED(req, "validate_request", err);
  return validate_common(inst, req, ctx, problems_json, err);
}

int kmsp_op_update_request(kms_plugin_instance *inst, const kms_request *req,
                           const kms_store_context *ctx,
                           kms_plugin_error *err)
{
  kmsp_perr_clear(err);
  NEED(inst, "update_request", err);
  NEED(req, "update_request", err);
  return update_common(inst, req, ctx, err);
}
/* }===== */
