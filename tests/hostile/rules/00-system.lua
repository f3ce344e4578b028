-- Hostile: reaches the system. Writes a marker file with io, runs a
-- command that writes another, reads a secret, removes and renames files,
-- and ends the daemon with os.exit. The marker files would appear in the
-- daemon's working directory; a rule tags "hostile-escaped" if its call
-- returned at all.

rule "hostile-io-write" {
  when = function(e)
    local f = io.open("hostile-marker-io", "w")
    f:write("escaped\n")
    f:close()
    return true
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-os-execute" {
  when = function(e) return os.execute("touch hostile-marker-exec") end,
  tags = { "hostile-escaped" },
}

rule "hostile-io-popen" {
  when = function(e) return io.popen("touch hostile-marker-popen") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-os-getenv" {
  when = function(e) return os.getenv("HOME") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-os-remove" {
  when = function(e) return os.remove("vigil.db") end,
  tags = { "hostile-escaped" },
}

rule "hostile-os-rename" {
  when = function(e) return os.rename("vigil.db", "hostile-marker-renamed") end,
  tags = { "hostile-escaped" },
}

rule "hostile-os-exit" {
  when = function(e) os.exit(3) end,
  tags = { "hostile-escaped" },
}
