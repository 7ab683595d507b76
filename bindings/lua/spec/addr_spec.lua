-- Addresses: text <-> sockaddr userdata, the _addr calls, get*name.
local uv = require "flatuv"
local H = require "helper"

describe("addresses", function()
  after_each(H.close_all)

  it("converts text to addresses and back", function()
    local a = assert(uv.ip4_addr("127.0.0.1", 80))
    assert.equal("127.0.0.1:80", tostring(a))
    assert.equal("127.0.0.1", uv.ip_name(a))
    local b = assert(uv.ip6_addr("::1", 8080))
    assert.equal("[::1]:8080", tostring(b))
    assert.equal("::1", uv.ip_name(b))
    -- An ip that is no address raises, as luv's tcp_bind; a port out of
    -- range, or an address of the other family, is the call's EINVAL.
    assert.has_error(function() uv.ip4_addr("300.1.1.1", 1) end,
                     "Invalid IP address or port [300.1.1.1:1]")
    assert.equal("EINVAL", select(3, uv.ip4_addr("1.2.3.4", 70000)))
    local r, _, name = uv.ip4_addr("::1", 1)
    assert.is_nil(r)
    assert.equal("EINVAL", name)
  end)

  it("binds and connects with addresses, and reads them back", function()
    local server = uv.new_tcp()
    assert.equal(0, server:bind_addr(uv.ip4_addr("127.0.0.1", 0)))
    local bound = assert(server:getsockname_addr())
    local port = server:getsockname().port
    assert.equal("127.0.0.1:" .. port, tostring(bound))
    local peer
    server:listen(1, function()
      local conn = server:accept()
      peer = conn:getpeername()
      conn:close()
      server:close()
    end)
    local client = uv.new_tcp()
    local connected
    assert.equal(0, client:connect_addr(bound, function(err)
      connected = err == nil
      assert.equal(tostring(bound), tostring(client:getpeername_addr()))
      client:close()
    end))
    H.run()
    assert.is_true(connected)
    assert.equal("127.0.0.1", peer.ip)
    assert.equal("inet", peer.family)
    assert.is_true(peer.port > 0)
  end)

  it("getpeername of an unconnected handle is ENOTCONN", function()
    local tcp = uv.new_tcp()
    tcp:bind("127.0.0.1", 0)
    assert.equal("ENOTCONN", select(3, tcp:getpeername()))
    assert.equal("EBADF", select(3, uv.new_tcp():getsockname()))
  end)
end)
