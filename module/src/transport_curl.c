/* transport_curl.c - the default kms_transport_fn over libcurl: one reused
 * easy handle per client (keep-alive), connect and read (inactivity)
 * timeouts, CA bundle and TLS verification, no redirects, the body sent
 * from the caller's memory, and curl's failures mapped to the AWS CLI's
 * messages. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/x509.h>
#include "internal.h"

/* A response larger than this is refused (a KMS answer is a few KB). */
#define MAX_RESPONSE_BYTES (16u * 1024 * 1024)
/* How long curl_multi_poll may sleep when no read timeout is pending. */
#define POLL_MS 1000
/* Headers of one request: at most this many, in at most this many bytes
 * (a signed KMS request has 9 in well under 1 KB; a session token can be
 * a few KB). */
#define MAX_HEADERS KMSI_WIRE_MAX_HEADERS
#define ARENA_BYTES 32768

struct kmsi_curl {
  kmsi_allocator a;
  CURLM *multi;               /* owns the connection cache (keep-alive) */
  CURL *easy;
  char *default_ca;           /* curl's built-in CA file, restored when a
                                 request asks for the system's */
  char *ca;                   /* the CA file currently set on the handle */
  int ca_set;
  char errbuf[CURL_ERROR_SIZE];
  /* The request's header list, built without allocating: nodes and lines
   * live here (curl only reads the list) and the lines are wiped after
   * each transfer, as they hold Authorization and the session token. */
  struct curl_slist nodes[MAX_HEADERS + 5];
  char arena[ARENA_BYTES];
  size_t arena_used;
  size_t nnodes;
  /* Per transfer. */
  kms_http_response *resp;
  kms_status cb_status;       /* a callback's failure (NOMEM, too large) */
};

/* {===== global init ===== */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
  global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}
/* }===== */

/* {===== callbacks ===== */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
  kmsi_curl *t = ud;
  kms_buf *b = &t->resp->body;
  size_t len = size * n;

  if (b->len + len > MAX_RESPONSE_BYTES) {
    t->cb_status = KMS_ERR_RESPONSE;
    return 0;
  }
  if (!b->len)
    b->secret = 1; /* an error body could echo request data */
  if (kmsi_buf_append(b, p, len) != KMS_OK) {
    t->cb_status = KMS_ERR_NOMEM;
    return 0;
  }
  return len;
}

/* Collects "name: value" lines separated by "\n". A status line starts a
 * new header block (interim 1xx responses are forgotten). */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
  kmsi_curl *t = ud;
  kms_buf *h = &t->resp->headers;
  size_t len = size * n, keep = len;

  while (keep && (p[keep - 1] == '\n' || p[keep - 1] == '\r'))
    keep--;
  if (keep >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    kmsi_buf_reset(h);
    return len;
  }
  if (!keep)
    return len;
  if (h->len + keep + 1 > MAX_RESPONSE_BYTES) {
    t->cb_status = KMS_ERR_RESPONSE;
    return 0;
  }
  if (kmsi_buf_append(h, p, keep) != KMS_OK ||
      kmsi_buf_putc(h, '\n') != KMS_OK) {
    t->cb_status = KMS_ERR_NOMEM;
    return 0;
  }
  return len;
}
/* }===== */

/* {===== handle life ===== */

