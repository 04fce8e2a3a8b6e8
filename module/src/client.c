/* client.c - kms_client: resolves settings, endpoint, credentials, signer
 * and transport once, then runs each operation as validate, encode, sign,
 * send and check, with the AWS retry policy (retry.c) around the send,
 * a redacted debug trace, and Describe's pagination. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cJSON.h>
#include "send.h"

#define DEFAULT_USER_AGENT "kmscks/" KMS_VERSION_STRING
#define LOG_LINE 1024
#define MAX_PAGES 10000    /* a runaway NextMarker loop stops here */

struct kms_client {
  kmsi_allocator a;
  kmsi_settings s;
  char *endpoint;            /* the endpoint URL as resolved */
  char *url;                 /* the request URL: endpoint, "/" if no path */
  const char *user_agent;    /* s.user_agent or DEFAULT_USER_AGENT */
  kmsi_cred_chain *chain;    /* NULL with no_sign_request */
  const char *cred_source;   /* last source logged (static) */
  kms_signer *signer;
  kmsi_transport own;        /* the default transport; zero when the
                                caller gave one */
  kms_transport_fn transport;
  void *tud;
  kms_transport_opts topts;
  kmsi_retry retry;
  kms_http *msgs[KMS_OP__COUNT]; /* one reused message per operation:
                                    body and signature replaced per send */
  kms_http_response resp;    /* reused; its body buffer is secret */
  kms_log_fn log;
  void *log_ud;
  kms_log_level log_max;
};

/* {===== logging ===== */

static int log_on(const kms_client *c, kms_log_level level)
{
  return c->log && level <= c->log_max;
}

static void logf_(const kms_client *c, kms_log_level level, const char *fmt,
                  ...) KMSI_PRINTF(3, 4);
static void logf_(const kms_client *c, kms_log_level level, const char *fmt,
                  ...)
{
  char line[LOG_LINE];
  va_list ap;

  if (!log_on(c, level))
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  c->log(c->log_ud, level, line);
}

/* The signer's sink: the canonical request and string to sign, at debug
 * level (the signer already hides the session token). */
static void signer_log(void *ud, kms_log_level level, const char *msg)
{
  const kms_client *c = ud;
  if (log_on(c, level))
    c->log(c->log_ud, level, msg);
}

/* Logs the request line and headers, the Authorization signature and the
 * session token replaced by "***". The body is never logged, only its
 * length. */
static void log_request(const kms_client *c, const kms_http *m, int attempt)
{
  const char *name, *value, *sig;
  size_t i, n, blen = 0;

  if (!log_on(c, KMS_LOG_DEBUG))
    return;
  kms_http_body(m, &blen);
  logf_(c, KMS_LOG_DEBUG, "attempt %d/%d: %s %s (body %zu bytes, not "
        "logged)", attempt, c->retry.max_attempts, kms_http_method(m),
        kms_http_url(m), blen);
  n = kms_http_header_count(m);
  for (i = 0; i < n; i++) {
    if (!kms_http_header_at(m, i, &name, &value))
      break;
    if (strcasecmp(name, "Authorization") == 0) {
      sig = strstr(value, "Signature=");
      logf_(c, KMS_LOG_DEBUG, "> %s: %.*sSignature=***", name,
            sig ? (int)(sig - value) : 0, value);
    } else if (strcasecmp(name, "X-Amz-Security-Token") == 0) {
      logf_(c, KMS_LOG_DEBUG, "> %s: ***", name);
    } else {
      logf_(c, KMS_LOG_DEBUG, "> %s: %s", name, value);
    }
  }
}

static void log_response(const kms_client *c, const kms_http_response *r)
{
  const char *p, *end, *eol;

  if (!log_on(c, KMS_LOG_DEBUG))
    return;
  logf_(c, KMS_LOG_DEBUG, "< HTTP %ld (body %zu bytes, not logged)",
        r->status, r->body.len);
  if (!r->headers.data)
    return;
  p = r->headers.data;
  end = p + r->headers.len;
  while (p < end) {
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      eol = end;
    if (eol > p)
      logf_(c, KMS_LOG_DEBUG, "< %.*s", (int)(eol - p), p);
    p = eol + 1;
  }
}
/* }===== */

