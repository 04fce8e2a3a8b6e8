/* test_abi.c - kmscks.so through its ABI alone, offline: the one entry
 * point and its version checks, the size rules of the structs that cross
 * the ABI, bad input of every kind (NULLs, truncated and wrong-typed JSON,
 * unknown config keys, wrong value types) reported through the error
 * struct, signing and response mapping without a network, a host
 * transport and allocator, no thread at load, and dlclose while idle.
 *
 *   test_abi PATH/TO/kmscks.so
 */
#include <limits.h>
#include <stdint.h>
#include <unistd.h>
#include "plugin_test.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define XKS_SECRET "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="

static const kms_plugin_ops *ops;
static char secret_file[PATH_MAX];

/* {===== log capture ===== */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[1 << 16];
static size_t log_len;

static void cap_log(void *ud, int level, const char *msg)
{
  (void)ud;
  pthread_mutex_lock(&log_lock);
  log_len += (size_t)snprintf(log_text + log_len,
                              log_len < sizeof log_text
                                  ? sizeof log_text - log_len : 0,
                              "[%d] %s\n", level, msg);
  if (log_len > sizeof log_text)
    log_len = sizeof log_text;
  pthread_mutex_unlock(&log_lock);
}
/* }===== */

/* {===== a host transport that answers from memory ===== */

typedef struct fake {
  int calls;
  int fail;                /* answer with a transport failure */
  long status;
  const char *body;
  char last_url[256];
  char last_target[128];
  int saw_auth;
  size_t last_body_len;
} fake;

static int fake_send(void *ud, const kms_plugin_http_request *req,
                     kms_plugin_http_response *resp, kms_plugin_error *err)
{
  fake *f = ud;
  size_t i;

  f->calls++;
  snprintf(f->last_url, sizeof f->last_url, "%s", req->url);
  f->last_target[0] = '\0';
  f->saw_auth = 0;
  for (i = 0; i < req->header_count; i++) {
    if (strcmp(req->headers[i].name, "X-Amz-Target") == 0)
      snprintf(f->last_target, sizeof f->last_target, "%s",
               req->headers[i].value);
    if (strcmp(req->headers[i].name, "Authorization") == 0)
      f->saw_auth = 1;
  }
  f->last_body_len = req->body_len;
  if (f->fail) {
    snprintf(err->message, sizeof err->message, "fake: connection refused");
    return KMS_ERR_CONNECT;
  }
  resp->status = f->status;
  resp->add_header(resp, "x-amzn-RequestId", "fake-request-id-1");
  resp->add_header(resp, "Content-Type", "application/x-amz-json-1.1");
  resp->write_body(resp, f->body, strlen(f->body));
  return 0;
}
/* }===== */

/* A tree with the given children under <Plugin kmscks>. */
#define TREE(name, kids)                                                  \
  kms_plugin_config_item name = {"Plugin", NULL, 0, kids,                 \
                                 (int)(sizeof kids / sizeof kids[0])}

static kms_plugin_value S(const char *s)
{
  kms_plugin_value v = {KMS_PLUGIN_STRING, s, 0, 0};
  return v;
}
static kms_plugin_value N(double d)
{
  kms_plugin_value v = {KMS_PLUGIN_NUMBER, NULL, d, 0};
  return v;
}
static kms_plugin_value B(int b)
{
  kms_plugin_value v = {KMS_PLUGIN_BOOLEAN, NULL, 0, b};
  return v;
}

/* Configures inst offline (endpoint on a closed port, explicit keys). */
static int configure_offline(kms_plugin_instance *inst, int max_attempts)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_value region = S("us-east-1"), ep = S("http://127.0.0.1:9"),
                   akid = S(AKID), sf = S(secret_file),
                   ma = N(max_attempts), cf = S("/dev/null"),
                   lv = S("debug"), to = N(2);
  kms_plugin_config_item kids[] = {
    {"Region", &region, 1, NULL, 0},
    {"EndpointURL", &ep, 1, NULL, 0},
    {"AccessKeyId", &akid, 1, NULL, 0},
    {"SecretAccessKeyFile", &sf, 1, NULL, 0},
    {"MaxAttempts", &ma, 1, NULL, 0},
    {"ConfigFile", &cf, 1, NULL, 0},
    {"CredentialsFile", &cf, 1, NULL, 0},
    {"LogLevel", &lv, 1, NULL, 0},
    {"ConnectTimeout", &to, 1, NULL, 0},
  };
  TREE(root, kids);
  int rc = ops->configure_tree(inst, &root, &err);
  if (rc)
    printf("# configure: %s\n", err.message);
  return rc;
}

/* {===== 1. the entry point and versions ===== */

