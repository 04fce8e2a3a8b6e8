/* http.c - the kms_http message (method, parsed URL, ordered headers with
 * duplicates, body in wiped memory) that the encoder builds, the signer
 * signs and a transport sends; its printable form with secrets redacted;
 * and the kms_http_response helpers a transport fills. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

/* One header. Its bytes, "name\0value\0", live in the message's header
 * arena (wiped when it shrinks, moves or is freed, because Authorization
 * and X-Amz-Security-Token are secret). Offsets, not pointers: the arena
 * moves when it grows. */
typedef struct header {
  size_t off;
  size_t name_len;
  size_t value_len;
} header;

/* A signed KMS request (6 headers, ~450 bytes, a short URL, a body of a
 * few hundred bytes) fits in the inline storage: building and signing it
 * allocates only the object. */
#define INLINE_HEADERS 8
#define INLINE_HDATA 512
#define INLINE_STRINGS 256
#define INLINE_BODY 512

struct kms_http {
  kmsi_allocator a;
  /* One block holding, NUL-separated: method, scheme, hostport, path,
   * query, url (whose tail is the target). Rebuilt whole when the query
   * changes. */
  char *strings;         /* inline_strings or a heap block */
  size_t strings_size;
  const char *method;
  const char *scheme;
  const char *hostport;  /* "host[:port]" as the Host header carries it */
  const char *path;      /* raw, never empty */
  const char *query;     /* raw, without '?'; NULL when the URL had none */
  const char *url;
  const char *target;    /* path ["?" query], the request-line target */
  size_t path_len;
  size_t query_len;
  header *hdrs;          /* inline_hdrs or a heap array */
  size_t nhdrs;
  size_t cap;
  char *hdata;           /* header arena: inline_hdata or a heap block */
  size_t hlen;
  size_t hcap;
  /* The body, NUL-terminated: secret (the JSON may carry
   * KeyStorePassword), wiped when replaced or freed. */
  char *body;            /* inline_body or a heap block of body_cap */
  size_t body_len;
  size_t body_cap;
  header inline_hdrs[INLINE_HEADERS];
  char inline_strings[INLINE_STRINGS];
  char inline_hdata[INLINE_HDATA];
  char inline_body[INLINE_BODY];
};

/* {=====================================================================
 * Character classes and small helpers
 * ===================================================================== */

/* RFC 9110 token characters (method, header names). */
static const unsigned char tchar[256] = {
  ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
  ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
  ['`'] = 1, ['|'] = 1, ['~'] = 1,
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
  ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
  ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
  ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
  ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
  ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
  ['Y'] = 1, ['Z'] = 1,
  ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
  ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
  ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
  ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
  ['y'] = 1, ['z'] = 1,
};

static int is_token(const char *s, size_t n)
{
  size_t i;
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++)
    if (!tchar[(unsigned char)s[i]])
      return 0;
  return 1;
}

static int is_ctl(unsigned char c)
{
  return c < 0x20 || c == 0x7f;
}

static char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

#define ONES 0x0101010101010101u
#define HIGHS 0x8080808080808080u

