-- marks and absences again, with the primary key's columns first. SQLite
-- 3.40's integrity_check wrongly reports NULLs in a WITHOUT ROWID table
-- whose NOT NULL columns sit between its key columns; the data was always
-- right, and this layout keeps PRAGMA integrity_check a test worth running.

CREATE TABLE marks_new (
  rule      TEXT    NOT NULL,
  step      INTEGER NOT NULL,
  key       TEXT    NOT NULL,
  day_first INTEGER NOT NULL,
  entry_id  INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  day_last  INTEGER NOT NULL,
  PRIMARY KEY (rule, step, key, day_first, entry_id)
) WITHOUT ROWID;
INSERT INTO marks_new (rule, step, key, day_first, entry_id, day_last)
  SELECT rule, step, key, day_first, entry_id, day_last FROM marks;
DROP TABLE marks;
ALTER TABLE marks_new RENAME TO marks;
CREATE INDEX marks_by_entry ON marks(entry_id);

CREATE TABLE absences_new (
  rule     TEXT    NOT NULL,
  entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  key      TEXT    NOT NULL,
  deadline INTEGER NOT NULL,
  state    TEXT    NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'satisfied', 'fired')),
  PRIMARY KEY (rule, entry_id)
) WITHOUT ROWID;
INSERT INTO absences_new (rule, entry_id, key, deadline, state)
  SELECT rule, entry_id, key, deadline, state FROM absences;
DROP TABLE absences;
ALTER TABLE absences_new RENAME TO absences;
CREATE INDEX absences_waiting ON absences(state, deadline);
