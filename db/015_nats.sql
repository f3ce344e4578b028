-- NATS JetStream: which messages of which stream are stored, and who this
-- database is.
--
-- nats_msgs: one row per JetStream message the daemon's source (or `vigil
-- replay --nats`) took, written in the transaction that stores its entry
-- (or keeps its line in rejects). A message seen again after a crash
-- (JetStream redelivers what was not acked) finds its row and is acked
-- without being stored twice; the highest seq of a stream is where a lost
-- consumer is made again from.
CREATE TABLE nats_msgs (
  stream   TEXT    NOT NULL,   -- the JetStream stream's name
  seq      INTEGER NOT NULL,   -- the message's sequence number in it
  entry_id INTEGER,            -- the entry it stored or duplicated; NULL: rejected
  PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

-- meta: facts about this database as a whole. db_id names it among the
-- databases of a partitioned deployment (random, made once): the alerts
-- it publishes carry it in their Nats-Msg-Id, so that two databases'
-- alert 7 are not taken for one.
CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO meta (name, value) VALUES ('db_id', lower(hex(randomblob(8))));
