-- vigil.lua — the Lua half of the rule API. It runs once, as trusted code,
-- each time the rules load, and adds to `safe` (what every rule file sees).
-- The C half provides rule, test, date, and the entry methods find,
-- has_tag and match; sense.lua (passed in as `sense`, with its C half
-- sense_native) adds agents, action and mode. cameo is the table that
-- scripts/cameo.lua returns.
local safe, methods, lists, readonly, tag_steps, frozen_views, sense, sense_native, cameo = ...

-- Dates in rules are day numbers (e.day, date"2023-11-21"); windows are
-- numbers of days, so `b.day - a.day <= days(14)` reads as it should.
function safe.days(n)
  if type(n) ~= "number" then error("days(n) needs a number", 2) end
  return n
end

function safe.weeks(n)
  if type(n) ~= "number" then error("weeks(n) needs a number", 2) end
  return 7 * n
end

-- tagged"launch": a step predicate for correlations, true for entries
-- carrying the tag (or any of a list of tags, as the list is now). The
-- engine reads the tags of such a step from tag_steps and checks them
-- without calling the predicate: it would say the same.
function safe.tagged(tag)
  if type(tag) ~= "string" and type(tag) ~= "table" then
    error("tagged(t) needs a tag or a list of tags", 2)
  end
  local list = { tag }
  if type(tag) == "table" then
    list = {}
    for i = 1, #tag do
      if type(tag[i]) ~= "string" then -- has_tag reports it on each call
        return function(e) return e:has_tag(tag) end
      end
      list[i] = tag[i]
    end
  end
  local step = function(e) return e:has_tag(list) end
  tag_steps[step] = list
  return step
end

-- A read-only view of a copy of t; frozen_views knows the copy, which
-- nothing else reaches, so that e:find reads such a list once.
local function frozen(t)
  local copy = {}
  for k, v in pairs(t) do copy[k] = type(v) == "table" and frozen(v) or v end
  local view = readonly(copy)
  frozen_views[view] = copy
  return view
end
safe.lists = frozen(lists)

-- The names of each actor as the frozen lists have them, which e:find
-- reads once.
local actor_names = safe.lists.actors

-- Every name of an actor, found by its key or by any of its names.
local names_of = {}
for key, names in pairs(lists.actors) do
  names_of[key:lower()] = actor_names[key]
  for _, name in ipairs(names) do names_of[name:lower()] = actor_names[key] end
end

-- e:mentions(x): x is an actor's key ("north-korea") or one of its names
-- ("North Korea", "Pyongyang"): true when the entry names that actor in any
-- of its names. Any other word or phrase is looked for as it is. A list
-- means any of.
function methods.mentions(e, x)
  if type(x) == "table" then
    for _, y in ipairs(x) do
      if methods.mentions(e, y) then return true end
    end
    return false
  end
  if type(x) ~= "string" then error("bad argument #1 to 'mentions' (string or list expected)", 2) end
  return e:find(names_of[x:lower()] or x)
end

-- e:actors(): the keys of the actors the entry names, sorted.
local actor_keys = {}
for key in pairs(lists.actors) do actor_keys[#actor_keys + 1] = key end
table.sort(actor_keys)
function methods.actors(e)
  local found = {}
  for _, key in ipairs(actor_keys) do
    if e:find(actor_names[key]) then found[#found + 1] = key end
  end
  return found
end

-- cameo"190": the description of a CAMEO event code (a root "19", a base
-- "190" or a full code "1951"), or nil for a code the scheme does not have.
-- Codes are strings: 42 is not "042".
function safe.cameo(code)
  if type(code) ~= "string" then return nil end
  return cameo[code]
end

sense(methods, lists, sense_native)