static uint64_t load64(const char *p)
{
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

/* 1 when a byte of x is a control character (below 0x20, or 0x7f); may
 * also flag a word whose first such byte comes before. */
static int ctl_word(uint64_t x)
{
  uint64_t d = x ^ (ONES * 0x7f);
  return (((x - ONES * 0x20) & ~x) | ((d - ONES) & ~d)) & HIGHS ? 1 : 0;
}

/* The first control character of s[0..n), or NULL: eight bytes at a
 * time, the last word overlapping the one before, then byte by byte. */
static const char *find_ctl(const char *s, size_t n)
{
  size_t i = 0;
  if (n >= 8) {
    for (; i + 8 <= n; i += 8)
      if (ctl_word(load64(s + i)))
        break;
    if (i + 8 > n && !ctl_word(load64(s + n - 8)))
      return NULL;
  }
  for (; i < n; i++)
    if (is_ctl((unsigned char)s[i]))
      return s + i;
  return NULL;
}

/* ASCII lower case of eight bytes at once: 0x20 is added to the bytes
 * 'A'..'Z' (found on the low seven bits, so no carry crosses bytes). */
static uint64_t lower_word(uint64_t x)
{
  uint64_t low7 = x & ~HIGHS;
  uint64_t ge_a = low7 + ONES * (0x80 - 'A');
  uint64_t gt_z = low7 + ONES * (0x7f - 'Z');
  return x | (((ge_a & ~gt_z & ~x) & HIGHS) >> 2);
}

/* Case-insensitive (ASCII) equality of a[0..alen) and the string b. */
static int name_eq(const char *a, size_t alen, const char *b)
{
  size_t i;
  for (i = 0; i < alen; i++)
    if (b[i] == '\0' || lower(a[i]) != lower(b[i]))
      return 0;
  return b[alen] == '\0';
}

static const char *hname(const kms_http *m, const header *h)
{
  return m->hdata + h->off;
}

static const char *hvalue(const kms_http *m, const header *h)
{
  return m->hdata + h->off + h->name_len + 1;
}

/* Frees a block that may be one of the message's inline buffers, wiping
 * its first n bytes either way. */
static void release(kms_http *m, char *p, const char *inl, size_t n,
                    size_t cap)
{
  kmsi_wipe(p, n);
  if (p && p != inl)
    kmsi_free(&m->a, p, cap);
}

/* How many bytes of the string block are wiped when it is replaced or
 * freed: all of them when there is a query (a presigned URL carries
 * X-Amz-Security-Token there), none otherwise (a method, a scheme, a host
 * and a path are not secret). */
static size_t strings_secret(const kms_http *m)
{
  return m->query ? m->strings_size : 0;
}

/* }===================================================================== */

/* {=====================================================================
 * Construction
 * ===================================================================== */

/* Builds the string block from its parts, which may point into the old
 * block: the new block is complete before the old one is released. query
 * NULL means "no '?'". The block holds the query, which a presigned URL
 * makes secret (X-Amz-Security-Token), so it is wiped when replaced. */
static kms_status set_parts(kms_http *m, const char *method,
                            const char *scheme, const char *hostport,
                            const char *path, size_t path_len,
                            const char *query, size_t query_len,
                            kms_error *err)
{
  size_t ml = strlen(method), sl = strlen(scheme), hl = strlen(hostport);
  size_t qpart = query ? query_len + 1 : 0;
  size_t size, o = 0;
  char tmp[INLINE_STRINGS];
  char *blk;

  size = ml + 1 + sl + 1 + hl + 1 + path_len + 1 + query_len + 1 +
         (sl + 3 + hl + path_len + qpart + 1);
  /* Inline when it fits; through tmp when the old block is the inline
   * one (the parts may point into it). */
  if (size > sizeof tmp)
    blk = kmsi_malloc(&m->a, size);
  else
    blk = m->strings == m->inline_strings ? tmp : m->inline_strings;
  if (!blk)
    return kmsi_error(err, KMS_ERR_NOMEM, "http: out of memory");

#define PUT(s, n)                                                         \
  do {                                                                    \
    if (n)                                                                \
      memcpy(blk + o, (s), (n));                                          \
    o += (n);                                                             \
  } while (0)

  PUT(method, ml + 1);
  PUT(scheme, sl + 1);
  PUT(hostport, hl + 1);
  PUT(path, path_len);
  blk[o++] = '\0';
  PUT(query ? query : "", query_len);
  blk[o++] = '\0';
  /* url: scheme://hostport path [?query]; its tail is the target */
  PUT(scheme, sl);
  PUT("://", 3);
  PUT(hostport, hl);
  PUT(path, path_len);
  if (query) {
    blk[o++] = '?';
    PUT(query, query_len);
  }
  blk[o++] = '\0';
#undef PUT

  if (m->strings != blk)
    release(m, m->strings, m->inline_strings, strings_secret(m),
            m->strings_size);
  if (blk == tmp) {
    memcpy(m->inline_strings, tmp, size);
    if (query)
      kmsi_wipe(tmp, size);
    blk = m->inline_strings;
  }
  m->strings = blk;
  m->strings_size = size;

  /* Re-point every field into the new block. */
  o = 0;
  m->method = blk + o;
  o += ml + 1;
  m->scheme = blk + o;
  o += sl + 1;
  m->hostport = blk + o;
  o += hl + 1;
  m->path = blk + o;
  m->path_len = path_len;
  o += path_len + 1;
  m->query = query ? blk + o : NULL;
  m->query_len = query ? query_len : 0;
  o += query_len + 1;
  m->url = blk + o;
  m->target = m->url + sl + 3 + hl;
  return KMS_OK;
}

static kms_http *http_alloc(kms_alloc_fn alloc, void *alloc_ud,
                            kms_error *err)
{
  kmsi_allocator a;
  kms_http *m;

  kmsi_allocator_init(&a, alloc, alloc_ud);
  /* Not calloc: the inline buffers need no zeroing. */
  m = kmsi_malloc(&a, sizeof *m);
  if (!m) {
    kmsi_error(err, KMS_ERR_NOMEM, "http: out of memory");
    return NULL;
  }
  memset(m, 0, offsetof(kms_http, inline_hdrs));
  m->a = a;
  m->hdrs = m->inline_hdrs;
  m->cap = INLINE_HEADERS;
  m->hdata = m->inline_hdata;
  m->hcap = INLINE_HDATA;
  m->body = m->inline_body;
  m->body[0] = '\0';
  m->body_cap = INLINE_BODY;
  return m;
}

/* Splits "scheme://authority[/path][?query][#fragment]" and fills the
 * message's strings. The host part is lower-cased and a port equal to
 * the scheme's default (80, 443) is dropped, so hostport is what an HTTP
 * client (and botocore's signer) puts in the Host header. The path and
 * query are kept raw; a missing path is "/"; the fragment is dropped.
 * Control characters anywhere, userinfo ("user@") and bad ports are
 * KMS_ERR_INVALID_ARG. */
static kms_status parse_url(kms_http *m, const char *method, const char *url,
                            kms_error *err)
{
  kms_status st = KMS_ERR_INVALID_ARG;
  const char *p, *auth, *auth_end, *host_end, *path, *path_end, *q;
  char scheme[16];
  char hostport[300];
  size_t i, sl, hl;
  unsigned long port = 0;
  int has_port = 0;

  if (find_ctl(url, strlen(url))) {
    kmsi_error(err, st, "url: control character in the URL");
    goto cleanup;
  }
  p = strstr(url, "://");
  sl = p ? (size_t)(p - url) : 0;
  if (!p || sl == 0 || sl >= sizeof scheme) {
    kmsi_error(err, st, "url: scheme is missing (expected "
               "http://<hostname>/ or https://<hostname>/)");
    goto cleanup;
  }
  for (i = 0; i < sl; i++) {
    char c = lower(url[i]);
    if (!((c >= 'a' && c <= 'z') ||
          (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' ||
                     c == '.')))) {
      kmsi_error(err, st, "url: bad scheme");
      goto cleanup;
    }
    scheme[i] = c;
  }
  scheme[sl] = '\0';

  auth = p + 3;
  auth_end = auth + strcspn(auth, "/?#");
  if (auth_end == auth) {
    kmsi_error(err, st, "url: host is missing");
    goto cleanup;
  }
  if (memchr(auth, '@', (size_t)(auth_end - auth)) ||
      memchr(auth, ' ', (size_t)(auth_end - auth))) {
    kmsi_error(err, st, "url: bad host");
    goto cleanup;
  }
  if (*auth == '[') {
    const char *rb = memchr(auth, ']', (size_t)(auth_end - auth));
    if (!rb) {
      kmsi_error(err, st, "url: bad IPv6 host");
      goto cleanup;
    }
    host_end = rb + 1;
  } else {
    host_end = memchr(auth, ':', (size_t)(auth_end - auth));
    if (!host_end)
      host_end = auth_end;
  }
  if (host_end == auth) {
    kmsi_error(err, st, "url: host is missing");
    goto cleanup;
  }
  if (host_end < auth_end) {
    const char *d = host_end + 1;
    if (*host_end != ':' || d == auth_end || auth_end - d > 5) {
      kmsi_error(err, st, "url: bad port");
      goto cleanup;
    }
    for (; d < auth_end; d++) {
      if (*d < '0' || *d > '9') {
        kmsi_error(err, st, "url: bad port");
        goto cleanup;
      }
      port = port * 10 + (unsigned long)(*d - '0');
    }
    if (port == 0 || port > 65535) {
      kmsi_error(err, st, "url: bad port");
      goto cleanup;
    }
    has_port = 1;
  }
  hl = (size_t)(host_end - auth);
  if (hl + 7 > sizeof hostport) {
    kmsi_error(err, st, "url: host is too long");
    goto cleanup;
  }
  /* Lowered a word at a time: hostport has room for the last word
   * (hl + 7 fits), whose bytes past hl are zeroed first. */
  memcpy(hostport, auth, hl);
  memset(hostport + hl, 0, 7);
  for (i = 0; i < hl; i += 8) {
    uint64_t x = lower_word(load64(hostport + i));
    memcpy(hostport + i, &x, 8);
  }
  hostport[hl] = '\0';
  if (has_port && !((strcmp(scheme, "http") == 0 && port == 80) ||
                    (strcmp(scheme, "https") == 0 && port == 443)))
    snprintf(hostport + hl, sizeof hostport - hl, ":%lu", port);

  path = auth_end;
  path_end = path + strcspn(path, "?#");
  q = *path_end == '?' ? path_end + 1 : NULL;
  st = set_parts(m, method, scheme, hostport,
                 path_end > path ? path : "/",
                 path_end > path ? (size_t)(path_end - path) : 1, q,
                 q ? strcspn(q, "#") : 0, err);
cleanup:
  return st;
}

