/* table.c - the AWS CLI's --output table (awscli/formatter.py
 * TableFormatter over awscli/table.py MultiTable): sections, centred
 * titles, scaled column widths, the vertical fallback for narrow
 * terminals, East Asian wide characters, and --color on's ANSI codes
 * including the reset colorama's autoreset adds after every write. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "eaw_table.h"

/* {===== widths ===== */

static int is_wide(unsigned long cp)
{
  size_t lo = 0, hi = sizeof eaw_wide / sizeof eaw_wide[0];

  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cp < eaw_wide[mid][0])
      hi = mid;
    else if (cp > eaw_wide[mid][1])
      lo = mid + 1;
    else
      return 1;
  }
  return 0;
}

/* get_text_length: W, F and A characters count two columns. */
static long text_length(const char *s)
{
  size_t i = 0, n = strlen(s);
  unsigned long cp;
  long w = 0;

  while (i < n) {
    i += cli_utf8_decode(s + i, n - i, &cp);
    w += is_wide(cp) ? 2 : 1;
  }
  return w;
}
/* }===== */

/* {===== sections ===== */

typedef struct section {
  char *title;
  char **headers;
  size_t n_headers;
  char ***rows;
  size_t n_rows;
  long num_cols;          /* -1 until the first header or row */
  long *max_widths;
  size_t n_widths;
  long indent_level;
} section;

typedef struct table {
  section **s;
  size_t n;
  section *cur;
  int failed;
  char error[96];
} table;

static void update_max_widths(section *sec, char **row, size_t n)
{
  size_t i;

  if (sec->n_widths == 0) {
    sec->max_widths = cli_xrealloc(sec->max_widths, (n + 1) * sizeof(long));
    for (i = 0; i < n; i++)
      sec->max_widths[i] = text_length(row[i]);
    sec->n_widths = n;
    return;
  }
  for (i = 0; i < n && i < sec->n_widths; i++) {
    long w = text_length(row[i]);
    if (w > sec->max_widths[i])
      sec->max_widths[i] = w;
  }
}

static void new_section(table *t, const char *title, long indent_level)
{
  section *sec = cli_xcalloc(sizeof *sec);

  sec->title = cli_xstrdup(title != NULL ? title : "");
  sec->num_cols = -1;
  sec->indent_level = indent_level;
  t->s = cli_xrealloc(t->s, (t->n + 1) * sizeof *t->s);
  t->s[t->n++] = sec;
  t->cur = sec;
}

static void add_row_header(table *t, char **headers, size_t n)
{
  section *sec = t->cur;
  size_t i;

  update_max_widths(sec, headers, n);
  if (sec->num_cols < 0)
    sec->num_cols = (long)n;
  for (i = 0; i < sec->n_headers; i++)
    free(sec->headers[i]);
  free(sec->headers);
  sec->headers = cli_xcalloc((n + 1) * sizeof *sec->headers);
  for (i = 0; i < n; i++)
    sec->headers[i] = cli_xstrdup(headers[i]);
  sec->n_headers = n;
}

/* Takes the row's strings. */
static void add_row(table *t, char **row, size_t n)
{
  section *sec = t->cur;
  size_t i;

  if (sec->num_cols < 0)
    sec->num_cols = (long)n;
  if ((long)n != sec->num_cols) {
    if (!t->failed)
      snprintf(t->error, sizeof t->error,
               "Row should have %ld elements, instead it has %zu",
               sec->num_cols, n);
    t->failed = 1;
    for (i = 0; i < n; i++)
      free(row[i]);
    free(row);
    return;
  }
  sec->rows = cli_xrealloc(sec->rows, (sec->n_rows + 1) * sizeof *sec->rows);
  sec->rows[sec->n_rows++] = row;
  update_max_widths(sec, row, n);
}

static void free_section(section *sec)
{
  size_t i, j;

  free(sec->title);
  for (i = 0; i < sec->n_headers; i++)
    free(sec->headers[i]);
  free(sec->headers);
  for (i = 0; i < sec->n_rows; i++) {
    for (j = 0; j < (size_t)sec->num_cols; j++)
      free(sec->rows[i][j]);
    free(sec->rows[i]);
  }
  free(sec->rows);
  free(sec->max_widths);
  free(sec);
}