static void test_entry(kms_plugin_entry_fn entry)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  const kms_plugin_ops *o;
  unsigned char raw[sizeof(kms_plugin_error)];
  kms_plugin_error *small = (kms_plugin_error *)raw;
  size_t i, keep;
  int untouched;

  o = entry(KMS_PLUGIN_ABI_MAJOR, KMS_PLUGIN_ABI_MINOR, &err);
  OK(o != NULL && err.code == 0, "entry(1, 0) gives the table");
  if (!o)
    return;
  OK(o->abi_major == 1 && o->abi_minor == 0, "table starts with ABI %u.%u",
     (unsigned)o->abi_major, (unsigned)o->abi_minor);
  OK(o->struct_size == sizeof(kms_plugin_ops), "table struct_size %zu",
     o->struct_size);
  OK(strcmp(o->name, "kmscks") == 0 && strcmp(o->version, KMS_VERSION_STRING)
     == 0, "table names kmscks %s", o->version);
  OK(KMS_PLUGIN_HAS(o, update_request) && KMS_PLUGIN_HAS(o, create),
     "KMS_PLUGIN_HAS sees the last and first operations");
  OK(entry(1, 7, &err) == o && err.code == 0,
     "a newer minor host (1.7) gets the same table");
  OK(entry(1, 0, NULL) == o, "the error struct may be NULL");

  o = entry(2, 0, &err);
  OK(o == NULL, "an unknown major version (2) is refused");
  ERR_IS(err, KMS_ERR_INVALID_ARG, "ABI major version 2 is not supported",
         "... with a clear error");
  OK(strstr(err.message, "implements ABI 1.0") != NULL &&
     strcmp(err.code_name, "invalid_argument") == 0,
     "... naming what the plugin supports: %s", err.message);
  OK(entry(0, 5, &err) == NULL && err.code == KMS_ERR_INVALID_ARG,
     "major version 0 is refused");
  OK(entry(UINT32_MAX, 0, NULL) == NULL, "refused with a NULL error too");

  /* An error struct from an older host: only its prefix is written. */
  keep = offsetof(kms_plugin_error, message);
  memset(raw, 0xA5, sizeof raw);
  small->struct_size = keep;
  entry(2, 0, small);
  untouched = 1;
  for (i = keep; i < sizeof raw; i++)
    if (raw[i] != 0xA5)
      untouched = 0;
  OK(small->code == KMS_ERR_INVALID_ARG && untouched &&
     small->struct_size == keep,
     "an error struct of %zu bytes is filled only that far", keep);
  /* A size that cannot be a kms_plugin_error: never written. */
  memset(raw, 0xA5, sizeof raw);
  small->struct_size = 3;
  entry(2, 0, small);
  untouched = 1;
  for (i = sizeof(size_t); i < sizeof raw; i++)
    if (raw[i] != 0xA5)
      untouched = 0;
  OK(untouched, "an error struct_size of 3 is not written to");
  memset(raw, 0xA5, sizeof raw);
  small->struct_size = (size_t)1 << 40;
  entry(2, 0, small);
  OK(raw[sizeof(size_t)] == 0xA5, "an error struct_size of 2^40 is not "
     "written to");
  /* A size that cuts message: it ends in NUL. */
  memset(raw, 0xA5, sizeof raw);
  small->struct_size = offsetof(kms_plugin_error, message) + 20;
  entry(2, 0, small);
  OK(raw[offsetof(kms_plugin_error, message) + 19] == '\0' &&
     raw[offsetof(kms_plugin_error, message) + 20] == 0xA5,
     "a cut text field ends in NUL inside the given size");
}
/* }===== */

/* {===== 2. the host struct ===== */

static void test_host_struct(void)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_instance *inst;
  unsigned char big[sizeof(kms_plugin_host) + 64];
  kms_plugin_host h, *hb = (kms_plugin_host *)big;

  inst = ops->create(NULL, &err);
  OK(inst != NULL && err.code == 0, "create(NULL host): defaults");
  ops->destroy(inst);

  memset(&h, 0, sizeof h);
  h.abi_major = 2;
  h.struct_size = sizeof h;
  OK(ops->create(&h, &err) == NULL, "a host of ABI 2.x is refused");
  ERR_IS(err, KMS_ERR_INVALID_ARG, "host ABI 2.0 is not supported",
         "... with a clear error");

  h.abi_major = 1;
  h.struct_size = 3;
  OK(ops->create(&h, &err) == NULL, "a host struct_size of 3 is refused");
  ERR_IS(err, KMS_ERR_INVALID_ARG, "struct_size 3 is not valid",
         "... naming the size");
  h.struct_size = (size_t)1 << 30;
  OK(ops->create(&h, &err) == NULL && err.code == KMS_ERR_INVALID_ARG,
     "a host struct_size of 2^30 is refused");

  /* The smallest v1 host: the header only. log is beyond its size and
   * must not be read (it holds garbage here). */
  memset(&h, 0, sizeof h);
  h.abi_major = 1;
  h.struct_size = offsetof(kms_plugin_host, host_name);
  memset(&h.host_name, 0xFF, sizeof h - h.struct_size);
  inst = ops->create(&h, &err);
  OK(inst != NULL, "a header-only host struct works (fields past its size "
     "are not read)");
  ops->destroy(inst);

  /* A newer minor host: a larger struct with fields this plugin lacks. */
  memset(big, 0x5A, sizeof big);
  memset(hb, 0, sizeof *hb);
  hb->abi_major = 1;
  hb->abi_minor = 9;
  hb->struct_size = sizeof big;
  hb->host_name = "newer-host";
  inst = ops->create(hb, &err);
  OK(inst != NULL && err.code == 0, "a newer minor host (1.9, %zu bytes) "
     "works", sizeof big);
  ops->destroy(inst);
}
/* }===== */

