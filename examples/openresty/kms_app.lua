-- kms_app.lua - an OpenResty front for KMS custom key store changes:
-- nginx locations call these handlers, which send through kms.resty
-- (cosockets: the worker keeps serving other requests while KMS answers).
--
--   GET /kms/stores                       -> one line per store
--   GET /kms/rename?store=ID&name=NAME    -> "ok" or "error CODE: MESSAGE"
--   GET /kms/connect?store=ID             -> "ok" or "error ..."
--   GET /kms/disconnect?store=ID          -> "ok" or "error ..."
--
-- The rename is validated against the store's current type and state
-- (read with DescribeCustomKeyStores) before anything is sent.
-- Configuration comes from the environment the AWS way (AWS_REGION,
-- AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_KMS, ...): list the
-- variables with "env" in nginx.conf, since nginx clears the rest.

local kms = require "kms"
local resty = require "kms.resty"

local M = {}
local client                               -- one per worker

-- Options for every kms.resty call (timeouts, pool, ssl_verify,
-- server_name): set them in init_by_lua, e.g.
--   kms_app.options.read_timeout = 10
M.options = {}

-- init_worker_by_lua: make the client (reads the environment and the AWS
-- config files once; no network).
function M.init_worker()
  local err, code
  client, err, code = kms.client()
  if not client then
    ngx.log(ngx.ERR, "kms: no client: ", err, " (", code, ")")
  end
end

local function reply(status, text)
  ngx.status = status
  ngx.header["Content-Type"] = "text/plain"
  ngx.say(text)
  return ngx.exit(status)
end

local function failed(msg, code, details)
  local status = details and details.http_status
  if code and code:find("^context%.") then status = 409 end
  if details and details.status == "validation" then status = 422 end
  ngx.log(ngx.WARN, "kms: ", code, ": ", msg)
  return reply((status and status >= 400 and status < 600) and status or 502,
               "error " .. tostring(code) .. ": " .. tostring(msg))
end

local function store_arg()
  local id = ngx.var.arg_store
  if not id or id == "" then return nil end
  return ngx.unescape_uri(id)
end

function M.stores()
  if not client then return reply(500, "error no client") end
  local res, err, code, details = resty.describe_custom_key_stores({}, client, M.options)
  if not res then return failed(err, code, details) end
  local out = {}
  for _, s in ipairs(res.CustomKeyStores) do
    out[#out + 1] = ("%s %s %s %s"):format(s.CustomKeyStoreId, s.CustomKeyStoreType,
                                           s.ConnectionState, s.CustomKeyStoreName)
  end
  return reply(200, table.concat(out, "\n"))
end

function M.rename()
  if not client then return reply(500, "error no client") end
  local id, name = store_arg(), ngx.var.arg_name
  if not id or not name then return reply(400, "error store and name wanted") end
  name = ngx.unescape_uri(name)
  -- what the store is now, for the contextual rules
  local res, err, code, details = resty.describe_custom_key_stores(
    { CustomKeyStoreId = id }, client, M.options)
  if not res then return failed(err, code, details) end
  local opts = { store = res.CustomKeyStores[1] }
  for k, v in pairs(M.options) do opts[k] = v end
  res, err, code, details = resty.update_custom_key_store(
    { CustomKeyStoreId = id, NewCustomKeyStoreName = name }, client, opts)
  if not res then return failed(err, code, details) end
  return reply(200, "ok worker=" .. ngx.worker.pid())
end

function M.connect()
  if not client then return reply(500, "error no client") end
  local id = store_arg()
  if not id then return reply(400, "error store wanted") end
  local res, err, code, details = resty.connect_custom_key_store({ CustomKeyStoreId = id }, client,
                                                               M.options)
  if not res then return failed(err, code, details) end
  return reply(200, "ok")
end

function M.disconnect()
  if not client then return reply(500, "error no client") end
  local id = store_arg()
  if not id then return reply(400, "error store wanted") end
  local res, err, code, details = resty.disconnect_custom_key_store(
    { CustomKeyStoreId = id }, client, M.options)
  if not res then return failed(err, code, details) end
  return reply(200, "ok")
end

return M
