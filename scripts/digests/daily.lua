-- daily.lua — the short one: the alerts of the day, then every entry of
-- the day in date order with its tags. See weekly.lua for the document.

return function(d)
  local p = d.period
  local entries, alerts = d.entries(), d.alerts()
  local title = p.first == p.last and ("Daily digest: %s"):format(p.last)
    or ("Digest: %s to %s"):format(p.first, p.last)
  local doc = { digest = d.name, title = title, period = p, alerts = alerts, sections = {} }
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
