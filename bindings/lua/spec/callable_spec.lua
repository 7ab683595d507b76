-- Callables: as luv, every argument that takes a function also takes a
-- callable table (one whose metatable's __call is a function), and
-- anything else raises luv's "function or callable table expected".
local uv = require "flatuv"
local H = require "helper"

-- A callable table that records its calls' arguments (less itself) under
-- its name in log.
local function callable(log, name, action)
  return setmetatable({}, {
    __call = function(self, ...)
      log[#log + 1] = { name, select("#", ...) }
      if action then action(...) end
    end,
  })
end

local function names(log)
  local out = {}
  for _, entry in ipairs(log) do out[#out + 1] = entry[1] end
  return out
end

describe("callable tables", function()
  after_each(H.close_all)

  it("are taken by timers, asyncs, walk and close", function()
    local log = {}
    local timer = uv.new_timer()
    assert.equal(0, timer:start(0, 0, callable(log, "timer")))
    local async
    async = uv.new_async(callable(log, "async", function() async:close() end))
    async:send()
    H.run()
    uv.walk(callable(log, "walk"))
    timer:close(callable(log, "close"))
    H.run()
    table.sort(log, function(a, b) return a[1] < b[1] end)
    assert.same({ "async", "close", "timer", "walk" }, names(log))
  end)

  it("are taken by listen, connect, read, write, shutdown and drain", function()
    local log = {}
    local server = uv.new_tcp()
    assert.equal(0, server:bind("127.0.0.1", 0))
    assert.equal(0, server:listen(1, callable(log, "listen", function()
      local conn = server:accept()
      conn:read_start(callable(log, "server read", function(_, chunk)
        if chunk then conn:write(chunk) else conn:close() end
      end))
      server:close()
    end)))
    local client = uv.new_tcp()
    assert.equal(0, client:set_water_marks(1, 0, callable(log, "drain")))
    client:connect("127.0.0.1", server:getsockname().port,
      callable(log, "connect", function()
        client:write("hi", callable(log, "write"))
        client:read_start(callable(log, "client read", function(_, chunk)
          if chunk == "hi" then
            client:shutdown(callable(log, "shutdown"))
          elseif chunk == nil then
            client:close()
          end
        end))
      end))
    H.run()
    local seen = {}
    for _, name in ipairs(names(log)) do seen[name] = true end
    for _, name in ipairs({ "listen", "connect", "write", "server read",
                            "client read", "shutdown" }) do
      assert.is_true(seen[name] == true, name)
    end
  end)

  it("replace a persistent callback, and a function replaces them", function()
    local log = {}
    local timer = uv.new_timer()
    -- A function, then a callable in its place (a box's sole callback
    -- under Lua 5.4), then the other way round.
    timer:start(1000, 0, function() log[#log + 1] = { "first" } end)
    timer:start(0, 0, callable(log, "second"))
    H.run()
    timer:start(1000, 0, callable(log, "third"))
    timer:start(0, 0, function() log[#log + 1] = { "fourth" } end)
    H.run()
    assert.same({ "second", "fourth" }, names(log))
  end)

  it("leak nothing when a failed call took one", function()
    local tcp = uv.new_tcp()
    local r, _, name = tcp:read_start(callable({}, "read"))
    assert.is_nil(r)
    assert.equal("ENOTCONN", name)
  end)
end)

describe("non-callables", function()
  after_each(H.close_all)

  it("raise luv's error, tables without __call included", function()
    local timer = uv.new_timer()
    local expected = "bad argument #3 to 'start' (function or callable table expected, got %s)"
    assert.has_error(function() timer:start(1, 0, "f") end, expected:format("string"))
    assert.has_error(function() timer:start(1, 0, {}) end, expected:format("table"))
    local odd = setmetatable({}, { __call = 42 })
    assert.has_error(function() timer:start(1, 0, odd) end, expected:format("table"))
    assert.has_error(function() uv.new_async(5) end,
      "bad argument #1 to 'new_async' (function or callable table expected, got number)")
    -- An optional callback may be nil, but not a non-callable.
    assert.equal(0, timer:close())
    assert.has_error(function() uv.new_timer():close({}) end,
      "bad argument #1 to 'close' (function or callable table expected, got table)")
    assert.is_false(timer:is_active())
  end)
end)
