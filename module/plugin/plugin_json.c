/* plugin_json.c - what crosses the plugin ABI as JSON text: validation
 * problems out, the store context and helper-operation arguments in, and
 * a signed message out (its body holds secrets: it is never copied into
 * cJSON, and the rendering buffer is wiped). UpdateCustomKeyStore requests
 * themselves are parsed by the core (kms_request_load_json), never here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include <openssl/crypto.h>
#include "plugin_int.h"

kms_operation kmsp_operation_lookup(const char *name)
{
  int op;
  for (op = 0; name && op < KMS_OP__COUNT; op++)
    if (strcmp(kms_operation_name((kms_operation)op), name) == 0)
      return (kms_operation)op;
  return KMS_OP__COUNT;
}

static const char *json_type(const cJSON *v)
{
  if (cJSON_IsNull(v))
    return "null";
  if (cJSON_IsBool(v))
    return "a boolean";
  if (cJSON_IsNumber(v))
    return "a number";
  if (cJSON_IsString(v))
    return "a string";
  if (cJSON_IsArray(v))
    return "a list";
  if (cJSON_IsObject(v))
    return "an object";
  return "invalid";
}

/* Parses text as one JSON object (nothing after it). what names the
 * argument in messages. */
static kms_status parse_object(const char *what, const char *text,
                               cJSON **out, kms_error *err)
{
  const char *end = NULL;
  cJSON *root;

  *out = NULL;
  root = cJSON_ParseWithOpts(text, &end, 1);
  if (!root)
    return kmsp_error(err, KMS_ERR_PARSE, "%s: invalid JSON at offset %zu",
                      what, end ? (size_t)(end - text) : (size_t)0);
  if (!cJSON_IsObject(root)) {
    kmsp_error(err, KMS_ERR_PARSE, "%s: expected a JSON object, got %s",
               what, json_type(root));
    cJSON_Delete(root);
    return KMS_ERR_PARSE;
  }
  *out = root;
  return KMS_OK;
}

/* {===== problems ===== */

char *kmsp_problems_json(const kms_problems *p)
{
  cJSON *list = cJSON_CreateArray(), *o;
  const kms_problem *pr;
  char *text = NULL;
  size_t i;

  if (!list)
    return NULL;
  for (i = 0; i < kms_problems_count(p); i++) {
    pr = kms_problems_at(p, i);
    o = cJSON_CreateObject();
    if (!o)
      goto cleanup;
    cJSON_AddItemToArray(list, o);
    if (!cJSON_AddStringToObject(o, "severity",
                                 pr->severity == KMS_SEVERITY_ERROR
                                     ? "error" : "warning") ||
        !cJSON_AddStringToObject(o, "code", pr->code ? pr->code : "") ||
        !cJSON_AddStringToObject(o, "member", pr->member ? pr->member : "") ||
        !cJSON_AddStringToObject(o, "message", pr->message))
      goto cleanup;
  }
  text = cJSON_PrintUnformatted(list);
cleanup:
  cJSON_Delete(list);
  return text;
}
/* }===== */

/* {===== store context ===== */

/* The string member key of obj: absent and null give NULL; another type
 * is a parse error naming key. */
static kms_status opt_string(const cJSON *obj, const char *key,
                             const char **out, kms_error *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = NULL;
  if (!v || cJSON_IsNull(v))
    return KMS_OK;
  if (!cJSON_IsString(v))
    return kmsp_error(err, KMS_ERR_PARSE, "store: %s: expected a string, "
                      "got %s", key, json_type(v));
  *out = v->valuestring;
  return KMS_OK;
}

kms_status kmsp_store_context(const char *store_json, kms_store_context *ctx,
                              void **holder, kms_error *err)
{
  kms_status st;
  cJSON *root = NULL;
  const cJSON *store, *list, *xks;

  memset(ctx, 0, sizeof *ctx);
  *holder = NULL;
  if (!store_json)
    return KMS_OK;
  st = parse_object("store", store_json, &root, err);
  if (st != KMS_OK)
    return st;
  store = root;
  /* A whole DescribeCustomKeyStores response: its first entry. */
  list = cJSON_GetObjectItemCaseSensitive(root, "CustomKeyStores");
  if (list) {
    if (!cJSON_IsArray(list) || !cJSON_IsObject(cJSON_GetArrayItem(list, 0))) {
      st = kmsp_error(err, KMS_ERR_PARSE, "store: CustomKeyStores: "
                      "expected a list holding one store");
      goto fail;
    }
    store = cJSON_GetArrayItem(list, 0);
  }
  st = opt_string(store, "CustomKeyStoreType", &ctx->custom_key_store_type,
                  err);
  if (st == KMS_OK)
    st = opt_string(store, "ConnectionState", &ctx->connection_state, err);
  if (st == KMS_OK)
    st = opt_string(store, "XksProxyConnectivity",
                    &ctx->xks_proxy_connectivity, err);
  if (st != KMS_OK)
    goto fail;
  /* A DescribeCustomKeyStores entry has it nested. */
  xks = cJSON_GetObjectItemCaseSensitive(store, "XksProxyConfiguration");
  if (!ctx->xks_proxy_connectivity && xks && !cJSON_IsNull(xks)) {
    if (!cJSON_IsObject(xks)) {
      st = kmsp_error(err, KMS_ERR_PARSE, "store: XksProxyConfiguration: "
                      "expected an object, got %s", json_type(xks));
      goto fail;
    }
    st = opt_string(xks, "Connectivity", &ctx->xks_proxy_connectivity, err);
    if (st != KMS_OK)
      goto fail;
  }
  *holder = root;
  return KMS_OK;
fail:
  memset(ctx, 0, sizeof *ctx);
  cJSON_Delete(root);
  return st;
}

