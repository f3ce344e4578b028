-- Hostile: a memory hoarder. Woken by an entry that says "hoard", it fills
-- the memory the rules share, in 64 KB strings and then in small tables to
-- the last byte, and keeps it all in globals, catching its own memory
-- errors in coroutines so that no one of them stops it. The shipped rules
-- must still tag the entries that follow: the host has a reserve of its
-- own, and the rule state is rebuilt if it is exhausted. (Named to load
-- last, so that it does not starve the other hostile rules of memory.)

hoard = {}
tail = false

rule "hostile-hoard" {
  when = function(e)
    if not e:find("hoard") then return false end
    local piece = "h"
    for i = 1, 16 do piece = piece .. piece end
    coroutine.resume(coroutine.create(function()
      while true do hoard[#hoard + 1] = piece .. #hoard end
    end))
    coroutine.resume(coroutine.create(function()
      while true do tail = { tail } end
    end))
    return false
  end,
  tags = { "hostile-escaped" },
}
