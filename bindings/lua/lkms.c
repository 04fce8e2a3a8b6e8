/* lkms.c - the Lua module "kms": luaopen_kms, the operation tables
 * (kms.update_custom_key_store and friends: callable, with .build), the
 * error convention (nil, message, code, details) and JSON decoding of
 * responses. Types and errors are translated here; every rule lives in
 * the C core. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cJSON.h>
#include "lkms.h"

/* {=====================================================================
 * Errors: nil, message, code, details
 * ===================================================================== */

void lkms_pushproblems(lua_State *L, const kms_problems *problems)
{
  size_t i, n = problems ? kms_problems_count(problems) : 0;

  lua_createtable(L, (int)n, 0);                  /* list */
  for (i = 0; i < n; i++) {
    const kms_problem *p = kms_problems_at(problems, i);
    if (!p)
      continue;
    lua_createtable(L, 0, 4);                     /* list, problem */
    lua_pushstring(L, p->code ? p->code : "");
    lua_setfield(L, -2, "code");
    lua_pushstring(L, p->member ? p->member : "");
    lua_setfield(L, -2, "member");
    lua_pushstring(L, p->message);
    lua_setfield(L, -2, "message");
    lua_pushstring(L, p->severity == KMS_SEVERITY_WARNING ? "warning"
                                                          : "error");
    lua_setfield(L, -2, "severity");
    lua_rawseti(L, -2, (int)i + 1);               /* list */
  }
}

int lkms_pusherror(lua_State *L, const kms_error *err,
                   const kms_problems *problems)
{
  kms_status st = err->status == KMS_OK ? KMS_ERR_INVALID_ARG : err->status;
  const char *name = kms_strerror(st);

  lua_pushnil(L);
  lua_pushstring(L, err->message[0] ? err->message : name);
  lua_pushstring(L, err->aws_type[0] ? err->aws_type : name);
  lua_createtable(L, 0, 7);                       /* nil, msg, code, details */
  lua_pushstring(L, name);
  lua_setfield(L, -2, "status");
  if (err->aws_type[0]) {
    lua_pushstring(L, err->aws_type);
    lua_setfield(L, -2, "type");
  }
  if (err->http_status > 0) {
    lua_pushinteger(L, (lua_Integer)err->http_status);
    lua_setfield(L, -2, "http_status");
  }
  if (err->request_id[0]) {
    lua_pushstring(L, err->request_id);
    lua_setfield(L, -2, "request_id");
  }
  if (err->attempts > 0) {
    lua_pushinteger(L, err->attempts);
    lua_setfield(L, -2, "attempts");
  }
  lua_pushboolean(L, kms_error_is_retryable(err));
  lua_setfield(L, -2, "retryable");
  if (problems) {
    lkms_pushproblems(L, problems);
    lua_setfield(L, -2, "problems");
  }
  return 4;
}

int lkms_fail(lua_State *L, kms_status status, const char *fmt, ...)
{
  kms_error err;
  va_list ap;

  kms_error_clear(&err);
  err.status = status;
  va_start(ap, fmt);
  vsnprintf(err.message, sizeof err.message, fmt, ap);
  va_end(ap);
  return lkms_pusherror(L, &err, NULL);
}

const char *lkms_printable(const char *s, size_t len, char *out, size_t size)
{
  size_t i, n = len < size - 1 ? len : size - 1;

  if (n > 64)
    n = 64;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  out[n] = '\0';
  return out;
}

void *lkms_testudata(lua_State *L, int idx, int mt_uv)
{
  void *p = lua_touserdata(L, idx);
  int same;

  if (!p || !lua_getmetatable(L, idx))
    return NULL;
  same = lua_rawequal(L, -1, mt_uv);
  lua_pop(L, 1);
  return same ? p : NULL;
}

void *lkms_checkudata(lua_State *L, int idx, int mt_uv, const char *tname)
{
  void *p = lkms_testudata(L, idx, mt_uv);
  return p ? p : luaL_checkudata(L, idx, tname);  /* raises */
}