kmsi_curl *kmsi_curl_new(const kmsi_allocator *a, kms_error *err)
{
  kmsi_curl *t = NULL, *result = NULL;
  char *def = NULL;

  pthread_once(&global_once, global_init);
  if (global_rc != CURLE_OK) {
    kmsi_error(err, KMS_ERR_CONFIG, "curl_global_init failed: %s",
               curl_easy_strerror(global_rc));
    goto cleanup;
  }
  t = kmsi_calloc(a, sizeof *t);
  if (!t) {
    kmsi_error(err, KMS_ERR_NOMEM, "transport: out of memory");
    goto cleanup;
  }
  t->a = *a;
  t->multi = curl_multi_init();
  t->easy = curl_easy_init();
  if (!t->multi || !t->easy) {
    kmsi_error(err, KMS_ERR_NOMEM, "transport: curl_easy_init failed");
    goto cleanup;
  }
  if (curl_easy_getinfo(t->easy, CURLINFO_CAINFO, &def) == CURLE_OK && def) {
    t->default_ca = kmsi_strndup(a, def, strlen(def));
    if (!t->default_ca) {
      kmsi_error(err, KMS_ERR_NOMEM, "transport: out of memory");
      goto cleanup;
    }
  }
  /* Fixed for the handle's life. Proxies come from the usual environment
   * variables (curl's default), which is what the AWS CLI does too. */
  curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(t->easy, CURLOPT_VERBOSE, 0L);      /* never log bodies */
  curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L); /* signed: no */
  curl_easy_setopt(t->easy, CURLOPT_HTTP_VERSION,
                   (long)CURL_HTTP_VERSION_1_1);        /* as the AWS CLI */
  curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(t->easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
  result = t;
  t = NULL;
cleanup:
  kmsi_curl_free(t);
  return result;
}

void kmsi_curl_free(kmsi_curl *t)
{
  if (!t)
    return;
  if (t->easy)
    curl_easy_cleanup(t->easy);
  if (t->multi)
    curl_multi_cleanup(t->multi);
  if (t->default_ca)
    kmsi_free(&t->a, t->default_ca, strlen(t->default_ca) + 1);
  if (t->ca)
    kmsi_free(&t->a, t->ca, strlen(t->ca) + 1);
  kmsi_free(&t->a, t, sizeof *t);
}
/* }===== */

/* {===== request headers ===== */

/* Appends a line, the concatenation of a, b and c, to the list in t's
 * arena. */
static int list_add(kmsi_curl *t, const char *a, size_t al, const char *b,
                    size_t bl, const char *c, size_t cl)
{
  struct curl_slist *n;
  char *line;

  if (t->nnodes >= sizeof t->nodes / sizeof t->nodes[0] ||
      al + bl + cl + 1 > sizeof t->arena - t->arena_used)
    return 0;
  line = t->arena + t->arena_used;
  memcpy(line, a, al);
  memcpy(line + al, b, bl);
  memcpy(line + al + bl, c, cl);
  line[al + bl + cl] = '\0';
  t->arena_used += al + bl + cl + 1;
  n = &t->nodes[t->nnodes];
  n->data = line;
  n->next = NULL;
  if (t->nnodes)
    t->nodes[t->nnodes - 1].next = n;
  t->nnodes++;
  return 1;
}

/* "name: value", or "name;" for an empty value (curl's way of sending an
 * empty header). */
static int header_add(kmsi_curl *t, const char *name, const char *value)
{
  size_t vl = strlen(value);
  if (!vl)
    return list_add(t, name, strlen(name), ";", 1, "", 0);
  return list_add(t, name, strlen(name), ": ", 2, value, vl);
}

/* A raw line ("Accept:" removes curl's own header). */
static int raw_add(kmsi_curl *t, const char *line)
{
  return list_add(t, line, strlen(line), "", 0, "", 0);
}

/* Forgets the list, wiping its lines. */
static void list_clear(kmsi_curl *t)
{
  kmsi_wipe(t->arena, t->arena_used);
  t->arena_used = 0;
  t->nnodes = 0;
}

/* The header list in the AWS CLI's order (kmsi_wire_headers_order), and
 * the removal of curl's own Accept and Expect. */
