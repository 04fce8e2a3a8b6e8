/* test_request.c - request.c: member names, absent/set/empty, the encoding
 * order (options in model order, then JSON order), kms_request_load_json
 * and its errors (a failure changes nothing), the redacted form, that no
 * freed block still holds a secret, and an allocation-failure sweep over
 * load_json + set + validate + encode. */
#include "testing.h"
#include "kms/kms.h"
#include "request_int.h"

static const char *const names[KMS_M__COUNT] = {
  "CustomKeyStoreId", "NewCustomKeyStoreName", "KeyStorePassword",
  "CloudHsmClusterId", "XksProxyUriEndpoint", "XksProxyUriPath",
  "XksProxyVpcEndpointServiceName", "XksProxyVpcEndpointServiceOwner",
  "XksProxyAuthenticationCredential.AccessKeyId",
  "XksProxyAuthenticationCredential.RawSecretAccessKey",
  "XksProxyConnectivity",
};

static void test_members(void)
{
  int m;

  for (m = 0; m < KMS_M__COUNT; m++) {
    EQ_STR(kms_member_name((kms_member)m), names[m], "member name %d", m);
    OK(kms_member_lookup(names[m]) == (kms_member)m, "lookup %s", names[m]);
    OK(kms_member_is_secret((kms_member)m) ==
           (m == KMS_M_KEY_STORE_PASSWORD || m == KMS_M_XKS_ACCESS_KEY_ID ||
            m == KMS_M_XKS_RAW_SECRET_ACCESS_KEY),
       "is_secret %s", names[m]);
  }
  OK(kms_member_name(KMS_M__COUNT) == NULL, "name out of range");
  OK(kms_member_name((kms_member)-1) == NULL, "name negative");
  OK(kms_member_lookup("customKeyStoreId") == KMS_M__COUNT,
     "lookup is case-sensitive");
  OK(kms_member_lookup("XksProxyAuthenticationCredential") == KMS_M__COUNT,
     "the structure itself is not a member");
  OK(kms_member_lookup(NULL) == KMS_M__COUNT, "lookup NULL");
}

static kms_status load(kms_request *req, const char *json, kms_error *err)
{
  return kms_request_load_json(req, json, strlen(json), err);
}

/* Encodes req and compares; frees the body. */
static void check_body(const kms_request *req, const char *want,
                       const char *what)
{
  kms_buf b;
  kms_error err;
  kms_status st = kms_request_encode_body(req, &b, &err);

  OK(st == KMS_OK, "%s: encode status", what);
  OK(b.secret == 1, "%s: body buffer is secret", what);
  EQ_STR(b.data, want, "%s", what);
  kms_buf_free(&b);
}

