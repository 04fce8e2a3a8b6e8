/* transport_native.c - a kms_transport_fn without libcurl: HTTP/1.1 over
 * a non-blocking socket (TLS by libssl, transport_tls.c), one kept-alive
 * connection per instance, connect and read (inactivity) timeouts, the
 * environment's proxies, no redirects, and transport_curl.c's statuses
 * and messages for every failure, which the CLI's differential tests
 * compare with the AWS CLI's. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include "transport_native.h"

/* connect timeout 0 ("none") is capped as libcurl caps it. */
#define NO_CONNECT_TIMEOUT_MS 300000L

struct kmsi_native {
  kmsi_allocator a;
  kmsi_conn conn;
  char key[640];             /* what conn is connected to */
  kmsi_tls *tls;             /* made on the first https request */
  kms_buf out;               /* the serialised request: secret */
};

/* What one request goes to. */
typedef struct target {
  int https;
  const char *url, *hostport;
  char host[256];
  int port;
  int proxied;
  kmsi_proxy proxy;
} target;

/* {===== connection I/O ===== */

double kmsi_mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int kmsi_wait_fd(int fd, short events, double deadline)
{
  struct pollfd p;
  int ms, r;

  for (;;) {
    ms = -1;
    if (deadline >= 0) {
      double left = deadline - kmsi_mono_ms();
      if (left <= 0)
        return 0;
      ms = (int)left + 1;
    }
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    r = poll(&p, 1, ms);
    if (r > 0)
      return 1;
    if (r < 0 && errno != EINTR)
      return -1;
    if (r == 0 && deadline < 0)
      continue;
  }
}

static double step_deadline(const kmsi_conn *c)
{
  return c->timeout_ms > 0 ? kmsi_mono_ms() + (double)c->timeout_ms : -1;
}

/* Waits for the direction a TLS call asked for. */
static kmsi_io tls_wait(kmsi_conn *c, int ret)
{
  int e = SSL_get_error(c->ssl, ret), w;

  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    w = kmsi_wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                     step_deadline(c));
    return w > 0 ? KMSI_IO_OK : w == 0 ? KMSI_IO_TIMEOUT : KMSI_IO_ERROR;
  }
  ERR_clear_error();
  return e == SSL_ERROR_ZERO_RETURN ? KMSI_IO_EOF : KMSI_IO_ERROR;
}

static kmsi_io plain_wait(kmsi_conn *c, short events)
{
  int w;
  if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    return KMSI_IO_ERROR;
  w = kmsi_wait_fd(c->fd, events, step_deadline(c));
  return w > 0 ? KMSI_IO_OK : w == 0 ? KMSI_IO_TIMEOUT : KMSI_IO_ERROR;
}

kmsi_io kmsi_conn_write(kmsi_conn *c, const char *p, size_t n)
{
  kmsi_io io;

  while (n) {
    size_t w = 0;
    if (c->ssl) {
      int r = SSL_write_ex(c->ssl, p, n, &w);
      if (r <= 0) {
        io = tls_wait(c, r);
        if (io != KMSI_IO_OK)
          return io == KMSI_IO_EOF ? KMSI_IO_ERROR : io;
        continue;
      }
    } else {
      ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);
      if (r < 0) {
        io = plain_wait(c, POLLOUT);
        if (io != KMSI_IO_OK)
          return io;
        continue;
      }
      w = (size_t)r;
    }
    p += w;
    n -= w;
  }
  return KMSI_IO_OK;
}

kmsi_io kmsi_conn_fill(kmsi_conn *c)
{
  kmsi_io io;
  size_t got = 0;

  if (c->rpos == c->rlen) {
    c->rpos = c->rlen = 0;
  } else if (c->rpos) {
    memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
    c->rlen -= c->rpos;
    c->rpos = 0;
  }
  if (c->rlen == sizeof c->rbuf)
    return KMSI_IO_MALFORMED;
  for (;;) {
    if (c->ssl) {
      int r = SSL_read_ex(c->ssl, c->rbuf + c->rlen,
                          sizeof c->rbuf - c->rlen, &got);
      if (r > 0)
        break;
      io = tls_wait(c, r);
    } else {
      ssize_t r = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
      if (r == 0)
        return KMSI_IO_EOF;
      if (r > 0) {
        got = (size_t)r;
        break;
      }
      io = plain_wait(c, POLLIN);
    }
    if (io != KMSI_IO_OK)
      return io;
  }
  c->rlen += got;
  return KMSI_IO_OK;
}

