-- kms.resty: send KMS custom key store requests from OpenResty (nginx +
-- ngx_lua, LuaJIT) over a cosocket: non-blocking connect, TLS
-- (sslhandshake, verified against lua_ssl_trusted_certificate), send and
-- receive, with a keepalive pool. The C module only builds, validates,
-- signs (kms_client_prepare) and maps the response (kms_response_check);
-- retries follow the core's policy and wait with ngx.sleep.
--
--   init_by_lua_block   { kms = require "kms"; kms_resty = require "kms.resty" }
--   init_worker_by_lua_block { client = kms.client{ region = "eu-west-1" } }
--   content_by_lua_block {
--     local res, err, code, details = kms_resty.update_custom_key_store(
--       { CustomKeyStoreId = "cks-...", NewCustomKeyStoreName = "x" }, client)
--   }
--
-- Works wherever cosockets do (content, rewrite, access phases and
-- ngx.timer callbacks), not in init_by_lua, init_worker_by_lua, set_by_lua,
-- header/body filters or log_by_lua (use ngx.timer.at(0, ...) there).
-- Create the kms.client once per worker (init_worker_by_lua), not per
-- request: making a client reads the environment and the AWS config files.

local kms = require "kms"
local transport = require "kms.transport"

local ngx = ngx
local tonumber, tostring = tonumber, tostring

local USER_AGENT = transport.user_agent("resty")

-- Options of kms.resty calls besides the common ones (see kms.transport).
local OPTIONS = {
  pool = "string",              -- keepalive pool name
  pool_size = "number",         -- connections kept per pool (default 30)
  keepalive_timeout = "number", -- seconds an idle connection is kept (60)
  keepalive = "boolean",        -- false: close after each request
  ssl_verify = "boolean",       -- default: the client's verify_tls
  server_name = "string",       -- SNI and certificate name (default: the
                                -- URL's host; ngx_lua checks DNS names only,
                                -- so an IP endpoint needs a name here)
}

-- Seconds to the milliseconds cosockets take; 0 ("no timeout" in the
-- AWS settings) becomes the largest value ngx_lua accepts.
local function ms(seconds)
  if not seconds or seconds <= 0 then return 2147483647 end
  return math.floor(seconds * 1000 + 0.5)
end

-- Maps a cosocket error string to the core's failure kinds.
local function kind_of(err, phase)
  if err == "timeout" then
    return phase == "connect" and "connect_timeout" or "read_timeout"
  end
  if phase == "connect" then return "connect" end
  return "connection_closed"
end

local function fail(sock, kind, msg)
  if sock then sock:close() end
  return nil, kind, msg
end

-- Reads the response head: status, headers (name = value, names as
-- received, repeated names joined with ", "), and whether the connection
-- may be kept.
local function receive_head(sock)
  local line, err, partial = sock:receive("*l")
  if not line then
    -- fifth value: nothing at all came back
    return nil, kind_of(err, "read"), "kms.resty: receive: " .. err, nil,
           err == "closed" and (partial == nil or partial == "")
  end
  local minor, status = line:match("^HTTP/1%.(%d) (%d%d%d)")
  status = tonumber(status)
  if not status then
    return nil, "connection_closed", "kms.resty: not an HTTP response"
  end
  local headers, lower = {}, {}
  while true do
    line, err = sock:receive("*l")
    if not line then
      return nil, kind_of(err, "read"), "kms.resty: receive: " .. err
    end
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then
      local l = name:lower()
      if lower[l] then
        headers[lower[l]] = headers[lower[l]] .. ", " .. value
      else
        lower[l] = name
        headers[name] = value
      end
    end
  end
  local function get(n) return lower[n] and headers[lower[n]] end
  local keep = minor == "1"
  local conn = get("connection")
  if conn and conn:lower():find("close", 1, true) then keep = false end
  return status, headers, get, keep
end

