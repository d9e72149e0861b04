ALTER TABLE job_applications DROP COLUMN lang;
ALTER TABLE comments DROP COLUMN lang;
ALTER TABLE donations DROP COLUMN lang;
ALTER TABLE newsletter_subscribers DROP COLUMN lang;
