-- lists.lua — shared word lists for rules, read-only to them as `lists`.
-- Names are matched as words or phrases, case-insensitively; a name written
-- in capitals of at most six characters (US, ROK, DPRK) matches only in
-- capitals. Extend a list here rather than repeating names in rules.
local lists = {}

-- Actors by key: their names, demonyms, capitals, leaders and officials.
-- A bare "Kim" is taken to be North Korea's leader, as chronologies use it.
lists.actors = {
  ["north-korea"] = {
    "North Korea", "North Korean", "North Koreans", "DPRK", "Pyongyang",
    "Kim Jong Un", "Kim Jong-un", "Kim Yo Jong", "Kim", "Korean People's Army", "KPA",
    "Air Koryo", "Choe Son Hui", "Pak Myong Ho", "the North", "KCNA", "Ri Pyong Chol",
    "N. Korea", "N.Korea", "N. Korean",
  },
  ["south-korea"] = {
    "South Korea", "South Korean", "South Koreans", "ROK", "Republic of Korea", "Seoul",
    "Yoon Suk Yeol", "Yoon", "Han Duck-soo", "Park Jin", "Cho Tae-yul", "Shin Won-sik",
    "Korea-China", "Korea-Japan", "Korea-US", "Korea-U.S.", "the South", "S. Korea",
    "S.Korea", "S. Korean",
    "Moon Jae-in", "President Moon", "Park Geun-hye", "Lee Jae-myung", "Joint Chiefs of Staff",
    "JCS",
  },
  ["us"] = {
    "United States", "US", "U.S.", "USA", "American", "Americans", "Washington",
    "Biden", "Joe Biden", "Blinken", "Pentagon", "USFK", "White House", "Trump",
    "Donald Trump", "Pence", "Mattis", "Tillerson", "Lloyd Austin", "US Forces Korea",
  },
  ["japan"] = {
    "Japan", "Japanese", "Tokyo", "Kishida", "Kishida Fumio", "Fumio Kishida", "Abe",
    "Shinzo Abe", "Suga", "Ishiba",
  },
  ["china"] = {
    "China", "Chinese", "PRC", "Beijing", "Xi", "Xi Jinping", "Li Qiang", "Wang Yi",
    "Li Keqiang",
  },
  ["russia"] = {
    "Russia", "Russian", "Russians", "Moscow", "Kremlin", "Putin", "Vladimir Putin",
    "Shoigu", "Sergei Shoigu", "Lavrov",
  },
}

