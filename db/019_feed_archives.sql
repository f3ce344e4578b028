-- The archives a feed's listing named and that were ingested (a feed with
-- format "gdelt" follows GDELT's update listing to its export archive). A
-- row is written in the transaction of the archive's entries: each archive
-- is ingested once, across polls and restarts, and a crash leaves either
-- both the entries and the row or neither.
CREATE TABLE feed_archives (
  feed       TEXT    NOT NULL,            -- the feed's URL (feeds.url)
  name       TEXT    NOT NULL,            -- the last path segment of the archive's URL
  size       INTEGER NOT NULL,            -- its bytes, as the listing gave them
  md5        TEXT    NOT NULL,            -- its MD5, 32 lower-case hex digits
  fetched_at TEXT    NOT NULL,            -- UTC, when it was ingested
  stored     INTEGER NOT NULL DEFAULT 0,  -- what its rows became
  duplicates INTEGER NOT NULL DEFAULT 0,
  rejected   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (feed, name)
) WITHOUT ROWID;
CREATE INDEX feed_archives_latest ON feed_archives(feed, fetched_at);