/* {===== secrets kept out of error messages ===== */

/* Replaces every occurrence of s[0..n) in err->message by "***". A
 * service may echo what it was sent; a message must not carry it on. */
static char *find(char *hay, const char *s, size_t n)
{
  size_t hl = strlen(hay), i;
  for (i = 0; i + n <= hl; i++)
    if (memcmp(hay + i, s, n) == 0)
      return hay + i;
  return NULL;
}

static void scrub(kms_error *err, const char *s, size_t n)
{
  char *m, *hit;
  size_t len;

  if (!err || !s || n < 4) /* n > 3: every replacement shrinks the text */
    return;
  m = err->message;
  while ((hit = find(m, s, n)) != NULL) {
    len = strlen(hit + n);
    memcpy(hit, "***", 3);
    memmove(hit + 3, hit + n, len + 1);
    m = hit + 3;
  }
}

static void scrub_credentials(kms_error *err, const kms_credentials *cred)
{
  size_t n = 0;
  const char *v;

  if (!cred)
    return;
  v = kmsi_credentials_secret(cred, &n);
  scrub(err, v, n);
  v = kmsi_credentials_token(cred, &n);
  scrub(err, v, n);
}

static void scrub_request(kms_error *err, const kms_request *req)
{
  kms_member m;
  const char *v;
  size_t n;

  for (m = 0; m < KMS_M__COUNT; m++) {
    if (!kms_member_is_secret(m))
      continue;
    v = kms_request_get(req, m, &n);
    scrub(err, v, n);
  }
}
/* }===== */

/* {===== construction ===== */

static char *dup_str(const kmsi_allocator *a, const char *s)
{
  return s ? kmsi_strndup(a, s, strlen(s)) : NULL;
}

static void free_str(const kmsi_allocator *a, char *s)
{
  if (s)
    kmsi_free(a, s, strlen(s) + 1);
}

/* botocore's is_valid_endpoint_url on the host of an explicit endpoint
 * (the scheme was checked with the settings): DNS labels of 1..63
 * letters, digits and '-', not starting or ending with '-'. An IPv6
 * literal in brackets is accepted as well. */
static int endpoint_host_ok(const char *url)
{
  const char *p = strstr(url, "://"), *end, *at, *h, *he;
  size_t label = 0;

  if (!p || strpbrk(url, "\t\r\n"))
    return 0;
  p += 3;
  end = p + strcspn(p, "/?#");
  at = NULL;
  for (h = p; h < end; h++)
    if (*h == '@')
      at = h;
  h = at ? at + 1 : p;
  if (h < end && *h == '[')
    return memchr(h, ']', (size_t)(end - h)) != NULL;
  he = memchr(h, ':', (size_t)(end - h));
  if (!he)
    he = end;
  if (he > h && he[-1] == '.')
    he--;
  if (he == h || he - h > 255)
    return 0;
  for (p = h; p < he; p++) {
    if (*p == '.') {
      if (!label || p[-1] == '-')
        return 0;
      label = 0;
      continue;
    }
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '-'))
      return 0;
    if (*p == '-' && !label)
      return 0;
    if (++label > 63)
      return 0;
  }
  return label && he[-1] != '-';
}

/* The request URL: the endpoint as it is when it has a path, else with
 * "/" (the AWS CLI posts to "/" and prints that URL in its errors). */
static char *request_url(const kmsi_allocator *a, const char *endpoint)
{
  const char *p = strstr(endpoint, "://");
  size_t n = strlen(endpoint);
  char *u;

  p = p ? p + 3 : endpoint;
  if (strchr(p, '/'))
    return kmsi_strndup(a, endpoint, n);
  u = kmsi_malloc(a, n + 2);
  if (!u)
    return NULL;
  memcpy(u, endpoint, n);
  u[n] = '/';
  u[n + 1] = '\0';
  return u;
}

/* KMS_TEST_BACKOFF_SCALE (test-only): multiplies every backoff delay and
 * the adaptive limiter's time so the integration tests run in seconds.
 * Ignored unless it is a number in (0, 1]. */
