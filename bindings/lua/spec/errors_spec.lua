-- Each error convention: failed calls return nil, "NAME: message", "NAME";
-- callbacks get the name or nil; wrong arguments raise an error naming
-- their position; an error raised in a callback comes out of uv.run().
local uv = require "flatuv"
local H = require "helper"

describe("errors", function()
  after_each(H.close_all)

  describe("failed calls return nil, message, name", function()
    it("ECONNREFUSED from a synchronous connect", function()
      local port = H.closed_port()
      local r, msg, name = uv.new_tcp():connect_sync("127.0.0.1", port, 2000)
      assert.is_nil(r)
      assert.equal("ECONNREFUSED: connection refused", msg)
      assert.equal("ECONNREFUSED", name)
    end)

    it("EINVAL for a port out of range", function()
      local r, msg, name = uv.new_tcp():bind("127.0.0.1", 70000)
      assert.is_nil(r)
      assert.equal("EINVAL: invalid argument", msg)
      assert.equal("EINVAL", name)
    end)

    -- luv's message alone: luv names no call ("EINVAL: invalid argument"),
    -- and programs compare it, so neither does this module.
    it("luv's message, naming no call", function()
      local r, msg, name = uv.new_tcp():listen(1, function() end)
      assert.is_nil(r)
      assert.equal(name .. ": " .. uv.strerror(uv.errno[name]), msg)
    end)

    it("EADDRINUSE from listen on a port in use", function()
      local first = uv.new_tcp()
      assert.equal(0, first:bind("127.0.0.1", 0))
      assert.equal(0, first:listen(1, function() end))
      local second = uv.new_tcp()
      assert.equal(0, second:bind("127.0.0.1", first:getsockname().port))
      local r, msg, name = second:listen(1, function() end)
      assert.is_nil(r)
      assert.equal("EADDRINUSE", name)
      assert.equal("EADDRINUSE: address already in use", msg)
    end)

    it("ENOTCONN for reading an unconnected handle", function()
      local r, _, name = uv.new_tcp():read_start(function() end)
      assert.is_nil(r)
      assert.equal("ENOTCONN", name)
    end)

    it("EPIPE for writing after shutdown", function()
      local server, port = H.echo_server()
      local client = uv.new_tcp()
      local result
      client:connect("127.0.0.1", port, function()
        assert.equal(0, client:shutdown())
        result = { client:write("late") }
        client:close()
        server:close()
      end)
      H.run()
      assert.same({ nil, "EPIPE: broken pipe", "EPIPE" }, result)
    end)

    it("successful calls with nothing to return give 0, as in luv", function()
      local t = uv.new_timer()
      assert.equal(0, t:start(10, 0, function() end))
      assert.equal(0, t:stop())
      assert.equal(0, t:close())
    end)

    it("error names and messages come from the C table", function()
      assert.equal("ECONNREFUSED", uv.err_name(uv.errno.ECONNREFUSED))
      assert.equal("end of file", uv.strerror(uv.errno.EOF))
      assert.equal(-4095, uv.errno.EOF)
    end)
  end)

  describe("callbacks get the error's name or nil", function()
    it("connect: ECONNREFUSED, and the handle stays open", function()
      local port = H.closed_port()
      local tcp = uv.new_tcp()
      local got = "not called"
      assert.is_userdata(tcp:connect("127.0.0.1", port, function(err)
        got = err
      end))
      H.run()
      assert.equal("ECONNREFUSED", got)
      assert.is_false(tcp:is_closing())
    end)

    it("connect: nil on success; read: nil, nil at end of stream", function()
      local server = uv.new_tcp()
      server:bind("127.0.0.1", 0)
      server:listen(1, function()
        local conn = server:accept()
        conn:write("bye")
        conn:shutdown(function() conn:close() end)
        server:close()
      end)
      local events = {}
      local client = uv.new_tcp()
      client:connect("127.0.0.1", server:getsockname().port, function(err)
        events[#events + 1] = { "connect", err }
        client:read_start(function(rerr, chunk)
          events[#events + 1] = { "read", rerr, chunk }
          if not chunk then client:close() end
        end)
      end)
      H.run()
      assert.same({ { "connect", nil }, { "read", nil, "bye" }, { "read", nil, nil } }, events)
    end)

    it("write: ECANCELED for writes pending when the handle closes", function()
      local server = uv.new_tcp()
      server:bind("127.0.0.1", 0)
      server:listen(1, function() end) -- never accepts
      local client = uv.new_tcp()
      local statuses = {}
      client:connect("127.0.0.1", server:getsockname().port, function()
        -- More than the socket buffers take, so that writes stay queued.
        local big = string.rep("x", 1024 * 1024)
        for _ = 1, 16 do
          client:write(big, function(err) statuses[#statuses + 1] = err or "ok" end)
        end
        client:close()
        server:close()
      end)
      H.run()
      assert.equal(16, #statuses)
      assert.equal("ECANCELED", statuses[16])
    end)
  end)

  describe("wrong arguments raise errors naming their position", function()
    it("names the argument and the expected type", function()
      local tcp = uv.new_tcp()
      assert.has_error(function() tcp:bind(42, 0) end,
        "bad argument #1 to 'bind' (string expected, got number)")
      assert.has_error(function() tcp:bind("127.0.0.1", "x") end,
        "bad argument #2 to 'bind' (integer expected, got string)")
      assert.has_error(function() tcp:bind("127.0.0.1") end,
        "bad argument #2 to 'bind' (integer expected, got no value)")
      assert.has_error(function() uv.new_timer():start(1, 0, "f") end,
        "bad argument #3 to 'start' (function or callable table expected, got string)")
      assert.has_error(function() tcp:write({ "a", 2 }) end,
        "bad argument #1 to 'write' (item 2 is number, not a string)")
    end)

    it("rejects a handle of the wrong kind, and other userdata", function()
      local timer = uv.new_timer()
      assert.has_error(function() uv.tcp_bind(timer, "127.0.0.1", 0) end,
        "bad argument #1 to 'tcp_bind' (flatuv.tcp expected, got flatuv.timer)")
      assert.has_error(function() uv.close(io.stdout) end)
      assert.has_error(function() uv.close(nil) end)
    end)

    it("rejects extra arguments", function()
      assert.has_error(function() uv.new_timer():stop(1) end,
        "bad argument #1 to 'stop' (no more arguments expected)")
    end)

    it("rejects numbers that are not integers or are out of range", function()
      local t = uv.new_timer()
      assert.has_error(function() t:start(1.5, 0, function() end) end)
      assert.has_error(function() t:start(-1, 0, function() end) end)
      assert.has_error(function() uv.new_tcp():bind("127.0.0.1", 2 ^ 40) end)
    end)
  end)

  describe("an error raised in a callback", function()
    it("comes out of uv.run with its traceback, and the loop stays usable", function()
      local t = uv.new_timer()
      t:start(0, 0, function() error("boom in a timer") end)
      local ok, err = pcall(uv.run)
      assert.is_false(ok)
      assert.matches("errors_spec.lua:%d+: boom in a timer", err)
      assert.matches("stack traceback:", err)
      -- The loop runs again normally.
      local fired = false
      t:start(0, 0, function() fired = true end)
      assert.is_false(uv.run())
      assert.is_true(fired)
    end)

    it("passes error objects through unchanged", function()
      local object = { code = 42 }
      uv.new_timer():start(0, 0, function() error(object) end)
      local ok, err = pcall(uv.run)
      assert.is_false(ok)
      assert.equal(object, err)
    end)

    it("stops the loop at the end of the iteration", function()
      local later = uv.new_timer()
      local later_ran = false
      later:start(200, 0, function() later_ran = true end)
      uv.new_timer():start(0, 0, function() error("first") end)
      assert.is_false(pcall(uv.run))
      assert.is_false(later_ran)
      assert.is_true(later:is_active())
      H.run()
      assert.is_true(later_ran)
    end)

    it("from a walk callback comes out of uv.walk", function()
      uv.new_timer()
      assert.has_error(function()
        uv.walk(function() error("in walk") end)
      end)
    end)
  end)


  -- luv raises for an (ip, port) that is no address, before the call:
  -- luaL_error(L, "Invalid IP address or port [%s:%d]", host, port).
  describe("a malformed address raises luv's error", function()
    local function raises(f, text)
      local ok, err = pcall(f)
      assert.is_false(ok)
      assert.equal(text, err)
    end

    it("for every (ip, port) argument: bind, connect, connect_sync", function()
      raises(function() uv.new_tcp():bind("999.1.1.1", 0) end,
             "Invalid IP address or port [999.1.1.1:0]")
      raises(function() uv.tcp_bind(uv.new_tcp(), "999.1.1.1", 0) end,
             "Invalid IP address or port [999.1.1.1:0]")
      raises(function() uv.new_tcp():connect("not an address", 80, function() end) end,
             "Invalid IP address or port [not an address:80]")
      raises(function() uv.new_tcp():connect_sync("1.2.3", 80, 100) end,
             "Invalid IP address or port [1.2.3:80]")
    end)

    it("IPv4 and IPv6 addresses pass", function()
      local tcp = uv.new_tcp()
      assert.equal(0, tcp:bind("127.0.0.1", 0))
      local tcp6 = uv.new_tcp()
      local r, _, name = tcp6:bind("::1", 0)
      assert.is_true(r == 0 or name == "EADDRNOTAVAIL")
    end)
  end)
end)
