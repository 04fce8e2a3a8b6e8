/* buf.c - growable byte buffers. A secret buffer never leaves a copy of
 * its bytes behind: growth moves into a new block and wipes the old one,
 * and freeing wipes. */
#include <stdio.h>
#include <string.h>
#include "internal.h"

void kmsi_buf_init(kms_buf *b, const kmsi_allocator *a, int secret)
{
  memset(b, 0, sizeof *b);
  b->alloc = a ? a->fn : kmsi_default_alloc;
  b->alloc_ud = a ? a->ud : NULL;
  b->secret = secret;
}

static kmsi_allocator buf_allocator(const kms_buf *b)
{
  kmsi_allocator a;
  kmsi_allocator_init(&a, b->alloc, b->alloc_ud);
  return a;
}

kms_status kmsi_buf_reserve(kms_buf *b, size_t n)
{
  kmsi_allocator a = buf_allocator(b);
  size_t need, cap;
  char *p;

  if (n > (size_t)-1 - b->len - 1)
    return KMS_ERR_NOMEM;
  need = b->len + n + 1;
  if (need <= b->cap)
    return KMS_OK;
  cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > (size_t)-1 / 2 ? need : cap * 2;
  p = kmsi_malloc(&a, cap);
  if (!p)
    return KMS_ERR_NOMEM;
  if (b->data) {
    memcpy(p, b->data, b->len + 1);
    if (b->secret)
      kmsi_free_secret(&a, b->data, b->cap);
    else
      kmsi_free(&a, b->data, b->cap);
  } else {
    p[0] = '\0';
  }
  b->data = p;
  b->cap = cap;
  return KMS_OK;
}

kms_status kmsi_buf_append(kms_buf *b, const void *data, size_t n)
{
  kms_status st = kmsi_buf_reserve(b, n);
  if (st != KMS_OK)
    return st;
  if (n)
    memcpy(b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = '\0';
  return KMS_OK;
}

kms_status kmsi_buf_puts(kms_buf *b, const char *s)
{
  return kmsi_buf_append(b, s, strlen(s));
}

kms_status kmsi_buf_putc(kms_buf *b, char c)
{
  return kmsi_buf_append(b, &c, 1);
}

kms_status kmsi_buf_printf(kms_buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  kms_status st;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return KMS_ERR_INVALID_ARG;
  st = kmsi_buf_reserve(b, (size_t)n);
  if (st != KMS_OK)
    return st;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return KMS_OK;
}

kms_status kmsi_buf_hex(kms_buf *b, const unsigned char *data, size_t n)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;
  kms_status st = kmsi_buf_reserve(b, 2 * n);
  if (st != KMS_OK)
    return st;
  for (i = 0; i < n; i++) {
    b->data[b->len++] = digits[data[i] >> 4];
    b->data[b->len++] = digits[data[i] & 15];
  }
  b->data[b->len] = '\0';
  return KMS_OK;
}

void kmsi_buf_reset(kms_buf *b)
{
  if (b->data) {
    if (b->secret)
      kmsi_wipe(b->data, b->len);
    b->data[0] = '\0';
  }
  b->len = 0;
}

void kms_buf_free(kms_buf *b)
{
  kmsi_allocator a;
  if (!b || !b->data)
    return;
  a = buf_allocator(b);
  if (b->secret)
    kmsi_free_secret(&a, b->data, b->cap);
  else
    kmsi_free(&a, b->data, b->cap);
  b->data = NULL;
  b->len = b->cap = 0;
}
