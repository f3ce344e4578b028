-- Rows of table formats (CSV and TSV with a column map) that carry a stable
-- id: the entry each id became, and the row's last-edit mark as given, so
-- that the same row read again is a duplicate, and a row edited since (a
-- newer mark) corrects its entry.
CREATE TABLE row_keys (
  format   TEXT    NOT NULL,  -- the table format's name: an id is unique within it
  key      TEXT    NOT NULL,  -- the id cell
  entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  edited   TEXT,              -- the last-edit cell, or NULL for a format without one
  PRIMARY KEY (format, key)
) WITHOUT ROWID;