void lkms_setfuncs(lua_State *L, const luaL_Reg *l, int req_mt,
                   int client_mt)
{
  lua_pushvalue(L, req_mt);
  lua_pushvalue(L, client_mt);
  luaL_setfuncs(L, l, 2);
}

void lkms_checkoptions(lua_State *L, int arg, const char *const names[])
{
  arg = lkms_absindex(L, arg);
  lua_pushnil(L);
  while (lua_next(L, arg)) {                      /* key, value */
    size_t i, len;
    const char *key;
    char shown[72];
    if (lua_type(L, -2) != LUA_TSTRING) {
      luaL_argerror(L, arg, lua_pushfstring(L, "option names must be "
                    "strings, got %s", luaL_typename(L, -2)));
    }
    key = lua_tolstring(L, -2, &len);
    for (i = 0; names[i]; i++)
      if (strlen(names[i]) == len && memcmp(names[i], key, len) == 0)
        break;
    if (!names[i]) {
      luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s'",
                    lkms_printable(key, len, shown, sizeof shown)));
    }
    lua_pop(L, 1);                                /* key */
  }
}

/* {=====================================================================
 * JSON to Lua
 * ===================================================================== */

static void push_cjson(lua_State *L, const cJSON *item)
{
  const cJSON *child;
  int i = 0;

  luaL_checkstack(L, 4, "kms: JSON nested too deeply");
  if (cJSON_IsObject(item)) {
    lua_newtable(L);
    for (child = item->child; child; child = child->next) {
      push_cjson(L, child);                       /* t, value */
      lua_setfield(L, -2, child->string ? child->string : "");
    }
  } else if (cJSON_IsArray(item)) {
    lua_newtable(L);
    for (child = item->child; child; child = child->next) {
      push_cjson(L, child);
      lua_rawseti(L, -2, ++i);
    }
  } else if (cJSON_IsString(item)) {
    lua_pushstring(L, item->valuestring);
  } else if (cJSON_IsNumber(item)) {
    double d = item->valuedouble;
#if LUA_VERSION_NUM >= 503
    if (d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
        d == (double)(long long)d)
      lua_pushinteger(L, (lua_Integer)d);
    else
#endif
      lua_pushnumber(L, (lua_Number)d);
  } else if (cJSON_IsBool(item)) {
    lua_pushboolean(L, cJSON_IsTrue(item));
  } else {
    lua_pushlightuserdata(L, NULL);               /* kms.null */
  }
}

void lkms_pushobject(lua_State *L, const char *json, size_t len)
{
  cJSON *root = len ? cJSON_ParseWithLength(json, len) : NULL;

  if (cJSON_IsObject(root))
    push_cjson(L, root);
  else
    lua_newtable(L);
  cJSON_Delete(root);
}

kms_status lkms_pushjson(lua_State *L, const char *json, size_t len,
                         kms_error *err)
{
  cJSON *root;

  if (len == 0) {                                 /* an empty body is {} */
    lua_newtable(L);
    return KMS_OK;
  }
  root = cJSON_ParseWithLength(json, len);
  if (!root) {
    kms_error_clear(err);
    err->status = KMS_ERR_RESPONSE;
    snprintf(err->message, sizeof err->message,
             "response: the body is not JSON (%zu bytes)", len);
    return KMS_ERR_RESPONSE;
  }
  /* push_cjson raises only when the Lua stack cannot grow; the tree is
   * then leaked, which a nesting limit in cJSON (1000) keeps bounded. */
  push_cjson(L, root);
  cJSON_Delete(root);
  return KMS_OK;
}

/* {=====================================================================
 * Module functions
 * ===================================================================== */

/* kms.failure(status, message [, http_status]) -> nil, message, code,
 * details. For transports written in Lua: turns a socket failure
 * ("connect", "read_timeout", "connection_closed", ...) into the same
 * shape as a C-side failure, with the core's retry decision. */
