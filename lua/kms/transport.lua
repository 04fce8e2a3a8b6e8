-- kms.transport: the call loop shared by the host transports (kms.resty,
-- kms.haproxy). The C module builds, validates, signs and maps responses;
-- the host sends. Between attempts the core's retry policy decides (the
-- same policy object kind the C client uses: standard or adaptive mode,
-- retry quota, clock-skew correction), and the host's non-blocking sleep
-- waits. Nothing here blocks: every wait and every byte goes through the
-- functions the host transport hands in.
--
--   local t = require("kms.transport").new{
--     name = "resty",
--     send = function(signed, opts, settings) ... end,
--       -- -> status, headers, body
--       --  | nil, kind, message   (kind: "connect", "connect_timeout",
--       --    "read_timeout", "connection_closed", "tls")
--     sleep = function(seconds) ... end,
--     options = { pool = true, ... },   -- extra option names it accepts
--   }
--   t.send(req, client [, opts]), t.update_custom_key_store(params, client
--   [, opts]), t.describe_custom_key_stores(...), t.connect_custom_key_store
--   (...), t.disconnect_custom_key_store(...)
--
-- Every call returns the response table, or nil, message, code, details
-- exactly as the C transport does (kms.update_custom_key_store & co).

local kms = require "kms"

local type, error, pairs, ipairs, tostring = type, error, pairs, ipairs, tostring
local concat = table.concat

local M = { VERSION = kms.VERSION }

-- Options every transport call accepts: the store context for validation
-- (as req:validate takes it) and the timeouts (seconds; default: the
-- client's connect_timeout/read_timeout).
local COMMON_OPTIONS = {
  type = "string", state = "string", connectivity = "string",
  store = "table", connect_timeout = "number", send_timeout = "number",
  read_timeout = "number",
}

local OPERATIONS = {
  "update_custom_key_store", "describe_custom_key_stores",
  "connect_custom_key_store", "disconnect_custom_key_store",
}

local function argerror(n, fname, msg, level)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg),
        (level or 2) + 1)
end

local function check_client(client, n, fname)
  if kms.type(client) ~= "client" then
    argerror(n, fname, "kms.client expected, got " .. type(client), 3)
  end
end

local function check_options(opts, n, fname, extra)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    argerror(n, fname, "table expected, got " .. type(opts), 3)
  end
  for k, v in pairs(opts) do
    local want = COMMON_OPTIONS[k] or (extra and extra[k])
    if not want then
      argerror(n, fname, "unknown option '" .. tostring(k) .. "'", 3)
    end
    if want ~= "any" and type(v) ~= want then
      argerror(n, fname, ("option '%s': %s expected, got %s")
                         :format(k, want, type(v)), 3)
    end
  end
  return opts
end

-- One operation with all its attempts. req is a kms.request, client an
-- open kms.client.
local function call(io, req, client, opts)
  local settings = client:settings()
  local sign_opts = { type = opts.type, state = opts.state,
                      connectivity = opts.connectivity, store = opts.store }
  local state = {}
  while true do
    local wait = client:before_send()          -- adaptive mode's limiter
    if wait > 0 then io.sleep(wait) end
    local signed, msg, code, details = req:sign(client, sign_opts)
    if not signed then return nil, msg, code, details end
    sign_opts.validate = false                 -- checked on attempt 1
    local status, headers, body = io.send(signed, opts, settings)
    signed = nil                               -- holds the body: let it go
    local res
    if status then
      res, msg, code, details = req:check(status, headers, body)
    else
      res, msg, code, details = kms.failure(headers, body)
      headers = nil
    end
    local action, delay
    action, delay, msg = req:after_attempt(client, state, msg, details,
                                           headers)
    if action == "stop" then
      if res then return res end
      return nil, msg, code, details
    elseif action == "retry" and delay > 0 then
      io.sleep(delay)
    end                                        -- "skew": sign again, now
  end
end

-- Builds the request for params, runs it, and wipes its C side at once.
local function one_step(io, opname, params, client, opts)
  local req, msg, code, details = kms[opname].build(params)
  if not req then return nil, msg, code, details end
  local res
  res, msg, code, details = call(io, req, client, opts)
  req:close()
  return res, msg, code, details
end