kms_http *kms_http_new(const char *method, const char *url,
                       kms_alloc_fn alloc, void *alloc_ud, kms_error *err)
{
  kms_http *m = NULL, *result = NULL;

  if (!method || !url || !is_token(method, strlen(method))) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "http: bad method or url");
    goto cleanup;
  }
  m = http_alloc(alloc, alloc_ud, err);
  if (!m)
    goto cleanup;
  if (parse_url(m, method, url, err) != KMS_OK)
    goto cleanup;
  result = m;
  m = NULL;
cleanup:
  kms_http_free(m);
  return result;
}

void kms_http_free(kms_http *m)
{
  kmsi_allocator a;
  if (!m)
    return;
  a = m->a;
  release(m, m->hdata, m->inline_hdata, m->hlen, m->hcap);
  if (m->hdrs != m->inline_hdrs)
    kmsi_free(&a, m->hdrs, m->cap * sizeof *m->hdrs);
  release(m, m->body, m->inline_body, m->body_len, m->body_cap);
  release(m, m->strings, m->inline_strings, strings_secret(m),
          m->strings_size);
  kmsi_free(&a, m, sizeof *m);
}

/* }===================================================================== */

/* {=====================================================================
 * Headers
 * ===================================================================== */

/* Inserts header (name[0..nlen), value[0..vlen)) at position pos (clamped
 * to the end). Names must be HTTP tokens; values must not hold CR, LF or
 * NUL (header injection) unless checked is 1 (the caller built them).
 * The arena may move: name and value may point into it, since the old
 * block is released only after they are copied. */
static kms_status insert_header(kms_http *m, size_t pos, const char *name,
                                size_t nlen, const char *value, size_t vlen,
                                int checked, kms_error *err)
{
  size_t need = nlen + vlen + 2;
  char *old = NULL;
  size_t old_len = m->hlen, old_cap = m->hcap;
  header h;

  if (!checked) {
    if (!is_token(name, nlen))
      return kmsi_error(err, KMS_ERR_INVALID_ARG,
                        "http: bad header name \"%.*s\"",
                        (int)(nlen > 64 ? 64 : nlen), name);
    if (vlen && (memchr(value, '\n', vlen) || memchr(value, '\r', vlen) ||
                 memchr(value, '\0', vlen)))
      return kmsi_error(err, KMS_ERR_INVALID_ARG,
                        "http: bad value for header %.*s",
                        (int)(nlen > 64 ? 64 : nlen), name);
  }
  if (m->nhdrs == m->cap) {
    size_t ncap = m->cap * 2;
    header *n = kmsi_malloc(&m->a, ncap * sizeof *n);
    if (!n)
      return kmsi_error(err, KMS_ERR_NOMEM, "http: out of memory");
    memcpy(n, m->hdrs, m->nhdrs * sizeof *n);
    if (m->hdrs != m->inline_hdrs)
      kmsi_free(&m->a, m->hdrs, m->cap * sizeof *m->hdrs);
    m->hdrs = n;
    m->cap = ncap;
  }
  if (need > m->hcap - m->hlen) {
    size_t ncap = m->hcap * 2;
    char *n;
    if (need > (size_t)-1 / 4 - m->hlen)
      return kmsi_error(err, KMS_ERR_NOMEM, "http: header too large");
    while (ncap < m->hlen + need)
      ncap *= 2;
    n = kmsi_malloc(&m->a, ncap);
    if (!n)
      return kmsi_error(err, KMS_ERR_NOMEM, "http: out of memory");
    memcpy(n, m->hdata, m->hlen);
    old = m->hdata;
    m->hdata = n;
    m->hcap = ncap;
  }
  h.off = m->hlen;
  h.name_len = nlen;
  h.value_len = vlen;
  memcpy(m->hdata + m->hlen, name, nlen);
  m->hdata[m->hlen + nlen] = '\0';
  if (vlen)
    memcpy(m->hdata + m->hlen + nlen + 1, value, vlen);
  m->hdata[m->hlen + need - 1] = '\0';
  m->hlen += need;
  if (old)
    release(m, old, m->inline_hdata, old_len, old_cap);
  if (pos > m->nhdrs)
    pos = m->nhdrs;
  if (pos < m->nhdrs)
    memmove(m->hdrs + pos + 1, m->hdrs + pos, (m->nhdrs - pos) * sizeof h);
  m->hdrs[pos] = h;
  m->nhdrs++;
  return KMS_OK;
}

