/* sigv4.c - AWS Signature Version 4 (AWS4-HMAC-SHA256), as a pure
 * function of (message, credentials, time): no I/O, no clock. The blocks
 * follow the AWS documentation's Task 1 (canonical request) to Task 4
 * (signature). A kms_signer keeps scratch buffers, a saved SHA-256 state
 * and a small LRU cache of derived signing keys between calls. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "internal.h"
#include "sha256.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define SHA256_LEN KMSI_SHA256_LEN
#define CACHE_SLOTS 4        /* a client signs for one or two scopes */
#define CACHE_FIELD 128      /* longer ids or secrets bypass the cache */
#define SCOPE_PART_MAX 63    /* region and service length limit */
#define STACK_ENTRIES 32     /* headers or query params sorted on the stack */
#define MAX_EXPIRES 604800L  /* seven days: the SigV4 presign limit */

/* {=====================================================================
 * Hashing state kept by a signer (sha256.c does the hashing)
 * ===================================================================== */

/* The SHA-256 state after the first block of the last canonical request,
 * and that block: requests to one endpoint share it, so the next one
 * starts from there (one compression saved). The block is usually
 * "POST\n/\n\ncontent-type:...\nhost:..." but can hold the start of a
 * session token, so both are wiped with the signer. */
typedef struct crypto {
  kmsi_sha256_state mid;
  int mid_ok;
  unsigned char mid_block[64];
} crypto;

/* SHA-256 of a canonical request, starting from the saved state when
 * its first block is the same as the last one's. c is NULL without a
 * signer. */
static void sha256_creq(crypto *c, const char *data, size_t n,
                        unsigned char out[SHA256_LEN])
{
  /* Only worth it when at least three blocks are hashed. */
  if (!c || n < 2 * 64) {
    kmsi_sha256(data, n, out);
    return;
  }
  if (!c->mid_ok || memcmp(c->mid_block, data, 64) != 0) {
    kmsi_sha256_init(&c->mid);
    kmsi_sha256_blocks(&c->mid, data, 1);
    memcpy(c->mid_block, data, 64);
    c->mid_ok = 1;
  }
  kmsi_sha256_finish(&c->mid, 64, data + 64, n - 64, out);
}

/* Lower-case hex of a 32-byte digest (three are written out per
 * signature): with SSE2, sixteen bytes at a time (each nibble widened to
 * a byte, then '0' + n, plus 'a' - '9' - 1 where n > 9); else two digits
 * per table lookup. out receives 64 digits and a NUL. */
static void to_hex(const unsigned char d[SHA256_LEN], char *out)
{
#if defined(__SSE2__)
  const __m128i low = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9);
  const __m128i zero = _mm_set1_epi8('0'), gap = _mm_set1_epi8('a' - '9' - 1);
  int i;
  for (i = 0; i < SHA256_LEN; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(d + i));
    __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low);
    __m128i lo = _mm_and_si128(v, low);
    __m128i a = _mm_unpacklo_epi8(hi, lo), b = _mm_unpackhi_epi8(hi, lo);
    a = _mm_add_epi8(_mm_add_epi8(a, zero),
                     _mm_and_si128(_mm_cmpgt_epi8(a, nine), gap));
    b = _mm_add_epi8(_mm_add_epi8(b, zero),
                     _mm_and_si128(_mm_cmpgt_epi8(b, nine), gap));
    _mm_storeu_si128((__m128i *)(void *)(out + 2 * i), a);
    _mm_storeu_si128((__m128i *)(void *)(out + 2 * i + 16), b);
  }
#else
  static const char pairs[] =
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
      "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
      "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
      "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
      "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
      "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
      "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
      "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
  size_t i;
  for (i = 0; i < SHA256_LEN; i++)
    memcpy(out + 2 * i, pairs + 2 * (size_t)d[i], 2);
#endif
  out[2 * SHA256_LEN] = '\0';
}

/* }===================================================================== */

/* {=====================================================================
 * The signer object and its key cache
 * ===================================================================== */

/* Scratch buffers, reused across calls by a signer. Those that can hold
 * a secret are secret buffers (wiped on reset, growth and free): the
 * canonical request and the query may carry the session token, the
 * string to sign is derived from the body (which may carry a password)
 * and the Authorization value is secret by our rules. The header names
 * are not secret. */
typedef struct scratch {
  kms_buf creq;   /* Task 1 */
  kms_buf sts;    /* Task 2 */
  kms_buf sh;     /* signed headers, "host;x-amz-date" (not secret) */
  kms_buf names;  /* the message's header names, lower case (not secret) */
  kms_buf qry;    /* query mode: the X-Amz-* parameters, encoded */
  kms_buf enc;    /* canonical query: encoded pairs */
  kms_buf out;    /* Authorization value, or a log line */
} scratch;

static void scratch_init(scratch *sc, const kmsi_allocator *a)
{
  kmsi_buf_init(&sc->creq, a, 1);
  kmsi_buf_init(&sc->sts, a, 1);
  kmsi_buf_init(&sc->sh, a, 0);
  kmsi_buf_init(&sc->names, a, 0);
  kmsi_buf_init(&sc->qry, a, 1);
  kmsi_buf_init(&sc->enc, a, 1);
  kmsi_buf_init(&sc->out, a, 1);
}

/* Empties (and wipes) every buffer; kms_sign does it after each
 * signature, so a signer's scratch is empty between calls. */
static void scratch_reset(scratch *sc)
{
  kmsi_buf_reset(&sc->creq);
  kmsi_buf_reset(&sc->sts);
  kmsi_buf_reset(&sc->sh);
  kmsi_buf_reset(&sc->names);
  if (sc->qry.len)
    kmsi_buf_reset(&sc->qry);
  if (sc->enc.len)
    kmsi_buf_reset(&sc->enc);
  kmsi_buf_reset(&sc->out);
}

static void scratch_free(scratch *sc)
{
  kms_buf_free(&sc->creq);
  kms_buf_free(&sc->sts);
  kms_buf_free(&sc->sh);
  kms_buf_free(&sc->names);
  kms_buf_free(&sc->qry);
  kms_buf_free(&sc->enc);
  kms_buf_free(&sc->out);
}

/* One derived key and what it was derived from. The key is kept as its
 * HMAC states (Task 4 then hashes only the string to sign and one outer
 * block). The secret access key is kept (wiped with the entry) so that a
 * rotated secret under the same access key id never reuses a stale key. */
typedef struct cache_entry {
  unsigned long last_use;   /* 0: empty */
  kmsi_hmac_key key;
  char date[8];
  unsigned char akid_len, secret_len, region_len, service_len;
  char akid[CACHE_FIELD];
  char secret[CACHE_FIELD];
  char region[SCOPE_PART_MAX];
  char service[SCOPE_PART_MAX];
} cache_entry;