static int lkms_failure(lua_State *L)
{
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  const char *msg = luaL_optstring(L, 2, NULL);
  lua_Integer http = luaL_optinteger(L, 3, 0);
  kms_error err;
  int s;

  kms_error_clear(&err);
  for (s = 1; s < KMS_ERR__COUNT; s++)
    if (strcmp(kms_strerror((kms_status)s), name) == 0 &&
        strlen(name) == len)
      break;
  if (s == KMS_ERR__COUNT)
    return luaL_argerror(L, 1, lua_pushfstring(L, "unknown status '%s'",
                                               name));
  err.status = (kms_status)s;
  err.http_status = (long)http;
  snprintf(err.message, sizeof err.message, "%s", msg ? msg : name);
  return lkms_pusherror(L, &err, NULL);
}

/* kms.type(v) -> "client" | "request" | nil: what a value is, without
 * raising (for the pure-Lua transports' argument checks). */
static int lkms_type(lua_State *L)
{
  if (lkms_testudata(L, 1, LKMS_UV_CLIENT_MT))
    lua_pushliteral(L, "client");
  else if (lkms_testudata(L, 1, LKMS_UV_REQUEST_MT))
    lua_pushliteral(L, "request");
  else
    lua_pushnil(L);
  return 1;
}

/* .build(params) of an operation table; the operation is upvalue 1. */
static int lkms_op_build(lua_State *L)
{
  kms_operation op = (kms_operation)lua_tointeger(L, LKMS_UV_OP);
  lua_settop(L, 1);
  if (op == KMS_OP_DESCRIBE_CUSTOM_KEY_STORES && lua_isnil(L, 1)) {
    lua_newtable(L);                    /* describe every store */
    lua_replace(L, 1);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  return lkms_request_build(L, op, 1);
}

/* kms.update_custom_key_store.from_json(text): the --cli-input-json
 * shape, loaded by the core (key order kept as the AWS CLI keeps it). */
static int lkms_op_from_json(lua_State *L)
{
  size_t len;
  const char *json = luaL_checklstring(L, 1, &len);
  return lkms_request_from_json(L, json, len);
}

/* The __call of an operation table: op(params, client_or_opts, context)
 * builds, validates and sends in one step. client_or_opts is a
 * kms.client, a table of kms.client options (a client is made and closed
 * for this call), or nil (a client from the environment). The request's
 * secrets are wiped before returning. */
static int lkms_op_call(lua_State *L)
{
  kms_operation op = (kms_operation)lua_tointeger(L, LKMS_UV_OP);
  int n, client_idx, req_idx, temp = 0;

  lua_remove(L, 1);            /* the operation table: params become #1 */
  if (op == KMS_OP_DESCRIBE_CUSTOM_KEY_STORES && lua_isnoneornil(L, 1)) {
    lua_settop(L, 3);
    lua_newtable(L);                     /* describe every store */
    lua_replace(L, 1);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lkms_client_test(L, 2) && !lua_isnoneornil(L, 2) &&
      !lua_istable(L, 2))
    luaL_argerror(L, 2, lua_pushfstring(L, "kms.client or table expected, "
                  "got %s", luaL_typename(L, 2)));
  lkms_check_context(L, 3);    /* misuse raises before anything is made */
  lua_settop(L, 3);            /* params, client|opts|nil, context|nil */
  if (lkms_client_test(L, 2)) {
    lkms_client_check(L, 2);
    client_idx = 2;
  } else {
    if (lkms_client_make(L, 2) != 1)     /* ..., nil, msg, code, details */
      return 4;
    client_idx = lua_gettop(L);          /* ..., client */
    temp = 1;
  }
  n = lkms_request_build(L, op, 1);
  if (n != 1) {
    if (temp)
      lkms_client_release(L, client_idx);
    return n;
  }
  req_idx = lua_gettop(L);
  n = lkms_request_send(L, req_idx, client_idx, 3);
  lkms_request_release(L, req_idx);               /* wipe secrets now */
  if (temp)
    lkms_client_release(L, client_idx);
  return n;
}

static const struct {
  const char *lua_name;
  kms_operation op;
} operations[] = {
  {"update_custom_key_store", KMS_OP_UPDATE_CUSTOM_KEY_STORE},
  {"describe_custom_key_stores", KMS_OP_DESCRIBE_CUSTOM_KEY_STORES},
  {"connect_custom_key_store", KMS_OP_CONNECT_CUSTOM_KEY_STORE},
  {"disconnect_custom_key_store", KMS_OP_DISCONNECT_CUSTOM_KEY_STORE},
};

/* The upvalues of an operation closure: the two metatables, op, and the
 * member name tables (at the absolute indices given). */
static void push_op_closure(lua_State *L, lua_CFunction f, kms_operation op,
                            const int up[4])
{
  lua_pushvalue(L, up[0]);
  lua_pushvalue(L, up[1]);
  lua_pushinteger(L, (lua_Integer)op);
  lua_pushvalue(L, up[2]);
  lua_pushvalue(L, up[3]);
  lua_pushcclosure(L, f, 5);
}

/* Pushes the callable table of one operation:
 * { name = "UpdateCustomKeyStore", build = f [, from_json = f] }
 * with a metatable whose __call sends in one step. up holds the stack
 * indices of the request and client metatables and the member tables. */
static void push_operation(lua_State *L, kms_operation op, const int up[4])
{
  lua_createtable(L, 0, 3);                       /* op */
  lua_pushstring(L, kms_operation_name(op));
  lua_setfield(L, -2, "name");
  push_op_closure(L, lkms_op_build, op, up);
  lua_setfield(L, -2, "build");
  if (op == KMS_OP_UPDATE_CUSTOM_KEY_STORE) {
    push_op_closure(L, lkms_op_from_json, op, up);
    lua_setfield(L, -2, "from_json");
  }
  lua_createtable(L, 0, 1);                       /* op, mt */
  push_op_closure(L, lkms_op_call, op, up);
  lua_setfield(L, -2, "__call");
  lua_setmetatable(L, -2);                        /* op */
}

static const luaL_Reg lkms_funcs[] = {
  {"client", lkms_client_new},
  {"failure", lkms_failure},
  {"type", lkms_type},
  {NULL, NULL}
};

/* The module's only export. The C side of kms: build, validate, sign,
 * send through the core's libcurl transport, and map a response that a
 * host received itself. The pure-Lua transports (kms.resty, kms.haproxy)
 * are separate modules that require this one. */
LKMS_EXPORT int luaopen_kms(lua_State *L);

int luaopen_kms(lua_State *L)
{
  size_t i;
  int up[4];

  luaL_newmetatable(L, LKMS_REQUEST_MT);          /* req_mt */
  up[0] = lua_gettop(L);
  luaL_newmetatable(L, LKMS_CLIENT_MT);           /* req_mt, client_mt */
  up[1] = lua_gettop(L);
  lkms_member_tables(L);                  /* req_mt, client_mt, mem, cred */
  up[2] = up[1] + 1;
  up[3] = up[1] + 2;
  lkms_request_open(L, up[0], up[1]);
  lkms_client_open(L, up[0], up[1]);
  lua_createtable(L, 0, 16);                      /* ..., kms */
  lkms_setfuncs(L, lkms_funcs, up[0], up[1]);
  lua_pushfstring(L, "%s", kms_version());
  lua_setfield(L, -2, "VERSION");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  for (i = 0; i < sizeof operations / sizeof operations[0]; i++) {
    push_operation(L, operations[i].op, up);
    lua_setfield(L, -2, operations[i].lua_name);
  }
  return 1;                                       /* kms */
}
