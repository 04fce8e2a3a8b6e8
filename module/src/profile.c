/* profile.c - the AWS shared config (~/.aws/config) and credentials
 * (~/.aws/credentials) files, parsed with libinih the way botocore's
 * configparser reads them: profiles, [services x] sections with nested
 * "kms =" subsections, and values that may be secrets (kept in wiped
 * memory, never logged). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ini.h>
#include "internal.h"

/* The largest file read: a credentials file is a few KiB. */
#define MAX_FILE_SIZE (4u << 20)

/* Marks a line the reader cut out of a long physical line (see
 * read_line). Only the reader's flag is trusted, never this byte. */
#define CHUNK_MARK '\x01'
/* Stands for ';' inside a line while inih reads it: botocore's
 * configparser has no inline comments ("a ;b" is a value), inih has, and
 * Debian's inih can only turn them off process-wide. A file holding this
 * byte is refused. */
#define SEMI_MARK '\x02'

typedef struct ini_entry {
  char *key;                   /* lowercased, as configparser does */
  char *value;                 /* secret-safe: wiped on free */
  size_t key_len, value_len;
  struct ini_entry *children;  /* "k = v" lines of a nested value */
  struct ini_entry *next;
} ini_entry;

typedef struct ini_section {
  char *name;
  size_t name_len;
  ini_entry *entries;
  struct ini_section *next;
} ini_section;

struct kmsi_profiles {
  kmsi_allocator a;
  ini_section *files[2];       /* KMSI_FILE_CONFIG, KMSI_FILE_CREDENTIALS */
};

/* {===== memory ===== */

static void entries_free(const kmsi_allocator *a, ini_entry *e)
{
  while (e) {
    ini_entry *next = e->next;
    entries_free(a, e->children);
    kmsi_free_secret(a, e->key, e->key_len + 1);
    kmsi_free_secret(a, e->value, e->value_len + 1);
    kmsi_free(a, e, sizeof *e);
    e = next;
  }
}

static void sections_free(const kmsi_allocator *a, ini_section *s)
{
  while (s) {
    ini_section *next = s->next;
    entries_free(a, s->entries);
    kmsi_free_secret(a, s->name, s->name_len + 1);
    kmsi_free(a, s, sizeof *s);
    s = next;
  }
}

void kmsi_profiles_free(kmsi_profiles *p)
{
  kmsi_allocator a;
  if (!p)
    return;
  a = p->a;
  sections_free(&a, p->files[0]);
  sections_free(&a, p->files[1]);
  kmsi_free(&a, p, sizeof *p);
}

/* Replaces *dst (wiping it) by a copy of src[0..n). 0 on nomem. */
static int set_string(const kmsi_allocator *a, char **dst, size_t *dst_len,
                      const char *src, size_t n)
{
  char *copy = kmsi_strndup(a, src, n);
  if (!copy)
    return 0;
  kmsi_free_secret(a, *dst, *dst_len + 1);
  *dst = copy;
  *dst_len = n;
  return 1;
}

/* Appends sep (if not NUL) and src[0..n) to an entry's value, moving it
 * to a fresh block so no partial copy of a secret is left unwiped. */
static int append_value(const kmsi_allocator *a, ini_entry *e, char sep,
                        const char *src, size_t n)
{
  size_t len = e->value_len + (sep ? 1 : 0) + n;
  char *v = kmsi_malloc(a, len + 1);
  if (!v)
    return 0;
  memcpy(v, e->value, e->value_len);
  if (sep)
    v[e->value_len] = sep;
  memcpy(v + len - n, src, n);
  v[len] = '\0';
  kmsi_free_secret(a, e->value, e->value_len + 1);
  e->value = v;
  e->value_len = len;
  return 1;
}
/* }===== */

/* {===== reading one file through inih ===== */

typedef struct parse_ctx {
  const kmsi_allocator *a;
  const char *data;            /* the file's bytes (secret) */
  size_t len, pos;
  const char *pending;         /* rest of a long line, still to emit */
  size_t pending_len;
  int line_indented;           /* the emitted line starts with a space */
  int line_chunk;              /* the emitted line is a cut-out piece */
  ini_section *head, **tail;
  ini_section *section;        /* current section, NULL before the first */
  ini_entry *last;             /* last entry set: continuation target */
  int nomem;
  int bad_byte;                /* the file holds SEMI_MARK */
} parse_ctx;