static kms_status build_headers(kmsi_curl *t, const kms_http *req,
                                int has_body, size_t body_len)
{
  kmsi_wire_headers w;
  size_t i;
  int ok = 1;

  list_clear(t);
  if (kmsi_wire_headers_order(req, has_body, body_len, &w) != KMS_OK)
    return KMS_ERR_INVALID_ARG;
  for (i = 0; ok && i < w.n; i++)
    ok = header_add(t, w.name[i], w.value[i]);
  if (ok)
    ok = raw_add(t, "Accept:") && raw_add(t, "Expect:");
  if (!ok) {
    list_clear(t);
    return KMS_ERR_INVALID_ARG;
  }
  return KMS_OK;
}
/* }===== */

/* {===== per-request options ===== */

static int is_https(const char *url)
{
  return strncasecmp(url, "https://", 8) == 0;
}

/* Sets CAINFO only when it changes (curl re-reads it on a new
 * connection). NULL restores curl's built-in default. */
static kms_status set_ca(kmsi_curl *t, const char *ca)
{
  const char *want = ca ? ca : t->default_ca;
  char *copy = NULL;

  if (t->ca_set && ((!want && !t->ca) || (want && t->ca &&
                                           strcmp(want, t->ca) == 0)))
    return KMS_OK;
  if (want) {
    copy = kmsi_strndup(&t->a, want, strlen(want));
    if (!copy)
      return KMS_ERR_NOMEM;
  }
  if (curl_easy_setopt(t->easy, CURLOPT_CAINFO, want) != CURLE_OK) {
    if (copy)
      kmsi_free(&t->a, copy, strlen(copy) + 1);
    return KMS_ERR_NOMEM;
  }
  if (t->ca)
    kmsi_free(&t->a, t->ca, strlen(t->ca) + 1);
  t->ca = copy;
  t->ca_set = 1;
  return KMS_OK;
}

static void set_method(CURL *h, const char *method, const char *body,
                       size_t len)
{
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, (char *)NULL);
  curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
  if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    return;
  }
  /* The body is sent from the caller's memory: no COPYPOSTFIELDS. */
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  if (strcmp(method, "POST") != 0)
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}
/* }===== */

/* {===== the transfer ===== */

static double mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Bytes moved so far and whether the connection is up (the request is
 * being or has been sent). */
static curl_off_t progress(CURL *h, int *connected)
{
  curl_off_t up = 0, down = 0, pre = 0;
  long hdr = 0;
  curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
  curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
  curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &hdr);
  curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre);
  *connected = pre > 0 || up > 0 || down > 0 || hdr > 0;
  return up + down + hdr;
}

/* Runs the transfer on the multi handle so that the read timeout is an
 * inactivity timeout with millisecond precision, like a socket timeout in
 * botocore: it starts once the connection is up (connecting is bounded by
 * the connect timeout) and restarts whenever bytes move. Sets *read_to
 * when it fired. */
static CURLcode perform(kmsi_curl *t, long read_timeout_ms, int *read_to,
                        int *connected)
{
  CURLcode rc = CURLE_OK;
  CURLMcode mc;
  CURLMsg *msg;
  int running = 1, left;
  curl_off_t moved = 0, now_moved;
  double last = 0, now, wait;

  *read_to = 0;
  *connected = 0;
  mc = curl_multi_add_handle(t->multi, t->easy);
  if (mc != CURLM_OK)
    return mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY
                                     : CURLE_FAILED_INIT;
  for (;;) {
    mc = curl_multi_perform(t->multi, &running);
    if (mc != CURLM_OK) {
      rc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_RECV_ERROR;
      break;
    }
    if (!running)
      break;
    wait = POLL_MS;
    if (read_timeout_ms > 0) {
      int was = *connected;
      now_moved = progress(t->easy, connected);
      now = mono_ms();
      if (!was && *connected)
        last = now;
      if (*connected) {
        if (now_moved != moved) {
          moved = now_moved;
          last = now;
        }
        if (now - last >= (double)read_timeout_ms) {
          *read_to = 1;
          rc = CURLE_OPERATION_TIMEDOUT;
          break;
        }
        wait = (double)read_timeout_ms - (now - last);
        if (wait > POLL_MS)
          wait = POLL_MS;
      }
    }
    mc = curl_multi_poll(t->multi, NULL, 0, (int)wait + 1, NULL);
    if (mc != CURLM_OK) {
      rc = CURLE_RECV_ERROR;
      break;
    }
  }
  if (!*read_to) {
    while ((msg = curl_multi_info_read(t->multi, &left)))
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->easy)
        rc = msg->data.result;
  }
  progress(t->easy, connected);
  /* Removing a handle mid-transfer closes its connection, so a late
   * answer can never be read as the next request's. */
  curl_multi_remove_handle(t->multi, t->easy);
  return rc;
}

