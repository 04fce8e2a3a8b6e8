/* lkms_request.c - the "kms.request" userdata: one operation built from a
 * Lua table of API members, then validated, signed for a host to send,
 * sent through the C core, or matched against a response a host received.
 * Member names, rules and encodings all come from the core; secrets live
 * in the core's wiped memory and are wiped on close and on __gc. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "lkms.h"

/* {=====================================================================
 * Life cycle
 * ===================================================================== */

static lkms_request *new_request(lua_State *L, kms_operation op)
{
  lkms_request *r = (lkms_request *)lkms_newuserdata(L, sizeof *r);
  memset(r, 0, sizeof *r);
  r->op = op;
  lua_pushvalue(L, LKMS_UV_REQUEST_MT);
  lua_setmetatable(L, -2);
  return r;
}

static void release(lkms_request *r)
{
  if (r->closed)
    return;
  kms_request_free(r->req);                       /* wipes every secret */
  r->req = NULL;
  kms_buf_free(&r->body);
  free(r->describe_id);
  free(r->describe_name);
  r->describe_id = r->describe_name = NULL;
  r->closed = 1;
}

void lkms_request_release(lua_State *L, int idx)
{
  lkms_request *r = (lkms_request *)lkms_testudata(L, idx,
                                                   LKMS_UV_REQUEST_MT);
  if (r)
    release(r);
}

/* The open request at idx, or a raised argument error. */
static lkms_request *check_request(lua_State *L, int idx)
{
  lkms_request *r = (lkms_request *)lkms_checkudata(L, idx,
                                    LKMS_UV_REQUEST_MT, LKMS_REQUEST_MT);
  if (r->closed)
    luaL_argerror(L, idx, "kms.request is closed");
  return r;
}

/* {=====================================================================
 * Building from a Lua table
 * ===================================================================== */

