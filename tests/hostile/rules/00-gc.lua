-- Hostile: the garbage collector. Stops it, or makes it run huge steps, so
-- that memory is never reclaimed or a step takes forever; and finalizers,
-- which Lua runs with hooks off (outside any budget): __gc in the
-- metatable, __gc added after the metatable was set, and a to-be-closed
-- variable whose __close loops.

rule "hostile-collectgarbage-stop" {
  when = function(e)
    collectgarbage("stop")
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-collectgarbage-step" {
  when = function(e)
    collectgarbage("setpause", 1000)
    collectgarbage("step", 1 << 40)
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-gc-finalizer" {
  when = function(e)
    setmetatable({}, { __gc = function() while true do end end })
    return true
  end,
  tags = { "hostile-escaped" },
}

local late = {}
rule "hostile-gc-late-finalizer" {
  -- Lua marks an object for finalization when its metatable is set: a
  -- __gc added later is never called. Then it asks for a collection.
  when = function(e)
    for i = 1, 100 do
      local mt = {}
      late[#late % 50 + 1] = setmetatable({}, mt)
      mt.__gc = function() while true do end end
    end
    collectgarbage()
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-close-loops" {
  when = function(e)
    local guard <close> = setmetatable({}, { __close = function() while true do end end })
    error("raised with a to-be-closed variable in scope")
  end,
  tags = { "hostile-escaped" },
}
