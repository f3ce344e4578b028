-- events.lua — what kind of event an entry reports. Digests, alert rules
-- and correlations rely on these tag names: launch, launch-report,
-- show-of-force, north-korea-drill, reaction, plan, exercise, meeting,
-- sanctions, repatriation. Each rule looks for the event itself, not for
-- talk about it: a briefing on a launch is not a launch.

-- How the shipped rules read a line (scripts/sense.lua): e:mode() says
-- whether it tells the event itself ("event"), a plan or threat ("plan"), a
-- statement about an earlier day's event ("report") or a reaction;
-- e:agents() says who carries out its main action; e:action() gives the
-- verb of its main clause.

local function words(s)
  local t = {}
  for w in s:gmatch("%S+") do t[w] = true end
  return t
end

-- Verbs that tell a launch, and verbs that tell what a launched missile or
-- rocket did ("exploded", "flew", "fell").
local LAUNCH_VERBS = words [[launch launches launched fire fires fired test-fire test-fires
  test-fired test-launch test-launches test-launched shoot shoots shot test tests tested]]
local FLIGHT_VERBS = words [[flew flies fly exploded explodes failed fails crashed crashes fell
  falls landed lands lifted lifts blew ended ends reached reaches crossed crosses appeared
  lost splashed rose made makes attempt attempts claims claimed put puts carried carries
  flown fallen involved succeeded conduct conducts conducted stage stages staged lasted place
  places placed]]

