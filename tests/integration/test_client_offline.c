/* test_client_offline.c - the client (client.c) over a scripted transport,
 * with no network: retries and their attempt counts, re-signing, the
 * clock-skew correction, pagination, no_sign_request, kms_client_prepare,
 * no secret in errors or logs, and an allocation-failure sweep over
 * create + update + free on the counting allocator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "../unit/testing.h"

/* {===== scripted transport ===== */

typedef struct step {
  kms_status fail;        /* non-OK: a transport failure */
  long status;
  const char *headers;
  const char *body;
} step;

typedef struct script {
  const step *steps;
  size_t n, next;
  int sent;
  char dates[8][32];      /* X-Amz-Date of the first sends */
  char last_body[1024];
  int last_had_auth;
} script;

static kms_status fake_send(void *ud, const kms_http *req,
                            const kms_transport_opts *opts,
                            kms_http_response *resp, kms_error *err)
{
  script *s = ud;
  const step *st;
  const char *d, *b;
  size_t blen;

  (void)opts;
  d = kms_http_header(req, "X-Amz-Date");
  if (s->sent < 8)
    kmsi_strlcpy(s->dates[s->sent], d ? d : "", sizeof s->dates[0]);
  b = kms_http_body(req, &blen);
  kmsi_strlcpy(s->last_body, b ? b : "", sizeof s->last_body);
  s->last_had_auth = kms_http_header(req, "Authorization") != NULL;
  s->sent++;
  st = &s->steps[s->next < s->n ? s->next : s->n - 1];
  if (s->next < s->n)
    s->next++;
  if (st->fail != KMS_OK)
    return kmsi_error(err, st->fail, "fake transport failure");
  kmsi_buf_reset(&resp->headers);
  kmsi_buf_reset(&resp->body);
  resp->status = st->status;
  if (kmsi_buf_puts(&resp->headers, st->headers ? st->headers : "") ||
      kmsi_buf_puts(&resp->body, st->body ? st->body : ""))
    return kmsi_error(err, KMS_ERR_NOMEM, "fake transport: nomem");
  return KMS_OK;
}
/* }===== */

/* {===== logs ===== */

static char logbuf[65536];
static size_t loglen;

static void on_log(void *ud, kms_log_level level, const char *msg)
{
  size_t n = strlen(msg);
  (void)ud;
  (void)level;
  if (loglen + n + 2 < sizeof logbuf) {
    memcpy(logbuf + loglen, msg, n);
    loglen += n;
    logbuf[loglen++] = '\n';
    logbuf[loglen] = '\0';
  }
}
/* }===== */

#define SECRET_KEY "sEcReT/K7MDENG+bPxRfiCYEXAMPLEKEY0000000"
#define TOKEN "SeSsIoNtOkEnVaLuE0123456789"
#define PASSWORD "MySecretPassw0rd"

static kms_config *make_config(kms_alloc_fn fa, void *ud, script *s,
                               int sign)
{
  kms_config *cfg = kms_config_new(fa, ud, NULL);
  if (!cfg)
    return NULL;
  if (kms_config_set(cfg, "region", "us-east-1", NULL) ||
      kms_config_set(cfg, "endpoint_url", "http://127.0.0.1:9", NULL) ||
      kms_config_set(cfg, "access_key_id", "ASIAEXAMPLE", NULL) ||
      kms_config_set(cfg, "secret_access_key", SECRET_KEY, NULL) ||
      kms_config_set(cfg, "session_token", TOKEN, NULL) ||
      (!sign && kms_config_set(cfg, "no_sign_request", "true", NULL))) {
    kms_config_free(cfg);
    return NULL;
  }
  kms_config_set_transport(cfg, fake_send, s);
  kms_config_set_log(cfg, on_log, NULL, KMS_LOG_DEBUG);
  return cfg;
}

static kms_request *make_request(kms_alloc_fn fa, void *ud)
{
  kms_request *r = kms_request_new(fa, ud, NULL);
  if (!r)
    return NULL;
  if (kms_request_set(r, KMS_M_CUSTOM_KEY_STORE_ID, "cks-1234567890abcdef0",
                      21, NULL) ||
      kms_request_set(r, KMS_M_KEY_STORE_PASSWORD, PASSWORD,
                      strlen(PASSWORD), NULL)) {
    kms_request_free(r);
    return NULL;
  }
  return r;
}

