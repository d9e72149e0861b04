CREATE INDEX feedback_votes_updated ON feedback_votes (updated_at);
