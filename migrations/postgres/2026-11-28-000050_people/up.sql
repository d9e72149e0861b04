-- A reader's "delete my data" or "download my data" request, waiting for the link emailed to
-- the address to be followed. The token is stored only as its SHA-256; the row expires, and
-- an erasure link is single use.
-- Rows are deleted when the erasure runs (with everything else about the address) and by
-- the retention scheduler once expired.
CREATE TABLE people_erasure_requests (
    token_hash TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    purpose TEXT NOT NULL DEFAULT 'erase' CHECK (purpose IN ('erase', 'export')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX people_erasure_requests_email ON people_erasure_requests (email, created_at);
CREATE INDEX people_erasure_requests_expires ON people_erasure_requests (expires_at);
