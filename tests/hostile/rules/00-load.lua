-- Hostile: runs code the sandbox never saw, or reads files, through every
-- loader Lua has: load (of text and of bytecode), loadstring (5.1),
-- dofile, loadfile, require and package.loadlib (a C library). Each must
-- be absent. A rule tags "hostile-escaped" if its loader worked.

rule "hostile-load" {
  when = function(e) return load("return true")() end,
  tags = { "hostile-escaped" },
}

rule "hostile-load-bytecode" {
  when = function(e) return load("\27Lua\84\0", "x", "b") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-loadstring" {
  when = function(e) return loadstring("return true")() end,
  tags = { "hostile-escaped" },
}

rule "hostile-dofile" {
  when = function(e) return dofile("/etc/passwd") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-loadfile" {
  when = function(e) return loadfile("/etc/passwd") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-require" {
  when = function(e) return require("io") ~= nil end,
  tags = { "hostile-escaped" },
}

rule "hostile-loadlib" {
  when = function(e) return package.loadlib("libc.so.6", "system") ~= nil end,
  tags = { "hostile-escaped" },
}
