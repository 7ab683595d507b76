--[[
flatuv for Lua, in luv's style.

    local uv = require "flatuv"
    local server = uv.new_tcp()
    server:bind("127.0.0.1", 7000)
    server:listen(128, function(err)
      local client = server:accept()
      client:read_start(function(err, chunk)
        if chunk then client:write(chunk) else client:close() end
      end)
    end)
    uv.run()

The functions come from the C module `flatuv.raw`, which SWIG generates
from swig/flatuv.i (see swig/lua.i for the conversions, by role). Where
each is reached from, luv's name and the method tables of each handle
class, is data generated from the same interface (flatuv/api.lua, by
bindings/apigen), so a function added to the header is here with no edit.
This file only builds `uv` and the metatables from it, adds the constants,
and applies the few hand-written functions of flatuv/overrides.lua. Every
function is reachable both ways, as in luv: `uv.tcp_bind(tcp, host, port)`
and `tcp:bind(host, port)`.

Conventions (luv's):
  * a failed call returns nil, "ECONNREFUSED: connection refused",
    "ECONNREFUSED"; a call that has nothing else to return returns 0;
  * callbacks get the error's name, or nil, first: read_start's gets
    (err, chunk), chunk nil at end of stream; each callback also gets the
    handle as its last argument, the very userdata the script holds;
  * an argument of the wrong type raises an error naming its position;
  * an error raised in a callback stops uv.run(), which raises it again
    with the callback's traceback; the loop stays usable;
  * active handles (listening, reading, writing, timers started, async),
    and handles with a request (connect, write, shutdown) whose callback
    has not run, stay alive without references; an inactive open handle
    with no request pending that the script drops is closed by the
    garbage collector.
]]

local raw = require "flatuv.raw"
local api = require "flatuv.api"
local overrides = require "flatuv.overrides"

local error, ipairs, pairs, type = error, ipairs, pairs, type

local function raw_function(name)
  local fn = raw[name]
  if type(fn) ~= "function" then
    error("flatuv: flatuv.raw has no function " .. name
          .. " (flatuv/api.lua does not match the C module)", 3)
  end
  return fn
end

local uv = {}

-- Every function of the C API, under luv's name.
for name, raw_name in pairs(api.functions) do
  uv[name] = raw_function(raw_name)
end

-- Constants: error codes in uv.errno (as luv), the rest in uv.constants,
-- both by their names without the FUV_ prefix.
uv.errno, uv.constants = {}, {}
for name, value in pairs(raw) do
  if type(value) == "number" then
    if (name:match("^E[A-Z0-9]+$") and name ~= "ERRNO_MAX") or name == "UNKNOWN" then
      uv.errno[name] = value
    else
      uv.constants[name] = value
    end
  end
end

-- Each class's own methods, by class word.
local methods = {}
for word, own in pairs(api.methods) do
  local t = {}
  for name, raw_name in pairs(own) do t[name] = raw_function(raw_name) end
  methods[word] = t
end

-- The functions written by hand.
overrides(raw, uv, methods)
for _, name in ipairs(api.overridden) do
  if uv[name] == nil then
    error("flatuv: flatuv/overrides.lua does not define uv." .. name)
  end
end

-- A handle class's methods with its bases', in one table, so that a
-- method call is one lookup; a class's own method wins over its base's.
local function all_methods(word)
  local base = api.bases[word]
  local all = base and all_methods(base) or {}
  for name, fn in pairs(methods[word] or {}) do all[name] = fn end
  return all
end

-- A handle closes when a to-be-closed variable holding it goes out of
-- scope (Lua 5.4), unless it is already closing.
local is_closing, close = raw.is_closing, raw.close
local function close_on_scope_exit(handle)
  if not is_closing(handle) then close(handle) end
end

local metatables = raw._metatables()
for _, word in ipairs(api.objects) do
  local mt = metatables[word]
  mt.__index = all_methods(word)
  mt.__close = close_on_scope_exit
end

-- Requests (luv's uv_req_t userdata): their methods, no bases.
for _, word in ipairs(api.requests or {}) do
  metatables[word].__index = methods[word]
end

-- The runtime's own: whether a value is a handle; for tests, handles
-- attached to the bridge and registrations not released.
uv.is_handle = raw.is_handle
uv._stats = raw._stats

return uv
