/* value.c - the CLI's small value tree: building and freeing it, a JSON
 * reader with the rules and error messages of Python's json.loads (what
 * the AWS CLI uses for JSON arguments), and Python's str()/repr() of a
 * value, which the text and table output formats print. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* {===== tree ===== */

cli_value *cli_value_new(cli_vtype type)
{
  cli_value *v = cli_xcalloc(sizeof *v);
  v->type = type;
  return v;
}

cli_value *cli_value_string(const char *s, size_t n, int secret)
{
  cli_value *v = cli_value_new(CLI_V_STRING);
  v->s = cli_xstrndup(s, n);
  v->len = n;
  v->secret = secret;
  return v;
}

void cli_value_push(cli_value *array, cli_value *child)
{
  child->next = NULL;
  if (array->last != NULL)
    array->last->next = child;
  else
    array->first = child;
  array->last = child;
  array->count++;
}

void cli_value_put(cli_value *obj, const char *key, size_t key_len,
                   cli_value *child)
{
  cli_value *it, *prev = NULL;

  child->key = cli_xstrndup(key, key_len);
  child->key_len = key_len;
  for (it = obj->first; it != NULL; prev = it, it = it->next) {
    if (it->key_len == key_len && memcmp(it->key, key, key_len) == 0) {
      /* Python dict: the key keeps its place, the value is replaced */
      child->next = it->next;
      if (prev != NULL)
        prev->next = child;
      else
        obj->first = child;
      if (obj->last == it)
        obj->last = child;
      it->next = NULL;
      cli_value_free(it);
      return;
    }
  }
  cli_value_push(obj, child);
}

cli_value *cli_value_get(const cli_value *obj, const char *key)
{
  cli_value *it;
  size_t n = strlen(key);

  if (obj == NULL || obj->type != CLI_V_OBJECT)
    return NULL;
  for (it = obj->first; it != NULL; it = it->next)
    if (it->key_len == n && memcmp(it->key, key, n) == 0)
      return it;
  return NULL;
}

void cli_value_free(cli_value *v)
{
  cli_value *next;

  while (v != NULL) {
    next = v->next;
    cli_value_free(v->first);
    if (v->secret)
      cli_free_secret(v->s, v->len + 1);
    else
      free(v->s);
    free(v->key);
    free(v);
    v = next;
  }
}

void cli_value_mark_secret(cli_value *v)
{
  cli_value *it;

  if (v == NULL)
    return;
  v->secret = 1;
  for (it = v->first; it != NULL; it = it->next)
    cli_value_mark_secret(it);
}

const char *cli_value_pytype(const cli_value *v)
{
  switch (v->type) {
  case CLI_V_NULL: return "NoneType";
  case CLI_V_BOOL: return "bool";
  case CLI_V_INT: return "int";
  case CLI_V_FLOAT: return "float";
  case CLI_V_STRING: return "str";
  case CLI_V_ARRAY: return "list";
  case CLI_V_OBJECT: return "dict";
  }
  return "object";
}
/* }===== */

/* {===== JSON reader (Python json.loads) ===== */

typedef struct jreader {
  const char *s;
  size_t n;
  size_t pos;
  cli_json_error *e;
  int failed;
  int depth;
} jreader;

/* Python reports positions in characters, lines and columns. */
static void jfail(jreader *r, const char *what, size_t at)
{
  size_t line = 1, last_nl = 0, i, chars, col;
  int seen_nl = 0;

  if (r->failed)
    return;
  r->failed = 1;
  for (i = 0; i < at && i < r->n; i++) {
    if (r->s[i] == '\n') {
      line++;
      last_nl = i;
      seen_nl = 1;
    }
  }
  chars = cli_utf8_count(r->s, at);
  if (seen_nl)
    col = chars - cli_utf8_count(r->s, last_nl + 1) + 1;
  else
    col = chars + 1;
  if (r->e != NULL)
    snprintf(r->e->message, sizeof r->e->message,
             "%s: line %zu column %zu (char %zu)", what, line, col, chars);
}

static void jskip_ws(jreader *r)
{
  while (r->pos < r->n && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                           r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
    r->pos++;
}

static int jmatch(jreader *r, const char *word)
{
  size_t n = strlen(word);
  if (r->n - r->pos >= n && memcmp(r->s + r->pos, word, n) == 0) {
    r->pos += n;
    return 1;
  }
  return 0;
}

static int hex4(const char *s, unsigned long *out)
{
  unsigned long v = 0;
  int i;

  for (i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned long)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned long)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned long)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

