-- Corrections and retractions, and alerts that can be questioned.
--
-- Sources correct themselves (a date fixed, a launch that was a drill) and
-- withdraw items. A correction replaces what an entry says, under the same
-- id: the entry row holds its current version, and each version it had
-- before is kept in entry_versions. A retraction takes an entry out of
-- consideration: the row stays (retracted_at, retract_reason), its tags,
-- marks and event go, and every alert that depended on it is worked out
-- again. Either way the alerts in force end as a clean ingest of the
-- final versions would leave them.

ALTER TABLE entries ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE entries ADD COLUMN retracted_at TEXT;      -- UTC; NULL: in force
ALTER TABLE entries ADD COLUMN retract_reason TEXT;

-- The versions an entry had before its current one, each as it was.
CREATE TABLE entry_versions (
  entry_id    INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  version     INTEGER NOT NULL,   -- 1: as first stored
  date        TEXT    NOT NULL,
  precision   TEXT    NOT NULL,
  day_first   INTEGER NOT NULL,
  day_last    INTEGER NOT NULL,
  text        TEXT    NOT NULL,
  source      TEXT    NOT NULL,
  fields      TEXT,
  hash        BLOB    NOT NULL,
  replaced_at TEXT    NOT NULL,   -- UTC, when the next version replaced it
  reason      TEXT,               -- why, as the correction said (may be NULL)
  origin      TEXT    NOT NULL,   -- who corrected it: cli, api, a feed's URL, json
  PRIMARY KEY (entry_id, version)
) WITHOUT ROWID;

-- The text of a correction is also kept as an update of its entry, so
-- that the text index (which indexes updates) finds the entry by it; such
-- a row names the version it made, and is not listed as a feed item's
-- update.
ALTER TABLE entry_updates ADD COLUMN version INTEGER;
-- A feed item's latest update is found without reading the corrections.
CREATE INDEX entry_updates_of_items ON entry_updates(entry_id, id) WHERE version IS NULL;

-- The alerts that name an entry, found by it: what a correction works out
-- again, and what `vigil show` lists.
CREATE INDEX alert_entries_by_entry ON alert_entries(entry_id);

-- What an alert rests on. rule_file and rule_hash: the file that declared
-- its rule and the XXH3-128 of that file's text as loaded when the alert
-- was last written, so an explanation says which rules made it however
-- the files changed since. cause: the entry whose arrival, correction or
-- retraction wrote its current version. state: 'retracted' once nothing
-- holds it up any more (its entries retracted or corrected away), with
-- the reason; it stays in the store and comes back 'active' if a later
-- change raises it again.
ALTER TABLE alerts ADD COLUMN rule_file TEXT;
ALTER TABLE alerts ADD COLUMN rule_hash TEXT;
ALTER TABLE alerts ADD COLUMN cause INTEGER;
ALTER TABLE alerts ADD COLUMN state TEXT NOT NULL DEFAULT 'active'
  CHECK (state IN ('active', 'retracted'));
ALTER TABLE alerts ADD COLUMN retract_reason TEXT;

-- The alert log gains a third kind of change, 'retract', and the entry
-- that caused each change. Rebuilt to change its CHECK; its seqs, and the
-- next one to be given, stay as they were.
CREATE TABLE alert_log_new (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL,
  version  INTEGER NOT NULL,
  kind     TEXT    NOT NULL CHECK (kind IN ('alert', 'amend', 'retract')),
  at       TEXT    NOT NULL,
  entry_id INTEGER                          -- alerts.cause at the change; NULL: unknown
);
INSERT INTO alert_log_new (seq, alert_id, version, kind, at)
  SELECT seq, alert_id, version, kind, at FROM alert_log ORDER BY seq;
INSERT INTO state (name, value)
  SELECT 'alert_log_seq', seq FROM sqlite_sequence WHERE name = 'alert_log';
DROP TRIGGER alert_log_new;
DROP TRIGGER alert_log_amend;
DROP TABLE alert_log;
ALTER TABLE alert_log_new RENAME TO alert_log;
UPDATE sqlite_sequence SET seq = max(seq, (SELECT value FROM state WHERE name = 'alert_log_seq'))
  WHERE name = 'alert_log';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'alert_log', value FROM state WHERE name = 'alert_log_seq'
  AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'alert_log');
DELETE FROM state WHERE name = 'alert_log_seq';

CREATE TRIGGER alert_log_new AFTER INSERT ON alerts BEGIN
  INSERT INTO alert_log (alert_id, version, kind, at, entry_id)
    VALUES (NEW.id, NEW.version, 'alert', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), NEW.cause);
END;

CREATE TRIGGER alert_log_amend AFTER UPDATE OF version ON alerts
  WHEN NEW.version IS NOT OLD.version BEGIN
  INSERT INTO alert_log (alert_id, version, kind, at, entry_id)
    VALUES (NEW.id, NEW.version,
            CASE WHEN NEW.state = 'retracted' THEN 'retract' ELSE 'amend' END,
            strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), NEW.cause);
END;
