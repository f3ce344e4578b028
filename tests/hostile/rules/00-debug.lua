-- Hostile: the debug library would undo the whole sandbox: sethook drops
-- the instruction budget, getregistry and getupvalue reach the tables
-- every file shares, setmetatable on strings replaces their methods for
-- everyone. It must be absent.

rule "hostile-debug-sethook" {
  when = function(e)
    debug.sethook()
    while true do end
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-debug-registry" {
  when = function(e) return debug.getregistry() ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-debug-upvalue" {
  when = function(e) return debug.getupvalue(e.mentions, 1) ~= nil end,
  tags = { "hostile-escaped" },
}
