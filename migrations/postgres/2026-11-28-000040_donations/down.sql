DROP TABLE donation_counters;
DROP TABLE stripe_events;
DROP TABLE donation_idempotency;
DROP TABLE donation_payments;
DROP TABLE donations;
