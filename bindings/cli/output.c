/* output.c - the AWS CLI's --output formats for a response (after
 * --query): json (json.dumps, indent 4, not ASCII-only), text
 * (awscli/text.py), and the dispatch to table.c and yaml.c. An empty
 * response object prints nothing in every format. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* {===== json ===== */

static void json_string(cli_buf *b, const char *s, size_t n)
{
  size_t i;

  cli_buf_putc(b, '"');
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': cli_buf_puts(b, "\\\""); break;
    case '\\': cli_buf_puts(b, "\\\\"); break;
    case '\n': cli_buf_puts(b, "\\n"); break;
    case '\r': cli_buf_puts(b, "\\r"); break;
    case '\t': cli_buf_puts(b, "\\t"); break;
    case '\b': cli_buf_puts(b, "\\b"); break;
    case '\f': cli_buf_puts(b, "\\f"); break;
    default:
      if (c < 0x20)
        cli_buf_printf(b, "\\u%04x", c);
      else
        cli_buf_putc(b, (char)c);
    }
  }
  cli_buf_putc(b, '"');
}

/* json.dumps' float: repr, with NaN and Infinity spelled as JavaScript. */
static void json_float(cli_buf *b, const cli_value *v)
{
  cli_buf tmp;

  cli_buf_init(&tmp, 0);
  cli_float_repr(&tmp, v->s, v->len);
  if (strcmp(tmp.data, "nan") == 0)
    cli_buf_puts(b, "NaN");
  else if (strcmp(tmp.data, "inf") == 0)
    cli_buf_puts(b, "Infinity");
  else if (strcmp(tmp.data, "-inf") == 0)
    cli_buf_puts(b, "-Infinity");
  else
    cli_buf_add(b, tmp.data, tmp.len);
  cli_buf_free(&tmp);
}

/* json.dumps(v, indent=indent) when indent >= 0; with separators
 * (", ", ": ") on one line when indent < 0. */
void cli_json_dump(cli_buf *b, const cli_value *v, int indent, int level)
{
  const cli_value *it;

  switch (v->type) {
  case CLI_V_NULL:
    cli_buf_puts(b, "null");
    break;
  case CLI_V_BOOL:
    cli_buf_puts(b, v->s[0] == 't' ? "true" : "false");
    break;
  case CLI_V_INT:
    cli_value_pystr(b, v);
    break;
  case CLI_V_FLOAT:
    json_float(b, v);
    break;
  case CLI_V_STRING:
    json_string(b, v->s, v->len);
    break;
  case CLI_V_ARRAY:
  case CLI_V_OBJECT:
    if (v->count == 0) {
      cli_buf_puts(b, v->type == CLI_V_ARRAY ? "[]" : "{}");
      break;
    }
    cli_buf_putc(b, v->type == CLI_V_ARRAY ? '[' : '{');
    for (it = v->first; it != NULL; it = it->next) {
      if (indent >= 0) {
        cli_buf_putc(b, '\n');
        cli_buf_fill(b, ' ', (size_t)(indent * (level + 1)));
      }
      if (v->type == CLI_V_OBJECT) {
        json_string(b, it->key, it->key_len);
        cli_buf_puts(b, ": ");
      }
      cli_json_dump(b, it, indent, level + 1);
      if (it->next != NULL)
        cli_buf_puts(b, indent >= 0 ? "," : ", ");
    }
    if (indent >= 0) {
      cli_buf_putc(b, '\n');
      cli_buf_fill(b, ' ', (size_t)(indent * level));
    }
    cli_buf_putc(b, v->type == CLI_V_ARRAY ? ']' : '}');
    break;
  }
}
/* }===== */

/* {===== text (awscli/text.py) ===== */

static int is_container(const cli_value *v)
{
  return v->type == CLI_V_ARRAY || v->type == CLI_V_OBJECT;
}

/* Keys in Python's sorted() order: by code point, which is byte order
 * for UTF-8. */