void kmsp_json_free(void *holder)
{
  cJSON_Delete(holder);
}
/* }===== */

/* {===== helper operations ===== */

kms_status kmsp_helper_body(kms_operation op, const char *args_json,
                            kms_buf *out, kms_error *err)
{
  kms_status st = KMS_OK;
  cJSON *root = NULL;
  const cJSON *it;
  const char *id = NULL, *name = NULL, *marker = NULL;
  int limit = 0, describe = op == KMS_OP_DESCRIBE_CUSTOM_KEY_STORES;

  memset(out, 0, sizeof *out);
  if (args_json) {
    st = parse_object("arguments", args_json, &root, err);
    if (st != KMS_OK)
      return st;
  }
  cJSON_ArrayForEach(it, root) {
    if (strcmp(it->string, "CustomKeyStoreId") == 0 ||
        (describe && (strcmp(it->string, "CustomKeyStoreName") == 0 ||
                      strcmp(it->string, "Marker") == 0))) {
      if (!cJSON_IsString(it)) {
        st = kmsp_error(err, KMS_ERR_PARSE, "%s: expected a string, got %s",
                        it->string, json_type(it));
        goto cleanup;
      }
      if (it->string[0] == 'M')
        marker = it->valuestring;
      else if (strcmp(it->string, "CustomKeyStoreId") == 0)
        id = it->valuestring;
      else
        name = it->valuestring;
    } else if (describe && strcmp(it->string, "Limit") == 0) {
      if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
          it->valuedouble < 1 || it->valuedouble > 1000) {
        st = kmsp_error(err, KMS_ERR_PARSE, "Limit: expected an integer "
                        "from 1 to 1000");
        goto cleanup;
      }
      limit = (int)it->valuedouble;
    } else {
      st = kmsp_error(err, KMS_ERR_PARSE, "unknown member \"%.64s\" for %s",
                      it->string, kms_operation_name(op));
      goto cleanup;
    }
  }
  if (describe) {
    st = kms_encode_describe(id, name, limit, marker, out, err);
  } else if (!id) {
    st = kmsp_error(err, KMS_ERR_PARSE, "%s: CustomKeyStoreId is required",
                    kms_operation_name(op));
  } else {
    st = kms_encode_id_only(id, out, err);
  }
cleanup:
  cJSON_Delete(root);
  return st;
}
/* }===== */

/* {===== the signed message ===== */

kms_status kmsp_http_json(const kms_http *msg, char **out, kms_error *err)
{
  kms_status st = KMS_ERR_NOMEM;
  cJSON *root = NULL, *headers, *pair;
  const char *name, *value, *body;
  size_t i, n, blen = 0, cap;
  char *buf = NULL;

  *out = NULL;
  root = cJSON_CreateObject();
  if (!root || !cJSON_AddStringToObject(root, "method", kms_http_method(msg)) ||
      !cJSON_AddStringToObject(root, "url", kms_http_url(msg)))
    goto cleanup;
  headers = cJSON_AddArrayToObject(root, "headers");
  if (!headers)
    goto cleanup;
  /* Every byte of JSON may take 6 ("\u00XX"); plus quotes and commas. */
  cap = 256 + 6 * (strlen(kms_http_url(msg)) + strlen(kms_http_method(msg)));
  n = kms_http_header_count(msg);
  for (i = 0; i < n; i++) {
    if (!kms_http_header_at(msg, i, &name, &value))
      break;
    pair = cJSON_CreateArray();
    if (!pair)
      goto cleanup;
    cJSON_AddItemToArray(headers, pair);
    /* References: the security token must not be copied by cJSON. */
    cJSON_AddItemToArray(pair, cJSON_CreateStringReference(name));
    cJSON_AddItemToArray(pair, cJSON_CreateStringReference(value));
    if (cJSON_GetArraySize(pair) != 2)
      goto cleanup;
    cap += 16 + 6 * (strlen(name) + strlen(value));
  }
  body = kms_http_body(msg, &blen);
  if (body && memchr(body, '\0', blen)) {
    st = kmsp_error(err, KMS_ERR_INVALID_ARG, "sign: the body holds a NUL");
    goto cleanup;
  }
  if (!cJSON_AddItemToObject(root, "body",
                             cJSON_CreateStringReference(body ? body : "")))
    goto cleanup;
  cap += 16 + 6 * blen;
  buf = malloc(cap);
  if (!buf)
    goto cleanup;
  if (!cJSON_PrintPreallocated(root, buf, (int)cap, 0)) {
    st = kmsp_error(err, KMS_ERR_NOMEM, "sign: could not render the message");
    goto cleanup;
  }
  *out = buf;
  buf = NULL;
  st = KMS_OK;
cleanup:
  if (st == KMS_ERR_NOMEM)
    kmsp_error(err, st, "sign: out of memory");
  if (buf) {
    OPENSSL_cleanse(buf, cap);
    free(buf);
  }
  cJSON_Delete(root);
  return st;
}
/* }===== */