function M.new(io)
  if type(io) ~= "table" or type(io.send) ~= "function"
     or type(io.sleep) ~= "function" then
    error("kms.transport.new: { send = function, sleep = function } "
          .. "expected", 2)
  end
  local extra = io.options
  local t = { name = io.name }

  -- t.send(req, client [, opts]) -> response | nil, msg, code, details
  function t.send(req, client, opts)
    if kms.type(req) ~= "request" then
      argerror(1, "send", "kms.request expected, got " .. type(req))
    end
    check_client(client, 2, "send")
    opts = check_options(opts, 3, "send", extra)
    return call(io, req, client, opts)
  end

  for _, opname in ipairs(OPERATIONS) do
    t[opname] = function(params, client, opts)
      if type(params) ~= "table" then
        argerror(1, opname, "table expected, got " .. type(params))
      end
      check_client(client, 2, opname)
      opts = check_options(opts, 3, opname, extra)
      return one_step(io, opname, params, client, opts)
    end
  end

  -- DescribeCustomKeyStores follows NextMarker and merges the pages, as
  -- the C client does, unless the caller asked for one page (Limit or
  -- Marker given).
  local describe_page = t.describe_custom_key_stores
  function t.describe_custom_key_stores(params, client, opts)
    params = params or {}
    if type(params) ~= "table" then
      argerror(1, "describe_custom_key_stores",
               "table expected, got " .. type(params))
    end
    if params.Limit ~= nil or params.Marker ~= nil then
      return describe_page(params, client, opts)
    end
    local page, stores = {}, {}
    for k, v in pairs(params) do page[k] = v end
    repeat
      local res, msg, code, details = describe_page(page, client, opts)
      if not res then return nil, msg, code, details end
      for _, s in ipairs(res.CustomKeyStores or {}) do
        stores[#stores + 1] = s
      end
      page.Marker = res.NextMarker
    until type(page.Marker) ~= "string"
    return { CustomKeyStores = stores }
  end

  return t
end

-- Helpers the host transports share.

-- "https://host:port/path" -> scheme, host, port (numbers default by
-- scheme). IPv6 literals in brackets are kept without the brackets.
function M.parse_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil end
  scheme = scheme:lower()
  local hostport = rest:match("^([^/?#]*)")
  local host, port = hostport:match("^%[(.+)%]:?(%d*)$")
  if not host then host, port = hostport:match("^([^:]*):?(%d*)$") end
  if not host or host == "" then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  return scheme, host, port
end

-- The request head (request line and headers, CRLF-terminated): the
-- signed message's headers in their order (kms_client_prepare adds the
-- unsigned User-Agent after Content-Type, as the AWS CLI sends it), plus
-- what the CLI's HTTP stack adds and does not sign: Accept-Encoding after
-- Host and Content-Length last.
function M.request_head(signed, user_agent)
  local out = { signed.method, " ", signed.target, " HTTP/1.1\r\n" }
  local h = signed.headers
  local have_host, have_ua = false, h["User-Agent"] ~= nil
  for _, name in ipairs(signed.header_names) do
    local lname = name:lower()
    out[#out + 1] = name .. ": " .. h[name] .. "\r\n"
    if lname == "host" then
      have_host = true
      out[#out + 1] = "Accept-Encoding: identity\r\n"
    elseif lname == "content-type" and not have_ua then
      out[#out + 1] = "User-Agent: " .. user_agent .. "\r\n"
    end
  end
  if not have_host then
    out[#out + 1] = "Host: " .. signed.host .. "\r\n"
  end
  out[#out + 1] = "Content-Length: " .. #signed.body .. "\r\n\r\n"
  return concat(out)
end

-- The headers a host client must send besides the signed message's, as
-- a list of {name, value} (for transports that take a header table).
function M.extra_headers(signed, user_agent)
  local extra = { { "Accept-Encoding", "identity" } }
  if not signed.headers["User-Agent"] then
    extra[#extra + 1] = { "User-Agent", user_agent }
  end
  extra[#extra + 1] = { "Content-Length", tostring(#signed.body) }
  return extra
end

function M.user_agent(face)
  return ("kmscks/%s lua/%s %s"):format(kms.VERSION,
    (jit and jit.version or _VERSION):gsub("[^%w.]+", "-"), face)
end

return M
