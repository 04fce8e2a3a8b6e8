/* jmespath_func.c - the JMESPath built-in functions: their signatures
 * (checked for arity when an expression compiles and for types when it
 * runs, with the spec's invalid-arity / invalid-type errors) and their
 * bodies, following jmespath.py where the spec leaves room. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jmespath.h"

#define T(x) (1u << KMSI_JP_##x)
#define T_ANY 0u

/* One parameter: the allowed types (0: any) and, for arrays, the allowed
 * element types. With one element type every element must have it; with
 * several, the first element chooses and the others must follow. */
typedef struct param {
  unsigned types;
  unsigned elems;
  const char *expect;      /* for messages, in jmespath.py's words */
} param;

typedef struct kmsi_jp_func kmsi_jp_func;

typedef kmsi_jp_value *(*func_body)(kmsi_jp_ctx *ctx,
                                    kmsi_jp_value **args, size_t nargs);

struct kmsi_jp_func {
  const char *name;
  size_t nparams;          /* exact count, or the minimum if variadic */
  int variadic;            /* extra arguments follow the last param */
  param params[2];
  func_body body;
};

/* {===== helpers ===== */

/* Records an invalid-type error naming the function, the value (as
 * truncated JSON) and its type. */
static void type_error(kmsi_jp_ctx *ctx, const char *fn,
                       const kmsi_jp_value *v, const char *expect)
{
  kmsi_jp_ctx quiet = *ctx;   /* rendering must not record its own error */
  kms_buf b;
  size_t cut;

  quiet.err = NULL;
  kmsi_buf_init(&b, &ctx->alloc, 0);
  if (v->type == KMSI_JP_EXPREF ||
      kmsi_jp_to_json(&quiet, v, 0, &b) != KMS_OK || !b.data) {
    kmsi_buf_reset(&b);
    kmsi_buf_puts(&b, "<expression>");
  }
  cut = b.len;
  if (cut > 80) {
    /* shorten on a character boundary */
    cut = 80;
    while (cut && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
      cut--;
  }
  kmsi_jp_fail(ctx, KMSI_JPE_INVALID_TYPE,
               "In function %s(), invalid type for value: %.*s%s, "
               "expected one of: %s, received: \"%s\"", fn, (int)cut,
               b.data ? b.data : "?", b.len > cut ? "..." : "", expect,
               kmsi_jp_type_name(v->type));
  kms_buf_free(&b);
}

static int check_param(kmsi_jp_ctx *ctx, const kmsi_jp_func *fn,
                       const param *pm, const kmsi_jp_value *v)
{
  unsigned want;
  size_t i;

  /* "any" is any JSON value: an expression reference is not one */
  if (pm->types ? !(pm->types & (1u << v->type)) :
      v->type == KMSI_JP_EXPREF) {
    type_error(ctx, fn->name, v, pm->expect);
    return -1;
  }
  if (!pm->elems || v->type != KMSI_JP_ARRAY || !v->u.arr.len)
    return 0;
  want = pm->elems;
  if (want & (want - 1)) {
    /* several element types: the first element decides */
    want &= 1u << v->u.arr.items[0]->type;
    if (!want) {
      type_error(ctx, fn->name, v->u.arr.items[0], pm->expect);
      return -1;
    }
  }
  for (i = 0; i < v->u.arr.len; i++) {
    if (!(want & (1u << v->u.arr.items[i]->type))) {
      type_error(ctx, fn->name, v->u.arr.items[i], pm->expect);
      return -1;
    }
  }
  return 0;
}

static kmsi_jp_value *new_array(kmsi_jp_ctx *ctx, size_t cap)
{
  return kmsi_jp_array(ctx, cap);
}

/* Appends a retained copy of v; on failure releases arr and returns
 * NULL, so calls can be chained with `if (!push(...)) return NULL`. */
static kmsi_jp_value *push(kmsi_jp_ctx *ctx, kmsi_jp_value *arr,
                           kmsi_jp_value *v)
{
  if (kmsi_jp_array_push(ctx, arr, kmsi_jp_retain(v)) != KMS_OK) {
    kmsi_jp_release(ctx, arr);
    return NULL;
  }
  return arr;
}

/* A sort key and the value it belongs to. */
typedef struct keyed {
  kmsi_jp_value *key;
  kmsi_jp_value *val;
} keyed;

/* Stable bottom-up merge sort of a[0..n) by key (all keys are numbers or
 * all are strings); tmp has room for n entries. */
static void merge_sort(keyed *a, keyed *tmp, size_t n)
{
  size_t width, lo, mid, hi, i, j, k;
  for (width = 1; width < n; width *= 2) {
    for (lo = 0; lo < n; lo += 2 * width) {
      mid = lo + width < n ? lo + width : n;
      hi = lo + 2 * width < n ? lo + 2 * width : n;
      i = lo;
      j = mid;
      k = lo;
      while (i < mid && j < hi) {
        if (kmsi_jp_compare(a[j].key, a[i].key) < 0)
          tmp[k++] = a[j++];
        else
          tmp[k++] = a[i++];
      }
      while (i < mid)
        tmp[k++] = a[i++];
      while (j < hi)
        tmp[k++] = a[j++];
    }
    memcpy(a, tmp, n * sizeof *a);
  }
}

/* Sorts the pairs and returns the values as a new array. */
static kmsi_jp_value *sorted_values(kmsi_jp_ctx *ctx, keyed *pairs,
                                    size_t n)
{
  keyed *tmp = NULL;
  kmsi_jp_value *out = NULL;
  size_t i;

  if (n > 1) {
    tmp = kmsi_malloc(&ctx->alloc, n * sizeof *tmp);
    if (!tmp) {
      kmsi_jp_nomem(ctx);
      return NULL;
    }
    merge_sort(pairs, tmp, n);
    kmsi_free(&ctx->alloc, tmp, n * sizeof *tmp);
  }
  out = new_array(ctx, n);
  for (i = 0; out && i < n; i++)
    out = push(ctx, out, pairs[i].val);
  return out;
}

/* Evaluates the expression reference on every element of arr into
 * pairs[] (keys owned), checking that every key is a number or a string
 * and of the first key's type, as sort_by, min_by and max_by require.
 * Returns the number of keys evaluated (to release) and sets *ok. */
static size_t eval_keys(kmsi_jp_ctx *ctx, const char *fn,
                        const kmsi_jp_value *arr, const kmsi_jp_value *ref,
                        keyed *pairs, int *ok)
{
  size_t i;
  kmsi_jp_type first = KMSI_JP_NULL;

  *ok = 0;
  for (i = 0; i < arr->u.arr.len; i++) {
    pairs[i].val = arr->u.arr.items[i];
    pairs[i].key = kmsi_jp_eval(ctx, ref->u.expref, pairs[i].val);
    if (!pairs[i].key)
      return i;
    if (i == 0)
      first = pairs[i].key->type;
    if ((first != KMSI_JP_NUMBER && first != KMSI_JP_STRING) ||
        pairs[i].key->type != first) {
      type_error(ctx, fn, pairs[i].key, i == 0 ? "['string', 'number']" :
                 first == KMSI_JP_NUMBER ? "['number']" : "['string']");
      return i + 1;
    }
  }
  *ok = 1;
  return i;
}

static void release_keys(kmsi_jp_ctx *ctx, keyed *pairs, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    kmsi_jp_release(ctx, pairs[i].key);
}

static keyed *alloc_pairs(kmsi_jp_ctx *ctx, size_t n)
{
  keyed *p = NULL;
  if (n <= (size_t)-1 / sizeof *p)
    p = kmsi_calloc(&ctx->alloc, n * sizeof *p);
  if (!p)
    kmsi_jp_nomem(ctx);
  return p;
}
/* }===== */

/* {===== numbers ===== */

static kmsi_jp_value *f_abs(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  (void)n;
  return kmsi_jp_number(ctx, fabs(a[0]->u.number), a[0]->is_float);
}

static kmsi_jp_value *f_ceil(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  (void)n;
  return kmsi_jp_number(ctx, ceil(a[0]->u.number), 0);
}

static kmsi_jp_value *f_floor(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  (void)n;
  return kmsi_jp_number(ctx, floor(a[0]->u.number), 0);
}

/* Left-to-right sum; a float in, a float out (Python's int/float). */
static double sum_of(const kmsi_jp_value *arr, int *is_float)
{
  double s = 0;
  size_t i;
  *is_float = 0;
  for (i = 0; i < arr->u.arr.len; i++) {
    s += arr->u.arr.items[i]->u.number;
    if (kmsi_jp_floatish(arr->u.arr.items[i]))
      *is_float = 1;
  }
  return s;
}

static kmsi_jp_value *f_sum(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  int fl;
  double s = sum_of(a[0], &fl);
  (void)n;
  return kmsi_jp_number(ctx, s, fl);
}

static kmsi_jp_value *f_avg(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  int fl;
  double s;
  (void)n;
  if (!a[0]->u.arr.len)
    return kmsi_jp_null();
  s = sum_of(a[0], &fl);
  return kmsi_jp_number(ctx, s / (double)a[0]->u.arr.len, 1);
}

/* min and max over numbers or strings; the first of equal extremes. */
static kmsi_jp_value *extreme(kmsi_jp_value *arr, int sign)
{
  kmsi_jp_value *best;
  size_t i;
  if (!arr->u.arr.len)
    return kmsi_jp_null();
  best = arr->u.arr.items[0];
  for (i = 1; i < arr->u.arr.len; i++)
    if (kmsi_jp_compare(arr->u.arr.items[i], best) * sign > 0)
      best = arr->u.arr.items[i];
  return kmsi_jp_retain(best);
}

static kmsi_jp_value *f_max(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  (void)ctx;
  (void)n;
  return extreme(a[0], 1);
}

static kmsi_jp_value *f_min(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  (void)ctx;
  (void)n;
  return extreme(a[0], -1);
}

static kmsi_jp_value *extreme_by(kmsi_jp_ctx *ctx, const char *fn,
                                 kmsi_jp_value **a, int sign)
{
  keyed *pairs;
  kmsi_jp_value *out = NULL;
  size_t i, done, best = 0;
  int ok;

  if (!a[0]->u.arr.len)
    return kmsi_jp_null();
  pairs = alloc_pairs(ctx, a[0]->u.arr.len);
  if (!pairs)
    return NULL;
  done = eval_keys(ctx, fn, a[0], a[1], pairs, &ok);
  if (ok) {
    for (i = 1; i < done; i++)
      if (kmsi_jp_compare(pairs[i].key, pairs[best].key) * sign > 0)
        best = i;
    out = kmsi_jp_retain(pairs[best].val);
  }
  release_keys(ctx, pairs, done);
  kmsi_free(&ctx->alloc, pairs, a[0]->u.arr.len * sizeof *pairs);
  return out;
}

static kmsi_jp_value *f_max_by(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                               size_t n)
{
  (void)n;
  return extreme_by(ctx, "max_by", a, 1);
}

static kmsi_jp_value *f_min_by(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                               size_t n)
{
  (void)n;
  return extreme_by(ctx, "min_by", a, -1);
}

/* Python's int() then float() on a string, minus inf and nan (not JSON):
 * surrounding whitespace, a sign, digits with single underscores between
 * them, a fraction and an exponent. Returns 0 and the number, or -1. */
static int parse_number(const char *s, size_t len, double *out,
                        int *is_float)
{
  char buf[128];
  size_t i = 0, o = 0;
  int digits = 0, frac = 0, expo = 0;
  const char *dp = localeconv()->decimal_point;

  while (len && strchr(" \t\n\r\v\f", s[len - 1]) && s[len - 1])
    len--;
  while (i < len && strchr(" \t\n\r\v\f", s[i]) && s[i])
    i++;
#define DIGITS(counter)                                                   \
  while (i < len && o < sizeof buf - 2 &&                                 \
         ((s[i] >= '0' && s[i] <= '9') ||                                 \
          (s[i] == '_' && counter && i + 1 < len && s[i + 1] >= '0' &&    \
           s[i + 1] <= '9'))) {                                           \
    if (s[i] != '_') {                                                    \
      buf[o++] = s[i];                                                    \
      counter++;                                                          \
    }                                                                     \
    i++;                                                                  \
  }
  if (i < len && (s[i] == '+' || s[i] == '-'))
    buf[o++] = s[i++];
  DIGITS(digits)
  if (i < len && s[i] == '.') {
    buf[o++] = dp && dp[0] ? dp[0] : '.';
    i++;
    frac = 1;
    DIGITS(digits)
  }
  if (!digits)
    return -1;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    buf[o++] = 'e';
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
      buf[o++] = s[i++];
    DIGITS(expo)
    if (!expo)
      return -1;
  }
#undef DIGITS
  if (i != len)
    return -1;
  buf[o] = '\0';
  *out = strtod(buf, NULL);
  *is_float = frac || expo;
  return 0;
}

