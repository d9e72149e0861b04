-- Recording a vote no longer maintains an index on updated_at. Each new vote inserted an entry
-- into it, and each changed vote moved one: a third B-tree written in every group commit, about
-- 15 % of the vote writer's time (bench/README.md). Its only reader was the staff helpfulness
-- report, which groups every vote by article anyway and now filters its date range during
-- that scan.
DROP INDEX feedback_votes_updated;
