-- test_api.lua - the kms module's surface, offline: build, validate, json,
-- sign (against the AWS CLI's captured signatures), check (response
-- mapping), the retry decision, clients, close and __gc, __tostring.
-- Runs in lua5.4, lua5.3 and luajit (tests/lua/meson.build).
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local kms = require "kms"

local case, checkerror, fails = T.case, T.checkerror, T.fails

local AKID = "AKIDEXAMPLE"
local SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
local STORE = "cks-1234567890abcdef0"

local function client(extra)
  local opts = { region = "us-east-1", endpoint_url = "http://127.0.0.1:38865",
                 credentials = { access_key_id = AKID, secret_access_key = SECRET } }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return assert(kms.client(opts))
end

local function build(params)
  return assert(kms.update_custom_key_store.build(params))
end

print("# " .. T.lua .. ", kms " .. tostring(kms.VERSION))

-- {===== module =====

case("module: VERSION, null, type, the four operations", function()
  assert(type(kms.VERSION) == "string" and kms.VERSION:match("^%d+%.%d+%.%d+"))
  assert(kms.null ~= nil and type(kms.null) == "userdata")
  for _, name in ipairs{ "update_custom_key_store", "describe_custom_key_stores",
                         "connect_custom_key_store", "disconnect_custom_key_store" } do
    local op = kms[name]
    assert(type(op) == "table", name)
    assert(type(op.build) == "function", name .. ".build")
    assert(type(getmetatable(op).__call) == "function", name .. " callable")
    assert(type(op.name) == "string")
  end
  assert(kms.update_custom_key_store.name == "UpdateCustomKeyStore")
  assert(kms.type(client()) == "client")
  assert(kms.type(build{ CustomKeyStoreId = STORE }) == "request")
  assert(kms.type({}) == nil and kms.type(nil) == nil and kms.type("x") == nil)
end)
-- }=====