/* {===== 3. NULLs, order of calls ===== */

static void test_nulls(void)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_instance *inst = ops->create(NULL, &err);
  kms_plugin_config_item root = {"Plugin", NULL, 0, NULL, 0};
  char *out = (char *)"sentinel";
  kms_request *req;

  ERR_IS(err, 0, "", "create: error cleared on success");
  OK(ops->configure_tree(NULL, &root, &err) == KMS_ERR_INVALID_ARG,
     "configure_tree(NULL inst)");
  ERR_IS(err, KMS_ERR_INVALID_ARG, "configure_tree: inst is NULL",
         "... names the argument");
  OK(ops->configure_tree(inst, NULL, &err) == KMS_ERR_INVALID_ARG &&
     strstr(err.message, "root is NULL"), "configure_tree(NULL root)");
  OK(ops->configure_kv(inst, NULL, "x", &err) == KMS_ERR_INVALID_ARG &&
     strstr(err.message, "key is NULL"), "configure_kv(NULL key)");
  OK(ops->validate(inst, NULL, NULL, &out, &err) == KMS_ERR_INVALID_ARG &&
     out == NULL && strstr(err.message, "request_json is NULL"),
     "validate(NULL json) clears *out");
  OK(ops->validate(inst, "{}", NULL, NULL, &err) == KMS_ERR_INVALID_ARG &&
     strstr(err.message, "problems_json is NULL"), "validate(NULL out)");
  OK(ops->sign(inst, NULL, "{}", 0, &out, &err) == KMS_ERR_INVALID_ARG &&
     strstr(err.message, "operation is NULL"), "sign(NULL operation)");
  OK(ops->sign(inst, "UpdateCustomKeyStore", NULL, 0, &out, &err) ==
     KMS_ERR_INVALID_ARG, "sign(Update, NULL json)");
  OK(ops->sign(inst, "UpdateCustomKeyStore", "{}", 0, NULL, &err) ==
     KMS_ERR_INVALID_ARG, "sign(NULL out)");
  OK(ops->update(inst, NULL, NULL, &err) == KMS_ERR_INVALID_ARG &&
     strstr(err.message, "request_json is NULL"), "update(NULL json)");
  OK(ops->update(NULL, "{}", NULL, &err) == KMS_ERR_INVALID_ARG,
     "update(NULL inst)");
  OK(ops->describe(inst, "cks-1", NULL, &err) == KMS_ERR_INVALID_ARG,
     "describe(NULL out)");
  OK(ops->connect(inst, NULL, &err) == KMS_ERR_INVALID_ARG &&
     strstr(err.message, "custom_key_store_id is NULL"), "connect(NULL id)");
  OK(ops->disconnect(NULL, "cks-1", &err) == KMS_ERR_INVALID_ARG,
     "disconnect(NULL inst)");
  OK(ops->check_response(inst, NULL, 200, NULL, "{}", 2, NULL, &err) ==
     KMS_ERR_INVALID_ARG, "check_response(NULL operation)");
  OK(ops->check_response(inst, "DescribeCustomKeyStores", 200, NULL, NULL,
                         5, NULL, &err) == KMS_ERR_INVALID_ARG,
     "check_response(NULL body, len 5)");
  /* The host's header text: CRLF lines, a status line, a line that is
   * no header, padded values, a header repeated (the first counts). */
  OK(ops->check_response(inst, "ConnectCustomKeyStore", 503,
                         "HTTP/1.1 503 Service Unavailable\r\n"
                         "no header here\r\n"
                         "X-Amzn-RequestId:  rid-77 \r\n"
                         "x-amzn-requestid: rid-second\r\n"
                         "\r\n", "{\"__type\":\"KMSInternalException\"}",
                         33, NULL, &err) == KMS_ERR_SERVICE &&
         err.http_status == 503 && strcmp(err.request_id, "rid-77") == 0 &&
         strcmp(err.aws_type, "KMSInternalException") == 0,
     "check_response reads the host's header lines (%s)", err.request_id);
  OK(ops->request_set(NULL, KMS_M_CUSTOM_KEY_STORE_ID, "x", 1, &err) ==
     KMS_ERR_INVALID_ARG, "request_set(NULL req)");
  OK(ops->validate_request(inst, NULL, NULL, &out, &err) ==
     KMS_ERR_INVALID_ARG, "validate_request(NULL req)");
  OK(ops->update_request(inst, NULL, NULL, &err) == KMS_ERR_INVALID_ARG,
     "update_request(NULL req)");
  OK(ops->request_new(NULL, &err) == NULL && err.code == KMS_ERR_INVALID_ARG,
     "request_new(NULL inst)");
  {
    kms_plugin_instance *quiet = ops->create(NULL, NULL);
    OK(quiet != NULL, "create takes a NULL error too");
    ops->destroy(quiet);
  }
  OK(ops->update(NULL, NULL, NULL, NULL) == KMS_ERR_INVALID_ARG,
     "update(NULL, NULL, NULL, NULL) returns the code");
  ops->free_string(inst, NULL);
  ops->request_free(NULL);
  ops->destroy(NULL);
  OK(1, "free_string(NULL), request_free(NULL), destroy(NULL) are no-ops");

  /* Before any configuration. */
  OK(ops->describe(inst, "cks-1", &out, &err) == KMS_ERR_CONFIG,
     "describe before configure");
  ERR_IS(err, KMS_ERR_CONFIG, "not configured", "... says so");
  /* The plain C path: an object from the table. */
  req = ops->request_new(inst, &err);
  OK(req != NULL, "request_new");
  OK(ops->request_set(req, (kms_member)99, "x", 1, &err) ==
     KMS_ERR_INVALID_ARG && strstr(err.message, "member 99"),
     "request_set(member 99)");
  OK(ops->request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, NULL, 4, &err) ==
     KMS_ERR_INVALID_ARG, "request_set(NULL value, len 4)");
  OK(ops->request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "cks-1234567890abcdef0",
                      21, &err) == 0, "request_set(CustomKeyStoreId)");
  OK(ops->request_set(req, KMS_M_NEW_CUSTOM_KEY_STORE_NAME, "n", 1, &err) ==
     0, "request_set(NewCustomKeyStoreName)");
  OK(ops->validate_request(inst, req, NULL, &out, &err) == 0 && out &&
     strcmp(out, "[]") == 0, "validate_request: no problem (%s)",
     out ? out : "NULL");
  ops->free_string(inst, out);
  OK(ops->update_request(inst, req, NULL, &err) == KMS_ERR_CONFIG,
     "update_request before configure: config error");
  ops->request_free(req);
  ops->destroy(inst);
}
/* }===== */