static kms_status params_error(kms_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static kms_status params_error(kms_error *err, const char *fmt, ...)
{
  va_list ap;
  kms_error_clear(err);
  err->status = KMS_ERR_PARSE;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return KMS_ERR_PARSE;
}

/* The structure name in front of the credential halves' dotted paths
 * ("XksProxyAuthenticationCredential"), taken from the core. */
static size_t credential_prefix(const char **name)
{
  const char *full = kms_member_name(KMS_M_XKS_ACCESS_KEY_ID);
  const char *dot = full ? strchr(full, '.') : NULL;
  *name = full;
  return dot ? (size_t)(dot - full) : 0;
}

/* "CustomKeyStoreId, NewCustomKeyStoreName, ..." from the core's member
 * names: the credential halves appear once, as their structure. */
static const char *member_list(char *out, size_t size)
{
  const char *cred;
  size_t cred_len = credential_prefix(&cred), used = 0;
  int m, cred_done = 0;

  out[0] = '\0';
  for (m = 0; m < KMS_M__COUNT; m++) {
    const char *name = kms_member_name((kms_member)m);
    int n;
    if (!name)
      continue;
    if (strchr(name, '.')) {
      if (cred_done)
        continue;
      cred_done = 1;
      n = snprintf(out + used, size - used, "%s%.*s", used ? ", " : "",
                   (int)cred_len, cred);
    } else {
      n = snprintf(out + used, size - used, "%s%s", used ? ", " : "", name);
    }
    if (n < 0 || (size_t)n >= size - used)
      break;
    used += (size_t)n;
  }
  return out;
}

/* The value at -1 as a member value: strings only (a number is not a
 * string in the API either). */
static kms_status member_value(lua_State *L, const char *path,
                               const char **v, size_t *len, kms_error *err)
{
  if (lua_type(L, -1) != LUA_TSTRING)
    return params_error(err, "%s: expected a string, got %s", path,
                        luaL_typename(L, -1));
  *v = lua_tolstring(L, -1, len);
  return KMS_OK;
}

/* The member names, from the core (kms_member_name), as two Lua tables
 * (upvalues of the operations) so that a params key is found with one
 * table lookup: the first maps each top-level name to its kms_member (and
 * the credential structure's name to -1), the second maps the
 * credential's halves ("AccessKeyId") to theirs. */
void lkms_member_tables(lua_State *L)
{
  int m;

  lua_newtable(L);                                /* members */
  lua_newtable(L);                                /* members, halves */
  for (m = 0; m < KMS_M__COUNT; m++) {
    const char *name = kms_member_name((kms_member)m);
    const char *dot = name ? strchr(name, '.') : NULL;
    if (!name)
      continue;
    if (dot) {
      lua_pushinteger(L, m);
      lua_setfield(L, -2, dot + 1);
      lua_pushlstring(L, name, (size_t)(dot - name));
      lua_pushinteger(L, -1);
      lua_rawset(L, -4);
    } else {
      lua_pushinteger(L, m);
      lua_setfield(L, -3, name);
    }
  }
}

/* The member the key at -2 names in the table at map, or -2 when none. */
static int lookup_member(lua_State *L, int map)
{
  int m = -2;
  lua_pushvalue(L, -2);                           /* key */
  lua_rawget(L, map);
  if (lua_type(L, -1) == LUA_TNUMBER)
    m = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return m;
}

/* XksProxyAuthenticationCredential = { AccessKeyId = ..,
 * RawSecretAccessKey = .. } at -1. The whole structure is replaced, as
 * the AWS CLI does; a missing half stays absent (validation says so). */
static kms_status load_credential(lua_State *L, int halves, kms_request *req,
                                  kms_error *err)
{
  const char *cred, *akid = NULL, *secret = NULL;
  size_t cred_len = credential_prefix(&cred), akid_len = 0, secret_len = 0;
  int tbl = lua_gettop(L);

  if (lua_type(L, tbl) != LUA_TTABLE)
    return params_error(err, "%.*s: expected a table, got %s",
                        (int)cred_len, cred, luaL_typename(L, tbl));
  lua_pushnil(L);
  while (lua_next(L, tbl)) {                      /* ..., cred, key, value */
    char shown[72];
    const char *k, *v = NULL;
    size_t klen, vlen = 0;
    int m = lookup_member(L, halves);
    kms_status st;

    if (m < 0) {
      if (lua_type(L, -2) == LUA_TSTRING) {
        k = lua_tolstring(L, -2, &klen);
      } else {
        k = luaL_typename(L, -2);
        klen = strlen(k);
      }
      lua_pop(L, 2);
      return params_error(err, "unknown member \"%s\" in %.*s, must be "
                          "one of: AccessKeyId, RawSecretAccessKey",
                          lkms_printable(k, klen, shown, sizeof shown),
                          (int)cred_len, cred);
    }
    st = member_value(L, kms_member_name((kms_member)m), &v, &vlen, err);
    if (st != KMS_OK) {
      lua_pop(L, 2);
      return st;
    }
    if (m == KMS_M_XKS_ACCESS_KEY_ID) {
      akid = v;                                   /* anchored by the table */
      akid_len = vlen;
    } else {
      secret = v;
      secret_len = vlen;
    }
    lua_pop(L, 1);
  }
  return kms_request_set_credential(req, akid, akid_len, secret, secret_len,
                                    0, err);
}

/* One key/value pair of the params table (key at -2, value at -1);
 * members and halves are the name tables' stack indices. */
static kms_status load_member(lua_State *L, int members, int halves,
                              kms_request *req, kms_error *err)
{
  const char *v = NULL;
  size_t vlen = 0;
  char shown[72], list[512];
  int m;
  kms_status st;

  if (lua_type(L, -2) != LUA_TSTRING)
    return params_error(err, "member names must be strings, got %s",
                        luaL_typename(L, -2));
  m = lookup_member(L, members);
  if (m == -1)
    return load_credential(L, halves, req, err);
  if (m < 0) {
    size_t klen;
    const char *key = lua_tolstring(L, -2, &klen);
    return params_error(err, "unknown member \"%s\", must be one of: %s",
                        lkms_printable(key, klen, shown, sizeof shown),
                        member_list(list, sizeof list));
  }
  st = member_value(L, kms_member_name((kms_member)m), &v, &vlen, err);
  if (st != KMS_OK)
    return st;
  return kms_request_set(req, (kms_member)m, v, vlen, err);
}

static kms_status load_params(lua_State *L, int idx, kms_request *req,
                              kms_error *err)
{
  lua_pushnil(L);
  while (lua_next(L, idx)) {                      /* ..., key, value */
    kms_status st = load_member(L, LKMS_UV_MEMBERS, LKMS_UV_CRED_MEMBERS,
                                req, err);
    lua_pop(L, 1);                                /* key */
    if (st != KMS_OK) {
      lua_pop(L, 1);
      return st;
    }
  }
  return KMS_OK;
}

/* An optional string parameter of a helper operation (no NUL inside: the
 * core takes C strings there). */
static kms_status optional_string(lua_State *L, int idx, const char *name,
                                  const char **out, kms_error *err)
{
  size_t len;
  const char *s;

  *out = NULL;
  lua_getfield(L, idx, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return KMS_OK;
  }
  if (lua_type(L, -1) != LUA_TSTRING) {
    params_error(err, "%s: expected a string, got %s", name,
                 luaL_typename(L, -1));
    lua_pop(L, 1);
    return KMS_ERR_PARSE;
  }
  s = lua_tolstring(L, -1, &len);
  lua_pop(L, 1);                                  /* anchored by the table */
  if (strlen(s) != len)
    return params_error(err, "%s: contains a NUL byte", name);
  *out = s;
  return KMS_OK;
}

/* Rejects keys of the params table at idx that are not in names. */
static kms_status only_keys(lua_State *L, int idx, const char *op,
                            const char *const names[], kms_error *err)
{
  lua_pushnil(L);
  while (lua_next(L, idx)) {                      /* key, value */
    size_t i, len = 0;
    const char *k = lua_type(L, -2) == LUA_TSTRING
                        ? lua_tolstring(L, -2, &len) : NULL;
    char shown[72], list[256] = "";
    for (i = 0; k && names[i]; i++)
      if (strlen(names[i]) == len && memcmp(names[i], k, len) == 0)
        break;
    if (!k || !names[i]) {
      for (i = 0; names[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                 i ? ", " : "", names[i]);
      if (!k)
        params_error(err, "member names must be strings, got %s",
                     luaL_typename(L, -2));
      else
        params_error(err, "unknown member \"%s\" of %s, must be one of: "
                     "%s", lkms_printable(k, len, shown, sizeof shown), op,
                     list);
      lua_pop(L, 2);
      return KMS_ERR_PARSE;
    }
    lua_pop(L, 1);
  }
  return KMS_OK;
}

static char *dup_string(const char *s)
{
  size_t n;
  char *p;
  if (!s)
    return NULL;
  n = strlen(s) + 1;
  p = malloc(n);
  if (p)
    memcpy(p, s, n);
  return p;
}

static kms_status build_describe(lua_State *L, int idx, lkms_request *r,
                                 kms_error *err)
{
  static const char *const names[] = {"CustomKeyStoreId",
    "CustomKeyStoreName", "Limit", "Marker", NULL};
  const char *id, *name, *marker;
  int limit = 0;
  kms_status st;

  st = only_keys(L, idx, "DescribeCustomKeyStores", names, err);
  if (st == KMS_OK)
    st = optional_string(L, idx, "CustomKeyStoreId", &id, err);
  if (st == KMS_OK)
    st = optional_string(L, idx, "CustomKeyStoreName", &name, err);
  if (st == KMS_OK)
    st = optional_string(L, idx, "Marker", &marker, err);
  if (st != KMS_OK)
    return st;
  lua_getfield(L, idx, "Limit");
  if (!lua_isnil(L, -1)) {
    lua_Number n = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || n < 1 || n > 1e6 ||
        n != (lua_Number)(int)n) {
      lua_pop(L, 1);
      return params_error(err, "Limit: expected a positive integer");
    }
    limit = (int)n;
  }
  lua_pop(L, 1);
  st = kms_encode_describe(id, name, limit, marker, &r->body, err);
  if (st != KMS_OK)
    return st;
  r->describe_paged = limit > 0 || marker != NULL;
  r->describe_id = dup_string(id);
  r->describe_name = dup_string(name);
  if ((id && !r->describe_id) || (name && !r->describe_name)) {
    kms_error_clear(err);
    err->status = KMS_ERR_NOMEM;
    snprintf(err->message, sizeof err->message, "out of memory");
    return KMS_ERR_NOMEM;
  }
  return KMS_OK;
}

static kms_status build_id_only(lua_State *L, int idx, lkms_request *r,
                                kms_error *err)
{
  static const char *const names[] = {"CustomKeyStoreId", NULL};
  const char *id;
  kms_status st = only_keys(L, idx, kms_operation_name(r->op), names, err);

  if (st == KMS_OK)
    st = optional_string(L, idx, "CustomKeyStoreId", &id, err);
  if (st != KMS_OK)
    return st;
  if (!id) {
    kms_error_clear(err);
    err->status = KMS_ERR_VALIDATION;
    snprintf(err->aws_type, sizeof err->aws_type, "required");
    snprintf(err->message, sizeof err->message, "CustomKeyStoreId: a "
             "required member is missing");
    return KMS_ERR_VALIDATION;
  }
  return kms_encode_id_only(id, &r->body, err);
}

int lkms_request_build(lua_State *L, kms_operation op, int idx)
{
  lkms_request *r;
  kms_error err;
  kms_status st;

  idx = lkms_absindex(L, idx);
  lkms_error_init(&err);
  r = new_request(L, op);                         /* req */
  switch (op) {
  case KMS_OP_UPDATE_CUSTOM_KEY_STORE:
    r->req = kms_request_new(NULL, NULL, &err);
    st = r->req ? load_params(L, idx, r->req, &err) : KMS_ERR_NOMEM;
    break;
  case KMS_OP_DESCRIBE_CUSTOM_KEY_STORES:
    st = build_describe(L, idx, r, &err);
    break;
  default:
    st = build_id_only(L, idx, r, &err);
    break;
  }
  if (st != KMS_OK) {
    release(r);                                   /* wipe what was set */
    if (err.status == KMS_OK)
      err.status = st;
    return lkms_pusherror(L, &err, NULL);
  }
  return 1;
}

int lkms_request_from_json(lua_State *L, const char *json, size_t len)
{
  lkms_request *r = new_request(L, KMS_OP_UPDATE_CUSTOM_KEY_STORE);
  kms_error err;
  kms_status st;

  lkms_error_init(&err);
  r->req = kms_request_new(NULL, NULL, &err);
  st = r->req ? kms_request_load_json(r->req, json, len, &err)
              : KMS_ERR_NOMEM;
  if (st != KMS_OK) {
    release(r);
    if (err.status == KMS_OK)
      err.status = st;
    return lkms_pusherror(L, &err, NULL);
  }
  return 1;
}

/* {=====================================================================
 * Store context (validate, sign, send)
 * ===================================================================== */

/* Reads a string field of the table at idx; raises on a wrong type. The
 * string stays anchored by the table. */
static const char *string_field(lua_State *L, int idx, int arg,
                                const char *name)
{
  const char *s = NULL;
  lua_getfield(L, idx, name);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, arg, lua_pushfstring(L, "option '%s': string "
                    "expected, got %s", name, luaL_typename(L, -1)));
    s = lua_tostring(L, -1);
  }
  lua_pop(L, 1);
  return s;
}