struct kms_signer {
  kmsi_allocator a;
  kms_log_fn log;
  void *log_ud;
  crypto c;
  scratch sc;
  cache_entry cache[CACHE_SLOTS];
  unsigned long clock;        /* LRU stamp */
  unsigned long derivations;  /* signing keys derived: for tests */
};

kms_signer *kms_signer_new(kms_alloc_fn alloc, void *alloc_ud, kms_log_fn log,
                           void *log_ud, kms_error *err)
{
  kmsi_allocator a;
  kms_signer *s;

  kmsi_allocator_init(&a, alloc, alloc_ud);
  s = kmsi_calloc(&a, sizeof *s);
  if (!s) {
    kmsi_error(err, KMS_ERR_NOMEM, "signer: out of memory");
    return NULL;
  }
  s->a = a;
  s->log = log;
  s->log_ud = log_ud;
  scratch_init(&s->sc, &s->a);
  return s;
}

/* Wipes every cached key (and the secrets kept with them) and frees. */
void kms_signer_free(kms_signer *s)
{
  kmsi_allocator a;
  if (!s)
    return;
  a = s->a;
  scratch_free(&s->sc);
  kmsi_free_secret(&a, s, sizeof *s);
}

unsigned long kmsi_signer_derivations(const kms_signer *s)
{
  return s ? s->derivations : 0;
}

/* }===================================================================== */

/* {=====================================================================
 * Inputs of one signature
 * ===================================================================== */

typedef struct job {
  const kmsi_allocator *a;
  const kms_http *msg;
  const kms_credentials *cred;
  const kms_sign_params *p;
  const char *akid;
  size_t akid_len;
  const char *token;      /* NULL when the credentials have none */
  size_t token_len;
  int query;              /* KMS_SIGN_QUERY */
  int body_header;        /* x-amz-content-sha256 (header mode only) */
  int sign_token;         /* the token is part of the signature */
  int has_host;           /* the message has a Host header (Task 1 sets) */
  size_t region_len;
  size_t service_len;
  size_t scope_len;
  /* The arrays last: job_init zeroes the fields above only. */
  char amz_date[17];      /* 20150830T123600Z */
  char scope[8 + 1 + SCOPE_PART_MAX + 1 + SCOPE_PART_MAX + 14];
  char payload_hash[2 * SHA256_LEN + 1];
} job;

/* Seconds since the epoch to "yyyymmddThhmmssZ" (UTC), without the C
 * library's time zone machinery (Howard Hinnant's civil_from_days).
 * Returns 0 for a year outside 0..9999. */
static int utc_date(time_t t, char amz[17])
{
  long long secs = (long long)t, days = secs / 86400, rem = secs % 86400;
  long long era, y;
  unsigned doe, yoe, doy, mp, d, m, h, mi, sec;
  char *o = amz;
  int i;

  if (rem < 0) {
    rem += 86400;
    days--;
  }
  days += 719468;
  era = (days >= 0 ? days : days - 146096) / 146097;
  doe = (unsigned)(days - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = (long long)yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  if (y < 0 || y > 9999)
    return 0;
  h = (unsigned)(rem / 3600);
  mi = (unsigned)(rem / 60 % 60);
  sec = (unsigned)(rem % 60);
  for (i = 3; i >= 0; i--, y /= 10)
    o[i] = (char)('0' + y % 10);
  o[4] = (char)('0' + m / 10);
  o[5] = (char)('0' + m % 10);
  o[6] = (char)('0' + d / 10);
  o[7] = (char)('0' + d % 10);
  o[8] = 'T';
  o[9] = (char)('0' + h / 10);
  o[10] = (char)('0' + h % 10);
  o[11] = (char)('0' + mi / 10);
  o[12] = (char)('0' + mi % 10);
  o[13] = (char)('0' + sec / 10);
  o[14] = (char)('0' + sec % 10);
  o[15] = 'Z';
  o[16] = '\0';
  return 1;
}

/* Region, service and access key id go into the credential scope, so
 * they must not hold '/', ',', spaces, control characters or non-ASCII
 * bytes: scope_ok[c] is 1 for the bytes 0x21..0x7e but ',' and '/'. */
static const unsigned char scope_ok[256] = {
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

static int scope_safe(const char *s, size_t n)
{
  size_t i;
  unsigned ok = 1;
  for (i = 0; i < n; i++)
    ok &= scope_ok[(unsigned char)s[i]];
  return ok;
}

/* Checks the inputs and derives what every task needs: lengths, flags,
 * the X-Amz-Date and the credential scope. KMS_ERR_INVALID_ARG with a
 * message when an input is refused. */
static kms_status job_init(job *j, const kms_http *msg,
                           const kms_credentials *cred,
                           const kms_sign_params *p, kms_error *err)
{
  char *o;

  memset(j, 0, offsetof(job, amz_date));
  j->payload_hash[0] = '\0';
  if (!msg || !cred || !p || !p->region || !p->service)
    return kmsi_error(err, KMS_ERR_INVALID_ARG,
                      "sigv4: message, credentials, region and service "
                      "are required");
  j->msg = msg;
  j->cred = cred;
  j->p = p;
  j->akid = kms_credentials_access_key_id(cred);
  j->akid_len = strlen(j->akid);
  j->token = kmsi_credentials_token(cred, &j->token_len);
  j->region_len = strlen(p->region);
  j->service_len = strlen(p->service);
  j->query = (p->flags & KMS_SIGN_QUERY) != 0;
  j->body_header = !j->query && (p->flags & KMS_SIGN_BODY_HEADER) != 0;
  j->sign_token = j->token && !(p->flags & KMS_SIGN_OMIT_TOKEN);
  if (j->region_len > SCOPE_PART_MAX || j->service_len == 0 ||
      j->service_len > SCOPE_PART_MAX ||
      !scope_safe(p->region, j->region_len) ||
      !scope_safe(p->service, j->service_len) ||
      !scope_safe(j->akid, j->akid_len))
    return kmsi_error(err, KMS_ERR_INVALID_ARG,
                      "sigv4: bad region, service or access key id");
  if (j->query && (p->expires < 0 || p->expires > MAX_EXPIRES))
    return kmsi_error(err, KMS_ERR_INVALID_ARG,
                      "sigv4: expires must be 0..%ld seconds", MAX_EXPIRES);
  if (!utc_date(p->time, j->amz_date))
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "sigv4: time out of range");

  /* Credential scope: <yyyymmdd>/<region>/<service>/aws4_request. */
  o = j->scope;
  memcpy(o, j->amz_date, 8);
  o += 8;
  *o++ = '/';
  memcpy(o, p->region, j->region_len);
  o += j->region_len;
  *o++ = '/';
  memcpy(o, p->service, j->service_len);
  o += j->service_len;
  memcpy(o, "/aws4_request", 14);
  j->scope_len = (size_t)(o + 13 - j->scope);
  return KMS_OK;
}

/* }===================================================================== */

/* {=====================================================================
 * Task 1: the canonical request
 * ===================================================================== */

/* kmsi_buf_reserve(b, n), without the call when the room is there (the
 * signer's scratch buffers keep their memory between signatures). */
static kms_status room(kms_buf *b, size_t n)
{
  return b->data && b->cap - b->len > n ? KMS_OK : kmsi_buf_reserve(b, n);
}

static int is_unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == '~';
}

