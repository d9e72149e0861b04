-- Indexes behind the staff dashboard's counts (src/*/figures.rs): each figure is a count or
-- sum over a time range or a state, answered from an index instead of a table scan.
CREATE INDEX feedback_votes_created ON feedback_votes (created_at);
CREATE INDEX newsletter_subscribers_confirmed ON newsletter_subscribers (confirmed_at);
CREATE INDEX newsletter_subscribers_unsubscribed ON newsletter_subscribers (unsubscribed_at);
CREATE INDEX newsletter_suppressions_created ON newsletter_suppressions (created_at);
CREATE INDEX donations_recurring ON donations (frequency, recurring_status, updated_at);
CREATE INDEX job_applications_stage ON job_applications (stage, created_at);
CREATE INDEX comments_status_created ON comments (status, created_at);
