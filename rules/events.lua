-- events.lua — what kind of event an entry reports. Digests and alert rules
-- rely on these tag names: launch, exercise, meeting, sanctions,
-- repatriation. Each rule looks for the event itself, not for talk about it:
-- a briefing on a launch is not a launch.

-- A launch: a launch verb with a weapon or launch vehicle as its object.
rule "tag-launch" {
  description = "missile, ICBM, SLBM, satellite and rocket launches and test-fires",
  when = function(e)
    return e:match("(?i)\\b(launch(es|ed)|test-?fir(es|ed)|test-launch(es|ed)|fir(es|ed)|shoots|shot)\\b")
      and e:find(lists.weapons)
      and not e:find({ "briefing", "condemns", "condemn", "denounces", "resolution", "criticizes",
                       "plans to", "preparing to" })
  end,
  tags = { "launch" },
}

-- An exercise or another show of force: drills, maneuvers, bomber flights,
-- carrier and submarine visits, incursions into an air defense zone.
rule "tag-exercise" {
  description = "drills, exercises and other shows of force",
  when = function(e)
    return e:find(lists.shows_of_force)
      or (e:find({ "military planes", "warplanes", "bombers", "warships" })
          and e:find({ "enter", "enters", "fly", "flies", "flew", "sail", "sails" }))
  end,
  tags = { "exercise" },
}

-- A meeting: summits, talks, consultations, visits of leaders, ministers,
-- officials and delegations. Letters and messages are not meetings.
rule "tag-meeting" {
  description = "summits, talks, meetings and official visits",
  when = function(e)
    return e:find({ "meet", "meets", "met", "meeting", "talks", "summit", "consultations",
                    "visit", "visits", "visited", "symposium", "dialogue", "co-chair",
                    "delegation", "hosts", "briefing" })
  end,
  tags = { "meeting" },
}

rule "tag-sanctions" {
  description = "sanctions imposed, proposed or enforced",
  when = function(e)
    return e:find({ "sanction", "sanctions", "sanctioned", "embargo", "asset freeze",
                    "blacklist", "blacklists" })
  end,
  tags = { "sanctions" },
}

-- People or remains sent back across a border.
rule "tag-repatriation" {
  description = "repatriations of defectors, soldiers and remains",
  when = function(e)
    return e:match("(?i)\\brepatriat") ~= nil
      or e:find({ "is returned", "are returned", "returns the remains", "returned the remains",
                  "forcibly returned", "sent back" })
  end,
  tags = { "repatriation" },
}

test "a test-fire is a launch" {
  given = { "Dec. 18, 2023: North Korea test-fires a Hwasong-18 solid-fuel ICBM." },
  tags = { { "launch" } },
}

test "a satellite launch is a launch, a briefing on it is not" {
  given = {
    "Nov. 21, 2023: North Korea launches a reconnaissance satellite on its third try.",
    "Nov. 27, 2023: The UN Security Council holds a briefing on the satellite launch.",
  },
  tags = { { "launch" }, { "meeting" } },
}

test "a condemnation of a launch is not a launch" {
  given = { "2023-07-12: Seoul and Tokyo condemn the ICBM North Korea launched that morning." },
  tags = { {} },
}

test "drills and bomber flights are exercises" {
  given = {
    "Aug. 21, 2023: South Korea and the US begin the Ulchi Freedom Shield exercise.",
    "Oct. 17, 2023: A US B-52 bomber lands in South Korea for the first time.",
    "Dec. 14, 2023: Chinese and Russian military planes enter the air defense identification zone.",
  },
  tags = { { "exercise" }, { "exercise" }, { "exercise" } },
}

test "meetings and visits, not letters" {
  given = {
    "Sept. 7, 2023: Yoon Suk Yeol and Li Qiang meet in Jakarta.",
    "Sept. 8, 2023: A Chinese delegation visits Pyongyang.",
    "Sept. 24, 2023: Kim sends a letter to Xi.",
    "Dec. 19, 2023: Chinese and South Korean diplomats hold consultations in Shenzhen.",
  },
  tags = { { "meeting" }, { "meeting" }, {}, { "meeting" } },
}

test "sanctions and repatriations" {
  given = {
    "2023-12-01: Seoul sanctions eight North Korean officials over the satellite launch.",
    "Oct. 9, 2023: China repatriates hundreds of North Korean defectors.",
    "Nov. 23, 2023: South Korea returns the remains of 25 Chinese soldiers.",
  },
  tags = { { "sanctions" }, { "repatriation" }, { "repatriation" } },
}