static kmsi_jp_value *f_to_number(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                                  size_t n)
{
  double d;
  int fl;
  (void)n;
  if (a[0]->type == KMSI_JP_NUMBER)
    return kmsi_jp_retain(a[0]);
  if (a[0]->type != KMSI_JP_STRING ||
      parse_number(a[0]->u.str.ptr, a[0]->u.str.len, &d, &fl) != 0 ||
      !isfinite(d))
    return kmsi_jp_null();
  return kmsi_jp_number(ctx, d, fl);
}
/* }===== */

/* {===== strings ===== */

static int has_substring(const kmsi_jp_value *hay, const kmsi_jp_value *nd)
{
  size_t i;
  if (!nd->u.str.len)
    return 1;
  for (i = 0; i + nd->u.str.len <= hay->u.str.len; i++)
    if (memcmp(hay->u.str.ptr + i, nd->u.str.ptr, nd->u.str.len) == 0)
      return 1;
  return 0;
}

static kmsi_jp_value *f_contains(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                                 size_t n)
{
  size_t i;
  (void)ctx;
  (void)n;
  if (a[0]->type == KMSI_JP_STRING)
    return kmsi_jp_bool(a[1]->type == KMSI_JP_STRING &&
                        has_substring(a[0], a[1]));
  for (i = 0; i < a[0]->u.arr.len; i++)
    if (kmsi_jp_equal(a[0]->u.arr.items[i], a[1]))
      return kmsi_jp_bool(1);
  return kmsi_jp_bool(0);
}

