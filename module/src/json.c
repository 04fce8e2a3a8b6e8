/* json.c - JSON text the way botocore writes it (Python's json.dumps with
 * ensure_ascii, ", " and ": " separators), UTF-8 helpers, an allocation-free
 * strict syntax check run before cJSON sees any input, and the bodies of
 * the helper operations (Describe, Connect, Disconnect). */
#include <stdint.h>
#include <string.h>
#include "internal.h"
#include "request_int.h"

/* {=====================================================================
 * UTF-8
 * ===================================================================== */

/* Decodes one well-formed UTF-8 sequence at s[0..len) (len >= 1). Returns
 * its length (1-4) and the code point in *cp, or 0 when the first bytes are
 * not a well-formed sequence (Unicode table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
  unsigned char c = s[0];
  unsigned char lo = 0x80, hi = 0xBF;
  size_t n, i;
  uint32_t v;

  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    v = c & 0x0F;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;                 /* U+D800..U+DFFF are not characters */
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    v = c & 0x07;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (len < n)
    return 0;
  for (i = 1; i < n; i++) {
    unsigned char b = s[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
      return 0;
    v = (v << 6) | (b & 0x3F);
  }
  *cp = v;
  return n;
}

#define ONES 0x0101010101010101u
#define HIGHS 0x8080808080808080u

static uint64_t load64(const unsigned char *p)
{
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

/* The length of the leading run of ASCII bytes, eight at a time (the last
 * word overlapping the one before): ids, names and passwords are usually
 * ASCII throughout. */
static size_t ascii_prefix(const unsigned char *p, size_t len)
{
  size_t i = 0;
  if (len >= 8) {
    for (; i + 8 <= len; i += 8)
      if (load64(p + i) & HIGHS)
        break;
    if (i + 8 > len && !(load64(p + len - 8) & HIGHS))
      return len;
  }
  while (i < len && p[i] < 0x80)
    i++;
  return i;
}

size_t kmsi_utf8_length(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = ascii_prefix(p, len), count = i;
  uint32_t cp;

  while (i < len) {
    size_t n = utf8_decode(p + i, len - i, &cp);
    i += n ? n : 1;                 /* an invalid byte counts as one */
    count++;
  }
  return count;
}

int kmsi_utf8_valid(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = ascii_prefix(p, len);
  uint32_t cp;

  while (i < len) {
    size_t n = utf8_decode(p + i, len - i, &cp);
    if (!n)
      return 0;
    i += n;
  }
  return 1;
}

size_t kmsi_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
  return utf8_decode((const unsigned char *)s, len, cp);
}

size_t kmsi_utf8_put(uint32_t cp, char *out)
{
  unsigned char *o = (unsigned char *)out;

  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | (cp >> 6));
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (cp >> 18));
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

int kmsi_hex4(const char *s, uint32_t *out)
{
  uint32_t v = 0;
  int i;

  for (i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return 0;
  }
  *out = v;
  return 1;
}

/* {=====================================================================
 * Writing JSON strings (Python json.dumps, ensure_ascii=True)
 * ===================================================================== */

static kms_status put_u16(kms_buf *b, uint32_t unit)
{
  static const char digits[] = "0123456789abcdef";
  char esc[6];

  esc[0] = '\\';
  esc[1] = 'u';
  esc[2] = digits[(unit >> 12) & 15];
  esc[3] = digits[(unit >> 8) & 15];
  esc[4] = digits[(unit >> 4) & 15];
  esc[5] = digits[unit & 15];
  return kmsi_buf_append(b, esc, sizeof esc);
}

/* Python's ESCAPE_ASCII: ", \ and the five named controls get two-char
 * escapes; everything outside 0x20..0x7E (DEL included) becomes \uXXXX in
 * lowercase hex, astral code points as a surrogate pair. '/' stays as is.
 * Bytes that are not well-formed UTF-8 (which botocore can never be given,
 * Python strings being code points) become U+FFFD one byte at a time, the
 * same unit kmsi_utf8_length counts; the validator's "utf8" rule refuses
 * such a request before it is encoded for sending. */
/* 1 when none of the eight bytes of x needs escaping in a JSON string:
 * none is below 0x20, at or above 0x7f, '"' or '\\'. Each test flags
 * every word that has such a byte (and may flag others beyond it). */