static int key_cmp(const void *x, const void *y)
{
  const cli_value *a = *(const cli_value *const *)x;
  const cli_value *b = *(const cli_value *const *)y;
  size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
  int c = memcmp(a->key, b->key, n);

  if (c != 0)
    return c;
  return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* The members of an object, sorted by key (caller frees). */
const cli_value **cli_sorted_members(const cli_value *obj)
{
  const cli_value **m = cli_xcalloc((obj->count + 1) * sizeof *m);
  const cli_value *it;
  size_t i = 0;

  for (it = obj->first; it != NULL; it = it->next)
    m[i++] = it;
  qsort(m, i, sizeof *m, key_cmp);
  return m;
}

static void upper(cli_buf *b, const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    cli_buf_putc(b, (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i]);
}

/* A sorted, de-duplicated list of keys (borrowed strings). */
typedef struct keyset {
  const cli_value **k;
  size_t n;
} keyset;

static int keyset_has(const keyset *ks, const char *key, size_t len)
{
  size_t i;
  for (i = 0; i < ks->n; i++)
    if (ks->k[i]->key_len == len && memcmp(ks->k[i]->key, key, len) == 0)
      return 1;
  return 0;
}

static void text_item(cli_buf *b, const cli_value *v, const char *ident,
                      size_t ident_len, const keyset *scalar_keys);

static void text_scalar_list(cli_buf *b, const cli_value **items, size_t n,
                             const char *ident, size_t ident_len)
{
  size_t i;

  if (ident != NULL) {
    for (i = 0; i < n; i++) {
      upper(b, ident, ident_len);
      cli_buf_putc(b, '\t');
      cli_value_pystr(b, items[i]);
      cli_buf_putc(b, '\n');
    }
    return;
  }
  for (i = 0; i < n; i++) {
    if (i)
      cli_buf_putc(b, '\t');
    cli_value_pystr(b, items[i]);
  }
  cli_buf_putc(b, '\n');
}

static void text_list(cli_buf *b, const cli_value *v, const char *ident,
                      size_t ident_len)
{
  const cli_value *it, **items;
  size_t n = 0, ns = 0;
  int any_dict = 0, any_list = 0;
  keyset ks;

  if (v->count == 0)
    return;
  for (it = v->first; it != NULL; it = it->next) {
    any_dict |= it->type == CLI_V_OBJECT;
    any_list |= it->type == CLI_V_ARRAY;
  }
  items = cli_xcalloc((v->count + 1) * sizeof *items);
  if (any_dict) {
    /* _all_scalar_keys: every key with a scalar value in some dict */
    ks.k = NULL;
    ks.n = 0;
    for (it = v->first; it != NULL; it = it->next) {
      const cli_value *m;
      if (it->type != CLI_V_OBJECT)
        continue;
      for (m = it->first; m != NULL; m = m->next)
        if (!is_container(m) && !keyset_has(&ks, m->key, m->key_len)) {
          ks.k = cli_xrealloc(ks.k, (ks.n + 1) * sizeof *ks.k);
          ks.k[ks.n++] = m;
        }
    }
    if (ks.n > 0)
      qsort(ks.k, ks.n, sizeof *ks.k, key_cmp);
    for (it = v->first; it != NULL; it = it->next)
      text_item(b, it, ident, ident_len, &ks);
    free(ks.k);
  } else if (any_list) {
    for (it = v->first; it != NULL; it = it->next)
      if (!is_container(it))
        items[ns++] = it;
    if (ns > 0)
      text_scalar_list(b, items, ns, ident, ident_len);
    for (it = v->first; it != NULL; it = it->next)
      if (is_container(it))
        text_item(b, it, ident, ident_len, NULL);
  } else {
    for (it = v->first; it != NULL; it = it->next)
      items[n++] = it;
    text_scalar_list(b, items, n, ident, ident_len);
  }
  free(items);
}

static void text_dict(cli_buf *b, const cli_value *v, const char *ident,
                      size_t ident_len, const keyset *scalar_keys)
{
  const cli_value **sorted = cli_sorted_members(v), *m;
  cli_buf line;
  size_t i, k, nscalar = 0;

  cli_buf_init(&line, 0);
  if (ident != NULL) {
    upper(&line, ident, ident_len);
  }
  if (scalar_keys == NULL) {
    for (i = 0; i < v->count; i++) {
      if (is_container(sorted[i]))
        continue;
      if (nscalar++ || ident != NULL)
        cli_buf_putc(&line, '\t');
      cli_value_pystr(&line, sorted[i]);
    }
  } else {
    for (k = 0; k < scalar_keys->n; k++) {
      if (nscalar++ || ident != NULL)
        cli_buf_putc(&line, '\t');
      m = NULL;
      for (i = 0; i < v->count; i++)
        if (sorted[i]->key_len == scalar_keys->k[k]->key_len &&
            memcmp(sorted[i]->key, scalar_keys->k[k]->key,
                   sorted[i]->key_len) == 0)
          m = sorted[i];
      if (m != NULL)
        cli_value_pystr(&line, m);
    }
  }
  if (nscalar > 0) {
    cli_buf_add(b, line.data, line.len);
    cli_buf_putc(b, '\n');
  }
  for (i = 0; i < v->count; i++) {
    m = sorted[i];
    if (scalar_keys == NULL ? is_container(m)
                            : !keyset_has(scalar_keys, m->key, m->key_len))
      text_item(b, m, m->key, m->key_len, NULL);
  }
  cli_buf_free(&line);
  free(sorted);
}

static void text_item(cli_buf *b, const cli_value *v, const char *ident,
                      size_t ident_len, const keyset *scalar_keys)
{
  if (v->type == CLI_V_OBJECT) {
    text_dict(b, v, ident, ident_len, scalar_keys);
  } else if (v->type == CLI_V_ARRAY) {
    text_list(b, v, ident, ident_len);
  } else {
    cli_value_pystr(b, v);
    cli_buf_putc(b, '\n');
  }
}
/* }===== */

int cli_format_response(const char *format, const cli_value *v,
                        const char *title, int color, int width,
                        cli_buf *out, char *error, size_t error_size)
{
  int is_empty_obj = v->type == CLI_V_OBJECT && v->count == 0;

  if (strcmp(format, "json") == 0) {
    if (!is_empty_obj) {
      cli_json_dump(out, v, 4, 0);
      cli_buf_putc(out, '\n');
    }
  } else if (strcmp(format, "text") == 0) {
    text_item(out, v, NULL, 0, NULL);
  } else if (strcmp(format, "table") == 0) {
    if (cli_table_format(out, v, title, color, width, error,
                         error_size) != 0)
      return -2;
  } else if (strcmp(format, "yaml") == 0 ||
             strcmp(format, "yaml-stream") == 0) {
    if (!is_empty_obj &&
        cli_yaml_dump(out, v, strcmp(format, "yaml-stream") == 0) != 0) {
      snprintf(error, error_size, "the YAML emitter failed");
      return -2;
    }
  } else {
    return -1;
  }
  return 0;
}