/* Removes header i: its bytes leave the arena (the tail moves down and
 * the freed end is wiped). */
static void remove_at(kms_http *m, size_t i)
{
  header h = m->hdrs[i];
  size_t size = h.name_len + h.value_len + 2, k;

  memmove(m->hdata + h.off, m->hdata + h.off + size,
          m->hlen - h.off - size);
  m->hlen -= size;
  kmsi_wipe(m->hdata + m->hlen, size);
  for (k = 0; k < m->nhdrs; k++)
    if (m->hdrs[k].off > h.off)
      m->hdrs[k].off -= size;
  memmove(m->hdrs + i, m->hdrs + i + 1, (m->nhdrs - i - 1) * sizeof h);
  m->nhdrs--;
}

kms_status kms_http_add_header(kms_http *m, const char *name,
                               const char *value, kms_error *err)
{
  if (!m || !name || !value)
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "http: bad header");
  return insert_header(m, (size_t)-1, name, strlen(name), value,
                       strlen(value), 0, err);
}

kms_status kmsi_http_insert_header(kms_http *m, size_t pos, const char *name,
                                   const char *value, size_t vlen,
                                   kms_error *err)
{
  return insert_header(m, pos, name, strlen(name), value, vlen, 0, err);
}

kms_status kmsi_http_insert_checked(kms_http *m, size_t pos,
                                    const char *name, size_t nlen,
                                    const char *value, size_t vlen,
                                    kms_error *err)
{
  return insert_header(m, pos, name, nlen, value, vlen, 1, err);
}

/* The first header of that name keeps its position and takes the new
 * value; later ones go. Validation and allocation happen before anything
 * is removed, so a failure leaves the message unchanged. */
kms_status kms_http_set_header(kms_http *m, const char *name,
                               const char *value, kms_error *err)
{
  size_t i, first = (size_t)-1;
  kms_status st;

  if (!m || !name || !value)
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "http: bad header");
  for (i = 0; i < m->nhdrs; i++)
    if (name_eq(hname(m, &m->hdrs[i]), m->hdrs[i].name_len, name)) {
      first = i;
      break;
    }
  st = insert_header(m, first, name, strlen(name), value, strlen(value), 0,
                     err);
  if (st != KMS_OK)
    return st;
  if (first == (size_t)-1)
    return KMS_OK;
  /* The new header sits at first; the old first is now at first + 1. */
  for (i = m->nhdrs; i-- > first + 1;)
    if (name_eq(hname(m, &m->hdrs[i]), m->hdrs[i].name_len, name))
      remove_at(m, i);
  return KMS_OK;
}

void kmsi_http_remove_header(kms_http *m, const char *name)
{
  size_t i;
  for (i = m->nhdrs; i-- > 0;)
    if (name_eq(hname(m, &m->hdrs[i]), m->hdrs[i].name_len, name))
      remove_at(m, i);
}

/* Removes, in one pass, every header whose lower-case name is one of
 * names[0..n) (the signer's own headers before it signs again). */
void kmsi_http_remove_headers(kms_http *m, const char *const *names,
                              size_t n)
{
  size_t i, k, len[8];
  for (k = 0; k < n && k < 8; k++)
    len[k] = strlen(names[k]);
  for (i = m->nhdrs; i-- > 0;)
    for (k = 0; k < n && k < 8; k++)
      if (m->hdrs[i].name_len == len[k] &&
          name_eq(hname(m, &m->hdrs[i]), len[k], names[k])) {
        remove_at(m, i);
        break;
      }
}

int kmsi_http_header_n(const kms_http *m, size_t i, const char **name,
                       size_t *name_len, const char **value,
                       size_t *value_len)
{
  if (!m || i >= m->nhdrs)
    return 0;
  *name = hname(m, &m->hdrs[i]);
  *name_len = m->hdrs[i].name_len;
  *value = hvalue(m, &m->hdrs[i]);
  *value_len = m->hdrs[i].value_len;
  return 1;
}

size_t kms_http_header_count(const kms_http *m)
{
  return m ? m->nhdrs : 0;
}

int kms_http_header_at(const kms_http *m, size_t i, const char **name,
                       const char **value)
{
  if (!m || i >= m->nhdrs)
    return 0;
  if (name)
    *name = hname(m, &m->hdrs[i]);
  if (value)
    *value = hvalue(m, &m->hdrs[i]);
  return 1;
}

const char *kms_http_header(const kms_http *m, const char *name)
{
  size_t i;
  if (!m || !name)
    return NULL;
  for (i = 0; i < m->nhdrs; i++)
    if (name_eq(hname(m, &m->hdrs[i]), m->hdrs[i].name_len, name))
      return hvalue(m, &m->hdrs[i]);
  return NULL;
}

/* }===================================================================== */

/* {=====================================================================
 * Body, accessors, query
 * ===================================================================== */

/* The new body goes inline when it fits, else into a heap block made
 * before the old one is released (so a failure changes nothing, and body
 * may point into the old one). */
