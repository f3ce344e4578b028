-- Hostile: rules that fail on every entry, in every way a failure can be
-- handed back: a message, a table, a table whose __tostring fails, nil, a
-- 100 KB message, a message forging a second log line, tags that are not
-- strings, an alert without a message. Each is logged with its file:line
-- and the entry, and disabled after rule_failures failures.

rule "hostile-error-always" {
  when = function(e) error("fails on every entry") end,
  tags = { "hostile-escaped" },
}

rule "hostile-error-table" {
  when = function(e) error({ code = 42 }) end,
  tags = { "hostile-escaped" },
}

rule "hostile-error-tostring-fails" {
  when = function(e)
    error(setmetatable({}, { __tostring = function() error("and its __tostring fails too") end }))
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-error-nil" {
  when = function(e) error() end,
  tags = { "hostile-escaped" },
}

rule "hostile-error-huge" {
  when = function(e) error(string.rep("long message ", 8000)) end,
  tags = { "hostile-escaped" },
}

rule "hostile-error-forged-line" {
  when = function(e)
    error("its own failure\n2023-01-01T00:00:00.000Z info  FORGED by a rule's error message")
  end,
  tags = { "hostile-escaped" },
}

rule "hostile-tags-garbage" {
  tags = function(e) return { "hostile-escaped", {}, 5 } end,
}

rule "hostile-alert-garbage" {
  alert = function(e) return { message = { "not", "a", "string" }, severity = "loud" } end,
}
