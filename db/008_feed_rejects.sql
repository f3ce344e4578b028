-- Feed items (and lines of JSON Lines and chronology feeds) that were
-- rejected. A feed sends the same items at every poll: each reject is kept
-- in the rejects table once for what it said, not again at every poll, and
-- again only when it says something else.
CREATE TABLE feed_rejects (
  feed    TEXT NOT NULL,
  key     BLOB NOT NULL,  -- hash of the item's guid, or of the line
  content BLOB NOT NULL,  -- hash of what it said when it was rejected
  PRIMARY KEY (feed, key)
) WITHOUT ROWID;
