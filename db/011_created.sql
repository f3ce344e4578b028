-- When the database came into being, in seconds since 1970 (UTC). The
-- daemon catches up the scheduled digests whose runs fell due while the
-- database existed, and none from before: a new database writes no digest
-- of the days before it was made.
--
-- A new database gets the time it is made. One made by an older vigil has
-- no record of that moment; it gets the earliest trace of its use (its
-- first entry, its first reject, its first digest), which it certainly
-- existed at, so every run it may have missed since is still caught up;
-- an unused one gets the time of this migration.
INSERT OR IGNORE INTO state (name, value)
  SELECT 'created_at', coalesce(min(t), CAST(strftime('%s', 'now') AS INTEGER)) FROM (
    SELECT CAST(strftime('%s', (SELECT ingested_at FROM entries ORDER BY id LIMIT 1)) AS INTEGER) AS t
    UNION ALL
    SELECT CAST(strftime('%s', (SELECT received_at FROM rejects ORDER BY id LIMIT 1)) AS INTEGER)
    UNION ALL
    SELECT CAST(strftime('%s', min(ran_at)) AS INTEGER) FROM digest_runs
  );
