/* yaml.c - YAML through libyaml, with the rules of ruamel.yaml's safe
 * loader and dumper that the AWS CLI uses: the YAML 1.2 implicit types
 * (which decide whether a string may be written plain, and what a plain
 * scalar in --cli-input-yaml means), sorted mapping keys, block style, and
 * JSON for a bare scalar (awscli/formatter.py YAMLDumper). */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "cli.h"

/* {===== the YAML 1.2 resolver (ruamel.yaml resolver.py) ===== */

/* Implicit YAML 1.2 types, as ruamel.yaml resolves plain scalars. */
typedef enum cli_yaml_type {
  CLI_YAML_STR = 0,
  CLI_YAML_NULL,
  CLI_YAML_BOOL,
  CLI_YAML_INT,
  CLI_YAML_FLOAT,
  CLI_YAML_TIMESTAMP,
  CLI_YAML_MERGE,
  CLI_YAML_VALUE
} cli_yaml_type;

static const char *const resolver_re[] = {
  /* bool */
  "^(true|True|TRUE|false|False|FALSE)$",
  /* float */
  "^([-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+]?[0-9]+)?"
  "|[-+]?([0-9][0-9_]*)([eE][-+]?[0-9]+)"
  "|[-+]?\\.[0-9_]+([eE][-+][0-9]+)?"
  "|[-+]?\\.(inf|Inf|INF)"
  "|\\.(nan|NaN|NAN))$",
  /* int */
  "^([-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$",
  /* merge */
  "^(<<)$",
  /* null */
  "^(~|null|Null|NULL|)$",
  /* timestamp */
  "^([0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
  "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
  "([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\\.[0-9]*)?"
  "([ \t]*(Z|[-+][0-9][0-9]?(:[0-9][0-9])?))?)$",
  /* value */
  "^(=)$",
};

static const cli_yaml_type resolver_type[] = {
  CLI_YAML_BOOL, CLI_YAML_FLOAT, CLI_YAML_INT, CLI_YAML_MERGE,
  CLI_YAML_NULL, CLI_YAML_TIMESTAMP, CLI_YAML_VALUE
};

/* The first characters each resolver is tried for (its "first" list). */
static const char *const resolver_first[] = {
  "tTfF", "-+0123456789.", "-+0123456789", "<", "~nN", "0123456789", "="
};

/* The type ruamel's 1.2 resolver gives the plain scalar s[0..n). */
static cli_yaml_type yaml_resolve(const char *s, size_t n)
{
  static regex_t re[sizeof resolver_re / sizeof resolver_re[0]];
  static int compiled = 0;
  cli_yaml_type t = CLI_YAML_STR;
  char *z;
  size_t i;

  if (n == 0)
    return CLI_YAML_NULL;
  if (memchr(s, '\0', n) != NULL)
    return CLI_YAML_STR;
  if (!compiled) {
    for (i = 0; i < sizeof re / sizeof re[0]; i++)
      if (regcomp(&re[i], resolver_re[i], REG_EXTENDED | REG_NOSUB) != 0)
        return CLI_YAML_STR;
    compiled = 1;
  }
  z = cli_xstrndup(s, n);
  for (i = 0; i < sizeof re / sizeof re[0]; i++) {
    if (strchr(resolver_first[i], z[0]) == NULL)
      continue;
    if (regexec(&re[i], z, 0, NULL, 0) == 0) {
      t = resolver_type[i];
      break;
    }
  }
  free(z);
  return t;
}
/* }===== */

/* {===== dumping (YAMLDumper.dump) ===== */

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
  cli_buf_add(data, (const char *)buffer, size);
  return 1;
}

#define TAG(x) ((yaml_char_t *)"tag:yaml.org,2002:" x)

