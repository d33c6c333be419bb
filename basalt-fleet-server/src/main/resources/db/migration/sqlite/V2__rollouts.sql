-- Rollouts persisted by the controller (kept column-for-column equal in both dialects).
-- A rollout row keeps its target, previous image, policy and engine state (JSON) after it ends: the history stays.
ALTER TABLE fleets ADD COLUMN signatures TEXT;

ALTER TABLE rollouts ADD COLUMN target_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE rollouts ADD COLUMN target_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE rollouts ADD COLUMN previous_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE rollouts ADD COLUMN previous_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE rollouts ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE rollouts ADD COLUMN phase TEXT NOT NULL DEFAULT 'PENDING';
ALTER TABLE rollouts ADD COLUMN created_by TEXT NOT NULL DEFAULT 'system';
-- At most one active rollout per fleet, enforced by the database as well as by the API.
CREATE UNIQUE INDEX rollouts_one_active ON rollouts(fleet) WHERE active = 1;

-- V1's placeholder had no seq; nothing wrote it.
DROP TABLE rollout_events;
CREATE TABLE rollout_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rollout_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  time BIGINT NOT NULL,
  type TEXT NOT NULL,
  wave INTEGER,
  device_id TEXT,
  counts TEXT NOT NULL,
  message TEXT NOT NULL
);
-- One event per seq: a second controller stepping the same state could not append twice.
CREATE UNIQUE INDEX rollout_events_seq ON rollout_events(rollout_id, seq);
