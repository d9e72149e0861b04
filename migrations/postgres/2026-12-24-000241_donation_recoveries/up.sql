-- A monthly gift whose payment failed, followed until it is paid again or the processor (or
-- the donor) gives up: the follow-up emails sent so far and when the next is due, and what
-- was recovered. One row per failure episode; at most one open per gift (kept by the code that
-- opens them, inside the webhook's transaction). Holds no personal data.
CREATE TABLE donation_recoveries (
    id TEXT PRIMARY KEY NOT NULL,
    donation_id TEXT NOT NULL REFERENCES donations (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    followups_sent INTEGER NOT NULL DEFAULT 0,
    next_followup_at TIMESTAMP,
    closed_at TIMESTAMP,
    recovered_minor BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX donation_recoveries_donation ON donation_recoveries (donation_id, state);
CREATE INDEX donation_recoveries_due ON donation_recoveries (state, next_followup_at);
