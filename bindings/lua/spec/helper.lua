-- Shared by the specs: running the loop with a time limit, closing what a
-- test left open, and a loopback echo server.
local uv = require "flatuv"

local H = {}

-- Runs the loop until nothing is left to do. A watchdog timer, unref'd so
-- that it does not keep the loop alive itself, stops a loop that is still
-- busy after limit_ms and fails the test.
function H.run(limit_ms)
  local expired = false
  local watchdog = uv.new_timer()
  watchdog:start(limit_ms or 10000, 0, function()
    expired = true
    uv.stop()
  end)
  watchdog:unref()
  uv.run()
  watchdog:close()
  uv.run("nowait")
  assert(not expired, "the loop was still busy after " .. (limit_ms or 10000) .. " ms")
end

-- Closes every handle still open and lets the closes complete, so that no
-- test sees another's handles.
function H.close_all()
  uv.walk(function(handle)
    if not handle:is_closing() then handle:close() end
  end)
  uv.run()
end

-- The number of handles the loop has, closing ones excluded.
function H.handle_count()
  local n = 0
  uv.walk(function() n = n + 1 end)
  return n
end

-- An echo server on host (default 127.0.0.1), port 0. Returns it and its
-- port. Each connection echoes what it reads and closes at end of stream.
function H.echo_server(host)
  local server = assert(uv.new_tcp())
  assert(server:bind(host or "127.0.0.1", 0))
  assert(server:listen(128, function(err)
    assert(err == nil, err)
    local conn = assert(server:accept())
    conn:read_start(function(rerr, chunk)
      if chunk then
        conn:write(chunk)
      else
        conn:close()
      end
    end)
  end))
  return server, server:getsockname().port
end

-- A port on which nothing listens: bound, then closed.
function H.closed_port()
  local tcp = assert(uv.new_tcp())
  assert(tcp:bind("127.0.0.1", 0))
  local port = tcp:getsockname().port
  tcp:close()
  uv.run("nowait")
  return port
end

-- The process's resident set size in bytes.
function H.rss()
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("*n", "*n")
  f:close()
  return resident * 4096
end

-- Whether this machine has IPv6 loopback.
function H.has_ipv6()
  local tcp = assert(uv.new_tcp())
  local ok = tcp:bind("::1", 0)
  tcp:close()
  uv.run("nowait")
  return ok ~= nil
end

return H