static int is_space(char c)
{
  return isspace((unsigned char)c) != 0;
}

/* Finds or creates the section called name[0..n), making it current. */
static void open_section(parse_ctx *c, const char *name, size_t n)
{
  ini_section *s;
  for (s = c->head; s; s = s->next)
    if (s->name_len == n && memcmp(s->name, name, n) == 0)
      break;
  if (!s) {
    s = kmsi_calloc(c->a, sizeof *s);
    if (!s || !set_string(c->a, &s->name, &s->name_len, name, n)) {
      kmsi_free(c->a, s, sizeof *s);
      c->nomem = 1;
      c->section = NULL;
      return;
    }
    *c->tail = s;
    c->tail = &s->next;
  }
  c->section = s;
}

/* Looks at a physical line before inih does, to follow sections itself:
 * inih keeps only 49 bytes of a section name, and we need the whole. The
 * test mirrors inih: a '[' line that is not a continuation. */
static void track_section(parse_ctx *c, const char *line, size_t n)
{
  size_t b = 0, e = n, close;
  while (b < e && is_space(line[b]))
    b++;
  while (e > b && is_space(line[e - 1]))
    e--;
  if (b == e || line[b] != '[' || (c->line_indented && c->last))
    return;
  for (close = b + 1; close < e && line[close] != ']'; close++)
    ;
  if (close < e) {
    open_section(c, line + b + 1, close - b - 1);
    c->last = NULL;
  }
}

/* Hides every ';' of an emitted line from inih's inline-comment rule,
 * except one that starts a comment line. */
static void hide_semicolons(parse_ctx *c, char *str, size_t n, int chunk)
{
  size_t i = 0;
  if (memchr(str, SEMI_MARK, n))
    c->bad_byte = 1;
  if (!chunk) {
    while (i < n && is_space(str[i]))
      i++;
    if (i < n && str[i] == ';')
      return;  /* a comment line: inih drops it whole */
  }
  for (; i < n; i++)
    if (str[i] == ';')
      str[i] = SEMI_MARK;
}

/* The ini_reader (fgets-like). inih reads into a fixed buffer of about
 * 200 bytes, and Debian's build can only be widened process-wide, which a
 * guest library must not do. So a longer key = value line (a session
 * token is about 1 KiB) is handed over in pieces: the first as is, then
 * each as an indented continuation line that starts with CHUNK_MARK; the
 * handler glues those without the "\n" configparser puts between real
 * continuation lines. Pieces never end in a space (inih strips those), so
 * the result is what one long line would have given. Every emitted line
 * ends in "\n" and is shorter than num, so no inih version sees an
 * over-long line. */
static char *read_line(char *str, int num, void *stream)
{
  parse_ctx *c = stream;
  size_t cap, n, k;
  const char *line, *nl;

  if (num < 16)
    return NULL;
  cap = (size_t)num - 2;  /* room for "\n" and NUL */
  if (c->pending_len) {
    n = c->pending_len;
    if (n > cap - 2) {
      k = cap - 2;
      while (k > 1 && is_space(c->pending[k - 1]))
        k--;
      n = k;
    }
    str[0] = ' ';
    str[1] = CHUNK_MARK;
    memcpy(str + 2, c->pending, n);
    hide_semicolons(c, str + 2, n, 1);
    str[n + 2] = '\n';
    str[n + 3] = '\0';
    c->pending += n;
    c->pending_len -= n;
    c->line_chunk = 1;
    c->line_indented = 1;
    return str;
  }
  if (c->pos >= c->len)
    return NULL;
  line = c->data + c->pos;
  nl = memchr(line, '\n', c->len - c->pos);
  n = nl ? (size_t)(nl - line) : c->len - c->pos;
  c->pos += n + (nl ? 1 : 0);
  c->line_chunk = 0;
  c->line_indented = n > 0 && is_space(line[0]);
  track_section(c, line, n);
  if (n > cap) {
    size_t b = 0, eq;
    while (b < n && is_space(line[b]))
      b++;
    while (n > b && is_space(line[n - 1]))
      n--;
    /* Comment and section lines are simply cut. Only a value may go on
     * in pieces: the first piece must hold the "=" (or be a continuation
     * line itself). */
    if (n > cap && b < n && line[b] != ';' && line[b] != '#' &&
        line[b] != '[') {
      k = cap;
      while (k > b + 1 && is_space(line[k - 1]))
        k--;
      for (eq = b; eq < k && line[eq] != '=' && line[eq] != ':'; eq++)
        ;
      if (eq < k || (c->line_indented && c->last)) {
        c->pending = line + k;
        c->pending_len = n - k;
      }
      n = k;
    } else if (n > cap) {
      n = cap;
    }
  }
  memcpy(str, line, n);
  hide_semicolons(c, str, n, 0);
  str[n] = '\n';
  str[n + 1] = '\0';
  return str;
}

