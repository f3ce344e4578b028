-- The outbox: deliveries of alerts to their sinks that are not yet over.
--
-- One row per (sink, alert change), written in the transaction that raises
-- or amends the alert, so that a delivery exists exactly when its alert
-- does: a crash, a full queue or a stop loses none. A row is deleted once
-- its sink took the alert; a failed try keeps it, with one more attempt,
-- the error, and a later `due` (backoff, without a bound on the tries).
--
-- Who delivers a row: the daemon takes rows without an owner. A one-shot
-- command (`vigil ingest`, `vigil poll`, `vigil replay`) writes its rows
-- with an owner of its own and a lease, delivers them itself, and gives
-- back (owner NULL) what it could not deliver when it exits; the daemon
-- takes over the rows of a one-shot whose lease ran out (it was killed).
-- `taken` marks a row handed to a sink by its owner and not yet judged;
-- the daemon clears its own marks when it starts (nothing is in flight
-- then), so a row taken by a daemon that died is tried again.
CREATE TABLE outbox (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  sink     TEXT    NOT NULL,   -- the sink's name in the configuration
  alert_id INTEGER NOT NULL,
  version  INTEGER NOT NULL,   -- the alert's version this delivery is of
  rule     TEXT    NOT NULL,   -- the alert's rule (the JetStream subject)
  payload  TEXT    NOT NULL,   -- the alert's JSON as it was at that version
  attempts INTEGER NOT NULL DEFAULT 0,
  due      INTEGER NOT NULL,   -- unix ms from which it may be tried
  error    TEXT,               -- why the last try failed
  owner    TEXT,               -- the one-shot command delivering it; NULL: the daemon
  lease    INTEGER,            -- unix ms the owner's claim lasts until
  taken    INTEGER,            -- unix ms it was handed to its sink; NULL: waiting
  created  TEXT    NOT NULL    -- when it was written (UTC, ISO 8601)
);

CREATE INDEX outbox_owner_due ON outbox (owner, due);
