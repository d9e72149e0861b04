-- Yearly statements sent in one action: one row per (fiscal year, donor), written in the
-- transaction that queues that donor's statement, so an interrupted run resumed (or two runs
-- at once) sends each donor exactly one statement per year. The address is the gift's
-- normalised address, erased with the donor's gifts.
CREATE TABLE donation_statements (
    year INTEGER NOT NULL,
    email_normalized TEXT NOT NULL,
    queued_at TIMESTAMP NOT NULL,
    PRIMARY KEY (year, email_normalized)
);
