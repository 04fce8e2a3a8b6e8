/* jmespath_value.c - the JMESPath value model: immutable, reference-counted
 * JSON values that projections share instead of copying, objects that
 * keep Python dict order and semantics, and the conversion from cJSON. */
#include <math.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "jmespath.h"

/* Objects switch from a linear scan to a hash index at this size. */
#define OBJ_INDEX_MIN 16

static kmsi_jp_value null_value = { KMSI_JP_NULL, 1, 0, 0, 0, 0, { 0 } };
static kmsi_jp_value true_value = { KMSI_JP_BOOLEAN, 1, 0, 0, 0, 0, { 1 } };
static kmsi_jp_value false_value = { KMSI_JP_BOOLEAN, 1, 0, 0, 0, 0, { 0 } };

kmsi_jp_value *kmsi_jp_null(void)
{
  return &null_value;
}

kmsi_jp_value *kmsi_jp_bool(int b)
{
  return b ? &true_value : &false_value;
}

static kmsi_jp_value *value_new(kmsi_jp_ctx *ctx, kmsi_jp_type type,
                                size_t size)
{
  kmsi_jp_value *v = kmsi_calloc(&ctx->alloc, size);
  if (!v) {
    kmsi_jp_nomem(ctx);
    return NULL;
  }
  v->type = type;
  v->refs = 1;
  v->size = size;
  return v;
}

kmsi_jp_value *kmsi_jp_number(kmsi_jp_ctx *ctx, double d, int is_float)
{
  kmsi_jp_value *v = value_new(ctx, KMSI_JP_NUMBER, sizeof *v);
  if (v) {
    v->u.number = d;
    v->is_float = is_float ? 1 : 0;
  }
  return v;
}

kmsi_jp_value *kmsi_jp_string(kmsi_jp_ctx *ctx, const char *s, size_t len)
{
  kmsi_jp_value *v;
  if (len > (size_t)-1 - sizeof *v - 1) {
    kmsi_jp_nomem(ctx);
    return NULL;
  }
  v = value_new(ctx, KMSI_JP_STRING, sizeof *v + len + 1);
  if (v) {
    v->u.str.ptr = (char *)(v + 1);
    if (len && s)
      memcpy(v->u.str.ptr, s, len);
    v->u.str.ptr[len] = '\0';
    v->u.str.len = len;
  }
  return v;
}

kmsi_jp_value *kmsi_jp_array(kmsi_jp_ctx *ctx, size_t cap)
{
  kmsi_jp_value *v = value_new(ctx, KMSI_JP_ARRAY, sizeof *v);
  if (v && cap) {
    if (cap > (size_t)-1 / sizeof *v->u.arr.items)
      v->u.arr.items = NULL;
    else
      v->u.arr.items = kmsi_malloc(&ctx->alloc,
                                   cap * sizeof *v->u.arr.items);
    if (!v->u.arr.items) {
      kmsi_free(&ctx->alloc, v, v->size);
      kmsi_jp_nomem(ctx);
      return NULL;
    }
    v->u.arr.cap = cap;
  }
  return v;
}

kmsi_jp_value *kmsi_jp_object(kmsi_jp_ctx *ctx, size_t cap)
{
  kmsi_jp_value *v = value_new(ctx, KMSI_JP_OBJECT, sizeof *v);
  if (v && cap) {
    if (cap > (size_t)-1 / sizeof *v->u.obj.items)
      v->u.obj.items = NULL;
    else
      v->u.obj.items = kmsi_malloc(&ctx->alloc,
                                   cap * sizeof *v->u.obj.items);
    if (!v->u.obj.items) {
      kmsi_free(&ctx->alloc, v, v->size);
      kmsi_jp_nomem(ctx);
      return NULL;
    }
    v->u.obj.cap = cap;
  }
  return v;
}

kmsi_jp_value *kmsi_jp_expref(kmsi_jp_ctx *ctx,
                              const struct kmsi_jp_node *node)
{
  kmsi_jp_value *v = value_new(ctx, KMSI_JP_EXPREF, sizeof *v);
  if (v)
    v->u.expref = node;
  return v;
}

kmsi_jp_value *kmsi_jp_retain(kmsi_jp_value *v)
{
  if (v && !v->is_static)
    v->refs++;
  return v;
}

/* Frees a value whose count reached zero. Recursion follows container
 * nesting, which KMSI_JP_MAX_VALUE_DEPTH bounds. */
