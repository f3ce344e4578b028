-- Silences: an operator's word that the alerts of a rule (of one key, or of
-- any key when key is NULL) are known and need not reach the sinks until a
-- time. An alert raised while one is active is still stored, marked with it
-- (alerts.silence_id), and the daemon does not send it. A silence is never
-- deleted: expiring it sets expired_at, so the list stays an audit trail.
-- Times are UTC, ISO 8601 (2026-12-03T19:45:25Z), compared as text.
CREATE TABLE silences (
  id         INTEGER PRIMARY KEY,
  rule       TEXT NOT NULL CHECK (rule <> ''),
  key        TEXT CHECK (key IS NULL OR key <> ''),  -- NULL: any key
  until      TEXT NOT NULL,                          -- UTC; active while the clock is before it
  author     TEXT NOT NULL CHECK (author <> ''),
  reason     TEXT NOT NULL CHECK (reason <> ''),
  created_at TEXT NOT NULL,
  expired_at TEXT                                    -- UTC, when expired by hand; NULL before
);
-- The active ones, which each transaction that raises an alert reads.
CREATE INDEX silences_active ON silences(until) WHERE expired_at IS NULL;

-- The silence that was active for an alert's rule and key when it was
-- raised; NULL: none. An alert keeps it through its amendments.
ALTER TABLE alerts ADD COLUMN silence_id INTEGER REFERENCES silences(id);
