-- Hostile: declarations meant to confuse the engine: a rule that must run
-- after itself, one after a rule that does not exist, and a correlation
-- whose key is 100 KB, whose second step loops, over the longest window
-- allowed. The engine reports the first two when loading (the rules still
-- load, in declaration order); the sequence is stopped on each entry.

rule "hostile-after-itself" {
  after = { "hostile-after-itself" },
  when = function(e) error("ran although it runs after itself") end,
  tags = { "hostile-escaped" },
}

rule "hostile-after-unknown" {
  after = { "no-such-rule" },
  when = function(e) error("ran after a rule that does not exist") end,
  tags = { "hostile-escaped" },
}

sequence "hostile-sequence" {
  steps = {
    function(e) return true end,
    function(e) while true do end end,
  },
  within = days(100000),
  by = function(e) return string.rep("k", 100000) end,
  alert = function(a, b) return "never: " .. a.text end,
}