static kmsi_jp_value *f_starts_with(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                                    size_t n)
{
  size_t k = a[1]->u.str.len;
  (void)ctx;
  (void)n;
  return kmsi_jp_bool(k <= a[0]->u.str.len &&
                      memcmp(a[0]->u.str.ptr, a[1]->u.str.ptr, k) == 0);
}

static kmsi_jp_value *f_ends_with(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                                  size_t n)
{
  size_t k = a[1]->u.str.len, len = a[0]->u.str.len;
  (void)ctx;
  (void)n;
  return kmsi_jp_bool(k <= len &&
                      memcmp(a[0]->u.str.ptr + len - k, a[1]->u.str.ptr,
                             k) == 0);
}

static kmsi_jp_value *f_join(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  const kmsi_jp_value *sep = a[0], *arr = a[1];
  kmsi_jp_value *out;
  size_t i, total = 0, o = 0, piece;

  (void)n;
  for (i = 0; i < arr->u.arr.len; i++) {
    piece = arr->u.arr.items[i]->u.str.len + (i ? sep->u.str.len : 0);
    if (piece > (size_t)-1 / 2 - total) {
      kmsi_jp_nomem(ctx);
      return NULL;
    }
    total += piece;
  }
  out = kmsi_jp_string(ctx, NULL, total);
  if (!out)
    return NULL;
  for (i = 0; i < arr->u.arr.len; i++) {
    const kmsi_jp_value *s = arr->u.arr.items[i];
    if (i && sep->u.str.len) {
      memcpy(out->u.str.ptr + o, sep->u.str.ptr, sep->u.str.len);
      o += sep->u.str.len;
    }
    if (s->u.str.len)
      memcpy(out->u.str.ptr + o, s->u.str.ptr, s->u.str.len);
    o += s->u.str.len;
  }
  return out;
}