static void test_set_get(void)
{
  t_alloc_state as = {0, 0, 0, 0};
  kms_error err;
  kms_request *req = kms_request_new(t_alloc, &as, &err);
  size_t len = 99;
  const char *v;

  OK(req != NULL, "new");
  OK(kms_request_get(req, KMS_M_CUSTOM_KEY_STORE_ID, &len) == NULL &&
     len == 0, "absent at first");
  check_body(req, "{}", "empty request");
  OK(kms_request_set(req, KMS_M_NEW_CUSTOM_KEY_STORE_NAME, "", 0, &err) ==
     KMS_OK, "set empty");
  v = kms_request_get(req, KMS_M_NEW_CUSTOM_KEY_STORE_NAME, &len);
  OK(v && len == 0 && v[0] == '\0', "empty is not absent");
  OK(kms_request_set(req, KMS_M_NEW_CUSTOM_KEY_STORE_NAME, NULL, 0, &err) ==
     KMS_OK, "set NULL with len 0 is the empty string");
  OK(kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "a\0b", 3, &err) ==
     KMS_OK, "set binary");
  v = kms_request_get(req, KMS_M_CUSTOM_KEY_STORE_ID, &len);
  OK(v && len == 3 && memcmp(v, "a\0b", 4) == 0, "binary kept, NUL-ended");
  check_body(req,
             "{\"CustomKeyStoreId\": \"a\\u0000b\", "
             "\"NewCustomKeyStoreName\": \"\"}", "absent vs empty");
  kms_request_unset(req, KMS_M_NEW_CUSTOM_KEY_STORE_NAME);
  OK(kms_request_get(req, KMS_M_NEW_CUSTOM_KEY_STORE_NAME, NULL) == NULL,
     "unset makes absent");
  OK(kms_request_set(req, KMS_M__COUNT, "x", 1, &err) ==
     KMS_ERR_INVALID_ARG, "set out of range");
  OK(kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, NULL, 2, &err) ==
     KMS_ERR_INVALID_ARG, "set NULL with a length");
  OK(kms_request_set(NULL, KMS_M_CUSTOM_KEY_STORE_ID, "x", 1, &err) ==
     KMS_ERR_INVALID_ARG, "set on NULL request");
  OK(kms_request_get(NULL, KMS_M_CUSTOM_KEY_STORE_ID, NULL) == NULL,
     "get on NULL request");
  kms_request_unset(NULL, KMS_M_CUSTOM_KEY_STORE_ID);
  kms_request_unset(req, KMS_M__COUNT);

  /* credential presence */
  OK(!kmsi_request_has_credential(req), "no credential yet");
  OK(kms_request_set_credential(req, NULL, 0, NULL, 0, 0, &err) == KMS_OK,
     "empty credential");
  OK(kmsi_request_has_credential(req), "empty credential is present");
  check_body(req,
             "{\"CustomKeyStoreId\": \"a\\u0000b\", "
             "\"XksProxyAuthenticationCredential\": {}}", "empty credential");
  OK(kms_request_set(req, KMS_M_XKS_RAW_SECRET_ACCESS_KEY, "s", 1, &err) ==
     KMS_OK, "set a half");
  kms_request_unset(req, KMS_M_XKS_RAW_SECRET_ACCESS_KEY);
  OK(!kmsi_request_has_credential(req),
     "unsetting the last half removes the structure");
  OK(kms_request_set_credential(NULL, NULL, 0, NULL, 0, 0, &err) ==
     KMS_ERR_INVALID_ARG, "set_credential on NULL request");

  kms_request_free(req);
  kms_request_free(NULL);
  OK(as.blocks == 0, "set/get: no leak");
}

static void test_order(void)
{
  kms_error err;
  kms_request *req = kms_request_new(NULL, NULL, &err);

  /* options in any order come out in model order */
  kms_request_set(req, KMS_M_XKS_PROXY_CONNECTIVITY, "PUBLIC_ENDPOINT", 15,
                  &err);
  kms_request_set(req, KMS_M_XKS_RAW_SECRET_ACCESS_KEY, "S", 1, &err);
  kms_request_set(req, KMS_M_XKS_PROXY_URI_PATH, "/p", 2, &err);
  kms_request_set(req, KMS_M_XKS_ACCESS_KEY_ID, "A", 1, &err);
  kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "c", 1, &err);
  check_body(req,
             "{\"CustomKeyStoreId\": \"c\", \"XksProxyUriPath\": \"/p\", "
             "\"XksProxyAuthenticationCredential\": {\"RawSecretAccessKey\": "
             "\"S\", \"AccessKeyId\": \"A\"}, \"XksProxyConnectivity\": "
             "\"PUBLIC_ENDPOINT\"}", "options: model order, halves as given");
  kms_request_set_credential(req, "A", 1, "S", 1, 0, &err);
  check_body(req,
             "{\"CustomKeyStoreId\": \"c\", \"XksProxyUriPath\": \"/p\", "
             "\"XksProxyAuthenticationCredential\": {\"AccessKeyId\": \"A\", "
             "\"RawSecretAccessKey\": \"S\"}, \"XksProxyConnectivity\": "
             "\"PUBLIC_ENDPOINT\"}", "set_credential: key id first");
  kms_request_free(req);

  /* awscli-behaviour.md section 2: JSON keys after the options */
  req = kms_request_new(NULL, NULL, &err);
  OK(load(req,
          "{\"XksProxyConnectivity\":\"PUBLIC_ENDPOINT\","
          "\"NewCustomKeyStoreName\":\"fromjson\","
          "\"CustomKeyStoreId\":\"cks-json\"}", &err) == KMS_OK,
     "load the documented JSON");
  kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "cks-cli", 7, &err);
  kms_request_set(req, KMS_M_KEY_STORE_PASSWORD, "PWSECRET123", 11, &err);
  check_body(req,
             "{\"CustomKeyStoreId\": \"cks-cli\", \"KeyStorePassword\": "
             "\"PWSECRET123\", \"XksProxyConnectivity\": \"PUBLIC_ENDPOINT\", "
             "\"NewCustomKeyStoreName\": \"fromjson\"}",
             "documented --cli-input-json order");
  kms_request_free(req);
}