/* Puts back the ';' that hide_semicolons hid. */
static void show_semicolons(char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == SEMI_MARK)
      s[i] = ';';
}

static ini_entry *find_entry(ini_entry *e, const char *key)
{
  for (; e; e = e->next)
    if (strcmp(e->key, key) == 0)
      return e;
  return NULL;
}

/* The ini_handler. inih's section argument is ignored (see
 * track_section). A continuation line is appended to the last entry with
 * "\n", as configparser joins them; a piece of a long line without. */
static int on_value(void *user, const char *section, const char *name,
                    const char *value)
{
  parse_ctx *c = user;
  ini_entry *e;
  char *key = NULL;
  size_t i, key_len;
  (void)section;

  if (c->nomem)
    return 0;
  if (c->line_chunk && c->last) {
    size_t old = c->last->value_len;
    if (!append_value(c->a, c->last, 0, value + 1, strlen(value + 1)))
      c->nomem = 1;
    else
      show_semicolons(c->last->value + old, c->last->value_len - old);
    return !c->nomem;
  }
  if (c->line_indented && c->last) {
    size_t old = c->last->value_len;
    if (!append_value(c->a, c->last, '\n', value, strlen(value)))
      c->nomem = 1;
    else
      show_semicolons(c->last->value + old, c->last->value_len - old);
    return !c->nomem;
  }
  if (!c->section)
    return 0;  /* a value before any [section] */
  key_len = strlen(name);
  key = kmsi_strndup(c->a, name, key_len);
  if (!key) {
    c->nomem = 1;
    return 0;
  }
  for (i = 0; i < key_len; i++)
    key[i] = (char)tolower((unsigned char)key[i]);
  show_semicolons(key, key_len);
  e = find_entry(c->section->entries, key);
  if (e) {
    /* A repeated key: the later one wins (configparser refuses it). */
    kmsi_free_secret(c->a, key, key_len + 1);
    entries_free(c->a, e->children);
    e->children = NULL;
  } else {
    ini_entry **tail = &c->section->entries;
    e = kmsi_calloc(c->a, sizeof *e);
    if (!e) {
      kmsi_free_secret(c->a, key, key_len + 1);
      c->nomem = 1;
      return 0;
    }
    e->key = key;
    e->key_len = key_len;
    while (*tail)
      tail = &(*tail)->next;
    *tail = e;
  }
  if (!set_string(c->a, &e->value, &e->value_len, value, strlen(value))) {
    c->nomem = 1;
    return 0;
  }
  show_semicolons(e->value, e->value_len);
  c->last = e;
  return 1;
}

/* botocore parses a value that starts with a newline ("kms =" followed
 * by indented lines) into "k = v" pairs, keys and values stripped. A line
 * without "=" makes the file unparsable. Returns 0 on such a line, -1 on
 * nomem, 1 otherwise. */
static int parse_nested(const kmsi_allocator *a, ini_entry *e)
{
  const char *p = e->value, *end = e->value + e->value_len;
  ini_entry **tail = &e->children;

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end, *b = p, *eq, *kb, *ke, *vb, *ve;
    ini_entry *child;
    p = nl ? nl + 1 : end;
    while (b < le && is_space(*b))
      b++;
    ke = le;
    while (ke > b && is_space(ke[-1]))
      ke--;
    if (b == ke)
      continue;
    eq = memchr(b, '=', (size_t)(ke - b));
    if (!eq)
      return 0;
    kb = b;
    ke = eq;
    while (ke > kb && is_space(ke[-1]))
      ke--;
    vb = eq + 1;
    ve = le;
    while (vb < ve && is_space(*vb))
      vb++;
    while (ve > vb && is_space(ve[-1]))
      ve--;
    child = kmsi_calloc(a, sizeof *child);
    if (!child)
      return -1;
    *tail = child;
    tail = &child->next;
    if (!set_string(a, &child->key, &child->key_len, kb,
                    (size_t)(ke - kb)) ||
        !set_string(a, &child->value, &child->value_len, vb,
                    (size_t)(ve - vb)))
      return -1;
  }
  return 1;
}