/* calculate_column_widths(padding, max_width): max_width < 0 means
 * None. Python's round() rounds halves to even, as rint() does. */
static long *column_widths(const section *sec, long padding, long max_width)
{
  long *w = cli_xcalloc((sec->n_widths + 1) * sizeof *w), sum = 0, off;
  size_t i;
  double scale;

  for (i = 0; i < sec->n_widths; i++) {
    w[i] = sec->max_widths[i] + padding;
    sum += w[i];
  }
  if (max_width < 0 || sec->n_widths == 0 || sum == 0)
    return w;
  scale = (double)max_width / (double)sum;
  sum = 0;
  for (i = 0; i < sec->n_widths; i++) {
    w[i] = (long)rint(scale * (double)w[i]);
    sum += w[i];
  }
  off = sum - max_width;
  while (off != 0) {
    for (i = 0; i < sec->n_widths; i++) {
      size_t k = off < 0 ? sec->n_widths - 1 - i : i;
      if (off > 0) {
        w[k]--;
        off--;
      } else {
        w[k]++;
        off++;
      }
      if (off == 0)
        break;
    }
  }
  return w;
}

static long total_width(const section *sec, long padding, long outer)
{
  long *w = column_widths(sec, 0, -1), total = 0, t;
  size_t i;

  for (i = 0; i < sec->n_widths; i++)
    total += w[i] + padding;
  free(w);
  total += 2 + outer + outer;
  t = text_length(sec->title) + 2 + outer + outer;
  return t > total ? t : total;
}
/* }===== */

/* {===== building (TableFormatter) ===== */

static char *pystr(const cli_value *v)
{
  cli_buf b;

  cli_buf_init(&b, 0);
  cli_value_pystr(&b, v);
  if (b.data == NULL)
    cli_buf_puts(&b, "");
  return cli_buf_take(&b, NULL);
}

static int scalar(const cli_value *v)
{
  return v->type != CLI_V_ARRAY && v->type != CLI_V_OBJECT;
}

/* Python truthiness. */
static int truthy(const cli_value *v)
{
  switch (v->type) {
  case CLI_V_NULL: return 0;
  case CLI_V_BOOL: return v->s[0] == 't';
  case CLI_V_INT: return strspn(v->s, "-0") != v->len;
  case CLI_V_FLOAT: return strtod(v->s, NULL) != 0.0 || isnan(strtod(v->s,
                                                                    NULL));
  case CLI_V_STRING: return v->len > 0;
  default: return v->count > 0;
  }
}

/* Sorted keys of one dict split into scalar-valued ones and the rest.
 * The key strings are borrowed. */
static void group_scalar_keys(const cli_value *obj, const char ***headers,
                              size_t *nh, const char ***more, size_t *nm)
{
  const cli_value **m = cli_sorted_members(obj);
  size_t i;

  *headers = cli_xcalloc((obj->count + 1) * sizeof **headers);
  *more = cli_xcalloc((obj->count + 1) * sizeof **more);
  *nh = *nm = 0;
  for (i = 0; i < obj->count; i++) {
    if (scalar(m[i]))
      (*headers)[(*nh)++] = m[i]->key;
    else
      (*more)[(*nm)++] = m[i]->key;
  }
  free(m);
}

static int str_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds s to a sorted set of borrowed strings. */
static void set_add(const char ***set, size_t *n, const char *s)
{
  size_t i;

  for (i = 0; i < *n; i++)
    if (strcmp((*set)[i], s) == 0)
      return;
  *set = cli_xrealloc(*set, (*n + 2) * sizeof **set);
  (*set)[(*n)++] = s;
  qsort(*set, *n, sizeof **set, str_cmp);
}

static int build_table(table *t, const char *title, const cli_value *cur,
                       long indent_level);