/* {===== load_json errors ===== */

typedef struct load_case {
  const char *json;
  kms_status status;
  const char *message;
} load_case;

static const load_case load_cases[] = {
  {"[]", KMS_ERR_PARSE, "expected a JSON object, got array"},
  {"\"x\"", KMS_ERR_PARSE, "expected a JSON object, got string"},
  {"null", KMS_ERR_PARSE, "expected a JSON object, got null"},
  {"{\"Bogus\":1}", KMS_ERR_PARSE,
   "unknown member \"Bogus\", must be one of: CustomKeyStoreId, "
   "NewCustomKeyStoreName, KeyStorePassword, CloudHsmClusterId, "
   "XksProxyUriEndpoint, XksProxyUriPath, XksProxyVpcEndpointServiceName, "
   "XksProxyVpcEndpointServiceOwner, XksProxyAuthenticationCredential, "
   "XksProxyConnectivity"},
  {"{\"customKeyStoreId\":\"x\"}", KMS_ERR_PARSE,
   "unknown member \"customKeyStoreId\", must be one of: CustomKeyStoreId, "
   "NewCustomKeyStoreName, KeyStorePassword, CloudHsmClusterId, "
   "XksProxyUriEndpoint, XksProxyUriPath, XksProxyVpcEndpointServiceName, "
   "XksProxyVpcEndpointServiceOwner, XksProxyAuthenticationCredential, "
   "XksProxyConnectivity"},
  {"{\"Bo\\\"gus\\n\":1}", KMS_ERR_PARSE,
   "unknown member \"Bo\\\"gus\\x0a\", must be one of: CustomKeyStoreId, "
   "NewCustomKeyStoreName, KeyStorePassword, CloudHsmClusterId, "
   "XksProxyUriEndpoint, XksProxyUriPath, XksProxyVpcEndpointServiceName, "
   "XksProxyVpcEndpointServiceOwner, XksProxyAuthenticationCredential, "
   "XksProxyConnectivity"},
  {"{\"KeyStorePassword\":null}", KMS_ERR_PARSE,
   "KeyStorePassword: expected a string, got null"},
  {"{\"CustomKeyStoreId\":12345678}", KMS_ERR_PARSE,
   "CustomKeyStoreId: expected a string, got number"},
  {"{\"NewCustomKeyStoreName\":true}", KMS_ERR_PARSE,
   "NewCustomKeyStoreName: expected a string, got boolean"},
  {"{\"XksProxyUriPath\":[\"a\"]}", KMS_ERR_PARSE,
   "XksProxyUriPath: expected a string, got array"},
  {"{\"XksProxyConnectivity\":{}}", KMS_ERR_PARSE,
   "XksProxyConnectivity: expected a string, got object"},
  {"{\"XksProxyAuthenticationCredential\":\"x\"}", KMS_ERR_PARSE,
   "XksProxyAuthenticationCredential: expected an object, got string"},
  {"{\"XksProxyAuthenticationCredential\":null}", KMS_ERR_PARSE,
   "XksProxyAuthenticationCredential: expected an object, got null"},
  {"{\"XksProxyAuthenticationCredential\":{\"Extra\":\"1\"}}", KMS_ERR_PARSE,
   "XksProxyAuthenticationCredential: unknown member \"Extra\", must be one "
   "of: AccessKeyId, RawSecretAccessKey"},
  {"{\"XksProxyAuthenticationCredential\":{\"AccessKeyId\":5}}",
   KMS_ERR_PARSE,
   "XksProxyAuthenticationCredential.AccessKeyId: expected a string, got "
   "number"},
  {"{\"XksProxyAuthenticationCredential\":{\"RawSecretAccessKey\":null}}",
   KMS_ERR_PARSE,
   "XksProxyAuthenticationCredential.RawSecretAccessKey: expected a string, "
   "got null"},
  {"{\"CustomKeyStoreId\":\"new\",\"KeyStorePassword\":1}", KMS_ERR_PARSE,
   "KeyStorePassword: expected a string, got number"},
  {"{\"CustomKeyStoreId\":\"a\",}", KMS_ERR_PARSE,
   "invalid JSON at offset 24: expected a member name"},
  {"", KMS_ERR_PARSE, "invalid JSON at offset 0: unexpected end of input"},
  {"{\"CustomKeyStoreId\":\"\\u0000\"}", KMS_ERR_PARSE,
   "invalid JSON at offset 27: \\u0000 is not supported"},
  {"{\"NewCustomKeyStoreName\":\"\\ud800\"}", KMS_ERR_PARSE,
   "invalid JSON at offset 32: lone high surrogate"},
};

