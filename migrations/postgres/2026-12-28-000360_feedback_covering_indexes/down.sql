DROP INDEX feedback_votes_created;
CREATE INDEX feedback_votes_created ON feedback_votes (created_at);
