-- Every link emailed to an address that acts for it now lives in one table: the reader's
-- "delete my data" and "download my data" links (people_erasure_requests until now) and the
-- donor's self-service link, which used to carry the address itself in the URL and could not
-- be revoked. The token is stored only as its SHA-256; a link expires, and `used_at` marks
-- one used up or revoked. SQLite cannot change a CHECK constraint in place: the table is
-- rebuilt under its new name.
CREATE TABLE email_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('erase', 'export', 'donor')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
INSERT INTO email_links (token_hash, email, purpose, created_at, expires_at, used_at)
    SELECT token_hash, email, purpose, created_at, expires_at, used_at FROM people_erasure_requests;
DROP TABLE people_erasure_requests;
CREATE INDEX email_links_email ON email_links (email, created_at);
CREATE INDEX email_links_expires ON email_links (expires_at);
