/* check.h - the CLI unit tests' output: "ok N - ..." lines, and a final
 * "N passed, M failed" with a non-zero exit status on failure (the
 * convention of tests/unit/testing.h, without its allocators, which the
 * CLI's pure code does not take). Header-only. */
#ifndef KMSCKS_TEST_CHECK_H
#define KMSCKS_TEST_CHECK_H

#include <stdio.h>
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

static int t_done(void)
{
  printf("%d passed, %d failed\n", t_count - t_failed, t_failed);
  return t_failed ? 1 : 0;
}

#endif