/* {===== 4. bad JSON ===== */

static void test_bad_json(void)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_instance *inst = ops->create(NULL, &err);
  char *out = NULL;
  int rc;

  rc = ops->validate(inst, "{\"CustomKeyStoreId\": \"cks-12", NULL, &out,
                     &err);
  OK(rc == KMS_ERR_PARSE && out == NULL, "truncated request JSON: parse");
  ERR_IS(err, KMS_ERR_PARSE, "offset", "... names the offset");
  rc = ops->validate(inst, "{\"CustomKeyStoreId\": 5}", NULL, &out, &err);
  ERR_IS(err, KMS_ERR_PARSE, "CustomKeyStoreId: expected a string",
         "wrong-typed member (number for a string)");
  OK(rc == KMS_ERR_PARSE, "... returns parse");
  ops->validate(inst, "{\"CustomKeyStoreId\": null}", NULL, &out, &err);
  ERR_IS(err, KMS_ERR_PARSE, "got null", "null member");
  ops->validate(inst, "{\"XksProxyAuthenticationCredential\": \"x\"}", NULL,
                &out, &err);
  ERR_IS(err, KMS_ERR_PARSE, "XksProxyAuthenticationCredential",
         "a string where the credential object goes");
  ops->validate(inst, "{\"CustomKeyStoreId\": \"cks-1\", \"Bogus\": \"x\"}",
                NULL, &out, &err);
  ERR_IS(err, KMS_ERR_PARSE, "unknown member \"Bogus\"", "unknown member");
  ops->validate(inst, "[1, 2]", NULL, &out, &err);
  ERR_IS(err, KMS_ERR_PARSE, "expected a JSON object", "a list, not an "
         "object");
  ops->validate(inst, "", NULL, &out, &err);
  OK(err.code == KMS_ERR_PARSE, "empty text: parse (%s)", err.message);
  /* Secrets are never echoed in a parse error. */
  ops->validate(inst, "{\"CustomKeyStoreId\": \"cks-1\", \"KeyStorePassword\""
                ": \"" XKS_SECRET "\", ", NULL, &out, &err);
  OK(err.code == KMS_ERR_PARSE && !strstr(err.message, XKS_SECRET),
     "a truncated request with a secret: the secret is not in the error");

  /* The store context. */
  rc = ops->validate(inst, "{\"CustomKeyStoreId\": \"cks-1\", "
                     "\"NewCustomKeyStoreName\": \"n\"}",
                     "{\"ConnectionState\": \"CONNE", &out, &err);
  ERR_IS(err, KMS_ERR_PARSE, "store: invalid JSON", "truncated store JSON");
  rc = ops->validate(inst, "{\"CustomKeyStoreId\": \"cks-1\", "
                     "\"NewCustomKeyStoreName\": \"n\"}",
                     "{\"ConnectionState\": 3}", &out, &err);
  ERR_IS(err, KMS_ERR_PARSE, "ConnectionState: expected a string",
         "wrong-typed store JSON");
  rc = ops->validate(inst, "{\"CustomKeyStoreId\": \"cks-1\", "
                     "\"NewCustomKeyStoreName\": \"n\"}",
                     "{\"CustomKeyStores\": []}", &out, &err);
  ERR_IS(err, KMS_ERR_PARSE, "CustomKeyStores", "an empty Describe answer "
         "as the store");
  (void)rc;

  /* Every problem at once, as the core gives them. */
  rc = ops->validate(inst, "{\"CustomKeyStoreId\": \"cks-1\", "
                     "\"KeyStorePassword\": \"short\", "
                     "\"XksProxyUriPath\": \"/kms/xks/v1\"}", NULL, &out,
                     &err);
  OK(rc == KMS_ERR_VALIDATION && out &&
     strstr(out, "\"code\":\"length.min\"") &&
     strstr(out, "\"code\":\"type.mixed\"") &&
     strstr(out, "\"member\":\"KeyStorePassword\"") &&
     strstr(out, "\"severity\":\"error\""),
     "validate lists every problem: %s", out ? out : "NULL");
  OK(out && !strstr(out, "short"), "... and never the password's value");
  ERR_IS(err, KMS_ERR_VALIDATION, "KeyStorePassword", "... err names the "
         "first");
  OK(strcmp(err.aws_type, "length.min") == 0, "... aws_type holds its code "
     "(%s)", err.aws_type);
  ops->free_string(inst, out);
  out = NULL;
  rc = ops->validate(inst, "{\"CustomKeyStoreId\": \"cks-1\"}", NULL, &out,
                     &err);
  OK(rc == 0 && out && strstr(out, "\"severity\":\"warning\"") &&
     strstr(out, "noop"), "a warning alone passes: %s", out ? out : "NULL");
  ops->free_string(inst, out);
  out = NULL;
  /* Contextual rules from a Describe entry. */
  rc = ops->validate(inst, "{\"CustomKeyStoreId\": \"cks-1\", "
                     "\"XksProxyUriEndpoint\": \"https://b.example.com\"}",
                     "{\"CustomKeyStores\": [{\"CustomKeyStoreId\": \"cks-1\","
                     " \"CustomKeyStoreType\": \"EXTERNAL_KEY_STORE\", "
                     "\"ConnectionState\": \"CONNECTED\", "
                     "\"XksProxyConfiguration\": {\"Connectivity\": "
                     "\"PUBLIC_ENDPOINT\"}}]}", &out, &err);
  OK(rc == KMS_ERR_VALIDATION && out && strstr(out, "context.state"),
     "a Describe answer as the store: the state rule applies: %s",
     out ? out : "NULL");
  ops->free_string(inst, out);
  ops->destroy(inst);
}
/* }===== */