/* Percent-encodes everything but the unreserved set (and '/' when
 * keep_slash), upper-case hex, as SigV4 wants. '%' is encoded too: for
 * a path that is the "double encoding" every service but S3 expects. */
static kms_status uri_encode(kms_buf *b, const char *s, size_t n,
                             int keep_slash)
{
  static const char up[] = "0123456789ABCDEF";
  size_t i;
  char *o;
  kms_status st = room(b, 3 * n);
  if (st != KMS_OK)
    return st;
  o = b->data + b->len;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      *o++ = (char)c;
    } else {
      *o++ = '%';
      *o++ = up[c >> 4];
      *o++ = up[c & 15];
    }
  }
  b->len = (size_t)(o - b->data);
  b->data[b->len] = '\0';
  return KMS_OK;
}

/* CanonicalURI. With normalize, '.' and empty segments are dropped and
 * '..' pops the previous one (RFC 3986 remove_dot_segments plus the
 * duplicate-slash removal AWS wants); a trailing '/' is kept when a
 * segment remains. Segments are encoded as they are written, so popping
 * back to the last '/' of the output is exact. */
static kms_status put_canonical_uri(kms_buf *b, const char *path, size_t n,
                                    int normalize)
{
  size_t start = b->len, count = 0, i = 0;
  kms_status st;

  if (!normalize)
    return uri_encode(b, path, n, 1);
  st = kmsi_buf_putc(b, '/');
  while (st == KMS_OK && i < n) {
    size_t j = i;
    while (j < n && path[j] != '/')
      j++;
    if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
      if (count > 0) {
        size_t k = b->len;
        while (k > start + 1 && b->data[k - 1] != '/')
          k--;
        /* k is just after the '/' that starts the popped segment. */
        b->len = count == 1 ? start + 1 : k - 1;
        b->data[b->len] = '\0';
        count--;
      }
    } else if (j > i && !(j - i == 1 && path[i] == '.')) {
      if (count > 0)
        st = kmsi_buf_putc(b, '/');
      if (st == KMS_OK)
        st = uri_encode(b, path + i, j - i, 0);
      count++;
    }
    i = j + 1;
  }
  if (st == KMS_OK && count > 0 && n > 0 && path[n - 1] == '/')
    st = kmsi_buf_putc(b, '/');
  return st;
}

typedef struct qent {
  size_t k, klen, v, vlen;  /* offsets into the encoded-pairs buffer */
} qent;

typedef struct qsorted {
  const char *k, *v;
  size_t klen, vlen;
} qsorted;

static int qsorted_cmp(const void *pa, const void *pb)
{
  const qsorted *a = pa, *b = pb;
  size_t n = a->klen < b->klen ? a->klen : b->klen;
  int c = memcmp(a->k, b->k, n);
  if (c || a->klen != b->klen)
    return c ? c : (a->klen < b->klen ? -1 : 1);
  n = a->vlen < b->vlen ? a->vlen : b->vlen;
  c = memcmp(a->v, b->v, n);
  if (c || a->vlen != b->vlen)
    return c ? c : (a->vlen < b->vlen ? -1 : 1);
  return 0;
}

/* Splits "k=v&k2" into pairs (empty segments skipped, a key without '='
 * has an empty value), encoding each half into enc unless the text is
 * already encoded. Fills ents up to max and counts every pair in *n. */
static kms_status split_query(kms_buf *enc, const char *q, size_t len,
                              int encode, qent *ents, size_t max, size_t *n)
{
  const char *p, *end;
  kms_status st = KMS_OK;

  if (len == 0)
    return KMS_OK;
  p = q;
  end = q + len;
  while (st == KMS_OK && p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *eq;
    qent e;
    if (!amp)
      amp = end;
    if (amp > p) {
      eq = memchr(p, '=', (size_t)(amp - p));
      if (!eq)
        eq = amp;
      e.k = enc->len;
      st = encode ? uri_encode(enc, p, (size_t)(eq - p), 0)
                  : kmsi_buf_append(enc, p, (size_t)(eq - p));
      e.klen = enc->len - e.k;
      e.v = enc->len;
      if (st == KMS_OK && eq < amp)
        st = encode ? uri_encode(enc, eq + 1, (size_t)(amp - eq - 1), 0)
                    : kmsi_buf_append(enc, eq + 1, (size_t)(amp - eq - 1));
      e.vlen = enc->len - e.v;
      if (*n < max)
        ents[*n] = e;
      (*n)++;
    }
    p = amp + 1;
  }
  return st;
}

/* CanonicalQueryString: every pair of the raw query encoded, plus (query
 * mode) the X-Amz-* parameters, sorted by encoded key then encoded value,
 * joined with '&'. */
static kms_status put_canonical_query(const job *j, scratch *sc,
                                      kms_error *err)
{
  qent stack_ents[STACK_ENTRIES], *ents = stack_ents;
  qsorted stack_sorted[STACK_ENTRIES], *sorted = stack_sorted;
  size_t qlen = 0, n = 0, max = STACK_ENTRIES, i;
  const char *q = kmsi_http_query(j->msg, &qlen);
  kms_status st = KMS_OK;

  if ((!q || qlen == 0) && sc->qry.len == 0)
    return KMS_OK;
  /* Count first, so a long query gets heap arrays (rare). */
  for (i = 0; q && i < qlen; i++)
    if (q[i] == '&')
      n++;
  n += 8;
  if (n > STACK_ENTRIES) {
    max = n;
    ents = kmsi_malloc(j->a, max * sizeof *ents);
    sorted = kmsi_malloc(j->a, max * sizeof *sorted);
    if (!ents || !sorted) {
      st = kmsi_error(err, KMS_ERR_NOMEM, "sigv4: out of memory");
      goto cleanup;
    }
  }
  n = 0;
  kmsi_buf_reset(&sc->enc);
  if (q)
    st = split_query(&sc->enc, q, qlen, 1, ents, max, &n);
  if (st == KMS_OK)
    st = split_query(&sc->enc, sc->qry.data, sc->qry.len, 0, ents, max, &n);
  if (st != KMS_OK) {
    st = kmsi_error(err, KMS_ERR_NOMEM, "sigv4: out of memory");
    goto cleanup;
  }
  /* The buffer no longer moves: offsets become pointers for qsort. */
  for (i = 0; i < n; i++) {
    sorted[i].k = sc->enc.data + ents[i].k;
    sorted[i].klen = ents[i].klen;
    sorted[i].v = sc->enc.data + ents[i].v;
    sorted[i].vlen = ents[i].vlen;
  }
  qsort(sorted, n, sizeof *sorted, qsorted_cmp);
  for (i = 0; st == KMS_OK && i < n; i++) {
    if (i > 0)
      st = kmsi_buf_putc(&sc->creq, '&');
    if (st == KMS_OK)
      st = kmsi_buf_append(&sc->creq, sorted[i].k, sorted[i].klen);
    if (st == KMS_OK)
      st = kmsi_buf_putc(&sc->creq, '=');
    if (st == KMS_OK)
      st = kmsi_buf_append(&sc->creq, sorted[i].v, sorted[i].vlen);
  }
  if (st != KMS_OK)
    st = kmsi_error(err, KMS_ERR_NOMEM, "sigv4: out of memory");
cleanup:
  if (ents != stack_ents)
    kmsi_free(j->a, ents, max * sizeof *ents);
  if (sorted != stack_sorted)
    kmsi_free(j->a, sorted, max * sizeof *sorted);
  return st;
}

