-- A gift: one-time or monthly. Amounts are integers in the currency's minor unit; the
-- intended gift, the processor fee the donor chose to cover and the total charged are kept apart.
CREATE TABLE donations (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'pledged', 'paid', 'failed', 'refunded', 'disputed')),
    provider TEXT NOT NULL CHECK (provider IN ('manual', 'stripe')),
    frequency TEXT NOT NULL CHECK (frequency IN ('one_time', 'monthly')),
    recurring_status TEXT CHECK (recurring_status IN ('active', 'cancelled')),
    amount_minor BIGINT NOT NULL,
    fee_minor BIGINT NOT NULL DEFAULT 0,
    total_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    name TEXT,
    anonymous BOOLEAN NOT NULL DEFAULT FALSE,
    dedication_kind TEXT CHECK (dedication_kind IN ('honor', 'memory')),
    dedication_name TEXT,
    message TEXT,
    source_url TEXT,
    campaign TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_term TEXT,
    utm_content TEXT,
    -- The donor's wish to get the newsletter; it still goes through the newsletter's double opt-in.
    newsletter_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
    ip_hash TEXT,
    provider_session_id TEXT UNIQUE,
    provider_customer_id TEXT,
    provider_subscription_id TEXT UNIQUE,
    checkout_url TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX donations_email ON donations (email_normalized);
CREATE INDEX donations_created ON donations (created_at);
CREATE INDEX donations_ip_status ON donations (ip_hash, status);
CREATE INDEX donations_campaign ON donations (campaign);

-- Money received: one row per one-time payment or per monthly installment (invoice), each
-- with its own receipt number that never changes.
CREATE TABLE donation_payments (
    id TEXT PRIMARY KEY NOT NULL,
    donation_id TEXT NOT NULL REFERENCES donations (id) ON DELETE CASCADE,
    receipt_number TEXT NOT NULL UNIQUE,
    -- What the processor calls this payment (checkout session or invoice id); 'manual:<donation id>' for pledges.
    provider_ref TEXT NOT NULL UNIQUE,
    provider_payment_intent TEXT,
    provider_charge TEXT,
    status TEXT NOT NULL CHECK (status IN ('paid', 'refunded', 'disputed')),
    amount_minor BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    paid_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX donation_payments_donation ON donation_payments (donation_id);
CREATE INDEX donation_payments_paid_at ON donation_payments (paid_at);
CREATE INDEX donation_payments_intent ON donation_payments (provider_payment_intent);

-- Idempotency-Key of POST /api/v1/donations: the first answer, kept 24 hours. A row whose
-- response is NULL is a request still in flight.
CREATE TABLE donation_idempotency (
    key TEXT PRIMARY KEY NOT NULL,
    request_hash TEXT NOT NULL,
    donation_id TEXT,
    response TEXT,
    created_at TIMESTAMP NOT NULL
);

-- Every processor event applied, keyed by its id and written in the same transaction as its
-- effects, so a replay changes nothing.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    donation_id TEXT,
    received_at TIMESTAMP NOT NULL
);

-- Named counters: receipt numbers per year, the last failure alert.
CREATE TABLE donation_counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