/* The options of validate, send and sign, read in one pass. */
typedef struct call_opts {
  kms_store_context ctx;     /* what is known of the store */
  time_t time;               /* sign: 0 = now */
  int validate;              /* sign: 1 unless validate = false */
} call_opts;

#define OPT_CONTEXT 0x1      /* type, state, connectivity, store */
#define OPT_SIGN 0x2         /* time, validate */

static int key_is(const char *k, size_t len, const char *name)
{
  return strlen(name) == len && memcmp(k, name, len) == 0;
}

/* Reads the options table at arg (nil: none), raising on an unknown
 * option or a wrong value type. The store context is type, state,
 * connectivity, or store = one entry of DescribeCustomKeyStores
 * (CustomKeyStoreType, ConnectionState, XksProxyConfiguration.
 * Connectivity); the explicit keys win. Returns &o->ctx, or NULL when
 * nothing is known of the store. Strings stay anchored by the table. */
static const kms_store_context *read_opts(lua_State *L, int arg, int allowed,
                                          call_opts *o)
{
  const char *t = NULL, *st = NULL, *conn = NULL;
  kms_store_context *ctx = &o->ctx;

  memset(o, 0, sizeof *o);
  o->validate = 1;
  if (lua_isnoneornil(L, arg))
    return NULL;
  luaL_checktype(L, arg, LUA_TTABLE);
  arg = lkms_absindex(L, arg);
  lua_pushnil(L);
  while (lua_next(L, arg)) {                      /* key, value */
    size_t len;
    const char *k;
    char shown[72];
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_argerror(L, arg, lua_pushfstring(L, "option names must be "
                    "strings, got %s", luaL_typename(L, -2)));
    k = lua_tolstring(L, -2, &len);
    if (key_is(k, len, "type") || key_is(k, len, "state") ||
        key_is(k, len, "connectivity")) {
      const char *v;
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_argerror(L, arg, lua_pushfstring(L, "option '%s': string "
                      "expected, got %s", k, luaL_typename(L, -1)));
      v = lua_tostring(L, -1);
      if (k[0] == 't')
        t = v;
      else if (k[0] == 's')
        st = v;
      else
        conn = v;
    } else if (key_is(k, len, "store")) {
      int store = lua_gettop(L);
      luaL_argcheck(L, lua_istable(L, store), arg,
                    "option 'store': table expected");
      ctx->custom_key_store_type = string_field(L, store, arg,
                                                "CustomKeyStoreType");
      ctx->connection_state = string_field(L, store, arg,
                                           "ConnectionState");
      lua_getfield(L, store, "XksProxyConfiguration");
      if (lua_istable(L, -1))
        ctx->xks_proxy_connectivity = string_field(L, lua_gettop(L), arg,
                                                   "Connectivity");
      lua_pop(L, 1);
    } else if ((allowed & OPT_SIGN) && key_is(k, len, "time")) {
      lua_Number tm = lua_tonumber(L, -1);
      luaL_argcheck(L, lua_type(L, -1) == LUA_TNUMBER && tm >= 0 &&
                    tm < 4e12, arg,
                    "option 'time': seconds since the epoch expected");
      o->time = (time_t)tm;
    } else if ((allowed & OPT_SIGN) && key_is(k, len, "validate")) {
      luaL_argcheck(L, lua_isboolean(L, -1), arg,
                    "option 'validate': boolean expected");
      o->validate = lua_toboolean(L, -1);
    } else {
      luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s'",
                    lkms_printable(k, len, shown, sizeof shown)));
    }
    lua_pop(L, 1);                                /* key */
  }
  if (t)
    ctx->custom_key_store_type = t;
  if (st)
    ctx->connection_state = st;
  if (conn)
    ctx->xks_proxy_connectivity = conn;
  if (!ctx->custom_key_store_type && !ctx->connection_state &&
      !ctx->xks_proxy_connectivity)
    return NULL;
  return ctx;
}

