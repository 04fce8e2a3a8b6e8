-- kms.haproxy: send KMS custom key store requests from HAProxy's embedded
-- Lua (5.3) through core.httpclient(), which runs inside HAProxy's event
-- loop: nothing blocks. The C module only builds, validates, signs
-- (kms_client_prepare) and maps the response (kms_response_check);
-- retries follow the core's policy and wait with core.msleep.
--
--   -- loaded by "lua-load" (the body context: file I/O allowed)
--   local kms = require "kms"
--   local kms_haproxy = require "kms.haproxy"
--   local client = kms.client{ region = "eu-west-1" }
--   core.register_service("kms_update", "http", function(applet)
--     local res, err, code, details = kms_haproxy.update_custom_key_store(
--       { CustomKeyStoreId = "cks-...", NewCustomKeyStoreName = "x" }, client)
--     ...
--   end)
--
-- core.httpclient() exists in services, actions and tasks (HAProxy >= 2.5).
-- Make the kms.client in the body context, at load time: making a client
-- reads the environment and the AWS config files, which HAProxy forbids at
-- runtime. For HTTPS endpoints set "httpclient.ssl.ca-file" (and
-- "httpclient.ssl.verify required", the default) in the global section;
-- the client's ca_bundle/verify_tls cannot be applied per request. HAProxy
-- checks the certificate against the SNI, which is the URL's host and must
-- be a DNS name; a host name that HAProxy should not resolve at runtime
-- can be pinned with the dst option ({ dst = "10.0.0.5:443" }).
-- Services and actions are stopped after tune.lua.service-timeout /
-- tune.lua.session-timeout (4 s by default): give retries room there, or
-- send from a task.

local kms = require "kms"
local transport = require "kms.transport"

local core = core
local tostring, type, pairs, ipairs = tostring, type, pairs, ipairs

local USER_AGENT = transport.user_agent("haproxy")

-- HAProxy's httpclient takes one timeout ("timeout server"): the read
-- timeout of the client, or the call's read_timeout, in milliseconds.
local function timeout_ms(opts, settings)
  local s = opts.read_timeout or settings.read_timeout
  if not s or s <= 0 then return nil end
  return math.floor(s * 1000 + 0.5)
end

local function has_header(headers, lname)
  for k in pairs(headers or {}) do
    if type(k) == "string" and k:lower() == lname then return true end
  end
  return false
end

-- HAProxy answers by itself when it could not reach the endpoint or the
-- endpoint did not answer in time: its own error pages, without KMS's
-- x-amzn-RequestId. Those are transport failures, not KMS answers.
local HAPROXY_PAGES = {
  [503] = { "No server is available to handle this request", "connect" },
  [504] = { "The server didn't respond in time", "read_timeout" },
}
local function haproxy_failure(res)
  local page = HAPROXY_PAGES[res.status]
  if page and not has_header(res.headers, "x-amzn-requestid")
     and (res.body or ""):find(page[1], 1, true) then
    return page[2]
  end
end

-- One attempt through core.httpclient. The signed headers go as they are
-- (the Host header is the one that was signed), plus what the AWS CLI's
-- HTTP stack adds unsigned, and an explicit Content-Length: without it
-- HAProxy 2.6 sends the body chunked. opts.dst (HAProxy address syntax,
-- "127.0.0.1:8443") connects there instead of resolving the URL's host.
local function send(signed, opts, settings)
  local headers = {}
  for _, name in ipairs(signed.header_names) do
    headers[name:lower()] = { signed.headers[name] }
  end
  for _, h in ipairs(transport.extra_headers(signed, USER_AGENT)) do
    headers[h[1]:lower()] = { h[2] }
  end
  local hc = core.httpclient()
  local res = hc:post{ url = signed.url, headers = headers,
                       body = signed.body, dst = opts.dst,
                       timeout = timeout_ms(opts, settings) }
  if not res or not res.status or res.status == 0 then
    -- No HTTP response: HAProxy does not say why (refused, reset, timeout).
    return nil, "connection_closed", "kms.haproxy: no response from "
      .. signed.url .. (res and res.reason and (": " .. tostring(res.reason))
                        or "")
  end
  local kind = haproxy_failure(res)
  if kind then
    return nil, kind, ("kms.haproxy: %s from %s: %d %s (HAProxy's own answer)")
      :format(kind == "connect" and "no connection" or "no answer in time",
              signed.url, res.status, tostring(res.reason))
  end
  return res.status, res.headers, res.body or ""
end

local function sleep(seconds)
  local ms = math.ceil(seconds * 1000)
  if ms > 0 then core.msleep(ms) end
end

local M = transport.new{ name = "haproxy", send = send, sleep = sleep,
                         options = { dst = "string" } }
M.VERSION = kms.VERSION
M.kms = kms
return M
