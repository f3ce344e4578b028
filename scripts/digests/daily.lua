-- daily.lua — the short one: the alerts of the day, what did not happen
-- and what changed, then every entry of the day in date order with its
-- tags. See weekly.lua for the document.

return function(d)
  local p = d.period
  local entries, alerts = d.entries(), d.alerts()
  local title = p.first == p.last and ("Daily digest: %s"):format(p.last)
    or ("Digest: %s to %s"):format(p.first, p.last)
  local doc = { digest = d.name, title = title, period = p, alerts = alerts, sections = {} }
  -- what did not happen (windows that closed in the period unanswered) and
  -- what changed since the last digest (alerts amended or retracted)
  doc.absences = d.absences()
  doc.changes, doc.changes_since, doc.changes_after_run = d.changes()
  if #entries == 0 then
    doc.empty = true
    doc.summary = ("Nothing was recorded for %s."):format(p.first == p.last and p.last
      or (p.first .. " to " .. p.last))
    return doc
  end
  doc.sections[1] = { heading = "Entries", tag = "all", entries = entries }
  doc.summary = ("%d %s and %d %s."):format(#entries, #entries == 1 and "entry" or "entries",
                                            #alerts, #alerts == 1 and "alert" or "alerts")
  return doc
end
