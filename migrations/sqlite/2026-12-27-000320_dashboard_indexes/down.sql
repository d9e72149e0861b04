DROP INDEX comments_status_created;
DROP INDEX job_applications_stage;
DROP INDEX donations_recurring;
DROP INDEX newsletter_suppressions_created;
DROP INDEX newsletter_subscribers_unsubscribed;
DROP INDEX newsletter_subscribers_confirmed;
DROP INDEX feedback_votes_created;
