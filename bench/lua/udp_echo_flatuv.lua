--[[
udp_echo_flatuv.lua - the UDP echo server on flatuv's Lua module, written
as a luv user would write it; the peer of udp_echo_luv.lua, line for line.
{mmsgs = 64} receives with recvmmsg, as luv's own option does.

Usage: luajit bench/lua/udp_echo_flatuv.lua PORT (with flatuv on LUA_PATH /
LUA_CPATH, e.g. LUA_PATH="_build/lua/luajit/?.lua;;"
LUA_CPATH="_build/lua/luajit/?.so;;"). Binds 127.0.0.1:PORT and prints
"listening PORT" when ready.
]]
local uv = require "flatuv"

local port = assert(tonumber(arg[1]), "usage: udp_echo_flatuv.lua PORT")
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