kms_status kms_http_set_body(kms_http *m, const char *body, size_t len,
                             kms_error *err)
{
  char *blk = NULL;
  size_t cap = INLINE_BODY;

  if (!m || (!body && len))
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "http: bad body");
  if (len >= INLINE_BODY) {
    if (len == (size_t)-1)
      return kmsi_error(err, KMS_ERR_NOMEM, "http: out of memory");
    cap = len + 1;
    blk = kmsi_malloc(&m->a, cap);
    if (!blk)
      return kmsi_error(err, KMS_ERR_NOMEM, "http: out of memory");
    if (len)
      memcpy(blk, body, len);
  }
  if (!blk && m->body == m->inline_body) {
    /* Inline to inline: body may overlap the old bytes. */
    if (len)
      memmove(m->inline_body, body, len);
    if (m->body_len > len)
      kmsi_wipe(m->inline_body + len, m->body_len - len);
  } else {
    if (!blk) {
      blk = m->inline_body;
      if (len)
        memcpy(blk, body, len);
    }
    release(m, m->body, m->inline_body, m->body_len, m->body_cap);
  }
  m->body = blk ? blk : m->inline_body;
  m->body_len = len;
  m->body_cap = cap;
  m->body[len] = '\0';
  return KMS_OK;
}

const char *kms_http_method(const kms_http *m)
{
  return m ? m->method : NULL;
}

const char *kms_http_url(const kms_http *m)
{
  return m ? m->url : NULL;
}

const char *kms_http_host(const kms_http *m)
{
  return m ? m->hostport : NULL;
}

const char *kms_http_target(const kms_http *m)
{
  return m ? m->target : NULL;
}

const char *kms_http_body(const kms_http *m, size_t *len)
{
  if (len)
    *len = m ? m->body_len : 0;
  if (!m)
    return NULL;
  return m->body;
}

const kmsi_allocator *kmsi_http_allocator(const kms_http *m)
{
  return &m->a;
}

const char *kmsi_http_path(const kms_http *m, size_t *len)
{
  *len = m->path_len;
  return m->path;
}

const char *kmsi_http_query(const kms_http *m, size_t *len)
{
  *len = m->query_len;
  return m->query;
}

/* Appends already-encoded "k=v&k2=v2" to the query (with a '&' when the
 * query is not empty). On failure the message is unchanged. */
kms_status kmsi_http_append_query(kms_http *m, const char *params,
                                  size_t len, kms_error *err)
{
  kms_buf q;
  kms_status st;

  kmsi_buf_init(&q, &m->a, 1);
  st = kmsi_buf_append(&q, m->query ? m->query : "", m->query_len);
  if (st == KMS_OK && m->query_len)
    st = kmsi_buf_putc(&q, '&');
  if (st == KMS_OK)
    st = kmsi_buf_append(&q, params, len);
  if (st != KMS_OK)
    st = kmsi_error(err, KMS_ERR_NOMEM, "http: out of memory");
  else
    st = set_parts(m, m->method, m->scheme, m->hostport, m->path,
                   m->path_len, q.data, q.len, err);
  kms_buf_free(&q);
  return st;
}

/* }===================================================================== */

/* {=====================================================================
 * The request for a KMS operation (JSON 1.1 protocol)
 * ===================================================================== */

/* POST to url with the headers the AWS CLI v2 sends, in its order:
 * Host, X-Amz-Target, Content-Type (the signer then appends X-Amz-Date,
 * X-Amz-Security-Token and Authorization). The transport adds what the
 * CLI's HTTP stack adds and does not sign: Accept-Encoding (after Host),
 * User-Agent (after Content-Type) and Content-Length (last). The URL's
 * path is used as it is ("/" when it has none). */
kms_http *kms_http_new_for(kms_operation op, const char *url,
                           const char *body, size_t body_len,
                           kms_alloc_fn alloc, void *alloc_ud, kms_error *err)
{
  char target[96];
  const char *name;
  size_t nlen = 0;
  kms_http *m = NULL, *result = NULL;

  name = (int)op >= 0 && op < KMS_OP__COUNT ? kms_operation_name(op) : NULL;
  if (name)
    nlen = strlen(name);
  if (!name || nlen > 64 || (!body && body_len)) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "http: bad operation or body");
    goto cleanup;
  }
  m = kms_http_new("POST", url, alloc, alloc_ud, err);
  if (!m)
    goto cleanup;
  memcpy(target, "TrentService.", 13);
  memcpy(target + 13, name, nlen + 1);
  /* Checked: the host comes from the parsed URL, the rest is ours. */
  if (insert_header(m, 0, "Host", 4, m->hostport, strlen(m->hostport), 1,
                    err) != KMS_OK ||
      insert_header(m, 1, "X-Amz-Target", 12, target, 13 + nlen, 1,
                    err) != KMS_OK ||
      insert_header(m, 2, "Content-Type", 12, "application/x-amz-json-1.1",
                    26, 1, err) != KMS_OK ||
      kms_http_set_body(m, body, body_len, err) != KMS_OK)
    goto cleanup;
  result = m;
  m = NULL;
cleanup:
  kms_http_free(m);
  return result;
}

/* }===================================================================== */

/* {=====================================================================
 * request.txt (the SigV4 test suite's format)
 * ===================================================================== */

/* Continues the last header (whose bytes end the arena, since the parser
 * only appends) with "\n" + line. */
static kms_status fold_line(kms_http *m, const char *line, size_t n)
{
  header *h = &m->hdrs[m->nhdrs - 1];
  char *old = NULL;
  size_t old_cap = m->hcap;

  if (h->off + h->name_len + h->value_len + 2 != m->hlen)
    return KMS_ERR_INVALID_ARG;
  if (n + 1 > m->hcap - m->hlen) {
    size_t ncap = m->hcap * 2;
    char *nb;
    while (ncap < m->hlen + n + 1)
      ncap *= 2;
    nb = kmsi_malloc(&m->a, ncap);
    if (!nb)
      return KMS_ERR_NOMEM;
    memcpy(nb, m->hdata, m->hlen);
    old = m->hdata;
    m->hdata = nb;
    m->hcap = ncap;
  }
  m->hdata[m->hlen - 1] = '\n';
  memcpy(m->hdata + m->hlen, line, n);
  m->hlen += n + 1;
  m->hdata[m->hlen - 1] = '\0';
  h->value_len += n + 1;
  if (old)
    release(m, old, m->inline_hdata, m->hlen - n - 1, old_cap);
  return KMS_OK;
}

