-- Hostile: patterns that backtrack for hours. Lua patterns with nested
-- repetitions, and %b on a long unbalanced text; PCRE2 through e:match:
-- (a+)+$ on entries made for it, a text of many short runs where no single
-- start position reaches the match limit, a group of a thousand captures
-- repeated over a long text (each backtracking frame holds every capture),
-- a new pattern on every call, a megabyte pattern, and a broken one. The
-- hostile entries include "aaaa...!" texts for these.

rule "hostile-lua-pattern" {
  when = function(e) return string.rep("a", 100000):find(".-.-.-.-b") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-lua-balanced" {
  when = function(e) return string.rep("(", 100000):find("%b()") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-lua-pattern-on-text" {
  when = function(e) return e.text:match("(.-)(.-)(.-)(.-)(.-)%d$") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-pcre-nested" {
  when = function(e) return e:match("(a+)+$") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-pcre-groups" {
  when = function(e)
    if not e.text:find("aaaaaaaa", 1, true) then return false end
    return e:match("^[^a]*(?:a" .. string.rep("()", 1000) .. ")*c") ~= nil
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-pcre-new-patterns" {
  when = function(e)
    for i = 1, 1000000 do e:match("never" .. i .. "(x+)+y") end
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-pcre-huge-pattern" {
  when = function(e) return e:match(string.rep("a?", 500000) .. string.rep("a", 500000)) ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-pcre-broken" {
  when = function(e) return e:match("((((") ~= nil end,
  tags = { "hostile-escaped" },
}