typedef struct hent {
  const char *name;   /* lower case: a copy in scratch.names, or ours */
  size_t nlen;
  const char *value;
  size_t vlen;
  size_t idx;         /* original position: keeps duplicates in order */
  int clean;          /* made by the signer: already canonical */
} hent;

/* ASCII lower case, without a branch. */
static int lower_c(int c)
{
  return c + (((unsigned)c - 'A' < 26u) << 5);
}

/* The same for eight bytes: 0x20 is added to the bytes 'A'..'Z' (found on
 * the low seven bits, so no carry crosses bytes). */
static uint64_t lower_word(uint64_t x)
{
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t low7 = x & ~highs;
  uint64_t ge_a = low7 + ones * (0x80 - 'A');
  uint64_t gt_z = low7 + ones * (0x7f - 'Z');
  return x | (((ge_a & ~gt_z & ~x) & highs) >> 2);
}

/* o[0..n) = the lower case of s[0..n): a word at a time, the last word
 * overlapping the one before, when there are eight bytes or more. */
static void lower_copy(char *o, const char *s, size_t n)
{
  size_t i;
  uint64_t x;

  if (n < 8) {
    for (i = 0; i < n; i++)
      o[i] = (char)lower_c((unsigned char)s[i]);
    return;
  }
  for (i = 0; i + 8 <= n; i += 8) {
    memcpy(&x, s + i, 8);
    x = lower_word(x);
    memcpy(o + i, &x, 8);
  }
  if (i < n) {
    memcpy(&x, s + n - 8, 8);
    x = lower_word(x);
    memcpy(o + n - 8, &x, 8);
  }
}

/* By (lower-case) name, then by original position. */
static int hent_cmp(const void *pa, const void *pb)
{
  const hent *a = pa, *b = pb;
  size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
  int c;
  /* Most names differ in their first letter. */
  if (n && a->name[0] != b->name[0])
    return (unsigned char)a->name[0] < (unsigned char)b->name[0] ? -1 : 1;
  c = memcmp(a->name, b->name, n);
  if (c)
    return c;
  if (a->nlen != b->nlen)
    return a->nlen < b->nlen ? -1 : 1;
  return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

/* Stable sort by lower-case name: insertion sort for the usual handful,
 * qsort (made stable by idx) for long lists. */
static void sort_headers(hent *e, size_t n)
{
  size_t i, k;
  if (n > 16) {
    qsort(e, n, sizeof *e, hent_cmp);
    return;
  }
  for (i = 1; i < n; i++) {
    hent t = e[i];
    for (k = i; k > 0 && hent_cmp(&e[k - 1], &t) > 0; k--)
      e[k] = e[k - 1];
    e[k] = t;
  }
}

/* name[0..n) (any case) equals lower_name (lower case). */
static int name_is(const char *name, size_t n, const char *lower_name)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (lower_name[i] == '\0' ||
        lower_c((unsigned char)name[i]) != lower_name[i])
      return 0;
  return lower_name[n] == '\0';
}

#define LIT_IS(name, lit) (memcmp((name), lit, sizeof lit - 1) == 0)

/* Headers that are never signed: the signer's own (replaced on every
 * signature) and those a transport or proxy may add or change after
 * signing (botocore's and aws-c-auth's lists). name is lower case and n
 * long. */
static int skipped_header(const job *j, const char *name, size_t n)
{
  switch (n) {
  case 6:
    return LIT_IS(name, "expect");
  case 10:
    return LIT_IS(name, "x-amz-date") || LIT_IS(name, "user-agent") ||
           LIT_IS(name, "connection");
  case 13:
    return LIT_IS(name, "authorization");
  case 15:
    return LIT_IS(name, "x-amzn-trace-id");
  case 17:
    return LIT_IS(name, "transfer-encoding");
  case 20:
    return (j->token && LIT_IS(name, "x-amz-security-token")) ||
           (j->body_header && LIT_IS(name, "x-amz-content-sha256"));
  default:
    return 0;
  }
}

/* 1: space; 2: other whitespace, and LF (a folded value). */
static const unsigned char wsclass[256] = {
  [' '] = 1, ['\t'] = 2, ['\n'] = 2, ['\v'] = 2, ['\f'] = 2, ['\r'] = 2,
};

/* No whitespace at all (nor a fold): the common case, which is already
 * canonical and is copied as it is. Eight bytes at a time first: a word
 * with no byte below 0x21 holds no whitespace (the bit trick flags every
 * word that has one; the byte loop then decides). */
static int value_is_canonical(const char *v, size_t n)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    memcpy(&x, v + i, 8);
    if ((x - 0x2121212121212121u) & ~x & 0x8080808080808080u)
      break;
  }
  for (; i < n; i++)
    if (wsclass[(unsigned char)v[i]])
      return 0;
  return 1;
}

/* One header value, canonical, written at o (room for n bytes): each
 * line (a folded value has several) trimmed, runs of whitespace inside
 * collapsed to one space, the non-empty lines joined with ','. Returns
 * the new end. */
static char *put_value(char *o, const char *v, size_t n, int clean)
{
  size_t i = 0;
  int wrote = 0;

  if (clean || value_is_canonical(v, n)) {
    memcpy(o, v, n);
    return o + n;
  }
  while (i <= n) {
    size_t e = i, s;
    int space = 0;
    while (e < n && v[e] != '\n')
      e++;
    s = i;
    while (s < e && wsclass[(unsigned char)v[s]])
      s++;
    if (s < e) {
      if (wrote)
        *o++ = ',';
      for (; s < e; s++) {
        if (wsclass[(unsigned char)v[s]]) {
          space = 1;
          continue;
        }
        if (space)
          *o++ = ' ';
        space = 0;
        *o++ = v[s];
      }
      wrote = 1;
    }
    i = e + 1;
  }
  return o;
}