/* Parses "METHOD target HTTP/1.1\nName:value\n...\n\nbody" (LF or CRLF
 * line ends). The target may hold spaces (the version is after the last
 * one). A line starting with a space or tab continues the previous
 * header: it is kept after a LF, and the canonicaliser turns it into a
 * comma-separated value. The URL is https://<Host header><target>; a
 * request without Host is KMS_ERR_PARSE. */
kms_status kmsi_http_from_text(const char *text, size_t len,
                               kms_alloc_fn alloc, void *alloc_ud,
                               kms_http **out, kms_error *err)
{
  kms_status st = KMS_ERR_PARSE;
  kms_http *m = NULL;
  kms_buf val, meth, tgt;
  const char *p = text, *end = text + len, *eol, *sp1, *sp2, *q;
  const char *host = NULL;
  size_t i;

  *out = NULL;
  kmsi_buf_init(&val, NULL, 1);
  kmsi_buf_init(&meth, NULL, 0);
  kmsi_buf_init(&tgt, NULL, 0);
  if (!text) {
    kmsi_error(err, st, "request: no text");
    goto cleanup;
  }
  m = http_alloc(alloc, alloc_ud, err);
  if (!m) {
    st = KMS_ERR_NOMEM;
    goto cleanup;
  }
  val.alloc = meth.alloc = tgt.alloc = m->a.fn;
  val.alloc_ud = meth.alloc_ud = tgt.alloc_ud = m->a.ud;

  /* Request line. */
  eol = memchr(p, '\n', len);
  if (!eol)
    eol = end;
  i = (size_t)(eol - p);
  if (i > 0 && p[i - 1] == '\r')
    i--;
  q = p + i;
  sp1 = memchr(p, ' ', i);
  for (sp2 = q; sp2 > p && sp2[-1] != ' '; sp2--)
    ;
  if (!sp1 || sp2 <= sp1 + 1 || sp2 - 1 == sp1 + 1 || sp1[1] != '/') {
    kmsi_error(err, st, "request: bad request line");
    goto cleanup;
  }
  for (i = 0; p + i < q; i++)
    if (p[i] == '\0' || is_ctl((unsigned char)p[i])) {
      kmsi_error(err, st, "request: control character in the request line");
      goto cleanup;
    }
  if (!is_token(p, (size_t)(sp1 - p))) {
    kmsi_error(err, st, "request: bad method");
    goto cleanup;
  }
  if (kmsi_buf_append(&meth, p, (size_t)(sp1 - p)) != KMS_OK ||
      kmsi_buf_append(&tgt, sp1 + 1, (size_t)(sp2 - 1 - (sp1 + 1))) !=
          KMS_OK) {
    st = kmsi_error(err, KMS_ERR_NOMEM, "request: out of memory");
    goto cleanup;
  }
  p = eol < end ? eol + 1 : end;

  /* Headers, until an empty line or the end. */
  while (p < end) {
    const char *colon, *v, *ve;
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      eol = end;
    q = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    if (q == p) {
      p = eol < end ? eol + 1 : end;
      break;
    }
    if (*p == ' ' || *p == '\t') {
      if (m->nhdrs == 0) {
        kmsi_error(err, st, "request: continuation line without header");
        goto cleanup;
      }
      if (memchr(p, '\0', (size_t)(q - p))) {
        kmsi_error(err, st, "request: NUL in a header");
        goto cleanup;
      }
      if (fold_line(m, p, (size_t)(q - p)) != KMS_OK) {
        st = kmsi_error(err, KMS_ERR_NOMEM, "request: out of memory");
        goto cleanup;
      }
    } else {
      colon = memchr(p, ':', (size_t)(q - p));
      if (!colon) {
        kmsi_error(err, st, "request: header line without ':'");
        goto cleanup;
      }
      v = colon + 1;
      ve = q;
      while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
      kmsi_buf_reset(&val);
      if (kmsi_buf_append(&val, p, (size_t)(colon - p)) != KMS_OK) {
        st = kmsi_error(err, KMS_ERR_NOMEM, "request: out of memory");
        goto cleanup;
      }
      if (strlen(val.data) != val.len) {
        kmsi_error(err, st, "request: NUL in a header");
        goto cleanup;
      }
      st = insert_header(m, (size_t)-1, val.data, val.len, v,
                         (size_t)(ve - v), 0, err);
      if (st != KMS_OK) {
        if (st == KMS_ERR_INVALID_ARG)
          st = KMS_ERR_PARSE;
        goto cleanup;
      }
      st = KMS_ERR_PARSE;
    }
    p = eol < end ? eol + 1 : end;
  }

  for (i = 0; i < m->nhdrs; i++)
    if (name_eq(hname(m, &m->hdrs[i]), m->hdrs[i].name_len, "host")) {
      host = hvalue(m, &m->hdrs[i]);
      break;
    }
  if (!host || !*host || strchr(host, '\n')) {
    kmsi_error(err, st, "request: no usable Host header");
    goto cleanup;
  }
  q = memchr(tgt.data, '?', tgt.len);
  st = set_parts(m, meth.data, "https", host, tgt.data,
                 q ? (size_t)(q - tgt.data) : tgt.len, q ? q + 1 : NULL,
                 q ? tgt.len - (size_t)(q + 1 - tgt.data) : 0, err);
  if (st != KMS_OK)
    goto cleanup;
  st = kms_http_set_body(m, p, (size_t)(end - p), err);
  if (st != KMS_OK)
    goto cleanup;
  *out = m;
  m = NULL;
cleanup:
  kms_buf_free(&val);
  kms_buf_free(&meth);
  kms_buf_free(&tgt);
  kms_http_free(m);
  return st;
}

/* }===================================================================== */

/* {=====================================================================
 * Printable form, with redaction
 * ===================================================================== */

#define REDACTED "***"
#define JSON_MAX_DEPTH 64

/* A JSON scanner that copies its input to out, except the values of the
 * model's secret members, which become "***". Members are found by path:
 * a top-level key, or "Parent.Child" one level down, both looked up with
 * kms_member_lookup so the list of secrets lives in one place. */