static void conn_close(kmsi_native *t)
{
  kmsi_conn *c = &t->conn;

  if (c->ssl) {
    SSL_free(c->ssl);  /* no close_notify: the peer may be gone */
    c->ssl = NULL;
    ERR_clear_error();
  }
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  kmsi_wipe(c->rbuf, c->rlen);
  c->rpos = c->rlen = 0;
  t->key[0] = '\0';
}

/* An idle kept-alive connection is usable when nothing is readable on
 * it: a close, a reset or stray bytes all mean a fresh one. */
static int conn_idle_ok(const kmsi_conn *c)
{
  struct pollfd p;
  p.fd = c->fd;
  p.events = POLLIN;
  p.revents = 0;
  return poll(&p, 1, 0) == 0;
}
/* }===== */

/* {===== connecting ===== */

/* One address by deadline: KMSI_IO_OK with *fd, _TIMEOUT or _ERROR. */
static kmsi_io connect_addr(const struct addrinfo *ai, double deadline,
                            int *fd)
{
  int s, e = 0, one = 1, w;
  socklen_t el = sizeof e;

  s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
             ai->ai_protocol);
  if (s < 0)
    return KMSI_IO_ERROR;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      close(s);
      return KMSI_IO_ERROR;
    }
    w = kmsi_wait_fd(s, POLLOUT, deadline);
    if (w <= 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e) {
      close(s);
      return w == 0 ? KMSI_IO_TIMEOUT : KMSI_IO_ERROR;
    }
  }
  *fd = s;
  return KMSI_IO_OK;
}

/* Resolves host and tries each address in turn; every address but the
 * last gets at most half of the time left, so one silent address does
 * not use up the whole connect timeout. */
static kmsi_io tcp_connect(const char *host, int port, double deadline,
                           int *fd)
{
  struct addrinfo hints, *res = NULL, *ai;
  char serv[16];
  kmsi_io io = KMSI_IO_ERROR, r;
  int timed_out = 0;

  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  snprintf(serv, sizeof serv, "%d", port);
  if (getaddrinfo(host, serv, &hints, &res) != 0)
    return KMSI_IO_ERROR;
  for (ai = res; ai; ai = ai->ai_next) {
    double now = kmsi_mono_ms(), until = deadline;
    if (now >= deadline) {
      timed_out = 1;
      break;
    }
    if (ai->ai_next)
      until = now + (deadline - now) / 2;
    r = connect_addr(ai, until, fd);
    if (r == KMSI_IO_OK) {
      io = r;
      break;
    }
    timed_out |= r == KMSI_IO_TIMEOUT;
  }
  freeaddrinfo(res);
  if (io != KMSI_IO_OK && timed_out)
    io = KMSI_IO_TIMEOUT;
  return io;
}
/* }===== */

/* {===== failures, in transport_curl.c's words ===== */

static kms_status fail_connect(kms_error *err, const char *url)
{
  return kmsi_error(err, KMS_ERR_CONNECT, "Could not connect to the "
                    "endpoint URL: \"%s\"", url);
}

static kms_status fail_connect_timeout(kms_error *err, const char *url)
{
  return kmsi_error(err, KMS_ERR_CONNECT_TIMEOUT, "Connect timeout on "
                    "endpoint URL: \"%s\"", url);
}

static kms_status fail_closed(kms_error *err, const char *url)
{
  return kmsi_error(err, KMS_ERR_CONNECTION_CLOSED, "Connection was "
                    "closed before we received a valid response from "
                    "endpoint URL: \"%s\".", url);
}