static char **row_of_values(const cli_value *obj, const char **keys,
                            size_t n)
{
  char **row = cli_xcalloc((n + 1) * sizeof *row);
  size_t i;

  for (i = 0; i < n; i++) {
    const cli_value *v = cli_value_get(obj, keys[i]);
    row[i] = v != NULL ? pystr(v) : cli_xstrdup("");
  }
  return row;
}

static void sub_table_from_dict(table *t, const cli_value *cur,
                                long indent_level)
{
  const char **headers, **more;
  size_t nh, nm, i;
  char **row;

  group_scalar_keys(cur, &headers, &nh, &more, &nm);
  if (nh == 1) {
    row = cli_xcalloc(3 * sizeof *row);
    row[0] = cli_xstrdup(headers[0]);
    row[1] = pystr(cli_value_get(cur, headers[0]));
    add_row(t, row, 2);
  } else if (nh > 1) {
    add_row_header(t, (char **)headers, nh);
    add_row(t, row_of_values(cur, headers, nh), nh);
  }
  for (i = 0; i < nm; i++)
    build_table(t, more[i], cli_value_get(cur, more[i]), indent_level + 1);
  free(headers);
  free(more);
}

static void sub_table_from_list(table *t, const cli_value *cur,
                                long indent_level, const char *title)
{
  const char **headers = NULL, **more = NULL, **h, **m;
  size_t nh = 0, nm = 0, i, n1, n2;
  const cli_value *el;
  int first = 1;

  for (el = cur->first; el != NULL; el = el->next) {
    if (el->type != CLI_V_OBJECT)
      continue;
    group_scalar_keys(el, &h, &n1, &m, &n2);
    for (i = 0; i < n1; i++)
      set_add(&headers, &nh, h[i]);
    for (i = 0; i < n2; i++)
      set_add(&more, &nm, m[i]);
    free(h);
    free(m);
  }
  add_row_header(t, (char **)headers, nh);
  for (el = cur->first; el != NULL; el = el->next) {
    if (!first && nm > 0) {
      new_section(t, title, indent_level);
      add_row_header(t, (char **)headers, nh);
    }
    first = 0;
    add_row(t, row_of_values(el, headers, nh), nh);
    for (i = 0; i < nm; i++) {
      const cli_value *v = cli_value_get(el, more[i]);
      if (v != NULL)
        build_table(t, more[i], v, indent_level + 1);
    }
  }
  free(headers);
  free(more);
}

/* _build_table; title NULL means None. */
static int build_table(table *t, const char *title, const cli_value *cur,
                       long indent_level)
{
  const cli_value *it, *el;

  if (!truthy(cur))
    return 0;
  if (title != NULL)
    new_section(t, title, indent_level);
  if (t->cur == NULL)
    new_section(t, "", indent_level);
  if (cur->type == CLI_V_ARRAY) {
    if (cur->first->type == CLI_V_OBJECT) {
      sub_table_from_list(t, cur, indent_level, title);
    } else {
      for (it = cur->first; it != NULL; it = it->next) {
        int all_scalar = 1;
        size_t n = 0;
        char **row;
        if (scalar(it)) {
          row = cli_xcalloc(2 * sizeof *row);
          row[0] = pystr(it);
          add_row(t, row, 1);
          continue;
        }
        for (el = it->first; el != NULL; el = el->next)
          if (it->type == CLI_V_ARRAY && !scalar(el))
            all_scalar = 0;
        if (!all_scalar) {
          build_table(t, NULL, it, 0);
          continue;
        }
        /* a list row, or a dict iterated as its keys */
        row = cli_xcalloc((it->count + 1) * sizeof *row);
        for (el = it->first; el != NULL; el = el->next)
          row[n++] = it->type == CLI_V_OBJECT
                         ? cli_xstrndup(el->key, el->key_len) : pystr(el);
        add_row(t, row, n);
      }
    }
  }
  if (cur->type == CLI_V_OBJECT)
    sub_table_from_dict(t, cur, indent_level);
  return 1;
}
/* }===== */

/* {===== rendering (MultiTable.render) ===== */

