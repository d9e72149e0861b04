-- The editors' dashboard reads votes by when they were cast: votes per day, and the articles
-- that most need improvement counted per article, answer and reason. Carrying those columns
-- in the `created_at` index lets PostgreSQL answer both with index-only scans
-- (bench/README.md). It replaces the narrower index of the same name.
DROP INDEX feedback_votes_created;
CREATE INDEX feedback_votes_created ON feedback_votes (created_at) INCLUDE (article_url, helpful, reason);