static kmsi_jp_value *f_length(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                               size_t n)
{
  size_t len;
  (void)n;
  if (a[0]->type == KMSI_JP_STRING)
    len = kmsi_utf8_length(a[0]->u.str.ptr, a[0]->u.str.len);
  else if (a[0]->type == KMSI_JP_ARRAY)
    len = a[0]->u.arr.len;
  else
    len = a[0]->u.obj.len;
  return kmsi_jp_number(ctx, (double)len, 0);
}

/* Reverses a string by code point or an array by element. */
static kmsi_jp_value *f_reverse(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                                size_t n)
{
  const kmsi_jp_value *v = a[0];
  kmsi_jp_value *out;
  size_t i, step, len;

  (void)n;
  if (v->type == KMSI_JP_STRING) {
    len = v->u.str.len;
    out = kmsi_jp_string(ctx, NULL, len);
    for (i = 0; out && i < len; i += step) {
      step = kmsi_jp_utf8_step(v->u.str.ptr + i, len - i);
      memcpy(out->u.str.ptr + len - i - step, v->u.str.ptr + i, step);
    }
    return out;
  }
  out = new_array(ctx, v->u.arr.len);
  for (i = v->u.arr.len; out && i > 0; i--)
    out = push(ctx, out, v->u.arr.items[i - 1]);
  return out;
}

