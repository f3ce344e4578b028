-- coded.lua — rules for machine-coded events: entries whose fields carry the
-- codes of the CAMEO scheme, as a GDELT row does (source "gdelt"). They read
-- the fields only, never the text, and do nothing to an entry without them.
--
-- The fields are strings, as GDELT gives them: EventCode "0874" (leading
-- zeros kept), EventRootCode "08", QuadClass "4", Actor1CountryCode "PRK".
-- cameo(code) names a code (scripts/cameo.lua).

-- A field as a non-empty string, or nil. A number (from a JSON record
-- written by hand) is taken as its digits.
local function field(e, name)
  local v = e.fields[name]
  if math.type(v) == "integer" then v = tostring(v) end
  if type(v) ~= "string" or v == "" then return nil end
  return v
end

-- The root code ("01".."20"): EventRootCode, or the first two digits of
-- EventCode; nil when neither is a root of the scheme.
local function root_of(e)
  local r = field(e, "EventRootCode")
  if r and #r == 1 then r = "0" .. r end
  if not r then
    local code = field(e, "EventCode")
    r = code and code:sub(1, 2)
  end
  if r and #r == 2 and cameo(r) then return r end
  return nil
end

-- QuadClass: 1 verbal cooperation, 2 material cooperation, 3 verbal
-- conflict, 4 material conflict; nil for anything else.
local function quad_of(e)
  local q = field(e, "QuadClass")
  if q == "1" or q == "2" or q == "3" or q == "4" then return q end
  return nil
end

-- Whether the two actors are North and South Korea, either way round.
local function koreas(e)
  local a, b = field(e, "Actor1CountryCode"), field(e, "Actor2CountryCode")
  return (a == "PRK" and b == "KOR") or (a == "KOR" and b == "PRK")
end

-- A North Korean event (Actor1 is North Korea) of the given root.
local function north_korean(root)
  return function(e) return field(e, "Actor1CountryCode") == "PRK" and root_of(e) == root end
end

-- What an entry's code means, for messages: "Fight with artillery and tanks".
local function described(e)
  local code = field(e, "EventCode")
  return code and cameo(code) or code or "?"
end

