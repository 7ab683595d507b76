--[[
echo_flatuv.lua - the echo server on flatuv's Lua module, written as a luv
user would write it; the peer of echo_luv.lua, line for line.

Usage: lua5.4 bench/lua/echo_flatuv.lua PORT (with flatuv on LUA_PATH /
LUA_CPATH, e.g. LUA_PATH="_build/lua/lua5.4/?.lua;;"
LUA_CPATH="_build/lua/lua5.4/?.so;;"). Listens on 127.0.0.1, sets
TCP_NODELAY on accepted sockets and prints "listening PORT" when ready.
]]
local uv = require "flatuv"

local port = assert(tonumber(arg[1]), "usage: echo_flatuv.lua PORT")
local server = uv.new_tcp()
assert(server:bind("127.0.0.1", port))
assert(server:listen(511, function(err)
  if err then return end
  local client = server:accept()
  if not client then return end
  client:nodelay(true)
  client:read_start(function(rerr, chunk)
    if chunk then
      client:write(chunk)
    else
      client:close()
    end
  end)
end))
print("listening " .. port)
io.stdout:flush()
uv.run()
