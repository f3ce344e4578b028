-- sense.lua — reading an entry the way an analyst reads a chronology line:
-- who carries out its main action (e:agents()), what that action is
-- (e:action()) and how the line tells it (e:mode()). vigil.lua runs it once
-- per load, as trusted code, with the entry methods and the word lists.
--
-- It is a shallow reading of English news style, not a parser:
--
--   [label:] [lead-in,] SUBJECT VERB ...[; more clauses]
--
-- * The first clause is the text up to the first ';' or ' — '. A short
--   label before a colon ("Failed launch: ...") is set aside, and so is a
--   lead-in ending in a comma ("In response to the launch, ...", "Hours
--   after the Kentucky docked, ...").
-- * The verb is the first word of that clause that is a finite verb: a
--   word of the verb lexicons (lists.reaction_verbs, plan_verbs and
--   report_verbs, and ACT below), or a lower-case word ending in -ed,
--   unless a determiner, number or possessive before it makes it a noun
--   ("Monday's launches", "the test"). The subject is what comes before it.
-- * "X said (that) Y ..." reports Y: the reading goes on in Y, and a pronoun
--   subject there ("it", "they") stands for X.
-- * The agents are the actors the subject names (lists.actors). A subject
--   naming none ("Three missiles were fired ...", "The USS Michigan
--   docked ...") takes the actor of a "by X" phrase, else the owner of a
--   weapon, ship, exercise or place it names (lists.owners), else the owner
--   of one named in the rest of the clause.
-- * The mode comes from the verb: a reaction verb (condemns, denounces,
--   protests, calls it a provocation) gives "reaction"; a verb of intent,
--   announcement, agreement or threat (will, plans, agrees, announces,
--   warns, vows, postpones) gives "plan"; otherwise the action happened on
--   the entry's date ("event") unless the text places it on an earlier day
--   ("report", with that day when the text names one).
--
-- The methods run without the sandbox's count hook (core/lua_sense.c), so
-- their work must stay bounded whatever the text: a line is read from its
-- first READ_MAX bytes, reports are followed REPORT_DEPTH deep, and every
-- loop is over the words read.
local methods, lists, native = ...

-- The string functions are called as functions, never as methods: a method
-- goes through the rules' copy of the library, which charges each call.
local lower, upper, sub, find, gmatch, gsub, match, byte, format =
  string.lower, string.upper, string.sub, string.find, string.gmatch, string.gsub, string.match,
  string.byte, string.format

local function ends(s, tail) return sub(s, -#tail) == tail end

-- A set of words: from a string of words, or from a list of them.
local function set(words_of)
  local s = {}
  if type(words_of) == "table" then
    for _, w in ipairs(words_of) do s[w] = true end
  else
    for w in gmatch(words_of, "%S+") do s[w] = true end
  end
  return s
end

-- Verb forms by what they tell. A word may be a verb or a noun ("fires",
-- "plans"): it is read as a verb only where no determiner, number or
-- possessive stands before it.
local REACTION = set(lists.reaction_verbs)
local PLAN = set(lists.plan_verbs)
local REPORT = set(lists.report_verbs)
local ACT = set [[launch launches launched fire fires fired test-fire test-fires test-fired
  test-launch test-launches test-launched shoot shoots shot test tests tested hold holds
  held conduct conducts conducted stage stages staged begin begins began start starts
  started open opens opened kick kicks kicked fly flies flew flown sail sails sailed arrive
  arrives arrived dock docks docked make makes made join joins joined drop drops dropped
  carry carries carried deploy deploys deployed send sends sent mobilize mobilizes mobilized
  scramble scrambles scrambled dispatch dispatches dispatched visit visits visited land
  lands landed fall falls fell explode explodes exploded fail fails failed crash crashes
  crashed blew blow blows lift lifts lifted cross crosses crossed reach reaches reached put
  puts detonate detonates detonated watch watches watched oversee oversees oversaw guide
  guides guided supervise supervises supervised hail hails hailed appear appears appeared
  got gets end ends ended conclude concludes concluded resume resumes resumed pass passes
  passed adopt adopts adopted meet meets met activate activates activated
  unveil unveils unveiled showcase showcases showcased sound sounds sounded lose loses lost
  deliver delivers delivered draw draws drew take takes took trigger triggers triggered
  answer answers answered press presses pressed move moves moved call calls called drive
  drives drove return returns returned enter enters entered go goes went set sets ran run
  runs mark marks marked send hit hits struck rose rise rises sent pass
  moves flew practice practices practiced train trains trained perform performs performed
  carries shut shuts close closes closed blew destroy destroys destroyed host hosts hosted
  issue issues issued respond responds responded place places placed become becomes became]]
local AUX = set [[is are was were be been being has have had do does did]]
local PRONOUN = set [[it its they their he she we]]
local DET = set [[the a an its their his her our this that these those new first second
  third fourth fifth sixth latest recent several more further other another last next
  annual same such each every any no two three four five six seven eight nine ten dozen
  some many few both one of to for and or with]]
-- Words that make a following noun-or-verb word ("launch", "test") a noun:
-- "the missile test", "the ICBM launch". Other verbs follow them freely
-- ("the missile crossed").
local NOUNMOD = set [[missile missiles rocket rockets satellite ballistic cruise icbm weapons
  weapon nuclear artillery space military test launch day night morning]]
local AMBIG = set [[launch launches fire fires test tests plan plans call calls protest
  protests visit visits drop drops sign signs land lands hold holds start starts watch
  watches guide guides answer answers end ends return returns move moves mark marks set
  sets report reports claim claims warning order orders dock docks run runs
  press presses sound sounds train trains practice practices]]
-- -ed words that describe a noun rather than tell an action.
local ADJ = set [[combined allied guided suspected unarmed armed nuclear-powered
  nuclear-armed computer-simulated scaled-down scaled-back advanced improved planned
  expected unprecedented unspecified detailed armoured armored enriched so-called
  self-declared unidentified missile-armed believed]]

-- Words that place the action on an earlier day than the entry's.
local MONTHS = set [[january february march april may june july august september october
  november december]]
local WEEKDAYS = { sunday = 0, monday = 1, tuesday = 2, wednesday = 3, thursday = 4,
                   friday = 5, saturday = 6 }

-- A word list as a map from the first word of each name to the names
-- starting with it, each as its words (pieces split at anything but
-- letters and digits) and the key it stands for. Names written in capitals
-- of at most six characters match only in capitals, as e:find has it.
-- pieces(s): the runs of letters and digits of s, and the same in lower
-- case (core/lua_sense.c).
local pieces = native.pieces

local function name_index(by_key)
  local index = {}
  for key, names in pairs(by_key) do
    for _, name in ipairs(names) do
      local ps = pieces(name)
      local exact = #name <= 6 and upper(name) == name and lower(name) ~= name
      if not exact then
        for i, w in ipairs(ps) do ps[i] = lower(w) end
      end
      if #ps > 0 then
        local first = ps[1]
        index[first] = index[first] or {}
        table.insert(index[first], { words = ps, exact = exact, key = key })
      end
    end
  end
  return index
end

local actor_index = name_index(lists.actors)
local owner_index = name_index(lists.owners)

-- The keys the names of `index` find among pieces ps[1..n] (low: the same
-- in lower case), added to the set `found`, which it returns.
local function match_names(index, ps, low, n, found)
  local function try(cands, at)
    for _, c in ipairs(cands) do
      if not found[c.key] then
        local ok = true
        for x = 1, #c.words do
          if (c.exact and ps[at + x - 1] or low[at + x - 1]) ~= c.words[x] then ok = false break end
        end
        if ok then found[c.key] = true end
      end
    end
  end
  for x = 1, n do
    local cands = index[ps[x]]
    if cands then try(cands, x) end
    if ps[x] ~= low[x] then
      cands = index[low[x]]
      if cands then try(cands, x) end
    end
  end
  return found
end

-- The keys the names of `index` find in text s, added to the set `found`.
local function keys_in(index, s, found)
  local ps, low = pieces(s)
  return match_names(index, ps, low, #ps, found or {})
end

-- The same in words i to j of v (as words() gives them).
local function keys_of(index, v, i, j, found)
  local ps, low, n = {}, {}, 0
  for k = i, j do
    local w, l = v.w[k], v.l[k]
    if v.plain[k] then
      n = n + 1
      ps[n], low[n] = #w == #l and w or sub(w, 1, #l), l
    else -- "US-South", "U.S", "Jong-un": their pieces
      local p2, l2 = pieces(w)
      for x = 1, #p2 do
        n = n + 1
        ps[n], low[n] = p2[x], l2[x]
      end
    end
  end
  return match_names(index, ps, low, n, found or {})
end

local function sorted_keys(s)
  local v = {}
  for k in pairs(s) do v[#v + 1] = k end
  table.sort(v)
  return v
end

-- The words of s (core/lua_sense.c), as lists side by side: v.n words,
-- where word k begins (v.b[k]) and ends (v.e[k], the byte after it), as
-- written (v.w[k]) and in lower case without a possessive 's (v.l[k]),
-- whether it had a possessive (v.poss[k]) and whether a comma follows it
-- (v.comma[k]).
local words = native.words

-- Whether word j of v, standing before a word l, makes l a noun.
local function nounlike(v, j, l)
  if j < 1 then return false end
  local p = v.l[j]
  return DET[p] or v.poss[j] or (AMBIG[l] and (NOUNMOD[p] or find(p, "^%d") ~= nil))
end

-- The first verb of words v from index i on: its index, or nil.
local RELATIVE = set [[that which who whose]]
-- Words that open an aside between commas after the subject: "USS
-- Michigan, a nuclear submarine, arrived", "A missile, believed to be a
-- Scud, exploded".
local ASIDE = set [[a an believed including likely possibly apparently reportedly]]
local function aside_at(v, k)
  local l = v.l[k]
  if not (ASIDE[l] or (v.w[k] == l and (ends(l, "ed") or ends(l, "ing")))) then return nil end
  for j = k, v.n do
    if v.comma[j] then return j end
  end
end

local function verb_at(v, i)
  local relative = false -- inside "a missile that may be ...": its verb is not the main one
  local skip_to = 0
  for k = i, v.n do
    local l, w = v.l[k], v.w[k]
    if k > i and v.comma[k - 1] and k > skip_to then skip_to = aside_at(v, k) or 0 end
    if k <= skip_to then
      -- inside an aside
    elseif k > i and RELATIVE[l] and not relative then
      relative = true
    elseif relative then
      if PLAN[l] or REACTION[l] or REPORT[l] or ACT[l] or AUX[l] or (w == l and ends(l, "ed")) then
        relative = "verb"
      elseif relative == "verb" then
        relative = false
      end
    end
    if k > skip_to and not relative and (k > i or i > 1) then
      if PLAN[l] or REACTION[l] or REPORT[l] or AUX[l] then
        if not nounlike(v, k - 1, l) or AUX[l] or l == "will" or l == "would" then return k end
      elseif ACT[l] then
        if not nounlike(v, k - 1, l) then return k end
      elseif w == l and ends(l, "ed") and not ADJ[l] and not nounlike(v, k - 1, l) then
        return k
      end
    end
  end
end

-- The clause an entry's reading starts from: its first clause without a
-- label or lead-in.
local LEADS = set [[in after hours days minutes within as amid following while despite during
  on at earlier later meanwhile separately according with before since ahead just shortly
  moments]]
-- ... and those that lead in only before a span of time ("A day after ...,").
local COUNTS = set [[a an one two three four five six several]]
local SPANS = set [[day days week weeks month months hour hours minute minutes few year
  morning afternoon evening night]]

local function first_clause(text)
  local c = text
  local cut = find(c, ";", 1, true) or find(c, " \xe2\x80\x94 ", 1, true)
    or find(c, " \xe2\x80\x93 ", 1, true)
  if cut then c = sub(c, 1, cut - 1) end
  local colon = find(c, ": ", 1, true)
  local label
  if colon and #pieces(sub(c, 1, colon - 1)) <= 4 then
    label = sub(c, 1, colon - 1)
    c = sub(c, colon + 2)
  end
  for _ = 1, 2 do
    local comma = find(c, ",", 1, true)
    if not comma then break end
    local first, second = match(c, "^(%a+)%s+(%a*)")
    first, second = lower(first or ""), lower(second or "")
    if (LEADS[first] or (COUNTS[first] and SPANS[second])) and comma < #c * 0.7 then
      c = gsub(sub(c, comma + 1), "^%s+", "")
    else
      break
    end
  end
  return c, label
end

-- Days, counted from 1970-01-01 as e.day counts them, as YYYY-MM-DD.
local function iso(day)
  local z = day + 719468
  local era = (z >= 0 and z or z - 146096) // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return format("%04d-%02d-%02d", y, m, d)
end

-- The days text places actions on, relative to the entry's day: the
-- earliest day before it that the text names (a date string, or true when
-- the text says "earlier" without a day), and whether it also names the
-- entry's own day. A day named as when something was said ("said on
-- Monday", "state media reported Tuesday") is not the action's.
local SAID = set [[said says reported reports confirmed announced told added claimed stated]]
-- ... and "state media on Monday released photos of Sunday's launch".
local PUBLISHED = set [[released releases published publishes aired airs showed shows broadcast
  unveiled]]
-- Day numbers (from 1970-01-01) of a civil date.
local function day_of(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- Months by the first three letters of their names, as chronologies write
-- them ("Nov. 21", "March 5").
local MONTH_OF = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8,
                   sep = 9, oct = 10, nov = 11, dec = 12 }

-- The days a line names as month and day ("on March 5") that lie on or
-- before the entry's day, to fn: a date in the coming half year is a date
-- to come (passed over), one further on is the year before's ("Dec. 30",
-- said on January 3).
local function dates_named(l, day, fn)
  local y = tonumber(sub(iso(day), 1, 4))
  for at, name, d in gmatch(l, "()(%a%a%a)%a*%.? (%d%d?)%f[^%d]") do
    local m = MONTH_OF[name]
    if m and (at == 1 or not find(sub(l, at - 1, at - 1), "%a")) then
      local n = tonumber(d)
      if n >= 1 and n <= 31 then
        local dd = day_of(y, m, n)
        if dd > day + 183 then dd = day_of(y - 1, m, n) end
        if dd <= day then fn(dd) end
      end
    end
  end
end

local function days_named(text, day, reported)
  local earliest, same
  local l = lower(text)
  local weekday = (day + 4) % 7
  local function earlier(d)
    if earliest == nil or earliest == true or (type(d) == "number" and d < earliest) then
      if type(d) == "number" or earliest == nil then earliest = d end
    end
  end
  -- "fired on March 5", said on March 7.
  if find(l, "%a%.? %d") then
    dates_named(l, day, function(d)
      if d == day then same = true else earlier(d) end
    end)
  end
  -- Every phrase below holds one of these: most lines hold none.
  if not (find(l, "day", 1, true) or find(l, "week", 1, true) or find(l, "night", 1, true)
          or find(l, "month", 1, true) or find(l, "earlier", 1, true)
          or find(l, "in late ", 1, true) or find(l, "in early ", 1, true)
          or find(l, "in mid-", 1, true)) then
    return earliest, same
  end
  -- A weekday named, unless as the day something was said: the last such
  -- day on or before the entry's.
  for name, wd in pairs(WEEKDAYS) do
    local from = 1
    while true do
      local p, q = find(l, name, from, true)
      if not p then break end
      from = q + 1
      local possessive = byte(l, q + 1) == 39
      local p1, p2 = match(sub(l, p > 30 and p - 30 or 1, p - 1), "(%a+)%s+$"), nil
      if p1 then p2 = match(sub(l, p > 30 and p - 30 or 1, p - 1), "(%a+)%s+%a+%s+$") end
      local after = match(sub(l, q + 1, q + 30), "^%s+(%a+)")
      local said = not possessive and ((p1 and (SAID[p1] or (p1 == "on" and p2 and SAID[p2])))
                                       or (after and (SAID[after] or PUBLISHED[after])))
      if (p == 1 or not find(sub(l, p - 1, p - 1), "%a")) and not said then
        local back = (weekday - wd) % 7
        if back == 0 and p1 == "last" then back = 7 end -- "last Friday", said on a Friday
        if back == 0 then same = true else earlier(day - back) end
      end
    end
  end
  local function has(p) return find(l, p, 1, true) ~= nil end
  local function day_before()
    for _, p in ipairs({ "the day before", "a day before" }) do
      local _, e = find(l, p, 1, true)
      if e then
        local next_word = match(l, "^%s+(%a+)", e + 1)
        if not next_word or not DET[next_word] then return true end
      end
    end
  end
  if has("the previous day") or has("the previous night") or has("a day earlier")
    or has("yesterday") or day_before() then
    earlier(day - 1)
  end
  -- "A day after the launch, state media said ...": the launch was the day
  -- before (said of a new action, it only dates that one).
  for _, span in ipairs(reported and { "a day after ", "the day after ", "days after " } or {}) do
    local _, e = find(l, span, 1, true)
    if e then
      local what = sub(l, e + 1, e + 30)
      if find(what, "launch", 1, true) or find(what, "test", 1, true) or find(what, "firing", 1, true) then
        earlier(span == "days after " and true or day - 1)
      end
    end
  end
  if has("weekend") and not has("this weekend") and not has("next weekend") and weekday ~= 0
    and weekday ~= 6 then
    local back = (weekday - 6) % 7
    if back == 0 then back = 7 end
    earlier(day - back)
  end
  if has("in late ") or has("in early ") or has("in mid-") then
    for m in pairs(MONTHS) do
      if has("in late " .. m) or has("in early " .. m) or has("in mid-" .. m) then earlier(true) end
    end
  end
  if has("last week") or has("earlier this week") or has("days earlier")
    or has("the previous week") or has("over the previous") or has("last month")
    or has("earlier this month") or has("earlier this year") then
    earlier(true)
  end
  return earliest, same
end

-- Prepositions that end the head of a subject: "Tuesday's launch over
-- Japan" is not Japan's.
local PREP = set [[over from near off toward towards into at in on against with during after
  before above across]]

-- Words that open a time before the subject when no comma closes it.
local TIME_START = set [[late early on in at during later earlier overnight shortly just hours
  minutes moments]]

-- Verbs of motion, whose "to" is where ("flew to 6,000 km", "sailed to
-- Busan"), and words of degree after "to" ("rose to about 2,000 km").
local MOTION = set [[flew fly flies flown rose rise rises fell fall falls sailed sail sails
  climbed climbs traveled travelled travels went go goes came come comes returned returns
  moved moves headed heads]]
local DEGREE = set [[about around nearly some almost roughly over under up]]

-- Verbs whose "to" tells no intent: "appeared to explode".
local SEEM = set [[appear appears appeared seem seems seemed]]

-- Whether s holds a word of reproach (lists.reproach).
local function reproaches(s)
  s = lower(s)
  for _, w in ipairs(lists.reproach) do
    local p = find(s, w, 1, true)
    if p and (p == 1 or not find(sub(s, p - 1, p - 1), "%w")) then return true end
  end
  return false
end

-- Reads text (of an entry on `day`, or nil): a table with subject, verb,
-- predicate (strings), agents (a set of actor keys) and mode.
-- Reports of reports ("A said B said ...") are followed this deep, no
-- further: each level reads the rest of the line again.
local REPORT_DEPTH = 3

local function read(text, day, outer_agents, depth)
  depth = depth or 0
  local clause, label = first_clause(text)
  if find(clause, "\xe2\x80", 1, true) then clause = gsub(clause, "\xe2\x80[\x93\x94]", ", ") end
  local v = words(clause)
  local r = { subject = "", verb = "", predicate = clause, agents = {}, mode = "event" }
  local k = verb_at(v, 1)
  if not k then
    r.agents = keys_of(actor_index, v, 1, v.n)
    return r
  end
  local subject = sub(clause, 1, v.b[k] - 1)
  local k0 = k -- the subject is v[1] .. v[k0 - 1]
  r.subject = subject
  local verb = v.l[k]
  -- An auxiliary tells the mode of the verb after it ("will launch", "has
  -- notified", "was postponed"); "had" over a reported action tells of an
  -- earlier one.
  local pluperfect, passive = false, false
  local READY = { ready = true, set = true, expected = true, going = true, due = true,
                  about = true, poised = true, likely = true, prepared = true }
  if AUX[verb] and READY[v.l[k + 1]] and v.l[k + 2] == "to" then
    r.verb, r.subject, r.predicate = v.l[k + 1], subject, sub(clause, v.e[k + 1])
    r.agents = keys_of(actor_index, v, 1, k0 - 1)
    if next(r.agents) == nil and outer_agents then r.agents = outer_agents end
    r.mode = "plan"
    return r
  end
  if AUX[verb] then
    if verb == "had" then pluperfect = true end
    local be = verb ~= "had" and verb ~= "has" and verb ~= "have" and verb ~= "do"
      and verb ~= "does" and verb ~= "did"
    for j = k + 1, math.min(k + 3, v.n) do
      local l = v.l[j]
      if DET[l] then break end -- "was a warning": a noun phrase follows
      if PLAN[l] or REACTION[l] or REPORT[l] or ACT[l] or ends(l, "ed") or ends(l, "ing")
        or l == "fallen" or l == "blown" or l == "flown" or l == "shown" then
        k, verb = j, l
        passive = be and not ends(l, "ing")
        break
      end
    end
  end
  r.verb = verb
  r.predicate = sub(clause, v.e[k])
  r.pluperfect = pluperfect
  -- "X said (on Monday) (that) Y ...": read on in Y.
  if REPORT[verb] and depth < REPORT_DEPTH then
    local j = k + 1
    -- "said in his New Year address that ...", "told reporters that ...".
    if v.l[j] and (PREP[v.l[j]] or verb == "told" or verb == "tells" or verb == "tell") then
      for t = j, math.min(k + 8, v.n) do
        if v.l[t] == "that" and not SPANS[v.l[t + 1]] then j = t + 1 break end
      end
    end
    while v.l[j] and (v.l[j] == "on" or WEEKDAYS[v.l[j]] or v.l[j] == "that"
                      or v.l[j] == "in" or v.l[j] == "a" or v.l[j] == "statement") do
      j = j + 1
    end
    if v.l[j] then
      local rest = sub(clause, v.b[j])
      local kj = verb_at(words(rest), 1)
      if kj and kj > 1 then
        local own = keys_of(actor_index, v, 1, k0 - 1)
        local inner = read(rest, day, own, depth + 1)
        inner.reported_by = own
        -- "X said the drill was a provocation": X's reproach.
        if inner.mode == "event" and AUX[inner.verb] and reproaches(inner.predicate) then
          inner.mode, inner.agents = "reaction", own
        end
        return inner
      end
    end
  end
  -- Agents: the subject's actors; a pronoun subject stands for the one who
  -- said it.
  local head_end = k0 - 1
  for j = 2, k0 - 1 do
    if PREP[v.l[j]] then head_end = j - 1 break end
  end
  local agents = keys_of(actor_index, v, 1, head_end)
  -- "Late in the evening North Korea fired ...": a subject that opens with
  -- a time is all read.
  if next(agents) == nil and k0 > 1 and TIME_START[v.l[1]] then
    agents = keys_of(actor_index, v, 1, k0 - 1)
  end
  local first = k0 > 1 and v.l[1] or nil
  if next(agents) == nil and outer_agents and first and PRONOUN[first] then
    agents = outer_agents
  end
  -- A passive names its agent after "by" ("was condemned by the G7", "missiles
  -- launched by Pyongyang"), or leaves the subject's owner to stand for it.
  local participle = ends(verb, "ed") or verb == "shot" or verb == "flown" or verb == "sent"
  if participle then
    for j = k + 1, v.n - 1 do
      if v.l[j] == "by" then
        local by_agents = keys_of(actor_index, v, j + 1, math.min(j + 3, v.n))
        if passive or next(agents) == nil then agents = by_agents end
        break
      end
    end
  end
  if next(agents) == nil then agents = keys_of(owner_index, v, 1, k0 - 1) end
  if next(agents) == nil then -- the clause up to the first comma after the verb
    local upto = k
    while upto < v.n and not v.comma[upto] do upto = upto + 1 end
    agents = keys_of(owner_index, v, 1, upto)
    if label then keys_in(owner_index, label, agents) end
  end
  r.agents = agents
  -- The mode.
  if REACTION[verb] then
    r.mode = "reaction"
  elseif verb == "call" or verb == "calls" or verb == "called" or verb == "calling" then
    local l = lower(r.predicate)
    if find(l, "^%s*for%f[%A]") then
      r.mode = "plan"
    elseif reproaches(l) then
      r.mode = "reaction"
    end
  elseif PLAN[verb] then
    r.mode = "plan"
  end
  -- "moved to suspend", "was ordered to sail": an intent; not "responded to
  -- the launch" nor "sailed to Busan".
  local to_what = v.l[k + 1] == "to" and v.w[k + 2]
  if r.mode == "event" and to_what and to_what == lower(to_what) and not DET[to_what]
    and not WEEKDAYS[to_what] and not DEGREE[to_what] and not find(to_what, "^%d")
    and not MOTION[verb]
    and not SEEM[verb] then
    r.mode = "plan"
  end
  return r
end

-- The reading of entry e, made once per entry: the rules run one entry at
-- a time, so the last reading is the one asked for again (a table keyed by
-- entry would make the collector's work grow with the entries it holds).
local last_e, last_id, last_text, last_r
local READ_MAX = 2000
local function reading(e)
  local text, id = e.text, e.id
  if rawequal(e, last_e) and id == last_id and text == last_text then return last_r end
  local day = e.day
  -- A line is read from its first READ_MAX bytes: its first clause, and the
  -- days it names, lie there; a longer line costs no more.
  local head = #text > READ_MAX and sub(text, 1, READ_MAX) or text
  local r = read(find(head, "\xe2\x80\x99", 1, true) and gsub(head, "\xe2\x80\x99", "'") or head, day)
  if r.mode == "event" and day == e.last_day then
    local earliest, same = days_named(head, day, r.reported_by ~= nil)
    if earliest ~= nil and (not same or r.pluperfect) then
      r.mode = "report"
      if type(earliest) == "number" then r.date = iso(earliest) end
    elseif r.pluperfect and r.reported_by then
      r.mode = "report"
    end
  end
  r.agent_list = sorted_keys(r.agents)
  last_e, last_id, last_text, last_r = e, id, text, r
  return r
end

-- e:agents(): the keys of the actors who carry out the entry's main
-- action, sorted: the subject of its first main clause.
function methods.agents(e)
  local v = {}
  for i, k in ipairs(reading(e).agent_list) do v[i] = k end
  return v
end

-- e:mode(): "event", "plan", "report" or "reaction"; for a report, the
-- day of the earlier action (YYYY-MM-DD) when the text gives it.
function methods.mode(e)
  local r = reading(e)
  return r.mode, r.date
end

-- e:action(): the verb of the main clause (lower case, "" when none was
-- found), then the subject and the rest of the clause after the verb.
function methods.action(e)
  local r = reading(e)
  return r.verb, r.subject, r.predicate
end

-- The three run as trusted code, without the sandbox's count hook (they are
-- bounded by the length of the text): core/lua_sense.c.
methods.agents = native.trusted(methods.agents)
methods.mode = native.trusted(methods.mode)
methods.action = native.trusted(methods.action)