static int plain_word(uint64_t x)
{
  uint64_t q = x ^ (ONES * '"'), bs = x ^ (ONES * '\\');
  return !((((x - ONES * 0x20) & ~x) | x | (x + ONES) | ((q - ONES) & ~q) |
            ((bs - ONES) & ~bs)) &
           HIGHS);
}

/* The length of the leading run of bytes that go into a JSON string as
 * they are (0x20..0x7e but '"' and '\\'): eight at a time, the last word
 * overlapping the one before, and byte by byte from the first word that
 * is not plain. */
static size_t plain_prefix(const unsigned char *p, size_t len)
{
  size_t i = 0;
  if (len >= 8) {
    for (; i + 8 <= len; i += 8)
      if (!plain_word(load64(p + i)))
        break;
    if (i + 8 > len && plain_word(load64(p + len - 8)))
      return len;
  }
  while (i < len && p[i] >= 0x20 && p[i] <= 0x7E && p[i] != '"' &&
         p[i] != '\\')
    i++;
  return i;
}

kms_status kmsi_json_put_string(kms_buf *b, const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, run, room = b->data ? b->cap - b->len : 0;
  kms_status st;

  /* Room for the quotes, the bytes as they are and the NUL. */
  if (room < 3 || len > room - 3) {
    st = kmsi_buf_reserve(b, len + 2);
    if (st != KMS_OK)
      goto cleanup;
  }
  /* The usual case, nothing to escape: one copy. */
  run = plain_prefix(p, len);
  if (run == len) {
    char *o = b->data + b->len;
    o[0] = '"';
    if (len)
      memcpy(o + 1, s, len);
    o[len + 1] = '"';
    b->len += len + 2;
    b->data[b->len] = '\0';
    return KMS_OK;
  }
  st = kmsi_buf_putc(b, '"');
  while (st == KMS_OK && i < len) {
    unsigned char c = p[i];
    uint32_t cp;
    size_t n;

    /* copy the longest run that needs no escaping in one go */
    run = i + plain_prefix(p + i, len - i);
    if (run > i) {
      st = kmsi_buf_append(b, p + i, run - i);
      i = run;
      continue;
    }
    switch (c) {
    case '"':  st = kmsi_buf_append(b, "\\\"", 2); i++; continue;
    case '\\': st = kmsi_buf_append(b, "\\\\", 2); i++; continue;
    case '\b': st = kmsi_buf_append(b, "\\b", 2); i++; continue;
    case '\f': st = kmsi_buf_append(b, "\\f", 2); i++; continue;
    case '\n': st = kmsi_buf_append(b, "\\n", 2); i++; continue;
    case '\r': st = kmsi_buf_append(b, "\\r", 2); i++; continue;
    case '\t': st = kmsi_buf_append(b, "\\t", 2); i++; continue;
    default: break;
    }
    n = utf8_decode(p + i, len - i, &cp);
    if (!n) {
      cp = 0xFFFD;
      n = 1;
    }
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      st = put_u16(b, 0xD800 | (cp >> 10));
      if (st == KMS_OK)
        st = put_u16(b, 0xDC00 | (cp & 0x3FF));
    } else {
      st = put_u16(b, cp);
    }
  }
  if (st == KMS_OK)
    st = kmsi_buf_putc(b, '"');
cleanup:
  return st;
}

void kmsi_quote_printable(char *dst, size_t size, const char *s, size_t len)
{
  static const char digits[] = "0123456789abcdef";
  size_t o = 0, i;

  if (size < 8) {
    if (size)
      dst[0] = '\0';
    return;
  }
  dst[o++] = '"';
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    char tmp[4];
    size_t n = 0;

    if (c == '"' || c == '\\') {
      tmp[n++] = '\\';
      tmp[n++] = (char)c;
    } else if (c >= 0x20 && c <= 0x7E) {
      tmp[n++] = (char)c;
    } else {
      tmp[n++] = '\\';
      tmp[n++] = 'x';
      tmp[n++] = digits[c >> 4];
      tmp[n++] = digits[c & 15];
    }
    if (o + n + 5 > size) {          /* room for "..." and the NUL */
      memcpy(dst + o, "\"...", 5);
      return;
    }
    memcpy(dst + o, tmp, n);
    o += n;
  }
  dst[o++] = '"';
  dst[o] = '\0';
}

/* {=====================================================================
 * Strict syntax check (no allocation), run before cJSON_Parse
 * ===================================================================== */

#define JSON_MAX_DEPTH 64

typedef struct jscan {
  const unsigned char *s;
  size_t len, pos;
  const char *why;
} jscan;

