/* sigv4_runner.c - runs the SigV4 test suite (aws-c-auth's layout: one
 * folder per case) against kms_sign: both variants (Authorization header
 * and presigned query), every stage (canonical request, string to sign,
 * signature, signed request). Usage: sigv4_runner DIR [CASE...]
 * Prints "ok - case" or "not ok - case (variant stage)" and, last,
 * "N passed, M failed" counting cases; exits 0 only when none failed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cJSON.h>
#include "internal.h"

static char *slurp(const char *dir, const char *name, size_t *len)
{
  char path[4096];
  FILE *f;
  char *buf = NULL;
  long n;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    }
    if (buf) {
      buf[n] = '\0';
      if (len)
        *len = (size_t)n;
    }
  }
  fclose(f);
  return buf;
}

/* Prints the first difference of two texts as a comment. */
static void show_diff(const char *what, const char *got, const char *want)
{
  size_t i = 0;
  while (got[i] && got[i] == want[i])
    i++;
  printf("#   %s differs at byte %zu\n#   got:\n%s\n#   expected:\n%s\n",
         what, i, got, want);
}

typedef struct kv {
  char *name; /* lower-cased */
  const char *value;
} kv;

static int kv_cmp(const void *pa, const void *pb)
{
  const kv *a = pa, *b = pb;
  int c = strcmp(a->name, b->name);
  return c ? c : strcmp(a->value, b->value);
}

/* Headers as a sorted list of (lower-case name, value) so the comparison
 * ignores where the signer put the headers it added; values compare with
 * their surrounding whitespace trimmed (request.txt writes
 * "My-Header1: value1", the parser trims it). */
static kv *header_list(const kms_http *m, size_t *n)
{
  size_t i, k;
  kv *l;
  *n = kms_http_header_count(m);
  l = calloc(*n + 1, sizeof *l);
  for (i = 0; l && i < *n; i++) {
    const char *name, *value;
    kms_http_header_at(m, i, &name, &value);
    l[i].name = strdup(name);
    for (k = 0; l[i].name[k]; k++)
      if (l[i].name[k] >= 'A' && l[i].name[k] <= 'Z')
        l[i].name[k] = (char)(l[i].name[k] - 'A' + 'a');
    l[i].value = value;
  }
  if (l)
    qsort(l, *n, sizeof *l, kv_cmp);
  return l;
}

