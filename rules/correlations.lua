-- correlations.lua — patterns across entries, on their own dates. They run
-- after every tagging rule, so they read the tags of events.lua and
-- actors.lua.

-- A North Korean launch as it happens (tag-launch: its reports on later
-- days are launch-report and never count as launches).
local dprk_launch = tagged "launch"

-- A show of force by the allies: the US, South Korea or Japan carrying it
-- out (tag-show-of-force; the North's own drills, and plans, are not).
local allied_exercise = tagged "show-of-force"

sequence "launch-then-exercise" {
  description = "a North Korean launch followed within 14 days by an allied show of force",
  steps = { dprk_launch, allied_exercise },
  within = days(14),
  severity = "warn",
  alert = function(launch, exercise, all)
    return { message = ("%s (%s), then %s (%s)"):format(launch.text, launch.date,
                                                      exercise.text, exercise.date) }
  end,
}

threshold "repeated-launches" {
  description = "three North Korean launches within 30 days",
  match = dprk_launch,
  count = 3,
  within = days(30),
  quiet = days(30),
  severity = "crit",
  -- launches: the reports named (at most 100, in date order); count: the
  -- launches, each reported once or more
  alert = function(launches, key, count)
    return ("%d North Korean launches within 30 days, the last on %s"):format(count,
                                                                             launches[#launches].date)
  end,
}

absence "launch-without-response" {
  description = "a North Korean launch with no allied show of force within 7 days",
  steps = { dprk_launch, allied_exercise },
  within = days(7),
  lateness = days(3),
  severity = "info",
  alert = function(launch)
    return "no allied show of force within 7 days of: " .. launch.text
  end,
}

first "new-weapon" {
  description = "the first mention of a weapon system not seen before",
  match = function(e) return e:has_tag("launch") end,
  by = function(e) return e:match("(?i)\\b(Hwasong-\\d+\\w*|Pukguksong-\\d+|KN-\\d+|Chollima-\\d+)") end,
  severity = "info",
}

test "a launch, then an allied drill ten days later" {
  given = {
    "Nov. 21, 2023: North Korea launches a reconnaissance satellite.",
    "Dec. 1, 2023: South Korea and the US hold a combined air drill.",
  },
  alerts = { { rule = "launch-then-exercise", entries = { 1, 2 } } },
}

test "same day counts, fifteen days is too late" {
  given = {
    "2023-07-12: North Korea fires a Hwasong-18 ICBM.",
    "2023-07-12: The US, South Korea and Japan hold a missile defense drill.",
    "2023-08-20: North Korea launches a ballistic missile.",
    "2023-09-04: South Korea and the US hold a live-fire exercise.",
  },
  alerts = {
    { rule = "launch-then-exercise", entries = { 1, 2 } },
    { rule = "new-weapon", entries = { 1 } },
    { rule = "launch-without-response", entries = { 3 } },
  },
}

test "an exercise before the launch does not answer it" {
  given = {
    "Sept. 1, 2023: South Korea and the US begin a combined exercise.",
    "Sept. 5, 2023: North Korea launches two short-range ballistic missiles.",
    "Sept. 20, 2023: A Chinese delegation visits Pyongyang.",
  },
  alerts = { { rule = "launch-without-response", entries = { 2 } } },
}

test "a North Korean drill is not an allied show of force" {
  given = {
    "2023-03-12: North Korea launches two cruise missiles from a submarine.",
    "2023-03-15: North Korea holds artillery drills near the border.",
    "2023-03-30: Kim Jong Un visits a farm.",
  },
  alerts = { { rule = "launch-without-response", entries = { 1 } } },
}

test "three launches in a month" {
  given = {
    "2023-03-12: North Korea fires two cruise missiles.",
    "2023-03-16: North Korea test-fires a Hwasong-17 ICBM.",
    "2023-03-27: North Korea fires two short-range ballistic missiles.",
    "2023-03-30: South Korea and the US hold a combined drill.",
  },
  alerts = {
    { rule = "repeated-launches", entries = { 1, 2, 3 }, severity = "crit" },
    -- the drill answers the launches of the 16th and the 27th, not the 12th
    { rule = "launch-then-exercise", entries = { 2, 3, 4 } },
    { rule = "launch-without-response", entries = { 1 } },
    { rule = "launch-without-response", entries = { 2 } },
    { rule = "new-weapon", entries = { 2 } },
  },
}

test "one launch from two sources is one launch" {
  given = {
    "2023-03-12: North Korea fires two cruise missiles.",
    { date = "2023-03-12", text = "North Korea fires two cruise missiles", source = "wire" },
    "2023-03-16: North Korea test-fires a Hwasong-17 ICBM.",
  },
  -- two launches, not three: no repeated-launches
  alerts = { { rule = "new-weapon", entries = { 3 } } },
}
