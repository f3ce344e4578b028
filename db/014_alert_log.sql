-- The alert log: every change of an alert, in the order it was committed,
-- under a durable sequence number. The HTTP API's live stream
-- (GET /v1/alerts/stream) sends each change under its seq, so a client
-- that reconnects with the last seq it got (Last-Event-ID) misses nothing,
-- across restarts of the daemon too.
--
-- Triggers fill it in the transaction that stores or amends the alert,
-- whoever writes it (the daemon, `vigil ingest`, `vigil replay`): a new
-- alert is an 'alert' row, each time its version goes up an 'amend' row.
-- A seq is never given twice (AUTOINCREMENT), and writers commit one at a
-- time, so seq order is commit order.
--
-- The alerts stored before this migration get one 'alert' row each, in id
-- order, at their version and creation time: a client that starts from 0
-- gets the whole history.
--
-- A migration that rebuilds the alerts table drops these triggers with it
-- and must create them again.
CREATE TABLE alert_log (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL,                -- alerts.id (the row stays if the alert goes)
  version  INTEGER NOT NULL,                -- the alert's version after the change
  kind     TEXT    NOT NULL CHECK (kind IN ('alert', 'amend')),
  at       TEXT    NOT NULL                 -- when, ISO 8601 UTC
);

INSERT INTO alert_log (alert_id, version, kind, at)
  SELECT id, version, 'alert', created_at FROM alerts ORDER BY id;

CREATE TRIGGER alert_log_new AFTER INSERT ON alerts BEGIN
  INSERT INTO alert_log (alert_id, version, kind, at)
    VALUES (NEW.id, NEW.version, 'alert', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;

CREATE TRIGGER alert_log_amend AFTER UPDATE OF version ON alerts
  WHEN NEW.version IS NOT OLD.version BEGIN
  INSERT INTO alert_log (alert_id, version, kind, at)
    VALUES (NEW.id, NEW.version, 'amend', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;