/* Reads path into a secret buffer. A missing or unreadable file is an
 * empty one (configparser.read skips it silently); *found tells which. */
static kms_status read_file(const kmsi_allocator *a, const char *path,
                            kms_buf *out, int *found, kms_error *err)
{
  kms_status result = KMS_ERR_NOMEM;
  FILE *f = NULL;
  char chunk[4096];
  size_t n;

  kmsi_buf_init(out, a, 1);
  *found = 0;
  f = fopen(path, "rb");
  if (!f) {
    result = KMS_OK;
    goto cleanup;
  }
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (out->len + n > MAX_FILE_SIZE) {
      result = kmsi_error(err, KMS_ERR_IO,
                          "config: %s is larger than %u bytes", path,
                          MAX_FILE_SIZE);
      goto cleanup;
    }
    if (kmsi_buf_append(out, chunk, n) != KMS_OK) {
      kmsi_error(err, KMS_ERR_NOMEM, "config: out of memory");
      goto cleanup;
    }
  }
  if (ferror(f)) {
    kmsi_buf_reset(out);  /* a directory, an I/O error: as missing */
    result = KMS_OK;
    goto cleanup;
  }
  *found = 1;
  result = KMS_OK;
cleanup:
  kmsi_wipe(chunk, sizeof chunk);
  if (f)
    fclose(f);
  return result;
}

/* Parses one file into *out (NULL when the file is missing or empty).
 * KMS_ERR_PARSE with botocore's "Unable to parse config file: PATH" and
 * the line number; the line itself is never quoted (it may hold a
 * secret). */
static kms_status parse_file(const kmsi_allocator *a, const char *path,
                             ini_section **out, kms_error *err)
{
  kms_status result;
  kms_buf data;
  parse_ctx c;
  ini_section *s;
  int found = 0, line;

  *out = NULL;
  memset(&c, 0, sizeof c);
  c.a = a;
  c.tail = &c.head;
  result = read_file(a, path, &data, &found, err);
  if (result != KMS_OK || !found)
    goto cleanup;
  c.data = data.data ? data.data : "";
  c.len = data.len;
  /* A UTF-8 byte order mark, as inih and Python's utf-8-sig skip it. */
  if (c.len >= 3 && memcmp(c.data, "\xEF\xBB\xBF", 3) == 0)
    c.pos = 3;
  line = ini_parse_stream(read_line, &c, on_value, &c);
  if (c.nomem || line == -2) {
    result = kmsi_error(err, KMS_ERR_NOMEM, "config: out of memory");
    goto cleanup;
  }
  if (c.bad_byte) {
    result = kmsi_error(err, KMS_ERR_PARSE,
                        "Unable to parse config file: %s (a 0x02 byte)",
                        path);
    goto cleanup;
  }
  if (line != 0) {
    result = kmsi_error(err, KMS_ERR_PARSE,
                        "Unable to parse config file: %s (line %d)", path,
                        line);
    goto cleanup;
  }
  for (s = c.head; s; s = s->next) {
    ini_entry *e;
    for (e = s->entries; e; e = e->next) {
      int r;
      if (e->value_len == 0 || e->value[0] != '\n')
        continue;
      r = parse_nested(a, e);
      if (r < 0) {
        result = kmsi_error(err, KMS_ERR_NOMEM, "config: out of memory");
        goto cleanup;
      }
      if (r == 0) {
        result = kmsi_error(err, KMS_ERR_PARSE,
                            "Unable to parse config file: %s (nested value "
                            "of \"%s\" in [%s])",
                            path, e->key, s->name);
        goto cleanup;
      }
    }
  }
  *out = c.head;
  c.head = NULL;
  result = KMS_OK;
cleanup:
  sections_free(a, c.head);
  kms_buf_free(&data);
  return result;
}

