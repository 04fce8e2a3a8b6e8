/* lkms_client.c - the "kms.client" userdata: a kms_client made from a
 * table of settings passed to kms_config_set by name, so Lua gets the
 * same configuration and credential chain as the C core and the CLI. */
#include <stdio.h>
#include <string.h>
#include "lkms.h"

lkms_client *lkms_client_test(lua_State *L, int idx)
{
  return (lkms_client *)lkms_testudata(L, idx, LKMS_UV_CLIENT_MT);
}

lkms_client *lkms_client_check(lua_State *L, int idx)
{
  lkms_client *c = (lkms_client *)lkms_checkudata(L, idx, LKMS_UV_CLIENT_MT,
                                                  LKMS_CLIENT_MT);
  if (!c->c)
    luaL_argerror(L, idx, "kms.client is closed");
  return c;
}

void lkms_client_release(lua_State *L, int idx)
{
  lkms_client *c = lkms_client_test(L, idx);
  if (c && c->c) {
    kms_client_free(c->c);                        /* wipes credentials */
    c->c = NULL;
  }
}

/* The names of the credentials sub-table and the settings they map to. */
static const char *const credential_keys[][2] = {
  {"access_key_id", "access_key_id"},
  {"secret_access_key", "secret_access_key"},
  {"session_token", "session_token"},
};
#define N_CREDENTIAL_KEYS (sizeof credential_keys / sizeof credential_keys[0])

/* Raises unless the value at -1 can become a setting (string, number,
 * boolean). key names it in the message. */
static void check_setting_value(lua_State *L, int idx, const char *key)
{
  int t = lua_type(L, -1);
  if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN)
    luaL_argerror(L, idx, lua_pushfstring(L, "option '%s': string, number "
                  "or boolean expected, got %s", key, lua_typename(L, t)));
}

/* Pass 1: every misuse (non-string key, table where a scalar belongs, an
 * unknown credentials key) raises before anything is allocated. */
static void check_options(lua_State *L, int idx)
{
  lua_pushnil(L);
  while (lua_next(L, idx)) {                      /* key, value */
    const char *key;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_argerror(L, idx, lua_pushfstring(L, "option names must be "
                    "strings, got %s", luaL_typename(L, -2)));
    key = lua_tostring(L, -2);
    if (strcmp(key, "credentials") == 0) {
      int cred = lua_gettop(L);
      luaL_argcheck(L, lua_type(L, -1) == LUA_TTABLE, idx,
                    "option 'credentials': table expected");
      lua_pushnil(L);
      while (lua_next(L, cred)) {                 /* key, cred, k, v */
        size_t i, len;
        const char *k;
        char shown[72];
        if (lua_type(L, -2) != LUA_TSTRING)
          luaL_argerror(L, idx, "option 'credentials': names must be strings");
        k = lua_tolstring(L, -2, &len);
        for (i = 0; i < N_CREDENTIAL_KEYS; i++)
          if (strcmp(credential_keys[i][0], k) == 0)
            break;
        if (i == N_CREDENTIAL_KEYS)
          luaL_argerror(L, idx, lua_pushfstring(L, "option 'credentials': "
                        "unknown key '%s' (access_key_id, secret_access_key,"
                        " session_token)",
                        lkms_printable(k, len, shown, sizeof shown)));
        if (lua_type(L, -1) != LUA_TSTRING)
          luaL_argerror(L, idx, lua_pushfstring(L, "option 'credentials.%s': "
                        "string expected, got %s", k, luaL_typename(L, -1)));
        lua_pop(L, 1);
      }
    } else {
      check_setting_value(L, idx, key);
    }
    lua_pop(L, 1);
  }
}

/* The value at -1 as a setting string in buf (numbers and booleans
 * converted; strings borrowed). *len receives its length. */