typedef struct jscan {
  const char *p;
  const char *end;
  kms_buf *out;
  kms_status st;     /* KMS_ERR_PARSE on bad JSON, NOMEM on failure */
} jscan;

static void js_emit(jscan *s, const char *from, size_t n, int emit)
{
  if (emit && s->st == KMS_OK && kmsi_buf_append(s->out, from, n) != KMS_OK)
    s->st = KMS_ERR_NOMEM;
}

static void js_ws(jscan *s, int emit)
{
  const char *b = s->p;
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' ||
                           *s->p == '\r'))
    s->p++;
  js_emit(s, b, (size_t)(s->p - b), emit);
}

/* Scans a string literal; its unescaped ASCII form goes to key (truncated
 * to keysz; non-ASCII escapes become '?', so they match no member). */
static void js_string(jscan *s, int emit, char *key, size_t keysz)
{
  const char *b = s->p;
  size_t k = 0;

  if (s->p >= s->end || *s->p != '"') {
    s->st = KMS_ERR_PARSE;
    return;
  }
  s->p++;
  while (s->p < s->end && *s->p != '"') {
    char c = *s->p++;
    if ((unsigned char)c < 0x20) {
      s->st = KMS_ERR_PARSE;
      return;
    }
    if (c == '\\') {
      if (s->p >= s->end) {
        s->st = KMS_ERR_PARSE;
        return;
      }
      c = *s->p++;
      if (c == 'u') {
        unsigned v = 0;
        int i;
        if (s->end - s->p < 4) {
          s->st = KMS_ERR_PARSE;
          return;
        }
        for (i = 0; i < 4; i++) {
          char h = *s->p++;
          v <<= 4;
          if (h >= '0' && h <= '9')
            v |= (unsigned)(h - '0');
          else if (lower(h) >= 'a' && lower(h) <= 'f')
            v |= (unsigned)(lower(h) - 'a' + 10);
          else {
            s->st = KMS_ERR_PARSE;
            return;
          }
        }
        c = v > 0 && v < 0x80 ? (char)v : '?';
      } else if (!strchr("\"\\/bfnrt", c)) {
        s->st = KMS_ERR_PARSE;
        return;
      }
    }
    if (key && k + 1 < keysz)
      key[k++] = c;
  }
  if (s->p >= s->end) {
    s->st = KMS_ERR_PARSE;
    return;
  }
  s->p++;
  if (key && keysz)
    key[k] = '\0';
  js_emit(s, b, (size_t)(s->p - b), emit);
}

static int js_secret(const char *path)
{
  kms_member mb = kms_member_lookup(path);
  return mb != KMS_M__COUNT && kms_member_is_secret(mb);
}

/* path is the member path of this value ("" outside objects). */
static void js_value(jscan *s, int emit, int depth, const char *path)
{
  const char *b;

  if (s->st != KMS_OK)
    return;
  if (depth > JSON_MAX_DEPTH || s->p >= s->end) {
    s->st = KMS_ERR_PARSE;
    return;
  }
  if (*s->p == '{' || *s->p == '[') {
    char close = *s->p == '{' ? '}' : ']';
    int obj = close == '}', first = 1;
    js_emit(s, s->p++, 1, emit);
    js_ws(s, emit);
    while (s->st == KMS_OK && s->p < s->end && *s->p != close) {
      char key[80], sub[168];
      if (!first) {
        if (*s->p != ',') {
          s->st = KMS_ERR_PARSE;
          return;
        }
        js_emit(s, s->p++, 1, emit);
        js_ws(s, emit);
      }
      first = 0;
      sub[0] = '\0';
      if (obj) {
        js_string(s, emit, key, sizeof key);
        js_ws(s, emit);
        if (s->st != KMS_OK || s->p >= s->end || *s->p != ':') {
          s->st = KMS_ERR_PARSE;
          return;
        }
        js_emit(s, s->p++, 1, emit);
        js_ws(s, emit);
        /* Paths deeper than Parent.Child name no member. */
        if (depth == 0)
          snprintf(sub, sizeof sub, "%s", key);
        else if (depth == 1 && *path)
          snprintf(sub, sizeof sub, "%s.%s", path, key);
      }
      if (*sub && js_secret(sub)) {
        js_value(s, 0, depth + 1, sub);
        js_emit(s, "\"" REDACTED "\"", sizeof REDACTED + 1, emit);
      } else {
        js_value(s, emit, depth + 1, sub);
      }
      js_ws(s, emit);
    }
    if (s->st == KMS_OK && (s->p >= s->end || *s->p != close))
      s->st = KMS_ERR_PARSE;
    if (s->st == KMS_OK)
      js_emit(s, s->p++, 1, emit);
    return;
  }
  if (*s->p == '"') {
    js_string(s, emit, NULL, 0);
    return;
  }
  b = s->p;
  while (s->p < s->end &&
         ((*s->p >= '0' && *s->p <= '9') || (*s->p >= 'a' && *s->p <= 'z') ||
          *s->p == '-' || *s->p == '+' || *s->p == '.' || *s->p == 'E'))
    s->p++;
  if (s->p == b)
    s->st = KMS_ERR_PARSE;
  else
    js_emit(s, b, (size_t)(s->p - b), emit);
}

/* Appends body with secrets redacted: a JSON object has its secret
 * members' values replaced; anything else that is not empty (not JSON,
 * truncated JSON) is replaced whole, since it cannot be checked. */
static kms_status put_redacted_body(kms_buf *out, const char *body,
                                    size_t len)
{
  jscan s;
  size_t mark = out->len;

  if (len == 0)
    return KMS_OK;
  s.p = body;
  s.end = body + len;
  s.out = out;
  s.st = KMS_OK;
  js_ws(&s, 1);
  if (s.p < s.end && *s.p == '{')
    js_value(&s, 1, 0, "");
  else
    s.st = KMS_ERR_PARSE;
  js_ws(&s, 1);
  if (s.st == KMS_OK && s.p != s.end)
    s.st = KMS_ERR_PARSE;
  if (s.st == KMS_ERR_PARSE) {
    kmsi_wipe(out->data + mark, out->len - mark);
    out->len = mark;
    out->data[mark] = '\0';
    return kmsi_buf_puts(out, REDACTED);
  }
  return s.st;
}

