-- The language a reader chose (a tag among site.languages), so later emails use it. NULL:
-- chosen before languages existed, read as site.default_language.
ALTER TABLE newsletter_subscribers ADD COLUMN lang TEXT;
ALTER TABLE donations ADD COLUMN lang TEXT;
ALTER TABLE comments ADD COLUMN lang TEXT;
ALTER TABLE job_applications ADD COLUMN lang TEXT;
