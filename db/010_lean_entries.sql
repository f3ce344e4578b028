-- Fewer B-trees written per entry. Storing an entry used to write five: the
-- table, a unique index on its hash (a random key, so every insert landed
-- on a page of its own and the cost grew with the store), an index by day,
-- one by source, and the full-text index.
--
-- * The hash covers the entry's date, so two entries with one hash share
--   their first day: a unique index on (day_first, hash) finds duplicates as
--   surely, and serves the queries by date as entries_by_day did. Entries
--   mostly arrive in date order, so its inserts land on a few hot pages.
-- * Queries by source read the date index and filter: a source is one of a
--   handful, and no rule or digest asks for one alone.
-- * The full-text index moves to a file of its own beside the database
--   (<database>-text), kept up to date off the ingest path by the daemon
--   and brought up to date by `vigil query --text` before it searches.
--
-- The text index's file says which database it indexes: this one's own
-- number, drawn once here (a copy of the database keeps it, with the same
-- entries; a new database under the same name gets another).
INSERT OR IGNORE INTO state (name, value) VALUES ('store_id', abs(random()));

-- The table is rebuilt to lose the UNIQUE constraint on hash (vigil turns
-- foreign keys off while migrating, so dropping it cascades nothing).

DROP TABLE entries_fts;

CREATE TABLE entries_new (
  id          INTEGER PRIMARY KEY,
  date        TEXT    NOT NULL,             -- normalised ISO 8601 form
  precision   TEXT    NOT NULL,             -- time, day, range, month or year
  day_first   INTEGER NOT NULL,             -- first day the date may mean
  day_last    INTEGER NOT NULL,             -- last day it may mean (inclusive)
  text        TEXT    NOT NULL,
  source      TEXT    NOT NULL,
  ingested_at TEXT    NOT NULL,             -- UTC, when it was stored
  fields      TEXT,                         -- extra JSON members, verbatim
  hash        BLOB    NOT NULL              -- of date, source and text: dedup
);
INSERT INTO entries_new (id, date, precision, day_first, day_last, text, source, ingested_at,
                         fields, hash)
  SELECT id, date, precision, day_first, day_last, text, source, ingested_at, fields, hash
  FROM entries ORDER BY id;
DROP TABLE entries;
ALTER TABLE entries_new RENAME TO entries;
CREATE UNIQUE INDEX entries_by_day ON entries(day_first, hash);