static void value_free(kmsi_jp_ctx *ctx, kmsi_jp_value *v)
{
  size_t i;
  if (v->type == KMSI_JP_ARRAY) {
    for (i = 0; i < v->u.arr.len; i++)
      kmsi_jp_release(ctx, v->u.arr.items[i]);
    kmsi_free(&ctx->alloc, v->u.arr.items,
              v->u.arr.cap * sizeof *v->u.arr.items);
  } else if (v->type == KMSI_JP_OBJECT) {
    for (i = 0; i < v->u.obj.len; i++) {
      kmsi_jp_release(ctx, v->u.obj.items[i].key);
      kmsi_jp_release(ctx, v->u.obj.items[i].val);
    }
    kmsi_free(&ctx->alloc, v->u.obj.items,
              v->u.obj.cap * sizeof *v->u.obj.items);
    kmsi_free(&ctx->alloc, v->u.obj.index,
              v->u.obj.index_cap * sizeof *v->u.obj.index);
  }
  kmsi_free(&ctx->alloc, v, v->size);
}

void kmsi_jp_release(kmsi_jp_ctx *ctx, kmsi_jp_value *v)
{
  if (!v || v->is_static)
    return;
  if (--v->refs == 0)
    value_free(ctx, v);
}

/* Checks that a container holding child stays within the depth cap and
 * raises the container's depth if needed. */
static int depth_ok(kmsi_jp_ctx *ctx, kmsi_jp_value *parent,
                    const kmsi_jp_value *child)
{
  if (child->depth + 1 > KMSI_JP_MAX_VALUE_DEPTH) {
    kmsi_jp_fail(ctx, KMSI_JPE_INVALID_VALUE,
                 "value nested deeper than %d levels",
                 KMSI_JP_MAX_VALUE_DEPTH);
    return 0;
  }
  if (child->depth + 1 > parent->depth)
    parent->depth = child->depth + 1;
  return 1;
}

/* Grows a pointer-sized vector; returns 0 on failure. */
static int grow(kmsi_jp_ctx *ctx, void **items, size_t *cap, size_t elem)
{
  size_t ncap = *cap ? *cap * 2 : 4;
  void *p;
  if (ncap > (size_t)-1 / elem / 2) {
    kmsi_jp_nomem(ctx);
    return 0;
  }
  p = kmsi_malloc(&ctx->alloc, ncap * elem);
  if (!p) {
    kmsi_jp_nomem(ctx);
    return 0;
  }
  if (*items) {
    memcpy(p, *items, *cap * elem);
    kmsi_free(&ctx->alloc, *items, *cap * elem);
  }
  *items = p;
  *cap = ncap;
  return 1;
}

kms_status kmsi_jp_array_push(kmsi_jp_ctx *ctx, kmsi_jp_value *arr,
                              kmsi_jp_value *v)
{
  kms_status result = KMS_ERR_PARSE;
  void *items = arr->u.arr.items;

  if (!depth_ok(ctx, arr, v))
    goto cleanup;
  if (arr->u.arr.len == arr->u.arr.cap) {
    if (!grow(ctx, &items, &arr->u.arr.cap, sizeof *arr->u.arr.items)) {
      result = KMS_ERR_NOMEM;
      goto cleanup;
    }
    arr->u.arr.items = items;
  }
  arr->u.arr.items[arr->u.arr.len++] = v;
  v = NULL;
  result = KMS_OK;
cleanup:
  kmsi_jp_release(ctx, v);
  return result;
}

/* FNV-1a over the key bytes. */
static size_t key_hash(const char *s, size_t len)
{
  size_t h = (size_t)2166136261u;
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= (size_t)16777619u;
  }
  return h;
}

static int key_is(const kmsi_jp_value *key, const char *s, size_t len)
{
  return key->u.str.len == len && memcmp(key->u.str.ptr, s, len) == 0;
}

/* Position of key in obj, or (size_t)-1. Uses the index when there is
 * one, a linear scan otherwise. */
static size_t obj_find(const kmsi_jp_value *obj, const char *s, size_t len)
{
  size_t i, mask, slot;
  if (!obj->u.obj.index_cap) {
    for (i = 0; i < obj->u.obj.len; i++)
      if (key_is(obj->u.obj.items[i].key, s, len))
        return i;
    return (size_t)-1;
  }
  mask = obj->u.obj.index_cap - 1;
  slot = key_hash(s, len) & mask;
  while (obj->u.obj.index[slot]) {
    i = obj->u.obj.index[slot] - 1;
    if (key_is(obj->u.obj.items[i].key, s, len))
      return i;
    slot = (slot + 1) & mask;
  }
  return (size_t)-1;
}