/* A failed exchange (request written, response read). */
static kms_status fail_exchange(kmsi_io io, kms_error *err, const char *url)
{
  switch (io) {
  case KMSI_IO_TIMEOUT:
    return kmsi_error(err, KMS_ERR_READ_TIMEOUT, "Read timeout on endpoint "
                      "URL: \"%s\"", url);
  case KMSI_IO_NOMEM:
    return kmsi_error(err, KMS_ERR_NOMEM, "transport: out of memory");
  case KMSI_IO_TOO_LARGE:
    return kmsi_error(err, KMS_ERR_RESPONSE, "the response from %s is "
                      "larger than %u bytes", url, 16u * 1024 * 1024);
  default:
    /* Empty reply, reset, a garbled status line: botocore's
     * ConnectionClosedError. */
    return fail_closed(err, url);
  }
}
/* }===== */

/* {===== proxy tunnel ===== */

/* CONNECT host:port through the proxy on t->conn, within deadline. A
 * refusal (non-2xx) is reported as libcurl's transport reports it. */
static kms_status tunnel(kmsi_native *t, const target *tg, double deadline,
                         kms_error *err)
{
  kms_http_response r;
  char line[600];
  int got = 0, keep = 0, n, v6 = tg->hostport[0] == '[';
  kmsi_io io;
  kms_status st;

  /* An IPv6 literal keeps its brackets in the authority. */
  n = snprintf(line, sizeof line, "CONNECT %s%s%s:%d HTTP/1.1\r\nHost: "
               "%s%s%s:%d\r\n\r\n", v6 ? "[" : "", tg->host, v6 ? "]" : "",
               tg->port, v6 ? "[" : "", tg->host, v6 ? "]" : "", tg->port);
  t->conn.timeout_ms = (long)(deadline - kmsi_mono_ms());
  if (t->conn.timeout_ms < 1)
    t->conn.timeout_ms = 1;
  kms_http_response_init(&r, t->a.fn, t->a.ud);
  io = kmsi_conn_write(&t->conn, line, (size_t)n);
  if (io == KMSI_IO_OK)
    io = kmsi_response_read(&t->conn, "CONNECT", &r, &got, &keep);
  if (io == KMSI_IO_TIMEOUT)
    st = fail_connect_timeout(err, tg->url);
  else if (io == KMSI_IO_NOMEM)
    st = fail_exchange(io, err, tg->url);
  else if (io != KMSI_IO_OK || r.status < 200 || r.status > 299)
    st = fail_closed(err, tg->url);
  else
    st = KMS_OK;
  kms_http_response_free(&r);
  return st;
}
/* }===== */

/* Makes sure t->conn is connected to tg (reusing the kept-alive
 * connection when it is the same peer, settings and still idle). */
static kms_status ensure_conn(kmsi_native *t, const target *tg,
                              const kms_transport_opts *opts, int *reused,
                              kms_error *err)
{
  char key[sizeof t->key];
  long cto = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                                  : NO_CONNECT_TIMEOUT_MS;
  int verify = !opts || opts->verify_tls, fd = -1, made;
  double deadline;
  kmsi_io io;
  kms_status st;

  *reused = 0;
  if (tg->https) {
    made = kmsi_tls_prepare(t->tls, opts ? opts->ca_bundle : NULL, verify,
                            tg->url, err);
    if (made < 0)
      return err ? err->status : KMS_ERR_TLS;
    if (made)
      conn_close(t);
  }
  snprintf(key, sizeof key, "%s://%s:%d via %s:%d", tg->https ? "https"
           : "http", tg->host, tg->port, tg->proxied ? tg->proxy.host : "",
           tg->proxied ? tg->proxy.port : 0);
  if (t->conn.fd >= 0 && strcmp(key, t->key) == 0 &&
      conn_idle_ok(&t->conn)) {
    *reused = 1;
    return KMS_OK;
  }
  conn_close(t);
  deadline = kmsi_mono_ms() + (double)cto;
  io = tg->proxied ? tcp_connect(tg->proxy.host, tg->proxy.port, deadline,
                                 &fd)
                   : tcp_connect(tg->host, tg->port, deadline, &fd);
  if (io != KMSI_IO_OK)
    return io == KMSI_IO_TIMEOUT ? fail_connect_timeout(err, tg->url)
                                 : fail_connect(err, tg->url);
  t->conn.fd = fd;
  st = KMS_OK;
  if (tg->proxied && tg->https)
    st = tunnel(t, tg, deadline, err);
  if (st == KMS_OK && tg->https)
    st = kmsi_tls_handshake(t->tls, &t->conn, tg->host, tg->port, verify,
                            deadline, tg->url, err);
  if (st != KMS_OK) {
    conn_close(t);
    return st;
  }
  memcpy(t->key, key, sizeof key);
  return KMS_OK;
}

