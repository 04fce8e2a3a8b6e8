/* jmespath_eval.c - the JMESPath tree interpreter. Each node evaluates
 * against a borrowed current value and returns a new reference; results
 * share the document's values. Semantics follow the specification and
 * jmespath.py (projections drop nulls, filters use truthiness, ordering
 * comparisons accept two numbers or two strings). */
#include <string.h>
#include "jmespath.h"

/* Arguments up to this count live on the stack. */
#define ARGS_ON_STACK 8

static kmsi_jp_value *eval_chain(kmsi_jp_ctx *ctx, const kmsi_jp_node *n,
                                 kmsi_jp_value *cur)
{
  kmsi_jp_value *v = kmsi_jp_retain(cur), *next;
  size_t i;
  for (i = 0; i < n->nkids; i++) {
    next = kmsi_jp_eval(ctx, n->kids[i], v);
    kmsi_jp_release(ctx, v);
    if (!next)
      return NULL;
    v = next;
  }
  return v;
}

static kmsi_jp_value *eval_field(const kmsi_jp_node *n, kmsi_jp_value *cur)
{
  kmsi_jp_value *v;
  if (cur->type != KMSI_JP_OBJECT)
    return kmsi_jp_null();
  v = kmsi_jp_object_get(cur, n->name, n->name_len);
  return v ? kmsi_jp_retain(v) : kmsi_jp_null();
}

static kmsi_jp_value *eval_index(const kmsi_jp_node *n, kmsi_jp_value *cur)
{
  long long i = n->slice[0], len;
  if (cur->type != KMSI_JP_ARRAY)
    return kmsi_jp_null();
  len = (long long)cur->u.arr.len;
  if (i < 0)
    i += len;
  if (i < 0 || i >= len)
    return kmsi_jp_null();
  return kmsi_jp_retain(cur->u.arr.items[i]);
}

/* Clamps a slice bound as Python's slice.indices does. */
static long long slice_bound(long long v, long long len, int neg_step)
{
  if (v < 0) {
    v += len;
    if (v < 0)
      v = neg_step ? -1 : 0;
  } else if (v >= len) {
    v = neg_step ? len - 1 : len;
  }
  return v;
}

static kmsi_jp_value *eval_slice(kmsi_jp_ctx *ctx, const kmsi_jp_node *n,
                                 kmsi_jp_value *cur)
{
  long long len, start, stop, step, i;
  kmsi_jp_value *out;

  if (cur->type != KMSI_JP_ARRAY)
    return kmsi_jp_null();
  step = n->has[2] ? n->slice[2] : 1;
  if (step == 0) {
    kmsi_jp_fail(ctx, KMSI_JPE_INVALID_VALUE, "slice step cannot be 0");
    return NULL;
  }
  len = (long long)cur->u.arr.len;
  if (n->has[0])
    start = slice_bound(n->slice[0], len, step < 0);
  else
    start = step < 0 ? len - 1 : 0;
  if (n->has[1])
    stop = slice_bound(n->slice[1], len, step < 0);
  else
    stop = step < 0 ? -1 : len;
  out = kmsi_jp_array(ctx, 0);
  if (!out)
    return NULL;
  for (i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (kmsi_jp_array_push(ctx, out,
                           kmsi_jp_retain(cur->u.arr.items[i])) != KMS_OK) {
      kmsi_jp_release(ctx, out);
      return NULL;
    }
  }
  return out;
}

/* Projections: evaluates the right side on every element (array values,
 * or object values for a value projection, filtered by the condition
 * when there is one) and collects the non-null results. */