static void index_insert(kmsi_jp_value *obj, size_t pos)
{
  const kmsi_jp_value *key = obj->u.obj.items[pos].key;
  size_t mask = obj->u.obj.index_cap - 1;
  size_t slot = key_hash(key->u.str.ptr, key->u.str.len) & mask;
  while (obj->u.obj.index[slot])
    slot = (slot + 1) & mask;
  obj->u.obj.index[slot] = pos + 1;
}

/* Rebuilds the hash index so that it stays at most half full once the
 * object holds one more member. Returns 0 on allocation failure. */
static int index_reserve(kmsi_jp_ctx *ctx, kmsi_jp_value *obj)
{
  size_t need = obj->u.obj.len + 1, cap, i;
  size_t *idx;
  if (need < OBJ_INDEX_MIN || need * 2 <= obj->u.obj.index_cap)
    return 1;
  cap = obj->u.obj.index_cap ? obj->u.obj.index_cap : OBJ_INDEX_MIN * 2;
  while (cap < need * 2) {
    if (cap > (size_t)-1 / sizeof *idx / 4) {
      kmsi_jp_nomem(ctx);
      return 0;
    }
    cap *= 2;
  }
  idx = kmsi_calloc(&ctx->alloc, cap * sizeof *idx);
  if (!idx) {
    kmsi_jp_nomem(ctx);
    return 0;
  }
  kmsi_free(&ctx->alloc, obj->u.obj.index,
            obj->u.obj.index_cap * sizeof *idx);
  obj->u.obj.index = idx;
  obj->u.obj.index_cap = cap;
  for (i = 0; i < obj->u.obj.len; i++)
    index_insert(obj, i);
  return 1;
}

kms_status kmsi_jp_object_set(kmsi_jp_ctx *ctx, kmsi_jp_value *obj,
                              kmsi_jp_value *key, kmsi_jp_value *val)
{
  kms_status result = KMS_ERR_NOMEM;
  void *items = obj->u.obj.items;
  size_t pos;

  if (!depth_ok(ctx, obj, val)) {
    result = KMS_ERR_PARSE;
    goto cleanup;
  }
  pos = obj_find(obj, key->u.str.ptr, key->u.str.len);
  if (pos != (size_t)-1) {
    kmsi_jp_release(ctx, obj->u.obj.items[pos].val);
    obj->u.obj.items[pos].val = val;
    val = NULL;
    result = KMS_OK;
    goto cleanup;
  }
  if (!index_reserve(ctx, obj))
    goto cleanup;
  if (obj->u.obj.len == obj->u.obj.cap) {
    if (!grow(ctx, &items, &obj->u.obj.cap, sizeof *obj->u.obj.items))
      goto cleanup;
    obj->u.obj.items = items;
  }
  pos = obj->u.obj.len++;
  obj->u.obj.items[pos].key = key;
  obj->u.obj.items[pos].val = val;
  key = val = NULL;
  if (obj->u.obj.index_cap)
    index_insert(obj, pos);
  result = KMS_OK;
cleanup:
  kmsi_jp_release(ctx, key);
  kmsi_jp_release(ctx, val);
  return result;
}

kmsi_jp_value *kmsi_jp_object_get(const kmsi_jp_value *obj, const char *key,
                                  size_t len)
{
  size_t pos = obj_find(obj, key, len);
  return pos == (size_t)-1 ? NULL : obj->u.obj.items[pos].val;
}

/* Converts one cJSON node. Recursion follows the document's nesting,
 * which cJSON caps at CJSON_NESTING_LIMIT. */
