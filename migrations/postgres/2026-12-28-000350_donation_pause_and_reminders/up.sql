-- A monthly gift the donor paused: no installment is collected (and no pledge reminder sent)
-- before this time; NULL when it is not paused. A pause without an end chosen at the
-- processor is stored as 9999-12-31.
ALTER TABLE donations ADD COLUMN paused_until TIMESTAMP;

-- The monthly reminders with payment instructions sent for pledged (manual provider) monthly
-- gifts: one row per gift and month (`YYYY-MM`), written in the transaction that queues the
-- reminder, so workers sharing a database send each month's reminder once. No personal data.
CREATE TABLE donation_reminders (
    donation_id TEXT NOT NULL REFERENCES donations (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    queued_at TIMESTAMP NOT NULL,
    PRIMARY KEY (donation_id, period)
);
