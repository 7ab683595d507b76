-- A pending request (connect, write, shutdown) holds its handle and its
-- callback until the callback has run, even when the script dropped every
-- reference and collected garbage (issue 17, item 1, in Lua): the commonest
-- client code is "connect, write, forget".
local uv = require "flatuv"
local H = require "helper"

local function gc()
  for _ = 1, 4 do collectgarbage() end
end

-- A server that takes one connection, reads until it has `want` bytes (or
-- the end of the stream), then closes both. Returns it, its port and the
-- table it fills: received (the bytes) and closed.
local function one_shot_server(want)
  local got = { received = "" }
  local server = assert(uv.new_tcp())
  assert(server:bind("127.0.0.1", 0))
  assert(server:listen(8, function(err)
    assert(err == nil, err)
    local conn = assert(server:accept())
    conn:read_start(function(_, chunk)
      if chunk then got.received = got.received .. chunk end
      if not chunk or #got.received >= want then
        conn:close()
        server:close()
        got.closed = true
      end
    end)
  end))
  return server, server:getsockname().port, got
end

-- Connects, writes "hello" with a callback, and drops everything: only the
-- callbacks' records survive this function. If asked, the connect callback
-- also shuts down (as in libuv, a shutdown before the connection is made
-- fails with ENOTCONN).
local function send_hello(port, events, with_shutdown)
  local c = uv.new_tcp()
  c:connect("127.0.0.1", port, function(err, tcp)
    events[#events + 1] = "connect " .. tostring(err)
    if with_shutdown and not err then
      assert(tcp:shutdown(function(serr)
        events[#events + 1] = "shutdown " .. tostring(serr)
      end))
    end
  end)
  c:write("hello", function(err)
    events[#events + 1] = "write " .. tostring(err)
  end)
end

describe("a pending request holds its handle", function()
  after_each(H.close_all)

  it("connect and write on a dropped client both complete", function()
    local _, port, got = one_shot_server(5)
    local events = {}
    send_hello(port, events)
    gc()
    H.run(5000)
    assert.same({ "connect nil", "write nil" }, events)
    assert.equal("hello", got.received)
    assert.is_true(got.closed)
  end)

  it("shutdown too, and the server sees the end of the stream", function()
    local _, port, got = one_shot_server(math.huge)
    local events = {}
    send_hello(port, events, true)
    gc()
    H.run(5000)
    table.sort(events) -- the write and the shutdown complete in either order
    assert.same({ "connect nil", "shutdown nil", "write nil" }, events)
    assert.equal("hello", got.received)
    assert.is_true(got.closed)
  end)

  it("a refusing address fails every request, and run returns", function()
    local port = H.closed_port()
    local events = {}
    send_hello(port, events, true)
    gc()
    H.run(5000)
    assert.same({ "connect ECONNREFUSED", "write ECONNREFUSED" }, events)
  end)

  it("a write that went out at once holds its handle until its callback", function()
    -- The bytes leave inside write(), so the handle is no longer active:
    -- only the pending callback keeps it from the collector.
    local _, port, got = one_shot_server(5)
    local held = { c = uv.new_tcp() }
    local connected = false
    held.c:connect("127.0.0.1", port, function() connected = true end)
    for _ = 1, 100 do
      if connected then break end
      uv.run("once")
    end
    assert.is_true(connected)
    local err, closing = "not called", nil
    assert(held.c:write("hello", function(e, h)
      err, closing = e, h:is_closing()
    end))
    held.c = nil
    gc()
    H.run(5000)
    assert.is_nil(err)
    assert.is_false(closing)
    assert.equal("hello", got.received)
  end)

  it("a write without a callback on a dropped client is delivered", function()
    local _, port, got = one_shot_server(5)
    do
      local c = uv.new_tcp()
      c:connect("127.0.0.1", port)
      c:write("hel")
      c:write({ "l", "o" })
    end
    gc()
    H.run(5000)
    assert.equal("hello", got.received)
  end)

  it("once the callbacks ran, the dropped client is collected and closed", function()
    local _, port = one_shot_server(5)
    local w = setmetatable({}, { __mode = "v" })
    do
      local c = uv.new_tcp()
      w[1] = c
      c:connect("127.0.0.1", port, function() end)
      c:write("hello", function() end)
    end
    gc()
    assert.is_not_nil(w[1])
    H.run(5000)
    gc()
    uv.run()
    gc()
    assert.is_nil(w[1])
    assert.equal(0, H.handle_count())
  end)

  it("garbage collection inside the callbacks changes nothing", function()
    local _, port, got = one_shot_server(10)
    local events = {}
    do
      local c = uv.new_tcp()
      c:connect("127.0.0.1", port, function(err)
        events[#events + 1] = "connect " .. tostring(err)
        gc()
      end)
      c:write("hello", function(err)
        events[#events + 1] = "write " .. tostring(err)
        gc()
        -- The handle is passed last: write again from the callback.
      end)
      c:write("world", function(err)
        events[#events + 1] = "write2 " .. tostring(err)
        gc()
      end)
    end
    gc()
    H.run(5000)
    assert.same({ "connect nil", "write nil", "write2 nil" }, events)
    assert.equal("helloworld", got.received)
  end)
end)
