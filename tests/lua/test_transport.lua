-- test_transport.lua - kms.transport, the call loop under kms.resty and
-- kms.haproxy, driven by a scripted fake host (no network, no sleeping):
-- retries and backoff decided by the core's policy, failures mapped as the
-- C transport maps them, clock-skew correction, describe pagination,
-- validation before anything is sent, and argument checks.
-- Runs in lua5.4, lua5.3 and luajit.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local kms = require "kms"
local transport = require "kms.transport"

local case, checkerror, fails = T.case, T.checkerror, T.fails
local STORE = "cks-1234567890abcdef0"
local OK = { 200, { ["Content-Type"] = "application/x-amz-json-1.1",
                    ["x-amzn-RequestId"] = "rid-ok" }, "{}" }

local function client(extra)
  local opts = { region = "us-east-1", endpoint_url = "https://kms.example.test:8443",
    credentials = { access_key_id = "AKIDEXAMPLE",
                    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return assert(kms.client(opts))
end

-- A fake host: answers from a script (one entry per attempt: {status,
-- headers, body} or {nil, kind, message}), records what was sent and
-- every sleep.
local function fake(script)
  local f = { sent = {}, slept = {} }
  f.t = transport.new{
    name = "fake",
    send = function(signed, opts, settings)
      f.sent[#f.sent + 1] = signed
      f.settings = settings
      local a = assert(script[#f.sent], "unexpected attempt " .. #f.sent)
      return a[1], a[2], a[3]
    end,
    sleep = function(s) f.slept[#f.slept + 1] = s end,
    options = { pool = "string" },
  }
  return f
end

local function err503()
  return { 503, { ["x-amzn-RequestId"] = "rid-503" },
           '{"__type": "KMSInternalException", "message": "try again"}' }
end

case("success: one attempt, the signed request, {} back", function()
  local f = fake{ OK }
  local res = assert(f.t.update_custom_key_store(
    { CustomKeyStoreId = STORE, NewCustomKeyStoreName = "n" }, client()))
  assert(type(res) == "table" and next(res) == nil)
  assert(#f.sent == 1 and #f.slept == 0)
  local s = f.sent[1]
  assert(s.url:find("^https://kms%.example%.test:8443"))
  assert(s.headers.Host == "kms.example.test:8443")
  assert(s.headers.Authorization:find("Credential=AKIDEXAMPLE/", 1, true))
  assert(s.body == '{"CustomKeyStoreId": "cks-1234567890abcdef0", "NewCustomKeyStoreName": "n"}')
  assert(f.settings.max_attempts == 3 and f.settings.region == "us-east-1")
end)

case("5xx then success: retried after a backoff sleep, signed afresh", function()
  local f = fake{ err503(), err503(), OK }
  assert(f.t.update_custom_key_store({ CustomKeyStoreId = STORE,
                                       NewCustomKeyStoreName = "n" }, client()))
  assert(#f.sent == 3, #f.sent)
  assert(#f.slept == 2 and f.slept[1] <= 1 and f.slept[2] <= 2, "full-jitter backoff")
  for _, s in ipairs(f.sent) do assert(s.headers.Authorization) end
end)

case("retries exhausted: nil, message with max retries, code, details", function()
  local f = fake{ err503(), err503() }
  local msg, d = fails("KMSInternalException", f.t.update_custom_key_store(
    { CustomKeyStoreId = STORE, NewCustomKeyStoreName = "n" }, client{ max_attempts = 2 }))
  assert(msg:find("reached max retries: 1", 1, true), msg)
  assert(d.attempts == 2 and d.http_status == 503 and d.request_id == "rid-503")
  assert(d.retryable == true)
end)

case("transport failures are mapped and retried like the C transport's", function()
  local f = fake{ { nil, "connect", "fake: connect: connection refused" },
                  { nil, "read_timeout", "fake: receive: timeout" },
                  { nil, "connection_closed", "fake: receive: closed" } }
  local msg, d = fails("connection_closed", f.t.connect_custom_key_store(
    { CustomKeyStoreId = STORE }, client()))
  assert(msg:find("closed", 1, true), msg)
  assert(d.attempts == 3 and #f.slept == 2 and d.retryable == true)
end)

case("not retryable: one attempt", function()
  local f = fake{ { 400, {}, '{"__type": "com.amazonaws.kms#CustomKeyStoreNotFoundException",'
                             .. ' "message": "no such store"}' } }
  local msg, d = fails("CustomKeyStoreNotFoundException",
    f.t.disconnect_custom_key_store({ CustomKeyStoreId = STORE }, client()))
  assert(msg:find("no such store", 1, true))
  assert(d.attempts == 1 and #f.sent == 1 and #f.slept == 0 and d.retryable == false)
end)

case("invalid request: nothing is sent, the problems come back", function()
  local f = fake{}
  local _, d = fails("length.min", f.t.update_custom_key_store(
    { CustomKeyStoreId = STORE, KeyStorePassword = "short" }, client()))
  assert(#f.sent == 0 and d.problems[1].member == "KeyStorePassword")
  f = fake{}
  fails("context.state", f.t.update_custom_key_store(
    { CustomKeyStoreId = STORE, CloudHsmClusterId = "cluster-2a3b4cdefgh" }, client(),
    { type = "AWS_CLOUDHSM", state = "CONNECTED" }))
  assert(#f.sent == 0)
  fails("parse", f.t.update_custom_key_store({ CustomKeyStoreId = STORE, Bad = "x" }, client()))
end)

case("clock skew: corrected once from the Date header, resent at once", function()
  local future = os.time() + 3600
  local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", future)
  local f = fake{ { 400, { Date = date, ["x-amzn-RequestId"] = "r" },
                    '{"__type": "InvalidSignatureException", "message": "Signature expired"}' },
                  OK }
  local c = client()
  assert(f.t.update_custom_key_store({ CustomKeyStoreId = STORE,
                                       NewCustomKeyStoreName = "n" }, c))
  assert(#f.sent == 2 and #f.slept == 0, "no backoff for a skew retry")
  local d1 = f.sent[1].headers["X-Amz-Date"]
  local d2 = f.sent[2].headers["X-Amz-Date"]
  assert(d1 ~= d2 and d2:sub(1, 11) == os.date("!%Y%m%dT%H", future), d2)
  -- the client keeps the correction for later calls
  local f2 = fake{ OK }
  assert(f2.t.update_custom_key_store({ CustomKeyStoreId = STORE,
                                        NewCustomKeyStoreName = "n" }, c))
  assert(f2.sent[1].headers["X-Amz-Date"]:sub(1, 11) == os.date("!%Y%m%dT%H", future))
end)

case("describe: NextMarker pages merged; Limit/Marker asks for one page", function()
  local p1 = '{"CustomKeyStores": [{"CustomKeyStoreId": "cks-a"}], "NextMarker": "m1", "Truncated": true}'
  local p2 = '{"CustomKeyStores": [{"CustomKeyStoreId": "cks-b"}], "Truncated": false}'
  local f = fake{ { 200, {}, p1 }, { 200, {}, p2 } }
  local res = assert(f.t.describe_custom_key_stores({}, client()))
  assert(#res.CustomKeyStores == 2 and res.CustomKeyStores[2].CustomKeyStoreId == "cks-b")
  assert(f.sent[1].body == "{}")
  assert(f.sent[2].body:find('"Marker": "m1"', 1, true), f.sent[2].body)
  f = fake{ { 200, {}, p1 } }
  res = assert(f.t.describe_custom_key_stores({ Limit = 1 }, client()))
  assert(#res.CustomKeyStores == 1 and res.NextMarker == "m1" and #f.sent == 1)
end)

case("send(req): a built request, reusable", function()
  local f = fake{ OK, OK }
  local req = assert(kms.update_custom_key_store.build{ CustomKeyStoreId = STORE,
                                                         NewCustomKeyStoreName = "n" })
  assert(f.t.send(req, client()))
  assert(f.t.send(req, client(), { pool = "p" }))
  assert(#f.sent == 2)
  req:close()
  checkerror("closed", f.t.send, req, client())
end)

case("argument checks raise", function()
  local f = fake{}
  local c = client()
  checkerror("bad argument #1 to 'update_custom_key_store'", f.t.update_custom_key_store, "x", c)
  checkerror("bad argument #2 to 'update_custom_key_store' (kms.client expected",
             f.t.update_custom_key_store, {}, { region = "x" })
  checkerror("unknown option 'bogus'", f.t.update_custom_key_store, {}, c, { bogus = 1 })
  checkerror("option 'read_timeout': number expected", f.t.connect_custom_key_store, {}, c,
             { read_timeout = "1s" })
  checkerror("option 'pool': string expected", f.t.connect_custom_key_store, {}, c, { pool = 1 })
  checkerror("kms.request expected", f.t.send, {}, c)
  checkerror("bad argument #1", f.t.describe_custom_key_stores, 5, c)
  checkerror("send = function", transport.new, { sleep = print })
end)

case("helpers: URL parsing and the request head", function()
  local s, h, p = transport.parse_url("https://kms.us-east-1.amazonaws.com")
  assert(s == "https" and h == "kms.us-east-1.amazonaws.com" and p == 443)
  s, h, p = transport.parse_url("http://127.0.0.1:8080/prefix?x")
  assert(s == "http" and h == "127.0.0.1" and p == 8080)
  s, h, p = transport.parse_url("https://[::1]:9443/")
  assert(h == "::1" and p == 9443)
  assert(transport.parse_url("not a url") == nil)
  local signed = { method = "POST", target = "/", host = "h:1", body = "{}",
    header_names = { "Host", "X-Amz-Target", "Content-Type", "X-Amz-Date", "Authorization" },
    headers = { Host = "h:1", ["X-Amz-Target"] = "T", ["Content-Type"] = "C",
                ["X-Amz-Date"] = "D", Authorization = "A" } }
  local head = transport.request_head(signed, "ua")
  assert(head == "POST / HTTP/1.1\r\nHost: h:1\r\nAccept-Encoding: identity\r\n"
    .. "X-Amz-Target: T\r\nContent-Type: C\r\nUser-Agent: ua\r\nX-Amz-Date: D\r\n"
    .. "Authorization: A\r\nContent-Length: 2\r\n\r\n", head)
  -- the signed message's own User-Agent is kept, not doubled
  table.insert(signed.header_names, 4, "User-Agent")
  signed.headers["User-Agent"] = "kmscks/x"
  head = transport.request_head(signed, "ua")
  assert(select(2, head:gsub("User%-Agent", "")) == 1, head)
  assert(head:find("User-Agent: kmscks/x\r\n", 1, true))
  assert(#transport.extra_headers(signed, "ua") == 2)
end)

T.done()