/* The signed headers: the message's (minus the skipped ones) and those
 * the signer adds (Host when missing, X-Amz-Date, X-Amz-Security-Token,
 * x-amz-content-sha256), sorted by lower-case name, duplicates in order.
 * The message's names are lowered once, into names. ents has room for the
 * message's count + 4; *out receives how many, j->has_host whether the
 * message has a Host header. */
static kms_status collect_headers(job *j, kms_buf *names, hent *ents,
                                  size_t *out)
{
  size_t count = kms_http_header_count(j->msg), n = 0, i, total = 0;
  int have_host = 0;
  char *o;

  for (i = 0; i < count; i++) {
    hent *e = &ents[i];
    kmsi_http_header_n(j->msg, i, &e->name, &e->nlen, &e->value, &e->vlen);
    total += e->nlen;
  }
  kmsi_buf_reset(names);
  if (room(names, total) != KMS_OK)
    return KMS_ERR_NOMEM;
  o = names->data;
  for (i = 0; i < count; i++) {
    hent e = ents[i];
    lower_copy(o, e.name, e.nlen);
    e.name = o;
    o += e.nlen;
    if (skipped_header(j, e.name, e.nlen))
      continue;
    if (e.nlen == 4 && LIT_IS(e.name, "host"))
      have_host = 1;
    e.clean = 0;
    e.idx = n;
    ents[n++] = e;
  }
#define ADD(nm, val, vl, cl)                                              \
  do {                                                                    \
    ents[n].name = (nm);                                                  \
    ents[n].nlen = sizeof(nm) - 1;                                        \
    ents[n].value = (val);                                                \
    ents[n].vlen = (vl);                                                  \
    ents[n].clean = (cl);                                                 \
    ents[n].idx = n;                                                      \
    n++;                                                                  \
  } while (0)
  j->has_host = have_host;
  if (!have_host) {
    const char *h = kms_http_host(j->msg);
    ADD("host", h, strlen(h), 0);
  }
  if (!j->query) {
    ADD("x-amz-date", j->amz_date, 16, 1);
    if (j->sign_token)
      ADD("x-amz-security-token", j->token, j->token_len, 0);
    if (j->body_header)
      ADD("x-amz-content-sha256", j->payload_hash, 2 * SHA256_LEN, 1);
  }
#undef ADD
  sort_headers(ents, n);
  *out = n;
  return KMS_OK;
}

static int same_name(const hent *a, const hent *b)
{
  return a->nlen == b->nlen && memcmp(a->name, b->name, a->nlen) == 0;
}

/* SignedHeaders: the distinct lower-case names joined with ';'. */
static kms_status put_signed_headers(kms_buf *sh, const hent *ents,
                                     size_t n)
{
  size_t i, need = n;
  char *o;

  for (i = 0; i < n; i++)
    need += ents[i].nlen;
  if (room(sh, need) != KMS_OK)
    return KMS_ERR_NOMEM;
  o = sh->data + sh->len;
  for (i = 0; i < n; i++) {
    if (i > 0 && same_name(&ents[i], &ents[i - 1]))
      continue;
    if (i > 0)
      *o++ = ';';
    memcpy(o, ents[i].name, ents[i].nlen);
    o += ents[i].nlen;
  }
  sh->len = (size_t)(o - sh->data);
  sh->data[sh->len] = '\0';
  return KMS_OK;
}

/* Room for the canonical headers (a value never grows canonicalised). */
static size_t canonical_headers_size(const hent *ents, size_t n)
{
  size_t i, need = 1;
  for (i = 0; i < n; i++)
    need += ents[i].nlen + 1 + ents[i].vlen + 1;
  return need;
}

/* CanonicalHeaders: "name:value\n" per distinct lower-case name, repeated
 * names' values joined with ','; then the empty line. */
static kms_status put_canonical_headers(kms_buf *b, const hent *ents,
                                        size_t n)
{
  size_t i;
  char *o;

  if (room(b, canonical_headers_size(ents, n)) != KMS_OK)
    return KMS_ERR_NOMEM;
  o = b->data + b->len;
  for (i = 0; i < n; i++) {
    if (i > 0 && same_name(&ents[i], &ents[i - 1])) {
      *o++ = ',';
    } else {
      if (i > 0)
        *o++ = '\n';
      memcpy(o, ents[i].name, ents[i].nlen);
      o += ents[i].nlen;
      *o++ = ':';
    }
    o = put_value(o, ents[i].value, ents[i].vlen, ents[i].clean);
  }
  if (n > 0)
    *o++ = '\n';
  *o++ = '\n';
  b->len = (size_t)(o - b->data);
  b->data[b->len] = '\0';
  return KMS_OK;
}

/* Query mode: the X-Amz-* parameters that are signed, in the order
 * aws-c-auth writes them (the canonical query sorts them anyway). */
static kms_status build_query_params(const job *j, scratch *sc)
{
  kms_buf *q = &sc->qry;
  kms_status st = kmsi_buf_puts(q, "X-Amz-Algorithm=" ALGORITHM
                                   "&X-Amz-Credential=");
  if (st == KMS_OK)
    st = uri_encode(q, j->akid, j->akid_len, 0);
  if (st == KMS_OK)
    st = kmsi_buf_puts(q, "%2F");
  if (st == KMS_OK)
    st = uri_encode(q, j->scope, j->scope_len, 0);
  if (st == KMS_OK)
    st = kmsi_buf_puts(q, "&X-Amz-Date=");
  if (st == KMS_OK)
    st = kmsi_buf_append(q, j->amz_date, 16);
  if (st == KMS_OK)
    st = kmsi_buf_puts(q, "&X-Amz-SignedHeaders=");
  if (st == KMS_OK)
    st = uri_encode(q, sc->sh.data, sc->sh.len, 0);
  if (st == KMS_OK && j->p->expires > 0)
    st = kmsi_buf_printf(q, "&X-Amz-Expires=%ld", j->p->expires);
  if (st == KMS_OK && j->sign_token) {
    st = kmsi_buf_puts(q, "&X-Amz-Security-Token=");
    if (st == KMS_OK)
      st = uri_encode(q, j->token, j->token_len, 0);
  }
  return st;
}

/* Refuses a query that already carries signing parameters (presigning
 * twice would sign the old signature). */
static kms_status check_query(const job *j, kms_error *err)
{
  static const char *const names[] = {
    "x-amz-algorithm", "x-amz-credential", "x-amz-date",
    "x-amz-signedheaders", "x-amz-expires", "x-amz-signature",
    "x-amz-security-token"
  };
  size_t qlen, i;
  const char *q = kmsi_http_query(j->msg, &qlen), *p, *end;

  if (!q)
    return KMS_OK;
  for (p = q, end = q + qlen; p < end;) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *eq;
    if (!amp)
      amp = end;
    eq = memchr(p, '=', (size_t)(amp - p));
    if (!eq)
      eq = amp;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
      if (name_is(p, (size_t)(eq - p), names[i]))
        return kmsi_error(err, KMS_ERR_INVALID_ARG,
                          "sigv4: the query already has %s", names[i]);
    p = amp + 1;
  }
  return KMS_OK;
}