static void test_retries(void)
{
  static const step s503[] = {
    {KMS_OK, 503, "", ""}, {KMS_ERR_CONNECTION_CLOSED, 0, NULL, NULL},
    {KMS_OK, 200, "", "{}"}};
  static const step echo[] = {
    {KMS_OK, 400, "x-amzn-RequestId: r1\n",
     "{\"__type\":\"ValidationException\",\"message\":\"bad value "
     PASSWORD " or " TOKEN "\"}"}};
  script s = {s503, 3, 0, 0, {{0}}, {0}, 0};
  kms_config *cfg = make_config(NULL, NULL, &s, 1);
  kms_client *c = kms_client_new(cfg, NULL);
  kms_request *r = make_request(NULL, NULL);
  kms_error err;

  OK(c && r, "client and request");
  if (!c || !r)
    goto done;
  OK(kms_client_update_custom_key_store(c, r, NULL, &err) == KMS_OK &&
         err.attempts == 3 && s.sent == 3,
     "503, dropped, 200: success after 3 attempts (%d)", err.attempts);
  OK(strstr(s.last_body, PASSWORD) != NULL, "the body carries the password");

  s.steps = echo;
  s.n = 1;
  s.next = 0;
  s.sent = 0;
  OK(kms_client_update_custom_key_store(c, r, NULL, &err) ==
         KMS_ERR_SERVICE && err.attempts == 1,
     "a 400 is not retried");
  OK(strstr(err.message, PASSWORD) == NULL && strstr(err.message, TOKEN) ==
         NULL && strstr(err.message, "***") != NULL,
     "secrets echoed by the service are scrubbed: %s", err.message);
  EQ_STR(err.request_id, "r1", "request id");
  OK(strstr(logbuf, PASSWORD) == NULL && strstr(logbuf, SECRET_KEY) == NULL &&
         strstr(logbuf, TOKEN) == NULL,
     "no secret in the debug log");
  OK(strstr(logbuf, "X-Amz-Security-Token: ***") != NULL &&
         strstr(logbuf, "Signature=***") != NULL,
     "token and signature redacted in logged headers");
done:
  kms_request_free(r);
  kms_client_free(c);
  kms_config_free(cfg);
}

