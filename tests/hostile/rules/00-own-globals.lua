-- Hostile: a file may change its own environment, and only its own: this
-- one replaces days(), lists and tagged(), and gives its environment a
-- metatable under which every unknown name is a function returning true.
-- The shipped rules, in files of their own, must tag ordinary entries as
-- they always do. (In a file of its own, so that it confuses no other
-- hostile rule.)

local raise = error -- kept: error itself is one of the names replaced

rule "hostile-own-globals" {
  -- Its own environment may be changed, but for itself alone: the shipped
  -- rules keep their days(), lists and tagged().
  when = function(e)
    days = function() return -1 end
    lists = { actors = {}, weapons = {}, shows_of_force = {} }
    tagged = function() return function() return true end end
    setmetatable(_ENV, { __index = function() return function() return true end end })
    raise("changed only its own globals")
  end,
  tags = { "hostile-escaped" },
}