void lkms_check_context(lua_State *L, int arg)
{
  call_opts o;
  read_opts(L, arg, OPT_CONTEXT, &o);  /* raises on misuse */
}

/* {=====================================================================
 * Methods
 * ===================================================================== */

/* req:validate([context]) -> true, problems | false, problems
 * problems lists every error and warning; warnings alone pass. */
static int lkms_request_validate(lua_State *L)
{
  lkms_request *r = check_request(L, 1);
  call_opts o;
  const kms_store_context *pctx;
  kms_problems *problems = NULL;
  kms_error err;
  kms_status st;

  pctx = read_opts(L, 2, OPT_CONTEXT, &o);
  if (r->op != KMS_OP_UPDATE_CUSTOM_KEY_STORE) {
    lua_pushboolean(L, 1);                        /* checked when built */
    lua_newtable(L);
    return 2;
  }
  lkms_error_init(&err);
  st = kms_request_validate(r->req, pctx, &problems, &err);
  if (st != KMS_OK && st != KMS_ERR_VALIDATION) {
    kms_problems_free(problems);
    return lkms_pusherror(L, &err, NULL);
  }
  lua_pushboolean(L, st == KMS_OK);
  lkms_pushproblems(L, problems);
  kms_problems_free(problems);
  return 2;
}

/* Validates an update with ctx; on an error-severity problem pushes the
 * failure (with details.problems) and returns 4, else returns 0. */