/* Seconds since the epoch of an X-Amz-Date (YYYYMMDDTHHMMSSZ). */
static long amz_seconds(const char *d)
{
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (sscanf(d, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (long)timegm(&tm);
}

static void test_skew_and_signing(void)
{
  char date[64], hdrs[128];
  step steps[2];
  script s;
  kms_config *cfg;
  kms_client *c;
  kms_error err;
  kms_http *m = NULL;
  time_t later = time(NULL) + 3600;
  struct tm tm;

  gmtime_r(&later, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  snprintf(hdrs, sizeof hdrs, "Date: %s\n", date);
  steps[0].fail = KMS_OK;
  steps[0].status = 400;
  steps[0].headers = hdrs;
  steps[0].body = "{\"__type\":\"InvalidSignatureException\",\"message\":"
                  "\"Signature expired\"}";
  steps[1].fail = KMS_OK;
  steps[1].status = 200;
  steps[1].headers = "";
  steps[1].body = "{}";
  memset(&s, 0, sizeof s);
  s.steps = steps;
  s.n = 2;
  cfg = make_config(NULL, NULL, &s, 1);
  kms_config_set(cfg, "max_attempts", "1", NULL);
  c = kms_client_new(cfg, NULL);
  OK(c && kms_client_connect_custom_key_store(c, "cks-1", &err) == KMS_OK &&
         err.attempts == 2,
     "skewed by an hour: corrected and resent once, even with max 1");
  OK(amz_seconds(s.dates[1]) - amz_seconds(s.dates[0]) > 3590 &&
         amz_seconds(s.dates[1]) - amz_seconds(s.dates[0]) < 3610,
     "the resend is signed an hour later: %s -> %s", s.dates[0], s.dates[1]);
  OK(c && kms_client_prepare(c, KMS_OP_UPDATE_CUSTOM_KEY_STORE, "{}", 2, 0,
                             &m, &err) == KMS_OK &&
         kms_http_header(m, "Authorization") &&
         strncmp(kms_http_header(m, "X-Amz-Date"), s.dates[1], 11) == 0,
     "prepare signs with the corrected clock");
  kms_http_free(m);
  kms_client_free(c);
  kms_config_free(cfg);

  memset(&s, 0, sizeof s);
  s.steps = steps + 1;
  s.n = 1;
  cfg = make_config(NULL, NULL, &s, 0);
  c = kms_client_new(cfg, NULL);
  OK(c && kms_client_disconnect_custom_key_store(c, "cks-1", &err) ==
              KMS_OK && !s.last_had_auth,
     "no_sign_request: sent without Authorization");
  kms_client_free(c);
  kms_config_free(cfg);
}

static void test_pagination(void)
{
  static const step pages[] = {
    {KMS_OK, 200, "", "{\"CustomKeyStores\":[{\"CustomKeyStoreId\":\"a\"},"
                      "{\"CustomKeyStoreId\":\"b\"}],\"NextMarker\":\"m1\","
                      "\"Truncated\":true}"},
    {KMS_OK, 200, "", "{\"CustomKeyStores\":[{\"CustomKeyStoreId\":\"c\"}],"
                      "\"NextMarker\":\"m2\",\"Truncated\":true}"},
    {KMS_OK, 200, "", "{\"CustomKeyStores\":[{\"CustomKeyStoreId\":\"d\"}],"
                      "\"Truncated\":false}"}};
  static const step loop[] = {
    {KMS_OK, 200, "", "{\"CustomKeyStores\":[],\"NextMarker\":\"same\","
                      "\"Truncated\":true}"}};
  script s;
  kms_config *cfg;
  kms_client *c;
  kms_error err;
  kms_buf out;

  memset(&s, 0, sizeof s);
  s.steps = pages;
  s.n = 3;
  cfg = make_config(NULL, NULL, &s, 1);
  c = kms_client_new(cfg, NULL);
  OK(c && kms_client_describe_custom_key_stores(c, NULL, NULL, &out, &err) ==
              KMS_OK, "describe: three pages");
  EQ_STR(out.data, "{\"CustomKeyStores\":[{\"CustomKeyStoreId\":\"a\"},"
         "{\"CustomKeyStoreId\":\"b\"},{\"CustomKeyStoreId\":\"c\"},"
         "{\"CustomKeyStoreId\":\"d\"}]}", "pages merged in order");
  OK(s.sent == 3 && strstr(s.last_body, "\"Marker\": \"m2\"") != NULL,
     "the last request carries Marker m2: %s", s.last_body);
  kms_buf_free(&out);
  s.steps = loop;
  s.n = 1;
  s.next = 0;
  OK(kms_client_describe_custom_key_stores(c, NULL, NULL, &out, &err) ==
         KMS_ERR_RESPONSE, "the same NextMarker twice stops: %s",
     err.message);
  kms_buf_free(&out);
  kms_client_free(c);
  kms_config_free(cfg);
}

/* Every allocation of create + update + free fails in turn: each run
 * either fails cleanly or succeeds, and never leaks. */
static void test_alloc_sweep(void)
{
  static const step ok200[] = {{KMS_OK, 200, "", "{}"}};
  long n;
  int leaks = 0, crashes = 0, succeeded = 0;

  for (n = 1; n < 5000 && !succeeded; n++) {
    t_alloc_state st = {0, 0, 0, 0};
    script s;
    kms_config *cfg;
    kms_client *c = NULL;
    kms_request *r = NULL;
    kms_error err;
    kms_status rc = KMS_ERR_NOMEM;

    memset(&s, 0, sizeof s);
    s.steps = ok200;
    s.n = 1;
    st.fail_at = n;
    cfg = make_config(t_alloc, &st, &s, 1);
    if (cfg)
      c = kms_client_new(cfg, &err);
    if (c)
      r = make_request(t_alloc, &st);
    if (c && r)
      rc = kms_client_update_custom_key_store(c, r, NULL, &err);
    if (c && r && rc != KMS_OK && rc != KMS_ERR_NOMEM)
      crashes++;
    succeeded = rc == KMS_OK;
    kms_request_free(r);
    kms_client_free(c);
    kms_config_free(cfg);
    if (st.blocks || st.bytes)
      leaks++;
  }
  OK(succeeded, "allocation sweep reaches success (after %ld failures)",
     n - 2);
  OK(leaks == 0, "no leak at any failing allocation (%d)", leaks);
  OK(crashes == 0, "every failure is reported as nomem (%d)", crashes);
}

int main(void)
{
  /* Nothing from the real environment. */
  unsetenv("AWS_PROFILE");
  unsetenv("AWS_DEFAULT_PROFILE");
  unsetenv("AWS_REGION");
  unsetenv("AWS_DEFAULT_REGION");
  unsetenv("AWS_ENDPOINT_URL");
  unsetenv("AWS_ENDPOINT_URL_KMS");
  unsetenv("AWS_MAX_ATTEMPTS");
  unsetenv("AWS_RETRY_MODE");
  unsetenv("AWS_CA_BUNDLE");
  setenv("AWS_CONFIG_FILE", "/nonexistent/kms-test-config", 1);
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/kms-test-creds", 1);
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  setenv("KMS_TEST_BACKOFF_SCALE", "0.001", 1);

  test_retries();
  test_skew_and_signing();
  test_pagination();
  test_alloc_sweep();
  return t_done();
}