static void skip_ws(jscan *j)
{
  while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
                             j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
    j->pos++;
}

static int fail(jscan *j, const char *why)
{
  j->why = why;
  return 0;
}

static int hex4(jscan *j, uint32_t *out)
{
  if (j->len - j->pos < 4)
    return fail(j, "truncated \\u escape");
  if (!kmsi_hex4((const char *)j->s + j->pos, out))
    return fail(j, "bad hex digit in \\u escape");
  j->pos += 4;
  return 1;
}

/* At the opening quote. */
static int scan_string(jscan *j)
{
  j->pos++;
  for (;;) {
    unsigned char c;
    if (j->pos >= j->len)
      return fail(j, "unterminated string");
    c = j->s[j->pos];
    if (c == '"') {
      j->pos++;
      return 1;
    }
    if (c < 0x20)
      return fail(j, "control character in string");
    if (c != '\\') {
      j->pos++;
      continue;
    }
    j->pos++;
    if (j->pos >= j->len)
      return fail(j, "unterminated escape");
    c = j->s[j->pos++];
    if (c == 'u') {
      uint32_t u, lo;
      if (!hex4(j, &u))
        return 0;
      if (u == 0)
        return fail(j, "\\u0000 is not supported");
      if (u >= 0xDC00 && u <= 0xDFFF)
        return fail(j, "lone low surrogate");
      if (u >= 0xD800 && u <= 0xDBFF) {
        if (j->len - j->pos < 2 || j->s[j->pos] != '\\' ||
            j->s[j->pos + 1] != 'u')
          return fail(j, "lone high surrogate");
        j->pos += 2;
        if (!hex4(j, &lo))
          return 0;
        if (lo < 0xDC00 || lo > 0xDFFF)
          return fail(j, "lone high surrogate");
      }
    } else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
      return fail(j, "bad escape");
    }
  }
}

static int digits(jscan *j)
{
  size_t start = j->pos;
  while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
    j->pos++;
  return j->pos > start;
}