static double test_backoff_scale(void)
{
  const char *v = getenv("KMS_TEST_BACKOFF_SCALE");
  char *end;
  double d;

  if (!v || !*v)
    return 1.0;
  d = strtod(v, &end);
  if (*end || !(d > 0) || d > 1)
    return 1.0;
  return d;
}

/* Resolves everything a call needs; credentials themselves are fetched
 * on the first call. With the libcurl transport, curl_global_init runs
 * once per process (through pthread_once) when the first client is
 * created: a host that has its own single-threaded init should call
 * curl_global_init there first, as libcurl asks. */
kms_client *kms_client_new(const kms_config *cfg, kms_error *err)
{
  const kmsi_allocator *a = kmsi_config_allocator(cfg);
  kms_client *c = NULL, *result = NULL;
  kms_buf ep;
  kms_log_fn slog = NULL;

  kmsi_buf_init(&ep, a, 0);
  c = kmsi_calloc(a, sizeof *c);
  if (!c) {
    kmsi_error(err, KMS_ERR_NOMEM, "client: out of memory");
    goto cleanup;
  }
  c->a = *a;
  kms_http_response_init(&c->resp, a->fn, a->ud);
  kmsi_config_log(cfg, &c->log, &c->log_ud, &c->log_max);
  if (kmsi_settings_resolve(cfg, &c->s, err) != KMS_OK)
    goto fail;

  /* Region, then the endpoint: explicit, else by the rule set. */
  if (!c->s.region) {
    kmsi_error(err, KMS_ERR_NO_REGION, "You must specify a region. You can "
               "also configure your region by running \"aws configure\".");
    goto fail;
  }
  if (c->s.endpoint_url) {
    if (!endpoint_host_ok(c->s.endpoint_url)) {
      kmsi_error(err, KMS_ERR_CONFIG, "Invalid endpoint: %s",
                 c->s.endpoint_url);
      goto fail;
    }
    c->endpoint = dup_str(a, c->s.endpoint_url);
  } else {
    if (kmsi_endpoint_resolve(c->s.region, c->s.use_fips,
                              c->s.use_dualstack, &ep, err) != KMS_OK)
      goto fail;
    c->endpoint = dup_str(a, ep.data);
  }
  if (!c->endpoint)
    goto nomem;
  c->url = request_url(a, c->endpoint);
  if (!c->url)
    goto nomem;
  c->user_agent = c->s.user_agent ? c->s.user_agent : DEFAULT_USER_AGENT;

  /* The transport: the caller's, or the default one this face links
   * (libcurl or the native one), with one kept-alive connection. */
  kmsi_config_transport(cfg, &c->transport, &c->tud);
  if (!c->transport) {
    if (kmsi_default_transport_new(a, &c->own, err) != KMS_OK)
      goto fail;
    c->transport = c->own.send;
    c->tud = c->own.ud;
  }
  c->topts.connect_timeout_ms = c->s.connect_timeout_ms;
  c->topts.read_timeout_ms = c->s.read_timeout_ms;
  c->topts.ca_bundle = c->s.ca_bundle;
  c->topts.verify_tls = c->s.verify_tls;

  if (!c->s.no_sign_request) {
    c->chain = kmsi_cred_chain_new(cfg, &c->s, c->transport, c->tud, err);
    if (!c->chain)
      goto fail;
  }
  if (log_on(c, KMS_LOG_DEBUG))
    slog = signer_log;
  c->signer = kms_signer_new(a->fn, a->ud, slog, c, err);
  if (!c->signer)
    goto fail;

  kmsi_retry_init(&c->retry, c->s.retry_mode, c->s.max_attempts);
  c->retry.backoff_scale = test_backoff_scale();

  logf_(c, KMS_LOG_DEBUG, "region: %s", c->s.region);
  logf_(c, KMS_LOG_DEBUG, "endpoint: %s (%s)", c->url,
        c->s.endpoint_url ? "explicit" : "endpoint rules");
  logf_(c, KMS_LOG_DEBUG, "retry mode: %s, max attempts: %d%s",
        c->s.retry_mode == KMSI_RETRY_ADAPTIVE ? "adaptive" : "standard",
        c->s.max_attempts,
        c->retry.backoff_scale != 1.0 ? " (KMS_TEST_BACKOFF_SCALE set)" : "");
  logf_(c, KMS_LOG_DEBUG, "timeouts: connect %ld ms, read %ld ms (0: none); "
        "TLS verification %s, CA bundle: %s", c->s.connect_timeout_ms,
        c->s.read_timeout_ms, c->s.verify_tls ? "on" : "OFF",
        c->s.ca_bundle ? c->s.ca_bundle : "system default");
  if (c->s.no_sign_request)
    logf_(c, KMS_LOG_DEBUG, "requests are not signed (no_sign_request)");
  result = c;
  c = NULL;
  goto cleanup;
nomem:
  kmsi_error(err, KMS_ERR_NOMEM, "client: out of memory");
fail:
  kms_client_free(c);
  c = NULL;
cleanup:
  kms_buf_free(&ep);
  return result;
}

