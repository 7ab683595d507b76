-- No unbounded growth (cheap; the figures are bench/lua/memory.lua's): a
-- timer created, started with a callback, stopped and closed with a
-- callback, many times, leaves the Lua heap, the bridge's handles and
-- registrations, and the resident set size where the warm-up left them.
local uv = require "flatuv"
local H = require "helper"

local function noop() end

local function cycles(n)
  for i = 1, n do
    local t = uv.new_timer()
    t:start(60000, 0, noop)
    t:stop()
    t:close(noop)
    if i % 1000 == 0 then uv.run("nowait") end
  end
  uv.run()
  collectgarbage()
  collectgarbage()
  uv.run("nowait")
  collectgarbage()
end

describe("memory #memory", function()
  after_each(H.close_all)

  it("timer cycles leave the Lua heap and the bridge's counts flat", function()
    cycles(20000)
    local heap, stats = collectgarbage("count"), uv._stats()
    cycles(40000)
    local growth = collectgarbage("count") - heap
    assert.equal(stats.handles, uv._stats().handles)
    assert.equal(stats.registrations, uv._stats().registrations)
    assert.is_true(growth < 64, "Lua heap grew by " .. growth .. " KiB")
  end)

  -- The collector's high-water mark settles within the warm-up; what
  -- would fail this is a leak of a few bytes per cycle (40,000 cycles of
  -- 64 bytes are 2.5 MiB).
  it("timer cycles leave the resident set size flat #rss", function()
    cycles(40000)
    local rss = H.rss()
    cycles(40000)
    local growth = H.rss() - rss
    assert.is_true(growth < 2 * 1024 * 1024, "RSS grew by " .. growth .. " bytes")
  end)
end)