static void test_load_errors(void)
{
  t_alloc_state as = {0, 0, 0, 0};
  kms_error err;
  kms_request *req = kms_request_new(t_alloc, &as, &err);
  kms_buf before, after;
  size_t i;

  kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "keep", 4, &err);
  kms_request_set_credential(req, "AK", 2, "SK", 2, 1, &err);
  load(req, "{\"XksProxyUriPath\":\"/p\"}", &err);
  kms_request_encode_body(req, &before, &err);
  for (i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
    const load_case *c = &load_cases[i];
    kms_status st;

    kms_error_clear(&err);
    st = kms_request_load_json(req, c->json, strlen(c->json), &err);
    OK(st == c->status, "load error %zu: status %s", i, kms_strerror(st));
    OK(err.status == c->status, "load error %zu: err.status", i);
    EQ_STR(err.message, c->message, "load error %zu: message", i);
    kms_request_encode_body(req, &after, &err);
    EQ_STR(after.data, before.data, "load error %zu: request unchanged", i);
    kms_buf_free(&after);
  }
  OK(kms_request_load_json(req, NULL, 3, &err) == KMS_ERR_INVALID_ARG,
     "load NULL json with a length");
  OK(kms_request_load_json(NULL, "{}", 2, &err) == KMS_ERR_INVALID_ARG,
     "load into NULL request");
  OK(kms_request_load_json(req, "{}  ", 4, &err) == KMS_OK,
     "load empty object");
  kms_request_encode_body(req, &after, &err);
  EQ_STR(after.data, before.data, "empty object changes nothing");
  kms_buf_free(&after);
  kms_buf_free(&before);
  kms_request_free(req);
  OK(as.blocks == 0, "load errors: no leak");
}

static void test_load_values(void)
{
  kms_error err;
  kms_request *req = kms_request_new(NULL, NULL, &err);
  const char *json =
      "{\"XksProxyAuthenticationCredential\": {\"RawSecretAccessKey\": "
      "\"s\\/x\", \"AccessKeyId\": \"\\u00e9\"}, \"CustomKeyStoreId\": "
      "\"\\ud83d\\ude00\", \"XksProxyVpcEndpointServiceOwner\": \"\"}";
  size_t len;
  const char *v;

  OK(kms_request_load_json(req, json, strlen(json), &err) == KMS_OK,
     "load values");
  v = kms_request_get(req, KMS_M_XKS_ACCESS_KEY_ID, &len);
  OK(v && len == 2 && memcmp(v, "\xc3\xa9", 2) == 0, "escape decoded");
  v = kms_request_get(req, KMS_M_CUSTOM_KEY_STORE_ID, &len);
  OK(v && len == 4 && memcmp(v, "\xf0\x9f\x98\x80", 4) == 0,
     "surrogate pair decoded");
  v = kms_request_get(req, KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER, &len);
  OK(v && len == 0, "empty string loaded as empty");
  check_body(req,
             "{\"XksProxyAuthenticationCredential\": {\"RawSecretAccessKey\": "
             "\"s/x\", \"AccessKeyId\": \"\\u00e9\"}, \"CustomKeyStoreId\": "
             "\"\\ud83d\\ude00\", \"XksProxyVpcEndpointServiceOwner\": \"\"}",
             "JSON order kept, re-encoded as botocore");
  /* a JSON credential replaces a whole option credential */
  kms_request_set_credential(req, "A", 1, "S", 1, 0, &err);
  load(req, "{\"XksProxyAuthenticationCredential\":{\"AccessKeyId\":\"J\"}}",
       &err);
  OK(kms_request_get(req, KMS_M_XKS_RAW_SECRET_ACCESS_KEY, NULL) == NULL,
     "JSON credential replaces the structure");
  kms_request_free(req);
}

