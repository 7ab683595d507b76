-- A callback that re-arms itself must leave the rest of the loop its turn
-- (issue 17, item 3): while one handle spins (an async sending itself, a
-- 0 ms timer restarted in its callback, a write issued from the write
-- callback, a peer that never stops sending), a 0 ms timer must still fire
-- and another connection's echo must come back, each within a bounded
-- number of the spinning handle's callbacks. Counts, not wall time; the
-- spinning callback is its own watchdog, so a regression fails instead of
-- hanging.
local uv = require "flatuv"
local H = require "helper"

-- Callbacks of the spinning handle after which the timer and the echo must
-- have run. libuv runs each spinning callback once per loop iteration and
-- needs a few iterations for either (the echo: 6 to 25 here), so this is
-- generous; it is also far below what a socket buffer holds, so that a
-- write callback run again and again within one iteration (while writes
-- complete at once) fails it rather than ending when the buffer fills.
local BOUND = 1000
-- The watchdog: the spinning stops here whatever happened.
local LIMIT = 200000
-- The spinning callback that starts the timer and the echo.
local TRIGGER = 10

-- A client connected to an echo server, ready to send.
local function connected_echo_client()
  local server, port = H.echo_server()
  local client = uv.new_tcp()
  local connected = false
  client:connect("127.0.0.1", port, function(err)
    assert(err == nil, err)
    connected = true
  end)
  for _ = 1, 100 do
    if connected then break end
    uv.run("once")
  end
  assert(connected, "the echo client did not connect")
  return server, client
end

-- Runs start_spin(tick): it must call tick() from each of the spinning
-- handle's callbacks and re-arm while tick() returns true, then let the
-- handle go. Returns how many spinning callbacks ran after TRIGGER before
-- the timer fired and before the echo came back (nil if never).
local function measure(start_spin)
  local server, client = connected_echo_client()
  local n, timer_at, echo_at = 0, nil, nil
  local function tick()
    n = n + 1
    if n == TRIGGER then
      uv.new_timer():start(0, 0, function(t)
        timer_at = n - TRIGGER
        t:close()
      end)
      client:read_start(function(_, chunk)
        if chunk then echo_at = n - TRIGGER end
        client:close()
        server:close()
      end)
      client:write("ping")
    end
    return n < LIMIT and not (timer_at and echo_at)
  end
  start_spin(tick)
  H.run(30000)
  return timer_at, echo_at
end

local function assert_progress(timer_at, echo_at)
  print(("\n  timer after %s, echo after %s spinning callbacks"):format(
    tostring(timer_at), tostring(echo_at)))
  assert(timer_at, "the timer never fired")
  assert(echo_at, "the echo never came back")
  assert(timer_at <= BOUND,
    ("the timer fired only after %d spinning callbacks"):format(timer_at))
  assert(echo_at <= BOUND,
    ("the echo came back only after %d spinning callbacks"):format(echo_at))
end

-- A server that accepts one connection and calls on_conn(conn) with it.
local function server_with(on_conn)
  local server = assert(uv.new_tcp())
  assert(server:bind("127.0.0.1", 0))
  assert(server:listen(8, function(err)
    assert(err == nil, err)
    local conn = assert(server:accept())
    server:close()
    on_conn(conn)
  end))
  return server:getsockname().port
end

describe("a self-re-arming callback does not starve the loop", function()
  after_each(H.close_all)

  it("an async handle sending itself from its callback", function()
    assert_progress(measure(function(tick)
      local async
      async = uv.new_async(function()
        if tick() then async:send() else async:close() end
      end)
      async:send()
    end))
  end)

  it("a 0 ms timer restarted in its own callback", function()
    assert_progress(measure(function(tick)
      local timer = uv.new_timer()
      local function again()
        if tick() then timer:start(0, 0, again) else timer:close() end
      end
      timer:start(0, 0, again)
    end))
  end)

  it("a write issued from the write callback", function()
    assert_progress(measure(function(tick)
      -- A sink that reads and discards until the writer goes.
      local port = server_with(function(conn)
        conn:read_start(function(_, chunk)
          if not chunk then conn:close() end
        end)
      end)
      local writer = uv.new_tcp()
      local chunk = string.rep("w", 1024)
      local function on_written(err)
        if not err and tick() then
          writer:write(chunk, on_written)
        else
          writer:close()
        end
      end
      writer:connect("127.0.0.1", port, function(err)
        assert(err == nil, err)
        writer:write(chunk, on_written)
      end)
    end))
  end)

  it("reading from a peer that never stops sending", function()
    assert_progress(measure(function(tick)
      -- A firehose: writes from its write callback until the reader goes.
      local chunk = string.rep("r", 16 * 1024)
      local port = server_with(function(conn)
        local function on_written(err)
          if err then conn:close() else conn:write(chunk, on_written) end
        end
        conn:write(chunk, on_written)
        conn:read_start(function(_, data)
          if not data and not conn:is_closing() then conn:close() end
        end)
      end)
      local reader = uv.new_tcp()
      reader:connect("127.0.0.1", port, function(err)
        assert(err == nil, err)
        reader:read_start(function(_, data)
          if not (data and tick()) then reader:close() end
        end)
      end)
    end))
  end)
end)