/* {===== the request ===== */

/* Appends a, b and c. */
static kms_status put3(kms_buf *o, const char *a, const char *b,
                       const char *c)
{
  kms_status st = kmsi_buf_puts(o, a);
  if (st == KMS_OK)
    st = kmsi_buf_puts(o, b);
  if (st == KMS_OK)
    st = kmsi_buf_puts(o, c);
  return st;
}

/* Serialises req into t->out (secret: it holds Authorization, the session
 * token and the body): the request line (absolute-form through an http
 * proxy), the headers in the AWS CLI's order (wire.c), Host first when
 * the message has none, an empty value as "Name:", then the body. */
static kms_status serialise(kmsi_native *t, const kms_http *req,
                            const target *tg, int has_body)
{
  kmsi_wire_headers w;
  const char *body;
  size_t i, body_len = 0;
  int host = 0;
  kms_buf *o = &t->out;
  kms_status st;

  body = kms_http_body(req, &body_len);
  kmsi_buf_reset(o);
  st = kmsi_wire_headers_order(req, has_body, body_len, &w);
  if (st != KMS_OK)
    return st;
  st = put3(o, kms_http_method(req), " ", "");
  if (st == KMS_OK && tg->proxied && !tg->https)
    st = put3(o, "http://", tg->hostport, "");
  if (st == KMS_OK)
    st = put3(o, kms_http_target(req), " HTTP/1.1\r\n", "");
  for (i = 0; i < w.n; i++)
    host |= strcasecmp(w.name[i], "Host") == 0;
  if (st == KMS_OK && !host)
    st = put3(o, "Host: ", tg->hostport, "\r\n");
  for (i = 0; st == KMS_OK && i < w.n; i++) {
    st = put3(o, w.name[i], *w.value[i] ? ": " : ":", w.value[i]);
    if (st == KMS_OK)
      st = kmsi_buf_append(o, "\r\n", 2);
  }
  if (st == KMS_OK)
    st = kmsi_buf_append(o, "\r\n", 2);
  if (st == KMS_OK && has_body && body_len)
    st = kmsi_buf_append(o, body, body_len);
  return st;
}

/* Writes t->out and reads the response. */
static kmsi_io exchange(kmsi_native *t, const char *method, long read_ms,
                        kms_http_response *resp, int *got_any, int *keep)
{
  kmsi_io io;

  *got_any = 0;
  *keep = 0;
  t->conn.timeout_ms = read_ms;
  io = kmsi_conn_write(&t->conn, t->out.data, t->out.len);
  if (io != KMSI_IO_OK)
    return io;
  return kmsi_response_read(&t->conn, method, resp, got_any, keep);
}

/* Fills tg from the URL and the environment's proxies. */
static kms_status target_of(const kms_http *req, target *tg, kms_error *err)
{
  int p;

  memset(tg, 0, sizeof *tg);
  tg->url = kms_http_url(req);
  tg->hostport = kms_http_host(req);
  if (strncasecmp(tg->url, "https://", 8) == 0)
    tg->https = 1;
  else if (strncasecmp(tg->url, "http://", 7) != 0)
    return kmsi_error(err, KMS_ERR_CONFIG, "Invalid endpoint: %s", tg->url);
  if (!kmsi_split_hostport(tg->hostport, tg->https ? 443 : 80, tg->host,
                           sizeof tg->host, &tg->port))
    return kmsi_error(err, KMS_ERR_CONFIG, "Invalid endpoint: %s", tg->url);
  p = kmsi_proxy_for(tg->https, tg->host, tg->hostport, &tg->proxy, err);
  if (p < 0)
    return KMS_ERR_CONFIG;
  tg->proxied = p;
  return KMS_OK;
}
/* }===== */