static void test_redacted(void)
{
  kms_error err;
  kms_request *req = kms_request_new(NULL, NULL, &err);
  kms_buf b;

  kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "c", 1, &err);
  kms_request_set(req, KMS_M_KEY_STORE_PASSWORD, "hunter22", 8, &err);
  kms_request_set_credential(req, "AKID", 4, "", 0, 1, &err);
  OK(kms_request_to_redacted_json(req, &b, &err) == KMS_OK, "redacted");
  EQ_STR(b.data,
         "{\"CustomKeyStoreId\": \"c\", \"KeyStorePassword\": \"***\", "
         "\"XksProxyAuthenticationCredential\": {\"RawSecretAccessKey\": "
         "\"***\", \"AccessKeyId\": \"***\"}}", "redacted body");
  OK(b.secret == 0, "redacted buffer is not secret");
  kms_buf_free(&b);
  OK(kms_request_to_redacted_json(NULL, &b, &err) == KMS_ERR_INVALID_ARG,
     "redacted NULL request");
  OK(kms_request_encode_body(req, NULL, &err) == KMS_ERR_INVALID_ARG,
     "encode NULL out");
  kms_request_free(req);
}

/* {===== secrets never left behind in freed memory ===== */

static const char *const secret_marks[] = {
  "PWMARKER", "AKIDMARKER", "RAWMARKER", "TYPOMARKER",
};
static long secret_found;

static void scan_block(const void *p, size_t n)
{
  size_t i, k;
  for (k = 0; k < sizeof secret_marks / sizeof secret_marks[0]; k++) {
    size_t m = strlen(secret_marks[k]);
    for (i = 0; i + m <= n; i++)
      if (memcmp((const char *)p + i, secret_marks[k], m) == 0)
        secret_found++;
  }
}

/* t_alloc that looks into every block it frees (realloc included). New
 * blocks are zeroed so the scan never reads undefined bytes. */
static void *scan_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  void *p;
  if (ptr)
    scan_block(ptr, osize);
  if (nsize == 0)
    return t_alloc(ud, ptr, osize, 0);
  p = t_alloc(ud, NULL, 0, nsize);
  if (p) {
    memset(p, 0, nsize);
    if (ptr) {
      memcpy(p, ptr, osize < nsize ? osize : nsize);
      t_alloc(ud, ptr, osize, 0);
    }
  }
  return p;
}

static void test_secret_hygiene(void)
{
  t_alloc_state as = {0, 0, 0, 0};
  kms_error err;
  kms_request *req = kms_request_new(scan_alloc, &as, &err);
  kms_problems *probs = NULL;
  kms_buf b;
  const char *json =
      "{\"KeyStorePassword\":\"PWMARKER-json\","
      "\"XksProxyAuthenticationCredential\":{\"AccessKeyId\":"
      "\"AKIDMARKER-json\",\"RawSecretAccessKey\":\"RAWMARKER-json\"}}";
  const char *typo = "{\"KeyStorePasword\":\"TYPOMARKER\"}";
  size_t i;

  secret_found = 0;
  kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "c", 1, &err);
  kms_request_set(req, KMS_M_KEY_STORE_PASSWORD, "PWMARKER-1", 10, &err);
  kms_request_set(req, KMS_M_KEY_STORE_PASSWORD, "PWMARKER-2", 10, &err);
  kms_request_set_credential(req, "AKIDMARKER", 10, "RAWMARKER", 9, 0, &err);
  kms_request_load_json(req, json, strlen(json), &err);
  OK(kms_request_load_json(req, typo, strlen(typo), &err) == KMS_ERR_PARSE,
     "misspelt secret key refused");
  OK(strstr(err.message, "TYPOMARKER") == NULL, "error does not echo value");
  kms_request_validate(req, NULL, &probs, &err);
  OK(strstr(err.message, "MARKER") == NULL, "validation error has no secret");
  for (i = 0; i < kms_problems_count(probs); i++)
    OK(strstr(kms_problems_at(probs, i)->message, "MARKER") == NULL,
       "problem %zu has no secret", i);
  kms_problems_free(probs);
  for (i = 0; i < 3; i++) {
    kms_request_encode_body(req, &b, &err);
    kms_buf_free(&b);
  }
  kms_request_to_redacted_json(req, &b, &err);
  OK(strstr(b.data, "MARKER") == NULL, "redacted has no secret");
  kms_buf_free(&b);
  kms_request_unset(req, KMS_M_XKS_ACCESS_KEY_ID);
  kms_request_free(req);
  OK(as.blocks == 0, "hygiene: no leak");
  OK(secret_found == 0, "no freed block held a secret (%ld found)",
     secret_found);
}