static kmsi_jp_value *eval_projection(kmsi_jp_ctx *ctx,
                                      const kmsi_jp_node *n,
                                      kmsi_jp_value *cur)
{
  kmsi_jp_value *base, *out = NULL, *el, *r, *test;
  kmsi_jp_type want = n->type == KMSI_JPN_VALUE_PROJECTION ?
                      KMSI_JP_OBJECT : KMSI_JP_ARRAY;
  size_t i, len;
  int keep;

  base = kmsi_jp_eval(ctx, n->a, cur);
  if (!base)
    return NULL;
  if (base->type != want) {
    kmsi_jp_release(ctx, base);
    return kmsi_jp_null();
  }
  len = want == KMSI_JP_ARRAY ? base->u.arr.len : base->u.obj.len;
  out = kmsi_jp_array(ctx, 0);
  if (!out)
    goto fail;
  for (i = 0; i < len; i++) {
    el = want == KMSI_JP_ARRAY ? base->u.arr.items[i] :
         base->u.obj.items[i].val;
    if (n->c) {
      test = kmsi_jp_eval(ctx, n->c, el);
      if (!test)
        goto fail;
      keep = kmsi_jp_truthy(test);
      kmsi_jp_release(ctx, test);
      if (!keep)
        continue;
    }
    r = kmsi_jp_eval(ctx, n->b, el);
    if (!r)
      goto fail;
    if (r->type == KMSI_JP_NULL)
      continue;
    if (kmsi_jp_array_push(ctx, out, r) != KMS_OK)
      goto fail;
  }
  kmsi_jp_release(ctx, base);
  return out;
fail:
  kmsi_jp_release(ctx, out);
  kmsi_jp_release(ctx, base);
  return NULL;
}

static kmsi_jp_value *eval_flatten(kmsi_jp_ctx *ctx, const kmsi_jp_node *n,
                                   kmsi_jp_value *cur)
{
  kmsi_jp_value *base, *out = NULL, *el;
  size_t i, j;

  base = kmsi_jp_eval(ctx, n->a, cur);
  if (!base)
    return NULL;
  if (base->type != KMSI_JP_ARRAY) {
    kmsi_jp_release(ctx, base);
    return kmsi_jp_null();
  }
  out = kmsi_jp_array(ctx, base->u.arr.len);
  if (!out)
    goto fail;
  for (i = 0; i < base->u.arr.len; i++) {
    el = base->u.arr.items[i];
    if (el->type != KMSI_JP_ARRAY) {
      if (kmsi_jp_array_push(ctx, out, kmsi_jp_retain(el)) != KMS_OK)
        goto fail;
      continue;
    }
    for (j = 0; j < el->u.arr.len; j++)
      if (kmsi_jp_array_push(ctx, out,
                             kmsi_jp_retain(el->u.arr.items[j])) != KMS_OK)
        goto fail;
  }
  kmsi_jp_release(ctx, base);
  return out;
fail:
  kmsi_jp_release(ctx, out);
  kmsi_jp_release(ctx, base);
  return NULL;
}

/* [a, b] and {k: a, ...}; null in, null out. */
static kmsi_jp_value *eval_multi(kmsi_jp_ctx *ctx, const kmsi_jp_node *n,
                                 kmsi_jp_value *cur)
{
  kmsi_jp_value *out, *r;
  kms_status st;
  size_t i;

  if (cur->type == KMSI_JP_NULL)
    return kmsi_jp_null();
  if (n->type == KMSI_JPN_MULTI_LIST)
    out = kmsi_jp_array(ctx, n->nkids);
  else
    out = kmsi_jp_object(ctx, n->nkids);
  if (!out)
    return NULL;
  for (i = 0; i < n->nkids; i++) {
    r = kmsi_jp_eval(ctx, n->kids[i], cur);
    if (!r)
      goto fail;
    if (n->type == KMSI_JPN_MULTI_LIST)
      st = kmsi_jp_array_push(ctx, out, r);
    else
      st = kmsi_jp_object_set(ctx, out, kmsi_jp_retain(n->keys[i]), r);
    if (st != KMS_OK)
      goto fail;
  }
  return out;
fail:
  kmsi_jp_release(ctx, out);
  return NULL;
}

/* a || b || ...: the first truthy value (or the last one); a && b && ...:
 * the first falsy value (or the last one). */
static kmsi_jp_value *eval_logical(kmsi_jp_ctx *ctx, const kmsi_jp_node *n,
                                   kmsi_jp_value *cur)
{
  int want = n->type == KMSI_JPN_OR;
  kmsi_jp_value *r = NULL;
  size_t i;
  for (i = 0; i < n->nkids; i++) {
    r = kmsi_jp_eval(ctx, n->kids[i], cur);
    if (!r || i + 1 == n->nkids || kmsi_jp_truthy(r) == want)
      break;
    kmsi_jp_release(ctx, r);
  }
  return r;
}