static int is_tls_error(CURLcode rc)
{
  switch (rc) {
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_USE_SSL_FAILED:
  case CURLE_SSL_CLIENTCERT:
    return 1;
  default:
    return 0;
  }
}

/* The host name libcurl's own host check quotes in errbuf ("... target
 * host name 'NAME'"), copied into host; 0 when errbuf is not that. */
static int mismatch_host(const char *errbuf, char *host, size_t size)
{
  const char *q = strstr(errbuf, "target host name '"), *e;
  size_t n;

  if (!q)
    return 0;
  q += strlen("target host name '");
  e = strchr(q, '\'');
  n = e ? (size_t)(e - q) : 0;
  if (!n || n >= size)
    return 0;
  memcpy(host, q, n);
  host[n] = '\0';
  return 1;
}

/* The AWS CLI's text for a TLS failure, e.g. "[SSL:
 * CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed
 * certificate" (the Python source location is left out). libcurl reports
 * X509_V_ERR_UNSPECIFIED until a verification ran, so that value is no
 * verification result. */
static kms_status tls_error(kmsi_curl *t, const char *url, kms_error *err)
{
  long vr = X509_V_OK;
  char host[256];

  curl_easy_getinfo(t->easy, CURLINFO_SSL_VERIFYRESULT, &vr);
  if (vr != X509_V_OK && vr != X509_V_ERR_UNSPECIFIED)
    return kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s [SSL: "
                      "CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                      "%s", url, X509_verify_cert_error_string(vr));
  if (mismatch_host(t->errbuf, host, sizeof host))
    return kmsi_error_tls_mismatch(err, url, host);
  return kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s %s", url,
                    t->errbuf[0] ? t->errbuf : "TLS handshake failed");
}