kmsi_jp_value *kmsi_jp_from_cjson(kmsi_jp_ctx *ctx, const cJSON *j,
                                  const kms_buf *forms, size_t *next)
{
  int is_float;

  kmsi_jp_value *v = NULL, *key, *item;
  const cJSON *c;

  if (!j || cJSON_IsNull(j))
    return kmsi_jp_null();
  if (cJSON_IsTrue(j))
    return kmsi_jp_bool(1);
  if (cJSON_IsFalse(j))
    return kmsi_jp_bool(0);
  if (cJSON_IsNumber(j)) {
    is_float = forms && *next < forms->len && forms->data[*next] == '1';
    (*next)++;
    return kmsi_jp_number(ctx, j->valuedouble, is_float);
  }
  if (cJSON_IsString(j))
    return kmsi_jp_string(ctx, j->valuestring, strlen(j->valuestring));
  if (cJSON_IsArray(j)) {
    v = kmsi_jp_array(ctx, (size_t)cJSON_GetArraySize(j));
    if (!v)
      goto fail;
    for (c = j->child; c; c = c->next) {
      item = kmsi_jp_from_cjson(ctx, c, forms, next);
      if (!item || kmsi_jp_array_push(ctx, v, item) != KMS_OK)
        goto fail;
    }
    return v;
  }
  if (cJSON_IsObject(j)) {
    v = kmsi_jp_object(ctx, (size_t)cJSON_GetArraySize(j));
    if (!v)
      goto fail;
    for (c = j->child; c; c = c->next) {
      key = kmsi_jp_string(ctx, c->string ? c->string : "",
                           c->string ? strlen(c->string) : 0);
      if (!key)
        goto fail;
      item = kmsi_jp_from_cjson(ctx, c, forms, next);
      if (!item) {
        kmsi_jp_release(ctx, key);
        goto fail;
      }
      if (kmsi_jp_object_set(ctx, v, key, item) != KMS_OK)
        goto fail;
    }
    return v;
  }
  kmsi_jp_fail(ctx, KMSI_JPE_JSON, "invalid JSON document: unknown node");
fail:
  kmsi_jp_release(ctx, v);
  return NULL;
}

int kmsi_jp_truthy(const kmsi_jp_value *v)
{
  switch (v->type) {
  case KMSI_JP_NULL:
    return 0;
  case KMSI_JP_BOOLEAN:
    return v->u.boolean;
  case KMSI_JP_STRING:
    return v->u.str.len != 0;
  case KMSI_JP_ARRAY:
    return v->u.arr.len != 0;
  case KMSI_JP_OBJECT:
    return v->u.obj.len != 0;
  default:
    return 1;
  }
}

int kmsi_jp_equal(const kmsi_jp_value *a, const kmsi_jp_value *b)
{
  size_t i;
  const kmsi_jp_value *other;

  if (a == b)
    return 1;
  if (a->type != b->type)
    return 0;
  switch (a->type) {
  case KMSI_JP_NULL:
    return 1;
  case KMSI_JP_BOOLEAN:
    return a->u.boolean == b->u.boolean;
  case KMSI_JP_NUMBER:
    return a->u.number == b->u.number;
  case KMSI_JP_STRING:
    return key_is(a, b->u.str.ptr, b->u.str.len);
  case KMSI_JP_ARRAY:
    if (a->u.arr.len != b->u.arr.len)
      return 0;
    for (i = 0; i < a->u.arr.len; i++)
      if (!kmsi_jp_equal(a->u.arr.items[i], b->u.arr.items[i]))
        return 0;
    return 1;
  case KMSI_JP_OBJECT:
    if (a->u.obj.len != b->u.obj.len)
      return 0;
    for (i = 0; i < a->u.obj.len; i++) {
      const kmsi_jp_value *k = a->u.obj.items[i].key;
      other = kmsi_jp_object_get(b, k->u.str.ptr, k->u.str.len);
      if (!other || !kmsi_jp_equal(a->u.obj.items[i].val, other))
        return 0;
    }
    return 1;
  default:
    return a->u.expref == b->u.expref;
  }
}

int kmsi_jp_compare(const kmsi_jp_value *a, const kmsi_jp_value *b)
{
  size_t n;
  int c;
  if (a->type == KMSI_JP_NUMBER)
    return a->u.number < b->u.number ? -1 : a->u.number > b->u.number;
  /* UTF-8 byte order is code point order */
  n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
  c = n ? memcmp(a->u.str.ptr, b->u.str.ptr, n) : 0;
  if (c)
    return c < 0 ? -1 : 1;
  return a->u.str.len < b->u.str.len ? -1 : a->u.str.len > b->u.str.len;
}

const char *kmsi_jp_type_name(kmsi_jp_type t)
{
  static const char *const names[] = {
    "null", "boolean", "number", "string", "array", "object", "expref"
  };
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

int kmsi_jp_floatish(const kmsi_jp_value *v)
{
  double d = v->u.number;
  return v->is_float || d != floor(d) || fabs(d) >= 9007199254740992.0;
}
