-- Feeds polled over HTTP: their health, what they last sent, and which of
-- their items were ingested already.

CREATE TABLE feeds (
  url           TEXT PRIMARY KEY,
  source        TEXT    NOT NULL,            -- the source its entries get
  etag          TEXT,                        -- for If-None-Match
  last_modified TEXT,                        -- for If-Modified-Since
  last_success  TEXT,                        -- UTC, of the last good poll
  last_error    TEXT,                        -- what went wrong last, if anything
  last_error_at TEXT,
  failures      INTEGER NOT NULL DEFAULT 0,  -- consecutive failed polls
  polls         INTEGER NOT NULL DEFAULT 0,
  items_seen    INTEGER NOT NULL DEFAULT 0,  -- items ingested from it, all told
  next_poll     TEXT                         -- UTC, when it is due again
) WITHOUT ROWID;

-- Each item of a feed is ingested once: by guid (or link, or a hash of its
-- title and date), across polls and restarts.
CREATE TABLE feed_items (
  feed     TEXT    NOT NULL,
  guid     TEXT    NOT NULL,
  entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  content  BLOB    NOT NULL,                 -- hash of what it said last
  PRIMARY KEY (feed, guid)
) WITHOUT ROWID;

-- An item that changed after it was ingested: the entry stays as first
-- stored, and each later version is kept here.
CREATE TABLE entry_updates (
  id        INTEGER PRIMARY KEY,
  entry_id  INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  text      TEXT    NOT NULL,
  fields    TEXT,
  seen_at   TEXT    NOT NULL
);
CREATE INDEX entry_updates_by_entry ON entry_updates(entry_id);
