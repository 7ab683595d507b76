--[[
overrides.lua - the Lua module's hand-written functions: where luv's
function is not the C function converted by role. Everything else comes
from the interface (flatuv/api.lua, generated); swig/api.i marks each
function replaced here with fuv:lua:override, and flatuv.lua checks that
this file gives every one of them.

flatuv.lua calls this with the raw module, the uv table and the method
tables by class word (handle, stream, tcp, timer, async, ...), before it
gives each metatable its methods, so a method set on a class is every
subclass's too. Each entry says why it is written by hand.
]]

local error, select = error, select

return function(raw, uv, methods)
  -- 1. timer:start(timeout_ms, repeat_ms, cb): luv's order (the callback
  --    last); a C adapter (bindings/lua/src/context.c), so no Lua frame.
  uv.timer_start = raw._timer_start
  methods.timer.start = raw._timer_start

  -- 2. uv.socketpair([socktype[, protocol[, flags1[, flags2]]]]) returns
  --    luv's {fd1, fd2} (flags are {nonblock = true}), not two values.
  local socketpair = raw.socketpair
  function uv.socketpair(socktype, protocol, flags1, flags2)
    -- luv's defaults: a stream pair, protocol 0.
    local fd1, fd2, name = socketpair(socktype or "stream", protocol or 0,
                                      flags1, flags2)
    if fd1 == nil then return nil, fd2, name end
    return { fd1, fd2 }
  end

  -- 3, 4. luv's combined getter / setter, send_buffer_size(handle[, size])
  --    and recv_buffer_size: two C functions each (get_/set_, which stay).
  local function getter_setter(get, set)
    return function(handle, size, ...)
      if select("#", ...) > 0 then
        error("bad argument #3 (no more arguments expected)", 2)
      end
      if size == nil then return get(handle) end
      return set(handle, size)
    end
  end
  uv.send_buffer_size = getter_setter(raw.get_send_buffer_size,
                                      raw.set_send_buffer_size)
  uv.recv_buffer_size = getter_setter(raw.get_recv_buffer_size,
                                      raw.set_recv_buffer_size)
  methods.handle.send_buffer_size = uv.send_buffer_size
  methods.handle.recv_buffer_size = uv.recv_buffer_size

  -- 5. server:accept([client]): luv's form fills the caller's handle
  --    (fuv_stream_accept_into); without one, a new handle of the server's
  --    kind (fuv_accept, fuv_stream_accept). Two C functions behind one
  --    name, so a C adapter (bindings/lua/src/context.c), no Lua frame.
  uv.accept = raw._accept
  methods.stream.accept = raw._accept

  -- 6. uv.pipe([read_flags[, write_flags]]) returns luv's
  --    {read = fd, write = fd}, not two values.
  local pipe = raw.pipe
  function uv.pipe(read_flags, write_flags)
    local r, w, name = pipe(read_flags, write_flags)
    if r == nil then return nil, w, name end
    return { read = r, write = w }
  end

  -- 7. uv.metrics_info() returns luv's table
  --    {loop_count = , events = , events_waiting = }, not three values.
  local metrics_info = raw.metrics_info
  function uv.metrics_info()
    local count, events, waiting = metrics_info()
    if count == nil then return nil, events, waiting end
    return { loop_count = count, events = events, events_waiting = waiting }
  end

  -- 8, 9. uv.print_all_handles([fd]) / print_active_handles([fd]): luv's
  --    optional stream (stderr by default); SWIG's Lua defaults go by
  --    parameter type and name, and tcp:open(fd) must still require its fd.
  local print_all, print_active = raw.print_all_handles, raw.print_active_handles
  function uv.print_all_handles(fd) return print_all(fd or 2) end
  function uv.print_active_handles(fd) return print_active(fd or 2) end

  -- 10. uv.new_udp([flags]): luv's flags, a family ("inet", "inet6") or a
  --     table {family = "inet", mmsgs = 64}, where mmsgs > 1 receives
  --     with recvmmsg (FUV_UDP_RECVMMSG): one C call (fuv_udp_new_ex), but
  --     a table's fields are no parameter of it. uv.udp_new_ex(family,
  --     flags) stays the C call.
  local udp_new_ex, recvmmsg = raw.udp_new_ex, raw.UDP_RECVMMSG
  uv.udp_new_ex = udp_new_ex
  function uv.new_udp(flags)
    if type(flags) == "table" then
      local mmsgs = flags.mmsgs
      if mmsgs ~= nil and type(mmsgs) ~= "number" then
        error("bad argument #1 to 'new_udp' (mmsgs must be an integer)", 2)
      end
      return udp_new_ex(flags.family or "unspec",
                        (mmsgs or 1) > 1 and recvmmsg or 0)
    end
    if flags == nil then return udp_new_ex() end
    return udp_new_ex(flags)
  end
end
