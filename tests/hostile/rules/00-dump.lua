-- Hostile: gets bytecode out of the sandbox with string.dump, through the
-- library and through the string methods, to load it back. Crafted
-- bytecode can break the interpreter, so dump must not exist at all.
-- Each rule would tag "hostile-escaped" if the call worked.

rule "hostile-dump-library" {
  when = function(e) return #string.dump(function() end) > 0 end,
  tags = { "hostile-escaped" },
}

rule "hostile-dump-method" {
  when = function(e) return #(""):dump(function() end) > 0 end,
  tags = { "hostile-escaped" },
}
