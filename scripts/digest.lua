-- digest.lua — renders a digest document (what a template in digests/
-- returns) as Markdown and as one self-contained HTML page with an inline
-- SVG timeline. Shipped code: it runs with the whole standard library.
--
-- The document: { title, summary, empty, period = {first, last, days,
-- first_day, last_day}, alerts = {{rule, severity, message, date, day}},
-- sections = {{heading, tag, entries = {{id, date, day, text, source,
-- tags, sources (optional: of every report of its event)}}}}, counts =
-- {{tag, count, previous}} (optional), absences = {{alert, rule, severity,
-- message, deadline, entry = {id, date, text}}} (optional: what did not
-- happen), changes = {{alert, rule, kind, version, at, message, reason,
-- entry}} with changes_since and changes_after_run (optional: what changed
-- since the previous digest) }.

local M = {}

-- Who reported an entry's event: its source, or "reported by a, b" when
-- the event came from several (d.entries lists an event once).
local function reported_by(e)
  if e.sources and #e.sources > 1 then return "reported by " .. table.concat(e.sources, ", ") end
  return e.source
end

-- What did not happen, in parts a renderer escapes: the window that
-- closed, the alert's message, and the entry nothing answered.
local function absence_parts(a)
  local e = a.entry
  return ("window closed %s, %s"):format(a.deadline, a.rule), a.message,
    e and ("entry %d, %s"):format(e.id, e.date or "?") or nil
end

-- What changed, in parts: what happened to which alert, its message, and
-- the entry that caused it (nil when not known).
local function change_parts(c)
  local what
  if c.kind == "retract" then
    what = ("alert %d (%s) retracted at %s%s"):format(c.alert, c.rule or "no longer stored", c.at,
                                                      c.reason and (" (" .. c.reason .. ")") or "")
  else
    what = ("alert %d (%s) amended to version %d at %s"):format(c.alert, c.rule or "no longer stored",
                                                                c.version, c.at)
  end
  local e = c.entry
  local by = e and (e.date and ("by entry %d of %s: %s"):format(e.id, e.date, e.text or "")
                    or ("by entry %d"):format(e.id)) or nil
  return what, c.message, by
end

-- When "what changed" starts, said for a reader.
local function changes_since(doc)
  return (doc.changes_after_run and "Since the previous digest, written %s."
          or "Since the start of the period, %s (no earlier digest was written).")
    :format(doc.changes_since or "?")
end

local function change(c)
  local d = c.count - c.previous
  if d > 0 then return "+" .. d elseif d < 0 then return tostring(d) else return "=" end
end

-- One line of Markdown, with its markup characters escaped: a line break or
-- other control character in a text becomes a space, so that an entry's
-- text stays in its own list item and cannot start a heading or a row.
local function md_escape(s)
  return (tostring(s):gsub("%c", " "):gsub("([\\`*_%[%]#|<>])", "\\%1"))
end