static int validate_or_fail(lua_State *L, lkms_request *r,
                            const kms_store_context *ctx)
{
  kms_problems *problems = NULL;
  kms_error err;
  kms_status st;
  int n = 0;

  if (r->op != KMS_OP_UPDATE_CUSTOM_KEY_STORE)
    return 0;
  lkms_error_init(&err);
  st = kms_request_validate(r->req, ctx, &problems, &err);
  if (st != KMS_OK) {
    if (err.status == KMS_OK)
      err.status = st;
    n = lkms_pusherror(L, &err, problems);
  }
  kms_problems_free(problems);
  return n;
}

/* The body to send: encoded now for an update (secret buffer, wiped by
 * the caller with kms_buf_free), the stored one otherwise. */
static kms_status request_body(lkms_request *r, kms_buf *tmp,
                               const char **body, size_t *len,
                               kms_error *err)
{
  memset(tmp, 0, sizeof *tmp);
  if (r->op == KMS_OP_UPDATE_CUSTOM_KEY_STORE) {
    kms_status st = kms_request_encode_body(r->req, tmp, err);
    if (st != KMS_OK)
      return st;
    *body = tmp->data;
    *len = tmp->len;
  } else {
    *body = r->body.data ? r->body.data : "";
    *len = r->body.len;
  }
  return KMS_OK;
}

/* Pushes { method, url, host, target, headers = {name = value},
 * header_names = {in order}, body } for msg. */
static void push_http(lua_State *L, const kms_http *msg)
{
  size_t i, n = kms_http_header_count(msg), body_len = 0;
  const char *body = kms_http_body(msg, &body_len);

  lua_createtable(L, 0, 7);                       /* t */
  lua_pushstring(L, kms_http_method(msg));
  lua_setfield(L, -2, "method");
  lua_pushlstring(L, kms_http_url(msg), strlen(kms_http_url(msg)));
  lua_setfield(L, -2, "url");
  lua_pushlstring(L, kms_http_host(msg), strlen(kms_http_host(msg)));
  lua_setfield(L, -2, "host");
  lua_pushlstring(L, kms_http_target(msg), strlen(kms_http_target(msg)));
  lua_setfield(L, -2, "target");
  lua_createtable(L, 0, (int)n);                  /* t, headers */
  lua_createtable(L, (int)n, 0);                  /* t, headers, names */
  for (i = 0; i < n; i++) {
    const char *name, *value, *prev, *pv;
    size_t j;
    int repeated = 0;
    if (!kms_http_header_at(msg, i, &name, &value))
      continue;
    for (j = 0; j < i && !repeated; j++)
      repeated = kms_http_header_at(msg, j, &prev, &pv) &&
                 prev[0] == name[0] && strcmp(prev, name) == 0;
    if (repeated) {                               /* joined, as HTTP does */
      lua_getfield(L, -2, name);                  /* t, h, names, old */
      lua_pushfstring(L, "%s, %s", lua_tostring(L, -1), value);
      lua_setfield(L, -4, name);
      lua_pop(L, 1);
    } else {
      /* pushlstring: Lua 5.4's C-string cache would strcmp the long,
       * ever-changing values (Authorization) for nothing */
      lua_pushlstring(L, value, strlen(value));
      lua_setfield(L, -3, name);
      lua_pushstring(L, name);
      lua_rawseti(L, -2, (int)lkms_rawlen(L, -2) + 1);
    }
  }
  lua_setfield(L, -3, "header_names");            /* t, headers */
  lua_setfield(L, -2, "headers");                 /* t */
  lua_pushlstring(L, body ? body : "", body_len);
  lua_setfield(L, -2, "body");
}

/* req:sign(client [, {time =, validate =, type =, state =, ...}])
 *   -> { method, url, host, target, headers, header_names, body }
 *    | nil, message, code, details
 * The signed message for a host to send by itself (kms_client_prepare).
 * An update is validated first (validate = false skips it). time is
 * seconds since the epoch (default: now, skew-corrected by the core).
 * The body and the Authorization header become Lua strings, which
 * cannot be wiped: keep the table short-lived. */
static int lkms_request_sign(lua_State *L)
{
  lkms_request *r = check_request(L, 1);
  lkms_client *c = lkms_client_check(L, 2);
  call_opts o;
  const kms_store_context *pctx;
  time_t now;
  kms_http *msg = NULL;
  kms_buf tmp;
  const char *body = NULL;
  size_t len = 0;
  kms_error err;
  kms_status st;

  pctx = read_opts(L, 3, OPT_CONTEXT | OPT_SIGN, &o);
  now = o.time;             /* 0: the client's clock, skew-corrected */
  if (o.validate) {
    int n = validate_or_fail(L, r, pctx);
    if (n)
      return n;
  }
  lkms_error_init(&err);
  st = request_body(r, &tmp, &body, &len, &err);
  if (st == KMS_OK)
    st = kms_client_prepare(c->c, r->op, body, len, now, &msg, &err);
  kms_buf_free(&tmp);                             /* wipes the body copy */
  if (st != KMS_OK) {
    kms_http_free(msg);
    if (err.status == KMS_OK)
      err.status = st;
    return lkms_pusherror(L, &err, NULL);
  }
  push_http(L, msg);
  kms_http_free(msg);                             /* wipes headers, body */
  return 1;
}