#define RESET "\x1b[0m"

/* The output stream; with colour, colorama's autoreset appends a reset
 * after every write call, which the AWS CLI's output therefore has. */
typedef struct tstream {
  cli_buf *out;
  int color;
  long indent;        /* IndentedStream level, 0 for the raw stream */
} tstream;

static void raw_write(const tstream *ts, const char *s, size_t n)
{
  cli_buf_add(ts->out, s, n);
  if (ts->color)
    cli_buf_puts(ts->out, RESET);
}

static void indent_chars(const tstream *ts, cli_buf *b)
{
  long i;
  for (i = 0; i < ts->indent; i++)
    cli_buf_puts(b, ts->color ? "\x1b[2m\x1b[33m|" RESET : "|");
}

/* IndentedStream.write */
static void iwrite(const tstream *ts, const char *s, size_t n)
{
  cli_buf ind;

  cli_buf_init(&ind, 0);
  indent_chars(ts, &ind);
  raw_write(ts, ind.data ? ind.data : "", ind.len);
  if (n > 0 && s[n - 1] == '\n') {
    raw_write(ts, s, n - 1);
    raw_write(ts, ind.data ? ind.data : "", ind.len);
    raw_write(ts, "\n", 1);
  } else {
    raw_write(ts, s, n);
  }
  cli_buf_free(&ind);
}

static void spaces(cli_buf *b, long n)
{
  if (n > 0)
    cli_buf_fill(b, ' ', (size_t)n);
}

static void center_text(cli_buf *b, const char *text, long length,
                        const char *left, const char *right, long tlen)
{
  long char_start = length / 2 - tlen / 2 - 1, so_far;

  /* Python's // floors */
  if (length < 0 && length % 2)
    char_start = (length - 1) / 2 - tlen / 2 - 1;
  cli_buf_puts(b, left);
  spaces(b, char_start);
  cli_buf_puts(b, text);
  so_far = text_length(left) + char_start + tlen;
  spaces(b, length - text_length(right) - so_far);
  cli_buf_puts(b, right);
}

static void align_left(cli_buf *b, const char *text, long length,
                       const char *left, const char *right, long tlen)
{
  long computed = tlen + 2 + (long)strlen(left) + (long)strlen(right);
  long padding = length - computed >= 0 ? 2 : 0;
  long so_far = (long)strlen(left) + padding + tlen;

  cli_buf_puts(b, left);
  spaces(b, padding);
  cli_buf_puts(b, text);
  spaces(b, length - so_far - (long)strlen(right));
  cli_buf_puts(b, right);
}

static void line_break(const tstream *ts, const long *widths, size_t n)
{
  cli_buf b;
  size_t i;

  cli_buf_init(&b, 0);
  for (i = 0; i < n; i++) {
    if (i == 0) {
      cli_buf_putc(&b, '+');
      if (widths[i] > 2)
        cli_buf_fill(&b, '-', (size_t)(widths[i] - 2));
      cli_buf_putc(&b, '+');
    } else {
      if (widths[i] > 1)
        cli_buf_fill(&b, '-', (size_t)(widths[i] - 1));
      cli_buf_putc(&b, '+');
    }
  }
  cli_buf_putc(&b, '\n');
  iwrite(ts, b.data, b.len);
  cli_buf_free(&b);
}

