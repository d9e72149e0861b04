-- Donor links cannot go back to the old table: they are dropped (donors ask for a new link).
DELETE FROM email_links WHERE purpose NOT IN ('erase', 'export');
ALTER INDEX email_links_expires RENAME TO people_erasure_requests_expires;
ALTER INDEX email_links_email RENAME TO people_erasure_requests_email;
ALTER TABLE email_links DROP CONSTRAINT email_links_purpose_check;
ALTER TABLE email_links ALTER COLUMN purpose SET DEFAULT 'erase';
ALTER TABLE email_links ADD CONSTRAINT people_erasure_requests_purpose_check
    CHECK (purpose IN ('erase', 'export'));
ALTER TABLE email_links RENAME CONSTRAINT email_links_pkey TO people_erasure_requests_pkey;
ALTER TABLE email_links RENAME TO people_erasure_requests;