static int emit_scalar(yaml_emitter_t *em, yaml_char_t *tag, const char *s,
                       size_t n, int plain, int quoted)
{
  yaml_event_t ev;

  if (!yaml_scalar_event_initialize(&ev, NULL, tag, (yaml_char_t *)s,
                                    (int)n, plain, quoted,
                                    YAML_ANY_SCALAR_STYLE))
    return -1;
  return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

/* ruamel's SafeRepresenter.represent_float */
static void yaml_float(cli_buf *b, const cli_value *v)
{
  size_t i, start = b->len;

  cli_float_repr(b, v->s, v->len);
  if (strcmp(b->data + start, "nan") == 0 ||
      strcmp(b->data + start, "inf") == 0 ||
      strcmp(b->data + start, "-inf") == 0) {
    const char *word = b->data[start] == 'n' ? ".nan"
                       : b->data[start] == 'i' ? ".inf" : "-.inf";
    b->len = start;
    cli_buf_puts(b, word);
  }
  for (i = start; i < b->len; i++)
    if (b->data[i] >= 'A' && b->data[i] <= 'Z')
      b->data[i] = (char)(b->data[i] + 32);
}

static int emit_value(yaml_emitter_t *em, const cli_value *v)
{
  yaml_event_t ev;
  const cli_value **m, *it;
  cli_buf b;
  size_t i;
  int rc = 0;

  switch (v->type) {
  case CLI_V_NULL:
    return emit_scalar(em, TAG("null"), "null", 4, 1, 0);
  case CLI_V_BOOL:
    return emit_scalar(em, TAG("bool"), v->s, v->len, 1, 0);
  case CLI_V_INT:
  case CLI_V_FLOAT:
    cli_buf_init(&b, 0);
    if (v->type == CLI_V_INT)
      cli_value_pystr(&b, v);
    else
      yaml_float(&b, v);
    rc = emit_scalar(em, v->type == CLI_V_INT ? TAG("int") : TAG("float"),
                     b.data, b.len, 1, 0);
    cli_buf_free(&b);
    return rc;
  case CLI_V_STRING:
    return emit_scalar(em, TAG("str"), v->s, v->len,
                       yaml_resolve(v->s, v->len) == CLI_YAML_STR, 1);
  case CLI_V_ARRAY:
    if (!yaml_sequence_start_event_initialize(&ev, NULL, TAG("seq"), 1,
                                              YAML_BLOCK_SEQUENCE_STYLE) ||
        !yaml_emitter_emit(em, &ev))
      return -1;
    for (it = v->first; it != NULL && rc == 0; it = it->next)
      rc = emit_value(em, it);
    if (rc != 0 || !yaml_sequence_end_event_initialize(&ev) ||
        !yaml_emitter_emit(em, &ev))
      return -1;
    return 0;
  case CLI_V_OBJECT:
    if (!yaml_mapping_start_event_initialize(&ev, NULL, TAG("map"), 1,
                                             YAML_BLOCK_MAPPING_STYLE) ||
        !yaml_emitter_emit(em, &ev))
      return -1;
    m = cli_sorted_members(v);
    for (i = 0; i < v->count && rc == 0; i++) {
      rc = emit_scalar(em, TAG("str"), m[i]->key, m[i]->key_len,
                       yaml_resolve(m[i]->key, m[i]->key_len) ==
                           CLI_YAML_STR, 1);
      if (rc == 0)
        rc = emit_value(em, m[i]);
    }
    free(m);
    if (rc != 0 || !yaml_mapping_end_event_initialize(&ev) ||
        !yaml_emitter_emit(em, &ev))
      return -1;
    return 0;
  }
  return -1;
}

int cli_yaml_dump(cli_buf *out, const cli_value *v, int stream)
{
  yaml_emitter_t em;
  yaml_event_t ev;
  cli_value wrapper;
  int rc = -1;

  if (stream) {               /* yaml-stream: the response in a list */
    memset(&wrapper, 0, sizeof wrapper);
    wrapper.type = CLI_V_ARRAY;
    wrapper.first = wrapper.last = (cli_value *)v;
    wrapper.count = 1;
    v = &wrapper;
  }
  if (v->type != CLI_V_ARRAY && v->type != CLI_V_OBJECT) {
    /* a bare scalar is written as JSON, on one line */
    cli_json_dump(out, v, -1, 0);
    cli_buf_putc(out, '\n');
    return 0;
  }
  if (!yaml_emitter_initialize(&em))
    return -1;
  yaml_emitter_set_output(&em, write_handler, out);
  yaml_emitter_set_unicode(&em, 1);
  yaml_emitter_set_indent(&em, 2);
  yaml_emitter_set_width(&em, 80);
  yaml_emitter_set_break(&em, YAML_LN_BREAK);
  if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
      !yaml_emitter_emit(&em, &ev))
    goto cleanup;
  if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
      !yaml_emitter_emit(&em, &ev))
    goto cleanup;
  if (emit_value(&em, v) != 0)
    goto cleanup;
  if (!yaml_document_end_event_initialize(&ev, 1) ||
      !yaml_emitter_emit(&em, &ev))
    goto cleanup;
  if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev))
    goto cleanup;
  rc = yaml_emitter_flush(&em) ? 0 : -1;
