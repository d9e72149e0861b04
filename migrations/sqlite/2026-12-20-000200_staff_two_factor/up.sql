-- Second factors of staff accounts. The TOTP secret is stored encrypted with a key derived
-- from the service key (AES-256-GCM, the account id as associated data), never in plain text;
-- `last_step` is the last accepted 30-second step, so no code is accepted twice.
CREATE TABLE staff_totp (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT,
    created_at TIMESTAMP NOT NULL
);

-- Single-use recovery codes, stored as keyed hashes (HMAC-SHA256 with the service key).
CREATE TABLE staff_recovery_codes (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX staff_recovery_codes_user ON staff_recovery_codes (user_id);

-- A sign-in whose password was right and whose second step is still to come: bound to the
-- browser by a cookie (stored here as its SHA-256), single use, expiring after minutes.
-- `account_hash` and `client_hash` are the keyed hashes the failed sign-ins are counted by.
CREATE TABLE staff_pending_signins (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    account_hash TEXT NOT NULL,
    client_hash TEXT NOT NULL,
    next_path TEXT NOT NULL,
    user_agent TEXT,
    attempts INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX staff_pending_signins_expires ON staff_pending_signins (expires_at);
