-- test_badinput.lua - every entry point of the kms module fed wrong
-- types, unknown keys, huge strings, embedded NULs and invalid UTF-8.
-- Misuse (a wrong argument type, an unknown option name) raises; bad data
-- (an unknown API member, a value the core refuses) returns nil, message,
-- code. Nothing crashes. Runs in lua5.4, lua5.3 and luajit.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local kms = require "kms"

local case, checkerror, fails = T.case, T.checkerror, T.fails

local STORE = "cks-1234567890abcdef0"
local HUGE = ("x"):rep(4 * 1024 * 1024)          -- 4 MiB
local NUL = "cks-12345\0evil"
local BAD_UTF8 = "name\255\254\192\128\237\160\128end" -- invalid, overlong, surrogate

local function client()
  return assert(kms.client{ region = "us-east-1", endpoint_url = "http://127.0.0.1:9",
    credentials = { access_key_id = "AKIDEXAMPLE",
                    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } })
end

local function req()
  return assert(kms.update_custom_key_store.build{ CustomKeyStoreId = STORE,
                                                   NewCustomKeyStoreName = "n" })
end

local not_tables = { 1, "s", true, function() end, coroutine.create(function() end) }

-- {===== kms.client =====
case("kms.client: wrong argument types raise", function()
  for _, v in ipairs(not_tables) do checkerror("bad argument #1", kms.client, v) end
  checkerror("option names must be strings", kms.client, { "region" })
  checkerror("option 'region'", kms.client, { region = {} })
  checkerror("option 'max_attempts'", kms.client, { max_attempts = function() end })
  checkerror("option 'credentials': table expected", kms.client, { credentials = "AKID:secret" })
  checkerror("unknown key 'token'", kms.client, { credentials = { token = "x" } })
  checkerror("credentials.access_key_id", kms.client, { credentials = { access_key_id = 42 } })
end)

case("kms.client: NUL, huge and invalid UTF-8 values fail softly", function()
  fails("config", kms.client{ region = "us\0east" })
  fails("config", kms.client{ credentials = { access_key_id = "AKID\0X", secret_access_key = "s" } })
  local c, msg = kms.client{ region = HUGE }
  assert(c or (type(msg) == "string" and #msg < 1024), "message bounded")
  if c then c:close() end
  c = kms.client{ profile = BAD_UTF8 }
  assert(c == nil)                             -- no such profile
  c, msg = kms.client{ endpoint_url = "not a url" }
  assert(c == nil and msg)
end)
-- }=====

-- {===== build =====
case("build: wrong argument types raise", function()
  for _, name in ipairs{ "update_custom_key_store", "describe_custom_key_stores",
                         "connect_custom_key_store", "disconnect_custom_key_store" } do
    for _, v in ipairs(not_tables) do
      checkerror("bad argument #1", kms[name].build, v)
    end
    if name ~= "describe_custom_key_stores" then   -- its params are optional
      checkerror("bad argument #1", kms[name].build)
    end
  end
  checkerror("bad argument #1", kms.update_custom_key_store.from_json, {})
  checkerror("bad argument #1", kms.update_custom_key_store.from_json)
end)

case("build: unknown members and wrong value types name the member", function()
  local B = kms.update_custom_key_store.build
  local msg = fails("parse", B{ CustomKeyStoreId = STORE, Bogus = "x" })
  assert(msg:find('"Bogus"', 1, true) and msg:find("CustomKeyStoreId", 1, true), msg)
  msg = fails("parse", B{ CustomKeyStoreId = 12345 })
  assert(msg:find("CustomKeyStoreId", 1, true) and msg:find("number", 1, true), msg)
  fails("parse", B{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = true })
  fails("parse", B{ CustomKeyStoreId = STORE, NewCustomKeyStoreName = { "x" } })
  fails("parse", B{ "positional" })
  fails("parse", B{ [1.5] = "x" })
  msg = fails("parse", B{ CustomKeyStoreId = STORE, XksProxyAuthenticationCredential = "AKID" })
  assert(msg:find("XksProxyAuthenticationCredential", 1, true), msg)
  msg = fails("parse", B{ CustomKeyStoreId = STORE,
    XksProxyAuthenticationCredential = { AccessKeyId = "A", Extra = "x" } })
  assert(msg:find('"Extra"', 1, true), msg)
  fails("parse", B{ CustomKeyStoreId = STORE,
    XksProxyAuthenticationCredential = { AccessKeyId = 1, RawSecretAccessKey = "x" } })
  -- dotted paths are the core's internal names, not API members
  fails("parse", B{ ["XksProxyAuthenticationCredential.AccessKeyId"] = "x" })
  -- a long unknown key is shortened in the message
  msg = fails("parse", B{ [HUGE] = "x" })
  assert(#msg < 1024, #msg)
  msg = fails("parse", B{ ["Bad\0Key"] = "x" })
  assert(not msg:find("\0", 1, true))
  fails("parse", kms.describe_custom_key_stores.build{ CustomKeyStoreId = NUL })
  fails("parse", kms.describe_custom_key_stores.build{ CustomKeyStoreName = 7 })
  fails("parse", kms.describe_custom_key_stores.build{ Limit = 2.5 })
  fails("parse", kms.describe_custom_key_stores.build{ Limit = 1 / 0 })
  fails("parse", kms.connect_custom_key_store.build{ CustomKeyStoreId = {} })
end)

case("build: huge, NUL and invalid UTF-8 values are data: validate says no", function()
  for _, v in ipairs{ HUGE, NUL, BAD_UTF8, "" } do
    local r = assert(kms.update_custom_key_store.build{ CustomKeyStoreId = v,
      KeyStorePassword = v, XksProxyUriEndpoint = v,
      XksProxyAuthenticationCredential = { AccessKeyId = v, RawSecretAccessKey = v } })
    local ok, problems = r:validate()
    assert(ok == false and #problems >= 3, "problems")
    for _, p in ipairs(problems) do
      assert(#p.message < 1024, "message bounded")
      assert(v == "" or not p.message:find(v, 1, true), "value echoed")
    end
    local j = r:json{ secrets = true }
    assert(not j:find("\0", 1, true), "NUL escaped")
    assert(not j:find("[\128-\255]"), "non-ASCII escaped")
    r:close()
    -- secrets only: the redacted form stays small
    r = assert(kms.update_custom_key_store.build{ CustomKeyStoreId = STORE,
      KeyStorePassword = v,
      XksProxyAuthenticationCredential = { AccessKeyId = v, RawSecretAccessKey = v } })
    assert(#r:json() < 512, "secrets redacted")
    r:close()
  end
  local r = assert(kms.update_custom_key_store.build{ CustomKeyStoreId = STORE,
                                                      NewCustomKeyStoreName = BAD_UTF8 })
  assert(r:json():find("\\ufffd", 1, true), r:json())
  local s = assert(r:sign(client(), { validate = false }))
  assert(not s.body:find("[\128-\255]"))
end)

case("from_json: huge, NUL and invalid UTF-8 documents", function()
  local F = kms.update_custom_key_store.from_json
  fails("parse", F(""))
  fails("parse", F("{"))
  fails("parse", F("[]"))
  fails("parse", F('{"CustomKeyStoreId": null}'))
  fails("parse", F('{"CustomKeyStoreId": 1}'))
  fails("parse", F('{"CustomKeyStoreId": "a"}\0{"x":1}'))
  fails("parse", F(("["):rep(100000)))
  local r = F('{"CustomKeyStoreId": "' .. BAD_UTF8 .. '"}')
  if r then assert(r:validate() == false) end
  r = F('{"CustomKeyStoreId": "' .. HUGE .. '"}')
  assert(r and r:validate() == false)
end)
-- }=====

-- {===== methods =====
case("methods: wrong self and wrong argument types raise", function()
  local r, c = req(), client()
  checkerror("kms.request expected", r.json, c)
  checkerror("kms.request expected", r.validate, {})
  checkerror("kms.request expected", r.sign)
  checkerror("kms.client expected", c.settings, r)
  checkerror("kms.client expected", r.sign, r, nil)
  checkerror("kms.client expected", r.sign, r, { region = "us-east-1" })
  checkerror("kms.client expected", r.send, r, "client")
  for _, v in ipairs{ 1, "s", true } do
    checkerror("bad argument #2", r.validate, r, v)
    checkerror("bad argument #3", r.sign, r, c, v)
    checkerror("bad argument #2", r.json, r, v)
  end
  checkerror("unknown option 'typ'", r.validate, r, { typ = "AWS_CLOUDHSM" })
  checkerror("option 'type'", r.validate, r, { type = 1 })
  checkerror("option 'store'", r.validate, r, { store = "x" })
  checkerror("unknown option 'now'", r.sign, r, c, { now = 1 })
  checkerror("option 'time'", r.sign, r, c, { time = "now" })
  checkerror("option 'time'", r.sign, r, c, { time = -1 })
  checkerror("option 'validate'", r.sign, r, c, { validate = "no" })
  checkerror("unknown option 'secret'", r.json, r, { secret = true })
  checkerror("bad argument #2", r.check, r)
  checkerror("bad argument #2", r.check, r, "ok")
  checkerror("bad argument #3", r.check, r, 200, "headers")
  checkerror("bad argument #4", r.check, r, 200, {}, {})
  checkerror("bad argument #2", r.set, r, {})
  checkerror("bad argument #3", r.set, r, "NewCustomKeyStoreName", {})
  checkerror("bad argument #3", r.after_attempt, r, c, "state")
  checkerror("bad argument #2", r.after_attempt, r, nil, {})
  checkerror("bad argument #1", kms.failure)
  checkerror("bad argument #2", kms.failure, "connect", {})
  checkerror("bad argument #1", kms.update_custom_key_store, nil)  -- self is the table
end)

case("one-step call: wrong argument types raise", function()
  local op = kms.update_custom_key_store
  checkerror("bad argument #1", op, nil)
  checkerror("bad argument #1", op, "params")
  checkerror("bad argument #2", op, { CustomKeyStoreId = STORE }, 42)
  checkerror("bad argument #2", op, { CustomKeyStoreId = STORE }, { region = {} })
  checkerror("bad argument #3", op, { CustomKeyStoreId = STORE }, client(), "ctx")
  checkerror("unknown option", op, { CustomKeyStoreId = STORE, NewCustomKeyStoreName = "n" },
             client(), { bogus = 1 })
  -- unknown member: soft, and nothing is sent
  fails("parse", op({ CustomKeyStoreId = STORE, Nope = "x" }, client()))
  -- client options the core refuses: soft
  fails("config", op({ CustomKeyStoreId = STORE }, { retry_mode = "never" }))
end)

case("check: odd headers, huge and binary bodies", function()
  local r = req()
  assert(r:check(200, { [1] = 2, x = { 1, {} }, y = true }, "{}"))
  -- an update's output is empty: any 2xx body is success, as in the C client
  local ok = assert(r:check(200, {}, HUGE))
  assert(next(ok) == nil)
  assert(r:check(200, {}, "\0\255{}"))
  local d = assert(kms.describe_custom_key_stores.build{})
  fails("response", d:check(200, {}, HUGE))
  fails("response", d:check(200, {}, "\0\255{}"))
  fails("response", d:check(200, {}, "[1, 2]"))
  local _, _, code, d = r:check(500, { ["x-amzn-RequestId"] = NUL }, BAD_UTF8)
  assert(code and d.retryable == true)
  local _, _, code2 = r:check(400, {}, '{"__type": "' .. ("A"):rep(100000) .. '"}')
  assert(type(code2) == "string" and #code2 < 1024)
  assert(r:check("200", nil, "{}"))            -- a numeric string is a number
  local _, _, code3 = r:check(-1, {}, "")
  assert(code3)
end)

case("set: NUL, huge, invalid UTF-8 names and values", function()
  local r = req()
  fails("parse", r:set("New\0CustomKeyStoreName", "x"))
  fails("parse", r:set(HUGE, "x"))
  fails("parse", r:set(123, "x"))
  assert(r:set("NewCustomKeyStoreName", HUGE))
  assert(r:validate() == false)                -- length.max
  assert(r:set("NewCustomKeyStoreName", NUL))  -- the model has no pattern here
  assert(r:json():find("\\u0000", 1, true))
  assert(r:set("NewCustomKeyStoreName", BAD_UTF8))
  local ok, problems = r:validate()
  assert(ok == false and problems[1].code == "utf8", problems[1].code)
end)
-- }=====

T.done()