cleanup:
  yaml_emitter_delete(&em);
  return rc;
}
/* }===== */

/* {===== loading (--cli-input-yaml) ===== */

typedef struct anchor {
  char *name;
  cli_value *value;       /* a copy owned here */
  struct anchor *next;
} anchor;

typedef struct loader {
  yaml_parser_t parser;
  anchor *anchors;
  int depth;
} loader;

static cli_value *copy_value(const cli_value *v)
{
  cli_value *c = cli_value_new(v->type), *it;

  if (v->s != NULL) {
    c->s = cli_xstrndup(v->s, v->len);
    c->len = v->len;
  }
  c->secret = v->secret;
  for (it = v->first; it != NULL; it = it->next) {
    cli_value *k = copy_value(it);
    if (v->type == CLI_V_OBJECT)
      cli_value_put(c, it->key, it->key_len, k);
    else
      cli_value_push(c, k);
  }
  return c;
}

static void remember(loader *l, const yaml_char_t *name, const cli_value *v)
{
  anchor *a;

  if (name == NULL)
    return;
  a = cli_xcalloc(sizeof *a);
  a->name = cli_xstrdup((const char *)name);
  a->value = copy_value(v);
  a->next = l->anchors;
  l->anchors = a;
}

/* A scalar as ruamel's SafeConstructor would build it. */
static cli_value *scalar_value(const yaml_event_t *ev)
{
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  const char *tag = (const char *)ev->data.scalar.tag;
  cli_yaml_type t = CLI_YAML_STR;
  cli_value *v;

  if (tag != NULL && strcmp(tag, "!") != 0) {
    if (strncmp(tag, "tag:yaml.org,2002:", 18) == 0 &&
        strcmp(tag + 18, "str") != 0)
      t = CLI_YAML_TIMESTAMP;     /* some other explicit type: not a str */
  } else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
    t = yaml_resolve(s, n);
  }
  switch (t) {
  case CLI_YAML_STR:
  case CLI_YAML_MERGE:
  case CLI_YAML_VALUE:
    return cli_value_string(s, n, 1);
  case CLI_YAML_NULL:
    return cli_value_new(CLI_V_NULL);
  case CLI_YAML_BOOL:
    v = cli_value_new(CLI_V_BOOL);
    v->s = cli_xstrdup(s[0] == 't' || s[0] == 'T' ? "true" : "false");
    v->len = strlen(v->s);
    return v;
  case CLI_YAML_INT:
  case CLI_YAML_FLOAT:
    /* the exact number does not matter: only strings are accepted */
    v = cli_value_new(t == CLI_YAML_INT ? CLI_V_INT : CLI_V_FLOAT);
    v->s = cli_xstrdup(t == CLI_YAML_INT ? "0" : "0.0");
    v->len = strlen(v->s);
    return v;
  default:
    /* a timestamp or another type JSON cannot carry: an empty map is as
     * wrong a type for every member */
    return cli_value_new(CLI_V_OBJECT);
  }
}

