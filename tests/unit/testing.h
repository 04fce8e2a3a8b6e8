/* testing.h - the unit tests' harness: "ok N - ..." lines, a counting
 * allocator that fails the test on leaks, and one that can fail the Nth
 * allocation (for the allocation-failure sweeps). Header-only. */
#ifndef KMS_TESTING_H
#define KMS_TESTING_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_count, t_failed;

#define OK(cond, ...)                                                     \
  do {                                                                    \
    int ok_ = (cond) ? 1 : 0;                                             \
    t_count++;                                                            \
    if (!ok_)                                                             \
      t_failed++;                                                         \
    printf("%sok %d - ", ok_ ? "" : "not ", t_count);                     \
    printf(__VA_ARGS__);                                                  \
    printf("\n");                                                         \
    if (!ok_)                                                             \
      printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
  } while (0)

#define EQ_STR(a, b, ...)                                                 \
  do {                                                                    \
    const char *ea_ = (a), *eb_ = (b);                                    \
    int same_ = ea_ && eb_ && strcmp(ea_, eb_) == 0;                      \
    OK(same_, __VA_ARGS__);                                               \
    if (!same_)                                                           \
      printf("#   got:      '%s'\n#   expected: '%s'\n",                  \
             ea_ ? ea_ : "(null)", eb_ ? eb_ : "(null)");                 \
  } while (0)

/* Counting allocator: live bytes and blocks; fail_at > 0 makes that
 * allocation (1-based) return NULL. */
typedef struct t_alloc_state {
  long blocks;
  long bytes;
  long calls;
  long fail_at;
} t_alloc_state;

static inline void *t_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  t_alloc_state *s = ud;
  if (nsize == 0) {
    if (ptr) {
      s->blocks--;
      s->bytes -= (long)osize;
      free(ptr);
    }
    return NULL;
  }
  s->calls++;
  if (s->fail_at && s->calls == s->fail_at)
    return NULL;
  {
    void *p = realloc(ptr, nsize);
    if (!p)
      return NULL;
    if (!ptr)
      s->blocks++;
    s->bytes += (long)nsize - (long)(ptr ? osize : 0);
    return p;
  }
}

/* A scanning allocator over t_alloc: every freed block is searched for the
 * test's secrets (t_scan.needles, plus an optional 32-byte binary key), so
 * a test can assert that nothing was freed without being wiped. New bytes
 * start zeroed so the scan never reads undefined memory. On a hit it
 * prints which needle (its index), never the secret itself. */
static struct t_scan_state {
  const char *needles[8];
  size_t count;
  const unsigned char *key;   /* 32 binary bytes, or NULL */
  int leaked;
} t_scan __attribute__((unused));

/* memmem is a GNU extension: a portable search. */
static inline int t_contains(const void *hay, size_t n, const void *needle,
                             size_t k)
{
  size_t i;
  for (i = 0; k && i + k <= n; i++)
    if (memcmp((const char *)hay + i, needle, k) == 0)
      return 1;
  return 0;
}

static inline void *t_scan_alloc(void *ud, void *ptr, size_t osize,
                                 size_t nsize)
{
  size_t i;
  char *p;
  if (nsize == 0 && ptr) {
    for (i = 0; i < t_scan.count; i++) {
      size_t n = strlen(t_scan.needles[i]);
      if (osize >= n && t_contains(ptr, osize, t_scan.needles[i], n)) {
        printf("#   freed block still holds secret #%zu\n", i);
        t_scan.leaked++;
      }
    }
    if (t_scan.key && osize >= 32 && t_contains(ptr, osize, t_scan.key, 32)) {
      printf("#   freed block still holds the signing key\n");
      t_scan.leaked++;
    }
  }
  p = t_alloc(ud, ptr, osize, nsize);
  if (p && nsize > (ptr ? osize : 0))
    memset(p + (ptr ? osize : 0), 0, nsize - (ptr ? osize : 0));
  return p;
}

static inline int t_done(void)
{
  printf("%d passed, %d failed\n", t_count - t_failed, t_failed);
  return t_failed ? 1 : 0;
}

#endif
