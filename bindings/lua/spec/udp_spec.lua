-- UDP (issue 13) in luv's style, over real loopback sockets: echo with the
-- sender's address, empty datagrams, connected UDP, errors, the
-- synchronous calls, options, try_send, GC of a receiving handle, send
-- callbacks and closing with sends queued.
local uv = require "flatuv"
local H = require "helper"

local function bound(host, flags)
  local udp = assert(uv.new_udp(flags))
  assert.equal(0, udp:bind(host or "127.0.0.1", 0))
  return udp, udp:getsockname()
end

describe("udp", function()
  after_each(H.close_all)

  it("echoes, the callback getting the sender's address", function()
    local server, saddr = bound()
    local client, caddr = bound()
    assert.same("inet", saddr.family)
    local got, sent = {}, {}
    assert.equal(0, server:recv_start(function(err, data, addr, flags, handle)
      assert.is_nil(err)
      assert.same({}, flags)
      assert.same(caddr, addr)
      assert.equal(server, handle)
      local req = server:send(data:upper(), addr.ip, addr.port, function(serr)
        sent[#sent + 1] = serr or "ok"
      end)
      assert.equal("udp_send", uv.req_get_type(req))
    end))
    assert.equal(0, client:recv_start(function(err, data, addr)
      assert.is_nil(err)
      got[#got + 1] = data
      assert.same(saddr, addr)
      if #got == 3 then
        server:close()
        client:close()
      end
    end))
    for _, word in ipairs({ "ping", "pong", "bye" }) do
      client:send(word, "127.0.0.1", saddr.port)
    end
    H.run()
    assert.same({ "PING", "PONG", "BYE" }, got)
    assert.same({ "ok", "ok", "ok" }, sent)
  end)

  it("gives an empty datagram as an empty string", function()
    local server, saddr = bound()
    local client, caddr = bound()
    local got
    server:recv_start(function(err, data, addr, flags)
      got = { err = err, data = data, addr = addr }
      server:close()
      client:close()
    end)
    assert.equal(0, client:send("", "127.0.0.1", saddr.port))
    H.run()
    assert.is_nil(got.err)
    assert.equal("", got.data)
    assert.same(caddr, got.addr)
  end)

  it("connects: sends without an address, EISCONN with one, nil disconnects", function()
    local server, saddr = bound()
    local client = uv.new_udp()
    assert.equal(0, client:connect("127.0.0.1", saddr.port))
    assert.same(saddr, client:getpeername())
    local got = {}
    server:recv_start(function(err, data)
      got[#got + 1] = data
      if #got == 2 then server:close() end
    end)
    assert.equal(0, client:send("one", nil, nil))
    assert.equal(3, client:try_send("two", nil, nil))
    local r, msg, name = client:send("x", "127.0.0.1", saddr.port)
    assert.is_nil(r)
    assert.equal("EISCONN", name)
    assert.equal("EISCONN: socket is already connected", msg)
    r, msg, name = client:connect("127.0.0.1", saddr.port)
    assert.equal("EISCONN", name)
    H.run()
    assert.same({ "one", "two" }, got)
    assert.equal(0, client:connect(nil, nil))
    r, msg, name = client:getpeername()
    assert.equal("ENOTCONN", name)
    r, msg, name = client:send("nowhere", nil, nil)
    assert.equal("EDESTADDRREQ", name)
    r, msg, name = client:connect(nil, nil)
    assert.equal("ENOTCONN", name)
  end)

  it("bind: a bad address raises as luv's, a port out of range is EINVAL", function()
    local udp = uv.new_udp()
    local ok, err = pcall(udp.bind, udp, "999.1.1.1", 0)
    assert.is_false(ok)
    assert.matches("Invalid IP address or port %[999.1.1.1:0%]", err)
    local r, msg, name = udp:bind("127.0.0.1", 70000)
    assert.is_nil(r)
    assert.equal("EINVAL", name)
    assert.equal("EINVAL: invalid argument", msg)
    -- A TCP bind's ip still may not be nil; a UDP send's may.
    assert.has_error(function() uv.new_tcp():bind(nil, 0) end)
    assert.equal(0, udp:bind("127.0.0.1", 0))
    local port = udp:getsockname().port
    r, msg, name = uv.new_udp():bind("127.0.0.1", port)
    assert.equal("EADDRINUSE", name)
    local a, b = uv.new_udp(), uv.new_udp()
    assert.equal(0, a:bind("127.0.0.1", 0, { reuseaddr = true }))
    assert.equal(0, b:bind("127.0.0.1", a:getsockname().port, { reuseaddr = true }))
    r, msg, name = udp:send("x", "127.0.0.1", 0)
    assert.equal("EINVAL", name)
  end)

  it("new_udp takes a family or luv's table", function()
    -- A family creates the socket at once.
    local six = assert(uv.new_udp("inet6"))
    assert.is_true(six:fileno() >= 0)
    local mm = assert(uv.new_udp({ family = "inet", mmsgs = 32 }))
    assert.is_true(mm:using_recvmmsg())
    local one = assert(uv.new_udp({ family = "inet" }))
    assert.is_false(one:using_recvmmsg())
    assert.is_false(uv.new_udp():using_recvmmsg())
    assert.has_error(function() uv.new_udp("nonsense") end)
  end)

  it("recv_sync times out, then returns the data and the sender", function()
    local server, saddr = bound()
    local client, caddr = bound()
    local r, msg, name = server:recv_sync(65536, 50)
    assert.is_nil(r)
    assert.equal("ETIMEDOUT", name)
    assert.equal(0, client:send_sync("hello", "127.0.0.1", saddr.port, 1000))
    local data, addr = server:recv_sync(65536, 1000)
    assert.equal("hello", data)
    assert.same(caddr, addr)
    assert.equal(0, client:send_sync("", "127.0.0.1", saddr.port, 1000))
    data, addr = server:recv_sync(100, 1000)
    assert.equal("", data)
    server:recv_start(function() end)
    r, msg, name = server:recv_sync(100, 0)
    assert.equal("EBUSY", name)
  end)

  it("try_send and try_send_many", function()
    local server, saddr = bound()
    local client = uv.new_udp()
    assert.equal(3, client:try_send("abc", "127.0.0.1", saddr.port))
    assert.equal(3, client:try_send_many({ "1", "22", "" }, "127.0.0.1", saddr.port))
    local got = {}
    for i = 1, 4 do got[i] = server:recv_sync(100, 1000) end
    assert.same({ "abc", "1", "22", "" }, got)
  end)

  it("sets the options", function()
    local udp = bound()
    assert.equal(0, udp:set_broadcast(true))
    assert.equal(0, udp:set_broadcast(false))
    assert.equal(0, udp:set_ttl(10))
    assert.equal(10, udp:get_ttl())
    assert.equal(0, udp:set_multicast_ttl(3))
    assert.equal(0, udp:set_multicast_loop(true))
    assert.equal(0, udp:set_multicast_interface("127.0.0.1"))
    assert.equal(0, udp:set_multicast_interface(nil))
    local r, msg, name = udp:set_membership("127.0.0.1", nil, "join")
    assert.equal("EINVAL", name)
    r, msg, name = udp:set_membership("239.255.0.1", "127.0.0.1", "join")
    if r == 0 then
      assert.equal(0, udp:set_membership("239.255.0.1", "127.0.0.1", "leave"))
    else -- no multicast route in the sandbox
      assert.truthy(name == "ENODEV" or name == "EADDRNOTAVAIL" or name == "ENOBUFS")
    end
    assert.has_error(function() udp:set_membership("239.255.0.1", nil, "sideways") end)
    r, msg, name = udp:set_source_membership("239.255.0.1", nil, "127.0.0.2", "join")
    assert.truthy(r == 0 or name)
    assert.equal(0, udp:set_tos(0x20))
    assert.equal(0x20, udp:get_tos())
    assert.equal(0, udp:set_ecn(1))
    assert.equal(1, udp:get_ecn())
    assert.equal(0, udp:set_recv_dest(true))
    r, msg, name = udp:recv_dest()
    assert.equal("ENOENT", name)
    assert.equal(0, udp:get_send_queue_size())
    assert.equal(0, udp:get_send_queue_count())
    assert.equal(0, uv.udp_get_send_queue_count(udp))
  end)

  it("recv_dest during the callback", function()
    local server, saddr = bound()
    server:set_recv_dest(true)
    local dest
    server:recv_start(function(err, data, addr, flags, handle)
      dest = handle:recv_dest()
      server:close()
    end)
    uv.new_udp():send("x", "127.0.0.1", saddr.port)
    H.run()
    assert.same(saddr, dest)
  end)

  it("a receiving handle nobody holds survives collectgarbage()", function()
    local port
    local got = {}
    do
      local server, saddr = bound()
      port = saddr.port
      server:recv_start(function(err, data, addr, flags, handle)
        got[#got + 1] = data
        handle:close()
      end)
    end
    collectgarbage()
    collectgarbage()
    do uv.new_udp():send("still there", "127.0.0.1", port) end
    collectgarbage()
    H.run()
    assert.same({ "still there" }, got)
  end)

  -- Loopback takes every datagram at once, so sends are queued only when
  -- one is already: every callback still runs after close, nil (sent) or
  -- ECANCELED (queued).
  it("runs send callbacks, ECANCELED for the queued ones at close", function()
    local server, saddr = bound()
    local client = assert(uv.new_udp("inet"))
    assert.equal(0, client:set_send_buffer_size(4096))
    local results = {}
    local payload = string.rep("x", 1000)
    for _ = 1, 200 do
      client:send(payload, "127.0.0.1", saddr.port, function(err)
        results[#results + 1] = err or "ok"
      end)
    end
    local queued = client:get_send_queue_count()
    assert.is_true(client:get_send_queue_size() >= 1000 * queued)
    client:close()
    client = nil
    collectgarbage()
    server:close()
    H.run()
    assert.equal(200, #results)
    local cancelled = 0
    for _, r in ipairs(results) do
      assert.truthy(r == "ok" or r == "ECANCELED")
      if r == "ECANCELED" then cancelled = cancelled + 1 end
    end
    assert.equal(queued, cancelled)
  end)

  it("refuses a bad callback, and a closed handle's calls fail", function()
    local udp = uv.new_udp()
    assert.has_error(function() udp:recv_start(42) end)
    udp:close()
    local r, msg, name = udp:send("x", "127.0.0.1", 9)
    assert.is_nil(r)
    assert.equal("EINVAL", name)
    H.run()
  end)
end)
