--[[
memory.lua - what timers cost in memory, for flatuv's Lua module or luv,
on the same Lua (a benchmark, not a test). Each part runs in a process of
its own, since memory freed in one would be reused by the next:

  lua5.4 bench/lua/memory.lua flatuv churn   (flatuv on LUA_PATH / LUA_CPATH)
  lua5.4 bench/lua/memory.lua luv churn
  ... held, cycles [N]

  churn    100,000 timers, each created, started and closed, the loop run
           every 1,000 (as a program that makes short-lived timers does):
           the growth of the resident set size (RSS) and of the Lua heap
           over the baseline, at the end
  held     100,000 timers created and started, all alive at once: RSS and
           Lua heap over the baseline, and per timer; then the same timers
           closed, the loop run, the table dropped: what is still held
  cycles   one timer at a time created, started with a callback, stopped
           and closed with a callback, N times (1,000,000 by default), the
           loop run every 1,000: RSS after the first 10,000 and at the end

RSS is read from /proc/self/statm; every figure follows full collections.
]]
local which = arg[1] or "flatuv"
local part = arg[2] or "churn"
local cycles = tonumber(arg[3]) or 1000000
local uv = require(which)

local function rss_kib()
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("*n", "*n")
  f:close()
  return resident * 4
end

-- Two full collections: the first may only run finalizers (which, for an
-- open handle, start its close).
local function settle()
  collectgarbage()
  collectgarbage()
  uv.run("nowait")
  collectgarbage()
  collectgarbage()
end

local function noop() end

local function report(name, rss0, heap0, n)
  local drss, dheap = rss_kib() - rss0, collectgarbage("count") - heap0
  local per = n and ("   (%5.1f B RSS, %5.1f B heap per timer)"):format(
    drss * 1024 / n, dheap * 1024 / n) or ""
  print(("%-8s %-6s RSS %+8d KiB   Lua heap %+9.1f KiB%s"):format(
    which, name, drss, dheap, per))
end

-- A warm-up, so that the baseline includes the loop, the module's tables
-- and whatever the allocator keeps after one timer.
local warm = uv.new_timer()
warm:start(1000, 0, noop)
warm:close()
uv.run()
settle()
local rss0, heap0 = rss_kib(), collectgarbage("count")
local n = 100000

if part == "churn" then
  for i = 1, n do
    local t = uv.new_timer()
    t:start(60000, 0, noop)
    t:close()
    if i % 1000 == 0 then uv.run("nowait") end
  end
  uv.run()
  report("churn", rss0, heap0)
elseif part == "held" then
  local timers = {}
  for i = 1, n do
    local t = uv.new_timer()
    t:start(60000, 0, noop)
    timers[i] = t
  end
  settle()
  report("held", rss0, heap0, n)
  for i = 1, n do timers[i]:close() end
  timers = nil
  uv.run()
  settle()
  report("closed", rss0, heap0)
elseif part == "cycles" then
  local function cycle()
    local t = uv.new_timer()
    t:start(60000, 0, noop)
    t:stop()
    t:close(noop)
  end
  local first, done = nil, 0
  while done < cycles do
    for _ = 1, 1000 do cycle() end
    done = done + 1000
    uv.run("nowait")
    if done == 10000 then
      settle()
      first = rss_kib()
    end
  end
  settle()
  local last = rss_kib()
  print(("%-8s cycles RSS after 10,000: %d KiB; after %d: %d KiB (%+.1f%%)"):format(
    which, first, done, last, (last - first) * 100 / first))
else
  error("part: churn, held or cycles")
end