/* {===== 5. configuration ===== */

static void test_config(void)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_instance *inst = ops->create(NULL, &err);
  kms_plugin_value str_yes = S("yes"), ten = S("10"), zero = N(0),
                   half = N(2.5), five = N(5), t = B(1), two[2];
  kms_plugin_value inline_secret = S(SECRET), nofile = S("/nonexistent/x");
  kms_plugin_value region = S("us-east-1"), badregion = S("not a region!");
  char *out = NULL;
  struct {
    const char *key;
    kms_plugin_value *v;
    int n;
    int code;
    const char *msg;
    const char *what;
  } cases[] = {
    {"Bogus", &str_yes, 1, KMS_ERR_CONFIG, "unknown option \"Bogus\"",
     "unknown key"},
    {"VerifyTLS", &str_yes, 1, KMS_ERR_CONFIG,
     "VerifyTLS: expected a boolean, got a string", "string for a boolean"},
    {"Timeout", &ten, 1, KMS_ERR_CONFIG,
     "Timeout: expected a number, got a string", "string for a number"},
    {"Region", &five, 1, KMS_ERR_CONFIG,
     "Region: expected a string, got a number", "number for a string"},
    {"Region", &t, 1, KMS_ERR_CONFIG,
     "Region: expected a string, got a boolean", "boolean for a string"},
    {"MaxAttempts", &zero, 1, KMS_ERR_CONFIG, "MaxAttempts: expected a whole "
     "number >= 1, got 0", "MaxAttempts 0"},
    {"MaxAttempts", &half, 1, KMS_ERR_CONFIG, "got 2.5", "MaxAttempts 2.5"},
    {"Region", two, 2, KMS_ERR_CONFIG, "Region: expected one value, got 2",
     "two values"},
    {"Region", NULL, 0, KMS_ERR_CONFIG, "expected one value, got 0",
     "no value"},
    {"SecretAccessKey", &inline_secret, 1, KMS_ERR_CONFIG,
     "secrets are read from files only: use SecretAccessKeyFile",
     "an inline secret"},
    {"SecretAccessKeyFile", &nofile, 1, KMS_ERR_IO,
     "SecretAccessKeyFile: cannot read /nonexistent/x", "a missing file"},
    {"LogLevel", &str_yes, 1, KMS_ERR_CONFIG, "LogLevel: expected error",
     "a bad LogLevel"},
    {"Region", &badregion, 1, KMS_ERR_CONFIG, "region_name 'not a region!'",
     "a region the client refuses (checked at once)"},
  };
  kms_plugin_config_item kid, block_kid = {"Nested", &region, 1, &kid, 1};
  kms_plugin_config_item root = {"Plugin", NULL, 0, &kid, 1};
  size_t i;

  two[0] = S("a");
  two[1] = S("b");
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kid.key = cases[i].key;
    kid.values = cases[i].v;
    kid.values_num = cases[i].n;
    kid.children = NULL;
    kid.children_num = 0;
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    OK(ops->configure_tree(inst, &root, &err) == cases[i].code,
       "configure_tree: %s", cases[i].what);
    ERR_IS(err, cases[i].code, cases[i].msg, "... %s", cases[i].msg);
    OK(!strstr(err.message, SECRET), "... no secret in the message");
  }
  /* A block where an option goes. */
  kid.key = "Region";
  kid.values = &region;
  kid.values_num = 1;
  root.children = &block_kid;
  ops->configure_tree(inst, &root, &err);
  ERR_IS(err, KMS_ERR_CONFIG, "unknown option \"Nested\"", "a nested block");
  /* values_num that lies. */
  kid.values = NULL;
  kid.values_num = 3;
  root.children = &kid;
  OK(ops->configure_tree(inst, &root, &err) == KMS_ERR_INVALID_ARG,
     "values_num 3 with NULL values: invalid argument");
  root.children_num = -1;
  OK(ops->configure_tree(inst, &root, &err) == KMS_ERR_INVALID_ARG,
     "children_num -1: invalid argument");
  OK(ops->describe(inst, "cks-1", &out, &err) == KMS_ERR_CONFIG &&
     strstr(err.message, "not configured"),
     "a refused tree leaves the plugin unconfigured");

  /* Key/value pairs: kms_config_set names. */
  OK(ops->configure_kv(inst, "Region", "us-east-1", &err) == KMS_ERR_CONFIG,
     "configure_kv(\"Region\"): the names are kms_config_set's");
  ERR_IS(err, KMS_ERR_CONFIG, "unknown setting \"Region\"", "... says so");
  OK(ops->configure_kv(inst, "secret_access_key_file", "/nonexistent/x",
                       &err) == KMS_ERR_IO, "configure_kv: missing file");
  OK(ops->configure_kv(inst, "log_level", "loud", &err) == KMS_ERR_CONFIG,
     "configure_kv: bad log_level");
  OK(ops->configure_kv(inst, "region", "us-east-1", &err) == 0 &&
     ops->configure_kv(inst, "endpoint_url", "http://127.0.0.1:9", &err) ==
         0 &&
     ops->configure_kv(inst, "access_key_id", AKID, &err) == 0 &&
     ops->configure_kv(inst, "secret_access_key_file", secret_file, &err) ==
         0 &&
     ops->configure_kv(inst, "config_file", "/dev/null", &err) == 0 &&
     ops->configure_kv(inst, "max_attempts", "many", &err) == 0,
     "configure_kv: values are stored");
  OK(ops->describe(inst, "cks-1", &out, &err) == KMS_ERR_CONFIG,
     "a bad kv value shows at the next call");
  ERR_IS(err, KMS_ERR_CONFIG, "invalid literal for int() with base 10: "
         "'many'", "... naming the value");
  OK(ops->configure_kv(inst, "max_attempts", NULL, &err) == 0,
     "configure_kv(NULL value) unsets");
  OK(ops->sign(inst, "DescribeCustomKeyStores", NULL, 1795000000, &out,
               &err) == 0 && out, "... and the next call works (sign)");
  ops->free_string(inst, out);
  ops->destroy(inst);
}
/* }===== */

