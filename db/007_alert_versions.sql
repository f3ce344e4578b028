-- An alert's version: 1 when raised, one more each time it is amended (a
-- late or replayed entry adds to the entries it names, or an earlier first
-- occurrence moves it). The sinks get every version under the same id, so
-- what they hold converges on this table.
ALTER TABLE alerts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
