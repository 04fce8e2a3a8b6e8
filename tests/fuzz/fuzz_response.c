/* fuzz_response.c - libFuzzer target for what a server sends back: the
 * native transport's HTTP/1.x response reader (status line, interim 1xx,
 * headers, Content-Length, chunked and close-delimited bodies), then
 * kms_response_check's botocore-style error mapping and the retry
 * classification. Input: one flags byte (bit 0: the request was a HEAD;
 * bits 1-2: the operation; bit 3: a read that ends in a reset rather than
 * a clean close), then the bytes the server sends before it closes. The
 * bytes go through a socketpair, so the reader runs on a real socket.
 * Traps when an invariant breaks. */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "transport_native.h"
#include "fuzz.h"

/* Writes all of p[0..n) to fd (n is at most libFuzzer's max_len, well
 * under a socket buffer, so this never blocks). */
static int write_all(int fd, const uint8_t *p, size_t n)
{
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w <= 0)
      return 0;
    p += w;
    n -= (size_t)w;
  }
  return 1;
}

/* The header text is lines ending in "\n", each as the server sent it
 * without its line end ("name: value", or a folded continuation, as
 * libcurl hands them over): NUL-terminated, no empty line; looking a
 * header up finds a NUL-terminated value. */
static void check_headers(const kms_buf *h)
{
  const char *p = h->data, *end;

  if (h->len == 0)
    return;
  end = h->data + h->len;
  CHECK(h->data && h->data[h->len] == '\0');
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    CHECK(nl != NULL && nl > p);
    p = nl + 1;
  }
}

static void check_lookup(const kms_http_response *resp)
{
  char v[64];
  memset(v, 'x', sizeof v);
  if (kms_http_response_header(resp, "x-amzn-RequestId", v, sizeof v))
    CHECK(memchr(v, '\0', sizeof v) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  kmsi_conn c;
  kms_http_response resp;
  kms_error err;
  kms_operation op;
  const char *method;
  int sv[2], got_any = 0, keep = 0;
  kmsi_io io;

  if (size < 1)
    return 0;
  method = (data[0] & 1) ? "HEAD" : "POST";
  op = (kms_operation)((data[0] >> 1) & 3);
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 0;
  if (!write_all(sv[1], data + 1, size - 1)) {
    close(sv[0]);
    close(sv[1]);
    return 0;
  }
  if (data[0] & 8) {
    /* unread data in the receive queue makes close() a reset on TCP; on
     * a socketpair the reader simply sees the end after the bytes */
    shutdown(sv[1], SHUT_RDWR);
  }
  close(sv[1]);

  memset(&c, 0, sizeof c);
  c.fd = sv[0];
  c.timeout_ms = 2000;   /* the peer is closed: never waited for */
  kms_http_response_init(&resp, NULL, NULL);
  io = kmsi_response_read(&c, method, &resp, &got_any, &keep);
  close(sv[0]);

  CHECK(io >= KMSI_IO_OK && io <= KMSI_IO_MALFORMED);
  CHECK(io != KMSI_IO_TIMEOUT);         /* a closed peer never times out */
  CHECK(got_any == (size > 1) || io == KMSI_IO_NOMEM);
  CHECK(resp.body.len + resp.headers.len <= 2 * (size - 1) + 64);
  if (io == KMSI_IO_OK) {
    CHECK(resp.status >= 200 && resp.status <= 599); /* a final status */
    check_headers(&resp.headers);
    check_lookup(&resp);
    if (strcmp(method, "HEAD") == 0 || resp.status == 204 ||
        resp.status == 304)
      CHECK(resp.body.len == 0);
    memset(&err, 0, sizeof err);
    if (kms_response_check(op, &resp, &err) == KMS_OK) {
      CHECK(resp.status < 300);
    } else {
      CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
      CHECK(err.http_status == resp.status);
      CHECK(err.retryable == kms_error_is_retryable(&err));
    }
  }
  kms_http_response_free(&resp);
  return 0;
}
