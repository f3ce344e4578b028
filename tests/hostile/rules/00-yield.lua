-- Hostile: coroutines that yield where the C code in between cannot be
-- resumed: inside a table.sort comparator, a string.gsub callback, a
-- __tostring run by tostring, an __index run by ipairs inside e:mentions;
-- a yield outside any coroutine; closing or resuming the rule's own
-- thread; and a coroutine kept suspended across entries that resumes on
-- the entry of an earlier call. Each coroutine's error is raised again,
-- so that the log shows what Lua said.

local function run(f, ...)
  local co = coroutine.create(f)
  local ok, err = coroutine.resume(co, ...)
  if not ok then error(err, 0) end
  return true
end

rule "hostile-yield-in-sort" {
  when = function(e)
    return run(function()
      table.sort({ 3, 1, 2 }, function(a, b) coroutine.yield() return a < b end)
    end)
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-yield-in-gsub" {
  when = function(e)
    return run(function() return ("abc"):gsub(".", function(c) coroutine.yield(c) end) end)
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-yield-in-tostring" {
  when = function(e)
    return run(function()
      return tostring(setmetatable({}, { __tostring = function() coroutine.yield() return "x" end }))
    end)
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-yield-in-entry-method" {
  when = function(e)
    return run(function()
      return e:mentions(setmetatable({}, {
        __index = function(t, i) coroutine.yield() return i == 1 and "North Korea" or nil end,
      }))
    end)
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-yield-outside" {
  when = function(e)
    coroutine.yield()
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-close-own-thread" {
  when = function(e)
    return run(function() return coroutine.close(coroutine.running()) end)
  end,
  tags = { "hostile-escaped" },
}

local main
rule "hostile-resume-main" {
  when = function(e)
    main = coroutine.running()
    return run(function() return assert(coroutine.resume(main)) end)
  end,
  tags = { "hostile-escaped" },
}

local waiting
rule "hostile-resume-later" {
  -- The first call leaves a coroutine suspended with its entry; each later
  -- call resumes it, and it reads the old entry.
  when = function(e)
    if not waiting then
      waiting = coroutine.create(function(entry)
        while true do coroutine.yield(entry.text) end
      end)
      coroutine.resume(waiting, e)
      error("left a coroutine suspended with the entry")
    end
    local ok, err = coroutine.resume(waiting)
    if not ok then error(err, 0) end
    return true
  end,
  tags = { "hostile-escaped" },
}
