-- Hostile: poisons what every rule file shares, on every entry, before the
-- shipped rules run (by its name): the metatable of strings, the string
-- and table libraries, the shared word lists, the globals of other files,
-- and the entry itself, its methods and its fields. A rule whose change
-- went through tags the entry "hostile-escaped"; and the shipped rules
-- would tag ordinary entries differently.

rule "hostile-string-metatable" {
  when = function(e)
    getmetatable("").__index.lower = function() return "poisoned" end
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-string-library" {
  when = function(e)
    string.lower = function() return "poisoned" end
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-string-setmetatable" {
  when = function(e)
    setmetatable(string, { __index = function() return function() return "poisoned" end end })
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-table-library" {
  when = function(e)
    table.sort = function() end
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-lists" {
  when = function(e)
    lists.actors["north-korea"] = { "Nobody" }
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-lists-rawset" {
  when = function(e)
    rawset(lists.weapons, 1, "nothing")
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-lists-by-pairs" {
  -- pairs hands out the values of a read-only table: are they read-only too?
  when = function(e)
    for key, names in pairs(lists.actors) do names[1] = "Nobody" end
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-other-globals" {
  -- Another file's globals: through _G, or the environment of a function.
  when = function(e)
    _G.rule = nil
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-entry-write" {
  when = function(e)
    e.text = "poisoned"
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-entry-method" {
  when = function(e)
    e.find = function() return true end
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-entry-setmetatable" {
  when = function(e)
    setmetatable(e, { __index = function() return function() return true end end })
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-entry-fields" {
  when = function(e)
    e.fields.region = "poisoned"
    return true
  end,
  tags = { "hostile-escaped" },
}

local kept
rule "hostile-entry-kept" {
  -- Keeps the entry object and reads it on the next call.
  when = function(e)
    local before = kept
    kept = e
    if before then return before.text ~= nil end
    error("kept the entry for the next call")
  end,
  tags = { "hostile-escaped" },
}