void kms_client_free(kms_client *c)
{
  kmsi_allocator a;
  int op;

  if (!c)
    return;
  a = c->a;
  for (op = 0; op < KMS_OP__COUNT; op++)
    kms_http_free(c->msgs[op]);
  kms_http_response_free(&c->resp);
  kms_signer_free(c->signer);
  kmsi_cred_chain_free(c->chain);
  if (c->own.free)
    c->own.free(c->own.ud);
  free_str(&a, c->url);
  free_str(&a, c->endpoint);
  kmsi_settings_free(&c->s, &a);
  kmsi_free(&a, c, sizeof *c);
}

const char *kms_client_region(const kms_client *c)
{
  return c ? c->s.region : NULL;
}

const char *kms_client_endpoint(const kms_client *c)
{
  return c ? c->endpoint : NULL;
}

kms_status kms_client_transport_opts(const kms_client *c,
                                     kms_transport_opts *out)
{
  if (!c || !out)
    return KMS_ERR_INVALID_ARG;
  *out = c->topts;
  return KMS_OK;
}

int kms_client_max_attempts(const kms_client *c)
{
  return c ? c->retry.max_attempts : 0;
}

const char *kms_client_retry_mode(const kms_client *c)
{
  if (!c)
    return NULL;
  return c->retry.mode == KMSI_RETRY_ADAPTIVE ? "adaptive" : "standard";
}
/* }===== */

/* {===== one signed message ===== */

/* Fetches credentials (unless unsigned) and logs their source the first
 * time it is seen. *cred is borrowed from the chain. */
static kms_status get_credentials(kms_client *c, time_t now,
                                  const kms_credentials **cred,
                                  kms_error *err)
{
  const char *source = NULL;
  kms_status st;

  *cred = NULL;
  if (!c->chain)
    return KMS_OK;
  st = kmsi_cred_chain_get(c->chain, now, cred, &source, err);
  if (st != KMS_OK)
    return st;
  if (source && source != c->cred_source) {
    logf_(c, KMS_LOG_DEBUG, "credentials from: %s", source);
    c->cred_source = source;
  }
  return KMS_OK;
}

/* Builds op's message with body for c->url, adds User-Agent (unsigned)
 * and signs it at now with cred (cred NULL: unsigned). */
static kms_status build_message(kms_client *c, kms_operation op,
                                const char *body, size_t body_len,
                                const kms_credentials *cred, time_t now,
                                kms_http **out, kms_error *err)
{
  kms_status result = KMS_ERR_NOMEM;
  kms_sign_params p;
  kms_http *m;

  *out = NULL;
  m = kms_http_new_for(op, c->url, body, body_len, c->a.fn, c->a.ud, err);
  if (!m) {
    result = err ? err->status : KMS_ERR_NOMEM;
    goto cleanup;
  }
  result = kms_http_add_header(m, "User-Agent", c->user_agent, err);
  if (result != KMS_OK)
    goto cleanup;
  if (cred) {
    memset(&p, 0, sizeof p);
    p.region = c->s.region;
    p.service = "kms";
    p.time = now;
    result = kms_sign(c->signer, m, cred, &p, err);
    if (result != KMS_OK)
      goto cleanup;
  }
  *out = m;
  m = NULL;
  result = KMS_OK;
cleanup:
  kms_http_free(m);
  return result;
}

