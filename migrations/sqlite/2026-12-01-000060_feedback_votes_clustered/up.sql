-- Votes stored in (article_url, voter) order: the table is its own unique index (WITHOUT
-- ROWID). Recording a vote then touches one B-tree leaf at random, where the rowid table
-- touched two (its (article_url, voter) and (article_url, helpful) indexes), which halves
-- the pages each group commit writes to the WAL; an article's summary is a range scan of
-- its own votes. The comment queue's index only holds votes that carry a comment.
--
-- feedback_notes refers to feedback_votes (id), so it is copied aside and rebuilt: dropping
-- the old votes table while it still had notes would cascade to them.
CREATE TABLE feedback_votes_clustered (
    id TEXT NOT NULL UNIQUE,
    article_url TEXT NOT NULL,
    voter TEXT NOT NULL,
    helpful BOOLEAN NOT NULL,
    reason TEXT,
    comment TEXT,
    comment_status TEXT CHECK (comment_status IN ('new', 'in_progress', 'resolved', 'dismissed')),
    comment_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (article_url, voter)
) WITHOUT ROWID;
INSERT INTO feedback_votes_clustered (id, article_url, voter, helpful, reason, comment,
    comment_status, comment_at, created_at, updated_at)
SELECT id, article_url, voter, helpful, reason, comment, comment_status, comment_at,
    created_at, updated_at
FROM feedback_votes;

CREATE TABLE feedback_notes_copy AS SELECT id, vote_id, author, body, created_at FROM feedback_notes;
DROP TABLE feedback_notes;
DROP TABLE feedback_votes;
ALTER TABLE feedback_votes_clustered RENAME TO feedback_votes;
CREATE INDEX feedback_votes_updated ON feedback_votes (updated_at);
CREATE INDEX feedback_votes_comments ON feedback_votes (comment_status, comment_at)
    WHERE comment IS NOT NULL;

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