-- What an actor owns or is known by when a line names no actor as such:
-- its weapons, ships, named exercises, agencies and places. e:agents()
-- reads it when the subject of a line names no actor ("The USS Michigan
-- docked at Busan", "Freedom Shield began on Monday", "Three missiles were
-- fired from Sunan"). "allies" and the exercises held together belong to
-- both the US and South Korea. Only names that point at one side belong
-- here: not "F-35" (flown by both Koreas' neighbours), not "missile".
lists.owners = {
  ["north-korea"] = {
    "Hwasong", "Pukguksong", "Musudan", "Rodong", "Nodong", "Scud", "KN-23", "KN-25",
    "Chollima-1", "Malligyong-1", "Kwangmyongsong", "Unha", "Pulhwasal", "Haeil",
    "Hwasal", "Sohae", "Tongchang-ri", "Sinpo", "Wonsan", "Kusong", "Sunan", "Hamhung",
    "Pukchang", "Panghyon", "Banghyon", "Jagang", "Kaechon", "Sukchon", "Hwangju", "Hodo",
    "Tongchon", "Sondok", "Munchon", "Onchon", "Taechon", "Sunchon", "Junghwa", "Jangyon",
    "Hamju", "South Pyongan", "North Pyongan", "South Hamgyong", "North Hamgyong",
    "South Hwanghae", "North Hwanghae", "Punggye-ri", "Yongbyon", "8.24 Yongung",
  },
  ["south-korea"] = {
    "allies", "allied", "Hyunmoo", "Hyunmoo-2", "F-15K", "F-15Ks", "KF-16", "KF-21",
    "Nuri", "Naro", "Goheung", "Korea Aerospace Research Institute", "Key Resolve",
    "Foal Eagle", "Ulchi", "Freedom Shield", "Freedom Edge", "Vigilant Storm",
    "Vigilant Ace", "Vigilant Defense", "Max Thunder", "Dong Maeng", "Hoguk",
    "Invincible Spirit", "Pacific Dragon", "Busan", "Jeju", "Osan", "Pocheon", "Cheongju",
    "Gangneung", "Pyeongtaek", "Jinhae",
  },
  ["us"] = {
    "allies", "allied", "USS", "US Navy", "US Air Force", "B-52", "B-52H", "B-1B", "B-1",
    "B-2", "F-22", "ATACMS", "Carl Vinson", "Ronald Reagan", "Nimitz", "Theodore Roosevelt",
    "Michigan", "Kentucky", "Annapolis", "Missouri", "Strategic Command", "Space Command",
    "Pacific Command", "Pacific Air Forces", "Minuteman", "Key Resolve", "Foal Eagle",
    "Ulchi", "Freedom Shield", "Freedom Edge", "Vigilant Storm", "Vigilant Ace",
    "Vigilant Defense", "Max Thunder", "Dong Maeng", "Invincible Spirit", "Pacific Dragon",
    "Falcon 9", "SpaceX", "Vandenberg", "Guam",
  },
  ["japan"] = {
    "Freedom Edge", "Pacific Dragon", "Self-Defense Forces", "JMSDF", "H-2A", "H-2B", "H3",
    "Tanegashima",
  },
  ["russia"] = { "Sarmat", "Plesetsk", "Vostochny" },
}

-- Words that, said of something, make the saying a reproach: "called the
-- launch a provocation". e:mode() reads them after "call".
lists.reproach = {
  "provocation", "provocative", "threat", "threatening", "serious", "grave", "reckless",
  "undesirable", "unacceptable", "intolerable", "unforgivable", "outrageous", "violation",
  "brazen", "escalation", "maniacal", "dangerous", "aggressive", "hostile", "hostility",
  "rehearsal", "invasion", "deceptive", "flagrant", "wrong", "irresponsible",
}

-- Countries by name, for rules about places rather than actors.
lists.countries = {
  "North Korea", "South Korea", "United States", "Japan", "China", "Russia", "Taiwan",
  "Ukraine", "Mongolia", "Vietnam", "Philippines", "Australia", "India", "Iran",
}

-- Weapon systems and launch vehicles.
lists.weapons = {
  "missile", "missiles", "ballistic missile", "cruise missile", "ICBM", "ICBMs", "IRBM",
  "SRBM", "SRBMs", "SLBM", "SLBMs", "hypersonic", "rocket", "rockets", "satellite",
  "projectile", "projectiles", "Hwasong", "Hwasong-15", "Hwasong-17", "Hwasong-18",
  "Pukguksong", "KN-23", "Chollima-1", "warhead", "warheads", "Musudan", "Musudans", "Rodong",
  "Scud", "Hyunmoo", "Pulhwasal", "Kwangmyongsong", "Kwangmyongsong-4", "Malligyong-1",
  "Unha", "strategic weapon", "guided weapon", "tactical guided weapon", "SLV",
}

-- Strategic assets: deploying one near the peninsula (a carrier strike group
-- arriving, a nuclear submarine's port call, a bomber flight) is a show of
-- force even when no drill is named.
lists.strategic_assets = {
  "aircraft carrier", "carrier", "carriers", "supercarrier", "carrier strike group",
  "strike group", "carrier group", "submarine", "SSBN", "SSGN", "bomber", "bombers",
  "B-52", "B-52H", "B-1B", "B-1", "B-2", "Lancers", "stealth fighters", "F-22", "F-35",
  "F-35A", "F-35As", "F-35B", "F-35Bs", "strategic asset", "strategic assets", "port call",
  "port visit",
}

-- What a show of force does: the verbs and nouns of drills, flights,
-- firings and port calls (a line needs one of these and an allied agent).
lists.force_actions = {
  "drill", "drills", "exercise", "exercises", "training", "maneuvers", "manoeuvres",
  "war games", "wargames", "live-fire", "firing", "flew", "flies", "fly", "flyover",
  "flight", "formation", "arrived", "arrives", "arrive", "docked", "docks", "dock",
  "port call", "visit", "sailed", "sails", "fired", "fires", "fire", "test-fired",
  "dropped", "drops", "bombs", "landed", "lands", "escorted", "patrol", "show of force",
  "mobilized", "mobilizes", "staged", "stages", "began", "begin", "begins", "opened",
  "kicked off", "under way", "concluded", "joined", "joins", "deployed", "deploys",
}

-- Missiles and rockets as weapons (not artillery): a line naming one of
-- these speaks of a launch rather than of a gun drill.
lists.missiles = {
  "missile", "missiles", "ballistic missile", "cruise missile", "ICBM", "ICBMs", "IRBM",
  "SRBM", "SRBMs", "SLBM", "SLBMs", "hypersonic", "satellite", "Hwasong", "Pukguksong",
  "KN-23", "Chollima-1", "Musudan", "Rodong", "Scud", "projectile", "projectiles",
}

-- Guns and what they fire: artillery drills, not launches.
lists.artillery = {
  "artillery", "shells", "rounds", "warning shots", "howitzer", "howitzers", "coastal guns",
  "gun", "guns",
}

-- Nuclear tests: not launches (the shipped vocabulary has no tag of their
-- own for them).
lists.nuclear_tests = {
  "nuclear test", "nuclear tests", "nuclear device", "hydrogen bomb", "nuclear explosion",
  "nuclear blast", "underground nuclear",
}

-- Words that make an allied missile firing an answer to the North rather
-- than a weapons test of its own.
lists.answers = {
  "in response", "response", "responding", "answered", "answer", "retaliation", "retaliatory",
  "drill", "exercise", "strike drill", "precision strike", "show of force", "matching",
  "after the North's", "hours after", "minutes after", "a day after", "days after",
}

-- Tests of one's own weapons: an allied firing that is a test is a show of
-- force only when it answers the North (lists.answers).
lists.tests = {
  "test", "tests", "tested", "test-fired", "test-fires", "test-fire", "test flight",
  "test-launched", "scheduled test",
}

-- Space launches: not shows of force.
lists.space = {
  "satellite", "orbit", "space", "Nuri", "space launch vehicle", "spaceport", "Falcon 9",
}

-- What North Korea's own drills are made of.
lists.north_korea_drills = {
  "drill", "drills", "exercise", "exercises", "artillery", "shells", "rounds", "warning shots",
  "sorties", "formation", "warplanes", "firing contest", "contest", "training", "training jump",
  "buffer zone", "buffer zones", "special forces", "special operations", "paratroopers",
  "tank", "tanks", "maneuvers",
}

-- Reactions short of force: condemnation, protest, Security Council action,
-- sanctions, and measures taken in retaliation (loudspeakers, Kaesong, an
-- accord suspended).
lists.reactions = {
  "condemn", "condemns", "condemned", "condemning", "denounce", "denounces", "denounced",
  "denouncing", "protest", "protests", "protested", "protesting", "lodged a protest", "rebuke",
  "deplored", "slammed", "Security Council", "sanctions on", "new sanctions", "loudspeaker",
  "loudspeakers", "Kaesong industrial complex", "violated UN resolutions",
  "violation of UN resolutions", "emergency meeting", "emergency session", "urges restraint",
  "urged restraint", "expressed concern", "expresses concern", "deep regret",
}

-- Threats and warnings: a line carrying one tells of something intended.
lists.threats = {
  "warned", "warns", "warn", "vowed", "vows", "vow", "threatened", "threatens", "threatening",
  "countermeasures", "will", "would",
}

-- Shows of force: what an exercise tag is made of.
lists.shows_of_force = {
  "drill", "drills", "exercise", "exercises", "maneuvers", "manoeuvres", "war games",
  "wargames", "live-fire", "joint patrol", "bomber", "bombers", "B-52", "B-52H", "B-1B",
  "aircraft carrier", "carrier strike group", "nuclear submarine", "submarine visit",
  "show of force", "air defense identification zone", "ADIZ", "training", "firing range",
  "bombing", "bombs", "joint flight", "formation flight", "Freedom Shield", "Ulchi Freedom Shield",
  "Ulchi Freedom Guardian", "Freedom Edge", "Vigilant Defense", "Vigilant Storm",
  "Vigilant Ace", "Key Resolve", "Foal Eagle", "Max Thunder", "Dong Maeng", "Hoguk",
  "Invincible Spirit", "Pacific Dragon",
}

-- Verbs that tell a reaction when they are the main verb of a line (e:mode()
-- reads them): condemning, protesting, sanctioning.
lists.reaction_verbs = {
  "condemn", "condemns", "condemned", "denounce", "denounces", "denounced", "protest",
  "protests", "protested", "lodge", "lodges", "lodged", "slam", "slams", "slammed",
  "criticize", "criticizes", "criticized", "criticise", "criticises", "criticised", "rebuke",
  "rebukes", "rebuked", "decry", "decries", "decried", "deplore", "deplores", "deplored",
  "blast", "blasts", "blasted", "oppose", "opposes", "opposed", "accuse", "accuses", "accused",
  "sanction", "sanctions", "sanctioned",
}

-- Verbs (and auxiliaries) that tell something intended rather than done:
-- will, plans, agrees, announces, warns, postpones, signs.
lists.plan_verbs = {
  "will", "would", "shall", "plan", "plans", "planned", "intend", "intends", "intended",
  "agree", "agrees", "agreed", "announce", "announces", "announced", "notify", "notifies",
  "notified", "warn", "warns", "warned", "vow", "vows", "vowed", "threaten", "threatens",
  "threatened", "pledge", "pledges", "pledged", "prepare", "prepares", "prepared", "schedule",
  "schedules", "scheduled", "postpone", "postpones", "postponed", "suspend", "suspends",
  "suspended", "cancel", "cancels", "canceled", "cancelled", "extend", "extends", "extended",
  "decide", "decides", "decided", "propose", "proposes", "proposed", "consider", "considers",
  "considered", "examine", "examines", "examining", "reschedule", "reschedules", "rescheduled",
  "threatening", "warning", "vowing", "planning", "preparing", "considering", "intending",
  "sign", "signs", "signed",
}

-- Verbs of saying: "X said (that) Y ..." reports Y (e:agents() and e:mode()
-- read on in Y).
lists.report_verbs = {
  "say", "says", "said", "report", "reports", "reported", "confirm", "confirms", "confirmed",
  "claim", "claims", "claimed", "tell", "tells", "told", "add", "adds", "added", "disclose",
  "discloses", "disclosed", "reveal", "reveals", "revealed", "write", "writes", "wrote",
}

-- Every name of lists.owners in one list, for e:find.
lists.owner_names = {}
for _, names in pairs(lists.owners) do
  for _, name in ipairs(names) do lists.owner_names[#lists.owner_names + 1] = name end
end
table.sort(lists.owner_names)

return lists
