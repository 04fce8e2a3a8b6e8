/* conf.c - reader for the collectd configuration syntax (see conf.h).
 * Works line by line: a logical line (continuations joined, comment cut)
 * is either `Key value...`, `<Key value...>` opening a block, or `</Key>`
 * closing it. Values: "quoted strings" (\" \\ \n \t escapes), numbers
 * (what strtod reads whole), booleans (true false yes no on off, bare),
 * and bare words as strings, as liboconfig reads them. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "conf.h"

#define MAX_DEPTH 16
#define MAX_FILE (1024 * 1024)

typedef struct reader {
  const char *name;
  const char *p, *end;
  int line;       /* line number of the logical line being parsed */
  int next_line;  /* line number where the next logical line starts */
  char *err;
  size_t err_size;
  char *buf;      /* the current logical line */
  size_t cap;
} reader;

static int failf(reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int failf(reader *r, const char *fmt, ...)
{
  char msg[256];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(r->err, r->err_size, "%s:%d: %s", r->name, r->line, msg);
  return -1;
}

/* {===== logical lines ===== */

static int put(reader *r, size_t *n, char c)
{
  char *nb;
  if (*n + 2 > r->cap) {
    r->cap = r->cap ? r->cap * 2 : 256;
    nb = realloc(r->buf, r->cap);
    if (!nb)
      return failf(r, "out of memory");
    r->buf = nb;
  }
  r->buf[(*n)++] = c;
  return 0;
}

/* Reads the next logical line into r->buf: a backslash before the end of
 * a line joins the next one; a # outside quotes starts a comment. Returns
 * 1 when a line was read, 0 at the end, -1 on error. */
static int next_line(reader *r)
{
  size_t n = 0;
  int quoted = 0, comment = 0;
  char c;

  if (r->p >= r->end)
    return 0;
  r->line = r->next_line;
  while (r->p < r->end) {
    c = *r->p++;
    if (c == '\n') {
      r->next_line++;
      break;
    }
    if (c == '\r')
      continue;
    if (comment)
      continue;
    if (c == '\\' && !quoted && (r->p >= r->end || *r->p == '\n' ||
                                 (*r->p == '\r' && r->p + 1 < r->end &&
                                  r->p[1] == '\n'))) {
      while (r->p < r->end && *r->p != '\n')
        r->p++;
      if (r->p < r->end) {
        r->p++;
        r->next_line++;
      }
      continue;
    }
    if (c == '\\' && quoted && r->p < r->end && *r->p != '\n') {
      if (put(r, &n, c) || put(r, &n, *r->p++))
        return -1;
      continue;
    }
    if (c == '"')
      quoted = !quoted;
    if (c == '#' && !quoted) {
      comment = 1;
      continue;
    }
    if (c == '\0')
      return failf(r, "NUL byte in the file");
    if (put(r, &n, c))
      return -1;
  }
  if (quoted)
    return failf(r, "unterminated quoted string");
  if (put(r, &n, '\0'))
    return -1;
  return 1;
}
/* }===== */

/* {===== items ===== */

typedef struct list {
  kms_plugin_config_item *items;
  int n, cap;
} list;

static void free_items(kms_plugin_config_item *items, int n)
{
  int i, j;
  for (i = 0; i < n; i++) {
    free((char *)items[i].key);
    for (j = 0; j < items[i].values_num; j++)
      free((char *)items[i].values[j].string);
    free((kms_plugin_value *)items[i].values);
    free_items((kms_plugin_config_item *)items[i].children,
               items[i].children_num);
  }
  free(items);
}

static kms_plugin_config_item *add_item(reader *r, list *l)
{
  kms_plugin_config_item *ni;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 8;
    ni = realloc(l->items, (size_t)l->cap * sizeof *ni);
    if (!ni) {
      failf(r, "out of memory");
      return NULL;
    }
    l->items = ni;
  }
  ni = &l->items[l->n++];
  memset(ni, 0, sizeof *ni);
  return ni;
}

static int is_word_char(char c, int in_tag)
{
  if (isspace((unsigned char)c) || c == '"' || c == '\0')
    return 0;
  return !(in_tag && (c == '>' || c == '<'));
}