static const char *const signature_headers[] = {
  "Authorization", "X-Amz-Date", "X-Amz-Security-Token"};

/* The client's reusable message for op with body, signed at now with
 * cred (NULL: unsigned): built once per operation, then only the body and
 * the signature change, which saves re-parsing the URL on every send. */
static kms_status reuse_message(kms_client *c, kms_operation op,
                                const char *body, size_t body_len,
                                const kms_credentials *cred, time_t now,
                                kms_http **out, kms_error *err)
{
  kms_sign_params p;
  kms_status st;
  kms_http *m = c->msgs[op];

  *out = NULL;
  if (!m) {
    st = build_message(c, op, NULL, 0, NULL, now, &m, err);
    if (st != KMS_OK)
      return st;
    c->msgs[op] = m;
  }
  /* Whatever the last send left: its signature (a token too, should the
   * new credentials have none). */
  kmsi_http_remove_headers(m, signature_headers, 3);
  st = kms_http_set_body(m, body, body_len, err);
  if (st != KMS_OK)
    return st;
  if (cred) {
    memset(&p, 0, sizeof p);
    p.region = c->s.region;
    p.service = "kms";
    p.time = now;
    st = kms_sign(c->signer, m, cred, &p, err);
    if (st != KMS_OK)
      return st;
  }
  *out = m;
  return KMS_OK;
}

/* Wipes what a send left in the reused message and response. */
static void forget_send(kms_client *c, kms_http *m)
{
  if (m) {
    kmsi_http_remove_headers(m, signature_headers, 3);
    kms_http_set_body(m, NULL, 0, NULL);
  }
  kmsi_buf_reset(&c->resp.body);
  kmsi_buf_reset(&c->resp.headers);
}

kms_status kms_client_prepare(kms_client *c, kms_operation op,
                              const char *body, size_t body_len, time_t now,
                              kms_http **out, kms_error *err)
{
  const kms_credentials *cred = NULL;
  kms_status result = KMS_ERR_INVALID_ARG;

  if (out)
    *out = NULL;
  if (!c || !out || (int)op < 0 || op >= KMS_OP__COUNT ||
      (!body && body_len)) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "prepare: bad argument");
    goto cleanup;
  }
  if (!now)
    now = kmsi_retry_now(&c->retry);
  result = get_credentials(c, now, &cred, err);
  if (result != KMS_OK)
    goto cleanup;
  result = build_message(c, op, body, body_len, cred, now, out, err);
cleanup:
  return result;
}
/* }===== */

/* {===== send with retries ===== */

/* The success body as JSON: a JSON object as it came, anything else
 * (empty, not JSON: the AWS CLI takes it as an empty result) as "{}". */
static kms_status success_json(kms_client *c, const kms_http_response *r,
                               kms_buf *out, kms_error *err)
{
  cJSON *root = NULL;
  int is_obj = 0;

  kmsi_buf_init(out, &c->a, 0);
  if (r->body.len) {
    root = cJSON_ParseWithLength(r->body.data, r->body.len);
    is_obj = cJSON_IsObject(root);
    cJSON_Delete(root);
  }
  if ((is_obj ? kmsi_buf_append(out, r->body.data, r->body.len)
              : kmsi_buf_puts(out, "{}")) != KMS_OK)
    return kmsi_error(err, KMS_ERR_NOMEM, "client: out of memory");
  return KMS_OK;
}

/* The policy's decision after one attempt of op whose outcome is in e
 * (status KMS_OK: success), for kms_client_call and for the attempts a
 * host sends (kms_client_retry_after). resp (NULL: none came) gives the
 * server's Date when the error may be a clock skew. Logs the decision,
 * and on a final service error that used up max_attempts adds the AWS
 * CLI's "(reached max retries: N)" to e's message. */
