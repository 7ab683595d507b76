--[[
The Lua conformance runner: executes every case of tests/conformance/
cases.txt through the flatuv Lua module on real loopback sockets and
compares what it observes with the case's expect.* values.

    LUA_PATH="BUILD/LUA/?.lua;;" LUA_CPATH="BUILD/LUA/?.so;;" \
      lua5.4 runner.lua CASES_FILE [NAME]

(and the same with luajit and its build). NAME labels the summary line,
"conformance-NAME: N passed, M failed" (default: lua). A case of a kind
(or an error op) this runner does not know fails. Exits non-zero when any
case failed. Runs under Lua 5.4 and LuaJIT (Lua 5.1).
]]

local uv = require "flatuv"

local CASE_TIMEOUT_MS = 20000 -- a scenario still running then has hung

-- Raised (as a table) when a call that should have worked did not.
local function must(ok, msg, ...)
  if ok == nil then error({ failure = tostring(msg) }, 2) end
  return ok, msg, ...
end

-- "OK" for success (nil), else the error's name.
local function status_name(err)
  if err == nil then return "OK" end
  return err
end

-- Bytes offset..offset+length of every test stream (byte i is i mod 251),
-- so that a reordered, lost or repeated byte shows.
local CYCLE
do
  local bytes = {}
  for i = 0, 250 do bytes[i + 1] = string.char(i) end
  CYCLE = table.concat(bytes)
end

local function pattern(offset, length)
  local start = offset % 251
  local cycles = math.floor(length / 251) + 1
  return (CYCLE:sub(start + 1) .. CYCLE:rep(cycles)):sub(1, length)
end

local function intact(data, length)
  if #data == length and data == pattern(0, length) then return "yes" end
  return "no"
end

local function bound_tcp(host)
  local tcp = must(uv.new_tcp())
  must(tcp:bind(host, 0))
  return tcp, must(tcp:getsockname()).port
end

-- A client and the server side of its connection, made with the
-- synchronous calls; the listener is closed once it accepted. The caller
-- keeps both referenced: the module closes an idle handle the script drops.
local function sync_pair(host)
  local listener, port = bound_tcp(host)
  must(listener:listen(16))
  local client = must(uv.new_tcp())
  must(client:connect_sync(host, port, 5000))
  local server = must(listener:accept_sync(5000))
  listener:close()
  return client, server
end

local function close_all()
  uv.walk(function(handle)
    if not handle:is_closing() then handle:close() end
  end)
end

