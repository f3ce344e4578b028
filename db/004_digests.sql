-- Digest runs: each digest is produced once per period, across restarts.
CREATE TABLE digest_runs (
  name         TEXT NOT NULL,            -- the digest
  period_last  TEXT NOT NULL,            -- the last day it covers (YYYY-MM-DD)
  period_first TEXT NOT NULL,            -- the first day it covers
  ran_at       TEXT NOT NULL,            -- UTC, when it was written
  files        TEXT NOT NULL,            -- the files written, one per line
  PRIMARY KEY (name, period_last)
) WITHOUT ROWID;