static void render_section(tstream *ts, const section *sec, long max_width)
{
  cli_buf b;
  long *w;
  size_t i, j;

  ts->indent = sec->indent_level;
  max_width -= sec->indent_level * 2;
  cli_buf_init(&b, 0);
  if (sec->title[0] != '\0') {
    center_text(&b, sec->title, max_width, "|", "|", text_length(sec->title));
    cli_buf_putc(&b, '\n');
    iwrite(ts, b.data, b.len);
    cli_buf_reset(&b);
    if (sec->n_headers == 0 && sec->n_rows == 0) {
      cli_buf_putc(&b, '+');
      if (max_width > 2)
        cli_buf_fill(&b, '-', (size_t)(max_width - 2));
      cli_buf_puts(&b, "+\n");
      iwrite(ts, b.data, b.len);
      cli_buf_reset(&b);
    }
  }
  if (sec->n_headers > 0) {
    w = column_widths(sec, 4, max_width);
    for (i = 0; i < sec->n_headers && i < sec->n_widths; i++)
      center_text(&b, sec->headers[i], w[i], i == 0 ? "|" : "", "|",
                  text_length(sec->headers[i]));
    line_break(ts, w, sec->n_widths);
    cli_buf_putc(&b, '\n');
    iwrite(ts, b.data, b.len);
    cli_buf_reset(&b);
    free(w);
  }
  if (sec->n_rows > 0 && sec->n_widths > 0) {
    w = column_widths(sec, 4, max_width);
    line_break(ts, w, sec->n_widths);
    for (i = 0; i < sec->n_rows; i++) {
      for (j = 0; j < (size_t)sec->num_cols && j < sec->n_widths; j++) {
        const char *el = sec->rows[i][j];
        cli_buf styled;
        cli_buf_init(&styled, 0);
        if (ts->color)
          cli_buf_printf(&styled, "\x1b[1m\x1b[34m%s" RESET, el);
        else
          cli_buf_puts(&styled, el);
        align_left(&b, styled.data, w[j], j == 0 ? "|" : "", "|",
                   text_length(el));
        cli_buf_free(&styled);
      }
      cli_buf_putc(&b, '\n');
      iwrite(ts, b.data, b.len);
      cli_buf_reset(&b);
    }
    line_break(ts, w, sec->n_widths);
    free(w);
  }
  cli_buf_free(&b);
}

static long max_width_of(const table *t)
{
  long m = 0, w;
  size_t i;

  for (i = 0; i < t->n; i++) {
    w = total_width(t->s[i], 4, t->s[i]->indent_level);
    if (i == 0 || w > m)
      m = w;
  }
  return m;
}

/* convert_to_vertical_table: one-row sections become header/value
 * rows. */
static void to_vertical(table *t)
{
  size_t i, j;

  for (i = 0; i < t->n; i++) {
    section *old = t->s[i], *sec;
    if (old->n_rows != 1 || old->n_headers == 0)
      continue;
    t->cur = NULL;
    sec = cli_xcalloc(sizeof *sec);
    sec->title = cli_xstrdup(old->title);
    sec->num_cols = -1;
    sec->indent_level = old->indent_level;
    t->cur = sec;
    for (j = 0; j < old->n_headers && j < (size_t)old->num_cols; j++) {
      char **row = cli_xcalloc(3 * sizeof *row);
      row[0] = cli_xstrdup(old->headers[j]);
      row[1] = cli_xstrdup(old->rows[0][j]);
      add_row(t, row, 2);
    }
    t->s[i] = sec;
    free_section(old);
  }
}
/* }===== */

int cli_table_format(cli_buf *out, const cli_value *v, const char *title,
                     int color, int term_width, char *error,
                     size_t error_size)
{
  table t;
  tstream ts;
  long max_width;
  size_t i;
  int rc = 0;

  memset(&t, 0, sizeof t);
  if (!build_table(&t, title, v, 0))
    goto cleanup;
  if (t.failed) {
    snprintf(error, error_size, "%s", t.error);
    rc = -1;
    goto cleanup;
  }
  max_width = max_width_of(&t);
  if (max_width > term_width) {
    to_vertical(&t);
    max_width = max_width_of(&t);
  }
  ts.out = out;
  ts.color = color;
  ts.indent = 0;
  {
    cli_buf line;
    cli_buf_init(&line, 0);
    if (max_width > 0)
      cli_buf_fill(&line, '-', (size_t)max_width);
    cli_buf_putc(&line, '\n');
    raw_write(&ts, line.data, line.len);
    cli_buf_free(&line);
  }
  for (i = 0; i < t.n; i++)
    render_section(&ts, t.s[i], max_width);
cleanup:
  for (i = 0; i < t.n; i++)
    free_section(t.s[i]);
  free(t.s);
  return rc;
}