int lkms_request_send(lua_State *L, int req_idx, int client_idx, int ctx_idx)
{
  lkms_request *r = check_request(L, req_idx);
  lkms_client *c = lkms_client_check(L, client_idx);
  call_opts o;
  const kms_store_context *pctx;
  kms_buf out;
  kms_error err;
  kms_status st;
  int n;

  pctx = read_opts(L, ctx_idx, OPT_CONTEXT, &o);
  n = validate_or_fail(L, r, pctx);
  if (n)
    return n;
  lkms_error_init(&err);
  memset(&out, 0, sizeof out);
  switch (r->op) {
  case KMS_OP_UPDATE_CUSTOM_KEY_STORE:
    st = kms_client_update_custom_key_store(c->c, r->req, pctx, &err);
    break;
  case KMS_OP_DESCRIBE_CUSTOM_KEY_STORES:
    if (!r->describe_paged)              /* every page, merged */
      st = kms_client_describe_custom_key_stores(c->c, r->describe_id,
                                                 r->describe_name, &out,
                                                 &err);
    else                                 /* one page, as asked */
      st = kms_client_call(c->c, r->op, r->body.data ? r->body.data : "",
                           r->body.len, &out, &err);
    break;
  default:
    st = kms_client_call(c->c, r->op, r->body.data ? r->body.data : "",
                         r->body.len, &out, &err);
    break;
  }
  if (st != KMS_OK) {
    kms_buf_free(&out);
    if (err.status == KMS_OK)
      err.status = st;
    return lkms_pusherror(L, &err, NULL);
  }
  st = lkms_pushjson(L, out.data, out.len, &err);
  kms_buf_free(&out);
  if (st != KMS_OK)
    return lkms_pusherror(L, &err, NULL);
  return 1;
}

/* req:send(client [, context]) -> response table | nil, msg, code, details
 * Validates (with the store context when given), then sends through the
 * C core: libcurl, blocking, with the client's retries. Not for use
 * inside nginx or HAProxy: use kms.resty or kms.haproxy there. */
static int lkms_request_send_m(lua_State *L)
{
  return lkms_request_send(L, 1, 2, 3);
}

/* req:json([{secrets = true}]) -> the JSON body; secrets are "***"
 * unless asked for. */
static int lkms_request_json(lua_State *L)
{
  static const char *const names[] = {"secrets", NULL};
  lkms_request *r = check_request(L, 1);
  int secrets = 0;
  kms_buf out;
  kms_error err;
  kms_status st;

  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lkms_checkoptions(L, 2, names);
  }
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "secrets");
    secrets = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (r->op != KMS_OP_UPDATE_CUSTOM_KEY_STORE) {
    lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
    return 1;
  }
  lkms_error_init(&err);
  memset(&out, 0, sizeof out);
  st = secrets ? kms_request_encode_body(r->req, &out, &err)
               : kms_request_to_redacted_json(r->req, &out, &err);
  if (st != KMS_OK) {
    kms_buf_free(&out);
    return lkms_pusherror(L, &err, NULL);
  }
  lua_pushlstring(L, out.data ? out.data : "", out.len);
  kms_buf_free(&out);
  return 1;
}

/* Adds one header to resp. A header the response's line format cannot
 * hold (a name with ':', a line break) is left out, as a host would not
 * have received it as one header; only running out of memory fails. */
static kms_status add_header(kms_http_response *resp, const char *name,
                             const char *value, kms_error *err)
{
  kms_status st = kms_http_response_add_header(resp, name, value, err);
  return st == KMS_ERR_INVALID_ARG ? KMS_OK : st;
}

/* Adds the header table entry at -2/-1 (value a string or a list of
 * strings, as HAProxy's httpclient gives them) to resp. */
static kms_status append_header(lua_State *L, kms_http_response *resp,
                                kms_error *err)
{
  const char *name;
  kms_status st = KMS_OK;

  if (lua_type(L, -2) != LUA_TSTRING)
    return KMS_OK;
  name = lua_tostring(L, -2);
  if (lua_type(L, -1) == LUA_TTABLE) {
    int t = lua_gettop(L);
    lua_pushnil(L);
    while (st == KMS_OK && lua_next(L, t)) {      /* ..., list, k, v */
      if (lua_type(L, -1) == LUA_TSTRING)
        st = add_header(resp, name, lua_tostring(L, -1), err);
      lua_pop(L, 1);
    }
    if (st != KMS_OK)
      lua_pop(L, 1);                              /* the key lua_next left */
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    st = add_header(resp, name, lua_tostring(L, -1), err);
  }
  return st;
}

/* req:check(status, headers, body) -> response table
 *                                   | nil, message, code, details
 * Maps a response that a host received by itself exactly as the C
 * transport's responses are mapped (kms_response_check): success is the
 * decoded JSON object ({} for an empty or non-JSON body of an operation
 * whose output is empty), an error carries the AWS type, HTTP status,
 * request id and the core's retry decision (details.retryable). headers
 * is a table (name = value or name = {values}) or nil. */
