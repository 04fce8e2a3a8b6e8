/* test_client_offline.c - the client (client.c) over a scripted transport,
 * with no network: retries and their attempt counts, re-signing, the
 * clock-skew correction, pagination, no_sign_request, kms_client_prepare,
 * no secret in errors or logs, the calls for a host that sends by itself
 * (resolved settings, retry decisions, rate limiter, profile values), and
 * an allocation-failure sweep over create + update + free on the counting
 * allocator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* {===== a host that sends by itself (public API only) ===== */

/* A response as a host received it: filled with the public calls. */
static void host_response(kms_http_response *r, long status,
                          const char *date, const char *body)
{
  kms_http_response_free(r);
  kms_http_response_init(r, NULL, NULL);
  r->status = status;
  kms_http_response_add_header(r, "x-amzn-RequestId", "host-1", NULL);
  if (date)
    kms_http_response_add_header(r, "Date", date, NULL);
  kms_http_response_append_body(r, body, strlen(body), NULL);
}

#define BUSY "{\"__type\":\"KMSInternalException\",\"message\":\"busy\"}"
#define THROTTLED "{\"__type\":\"ThrottlingException\",\"message\":\"slow\"}"

static void test_host_settings(void)
{
  script s;
  kms_config *cfg;
  kms_client *c;
  kms_transport_opts o;

  memset(&s, 0, sizeof s);
  cfg = make_config(NULL, NULL, &s, 1);
  kms_config_set(cfg, "connect_timeout", "2", NULL);
  kms_config_set(cfg, "read_timeout", "7", NULL);
  kms_config_set(cfg, "verify_tls", "false", NULL);
  kms_config_set(cfg, "ca_bundle", "/etc/kms-test/ca.pem", NULL);
  kms_config_set(cfg, "max_attempts", "5", NULL);
  kms_config_set(cfg, "retry_mode", "adaptive", NULL);
  c = kms_client_new(cfg, NULL);
  kms_config_free(cfg);
  memset(&o, 0x5a, sizeof o);
  OK(c && kms_client_transport_opts(c, &o) == KMS_OK &&
         o.connect_timeout_ms == 2000 && o.read_timeout_ms == 7000 &&
         o.verify_tls == 0 && o.ca_bundle &&
         strcmp(o.ca_bundle, "/etc/kms-test/ca.pem") == 0,
     "transport options as resolved");
  OK(kms_client_max_attempts(c) == 5, "max attempts");
  EQ_STR(kms_client_retry_mode(c), "adaptive", "retry mode");
  OK(kms_client_transport_opts(NULL, &o) == KMS_ERR_INVALID_ARG &&
         kms_client_transport_opts(c, NULL) == KMS_ERR_INVALID_ARG &&
         kms_client_max_attempts(NULL) == 0 &&
         kms_client_retry_mode(NULL) == NULL,
     "settings: NULL-safe");
  kms_client_free(c);

  memset(&s, 0, sizeof s);
  cfg = make_config(NULL, NULL, &s, 1);
  c = kms_client_new(cfg, NULL);
  kms_config_free(cfg);
  OK(c && kms_client_transport_opts(c, &o) == KMS_OK &&
         o.connect_timeout_ms == 60000 && o.read_timeout_ms == 60000 &&
         o.verify_tls == 1 && o.ca_bundle == NULL &&
         kms_client_max_attempts(c) == 3 &&
         strcmp(kms_client_retry_mode(c), "standard") == 0,
     "defaults: 60 s, TLS verified, system CAs, 3 standard attempts");
  kms_client_free(c);
}

