-- Issue 17, item 3: an async handle that sends to itself from its callback
-- stalls the loop for ever: core/src/async.c rescans from the head after
-- every callback, which has set the flag again, so no timer ever fires.
-- libuv: the timer fires after some 36,000 callbacks and run returns.
-- verdict before the fix: hang
PFZ_REPEAT = 3
  -- ---- progfuzz ops ----
  -- op 0
  n1, fired1 = 0, false
  -- op 1
  a1 = uv.new_async(function(...) n1 = n1 + 1; last(...):send() end)
  a1:send()
  -- op 2
  t1 = uv.new_timer()
  t1:start(50, 0, function() fired1 = true; uv.stop() end)
  -- op 3
  for _ = 1, 20 do
    if fired1 then break end
    G(function() uv.run() end)
  end
  -- op 4
  expect(fired1, "the timer fired while the async re-sent itself")
  a1:close()
  -- ---- progfuzz end ----

