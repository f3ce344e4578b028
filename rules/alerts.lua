-- alerts.lua — alerts on single entries, built on the tags of events.lua
-- and actors.lua. (Patterns across entries are correlation rules.)

rule "dprk-launch" {
  description = "every North Korean launch",
  after = { "tag-launch" },
  when = function(e) return e:has_tag("launch") end,
  severity = "warn",
  alert = function(e) return { message = "North Korean launch: " .. e.text } end,
}

rule "icbm-launch" {
  description = "an ICBM or SLBM launch is critical",
  after = { "dprk-launch" },
  when = function(e) return e:has_tag("launch") and e:find({ "ICBM", "SLBM", "Hwasong-18" }) end,
  alert = { severity = "crit", message = "strategic missile launch" },
}

rule "sanctions-news" {
  description = "sanctions news, for the record",
  after = { "tag-sanctions" },
  when = function(e) return e:has_tag("sanctions") end,
  severity = "info",
  alert = function(e) return "sanctions: " .. e.text end,
}

test "a North Korean ICBM launch raises a warning and a critical alert" {
  given = { "Dec. 18, 2023: North Korea test-fires a Hwasong-18 ICBM." },
  alerts = {
    { rule = "dprk-launch", severity = "warn", message = "North Korean launch" },
    { rule = "icbm-launch", severity = "crit" },
  },
}

test "a launch by South Korea raises no North Korean alert" {
  given = { "Dec. 2, 2023: South Korea launches its first military spy satellite." },
  alerts = {},
}

test "sanctions news is recorded as info" {
  given = {
    "2023-11-30: The US sanctions a North Korean hacking group.",
    "2023-12-01: Kim Jong Un visits a satellite control center.",
  },
  alerts = { { rule = "sanctions-news", severity = "info", entries = { 1 } } },
}
