-- Password reset links ("Forgot your password?", sent by an admin, or printed by
-- `frontdesk staff reset-password`): 32 random bytes in the link, stored only as their SHA-256.
-- Single use (used_at), valid 30 minutes; setting a new password uses up every other
-- outstanding link of the account.
CREATE TABLE staff_password_resets (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX staff_password_resets_user ON staff_password_resets (user_id);
CREATE INDEX staff_password_resets_expiry ON staff_password_resets (expires_at);

-- Browsers an account has signed in from: a long-lived random cookie (fd_device), stored per
-- account only as a keyed hash of (account, cookie), so two accounts used in one browser cannot
-- be linked from the table. No IP address, no fingerprint. A sign-in from a browser not listed
-- here emails the account's owner once.
CREATE TABLE staff_known_browsers (
    user_id TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    device_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);