/* Reads a string whose opening quote is at r->pos into out. */
static int jstring(jreader *r, cli_buf *out)
{
  size_t begin = r->pos;
  unsigned long cp, lo;
  char c;

  r->pos++;
  for (;;) {
    if (r->pos >= r->n) {
      jfail(r, "Unterminated string starting at", begin);
      return -1;
    }
    c = r->s[r->pos];
    if (c == '"') {
      r->pos++;
      return 0;
    }
    if ((unsigned char)c < 0x20) {
      jfail(r, "Invalid control character at", r->pos);
      return -1;
    }
    if (c != '\\') {
      cli_buf_putc(out, c);
      r->pos++;
      continue;
    }
    if (r->pos + 1 >= r->n) {
      jfail(r, "Unterminated string starting at", begin);
      return -1;
    }
    c = r->s[r->pos + 1];
    switch (c) {
    case '"': cli_buf_putc(out, '"'); break;
    case '\\': cli_buf_putc(out, '\\'); break;
    case '/': cli_buf_putc(out, '/'); break;
    case 'b': cli_buf_putc(out, '\b'); break;
    case 'f': cli_buf_putc(out, '\f'); break;
    case 'n': cli_buf_putc(out, '\n'); break;
    case 'r': cli_buf_putc(out, '\r'); break;
    case 't': cli_buf_putc(out, '\t'); break;
    case 'u':
      if (r->n - r->pos < 6 || hex4(r->s + r->pos + 2, &cp) != 0) {
        jfail(r, "Invalid \\uXXXX escape", r->pos + 1);
        return -1;
      }
      r->pos += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF && r->n - r->pos >= 8 &&
          r->s[r->pos + 2] == '\\' && r->s[r->pos + 3] == 'u' &&
          hex4(r->s + r->pos + 4, &lo) == 0 && lo >= 0xDC00 &&
          lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        r->pos += 6;
      } else if (cp >= 0xD800 && cp <= 0xDFFF) {
        cp = 0xFFFD;      /* a lone surrogate cannot be written as UTF-8 */
      }
      cli_utf8_encode(out, cp);
      break;
    default:
      jfail(r, "Invalid \\escape", r->pos);
      return -1;
    }
    r->pos += 2;
  }
}

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/* Python's NUMBER_RE: -?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)? */
static cli_value *jnumber(jreader *r)
{
  size_t start = r->pos, p = r->pos;
  int is_float = 0;
  cli_value *v;

  if (p < r->n && r->s[p] == '-')
    p++;
  if (p >= r->n || !is_digit(r->s[p]))
    return NULL;
  if (r->s[p] == '0')
    p++;
  else
    while (p < r->n && is_digit(r->s[p]))
      p++;
  if (p + 1 < r->n && r->s[p] == '.' && is_digit(r->s[p + 1])) {
    is_float = 1;
    p++;
    while (p < r->n && is_digit(r->s[p]))
      p++;
  }
  if (p < r->n && (r->s[p] == 'e' || r->s[p] == 'E')) {
    size_t q = p + 1;
    if (q < r->n && (r->s[q] == '+' || r->s[q] == '-'))
      q++;
    if (q < r->n && is_digit(r->s[q])) {
      is_float = 1;
      p = q;
      while (p < r->n && is_digit(r->s[p]))
        p++;
    }
  }
  v = cli_value_new(is_float ? CLI_V_FLOAT : CLI_V_INT);
  v->s = cli_xstrndup(r->s + start, p - start);
  v->len = p - start;
  r->pos = p;
  return v;
}

static cli_value *jvalue(jreader *r);

static cli_value *jobject(jreader *r)
{
  cli_value *obj = cli_value_new(CLI_V_OBJECT), *child;
  cli_buf key;

  cli_buf_init(&key, 0);
  r->pos++;
  jskip_ws(r);
  if (r->pos < r->n && r->s[r->pos] == '}') {
    r->pos++;
    goto done;
  }
  for (;;) {
    if (r->pos >= r->n || r->s[r->pos] != '"') {
      jfail(r, "Expecting property name enclosed in double quotes", r->pos);
      goto fail;
    }
    cli_buf_reset(&key);
    if (jstring(r, &key) != 0)
      goto fail;
    jskip_ws(r);
    if (r->pos >= r->n || r->s[r->pos] != ':') {
      jfail(r, "Expecting ':' delimiter", r->pos);
      goto fail;
    }
    r->pos++;
    jskip_ws(r);
    child = jvalue(r);
    if (child == NULL)
      goto fail;
    cli_value_put(obj, key.data ? key.data : "", key.len, child);
    jskip_ws(r);
    if (r->pos < r->n && r->s[r->pos] == '}') {
      r->pos++;
      goto done;
    }
    if (r->pos >= r->n || r->s[r->pos] != ',') {
      jfail(r, "Expecting ',' delimiter", r->pos);
      goto fail;
    }
    r->pos++;
    jskip_ws(r);
  }
fail:
  cli_value_free(obj);
  obj = NULL;
done:
  cli_buf_free(&key);
  return obj;
}

