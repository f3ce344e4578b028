-- Hostile: poisons what every rule file shares, while this file loads
-- (before the shipped files do, by its name): the string methods, the
-- string and table libraries, the shared word lists, the globals of other
-- files. Each attempt runs in a coroutine, so that one refusal does not
-- stop the next. If any worked, the rule below is declared and tags every
-- entry "hostile-escaped"; if none did, loading fails with the count.

local attempts = {
  function() getmetatable("").__index.lower = function() return "poisoned" end end,
  function() ("").lower = function() return "poisoned" end end,
  function() string.lower = function() return "poisoned" end end,
  function() setmetatable(string, { __index = function() return "poisoned" end }) end,
  function() table.insert = nil end,
  function() lists.actors["north-korea"] = { "Nobody" } end,
  function() lists.actors["north-korea"][1] = "Nobody" end,
  function() table.insert(lists.weapons, "anything") end,
  function() setmetatable(lists, nil) end,
  function() rawset(lists, "actors", {}) end,
  function() _G.days = function() return -1 end end,
  function() next(lists.actors)["x"] = 1 end,
}

local worked = {}
for i, attempt in ipairs(attempts) do
  if coroutine.resume(coroutine.create(attempt)) then worked[#worked + 1] = i end
end
if #worked > 0 then
  rule "hostile-poisoned-at-load" {
    description = "attempts " .. table.concat(worked, ", ") .. " worked",
    tags = { "hostile-escaped" },
  }
else
  error(#attempts .. " attempts to poison shared tables at load time were all refused")
end
