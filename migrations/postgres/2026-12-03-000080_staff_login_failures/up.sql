-- Failed staff sign-ins per (account, client): the address as typed (trimmed, lower-cased) and
-- the client IP, each as a keyed hash, so neither is stored and an address with no account is
-- counted like one with an account. Past the hourly limit only that client waits; nobody
-- else's failures slow the account's owner down. Rows older than the one-hour window are
-- pruned as new failures are recorded.
CREATE TABLE staff_login_failures (
    account_hash TEXT NOT NULL,
    client_hash TEXT NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    last_failed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_hash, client_hash)
);
CREATE INDEX staff_login_failures_window ON staff_login_failures (window_start);