-- {===== build and json =====

case("json: model order whatever the table, exact botocore bytes", function()
  local req = build{ NewCustomKeyStoreName = "ExampleKeyStore", CustomKeyStoreId = STORE }
  assert(req:json() == '{"CustomKeyStoreId": "cks-1234567890abcdef0", '
                     .. '"NewCustomKeyStoreName": "ExampleKeyStore"}', req:json())
  assert(req:operation() == "UpdateCustomKeyStore")
end)

case("json: secrets redacted unless asked for", function()
  local req = build{ CustomKeyStoreId = STORE, KeyStorePassword = "ExamplePassword",
    XksProxyAuthenticationCredential = { AccessKeyId = "ABCDE12345670EXAMPLE",
      RawSecretAccessKey = "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=" } }
  local red = req:json()
  assert(not red:find("ExamplePassword", 1, true), red)
  assert(not red:find("DXjSUawnel2fr6", 1, true), red)
  assert(not red:find("ABCDE12345670EXAMPLE", 1, true), red)
  assert(red:find("***", 1, true))
  local full = req:json{ secrets = true }
  assert(full:find('"KeyStorePassword": "ExamplePassword"', 1, true), full)
  assert(full:find('"XksProxyAuthenticationCredential": {"AccessKeyId": '
    .. '"ABCDE12345670EXAMPLE", "RawSecretAccessKey": '
    .. '"DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="}', 1, true), full)
end)

case("json: non-ASCII escaped as botocore does", function()
  local req = build{ CustomKeyStoreId = STORE,
                     NewCustomKeyStoreName = "\208\154\208\187\209\142\209\135 \226\156\147" }
  assert(req:json() == '{"CustomKeyStoreId": "cks-1234567890abcdef0", '
    .. '"NewCustomKeyStoreName": "\\u041a\\u043b\\u044e\\u0447 \\u2713"}', req:json())
end)

case("from_json: the --cli-input-json shape, its key order kept", function()
  local req = assert(kms.update_custom_key_store.from_json(
    '{"NewCustomKeyStoreName": "fromjson", "CustomKeyStoreId": "cks-json"}'))
  assert(req:json() == '{"NewCustomKeyStoreName": "fromjson", "CustomKeyStoreId": "cks-json"}',
         req:json())
  local msg = fails("parse", kms.update_custom_key_store.from_json('{"Bogus": "x"}'))
  assert(msg:find("Bogus", 1, true), msg)
  fails("parse", kms.update_custom_key_store.from_json('not json'))
end)

case("set: one member by name, nil unsets", function()
  local req = build{ CustomKeyStoreId = STORE }
  assert(req:set("NewCustomKeyStoreName", "A") == true)
  assert(req:json():find('"NewCustomKeyStoreName": "A"', 1, true))
  assert(req:set("NewCustomKeyStoreName", nil) == true)
  assert(not req:json():find("NewCustomKeyStoreName", 1, true))
  local msg = fails("parse", req:set("Nope", "x"))
  assert(msg:find("Nope", 1, true))
end)

case("describe/connect/disconnect: bodies", function()
  local d = assert(kms.describe_custom_key_stores.build{ CustomKeyStoreId = STORE })
  assert(d:json() == '{"CustomKeyStoreId": "cks-1234567890abcdef0"}', d:json())
  assert(d:operation() == "DescribeCustomKeyStores")
  local all = assert(kms.describe_custom_key_stores.build{})
  assert(all:json() == "{}", all:json())
  assert(kms.describe_custom_key_stores.build():json() == "{}")   -- params optional
  local c = assert(kms.connect_custom_key_store.build{ CustomKeyStoreId = STORE })
  assert(c:json() == '{"CustomKeyStoreId": "cks-1234567890abcdef0"}')
  assert(c:operation() == "ConnectCustomKeyStore")
  local x = assert(kms.disconnect_custom_key_store.build{ CustomKeyStoreId = STORE })
  assert(x:operation() == "DisconnectCustomKeyStore")
  local ok, problems = c:validate()
  assert(ok == true and #problems == 0)
  fails("required", kms.connect_custom_key_store.build{})
  local msg = fails("parse", kms.disconnect_custom_key_store.build{ Id = "x" })
  assert(msg:find('"Id"', 1, true), msg)
  fails("parse", kms.describe_custom_key_stores.build{ Limit = 0 })
  fails("parse", kms.describe_custom_key_stores.build{ Limit = "10" })
end)
-- }=====

-- {===== validate =====

case("validate: a good request passes", function()
  local ok, problems = build{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = "New" }:validate()
  assert(ok == true, "expected true")
  assert(type(problems) == "table" and #problems == 0)
end)

case("validate: every problem at once, with code, member, message, severity", function()
  local ok, problems = build{ CustomKeyStoreId = STORE, KeyStorePassword = "short",
    XksProxyUriPath = "/bad" }:validate()
  assert(ok == false)
  assert(#problems >= 2, #problems)
  local seen = {}
  for _, p in ipairs(problems) do
    assert(type(p.code) == "string" and type(p.member) == "string")
    assert(type(p.message) == "string" and #p.message > 0)
    assert(p.severity == "error" or p.severity == "warning")
    assert(not p.message:find("short", 1, true), "secret in message")
    seen[p.member .. " " .. p.code] = p
  end
  assert(seen["KeyStorePassword length.min"], "KeyStorePassword length.min")
  assert(seen["XksProxyUriPath pattern"], "XksProxyUriPath pattern")
  assert(seen["KeyStorePassword type.mixed"], "type.mixed")
end)

case("validate: a request that changes nothing is a warning", function()
  local ok, problems = build{ CustomKeyStoreId = STORE }:validate()
  assert(ok == true)
  assert(#problems == 1 and problems[1].severity == "warning" and problems[1].code == "noop",
         problems[1] and problems[1].code)
end)

case("validate: store context (type/state, or a describe entry)", function()
  local req = build{ CustomKeyStoreId = STORE, CloudHsmClusterId = "cluster-2a3b4cdefgh" }
  assert(req:validate{ type = "AWS_CLOUDHSM", state = "DISCONNECTED" } == true)
  local ok, problems = req:validate{ type = "AWS_CLOUDHSM", state = "CONNECTED" }
  assert(ok == false and problems[1].code == "context.state", problems[1] and problems[1].code)
  ok, problems = req:validate{ store = { CustomKeyStoreType = "EXTERNAL_KEY_STORE",
                                         ConnectionState = "DISCONNECTED" } }
  assert(ok == false)
  local types = 0
  for _, p in ipairs(problems) do if p.code == "context.type" then types = types + 1 end end
  assert(types == 1, "context.type")
  -- the name can change while connected
  assert(build{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = "n" }
         :validate{ type = "AWS_CLOUDHSM", state = "CONNECTED" } == true)
end)
-- }=====

-- {===== sign =====

-- The AWS CLI's captured request (reference/awscli-behaviour.md, section 3).
case("sign: the AWS CLI's signature, byte for byte", function()
  local c = client()
  local req = build{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = "ExampleKeyStore" }
  local s = assert(req:sign(c, { time = 1795889240 }))
  assert(s.method == "POST" and s.target == "/" and s.host == "127.0.0.1:38865", s.host)
  assert(s.url == "http://127.0.0.1:38865" or s.url == "http://127.0.0.1:38865/", s.url)
  assert(s.body == '{"CustomKeyStoreId": "cks-1234567890abcdef0", '
                   .. '"NewCustomKeyStoreName": "ExampleKeyStore"}')
  assert(s.headers["X-Amz-Date"] == "20261128T180720Z")
  assert(s.headers["X-Amz-Target"] == "TrentService.UpdateCustomKeyStore")
  assert(s.headers["Content-Type"] == "application/x-amz-json-1.1")
  assert(s.headers.Authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/"
    .. "us-east-1/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
    .. "x-amz-target, Signature=f4831b6e4838bd631e74d928228f31e74984be8437a88ab3198897ec109dddc2",
    s.headers.Authorization)
  -- the AWS CLI's order; User-Agent is not signed
  assert(table.concat(s.header_names, ",") ==
         "Host,X-Amz-Target,Content-Type,User-Agent,X-Amz-Date,Authorization",
         table.concat(s.header_names, ","))
  assert(s.headers["User-Agent"]:find("^kmscks/"))
end)

case("sign: session token and the XKS credential (second capture)", function()
  local c = assert(kms.client{ region = "us-east-1", endpoint_url = "http://127.0.0.1:33129",
    credentials = { access_key_id = AKID, secret_access_key = SECRET,
                    session_token = "FQoGZXIvYXdzEXAMPLETOKEN" } })
  local req = build{ CustomKeyStoreId = STORE, XksProxyConnectivity = "PUBLIC_ENDPOINT",
    XksProxyAuthenticationCredential = { RawSecretAccessKey =
      "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=", AccessKeyId = "ABCDE12345670EXAMPLE" } }
  -- the capture's AccessKeyId has 0 and 1, outside the model's base32
  -- pattern: the core refuses it unless validation is skipped
  fails("pattern", req:sign(c, { time = 1795889246 }))
  local s = assert(req:sign(c, { time = 1795889246, validate = false }))
  assert(#s.body == 235, #s.body)
  assert(s.headers["X-Amz-Security-Token"] == "FQoGZXIvYXdzEXAMPLETOKEN")
  assert(s.headers.Authorization:find("Signature=7d28a4dc497ab12d2091c88ba2f4dcb53bdd"
    .. "f8efeced16f1ce552306d539aa9e", 1, true), s.headers.Authorization)
  assert(table.concat(s.header_names, ",") == "Host,X-Amz-Target,Content-Type,"
    .. "User-Agent,X-Amz-Date,X-Amz-Security-Token,Authorization",
    table.concat(s.header_names, ","))
end)

case("sign: an invalid request is refused with its problems", function()
  local req = build{ CustomKeyStoreId = STORE, KeyStorePassword = "short" }
  local _, details = fails("length.min", req:sign(client(), { time = 1795889240 }))
  assert(details.status == "validation")
  assert(type(details.problems) == "table" and details.problems[1].member == "KeyStorePassword")
  assert(req:sign(client(), { time = 1795889240, validate = false }))
  -- the store context applies too
  local r2 = build{ CustomKeyStoreId = STORE, CloudHsmClusterId = "cluster-2a3b4cdefgh" }
  fails("context.state", r2:sign(client(), { state = "CONNECTED", type = "AWS_CLOUDHSM" }))
end)

case("sign: helper operations", function()
  local s = assert(assert(kms.describe_custom_key_stores.build{}):sign(client(), { time = 1795889240 }))
  assert(s.headers["X-Amz-Target"] == "TrentService.DescribeCustomKeyStores")
  assert(s.body == "{}")
  s = assert(assert(kms.connect_custom_key_store.build{ CustomKeyStoreId = STORE }):sign(client()))
  assert(s.headers["X-Amz-Target"] == "TrentService.ConnectCustomKeyStore")
  assert(s.headers["X-Amz-Date"]:match("^%d+T%d+Z$"))
end)
-- }=====

-- {===== check: responses a host received =====

case("check: success is the decoded JSON", function()
  local req = build{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = "x" }
  local res = assert(req:check(200, { ["Content-Type"] = "application/x-amz-json-1.1" }, "{}"))
  assert(type(res) == "table" and next(res) == nil)
  local d = assert(kms.describe_custom_key_stores.build{})
  res = assert(d:check(200, {}, '{"CustomKeyStores": [{"CustomKeyStoreId": "cks-1", '
    .. '"CreationDate": 1.7e9, "ConnectionErrorCode": null, "Truncated": false}], '
    .. '"Truncated": false}'))
  assert(res.CustomKeyStores[1].CustomKeyStoreId == "cks-1")
  assert(res.CustomKeyStores[1].CreationDate == 1.7e9)
  assert(res.CustomKeyStores[1].ConnectionErrorCode == kms.null)
  assert(res.Truncated == false)
end)

case("check: a KMS error maps to its type, status, request id", function()
  local req = build{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = "x" }
  local msg, d = fails("CustomKeyStoreInvalidStateException", req:check(400,
    { ["x-amzn-RequestId"] = "rid-1", ["Content-Type"] = "application/x-amz-json-1.1" },
    '{"__type": "com.amazonaws.kms#CustomKeyStoreInvalidStateException", '
    .. '"message": "The store is connected"}'))
  assert(msg:find("The store is connected", 1, true), msg)
  assert(d.http_status == 400 and d.request_id == "rid-1" and d.retryable == false)
  assert(d.status == "service" and d.type == "CustomKeyStoreInvalidStateException")
end)

case("check: HAProxy-style header lists; throttling and 5xx are retryable", function()
  local req = build{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = "x" }
  local _, d = fails("ThrottlingException", req:check(400,
    { ["x-amzn-requestid"] = { "rid-2" } }, '{"__type": "ThrottlingException", "message": "Rate exceeded"}'))
  assert(d.retryable == true and d.request_id == "rid-2")
  local _, _, _, d5 = req:check(503, {}, "<html>busy</html>")
  assert(d5 and d5.retryable == true and d5.http_status == 503)
  fails("response", kms.describe_custom_key_stores.build{}:check(200, {}, "this is not JSON"))
end)
-- }=====

-- {===== the retry decision =====

case("after_attempt: retry 5xx, stop at max_attempts with the CLI's wording", function()
  local c = client{ max_attempts = 2 }
  local req = build{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = "x" }
  local state = {}
  local _, msg, _, d = req:check(503, {}, '{"__type": "KMSInternalException", "message": "boom"}')
  local action, delay, msg2 = req:after_attempt(c, state, msg, d, {})
  assert(action == "retry" and delay >= 0 and delay <= 1, action)
  assert(state.attempts == 1)
  _, msg, _, d = req:check(503, {}, '{"__type": "KMSInternalException", "message": "boom"}')
  action, delay, msg2 = req:after_attempt(c, state, msg, d, {})
  assert(action == "stop" and state.attempts == 2 and d.attempts == 2)
  assert(msg2:find("reached max retries: 1", 1, true), msg2)
end)

case("after_attempt: not retryable stops; success stops; failure() is retryable", function()
  local c = client()
  local req = build{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = "x" }
  local _, msg, _, d = req:check(400, {}, '{"__type": "CustomKeyStoreNotFoundException"}')
  assert(req:after_attempt(c, {}, msg, d) == "stop")
  assert(req:after_attempt(c, {}, nil, nil) == "stop")
  local _, m, code, fd = kms.failure("connect_timeout", "kms.resty: connect: timeout")
  assert(code == "connect_timeout" and fd.retryable == true and m:find("timeout"))
  assert(req:after_attempt(c, {}, m, fd) == "retry")
  checkerror("unknown status", kms.failure, "bogus")
  assert(c:before_send() == 0)                -- standard mode: no limiter
end)
-- }=====

-- {===== clients =====

case("client: settings, region, endpoint; no secret in tostring", function()
  local c = client{ max_attempts = 5, retry_mode = "adaptive", connect_timeout = 2,
                    read_timeout = 7, verify_tls = false }
  assert(c:region() == "us-east-1")
  assert(c:endpoint():find("127.0.0.1:38865", 1, true))
  local s = c:settings()
  assert(s.max_attempts == 5 and s.retry_mode == "adaptive")
  assert(s.connect_timeout == 2 and s.read_timeout == 7 and s.verify_tls == false)
  for k, v in pairs(s) do assert(not tostring(v):find(SECRET, 1, true), k) end
  local str = tostring(c)
  assert(str:match("^kms%.client %(0x%x+%)$") or str:match("^kms%.client %(%x+%)$"), str)
  assert(not str:find(AKID, 1, true))
  c:close()
  assert(tostring(c) == "kms.client (closed)")
  checkerror("closed", c.region, c)
  c:close()                                    -- twice is fine
end)

case("client: the core rejects bad settings, naming them", function()
  local msg = fails("config", kms.client{ retry_mode = "bogus" })
  assert(msg:find("bogus", 1, true), msg)
  msg = fails("config", kms.client{ bogus_setting = "1" })
  assert(msg:find("bogus_setting", 1, true), msg)
  msg = fails("config", kms.client{ region = "us-east-1\0evil" })
  assert(msg:find("NUL", 1, true), msg)
  fails("config", kms.client{ max_attempts = 0 })
end)
-- }=====

-- {===== lifetime =====

case("request: tostring shows no member; close wipes; later use raises", function()
  local req = build{ CustomKeyStoreId = STORE, KeyStorePassword = "ExamplePassword" }
  local str = tostring(req)
  assert(str:match("^kms%.request %(0x%x+%)$") or str:match("^kms%.request %(%x+%)$"), str)
  assert(not str:find("Example", 1, true))
  req:close()
  assert(tostring(req) == "kms.request (closed)")
  checkerror("closed", req.json, req)
  checkerror("closed", req.validate, req)
  checkerror("closed", req.sign, req, client())
  req:close()
  assert(req:operation() == "UpdateCustomKeyStore")
end)

case("__gc: thousands of requests and clients collected", function()
  for i = 1, 2000 do
    local r = build{ CustomKeyStoreId = STORE, KeyStorePassword = "ExamplePassword" .. i }
    if i % 2 == 0 then r:close() end
  end
  for _ = 1, 50 do client() end
  collectgarbage(); collectgarbage()
  assert(collectgarbage("count") < 64 * 1024)
end)
-- }=====

T.done()
