-- Calls every method of every handle kind, and every module function, with
-- wrong types, nil, absurd numbers and closed handles. Run as a script by
-- misuse_spec.lua, in its own process, so that a crash is seen as one.
--
-- For each call it checks the outcome: a value the argument's kind does
-- not accept must raise an error; a closed handle must give an error (or
-- the fixed answer of a getter). It prints one line per broken rule, then
-- "misuse: N calls, M broken" and exits with 1 if any rule was broken.
local uv = require "flatuv"
local raw = require "flatuv.raw"

local calls, broken = 0, 0
local unpack = table.unpack or unpack

local function report(what, detail)
  broken = broken + 1
  io.write("BROKEN: ", what, ": ", detail, "\n")
end

-- ---- argument kinds ------------------------------------------------------

local closed_port -- a loopback port nobody listens on
do
  local t = uv.new_tcp()
  t:bind("127.0.0.1", 0)
  closed_port = t:getsockname().port
  t:close()
  uv.run()
end

local function is_integer(v)
  return type(v) == "number" and v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53
end
local function in_int(v) return is_integer(v) and v >= -2 ^ 31 and v < 2 ^ 31 end
local function in_uint(v) return is_integer(v) and v >= 0 and v < 2 ^ 32 end

-- Each kind: a valid value (harmless: small timeouts, invalid fds, the
-- closed port) and whether a value must be accepted by type.
local kinds = {
  int = { valid = 1, accepts = in_int },
  ["int?"] = { valid = nil, accepts = function(v) return v == nil or in_int(v) end },
  uint = { valid = 1, accepts = in_uint },
  ["uint?"] = { valid = nil, accepts = function(v) return v == nil or in_uint(v) end },
  size = { valid = 16, accepts = function(v) return is_integer(v) and v >= 0 end },
  timeout = { valid = 20, accepts = in_int },
  port = { valid = closed_port, accepts = in_int },
  fd = { valid = -1, accepts = in_int },
  bool = { valid = true, accepts = function(v) return type(v) == "boolean" or in_int(v) end },
  ip = { valid = "127.0.0.1", accepts = function(v) return type(v) == "string" and not v:find("\0", 1, true) end },
  str = { valid = "data", accepts = function(v) return type(v) == "string" end },
  ["str?"] = { valid = nil, accepts = function(v) return v == nil or (type(v) == "string" and not v:find("\0", 1, true)) end },
  data = { valid = "data", accepts = function(v)
    if type(v) == "string" then return true end
    if type(v) ~= "table" then return false end
    for _, x in ipairs(v) do if type(x) ~= "string" then return false end end
    return true
  end },
  stream = { valid = uv.new_tcp(), accepts = function(v)
    return raw.is_handle(v) and (tostring(v):find("^flatuv%.tcp") or
                                 tostring(v):find("^flatuv%.pipe")) ~= nil
  end },
  ["stream?"] = { valid = nil, accepts = function(v)
    return v == nil or (raw.is_handle(v) and (tostring(v):find("^flatuv%.tcp") or
                                              tostring(v):find("^flatuv%.pipe")) ~= nil)
  end },
  cb = { valid = function() end, accepts = function(v) return type(v) == "function" end },
  ["cb?"] = { valid = nil, accepts = function(v) return v == nil or type(v) == "function" end },
  ["flags?"] = { valid = nil, accepts = function(v)
    return v == nil or type(v) == "table" or in_uint(v)
  end },
  sockaddr = { valid = uv.ip4_addr("127.0.0.1", closed_port), accepts = function(v)
    return raw.is_handle(v) == false and type(v) == "userdata" and tostring(v):find(":%d+$") ~= nil
  end },
}

-- ---- signatures of every method, by handle kind ---------------------------

local handle_sig = {
  close = { "cb?" }, is_active = {}, is_closing = {}, ref = {}, unref = {},
  has_ref = {}, get_type = {}, fileno = {},
  send_buffer_size = { "int?" }, recv_buffer_size = { "int?" },
  get_send_buffer_size = {}, set_send_buffer_size = { "int" },
  get_recv_buffer_size = {}, set_recv_buffer_size = { "int" },
}
local stream_sig = {
  listen = { "int", "cb?" }, accept = { "stream?" },
  write2 = { "str", "stream", "cb?" }, accept_sync = { "timeout" },
  read_start = { "cb" }, read_stop = {}, write = { "data", "cb?" },
  try_write = { "str" }, shutdown = { "cb?" }, is_readable = {},
  is_writable = {}, get_write_queue_size = {},
  set_water_marks = { "size", "size", "cb?" }, is_congested = {},
  send = { "str", "timeout" }, recv = { "size", "timeout" },
}
local tcp_sig = {
  bind = { "ip", "port", "flags?" }, bind_addr = { "sockaddr", "flags?" },
  connect = { "ip", "port", "cb?" }, connect_addr = { "sockaddr", "cb?" },
  connect_sync = { "ip", "port", "timeout" },
  getsockname = {}, getpeername = {}, getsockname_addr = {},
  getpeername_addr = {}, nodelay = { "bool" }, keepalive = { "bool", "uint?" },
  keepalive_ex = { "bool", "uint", "uint", "uint" },
  simultaneous_accepts = { "bool" }, open = { "fd" }, close_reset = { "cb?" },
  set_linger = { "bool", "int" }, get_linger = {}, set_ttl = { "int" },
  get_ttl = {}, set_reuseaddr = { "bool" }, get_reuseaddr = {},
  set_ipv6only = { "bool" }, get_ipv6only = {}, bind_to_device = { "str?" },
  state = {}, pending_bytes = {}, socket_error = {}, detach = {},
}
local timer_sig = {
  start = { "uint", "uint", "cb" }, stop = {}, again = {},
  set_repeat = { "uint" }, get_repeat = {}, get_due_in = {},
}
local async_sig = { send = {} }

