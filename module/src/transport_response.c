/* transport_response.c - reads one HTTP/1.x response from a native
 * transport connection: the status line (interim 1xx skipped), headers as
 * "name: value\n" lines as transport_curl.c collects them, and the body
 * framed by Content-Length, chunked transfer-encoding or the close, with
 * libcurl's size cap and its leniency for a body cut short. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "transport_native.h"

/* A response larger than this is refused (a KMS answer is a few KB). */
#define MAX_RESPONSE_BYTES (16u * 1024 * 1024)
/* One status, header or chunk-size line at most (libcurl's limit). */
#define MAX_LINE (100u * 1024)

typedef enum framing { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE }
    framing;

/* What the headers said about the body and the connection. */
typedef struct head {
  framing body;
  unsigned long long length;
  int close;
} head;

/* Reads one line into line, without its CR LF. */
static kmsi_io read_line(kmsi_conn *c, kms_buf *line, int *got_any)
{
  kmsi_io io;

  kmsi_buf_reset(line);
  for (;;) {
    const char *p = c->rbuf + c->rpos;
    const char *nl = memchr(p, '\n', c->rlen - c->rpos);
    size_t n = nl ? (size_t)(nl - p) + 1 : c->rlen - c->rpos;

    if (line->len + n > MAX_LINE)
      return KMSI_IO_MALFORMED;
    if (n && kmsi_buf_append(line, p, n) != KMS_OK)
      return KMSI_IO_NOMEM;
    c->rpos += n;
    if (nl) {
      while (line->len && (line->data[line->len - 1] == '\n' ||
                           line->data[line->len - 1] == '\r'))
        line->data[--line->len] = '\0';
      return KMSI_IO_OK;
    }
    io = kmsi_conn_fill(c);
    if (io != KMSI_IO_OK)
      return io;
    *got_any = 1;
  }
}