-- Runs the loop until no referenced handle is active, under a guard timer
-- that does not itself keep the loop running.
local function run_loop(failures)
  local guard = must(uv.new_timer())
  must(guard:start(CASE_TIMEOUT_MS, 0, function()
    failures[#failures + 1] = "the case did not finish within "
      .. CASE_TIMEOUT_MS .. " ms"
    close_all()
  end))
  guard:unref()
  must(uv.run())
end

-- Closes what the scenario left open (an idle server side, the guard) and
-- frees the loop, which fails if a handle is still there.
local function finish_loop()
  close_all()
  must(uv.run())
  must(uv.loop_close())
end

local function split(list)
  local items = {}
  for item in list:gmatch("[^,]+") do items[#items + 1] = item end
  return items
end

-- ---- scenarios: each takes the case's parameters, a table to put
-- observations in and a list of unexpected failures ----------------------

local scenarios = {}

function scenarios.echo(params, seen, failures)
  local host = params.host
  local writes, size = tonumber(params.writes), tonumber(params.size)
  local received = {}
  seen["end"] = "none"

  local function on_server_read(err, chunk, stream)
    if chunk then
      must(stream:write(chunk))
    elseif err == nil then
      must(stream:shutdown(function(_, s) s:close() end))
    else
      failures[#failures + 1] = "server read: " .. err
      stream:close()
    end
  end

  local listener, port = bound_tcp(host)
  must(listener:listen(16, function(err, server)
    if err then
      failures[#failures + 1] = "connection: " .. err
      return
    end
    must(must(server:accept()):read_start(on_server_read))
    server:close()
  end))
  local client = must(uv.new_tcp())
  must(client:connect(host, port, function(err, tcp)
    seen.connect = status_name(err)
    if err then
      tcp:close()
      return
    end
    seen.peer = must(tcp:getpeername()).ip
    for i = 0, writes - 1 do must(tcp:write(pattern(i * size, size))) end
    must(tcp:shutdown())
    must(tcp:read_start(function(rerr, chunk, stream)
      if chunk then
        received[#received + 1] = chunk
        return
      end
      seen["end"] = rerr or "EOF"
      stream:close()
    end))
  end))
  run_loop(failures)
  local data = table.concat(received)
  seen.bytes = tostring(#data)
  seen.intact = intact(data, writes * size)
end

-- "<data>/EOF" (or "/<error>") for a stream read to its end.
local function read_result(chunks, err)
  return table.concat(chunks) .. "/" .. (err or "EOF")
end

function scenarios.half_close(params, seen, failures)
  local host, request, reply = params.host, params.request, params.reply
  local client_data, server_data = {}, {}

  local function on_server_read(err, chunk, stream)
    if chunk then
      server_data[#server_data + 1] = chunk
      return
    end
    seen.server_read = read_result(server_data, err)
    -- The peer has finished sending; this side can still write.
    must(stream:write(reply, function(werr)
      seen.server_write = status_name(werr)
    end))
    must(stream:shutdown(function(_, s) s:close() end))
  end

  local listener, port = bound_tcp(host)
  must(listener:listen(16, function(_, server)
    must(must(server:accept()):read_start(on_server_read))
    server:close()
  end))
  local client = must(uv.new_tcp())
  must(client:connect(host, port, function(err, tcp)
    if err then error({ failure = "connect: " .. err }) end
    must(tcp:write(request))
    must(tcp:shutdown(function(serr) seen.shutdown = status_name(serr) end))
    must(tcp:read_start(function(rerr, chunk, stream)
      if chunk then
        client_data[#client_data + 1] = chunk
        return
      end
      seen.client_read = read_result(client_data, rerr)
      stream:close()
    end))
  end))
  run_loop(failures)
end

function scenarios.refused(params, seen, failures)
  local host = params.host
  local close_calls = 0
  -- A port that is bound but not listening refuses connections, and no
  -- other program can take it while this handle holds it.
  local bound, port = bound_tcp(host)
  local client = must(uv.new_tcp())
  must(client:connect(host, port, function(err, tcp)
    seen.connect = status_name(err)
    seen.closing_in_cb = tcp:is_closing() and "yes" or "no"
    must(tcp:close(function() close_calls = close_calls + 1 end))
  end))
  run_loop(failures)
  seen.close_cb = tostring(close_calls)
  local _ = bound -- held until finish_loop closes it
end

-- Accepts and closes whatever connects.
local function drop_connection(err, server)
  if err == nil then
    local conn = server:accept()
    if conn then conn:close() end
  end
end

function scenarios.close_during_connect(params, seen, failures)
  local host = params.host
  local events = {}
  local listener, port = bound_tcp(host)
  must(listener:listen(16, drop_connection))
  local client = must(uv.new_tcp())
  must(client:connect(host, port, function(err)
    events[#events + 1] = "connect:" .. status_name(err)
  end))
  must(client:close(function()
    events[#events + 1] = "close"
    listener:close()
  end))
  run_loop(failures)
  seen.events = table.concat(events, ",")
end

function scenarios.cancel_writes(params, seen, failures)
  local size, queued = tonumber(params.size), tonumber(params.queued)
  local events = {}
  local client, server = sync_pair(params.host)
  local chunk = string.rep("\0", size)
  -- The server side never reads: once both socket buffers are full the
  -- library has to queue. The bound keeps a broken core from looping.
  local fills = 0
  while client:get_write_queue_size() == 0 and fills < 100000 do
    must(client:write(chunk))
    fills = fills + 1
  end
  seen.filled = client:get_write_queue_size() > 0 and "yes" or "no"
  for i = 0, queued - 1 do
    must(client:write(chunk, function(err)
      events[#events + 1] = "write" .. i .. ":" .. status_name(err)
    end))
  end
  must(client:close(function() events[#events + 1] = "close" end))
  run_loop(failures)
  seen.events = table.concat(events, ",")
  local _ = server -- held until finish_loop closes it
end

-- Runs a call and returns "OK" or the name of the error it reported.
local function call_error(fn, ...)
  local ok, _, name = fn(...)
  if ok == nil then return name end
  return "OK"
end

function scenarios.shutdown_twice(params, seen, failures)
  local client, server = sync_pair(params.host)
  local second_calls = 0
  seen.first = call_error(client.shutdown, client, function(err)
    seen.first_cb = status_name(err)
  end)
  seen.second = call_error(client.shutdown, client, function()
    second_calls = second_calls + 1
  end)
  run_loop(failures)
  seen.second_cb_calls = tostring(second_calls)
  local _ = server
end

function scenarios.timer_order(params, seen, failures)
  local order = {}
  for index, ms in ipairs(split(params.timeouts)) do
    local timer = must(uv.new_timer())
    must(timer:start(tonumber(ms), 0, function(t)
      order[#order + 1] = tostring(index - 1)
      t:close()
    end))
  end
  run_loop(failures)
  seen.order = table.concat(order, ",")
end

function scenarios.read_stop(params, seen, failures)
  local size, pause_ms = tonumber(params.size), tonumber(params.pause_ms)
  local client, server = sync_pair(params.host)
  local received = {}
  local stopped, paused, calls_while_stopped, pending = false, false, 0, false
  seen["end"] = "none"

  local on_read
  -- The pause is the one place a timer stands in for an event: it checks
  -- that no event happens while reading is stopped.
  local function on_pause(timer)
    pending = must(client:pending_bytes()) > 0
    stopped = false
    must(client:read_start(on_read))
    timer:close()
  end

  function on_read(err, chunk, stream)
    if stopped then calls_while_stopped = calls_while_stopped + 1 end
    if not chunk then
      seen["end"] = err or "EOF"
      stream:close()
      return
    end
    received[#received + 1] = chunk
    if not paused then
      must(stream:read_stop())
      stopped, paused = true, true
      must(must(uv.new_timer()):start(pause_ms, 0, on_pause))
    end
  end

  must(server:write(pattern(0, size)))
  must(server:shutdown())
  must(client:read_start(on_read))
  run_loop(failures)
  local data = table.concat(received)
  seen.calls_while_stopped = tostring(calls_while_stopped)
  seen.pending_while_stopped = pending and "yes" or "no"
  seen.bytes = tostring(#data)
  seen.intact = intact(data, size)
end

-- A pipe name: a path next to a fresh temporary file (os.tmpname makes it,
-- so the name is this run's), or a Linux abstract name (first byte NUL)
-- made from it. Returns the name and a function that removes the files.
local function pipe_name(kind)
  local base = os.tmpname()
  if kind == "abstract" then
    os.remove(base)
    return "\0flatuv-conformance" .. base, function() end
  end
  local path = base .. ".pipe"
  return path, function()
    os.remove(path)
    os.remove(base)
  end
end

-- The echoing side of pipe_echo and fd_passing: writes back what it
-- reads, shuts down at EOF.
local function echo_back(err, chunk, stream)
  if chunk then
    must(stream:write(chunk))
  elseif err == nil then
    must(stream:shutdown(function(_, s) s:close() end))
  else
    error({ failure = "echo read: " .. err })
  end
end

function scenarios.pipe_echo(params, seen, failures)
  local writes, size = tonumber(params.writes), tonumber(params.size)
  local received = {}
  seen["end"] = "none"
  local name, remove = pipe_name(params.name)
  local listener = must(uv.new_pipe(false))
  local ok, err = pcall(function()
    must(listener:bind(name))
    must(listener:listen(16, function(lerr, server)
      if lerr then error({ failure = "connection: " .. lerr }) end
      local conn = must(uv.new_pipe(false))
      must(server:accept(conn))
      must(conn:read_start(echo_back))
      server:close()
    end))
    seen.sockname = must(listener:getsockname()) == name and "match"
      or "mismatch"
    local client = must(uv.new_pipe(false))
    must(client:connect(name, function(cerr, pipe)
      seen.connect = status_name(cerr)
      if cerr then
        pipe:close()
        return
      end
      for i = 0, writes - 1 do must(pipe:write(pattern(i * size, size))) end
      must(pipe:shutdown())
      must(pipe:read_start(function(rerr, chunk, stream)
        if chunk then
          received[#received + 1] = chunk
          return
        end
        seen["end"] = rerr or "EOF"
        stream:close()
      end))
    end))
    run_loop(failures)
  end)
  remove()
  if not ok then error(err, 0) end
  local data = table.concat(received)
  seen.bytes = tostring(#data)
  seen.intact = intact(data, writes * size)
end

function scenarios.fd_passing(params, seen, failures)
  local host, size = params.host, tonumber(params.size)
  local half = math.floor(size / 2)
  local received = {}
  local fds = must(uv.socketpair("stream", 0))
  local sender, receiver = must(uv.new_pipe(true)), must(uv.new_pipe(true))
  must(sender:open(fds[1]))
  must(receiver:open(fds[2]))

  must(receiver:read_start(function(err, chunk, pipe)
    if not chunk then error({ failure = "receiver read: " .. status_name(err) }) end
    seen.pending_count = tostring(pipe:pending_count())
    seen.pending_type = pipe:pending_type()
    local echo = must(uv.new_tcp())
    must(pipe:accept(echo))
    must(echo:read_start(echo_back))
    pipe:close()
  end))

  local listener, port = bound_tcp(host)
  must(listener:listen(16, function(err, server)
    if err then error({ failure = "connection: " .. err }) end
    local conn = must(server:accept())
    must(sender:write2("h", conn, function(_, s) s:close() end))
    conn:close()
    server:close()
  end))

  local client = must(uv.new_tcp())
  must(client:connect(host, port, function(err, tcp)
    if err then error({ failure = "connect: " .. err }) end
    -- The first half is sent before the hand-off: it waits in the socket.
    must(tcp:write(pattern(0, half)))
    local got = 0
    must(tcp:read_start(function(rerr, chunk, stream)
      if not chunk then
        if rerr then error({ failure = "client read: " .. rerr }) end
        stream:close()
        return
      end
      received[#received + 1] = chunk
      got = got + #chunk
      if got == half then
        -- The first half came back through the passed handle.
        must(stream:write(pattern(half, size - half)))
        must(stream:shutdown())
      end
    end))
  end))
  run_loop(failures)
  local data = table.concat(received)
  seen.bytes = tostring(#data)
  seen.intact = intact(data, size)
end

function scenarios.loop_phases(params, seen, failures)
  local order, checks = {}, 0
  local function record(name)
    return function() order[#order + 1] = name end
  end
  local timer = must(uv.new_timer())
  must(timer:start(0, 0, function(t)
    order[#order + 1] = "timer"
    t:close()
  end))
  local idle, prepare, check = must(uv.new_idle()), must(uv.new_prepare()),
    must(uv.new_check())
  must(idle:start(record("idle")))
  must(prepare:start(record("prepare")))
  must(check:start(function()
    order[#order + 1] = "check"
    checks = checks + 1
    if checks == 2 then
      idle:close()
      prepare:close()
      check:close()
    end
  end))
  run_loop(failures)
  seen.order = table.concat(order, ",")
end

function scenarios.cancel_write(params, seen, failures)
  local size = tonumber(params.size)
  local events, received = {}, {}
  local client, server = sync_pair(params.host)
  -- The peer does not read yet: once both socket buffers are full the
  -- library has to queue. The bound keeps a broken core from looping.
  local sent = 0
  while client:get_write_queue_size() == 0 and sent < 100000 * size do
    must(client:write(pattern(sent, size)))
    sent = sent + size
  end
  local function on_write(name)
    return function(err)
      events[#events + 1] = name .. ":" .. status_name(err)
    end
  end
  -- A and C continue the stream; B's bytes (255) would break it.
  must(client:write(pattern(sent, size), on_write("A")))
  local b = must(client:write(string.rep("\255", size), on_write("B")))
  must(client:write(pattern(sent + size, size), on_write("C")))
  sent = sent + 2 * size
  seen.cancel = call_error(uv.cancel, b)
  must(client:shutdown(function(_, s) s:close() end))
  must(server:read_start(function(err, chunk, stream)
    if chunk then
      received[#received + 1] = chunk
      return
    end
    if err then error({ failure = "peer read: " .. err }) end
    stream:close()
  end))
  run_loop(failures)
  seen.events = table.concat(events, ",")
  seen.intact = intact(table.concat(received), sent)
end

function scenarios.cancel_connect(params, seen, failures)
  local host = params.host
  local listener, port = bound_tcp(host)
  must(listener:listen(16, drop_connection))
  local client = must(uv.new_tcp())
  local req = must(client:connect(host, port, function(err, tcp)
    seen.connect = status_name(err)
    must(tcp:connect(host, port, function(rerr, t)
      seen.reconnect = status_name(rerr)
      t:close()
      listener:close()
    end))
  end))
  seen.cancel = call_error(uv.cancel, req)
  run_loop(failures)
end

local function bound_udp(host)
  local udp = must(uv.new_udp())
  must(udp:bind(host, 0))
  return udp, must(udp:getsockname()).port
end

function scenarios.udp_echo(params, seen, failures)
  local host = params.host
  local sizes = split(params.sizes)
  local echoes, ok = {}, true
  local bytes = 0
  seen.sender = "none"
  local server, port = bound_udp(host)
  local client = bound_udp(host)
  must(server:recv_start(function(err, data, addr)
    if err then
      failures[#failures + 1] = "server recv: " .. err
      return
    end
    must(server:send(data, addr.ip, addr.port))
  end))
  must(client:recv_start(function(err, data, addr)
    if err then
      failures[#failures + 1] = "client recv: " .. err
      return
    end
    seen.sender = addr.ip
    echoes[#echoes + 1] = data
    bytes = bytes + #data
    if data ~= pattern(0, tonumber(sizes[#echoes])) then ok = false end
    if #echoes == #sizes then
      client:close()
      server:close()
    end
  end))
  for _, size in ipairs(sizes) do
    must(client:send(pattern(0, tonumber(size)), host, port))
  end
  run_loop(failures)
  seen.datagrams = tostring(#echoes)
  seen.bytes = tostring(bytes)
  seen.intact = (ok and #echoes == #sizes) and "yes" or "no"
end

-- Sends one datagram of `size` bytes to a server whose largest datagram is
-- `max` (when given); returns what the server's receive callback got, one
-- { err, data, addr, flags } per call.
local function udp_one(params, failures)
  local host = params.host
  local got = {}
  local server, port = bound_udp(params.host)
  local client = bound_udp(params.host)
  if params.max then must(server:set_max_datagram(tonumber(params.max))) end
  must(server:recv_start(function(err, data, addr, flags)
    got[#got + 1] = { err = err, data = data, addr = addr, flags = flags }
    server:close()
    client:close()
  end))
  must(client:send(pattern(0, tonumber(params.size)), host, port))
  run_loop(failures)
  return got
end

function scenarios.udp_truncate(params, seen, failures)
  for _, g in ipairs(udp_one(params, failures)) do
    seen.nread = g.err or tostring(#g.data)
    seen.partial = (g.flags and g.flags.partial) and "yes" or "no"
    seen.intact = intact(g.data or "", #(g.data or ""))
  end
end

function scenarios.udp_empty(params, seen, failures)
  local got = udp_one(params, failures)
  seen.calls = tostring(#got)
  for _, g in ipairs(got) do
    seen.nread = g.err or tostring(#g.data)
    seen.sender = g.addr and g.addr.ip or "none"
  end
end

function scenarios.udp_connected(params, seen, failures)
  local host = params.host
  seen.refused = "none"
  local server, port = bound_udp(host)
  -- A port that was just free: nothing listens there once it is closed.
  local closed, closed_port = bound_udp(host)
  closed:close()
  local client = must(uv.new_udp())
  must(client:connect(host, port))
  seen.other_dest = call_error(client.send, client, "x", host, closed_port)
  must(client:connect(nil, nil))
  must(client:connect(host, closed_port))
  must(client:recv_start(function(err)
    seen.refused = status_name(err)
    client:close()
  end))
  must(client:send("x", nil, nil))
  run_loop(failures)
  local _ = server -- held until finish_loop closes it
end

local function ignore() end

-- Each error op prepares its handles and returns the failing call and its
-- arguments; finish_loop closes every handle. keep holds the handles the
-- op needs, since the module closes an idle handle the script drops;
-- cleanups the functions that remove files it made; failures are the
-- case's, for an op that runs the loop.
local error_ops = {}

-- As luv, an ip that is no address raises "Invalid IP address or port
-- [ip:port]" (swig/lua.i) rather than returning EINVAL: that raise is the
-- bind_bad_ip cases' EINVAL. Returns bind reporting it so.
local function invalid_ip_as_einval(bind)
  return function(...)
    local ok, r, msg, name = pcall(bind, ...)
    if not ok then
      if tostring(r):find("^Invalid IP address or port %[") then
        return nil, r, "EINVAL"
      end
      error(r, 0)
    end
    return r, msg, name
  end
end

function error_ops.bind_bad_ip()
  local tcp = must(uv.new_tcp())
  return invalid_ip_as_einval(tcp.bind), tcp, "300.1.2.3", 0
end

function error_ops.udp_bind_bad_ip()
  local udp = must(uv.new_udp())
  return invalid_ip_as_einval(udp.bind), udp, "300.1.2.3", 0
end

function error_ops.udp_bind_port_range()
  local udp = must(uv.new_udp())
  return udp.bind, udp, "127.0.0.1", 65536
end

function error_ops.udp_send_closed()
  local udp, port = bound_udp("127.0.0.1")
  must(udp:close())
  return udp.send, udp, "x", "127.0.0.1", port
end

function error_ops.udp_membership_no_socket()
  local udp = must(uv.new_udp())
  return udp.set_membership, udp, "239.255.0.1", nil, "join"
end

function error_ops.udp_recv_timeout(keep)
  local udp = bound_udp("127.0.0.1")
  keep[#keep + 1] = udp
  return udp.recv_sync, udp, 16, 10
end

function error_ops.bind_ipv6only_ipv4()
  local tcp = must(uv.new_tcp())
  return tcp.bind, tcp, "127.0.0.1", 0, { ipv6only = true }
end

function error_ops.listen_taken_port(keep)
  local first, port = bound_tcp("127.0.0.1")
  must(first:listen(16))
  local second = must(uv.new_tcp())
  must(second:bind("127.0.0.1", port))
  keep[#keep + 1] = first
  return second.listen, second, 16
end

function error_ops.accept_nothing_pending()
  local server = bound_tcp("127.0.0.1")
  must(server:listen(16))
  return server.accept, server
end

function error_ops.read_start_unconnected()
  local tcp = must(uv.new_tcp("inet"))
  return tcp.read_start, tcp, ignore
end

function error_ops.read_start_twice(keep)
  local client, server = sync_pair("127.0.0.1")
  keep[#keep + 1] = server
  must(client:read_start(ignore))
  return client.read_start, client, ignore
end

function error_ops.connect_port_zero()
  local tcp = must(uv.new_tcp())
  return tcp.connect, tcp, "127.0.0.1", 0
end

function error_ops.connect_twice(keep)
  local listener, port = bound_tcp("127.0.0.1")
  must(listener:listen(16, drop_connection))
  local client = must(uv.new_tcp())
  must(client:connect("127.0.0.1", port))
  keep[#keep + 1] = listener
  return client.connect, client, "127.0.0.1", port
end

function error_ops.write_after_shutdown(keep)
  local client, server = sync_pair("127.0.0.1")
  keep[#keep + 1] = server
  must(client:shutdown())
  return client.write, client, "x"
end

function error_ops.recv_timeout(keep)
  local client, server = sync_pair("127.0.0.1")
  keep[#keep + 1] = server
  return client.recv, client, 16, 10
end

function error_ops.close_twice()
  local timer = must(uv.new_timer())
  must(timer:close())
  return timer.close, timer
end

function error_ops.timer_again_unstarted()
  local timer = must(uv.new_timer())
  return timer.again, timer
end

function error_ops.loop_close_busy(keep)
  local timer = must(uv.new_timer())
  must(timer:start(1000, 0, ignore))
  keep[#keep + 1] = timer
  return uv.loop_close
end

function error_ops.accept_into_busy(keep, _, failures)
  -- A connection waits (the loop accepted it for the callback); the handle
  -- to accept it into is bound.
  local server, port = bound_tcp("127.0.0.1")
  local bound = bound_tcp("127.0.0.1")
  keep[#keep + 1] = bound
  local ok, msg, name
  must(server:listen(16, function(_, s)
    ok, msg, name = s:accept(bound)
    s:close()
  end))
  local client = must(uv.new_tcp())
  must(client:connect("127.0.0.1", port))
  return function()
    run_loop(failures)
    return ok, msg, name
  end
end

function error_ops.cancel_completed(keep)
  local client, server = sync_pair("127.0.0.1")
  keep[#keep + 1] = server
  local req = must(client:write("x", ignore))
  must(uv.run()) -- until the write's callback ran
  return uv.cancel, req
end

function error_ops.pipe_bind_in_use(keep, cleanups)
  local name, remove = pipe_name("path")
  cleanups[#cleanups + 1] = remove
  local first = must(uv.new_pipe(false))
  must(first:bind(name))
  keep[#keep + 1] = first
  local second = must(uv.new_pipe(false))
  return second.bind, second, name
end

function error_ops.shutdown_after_close_reset(keep)
  local client, server = sync_pair("127.0.0.1")
  keep[#keep + 1] = server
  must(client:close_reset())
  return client.shutdown, client
end

function scenarios.error(params, seen, failures)
  local op = error_ops[params.op]
  if op == nil then
    error({ failure = "error op '" .. tostring(params.op)
      .. "' is not implemented by this runner" })
  end
  local keep, cleanups = {}, {}
  local ok, err = pcall(function() seen.error = call_error(op(keep, cleanups, failures)) end)
  for _, cleanup in ipairs(cleanups) do cleanup() end
  if not ok then error(err, 0) end
end

-- ---- the driver -----------------------------------------------------------

local function parse_cases(path)
  local cases = {}
  for line in io.lines(path) do
    local tokens = {}
    for token in line:gmatch("%S+") do tokens[#tokens + 1] = token end
    if #tokens >= 2 and tokens[1]:sub(1, 1) ~= "#" then
      local fields, keys = {}, {}
      for i = 3, #tokens do
        local key, value = tokens[i]:match("^([^=]+)=(.*)$")
        if key then
          fields[key] = value
          keys[#keys + 1] = key
        end
      end
      cases[#cases + 1] = { id = tokens[1], kind = tokens[2], fields = fields,
                            keys = keys }
    end
  end
  return cases
end

local function describe(err)
  if type(err) == "table" and err.failure then return err.failure end
  return tostring(err)
end

-- Runs one case; returns nil if it passed, else why it failed.
local function run_case(c)
  local scenario = scenarios[c.kind]
  if scenario == nil then
    return "kind '" .. c.kind .. "' is not implemented by this runner"
  end
  local seen, failures = {}, {}
  local ok, err = pcall(scenario, c.fields, seen, failures)
  if not ok then failures[#failures + 1] = describe(err) end
  ok, err = pcall(finish_loop)
  if not ok then failures[#failures + 1] = "cleanup: " .. describe(err) end
  if #failures > 0 then return failures[1] end
  for _, key in ipairs(c.keys) do
    local name = key:match("^expect%.(.+)$")
    if name and seen[name] ~= c.fields[key] then
      return key .. ": expected " .. c.fields[key] .. ", observed "
        .. tostring(seen[name] or "nothing")
    end
  end
  return nil
end

local function main(path, name)
  if path == nil then
    io.stderr:write("usage: runner.lua CASES_FILE [NAME]\n")
    os.exit(2)
  end
  local passed, failed = 0, 0
  for _, c in ipairs(parse_cases(path)) do
    local why = run_case(c)
    if why == nil then
      passed = passed + 1
      print("PASS " .. c.id)
    else
      failed = failed + 1
      print("FAIL " .. c.id .. ": " .. why)
    end
    io.stdout:flush()
  end
  print(("conformance-%s: %d passed, %d failed"):format(name or "lua", passed,
                                                         failed))
  os.exit(failed == 0 and passed > 0 and 0 or 1)
end

main(...)
