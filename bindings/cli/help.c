/* help.c - `kmscks update-custom-key-store help`: renders the installed
 * man page (kmscks-update-custom-key-store.1, embedded at build time) as
 * plain text in the layout `aws ... help` prints, with a renderer for the
 * small part of man(7) that page uses; and the short top-level help. */
#include <string.h>
#include "cli.h"
#include "manpage.h"

#define PAGE_WIDTH 78
#define SECTION_INDENT 7
#define TAG_INDENT 4       /* body of a .TP below its tag */

typedef struct render {
  cli_buf *out;
  cli_buf words;          /* the paragraph being filled */
  int base;               /* indent of paragraphs (.PP) */
  int indent;             /* indent of the text being filled */
  int rs_stack[8];
  int rs_depth;
  int nofill;
  int tag_next;           /* the next text line is a .TP tag */
  int need_space;         /* a blank line before the next output */
  int started;
} render;

/* Inline escapes: fonts dropped, \- \e \(aq \(bu \& spelled out. */
static void unescape(const char *s, size_t n, cli_buf *out)
{
  size_t i = 0;

  while (i < n) {
    if (s[i] != '\\' || i + 1 >= n) {
      cli_buf_putc(out, s[i++]);
      continue;
    }
    switch (s[i + 1]) {
    case 'f':
      i += 3;             /* \fB \fI \fR \fP */
      break;
    case '-':
      cli_buf_putc(out, '-');
      i += 2;
      break;
    case 'e':
      cli_buf_putc(out, '\\');
      i += 2;
      break;
    case '&':
      i += 2;
      break;
    case ' ':
      cli_buf_putc(out, ' ');
      i += 2;
      break;
    case '(':
      if (i + 3 < n && strncmp(s + i + 2, "aq", 2) == 0)
        cli_buf_putc(out, '\'');
      else if (i + 3 < n && strncmp(s + i + 2, "bu", 2) == 0)
        cli_buf_putc(out, 'o');
      i += 4;
      break;
    default:
      cli_buf_putc(out, s[i + 1]);
      i += 2;
    }
  }
}

static void space_if_needed(render *r)
{
  if (r->need_space && r->started)
    cli_buf_putc(r->out, '\n');
  r->need_space = 0;
  r->started = 1;
}

/* Writes the filled paragraph, words wrapped at PAGE_WIDTH. */
static void flush(render *r)
{
  size_t i = 0, n = r->words.len, col = 0, wl;
  const char *w = r->words.data;

  if (n == 0)
    return;
  space_if_needed(r);
  while (i < n) {
    while (i < n && w[i] == ' ')
      i++;
    wl = 0;
    while (i + wl < n && w[i + wl] != ' ')
      wl++;
    if (wl == 0)
      break;
    if (col > 0 && col + 1 + wl > PAGE_WIDTH) {
      cli_buf_putc(r->out, '\n');
      col = 0;
    }
    if (col == 0) {
      cli_buf_fill(r->out, ' ', (size_t)r->indent);
      col = (size_t)r->indent;
    } else {
      cli_buf_putc(r->out, ' ');
      col++;
    }
    cli_buf_add(r->out, w + i, wl);
    col += wl;
    i += wl;
  }
  cli_buf_putc(r->out, '\n');
  cli_buf_reset(&r->words);
}

static void text_line(render *r, const char *s, size_t n)
{
  cli_buf line;

  cli_buf_init(&line, 0);
  unescape(s, n, &line);
  if (r->nofill) {
    space_if_needed(r);
    if (line.len > 0)
      cli_buf_fill(r->out, ' ', (size_t)r->indent);
    cli_buf_add(r->out, line.data ? line.data : "", line.len);
    cli_buf_putc(r->out, '\n');
  } else if (r->tag_next) {
    space_if_needed(r);
    cli_buf_fill(r->out, ' ', (size_t)r->base);
    cli_buf_add(r->out, line.data ? line.data : "", line.len);
    cli_buf_putc(r->out, '\n');
    r->tag_next = 0;
    r->indent = r->base + TAG_INDENT;
  } else if (line.len == 0) {
    flush(r);
    r->need_space = 1;
  } else {
    if (r->words.len > 0)
      cli_buf_putc(&r->words, ' ');
    cli_buf_add(&r->words, line.data, line.len);
  }
  cli_buf_free(&line);
}

