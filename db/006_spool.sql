-- How far each spool file was read. The row is written in the transaction
-- of the lines it covers, so a file cut short by a crash or a database error
-- goes on after its last committed line instead of being read again; it is
-- deleted once the file has moved to done/ or failed/.
CREATE TABLE spool_files (
  name         TEXT    PRIMARY KEY,      -- its name in the spool directory
  identity     TEXT    NOT NULL,         -- device, inode, size and mtime when it was read
  offset       INTEGER NOT NULL,         -- bytes read, to the end of the last line committed
  line         INTEGER NOT NULL,         -- lines committed
  stored       INTEGER NOT NULL,
  duplicates   INTEGER NOT NULL,
  rejected     INTEGER NOT NULL,
  first_reject INTEGER NOT NULL          -- its rejects have ids above this one
) WITHOUT ROWID;

-- Where a rejected line came from within its source: the spool file or the
-- connection that sent it.
ALTER TABLE rejects ADD COLUMN origin TEXT;