kms_status kmsi_curl_send(void *ud, const kms_http *req,
                          const kms_transport_opts *opts,
                          kms_http_response *resp, kms_error *err)
{
  kmsi_curl *t = ud;
  kms_status result = KMS_ERR_INVALID_ARG;
  const char *url, *method, *body;
  size_t body_len = 0;
  int has_body, read_to = 0, connected = 0;
  long status = 0;
  CURLcode rc;

  if (!t || !req || !resp) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "transport: bad argument");
    goto cleanup;
  }
  url = kms_http_url(req);
  method = kms_http_method(req);
  body = kms_http_body(req, &body_len);
  has_body = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
  t->resp = resp;
  t->cb_status = KMS_OK;
  t->errbuf[0] = '\0';
  resp->status = 0;
  kmsi_buf_reset(&resp->headers);
  kmsi_buf_reset(&resp->body);

  /* The AWS CLI: a CA bundle that does not exist fails every https
   * request before any byte is sent, and is ignored for http. */
  if (is_https(url) && opts && opts->verify_tls && opts->ca_bundle &&
      access(opts->ca_bundle, R_OK) != 0) {
    int e = errno;
    result = kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s "
                        "[Errno %d] %s", url, e, strerror(e));
    goto cleanup;
  }
  result = build_headers(t, req, has_body, body_len);
  if (result != KMS_OK) {
    kmsi_error(err, result, "transport: more than %d headers or %d bytes "
               "of headers", MAX_HEADERS, ARENA_BYTES);
    goto cleanup;
  }
  if (curl_easy_setopt(t->easy, CURLOPT_URL, url) != CURLE_OK) {
    result = kmsi_error(err, KMS_ERR_CONFIG, "Invalid endpoint: %s", url);
    goto cleanup;
  }
  set_method(t->easy, method, body, body_len);
  curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->nodes);
  /* 0 means none; curl then applies its own 300 s connect limit. */
  curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS,
                   opts ? opts->connect_timeout_ms : 0L);
  curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYPEER,
                   (!opts || opts->verify_tls) ? 1L : 0L);
  curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYHOST,
                   (!opts || opts->verify_tls) ? 2L : 0L);
  result = set_ca(t, opts ? opts->ca_bundle : NULL);
  if (result != KMS_OK) {
    kmsi_error(err, result, "transport: out of memory");
    goto cleanup;
  }

  rc = perform(t, opts ? opts->read_timeout_ms : 0, &read_to, &connected);
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);

  if (rc == CURLE_OK || (rc == CURLE_PARTIAL_FILE && status > 0)) {
    /* A body cut short of its Content-Length is taken as it came, as
     * urllib3 (and so the AWS CLI) does. */
    /* No status, or only an interim 1xx before the close (libcurl
     * returns that as done): botocore's ConnectionClosedError. */
    if (status < 200) {
      result = kmsi_error(err, KMS_ERR_CONNECTION_CLOSED, "Connection was "
                          "closed before we received a valid response from "
                          "endpoint URL: \"%s\".", url);
      goto cleanup;
    }
    resp->status = status;
    result = KMS_OK;
    goto cleanup;
  }
  if (read_to) {
    result = kmsi_error(err, KMS_ERR_READ_TIMEOUT,
                        "Read timeout on endpoint URL: \"%s\"", url);
  } else if (t->cb_status == KMS_ERR_NOMEM || rc == CURLE_OUT_OF_MEMORY) {
    result = kmsi_error(err, KMS_ERR_NOMEM, "transport: out of memory");
  } else if (t->cb_status == KMS_ERR_RESPONSE) {
    result = kmsi_error(err, KMS_ERR_RESPONSE, "the response from %s is "
                        "larger than %u bytes", url, MAX_RESPONSE_BYTES);
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    result = connected
                 ? kmsi_error(err, KMS_ERR_READ_TIMEOUT,
                              "Read timeout on endpoint URL: \"%s\"", url)
                 : kmsi_error(err, KMS_ERR_CONNECT_TIMEOUT,
                              "Connect timeout on endpoint URL: \"%s\"", url);
  } else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
             rc == CURLE_COULDNT_RESOLVE_PROXY) {
    result = kmsi_error(err, KMS_ERR_CONNECT, "Could not connect to the "
                        "endpoint URL: \"%s\"", url);
  } else if (is_tls_error(rc)) {
    result = tls_error(t, url, err);
  } else if (rc == CURLE_URL_MALFORMAT ||
             (rc == CURLE_UNSUPPORTED_PROTOCOL && !connected)) {
    /* Once connected, "unsupported protocol" is curl refusing a reply
     * that is not HTTP/1.x (its HTTP/0.9 check): a garbled status line,
     * handled below as botocore handles it. */
    result = kmsi_error(err, KMS_ERR_CONFIG, "Invalid endpoint: %s", url);
  } else {
    /* Empty reply, reset, receive/send errors, a garbled status line:
     * botocore's ConnectionClosedError. */
    result = kmsi_error(err, KMS_ERR_CONNECTION_CLOSED, "Connection was "
                        "closed before we received a valid response from "
                        "endpoint URL: \"%s\".", url);
  }
cleanup:
  if (t && t->easy) {
    /* Nothing of this request may outlive the call on the handle. */
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, (char *)NULL);
    t->resp = NULL;
    list_clear(t);
  }
  return result;
}
/* }===== */
