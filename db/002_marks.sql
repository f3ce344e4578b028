-- Correlation state in the store: a mark says that an entry matched one
-- step of a correlation rule, under a key. Pairing, counting and absence
-- are indexed look-ups over marks in a range of days, so late entries,
-- restarts and replays all give the same alerts, and memory stays flat.

CREATE TABLE marks (
  rule      TEXT    NOT NULL,             -- the correlation rule
  step      INTEGER NOT NULL,             -- 0-based step of that rule
  key       TEXT    NOT NULL,             -- what the rule groups by ('' for all)
  day_first INTEGER NOT NULL,             -- the entry's span, as in entries
  day_last  INTEGER NOT NULL,
  entry_id  INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  PRIMARY KEY (rule, step, key, day_first, entry_id)
) WITHOUT ROWID;
CREATE INDEX marks_by_entry ON marks(entry_id);

-- Absence rules: each first-step entry waits here until a later step
-- arrives in time (satisfied) or the watermark passes its deadline (fired).
CREATE TABLE absences (
  rule     TEXT    NOT NULL,
  key      TEXT    NOT NULL,
  entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  deadline INTEGER NOT NULL,              -- the last day a later step may fall on
  state    TEXT    NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'satisfied', 'fired')),
  PRIMARY KEY (rule, entry_id)
) WITHOUT ROWID;
CREATE INDEX absences_waiting ON absences(state, deadline);

-- Small facts the engine keeps between runs: the latest entry day seen.
CREATE TABLE state (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