static int lkms_request_check(lua_State *L)
{
  lkms_request *r = check_request(L, 1);
  lua_Integer status = luaL_checkinteger(L, 2);
  size_t body_len = 0;
  const char *body = luaL_optlstring(L, 4, "", &body_len);
  kms_http_response resp;
  kms_error err;
  kms_status st = KMS_OK;

  if (!lua_isnoneornil(L, 3))
    luaL_checktype(L, 3, LUA_TTABLE);
  lkms_error_init(&err);
  kms_http_response_init(&resp, NULL, NULL);
  resp.status = (long)status;
  if (lua_istable(L, 3)) {
    lua_pushnil(L);
    while (st == KMS_OK && lua_next(L, 3)) {      /* key, value */
      st = append_header(L, &resp, &err);
      lua_pop(L, 1);
    }
    if (st != KMS_OK)
      lua_pop(L, 1);
  }
  if (st == KMS_OK)
    st = kms_http_response_append_body(&resp, body, body_len, &err);
  if (st != KMS_OK) {
    kms_http_response_free(&resp);
    return lkms_fail(L, KMS_ERR_NOMEM, "response: out of memory");
  }
  st = kms_response_check(r->op, &resp, &err);
  if (st != KMS_OK) {
    kms_http_response_free(&resp);
    if (err.status == KMS_OK)
      err.status = st;
    if (err.http_status == 0)
      err.http_status = (long)status;
    return lkms_pusherror(L, &err, NULL);
  }
  /* A 2xx: what kms_response_check accepted (Describe's body is a JSON
   * object by now; the other operations' output is empty, whatever the
   * body), decoded as the C client does. */
  lkms_pushobject(L, resp.body.data, resp.body.len);
  kms_http_response_free(&resp);
  return 1;
}

/* {=====================================================================
 * The retry decision for attempts sent by a Lua transport
 * ===================================================================== */

