"""The fixed parts of every generated Lua program.

As in Python (see prelude_python.py), one helper holds the policy of
expected errors: G(f) runs f under pcall and lets pass what the binding
documents ("bad argument #n to ..." for a wrong argument, the binding's own
"flatuv: ..." errors, luv's "Invalid IP address or port [ip:port]"), the program's own errors (MARK raised from its
callbacks, any non-string error value, which only the program raises,
error(nil) from a callback, which uv.run raises as a bare traceback, and
an "attempt to ..." located in the program's own source: a method called
on a slot an earlier operation dropped), and Lua's refusal to yield across
a C call. Any other error is undocumented, such as an "attempt to index"
raised by flatuv.lua or inside the C module: G prints it and exits with
status 3. Failed calls that return nil, message, name are not errors.

Globals rather than locals hold the program's objects, so that any
operation can be dropped and a callback can drop a slot. Every uv.run() is
bounded by _guard, an unreferenced repeating timer that stops the loop.
"""

PRELUDE = '''\
local uv = require "flatuv"

PFZ_REPEAT = 4
GUARD_MS = 20
MARK = "PFZ-MARK"
SRC = debug.getinfo(1, "S").short_src
NAN, INF = 0 / 0, math.huge

local function undocumented(err)
  io.stdout:flush()
  local text = tostring(err)
  io.stderr:write("PROGFUZZ-UNDOCUMENTED: ", (text:gsub("\\n.*", "")), "\\n",
                  debug.traceback(text, 3), "\\n")
  io.stderr:flush()
  os.exit(3, false)
end

-- luv's raise for an (ip, port) that is no address (swig/lua.i).
local DOCUMENTED = { "^bad argument #", "^flatuv: ", "^attempt to yield ",
                     "^Invalid IP address or port %[" }

-- True for an error the program may expect (see prelude_lua.py).
function expected(err)
  if type(err) ~= "string" then return true end
  if err:find(MARK, 1, true) then return true end
  local where, msg = err:match("^([^\\n]-):%d+: (.*)$")
  if not msg then msg = err end
  -- error(nil) from a callback comes out of uv.run as its traceback alone
  -- (located, when a coroutine passed it on).
  if msg:find("^stack traceback:") then return true end
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
    io.stderr:write("PROGFUZZ-WRONG: ", what, "\\n")
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
-- Pipe names: paths in a directory of the program's own, and abstract names.
PDIR = os.tmpname()
os.remove(PDIR)
os.execute("mkdir -p " .. PDIR)
DEVNULL = 2 -- printed handles go to stderr, which the runner reads

for rep = 1, PFZ_REPEAT do
  _guard = uv.new_timer()
  _guard:start(GUARD_MS, GUARD_MS, function() uv.stop() end)
  _guard:unref()
  PORT = CLOSED
  PNAME = PDIR .. "/p" .. rep
  PNAME2 = PDIR .. "/q" .. rep
  ANAME = "\\0pfz-" .. PDIR:gsub("%W", "") .. "-" .. rep
  conns = {}
'''

EPILOGUE = '''\
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
  os.remove(PNAME)
  os.remove(PNAME2)
  print("PROGFUZZ-RSS", rep - 1, rss_kb())
  io.stdout:flush()
end
os.execute("rm -rf " .. PDIR)
print("PROGFUZZ-END")
'''