static kmsi_jp_value *f_to_string(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                                  size_t n)
{
  kms_buf b;
  kmsi_jp_value *out = NULL;

  (void)n;
  if (a[0]->type == KMSI_JP_STRING)
    return kmsi_jp_retain(a[0]);
  kmsi_buf_init(&b, &ctx->alloc, 0);
  if (kmsi_jp_to_json(ctx, a[0], 1, &b) == KMS_OK)
    out = kmsi_jp_string(ctx, b.data ? b.data : "", b.len);
  kms_buf_free(&b);
  return out;
}

static kmsi_jp_value *f_type(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  const char *name = kmsi_jp_type_name(a[0]->type);
  (void)n;
  return kmsi_jp_string(ctx, name, strlen(name));
}
/* }===== */

/* {===== arrays and objects ===== */

static kmsi_jp_value *members(kmsi_jp_ctx *ctx, const kmsi_jp_value *obj,
                              int keys)
{
  kmsi_jp_value *out = new_array(ctx, obj->u.obj.len);
  size_t i;
  for (i = 0; out && i < obj->u.obj.len; i++)
    out = push(ctx, out, keys ? obj->u.obj.items[i].key :
               obj->u.obj.items[i].val);
  return out;
}

static kmsi_jp_value *f_keys(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  (void)n;
  return members(ctx, a[0], 1);
}

static kmsi_jp_value *f_values(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                               size_t n)
{
  (void)n;
  return members(ctx, a[0], 0);
}

