-- Newsletter: lists, subscribers with per-list membership, consent records, suppressions,
-- issues and one delivery row per recipient of an issue.

CREATE TABLE newsletter_lists (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    is_public BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

-- One row per address (lower-cased). `status` is the address's overall state; per-list
-- state is in newsletter_memberships.
CREATE TABLE newsletter_subscribers (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'suppressed')),
    source TEXT NOT NULL CHECK (source IN ('form', 'import')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    unsubscribed_at TIMESTAMP,
    last_confirmation_sent_at TIMESTAMP
);
CREATE INDEX newsletter_subscribers_status ON newsletter_subscribers (status, id);

CREATE TABLE newsletter_memberships (
    subscriber_id TEXT NOT NULL REFERENCES newsletter_subscribers (id) ON DELETE CASCADE,
    list_id TEXT NOT NULL REFERENCES newsletter_lists (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (subscriber_id, list_id)
);
CREATE INDEX newsletter_memberships_list ON newsletter_memberships (list_id, status, subscriber_id);

-- Double opt-in tokens: only the SHA-256 of the token is kept; single use, expiring.
CREATE TABLE newsletter_confirm_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    subscriber_id TEXT NOT NULL REFERENCES newsletter_subscribers (id) ON DELETE CASCADE,
    source_url TEXT,
    wording_version TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX newsletter_confirm_tokens_subscriber ON newsletter_confirm_tokens (subscriber_id);

-- What each reader agreed to (or withdrew), when, from where; IPs only as keyed hashes.
CREATE TABLE newsletter_consents (
    id TEXT PRIMARY KEY NOT NULL,
    subscriber_id TEXT NOT NULL REFERENCES newsletter_subscribers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('confirmed', 'imported', 'preferences', 'unsubscribed')),
    recorded_at TIMESTAMP NOT NULL,
    ip_hash TEXT,
    source_url TEXT,
    wording_version TEXT
);
CREATE INDEX newsletter_consents_subscriber ON newsletter_consents (subscriber_id);

-- Addresses never to be mailed again, as keyed hashes (so an erased address stays blocked).
CREATE TABLE newsletter_suppressions (
    email_hash TEXT PRIMARY KEY NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'soft_bounces', 'erased', 'manual')),
    created_at TIMESTAMP NOT NULL
);

-- Soft bounces in a row per address (keyed hash); reset by a delivery report.
CREATE TABLE newsletter_soft_bounces (
    email_hash TEXT PRIMARY KEY NOT NULL,
    bounces INTEGER NOT NULL,
    last_at TIMESTAMP NOT NULL
);

CREATE TABLE newsletter_issues (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled')),
    send_at TIMESTAMP,
    -- The last subscriber id queued: deliveries are queued in id order, batch by batch.
    queue_cursor TEXT,
    queue_done BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX newsletter_issues_status ON newsletter_issues (status, send_at);

CREATE TABLE newsletter_issue_lists (
    issue_id TEXT NOT NULL REFERENCES newsletter_issues (id) ON DELETE CASCADE,
    list_id TEXT NOT NULL REFERENCES newsletter_lists (id) ON DELETE CASCADE,
    PRIMARY KEY (issue_id, list_id)
);

-- One row per recipient of an issue; `outbox_id` is the email queued in the same transaction
-- (NULL when the recipient was skipped at send time).
CREATE TABLE newsletter_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    issue_id TEXT NOT NULL REFERENCES newsletter_issues (id) ON DELETE CASCADE,
    subscriber_id TEXT REFERENCES newsletter_subscribers (id) ON DELETE SET NULL,
    outbox_id TEXT,
    skipped_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (issue_id, subscriber_id)
);
CREATE INDEX newsletter_deliveries_subscriber ON newsletter_deliveries (subscriber_id);
