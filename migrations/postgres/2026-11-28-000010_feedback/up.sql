-- "Was this content helpful?": one row per voter per article, changed in place.
-- `voter` is `c:` + a keyed hash of the fd_voter cookie, or `h:` + a hash of IP and
-- User-Agent under the day's voter key (never the raw IP).
CREATE TABLE feedback_votes (
    id TEXT PRIMARY KEY NOT NULL,
    article_url TEXT NOT NULL,
    voter TEXT NOT NULL,
    helpful BOOLEAN NOT NULL,
    reason TEXT,
    comment TEXT,
    comment_status TEXT CHECK (comment_status IN ('new', 'in_progress', 'resolved', 'dismissed')),
    comment_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (article_url, voter)
);
CREATE INDEX feedback_votes_article ON feedback_votes (article_url, helpful);
CREATE INDEX feedback_votes_updated ON feedback_votes (updated_at);
CREATE INDEX feedback_votes_comments ON feedback_votes (comment_status, comment_at);

-- Staff notes on the comments left with votes.
CREATE TABLE feedback_notes (
    id TEXT PRIMARY KEY NOT NULL,
    vote_id TEXT NOT NULL REFERENCES feedback_votes (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX feedback_notes_vote ON feedback_notes (vote_id, created_at);

-- The day's key for hashing cookie-less voters; keys of past days are deleted, so their
-- hashes can no longer be linked to anyone.
CREATE TABLE feedback_voter_keys (
    day TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
