-- Confidential tips (docs/security.md): a comment whose name, email, subject, message and
-- article are sealed with the tips key, which is never in the database. `email_index` is a
-- keyed hash of the reader's address under that key (to find their tips for an export or an
-- erasure); `kept` holds a tip past retention.confidential_tip_days.
ALTER TABLE comments ADD COLUMN confidential BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE comments ADD COLUMN email_index TEXT;
ALTER TABLE comments ADD COLUMN kept BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX comments_email_index ON comments (email_index);
CREATE INDEX comments_confidential ON comments (confidential, created_at);

-- A tip restricted to named staff accounts: when a tip has rows here, only those accounts
-- (holding the tips permission) may open it.
CREATE TABLE comment_readers (
    comment_id TEXT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    PRIMARY KEY (comment_id, user_id)
);

-- Permissions given to one staff account beyond its role (only `tips` for now).
CREATE TABLE staff_permissions (
    user_id TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    permission TEXT NOT NULL CHECK (permission IN ('tips')),
    granted_by TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, permission)
);
