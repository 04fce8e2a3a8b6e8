/* alloc.c - the per-object allocator and the wipe-before-free primitive.
 * kmscks never changes a process-wide allocator: it is a guest in Lua,
 * collectd and other hosts. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "internal.h"

void *kmsi_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

void kmsi_allocator_init(kmsi_allocator *a, kms_alloc_fn fn, void *ud)
{
  a->fn = fn ? fn : kmsi_default_alloc;
  a->ud = fn ? ud : NULL;
}

void *kmsi_malloc(const kmsi_allocator *a, size_t n)
{
  return a->fn(a->ud, NULL, 0, n ? n : 1);
}

void *kmsi_calloc(const kmsi_allocator *a, size_t n)
{
  void *p = kmsi_malloc(a, n);
  if (p)
    memset(p, 0, n ? n : 1);
  return p;
}

void kmsi_free(const kmsi_allocator *a, void *p, size_t n)
{
  if (p)
    a->fn(a->ud, p, n ? n : 1, 0);
}

void kmsi_wipe(void *p, size_t n)
{
  if (p && n)
    OPENSSL_cleanse(p, n);
}

void kmsi_free_secret(const kmsi_allocator *a, void *p, size_t n)
{
  if (!p)
    return;
  kmsi_wipe(p, n ? n : 1);
  kmsi_free(a, p, n);
}

char *kmsi_strndup(const kmsi_allocator *a, const char *s, size_t len)
{
  char *p = kmsi_malloc(a, len + 1);
  if (!p)
    return NULL;
  if (len)
    memcpy(p, s, len);
  p[len] = '\0';
  return p;
}
