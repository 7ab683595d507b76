--[[
A program written against luv's documentation (docs/docs.md), not against
flatuv: it requires "luv" and uses only luv's documented API. It runs
unchanged on luv and on flatuv; examples/lua/run_luv_program.sh runs it on
both and compares what each printed with luv_program.expected.

  lua5.4 luv_program.lua                   -- on luv
  lua5.4 -e 'package.preload.luv = function() return require "flatuv" end' \
      luv_program.lua                      -- on flatuv

What it does, each step printing lines that do not depend on timing:
  1. idle, prepare and check handles, in the order luv documents for one
     loop iteration; the idle handle keeps the loop from blocking;
  2. timers (a repeating one stopped after three ticks, one-shot ones in
     order of their timeouts);
  3. a TCP echo server that accepts into a handle it made itself
     (server:accept(client)), with callable tables as callbacks and the
     request objects that connect, write and shutdown return;
  4. the same over a pipe (a Unix domain socket) in a temporary directory.
]]
local uv = require "luv"

local function say(fmt, ...)
  io.write(string.format(fmt, ...), "\n")
end

-- ---- 1. idle, prepare, check ---------------------------------------------

local function loop_phases(done)
  local order = {}
  local idle, prepare, check = uv.new_idle(), uv.new_prepare(), uv.new_check()
  local iterations = 0
  idle:start(function()
    order[#order + 1] = "idle"
  end)
  prepare:start(function()
    order[#order + 1] = "prepare"
  end)
  check:start(function()
    order[#order + 1] = "check"
    iterations = iterations + 1
    if iterations == 2 then
      idle:stop()
      prepare:stop()
      check:stop()
      idle:close()
      prepare:close()
      check:close(done)
    end
  end)
  -- Nothing else is active, yet the loop does not block: idle is active.
  uv.run()
  say("phases %s", table.concat(order, ","))
  say("idle is_active after stop: %s", tostring(idle:is_active()))
end

-- ---- 2. timers ----------------------------------------------------------------

local function timers()
  local fired = {}
  local ticks = 0
  local repeating = uv.new_timer()
  repeating:start(5, 5, function()
    ticks = ticks + 1
    if ticks == 3 then
      repeating:stop()
      repeating:close()
    end
  end)
  for _, ms in ipairs({30, 10, 20}) do
    local t = uv.new_timer()
    t:start(ms, 0, function()
      fired[#fired + 1] = tostring(ms)
      t:close()
    end)
  end
  uv.run()
  say("repeating timer ticked %d times", ticks)
  say("one-shot timers fired %s", table.concat(fired, ","))
end

-- ---- 3 and 4. an echo server, over TCP and over a pipe ------------------------------

-- A callable table: luv calls it wherever it takes a function.
local function callable(name, log)
  return setmetatable({name = name}, {
    __call = function(self, err)
      log[#log + 1] = self.name .. ":" .. (err or "ok")
    end
  })
end

-- Serves one connection on server; new_handle makes the client's handle.
local function serve_one(server, new_handle, log)
  assert(server:listen(128, function(err)
    assert(not err, err)
    local client = new_handle()
    assert(server:accept(client))
    client:read_start(function(rerr, chunk)
      assert(not rerr, rerr)
      if chunk then
        client:write(chunk)
      else
        client:shutdown(function()
          client:close()
          server:close()
        end)
      end
    end)
  end))
end

-- Connects with connect(handle, cb), sends the messages and reads the echo.
local function client_run(handle, connect, messages, log)
  local received = {}
  local connect_req = connect(handle, function(err)
    assert(not err, err)
    log[#log + 1] = "connected"
    for i, m in ipairs(messages) do
      local req = handle:write(m, callable("write" .. i, log))
      if i == 1 then
        log[#log + 1] = "write returns " .. type(req)
      end
    end
    local sreq = handle:shutdown(callable("shutdown", log))
    log[#log + 1] = "shutdown returns " .. type(sreq)
    handle:read_start(function(err2, chunk)
      assert(not err2, err2)
      if chunk then
        received[#received + 1] = chunk
      else
        log[#log + 1] = "eof"
        handle:close()
      end
    end)
  end)
  log[#log + 1] = "connect returns " .. type(connect_req)
  return received
end

local MESSAGES = {"hello ", "from ", "a luv program"}

local function tcp_echo()
  local log = {}
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local port = server:getsockname().port
  serve_one(server, uv.new_tcp, log)
  local received = client_run(uv.new_tcp(), function(h, cb)
    return h:connect("127.0.0.1", port, cb)
  end, MESSAGES, log)
  uv.run()
  say("tcp: %s", table.concat(log, " "))
  say("tcp echo: %q", table.concat(received))
end

local function pipe_echo()
  local log = {}
  local dir = os.tmpname()
  os.remove(dir)
  local path = dir .. ".sock"
  local server = uv.new_pipe(false)
  assert(server:bind(path))
  say("pipe name matches: %s", tostring(server:getsockname() == path))
  serve_one(server, function() return uv.new_pipe(false) end, log)
  local received = client_run(uv.new_pipe(false), function(h, cb)
    return h:connect(path, cb)
  end, MESSAGES, log)
  uv.run()
  os.remove(path)
  say("pipe: %s", table.concat(log, " "))
  say("pipe echo: %q", table.concat(received))
end

-- ---- errors: nil, message, name ---------------------------------------------------

local function errors()
  local t = uv.new_tcp()
  local ok, msg, name = t:write("x")
  say("write on an unconnected tcp: %s %s", tostring(ok), tostring(name))
  t:close()
  uv.run()
end

local t0 = uv.hrtime()
loop_phases(function() end)
timers()
tcp_echo()
pipe_echo()
errors()
say("hrtime advanced: %s", tostring(uv.hrtime() > t0))
say("loop alive at the end: %s", tostring(uv.loop_alive()))