/* Builds the node whose first event is ev; NULL on an error. */
static cli_value *load_node(loader *l, yaml_event_t *ev)
{
  cli_value *v = NULL, *child, *key;
  yaml_event_t next;
  anchor *a;
  const yaml_char_t *name = NULL;

  if (++l->depth > 256)
    return NULL;
  switch (ev->type) {
  case YAML_ALIAS_EVENT:
    for (a = l->anchors; a != NULL; a = a->next)
      if (strcmp(a->name, (const char *)ev->data.alias.anchor) == 0)
        break;
    v = a != NULL ? copy_value(a->value) : NULL;
    break;
  case YAML_SCALAR_EVENT:
    v = scalar_value(ev);
    name = ev->data.scalar.anchor;
    break;
  case YAML_SEQUENCE_START_EVENT:
    name = ev->data.sequence_start.anchor;
    v = cli_value_new(CLI_V_ARRAY);
    for (;;) {
      if (!yaml_parser_parse(&l->parser, &next))
        goto fail;
      if (next.type == YAML_SEQUENCE_END_EVENT) {
        yaml_event_delete(&next);
        break;
      }
      child = load_node(l, &next);
      yaml_event_delete(&next);
      if (child == NULL)
        goto fail;
      cli_value_push(v, child);
    }
    break;
  case YAML_MAPPING_START_EVENT:
    name = ev->data.mapping_start.anchor;
    v = cli_value_new(CLI_V_OBJECT);
    for (;;) {
      if (!yaml_parser_parse(&l->parser, &next))
        goto fail;
      if (next.type == YAML_MAPPING_END_EVENT) {
        yaml_event_delete(&next);
        break;
      }
      key = load_node(l, &next);
      yaml_event_delete(&next);
      if (key == NULL)
        goto fail;
      if (!yaml_parser_parse(&l->parser, &next)) {
        cli_value_free(key);
        goto fail;
      }
      child = load_node(l, &next);
      yaml_event_delete(&next);
      if (child == NULL) {
        cli_value_free(key);
        goto fail;
      }
      /* keys that are not strings are kept as their text */
      cli_value_put(v, key->s != NULL ? key->s : "",
                    key->s != NULL ? key->len : 0, child);
      cli_value_free(key);
    }
    break;
  default:
    break;
  }
  if (v != NULL && name != NULL)
    remember(l, name, v);
  l->depth--;
  return v;
fail:
  cli_value_free(v);
  return NULL;
}

int cli_yaml_load(const char *text, size_t len, cli_value **out)
{
  loader l;
  yaml_event_t ev;
  cli_value *doc = NULL;
  anchor *a;
  int rc = -1, docs = 0, done = 0;

  *out = NULL;
  memset(&l, 0, sizeof l);
  if (!yaml_parser_initialize(&l.parser))
    return -1;
  yaml_parser_set_input_string(&l.parser, (const unsigned char *)text, len);
  while (!done) {
    if (!yaml_parser_parse(&l.parser, &ev))
      goto cleanup;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    case YAML_DOCUMENT_START_EVENT:
      if (++docs > 1) {           /* ruamel's load wants one document */
        yaml_event_delete(&ev);
        goto cleanup;
      }
      break;
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
    case YAML_ALIAS_EVENT:
      doc = load_node(&l, &ev);
      if (doc == NULL) {
        yaml_event_delete(&ev);
        goto cleanup;
      }
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
  }
  /* an empty stream loads as None */
  *out = doc != NULL ? doc : cli_value_new(CLI_V_NULL);
  doc = NULL;
  rc = 0;
cleanup:
  cli_value_free(doc);
  while (l.anchors != NULL) {
    a = l.anchors;
    l.anchors = a->next;
    cli_value_mark_secret(a->value);
    cli_value_free(a->value);
    free(a->name);
    free(a);
  }
  yaml_parser_delete(&l.parser);
  return rc;
}
/* }===== */