static void free_list(kv *l, size_t n)
{
  size_t i;
  for (i = 0; l && i < n; i++)
    free(l[i].name);
  free(l);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The request target with its query parameters sorted (the order in
 * which a signer appends X-Amz-* parameters is free). */
static char *sorted_target(const char *target)
{
  char *copy = strdup(target), *q, *out, *save = NULL, *tok;
  char *parts[256];
  size_t n = 0, i, len = strlen(target) + 2;

  q = strchr(copy, '?');
  out = calloc(1, len);
  if (!q) {
    strcpy(out, copy);
    free(copy);
    return out;
  }
  *q++ = '\0';
  for (tok = strtok_r(q, "&", &save); tok && n < 256;
       tok = strtok_r(NULL, "&", &save))
    parts[n++] = tok;
  qsort(parts, n, sizeof *parts, cmp_str);
  strcpy(out, copy);
  strcat(out, "?");
  for (i = 0; i < n; i++) {
    if (i)
      strcat(out, "&");
    strcat(out, parts[i]);
  }
  free(copy);
  return out;
}

/* Compares our signed message with the expected signed-request text. */
static int same_request(const kms_http *got, const char *want_text,
                        size_t want_len)
{
  kms_http *want = NULL;
  kms_error err;
  kv *a = NULL, *b = NULL;
  size_t na = 0, nb = 0, i, la, lb;
  char *ta = NULL, *tb = NULL;
  const char *ba, *bb;
  int ok = 0;

  if (kmsi_http_from_text(want_text, want_len, NULL, NULL, &want, &err) !=
      KMS_OK) {
    printf("#   cannot parse the expected signed request: %s\n",
           err.message);
    return 0;
  }
  if (strcmp(kms_http_method(got), kms_http_method(want)) != 0) {
    printf("#   method %s != %s\n", kms_http_method(got),
           kms_http_method(want));
    goto cleanup;
  }
  ta = sorted_target(kms_http_target(got));
  tb = sorted_target(kms_http_target(want));
  if (strcmp(ta, tb) != 0) {
    show_diff("target", ta, tb);
    goto cleanup;
  }
  a = header_list(got, &na);
  b = header_list(want, &nb);
  if (na != nb) {
    printf("#   %zu headers, expected %zu\n", na, nb);
    goto cleanup;
  }
  for (i = 0; i < na; i++)
    if (strcmp(a[i].name, b[i].name) != 0 ||
        strcmp(a[i].value, b[i].value) != 0) {
      printf("#   header %s: %s\n#   expected %s: %s\n", a[i].name,
             a[i].value, b[i].name, b[i].value);
      goto cleanup;
    }
  ba = kms_http_body(got, &la);
  bb = kms_http_body(want, &lb);
  if (la != lb || memcmp(ba, bb, la) != 0) {
    printf("#   body differs\n");
    goto cleanup;
  }
  ok = 1;
cleanup:
  free(ta);
  free(tb);
  free_list(a, na);
  free_list(b, nb);
  kms_http_free(want);
  return ok;
}

static int json_bool(const cJSON *o, const char *name)
{
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static const char *json_str(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Extracts the hex signature from Authorization or X-Amz-Signature. */
static void signature_of(const kms_http *m, int query, char out[65])
{
  const char *p = NULL;
  out[0] = '\0';
  if (query) {
    p = strstr(kms_http_target(m), "X-Amz-Signature=");
    if (p)
      p += 16;
  } else {
    const char *auth = kms_http_header(m, "Authorization");
    p = auth ? strstr(auth, "Signature=") : NULL;
    if (p)
      p += 10;
  }
  if (p) {
    snprintf(out, 65, "%s", p);
    out[strcspn(out, "&, ")] = '\0';
  }
}

/* One variant ("header" or "query") of one case; returns NULL when every
 * stage passes, else the name of the first failing stage. */
static const char *run_variant(const char *dir, const char *variant,
                               const char *req, size_t req_len,
                               const kms_credentials *cred,
                               const kms_sign_params *params,
                               kms_signer *signer)
{
  static char stage[64];
  char name[128], sig[65], sig2[65];
  char *want_creq = NULL, *want_sts = NULL, *want_sig = NULL;
  char *want_req = NULL;
  size_t want_req_len = 0;
  kms_buf creq = {0}, sts = {0};
  kms_http *m = NULL, *m2 = NULL;
  kms_error err;
  const char *failed = NULL;

  memset(&err, 0, sizeof err);
#define LOAD(var, suffix, lenp)                                           \
  do {                                                                    \
    snprintf(name, sizeof name, "%s-%s", variant, suffix);                \
    var = slurp(dir, name, lenp);                                         \
  } while (0)
  LOAD(want_creq, "canonical-request.txt", NULL);
  LOAD(want_sts, "string-to-sign.txt", NULL);
  LOAD(want_sig, "signature.txt", NULL);
  LOAD(want_req, "signed-request.txt", &want_req_len);
#undef LOAD
  snprintf(stage, sizeof stage, "%s files", variant);
  if (!want_creq || !want_sts || !want_sig || !want_req) {
    failed = stage;
    goto cleanup;
  }
  want_sig[strcspn(want_sig, " \r\n")] = '\0';

  snprintf(stage, sizeof stage, "%s request.txt", variant);
  if (kmsi_http_from_text(req, req_len, NULL, NULL, &m, &err) != KMS_OK ||
      kmsi_http_from_text(req, req_len, NULL, NULL, &m2, &err) != KMS_OK) {
    printf("#   %s\n", err.message);
    failed = stage;
    goto cleanup;
  }

  snprintf(stage, sizeof stage, "%s canonical request", variant);
  if (kms_sign_debug(m, cred, params, &creq, &sts, &err) != KMS_OK) {
    printf("#   %s\n", err.message);
    failed = stage;
    goto cleanup;
  }
  if (strcmp(creq.data, want_creq) != 0) {
    show_diff(stage, creq.data, want_creq);
    failed = stage;
    goto cleanup;
  }
  snprintf(stage, sizeof stage, "%s string to sign", variant);
  if (strcmp(sts.data, want_sts) != 0) {
    show_diff(stage, sts.data, want_sts);
    failed = stage;
    goto cleanup;
  }

  /* With the signer (key cache) and without one: same signature. */
  snprintf(stage, sizeof stage, "%s signature", variant);
  if (kms_sign(signer, m, cred, params, &err) != KMS_OK ||
      kms_sign(NULL, m2, cred, params, &err) != KMS_OK) {
    printf("#   %s\n", err.message);
    failed = stage;
    goto cleanup;
  }
  signature_of(m, params->flags & KMS_SIGN_QUERY, sig);
  signature_of(m2, params->flags & KMS_SIGN_QUERY, sig2);
  if (strcmp(sig, want_sig) != 0 || strcmp(sig2, want_sig) != 0) {
    printf("#   got %s / %s, expected %s\n", sig, sig2, want_sig);
    failed = stage;
    goto cleanup;
  }

  snprintf(stage, sizeof stage, "%s signed request", variant);
  if (!same_request(m, want_req, want_req_len))
    failed = stage;
cleanup:
  kms_buf_free(&creq);
  kms_buf_free(&sts);
  kms_http_free(m);
  kms_http_free(m2);
  free(want_creq);
  free(want_sts);
  free(want_sig);
  free(want_req);
  return failed;
}

/* Runs one case folder; returns 1 when it passes. */
static int run_case(const char *root, const char *name, kms_signer *signer)
{
  char dir[4096];
  char *ctx_text = NULL, *req = NULL;
  size_t req_len = 0;
  cJSON *ctx = NULL;
  const cJSON *c;
  kms_credentials *cred = NULL;
  kms_sign_params params;
  kms_error err;
  struct tm tm;
  const char *ts, *failed = NULL;
  const cJSON *exp;

  memset(&params, 0, sizeof params);
  memset(&tm, 0, sizeof tm);
  snprintf(dir, sizeof dir, "%s/%s", root, name);
  ctx_text = slurp(dir, "context.json", NULL);
  req = slurp(dir, "request.txt", &req_len);
  ctx = ctx_text ? cJSON_Parse(ctx_text) : NULL;
  c = cJSON_GetObjectItemCaseSensitive(ctx, "credentials");
  ts = json_str(ctx, "timestamp");
  if (!ctx || !req || !c || !ts ||
      sscanf(ts, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    failed = "context";
    goto cleanup;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  params.time = timegm(&tm);
  params.region = json_str(ctx, "region");
  params.service = json_str(ctx, "service");
  exp = cJSON_GetObjectItemCaseSensitive(ctx, "expiration_in_seconds");
  params.expires = cJSON_IsNumber(exp) ? (long)exp->valuedouble : 0;
  if (json_bool(ctx, "normalize"))
    params.flags |= KMS_SIGN_NORMALIZE_PATH;
  if (json_bool(ctx, "sign_body"))
    params.flags |= KMS_SIGN_BODY_HEADER;
  if (json_bool(ctx, "omit_session_token"))
    params.flags |= KMS_SIGN_OMIT_TOKEN;
  cred = kms_credentials_new(json_str(c, "access_key_id"),
                             json_str(c, "secret_access_key"),
                             json_str(c, "token"), 0, NULL, NULL, &err);
  if (!cred || !params.region || !params.service) {
    failed = "context";
    goto cleanup;
  }
  failed = run_variant(dir, "header", req, req_len, cred, &params, signer);
  if (!failed) {
    params.flags |= KMS_SIGN_QUERY;
    failed = run_variant(dir, "query", req, req_len, cred, &params, signer);
  }
cleanup:
  if (failed)
    printf("not ok - %s (%s)\n", name, failed);
  else
    printf("ok - %s\n", name);
  kms_credentials_free(cred);
  cJSON_Delete(ctx);
  free(ctx_text);
  free(req);
  return failed == NULL;
}

static int cmp_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
  DIR *d;
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0, i;
  int passed = 0, failed = 0;
  kms_signer *signer;
  kms_error err;

  if (argc < 2) {
    fprintf(stderr, "usage: sigv4_runner DIR [CASE...]\n");
    return 2;
  }
  signer = kms_signer_new(NULL, NULL, NULL, NULL, &err);
  if (!signer) {
    fprintf(stderr, "sigv4_runner: %s\n", err.message);
    return 1;
  }
  if (argc > 2) {
    for (i = 2; i < (size_t)argc; i++)
      run_case(argv[1], argv[i], signer) ? passed++ : failed++;
  } else {
    d = opendir(argv[1]);
    if (!d) {
      fprintf(stderr, "sigv4_runner: cannot open %s\n", argv[1]);
      kms_signer_free(signer);
      return 1;
    }
    while ((e = readdir(d)) != NULL) {
      char probe[4096];
      FILE *f;
      if (e->d_name[0] == '.')
        continue;
      snprintf(probe, sizeof probe, "%s/%s/context.json", argv[1],
               e->d_name);
      f = fopen(probe, "r");
      if (!f)
        continue;
      fclose(f);
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        names = realloc(names, cap * sizeof *names);
      }
      names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_name);
    for (i = 0; i < n; i++) {
      run_case(argv[1], names[i], signer) ? passed++ : failed++;
      free(names[i]);
    }
    free(names);
  }
  kms_signer_free(signer);
  printf("%d passed, %d failed\n", passed, failed);
  return failed || passed == 0 ? 1 : 0;
}
