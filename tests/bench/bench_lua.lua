-- bench_lua.lua - build + validate + sign per operation from Lua, the
-- same work as bench_lua_c.c does in C (same members, fixed signing
-- time).   <lua> bench_lua.lua [iterations]   prints "<lua>: N ops, X us/op"
-- A benchmark, not a test: nothing is asserted about speed.
local kms = require "kms"

local n = tonumber(arg and arg[1]) or 100000
local client = assert(kms.client{ region = "us-east-1",
  endpoint_url = "http://127.0.0.1:38865",
  credentials = { access_key_id = "AKIDEXAMPLE",
                  secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } })
local params = {
  CustomKeyStoreId = "cks-0987654321fedcba0",
  NewCustomKeyStoreName = "ExampleExternalKeyStore",
  XksProxyUriEndpoint = "https://myproxy.xks.example.com",
  XksProxyUriPath = "/kms/xks/v1",
  XksProxyAuthenticationCredential = { AccessKeyId = "AKIAXKSPROXYEXAMPLE2",
    RawSecretAccessKey = "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=" },
  XksProxyConnectivity = "PUBLIC_ENDPOINT",
}
local build = kms.update_custom_key_store.build
local sign_opts = { time = 1795889240, validate = false }

local function one()
  local req = build(params)
  assert(req:validate())
  local signed = req:sign(client, sign_opts)
  req:close()
  return signed
end

for _ = 1, math.floor(n / 10) + 1 do assert(one()) end     -- warm up (and the JIT)
local clock = os.clock
local t = clock()
for _ = 1, n do one() end
t = clock() - t
print(("%s: %d ops, %.2f us/op"):format(jit and jit.version or _VERSION, n, t * 1e6 / n))