/* {===== allocation-failure sweep ===== */

/* One pass of the whole pipeline; returns 1 when every step succeeded. */
static int pipeline(t_alloc_state *as, int *bad)
{
  static const char json[] =
      "{\"XksProxyConnectivity\":\"VPC_ENDPOINT_SERVICE\","
      "\"NewCustomKeyStoreName\":\"\\u00e9t\\u00e9 \\ud83d\\ude00\","
      "\"XksProxyAuthenticationCredential\":{\"RawSecretAccessKey\":"
      "\"DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=\",\"AccessKeyId\":"
      "\"ABCDE12345670EXAMPLE\"},\"CustomKeyStoreId\":\"cks-json\","
      "\"XksProxyUriPath\":\"/bad\",\"KeyStorePassword\":\"short\"}";
  kms_store_context ctx = {"EXTERNAL_KEY_STORE", "CONNECTED", "BOGUS"};
  kms_error err;
  kms_request *req;
  kms_problems *probs = NULL;
  kms_buf body, red;
  kms_status st;
  int ok = 0;

  memset(&body, 0, sizeof body);
  memset(&red, 0, sizeof red);
  req = kms_request_new(t_alloc, as, &err);
  if (!req)
    return 0;
  st = kms_request_load_json(req, json, sizeof json - 1, &err);
  if (st != KMS_OK) {
    *bad |= st != KMS_ERR_NOMEM;
    goto cleanup;
  }
  st = kms_request_set(req, KMS_M_XKS_PROXY_URI_ENDPOINT,
                       "https://x.example.com", 21, &err);
  if (st != KMS_OK) {
    *bad |= st != KMS_ERR_NOMEM;
    goto cleanup;
  }
  st = kms_request_set_credential(req, "ABCDE12345670EXAMPLE", 20,
                                  "secret", 6, 1, &err);
  if (st != KMS_OK) {
    *bad |= st != KMS_ERR_NOMEM;
    goto cleanup;
  }
  st = kms_request_validate(req, &ctx, &probs, &err);
  if (st == KMS_ERR_NOMEM) {
    *bad |= probs != NULL;
    goto cleanup;
  }
  *bad |= st != KMS_ERR_VALIDATION || kms_problems_count(probs) < 5;
  st = kms_request_encode_body(req, &body, &err);
  if (st != KMS_OK) {
    *bad |= st != KMS_ERR_NOMEM || body.data != NULL;
    goto cleanup;
  }
  st = kms_request_to_redacted_json(req, &red, &err);
  if (st != KMS_OK) {
    *bad |= st != KMS_ERR_NOMEM || red.data != NULL;
    goto cleanup;
  }
  ok = 1;
cleanup:
  kms_problems_free(probs);
  kms_buf_free(&body);
  kms_buf_free(&red);
  kms_request_free(req);
  return ok;
}

static void test_alloc_sweep(void)
{
  long n;
  int bad = 0, leaks = 0, finished = 0;

  for (n = 1; n < 10000 && !finished; n++) {
    t_alloc_state as = {0, 0, 0, n};
    int ok = pipeline(&as, &bad);
    if (as.blocks != 0)
      leaks++;
    if (as.calls < n) {
      finished = ok;
      break;
    }
  }
  OK(finished, "sweep reached a run without failure (after %ld)", n - 1);
  OK(!bad, "every failing allocation reported NOMEM and nothing else");
  OK(leaks == 0, "no leak at any failing allocation (%d leaky runs)", leaks);
}

int main(void)
{
  test_members();
  test_set_get();
  test_order();
  test_load_errors();
  test_load_values();
  test_redacted();
  test_secret_hygiene();
  test_alloc_sweep();
  return t_done();
}