static const char *setting_string(lua_State *L, char *buf, size_t size,
                                  size_t *len)
{
  switch (lua_type(L, -1)) {
  case LUA_TBOOLEAN:
    snprintf(buf, size, "%s", lua_toboolean(L, -1) ? "true" : "false");
    break;
  case LUA_TNUMBER: {
    lua_Number n = lua_tonumber(L, -1);
    if (n >= -1e15 && n <= 1e15 && n == (lua_Number)(long long)n)
      snprintf(buf, size, "%lld", (long long)n);
    else
      snprintf(buf, size, "%.17g", (double)n);
    break;
  }
  default:
    return lua_tolstring(L, -1, len);
  }
  *len = strlen(buf);
  return buf;
}

/* kms_config_set with a Lua string that may hold a NUL. */
static kms_status config_set(kms_config *cfg, const char *name,
                             const char *value, size_t len, kms_error *err)
{
  if (strlen(value) != len) {
    kms_error_clear(err);
    err->status = KMS_ERR_CONFIG;
    snprintf(err->message, sizeof err->message,
             "config: the value of '%s' contains a NUL byte", name);
    return KMS_ERR_CONFIG;
  }
  return kms_config_set(cfg, name, value, err);
}

/* Pass 2: no Lua error can be raised here except out of memory. */
static kms_status apply_options(lua_State *L, int idx, kms_config *cfg,
                                kms_error *err)
{
  kms_status st = KMS_OK;
  char num[64];

  lua_pushnil(L);
  while (st == KMS_OK && lua_next(L, idx)) {      /* key, value */
    const char *key = lua_tostring(L, -2);
    size_t len = 0;
    if (strcmp(key, "credentials") == 0) {
      size_t i;
      for (i = 0; st == KMS_OK && i < N_CREDENTIAL_KEYS; i++) {
        const char *v;
        lua_getfield(L, -1, credential_keys[i][0]);
        v = lua_tolstring(L, -1, &len);
        if (v)
          st = config_set(cfg, credential_keys[i][1], v, len, err);
        lua_pop(L, 1);
      }
    } else {
      const char *v = setting_string(L, num, sizeof num, &len);
      st = config_set(cfg, key, v, len, err);
    }
    lua_pop(L, 1);
  }
  if (st != KMS_OK)
    lua_pop(L, 1);                                /* the key lua_next left */
  return st;
}

/* Makes a client from the options table at idx (or none when idx holds
 * nil) and pushes it, or pushes nil, message, code, details. Misuse
 * raises, naming argument idx. */
int lkms_client_make(lua_State *L, int idx)
{
  kms_error err;
  kms_config *cfg;
  kms_status st;
  lkms_client *c;
  int opts = lua_istable(L, idx);

  idx = lkms_absindex(L, idx);
  if (opts)
    check_options(L, idx);
  c = (lkms_client *)lkms_newuserdata(L, sizeof *c);  /* ..., client */
  memset(c, 0, sizeof *c);
  lua_pushvalue(L, LKMS_UV_CLIENT_MT);
  lua_setmetatable(L, -2);

  kms_error_clear(&err);
  cfg = kms_config_new(NULL, NULL, &err);
  if (!cfg)
    return lkms_pusherror(L, &err, NULL);
  st = opts ? apply_options(L, idx, cfg, &err) : KMS_OK;
  if (st == KMS_OK) {
    c->c = kms_client_new(cfg, &err);
    if (!c->c)
      st = err.status != KMS_OK ? err.status : KMS_ERR_CONFIG;
  }
  kms_config_free(cfg);                           /* wipes the secrets */
  if (st != KMS_OK)
    return lkms_pusherror(L, &err, NULL);
  return 1;
}

/* kms.client([opts]) -> client | nil, message, code, details
 * opts: region, profile, endpoint_url, credentials = {access_key_id,
 * secret_access_key, session_token}, retry_mode, max_attempts,
 * connect_timeout, read_timeout, ca_bundle, verify_tls and every other
 * kms_config_set name. Anything not given is resolved the AWS way. */
int lkms_client_new(lua_State *L)
{
  if (!lua_isnoneornil(L, 1))
    luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  return lkms_client_make(L, 1);
}

/* client:region() -> the resolved region */
static int lkms_client_region(lua_State *L)
{
  lkms_client *c = lkms_client_check(L, 1);
  lua_pushstring(L, kms_client_region(c->c));
  return 1;
}

