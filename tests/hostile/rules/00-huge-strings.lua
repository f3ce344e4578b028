-- Hostile: huge strings. string.rep to a gigabyte and beyond, with and
-- without a separator; a doubling loop; a loop that copies a 4 MB string
-- on each turn (one instruction each); table.concat of a million pieces;
-- a format width of 99999; and loops that compare, or convert to a
-- number, 2 MB strings, each turn a single instruction that scans them
-- whole. The last two try twice, then give up (each try costs a second).

rule "hostile-rep-gigabyte" {
  when = function(e) return #string.rep("x", 1 << 30) > 0 end,
  tags = { "hostile-escaped" },
}

rule "hostile-rep-beyond" {
  when = function(e) return #("x"):rep(1 << 62) > 0 end,
  tags = { "hostile-escaped" },
}

rule "hostile-rep-separator" {
  when = function(e) return #string.rep("ab", 1 << 28, ",") > 0 end,
  tags = { "hostile-escaped" },
}

rule "hostile-doubling" {
  when = function(e)
    local s = "x"
    while true do s = s .. s end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-copy-loop" {
  when = function(e)
    local s = "x"
    for i = 1, 22 do s = s .. s end
    while true do local copy = s .. "!" end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-table-concat" {
  when = function(e)
    local t = {}
    for i = 1, 1000000 do t[i] = "piece" end
    return #table.concat(t) > 0
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-format-width" {
  when = function(e) return #string.format("%99999s", "x") > 0 end,
  tags = { "hostile-escaped" },
}

local tries = { compare = 0, convert = 0 }
local function two_mb(c)
  local s = c
  for i = 1, 21 do s = s .. s end
  return s
end

rule "hostile-compare-loop" {
  when = function(e)
    tries.compare = tries.compare + 1
    if tries.compare > 2 then error("gave up comparing") end
    local a, b = two_mb("x"), two_mb("x")
    local same = 0
    while true do
      if a == b then same = same + 1 end
    end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-convert-loop" {
  when = function(e)
    tries.convert = tries.convert + 1
    if tries.convert > 2 then error("gave up converting") end
    local digits = two_mb("7")
    while true do local n = digits + 0 end
  end,
  tags = { "hostile-escaped" },
}
