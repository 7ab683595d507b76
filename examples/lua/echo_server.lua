--[[
A TCP echo server on flatuv, in Lua.

  lua5.4 echo_server.lua [--once N] [PORT] [IP]

Listens on IP (default 127.0.0.1; "::1" or "::" for IPv6) and PORT
(default 7000; 0 picks a free port). Prints "listening PORT" once it
accepts connections. Every byte a client sends is written back; when the
client finishes sending, the server shuts down its side after the last
echo and closes the connection. With --once N it stops listening after N
connections and exits once they are closed. Ctrl-C stops it.

Finding the module: install the rock (bindings/lua), or point Lua at a
build, e.g. LUA_PATH="_build/lua/lua5.4/?.lua;;"
LUA_CPATH="_build/lua/lua5.4/?.so;;".
]]
local uv = require "flatuv"

local once, port, ip = nil, 7000, "127.0.0.1"
local rest = {}
local i = 1
while i <= #arg do
  if arg[i] == "--once" then
    once = tonumber(arg[i + 1])
    i = i + 1
  else
    rest[#rest + 1] = arg[i]
  end
  i = i + 1
end
port = tonumber(rest[1] or port)
ip = rest[2] or ip

local server = assert(uv.new_tcp())
assert(server:bind(ip, port))
local accepted = 0

local function serve(conn)
  local peer = conn:getpeername()
  local bytes = 0
  conn:read_start(function(err, chunk)
    if chunk then
      bytes = bytes + #chunk
      conn:write(chunk)
    elseif err then
      io.stderr:write("echo_server: read: ", err, "\n")
      conn:close()
    else
      -- End of stream: the shutdown goes out after the queued echoes.
      conn:shutdown(function() conn:close() end)
      print(("connection from %s:%d: %d bytes echoed"):format(peer.ip, peer.port, bytes))
    end
  end)
end

assert(server:listen(128, function(err)
  if err then
    io.stderr:write("echo_server: accept: ", err, "\n")
    return
  end
  local conn = assert(server:accept())
  conn:nodelay(true)
  accepted = accepted + 1
  if once and accepted >= once then server:close() end
  serve(conn)
end))

print("listening " .. server:getsockname().port)
io.stdout:flush()

-- A signal while waiting ends uv.run with EINTR, so that Lua's own Ctrl-C
-- handling can stop the script.
uv.loop_set_interruptible(true)
while true do
  local more, _, name = uv.run()
  if not more and name ~= "EINTR" then break end
end
