/* shorthand.c - the AWS CLI's shorthand syntax (Key=Value,Key=[a,b],
 * Key={k=v}, quoting, \, escapes) as awscli/shorthand.py parses it, with
 * the same error texts, except that the echoed input has every value
 * masked: the credential's halves are secrets. Also the redacted echo of
 * a JSON argument for "Invalid JSON" messages. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* {===== input as code points ===== */

/* Python indexes strings by code point; so does this parser. */
typedef struct sh {
  const char *s;
  size_t n;            /* bytes */
  unsigned long *cp;   /* code points */
  size_t *off;         /* byte offset of each code point, off[len] = n */
  size_t len;          /* code points */
  size_t i;            /* current index */
  /* the first error */
  int failed;
  const char *expected;
  const char *actual;  /* NULL: the character at err_index */
  size_t err_index;
  char dup_key[64];
} sh;

#define SH_EOF ((unsigned long)-1)

static unsigned long cur(const sh *p)
{
  return p->i < p->len ? p->cp[p->i] : SH_EOF;
}

static int at_eof(const sh *p)
{
  return p->i >= p->len;
}

/* string.whitespace */
static int is_space(unsigned long c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B ||
         c == 0x0C;
}

/* \s and str.isspace() for the characters that matter */
static int is_uspace(unsigned long c)
{
  return is_space(c) || (c >= 0x1C && c <= 0x1F) || c == 0x85 ||
         c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

static void skip_ws(sh *p)
{
  while (!at_eof(p) && is_space(cur(p)))
    p->i++;
}

static void fail(sh *p, const char *expected, const char *actual,
                 size_t at)
{
  if (p->failed)
    return;
  p->failed = 1;
  p->expected = expected;
  p->actual = actual;
  p->err_index = at;
}
/* }===== */

/* {===== character classes of shorthand.py ===== */

/* _START_WORD: !#-&(-+--<>-Z\-z|-\uffff */
static int start_word(unsigned long c)
{
  return c == '!' || (c >= '#' && c <= '&') || (c >= '(' && c <= '+') ||
         (c >= '-' && c <= '<') || (c >= '>' && c <= 'Z') ||
         (c >= '\\' && c <= 'z') || (c >= '|' && c <= 0xFFFF);
}

/* _FIRST_FOLLOW_CHARS: \s!#-&(-+--\\^-|~-\uffff */
static int first_follow(unsigned long c)
{
  return is_uspace(c) || c == '!' || (c >= '#' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= '-' && c <= '\\') ||
         (c >= '^' && c <= '|') || (c >= '~' && c <= 0xFFFF);
}

/* _SECOND_FOLLOW_CHARS: \s!#-&(-+--<>-\uffff */
static int second_follow(unsigned long c)
{
  return is_uspace(c) || c == '!' || (c >= '#' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= '-' && c <= '<') ||
         (c >= '>' && c <= 0xFFFF);
}

static int key_char(unsigned long c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == '#' || c == '/' || c == ':';
}
/* }===== */

/* {===== the grammar ===== */

/* Appends the bytes of code points [from, to). */
static void put_range(const sh *p, cli_buf *b, size_t from, size_t to)
{
  cli_buf_add(b, p->s + p->off[from], p->off[to] - p->off[from]);
}

/* A regex-like word: (\\,|[start])(\\,|[follow])*. Returns 1 when at
 * least one character matched; the value (\, turned into ,) is added to
 * out and rstripped. */
static int word(sh *p, int (*follow)(unsigned long), cli_buf *out)
{
  size_t start = p->i, n0 = out->len;
  int first = 1;

  for (;;) {
    if (p->i + 1 < p->len && p->cp[p->i] == '\\' && p->cp[p->i + 1] == ',') {
      cli_buf_putc(out, ',');
      p->i += 2;
    } else if (!at_eof(p) && (first ? start_word(cur(p)) : follow(cur(p)))) {
      put_range(p, out, p->i, p->i + 1);
      p->i++;
    } else {
      break;
    }
    first = 0;
  }
  if (p->i == start)
    return 0;
  /* str.rstrip() */
  while (out->len > n0) {
    unsigned long c = (unsigned char)out->data[out->len - 1];
    if (c < 0x80 && is_uspace(c))
      out->len--;
    else
      break;
  }
  out->data[out->len] = '\0';
  return 1;
}

/* '...' or "..." with \\ and \<quote> escapes. */
static int quoted(sh *p, unsigned long q, cli_buf *out)
{
  size_t j = p->i + 1, k;

  while (j < p->len && p->cp[j] != q) {
    if (p->cp[j] == '\\' && j + 1 < p->len &&
        (p->cp[j + 1] == '\\' || p->cp[j + 1] == q))
      j += 2;
    else
      j++;
  }
  if (j >= p->len) {
    fail(p, q == '\'' ? "<singled quoted>" : "<double quoted>", "<none>",
         p->i);
    return -1;
  }
  /* value.replace("\\" + q, q).replace("\\\\", "\\") */
  for (k = p->i + 1; k < j; k++) {
    if (p->cp[k] == '\\' && k + 1 < j && p->cp[k + 1] == q) {
      cli_utf8_encode(out, q);
      k++;
    } else if (p->cp[k] == '\\' && k + 1 < j && p->cp[k + 1] == '\\') {
      cli_buf_putc(out, '\\');
      k++;
    } else {
      put_range(p, out, k, k + 1);
    }
  }
  p->i = j + 1;
  return 0;
}

/* The text of the expected character, as the error message quotes it. */
static const char *char_name(unsigned long c)
{
  switch (c) {
  case '=': return "=";
  case ',': return ",";
  case '[': return "[";
  case ']': return "]";
  case '{': return "{";
  default: return "}";
  }
}

static int expect(sh *p, unsigned long c, int ws)
{
  if (ws)
    skip_ws(p);
  if (at_eof(p)) {
    fail(p, char_name(c), "EOF", p->i);
    return -1;
  }
  if (cur(p) != c) {
    fail(p, char_name(c), NULL, p->i);
    return -1;
  }
  p->i++;
  if (ws)
    skip_ws(p);
  return 0;
}

static cli_value *string_value(cli_buf *b)
{
  cli_value *v = cli_value_new(CLI_V_STRING);
  v->len = b->len;
  v->s = cli_buf_take(b, NULL);
  v->secret = 1;
  return v;
}

static cli_value *first_value(sh *p)
{
  cli_buf b;

  cli_buf_init(&b, 1);
  if (cur(p) == '\'' || cur(p) == '"') {
    if (quoted(p, cur(p), &b) != 0) {
      cli_buf_free(&b);
      return NULL;
    }
  } else {
    word(p, first_follow, &b);
  }
  return string_value(&b);
}

static cli_value *second_value(sh *p)
{
  cli_buf b;

  cli_buf_init(&b, 1);
  if (cur(p) == '\'' || cur(p) == '"') {
    if (quoted(p, cur(p), &b) != 0) {
      cli_buf_free(&b);
      return NULL;
    }
  } else if (!word(p, second_follow, &b)) {
    fail(p, "<second>", "<none>", p->i);
    cli_buf_free(&b);
    return NULL;
  }
  return string_value(&b);
}

static cli_value *explicit_values(sh *p);

static void key(sh *p, size_t *from, size_t *to)
{
  *from = p->i;
  while (!at_eof(p) && key_char(cur(p)))
    p->i++;
  *to = p->i;
}

static cli_value *explicit_list(sh *p)
{
  cli_value *list = cli_value_new(CLI_V_ARRAY), *v;

  if (expect(p, '[', 1) != 0)
    goto fail;
  while (cur(p) != ']') {
    v = explicit_values(p);
    if (v == NULL)
      goto fail;
    cli_value_push(list, v);
    skip_ws(p);
    if (cur(p) != ']') {
      if (expect(p, ',', 0) != 0)
        goto fail;
      skip_ws(p);
    }
  }
  if (expect(p, ']', 0) != 0)
    goto fail;
  return list;
fail:
  cli_value_free(list);
  return NULL;
}

static cli_value *hash_literal(sh *p)
{
  cli_value *obj = cli_value_new(CLI_V_OBJECT), *v;
  size_t kf, kt;
  cli_buf k;

  cli_buf_init(&k, 0);
  if (expect(p, '{', 1) != 0)
    goto fail;
  while (cur(p) != '}') {
    key(p, &kf, &kt);
    if (expect(p, '=', 1) != 0)
      goto fail;
    v = explicit_values(p);
    if (v == NULL)
      goto fail;
    skip_ws(p);
    if (cur(p) != '}') {
      if (expect(p, ',', 0) != 0) {
        cli_value_free(v);
        goto fail;
      }
      skip_ws(p);
    }
    cli_buf_reset(&k);
    put_range(p, &k, kf, kt);
    cli_value_put(obj, k.data ? k.data : "", k.len, v);
  }
  if (expect(p, '}', 0) != 0)
    goto fail;
  cli_buf_free(&k);
  return obj;
fail:
  cli_buf_free(&k);
  cli_value_free(obj);
  return NULL;
}

static cli_value *explicit_values(sh *p)
{
  if (cur(p) == '[')
    return explicit_list(p);
  if (cur(p) == '{')
    return hash_literal(p);
  return first_value(p);
}

/* csv_value: "a" or "a,b,c" (a list), backtracking when the word after
 * a comma turns out to be the next key. */
static cli_value *csv_value(sh *p)
{
  cli_value *first = first_value(p), *list, *v;

  if (first == NULL)
    return NULL;
  skip_ws(p);
  if (at_eof(p) || cur(p) != ',')
    return first;
  if (expect(p, ',', 1) != 0) {
    cli_value_free(first);
    return NULL;
  }
  list = cli_value_new(CLI_V_ARRAY);
  cli_value_push(list, first);
  for (;;) {
    v = second_value(p);
    if (v != NULL) {
      skip_ws(p);
      if (at_eof(p)) {
        cli_value_push(list, v);
        break;
      }
      if (cur(p) == ',') {
        expect(p, ',', 1);
        cli_value_push(list, v);
        continue;
      }
      cli_value_free(v);          /* the word was the next key */
    } else if (at_eof(p)) {
      cli_value_free(list);       /* the syntax error stands at the end */
      return NULL;
    }
    /* otherwise back to the previous comma, the error forgotten */
    p->failed = 0;
    while (p->i > 0 && !(p->i < p->len && p->cp[p->i] == ','))
      p->i--;
    break;
  }
  if (list->count == 1) {
    first = list->first;
    list->first = list->last = NULL;
    list->count = 0;
    cli_value_free(list);
    return first;
  }
  return list;
}

static cli_value *values(sh *p)
{
  cli_buf empty;

  if (at_eof(p)) {
    cli_buf_init(&empty, 1);
    return string_value(&empty);
  }
  if (cur(p) == '[')
    return explicit_list(p);
  if (cur(p) == '{')
    return hash_literal(p);
  return csv_value(p);
}

static cli_value *parameter(sh *p)
{
  cli_value *params = cli_value_new(CLI_V_OBJECT), *v;
  size_t kf, kt, last_index = 0;
  cli_buf k;

  cli_buf_init(&k, 0);
  for (;;) {
    key(p, &kf, &kt);
    if (expect(p, '=', 1) != 0)
      goto fail;
    v = values(p);
    if (v == NULL)
      goto fail;
    cli_buf_reset(&k);
    put_range(p, &k, kf, kt);
    if (cli_value_get(params, k.data ? k.data : "") != NULL) {
      cli_value_free(v);
      snprintf(p->dup_key, sizeof p->dup_key, "%s", k.data ? k.data : "");
      p->failed = 2;
      p->err_index = last_index + 1;
      goto fail;
    }
    cli_value_put(params, k.data ? k.data : "", k.len, v);
    last_index = p->i;
    if (p->i >= p->len)
      break;
    if (expect(p, ',', 1) != 0)
      goto fail;
  }
  cli_buf_free(&k);
  return params;
fail:
  cli_buf_free(&k);
  cli_value_free(params);
  return NULL;
}
/* }===== */

/* {===== redacted echo ===== */

static int is_known_key(const sh *p, size_t from, size_t to)
{
  static const char *const keys[] = { "AccessKeyId", "RawSecretAccessKey" };
  size_t i, n = p->off[to] - p->off[from];

  for (i = 0; i < 2; i++)
    if (strlen(keys[i]) == n && memcmp(p->s + p->off[from], keys[i], n) == 0)
      return 1;
  return 0;
}

/* Marks the code points that may belong to a value: everything except
 * keys (key characters followed by '='), the '=' and ',' around them,
 * whitespace, and a bare known member name. Lengths are kept so the
 * caret of the message still points at the right column. */
static unsigned char *mask_of(const sh *p)
{
  unsigned char *m = cli_xcalloc(p->len + 1);
  size_t i = 0, seg, j, k;
  unsigned long q;

  while (i < p->len) {
    seg = i;
    /* a segment runs to the next comma outside quotes */
    while (i < p->len && p->cp[i] != ',') {
      if (p->cp[i] == '\'' || p->cp[i] == '"') {
        q = p->cp[i++];
        while (i < p->len && p->cp[i] != q)
          i += (p->cp[i] == '\\' && i + 1 < p->len) ? 2 : 1;
      }
      if (i < p->len)
        i++;
    }
    if (i > p->len)
      i = p->len;
    j = seg;
    while (j < i && is_space(p->cp[j]))
      j++;
    k = j;
    while (k < i && key_char(p->cp[k]))
      k++;
    while (k < i && is_space(p->cp[k]))
      k++;
    if (k < i && p->cp[k] == '=') {
      for (j = k + 1; j < i; j++)       /* the key stays, the value goes */
        m[j] = !is_space(p->cp[j]);
    } else {
      size_t e = i;
      while (e > j && is_space(p->cp[e - 1]))
        e--;
      if (!is_known_key(p, j, e))
        for (; j < i; j++)
          m[j] = !is_space(p->cp[j]);
    }
    if (i < p->len)
      i++;                              /* the comma */
  }
  return m;
}

/* _error_location(): the input, a caret under index, and the rest of the
 * input after the line that holds the caret. */
static void error_location(const sh *p, const unsigned char *m, size_t index,
                           cli_buf *out)
{
  size_t i, line_start = 0, next_nl = p->len, spaces;

  for (i = 0; i < index && i < p->len; i++)
    if (p->cp[i] == '\n')
      line_start = i + 1;
  for (i = index; i < p->len; i++) {
    if (p->cp[i] == '\n') {
      next_nl = i;
      break;
    }
  }
  spaces = index - line_start;
  for (i = 0; i < next_nl; i++) {
    if (m[i])
      cli_buf_putc(out, '*');
    else
      put_range(p, out, i, i + 1);
  }
  cli_buf_putc(out, '\n');
  cli_buf_fill(out, ' ', spaces);
  cli_buf_putc(out, '^');
  for (i = next_nl; i < p->len; i++) {
    if (m[i])
      cli_buf_putc(out, '*');
    else
      put_range(p, out, i, i + 1);
  }
}

void cli_redact_json(const char *s, size_t n, cli_buf *out)
{
  size_t i = 0, j, k;
  int in_run = 0;

  while (i < n) {
    char c = s[i];
    if (c == '"') {
      j = i + 1;
      while (j < n && s[j] != '"')
        j += (s[j] == '\\' && j + 1 < n) ? 2 : 1;
      if (j < n)
        j++;
      k = j;
      while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' ||
                       s[k] == '\r'))
        k++;
      if (k < n && s[k] == ':')
        cli_buf_add(out, s + i, j - i);   /* a key */
      else
        cli_buf_puts(out, "\"***\"");
      i = j;
      in_run = 0;
    } else if (strchr("{}[]:, \t\r\n", c) != NULL) {
      cli_buf_putc(out, c);
      i++;
      in_run = 0;
    } else {
      if (!in_run)
        cli_buf_puts(out, "***");
      in_run = 1;
      i++;
    }
  }
}
/* }===== */

