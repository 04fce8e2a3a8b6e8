/* plugin_test.h - helpers for the C programs of tests/plugin: "ok N - ..."
 * lines and the final "N passed, M failed", loading kmscks.so through its
 * one entry point, and a thread-safe counting allocator. Header-only. */
#ifndef KMS_PLUGIN_TEST_H
#define KMS_PLUGIN_TEST_H

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kms/plugin.h"

static int t_passed, t_failed;
static pthread_mutex_t t_lock = PTHREAD_MUTEX_INITIALIZER;

#define OK(cond, ...)                                                     \
  do {                                                                    \
    int ok_ = (cond) ? 1 : 0;                                             \
    pthread_mutex_lock(&t_lock);                                          \
    if (ok_)                                                              \
      t_passed++;                                                         \
    else                                                                  \
      t_failed++;                                                         \
    printf("%sok %d - ", ok_ ? "" : "not ", t_passed + t_failed);         \
    printf(__VA_ARGS__);                                                  \
    printf("\n");                                                         \
    if (!ok_)                                                             \
      printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
    fflush(stdout);                                                       \
    pthread_mutex_unlock(&t_lock);                                        \
  } while (0)

/* The error's code is c and its message holds sub. */
#define ERR_IS(e, c, sub, ...)                                            \
  do {                                                                    \
    int m_ = (e).code == (c) && strstr((e).message, (sub)) != NULL;       \
    OK(m_, __VA_ARGS__);                                                  \
    if (!m_)                                                              \
      printf("#   got code %d (%s): '%s'; expected %d with '%s'\n",       \
             (e).code, (e).code_name, (e).message, (int)(c), (sub));     \
  } while (0)

static inline int t_summary(void)
{
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}

/* dlopens path and returns its entry point (NULL on failure, printed). */
static inline kms_plugin_entry_fn t_load(const char *path, void **dl)
{
  kms_plugin_entry_fn entry = NULL;
  *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!*dl) {
    printf("# dlopen %s: %s\n", path, dlerror());
    return NULL;
  }
  *(void **)&entry = dlsym(*dl, KMS_PLUGIN_ENTRY);
  if (!entry)
    printf("# dlsym: %s\n", dlerror());
  return entry;
}

/* A counting allocator (thread-safe): live blocks must be 0 at the end. */
typedef struct t_counter {
  pthread_mutex_t lock;
  long blocks;
  long calls;
} t_counter;

static inline void *t_count_alloc(void *ud, void *ptr, size_t osize,
                                  size_t nsize)
{
  t_counter *c = ud;
  void *p;
  (void)osize;
  if (nsize == 0) {
    if (ptr) {
      pthread_mutex_lock(&c->lock);
      c->blocks--;
      pthread_mutex_unlock(&c->lock);
      free(ptr);
    }
    return NULL;
  }
  p = realloc(ptr, nsize);
  if (p && !ptr) {
    pthread_mutex_lock(&c->lock);
    c->blocks++;
    c->calls++;
    pthread_mutex_unlock(&c->lock);
  }
  return p;
}

/* Number of threads of this process (/proc/self/status Threads:). */
static inline int t_threads(void)
{
  char line[256];
  int n = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Threads:", 8) == 0)
      n = atoi(line + 8);
  fclose(f);
  return n;
}

/* 1 when a mapping of this process has name in its path. */
static inline int t_mapped(const char *name)
{
  char line[1024];
  int found = 0;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (strstr(line, name))
      found = 1;
  fclose(f);
  return found;
}

#endif