static kmsi_jp_value *f_merge(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  kmsi_jp_value *out = kmsi_jp_object(ctx, 0);
  const kmsi_jp_member *m;
  size_t i, j;

  for (i = 0; out && i < n; i++) {
    for (j = 0; j < a[i]->u.obj.len; j++) {
      m = &a[i]->u.obj.items[j];
      if (kmsi_jp_object_set(ctx, out, kmsi_jp_retain(m->key),
                             kmsi_jp_retain(m->val)) != KMS_OK) {
        kmsi_jp_release(ctx, out);
        return NULL;
      }
    }
  }
  return out;
}

static kmsi_jp_value *f_not_null(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                                 size_t n)
{
  size_t i;
  (void)ctx;
  for (i = 0; i < n; i++)
    if (a[i]->type != KMSI_JP_NULL)
      return kmsi_jp_retain(a[i]);
  return kmsi_jp_null();
}

static kmsi_jp_value *f_to_array(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                                 size_t n)
{
  kmsi_jp_value *out;
  (void)n;
  if (a[0]->type == KMSI_JP_ARRAY)
    return kmsi_jp_retain(a[0]);
  out = new_array(ctx, 1);
  return out ? push(ctx, out, a[0]) : NULL;
}

static kmsi_jp_value *f_map(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  const kmsi_jp_value *arr = a[1];
  kmsi_jp_value *out = new_array(ctx, arr->u.arr.len), *r;
  size_t i;

  (void)n;
  for (i = 0; out && i < arr->u.arr.len; i++) {
    r = kmsi_jp_eval(ctx, a[0]->u.expref, arr->u.arr.items[i]);
    if (!r || kmsi_jp_array_push(ctx, out, r) != KMS_OK) {
      kmsi_jp_release(ctx, out);
      out = NULL;
    }
  }
  return out;
}

static kmsi_jp_value *f_sort(kmsi_jp_ctx *ctx, kmsi_jp_value **a, size_t n)
{
  size_t i, len = a[0]->u.arr.len;
  keyed *pairs;
  kmsi_jp_value *out;

  (void)n;
  if (len < 2)
    return kmsi_jp_retain(a[0]);
  pairs = alloc_pairs(ctx, len);
  if (!pairs)
    return NULL;
  for (i = 0; i < len; i++)
    pairs[i].key = pairs[i].val = a[0]->u.arr.items[i];
  out = sorted_values(ctx, pairs, len);
  kmsi_free(&ctx->alloc, pairs, len * sizeof *pairs);
  return out;
}

static kmsi_jp_value *f_sort_by(kmsi_jp_ctx *ctx, kmsi_jp_value **a,
                                size_t n)
{
  size_t len = a[0]->u.arr.len, done;
  keyed *pairs;
  kmsi_jp_value *out = NULL;
  int ok;

  (void)n;
  if (len == 0)
    return kmsi_jp_retain(a[0]);
  pairs = alloc_pairs(ctx, len);
  if (!pairs)
    return NULL;
  done = eval_keys(ctx, "sort_by", a[0], a[1], pairs, &ok);
  if (ok)
    out = sorted_values(ctx, pairs, len);
  release_keys(ctx, pairs, done);
  kmsi_free(&ctx->alloc, pairs, len * sizeof *pairs);
  return out;
}
/* }===== */

/* {===== the table ===== */

#define P_ANY { T_ANY, 0, "['any']" }
#define P_NUMBER { T(NUMBER), 0, "['number']" }
#define P_STRING { T(STRING), 0, "['string']" }
#define P_OBJECT { T(OBJECT), 0, "['object']" }
#define P_ARRAY { T(ARRAY), 0, "['array']" }
#define P_EXPREF { T(EXPREF), 0, "['expref']" }
#define P_ARRAY_NUMBER { T(ARRAY), T(NUMBER), "['array-number']" }
#define P_ARRAY_NUM_STR                                                   \
  { T(ARRAY), T(NUMBER) | T(STRING), "['array-number', 'array-string']" }

