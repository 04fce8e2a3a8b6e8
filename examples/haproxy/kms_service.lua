-- kms_service.lua - HAProxy Lua services for KMS custom key store
-- changes, sent through kms.haproxy (core.httpclient: HAProxy keeps
-- serving other requests while KMS answers). Loaded by "lua-load".
--
--   GET /kms/stores                       -> one line per store
--   GET /kms/rename?store=ID&name=NAME    -> "ok" or "error CODE: MESSAGE"
--   GET /kms/connect?store=ID             -> "ok" or "error ..."
--   GET /ping                             -> "pong"
--
-- The rename is validated against the store's current type and state
-- (DescribeCustomKeyStores) before anything is sent. Configuration comes
-- from the environment the AWS way (AWS_REGION, AWS_ACCESS_KEY_ID,
-- AWS_ENDPOINT_URL_KMS, ...).

local kms = require "kms"
local kms_haproxy = require "kms.haproxy"

-- The body context may read files: make the client here, once.
local client, err, code = kms.client()

-- Options for every kms.haproxy call. KMS_HAPROXY_DST pins the address to
-- connect to ("10.0.0.5:443"), so HAProxy needs no DNS resolution at
-- runtime; the URL's host still names the server for SNI and verification.
local options = { dst = os.getenv("KMS_HAPROXY_DST") }
local function opts(extra)
  local o = {}
  for k, v in pairs(options) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
if not client then
  core.log(core.err, "kms: no client: " .. tostring(err) .. " (" .. tostring(code) .. ")")
end

local function arg(applet, name)
  for k, v in (applet.qs or ""):gmatch("([^&=]+)=([^&]*)") do
    if k == name then
      return (v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
    end
  end
end

local function reply(applet, status, text)
  text = text .. "\n"
  applet:set_status(status)
  applet:add_header("content-type", "text/plain")
  applet:add_header("content-length", tostring(#text))
  applet:start_response()
  applet:send(text)
end

local function failed(applet, msg, code, details)
  local status = details and details.http_status
  if code and code:find("^context%.") then status = 409 end
  if details and details.status == "validation" then status = 422 end
  core.log(core.warning, "kms: " .. tostring(code) .. ": " .. tostring(msg))
  reply(applet, (status and status >= 400 and status < 600) and status or 502,
        "error " .. tostring(code) .. ": " .. tostring(msg))
end

core.register_service("kms_stores", "http", function(applet)
  if not client then return reply(applet, 500, "error no client") end
  local res, e, c, d = kms_haproxy.describe_custom_key_stores({}, client, opts())
  if not res then return failed(applet, e, c, d) end
  local out = {}
  for _, s in ipairs(res.CustomKeyStores) do
    out[#out + 1] = ("%s %s %s %s"):format(s.CustomKeyStoreId, s.CustomKeyStoreType,
                                           s.ConnectionState, s.CustomKeyStoreName)
  end
  reply(applet, 200, table.concat(out, "\n"))
end)

core.register_service("kms_rename", "http", function(applet)
  if not client then return reply(applet, 500, "error no client") end
  local id, name = arg(applet, "store"), arg(applet, "name")
  if not id or not name then return reply(applet, 400, "error store and name wanted") end
  local res, e, c, d = kms_haproxy.describe_custom_key_stores({ CustomKeyStoreId = id }, client,
                                                             opts())
  if not res then return failed(applet, e, c, d) end
  res, e, c, d = kms_haproxy.update_custom_key_store(
    { CustomKeyStoreId = id, NewCustomKeyStoreName = name }, client,
    opts{ store = res.CustomKeyStores[1] })
  if not res then return failed(applet, e, c, d) end
  reply(applet, 200, "ok")
end)

core.register_service("kms_connect", "http", function(applet)
  if not client then return reply(applet, 500, "error no client") end
  local id = arg(applet, "store")
  if not id then return reply(applet, 400, "error store wanted") end
  local res, e, c, d = kms_haproxy.connect_custom_key_store({ CustomKeyStoreId = id }, client,
                                                           opts())
  if not res then return failed(applet, e, c, d) end
  reply(applet, 200, "ok")
end)

-- Answered by the same Lua engine: shows it is not blocked while an
-- update waits on KMS.
core.register_service("ping", "http", function(applet)
  reply(applet, 200, "pong")
end)

-- Optional: a task that checks the stores once at start-up (a task may
-- use core.httpclient too; it has no timeout).
if os.getenv("KMS_STARTUP_CHECK") == "1" then
  core.register_task(function()
    if not client then return end
    local res, e, c = kms_haproxy.describe_custom_key_stores({}, client, opts())
    if res then
      core.log(core.info, "kms: startup check: " .. #res.CustomKeyStores .. " key stores")
    else
      core.log(core.warning, "kms: startup check failed: " .. tostring(c) .. ": " .. tostring(e))
    end
  end)
end
