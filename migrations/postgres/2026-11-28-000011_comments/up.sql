-- "What are your thoughts?": reader comments, spam included (kept in the spam folder with
-- the verdict and the rule that gave it), and what staff did with them.
CREATE TABLE comments (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    subject TEXT,
    message TEXT NOT NULL,
    message_hash TEXT NOT NULL,
    article_url TEXT,
    status TEXT NOT NULL CHECK (status IN ('new', 'read', 'replied', 'archived', 'spam')),
    spam_verdict TEXT NOT NULL CHECK (spam_verdict IN ('ham', 'spam')),
    spam_rule TEXT,
    spam_score INTEGER NOT NULL,
    spam_signals TEXT NOT NULL,
    ip_hash TEXT NOT NULL,
    sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    assigned_to TEXT,
    staff_message_id TEXT,
    ack_message_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    replied_at TIMESTAMP
);
CREATE INDEX comments_status ON comments (status, id);
CREATE INDEX comments_email ON comments (email, created_at);
CREATE INDEX comments_ip ON comments (ip_hash, created_at);
CREATE INDEX comments_message_hash ON comments (message_hash, created_at);

CREATE TABLE comment_notes (
    id TEXT PRIMARY KEY NOT NULL,
    comment_id TEXT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX comment_notes_comment ON comment_notes (comment_id, created_at);

-- Staff replies, sent through the outbox and threaded on the earlier messages.
CREATE TABLE comment_replies (
    id TEXT PRIMARY KEY NOT NULL,
    comment_id TEXT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    message_id TEXT NOT NULL,
    outbox_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX comment_replies_comment ON comment_replies (comment_id, created_at);