/* {===== 6. sign and check_response offline ===== */

static void test_sign(void)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_instance *inst = ops->create(NULL, &err);
  const char *req = "{\"CustomKeyStoreId\": \"cks-0987654321fedcba0\", "
                    "\"XksProxyAuthenticationCredential\": {\"AccessKeyId\": "
                    "\"BCDEF34567234EXAMPLE\", \"RawSecretAccessKey\": \""
                    XKS_SECRET "\"}}";
  const char *headers = "x-amzn-RequestId: rid-42\nContent-Type: "
                        "application/x-amz-json-1.1\n";
  const char *ebody = "{\"__type\": \"com.amazonaws.kms#CustomKeyStore"
                      "InvalidStateException\", \"message\": \"not now\"}";
  char *a = NULL, *b = NULL, *out = NULL;

  OK(configure_offline(inst, 1) == 0, "configure_tree (offline)");
  OK(ops->sign(inst, "UpdateCustomKeyStore", req, 1795000000, &a, &err) == 0
     && a, "sign UpdateCustomKeyStore at a fixed time");
  OK(a && strstr(a, "\"method\":\"POST\"") &&
     strstr(a, "\"url\":\"http://127.0.0.1:9/\"") &&
     strstr(a, "[\"X-Amz-Target\",\"TrentService.UpdateCustomKeyStore\"]") &&
     strstr(a, "Credential=AKIDEXAMPLE/20261118/us-east-1/kms/aws4_request")
     && strstr(a, "\"body\":\"{\\\"CustomKeyStoreId\\\""),
     "... method, url, headers, body: %.300s", a ? a : "NULL");
  OK(a && strstr(a, XKS_SECRET), "... the body carries the secret to send");
  OK(ops->sign(inst, "UpdateCustomKeyStore", req, 1795000000, &b, &err) == 0
     && b && strcmp(a, b) == 0, "signing is a pure function of the time");
  ops->free_string(inst, a);
  ops->free_string(inst, b);
  OK(ops->sign(inst, "UpdateCustomKeyStore", "{\"CustomKeyStoreId\": \"\"}",
               0, &out, &err) == KMS_ERR_VALIDATION && !out,
     "sign refuses a request that breaks a rule");
  OK(ops->sign(inst, "DeleteCustomKeyStore", "{}", 0, &out, &err) ==
     KMS_ERR_INVALID_ARG && strstr(err.message, "unknown operation"),
     "sign: unknown operation");
  OK(ops->sign(inst, "DescribeCustomKeyStores", "{\"Limit\": 0}", 0, &out,
               &err) == KMS_ERR_PARSE && strstr(err.message, "Limit"),
     "sign Describe with Limit 0: parse error");
  OK(ops->sign(inst, "ConnectCustomKeyStore", "{}", 0, &out, &err) ==
     KMS_ERR_PARSE && strstr(err.message, "CustomKeyStoreId is required"),
     "sign Connect without an id");
  OK(ops->sign(inst, "ConnectCustomKeyStore", "{\"CustomKeyStoreId\": 1}",
               0, &out, &err) == KMS_ERR_PARSE, "sign Connect with a number "
     "id");
  OK(ops->sign(inst, "DisconnectCustomKeyStore",
               "{\"CustomKeyStoreId\": \"cks-1\", \"Marker\": \"m\"}", 0,
               &out, &err) == KMS_ERR_PARSE &&
     strstr(err.message, "unknown member \"Marker\""),
     "sign Disconnect with a Describe-only member");
  OK(ops->sign(inst, "DescribeCustomKeyStores", NULL, -5, &out, &err) ==
     KMS_ERR_INVALID_ARG, "sign with a negative time");

  OK(ops->check_response(inst, "UpdateCustomKeyStore", 400, headers, ebody,
                         strlen(ebody), &out, &err) == KMS_ERR_SERVICE &&
     !out, "check_response: a modeled error");
  OK(strcmp(err.aws_type, "CustomKeyStoreInvalidStateException") == 0 &&
     err.http_status == 400 && strcmp(err.request_id, "rid-42") == 0 &&
     strstr(err.message, "not now"),
     "... type %s, HTTP %ld, request id %s", err.aws_type, err.http_status,
     err.request_id);
  OK(ops->check_response(inst, "UpdateCustomKeyStore", 200, headers, "{}", 2,
                         &out, &err) == 0 && out && strcmp(out, "{}") == 0 &&
     err.http_status == 200, "check_response: success gives {}");
  ops->free_string(inst, out);
  out = NULL;
  OK(ops->check_response(inst, "DescribeCustomKeyStores", 200, NULL,
                         "not json", 8, &out, &err) == KMS_ERR_RESPONSE,
     "check_response: a Describe body that is not JSON");
  ops->destroy(inst);
}
/* }===== */

