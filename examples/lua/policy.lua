-- policy.lua - change a KMS custom key store the careful way, from a
-- desired-settings file: read the store's current type and state
-- (DescribeCustomKeyStores), validate the change against it, print every
-- problem, and send only when asked to and nothing is wrong.
--
--   lua5.4 policy.lua desired.lua            # plan: show, validate, send nothing
--   lua5.4 policy.lua desired.lua --apply    # and send it when it is valid
--
-- desired.lua returns the UpdateCustomKeyStore members, by their API names:
--   return { CustomKeyStoreId = "cks-1234567890abcdef0",
--            NewCustomKeyStoreName = "Finance" }
-- Secrets (KeyStorePassword, the XKS credential) may be read from files
-- there (io.open(...):read("a")); they are never printed.
--
-- Region, credentials and endpoint come from the environment and the AWS
-- config files, as for the AWS CLI (AWS_PROFILE, AWS_REGION, ...).
-- Exit status: 0 done (or nothing wrong in a plan), 1 the change is
-- invalid for this store, 2 usage, 3 KMS or the network failed.

local kms = require "kms"

-- Exits closing the Lua state, so that __gc wipes the C-side secrets of
-- every request and client still alive.
local function exit(status)
  os.exit(status, true)
end

local function usage()
  io.stderr:write("usage: policy.lua DESIRED.lua [--apply]\n")
  exit(2)
end

local path, apply = arg[1], arg[2] == "--apply"
if not path or (arg[2] and not apply) then usage() end

-- The settings file runs in an empty environment (plus io.open and
-- os.getenv, to read secrets from files or the environment).
local env = { io = { open = io.open }, os = { getenv = os.getenv } }
local chunk, lerr = loadfile(path, "t", env)
if not chunk then
  io.stderr:write("policy: ", lerr, "\n")
  exit(2)
end
if setfenv then setfenv(chunk, env) end               -- LuaJIT / 5.1
local ok, desired = pcall(chunk)
if not ok or type(desired) ~= "table" then
  io.stderr:write("policy: ", path, " must return a table of members\n")
  exit(2)
end

local function fail(what, msg, code, status)
  io.stderr:write(("policy: %s: %s (%s)\n"):format(what, tostring(msg), tostring(code)))
  exit(status)
end

local client, err, code = kms.client()
if not client then fail("configuration", err, code, 3) end

local req
req, err, code = kms.update_custom_key_store.build(desired)
if not req then fail("settings", err, code, 1) end

-- 1. the store as it is
local id = desired.CustomKeyStoreId
local res, _, _, details
res, err, code, details = kms.describe_custom_key_stores({ CustomKeyStoreId = id }, client)
if not res then fail("describe " .. tostring(id), err, code, 3) end
local store = res.CustomKeyStores[1]
print(("store %s (%s): %s, %s"):format(store.CustomKeyStoreId, store.CustomKeyStoreName,
  store.CustomKeyStoreType, store.ConnectionState))

-- 2. the change, secrets redacted
print("change: " .. req:json())

-- 3. every problem at once, against the store's type and state
local valid, problems = req:validate{ store = store }
for _, p in ipairs(problems) do
  print(("%-7s %-16s %s"):format(p.severity, p.code, p.message))  -- names the member
end
if not valid then
  print("not sent: fix the errors above")
  exit(1)
end
if not apply then
  print("plan only: run with --apply to send it")
  exit(0)
end

-- 4. send (the C core: libcurl, retries)
res, err, code, details = req:send(client, { store = store })
req:close()                                 -- wipe the secrets now
if not res then
  local extra = details and details.request_id and (" request id " .. details.request_id) or ""
  fail("update", err .. extra, code, 3)
end
print("updated " .. id)
