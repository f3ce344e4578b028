-- Hostile: whatever else a rule author might try. print() with a newline
-- and escape sequences (to forge or hide log lines), os.date with a
-- format of 200000 bytes and with a time past the year 10^10, date() and
-- tonumber() on megabyte strings in a loop, utf8.offset over a megabyte
-- in a loop, a history look-up in a loop, tostring and table.concat on a
-- table that holds itself, table.unpack of a hundred million values, and
-- declaring a rule while entries are being run.

rule "hostile-print-forged" {
  when = function(e)
    print("one line\n2023-01-01T00:00:00.000Z error FORGED by print\27[2J\27[H")
    error("printed a forged line")
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-os-date-format" {
  when = function(e)
    local format = string.rep("%c", 100000)
    while true do local s = os.date(format) end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-os-date-far" {
  when = function(e) return os.date("*t", 1 << 60).year > 0 end,
  tags = { "hostile-escaped" },
}

local function megabyte(c)
  local s = c
  for i = 1, 20 do s = s .. s end
  return s
end

rule "hostile-date-loop" {
  when = function(e)
    local s = megabyte("2")
    while true do coroutine.resume(coroutine.create(date), s) end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-tonumber-loop" {
  when = function(e)
    local s = megabyte("9")
    while true do local n = tonumber(s) end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-utf8-offset-loop" {
  when = function(e)
    local s = megabyte("u")
    while true do local n = utf8.offset(s, 1000000) end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-history-loop" {
  when = function(e)
    while true do local rows = history.entries{ tag = "launch", limit = 1000 } end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-self-holding-table" {
  when = function(e)
    local t = {}
    t[1] = t
    t.self = t
    return #tostring(t) > 0 and #table.concat(t) > 0
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-unpack" {
  when = function(e) return select("#", table.unpack({}, 1, 100000000)) > 0 end,
  tags = { "hostile-escaped" },
}

rule "hostile-declare-late" {
  when = function(e)
    rule "hostile-late" { tags = { "hostile-escaped" } }
    return true
  end,
  tags = { "hostile-escaped" },
}
