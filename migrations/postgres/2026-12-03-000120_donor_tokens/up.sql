-- Every link emailed to an address that acts for it now lives in one table: the reader's
-- "delete my data" and "download my data" links (people_erasure_requests until now) and the
-- donor's self-service link, which used to carry the address itself in the URL and could not
-- be revoked. The token is stored only as its SHA-256; a link expires, and `used_at` marks
-- one used up or revoked.
ALTER TABLE people_erasure_requests RENAME TO email_links;
ALTER TABLE email_links RENAME CONSTRAINT people_erasure_requests_pkey TO email_links_pkey;
ALTER TABLE email_links DROP CONSTRAINT people_erasure_requests_purpose_check;
ALTER TABLE email_links ALTER COLUMN purpose DROP DEFAULT;
ALTER TABLE email_links ADD CONSTRAINT email_links_purpose_check
    CHECK (purpose IN ('erase', 'export', 'donor'));
ALTER INDEX people_erasure_requests_email RENAME TO email_links_email;
ALTER INDEX people_erasure_requests_expires RENAME TO email_links_expires;