static kmsi_retry_action decide(kms_client *c, kms_operation op,
                                kmsi_retry_call *call,
                                const kms_http_response *resp, kms_error *e,
                                double *delay)
{
  kmsi_retry_action act;
  char date[64] = "";
  time_t server_date = 0;
  const char *why;

  /* The Date header only matters to correct a clock skew. */
  if (resp && e->status == KMS_ERR_SERVICE &&
      kmsi_is_clock_skew_code(e->aws_type) &&
      kms_http_response_header(resp, "Date", date, sizeof date))
    kmsi_parse_http_date(date, &server_date);
  act = kmsi_retry_after(&c->retry, call, e, server_date, delay, &why);
  switch (act) {
  case KMSI_RETRY_STOP:
    if (e->status != KMS_OK)
      logf_(c, KMS_LOG_DEBUG, "not retrying: %s", why);
    if (e->status == KMS_ERR_SERVICE && kmsi_retry_exhausted(&c->retry, call))
      kmsi_error_add_max_retries(e, op, call->attempts - 1);
    break;
  case KMSI_RETRY_SKEW:
    logf_(c, KMS_LOG_DEBUG, "clock skew corrected: the local clock is "
          "now offset by %+ld s (server Date: %s); resending at once",
          c->retry.skew, date);
    break;
  default:
    logf_(c, KMS_LOG_DEBUG, "retrying (%s): attempt %d/%d after %.3f s",
          why, call->attempts + 1, c->retry.max_attempts, *delay);
    break;
  }
  return act;
}

kms_status kms_client_call(kms_client *c, kms_operation op,
                           const char *body, size_t body_len,
                           kms_buf *out_json, kms_error *err)
{
  kms_status result = KMS_ERR_INVALID_ARG;
  kmsi_retry_call call;
  kmsi_retry_action act;
  kms_http_response *resp;
  kms_error e;
  const kms_credentials *cred = NULL;
  kms_http *m = NULL;
  time_t now;
  double delay, waited;

  memset(&call, 0, sizeof call);
  kms_error_clear(&e);
  if (out_json)
    kmsi_buf_init(out_json, c ? &c->a : NULL, 0);
  if (!c || (int)op < 0 || op >= KMS_OP__COUNT || (!body && body_len)) {
    kmsi_error(&e, KMS_ERR_INVALID_ARG, "call: bad argument");
    goto done;
  }
  resp = &c->resp;
  for (;;) {
    /* Every attempt is signed anew, with a fresh X-Amz-Date. */
    kms_error_clear(&e);
    now = kmsi_retry_now(&c->retry);
    result = get_credentials(c, now, &cred, &e);
    if (result != KMS_OK)
      break;
    result = reuse_message(c, op, body, body_len, cred, now, &m, &e);
    if (result != KMS_OK)
      break;
    waited = kmsi_retry_before_send(&c->retry);
    if (waited > 0)
      logf_(c, KMS_LOG_DEBUG, "client-side rate limiter waited %.3f s",
            waited);
    call.attempts++;
    log_request(c, m, call.attempts);
    result = c->transport(c->tud, m, &c->topts, resp, &e);
    if (result == KMS_OK) {
      log_response(c, resp);
      result = kms_response_check(op, resp, &e);
    } else {
      if (e.status == KMS_OK)
        kmsi_error(&e, result, "transport failed: %s",
                   kms_strerror(result));
      logf_(c, KMS_LOG_DEBUG, "attempt %d failed: %s", call.attempts,
            e.message);
    }
    act = decide(c, op, &call, resp, &e, &delay);
    if (act == KMSI_RETRY_STOP)
      break;
    if (act == KMSI_RETRY_AGAIN)
      c->retry.sleep_fn(c->retry.sleep_ud, delay);
  }
  if (result == KMS_OK && out_json) {
    kms_buf_free(out_json);
    result = success_json(c, resp, out_json, &e);
  }
  scrub_credentials(&e, cred);
  forget_send(c, c->msgs[op]); /* m may be NULL when signing failed */
done:
  e.attempts = call.attempts;
  e.retryable = result != KMS_OK && kms_error_is_retryable(&e);
  if (err)
    *err = e;
  return result;
}

/* The loop of kms_client_call, one step at a time, for attempts a host
 * sends: the same decision on the same policy object, without the sleep
 * (the host waits), the call's state kept by the caller. */