static kmsi_jp_value *eval_compare(kmsi_jp_ctx *ctx, const kmsi_jp_node *n,
                                   kmsi_jp_value *cur)
{
  kmsi_jp_value *l, *r, *out = NULL;
  int c;

  l = kmsi_jp_eval(ctx, n->a, cur);
  if (!l)
    return NULL;
  r = kmsi_jp_eval(ctx, n->b, cur);
  if (!r)
    goto cleanup;
  if (n->op == KMSI_JPT_EQ || n->op == KMSI_JPT_NE) {
    out = kmsi_jp_bool(kmsi_jp_equal(l, r) == (n->op == KMSI_JPT_EQ));
    goto cleanup;
  }
  if (l->type != r->type ||
      (l->type != KMSI_JP_NUMBER && l->type != KMSI_JP_STRING)) {
    out = kmsi_jp_null();
    goto cleanup;
  }
  c = kmsi_jp_compare(l, r);
  switch (n->op) {
  case KMSI_JPT_LT: out = kmsi_jp_bool(c < 0); break;
  case KMSI_JPT_LTE: out = kmsi_jp_bool(c <= 0); break;
  case KMSI_JPT_GT: out = kmsi_jp_bool(c > 0); break;
  default: out = kmsi_jp_bool(c >= 0); break;
  }
cleanup:
  kmsi_jp_release(ctx, l);
  kmsi_jp_release(ctx, r);
  return out;
}

/* Evaluates every argument, then calls the function. */
static kmsi_jp_value *eval_function(kmsi_jp_ctx *ctx,
                                    const kmsi_jp_node *n,
                                    kmsi_jp_value *cur)
{
  kmsi_jp_value *stack_args[ARGS_ON_STACK];
  kmsi_jp_value **args = stack_args, *out = NULL;
  size_t i, done = 0;

  if (n->nkids > ARGS_ON_STACK) {
    args = kmsi_malloc(&ctx->alloc, n->nkids * sizeof *args);
    if (!args) {
      kmsi_jp_nomem(ctx);
      return NULL;
    }
  }
  for (done = 0; done < n->nkids; done++) {
    args[done] = kmsi_jp_eval(ctx, n->kids[done], cur);
    if (!args[done])
      goto cleanup;
  }
  out = kmsi_jp_func_call(ctx, n->fn, args, n->nkids);
cleanup:
  for (i = 0; i < done; i++)
    kmsi_jp_release(ctx, args[i]);
  if (args != stack_args)
    kmsi_free(&ctx->alloc, args, n->nkids * sizeof *args);
  return out;
}

kmsi_jp_value *kmsi_jp_eval(kmsi_jp_ctx *ctx, const kmsi_jp_node *n,
                            kmsi_jp_value *cur)
{
  kmsi_jp_value *r;
  int truth;

  switch (n->type) {
  case KMSI_JPN_IDENTITY:
    return kmsi_jp_retain(cur);
  case KMSI_JPN_FIELD:
    return eval_field(n, cur);
  case KMSI_JPN_CHAIN:
    return eval_chain(ctx, n, cur);
  case KMSI_JPN_INDEX:
    return eval_index(n, cur);
  case KMSI_JPN_SLICE:
    return eval_slice(ctx, n, cur);
  case KMSI_JPN_PROJECTION:
  case KMSI_JPN_VALUE_PROJECTION:
  case KMSI_JPN_FILTER_PROJECTION:
    return eval_projection(ctx, n, cur);
  case KMSI_JPN_FLATTEN:
    return eval_flatten(ctx, n, cur);
  case KMSI_JPN_LITERAL:
    return kmsi_jp_retain(n->lit);
  case KMSI_JPN_MULTI_LIST:
  case KMSI_JPN_MULTI_HASH:
    return eval_multi(ctx, n, cur);
  case KMSI_JPN_OR:
  case KMSI_JPN_AND:
    return eval_logical(ctx, n, cur);
  case KMSI_JPN_NOT:
    r = kmsi_jp_eval(ctx, n->a, cur);
    if (!r)
      return NULL;
    truth = kmsi_jp_truthy(r);
    kmsi_jp_release(ctx, r);
    return kmsi_jp_bool(!truth);
  case KMSI_JPN_COMPARE:
    return eval_compare(ctx, n, cur);
  case KMSI_JPN_FUNCTION:
    return eval_function(ctx, n, cur);
  case KMSI_JPN_EXPREF:
    return kmsi_jp_expref(ctx, n->a);
  default:
    kmsi_jp_fail(ctx, KMSI_JPE_SYNTAX, "unknown syntax node");
    return NULL;
  }
}
