-- Events, and counting them. One event often reaches vigil as several
-- entries: the same line through the spool and through `vigil ingest`, or
-- from two feeds. Each report stays an entry of its own, but correlations
-- count the event once. A mark now carries the event its entry reports: a
-- hash of the span of its date and of its text taken word by word
-- (vg_entry_event in core/entry.c, which vigil hands to SQLite as
-- vigil_event() for this migration), so that reports worded alike but for
-- case, spacing and punctuation share it.

ALTER TABLE marks ADD COLUMN event INTEGER NOT NULL DEFAULT 0;
UPDATE marks SET event = coalesce((SELECT vigil_event(e.day_first, e.day_last, e.text)
                                   FROM entries e WHERE e.id = marks.entry_id), 0);
-- The reports of one event lie together: found at once, and read one event
-- after the other (day_last too, so that such a reading needs nothing else).
CREATE INDEX marks_by_event ON marks(rule, step, key, day_first, event, day_last);

-- How many events the marks of each span of days hold, by rule, step and
-- key. A threshold counts the events of its window by adding up the rows of
-- the spans inside it: as many rows as the window has days (and spans), never
-- one per entry. The store keeps it as it writes and clears marks (not a
-- trigger: a statement that fires one makes the full-text index flush what
-- it holds in memory, on every mark).
CREATE TABLE mark_spans (
  rule      TEXT    NOT NULL,
  step      INTEGER NOT NULL,
  key       TEXT    NOT NULL,
  day_last  INTEGER NOT NULL,
  day_first INTEGER NOT NULL,
  events    INTEGER NOT NULL,             -- distinct events among the marks of the span
  entry     INTEGER,                      -- the least entry id among them
  PRIMARY KEY (rule, step, key, day_last, day_first)
) WITHOUT ROWID;
INSERT INTO mark_spans (rule, step, key, day_last, day_first, events, entry)
  SELECT rule, step, key, day_last, day_first, count(DISTINCT event), min(entry_id)
  FROM marks GROUP BY rule, step, key, day_last, day_first;

-- How many events the window of a threshold alert held; it names at most a
-- hundred of their entries. NULL for the alerts of other rules.
ALTER TABLE alerts ADD COLUMN count INTEGER;
