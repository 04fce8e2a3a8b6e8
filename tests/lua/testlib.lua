-- testlib.lua - the little the Lua tests share: numbered cases, the
-- checkerror helper of Lua's own test suite, the nil/message/code check,
-- and access to the KMS emulator's control API (curl and a small JSON
-- decoder).
-- Runs unchanged in Lua 5.4, Lua 5.3 and LuaJIT.

local T = {}
local passed, failed, n = 0, 0, 0

-- T.case(name, fn): runs fn; prints "ok N - name" or "not ok N - name".
function T.case(name, fn)
  n = n + 1
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
    print(("ok %d - %s"):format(n, name))
  else
    failed = failed + 1
    print(("not ok %d - %s"):format(n, name))
    print("# " .. tostring(err):gsub("\n", "\n# "))
  end
end

-- T.done(): the summary line, and the exit status (0 only when all pass).
function T.done()
  print(("%d passed, %d failed"):format(passed, failed))
  io.stdout:flush()
  -- close the state: every request and client is collected (and its C
  -- side freed) before the process ends, which LeakSanitizer checks
  os.exit(failed == 0 and 0 or 1, true)
end

-- checkerror(msg, f, ...): f(...) must raise an error containing msg
-- (a plain substring).
function T.checkerror(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  assert(tostring(err):find(msg, 1, true),
         ("error %q does not contain %q"):format(tostring(err), msg))
  return err
end

-- fails(code, ...): the values returned by a call must be the runtime
-- failure shape nil, message, code, details with the given code. Returns
-- message, details.
function T.fails(code, v, msg, c, details)
  assert(v == nil, "expected nil, got " .. tostring(v))
  assert(type(msg) == "string" and #msg > 0, "expected a message")
  assert(c == code, ("expected code %q, got %q (%s)"):format(
    tostring(code), tostring(c), tostring(msg)))
  assert(type(details) == "table", "expected a details table")
  assert(type(details.status) == "string", "details.status")
  assert(type(details.retryable) == "boolean", "details.retryable")
  return msg, details
end

-- The interpreter's name, for messages.
T.lua = jit and jit.version or _VERSION

-- {===== the emulator (when the runner started one) =====

T.endpoint = os.getenv("KMS_TEST_ENDPOINT")
T.control = os.getenv("KMS_TEST_CONTROL")
T.ca = os.getenv("KMS_TEST_CA")

-- A small JSON decoder for the control API's answers (null is nil).
local function json_decode(text)
  local pos = 1
  local function ws() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function utf8char(c)
    if c < 0x80 then return string.char(c) end
    if c < 0x800 then return string.char(0xC0 + math.floor(c / 64), 0x80 + c % 64) end
    if c < 0x10000 then
      return string.char(0xE0 + math.floor(c / 4096), 0x80 + math.floor(c / 64) % 64,
                         0x80 + c % 64)
    end
    return string.char(0xF0 + math.floor(c / 262144), 0x80 + math.floor(c / 4096) % 64,
                       0x80 + math.floor(c / 64) % 64, 0x80 + c % 64)
  end
  local escapes = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = text:sub(pos, pos)
      if c == "" then error("json: unterminated string") end
      if c == '"' then pos = pos + 1; return table.concat(out) end
      if c == "\\" then
        local e = text:sub(pos + 1, pos + 1)
        if e == "u" then
          local cp = tonumber(text:sub(pos + 2, pos + 5), 16)
          pos = pos + 6
          if cp >= 0xD800 and cp < 0xDC00 and text:sub(pos, pos + 1) == "\\u" then
            local lo = tonumber(text:sub(pos + 2, pos + 5), 16)
            cp = 0x10000 + (cp - 0xD800) * 1024 + (lo - 0xDC00)
            pos = pos + 6
          end
          out[#out + 1] = utf8char(cp)
        else
          out[#out + 1] = escapes[e] or e
          pos = pos + 2
        end
      else
        local j = text:find('["\\]', pos) or #text + 1
        out[#out + 1] = text:sub(pos, j - 1)
        pos = j
      end
    end
  end
  function value()
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1; ws()
      if text:sub(pos, pos) == "}" then pos = pos + 1; return t end
      repeat
        ws(); local k = str(); ws()
        assert(text:sub(pos, pos) == ":", "json: ':' expected"); pos = pos + 1
        t[k] = value(); ws()
        c = text:sub(pos, pos); pos = pos + 1
      until c ~= ","
      assert(c == "}", "json: '}' expected")
      return t
    elseif c == "[" then
      local t, n = {}, 0
      pos = pos + 1; ws()
      if text:sub(pos, pos) == "]" then pos = pos + 1; return t end
      repeat
        n = n + 1; t[n] = value(); ws()
        c = text:sub(pos, pos); pos = pos + 1
      until c ~= ","
      assert(c == "]", "json: ']' expected")
      return t
    elseif c == '"' then
      return str()
    end
    for word, v in pairs{ ["true"] = true, ["false"] = false, null = false } do
      if text:sub(pos, pos + #word - 1) == word then
        pos = pos + #word
        if word == "null" then return nil end
        return v
      end
    end
    local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    assert(num and #num > 0, "json: bad value at " .. pos)
    pos = pos + #num
    return tonumber(num)
  end
  return value()
end
T.json_decode = json_decode

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- T.emu(method, path [, json_text]) -> the control API's answer as a Lua
-- value (through curl: a process per call, but a fast one).
function T.emu(method, path, body)
  assert(T.control, "no emulator: run this test through tests/lua/run.py")
  -- (env -u: curl is not the code under test, even under ASan)
  local cmd = { "env -u LD_PRELOAD curl -sS --max-time 30 -X", method,
                "-H 'Content-Type: application/json'" }
  if T.ca then cmd[#cmd + 1] = "--cacert " .. shell_quote(T.ca) end
  if body then cmd[#cmd + 1] = "--data-binary " .. shell_quote(body) end
  cmd[#cmd + 1] = shell_quote(T.control .. path)
  local p = assert(io.popen(table.concat(cmd, " "), "r"))
  local out = p:read("*a")
  p:close()
  local ok, v = pcall(json_decode, out)
  assert(ok, "control API: " .. tostring(v) .. ": " .. out:sub(1, 200))
  return v
end

-- The requests the emulator received since the last T.emu_clear().
function T.emu_requests(operation)
  local q = operation and ("/requests?operation=" .. operation) or "/requests"
  return T.emu("GET", q).requests
end

function T.emu_clear()
  T.emu("DELETE", "/requests")
  T.emu("DELETE", "/faults")
end

function T.emu_fault(json)
  return T.emu("POST", "/faults", json)
end
-- }=====

return T
