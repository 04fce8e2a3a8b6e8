/* compat.h - one C source for the Lua 5.4, Lua 5.3 (HAProxy) and LuaJIT 2.1
 * (OpenResty, Lua 5.1 ABI) builds of the kms module. Only what the binding
 * uses is papered over; everything else is the common subset of the three
 * C APIs (LuaJIT 2.1 already has luaL_setfuncs, luaL_newlib, luaL_testudata
 * and luaL_setmetatable). */
#ifndef LKMS_COMPAT_H
#define LKMS_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

/* With -fvisibility=hidden the entry point must be exported by hand:
 * LUAMOD_API carries no visibility attribute. */
#if defined(__GNUC__)
#define LKMS_EXPORT __attribute__((visibility("default")))
#else
#define LKMS_EXPORT
#endif

#if LUA_VERSION_NUM == 501 && defined(LUA_LJDIR)
#define LKMS_LUAJIT 1 /* LuaJIT's luaconf.h defines LUA_LJDIR */
#endif

#if LUA_VERSION_NUM < 502 && !defined(LKMS_LUAJIT)
#error "kms needs Lua 5.3, Lua 5.4 or LuaJIT 2.1"
#endif

#if LUA_VERSION_NUM < 502 /* LuaJIT: the Lua 5.1 ABI */
#define lkms_rawlen(L, i) lua_objlen((L), (i))
#define lkms_absindex(L, i) \
  (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#else
#define lkms_rawlen(L, i) lua_rawlen((L), (i))
#define lkms_absindex(L, i) lua_absindex((L), (i))
#endif

#if LUA_VERSION_NUM >= 504
#define lkms_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 0)
#else
#define lkms_newuserdata(L, sz) lua_newuserdata((L), (sz))
#endif

#endif /* LKMS_COMPAT_H */
