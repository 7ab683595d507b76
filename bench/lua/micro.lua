--[[
micro.lua - per-operation costs of flatuv's Lua module and of luv, on the
same Lua, in one process each:

  lua5.4 bench/lua/micro.lua flatuv      (flatuv on LUA_PATH / LUA_CPATH)
  lua5.4 bench/lua/micro.lua luv

  method      a trivial method call, timer:get_repeat()
  setopt      tcp:nodelay(true) on a bound socket (a system call)
  timer       start a 0 ms timer and run the loop until it fires
  fire        1000 timers started, then one run that fires them all
  new/close   create a TCP handle, close it, run the loop once

Prints one line per operation: nanoseconds per operation, best of 5.
]]
local which = arg[1] or "flatuv"
local uv = require(which)
local clock = os.clock

local function best_of(runs, n, fn)
  local best = math.huge
  for _ = 1, runs do
    collectgarbage()
    local t0 = clock()
    fn(n)
    local dt = clock() - t0
    if dt < best then best = dt end
  end
  return best / n * 1e9
end

local results = {}
local function measure(name, n, fn)
  results[#results + 1] = ("%-10s %9.0f ns"):format(name, best_of(5, n, fn))
end

local timer = uv.new_timer()
measure("method", 1000000, function(n)
  for _ = 1, n do timer:get_repeat() end
end)

local tcp = uv.new_tcp()
tcp:bind("127.0.0.1", 0)
measure("setopt", 200000, function(n)
  for _ = 1, n do tcp:nodelay(true) end
end)

local function noop() end
measure("timer", 200000, function(n)
  for _ = 1, n do
    timer:start(0, 0, noop)
    uv.run()
  end
end)

local timers = {}
for i = 1, 1000 do timers[i] = uv.new_timer() end
measure("fire", 200, function(n)
  for _ = 1, n do
    for i = 1, 1000 do timers[i]:start(0, 0, noop) end
    uv.run()
  end
end)
results[#results] = results[#results]:gsub("(%d+) ns", function(v)
  return ("%d ns"):format(math.floor(tonumber(v) / 1000 + 0.5))
end) .. " per timer"

measure("new/close", 100000, function(n)
  for _ = 1, n do
    uv.new_tcp():close()
    uv.run("nowait")
  end
end)

print(("%s on %s"):format(which, jit and jit.version or _VERSION))
for _, line in ipairs(results) do print("  " .. line) end
