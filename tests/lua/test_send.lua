-- test_send.lua - the default transport (the C core's libcurl, blocking)
-- against the KMS emulator, which tests/lua/run.py starts on 127.0.0.1:
-- every request must reach it with a signature botocore verified and the
-- right body. Describe, update (one step and step by step), connect,
-- disconnect, KMS errors, retries after faults, timeouts, validation
-- against the store described. Runs in lua5.4, lua5.3 and luajit.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local kms = require "kms"

local case, fails = T.case, T.fails
if not T.endpoint then
  print("SKIP: no emulator (run through tests/lua/run.py --emulator)")
  os.exit(77)
end

local CLOUDHSM = "cks-1234567890abcdef0"
local XKS = "cks-0987654321fedcba0"
local CA = os.getenv("KMS_TEST_CA")

local function options(extra)
  local o = { endpoint_url = T.endpoint, max_attempts = 3 }
  if CA then o.ca_bundle = CA end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
local client = assert(kms.client(options()))

-- The only request the emulator received since the last clear: checks
-- that botocore verified its signature and that its body is body.
local function received(operation, body)
  local reqs = T.emu_requests(operation)
  assert(#reqs >= 1, "the emulator received no " .. operation)
  for _, r in ipairs(reqs) do
    assert(r.signature_valid == true, "signature not valid: " .. tostring(r.error_message))
    if body then assert(r.body == body, ("body %q, want %q"):format(r.body, body)) end
  end
  return reqs
end

print("# " .. T.lua .. " against " .. T.endpoint)

case("describe: every store, through the C core", function()
  T.emu_clear()
  local res = assert(kms.describe_custom_key_stores({}, client))
  local ids = {}
  for _, s in ipairs(res.CustomKeyStores) do ids[s.CustomKeyStoreId] = s end
  assert(ids[CLOUDHSM] and ids[XKS], "both seeded stores")
  assert(ids[CLOUDHSM].CustomKeyStoreType == "AWS_CLOUDHSM")
  assert(ids[XKS].XksProxyConfiguration.Connectivity == "PUBLIC_ENDPOINT")
  received("DescribeCustomKeyStores", "{}")
end)

case("update in one step: {} back, signed, the right body", function()
  T.emu_clear()
  local res = assert(kms.update_custom_key_store(
    { CustomKeyStoreId = CLOUDHSM, NewCustomKeyStoreName = "Renamed-" .. T.lua:gsub("%W", "") },
    client))
  assert(type(res) == "table" and next(res) == nil)
  received("UpdateCustomKeyStore", '{"CustomKeyStoreId": "cks-1234567890abcdef0", '
    .. '"NewCustomKeyStoreName": "Renamed-' .. T.lua:gsub("%W", "") .. '"}')
end)

case("update with client options instead of a client", function()
  T.emu_clear()
  assert(kms.update_custom_key_store({ CustomKeyStoreId = CLOUDHSM,
    NewCustomKeyStoreName = "ExampleKeyStore" }, options()))
  received("UpdateCustomKeyStore")
end)

case("step by step: build, validate against describe, send; secrets sent, not shown", function()
  T.emu_clear()
  local store = assert(kms.describe_custom_key_stores({ CustomKeyStoreId = XKS }, client))
    .CustomKeyStores[1]
  -- the proxy accepts this new credential
  T.emu("POST", "/config", '{"xks_proxies": {"credentials": {'
    .. '"https://myproxy.xks.example.com/kms/xks/v1": [{"access_key_id": '
    .. '"AKIAXKSPROXYEXAMPLE2", "secret_access_key": '
    .. '"7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="}]}}}')
  local req = assert(kms.update_custom_key_store.build{ CustomKeyStoreId = XKS,
    XksProxyAuthenticationCredential = { AccessKeyId = "AKIAXKSPROXYEXAMPLE2",
      RawSecretAccessKey = "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs=" } })
  local ok, problems = req:validate{ store = store }
  assert(ok, problems[1] and problems[1].message)
  assert(not req:json():find("7a6QGqd5", 1, true))
  assert(req:send(client, { store = store }))
  received("UpdateCustomKeyStore", '{"CustomKeyStoreId": "cks-0987654321fedcba0", '
    .. '"XksProxyAuthenticationCredential": {"AccessKeyId": "AKIAXKSPROXYEXAMPLE2", '
    .. '"RawSecretAccessKey": "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="}}')
  req:close()
end)

case("validation against the store: a CloudHSM member on an XKS store is not sent", function()
  T.emu_clear()
  local store = assert(kms.describe_custom_key_stores({ CustomKeyStoreId = XKS }, client))
    .CustomKeyStores[1]
  local _, d = fails("context.type", kms.update_custom_key_store(
    { CustomKeyStoreId = XKS, KeyStorePassword = "ExamplePassword" }, client, { store = store }))
  assert(d.problems and d.problems[1].member == "KeyStorePassword")
  assert(#T.emu_requests("UpdateCustomKeyStore") == 0, "nothing sent")
  fails("length.min", kms.update_custom_key_store(
    { CustomKeyStoreId = CLOUDHSM, KeyStorePassword = "short" }, client))
  assert(#T.emu_requests("UpdateCustomKeyStore") == 0, "nothing sent")
end)

case("a KMS error: its type, HTTP status and request id", function()
  T.emu_clear()
  local msg, d = fails("CustomKeyStoreNotFoundException", kms.update_custom_key_store(
    { CustomKeyStoreId = "cks-00000000000000000", NewCustomKeyStoreName = "x" }, client))
  assert(d.http_status == 400 and type(d.request_id) == "string" and #d.request_id > 0)
  assert(d.retryable == false and msg:find("UpdateCustomKeyStore", 1, true), msg)
  received("UpdateCustomKeyStore")
end)

case("503 then success: the core retries, each attempt signed", function()
  T.emu_clear()
  T.emu_fault('{"kind": "status", "status": 503, "count": 1, "body": "busy"}')
  assert(kms.update_custom_key_store({ CustomKeyStoreId = CLOUDHSM,
    NewCustomKeyStoreName = "AfterRetry" }, client))
  local reqs = received("UpdateCustomKeyStore")
  assert(#reqs == 2, #reqs)
end)

case("throttled to the end: the CLI's message, retryable", function()
  T.emu_clear()
  T.emu_fault('{"kind": "throttle", "count": 2}')
  local msg, d = fails("ThrottlingException", kms.connect_custom_key_store(
    { CustomKeyStoreId = CLOUDHSM }, assert(kms.client(options{ max_attempts = 2 }))))
  assert(msg:find("reached max retries: 1", 1, true), msg)
  assert(d.retryable == true and d.attempts == 2)
end)

case("slow answer: read timeout", function()
  T.emu_clear()
  T.emu_fault('{"kind": "slow", "seconds": 2.5, "count": 1}')
  local _, d = fails("read_timeout", kms.describe_custom_key_stores({},
    assert(kms.client(options{ max_attempts = 1, read_timeout = 1 }))))
  assert(d.retryable == true)
end)

case("connect and disconnect", function()
  T.emu_clear()
  assert(kms.connect_custom_key_store({ CustomKeyStoreId = CLOUDHSM }, client))
  received("ConnectCustomKeyStore", '{"CustomKeyStoreId": "cks-1234567890abcdef0"}')
  local _, _, code = kms.disconnect_custom_key_store({ CustomKeyStoreId = CLOUDHSM }, client)
  -- CONNECTING may not be disconnected yet in every emulator timing
  assert(code == nil or code == "CustomKeyStoreInvalidStateException", code)
  received("DisconnectCustomKeyStore", '{"CustomKeyStoreId": "cks-1234567890abcdef0"}')
end)

case("no endpoint: a connection failure, no crash", function()
  local _, d = fails("connect", kms.describe_custom_key_stores({},
    assert(kms.client{ endpoint_url = "http://127.0.0.1:9", max_attempts = 1 })))
  assert(d.retryable == true)
end)

T.done()