kms_retry_action kms_client_retry_after(kms_client *c, kms_operation op,
                                        kms_retry_state *state,
                                        const kms_http_response *resp,
                                        kms_error *err, double *delay)
{
  kms_retry_action result = KMS_RETRY_STOP;
  kmsi_retry_call call;
  double d = 0;

  if (!c || !state || !err || (int)op < 0 || op >= KMS_OP__COUNT)
    goto cleanup;
  memset(&call, 0, sizeof call);
  call.attempts = state->attempts + 1;              /* this one */
  call.skew_retries = state->skew_retries;
  call.quota_held = state->quota_held;
  switch (decide(c, op, &call, resp, err, &d)) {
  case KMSI_RETRY_AGAIN:
    result = KMS_RETRY_AGAIN;
    break;
  case KMSI_RETRY_SKEW:
    result = KMS_RETRY_SKEW;
    break;
  default:
    result = KMS_RETRY_STOP;
    break;
  }
  state->attempts = call.attempts;
  state->skew_retries = call.skew_retries;
  state->quota_held = call.quota_held;
  err->attempts = call.attempts;
  err->retryable = err->status != KMS_OK && kms_error_is_retryable(err);
cleanup:
  if (delay)
    *delay = result == KMS_RETRY_AGAIN ? d : 0;
  return result;
}

double kms_client_before_send(kms_client *c)
{
  double wait = 0;

  if (c)
    wait = kmsi_retry_acquire(&c->retry);
  if (wait > 0)
    logf_(c, KMS_LOG_DEBUG, "client-side rate limiter: wait %.3f s before "
          "sending", wait);
  return wait;
}
/* }===== */

/* {===== operations ===== */

kms_status kms_client_update_custom_key_store(kms_client *c,
                                              const kms_request *req,
                                              const kms_store_context *ctx,
                                              kms_error *err)
{
  kms_status result = KMS_ERR_INVALID_ARG;
  kms_problems *probs = NULL;
  const kms_problem *p;
  kms_buf body;
  size_t i;

  memset(&body, 0, sizeof body);
  kms_error_clear(err);
  if (!c || !req) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "update: bad argument");
    goto cleanup;
  }
  /* Nothing is sent when a rule is broken. */
  result = kms_request_validate(req, ctx, &probs, err);
  for (i = 0; i < kms_problems_count(probs); i++) {
    p = kms_problems_at(probs, i);
    logf_(c, p->severity == KMS_SEVERITY_ERROR ? KMS_LOG_ERROR
                                               : KMS_LOG_WARNING,
          "validation %s (%s): %s",
          p->severity == KMS_SEVERITY_ERROR ? "error" : "warning", p->code,
          p->message);
  }
  if (result != KMS_OK)
    goto cleanup;
  result = kms_request_encode_body(req, &body, err);
  if (result != KMS_OK)
    goto cleanup;
  result = kms_client_call(c, KMS_OP_UPDATE_CUSTOM_KEY_STORE, body.data,
                           body.len, NULL, err);
  if (result != KMS_OK)
    scrub_request(err, req);
cleanup:
  kms_problems_free(probs);
  kms_buf_free(&body); /* wipes: it holds the secrets */
  return result;
}