/* The target with the values of X-Amz-Signature and X-Amz-Security-Token
 * (a presigned request) replaced. */
static kms_status put_redacted_target(kms_buf *out, const kms_http *m)
{
  kms_status st = kmsi_buf_append(out, m->path, m->path_len);
  const char *p, *end;

  if (st != KMS_OK || !m->query)
    return st;
  st = kmsi_buf_putc(out, '?');
  p = m->query;
  end = m->query + m->query_len;
  while (st == KMS_OK && p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *eq;
    size_t klen;
    if (!amp)
      amp = end;
    eq = memchr(p, '=', (size_t)(amp - p));
    klen = eq ? (size_t)(eq - p) : (size_t)(amp - p);
    if (eq && (name_eq(p, klen, "X-Amz-Signature") ||
               name_eq(p, klen, "X-Amz-Security-Token"))) {
      st = kmsi_buf_append(out, p, klen + 1);
      if (st == KMS_OK)
        st = kmsi_buf_puts(out, REDACTED);
    } else {
      st = kmsi_buf_append(out, p, (size_t)(amp - p));
    }
    if (st == KMS_OK && amp < end)
      st = kmsi_buf_putc(out, '&');
    p = amp + 1;
  }
  return st;
}

static kms_status put_header(kms_buf *out, const kms_http *m,
                             const header *h, int redact)
{
  const char *name = hname(m, h), *value = hvalue(m, h), *sig;
  kms_status st = kmsi_buf_append(out, name, h->name_len);

  if (st == KMS_OK)
    st = kmsi_buf_append(out, ": ", 2);
  if (st != KMS_OK)
    return st;
  if (redact && name_eq(name, h->name_len, "x-amz-security-token")) {
    st = kmsi_buf_puts(out, REDACTED);
  } else if (redact && name_eq(name, h->name_len, "authorization") &&
             (sig = strstr(value, "Signature=")) != NULL) {
    const char *rest = sig + 10 + strcspn(sig + 10, ", ");
    st = kmsi_buf_append(out, value, (size_t)(sig + 10 - value));
    if (st == KMS_OK)
      st = kmsi_buf_puts(out, REDACTED);
    if (st == KMS_OK)
      st = kmsi_buf_puts(out, rest);
  } else {
    st = kmsi_buf_append(out, value, h->value_len);
  }
  if (st == KMS_OK)
    st = kmsi_buf_putc(out, '\n');
  return st;
}

/* "METHOD target HTTP/1.1", "Name: value" lines, an empty line and the
 * body, lines ending in LF (this is for people, not for the wire). With
 * redact 0 the text holds every secret, so out is a secret buffer. */
kms_status kms_http_to_text(const kms_http *m, int redact, kms_buf *out,
                            kms_error *err)
{
  kms_status st;
  size_t i;

  if (!out)
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "http: no output buffer");
  if (!m) {
    kmsi_buf_init(out, NULL, 0);
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "http: no message");
  }
  kmsi_buf_init(out, &m->a, !redact);
  st = kmsi_buf_puts(out, m->method);
  if (st == KMS_OK)
    st = kmsi_buf_putc(out, ' ');
  if (st == KMS_OK)
    st = redact ? put_redacted_target(out, m) : kmsi_buf_puts(out, m->target);
  if (st == KMS_OK)
    st = kmsi_buf_puts(out, " HTTP/1.1\n");
  for (i = 0; st == KMS_OK && i < m->nhdrs; i++)
    st = put_header(out, m, &m->hdrs[i], redact);
  if (st == KMS_OK)
    st = kmsi_buf_putc(out, '\n');
  if (st == KMS_OK && m->body_len)
    st = redact ? put_redacted_body(out, m->body, m->body_len)
                : kmsi_buf_append(out, m->body, m->body_len);
  if (st != KMS_OK) {
    kms_buf_free(out);
    return kmsi_error(err, st, "http: out of memory");
  }
  return KMS_OK;
}

/* }===================================================================== */

/* {=====================================================================
 * Responses
 * ===================================================================== */

void kms_http_response_init(kms_http_response *resp, kms_alloc_fn alloc,
                            void *alloc_ud)
{
  kmsi_allocator a;
  if (!resp)
    return;
  kmsi_allocator_init(&a, alloc, alloc_ud);
  resp->status = 0;
  kmsi_buf_init(&resp->headers, &a, 0);
  /* An error message may echo request data: treat the body as secret. */
  kmsi_buf_init(&resp->body, &a, 1);
}

void kms_http_response_free(kms_http_response *resp)
{
  if (!resp)
    return;
  kms_buf_free(&resp->headers);
  kms_buf_free(&resp->body);
  resp->status = 0;
}

/* Scans the "name: value" lines (LF or CRLF) for the first one whose name
 * matches, and copies its trimmed value (truncated to size - 1). A status
 * line or any line without ':' is skipped. */
int kms_http_response_header(const kms_http_response *resp, const char *name,
                             char *out, size_t size)
{
  const char *p, *end;

  if (!resp || !name || !resp->headers.data)
    return 0;
  p = resp->headers.data;
  end = p + resp->headers.len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *colon, *v, *ve;
    if (!eol)
      eol = end;
    colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && name_eq(p, (size_t)(colon - p), name)) {
      v = colon + 1;
      ve = eol;
      while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
        ve--;
      if (out && size) {
        size_t n = (size_t)(ve - v);
        if (n >= size)
          n = size - 1;
        memcpy(out, v, n);
        out[n] = '\0';
      }
      return 1;
    }
    p = eol + 1;
  }
  return 0;
}

/* }===================================================================== */