rule "tag-cameo" {
  description = "the CAMEO root code and the quad class of a coded event",
  when = function(e) return root_of(e) ~= nil or quad_of(e) ~= nil end,
  tags = function(e)
    local tags = {}
    local root, quad = root_of(e), quad_of(e)
    if root then tags[#tags + 1] = "cameo:" .. root end
    if quad then tags[#tags + 1] = "quad:" .. quad end
    return tags
  end,
}

rule "tag-koreas-material-conflict" {
  description = "material conflict (QuadClass 4) between North and South Korea",
  when = function(e) return quad_of(e) == "4" and koreas(e) end,
  tags = { "koreas-material-conflict" },
}

sequence "threat-then-force" {
  description = "a North Korean threat followed within 7 days by North Korean military force, against the same party",
  steps = { north_korean("13"), north_korean("19") },
  within = days(7),
  -- the pair of countries: "PRK>KOR"; "PRK>" when the target has none
  by = function(e)
    local a = field(e, "Actor1CountryCode")
    return a and (a .. ">" .. (field(e, "Actor2CountryCode") or ""))
  end,
  severity = "warn",
  alert = function(threat, force)
    local function actors(e)
      local a, b = field(e, "Actor1Name") or "?", field(e, "Actor2Name")
      return b and (a .. " against " .. b) or a
    end
    return {
      message = ("%s: %s (%s), then %s: %s (%s)"):format(threat.date, actors(threat),
                                                     described(threat), force.date, actors(force),
                                                     described(force)),
    }
  end,
}

threshold "koreas-conflict-burst" {
  description = "five or more material-conflict events between the two Koreas within 3 days",
  match = tagged "koreas-material-conflict",
  count = 5,
  within = days(3),
  quiet = days(7),
  severity = "crit",
  alert = function(entries, key, count)
    return ("%d material-conflict events between the two Koreas within 3 days, the last on %s"):format(
      count, entries[#entries].date)
  end,
}

-- The cases below are coded as GDELT codes such events; the dates are those
-- of the crisis over the loudspeakers at the DMZ (August 2015) and of the
-- shelling of Yeonpyeong (November 2010).

local function coded(date, code, a1, a2, quad, name1, name2, place)
  return {
    date = date, source = "gdelt",
    text = ("%s — %s — %s"):format(name1, cameo(code), place),
    EventCode = code, EventBaseCode = code:sub(1, 3), EventRootCode = code:sub(1, 2),
    QuadClass = quad, Actor1CountryCode = a1, Actor2CountryCode = a2,
    Actor1Name = name1, Actor2Name = name2, ActionGeo_FullName = place,
  }
end

local PANMUNJOM = "Panmunjom, Kyonggi-do, South Korea"
local YEONCHEON = "Yeoncheon, Kyonggi-do, South Korea"

test "a threat, then shelling five days later" {
  given = {
    coded("2015-08-15", "1384", "PRK", "KOR", "3", "NORTH KOREA", "SOUTH KOREA", PANMUNJOM),
    coded("2015-08-20", "194", "PRK", "KOR", "4", "NORTH KOREA", "SOUTH KOREA", YEONCHEON),
  },
  tags = {
    { "cameo:13", "quad:3" },
    { "cameo:19", "quad:4", "koreas-material-conflict" },
  },
  alerts = {
    { rule = "threat-then-force", entries = { 1, 2 }, severity = "warn",
      message = "2015-08-15: NORTH KOREA against SOUTH KOREA (Threaten conventional attack), then 2015-08-20" },
  },
}

test "eight days apart is too late" {
  given = {
    coded("2015-08-12", "138", "PRK", "KOR", "3", "NORTH KOREA", "SOUTH KOREA", PANMUNJOM),
    coded("2015-08-20", "194", "PRK", "KOR", "4", "NORTH KOREA", "SOUTH KOREA", YEONCHEON),
  },
  tags = {
    { "cameo:13", "quad:3" },
    { "cameo:19", "quad:4", "koreas-material-conflict" },
  },
  alerts = {},
}

test "a threat to one party and force against another do not pair" {
  given = {
    coded("2015-08-15", "138", "PRK", "USA", "3", "NORTH KOREA", "UNITED STATES", PANMUNJOM),
    coded("2015-08-20", "194", "PRK", "KOR", "4", "NORTH KOREA", "SOUTH KOREA", YEONCHEON),
  },
  tags = {
    { "cameo:13", "quad:3" },
    { "cameo:19", "quad:4", "koreas-material-conflict" },
  },
  alerts = {},
}

test "the South's fire is not the North's, and other pairs are not the Koreas" {
  given = {
    coded("2015-08-15", "138", "PRK", "KOR", "3", "NORTH KOREA", "SOUTH KOREA", PANMUNJOM),
    coded("2015-08-20", "194", "KOR", "PRK", "4", "SOUTH KOREA", "NORTH KOREA", YEONCHEON),
    coded("2015-08-21", "190", "CHN", "JPN", "4", "CHINA", "JAPAN", "Beijing, Beijing, China"),
    coded("2015-08-22", "042", "KOR", "PRK", "1", "SEOUL", "PYONGYANG", PANMUNJOM),
  },
  tags = {
    { "cameo:13", "quad:3" },
    { "cameo:19", "quad:4", "koreas-material-conflict" },
    { "cameo:19", "quad:4" },
    { "cameo:04", "quad:1" },
  },
  alerts = {},
}

test "codes without leading zeros, or only EventCode, still give the root" {
  given = {
    { date = "2015-08-25", text = "a coded agreement", EventCode = "0571", QuadClass = "1" },
    { date = "2015-08-25", text = "a coded visit", EventRootCode = 4, QuadClass = 1 },
    { date = "2015-08-25", text = "a code outside the scheme", EventCode = "99", QuadClass = "9" },
  },
  tags = { { "cameo:05", "quad:1" }, { "cameo:04", "quad:1" }, {} },
  alerts = {},
}

test "a chronology line without codes is left alone" {
  given = {
    "2015-08-20: North Korea fires artillery shells across the border at Yeoncheon.",
    { date = "2015-08-21", text = "North Korea declares a quasi-state of war.", region = "dmz" },
  },
  tags = { {}, {} },
  alerts = {},
}

test "five clashes between the Koreas in three days" {
  given = {
    coded("2010-11-23", "194", "PRK", "KOR", "4", "NORTH KOREA", "SOUTH KOREA",
          "Yeonpyeong, Inch'on-jikhalsi, South Korea"),
    coded("2010-11-23", "194", "KOR", "PRK", "4", "SOUTH KOREA", "NORTH KOREA",
          "Kaemori, Hwanghae-namdo, North Korea"),
    coded("2010-11-24", "190", "PRK", "KOR", "4", "PYONGYANG", "SEOUL",
          "Yellow Sea"),
    coded("2010-11-25", "152", "KOR", "PRK", "4", "SEOUL", "PYONGYANG",
          "Seoul, Soul-t'ukpyolsi, South Korea"),
    coded("2010-11-25", "154", "PRK", "KOR", "4", "NORTH KOREAN MILITARY", "SOUTH KOREA",
          "Pyongyang, P'yongyang-si, North Korea"),
  },
  tags = {
    { "cameo:19", "quad:4", "koreas-material-conflict" },
    { "cameo:19", "quad:4", "koreas-material-conflict" },
    { "cameo:19", "quad:4", "koreas-material-conflict" },
    { "cameo:15", "quad:4", "koreas-material-conflict" },
    { "cameo:15", "quad:4", "koreas-material-conflict" },
  },
  alerts = {
    { rule = "koreas-conflict-burst", entries = { 1, 2, 3, 4, 5 }, severity = "crit",
      message = "5 material-conflict events between the two Koreas within 3 days" },
  },
}

test "five clashes spread over a month are no burst" {
  given = {
    coded("2010-11-01", "194", "PRK", "KOR", "4", "NORTH KOREA", "SOUTH KOREA", YEONCHEON),
    coded("2010-11-06", "194", "KOR", "PRK", "4", "SOUTH KOREA", "NORTH KOREA", YEONCHEON),
    coded("2010-11-12", "190", "PRK", "KOR", "4", "PYONGYANG", "SEOUL", "Yellow Sea"),
    coded("2010-11-18", "152", "KOR", "PRK", "4", "SEOUL", "PYONGYANG", PANMUNJOM),
    coded("2010-11-24", "154", "PRK", "KOR", "4", "NORTH KOREAN MILITARY", "SOUTH KOREA", PANMUNJOM),
  },
  tags = {
    { "cameo:19", "quad:4", "koreas-material-conflict" },
    { "cameo:19", "quad:4", "koreas-material-conflict" },
    { "cameo:19", "quad:4", "koreas-material-conflict" },
    { "cameo:15", "quad:4", "koreas-material-conflict" },
    { "cameo:15", "quad:4", "koreas-material-conflict" },
  },
  alerts = {},
}
