-- Donor links cannot go back to the old table: they are dropped (donors ask for a new link).
CREATE TABLE people_erasure_requests (
    token_hash TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    purpose TEXT NOT NULL DEFAULT 'erase' CHECK (purpose IN ('erase', 'export')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
INSERT INTO people_erasure_requests (token_hash, email, purpose, created_at, expires_at, used_at)
    SELECT token_hash, email, purpose, created_at, expires_at, used_at FROM email_links
    WHERE purpose IN ('erase', 'export');
DROP TABLE email_links;
CREATE INDEX people_erasure_requests_email ON people_erasure_requests (email, created_at);
CREATE INDEX people_erasure_requests_expires ON people_erasure_requests (expires_at);