/* Tasks 1 and 2. c is the signer's saved hashing state, or NULL. Fills
 * sc->creq (canonical request), sc->sh (signed
 * headers), sc->qry (query mode: the signed X-Amz-* parameters) and
 * sc->sts (string to sign). Buffers are reserved once and written in
 * place: this runs on every request. */
static kms_status canonicalize(job *j, crypto *c, scratch *sc,
                               kms_error *err)
{
  hent stack_ents[STACK_ENTRIES], *ents = stack_ents;
  size_t max = kms_http_header_count(j->msg) + 4, n, len, plen;
  unsigned char digest[SHA256_LEN];
  const char *s, *method = kms_http_method(j->msg);
  kms_status st;
  char *o;

  /* sc is empty: fresh, or reset at the end of the last kms_sign. */
  if (max > STACK_ENTRIES) {
    ents = kmsi_malloc(j->a, max * sizeof *ents);
    if (!ents)
      return kmsi_error(err, KMS_ERR_NOMEM, "sigv4: out of memory");
  }

  /* The payload hash: SHA-256 of the body (of "" when there is none). */
  s = kms_http_body(j->msg, &len);
  kmsi_sha256(s, len, digest);
  to_hex(digest, j->payload_hash);

  /* Task 1: CanonicalRequest =
   *   HTTPRequestMethod '\n' CanonicalURI '\n' CanonicalQueryString '\n'
   *   CanonicalHeaders '\n' SignedHeaders '\n' HexEncode(Hash(Payload))
   * The signed headers are listed first: the query mode's
   * X-Amz-SignedHeaders parameter needs them. */
  st = collect_headers(j, &sc->names, ents, &n);
  if (st == KMS_OK)
    st = put_signed_headers(&sc->sh, ents, n);
  if (st == KMS_OK && j->query)
    st = build_query_params(j, sc);
  /* HTTPRequestMethod '\n'. The canonical request is reserved whole
   * (but for a query, which reserves its own room). */
  s = kmsi_http_path(j->msg, &plen);
  len = strlen(method);
  if (st == KMS_OK)
    st = room(&sc->creq, len + 1 + 3 * plen + 2 + 1 +
              canonical_headers_size(ents, n) + sc->sh.len +
              1 + 2 * SHA256_LEN);
  if (st != KMS_OK)
    goto nomem;
  memcpy(sc->creq.data, method, len);
  sc->creq.data[len] = '\n';
  sc->creq.len = len + 1;
  /* CanonicalURI '\n': the path, normalised when asked, encoded once
   * more (the "double encoding" of every service but S3). */
  if (plen == 1 && s[0] == '/') {
    sc->creq.data[sc->creq.len++] = '/';
  } else {
    st = put_canonical_uri(&sc->creq, s, plen,
                           (j->p->flags & KMS_SIGN_NORMALIZE_PATH) != 0);
    if (st != KMS_OK)
      goto nomem;
  }
  sc->creq.data[sc->creq.len++] = '\n';
  sc->creq.data[sc->creq.len] = '\0';
  /* CanonicalQueryString '\n' */
  st = put_canonical_query(j, sc, err);
  if (st != KMS_OK)
    goto cleanup;
  st = room(&sc->creq, 1);
  if (st == KMS_OK)
    sc->creq.data[sc->creq.len++] = '\n';
  /* CanonicalHeaders (each "name:value\n", then the empty line) */
  if (st == KMS_OK)
    st = put_canonical_headers(&sc->creq, ents, n);
  /* SignedHeaders '\n' HexEncode(Hash(RequestPayload)) */
  if (st == KMS_OK)
    st = room(&sc->creq, sc->sh.len + 1 + 2 * SHA256_LEN);
  if (st != KMS_OK)
    goto nomem;
  o = sc->creq.data + sc->creq.len;
  memcpy(o, sc->sh.data, sc->sh.len);
  o += sc->sh.len;
  *o++ = '\n';
  memcpy(o, j->payload_hash, 2 * SHA256_LEN + 1);
  sc->creq.len = (size_t)(o + 2 * SHA256_LEN - sc->creq.data);

  /* Task 2: StringToSign = Algorithm '\n' RequestDateTime '\n'
   *   CredentialScope '\n' HexEncode(Hash(CanonicalRequest)) */
  sha256_creq(c, sc->creq.data, sc->creq.len, digest);
  st = room(&sc->sts,
            sizeof ALGORITHM + 17 + j->scope_len + 1 + 2 * SHA256_LEN);
  if (st != KMS_OK)
    goto nomem;
  o = sc->sts.data;
  memcpy(o, ALGORITHM "\n", sizeof ALGORITHM);
  o += sizeof ALGORITHM;
  memcpy(o, j->amz_date, 16);
  o[16] = '\n';
  o += 17;
  memcpy(o, j->scope, j->scope_len);
  o += j->scope_len;
  *o++ = '\n';
  to_hex(digest, o);
  sc->sts.len = (size_t)(o + 2 * SHA256_LEN - sc->sts.data);
  goto cleanup;

nomem:
  st = kmsi_error(err, KMS_ERR_NOMEM, "sigv4: out of memory");
cleanup:
  if (ents != stack_ents)
    kmsi_free(j->a, ents, max * sizeof *ents);
  return st;
}

/* }===================================================================== */

/* {=====================================================================
 * Task 3: the signing key, cached
 * ===================================================================== */

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
 * service), "aws4_request"), reduced to its HMAC states in *out. Every
 * intermediate key is wiped. KMS_ERR_NOMEM only for a secret too long
 * for the stack buffer. */
static kms_status derive_key(const job *j, kmsi_hmac_key *out,
                             kms_error *err)
{
  unsigned char stack_k[4 + CACHE_FIELD], *k = stack_k;
  unsigned char kd[SHA256_LEN];
  size_t slen;
  const char *secret = kmsi_credentials_secret(j->cred, &slen);

  if (4 + slen > sizeof stack_k) {
    k = kmsi_malloc(j->a, 4 + slen);
    if (!k)
      return kmsi_error(err, KMS_ERR_NOMEM, "sigv4: out of memory");
  }
  memcpy(k, "AWS4", 4);
  memcpy(k + 4, secret, slen);
  /* kDate, kRegion, kService, kSigning (each overwrites the last) */
  kmsi_hmac_sha256(k, 4 + slen, j->amz_date, 8, kd);
  kmsi_hmac_sha256(kd, SHA256_LEN, j->p->region, j->region_len, kd);
  kmsi_hmac_sha256(kd, SHA256_LEN, j->p->service, j->service_len, kd);
  kmsi_hmac_sha256(kd, SHA256_LEN, "aws4_request", 12, kd);
  kmsi_hmac_sha256_init(out, kd, SHA256_LEN);
  kmsi_wipe(k, 4 + slen);
  if (k != stack_k)
    kmsi_free(j->a, k, 4 + slen);
  kmsi_wipe(kd, sizeof kd);
  return KMS_OK;
}

