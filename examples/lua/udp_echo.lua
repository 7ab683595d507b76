--[[
A UDP echo server and client on flatuv, in Lua, in luv's style.

  lua5.4 udp_echo.lua [COUNT] [PORT] [IP]

The server binds IP (default 127.0.0.1) and PORT (default 0: a free port)
and sends every datagram back to its sender; the client sends COUNT
(default 3) datagrams to it, one after each echo, prints each echo with
the address it came from, and both close after the last. Written against
luv's API only (new_udp, bind, recv_start, send, getsockname), so it runs
unchanged with require "luv".

Finding the module: install the rock (bindings/lua), or point Lua at a
build, e.g. LUA_PATH="_build/lua/lua5.4/?.lua;;"
LUA_CPATH="_build/lua/lua5.4/?.so;;".
]]
local ok, uv = pcall(require, "flatuv")
if not ok then uv = require "luv" end -- the same program on luv

local count = tonumber(arg[1] or 3)
local port = tonumber(arg[2] or 0)
local ip = arg[3] or "127.0.0.1"

local server = assert(uv.new_udp())
assert(server:bind(ip, port))
local server_addr = server:getsockname()
local client = assert(uv.new_udp())
assert(client:bind(ip, 0))
local echoed = 0

assert(server:recv_start(function(err, data, addr, flags)
  if err then
    io.stderr:write("server: ", err, "\n")
    return
  end
  if data and addr then server:send(data, addr.ip, addr.port) end
end))

assert(client:recv_start(function(err, data, addr, flags)
  if err then
    io.stderr:write("client: ", err, "\n")
    return
  end
  if not data then return end
  echoed = echoed + 1
  print(string.format("echo %q from %s:%d", data, addr.ip, addr.port))
  if echoed == count then
    server:close()
    client:close()
  else
    client:send("datagram " .. (echoed + 1), server_addr.ip, server_addr.port)
  end
end))

print(string.format("server on %s:%d", server_addr.ip, server_addr.port))
client:send("datagram 1", server_addr.ip, server_addr.port, function(err)
  if err then io.stderr:write("send: ", err, "\n") end
end)
uv.run()
print(string.format("echoed %d datagrams", echoed))
os.exit(echoed == count and 0 or 1)