static int scan_number(jscan *j)
{
  if (j->s[j->pos] == '-')
    j->pos++;
  if (j->pos < j->len && j->s[j->pos] == '0')
    j->pos++;
  else if (!digits(j))
    return fail(j, "bad number");
  if (j->pos < j->len && j->s[j->pos] == '.') {
    j->pos++;
    if (!digits(j))
      return fail(j, "bad number");
  }
  if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
    j->pos++;
    if (j->pos < j->len && (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
      j->pos++;
    if (!digits(j))
      return fail(j, "bad number");
  }
  return 1;
}

static int scan_word(jscan *j, const char *w)
{
  size_t n = strlen(w);
  if (j->len - j->pos < n || memcmp(j->s + j->pos, w, n) != 0)
    return fail(j, "unexpected character");
  j->pos += n;
  return 1;
}

static int scan_value(jscan *j, int depth);

/* At '{' or '['. */
static int scan_container(jscan *j, int depth)
{
  unsigned char close = j->s[j->pos] == '{' ? '}' : ']';
  int first = 1;

  if (depth >= JSON_MAX_DEPTH)
    return fail(j, "nesting too deep");
  j->pos++;
  for (;;) {
    skip_ws(j);
    if (j->pos >= j->len)
      return fail(j, "unexpected end of input");
    if (j->s[j->pos] == close && first) {
      j->pos++;
      return 1;
    }
    if (!first) {
      if (j->s[j->pos] == close) {
        j->pos++;
        return 1;
      }
      if (j->s[j->pos] != ',')
        return fail(j, close == '}' ? "expected ',' or '}'"
                                    : "expected ',' or ']'");
      j->pos++;
      skip_ws(j);
    }
    first = 0;
    if (close == '}') {
      if (j->pos >= j->len || j->s[j->pos] != '"')
        return fail(j, "expected a member name");
      if (!scan_string(j))
        return 0;
      skip_ws(j);
      if (j->pos >= j->len || j->s[j->pos] != ':')
        return fail(j, "expected ':'");
      j->pos++;
    }
    if (!scan_value(j, depth + 1))
      return 0;
  }
}

static int scan_value(jscan *j, int depth)
{
  unsigned char c;

  skip_ws(j);
  if (j->pos >= j->len)
    return fail(j, "unexpected end of input");
  c = j->s[j->pos];
  if (c == '{' || c == '[')
    return scan_container(j, depth);
  if (c == '"')
    return scan_string(j);
  if (c == '-' || (c >= '0' && c <= '9'))
    return scan_number(j);
  if (c == 't')
    return scan_word(j, "true");
  if (c == 'f')
    return scan_word(j, "false");
  if (c == 'n')
    return scan_word(j, "null");
  return fail(j, "unexpected character");
}

int kmsi_json_check(const char *s, size_t len, size_t *where,
                    const char **why)
{
  jscan j;
  int ok;

  j.s = (const unsigned char *)s;
  j.len = s ? len : 0;
  j.pos = 0;
  j.why = NULL;
  ok = scan_value(&j, 0);
  if (ok) {
    skip_ws(&j);
    if (j.pos != j.len)
      ok = fail(&j, "trailing characters after the JSON value");
  }
  if (where)
    *where = j.pos;
  if (why)
    *why = ok ? NULL : j.why;
  return ok;
}

/* {=====================================================================
 * Bodies of the helper operations
 * ===================================================================== */

static const char *const op_names[KMS_OP__COUNT] = {
  [KMS_OP_UPDATE_CUSTOM_KEY_STORE] = "UpdateCustomKeyStore",
  [KMS_OP_DESCRIBE_CUSTOM_KEY_STORES] = "DescribeCustomKeyStores",
  [KMS_OP_CONNECT_CUSTOM_KEY_STORE] = "ConnectCustomKeyStore",
  [KMS_OP_DISCONNECT_CUSTOM_KEY_STORE] = "DisconnectCustomKeyStore",
};

const char *kms_operation_name(kms_operation op)
{
  if ((int)op < 0 || op >= KMS_OP__COUNT)
    return NULL;
  return op_names[op];
}

/* Appends `, "name": ` (no comma for the first member) and the string. */
static kms_status put_member(kms_buf *b, int *first, const char *name,
                             const char *value, size_t len)
{
  kms_status st = kmsi_buf_puts(b, *first ? "\"" : ", \"");
  if (st == KMS_OK)
    st = kmsi_buf_puts(b, name);
  if (st == KMS_OK)
    st = kmsi_buf_puts(b, "\": ");
  if (st == KMS_OK && value)
    st = kmsi_json_put_string(b, value, len);
  *first = 0;
  return st;
}

/* DescribeCustomKeyStoresRequest members in model order: CustomKeyStoreId,
 * CustomKeyStoreName, Limit (a JSON integer, as json.dumps writes an int),
 * Marker. NULL strings and limit 0 are absent; "" is sent as "". The body
 * carries no secret, so out is not marked secret. */
kms_status kms_encode_describe(const char *custom_key_store_id,
                               const char *custom_key_store_name, int limit,
                               const char *marker, kms_buf *out,
                               kms_error *err)
{
  kms_status st = KMS_ERR_INVALID_ARG;
  int first = 1;

  if (!out)
    return kmsi_error(err, KMS_ERR_INVALID_ARG,
                      "encode describe: out is NULL");
  kmsi_buf_init(out, NULL, 0);
  st = kmsi_buf_putc(out, '{');
  if (st == KMS_OK && custom_key_store_id)
    st = put_member(out, &first, "CustomKeyStoreId", custom_key_store_id,
                    strlen(custom_key_store_id));
  if (st == KMS_OK && custom_key_store_name)
    st = put_member(out, &first, "CustomKeyStoreName", custom_key_store_name,
                    strlen(custom_key_store_name));
  if (st == KMS_OK && limit != 0) {
    st = put_member(out, &first, "Limit", NULL, 0);
    if (st == KMS_OK)
      st = kmsi_buf_printf(out, "%d", limit);
  }
  if (st == KMS_OK && marker)
    st = put_member(out, &first, "Marker", marker, strlen(marker));
  if (st == KMS_OK)
    st = kmsi_buf_putc(out, '}');
  if (st != KMS_OK) {
    kms_buf_free(out);
    kmsi_error(err, st, "encode describe: out of memory");
  }
  return st;
}

/* ConnectCustomKeyStore / DisconnectCustomKeyStore: {"CustomKeyStoreId":
 * ...}. A NULL id gives "{}", which is what botocore sends when it is not
 * validating; the service then refuses it. */
kms_status kms_encode_id_only(const char *custom_key_store_id, kms_buf *out,
                              kms_error *err)
{
  return kms_encode_describe(custom_key_store_id, NULL, 0, NULL, out, err);
}