/* Equality without a data-dependent branch (the secret is compared). */
static int ct_equal(const void *a, const void *b, size_t n)
{
  const unsigned char *x = a, *y = b;
  uint64_t d = 0, u, v;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&u, x + i, 8);
    memcpy(&v, y + i, 8);
    d |= u ^ v;
  }
  for (; i < n; i++)
    d |= (uint64_t)(x[i] ^ y[i]);
  return d == 0;
}

static int entry_matches(const cache_entry *e, const job *j,
                         const char *secret, size_t slen)
{
  return e->last_use && memcmp(e->date, j->amz_date, 8) == 0 &&
         e->akid_len == j->akid_len && e->secret_len == slen &&
         e->region_len == j->region_len &&
         e->service_len == j->service_len &&
         memcmp(e->akid, j->akid, j->akid_len) == 0 &&
         memcmp(e->region, j->p->region, j->region_len) == 0 &&
         memcmp(e->service, j->p->service, j->service_len) == 0 &&
         ct_equal(e->secret, secret, slen);
}

/* The signing key for the job's (access key, secret, date, region,
 * service), as HMAC states: *key points to them. With a signer they come
 * from the cache, or are derived into the least recently used slot (the
 * evicted entry's secret is wiped first; every other field is
 * overwritten). Without a signer, or for ids and secrets too long for a
 * slot, they are derived into *own every time (the caller wipes it). */
static kms_status signing_key(kms_signer *s, const job *j,
                              kmsi_hmac_key *own, const kmsi_hmac_key **key,
                              kms_error *err)
{
  size_t slen, i, v = 0;
  const char *secret = kmsi_credentials_secret(j->cred, &slen);
  cache_entry *e;
  kms_status st;

  *key = NULL;
  if (!s || slen > CACHE_FIELD || j->akid_len > CACHE_FIELD) {
    if (s)
      s->derivations++;
    st = derive_key(j, own, err);
    if (st == KMS_OK)
      *key = own;
    return st;
  }
  for (i = 0; i < CACHE_SLOTS; i++) {
    e = &s->cache[i];
    if (entry_matches(e, j, secret, slen)) {
      e->last_use = ++s->clock;
      *key = &e->key;
      return KMS_OK;
    }
    if (e->last_use < s->cache[v].last_use)
      v = i;
  }
  e = &s->cache[v];
  kmsi_wipe(e->secret, e->secret_len);
  e->last_use = 0;
  s->derivations++;
  st = derive_key(j, &e->key, err); /* cannot fail: slen <= CACHE_FIELD */
  if (st != KMS_OK)
    return st;
  memcpy(e->date, j->amz_date, 8);
  e->akid_len = (unsigned char)j->akid_len;
  e->secret_len = (unsigned char)slen;
  e->region_len = (unsigned char)j->region_len;
  e->service_len = (unsigned char)j->service_len;
  memcpy(e->akid, j->akid, j->akid_len);
  memcpy(e->secret, secret, slen);
  memcpy(e->region, j->p->region, j->region_len);
  memcpy(e->service, j->p->service, j->service_len);
  e->last_use = ++s->clock;
  *key = &e->key;
  return KMS_OK;
}

/* }===================================================================== */

/* {=====================================================================
 * Debug trace
 * ===================================================================== */

/* Sends text to the log one line at a time, "sigv4 <what>: <line>". The
 * session token is the only secret a canonical request can hold (as the
 * x-amz-security-token header or the X-Amz-Security-Token parameter); its
 * value is replaced by "***". The body never appears: only its hash. */
static void log_lines(kms_signer *s, const char *what, const kms_buf *text)
{
  static const char hdr[] = "x-amz-security-token:";
  static const char prm[] = "X-Amz-Security-Token=";
  const char *p = text->data, *end = text->data + text->len;
  kms_buf *o = &s->sc.out;

  while (p <= end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *tok;
    size_t n;
    if (!eol)
      eol = end;
    n = (size_t)(eol - p);
    kmsi_buf_reset(o);
    if (kmsi_buf_printf(o, "sigv4 %s: ", what) != KMS_OK)
      return;
    if (n >= sizeof hdr - 1 && memcmp(p, hdr, sizeof hdr - 1) == 0) {
      if (kmsi_buf_puts(o, hdr) != KMS_OK ||
          kmsi_buf_puts(o, "***") != KMS_OK)
        return;
    } else {
      const char *q = p;
      while (q < eol &&
             (tok = memchr(q, 'X', (size_t)(eol - q))) != NULL) {
        if ((size_t)(eol - tok) >= sizeof prm - 1 &&
            memcmp(tok, prm, sizeof prm - 1) == 0) {
          const char *amp = memchr(tok, '&', (size_t)(eol - tok));
          if (kmsi_buf_append(o, q, (size_t)(tok - q)) != KMS_OK ||
              kmsi_buf_puts(o, prm) != KMS_OK ||
              kmsi_buf_puts(o, "***") != KMS_OK)
            return;
          q = amp ? amp : eol;
        } else {
          if (kmsi_buf_append(o, q, (size_t)(tok + 1 - q)) != KMS_OK)
            return;
          q = tok + 1;
        }
      }
      if (kmsi_buf_append(o, q, (size_t)(eol - q)) != KMS_OK)
        return;
    }
    s->log(s->log_ud, KMS_LOG_DEBUG, o->data);
    p = eol + 1;
  }
  kmsi_buf_reset(o);
}

/* }===================================================================== */

/* {=====================================================================
 * Task 4 and the public entry points
 * ===================================================================== */

/* Removes whatever a previous signature (or a failed one) left, in one
 * pass over the headers. */
static void strip_signature(kms_http *msg, const job *j)
{
  const char *names[4];
  size_t n = 0;

  names[n++] = "authorization";
  names[n++] = "x-amz-date";
  if (j->token)
    names[n++] = "x-amz-security-token";
  if (j->body_header)
    names[n++] = "x-amz-content-sha256";
  kmsi_http_remove_headers(msg, names, n);
}

/* Puts the signature (mac, hex-encoded where it is written) on the
 * message: headers appended in the AWS CLI's order (X-Amz-Date,
 * X-Amz-Security-Token, Authorization), or the query parameters. */
