-- actors.lua — who an entry is about: one actor:KEY tag per actor it names,
-- by the names, demonyms, capitals and leaders of `lists.actors`
-- (scripts/lists.lua): actor:north-korea, actor:south-korea, actor:us,
-- actor:japan, actor:china, actor:russia; and by:KEY for each actor that
-- carries out its main action (e:agents(): "South Korea and the US fire
-- missiles in response to North Korea's launch" is by:south-korea and by:us).

rule "tag-actors" {
  description = "tag each actor the entry names, and by:KEY each who carries out its action",
  tags = function(e)
    local tags = {}
    for _, key in ipairs(e:actors()) do tags[#tags + 1] = "actor:" .. key end
    -- A line naming no actor may still have agents: the owner of a ship, a
    -- weapon or an exercise it names (lists.owners).
    if #tags > 0 or e:find(lists.shows_of_force) or e:find(lists.strategic_assets)
      or e:find(lists.weapons) then
      for _, key in ipairs(e:agents()) do tags[#tags + 1] = "by:" .. key end
    end
    return tags
  end,
}

test "a leader's name stands for his country" {
  given = { "Dec. 18, 2023: Kim oversees the test-fire of a Hwasong-18 ICBM." },
  tags = { { "actor:north-korea", "by:north-korea" } },
}

test "a meeting names both sides" {
  given = { "Nov. 26, 2023: Foreign Ministers Wang Yi and Park Jin meet in Busan." },
  tags = { { "actor:china", "actor:south-korea", "by:china", "by:south-korea" } },
}

test "demonyms and capitals count" {
  given = {
    "Dec. 14, 2023: Two Chinese and four Russian military planes enter South Korea's air defense identification zone.",
    "Sept. 13, 2023: Putin hosts Kim Jong Un at a spaceport in the Russian Far East.",
    "Aug. 18, 2023: Biden, Yoon and Kishida hold a trilateral summit at Camp David.",
  },
  tags = {
    { "actor:china", "actor:russia", "actor:south-korea", "by:china", "by:russia" },
    { "actor:north-korea", "actor:russia", "by:russia" },
    { "actor:japan", "actor:south-korea", "actor:us", "by:japan", "by:south-korea", "by:us" },
  },
}

test "a lower-case 'us' is not the United States" {
  given = {
    "2023-05-01: Officials tell us little about the talks.",
    "2023-05-02: The US and South Korea sign the Washington Declaration.",
  },
  tags = { {}, { "actor:south-korea", "actor:us", "by:south-korea", "by:us" } },
}

test "who acts is the subject; the others are only named" {
  given = {
    "2022-10-05: South Korea and the US fire missiles in response to North Korea's launch.",
    "2022-10-08: North Korea stages air drills in answer to US-South Korea exercises.",
    "2023-04-14: Japan says North Korea fired a ballistic missile that morning.",
  },
  tags = {
    { "actor:north-korea", "actor:south-korea", "actor:us", "by:south-korea", "by:us" },
    { "actor:north-korea", "actor:south-korea", "actor:us", "by:north-korea" },
    { "actor:japan", "actor:north-korea", "by:north-korea" },
  },
}
