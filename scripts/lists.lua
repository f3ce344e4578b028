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
    "Air Koryo", "Choe Son Hui", "Pak Myong Ho",
  },
  ["south-korea"] = {
    "South Korea", "South Korean", "South Koreans", "ROK", "Republic of Korea", "Seoul",
    "Yoon Suk Yeol", "Yoon", "Han Duck-soo", "Park Jin", "Cho Tae-yul", "Shin Won-sik",
    "Korea-China", "Korea-Japan", "Korea-US", "Korea-U.S.",
  },
  ["us"] = {
    "United States", "US", "U.S.", "USA", "American", "Americans", "Washington",
    "Biden", "Joe Biden", "Blinken", "Pentagon", "USFK", "White House",
  },
  ["japan"] = {
    "Japan", "Japanese", "Tokyo", "Kishida", "Kishida Fumio", "Fumio Kishida",
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
  "Pukguksong", "KN-23", "Chollima-1", "warhead", "nuclear device",
}

-- Shows of force: what an exercise tag is made of.
lists.shows_of_force = {
  "drill", "drills", "exercise", "exercises", "maneuvers", "manoeuvres", "war games",
  "wargames", "live-fire", "joint patrol", "bomber", "bombers", "B-52", "B-52H", "B-1B",
  "aircraft carrier", "carrier strike group", "nuclear submarine", "submarine visit",
  "show of force", "air defense identification zone", "ADIZ", "Freedom Shield",
  "Ulchi Freedom Shield", "Freedom Edge", "Vigilant Defense",
}

return lists