/* {===== 7. host transport, allocator, log ===== */

static void test_host_services(void)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_instance *inst;
  kms_plugin_host h;
  t_counter counter;
  fake f;
  char *out = NULL;
  int rc;

  memset(&f, 0, sizeof f);
  memset(&counter, 0, sizeof counter);
  pthread_mutex_init(&counter.lock, NULL);
  memset(&h, 0, sizeof h);
  h.abi_major = KMS_PLUGIN_ABI_MAJOR;
  h.abi_minor = KMS_PLUGIN_ABI_MINOR;
  h.struct_size = sizeof h;
  h.host_name = "test-abi";
  h.log = cap_log;
  h.log_level = KMS_LOG_DEBUG;
  h.transport = fake_send;
  h.transport_ud = &f;
  h.alloc = t_count_alloc;
  h.alloc_ud = &counter;
  inst = ops->create(&h, &err);
  OK(inst != NULL, "create with a transport, an allocator and a log");
  OK(configure_offline(inst, 2) == 0, "configure");
  f.status = 200;
  f.body = "{\"CustomKeyStores\": [{\"CustomKeyStoreId\": \"cks-1\", "
           "\"ConnectionState\": \"CONNECTED\"}], \"Truncated\": false}";
  rc = ops->describe(inst, "cks-1", &out, &err);
  OK(rc == 0 && out && strstr(out, "\"ConnectionState\":\"CONNECTED\""),
     "describe through the host's transport: %s", out ? out : err.message);
  OK(f.calls == 1 && f.saw_auth &&
     strcmp(f.last_target, "TrentService.DescribeCustomKeyStores") == 0 &&
     strcmp(f.last_url, "http://127.0.0.1:9/") == 0,
     "... it saw one signed request to %s", f.last_url);
  ops->free_string(inst, out);
  out = NULL;

  f.calls = 0;
  f.status = 400;
  f.body = "{\"__type\": \"com.amazonaws.kms#CustomKeyStoreNotFoundException"
           "\", \"message\": \"no such store\"}";
  rc = ops->update(inst, "{\"CustomKeyStoreId\": \"cks-1\", "
                   "\"NewCustomKeyStoreName\": \"x\"}", NULL, &err);
  OK(rc == KMS_ERR_SERVICE &&
     strcmp(err.aws_type, "CustomKeyStoreNotFoundException") == 0 &&
     err.http_status == 400 && strcmp(err.request_id, "fake-request-id-1")
     == 0 && strcmp(err.code_name, "service") == 0 && err.attempts == 1,
     "a service error: %s %s (HTTP %ld, %s, %d attempt)", err.code_name,
     err.aws_type, err.http_status, err.request_id, err.attempts);

  /* The plain C face: a request object from the table, sent as is. */
  {
    kms_store_context ctx = {"AWS_CLOUDHSM", "CONNECTED", NULL};
    kms_request *req = ops->request_new(inst, &err);
    f.calls = 0;
    f.status = 200;
    f.body = "{}";
    OK(req && ops->request_set(req, KMS_M_CUSTOM_KEY_STORE_ID,
                               "cks-1234567890abcdef0", 21, &err) == 0 &&
       ops->request_set(req, KMS_M_NEW_CUSTOM_KEY_STORE_NAME, "plain-c", 7,
                        &err) == 0,
       "request_new + request_set");
    rc = ops->update_request(inst, req, &ctx, &err);
    OK(rc == 0 && f.calls == 1 && err.http_status == 200 &&
       strcmp(f.last_target, "TrentService.UpdateCustomKeyStore") == 0 &&
       f.last_body_len == strlen("{\"CustomKeyStoreId\": \"cks-1234567890"
                                 "abcdef0\", \"NewCustomKeyStoreName\": "
                                 "\"plain-c\"}"),
       "update_request sends it (%zu-byte body)", f.last_body_len);
    ops->request_set(req, KMS_M_CLOUD_HSM_CLUSTER_ID, "cluster-5b67c2defgh",
                     19, &err);
    f.calls = 0;
    rc = ops->update_request(inst, req, &ctx, &err);
    OK(rc == KMS_ERR_VALIDATION && f.calls == 0 &&
       strcmp(err.aws_type, "context.state") == 0,
       "update_request with a context: a change that needs DISCONNECTED "
       "is not sent (%s)", err.aws_type);
    ops->request_free(req);
  }

  f.calls = 0;
  f.fail = 1;
  rc = ops->connect(inst, "cks-1", &err);
  OK(rc == KMS_ERR_CONNECT && strstr(err.message, "fake: connection "
     "refused") && f.calls == 2 && err.attempts == 2,
     "a transport failure is retried (MaxAttempts 2), then reported: %s",
     err.message);
  f.fail = 0;

  pthread_mutex_lock(&log_lock);
  OK(strstr(log_text, "Signature=***") && !strstr(log_text, SECRET) &&
     !strstr(log_text, XKS_SECRET),
     "the host's log got the debug trace, and no secret");
  pthread_mutex_unlock(&log_lock);
  ops->destroy(inst);
  OK(counter.calls > 0 && counter.blocks == 0,
     "the host's allocator served %ld allocations, none left after destroy",
     counter.calls);
  pthread_mutex_destroy(&counter.lock);
}
/* }===== */