function M.markdown(doc)
  local out = {}
  local function put(s) out[#out + 1] = s end
  put("# " .. md_escape(doc.title))
  put("")
  local p = doc.period
  put(("*Period: %s to %s (%d day%s).* %s"):format(p.first, p.last, p.days,
                                                  p.days == 1 and "" or "s", doc.summary or ""))
  put("")
  -- what did not happen and what changed: always in a digest with entries,
  -- in one without only when there is something to say
  local function absences_and_changes()
    if doc.absences and (#doc.absences > 0 or not doc.empty) then
      put(("## What did not happen (%d)"):format(#doc.absences))
      put("")
      if #doc.absences == 0 then put("No window closed unanswered.") end
      for _, a in ipairs(doc.absences) do
        local head, msg, entry = absence_parts(a)
        put(("- **%s** %s: %s%s"):format(a.severity, md_escape(head), md_escape(msg),
                                         entry and (" *(" .. md_escape(entry) .. ")*") or ""))
      end
      put("")
    end
    if doc.changes and (#doc.changes > 0 or not doc.empty) then
      put(("## What changed (%d)"):format(#doc.changes))
      put("")
      put("*" .. md_escape(changes_since(doc)) .. "*")
      put("")
      if #doc.changes == 0 then put("No alert was amended or retracted.") end
      for _, c in ipairs(doc.changes) do
        local what, msg, by = change_parts(c)
        put(("- %s: %s%s"):format(md_escape(what), md_escape(msg or ""),
                                  by and (" — " .. md_escape(by)) or ""))
      end
      put("")
    end
  end
  if doc.empty then
    absences_and_changes()
    return table.concat(out, "\n") .. "\n"
  end
  put(("## Alerts (%d)"):format(#doc.alerts))
  put("")
  if #doc.alerts == 0 then put("No alert was raised.") end
  for _, a in ipairs(doc.alerts) do
    put(("- **%s** %s, %s: %s"):format(a.severity, a.date, md_escape(a.rule), md_escape(a.message)))
  end
  put("")
  absences_and_changes()
  for _, s in ipairs(doc.sections) do
    put(("## %s (%d)"):format(md_escape(s.heading), #s.entries))
    put("")
    for _, e in ipairs(s.entries) do
      local tags = #e.tags > 0 and (" `" .. table.concat(e.tags, " ") .. "`") or ""
      put(("- %s: %s *(%s)*%s"):format(e.date, md_escape(e.text), md_escape(reported_by(e)), tags))
    end
    put("")
  end
  if doc.counts and #doc.counts > 0 then
    put("## Counts by tag")
    put("")
    put("| Tag | This period | Period before | Change |")
    put("| --- | ---: | ---: | :---: |")
    for _, c in ipairs(doc.counts) do
      put(("| %s | %d | %d | %s |"):format(md_escape(c.tag), c.count, c.previous, change(c)))
    end
    put("")
  end
  return table.concat(out, "\n")
end

local function h(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                                          ['"'] = "&quot;", ["'"] = "&#39;" }))
end

-- The timeline: a row per section, a dot per entry on its first day, and a
-- row of triangles for the alerts, coloured by severity.
local function timeline(doc)
  local p = doc.period
  local days = p.last_day - p.first_day + 1
  local left, top, row, width = 250, 30, 26, 820
  local rows = #doc.sections + 1
  local height = top + rows * row + 30
  local step = (width - left - 20) / days
  local function x(day)
    local d = math.max(p.first_day, math.min(p.last_day, day))
    return left + (d - p.first_day + 0.5) * step
  end
  local out = {}
  local function put(s) out[#out + 1] = s end
  put(('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
       .. 'role="img" aria-label="Timeline of the period">'):format(width, height, width, height))
  put(('<rect x="0" y="0" width="%d" height="%d" fill="#fbfbf8"/>'):format(width, height))
  for i = 0, days - 1 do
    local cx = left + (i + 0.5) * step
    put(('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'):format(cx, top - 8, cx, top + rows * row))
  end
  for i = 0, days - 1, math.max(1, days // 10) do
    put(('<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#555">%s</text>')
      :format(left + (i + 0.5) * step, height - 10, os.date("!%m-%d", (p.first_day + i) * 86400)))
  end
  local colors = { info = "#4a7bb7", warn = "#e08a1e", crit = "#c62828" }
  put(('<text x="10" y="%d" font-size="13" fill="#333">Alerts</text>'):format(top + row // 2 + 4))
  local on_day, seen = {}, {}
  for _, a in ipairs(doc.alerts) do
    if a.day then on_day[a.day] = (on_day[a.day] or 0) + 1 end
  end
  for _, a in ipairs(doc.alerts) do
    if a.day then
      -- alerts of one day side by side, not on top of each other
      seen[a.day] = (seen[a.day] or 0) + 1
      local spread = math.min(16, step / (on_day[a.day] + 1))
      local cx = x(a.day) + (seen[a.day] - (on_day[a.day] + 1) / 2) * spread
      local cy = top + row // 2
      put(('<polygon points="%.1f,%d %.1f,%d %.1f,%d" fill="%s"><title>%s</title></polygon>')
        :format(cx, cy - 7, cx - 7, cy + 6, cx + 7, cy + 6, colors[a.severity] or "#c62828",
                h(a.date .. " " .. a.rule .. ": " .. a.message)))
    end
  end
  for i, s in ipairs(doc.sections) do
    local cy = top + i * row + row // 2
    put(('<text x="10" y="%d" font-size="13" fill="#333">%s (%d)</text>'):format(cy + 4, h(s.heading), #s.entries))
    put(('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#eee"/>'):format(left, cy, width - 20, cy))
    for _, e in ipairs(s.entries) do
      put(('<circle cx="%.1f" cy="%d" r="5" fill="#2e5e8c" fill-opacity="0.75"><title>%s</title></circle>')
        :format(x(e.day), cy, h(e.date .. ": " .. e.text)))
    end
  end
  put("</svg>")
  return table.concat(out, "\n")
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local four = {}
    for k = 3, 0, -1 do
      local v = (n >> (6 * k)) & 63
      four[#four + 1] = b64chars:sub(v + 1, v + 1)
    end
    if not b then four[3] = "=" end
    if not c then four[4] = "=" end
    out[#out + 1] = table.concat(four)
  end
  return table.concat(out)
end

function M.html(doc)
  local out = {}
  local function put(s) out[#out + 1] = s end
  local p = doc.period
  put("<!DOCTYPE html>")
  put('<html lang="en">')
  put("<head>")
  put('<meta charset="utf-8">')
  put("<title>" .. h(doc.title) .. "</title>")
  put("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222;line-height:1.4}"
      .. "h1{font-size:1.5em}h2{font-size:1.15em;border-bottom:1px solid #ddd}"
      .. "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
      .. "td.n{text-align:right}.sev-crit{color:#c62828}.sev-warn{color:#b86e00}.sev-info{color:#2a5b94}"
      .. ".tags{color:#666;font-size:.85em}.src{color:#666}</style>")
  put("</head>")
  put("<body>")
  put("<h1>" .. h(doc.title) .. "</h1>")
  put(("<p><em>Period: %s to %s (%d day%s).</em> %s</p>"):format(p.first, p.last, p.days,
                                                                 p.days == 1 and "" or "s", h(doc.summary or "")))
  -- what did not happen and what changed: always in a digest with entries,
  -- in one without only when there is something to say
  local function absences_and_changes()
    if doc.absences and (#doc.absences > 0 or not doc.empty) then
      put(("<h2>What did not happen (%d)</h2>"):format(#doc.absences))
      if #doc.absences == 0 then put("<p>No window closed unanswered.</p>") end
      if #doc.absences > 0 then
        put("<ul>")
        for _, a in ipairs(doc.absences) do
          local head, msg, entry = absence_parts(a)
          put(('<li><strong class="sev-%s">%s</strong> %s: %s%s</li>'):format(h(a.severity), h(a.severity),
            h(head), h(msg), entry and (' <span class="src">(' .. h(entry) .. ")</span>") or ""))
        end
        put("</ul>")
      end
    end
    if doc.changes and (#doc.changes > 0 or not doc.empty) then
      put(("<h2>What changed (%d)</h2>"):format(#doc.changes))
      put("<p><em>" .. h(changes_since(doc)) .. "</em></p>")
      if #doc.changes == 0 then put("<p>No alert was amended or retracted.</p>") end
      if #doc.changes > 0 then
        put("<ul>")
        for _, c in ipairs(doc.changes) do
          local what, msg, by = change_parts(c)
          put(("<li>%s: %s%s</li>"):format(h(what), h(msg or ""), by and (" — " .. h(by)) or ""))
        end
        put("</ul>")
      end
    end
  end
  if doc.empty then absences_and_changes() end
  if not doc.empty then
    -- The SVG travels inside the page as a data URI: self-contained, and
    -- plain HTML to any parser.
    put('<p><img alt="Timeline of the period: entries by kind, alerts on top" src="data:image/svg+xml;base64,'
        .. base64(timeline(doc)) .. '"></p>')
    put(("<h2>Alerts (%d)</h2>"):format(#doc.alerts))
    if #doc.alerts == 0 then put("<p>No alert was raised.</p>") end
    if #doc.alerts > 0 then
      put("<ul>")
      for _, a in ipairs(doc.alerts) do
        put(('<li><strong class="sev-%s">%s</strong> %s, %s: %s</li>'):format(h(a.severity), h(a.severity),
                                                                          h(a.date), h(a.rule), h(a.message)))
      end
      put("</ul>")
    end
    absences_and_changes()
    for _, s in ipairs(doc.sections) do
      put(("<h2>%s (%d)</h2>"):format(h(s.heading), #s.entries))
      put("<ul>")
      for _, e in ipairs(s.entries) do
        put(('<li>%s: %s <span class="src">(%s)</span> <span class="tags">%s</span></li>')
          :format(h(e.date), h(e.text), h(reported_by(e)), h(table.concat(e.tags, " "))))
      end
      put("</ul>")
    end
    if doc.counts and #doc.counts > 0 then
      put("<h2>Counts by tag</h2>")
      put("<table>")
      put("<tr><th>Tag</th><th>This period</th><th>Period before</th><th>Change</th></tr>")
      for _, c in ipairs(doc.counts) do
        put(('<tr><td>%s</td><td class="n">%d</td><td class="n">%d</td><td>%s</td></tr>')
          :format(h(c.tag), c.count, c.previous, change(c)))
      end
      put("</table>")
    end
  end
  put("</body>")
  put("</html>")
  return table.concat(out, "\n") .. "\n"
end

return M
