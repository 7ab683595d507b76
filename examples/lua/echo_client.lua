--[[
A TCP echo client on flatuv, in Lua.

  lua5.4 echo_client.lua [--count K] [--size BYTES] [PORT] [IP]

Connects to IP (default 127.0.0.1) and PORT (default 7000), then sends K
messages (default 5) one at a time, each waiting for its whole echo and
checking it byte for byte. Messages are text of at least BYTES bytes.
Then it shuts down its side, waits for the server to close, and exits 0
if every echo matched, 1 otherwise. It gives up after 10 s of silence.
]]
local uv = require "flatuv"

local count, size, port, ip = 5, 0, 7000, "127.0.0.1"
local rest = {}
local i = 1
while i <= #arg do
  if arg[i] == "--count" then
    count = tonumber(arg[i + 1]); i = i + 1
  elseif arg[i] == "--size" then
    size = tonumber(arg[i + 1]); i = i + 1
  else
    rest[#rest + 1] = arg[i]
  end
  i = i + 1
end
port = tonumber(rest[1] or port)
ip = rest[2] or ip

local function message(n)
  local text = ("message %d of %d\n"):format(n, count)
  if #text < size then
    text = text .. string.rep(".", size - #text - 1) .. "\n"
  end
  return text
end

local client = assert(uv.new_tcp())
local idle = uv.new_timer()
local failed = false
local current, expected, received = 0, nil, {}
local received_bytes = 0

local function finish(failure)
  if failure then
    io.stderr:write("echo_client: ", failure, "\n")
    failed = true
  end
  if not client:is_closing() then client:close() end
  if not idle:is_closing() then idle:close() end
end

local function reset_idle()
  idle:start(10000, 0, function() finish("no answer from the server for 10 s") end)
end

local function send_next()
  current = current + 1
  if current > count then
    -- All echoed: finish sending and wait for the server's end of stream.
    client:shutdown()
    expected = nil
    return
  end
  expected = message(current)
  received, received_bytes = {}, 0
  client:write(expected)
end

assert(client:connect(ip, port, function(err)
  if err then return finish("connect: " .. err) end
  client:nodelay(true)
  client:read_start(function(rerr, chunk)
    reset_idle()
    if rerr then return finish("read: " .. rerr) end
    if not chunk then
      if expected then return finish("the server closed early") end
      print(("%d messages echoed"):format(count))
      return finish()
    end
    if not expected then return finish("unexpected data after the last echo") end
    received[#received + 1] = chunk
    received_bytes = received_bytes + #chunk
    if received_bytes >= #expected then
      if table.concat(received) ~= expected then
        return finish(("echo %d does not match"):format(current))
      end
      send_next()
    end
  end)
  send_next()
end))
reset_idle()
uv.run()
os.exit(failed and 1 or 0)
