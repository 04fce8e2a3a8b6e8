/* lkms.h - declarations shared by the files of the Lua binding (module
 * table, kms.client, kms.request). Everything here has hidden visibility:
 * the module exports luaopen_kms only. */
#ifndef LKMS_H
#define LKMS_H

#include "compat.h"
#include "kms/kms.h"

#define LKMS_CLIENT_MT "kms.client"
#define LKMS_REQUEST_MT "kms.request"

/* Every C function of the module carries the two metatables as upvalues
 * 1 and 2, so that a type check is a pointer comparison instead of a
 * registry lookup by name (the hot paths make several per operation).
 * The operation closures also carry the operation (3) and the member name
 * tables (4, 5). */
#define LKMS_UV_REQUEST_MT lua_upvalueindex(1)
#define LKMS_UV_CLIENT_MT lua_upvalueindex(2)
#define LKMS_UV_OP lua_upvalueindex(3)
#define LKMS_UV_MEMBERS lua_upvalueindex(4)
#define LKMS_UV_CRED_MEMBERS lua_upvalueindex(5)

/* A kms.client userdata. The C client resolves everything (region,
 * endpoint, credential chain, transport options) and owns the retry
 * policy (quota, adaptive limiter, clock skew). The pure-Lua transports
 * (kms.resty, kms.haproxy), which send through the host, read the
 * resolved settings and ask the same policy after every attempt
 * (kms_client_before_send, kms_client_retry_after), which never sleeps:
 * the waits are handed back to Lua (ngx.sleep, core.msleep). */
typedef struct lkms_client {
  kms_client *c;           /* NULL once closed */
} lkms_client;

/* A kms.request userdata: one operation ready to validate, sign or send.
 * UpdateCustomKeyStore keeps the typed model (secrets in wiped memory);
 * the helper operations keep their encoded body, and Describe keeps its
 * filter so the C client can follow NextMarker. */
typedef struct lkms_request {
  kms_operation op;
  int closed;
  kms_request *req;        /* UpdateCustomKeyStore only */
  kms_buf body;            /* the other operations */
  char *describe_id;       /* DescribeCustomKeyStores filter, or NULL */
  char *describe_name;
  int describe_paged;      /* Limit or Marker given: send one page only */
} lkms_request;

/* {===== lkms.c: module helpers ===== */

/* Pushes the runtime-failure convention: nil, message, code, details
 * (details = {status, http_status, request_id, attempts, retryable,
 * problems}). code is err->aws_type when set (the AWS error type or the
 * validation code), else the status name. problems may be NULL. Returns
 * 4 (the number of values pushed). */
int lkms_pusherror(lua_State *L, const kms_error *err,
                   const kms_problems *problems);

/* Fills err with status and a fixed message and pushes it as above. */
int lkms_fail(lua_State *L, kms_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Resets err cheaply before a call into the core (which fills every field
 * it reports on failure): kms_error_clear would zero all its ~900 bytes
 * on every call of the hot paths. */
static inline void lkms_error_init(kms_error *err)
{
  err->status = KMS_OK;
  err->http_status = 0;
  err->attempts = 0;
  err->retryable = 0;
  err->aws_type[0] = err->request_id[0] = err->message[0] = '\0';
}

/* Pushes the list of problems as {code, member, message, severity}. */
void lkms_pushproblems(lua_State *L, const kms_problems *problems);

/* Decodes JSON text into Lua values (objects and arrays as tables, null
 * as kms.null). Pushes one value and returns KMS_OK, or pushes nothing
 * and fills err (KMS_ERR_RESPONSE) when the text is not JSON. */
kms_status lkms_pushjson(lua_State *L, const char *json, size_t len,
                         kms_error *err);

/* Pushes the JSON object in json as a table, or an empty table when json
 * is empty or not a JSON object: a success body, read as the C client and
 * the AWS CLI read it. */
void lkms_pushobject(lua_State *L, const char *json, size_t len);

/* The userdata at idx when its metatable is the upvalue mt_uv, else
 * NULL. */
void *lkms_testudata(lua_State *L, int idx, int mt_uv);
/* The same, or the standard "bad argument (kms.x expected, got y)". */
void *lkms_checkudata(lua_State *L, int idx, int mt_uv, const char *tname);
/* luaL_setfuncs into the table at -1, with the metatables at the absolute
 * indices req_mt and client_mt as upvalues 1 and 2. */
void lkms_setfuncs(lua_State *L, const luaL_Reg *l, int req_mt,
                   int client_mt);

/* Raises "bad argument #arg to 'fn' (unknown option 'x')" unless every
 * key of the table at arg is in names (NULL-terminated). */
void lkms_checkoptions(lua_State *L, int arg, const char *const names[]);

/* A short printable copy of a Lua string for an error message: at most
 * 64 bytes, bytes outside printable ASCII shown as '?'. */
const char *lkms_printable(const char *s, size_t len, char *out,
                           size_t size);
/* }===== */

/* {===== lkms_client.c ===== */
/* Fills the kms.client metatable at client_mt. */
void lkms_client_open(lua_State *L, int req_mt, int client_mt);
/* kms.client(opts): pushes the client or nil, message, code, details. */
int lkms_client_new(lua_State *L);
/* The same from the options table (or nil) at idx; misuse names idx. */
int lkms_client_make(lua_State *L, int idx);
/* The open client at idx, or a raised argument error. */
lkms_client *lkms_client_check(lua_State *L, int idx);
/* The client at idx if it is a kms.client (open or not), else NULL. */
lkms_client *lkms_client_test(lua_State *L, int idx);
/* Frees the C client at idx (idempotent); the userdata stays, closed. */
void lkms_client_release(lua_State *L, int idx);
/* }===== */

/* {===== lkms_request.c ===== */
/* Fills the kms.request metatable at req_mt. */
void lkms_request_open(lua_State *L, int req_mt, int client_mt);
/* Pushes the member name tables (upvalues 4 and 5 of the operations). */
void lkms_member_tables(lua_State *L);
/* Builds a request for op from the params table at idx; pushes the
 * request, or nil, message, code, details; returns the count pushed. */
int lkms_request_build(lua_State *L, kms_operation op, int idx);
/* Builds the UpdateCustomKeyStore request from JSON text. */
int lkms_request_from_json(lua_State *L, const char *json, size_t len);
/* req:send(client, context): pushes the response table or the error. */
int lkms_request_send(lua_State *L, int req_idx, int client_idx,
                      int ctx_idx);
/* Raises unless the value at arg is nil or a valid store context table
 * (type, state, connectivity, store). */
void lkms_check_context(lua_State *L, int arg);
/* Wipes and frees the C side of the request at idx (idempotent). */
void lkms_request_release(lua_State *L, int idx);
/* }===== */

#endif /* LKMS_H */