/* Parses one value at *pp into v (a string is allocated). */
static int parse_value(reader *r, const char **pp, int in_tag,
                       kms_plugin_value *v)
{
  const char *p = *pp, *start;
  static const char *const truths[] = {"true", "yes", "on"};
  static const char *const lies[] = {"false", "no", "off"};
  char *s, *end;
  size_t n = 0, i;

  memset(v, 0, sizeof *v);
  if (*p == '"') {
    p++;
    s = malloc(strlen(p) + 1);
    if (!s)
      return failf(r, "out of memory");
    while (*p && *p != '"') {
      if (*p == '\\' && p[1]) {
        p++;
        s[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
        p++;
        continue;
      }
      s[n++] = *p++;
    }
    if (*p != '"') {
      free(s);
      return failf(r, "unterminated quoted string");
    }
    s[n] = '\0';
    v->type = KMS_PLUGIN_STRING;
    v->string = s;
    *pp = p + 1;
    return 0;
  }
  start = p;
  while (is_word_char(*p, in_tag))
    p++;
  n = (size_t)(p - start);
  if (!n)
    return failf(r, "unexpected character '%c'", *p);
  s = malloc(n + 1);
  if (!s)
    return failf(r, "out of memory");
  memcpy(s, start, n);
  s[n] = '\0';
  *pp = p;
  for (i = 0; i < 3; i++) {
    if (strcasecmp(s, truths[i]) == 0 || strcasecmp(s, lies[i]) == 0) {
      v->type = KMS_PLUGIN_BOOLEAN;
      v->boolean = strcasecmp(s, truths[i]) == 0;
      free(s);
      return 0;
    }
  }
  errno = 0;
  v->number = strtod(s, &end);
  if ((isdigit((unsigned char)s[0]) ||
       ((s[0] == '-' || s[0] == '+' || s[0] == '.') &&
        isdigit((unsigned char)s[1]))) &&
      *end == '\0' && errno == 0) {
    v->type = KMS_PLUGIN_NUMBER;
    free(s);
    return 0;
  }
  v->type = KMS_PLUGIN_STRING;
  v->string = s;
  return 0;
}

/* Fills item from "Key value value..." at p (in_tag: inside <...>, where
 * '>' ends the values). */
static int parse_statement(reader *r, const char *p, int in_tag,
                           kms_plugin_config_item *item)
{
  kms_plugin_value *vals = NULL, *nv;
  const char *start;
  int n = 0, cap = 0;

  while (isspace((unsigned char)*p))
    p++;
  start = p;
  while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.')
    p++;
  if (p == start)
    return failf(r, "expected a key");
  item->key = strndup(start, (size_t)(p - start));
  if (!item->key)
    return failf(r, "out of memory");
  for (;;) {
    while (isspace((unsigned char)*p))
      p++;
    if (!*p || (in_tag && *p == '>'))
      break;
    if (n == cap) {
      cap = cap ? cap * 2 : 4;
      nv = realloc(vals, (size_t)cap * sizeof *nv);
      if (!nv) {
        item->values = vals;
        item->values_num = n;
        return failf(r, "out of memory");
      }
      vals = nv;
    }
    if (parse_value(r, &p, in_tag, &vals[n]) != 0) {
      item->values = vals;
      item->values_num = n;
      return -1;
    }
    n++;
  }
  item->values = vals;
  item->values_num = n;
  if (in_tag) {
    if (*p != '>')
      return failf(r, "missing '>' after <%s", item->key);
    p++;
    while (isspace((unsigned char)*p))
      p++;
    if (*p)
      return failf(r, "unexpected text after <%s ...>", item->key);
  }
  return 0;
}

/* Parses items until </close> (or the end when close is NULL). */
static int parse_block(reader *r, const char *close, int depth, list *out)
{
  kms_plugin_config_item *item;
  const char *p, *start;
  list children;
  int rc;
  size_t n;

  memset(out, 0, sizeof *out);
  while ((rc = next_line(r)) == 1) {
    p = r->buf;
    while (isspace((unsigned char)*p))
      p++;
    if (!*p)
      continue;
    if (p[0] == '<' && p[1] == '/') {
      p += 2;
      start = p;
      while (*p && *p != '>' && !isspace((unsigned char)*p))
        p++;
      n = (size_t)(p - start);
      while (isspace((unsigned char)*p))
        p++;
      if (*p != '>')
        return failf(r, "missing '>' in a closing tag");
      if (!close)
        return failf(r, "</%.*s> without an open block", (int)n, start);
      if (strlen(close) != n || strncasecmp(close, start, n) != 0)
        return failf(r, "</%.*s> closes <%s>", (int)n, start, close);
      for (p++; isspace((unsigned char)*p); p++)
        ;
      if (*p)
        return failf(r, "unexpected text after </%s>", close);
      return 0;
    }
    item = add_item(r, out);
    if (!item)
      return -1;
    if (*p == '<') {
      if (depth >= MAX_DEPTH)
        return failf(r, "blocks nested deeper than %d", MAX_DEPTH);
      if (parse_statement(r, p + 1, 1, item) != 0)
        return -1;
      rc = parse_block(r, item->key, depth + 1, &children);
      item->children = children.items;
      item->children_num = children.n;
      if (rc != 0)
        return -1;
    } else if (parse_statement(r, p, 0, item) != 0) {
      return -1;
    }
  }
  if (rc < 0)
    return -1;
  if (close) {
    r->line = r->next_line;
    return failf(r, "missing </%s>", close);
  }
  return 0;
}
/* }===== */

kms_plugin_config_item *conf_parse(const char *name, const char *text,
                                   size_t len, char *err, size_t size)
{
  reader r;
  list top;
  kms_plugin_config_item *root;

  memset(&r, 0, sizeof r);
  r.name = name;
  r.p = text;
  r.end = text + len;
  r.next_line = 1;
  r.err = err;
  r.err_size = size;
  if (parse_block(&r, NULL, 0, &top) != 0) {
    free(r.buf);
    free_items(top.items, top.n);
    return NULL;
  }
  free(r.buf);
  root = calloc(1, sizeof *root);
  if (!root) {
    snprintf(err, size, "%s: out of memory", name);
    free_items(top.items, top.n);
    return NULL;
  }
  root->key = strdup("");
  root->children = top.items;
  root->children_num = top.n;
  return root;
}

kms_plugin_config_item *conf_load(const char *path, char *err, size_t size)
{
  kms_plugin_config_item *root = NULL;
  char *text = NULL;
  size_t n = 0;
  FILE *f = fopen(path, "r");

  if (!f) {
    snprintf(err, size, "%s: %s", path, strerror(errno));
    return NULL;
  }
  text = malloc(MAX_FILE);
  if (!text) {
    snprintf(err, size, "%s: out of memory", path);
  } else {
    n = fread(text, 1, MAX_FILE, f);
    if (ferror(f))
      snprintf(err, size, "%s: %s", path, strerror(errno));
    else if (n == MAX_FILE)
      snprintf(err, size, "%s: larger than %d bytes", path, MAX_FILE);
    else
      root = conf_parse(path, text, n, err, size);
  }
  free(text);
  fclose(f);
  return root;
}

void conf_free(kms_plugin_config_item *root)
{
  if (!root)
    return;
  free_items((kms_plugin_config_item *)root->children, root->children_num);
  root->children = NULL;
  root->children_num = 0;
  free_items(root, 1);
}

const kms_plugin_config_item *conf_find(const kms_plugin_config_item *parent,
                                        const char *key, const char *arg)
{
  int i;
  for (i = 0; parent && i < parent->children_num; i++) {
    const kms_plugin_config_item *c = &parent->children[i];
    if (strcasecmp(c->key, key) != 0)
      continue;
    if (!arg || (c->values_num >= 1 && c->values[0].type == KMS_PLUGIN_STRING &&
                 strcmp(c->values[0].string, arg) == 0))
      return c;
  }
  return NULL;
}

const char *conf_string(const kms_plugin_config_item *item)
{
  if (!item || item->values_num != 1 ||
      item->values[0].type != KMS_PLUGIN_STRING)
    return NULL;
  return item->values[0].string;
}
