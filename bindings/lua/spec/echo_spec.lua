-- Echo over loopback, IPv4 and IPv6: every byte comes back, in order.
local uv = require "flatuv"
local H = require "helper"

-- Connects to host:port, sends each message (a string or a table of
-- strings) and collects what comes back until `expected` bytes arrived.
local function echo_client(host, port, messages, expected, done)
  local client = assert(uv.new_tcp())
  local got = {}
  local received = 0
  assert(client:connect(host, port, function(err, tcp)
    assert.is_nil(err)
    assert.equal(client, tcp)
    for _, m in ipairs(messages) do
      assert.equal(0, client:write(m))
    end
    client:read_start(function(rerr, chunk)
      assert.is_nil(rerr)
      assert.is_not_nil(chunk)
      got[#got + 1] = chunk
      received = received + #chunk
      if received >= expected then
        client:close()
        done(table.concat(got))
      end
    end)
  end))
end

describe("echo", function()
  after_each(H.close_all)

  it("echoes over IPv4", function()
    local server, port = H.echo_server("127.0.0.1")
    local result
    echo_client("127.0.0.1", port, { "hello", " ", "world" }, 11, function(data)
      result = data
      server:close()
    end)
    H.run()
    assert.equal("hello world", result)
  end)

  it("echoes over IPv6", function()
    if not H.has_ipv6() then
      pending("no IPv6 loopback on this machine")
      return
    end
    local server, port = H.echo_server("::1")
    assert.equal("inet6", server:getsockname().family)
    local result
    echo_client("::1", port, { "over six" }, 8, function(data)
      result = data
      server:close()
    end)
    H.run()
    assert.equal("over six", result)
  end)

  it("writes a table of strings as one write, in order", function()
    local server, port = H.echo_server()
    local pieces = {}
    for i = 1, 40 do pieces[i] = string.format("<%02d>", i) end
    local expected = table.concat(pieces)
    local result
    echo_client("127.0.0.1", port, { pieces }, #expected, function(data)
      result = data
      server:close()
    end)
    H.run()
    assert.equal(expected, result)
  end)

  it("serves many clients at once", function()
    local server, port = H.echo_server()
    local remaining, results = 20, {}
    for i = 1, 20 do
      local msg = ("client %d "):format(i):rep(50)
      echo_client("127.0.0.1", port, { msg }, #msg, function(data)
        results[i] = data == msg
        remaining = remaining - 1
        if remaining == 0 then server:close() end
      end)
    end
    H.run()
    for i = 1, 20 do assert.is_true(results[i], "client " .. i) end
  end)

  it("sends 8 MiB, shuts down on drain, and the peer counts every byte", function()
    local total = 8 * 1024 * 1024
    local block = string.rep("0123456789abcdef", 4096) -- 64 KiB
    local server = assert(uv.new_tcp())
    assert(server:bind("127.0.0.1", 0))
    -- The stream repeats a 16-byte pattern, so a chunk of any size (the
    -- read buffer's size is the library's business) is a slice of enough
    -- repetitions of it starting at the right phase.
    local pattern = "0123456789abcdef"
    local function expected(from, n)
      return pattern:rep(math.ceil((n + from) / 16)):sub(from, from + n - 1)
    end
    local received, eof, corrupt = 0, false, 0
    assert(server:listen(1, function()
      local conn = server:accept()
      conn:read_start(function(err, chunk)
        assert.is_nil(err)
        if chunk then
          local from = received % 16 + 1
          if chunk ~= expected(from, #chunk) then
            corrupt = corrupt + 1
          end
          received = received + #chunk
        else
          eof = true
          conn:close()
          server:close()
        end
      end)
    end))
    local client = uv.new_tcp()
    local write_status = {}
    local shutdown_err = "not called"
    client:connect("127.0.0.1", server:getsockname().port, function(err)
      assert.is_nil(err)
      for i = 1, total / #block do
        assert.is_userdata(client:write(block, function(werr)
          write_status[#write_status + 1] = werr or i
        end))
      end
      assert.is_true(client:get_write_queue_size() > 0)
      client:shutdown(function(serr)
        shutdown_err = serr
        client:close()
      end)
    end)
    H.run(30000)
    assert.equal(total, received)
    assert.equal(0, corrupt)
    assert.is_true(eof)
    assert.is_nil(shutdown_err)
    -- Write callbacks ran once each, in the order of the writes.
    assert.equal(total / #block, #write_status)
    for i, s in ipairs(write_status) do assert.equal(i, s) end
  end)
end)