static cli_value *jarray(jreader *r)
{
  cli_value *arr = cli_value_new(CLI_V_ARRAY), *child;

  r->pos++;
  jskip_ws(r);
  if (r->pos < r->n && r->s[r->pos] == ']') {
    r->pos++;
    return arr;
  }
  for (;;) {
    child = jvalue(r);
    if (child == NULL)
      break;
    cli_value_push(arr, child);
    jskip_ws(r);
    if (r->pos < r->n && r->s[r->pos] == ']') {
      r->pos++;
      return arr;
    }
    if (r->pos >= r->n || r->s[r->pos] != ',') {
      jfail(r, "Expecting ',' delimiter", r->pos);
      break;
    }
    r->pos++;
    jskip_ws(r);
  }
  cli_value_free(arr);
  return NULL;
}

static cli_value *jliteral(cli_vtype type, const char *text)
{
  cli_value *v = cli_value_new(type);
  v->s = cli_xstrdup(text);
  v->len = strlen(text);
  return v;
}

/* Expects a value at r->pos (whitespace already skipped). */
static cli_value *jvalue(jreader *r)
{
  cli_value *v = NULL;
  cli_buf s;
  char c;

  if (r->pos >= r->n) {
    jfail(r, "Expecting value", r->pos);
    return NULL;
  }
  if (++r->depth > 512) {           /* Python raises RecursionError */
    jfail(r, "Expecting value", r->pos);
    return NULL;
  }
  c = r->s[r->pos];
  if (c == '"') {
    cli_buf_init(&s, 1);
    if (jstring(r, &s) == 0) {
      v = cli_value_new(CLI_V_STRING);
      v->len = s.len;
      v->s = cli_buf_take(&s, NULL);
      v->secret = 1;
    }
    cli_buf_free(&s);
  } else if (c == '{') {
    v = jobject(r);
  } else if (c == '[') {
    v = jarray(r);
  } else if (jmatch(r, "null")) {
    v = cli_value_new(CLI_V_NULL);
  } else if (jmatch(r, "true")) {
    v = jliteral(CLI_V_BOOL, "true");
  } else if (jmatch(r, "false")) {
    v = jliteral(CLI_V_BOOL, "false");
  } else if (jmatch(r, "NaN")) {
    v = jliteral(CLI_V_FLOAT, "NaN");
  } else if (jmatch(r, "Infinity")) {
    v = jliteral(CLI_V_FLOAT, "Infinity");
  } else if (jmatch(r, "-Infinity")) {
    v = jliteral(CLI_V_FLOAT, "-Infinity");
  } else {
    v = jnumber(r);
    if (v == NULL)
      jfail(r, "Expecting value", r->pos);
  }
  r->depth--;
  return v;
}

int cli_json_parse(const char *text, size_t len, cli_value **out,
                   cli_json_error *e)
{
  jreader r;
  cli_value *v;

  memset(&r, 0, sizeof r);
  r.s = text;
  r.n = len;
  r.e = e;
  *out = NULL;
  if (e != NULL)
    e->message[0] = '\0';
  jskip_ws(&r);
  v = jvalue(&r);
  if (v == NULL)
    return -1;
  jskip_ws(&r);
  if (r.pos != r.n) {
    jfail(&r, "Extra data", r.pos);
    cli_value_free(v);
    return -1;
  }
  *out = v;
  return 0;
}
/* }===== */

/* {===== Python str() and repr() ===== */