static void test_host_retries(void)
{
  static const step ok200[] = {{KMS_OK, 200, "", "{}"}};
  script s;
  kms_config *cfg;
  kms_client *c;
  kms_retry_state st = KMS_RETRY_STATE_INIT;
  kms_http_response r;
  kms_http *m = NULL;
  kms_error err;
  kms_retry_action a;
  double d = -1;
  char date[64];
  time_t later = time(NULL) + 3600;
  struct tm tm;

  memset(&s, 0, sizeof s);
  s.steps = ok200;
  s.n = 1;
  cfg = make_config(NULL, NULL, &s, 1);
  c = kms_client_new(cfg, NULL);
  kms_config_free(cfg);
  kms_http_response_init(&r, NULL, NULL);
  OK(c != NULL, "client");
  if (!c)
    goto done;

  /* 503, 503, 503: two retries after a (scaled) backoff, then stop with
   * the AWS CLI's words. */
  host_response(&r, 503, NULL, BUSY);
  kms_response_check(KMS_OP_CONNECT_CUSTOM_KEY_STORE, &r, &err);
  a = kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                             &err, &d);
  OK(a == KMS_RETRY_AGAIN && d >= 0 && d <= 0.001 && st.attempts == 1 &&
         err.attempts == 1 && err.retryable,
     "503: retry after %.6f s (backoff scaled by the core)", d);
  kms_response_check(KMS_OP_CONNECT_CUSTOM_KEY_STORE, &r, &err);
  a = kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                             &err, &d);
  OK(a == KMS_RETRY_AGAIN && st.attempts == 2, "503 again: retry");
  kms_response_check(KMS_OP_CONNECT_CUSTOM_KEY_STORE, &r, &err);
  a = kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                             &err, &d);
  OK(a == KMS_RETRY_STOP && d == 0 && st.attempts == 3 &&
         err.attempts == 3 && err.status == KMS_ERR_SERVICE,
     "third 503: stop at max_attempts");
  EQ_STR(err.message, "An error occurred (KMSInternalException) when "
         "calling the ConnectCustomKeyStore operation (reached max retries: "
         "2): busy", "the final error as kms_client_call words it");
  EQ_STR(err.request_id, "host-1", "request id kept");

  /* No response, then success: the quota taken is given back. */
  memset(&st, 0, sizeof st);
  kms_error_clear(&err);
  err.status = KMS_ERR_CONNECT;
  a = kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, NULL,
                             &err, NULL);
  OK(a == KMS_RETRY_AGAIN && st.quota_held > 0,
     "no response (connect): retry, quota held %d", st.quota_held);
  host_response(&r, 200, NULL, "{}");
  OK(kms_response_check(KMS_OP_CONNECT_CUSTOM_KEY_STORE, &r, &err) ==
         KMS_OK, "200 checks");
  a = kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                             &err, &d);
  OK(a == KMS_RETRY_STOP && d == 0 && st.attempts == 2 &&
         st.quota_held == 0 && err.attempts == 2 && !err.retryable,
     "success: stop after 2 attempts, quota returned");

  /* Not retryable. */
  memset(&st, 0, sizeof st);
  host_response(&r, 400, NULL, "{\"__type\":\"CustomKeyStoreNotFound"
                "Exception\",\"message\":\"none\"}");
  kms_response_check(KMS_OP_CONNECT_CUSTOM_KEY_STORE, &r, &err);
  a = kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                             &err, &d);
  OK(a == KMS_RETRY_STOP && st.attempts == 1 && !err.retryable &&
         strstr(err.message, "reached max retries") == NULL,
     "400: not retried, no max-retries words");

  /* A clock an hour slow: corrected from the Date of the response, once
   * per call, and the client's next signatures use it (kms_client_prepare
   * and kms_client_call alike: one policy). */
  gmtime_r(&later, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  memset(&st, 0, sizeof st);
  host_response(&r, 400, date, "{\"__type\":\"InvalidSignatureException\","
                "\"message\":\"Signature expired\"}");
  kms_response_check(KMS_OP_CONNECT_CUSTOM_KEY_STORE, &r, &err);
  a = kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                             &err, &d);
  OK(a == KMS_RETRY_SKEW && d == 0 && st.skew_retries == 1 &&
         st.attempts == 1, "skewed Date: sign again and resend now");
  OK(kms_client_prepare(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, "{}", 2, 0, &m,
                        &err) == KMS_OK &&
         amz_seconds(kms_http_header(m, "X-Amz-Date")) - (long)later > -10 &&
         amz_seconds(kms_http_header(m, "X-Amz-Date")) - (long)later < 10,
     "prepare signs with the corrected clock");
  kms_http_free(m);
  kms_response_check(KMS_OP_CONNECT_CUSTOM_KEY_STORE, &r, &err);
  a = kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                             &err, &d);
  OK(a == KMS_RETRY_STOP && st.attempts == 2,
     "a second skew error in the call stops");
  OK(kms_client_connect_custom_key_store(c, "cks-1", &err) == KMS_OK &&
         amz_seconds(s.dates[0]) - (long)later > -10 &&
         amz_seconds(s.dates[0]) - (long)later < 10,
     "the client's own sends use the skew the host's attempt taught it");

  /* NULL-safe. */
  OK(kms_client_retry_after(NULL, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                            &err, &d) == KMS_RETRY_STOP && d == 0 &&
         kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, NULL,
                                &r, &err, &d) == KMS_RETRY_STOP &&
         kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                                NULL, &d) == KMS_RETRY_STOP &&
         kms_client_retry_after(c, KMS_OP__COUNT, &st, &r, &err, &d) ==
             KMS_RETRY_STOP &&
         kms_client_before_send(NULL) == 0,
     "retry_after and before_send: NULL-safe");
  OK(kms_client_before_send(c) == 0, "standard mode: never wait to send");
done:
  kms_http_response_free(&r);
  kms_client_free(c);
}