local function receive_body(sock, get, status)
  if status == 204 or status == 304 or (status >= 100 and status < 200) then
    return ""
  end
  local te = get("transfer-encoding")
  if te and te:lower():find("chunked", 1, true) then
    local parts = {}
    while true do
      local line, err = sock:receive("*l")
      if not line then return nil, kind_of(err, "read"), err end
      local size = tonumber(line:match("^%s*(%x+)"), 16)
      if not size then return nil, "connection_closed", "bad chunk size" end
      if size == 0 then
        repeat                                   -- trailers
          line, err = sock:receive("*l")
          if not line then return nil, kind_of(err, "read"), err end
        until line == ""
        break
      end
      local chunk
      chunk, err = sock:receive(size)
      if not chunk then return nil, kind_of(err, "read"), err end
      parts[#parts + 1] = chunk
      line, err = sock:receive("*l")
      if not line then return nil, kind_of(err, "read"), err end
    end
    return table.concat(parts), true
  end
  local len = tonumber(get("content-length"))
  if len then
    if len == 0 then return "", true end
    local body, err = sock:receive(len)
    if not body then return nil, kind_of(err, "read"), err end
    return body, true
  end
  local body, err = sock:receive("*a")            -- until the peer closes
  if not body then return nil, kind_of(err, "read"), err end
  return body, false
end

-- One exchange over a (possibly pooled) cosocket. The fourth value on a
-- failure says the connection came from the pool and died before any
-- byte of a response: the server had closed it while idle.
local function exchange(signed, opts, settings)
  local scheme, host, port = transport.parse_url(signed.url)
  if not scheme or (scheme ~= "http" and scheme ~= "https") then
    return nil, "connect", "kms.resty: unsupported URL " .. signed.url
  end
  local sock, err = ngx.socket.tcp()
  if not sock then return nil, "connect", "kms.resty: socket: " .. err end
  sock:settimeouts(ms(opts.connect_timeout or settings.connect_timeout),
                   ms(opts.send_timeout or settings.read_timeout),
                   ms(opts.read_timeout or settings.read_timeout))
  local verify = opts.ssl_verify
  if verify == nil then verify = settings.verify_tls end
  local server_name = opts.server_name or host
  local pool = opts.pool or ("kms:%s:%s:%d:%s:%s"):format(scheme, host, port,
                                  tostring(verify), server_name)
  local ok
  ok, err = sock:connect(host, port, { pool = pool,
                                       pool_size = opts.pool_size })
  if not ok then
    return fail(sock, kind_of(err, "connect"), "kms.resty: connect to "
                .. host .. ":" .. port .. ": " .. err)
  end
  if scheme == "https" and sock:getreusedtimes() == 0 then
    -- false: no session object back (pooled connections are reused
    -- instead); also avoids an assertion in lua-resty-core 0.1.25 when
    -- the handshake completes at once
    ok, err = sock:sslhandshake(false, server_name, verify)
    if not ok then
      return fail(sock, "tls", "kms.resty: TLS handshake with " .. host
                  .. ": " .. err)
    end
  end
  local reused = sock:getreusedtimes() > 0
  local bytes
  bytes, err = sock:send({ transport.request_head(signed, USER_AGENT),
                           signed.body })
  if not bytes then
    sock:close()
    return nil, kind_of(err, "send"), "kms.resty: send: " .. err, reused
  end
  local status, headers, get, keep, fresh = receive_head(sock)
  if not status then
    sock:close()
    return nil, headers, get, reused and fresh
  end
  local body, kept_or_kind, berr = receive_body(sock, get, status)
  if not body then
    return fail(sock, kept_or_kind, "kms.resty: receive body: " .. berr)
  end
  if keep and kept_or_kind and opts.keepalive ~= false then
    local idle = opts.keepalive_timeout and opts.keepalive_timeout * 1000
                 or 60000
    sock:setkeepalive(idle, opts.pool_size or 30)
  else
    sock:close()
  end
  return status, headers, body
end

-- The transport's send: one attempt. A pooled connection the server had
-- closed while idle is not a failed attempt: the exchange is redone once
-- at once, as libcurl does under the C transport ("Connection died,
-- retrying a fresh connect").
local function send(signed, opts, settings)
  local status, a, b, stale
  for _ = 1, 2 do
    status, a, b, stale = exchange(signed, opts, settings)
    if status or not stale then break end
  end
  return status, a, b
end

local function sleep(seconds)
  if seconds > 0 then ngx.sleep(seconds) end
end

local M = transport.new{ name = "resty", send = send, sleep = sleep,
                         options = OPTIONS }
M.VERSION = kms.VERSION
M.kms = kms
return M