int main(int argc, char **argv)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_entry_fn entry;
  kms_plugin_instance *inst;
  char path[PATH_MAX];
  void *dl, *sym;
  FILE *f;
  int before, after;

  if (argc != 2) {
    fprintf(stderr, "usage: test_abi PATH/TO/kmscks.so\n");
    return 2;
  }
  if (!realpath(argv[1], path)) {
    perror(argv[1]);
    return 2;
  }
  snprintf(secret_file, sizeof secret_file, "/tmp/kmscks-test-abi-%ld",
           (long)getpid());
  f = fopen(secret_file, "w");
  if (!f)
    return 2;
  fputs(SECRET "\n", f);
  fclose(f);

  before = t_threads();
  entry = t_load(path, &dl);
  OK(entry != NULL, "dlopen + dlsym(%s)", KMS_PLUGIN_ENTRY);
  if (!entry)
    return t_summary();
  sym = dlsym(dl, "kms_request_new");
  OK(sym == NULL, "the core's kms_request_new is not exported");
  sym = dlsym(dl, "kms_client_new");
  OK(sym == NULL, "nor kms_client_new");
  sym = dlsym(dl, "kmsp_config_option");
  OK(sym == NULL, "nor the plugin's internals");
  ops = entry(1, 0, &err);
  inst = ops ? ops->create(NULL, &err) : NULL;
  if (inst)
    configure_offline(inst, 1);
  after = t_threads();
  OK(before == after && before > 0, "no thread started by load, entry, "
     "create and configure (%d before, %d after)", before, after);
  if (ops)
    ops->destroy(inst);

  test_entry(entry);
  if (ops) {
    test_host_struct();
    test_nulls();
    test_bad_json();
    test_config();
    test_sign();
    test_host_services();
  }

  /* Unload while idle: the plugin is gone from the process, then a second
   * load works from scratch. */
  OK(t_mapped(path) == 1, "kmscks.so is mapped");
  OK(dlclose(dl) == 0, "dlclose while idle");
  OK(t_mapped(path) == 0, "kmscks.so is unmapped after dlclose");
  entry = t_load(path, &dl);
  ops = entry ? entry(1, 0, &err) : NULL;
  inst = ops ? ops->create(NULL, &err) : NULL;
  OK(inst && configure_offline(inst, 1) == 0,
     "reloaded: create and configure again");
  if (ops)
    ops->destroy(inst);
  OK(dl && dlclose(dl) == 0 && t_mapped(path) == 0, "unloaded again");
  OK(t_threads() == before, "no thread left behind (%d)", t_threads());
  unlink(secret_file);
  return t_summary();
}