static const kmsi_jp_func funcs[] = {
  { "abs", 1, 0, { P_NUMBER, P_ANY }, f_abs },
  { "avg", 1, 0, { P_ARRAY_NUMBER, P_ANY }, f_avg },
  { "ceil", 1, 0, { P_NUMBER, P_ANY }, f_ceil },
  { "contains", 2, 0,
    { { T(ARRAY) | T(STRING), 0, "['array', 'string']" }, P_ANY },
    f_contains },
  { "ends_with", 2, 0, { P_STRING, P_STRING }, f_ends_with },
  { "floor", 1, 0, { P_NUMBER, P_ANY }, f_floor },
  { "join", 2, 0, { P_STRING, { T(ARRAY), T(STRING), "['array-string']" } },
    f_join },
  { "keys", 1, 0, { P_OBJECT, P_ANY }, f_keys },
  { "length", 1, 0,
    { { T(STRING) | T(ARRAY) | T(OBJECT), 0,
        "['string', 'array', 'object']" }, P_ANY }, f_length },
  { "map", 2, 0, { P_EXPREF, P_ARRAY }, f_map },
  { "max", 1, 0, { P_ARRAY_NUM_STR, P_ANY }, f_max },
  { "max_by", 2, 0, { P_ARRAY, P_EXPREF }, f_max_by },
  { "merge", 1, 1, { P_OBJECT, P_ANY }, f_merge },
  { "min", 1, 0, { P_ARRAY_NUM_STR, P_ANY }, f_min },
  { "min_by", 2, 0, { P_ARRAY, P_EXPREF }, f_min_by },
  { "not_null", 1, 1, { P_ANY, P_ANY }, f_not_null },
  { "reverse", 1, 0,
    { { T(ARRAY) | T(STRING), 0, "['array', 'string']" }, P_ANY },
    f_reverse },
  { "sort", 1, 0, { P_ARRAY_NUM_STR, P_ANY }, f_sort },
  { "sort_by", 2, 0, { P_ARRAY, P_EXPREF }, f_sort_by },
  { "starts_with", 2, 0, { P_STRING, P_STRING }, f_starts_with },
  { "sum", 1, 0, { P_ARRAY_NUMBER, P_ANY }, f_sum },
  { "to_array", 1, 0, { P_ANY, P_ANY }, f_to_array },
  { "to_number", 1, 0, { P_ANY, P_ANY }, f_to_number },
  { "to_string", 1, 0, { P_ANY, P_ANY }, f_to_string },
  { "type", 1, 0, { P_ANY, P_ANY }, f_type },
  { "values", 1, 0, { P_OBJECT, P_ANY }, f_values },
};

const kmsi_jp_func *kmsi_jp_func_lookup(const char *name, size_t len)
{
  size_t i;
  for (i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
    if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
      return &funcs[i];
  return NULL;
}

int kmsi_jp_func_arity(kmsi_jp_ctx *ctx, const kmsi_jp_func *fn,
                       size_t nargs)
{
  if (fn->variadic ? nargs >= fn->nparams : nargs == fn->nparams)
    return 0;
  kmsi_jp_fail(ctx, KMSI_JPE_INVALID_ARITY,
               "Expected %s%zu argument%s for function %s(), received %zu",
               fn->variadic ? "at least " : "", fn->nparams,
               fn->nparams == 1 ? "" : "s", fn->name, nargs);
  return -1;
}

kmsi_jp_value *kmsi_jp_func_call(kmsi_jp_ctx *ctx, const kmsi_jp_func *fn,
                                 kmsi_jp_value **args, size_t nargs)
{
  size_t i;
  const param *pm;

  if (kmsi_jp_func_arity(ctx, fn, nargs))
    return NULL;
  for (i = 0; i < nargs; i++) {
    /* variadic extras share the last parameter's type */
    pm = &fn->params[i < fn->nparams ? i : fn->nparams - 1];
    if (check_param(ctx, fn, pm, args[i]))
      return NULL;
  }
  return fn->body(ctx, args, nargs);
}
/* }===== */
