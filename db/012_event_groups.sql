-- Events told apart by meaning, not only by wording. Reports of one event
-- worded differently (by several sources, on the same day or a day apart)
-- are one event when their dates agree within a day, they carry the same
-- event tags (the tags without a ':', which say what kind of event an
-- entry is: launch, show-of-force, reaction...) and their texts are alike
-- at least as much as the setting event_similarity asks (core/events.c).
-- An event is a connected component of that relation; its id is the least
-- of its members' ids (a member's: its first day in the high 32 bits, the
-- low 32 bits of its vg_entry_event value below), so neither the groups
-- nor their ids depend on the order entries came in, and ids grow with
-- days: the index of events by id is written near its end.
-- The reports of a grouped event may lie on different days: its marks are
-- found through its members here, each by the key of marks (rule, step,
-- key, day, entry), and those of an event reported word for word, all on
-- one day, by marks_by_event as before.
--
-- A row per entry that has an event tag; an entry without one reports the
-- event vg_entry_event gives it, as before. Entries stored before this
-- migration get their row when `vigil replay` runs their rules again.
--
-- Rows lie in the order a new entry's candidates are read in (the same
-- kind, first days within a day of its own), so that reading them reads
-- a few neighbouring pages and nothing else.
CREATE TABLE entry_events (
  kind      TEXT    NOT NULL,       -- its event tags, sorted, joined by ','
  day_first INTEGER NOT NULL,       -- the span of its date
  entry_id  INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  day_last  INTEGER NOT NULL,
  own       INTEGER NOT NULL,       -- vg_entry_event of the entry alone
  event     INTEGER NOT NULL,       -- the event of its group
  words     BLOB    NOT NULL,       -- its text's words as vg_text_words gives them, each
                                    -- hash 8 bytes little-endian: compared without
                                    -- reading the text again
  PRIMARY KEY (kind, day_first, entry_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX entry_events_by_entry ON entry_events(entry_id);
-- The members of an event.
CREATE INDEX entry_events_by_event ON entry_events(event);