/* The string value of key in obj, or NULL. */
static const char *str_member(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

kms_status kms_client_describe_custom_key_stores(
    kms_client *c, const char *custom_key_store_id,
    const char *custom_key_store_name, kms_buf *out_json, kms_error *err)
{
  kms_status result = KMS_ERR_INVALID_ARG;
  cJSON *merged = NULL, *all, *page = NULL, *stores, *item;
  kms_buf body, resp;
  char *marker = NULL, *printed = NULL;
  const char *next;
  int pages = 0, attempts = 0;

  memset(&body, 0, sizeof body);
  memset(&resp, 0, sizeof resp);
  kms_error_clear(err);
  if (out_json)
    memset(out_json, 0, sizeof *out_json);
  if (!c || !out_json) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "describe: bad argument");
    goto cleanup;
  }
  result = KMS_ERR_NOMEM;
  merged = cJSON_CreateObject();
  all = cJSON_AddArrayToObject(merged, "CustomKeyStores");
  if (!merged || !all) {
    kmsi_error(err, result, "describe: out of memory");
    goto cleanup;
  }
  /* botocore's paginator: Marker in, NextMarker out while Truncated. */
  for (;;) {
    kms_buf_free(&body);
    result = kms_encode_describe(custom_key_store_id, custom_key_store_name,
                                 0, marker, &body, err);
    if (result != KMS_OK)
      goto cleanup;
    kms_buf_free(&resp);
    result = kms_client_call(c, KMS_OP_DESCRIBE_CUSTOM_KEY_STORES, body.data,
                             body.len, &resp, err);
    attempts += err ? err->attempts : 0;
    if (result != KMS_OK)
      goto cleanup;
    pages++;
    cJSON_Delete(page);
    page = cJSON_ParseWithLength(resp.data, resp.len);
    if (!page) {
      result = kmsi_error(err, KMS_ERR_RESPONSE, "could not parse the "
                          "DescribeCustomKeyStores response");
      goto cleanup;
    }
    stores = cJSON_GetObjectItemCaseSensitive(page, "CustomKeyStores");
    if (stores && !cJSON_IsArray(stores)) {
      result = kmsi_error(err, KMS_ERR_RESPONSE, "DescribeCustomKeyStores: "
                          "CustomKeyStores is not a list");
      goto cleanup;
    }
    while (stores && (item = cJSON_DetachItemFromArray(stores, 0)) != NULL)
      cJSON_AddItemToArray(all, item);
    next = str_member(page, "NextMarker");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(page, "Truncated")) ||
        !next || !*next)
      break;
    if (marker && strcmp(marker, next) == 0) {
      result = kmsi_error(err, KMS_ERR_RESPONSE, "DescribeCustomKeyStores: "
                          "the same NextMarker was received twice");
      goto cleanup;
    }
    if (pages >= MAX_PAGES) {
      result = kmsi_error(err, KMS_ERR_RESPONSE, "DescribeCustomKeyStores: "
                          "more than %d pages", MAX_PAGES);
      goto cleanup;
    }
    free_str(&c->a, marker);
    marker = dup_str(&c->a, next);
    if (!marker) {
      result = kmsi_error(err, KMS_ERR_NOMEM, "describe: out of memory");
      goto cleanup;
    }
    logf_(c, KMS_LOG_DEBUG, "DescribeCustomKeyStores: page %d truncated, "
          "following NextMarker", pages);
  }
  printed = cJSON_PrintUnformatted(merged);
  kmsi_buf_init(out_json, &c->a, 0);
  if (!printed || kmsi_buf_puts(out_json, printed) != KMS_OK) {
    kms_buf_free(out_json);
    result = kmsi_error(err, KMS_ERR_NOMEM, "describe: out of memory");
    goto cleanup;
  }
  result = KMS_OK;
cleanup:
  if (err && c)
    err->attempts = attempts;
  cJSON_free(printed);
  cJSON_Delete(page);
  cJSON_Delete(merged);
  if (c)
    free_str(&c->a, marker);
  kms_buf_free(&body);
  kms_buf_free(&resp);
  return result;
}

static kms_status id_only(kms_client *c, kms_operation op, const char *id,
                          kms_error *err)
{
  kms_status result = KMS_ERR_INVALID_ARG;
  kms_buf body;

  memset(&body, 0, sizeof body);
  kms_error_clear(err);
  if (!c || !id) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "%s: bad argument",
               kms_operation_name(op));
    goto cleanup;
  }
  result = kms_encode_id_only(id, &body, err);
  if (result != KMS_OK)
    goto cleanup;
  result = kms_client_call(c, op, body.data, body.len, NULL, err);
cleanup:
  kms_buf_free(&body);
  return result;
}

kms_status kms_client_connect_custom_key_store(kms_client *c,
                                               const char *custom_key_store_id,
                                               kms_error *err)
{
  return id_only(c, KMS_OP_CONNECT_CUSTOM_KEY_STORE, custom_key_store_id,
                 err);
}

kms_status kms_client_disconnect_custom_key_store(
    kms_client *c, const char *custom_key_store_id, kms_error *err)
{
  return id_only(c, KMS_OP_DISCONNECT_CUSTOM_KEY_STORE, custom_key_store_id,
                 err);
}
/* }===== */
