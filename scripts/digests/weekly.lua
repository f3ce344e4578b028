-- weekly.lua — the period's entries grouped by kind, the alerts raised in
-- it, what did not happen (the absences whose window closed in it), what
-- changed since the last digest (alerts amended or retracted), and how the
-- count of each tag changed from the period before.
-- A template returns function(d) -> document; scripts/digest.lua renders
-- the document as Markdown and HTML, and it is written as JSON as it is.

local kinds = {
  { tag = "launch", heading = "Launches" },
  { tag = "exercise", heading = "Exercises and shows of force" },
  { tag = "meeting", heading = "Meetings and visits" },
  { tag = "sanctions", heading = "Sanctions" },
  { tag = "repatriation", heading = "Repatriations" },
}

return function(d)
  local p = d.period
  local entries, alerts = d.entries(), d.alerts()
  local doc = {
    digest = d.name,
    title = ("Weekly digest: %s to %s"):format(p.first, p.last),
    period = p,
    alerts = alerts,
    counts = d.counts(),
    sections = {},
    absences = d.absences(),
  }
  doc.changes, doc.changes_since, doc.changes_after_run = d.changes()
  if #entries == 0 then
    doc.empty = true
    doc.summary = ("Nothing was recorded with a date from %s to %s."):format(p.first, p.last)
    return doc
  end
  local grouped = {}
  for _, kind in ipairs(kinds) do
    local items = {}
    for _, e in ipairs(entries) do
      for _, t in ipairs(e.tags) do
        if t == kind.tag then
          items[#items + 1] = e
          grouped[e.id] = true
        end
      end
    end
    if #items > 0 then
      doc.sections[#doc.sections + 1] = { heading = kind.heading, tag = kind.tag, entries = items }
    end
  end
  local other = {}
  for _, e in ipairs(entries) do
    if not grouped[e.id] then other[#other + 1] = e end
  end
  if #other > 0 then
    doc.sections[#doc.sections + 1] = { heading = "Other entries", tag = "other", entries = other }
  end
  doc.summary = ("%d %s and %d %s dated from %s to %s."):format(
    #entries, #entries == 1 and "entry" or "entries", #alerts, #alerts == 1 and "alert" or "alerts",
    p.first, p.last)
  return doc
end