static void test_host_limiter(void)
{
  script s;
  kms_config *cfg;
  kms_client *c;
  kms_retry_state st = KMS_RETRY_STATE_INIT;
  kms_http_response r;
  kms_error err;
  double w1, w2;

  memset(&s, 0, sizeof s);
  cfg = make_config(NULL, NULL, &s, 1);
  kms_config_set(cfg, "retry_mode", "adaptive", NULL);
  c = kms_client_new(cfg, NULL);
  kms_config_free(cfg);
  kms_http_response_init(&r, NULL, NULL);
  OK(c && kms_client_before_send(c) == 0,
     "adaptive: no wait before any throttling");
  host_response(&r, 400, NULL, THROTTLED);
  kms_response_check(KMS_OP_CONNECT_CUSTOM_KEY_STORE, &r, &err);
  OK(kms_client_retry_after(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, &st, &r,
                            &err, NULL) == KMS_RETRY_AGAIN,
     "throttled: retry");
  /* The bucket holds at most one token: two sends in a row, and the
   * second must wait (scaled by KMS_TEST_BACKOFF_SCALE). */
  w1 = kms_client_before_send(c);
  w2 = kms_client_before_send(c);
  OK(w1 >= 0 && w2 > w1 && w2 < 0.01,
     "the rate limiter asks to wait (%.6f s, then %.6f s), never sleeps",
     w1, w2);
  kms_http_response_free(&r);
  kms_client_free(c);
}

/* A profile setting the core does not use, read the way it reads its
 * own. */
static void test_profile_value(void)
{
  char conf[] = "/tmp/kms-test-config-XXXXXX";
  char creds[] = "/tmp/kms-test-creds-XXXXXX";
  int fc = mkstemp(conf), fk = mkstemp(creds);
  FILE *f;
  kms_config *cfg = kms_config_new(NULL, NULL, NULL);
  kms_error err;
  char out[32];

  OK(fc >= 0 && fk >= 0 && cfg, "temporary files");
  if (fc < 0 || fk < 0 || !cfg)
    goto done;
  f = fdopen(fc, "w");
  fputs("[default]\noutput = table\nregion = us-east-1\n"
        "[profile p2]\noutput = yaml-stream\n", f);
  fclose(f);
  f = fdopen(fk, "w");
  fputs("[default]\naws_access_key_id = AKIDEXAMPLE\n"
        "aws_secret_access_key = " SECRET_KEY "\n", f);
  fclose(f);
  kms_config_set(cfg, "config_file", conf, NULL);
  kms_config_set(cfg, "credentials_file", creds, NULL);

  OK(kms_config_profile_value(cfg, "output", out, sizeof out, &err) ==
         KMS_OK && strcmp(out, "table") == 0, "default profile: %s", out);
  OK(kms_config_profile_value(cfg, "aws_access_key_id", out, sizeof out,
                              &err) == KMS_OK &&
         strcmp(out, "AKIDEXAMPLE") == 0,
     "the credentials file is read too");
  OK(kms_config_profile_value(cfg, "cli_pager", out, sizeof out, &err) ==
         KMS_OK && out[0] == '\0', "no such key: \"\"");
  OK(kms_config_profile_value(cfg, "output", out, 4, &err) == KMS_OK &&
         strcmp(out, "tab") == 0, "truncated to the size");
  OK(kms_config_profile_value(cfg, "aws_secret_access_key", out, sizeof out,
                              &err) == KMS_ERR_INVALID_ARG &&
         out[0] == '\0' && strstr(err.message, SECRET_KEY) == NULL,
     "a secret key is never returned");
  OK(kms_config_profile_value(cfg, NULL, out, sizeof out, &err) ==
         KMS_ERR_INVALID_ARG &&
         kms_config_profile_value(cfg, "output", NULL, 8, &err) ==
             KMS_ERR_INVALID_ARG &&
         kms_config_profile_value(cfg, "output", out, 0, &err) ==
             KMS_ERR_INVALID_ARG,
     "NULL key or out, size 0: refused");
  kms_config_set(cfg, "profile", "p2", NULL);
  OK(kms_config_profile_value(cfg, "output", out, sizeof out, NULL) ==
         KMS_OK && strcmp(out, "yaml-stream") == 0,
     "explicit profile: %s", out);
  kms_config_set(cfg, "profile", "missing", NULL);
  OK(kms_config_profile_value(cfg, "output", out, sizeof out, &err) ==
         KMS_ERR_CONFIG && out[0] == '\0' &&
         strstr(err.message, "missing") != NULL,
     "a missing named profile: %s", err.message);
  OK(kms_config_profile_value(NULL, "output", out, sizeof out, &err) ==
         KMS_OK && out[0] == '\0', "NULL config: the environment only");
done:
  kms_config_free(cfg);
  if (fc >= 0)
    unlink(conf);
  if (fk >= 0)
    unlink(creds);
}
/* }===== */

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
  test_host_settings();
  test_host_retries();
  test_host_limiter();
  test_profile_value();
  test_alloc_sweep();
  return t_done();
}
