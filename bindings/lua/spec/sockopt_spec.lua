-- TCP options and state, on real loopback connections.
local uv = require "flatuv"
local H = require "helper"

-- A connected pair: the client and the server's side, synchronously.
local function pair()
  local server = assert(uv.new_tcp())
  assert.equal(0, server:bind("127.0.0.1", 0))
  assert.equal(0, server:listen(1))
  local client = uv.new_tcp()
  assert.equal(0, client:connect_sync("127.0.0.1", server:getsockname().port, 2000))
  local conn = assert(server:accept_sync(2000))
  return client, conn, server
end

describe("TCP options", function()
  after_each(H.close_all)

  it("reports TCP states by name and number", function()
    local client, conn, server = pair()
    assert.same({ "LISTEN", uv.constants.TCP_LISTEN }, { server:state() })
    assert.equal("ESTABLISHED", (client:state()))
    assert.equal("ESTABLISHED", uv.tcp_state_name(uv.constants.TCP_ESTABLISHED))
    local r, _, name = uv.new_tcp():state()
    assert.is_nil(r)
    assert.equal("EBADF", name)
  end)

  it("sets nodelay and checks keepalive arguments", function()
    local client = pair()
    assert.equal(0, client:nodelay(true))
    assert.equal(0, client:nodelay(false))
    local r, _, name = client:keepalive(true)
    assert.is_nil(r)
    assert.equal("EINVAL", name)
    assert.equal(0, client:keepalive(true, 10))
    assert.equal(0, client:keepalive(false))
    assert.equal(0, client:keepalive_ex(true, 10, 5, 3))
    assert.equal("EINVAL", select(3, client:keepalive_ex(true, 0, 5, 3)))
    assert.equal(0, client:simultaneous_accepts(true))
  end)

  it("sets and reads TTL, linger and SO_REUSEADDR", function()
    local client = pair()
    assert.equal(0, client:set_ttl(17))
    assert.equal(17, client:get_ttl())
    assert.equal("EINVAL", select(3, client:set_ttl(0)))
    assert.equal(0, client:set_linger(true, 5))
    assert.same({ 1, 5 }, { client:get_linger() })
    assert.equal(0, client:set_reuseaddr(false))
    assert.is_false(client:get_reuseaddr())
    assert.equal(0, client:set_reuseaddr(true))
    assert.is_true(client:get_reuseaddr())
  end)

  it("sets IPV6_V6ONLY on IPv6 sockets only", function()
    if not H.has_ipv6() then
      pending("no IPv6 loopback on this machine")
      return
    end
    local six = assert(uv.new_tcp("inet6"))
    assert.equal(0, six:set_ipv6only(true))
    assert.is_true(six:get_ipv6only())
    local four = assert(uv.new_tcp("inet"))
    assert.equal("EAFNOSUPPORT", select(3, four:set_ipv6only(true)))
    local r, _, name = uv.new_tcp():bind("127.0.0.1", 0, { ipv6only = true })
    assert.is_nil(r)
    assert.equal("EINVAL", name)
  end)

  it("binds to a device, or says why not", function()
    local tcp = assert(uv.new_tcp("inet"))
    local r, _, name = tcp:bind_to_device("no-such-if0")
    assert.is_nil(r)
    assert.is_true(name == "ENODEV" or name == "EPERM", name)
    r, _, name = tcp:bind_to_device("lo")
    assert.is_true(r == 0 or name == "EPERM", name)
    assert.is_true(tcp:bind_to_device(nil) == 0 or name == "EPERM")
  end)

  it("counts pending bytes and reads SO_ERROR", function()
    local client, conn = pair()
    assert.equal(0, client:send("12345", 2000))
    assert.equal(5, conn:pending_bytes())
    assert.equal(0, conn:socket_error())
    assert.equal("12345", conn:recv(5, 2000))
    assert.equal(0, conn:pending_bytes())
  end)

  it("gets and sets buffer sizes and gives the fd", function()
    local client = pair()
    assert.equal(0, client:set_send_buffer_size(65536))
    assert.is_true(client:get_send_buffer_size() >= 65536)
    assert.is_true(client:send_buffer_size() >= 65536)
    assert.equal(0, client:recv_buffer_size(65536))
    assert.is_true(client:recv_buffer_size() >= 65536)
    assert.is_true(client:fileno() >= 0)
    assert.equal("EINVAL", select(3, uv.new_timer():fileno()))
    assert.equal("EBADF", select(3, uv.new_tcp():fileno()))
  end)

  it("detaches a socket and opens it in another handle", function()
    local client, conn = pair()
    local fd = assert(conn:detach())
    assert.equal("EBADF", select(3, conn:fileno()))
    local reopened = uv.new_tcp()
    assert.equal(0, reopened:open(fd))
    assert.equal("EBUSY", select(3, reopened:open(fd)))
    local got
    reopened:read_start(function(_, chunk)
      got = chunk
      reopened:close()
    end)
    client:write("through the reopened handle")
    H.run()
    assert.equal("through the reopened handle", got)
  end)

  it("close_reset makes the peer see ECONNRESET", function()
    local client, conn = pair()
    local err
    conn:read_start(function(e, chunk)
      err = e
      conn:close()
    end)
    assert.equal(0, client:close_reset())
    H.run()
    assert.equal("ECONNRESET", err)
  end)

  -- Opens the pair's ends with new_handle and sends a message across.
  local function assert_pair_connected(fds, new_handle)
    local a, b = new_handle(), new_handle()
    assert.equal(0, a:open(fds[1]))
    assert.equal(0, b:open(fds[2]))
    local got
    b:read_start(function(_, chunk) got = chunk a:close() b:close() end)
    a:write("pair")
    H.run()
    assert.equal("pair", got)
  end

  it("gives a socketpair as {fd1, fd2}", function()
    assert_pair_connected(assert(uv.socketpair("stream", 0, { nonblock = true },
                                               { nonblock = true })), uv.new_tcp)
  end)

  it("makes a stream socketpair with luv's defaults when given no arguments", function()
    assert_pair_connected(assert(uv.socketpair()), uv.new_pipe)
  end)
end)
