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
from swig/flatuv.i (see swig/lua.i for the conversions). This file only
arranges them: luv's names, methods on handles, constants. Every function
is reachable both ways, as in luv: `uv.tcp_bind(tcp, host, port)` and
`tcp:bind(host, port)`.

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

local error, pairs, select, type = error, pairs, select, type

local uv = {}

-- Every function of the C API, under its name without the fuv_ prefix.
for name, value in pairs(raw) do
  if type(value) == "function" and name:sub(1, 1) ~= "_" then
    uv[name] = value
  end
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

-- luv's names for constructors and a few functions.
uv.new_tcp = raw.tcp_new_ex          -- uv.new_tcp([family]): "inet", "inet6"
uv.new_timer = raw.timer_new
uv.new_async = raw.async_new         -- uv.new_async(callback)
uv.write = raw.writev                -- a string or a table of strings
uv.handle_get_type = raw.get_type
uv.stream_get_write_queue_size = raw.get_write_queue_size
uv.stream_set_water_marks = raw.stream_set_water_marks
uv.stream_is_congested = raw.stream_is_congested

local get_send, set_send = raw.get_send_buffer_size, raw.set_send_buffer_size
local get_recv, set_recv = raw.get_recv_buffer_size, raw.set_recv_buffer_size

-- luv's combined getter / setter: send_buffer_size(handle[, size]).
local function getter_setter(get, set)
  return function(handle, size, ...)
    if select("#", ...) > 0 then
      error("bad argument #3 (no more arguments expected)", 2)
    end
    if size == nil then return get(handle) end
    return set(handle, size)
  end
end
uv.send_buffer_size = getter_setter(get_send, set_send)
uv.recv_buffer_size = getter_setter(get_recv, set_recv)

-- uv.socketpair([socktype[, protocol[, flags1[, flags2]]]]) returns
-- {fd1, fd2}, as luv does; flags are {nonblock = true}.
local socketpair = raw.socketpair
function uv.socketpair(socktype, protocol, flags1, flags2)
  local fd1, fd2, name = socketpair(socktype, protocol, flags1, flags2)
  if fd1 == nil then return nil, fd2, name end
  return { fd1, fd2 }
end

-- ---- methods ---------------------------------------------------------------

local handle_methods = {
  close = raw.close,
  is_active = raw.is_active,
  is_closing = raw.is_closing,
  ref = raw.ref,
  unref = raw.unref,
  has_ref = raw.has_ref,
  get_type = raw.get_type,
  fileno = raw.fileno,
  send_buffer_size = uv.send_buffer_size,
  recv_buffer_size = uv.recv_buffer_size,
  get_send_buffer_size = get_send,
  set_send_buffer_size = set_send,
  get_recv_buffer_size = get_recv,
  set_recv_buffer_size = set_recv,
}

local stream_methods = {
  listen = raw.listen,
  accept = raw.accept,
  accept_sync = raw.accept_sync,
  read_start = raw.read_start,
  read_stop = raw.read_stop,
  write = raw.writev,
  try_write = raw.try_write,
  shutdown = raw.shutdown,
  is_readable = raw.is_readable,
  is_writable = raw.is_writable,
  get_write_queue_size = raw.get_write_queue_size,
  set_water_marks = raw.stream_set_water_marks,
  is_congested = raw.stream_is_congested,
  send = raw.send,
  recv = raw.recv,
}

local tcp_methods = {}
for name, fn in pairs(raw) do
  -- tcp_bind -> bind, tcp_set_linger -> set_linger, ...
  local short = name:match("^tcp_(.+)$")
  if short and type(fn) == "function" and short ~= "new" and short ~= "new_ex"
      and short ~= "state_name" then
    tcp_methods[short] = fn
  end
end

local timer_methods = {
  start = raw.timer_start,
  stop = raw.timer_stop,
  again = raw.timer_again,
  set_repeat = raw.timer_set_repeat,
  get_repeat = raw.timer_get_repeat,
  get_due_in = raw.timer_get_due_in,
}

local async_methods = {
  send = raw.async_send,
}

local function merge(...)
  local all = {}
  for i = 1, select("#", ...) do
    for name, fn in pairs((select(i, ...))) do all[name] = fn end
  end
  return all
end

-- A handle closes when a to-be-closed variable holding it goes out of
-- scope (Lua 5.4), unless it is already closing.
local is_closing, close = raw.is_closing, raw.close
local function close_on_scope_exit(handle)
  if not is_closing(handle) then close(handle) end
end

local metatables = raw._metatables()
metatables.tcp.__index = merge(handle_methods, stream_methods, tcp_methods)
metatables.timer.__index = merge(handle_methods, timer_methods)
metatables.async.__index = merge(handle_methods, async_methods)
for _, mt in pairs({ metatables.tcp, metatables.timer, metatables.async }) do
  mt.__close = close_on_scope_exit
end

-- For tests: handles attached to the bridge, registrations not released.
uv._stats = raw._stats

return uv
