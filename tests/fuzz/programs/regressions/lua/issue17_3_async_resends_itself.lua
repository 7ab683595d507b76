-- Issue 17, item 3: an async handle that sends to itself from its callback
-- stalls the loop for ever: core/src/async.c rescans from the head after
-- every callback, which has set the flag again, so no timer ever fires.
-- libuv: the timer fires after some 36,000 callbacks and run returns.
-- verdict before the fix: hang
local uv = require "flatuv"

PFZ_REPEAT = 3
GUARD_MS = 20
MARK = "PFZ-MARK"
SRC = debug.getinfo(1, "S").short_src
NAN, INF = 0 / 0, math.huge

local function undocumented(err)
  io.stdout:flush()
  local text = tostring(err)
  io.stderr:write("PROGFUZZ-UNDOCUMENTED: ", (text:gsub("\n.*", "")), "\n",
                  debug.traceback(text, 3), "\n")
  io.stderr:flush()
  os.exit(3, false)
end

local DOCUMENTED = { "^bad argument #", "^flatuv: ", "^attempt to yield " }

-- True for an error the program may expect (see prelude_lua.py).
function expected(err)
  if type(err) ~= "string" then return true end
  if err:find(MARK, 1, true) then return true end
  -- error(nil) from a callback comes out of uv.run as its traceback alone.
  if err:find("^stack traceback:") then return true end
  local where, msg = err:match("^([^\n]-):%d+: (.*)$")
  if not msg then msg = err end
  if where == SRC and msg:find("^attempt to ") then return true end
  for _, pattern in ipairs(DOCUMENTED) do
    if msg:find(pattern) then return true end
  end
  return false
end

function G(f)
  local ok, err = pcall(f)
  if not ok and not expected(err) then undocumented(err) end
end

-- A regression's check of behaviour: verdict "wrong" when it fails.
function expect(cond, what)
  if not cond then
    io.stdout:flush()
    io.stderr:write("PROGFUZZ-WRONG: ", what, "\n")
    io.stderr:flush()
    os.exit(4, false)
  end
end

function rss_kb()
  local f = io.open("/proc/self/statm")
  local pages = f:read("*a"):match("^%d+ (%d+)")
  f:close()
  return tonumber(pages) * 4
end

-- The handle a callback gets last.
function last(...)
  local n = select("#", ...)
  if n > 0 then return (select(n, ...)) end
end

function cb_noop() end
function cb_raise() error(MARK .. " cb_raise") end

-- A server's usual callback: accept, and echo what comes.
function on_conn(err, server)
  G(function()
    local c = server:accept()
    conns[#conns + 1] = c
    c:read_start(on_read)
  end)
end

function on_read(err, chunk, h)
  G(function()
    if chunk then h:write(chunk) else h:close() end
  end)
end

do
  local t = uv.new_tcp()
  t:bind("127.0.0.1", 0)
  CLOSED = t:getsockname().port -- a loopback port nobody listens on
  t:close()
  uv.run()
end
log = {}

for rep = 1, PFZ_REPEAT do
  _guard = uv.new_timer()
  _guard:start(GUARD_MS, GUARD_MS, function() uv.stop() end)
  _guard:unref()
  PORT = CLOSED
  conns = {}
  -- ---- progfuzz ops ----
  -- op 0
  n1, fired1 = 0, false
  -- op 1
  a1 = uv.new_async(function(...) n1 = n1 + 1; last(...):send() end)
  a1:send()
  -- op 2
  t1 = uv.new_timer()
  t1:start(50, 0, function() fired1 = true; uv.stop() end)
  -- op 3
  for _ = 1, 20 do
    if fired1 then break end
    G(function() uv.run() end)
  end
  -- op 4
  expect(fired1, "the timer fired while the async re-sent itself")
  a1:close()
  -- ---- progfuzz end ----
  G(function()
    uv.walk(function(h) if not h:is_closing() then h:close() end end)
  end)
  for _ = 1, 3 do G(function() uv.run() end) end
  G(function() uv.loop_close() end)
  local names = {}
  for name in pairs(_G) do
    if type(name) == "string" and name:match("^%l+%d+$") then names[#names + 1] = name end
  end
  for _, name in ipairs(names) do _G[name] = nil end
  _guard, conns, log = nil, {}, {}
  collectgarbage()
  collectgarbage()
  print("PROGFUZZ-RSS", rep - 1, rss_kb())
  io.stdout:flush()
end
print("PROGFUZZ-END")
