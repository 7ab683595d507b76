--[[
shapes.lua - calls, from Lua, each function bindings/apigen/tests/shapes/
shapes.h adds to a copy of the header (issue 11's "Done when"), in a module
built against that copy with no other edit (tests/shapes.sh builds it):
each is uv.NAME and a method of its handle, the predicate returns a
boolean, and failures return nil, msg, name.
]]
local uv = require "flatuv"

local checks = 0
local function check(ok, what)
  if not ok then error("shapes: " .. what, 2) end
  checks = checks + 1
end
local function fails_with(expected, what, r, msg, name)
  check(r == nil and name == expected and type(msg) == "string"
        and msg:sub(1, #expected + 1) == expected .. ":",
        ("%s: nil, msg, %s expected, got %s, %s, %s"):format(
          what, expected, tostring(r), tostring(msg), tostring(name)))
end

-- A predicate, fuv_timer_is_repeating: a method, and a boolean.
local timer = uv.new_timer()
check(uv.timer_is_repeating == timer.is_repeating, "uv.timer_is_repeating is the method")
check(timer:is_repeating() == false, "is_repeating() of a new timer is false")
assert(timer:set_repeat(50))
check(timer:is_repeating() == true, "is_repeating() after set_repeat(50) is true")
check(uv.timer_is_repeating(timer) == true, "uv.timer_is_repeating(timer) is true")

-- A setter returning a status, fuv_handle_set_referenced: a handle's method
-- (so every kind's), 0 on success.
check(uv.handle_set_referenced == timer.set_referenced, "uv.handle_set_referenced is the method")
check(timer:set_referenced(false) == 0, "set_referenced(false) returns 0")
check(timer:has_ref() == false, "set_referenced(false) unreferences")
check(uv.handle_set_referenced(timer, true) == 0, "uv.handle_set_referenced returns 0")
check(timer:has_ref() == true, "set_referenced(true) references")
check(not pcall(timer.set_referenced, timer, "yes"), "set_referenced takes a boolean")

-- A getter with out-parameters, fuv_timer_get_times: both, as results.
assert(timer:start(1000, 50, function() end))
local due_in, repeat_ms = timer:get_times()
check(math.type == nil or math.type(due_in) == "integer", "get_times() gives integers")
check(due_in > 900 and due_in <= 1000, "get_times() due_in: " .. tostring(due_in))
check(repeat_ms == 50, "get_times() repeat: " .. tostring(repeat_ms))
check(select("#", uv.timer_get_times(timer)) == 2, "uv.timer_get_times gives two results")
assert(timer:stop())

-- A call taking a callback, fuv_timer_start_once: the callback gets the
-- very userdata, once.
local fired, got = 0, nil
check(timer:start_once(1, function(t) fired = fired + 1; got = t end) == 0,
      "start_once returns 0")
check(timer:is_active() == true, "start_once starts the timer")
uv.run()
check(fired == 1 and got == timer, "start_once's callback ran once with the timer")
check(not pcall(timer.start_once, timer, 1), "start_once needs a callback")

-- The constructor of a new handle kind, fuv_gauge_new: uv.new_gauge(), a
-- handle of its own class with the handle's methods.
local gauge = uv.new_gauge()
check(uv.gauge_new ~= nil, "uv.gauge_new exists")
check(uv.is_handle(gauge), "a gauge handle is a handle")
check(tostring(gauge):match("^flatuv%.gauge: ") ~= nil, "tostring: " .. tostring(gauge))
check(gauge:is_active() == false and gauge:has_ref() == true, "handle methods on gauge")
check(gauge:set_referenced(false) == 0 and gauge:has_ref() == false, "set_referenced on gauge")
check(gauge.start == nil and gauge.is_repeating == nil, "gauge has no timer methods")
check(not pcall(uv.timer_get_times, gauge), "a gauge handle is not a timer argument")

-- Failures: nil, msg, name.
local closed = false
assert(timer:close(function() closed = true end))
assert(gauge:close())
uv.run()
check(closed, "the timer closed")
fails_with("EINVAL", "get_times() of a closed timer", timer:get_times())
fails_with("EINVAL", "set_referenced() of a closed handle", timer:set_referenced(true))
fails_with("EINVAL", "set_referenced() of a closed gauge", gauge:set_referenced(true))
fails_with("EINVAL", "start_once() of a closed timer", timer:start_once(1, function() end))
check(uv._stats().registrations == 0, "no registration left")

print(("%d checks passed on %s"):format(checks, jit and jit.version or _VERSION))