kms_status kmsi_profiles_load(const kmsi_allocator *a,
                              const char *config_file,
                              const char *credentials_file,
                              kmsi_profiles **out, kms_error *err)
{
  kms_status result = KMS_ERR_NOMEM;
  kmsi_profiles *p;

  *out = NULL;
  p = kmsi_calloc(a, sizeof *p);
  if (!p) {
    kmsi_error(err, KMS_ERR_NOMEM, "config: out of memory");
    goto cleanup;
  }
  p->a = *a;
  if (config_file) {
    result = parse_file(a, config_file, &p->files[KMSI_FILE_CONFIG], err);
    if (result != KMS_OK)
      goto cleanup;
  }
  if (credentials_file) {
    result = parse_file(a, credentials_file,
                        &p->files[KMSI_FILE_CREDENTIALS], err);
    if (result != KMS_OK)
      goto cleanup;
  }
  *out = p;
  p = NULL;
  result = KMS_OK;
cleanup:
  kmsi_profiles_free(p);
  return result;
}
/* }===== */

/* {===== lookups ===== */

/* The name a config-file section gives, after its keyword ("profile" or
 * "services"), as botocore's shlex.split(section) sees a two-word header:
 * "profile x", "profile   x", 'profile "my x"'. Returns the length of the
 * name written to *name (0 when the section is not of that kind). */
static size_t section_word(const ini_section *s, const char *keyword,
                           const char **name)
{
  size_t kl = strlen(keyword), b, e, i;
  const char *n = s->name;

  if (s->name_len <= kl || memcmp(n, keyword, kl) != 0 || !is_space(n[kl]))
    return 0;
  b = kl;
  e = s->name_len;
  while (b < e && is_space(n[b]))
    b++;
  while (e > b && is_space(n[e - 1]))
    e--;
  if (e - b >= 2 && (n[b] == '"' || n[b] == '\'') && n[e - 1] == n[b]) {
    b++;
    e--;
  } else {
    for (i = b; i < e; i++)
      if (is_space(n[i]) || n[i] == '"' || n[i] == '\'')
        return 0;
  }
  *name = n + b;
  return e - b;
}

static int word_is(const char *w, size_t n, const char *s)
{
  return n == strlen(s) && memcmp(w, s, n) == 0;
}

/* The section holding profile in file f, or NULL. In the config file:
 * [profile NAME], and [default] for "default"; when several match, the
 * last one wins, as in botocore's profile map. In the credentials file:
 * [NAME]. */
static const ini_section *profile_section(const kmsi_profiles *p,
                                          kmsi_file f, const char *profile)
{
  const ini_section *s, *found = NULL;
  const char *w;
  size_t n;

  if (!p || !profile)
    return NULL;
  for (s = p->files[f]; s; s = s->next) {
    if (f == KMSI_FILE_CREDENTIALS) {
      if (strcmp(s->name, profile) == 0)
        found = s;
      continue;
    }
    n = section_word(s, "profile", &w);
    if ((n && word_is(w, n, profile)) ||
        (strcmp(profile, "default") == 0 && strcmp(s->name, "default") == 0))
      found = s;
  }
  return found;
}

int kmsi_profiles_exists(const kmsi_profiles *p, const char *profile)
{
  return profile_section(p, KMSI_FILE_CONFIG, profile) != NULL ||
         profile_section(p, KMSI_FILE_CREDENTIALS, profile) != NULL;
}

const char *kmsi_profiles_get_in(const kmsi_profiles *p, kmsi_file f,
                                 const char *profile, const char *key)
{
  const ini_section *s = profile_section(p, f, profile);
  const ini_entry *e = s ? find_entry(s->entries, key) : NULL;
  return e ? e->value : NULL;
}

const char *kmsi_profiles_get(const kmsi_profiles *p, const char *profile,
                              const char *key)
{
  const char *v =
      kmsi_profiles_get_in(p, KMSI_FILE_CREDENTIALS, profile, key);
  return v ? v : kmsi_profiles_get_in(p, KMSI_FILE_CONFIG, profile, key);
}

const char *kmsi_profiles_service_get(const kmsi_profiles *p,
                                      const char *profile,
                                      const char *service, const char *key)
{
  const char *services = kmsi_profiles_get(p, profile, "services");
  const ini_section *s, *found = NULL;
  const ini_entry *e, *child;
  const char *w;
  size_t n;

  if (!services)
    return NULL;
  for (s = p->files[KMSI_FILE_CONFIG]; s; s = s->next) {
    n = section_word(s, "services", &w);
    if (n && word_is(w, n, services))
      found = s;
  }
  e = found ? find_entry(found->entries, service) : NULL;
  for (child = e ? e->children : NULL; child; child = child->next)
    if (strcmp(child->key, key) == 0)
      return child->value;
  return NULL;
}
/* }===== */
