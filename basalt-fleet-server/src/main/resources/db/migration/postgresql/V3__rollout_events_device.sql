-- A device page lists the rollout events that name it; without this it scans every event of every rollout.
CREATE INDEX rollout_events_device ON rollout_events(device_id);
