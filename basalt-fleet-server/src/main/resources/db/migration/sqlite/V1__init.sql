-- Basalt fleet schema, SQLite flavour (kept column-for-column equal to postgresql/V1__init.sql).
-- Times are epoch milliseconds, JSON is TEXT, booleans are 0/1: the same SQL runs on both dialects.
CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  state TEXT NOT NULL,
  enrolled_at BIGINT NOT NULL,
  enrollment_token_id TEXT,
  csr TEXT,
  certificate TEXT,
  cert_serial TEXT UNIQUE,
  cert_fingerprint TEXT,
  cert_expires BIGINT,
  fleet TEXT,
  membership_error TEXT,
  status TEXT,
  booted_digest TEXT,
  staged_digest TEXT,
  slot TEXT,
  health TEXT,
  phase TEXT,
  last_error TEXT,
  failed_digests TEXT,
  bytes_downloaded BIGINT NOT NULL DEFAULT 0,
  last_seen BIGINT,
  booted_since BIGINT,
  desired_ref TEXT,
  desired_digest TEXT,
  desired_reboot INTEGER NOT NULL DEFAULT 0,
  desired_fleet TEXT,
  desired_rev BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX devices_state ON devices(state);
CREATE INDEX devices_fleet ON devices(fleet);

CREATE TABLE enrollment_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  labels TEXT NOT NULL,
  auto_approve TEXT,
  expires_at BIGINT,
  max_uses INTEGER NOT NULL,
  uses INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE admin_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE fleets (
  name TEXT PRIMARY KEY,
  selector TEXT NOT NULL,
  target_ref TEXT,
  target_digest TEXT,
  policy TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE rollouts (
  id TEXT PRIMARY KEY,
  fleet TEXT NOT NULL,
  state TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX rollouts_fleet ON rollouts(fleet);

CREATE TABLE rollout_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rollout_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  type TEXT NOT NULL,
  details TEXT
);
CREATE INDEX rollout_events_rollout ON rollout_events(rollout_id);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  details TEXT
);

CREATE TABLE server_ca (
  id INTEGER PRIMARY KEY,
  certificate TEXT NOT NULL,
  private_key TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
