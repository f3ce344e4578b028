-- Hostile: deep recursion, in Lua and through metamethods, which recurse
-- in C: a function calling itself forever, an __index function reading
-- itself, a chain of 200000 tables each the __index of the next, a
-- __concat and a __tostring that call themselves, a string.gsub callback
-- and a table.sort comparator that call gsub and sort again, and error()
-- with a value nested 100000 tables deep.

rule "hostile-recursion-lua" {
  when = function(e)
    local function down(n) return 1 + down(n + 1) end
    return down(1) > 0
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-recursion-index" {
  when = function(e)
    local mt = { __index = function(self, k) return self[k] end }
    return setmetatable({}, mt).anything ~= nil
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-index-chain" {
  when = function(e)
    local t = {}
    for i = 1, 200000 do t = setmetatable({}, { __index = t }) end
    return t.anything ~= nil
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-recursion-concat" {
  when = function(e)
    local mt = {}
    mt.__concat = function(a, b) return a .. setmetatable({}, mt) end
    return #("x" .. setmetatable({}, mt)) > 0
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-recursion-tostring" {
  when = function(e)
    local mt = {}
    mt.__tostring = function(self) return "<" .. tostring(self) .. ">" end
    return #tostring(setmetatable({}, mt)) > 0
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-recursion-gsub" {
  when = function(e)
    local function again(s) return (s:gsub(".", again)) end
    return #again("abc") > 0
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-recursion-sort" {
  when = function(e)
    local function cmp(a, b)
      table.sort({ 2, 1 }, cmp)
      return a < b
    end
    table.sort({ 2, 1 }, cmp)
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-deep-error-value" {
  when = function(e)
    local v = {}
    for i = 1, 100000 do v = { v } end
    error(v)
  end,
  tags = { "hostile-escaped" },
}
