-- sse.lua — make bench's fan-out run: one alert for each entry that says
-- "fan-out alert", carrying its text (and so its number).
rule "fan-out" {
  description = "every fan-out entry of the bench",
  when = function(e) return e:find({ "fan-out alert" }) end,
  severity = "info",
  alert = function(e) return e.text end,
}
