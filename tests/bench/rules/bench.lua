-- bench.lua — the rules of the benchmark (make bench): two tagging rules and
-- one event-time correlation over the generated entries, keyed by region.

rule "bench-tag-launch" {
  description = "an entry reporting a launch",
  when = function(e) return e:find("launches") end,
  tags = { "launch" },
}

rule "bench-tag-exercise" {
  description = "an entry reporting an exercise",
  when = function(e) return e:find("exercise") end,
  tags = { "exercise" },
}

sequence "launch-then-exercise" {
  description = "a launch followed within 14 days by an exercise in the same region",
  steps = { tagged"launch", tagged"exercise" },
  within = days(14),
  by = "region",
}

test "same region within 14 days pairs; another region or day 15 does not" {
  given = {
    { date = "2023-07-01", text = "North Korea launches a missile (report t-1)", region = "r01" },
    { date = "2023-07-15", text = "Allied forces hold an exercise (report t-2)", region = "r01" },
    { date = "2023-07-16", text = "Allied forces hold an exercise (report t-3)", region = "r01" },
    { date = "2023-07-10", text = "Allied forces hold an exercise (report t-4)", region = "r02" },
  },
  tags = { { "launch" }, { "exercise" }, { "exercise" }, { "exercise" } },
  alerts = { { rule = "launch-then-exercise", entries = { 1, 2 } } },
}

test "a launch arriving late still pairs, on the same day too" {
  given = {
    { date = "2023-07-10", text = "Allied forces hold an exercise (report t-5)", region = "r03" },
    { date = "2023-07-10", text = "North Korea launches a missile (report t-6)", region = "r03" },
  },
  alerts = { { rule = "launch-then-exercise", entries = { 2, 1 } } },
}
