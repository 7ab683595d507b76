--[[
echo_luv.lua - the echo server on luv (Debian's lua-luv), the peer of
echo_flatuv.lua, line for line; luv's accept() takes a client handle made
beforehand.

Usage: lua5.4 bench/lua/echo_luv.lua PORT. Listens on 127.0.0.1, sets
TCP_NODELAY on accepted sockets and prints "listening PORT" when ready.
]]
local uv = require "luv"

local port = assert(tonumber(arg[1]), "usage: echo_luv.lua PORT")
local server = uv.new_tcp()
assert(server:bind("127.0.0.1", port))
assert(server:listen(511, function(err)
  if err then return end
  local client = uv.new_tcp()
  if not server:accept(client) then
    client:close()
    return
  end
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
