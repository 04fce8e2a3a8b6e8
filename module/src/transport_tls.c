/* transport_tls.c - TLS for the native transport over libssl: the
 * SSL_CTX is made only when an https URL is first used (a plain-http
 * process never initialises libssl), SNI, hostname or IP verification,
 * the CA bundle or the system's paths, a socket BIO that never raises
 * SIGPIPE, and handshake failures in transport_curl.c's words. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "transport_native.h"

struct kmsi_tls {
  kmsi_allocator a;
  SSL_CTX *ctx;
  BIO_METHOD *bio;
  char *ca;                 /* the settings ctx was made with */
  int verify;
};

/* {===== a socket BIO: send with MSG_NOSIGNAL, so a peer that went away
 * is an error, never a signal the host did not ask for ===== */

static int bio_write(BIO *b, const char *p, int n)
{
  kmsi_conn *c = BIO_get_data(b);
  ssize_t w = send(c->fd, p, (size_t)n, MSG_NOSIGNAL);

  BIO_clear_retry_flags(b);
  if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    BIO_set_retry_write(b);
  else if (w < 0)
    c->send_errno = errno;
  return (int)w;
}

static int bio_read(BIO *b, char *p, int n)
{
  kmsi_conn *c = BIO_get_data(b);
  ssize_t r = recv(c->fd, p, (size_t)n, 0);

  BIO_clear_retry_flags(b);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    BIO_set_retry_read(b);
  else if (r < 0)
    c->recv_errno = errno;
  return (int)r;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
  (void)b, (void)num, (void)ptr;
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
  BIO_set_init(b, 1);
  return 1;
}

static BIO_METHOD *bio_method(void)
{
  BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                               "kmscks socket");
  if (m && (!BIO_meth_set_write(m, bio_write) ||
            !BIO_meth_set_read(m, bio_read) ||
            !BIO_meth_set_ctrl(m, bio_ctrl) ||
            !BIO_meth_set_create(m, bio_create))) {
    BIO_meth_free(m);
    m = NULL;
  }
  return m;
}
/* }===== */

kmsi_tls *kmsi_tls_new(const kmsi_allocator *a)
{
  kmsi_tls *t = kmsi_calloc(a, sizeof *t);
  if (t)
    t->a = *a;
  return t;
}

static void drop_ctx(kmsi_tls *t)
{
  SSL_CTX_free(t->ctx);
  t->ctx = NULL;
  if (t->ca)
    kmsi_free(&t->a, t->ca, strlen(t->ca) + 1);
  t->ca = NULL;
}

void kmsi_tls_free(kmsi_tls *t)
{
  if (!t)
    return;
  drop_ctx(t);
  BIO_meth_free(t->bio);
  kmsi_free(&t->a, t, sizeof *t);
}

/* The trust settings: the CA bundle (libcurl's text when it cannot be
 * used) or the system's paths; or no verification at all. */
static kms_status set_trust(SSL_CTX *ctx, const char *ca, int verify,
                            const char *url, kms_error *err)
{
  SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
  if (!verify)
    return KMS_OK;
  if (ca ? SSL_CTX_load_verify_locations(ctx, ca, NULL) == 1
         : SSL_CTX_set_default_verify_paths(ctx) == 1)
    return KMS_OK;
  ERR_clear_error();
  return kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s error "
                    "setting certificate file: %s", url,
                    ca ? ca : "(system default)");
}

int kmsi_tls_prepare(kmsi_tls *t, const char *ca, int verify,
                     const char *url, kms_error *err)
{
  static const unsigned char alpn[] = "\x08http/1.1";

  if (t->ctx && t->verify == verify &&
      ((!ca && !t->ca) || (ca && t->ca && strcmp(ca, t->ca) == 0)))
    return 0;
  drop_ctx(t);
  if (!t->bio)
    t->bio = bio_method();
  t->ctx = t->bio ? SSL_CTX_new(TLS_client_method()) : NULL;
  if (ca)
    t->ca = kmsi_strndup(&t->a, ca, strlen(ca));
  if (!t->ctx || (ca && !t->ca)) {
    drop_ctx(t);
    ERR_clear_error();
    kmsi_error(err, KMS_ERR_NOMEM, "transport: out of memory");
    return -1;
  }
  t->verify = verify;
  SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_alpn_protos(t->ctx, alpn, sizeof alpn - 1);
  if (set_trust(t->ctx, ca, verify, url, err) != KMS_OK) {
    drop_ctx(t);
    return -1;
  }
  return 1;
}

/* {===== the handshake ===== */