static int int_field(lua_State *L, int idx, const char *name)
{
  int v;
  lua_getfield(L, idx, name);
  v = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static void set_int_field(lua_State *L, int idx, const char *name, int v)
{
  lua_pushinteger(L, v);
  lua_setfield(L, idx, name);
}

/* The first value of the Date header (any case) in the header table at
 * idx (a value or a list of values), or NULL. */
static const char *header_date(lua_State *L, int idx)
{
  const char *date = NULL;

  lua_pushnil(L);
  while (lua_next(L, idx)) {                      /* key, value */
    if (!date && lua_type(L, -2) == LUA_TSTRING) {
      size_t n;
      const char *k = lua_tolstring(L, -2, &n);
      if (n == 4 && strncasecmp(k, "date", 4) == 0) {
        if (lua_istable(L, -1)) {
          lua_pushnil(L);
          if (lua_next(L, -2)) {                  /* key, list, k1, v1 */
            if (lua_type(L, -1) == LUA_TSTRING)
              date = lua_tostring(L, -1);         /* anchored in list */
            lua_pop(L, 2);
          }
        } else if (lua_type(L, -1) == LUA_TSTRING) {
          date = lua_tostring(L, -1);             /* anchored in idx */
        }
      }
    }
    lua_pop(L, 1);
  }
  return date;
}

/* req:after_attempt(client, state, message, details, headers)
 *   -> action, delay, message
 * Called by a Lua transport after each attempt it sent. state is a table
 * the transport keeps for the whole call (the kms_retry_state fields
 * attempts, skew_retries and quota_held live in it); details is the
 * fourth value of req:check or kms.failure, nil on success; headers the
 * response's (for its Date). The client's own retry policy decides
 * (kms_client_retry_after), as for attempts the C client sends: action
 * is "stop", "retry" (sleep delay seconds first) or "skew" (the clock
 * was corrected: sign again and send now). On a final failure, message
 * gets the AWS CLI's " (reached max retries: N)" and details.attempts
 * the number of attempts. */
static int lkms_request_after_attempt(lua_State *L)
{
  lkms_request *r = check_request(L, 1);
  lkms_client *c = lkms_client_check(L, 2);
  const char *msg = luaL_optstring(L, 4, NULL);
  kms_retry_state state = KMS_RETRY_STATE_INIT;
  kms_retry_action action;
  kms_http_response resp;
  kms_error err;
  char given[KMS_ERROR_MESSAGE_SIZE];
  const char *date = NULL;
  double delay = 0;
  int have_resp = 0;

  luaL_checktype(L, 3, LUA_TTABLE);
  if (!lua_isnoneornil(L, 5))
    luaL_checktype(L, 5, LUA_TTABLE);
  if (!lua_isnoneornil(L, 6))
    luaL_checktype(L, 6, LUA_TTABLE);
  state.attempts = int_field(L, 3, "attempts");
  state.skew_retries = int_field(L, 3, "skew_retries");
  state.quota_held = int_field(L, 3, "quota_held");

  lkms_error_init(&err);
  kms_http_response_init(&resp, NULL, NULL);
  if (lua_istable(L, 5)) {
    const char *name, *type;
    int s;
    lua_getfield(L, 5, "status");
    name = lua_tostring(L, -1);
    err.status = KMS_ERR_SERVICE;
    for (s = 1; name && s < KMS_ERR__COUNT; s++)
      if (strcmp(kms_strerror((kms_status)s), name) == 0)
        err.status = (kms_status)s;
    lua_pop(L, 1);
    err.http_status = (long)int_field(L, 5, "http_status");
    lua_getfield(L, 5, "type");
    type = lua_tostring(L, -1);
    snprintf(err.aws_type, sizeof err.aws_type, "%s", type ? type : "");
    lua_pop(L, 1);
    snprintf(err.message, sizeof err.message, "%s", msg ? msg : "");
    memcpy(given, err.message, sizeof given);
    /* Only a failure's Date matters (a clock skew): no copy on success. */
    if (lua_istable(L, 6))
      date = header_date(L, 6);
    have_resp = date && kms_http_response_add_header(&resp, "Date", date,
                                                     NULL) == KMS_OK;
  }

  action = kms_client_retry_after(c->c, r->op, &state,
                                  have_resp ? &resp : NULL, &err, &delay);
  kms_http_response_free(&resp);

  set_int_field(L, 3, "attempts", state.attempts);
  set_int_field(L, 3, "skew_retries", state.skew_retries);
  set_int_field(L, 3, "quota_held", state.quota_held);
  if (lua_istable(L, 5)) {
    set_int_field(L, 5, "attempts", state.attempts);
    /* reworded as kms_client_call words a service error it gave up on */
    if (strcmp(given, err.message) != 0)
      msg = err.message;
  }
  lua_pushstring(L, action == KMS_RETRY_AGAIN ? "retry"
                    : action == KMS_RETRY_SKEW ? "skew" : "stop");
  lua_pushnumber(L, (lua_Number)delay);
  if (msg)
    lua_pushstring(L, msg);
  else
    lua_pushnil(L);
  return 3;
}
/* }===== */

/* req:set(member, value|nil) -> true | nil, message, code, details
 * Sets (or, with nil, unsets) one member by its API name or dotted path.
 * UpdateCustomKeyStore only. */
static int lkms_request_set(lua_State *L)
{
  lkms_request *r = check_request(L, 1);
  size_t nlen, vlen = 0;
  const char *name = luaL_checklstring(L, 2, &nlen);
  const char *value = NULL;
  char shown[72];
  kms_member m;
  kms_error err;

  if (!lua_isnoneornil(L, 3))
    value = luaL_checklstring(L, 3, &vlen);
  luaL_argcheck(L, r->op == KMS_OP_UPDATE_CUSTOM_KEY_STORE, 1,
                "set works on UpdateCustomKeyStore requests only");
  m = strlen(name) == nlen ? kms_member_lookup(name) : KMS_M__COUNT;
  if (m == KMS_M__COUNT)
    return lkms_fail(L, KMS_ERR_PARSE, "unknown member \"%s\"",
                     lkms_printable(name, nlen, shown, sizeof shown));
  if (!value) {
    kms_request_unset(r->req, m);
  } else {
    lkms_error_init(&err);
    if (kms_request_set(r->req, m, value, vlen, &err) != KMS_OK)
      return lkms_pusherror(L, &err, NULL);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* req:operation() -> "UpdateCustomKeyStore", ... */
static int lkms_request_operation(lua_State *L)
{
  lkms_request *r = (lkms_request *)lkms_checkudata(L, 1, LKMS_UV_REQUEST_MT,
                                  LKMS_REQUEST_MT);
  lua_pushstring(L, kms_operation_name(r->op));
  return 1;
}

/* req:close(): wipes the C-side secrets now; later use raises. */
static int lkms_request_close(lua_State *L)
{
  release((lkms_request *)lkms_checkudata(L, 1, LKMS_UV_REQUEST_MT,
                                  LKMS_REQUEST_MT));
  return 0;
}

static int lkms_request__gc(lua_State *L)
{
  release((lkms_request *)lkms_checkudata(L, 1, LKMS_UV_REQUEST_MT,
                                  LKMS_REQUEST_MT));
  return 0;
}

/* The address only: never a member value. */
static int lkms_request__tostring(lua_State *L)
{
  lkms_request *r = (lkms_request *)lkms_checkudata(L, 1, LKMS_UV_REQUEST_MT,
                                  LKMS_REQUEST_MT);
  if (r->closed)
    lua_pushliteral(L, "kms.request (closed)");
  else
    lua_pushfstring(L, "kms.request (%p)", (void *)r);
  return 1;
}

static const luaL_Reg request_methods[] = {
  {"validate", lkms_request_validate},
  {"sign", lkms_request_sign},
  {"send", lkms_request_send_m},
  {"json", lkms_request_json},
  {"check", lkms_request_check},
  {"after_attempt", lkms_request_after_attempt},
  {"set", lkms_request_set},
  {"operation", lkms_request_operation},
  {"close", lkms_request_close},
  {NULL, NULL}
};

static const luaL_Reg request_meta[] = {
  {"__gc", lkms_request__gc},
  {"__close", lkms_request__gc},
  {"__tostring", lkms_request__tostring},
  {NULL, NULL}
};

void lkms_request_open(lua_State *L, int req_mt, int client_mt)
{
  lua_pushvalue(L, req_mt);                       /* mt */
  lkms_setfuncs(L, request_meta, req_mt, client_mt);
  lua_createtable(L, 0, 10);                      /* mt, methods */
  lkms_setfuncs(L, request_methods, req_mt, client_mt);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "kms.request");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}
