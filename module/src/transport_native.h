/* transport_native.h - the parts of the native transport shared by its
 * files: one connection (socket, optional TLS session, read buffer), the
 * I/O outcomes, the TLS set-up (transport_tls.c), the response reader
 * (transport_response.c) and the proxy choice (transport_proxy.c). */
#ifndef KMS_TRANSPORT_NATIVE_H
#define KMS_TRANSPORT_NATIVE_H

#include <openssl/ssl.h>
#include "internal.h"

/* What an I/O step ended with. */
typedef enum kmsi_io {
  KMSI_IO_OK = 0,
  KMSI_IO_TIMEOUT,   /* nothing moved for the whole timeout */
  KMSI_IO_EOF,       /* the peer closed the connection cleanly */
  KMSI_IO_ERROR,     /* reset, broken pipe, a TLS record error */
  KMSI_IO_NOMEM,
  KMSI_IO_TOO_LARGE, /* the response is over the size cap */
  KMSI_IO_MALFORMED  /* not an HTTP/1.x response */
} kmsi_io;

#define KMSI_READ_BUF 16384

/* One connection: fd -1 when there is none. */
typedef struct kmsi_conn {
  int fd;
  SSL *ssl;              /* NULL for plain HTTP (and a proxy's leg) */
  char rbuf[KMSI_READ_BUF];
  size_t rpos, rlen;     /* unread bytes: rbuf[rpos..rlen) */
  long timeout_ms;       /* per-step inactivity limit; 0: none */
  int recv_errno, send_errno; /* the TLS socket's last hard failure */
} kmsi_conn;

/* {===== connection I/O (transport_native.c) ===== */
/* Writes p[0..n) entirely; each wait is bounded by c->timeout_ms. */
kmsi_io kmsi_conn_write(kmsi_conn *c, const char *p, size_t n);
/* Reads more bytes into c->rbuf (compacting it first). */
kmsi_io kmsi_conn_fill(kmsi_conn *c);
/* Waits until fd is ready for events or deadline (monotonic ms, < 0:
 * none) passes: 1 ready, 0 timed out, -1 error. */
int kmsi_wait_fd(int fd, short events, double deadline);
/* Monotonic clock in milliseconds. */
double kmsi_mono_ms(void);
/* }===== */

/* {===== TLS (transport_tls.c) ===== */
typedef struct kmsi_tls kmsi_tls;
/* A lazily made SSL_CTX: nothing of libssl runs until the first https
 * request. */
kmsi_tls *kmsi_tls_new(const kmsi_allocator *a);
void kmsi_tls_free(kmsi_tls *t);
/* Makes (or keeps) the context for these settings. Returns 1 when it was
 * (re)made, so that a connection made under other settings is dropped; 0
 * when kept; -1 with err set. */
int kmsi_tls_prepare(kmsi_tls *t, const char *ca_bundle, int verify,
                     const char *url, kms_error *err);
/* Runs the handshake on c (connected) for host:port by deadline, with SNI
 * and hostname or IP verification when verify is on. The failure is
 * reported in err with transport_curl.c's text for url. */
kms_status kmsi_tls_handshake(kmsi_tls *t, kmsi_conn *c, const char *host,
                              int port, int verify, double deadline,
                              const char *url, kms_error *err);
/* }===== */

/* {===== responses (transport_response.c) ===== */
/* Reads one response to method on c into resp (interim 1xx skipped;
 * headers as "name: value\n" lines; the body by Content-Length, chunks or
 * until close; none for HEAD, CONNECT 2xx, 1xx, 204, 304). *got_any is
 * set once a byte came; *keep tells whether the connection can carry
 * another request. A body cut short by a clean close is kept as it came
 * (KMSI_IO_OK) once the headers are complete. */
kmsi_io kmsi_response_read(kmsi_conn *c, const char *method,
                           kms_http_response *resp, int *got_any,
                           int *keep);
/* }===== */

/* {===== proxies (transport_proxy.c) ===== */
typedef struct kmsi_proxy {
  char host[256];        /* the proxy's host (no brackets) */
  int port;
} kmsi_proxy;
/* The proxy the environment gives for a request to host (hostport: with
 * its explicit port) over https or http, as botocore picks it:
 * https_proxy/HTTPS_PROXY or http_proxy/HTTP_PROXY (lower case first),
 * unless no_proxy/NO_PROXY names the host. Returns 1 with *out filled, 0
 * for a direct connection, -1 (KMS_ERR_CONFIG in err, naming the
 * variable, never its value) for a proxy URL this transport cannot use. */
int kmsi_proxy_for(int https, const char *host, const char *hostport,
                   kmsi_proxy *out, kms_error *err);
/* Splits "host[:port]" or "[v6][:port]" into host (no brackets) and port
 * (default_port when absent). 0 when it does not fit or is malformed. */
int kmsi_split_hostport(const char *hostport, int default_port, char *host,
                        size_t size, int *port);
/* }===== */

#endif /* KMS_TRANSPORT_NATIVE_H */