static int is_ip(const char *host)
{
  unsigned char a[16];
  return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static const char *ssl_error_name(int e)
{
  switch (e) {
  case SSL_ERROR_NONE: return "SSL_ERROR_NONE";
  case SSL_ERROR_SSL: return "SSL_ERROR_SSL";
  case SSL_ERROR_WANT_READ: return "SSL_ERROR_WANT_READ";
  case SSL_ERROR_WANT_WRITE: return "SSL_ERROR_WANT_WRITE";
  case SSL_ERROR_WANT_X509_LOOKUP: return "SSL_ERROR_WANT_X509_LOOKUP";
  case SSL_ERROR_SYSCALL: return "SSL_ERROR_SYSCALL";
  case SSL_ERROR_ZERO_RETURN: return "SSL_ERROR_ZERO_RETURN";
  case SSL_ERROR_WANT_CONNECT: return "SSL_ERROR_WANT_CONNECT";
  case SSL_ERROR_WANT_ACCEPT: return "SSL_ERROR_WANT_ACCEPT";
  default: return "SSL_ERROR unknown";
  }
}

/* A failed handshake in libcurl's words as transport_curl.c reports them:
 * a verification result first (a name that does not match reads as
 * the AWS CLI's words), else the socket's failure, else the first
 * OpenSSL error, else the SSL_connect outcome. */
static kms_status handshake_error(SSL *ssl, int ret, const kmsi_conn *c,
                                  const char *host, int port,
                                  const char *url, kms_error *err)
{
  long vr = SSL_get_verify_result(ssl);
  int e = SSL_get_error(ssl, ret);
  unsigned long code = ERR_get_error();
  char detail[256];
  kms_status st;

  if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
    st = kmsi_error_tls_mismatch(err, url, host);
  else if (vr != X509_V_OK)
    st = kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s [SSL: "
                    "CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                    "%s", url, X509_verify_cert_error_string(vr));
  else if (c->recv_errno || c->send_errno)
    st = kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s %s "
                    "failure: %s", url, c->recv_errno ? "Recv" : "Send",
                    strerror(c->recv_errno ? c->recv_errno : c->send_errno));
  else if (code) {
    ERR_error_string_n(code, detail, sizeof detail);
    st = kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s "
                    "OpenSSL/%s: %s", url,
                    OpenSSL_version(OPENSSL_VERSION_STRING), detail);
  } else
    st = kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s OpenSSL "
                    "SSL_connect: %s in connection to %s:%d ", url,
                    ssl_error_name(e), host, port);
  ERR_clear_error();
  return st;
}

/* The SSL object for c, with SNI and the name or address to verify. */
static SSL *new_ssl(kmsi_tls *t, kmsi_conn *c, const char *host, int verify)
{
  SSL *ssl = SSL_new(t->ctx);
  BIO *b = ssl ? BIO_new(t->bio) : NULL;
  int ok = b != NULL, ip = is_ip(host);

  if (!ok) {
    SSL_free(ssl);
    return NULL;
  }
  BIO_set_data(b, c);
  SSL_set_bio(ssl, b, b);
  if (!ip)
    ok = SSL_set_tlsext_host_name(ssl, host) == 1;
  if (ok && verify)
    ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
            : SSL_set1_host(ssl, host) == 1;
  if (!ok) {
    SSL_free(ssl);
    return NULL;
  }
  SSL_set_connect_state(ssl);
  return ssl;
}

kms_status kmsi_tls_handshake(kmsi_tls *t, kmsi_conn *c, const char *host,
                              int port, int verify, double deadline,
                              const char *url, kms_error *err)
{
  SSL *ssl = new_ssl(t, c, host, verify);
  int r, e, w;

  c->recv_errno = c->send_errno = 0;
  if (!ssl) {
    ERR_clear_error();
    return kmsi_error(err, KMS_ERR_NOMEM, "transport: out of memory");
  }
  for (;;) {
    r = SSL_connect(ssl);
    if (r == 1)
      break;
    e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      kms_status st = handshake_error(ssl, r, c, host, port, url, err);
      SSL_free(ssl);
      return st;
    }
    w = kmsi_wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                     deadline);
    if (w <= 0) {
      SSL_free(ssl);
      ERR_clear_error();
      return w == 0 ? kmsi_error(err, KMS_ERR_CONNECT_TIMEOUT, "Connect "
                                 "timeout on endpoint URL: \"%s\"", url)
                    : kmsi_error(err, KMS_ERR_TLS, "SSL validation failed "
                                 "for %s OpenSSL SSL_connect: "
                                 "SSL_ERROR_SYSCALL in connection to %s:%d ",
                                 url, host, port);
    }
  }
  /* A close without close_notify ends a response read to the close. */
  SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
  c->ssl = ssl;
  return KMS_OK;
}
/* }===== */