/* client:endpoint() -> the resolved endpoint URL */
static int lkms_client_endpoint(lua_State *L)
{
  lkms_client *c = lkms_client_check(L, 1);
  lua_pushstring(L, kms_client_endpoint(c->c));
  return 1;
}

/* client:settings() -> { region, endpoint, max_attempts, retry_mode,
 * connect_timeout, read_timeout (seconds, 0 = none), verify_tls,
 * ca_bundle }: the resolved values, which the Lua transports apply. No
 * secret is returned. */
static int lkms_client_settings(lua_State *L)
{
  lkms_client *c = lkms_client_check(L, 1);
  kms_transport_opts o;

  kms_client_transport_opts(c->c, &o);            /* c->c is open */
  lua_createtable(L, 0, 8);
  lua_pushstring(L, kms_client_region(c->c));
  lua_setfield(L, -2, "region");
  lua_pushstring(L, kms_client_endpoint(c->c));
  lua_setfield(L, -2, "endpoint");
  lua_pushinteger(L, kms_client_max_attempts(c->c));
  lua_setfield(L, -2, "max_attempts");
  lua_pushstring(L, kms_client_retry_mode(c->c));
  lua_setfield(L, -2, "retry_mode");
  lua_pushnumber(L, (lua_Number)o.connect_timeout_ms / 1000);
  lua_setfield(L, -2, "connect_timeout");
  lua_pushnumber(L, (lua_Number)o.read_timeout_ms / 1000);
  lua_setfield(L, -2, "read_timeout");
  lua_pushboolean(L, o.verify_tls);
  lua_setfield(L, -2, "verify_tls");
  if (o.ca_bundle && o.ca_bundle[0]) {
    lua_pushstring(L, o.ca_bundle);
    lua_setfield(L, -2, "ca_bundle");
  }
  return 1;
}

/* client:before_send() -> seconds
 * For the Lua transports, before each attempt: in adaptive mode, once
 * throttling has been seen, the core's client-side rate limiter takes a
 * token and says how long to wait first (0 in standard mode). The caller
 * sleeps that long with the host's non-blocking sleep. */
static int lkms_client_before_send(lua_State *L)
{
  lkms_client *c = lkms_client_check(L, 1);
  lua_pushnumber(L, (lua_Number)kms_client_before_send(c->c));
  return 1;
}

/* client:close(): frees the C client now (wiping credentials); later
 * use raises. Also __gc and __close. */
static int lkms_client_close(lua_State *L)
{
  lkms_checkudata(L, 1, LKMS_UV_CLIENT_MT, LKMS_CLIENT_MT);
  lkms_client_release(L, 1);
  return 0;
}

static int lkms_client__gc(lua_State *L)
{
  lkms_client_release(L, 1);
  return 0;
}

/* Shows the address only, never a setting. */
static int lkms_client__tostring(lua_State *L)
{
  lkms_client *c = (lkms_client *)lkms_checkudata(L, 1, LKMS_UV_CLIENT_MT,
                                                  LKMS_CLIENT_MT);
  if (c->c)
    lua_pushfstring(L, "kms.client (%p)", (void *)c);
  else
    lua_pushliteral(L, "kms.client (closed)");
  return 1;
}

static const luaL_Reg client_methods[] = {
  {"region", lkms_client_region},
  {"endpoint", lkms_client_endpoint},
  {"settings", lkms_client_settings},
  {"before_send", lkms_client_before_send},
  {"close", lkms_client_close},
  {NULL, NULL}
};

static const luaL_Reg client_meta[] = {
  {"__gc", lkms_client__gc},
  {"__close", lkms_client__gc},
  {"__tostring", lkms_client__tostring},
  {NULL, NULL}
};

void lkms_client_open(lua_State *L, int req_mt, int client_mt)
{
  lua_pushvalue(L, client_mt);                    /* mt */
  lkms_setfuncs(L, client_meta, req_mt, client_mt);
  lua_createtable(L, 0, 8);                       /* mt, methods */
  lkms_setfuncs(L, client_methods, req_mt, client_mt);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "kms.client");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}
