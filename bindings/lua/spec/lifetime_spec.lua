-- Object identity and lifetime: callbacks get the userdata the script
-- holds; active handles live without references; the garbage collector
-- closes open, inactive handles; closing is safe in any order.
local uv = require "flatuv"
local H = require "helper"

-- Full collections, twice: the first may only run finalizers.
local function gc()
  collectgarbage()
  collectgarbage()
end

-- A weak table to observe whether an object has been collected.
local function watch(object)
  return setmetatable({ object }, { __mode = "v" })
end

describe("lifetime", function()
  after_each(H.close_all)

  describe("identity", function()
    it("callbacks get the very userdata the script holds", function()
      local server = uv.new_tcp()
      server:bind("127.0.0.1", 0)
      local seen = {}
      local accepted
      server:listen(1, function(err, s)
        seen.listen = s
        accepted = server:accept()
        accepted:read_start(function(rerr, chunk, stream)
          seen.read = stream
          if not chunk then accepted:close(function(h) seen.close = h end) end
        end)
      end)
      local client = uv.new_tcp()
      client:connect("127.0.0.1", server:getsockname().port, function(err, tcp)
        seen.connect = tcp
        client:write("x", function(werr, stream)
          seen.write = stream
          client:shutdown(function(serr, s2)
            seen.shutdown = s2
            client:close()
            server:close()
          end)
        end)
      end)
      local timer = uv.new_timer()
      timer:start(0, 0, function(t) seen.timer = t end)
      H.run()
      assert.equal(server, seen.listen)
      assert.equal(accepted, seen.read)
      assert.equal(accepted, seen.close)
      assert.equal(client, seen.connect)
      assert.equal(client, seen.write)
      assert.equal(client, seen.shutdown)
      assert.equal(timer, seen.timer)
    end)

    it("walk visits the userdata the script holds", function()
      local a, b = uv.new_tcp(), uv.new_timer()
      local visited = {}
      uv.walk(function(h) visited[h] = true end)
      assert.is_true(visited[a])
      assert.is_true(visited[b])
      assert.equal("tcp", a:get_type())
      assert.equal("timer", select(1, b:get_type()))
    end)

    it("walk never shows a handle the collector is finalizing", function()
      -- Incremental steps stop between the collector's finding a box
      -- unreachable and its __gc: a walk then must not pass nil.
      local nils = 0
      for _ = 1, 300 do
        local dropped = uv.new_tcp()
        dropped:bind("127.0.0.1", 0)
        dropped = nil
        collectgarbage("step", 1)
        uv.walk(function(h)
          if h == nil then nils = nils + 1 end
        end)
      end
      assert.equal(0, nils)
    end)
  end)

  describe("active handles live without references", function()
    it("a listening server and a started timer survive collectgarbage()", function()
      local port
      do
        local server
        server, port = H.echo_server()
        local timer = uv.new_timer()
        timer:start(50, 0, function() end)
      end
      gc()
      local reply
      local client = uv.new_tcp()
      client:connect("127.0.0.1", port, function(err)
        assert.is_nil(err)
        client:write("still here")
        client:read_start(function(_, chunk)
          reply = chunk
          client:close()
          H.close_all()
        end)
      end)
      H.run()
      assert.equal("still here", reply)
    end)

    it("a timer with no reference fires, then is collected and closed", function()
      local fired = false
      local w
      do
        local timer = uv.new_timer()
        timer:start(1, 0, function() fired = true end)
        w = watch(timer)
      end
      gc()
      assert.is_not_nil(w[1])
      H.run()
      assert.is_true(fired)
      -- Now inactive and unreferenced: collected, its close started by
      -- __gc, completed by the loop, then the userdata goes.
      gc()
      uv.run()
      gc()
      assert.is_nil(w[1])
      assert.equal(0, H.handle_count())
    end)

    it("queued writes keep a dropped handle alive until they are out", function()
      local total = 8 * 1024 * 1024
      local server = uv.new_tcp()
      server:bind("127.0.0.1", 0)
      local received, eof = 0, false
      server:listen(1, function()
        local conn = server:accept()
        server:close()
        conn:read_start(function(_, chunk)
          if chunk then
            received = received + #chunk
            if received == total then conn:close() end
          end
        end)
      end)
      local w
      do
        local client = uv.new_tcp()
        w = watch(client)
        client:connect("127.0.0.1", server:getsockname().port, function()
          client:write(string.rep("z", total)) -- no callback, no reference
          gc()
        end)
      end
      H.run()
      assert.equal(total, received)
      gc()
      uv.run()
      gc()
      assert.is_nil(w[1])
      assert.equal(0, H.handle_count())
    end)
  end)

  describe("the garbage collector", function()
    it("closes an open, inactive handle that the script dropped", function()
      local before = uv._stats().handles
      local w
      do
        local tcp = uv.new_tcp()
        assert.equal(0, tcp:bind("127.0.0.1", 0))
        w = watch(tcp)
      end
      assert.equal(before + 1, uv._stats().handles)
      gc()
      uv.run() -- the close __gc started completes
      gc()
      assert.is_nil(w[1])
      assert.equal(before, uv._stats().handles)
    end)

    it("collects an idle handle whose own callback refers to it", function()
      -- The server answers once and closes its side.
      local server = uv.new_tcp()
      server:bind("127.0.0.1", 0)
      server:listen(1, function()
        local conn = server:accept()
        server:close()
        conn:write("ping", function() conn:close() end)
      end)
      local w
      local done = false
      do
        local client = uv.new_tcp()
        w = watch(client)
        client:connect("127.0.0.1", server:getsockname().port, function()
          client:read_start(function(_, chunk)
            -- The callback holds `client`; stop reading and drop it open.
            client:read_stop()
            done = chunk == "ping"
          end)
        end)
      end
      H.run()
      assert.is_true(done)
      assert.equal(1, H.handle_count()) -- the client, open and idle
      gc()
      uv.run()
      gc()
      assert.is_nil(w[1])
      assert.equal(0, H.handle_count())
    end)

    it("lets a close callback run for a handle dropped while closing", function()
      local called = false
      do
        local t = uv.new_timer()
        t:close(function() called = true end)
      end
      gc()
      uv.run()
      assert.is_true(called)
    end)

    it("releases every callback registration when handles close", function()
      local base = uv._stats()
      for _ = 1, 10 do
        local server, port = H.echo_server()
        local client = uv.new_tcp()
        client:connect("127.0.0.1", port, function()
          client:write("x", function() end)
          client:read_start(function() client:close() server:close() end)
        end)
        local t = uv.new_timer()
        t:start(0, 0, function() t:close() end)
      end
      H.run()
      gc()
      local after = uv._stats()
      assert.equal(base.handles, after.handles)
      assert.equal(base.registrations, after.registrations)
    end)
  end)

  describe("restarting", function()
    it("a timer runs only its latest function, and keeps one registration", function()
      local t = uv.new_timer()
      local calls = {}
      t:start(0, 0, function() calls[#calls + 1] = "first" end)
      local before = uv._stats().registrations
      for i = 1, 100 do
        t:start(0, 0, function() calls[#calls + 1] = "later " .. i end)
      end
      assert.equal(before, uv._stats().registrations)
      H.run()
      assert.same({ "later 100" }, calls)
    end)

    it("read_start after read_stop runs the new function", function()
      -- The server switches functions after the first message and says
      -- so; only then does the client send the second.
      local server = uv.new_tcp()
      server:bind("127.0.0.1", 0)
      local got = {}
      server:listen(1, function()
        local conn = server:accept()
        server:close()
        conn:read_start(function(_, chunk)
          got[#got + 1] = "old " .. tostring(chunk)
          conn:read_stop()
          conn:read_start(function(_, c2)
            got[#got + 1] = "new " .. tostring(c2)
            conn:close()
          end)
          conn:write("switched")
        end)
      end)
      local client = uv.new_tcp()
      client:connect("127.0.0.1", server:getsockname().port, function()
        client:write("one")
        client:read_start(function(_, chunk)
          if chunk == "switched" then
            client:write("two")
          else
            client:close()
          end
        end)
      end)
      H.run()
      assert.same({ "old one", "new two" }, got)
    end)
  end)

  describe("closing", function()
    it("a to-be-closed variable closes its handle", function()
      if _VERSION ~= "Lua 5.4" then
        pending("to-be-closed variables are Lua 5.4's")
        return
      end
      -- Compiled at run time: other Lua versions cannot parse <close>.
      local chunk = assert(load([[
        local uv, kept = ...
        do
          local t <close> = uv.new_timer()
          kept.timer = t
          local c <close> = uv.new_tcp()
          c:close() -- already closing: left alone
          kept.tcp = c
        end
      ]]))
      local kept = {}
      chunk(uv, kept)
      assert.is_true(kept.timer:is_closing())
      assert.is_true(kept.tcp:is_closing())
      uv.run()
    end)

    it("a second close is an error, not a crash", function()
      local t = uv.new_timer()
      assert.equal(0, t:close())
      local r, _, name = t:close()
      assert.is_nil(r)
      assert.equal("EINVAL", name)
    end)

    it("methods of a closed handle return errors; is_closing stays true", function()
      local tcp = uv.new_tcp()
      tcp:close()
      uv.run()
      assert.is_true(tcp:is_closing())
      assert.is_false(tcp:is_active())
      local r, _, name = tcp:bind("127.0.0.1", 0)
      assert.is_nil(r)
      assert.equal("EINVAL", name)
      assert.is_nil((tcp:close()))
      assert.is_nil((tcp:read_start(function() end)))
      assert.matches("closed", tostring(tcp))
    end)

    it("a close callback runs after the pending writes' callbacks", function()
      local order = {}
      local server, port = H.echo_server()
      local client = uv.new_tcp()
      client:connect("127.0.0.1", port, function()
        client:write("a", function(err) order[#order + 1] = "write " .. tostring(err) end)
        client:close(function() order[#order + 1] = "close" end)
        server:close()
      end)
      H.run()
      assert.equal("close", order[#order])
      assert.equal(2, #order)
    end)

    it("loop_close fails while handles are open and works once they are closed", function()
      local t = uv.new_timer()
      local r, _, name = uv.loop_close()
      assert.is_nil(r)
      assert.equal("EBUSY", name)
      t:close()
      uv.run()
      H.close_all()
      assert.equal(0, uv.loop_close())
      -- A new loop is made on demand.
      local fired = false
      uv.new_timer():start(0, 0, function(tm) fired = true tm:close() end)
      uv.run()
      assert.is_true(fired)
    end)
  end)

  describe("10,000 create/close cycles", function()
    -- Half closed by the script, half dropped open for the collector.
    local function cycles(n)
      for i = 1, n do
        local tcp = uv.new_tcp()
        local timer = uv.new_timer()
        timer:start(1000, 0, function() end)
        if i % 2 == 0 then
          tcp:close()
          timer:close(function() end)
        else
          timer:stop()
        end
        if i % 100 == 0 then
          gc()
          uv.run("nowait")
        end
      end
      gc()
      uv.run()
      gc()
    end

    it("leave the Lua heap, the handles and the registrations flat", function()
      cycles(2000) -- warm up: free lists, pools, tables at their size
      local lua_kb, stats = collectgarbage("count"), uv._stats()
      cycles(10000)
      local lua_growth = collectgarbage("count") - lua_kb
      local after = uv._stats()
      print(("\n  10,000 cycles: Lua heap %+.1f KiB"):format(lua_growth))
      assert.equal(stats.handles, after.handles)
      assert.equal(stats.registrations, after.registrations)
      assert.is_true(lua_growth < 64, "Lua heap grew by " .. lua_growth .. " KiB")
    end)

    -- Tagged: RSS means nothing under valgrind, whose allocator keeps
    -- freed blocks; run_tests.sh's valgrind pass leaves this one out.
    it("leave the resident set size flat #rss", function()
      cycles(2000)
      local rss = H.rss()
      cycles(10000)
      local growth = H.rss() - rss
      print(("\n  10,000 cycles: RSS %+d KiB"):format(math.floor(growth / 1024)))
      assert.is_true(growth < 1024 * 1024, "RSS grew by " .. growth .. " bytes")
    end)
  end)
end)
