-- Passkeys (WebAuthn credentials) of staff accounts: a second factor after the password, or
-- a sign-in without one. `passkey` is the library's serialised credential (credential id,
-- public key, algorithm, sign counter, flags); nothing in it is secret. `credential_id` is
-- the id in base64url, unique across accounts, to find the account a passkey names.
CREATE TABLE staff_passkeys (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    passkey TEXT NOT NULL,
    sign_count BIGINT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
CREATE INDEX staff_passkeys_user ON staff_passkeys (user_id);

-- The server's half of a WebAuthn ceremony between its two requests (any process may answer
-- the second): the library's serialised state, stored under the SHA-256 of a random id the
-- browser holds, single use (deleted by the request that finishes it), expiring in minutes.
-- `purpose` is register, confirm, second_step or sign_in; `user_id` is empty only for
-- sign_in (the passkey names its account); `pending_id` binds a second step to its pending
-- sign-in.
CREATE TABLE staff_webauthn_ceremonies (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    user_id TEXT REFERENCES staff_users (id) ON DELETE CASCADE,
    pending_id TEXT,
    name TEXT,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX staff_webauthn_ceremonies_expires ON staff_webauthn_ceremonies (expires_at);

-- When the session last proved a second factor again (a passkey on the account page): a
-- recent check allows removing a passkey or creating an API token without typing a code.
ALTER TABLE staff_sessions ADD COLUMN second_factor_at TIMESTAMP;
