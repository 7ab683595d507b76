-- Synchronous calls with timeouts: connect_sync, accept_sync, send, recv.
local uv = require "flatuv"
local H = require "helper"

-- A server listening without a callback, for accept_sync.
local function sync_server()
  local server = assert(uv.new_tcp())
  assert.equal(0, server:bind("127.0.0.1", 0))
  assert.equal(0, server:listen(8))
  return server, server:getsockname().port
end

describe("synchronous I/O", function()
  after_each(H.close_all)

  it("connects, accepts, sends and receives, then sees end of stream", function()
    local server, port = sync_server()
    local client = uv.new_tcp()
    assert.equal(0, client:connect_sync("127.0.0.1", port, 2000))
    local conn = assert(server:accept_sync(2000))
    assert.equal("tcp", conn:get_type())
    assert.equal(0, client:send("ping", 2000))
    assert.equal("ping", conn:recv(4, 2000))
    assert.equal(0, conn:send(string.rep("p", 100000), 2000))
    local got = {}
    local n = 0
    while n < 100000 do
      local chunk = assert(client:recv(100000, 2000))
      got[#got + 1] = chunk
      n = n + #chunk
    end
    assert.equal(string.rep("p", 100000), table.concat(got))
    assert.equal(0, conn:shutdown())
    uv.run("nowait") -- the shutdown goes out
    assert.equal("", client:recv(10, 2000))
  end)

  it("times out with ETIMEDOUT", function()
    local server, port = sync_server()
    local r, msg, name = server:accept_sync(30)
    assert.is_nil(r)
    assert.equal("ETIMEDOUT", name)
    assert.equal("ETIMEDOUT: connection timed out", msg)
    local client = uv.new_tcp()
    assert.equal(0, client:connect_sync("127.0.0.1", port, 2000))
    r, msg, name = client:recv(10, 30)
    assert.is_nil(r)
    assert.equal("ETIMEDOUT", name)
  end)

  it("is EBUSY while asynchronous reading is in flight", function()
    local server, port = sync_server()
    local client = uv.new_tcp()
    assert.equal(0, client:connect_sync("127.0.0.1", port, 2000))
    assert.equal(0, client:read_start(function() end))
    local r, _, name = client:recv(10, 0)
    assert.is_nil(r)
    assert.equal("EBUSY", name)
  end)

  it("leaves the handle usable asynchronously afterwards", function()
    local server, port = sync_server()
    local client = uv.new_tcp()
    assert.equal(0, client:connect_sync("127.0.0.1", port, 2000))
    local conn = assert(server:accept_sync(2000))
    server:close()
    local got
    conn:read_start(function(_, chunk)
      got = chunk
      conn:close()
      client:close()
    end)
    client:write("async after sync")
    H.run()
    assert.equal("async after sync", got)
  end)

  it("refuses with ECONNREFUSED", function()
    local r, _, name = uv.new_tcp():connect_sync("127.0.0.1", H.closed_port(), 2000)
    assert.is_nil(r)
    assert.equal("ECONNREFUSED", name)
  end)
end)
