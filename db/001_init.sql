-- The first schema: entries, rejected input, tags, alerts and full-text search.
-- Dates are stored twice: `date` is the normalised ISO 8601 text a person reads
-- (2023-11-21, 2023-12, 2023-12-11/2023-12-20, 2023-11-21T10:30:00Z) and
-- day_first/day_last are the inclusive span it covers, in days since 1970-01-01,
-- so that windows and ranges are integer comparisons on an index.

CREATE TABLE entries (
  id          INTEGER PRIMARY KEY,
  date        TEXT    NOT NULL,             -- normalised ISO 8601 form
  precision   TEXT    NOT NULL,             -- time, day, range, month or year
  day_first   INTEGER NOT NULL,             -- first day the date may mean
  day_last    INTEGER NOT NULL,             -- last day it may mean (inclusive)
  text        TEXT    NOT NULL,
  source      TEXT    NOT NULL,
  ingested_at TEXT    NOT NULL,             -- UTC, when it was stored
  fields      TEXT,                         -- extra JSON members, verbatim
  hash        BLOB    NOT NULL UNIQUE       -- of date, source and text: dedup
);
CREATE INDEX entries_by_day ON entries(day_first);
CREATE INDEX entries_by_source ON entries(source, day_first);

-- Lines that could not be stored, with where they came from and why.
CREATE TABLE rejects (
  id          INTEGER PRIMARY KEY,
  source      TEXT    NOT NULL,
  line        INTEGER NOT NULL,             -- 1-based line number in its input
  reason      TEXT    NOT NULL,
  raw         BLOB    NOT NULL,             -- the line as received (capped)
  raw_length  INTEGER NOT NULL,             -- its full length in bytes
  received_at TEXT    NOT NULL
);

CREATE TABLE tags (
  entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  tag      TEXT    NOT NULL,
  rule     TEXT    NOT NULL,                -- the rule that set it
  PRIMARY KEY (entry_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags(tag, entry_id);

CREATE TABLE alerts (
  id         INTEGER PRIMARY KEY,
  rule       TEXT    NOT NULL,
  key        TEXT    NOT NULL DEFAULT '',   -- the correlation key, if any
  dedup_key  TEXT    NOT NULL UNIQUE,       -- the same alert is stored once
  date       TEXT    NOT NULL,              -- event date of the raising entry
  day        INTEGER NOT NULL,
  severity   TEXT    NOT NULL CHECK (severity IN ('info', 'warn', 'crit')),
  message    TEXT    NOT NULL,
  created_at TEXT    NOT NULL
);
CREATE INDEX alerts_by_day ON alerts(day);
CREATE INDEX alerts_by_rule ON alerts(rule, day);

CREATE TABLE alert_entries (
  alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  PRIMARY KEY (alert_id, entry_id)
) WITHOUT ROWID;

-- Full-text index over entry text, kept by the store on insert.
CREATE VIRTUAL TABLE entries_fts USING fts5(text, content='entries', content_rowid='id');
