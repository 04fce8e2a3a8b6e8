/* jmespath_json.c - JSON text for the JMESPath engine: strict parsing of
 * `literals` (validated as Python's json.loads would, then read by cJSON),
 * string-literal unescaping, UTF-8 helpers, and output through cJSON with
 * numbers formatted the way Python prints them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "jmespath.h"

/* cJSON refuses deeper documents; the validator does the same. */
#define JSON_MAX_NESTING 1000

/* {===== UTF-8 ===== */

size_t kmsi_jp_utf8_step(const char *s, size_t len)
{
  uint32_t cp;
  size_t n = kmsi_utf8_decode(s, len, &cp);
  return n ? n : 1;
}

/* Decodes the sequence at s (whose length kmsi_jp_utf8_step gave as n);
 * an invalid byte decodes to U+FFFD. */
static unsigned long utf8_decode(const char *s, size_t n)
{
  uint32_t cp;
  return kmsi_utf8_decode(s, n, &cp) == n ? cp : 0xfffdUL;
}

/* }===== */

/* {===== string literals ===== */

int kmsi_jp_unescape(const char *s, size_t len, char *out, size_t *out_len)
{
  size_t i = 0, o = 0;
  uint32_t c, lo;

  while (i < len) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch < 0x20)
      return -1;
    if (ch != '\\') {
      out[o++] = (char)ch;
      i++;
      continue;
    }
    if (i + 1 >= len)
      return -1;
    switch (s[i + 1]) {
    case '"': out[o++] = '"'; break;
    case '\\': out[o++] = '\\'; break;
    case '/': out[o++] = '/'; break;
    case 'b': out[o++] = '\b'; break;
    case 'f': out[o++] = '\f'; break;
    case 'n': out[o++] = '\n'; break;
    case 'r': out[o++] = '\r'; break;
    case 't': out[o++] = '\t'; break;
    case 'u':
      if (len - i < 6 || !kmsi_hex4(s + i + 2, &c))
        return -1;
      if (c >= 0xdc00 && c <= 0xdfff)
        return -1;
      if (c >= 0xd800 && c <= 0xdbff) {
        /* a high surrogate must be followed by a low one */
        if (len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
            !kmsi_hex4(s + i + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
          return -1;
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i += 6;
      }
      o += kmsi_utf8_put(c, out + o);
      i += 4;
      break;
    default:
      return -1;
    }
    i += 2;
  }
  *out_len = o;
  return 0;
}
/* }===== */

/* {===== strict JSON validation ===== */

typedef struct scan {
  const char *s;
  size_t n, i;
} scan;