static void request(render *r, const char *s, size_t n)
{
  char name[4] = "";
  size_t k = 0;
  const char *arg;
  cli_buf text;
  int gap;

  while (k + 1 < n && k < 3 && s[k + 1] != ' ') {
    name[k] = s[k + 1];
    k++;
  }
  name[k] = '\0';
  arg = s + 1 + k;
  while (arg < s + n && *arg == ' ')
    arg++;
  if (strcmp(name, "\\\"") == 0 || (name[0] == '\\' && name[1] == '"'))
    return;                                   /* comment */
  flush(r);
  if (strcmp(name, "TH") == 0) {
    /* "NAME(SECTION)" at both ends of the first line */
    const char *end = s + n, *sp = memchr(arg, ' ', (size_t)(end - arg));
    const char *sec = sp != NULL ? sp + 1 : end, *sec_end;
    cli_buf_init(&text, 0);
    unescape(arg, (size_t)((sp != NULL ? sp : end) - arg), &text);
    sec_end = memchr(sec, ' ', (size_t)(end - sec));
    cli_buf_putc(&text, '(');
    cli_buf_add(&text, sec, (size_t)((sec_end != NULL ? sec_end : end) - sec));
    cli_buf_putc(&text, ')');
    gap = PAGE_WIDTH - 2 * (int)text.len;
    cli_buf_add(r->out, text.data, text.len);
    cli_buf_fill(r->out, ' ', gap > 0 ? (size_t)gap : 1);
    cli_buf_add(r->out, text.data, text.len);
    cli_buf_puts(r->out, "\n\n\n");
    cli_buf_free(&text);
  } else if (strcmp(name, "SH") == 0) {
    r->need_space = 1;
    space_if_needed(r);
    cli_buf_init(&text, 0);
    unescape(arg, (size_t)(s + n - arg), &text);
    cli_buf_add(r->out, text.data ? text.data : "", text.len);
    cli_buf_putc(r->out, '\n');
    cli_buf_free(&text);
    r->base = r->indent = SECTION_INDENT;
    r->rs_depth = 0;
    r->nofill = 0;
    r->started = 0;       /* no blank line right under the heading */
  } else if (strcmp(name, "PP") == 0) {
    r->need_space = 1;
    r->indent = r->base;
  } else if (strcmp(name, "TP") == 0) {
    r->need_space = 1;
    r->tag_next = 1;
  } else if (strcmp(name, "IP") == 0) {
    r->need_space = 1;
    r->indent = r->base + TAG_INDENT;
  } else if (strcmp(name, "RS") == 0) {
    if (r->rs_depth < 8)
      r->rs_stack[r->rs_depth++] = r->base;
    r->base = r->indent;
  } else if (strcmp(name, "RE") == 0) {
    if (r->rs_depth > 0)
      r->base = r->rs_stack[--r->rs_depth];
    r->indent = r->base + TAG_INDENT;
  } else if (strcmp(name, "nf") == 0) {
    r->nofill = 1;
  } else if (strcmp(name, "fi") == 0) {
    r->nofill = 0;
  }
}

/* Renders a man page (the subset of man(7) kmscks' page uses) as plain
 * text in the layout of `aws ... help`. */
static void help_render(const char *page, size_t n, cli_buf *out)
{
  render r;
  size_t i = 0, e;

  memset(&r, 0, sizeof r);
  r.out = out;
  cli_buf_init(&r.words, 0);
  r.base = r.indent = SECTION_INDENT;
  while (i < n) {
    e = i;
    while (e < n && page[e] != '\n')
      e++;
    if (e > i && page[i] == '.')
      request(&r, page + i, e - i);
    else
      text_line(&r, page + i, e - i);
    i = e + 1;
  }
  flush(&r);
  cli_buf_free(&r.words);
}

int cli_help_print(FILE *out)
{
  cli_buf b;
  int rc;

  cli_buf_init(&b, 0);
  help_render(cli_manpage, sizeof cli_manpage - 1, &b);
  rc = cli_buf_write(&b, out);
  cli_buf_free(&b);
  return rc;
}

int cli_help_top(FILE *out)
{
  static const char text[] =
      "kmscks - build, validate, sign and send AWS KMS custom key store\n"
      "updates\n\n"
      "usage: kmscks [options] <command> [parameters]\n\n"
      "Commands:\n"
      "  update-custom-key-store   the AWS CLI's "
      "`aws kms update-custom-key-store`\n"
      "  help                      this text\n\n"
      "Run `kmscks update-custom-key-store help` for the manual.\n";

  return fputs(text, out) == EOF ? -1 : 0;
}