int cli_shorthand_parse(const char *s, size_t n, cli_value **out,
                        cli_buf *msg)
{
  sh p;
  size_t i = 0, k = 0;
  unsigned long c;
  unsigned char *m = NULL;
  cli_value *v;
  int rc = -1;

  memset(&p, 0, sizeof p);
  p.s = s;
  p.n = n;
  p.cp = cli_xmalloc((n + 1) * sizeof *p.cp);
  p.off = cli_xmalloc((n + 1) * sizeof *p.off);
  while (i < n) {
    p.off[k] = i;
    i += cli_utf8_decode(s + i, n - i, &c);
    p.cp[k++] = c;
  }
  p.off[k] = n;
  p.len = k;
  *out = NULL;
  v = parameter(&p);
  if (v != NULL) {
    *out = v;
    rc = 0;
    goto cleanup;
  }
  m = mask_of(&p);
  if (p.failed == 2) {
    cli_buf_printf(msg, "Second instance of key \"%s\" encountered for "
                   "input:\n", p.dup_key);
    error_location(&p, m, p.err_index, msg);
    cli_buf_puts(msg, "\nThis is often because there is a preceding \",\" "
                 "instead of a space.");
    goto cleanup;
  }
  cli_buf_printf(msg, "Expected: '%s', received: '", p.expected);
  if (p.actual != NULL)
    cli_buf_puts(msg, p.actual);
  else if (p.err_index < p.len && m[p.err_index])
    cli_buf_putc(msg, '*');
  else if (p.err_index < p.len)
    put_range(&p, msg, p.err_index, p.err_index + 1);
  cli_buf_puts(msg, "' for input:\n");
  error_location(&p, m, p.err_index, msg);
cleanup:
  free(m);
  cli_free_secret(p.cp, (n + 1) * sizeof *p.cp);
  free(p.off);
  return rc;
}
