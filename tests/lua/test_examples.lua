-- test_examples.lua - runs examples/lua/policy.lua, as a user would, in
-- this interpreter against the KMS emulator: a plan sends nothing, --apply
-- sends a verified request, an invalid change is refused with its
-- problems, and no secret is printed. Runs in lua5.4, lua5.3 and luajit.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"

local case = T.case
if not T.endpoint then
  print("SKIP: no emulator (run through tests/lua/run.py --emulator)")
  os.exit(77)
end

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local policy = here .. "/../../examples/lua/policy.lua"
local interp = arg[-1]
local CLOUDHSM, XKS = "cks-1234567890abcdef0", "cks-0987654321fedcba0"
local tmp = os.tmpname()

-- Runs the example with a desired-settings file; returns its output and
-- exit status. AWS_ENDPOINT_URL_KMS points the client at the emulator.
local function run(settings, ...)
  local f = assert(io.open(tmp, "w"))
  f:write(settings)
  f:close()
  local env = "AWS_ENDPOINT_URL_KMS='" .. T.endpoint .. "'"
  if os.getenv("KMS_TEST_CA") then env = env .. " AWS_CA_BUNDLE='" .. os.getenv("KMS_TEST_CA") .. "'" end
  local cmd = ("%s %s %s %s %s 2>&1; echo \"exit=$?\""):format(env, interp, policy, tmp,
                                                               table.concat({ ... }, " "))
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

print("# " .. T.lua .. ": " .. policy)

case("plan: shows the store and the change, sends nothing", function()
  T.emu_clear()
  local out, rc = run(('return { CustomKeyStoreId = %q, NewCustomKeyStoreName = "Finance" }')
                      :format(CLOUDHSM))
  assert(rc == 0, out)
  assert(out:find("store " .. CLOUDHSM, 1, true) and out:find("AWS_CLOUDHSM", 1, true), out)
  assert(out:find("plan only", 1, true), out)
  assert(#T.emu_requests("UpdateCustomKeyStore") == 0)
  local d = T.emu_requests("DescribeCustomKeyStores")
  assert(#d == 1 and d[1].signature_valid == true)
end)

case("--apply: sent once, signature verified, right body", function()
  T.emu_clear()
  local out, rc = run(('return { CustomKeyStoreId = %q, NewCustomKeyStoreName = "Finance" }')
                      :format(CLOUDHSM), "--apply")
  assert(rc == 0 and out:find("updated " .. CLOUDHSM, 1, true), out)
  local u = T.emu_requests("UpdateCustomKeyStore")
  assert(#u == 1 and u[1].signature_valid == true)
  assert(u[1].body == '{"CustomKeyStoreId": "cks-1234567890abcdef0", '
                      .. '"NewCustomKeyStoreName": "Finance"}', u[1].body)
end)

case("invalid for this store: every problem printed, nothing sent, no secret", function()
  T.emu_clear()
  local out, rc = run(('return { CustomKeyStoreId = %q, KeyStorePassword = "SuperSecret99",'
    .. ' XksProxyUriPath = "/bad" }'):format(XKS), "--apply")
  assert(rc == 1, out)
  assert(out:find("context.type", 1, true) and out:find("KeyStorePassword", 1, true), out)
  assert(out:find("XksProxyUriPath", 1, true), out)
  assert(not out:find("SuperSecret99", 1, true), "secret printed")
  assert(#T.emu_requests("UpdateCustomKeyStore") == 0)
end)

case("KMS error: exit 3 with the error type", function()
  T.emu_clear()
  local out, rc = run('return { CustomKeyStoreId = "cks-00000000000000000", '
                      .. 'NewCustomKeyStoreName = "x" }', "--apply")
  assert(rc == 3 and out:find("CustomKeyStoreNotFoundException", 1, true), out)
end)

case("usage errors: exit 2", function()
  local _, rc = run("return 42")
  assert(rc == 2)
  _, rc = run("return {}", "--bogus")
  assert(rc == 2)
end)

os.remove(tmp)
T.done()
