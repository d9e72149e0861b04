-- The state of a monthly gift's subscription that changes after it began, one row per gift
-- once it has any: `paused_until`, a pause (nothing collected, and no pledge reminder sent,
-- before it; NULL when not paused; a pause without an end chosen at the processor is stored
-- as 9999-12-31), and `synced_at`, the time of the newest subscription state applied (the
-- processor's event time, or the moment the donor changed it here), so an older event
-- arriving late changes nothing. Kept beside `donations` (whose row is at diesel's column
-- limit). No personal data.
CREATE TABLE donation_subscriptions (
    donation_id TEXT PRIMARY KEY NOT NULL REFERENCES donations (id) ON DELETE CASCADE,
    paused_until TIMESTAMP,
    synced_at TIMESTAMP
);

-- The monthly reminders with payment instructions sent for pledged (manual provider) monthly
-- gifts: one row per gift and month (`YYYY-MM`), written in the transaction that queues the
-- reminder, so workers sharing a database send each month's reminder once. No personal data.
CREATE TABLE donation_reminders (
    donation_id TEXT NOT NULL REFERENCES donations (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    queued_at TIMESTAMP NOT NULL,
    PRIMARY KEY (donation_id, period)
);
