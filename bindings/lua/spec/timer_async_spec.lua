-- Timers and async handles, and the loop calls around them.
local uv = require "flatuv"
local H = require "helper"

describe("timers", function()
  after_each(H.close_all)

  it("fire in order of due time, then of start", function()
    local order = {}
    local function timer(ms, name)
      uv.new_timer():start(ms, 0, function(t)
        order[#order + 1] = name
        t:close()
      end)
    end
    timer(30, "c")
    timer(10, "a")
    timer(20, "b1")
    timer(20, "b2")
    H.run()
    assert.same({ "a", "b1", "b2", "c" }, order)
  end)

  it("a zero timeout fires in the next iteration, not inside start", function()
    local fired = false
    local t = uv.new_timer()
    t:start(0, 0, function() fired = true end)
    assert.is_false(fired)
    assert.is_true(t:is_active())
    uv.run("once")
    assert.is_true(fired)
    assert.is_false(t:is_active())
  end)

  it("repeats until stopped", function()
    local count = 0
    local t = uv.new_timer()
    t:start(1, 1, function()
      count = count + 1
      if count == 5 then t:stop() end
    end)
    H.run()
    assert.equal(5, count)
    assert.equal(1, t:get_repeat())
  end)

  it("again restarts with the repeat; EINVAL if never started", function()
    local t = uv.new_timer()
    local r, _, name = t:again()
    assert.is_nil(r)
    assert.equal("EINVAL", name)
    local count = 0
    t:start(1000, 0, function()
      count = count + 1
      if count == 2 then t:stop() end
    end)
    assert.is_true(t:get_due_in() > 500)
    t:set_repeat(1)
    assert.equal(0, t:again())
    assert.is_true(t:get_due_in() <= 1)
    H.run()
    assert.equal(2, count)
  end)

  it("an unref'd timer does not keep the loop alive", function()
    local fired = false
    local t = uv.new_timer()
    t:start(50, 0, function() fired = true end)
    t:unref()
    assert.is_false(t:has_ref())
    assert.is_false(uv.run())
    assert.is_false(fired)
    t:ref()
    assert.is_true(uv.loop_alive())
    H.run()
    assert.is_true(fired)
  end)

  it("now advances with the loop", function()
    local before = uv.now()
    local t = uv.new_timer()
    t:start(20, 0, function() end)
    H.run()
    assert.is_true(uv.now() - before >= 20)
    assert.equal(0, uv.update_time())
  end)
end)

describe("async", function()
  after_each(H.close_all)

  it("coalesces sends made before the loop runs", function()
    local calls = 0
    local async = uv.new_async(function(a)
      calls = calls + 1
      a:close()
    end)
    assert.is_true(async:is_active())
    for _ = 1, 3 do assert.equal(0, async:send()) end
    H.run()
    assert.equal(1, calls)
  end)

  it("wakes the loop from a timer callback", function()
    local woken
    local async = uv.new_async(function(a)
      woken = uv.now()
      a:close()
    end)
    uv.new_timer():start(5, 0, function(t)
      async:send()
      t:close()
    end)
    H.run()
    assert.is_not_nil(woken)
  end)

  it("keeps the loop alive until closed", function()
    local async = uv.new_async(function() end)
    assert.is_true(uv.loop_alive())
    uv.new_timer():start(1, 0, function(t) t:close() async:close() end)
    H.run()
    assert.is_true(async:is_closing())
  end)
end)

describe("the loop", function()
  after_each(H.close_all)

  it("runs in once and nowait modes and reports whether work remains", function()
    local t = uv.new_timer()
    t:start(0, 1, function() end)
    assert.is_true(uv.run("nowait"))
    assert.is_true(uv.run("once"))
    t:close()
    assert.is_false(uv.run())
    local r, _, name = uv.run(7)
    assert.is_nil(r)
    assert.equal("EINVAL", name)
  end)

  it("refuses to run inside its own callback", function()
    local inner
    uv.new_timer():start(0, 0, function(t)
      inner = { uv.run() }
      t:close()
    end)
    H.run()
    assert.same({ nil, "EBUSY: resource busy or locked", "EBUSY" }, inner)
  end)

  it("stop makes run return with work left", function()
    local t = uv.new_timer()
    t:start(1, 1, function() uv.stop() end)
    assert.is_true(uv.run())
    assert.is_true(t:is_active())
  end)

  it("gives backend and metrics figures", function()
    assert.is_true(uv.backend_fd() >= 0)
    -- Not alive: it would not block. A timer bounds the wait; an active
    -- handle without timers waits for ever (-1).
    assert.equal(0, uv.backend_timeout())
    local t = uv.new_timer()
    t:start(500, 0, function() end)
    local timeout = uv.backend_timeout()
    assert.is_true(timeout > 0 and timeout <= 500, timeout)
    t:close()
    uv.run()
    local async = uv.new_async(function() end)
    assert.equal(-1, uv.backend_timeout())
    async:close()
    local count = uv.metrics_loop_count()
    uv.run("nowait")
    assert.is_true(uv.metrics_loop_count() > count)
    assert.is_true(uv.metrics_events() >= 0)
  end)
end)