-- Verbs that frame a launch told later in the line ("opened the year with a
-- missile fired into the sea").
local FRAME_VERBS = words [[opened opens began begins started starts marked marks greeted greets
  ended ends closed closes welcomed welcomes celebrated celebrates]]

-- A launch verb in any form but the noun.
local LAUNCHED = { "fired", "fires", "launched", "test-fired", "test-launched", "lifted off" }

-- Kim "watched" or "oversaw" a launch: a launch when the line names one.
local WATCH_VERBS = words [[watched watches oversaw oversees supervised supervises guided guides
  observed observes attended attends]]

-- The line speaks of a launch: a weapon or launch vehicle, or a launch
-- named as such ("Sunday's launch", "the salvo"), and not only artillery or
-- a nuclear test.
local LAUNCHES = { "launch", "launches", "salvo", "barrage", "test-fire", "test-firing", "test",
                   "tests" }
local function speaks_of_launch(e)
  if not (e:find(lists.weapons) or e:find(LAUNCHES)) then return false end
  if e:find(lists.missiles) then return true end
  return not e:find(lists.artillery) and not e:find(lists.nuclear_tests)
end

-- North Korea carries it out: named as the agent, or nobody is (a line that
-- says only "Two missiles were fired from ..." speaks of the North in a
-- chronology of the peninsula).
local function by_north_korea(e)
  local agents = e:agents()
  if #agents == 0 then return true end
  for _, a in ipairs(agents) do
    if a == "north-korea" then return true end
  end
  return false
end

-- A launch: North Korea launches, fires or test-fires a missile, rocket or
-- satellite, told as the news of the day (failed launches included).
rule "tag-launch" {
  description = "North Korean missile, rocket and satellite launches, as they happen",
  when = function(e)
    if not speaks_of_launch(e) or e:mode() ~= "event" then return false end
    local verb = e:action()
    if LAUNCH_VERBS[verb] or FLIGHT_VERBS[verb] then return by_north_korea(e) end
    -- Kim "watched as North Korea launched ...", North Korea "opened the
    -- year with a missile fired into the sea": the North named as the
    -- agent and a launch told in the rest of the line.
    if WATCH_VERBS[verb] or FRAME_VERBS[verb] or verb == "" then
      local agents = e:agents()
      local told = e:find(LAUNCHED) or (WATCH_VERBS[verb] and e:find(LAUNCHES))
      return #agents == 1 and agents[1] == "north-korea" and told
    end
    return false
  end,
  tags = { "launch" },
}

-- A launch report: a statement, on a later day, about a North Korean launch
-- ("state media said Sunday's missile was ..."). It carries on:YYYY-MM-DD,
-- the day of the launch, when the line names it. Correlations count the
-- launch, never its reports.
rule "tag-launch-report" {
  description = "statements about a North Korean launch of an earlier day",
  when = function(e)
    return speaks_of_launch(e) and e:mode() == "report" and by_north_korea(e)
  end,
  tags = function(e)
    local _, day = e:mode()
    return day and { "launch-report", "on:" .. day } or { "launch-report" }
  end,
}

-- An allied show of force: the US, South Korea or Japan (alone or together)
-- holds a drill or exercise, flies bombers, brings a carrier or a strategic
-- submarine, or fires missiles in answer to the North, on that day. Not
-- plans, announcements or agreements, not the North's drills, not
-- weapons tests or space launches of their own.
local ALLIES = { us = true, ["south-korea"] = true, japan = true }
local function allied_agents(e)
  local agents, allied = e:agents(), false
  for _, a in ipairs(agents) do
    if ALLIES[a] then allied = true elseif a ~= "" then return false end
  end
  return allied
end

local ANSWER_VERBS = words [[answered answers answer responded responds retaliated]]
local MEETING_VERBS = words [[met meet meets talk talks talked discuss discusses discussed confer
  confers conferred]]

rule "tag-show-of-force" {
  description = "allied drills, exercises, bomber flights, carrier and submarine visits, answering fire",
  when = function(e)
    if not (e:find(lists.shows_of_force) or e:find(lists.strategic_assets)
            or e:find(lists.missiles)) then
      return false
    end
    if e:mode() ~= "event" or not allied_agents(e) then return false end
    local verb = e:action()
    if MEETING_VERBS[verb] then return false end -- "met and agreed to hold drills"
    local firing = (LAUNCH_VERBS[verb] or ANSWER_VERBS[verb]) and e:find(lists.missiles)
    -- Their own weapons tests and space launches are not shows of force,
    -- unless they answer the North.
    if e:find(lists.missiles) and (firing or LAUNCH_VERBS[verb] or e:find(lists.tests)) then
      return e:find(lists.answers) or (firing and not e:find(lists.tests) and not e:find(lists.space))
    end
    return e:find(lists.shows_of_force) or e:find(lists.strategic_assets)
  end,
  tags = { "show-of-force" },
}

-- North Korea's own military drills: artillery firing, air force
-- formations, special forces and tank exercises, also when staged in
-- answer to allied drills. Missile launches are launches.
rule "tag-north-korea-drill" {
  description = "North Korean artillery, air force and ground drills",
  after = { "tag-launch", "tag-launch-report" },
  when = function(e)
    if not e:find(lists.north_korea_drills) then return false end
    local mode = e:mode()
    if mode ~= "event" and mode ~= "report" then return false end
    if e:has_tag({ "launch", "launch-report" }) and not e:find(lists.artillery) then
      return false
    end
    local agents = e:agents()
    local nk = #agents == 0 and e:mentions("north-korea")
    for _, a in ipairs(agents) do
      if a == "north-korea" then nk = true end
    end
    if not nk or not e:find(lists.north_korea_drills) then return false end
    return not e:find(lists.missiles) or e:find(lists.artillery)
  end,
  tags = { "north-korea-drill" },
}

-- A reaction: condemnation, denunciation, protest, calling it a
-- provocation, a Security Council meeting or sanctions about it, and
-- measures short of force taken in retaliation.
-- The words e:mode() reads a reaction or a plan from (scripts/sense.lua): a
-- line holding none of them is neither, and is not read for it.
local CALLS = { "call", "calls", "called", "calling" }
-- Reactions and plans are tagged on lines about the peninsula's security:
-- naming an actor, a weapon or a show of force ("The council will vote on
-- the budget" is no plan of interest).
local function about_security(e)
  return #e:actors() > 0 or e:find(lists.weapons) or e:find(lists.shows_of_force)
    or e:find(lists.strategic_assets)
end
local function may_react(e)
  return (e:find(lists.reaction_verbs) or e:find(CALLS) or e:find(lists.reproach))
    and about_security(e)
end
local function may_plan(e)
  return (e:find(lists.plan_verbs) or e:find(CALLS) or e:find({ "to" })) and about_security(e)
end

-- "in protest of the drills" gives the reason for something else.
local reactions_but_protest = {}
for _, w in ipairs(lists.reactions) do
  if not w:find("protest") then reactions_but_protest[#reactions_but_protest + 1] = w end
end

rule "tag-reaction" {
  description = "condemnations, protests, Security Council action and retaliation short of force",
  when = function(e)
    if may_react(e) and e:mode() == "reaction" then return true end
    local said = e:find(lists.reactions)
    if said and e:match("(?i)\\bin protest (of|at|against|over)\\b") then
      said = e:find(reactions_but_protest)
    end
    return said
      or e:match("(?i)\\bcall(s|ed|ing) (it|them|the \\S+( \\S+)?) (an? )?(\\S+ )?(provocation|threat|violation|unacceptable|intolerable|outrageous|reckless)") ~= nil
  end,
  tags = { "reaction" },
}

-- A plan: something planned, announced, agreed or threatened rather than
-- done: drills announced, extended or suspended, launch windows notified,
-- warnings of countermeasures.
rule "tag-plan" {
  description = "plans, announcements, agreements and threats",
  when = function(e)
    return (e:find(lists.threats) and about_security(e)) or (may_plan(e) and e:mode() == "plan")
  end,
  tags = { "plan" },
}

-- Any exercise or other display of military force, whoever holds it (the
-- weekly digest lists them together): drills, maneuvers, bomber flights,
-- carrier and submarine visits, incursions into an air defense zone.
rule "tag-exercise" {
  description = "drills, exercises and other shows of force, by anyone, as they happen",
  after = { "tag-show-of-force", "tag-north-korea-drill" },
  when = function(e)
    if e:has_tag({ "show-of-force", "north-korea-drill" }) then return true end
    if not (e:find(lists.shows_of_force)
            or (e:find({ "military planes", "warplanes", "bombers", "warships" })
                and e:find({ "enter", "enters", "fly", "flies", "flew", "sail", "sails" }))) then
      return false
    end
    local mode = e:mode()
    return mode == "event" or mode == "report"
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

test "a satellite launch is a launch, a Security Council briefing on it a reaction" {
  given = {
    "Nov. 21, 2023: North Korea launches a reconnaissance satellite on its third try.",
    "Nov. 27, 2023: The UN Security Council holds a briefing on the satellite launch.",
  },
  tags = { { "launch" }, { "meeting", "reaction" } },
}

test "a condemnation of a launch is a reaction, not a launch" {
  given = { "2023-07-12: Seoul and Tokyo condemn the ICBM North Korea launched that morning." },
  tags = { { "reaction" } },
}

test "who acted: allied firings and the North's own drills" {
  given = {
    "2022-10-05: South Korea and the US fire missiles into the sea in response to the North's launch.",
    "2022-10-08: North Korea stages artillery drills in response to US-South Korea drills.",
    "2024-03-05: North Korea denounces planned US-South Korea live-fire drills.",
    "2023-03-13: Two short-range missiles were fired from Jangyon toward the Yellow Sea.",
  },
  tags = { { "exercise", "show-of-force" }, { "exercise", "north-korea-drill" }, { "reaction" },
           { "launch" } },
}

test "launches told around another verb" {
  given = {
    "2023-03-26: Kim Jong Un watched the launch of two strategic cruise missiles.",
    "2023-01-01: North Korea opened the year with a ballistic missile fired into the sea.",
    "2023-07-12: A second Hwasong-18 flight lasted about 74 minutes.",
    "2023-09-06: North Korea held a launch ceremony for a new submarine.",
  },
  tags = { { "launch" }, { "launch" }, { "launch" }, {} },
}

test "what happened: plans, agreements and reports of earlier launches" {
  given = {
    "2022-05-21: South Korea and the US agree to expand their combined exercises.",
    "2024-02-27: The allies announce that Freedom Shield will start on March 4.",
    "2023-03-13: North Korea says it conducted a cruise missile test over the weekend.",
    "2022-01-06: Pyongyang said the missile fired on Wednesday carried a hypersonic glide vehicle.",
  },
  tags = { { "plan" }, { "plan" }, { "launch-report", "on:2023-03-11" },
           { "launch-report", "on:2022-01-05" } },
}

test "shows of force in other words: carriers, submarines, bombers" {
  given = {
    "2023-07-18: The USS Kentucky makes a port call at Busan.",
    "Oct. 17, 2023: A US B-52 bomber lands in South Korea for the first time.",
    "2023-11-21: The aircraft carrier USS Carl Vinson arrives in Busan.",
    "Dec. 14, 2023: Chinese and Russian military planes enter the air defense identification zone.",
  },
  tags = { { "exercise", "show-of-force" }, { "exercise", "show-of-force" },
           { "exercise", "show-of-force" }, { "exercise" } },
}

test "drills are exercises; allied ones shows of force" {
  given = { "Aug. 21, 2023: South Korea and the US begin the Ulchi Freedom Shield exercise." },
  tags = { { "exercise", "show-of-force" } },
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
  tags = { { "reaction", "sanctions" }, { "repatriation" }, { "repatriation" } },
}
