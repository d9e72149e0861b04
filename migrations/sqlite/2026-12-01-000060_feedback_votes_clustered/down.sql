-- Back to the rowid table with its (article_url, helpful) and comment-queue indexes.
CREATE TABLE feedback_votes_rowid (
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
INSERT INTO feedback_votes_rowid (id, article_url, voter, helpful, reason, comment,
    comment_status, comment_at, created_at, updated_at)
SELECT id, article_url, voter, helpful, reason, comment, comment_status, comment_at,
    created_at, updated_at
FROM feedback_votes;

CREATE TABLE feedback_notes_copy AS SELECT id, vote_id, author, body, created_at FROM feedback_notes;
DROP TABLE feedback_notes;
DROP TABLE feedback_votes;
ALTER TABLE feedback_votes_rowid RENAME TO feedback_votes;
CREATE INDEX feedback_votes_article ON feedback_votes (article_url, helpful);
CREATE INDEX feedback_votes_updated ON feedback_votes (updated_at);
CREATE INDEX feedback_votes_comments ON feedback_votes (comment_status, comment_at);

CREATE TABLE feedback_notes (
    id TEXT PRIMARY KEY NOT NULL,
    vote_id TEXT NOT NULL REFERENCES feedback_votes (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO feedback_notes (id, vote_id, author, body, created_at)
SELECT id, vote_id, author, body, created_at FROM feedback_notes_copy;
DROP TABLE feedback_notes_copy;
CREATE INDEX feedback_notes_vote ON feedback_notes (vote_id, created_at);