static void skip_ws(scan *sc)
{
  while (sc->i < sc->n && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' ||
                           sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r'))
    sc->i++;
}

static int at(const scan *sc, char c)
{
  return sc->i < sc->n && sc->s[sc->i] == c;
}

static int digits(scan *sc)
{
  size_t start = sc->i;
  while (sc->i < sc->n && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')
    sc->i++;
  return sc->i > start;
}

static int scan_number(scan *sc)
{
  if (at(sc, '-'))
    sc->i++;
  if (at(sc, '0'))
    sc->i++;
  else if (!digits(sc))
    return 0;
  if (at(sc, '.')) {
    sc->i++;
    if (!digits(sc))
      return 0;
  }
  if (at(sc, 'e') || at(sc, 'E')) {
    sc->i++;
    if (at(sc, '+') || at(sc, '-'))
      sc->i++;
    if (!digits(sc))
      return 0;
  }
  return 1;
}

/* Scans a string body up to and including the closing quote; the body
 * itself is checked by kmsi_jp_unescape's rules without decoding. */
static int scan_string(scan *sc)
{
  uint32_t c;
  sc->i++;
  while (sc->i < sc->n) {
    unsigned char ch = (unsigned char)sc->s[sc->i];
    if (ch == '"') {
      sc->i++;
      return 1;
    }
    if (ch < 0x20)
      return 0;
    if (ch == '\\') {
      if (sc->i + 1 >= sc->n)
        return 0;
      if (sc->s[sc->i + 1] == 'u') {
        if (sc->n - sc->i < 6 || !kmsi_hex4(sc->s + sc->i + 2, &c))
          return 0;
        sc->i += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", sc->s[sc->i + 1]) || !sc->s[sc->i + 1])
        return 0;
      sc->i += 2;
      continue;
    }
    sc->i++;
  }
  return 0;
}

static int scan_literal(scan *sc, const char *word)
{
  size_t n = strlen(word);
  if (sc->n - sc->i < n || memcmp(sc->s + sc->i, word, n) != 0)
    return 0;
  sc->i += n;
  return 1;
}

/* Recursive descent over one value; depth is bounded by
 * JSON_MAX_NESTING. */
static int scan_value(scan *sc, int depth)
{
  char close;
  int first = 1;

  skip_ws(sc);
  if (sc->i >= sc->n)
    return 0;
  switch (sc->s[sc->i]) {
  case '"':
    return scan_string(sc);
  case 't':
    return scan_literal(sc, "true");
  case 'f':
    return scan_literal(sc, "false");
  case 'n':
    return scan_literal(sc, "null");
  case '[':
  case '{':
    break;
  default:
    return scan_number(sc);
  }
  if (depth >= JSON_MAX_NESTING)
    return 0;
  close = sc->s[sc->i] == '[' ? ']' : '}';
  sc->i++;
  for (;;) {
    skip_ws(sc);
    if (first && at(sc, close))
      break;
    if (close == '}') {
      if (!at(sc, '"') || !scan_string(sc))
        return 0;
      skip_ws(sc);
      if (!at(sc, ':'))
        return 0;
      sc->i++;
    }
    if (!scan_value(sc, depth + 1))
      return 0;
    skip_ws(sc);
    first = 0;
    if (at(sc, ','))
      sc->i++;
    else if (at(sc, close))
      break;
    else
      return 0;
  }
  sc->i++;
  return 1;
}

kms_status kmsi_jp_number_forms(const char *json, size_t len,
                                kms_buf *forms)
{
  kms_status st = KMS_OK;
  size_t i = 0;
  int is_float;

  while (i < len && st == KMS_OK) {
    char c = json[i];
    if (c == '"') {
      for (i++; i < len && json[i] != '"'; i++)
        if (json[i] == '\\')
          i++;
      i++;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      /* cJSON's number: the longest run of these characters */
      is_float = 0;
      while (i < len && json[i] && strchr("0123456789+-eE.", json[i])) {
        if (json[i] == '.' || json[i] == 'e' || json[i] == 'E')
          is_float = 1;
        i++;
      }
      st = kmsi_buf_putc(forms, is_float ? '1' : '0');
    } else {
      i++;
    }
  }
  return st;
}

kmsi_jp_value *kmsi_jp_parse_json(kmsi_jp_ctx *ctx, const char *s,
                                  size_t len, int *nomem)
{
  scan sc;
  cJSON *tree = NULL;
  kmsi_jp_value *v = NULL;
  kms_buf forms;
  size_t next = 0;

  *nomem = 0;
  kmsi_buf_init(&forms, &ctx->alloc, 0);
  sc.s = s;
  sc.n = len;
  sc.i = 0;
  if (!scan_value(&sc, 0))
    goto cleanup;
  skip_ws(&sc);
  if (sc.i != sc.n)
    goto cleanup;
  tree = cJSON_ParseWithLength(s, len);
  if (!tree)
    goto cleanup;  /* lone surrogates, over-long numbers: not JSON here */
  if (kmsi_jp_number_forms(s, len, &forms) != KMS_OK) {
    kmsi_jp_nomem(ctx);
    *nomem = 1;
    goto cleanup;
  }
  v = kmsi_jp_from_cjson(ctx, tree, &forms, &next);
  if (!v)
    *nomem = 1;
cleanup:
  kms_buf_free(&forms);
  cJSON_Delete(tree);
  return v;
}
/* }===== */

/* {===== numbers ===== */

/* Python's repr(float): the shortest digits that read back to d, in fixed
 * notation when the decimal exponent is in [-4, 16), with ".0" added to
 * integral values, in scientific notation ("1e+16", "1.5e-07")
 * otherwise. The locale's decimal point is never relied upon. */
static void format_float(char *buf, size_t size, double d)
{
  char tmp[40], dig[24];
  int prec, exp10 = 0, decpt, nd = 0, i;
  size_t o = 0;
  const char *p;

  for (prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
    if (strtod(tmp, NULL) == d)
      break;
  }
  p = tmp;
  if (*p == '-') {
    buf[o++] = '-';
    p++;
  }
  for (; *p && *p != 'e' && *p != 'E'; p++)
    if (*p >= '0' && *p <= '9' && nd < (int)sizeof dig - 1)
      dig[nd++] = *p;
  if (*p)
    exp10 = atoi(p + 1);
  while (nd > 1 && dig[nd - 1] == '0')
    nd--;
  dig[nd] = '\0';
  decpt = exp10 + 1;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      o += (size_t)snprintf(buf + o, size - o, "0.");
      for (i = 0; i < -decpt; i++)
        buf[o++] = '0';
      snprintf(buf + o, size - o, "%s", dig);
    } else if (decpt >= nd) {
      o += (size_t)snprintf(buf + o, size - o, "%s", dig);
      for (i = nd; i < decpt; i++)
        buf[o++] = '0';
      snprintf(buf + o, size - o, ".0");
    } else {
      snprintf(buf + o, size - o, "%.*s.%s", decpt, dig, dig + decpt);
    }
  } else {
    buf[o++] = dig[0];
    if (nd > 1)
      o += (size_t)snprintf(buf + o, size - o, ".%s", dig + 1);
    snprintf(buf + o, size - o, "e%c%02d", exp10 < 0 ? '-' : '+',
             exp10 < 0 ? -exp10 : exp10);
  }
}

void kmsi_jp_format_number(char *buf, size_t size, double d, int is_float)
{
  if (!isfinite(d)) {
    snprintf(buf, size, "null");  /* Python writes Infinity: not JSON */
  } else if (!is_float && d == floor(d) && fabs(d) < 9007199254740992.0) {
    snprintf(buf, size, "%.0f", d == 0 ? 0.0 : d);
  } else {
    format_float(buf, size, d);
  }
}
/* }===== */

/* {===== output ===== */

/* Builds a cJSON tree of v. Numbers become raw nodes holding Python's
 * text. Returns NULL on allocation failure. */
static cJSON *to_cjson(const kmsi_jp_value *v)
{
  cJSON *j = NULL, *item;
  char num[40];
  size_t i;

  switch (v->type) {
  case KMSI_JP_BOOLEAN:
    return cJSON_CreateBool(v->u.boolean);
  case KMSI_JP_NUMBER:
    kmsi_jp_format_number(num, sizeof num, v->u.number, v->is_float);
    return cJSON_CreateRaw(num);
  case KMSI_JP_STRING:
    return cJSON_CreateString(v->u.str.ptr);
  case KMSI_JP_ARRAY:
    j = cJSON_CreateArray();
    for (i = 0; j && i < v->u.arr.len; i++) {
      item = to_cjson(v->u.arr.items[i]);
      if (!item || !cJSON_AddItemToArray(j, item)) {
        cJSON_Delete(item);
        cJSON_Delete(j);
        j = NULL;
      }
    }
    return j;
  case KMSI_JP_OBJECT:
    j = cJSON_CreateObject();
    for (i = 0; j && i < v->u.obj.len; i++) {
      item = to_cjson(v->u.obj.items[i].val);
      if (!item ||
          !cJSON_AddItemToObject(j, v->u.obj.items[i].key->u.str.ptr,
                                 item)) {
        cJSON_Delete(item);
        cJSON_Delete(j);
        j = NULL;
      }
    }
    return j;
  default:
    return cJSON_CreateNull();
  }
}

/* Copies JSON text into out, escaping every non-ASCII code point (and
 * DEL) as Python's ensure_ascii does; invalid bytes become U+FFFD. */
static kms_status put_ascii(kms_buf *out, const char *s, size_t len)
{
  kms_status st = KMS_OK;
  size_t i = 0, n;
  unsigned long c, hi;

  while (i < len && st == KMS_OK) {
    if ((unsigned char)s[i] < 0x7f) {
      n = 1;
      while (i + n < len && (unsigned char)s[i + n] < 0x7f)
        n++;
      st = kmsi_buf_append(out, s + i, n);
      i += n;
      continue;
    }
    n = kmsi_jp_utf8_step(s + i, len - i);
    c = utf8_decode(s + i, n);
    i += n;
    if (c >= 0x10000) {
      c -= 0x10000;
      hi = 0xd800 + (c >> 10);
      st = kmsi_buf_printf(out, "\\u%04lx\\u%04lx", hi,
                           0xdc00 + (c & 0x3ff));
    } else {
      st = kmsi_buf_printf(out, "\\u%04lx", c);
    }
  }
  return st;
}

kms_status kmsi_jp_to_json(kmsi_jp_ctx *ctx, const kmsi_jp_value *v,
                           int ensure_ascii, kms_buf *out)
{
  kms_status result = KMS_ERR_NOMEM;
  cJSON *tree = to_cjson(v);
  char *text = NULL;

  if (!tree)
    goto cleanup;
  text = cJSON_PrintUnformatted(tree);
  if (!text)
    goto cleanup;
  if (ensure_ascii)
    result = put_ascii(out, text, strlen(text));
  else
    result = kmsi_buf_puts(out, text);
cleanup:
  if (result != KMS_OK)
    kmsi_jp_nomem(ctx);
  if (text)
    cJSON_free(text);
  cJSON_Delete(tree);
  return result;
}
/* }===== */