/* {===== life and send ===== */

kmsi_native *kmsi_native_new(const kmsi_allocator *a, kms_error *err)
{
  kmsi_native *t = kmsi_calloc(a, sizeof *t);

  if (!t) {
    kmsi_error(err, KMS_ERR_NOMEM, "transport: out of memory");
    return NULL;
  }
  t->a = *a;
  t->conn.fd = -1;
  kmsi_buf_init(&t->out, a, 1);
  t->tls = kmsi_tls_new(a);
  if (!t->tls) {
    kmsi_error(err, KMS_ERR_NOMEM, "transport: out of memory");
    kmsi_free(a, t, sizeof *t);
    return NULL;
  }
  return t;
}

void kmsi_native_free(kmsi_native *t)
{
  if (!t)
    return;
  conn_close(t);
  kmsi_tls_free(t->tls);
  kms_buf_free(&t->out);
  kmsi_free(&t->a, t, sizeof *t);
}

/* A request on a kept-alive connection that fails before any byte of a
 * response came is sent once more on a fresh connection (the server may
 * have closed it between requests), as libcurl does. */
kms_status kmsi_native_send(void *ud, const kms_http *req,
                            const kms_transport_opts *opts,
                            kms_http_response *resp, kms_error *err)
{
  kmsi_native *t = ud;
  kms_status result = KMS_ERR_INVALID_ARG;
  const char *method;
  target tg;
  kmsi_io io = KMSI_IO_ERROR;
  int has_body, tries, reused = 0, got_any = 0, keep = 0;

  if (!t || !req || !resp)
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "transport: bad argument");
  method = kms_http_method(req);
  has_body = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
  resp->status = 0;
  kmsi_buf_reset(&resp->headers);
  kmsi_buf_reset(&resp->body);
  result = target_of(req, &tg, err);
  if (result != KMS_OK)
    goto cleanup;
  /* The AWS CLI: a CA bundle that does not exist fails every https
   * request before any byte is sent, and is ignored for http. */
  if (tg.https && opts && opts->verify_tls && opts->ca_bundle &&
      access(opts->ca_bundle, R_OK) != 0) {
    int e = errno;
    result = kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s "
                        "[Errno %d] %s", tg.url, e, strerror(e));
    goto cleanup;
  }
  result = serialise(t, req, &tg, has_body);
  if (result != KMS_OK) {
    kmsi_error(err, result, "transport: more than %d headers, or out of "
               "memory", KMSI_WIRE_MAX_HEADERS);
    goto cleanup;
  }
  for (tries = 0; tries < 2; tries++) {
    result = ensure_conn(t, &tg, opts, &reused, err);
    if (result != KMS_OK)
      goto cleanup;
    io = exchange(t, method, opts ? opts->read_timeout_ms : 0, resp,
                  &got_any, &keep);
    if (io == KMSI_IO_OK || !reused || got_any || io == KMSI_IO_TIMEOUT ||
        io == KMSI_IO_NOMEM)
      break;
    conn_close(t);
    resp->status = 0;
    kmsi_buf_reset(&resp->headers);
    kmsi_buf_reset(&resp->body);
  }
  if (io != KMSI_IO_OK) {
    conn_close(t);
    result = fail_exchange(io, err, tg.url);
    goto cleanup;
  }
  /* Bytes beyond the response, or a close asked for: no reuse. */
  if (!keep || t->conn.rpos != t->conn.rlen)
    conn_close(t);
  result = KMS_OK;
cleanup:
  kmsi_buf_reset(&t->out);    /* wipes Authorization, token, body */
  if (t->conn.fd >= 0) {
    kmsi_wipe(t->conn.rbuf, t->conn.rlen);
    t->conn.rpos = t->conn.rlen = 0;
  }
  return result;
}
/* }===== */