/* "HTTP/1.x NNN ...": the status, or 0 when the line is not one. */
static long status_of(const char *s, size_t len, int *http10)
{
  if (len < 12 || strncmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' ||
      s[7] > '9' || s[8] != ' ' || s[9] < '1' || s[9] > '5' ||
      s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9' ||
      (len > 12 && s[12] != ' '))
    return 0;
  *http10 = s[7] == '0';
  return (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
}

/* 1 when the header line is "name:" (case-insensitive) and sets *value to
 * the value without leading blanks. */
static int header_is(const char *line, const char *name, const char **value)
{
  size_t n = strlen(name);
  if (strncasecmp(line, name, n) != 0 || line[n] != ':')
    return 0;
  line += n + 1;
  while (*line == ' ' || *line == '\t')
    line++;
  *value = line;
  return 1;
}

/* 1 when s holds word, case-insensitive. */
static int has_word(const char *s, const char *word)
{
  size_t n = strlen(word);
  for (; *s; s++)
    if (strncasecmp(s, word, n) == 0)
      return 1;
  return 0;
}

/* Notes what a header line says about framing and keep-alive. */
static kmsi_io note_header(const char *line, head *h)
{
  const char *v;
  char *end;

  if (header_is(line, "Content-Length", &v)) {
    if (*v < '0' || *v > '9')
      return KMSI_IO_MALFORMED;
    h->length = strtoull(v, &end, 10);
    while (*end == ' ' || *end == '\t')
      end++;
    if (*end)
      return KMSI_IO_MALFORMED;
    if (h->body != BODY_CHUNKED)
      h->body = BODY_LENGTH;
  } else if (header_is(line, "Transfer-Encoding", &v)) {
    if (has_word(v, "chunked"))
      h->body = BODY_CHUNKED;
  } else if (header_is(line, "Connection", &v)) {
    if (has_word(v, "close"))
      h->close = 1;
    else if (has_word(v, "keep-alive"))
      h->close = 0;
  }
  return KMSI_IO_OK;
}

/* Appends a header line and "\n" to resp->headers, within the cap. */
static kmsi_io keep_line(kms_buf *headers, const kms_buf *line)
{
  if (headers->len + line->len + 1 > MAX_RESPONSE_BYTES)
    return KMSI_IO_TOO_LARGE;
  if (kmsi_buf_append(headers, line->data, line->len) != KMS_OK ||
      kmsi_buf_putc(headers, '\n') != KMS_OK)
    return KMSI_IO_NOMEM;
  return KMSI_IO_OK;
}

/* The status line and headers of the final response (1xx forgotten). */
static kmsi_io read_head(kmsi_conn *c, kms_buf *line, kms_http_response *resp,
                         head *h, int *got_any)
{
  kmsi_io io;
  int http10 = 0;

  do {
    io = read_line(c, line, got_any);
    if (io != KMSI_IO_OK)
      return io;
    *got_any = 1;
    resp->status = status_of(line->data, line->len, &http10);
    if (!resp->status)
      return KMSI_IO_MALFORMED;
    kmsi_buf_reset(&resp->headers);
    memset(h, 0, sizeof *h);
    h->body = BODY_CLOSE; /* unless the headers frame it */
    h->close = http10;
    for (;;) {
      io = read_line(c, line, got_any);
      if (io == KMSI_IO_EOF) {
        /* Closed inside the headers: the response ends there, a part
         * line dropped, as libcurl takes it; but an interim 1xx is no
         * response at all (botocore: the connection was closed). */
        if (resp->status < 200)
          return KMSI_IO_EOF;
        h->body = BODY_NONE;
        h->close = 1;
        return KMSI_IO_OK;
      }
      if (io != KMSI_IO_OK)
        return io;
      if (!line->len)
        break;
      io = keep_line(&resp->headers, line);
      if (io == KMSI_IO_OK)
        io = note_header(line->data, h);
      if (io != KMSI_IO_OK)
        return io;
    }
  } while (resp->status < 200);
  return KMSI_IO_OK;
}

/* Moves up to max buffered or newly read bytes into the body. */
static kmsi_io body_step(kmsi_conn *c, kms_buf *body, unsigned long long max)
{
  size_t n;
  kmsi_io io;

  if (c->rpos == c->rlen) {
    io = kmsi_conn_fill(c);
    if (io != KMSI_IO_OK)
      return io;
  }
  n = c->rlen - c->rpos;
  if (n > max)
    n = (size_t)max;
  if (body->len + n > MAX_RESPONSE_BYTES)
    return KMSI_IO_TOO_LARGE;
  if (!body->len)
    body->secret = 1; /* an error body could echo request data */
  if (kmsi_buf_append(body, c->rbuf + c->rpos, n) != KMS_OK)
    return KMSI_IO_NOMEM;
  c->rpos += n;
  return KMSI_IO_OK;
}

static kmsi_io read_length(kmsi_conn *c, kms_buf *body,
                           unsigned long long left)
{
  kmsi_io io = KMSI_IO_OK;
  size_t before;

  while (left && io == KMSI_IO_OK) {
    before = body->len;
    io = body_step(c, body, left);
    left -= body->len - before;
  }
  return io;
}

/* Chunks until the last one, then the trailer (its lines join the
 * headers, as libcurl hands them to the header callback). */
static kmsi_io read_chunked(kmsi_conn *c, kms_buf *line,
                            kms_http_response *resp, int *got_any)
{
  unsigned long long size;
  char *end;
  kmsi_io io;

  for (;;) {
    io = read_line(c, line, got_any);
    if (io != KMSI_IO_OK)
      return io;
    size = strtoull(line->data, &end, 16);
    if (end == line->data || (*end && *end != ';' && *end != ' '))
      return KMSI_IO_MALFORMED;
    if (!size)
      break;
    io = read_length(c, &resp->body, size);
    if (io == KMSI_IO_OK)
      io = read_line(c, line, got_any);
    if (io != KMSI_IO_OK)
      return io;
    if (line->len)
      return KMSI_IO_MALFORMED;
  }
  for (;;) {
    io = read_line(c, line, got_any);
    if (io != KMSI_IO_OK || !line->len)
      return io;
    io = keep_line(&resp->headers, line);
    if (io != KMSI_IO_OK)
      return io;
  }
}

static kmsi_io read_to_close(kmsi_conn *c, kms_buf *body)
{
  kmsi_io io;
  do
    io = body_step(c, body, MAX_RESPONSE_BYTES);
  while (io == KMSI_IO_OK);
  return io;
}

kmsi_io kmsi_response_read(kmsi_conn *c, const char *method,
                           kms_http_response *resp, int *got_any,
                           int *keep)
{
  kmsi_allocator a;
  kms_buf line;
  head h;
  kmsi_io io;

  *keep = 0;
  kmsi_allocator_init(&a, resp->headers.alloc, resp->headers.alloc_ud);
  kmsi_buf_init(&line, &a, 0);
  io = read_head(c, &line, resp, &h, got_any);
  if (io != KMSI_IO_OK)
    goto cleanup;
  if (strcmp(method, "HEAD") == 0 || resp->status == 204 ||
      resp->status == 304 || strcmp(method, "CONNECT") == 0)
    h.body = BODY_NONE;
  if (h.body == BODY_LENGTH)
    io = read_length(c, &resp->body, h.length);
  else if (h.body == BODY_CHUNKED)
    io = read_chunked(c, &line, resp, got_any);
  else if (h.body == BODY_CLOSE)
    io = read_to_close(c, &resp->body);
  if (io == KMSI_IO_EOF) {
    /* Cut short by a clean close: taken as it came, as urllib3 (and so
     * the AWS CLI) and libcurl's transport do. */
    io = KMSI_IO_OK;
    h.close = 1;
  }
  *keep = io == KMSI_IO_OK && !h.close && h.body != BODY_CLOSE;
cleanup:
  kms_buf_free(&line);
  return io;
}
