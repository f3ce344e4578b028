-- Events told apart by meaning, not only by wording. Reports of one event
-- worded differently (by several sources, on the same day or a day apart)
-- are one event when their dates agree within a day, they carry the same
-- event tags (the tags without a ':', which say what kind of event an
-- entry is: launch, show-of-force, reaction...) and their texts are alike
-- at least as much as the setting event_similarity asks (core/events.c).
-- An event is a connected component of that relation; its id is the
-- vg_entry_event value of its member least by (day_first, that value), so
-- neither the groups nor their ids depend on the order entries came in.
--
-- A row per entry that has an event tag; an entry without one reports the
-- event vg_entry_event gives it, as before. Entries stored before this
-- migration get their row when `vigil replay` runs their rules again.
CREATE TABLE entry_events (
  entry_id  INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
  kind      TEXT    NOT NULL,       -- its event tags, sorted, joined by ','
  day_first INTEGER NOT NULL,       -- the span of its date
  day_last  INTEGER NOT NULL,
  own       INTEGER NOT NULL,       -- vg_entry_event of the entry alone
  event     INTEGER NOT NULL        -- the event of its group
);
-- The candidates of a new entry: the same kind, within a day of it.
CREATE INDEX entry_events_by_kind ON entry_events(kind, day_first);
-- The members of an event, its least member first (that member names it).
CREATE INDEX entry_events_by_event ON entry_events(event, day_first, own);
-- The marks of one event under a rule, step and key, whatever their days
-- (a grouped event's reports may lie on different days): its first report,
-- whose span counts the event in mark_spans, and all its reports.
CREATE INDEX marks_by_event_id ON marks(rule, step, key, event, day_first, day_last);
