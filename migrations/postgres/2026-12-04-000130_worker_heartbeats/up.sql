-- The outbox workers that are alive: each renews its row every `mail.heartbeat_seconds`,
-- moving `expires_at` to `mail.heartbeat_timeout_seconds` ahead. Outbox rows leased to a
-- worker whose row has expired are taken over by any other worker at once, instead of
-- waiting out their `lease_until` (see docs/architecture.md, "Crash recovery").
CREATE TABLE workers (
    id TEXT PRIMARY KEY NOT NULL,
    started_at TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
