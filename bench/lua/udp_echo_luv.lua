--[[
udp_echo_luv.lua - the UDP echo server on luv (Debian's lua-luv, for Lua
5.1 and LuaJIT), the peer of udp_echo_flatuv.lua, line for line.
{mmsgs = 64} receives with recvmmsg (UV_UDP_RECVMMSG).

Usage: luajit bench/lua/udp_echo_luv.lua PORT. Binds 127.0.0.1:PORT and
prints "listening PORT" when ready.
]]
local uv = require "luv"

local port = assert(tonumber(arg[1]), "usage: udp_echo_luv.lua PORT")
local udp = uv.new_udp({family = "inet", mmsgs = 64})
assert(udp:bind("127.0.0.1", port))
assert(udp:recv_start(function(err, data, addr)
  if data and addr then
    udp:send(data, addr.ip, addr.port)
  end
end))
print("listening " .. port)
io.stdout:flush()
uv.run()