static kms_status apply(const job *j, kms_http *msg, scratch *sc,
                        const unsigned char mac[SHA256_LEN], kms_error *err)
{
  kms_status st = KMS_OK;
  kms_buf *o = &sc->out;
  char *w;

  strip_signature(msg, j);
  if (!j->has_host) {
    const char *h = kms_http_host(msg);
    st = kmsi_http_insert_header(msg, 0, "Host", h, strlen(h), err);
  }
  if (st != KMS_OK)
    return st;
  if (j->query) {
    kmsi_buf_reset(o);
    st = kmsi_buf_append(o, sc->qry.data, sc->qry.len);
    if (st == KMS_OK && j->token && !j->sign_token) {
      st = kmsi_buf_puts(o, "&X-Amz-Security-Token=");
      if (st == KMS_OK)
        st = uri_encode(o, j->token, j->token_len, 0);
    }
    if (st == KMS_OK)
      st = kmsi_buf_puts(o, "&X-Amz-Signature=");
    if (st == KMS_OK)
      st = room(o, 2 * SHA256_LEN);
    if (st == KMS_OK) {
      to_hex(mac, o->data + o->len);
      o->len += 2 * SHA256_LEN;
    }
    if (st != KMS_OK)
      return kmsi_error(err, KMS_ERR_NOMEM, "sigv4: out of memory");
    return kmsi_http_append_query(msg, o->data, o->len, err);
  }
  st = kmsi_http_insert_checked(msg, (size_t)-1, "X-Amz-Date", 10,
                                j->amz_date, 16, err);
  if (st == KMS_OK && j->body_header)
    st = kmsi_http_insert_checked(msg, (size_t)-1, "x-amz-content-sha256",
                                  20, j->payload_hash, 2 * SHA256_LEN, err);
  /* The token comes from outside: checked like any header value. */
  if (st == KMS_OK && j->token)
    st = kmsi_http_insert_header(msg, (size_t)-1, "X-Amz-Security-Token",
                                 j->token, j->token_len, err);
  if (st != KMS_OK)
    return st;
  /* Authorization: AWS4-HMAC-SHA256 Credential=<akid>/<scope>,
   * SignedHeaders=<list>, Signature=<hex> */
  kmsi_buf_reset(o);
  st = room(o, sizeof ALGORITHM + 12 + j->akid_len + 1 + j->scope_len + 16 +
                   sc->sh.len + 12 + 2 * SHA256_LEN);
  if (st != KMS_OK)
    return kmsi_error(err, KMS_ERR_NOMEM, "sigv4: out of memory");
  w = o->data;
  memcpy(w, ALGORITHM " Credential=", sizeof ALGORITHM + 11);
  w += sizeof ALGORITHM + 11;
  memcpy(w, j->akid, j->akid_len);
  w += j->akid_len;
  *w++ = '/';
  memcpy(w, j->scope, j->scope_len);
  w += j->scope_len;
  memcpy(w, ", SignedHeaders=", 16);
  w += 16;
  memcpy(w, sc->sh.data, sc->sh.len);
  w += sc->sh.len;
  memcpy(w, ", Signature=", 12);
  w += 12;
  to_hex(mac, w);
  w += 2 * SHA256_LEN;
  o->len = (size_t)(w - o->data);
  return kmsi_http_insert_checked(msg, (size_t)-1, "Authorization", 13,
                                  o->data, o->len, err);
}

/* Signs msg in place (see kms.h). With a signer, its OpenSSL contexts,
 * scratch buffers and key cache are used; without one, they are made
 * for this call. When the arguments are refused the message is left as
 * it is; on any later failure it carries no signature header (a previous
 * one is removed too, so a failed retry cannot go out with a stale one)
 * and err says why. */
kms_status kms_sign(kms_signer *s, kms_http *msg, const kms_credentials *cred,
                    const kms_sign_params *p, kms_error *err)
{
  kms_status st;
  job j;
  scratch own_sc, *sc = NULL;
  kmsi_hmac_key own_key;
  const kmsi_hmac_key *key = NULL;
  unsigned char mac[SHA256_LEN];
  int have_job = 0;

  st = job_init(&j, msg, cred, p, err);
  if (st != KMS_OK)
    goto cleanup;
  have_job = 1;
  j.a = s ? &s->a : kmsi_http_allocator(msg);
  if (j.query) {
    st = check_query(&j, err);
    if (st != KMS_OK)
      goto cleanup;
  }
  if (s) {
    sc = &s->sc;
  } else {
    sc = &own_sc;
    scratch_init(sc, j.a);
  }

  st = canonicalize(&j, s ? &s->c : NULL, sc, err);
  if (st != KMS_OK)
    goto cleanup;
  if (s && s->log) {
    log_lines(s, "canonical request", &sc->creq);
    log_lines(s, "string to sign", &sc->sts);
  }

  /* Task 3: the signing key (its HMAC states, cached with a signer). */
  st = signing_key(s, &j, &own_key, &key, err);
  if (st != KMS_OK)
    goto cleanup;
  /* Task 4: signature = HexEncode(HMAC(kSigning, StringToSign)), the hex
   * written straight into the Authorization value (or the query). */
  kmsi_hmac_sha256_keyed(key, sc->sts.data, sc->sts.len, mac);
  st = apply(&j, msg, sc, mac, err);
cleanup:
  if (st != KMS_OK && have_job)
    strip_signature(msg, &j);
  if (key == &own_key)
    kmsi_wipe(&own_key, sizeof own_key);
  kmsi_wipe(mac, sizeof mac);
  if (sc == &own_sc)
    scratch_free(sc);
  else if (sc)
    scratch_reset(sc);
  return st;
}

/* Tasks 1 and 2 only, into the caller's buffers. The canonical request
 * holds the session token when one is signed, so both buffers are
 * secret (wiped when freed). */
kms_status kms_sign_debug(const kms_http *msg, const kms_credentials *cred,
                          const kms_sign_params *p,
                          kms_buf *canonical_request, kms_buf *string_to_sign,
                          kms_error *err)
{
  kms_status st;
  job j;
  scratch sc;

  if (canonical_request)
    kmsi_buf_init(canonical_request, NULL, 1);
  if (string_to_sign)
    kmsi_buf_init(string_to_sign, NULL, 1);
  if (!canonical_request || !string_to_sign)
    return kmsi_error(err, KMS_ERR_INVALID_ARG,
                      "sigv4: output buffers are required");
  st = job_init(&j, msg, cred, p, err);
  if (st != KMS_OK)
    return st;
  j.a = kmsi_http_allocator(msg);
  kmsi_buf_init(canonical_request, j.a, 1);
  kmsi_buf_init(string_to_sign, j.a, 1);
  scratch_init(&sc, j.a);
  if (j.query) {
    st = check_query(&j, err);
    if (st != KMS_OK)
      goto cleanup;
  }
  st = canonicalize(&j, NULL, &sc, err);
  if (st != KMS_OK)
    goto cleanup;
  /* Hand the scratch buffers over instead of copying them. */
  *canonical_request = sc.creq;
  *string_to_sign = sc.sts;
  kmsi_buf_init(&sc.creq, j.a, 1);
  kmsi_buf_init(&sc.sts, j.a, 1);
cleanup:
  scratch_free(&sc);
  return st;
}

/* }===================================================================== */
