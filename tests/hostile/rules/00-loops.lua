-- Hostile: loops that never end: while, repeat, goto; a loop resuming
-- coroutines that loop (each error caught by resume); and a loop of short
-- coroutines, each under the count at which the hook looks, which a
-- per-thread count alone would never see.

rule "hostile-while" {
  when = function(e) while true do end end,
  tags = { "hostile-escaped" },
}

rule "hostile-repeat" {
  when = function(e) repeat until false end,
  tags = { "hostile-escaped" },
}

rule "hostile-goto" {
  when = function(e)
    ::again::
    goto again
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-loop-in-coroutines" {
  when = function(e)
    while true do
      coroutine.resume(coroutine.create(function() while true do end end))
    end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-short-coroutines" {
  when = function(e)
    local n = 0
    while true do
      coroutine.wrap(function() for i = 1, 300 do n = n + 1 end end)()
    end
  end,
  tags = { "hostile-escaped" },
}