void cli_float_repr(cli_buf *b, const char *lexeme, size_t len)
{
  char tmp[64], digits[32], *end;
  double x;
  int p, exp10 = 0, nd = 0, decpt, i;

  if (len >= sizeof tmp)
    len = sizeof tmp - 1;
  memcpy(tmp, lexeme, len);
  tmp[len] = '\0';
  x = strtod(tmp, &end);
  if (isnan(x)) {
    cli_buf_puts(b, "nan");
    return;
  }
  if (isinf(x)) {
    cli_buf_puts(b, x < 0 ? "-inf" : "inf");
    return;
  }
  /* the shortest digit string that reads back as x, as Python's repr */
  for (p = 0; p < 17; p++) {
    snprintf(tmp, sizeof tmp, "%.*e", p, x);
    if (strtod(tmp, NULL) == x)
      break;
  }
  if (signbit(x))
    cli_buf_putc(b, '-');
  for (i = (tmp[0] == '-'); tmp[i] != '\0' && tmp[i] != 'e'; i++)
    if (tmp[i] != '.')
      digits[nd++] = tmp[i];
  digits[nd] = '\0';
  if (tmp[i] == 'e')
    exp10 = atoi(tmp + i + 1);
  while (nd > 1 && digits[nd - 1] == '0')
    digits[--nd] = '\0';
  decpt = exp10 + 1;
  if (decpt <= -4 || decpt > 16) {
    cli_buf_putc(b, digits[0]);
    if (nd > 1) {
      cli_buf_putc(b, '.');
      cli_buf_add(b, digits + 1, (size_t)nd - 1);
    }
    cli_buf_printf(b, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
  } else if (decpt <= 0) {
    cli_buf_puts(b, "0.");
    cli_buf_fill(b, '0', (size_t)-decpt);
    cli_buf_add(b, digits, (size_t)nd);
  } else if (decpt < nd) {
    cli_buf_add(b, digits, (size_t)decpt);
    cli_buf_putc(b, '.');
    cli_buf_add(b, digits + decpt, (size_t)(nd - decpt));
  } else {
    cli_buf_add(b, digits, (size_t)nd);
    cli_buf_fill(b, '0', (size_t)(decpt - nd));
    cli_buf_puts(b, ".0");
  }
}

/* Python int(): "-0" reads as 0. */
static void int_str(cli_buf *b, const cli_value *v)
{
  if (v->len == 2 && memcmp(v->s, "-0", 2) == 0)
    cli_buf_putc(b, '0');
  else
    cli_buf_add(b, v->s, v->len);
}

/* 1 when Python's str.isprintable() is false for the code point; the
 * Unicode classes Cc, Cf, Zl, Zp, Zs (but space) and unassigned code
 * points are not printable. A compact approximation of the common ones. */
static int py_unprintable(unsigned long cp)
{
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD)
    return 1;
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200F) ||
      (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x205F && cp <= 0x206F) ||
      cp == 0x3000 || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0x061C || cp == 0x180E)
    return 1;
  return 0;
}

void cli_pyrepr_str(cli_buf *b, const char *s, size_t n)
{
  char quote = '\'';
  size_t i;
  unsigned long cp;

  if (memchr(s, '\'', n) != NULL && memchr(s, '"', n) == NULL)
    quote = '"';
  cli_buf_putc(b, quote);
  i = 0;
  while (i < n) {
    size_t used = cli_utf8_decode(s + i, n - i, &cp);
    if (cp == (unsigned long)(unsigned char)quote || cp == '\\') {
      cli_buf_putc(b, '\\');
      cli_buf_putc(b, (char)cp);
    } else if (cp == '\t') {
      cli_buf_puts(b, "\\t");
    } else if (cp == '\n') {
      cli_buf_puts(b, "\\n");
    } else if (cp == '\r') {
      cli_buf_puts(b, "\\r");
    } else if (py_unprintable(cp)) {
      if (cp < 0x100)
        cli_buf_printf(b, "\\x%02lx", cp);
      else
        cli_buf_printf(b, "\\u%04lx", cp);
    } else {
      cli_buf_add(b, s + i, used);
    }
    i += used;
  }
  cli_buf_putc(b, quote);
}

void cli_value_pyrepr(cli_buf *b, const cli_value *v)
{
  const cli_value *it;

  switch (v->type) {
  case CLI_V_STRING:
    cli_pyrepr_str(b, v->s, v->len);
    break;
  case CLI_V_ARRAY:
    cli_buf_putc(b, '[');
    for (it = v->first; it != NULL; it = it->next) {
      cli_value_pyrepr(b, it);
      if (it->next != NULL)
        cli_buf_puts(b, ", ");
    }
    cli_buf_putc(b, ']');
    break;
  case CLI_V_OBJECT:
    cli_buf_putc(b, '{');
    for (it = v->first; it != NULL; it = it->next) {
      cli_pyrepr_str(b, it->key, it->key_len);
      cli_buf_puts(b, ": ");
      cli_value_pyrepr(b, it);
      if (it->next != NULL)
        cli_buf_puts(b, ", ");
    }
    cli_buf_putc(b, '}');
    break;
  default:
    cli_value_pystr(b, v);
    break;
  }
}

void cli_value_pystr(cli_buf *b, const cli_value *v)
{
  switch (v->type) {
  case CLI_V_NULL:
    cli_buf_puts(b, "None");
    break;
  case CLI_V_BOOL:
    cli_buf_puts(b, v->s[0] == 't' ? "True" : "False");
    break;
  case CLI_V_INT:
    int_str(b, v);
    break;
  case CLI_V_FLOAT:
    cli_float_repr(b, v->s, v->len);
    break;
  case CLI_V_STRING:
    cli_buf_add(b, v->s, v->len);
    break;
  default:
    cli_value_pyrepr(b, v);
    break;
  }
}
/* }===== */
