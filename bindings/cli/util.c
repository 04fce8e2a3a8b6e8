/* util.c - memory, growable strings, UTF-8 helpers and the error line for
 * the kmscks CLI. Allocation failure ends the process (exit 255): a CLI
 * has nothing to roll back, and it keeps the parsers readable. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "cli.h"

/* {===== memory ===== */

static CLI_NORETURN void out_of_memory(void)
{
  static const char msg[] = "\nkmscks: out of memory\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(CLI_EXIT_OTHER);
}

void *cli_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    out_of_memory();
  return p;
}

void *cli_xcalloc(size_t n)
{
  void *p = calloc(1, n ? n : 1);
  if (p == NULL)
    out_of_memory();
  return p;
}

void *cli_xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (q == NULL)
    out_of_memory();
  return q;
}

char *cli_xstrndup(const char *s, size_t n)
{
  char *p = cli_xmalloc(n + 1);
  if (n)
    memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *cli_xstrdup(const char *s)
{
  return cli_xstrndup(s, strlen(s));
}

void cli_free_secret(void *p, size_t n)
{
  if (p == NULL)
    return;
  OPENSSL_cleanse(p, n);
  free(p);
}
/* }===== */

/* {===== growable strings ===== */

void cli_buf_init(cli_buf *b, int secret)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->secret = secret;
}

void cli_buf_free(cli_buf *b)
{
  if (b->data != NULL) {
    if (b->secret)
      cli_free_secret(b->data, b->cap);
    else
      free(b->data);
  }
  b->data = NULL;
  b->len = b->cap = 0;
}

void cli_buf_reset(cli_buf *b)
{
  if (b->data != NULL) {
    if (b->secret)
      OPENSSL_cleanse(b->data, b->cap);
    b->data[0] = '\0';
  }
  b->len = 0;
}

/* Makes room for n more bytes and the NUL. A secret buffer moves into a
 * fresh block and wipes the old one, so no copy is left behind. */
static void reserve(cli_buf *b, size_t n)
{
  size_t want = b->len + n + 1, cap = b->cap ? b->cap : 64;
  char *p;

  if (want <= b->cap)
    return;
  while (cap < want)
    cap *= 2;
  if (!b->secret) {
    b->data = cli_xrealloc(b->data, cap);
  } else {
    p = cli_xmalloc(cap);
    if (b->data != NULL) {
      memcpy(p, b->data, b->len);
      cli_free_secret(b->data, b->cap);
    }
    b->data = p;
  }
  b->cap = cap;
}

void cli_buf_add(cli_buf *b, const char *s, size_t n)
{
  reserve(b, n);
  if (n)
    memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void cli_buf_puts(cli_buf *b, const char *s)
{
  cli_buf_add(b, s, strlen(s));
}

void cli_buf_putc(cli_buf *b, char c)
{
  cli_buf_add(b, &c, 1);
}

void cli_buf_fill(cli_buf *b, char ch, size_t count)
{
  reserve(b, count);
  memset(b->data + b->len, ch, count);
  b->len += count;
  b->data[b->len] = '\0';
}

void cli_buf_printf(cli_buf *b, const char *fmt, ...)
{
  va_list ap;
  char probe[1];
  int n;

  if (fmt == NULL)    /* GCC's -fsanitize=undefined builds see a NULL path */
    return;
  va_start(ap, fmt);
  n = vsnprintf(probe, sizeof probe, fmt, ap);
  va_end(ap);
  if (n <= 0)
    return;
  reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

char *cli_buf_take(cli_buf *b, size_t *len)
{
  char *p;

  reserve(b, 0);
  p = b->data;
  if (len != NULL)
    *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

int cli_buf_write(const cli_buf *b, FILE *f)
{
  if (b->len == 0)
    return 0;
  return fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
}
/* }===== */

/* {===== UTF-8 ===== */

size_t cli_utf8_decode(const char *s, size_t n, unsigned long *cp)
{
  const unsigned char *u = (const unsigned char *)s;
  unsigned long c;
  size_t need, i;

  if (n == 0) {
    *cp = 0xFFFD;
    return 0;
  }
  if (u[0] < 0x80) {
    *cp = u[0];
    return 1;
  }
  if (u[0] >= 0xC2 && u[0] <= 0xDF) {
    need = 1;
    c = u[0] & 0x1F;
  } else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
    need = 2;
    c = u[0] & 0x0F;
  } else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
    need = 3;
    c = u[0] & 0x07;
  } else {
    *cp = 0xFFFD;
    return 1;
  }
  if (n < need + 1) {
    *cp = 0xFFFD;
    return 1;
  }
  for (i = 1; i <= need; i++) {
    if ((u[i] & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return 1;
    }
    c = (c << 6) | (u[i] & 0x3F);
  }
  /* overlong forms, surrogates and values past U+10FFFF are invalid */
  if ((need == 2 && c < 0x800) || (need == 3 && c < 0x10000) ||
      (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
    *cp = 0xFFFD;
    return 1;
  }
  *cp = c;
  return need + 1;
}

void cli_utf8_encode(cli_buf *b, unsigned long cp)
{
  char out[4];
  size_t n;

  if (cp < 0x80) {
    out[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  cli_buf_add(b, out, n);
}

size_t cli_utf8_count(const char *s, size_t n)
{
  size_t i = 0, count = 0;
  unsigned long cp;

  while (i < n) {
    i += cli_utf8_decode(s + i, n - i, &cp);
    count++;
  }
  return count;
}

int cli_utf8_valid(const char *s, size_t n)
{
  size_t i = 0, used;
  unsigned long cp;

  while (i < n) {
    used = cli_utf8_decode(s + i, n - i, &cp);
    if (cp == 0xFFFD && !(used == 3 &&
                          memcmp(s + i, "\xEF\xBF\xBD", 3) == 0))
      return 0;
    i += used;
  }
  return 1;
}
/* }===== */

/* {===== messages ===== */

void cli_error(const char *fmt, ...)
{
  va_list ap;

  fflush(stdout);
  fputc('\n', stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
}
/* }===== */