local function merge(...)
  local all = {}
  for i = 1, select("#", ...) do
    for k, v in pairs((select(i, ...))) do all[k] = v end
  end
  return all
end

local metatables = raw._metatables()
local handle_kinds = {
  { name = "tcp", new = function() return uv.new_tcp() end,
    sig = merge(handle_sig, stream_sig, tcp_sig), methods = metatables.tcp.__index },
  { name = "timer", new = function() return uv.new_timer() end,
    sig = merge(handle_sig, timer_sig), methods = metatables.timer.__index },
  { name = "async", new = function() return uv.new_async(function() end) end,
    sig = merge(handle_sig, async_sig), methods = metatables.async.__index },
}

-- Getters that answer a closed handle with a plain value.
local closed_answers = {
  is_active = false, is_closing = true, has_ref = false, is_readable = false,
  is_writable = false, is_congested = false, get_type = "any",
  get_write_queue_size = 0, get_repeat = 0, get_due_in = 0,
  -- An int that is a value even when negative (flatuv.i's FUV_VALUE).
  socket_error = uv.errno.EINVAL,
}

-- ---- the values tried in every position -----------------------------------

local closed_tcp = uv.new_tcp()
closed_tcp:close()
local other_timer = uv.new_timer()
local values = {
  n = 22,
  nil, false, true, 0, -1, 1.5, 2 ^ 31, -2 ^ 31 - 1, 2 ^ 53, -2 ^ 63, math.huge,
  0 / 0, "", "x", "1\0002", string.rep("y", 100000), {}, { 1, 2 },
  function() end, coroutine.create(function() end), io.stdout, other_timer,
}
values[values.n + 1] = closed_tcp
values[values.n + 2] = uv.ip6_addr("::1", 1)
values.n = values.n + 2

local function describe_value(v)
  if type(v) == "string" then
    return #v > 20 and ("string of " .. #v) or string.format("%q", v)
  end
  return tostring(v)
end

-- Calls fn(...) with n arguments, counting it.
local function call(fn, n, ...)
  calls = calls + 1
  return pcall(fn, ...)
end

-- A fresh handle for each call, so that no call sees another's state (a
-- bind that worked followed by a listen, then a blocking accept_sync).
local open_handles = {}
local function fresh(kind)
  local h = kind.new()
  open_handles[#open_handles + 1] = h
  if #open_handles >= 200 then
    for _, x in ipairs(open_handles) do
      if not x:is_closing() then x:close() end
    end
    open_handles = {}
    uv.run("nowait")
  end
  return h
end

local function valid_args(sig)
  local args = {}
  for i, k in ipairs(sig) do args[i] = kinds[k].valid end
  return args
end

-- ---- methods ------------------------------------------------------------------

for _, kind in ipairs(handle_kinds) do
  for name in pairs(kind.methods) do
    if kind.sig[name] == nil then
      report(kind.name .. ":" .. name, "no signature in the driver: add one")
    end
  end
  for name, sig in pairs(kind.sig) do
    local method = kind.methods[name]
    if method == nil then
      report(kind.name .. ":" .. name, "method missing")
    else
      local label = kind.name .. ":" .. name
      -- A bad value in each position, the others valid.
      for pos = 1, #sig do
        for vi = 1, values.n do
          local v = values[vi]
          local args = valid_args(sig)
          local k = kinds[sig[pos]]
          -- Never hand a real descriptor to open(): it would take it over.
          if sig[pos] == "fd" and k.accepts(v) then v = -1 end
          args[pos] = v
          local h = fresh(kind)
          local ok, err = call(method, #sig + 1, h, unpack(args, 1, #sig))
          if ok and not k.accepts(v) then
            report(label, ("argument %d = %s accepted"):format(pos, describe_value(v)))
          elseif not ok and type(err) ~= "string" then
            report(label, "error is not a message: " .. tostring(err))
          end
        end
      end
      -- Bad values as the handle itself.
      for vi = 1, values.n do
        local v = values[vi]
        if v ~= closed_tcp and not (kind.name == "timer" and v == other_timer) then
          local ok = call(method, #sig + 1, v, unpack(valid_args(sig), 1, #sig))
          -- Only a handle of a kind the method takes may be accepted:
          -- any kind for the handle methods.
          if ok and not (raw.is_handle(v) and handle_sig[name]) then
            report(label, "self = " .. describe_value(v) .. " accepted")
          end
        end
      end
      -- No arguments at all, and one too many.
      call(method, 1, fresh(kind))
      do
        local args = valid_args(sig)
        args[#sig + 1] = "extra"
        local ok = call(method, #sig + 2, fresh(kind), unpack(args, 1, #sig + 1))
        if ok then report(label, "an extra argument accepted") end
      end
      -- A closed handle.
      local closed = kind.new()
      closed:close()
      uv.run("nowait")
      local ok, r1 = call(method, #sig + 1, closed, unpack(valid_args(sig), 1, #sig))
      local expected = closed_answers[name]
      if ok and expected == nil and r1 ~= nil then
        report(label, "a closed handle answered " .. tostring(r1))
      elseif ok and expected ~= nil and expected ~= "any" and r1 ~= expected then
        report(label, "a closed handle answered " .. tostring(r1) .. ", not " .. tostring(expected))
      end
    end
  end
end

-- ---- module functions -------------------------------------------------------

local module_cases = {
  { "run", { "bogus" }, false }, { "run", { {} }, false }, { "run", { 99 }, true },
  { "walk", { 5 }, false }, { "walk", {}, false },
  { "new_tcp", { "bogus" }, false }, { "new_tcp", { 12345 }, true },
  { "new_tcp", { {} }, false },
  { "new_async", {}, false }, { "new_async", { 5 }, false },
  { "new_timer", { 1 }, false },
  { "err_name", { "x" }, false }, { "err_name", { 2 ^ 40 }, false },
  { "strerror", { {} }, false }, { "strerror", { 12345 }, true },
  { "ip4_addr", { "x", 1 }, true }, { "ip4_addr", { 1, 1 }, false },
  { "ip4_addr", { "1.2.3.4", -5 }, true }, { "ip6_addr", { "::1", "p" }, false },
  { "ip_name", { "1.2.3.4" }, false }, { "ip_name", { other_timer }, false },
  { "socketpair", { "bogus" }, false }, { "socketpair", { "stream", 0, "x" }, false },
  { "tcp_state_name", { -5 }, true }, { "handle_type_name", { 99 }, true },
  { "translate_sys_error", { "x" }, false }, { "stop", { 1 }, false },
  { "loop_set_interruptible", { "yes" }, false }, { "now", { 1 }, false },
  { "send_buffer_size", { nil, 5 }, false },
}
for _, case in ipairs(module_cases) do
  local name, args, may_succeed = case[1], case[2], case[3]
  local ok, err = call(uv[name], #args, unpack(args, 1, #args))
  if ok and not may_succeed then
    report("uv." .. name, "accepted " .. #args .. " bad argument(s)")
  elseif not ok and may_succeed then
    report("uv." .. name, "raised " .. tostring(err) .. " where an error return was expected")
  end
end

-- ---- re-entrancy: the loop from its own callbacks, coroutines ------------------

local function expect(label, cond, detail)
  calls = calls + 1
  if not cond then report(label, detail or "unexpected outcome") end
end

do
  local timers = {}
  for i = 1, 3 do
    timers[i] = uv.new_timer()
    timers[i]:start(1, 0, function() end)
  end
  local inner = {}
  uv.walk(function(h)
    h:close()
    inner[#inner + 1] = select(3, uv.run())
    inner[#inner + 1] = select(3, uv.loop_close())
  end)
  for _, name in ipairs(inner) do
    expect("run/loop_close inside walk", name == "EBUSY", tostring(name))
  end
  uv.run()

  local from_cb
  uv.new_timer():start(0, 0, function(t)
    from_cb = { select(3, uv.run()), select(3, uv.loop_close()) }
    t:close()
  end)
  uv.run()
  expect("run/loop_close inside a callback",
    from_cb[1] == "EBUSY" and from_cb[2] == "EBUSY",
    tostring(from_cb[1]) .. ", " .. tostring(from_cb[2]))

  local co = coroutine.wrap(function()
    uv.new_timer():start(0, 0, function(t) t:close() coroutine.yield() end)
    return pcall(uv.run)
  end)
  local ok, err = co()
  expect("yield inside a callback", ok == false and tostring(err):find("yield"), tostring(err))
  uv.run()

  local gc_ok = pcall(function()
    uv.new_timer():start(0, 0, function(t)
      collectgarbage()
      t:close()
    end)
    uv.run()
  end)
  expect("collectgarbage inside a callback", gc_ok)
end

-- ---- closing everything, in any order, with collections in between ------------

for _, x in ipairs(open_handles) do
  if not x:is_closing() then x:close() end
end
open_handles = nil
other_timer = nil
collectgarbage()
uv.run()
collectgarbage()
uv.run()
local left = 0
uv.walk(function() left = left + 1 end)
if left ~= 0 then report("teardown", left .. " handles left open") end

io.write(("misuse: %d calls, %d broken\n"):format(calls, broken))
os.exit(broken == 0 and 0 or 1)
