-- Misuse must give errors, never a crash: misuse_driver.lua calls every
-- method with wrong types, nil, absurd numbers and closed handles. It runs
-- in its own process, under the same Lua as this spec, so that a crash (a
-- signal) fails this test instead of killing the test run.
local function interpreter()
  local lua = os.getenv("FLATUV_LUA")
  if lua and lua ~= "" then return lua end
  return jit and "luajit" or "lua5.4"
end

local function spec_dir()
  local source = debug.getinfo(1, "S").source:gsub("^@", "")
  return source:match("^(.*)/[^/]*$") or "."
end

describe("misuse", function()
  it("every method with wrong types, nil and closed handles gives errors, never a crash", function()
    local cmd = ("%s %s/misuse_driver.lua 2>&1; echo \"exit status: $?\"")
        :format(interpreter(), spec_dir())
    local pipe = assert(io.popen(cmd))
    local output = pipe:read("*a")
    pipe:close()
    local status = tonumber(output:match("exit status: (%d+)%s*$"))
    local calls, broken = output:match("misuse: (%d+) calls, (%d+) broken")
    assert.equal(0, status, output)
    assert.is_not_nil(calls, output)
    assert.is_true(tonumber(calls) > 3000, output)
    assert.equal("0", broken, output)
    print("\n  " .. output:match("misuse: [^\n]*"))
  end)

  it("closing the Lua state from inside a callback ends the process cleanly", function()
    local script = [[
      local uv = require "flatuv"
      uv.new_tcp():bind("127.0.0.1", 0)
      uv.new_timer():start(0, 0, function() io.write("in callback\n") os.exit(7, true) end)
      uv.run()
    ]]
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    local pipe = assert(io.popen(("%s %s 2>&1; echo \"exit status: $?\""):format(interpreter(), path)))
    local output = pipe:read("*a")
    pipe:close()
    os.remove(path)
    assert.equal("in callback\nexit status: 7\n", output)
  end)
end)
