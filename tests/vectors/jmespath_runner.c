/* jmespath_runner.c - runs the JMESPath compliance suite (every *.json in
 * DIR: a list of {given, cases: [{expression, result | error}]}) through
 * kmsi_jmespath_search_ex on a counting allocator. Prints one line per
 * failure, one per file, and last "N passed, M failed"; exit 0 iff M == 0. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "jmespath.h"

/* Live blocks and bytes of the engine's allocations. */
typedef struct counter {
  long blocks;
  long bytes;
} counter;

static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  counter *c = ud;
  void *p;
  if (nsize == 0) {
    if (ptr) {
      c->blocks--;
      c->bytes -= (long)osize;
      free(ptr);
    }
    return NULL;
  }
  p = realloc(ptr, nsize);
  if (!p)
    return NULL;
  if (!ptr)
    c->blocks++;
  c->bytes += (long)nsize - (long)(ptr ? osize : 0);
  return p;
}

/* Deep equality of two JSON values: numbers as doubles, arrays in order,
 * objects as key sets (case-sensitive). */
static int same_json(const cJSON *a, const cJSON *b)
{
  const cJSON *x, *y;
  int n = 0;

  if ((a->type & 0xff) != (b->type & 0xff))
    return 0;
  if (cJSON_IsNumber(a))
    return a->valuedouble == b->valuedouble;
  if (cJSON_IsString(a))
    return strcmp(a->valuestring, b->valuestring) == 0;
  if (cJSON_IsArray(a)) {
    for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
      if (!same_json(x, y))
        return 0;
    return !x && !y;
  }
  if (cJSON_IsObject(a)) {
    for (x = a->child; x; x = x->next, n++) {
      y = cJSON_GetObjectItemCaseSensitive(b, x->string);
      if (!y || !same_json(x, y))
        return 0;
    }
    return n == cJSON_GetArraySize(b);
  }
  return 1;  /* null, true, false: the type said it all */
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;

  if (!f)
    return NULL;
  n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    }
    if (buf) {
      buf[n] = '\0';
      *len = (size_t)n;
    }
  }
  fclose(f);
  return buf;
}

typedef struct tally {
  int passed;
  int failed;
} tally;

/* Runs one case; returns 1 when it passes, printing why when not. */
static int run_case(const char *where, const char *given,
                    const cJSON *tcase)
{
  const cJSON *expr = cJSON_GetObjectItemCaseSensitive(tcase, "expression");
  const cJSON *want = cJSON_GetObjectItemCaseSensitive(tcase, "result");
  const cJSON *want_err = cJSON_GetObjectItemCaseSensitive(tcase, "error");
  const cJSON *bench = cJSON_GetObjectItemCaseSensitive(tcase, "bench");
  counter cnt = { 0, 0 };
  kmsi_allocator a;
  kms_buf out;
  kms_error err;
  kmsi_jp_errkind kind = KMSI_JPE_NONE;
  kms_status st;
  cJSON *got = NULL;
  int ok = 0;

  if (!cJSON_IsString(expr)) {
    printf("FAIL %s: case without an expression\n", where);
    return 0;
  }
  kmsi_allocator_init(&a, count_alloc, &cnt);
  memset(&err, 0, sizeof err);
  if (cJSON_IsString(bench) && strcmp(bench->valuestring, "parse") == 0) {
    st = kmsi_jmespath_check(expr->valuestring, &err, &kind);
    memset(&out, 0, sizeof out);
  } else {
    st = kmsi_jmespath_search_ex(&a, expr->valuestring, given,
                                 strlen(given), &out, &err, &kind);
  }
  if (cJSON_IsString(want_err)) {
    ok = st != KMS_OK &&
         strcmp(kmsi_jp_errkind_name(kind), want_err->valuestring) == 0;
    if (!ok)
      printf("FAIL %s: %s: expected error %s, got %s (%s: %s)\n", where,
             expr->valuestring, want_err->valuestring,
             st == KMS_OK ? out.data : kmsi_jp_errkind_name(kind),
             kms_strerror(st), st == KMS_OK ? "" : err.message);
  } else if (st != KMS_OK) {
    printf("FAIL %s: %s: unexpected error %s: %s\n", where,
           expr->valuestring, kmsi_jp_errkind_name(kind), err.message);
  } else if (!want) {
    ok = 1;  /* a benchmark: running without error is the test */
  } else {
    got = cJSON_Parse(out.data ? out.data : "");
    ok = got && same_json(got, want);
    if (!ok) {
      char *w = cJSON_PrintUnformatted(want);
      printf("FAIL %s: %s: expected %s, got %s\n", where, expr->valuestring,
             w ? w : "?", out.data ? out.data : "(nothing)");
      cJSON_free(w);
    }
  }
  kms_buf_free(&out);
  cJSON_Delete(got);
  if (cnt.blocks || cnt.bytes) {
    printf("FAIL %s: %s: leaked %ld blocks, %ld bytes\n", where,
           expr->valuestring, cnt.blocks, cnt.bytes);
    ok = 0;
  }
  return ok;
}

/* Runs every case of one file into t; a file that can't be read or
 * parsed counts as one failure. */
static void run_file(const char *dir, const char *name, tally *t)
{
  char path[4096], where[512];
  char *text, *given;
  size_t len = 0;
  cJSON *doc;
  const cJSON *suite, *tcase;
  int si = 0, ci, passed = 0, failed = 0;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  text = read_file(path, &len);
  doc = text ? cJSON_ParseWithLength(text, len) : NULL;
  free(text);
  if (!cJSON_IsArray(doc)) {
    printf("FAIL %s: cannot read the suite\n", path);
    t->failed++;
    cJSON_Delete(doc);
    return;
  }
  cJSON_ArrayForEach(suite, doc) {
    given = cJSON_PrintUnformatted(
        cJSON_GetObjectItemCaseSensitive(suite, "given"));
    ci = 0;
    cJSON_ArrayForEach(tcase,
                       cJSON_GetObjectItemCaseSensitive(suite, "cases")) {
      snprintf(where, sizeof where, "%s#%d.%d", name, si, ci);
      if (given && run_case(where, given, tcase))
        passed++;
      else
        failed++;
      ci++;
    }
    cJSON_free(given);
    si++;
  }
  cJSON_Delete(doc);
  printf("# %s: %d passed, %d failed\n", name, passed, failed);
  t->passed += passed;
  t->failed += failed;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
  tally t = { 0, 0 };
  DIR *d;
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0, i, l;

  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  d = opendir(argv[1]);
  if (!d) {
    printf("FAIL %s: cannot open the directory\n", argv[1]);
    t.failed++;
  }
  for (e = d ? readdir(d) : NULL; e; e = readdir(d)) {
    l = strlen(e->d_name);
    if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
      continue;
    if (n == cap) {
      char **p;
      cap = cap ? cap * 2 : 32;
      p = realloc(names, cap * sizeof *names);
      if (!p)
        return 1;
      names = p;
    }
    names[n] = malloc(l + 1);
    if (!names[n])
      return 1;
    memcpy(names[n++], e->d_name, l + 1);
  }
  if (d)
    closedir(d);
  if (n)
    qsort(names, n, sizeof *names, by_name);
  for (i = 0; i < n; i++) {
    run_file(argv[1], names[i], &t);
    free(names[i]);
  }
  free(names);
  if (t.passed + t.failed == 0) {
    printf("FAIL %s: no cases found\n", argv[1]);
    t.failed++;
  }
  printf("%d passed, %d failed\n", t.passed, t.failed);
  return t.failed ? 1 : 0;
}
