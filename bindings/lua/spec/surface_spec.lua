-- The module's surface: every name scripts had before the surface was
-- generated (issue 11) still exists, the hot paths are the C functions
-- themselves (no Lua wrapper), predicates are booleans, and the functions
-- written by hand are the overrides swig/api.i names.
local uv = require "flatuv"
local api = require "flatuv.api"
local H = require "helper"

-- uv.* and the methods of each handle class before the change (luv's
-- names, and a few of flatuv's own kept as aliases).
local functions = {
  "_stats", "accept", "accept_sync", "async_new", "async_send",
  "backend_fd", "backend_timeout", "close", "err_name", "fileno",
  "get_recv_buffer_size", "get_send_buffer_size", "get_type",
  "get_write_queue_size", "handle_get_type", "handle_type_name",
  "has_ref", "ip4_addr", "ip6_addr", "ip_name", "is_active",
  "is_closing", "is_handle", "is_readable", "is_writable", "listen",
  "loop_alive", "loop_close", "loop_set_interruptible", "loop_wakeup_fd",
  "metrics_events", "metrics_loop_count", "new_async", "new_tcp",
  "new_timer", "now", "read_start", "read_stop", "recv",
  "recv_buffer_size", "ref", "run", "send", "send_buffer_size",
  "set_recv_buffer_size", "set_send_buffer_size", "shutdown",
  "socketpair", "stop", "stream_get_write_queue_size",
  "stream_is_congested", "stream_set_water_marks", "strerror",
  "tcp_bind", "tcp_bind_addr", "tcp_bind_to_device", "tcp_close_reset",
  "tcp_connect", "tcp_connect_addr", "tcp_connect_sync", "tcp_detach",
  "tcp_get_ipv6only", "tcp_get_linger", "tcp_get_reuseaddr",
  "tcp_get_ttl", "tcp_getpeername", "tcp_getpeername_addr",
  "tcp_getsockname", "tcp_getsockname_addr", "tcp_keepalive",
  "tcp_keepalive_ex", "tcp_new", "tcp_new_ex", "tcp_nodelay", "tcp_open",
  "tcp_pending_bytes", "tcp_set_ipv6only", "tcp_set_linger",
  "tcp_set_reuseaddr", "tcp_set_ttl", "tcp_simultaneous_accepts",
  "tcp_socket_error", "tcp_state", "tcp_state_name", "timer_again",
  "timer_get_due_in", "timer_get_repeat", "timer_new",
  "timer_set_repeat", "timer_start", "timer_stop", "translate_sys_error",
  "try_write", "unref", "update_time", "version", "version_string",
  "walk", "write", "writev",
}
local methods = {
  async = {
    "close", "fileno", "get_recv_buffer_size", "get_send_buffer_size",
    "get_type", "has_ref", "is_active", "is_closing", "recv_buffer_size",
    "ref", "send", "send_buffer_size", "set_recv_buffer_size",
    "set_send_buffer_size", "unref",
  },
  tcp = {
    "accept", "accept_sync", "bind", "bind_addr", "bind_to_device",
    "close", "close_reset", "connect", "connect_addr", "connect_sync",
    "detach", "fileno", "get_ipv6only", "get_linger",
    "get_recv_buffer_size", "get_reuseaddr", "get_send_buffer_size",
    "get_ttl", "get_type", "get_write_queue_size", "getpeername",
    "getpeername_addr", "getsockname", "getsockname_addr", "has_ref",
    "is_active", "is_closing", "is_congested", "is_readable",
    "is_writable", "keepalive", "keepalive_ex", "listen", "nodelay",
    "open", "pending_bytes", "read_start", "read_stop", "recv",
    "recv_buffer_size", "ref", "send", "send_buffer_size", "set_ipv6only",
    "set_linger", "set_recv_buffer_size", "set_reuseaddr",
    "set_send_buffer_size", "set_ttl", "set_water_marks", "shutdown",
    "simultaneous_accepts", "socket_error", "state", "try_write", "unref",
    "write",
  },
  timer = {
    "again", "close", "fileno", "get_due_in", "get_recv_buffer_size",
    "get_repeat", "get_send_buffer_size", "get_type", "has_ref",
    "is_active", "is_closing", "recv_buffer_size", "ref",
    "send_buffer_size", "set_recv_buffer_size", "set_repeat",
    "set_send_buffer_size", "start", "stop", "unref",
  },
}

local function is_c(fn)
  return type(fn) == "function" and debug.getinfo(fn, "S").what == "C"
end

describe("the surface", function()
  after_each(H.close_all)

  it("has every function it had", function()
    for _, name in ipairs(functions) do
      assert.is_function(uv[name], "uv." .. name)
    end
  end)

  it("has every method it had", function()
    local handles = { tcp = uv.new_tcp(), timer = uv.new_timer(),
                      async = uv.new_async(function() end) }
    for kind, list in pairs(methods) do
      for _, name in ipairs(list) do
        assert.is_function(handles[kind][name], kind .. ":" .. name)
      end
    end
  end)

  it("calls the C functions directly on the hot paths", function()
    local tcp, timer = uv.new_tcp(), uv.new_timer()
    for _, name in ipairs({ "write", "read_start", "read_stop", "accept",
                            "listen", "close", "try_write", "nodelay" }) do
      assert.is_true(is_c(tcp[name]), "tcp:" .. name)
    end
    for _, name in ipairs({ "start", "stop", "again", "close", "get_repeat" }) do
      assert.is_true(is_c(timer[name]), "timer:" .. name)
    end
    assert.equal(uv.write, tcp.write)
    assert.equal(uv.timer_start, timer.start)
    assert.is_true(is_c(uv.new_tcp) and is_c(uv.new_timer) and is_c(uv.run))
  end)

  it("returns booleans from predicates", function()
    local timer = uv.new_timer()
    assert.is_false(timer:is_active())
    assert.is_false(timer:is_closing())
    assert.is_true(timer:has_ref())
    assert.is_true(uv.loop_alive() == true or uv.loop_alive() == false)
    local tcp = uv.new_tcp()
    assert.is_false(tcp:is_readable())
    assert.is_false(tcp:is_congested())
  end)

  it("has the overrides swig/api.i names, and at most 10", function()
    assert.is_true(#api.overridden <= 10)
    for _, name in ipairs(api.overridden) do
      assert.is_function(uv[name], "uv." .. name)
      assert.is_nil(api.functions[name], name .. " is generated too")
    end
  end)

  it("keeps the state's loop and the data pointers to itself", function()
    for _, name in ipairs({ "loop_new", "new_loop", "handle_loop", "loop_get_data",
                            "loop_set_data", "handle_get_data", "handle_set_data" }) do
      assert.is_nil(uv[name], "uv." .. name)
    end
    assert.is_nil(uv.new_tcp().loop)
  end)
  it("keeps in uv.constants only values calls take or give, as luv", function()
    -- luv's kinds: address families, socket types, a call's flags and
    -- states. Never an enum's bound or a C-only #define.
    for _, name in ipairs({ "ERRNO_MAX", "HANDLE_TYPE_MAX", "IP_NAME_MAX",
                            "VERSION_MAJOR", "VERSION_MINOR", "VERSION_PATCH" }) do
      assert.is_nil(uv.constants[name], "uv.constants." .. name)
      assert.is_nil(uv.errno[name], "uv.errno." .. name)
    end
    assert.equal(2, uv.constants.AF_INET)
    assert.equal(1, uv.constants.SOCK_STREAM)
    assert.equal(1, uv.constants.TCP_IPV6ONLY)
    -- Codes are in uv.errno only, and every code is one of the C table's.
    for name, value in pairs(uv.errno) do
      assert.is_nil(uv.constants[name], name)
      assert.equal(name, uv.err_name(value))
    end
    for name, value in pairs(uv.constants) do
      assert.matches("^[A-Z][A-Z0-9_]*$", name)
      assert.equal("number", type(value), name)
    end
  end)
end)
