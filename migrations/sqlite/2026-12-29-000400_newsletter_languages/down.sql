DROP INDEX newsletter_issues_translation_lang;
ALTER TABLE newsletter_lists DROP COLUMN lang;
ALTER TABLE newsletter_issues DROP COLUMN translation_of;
ALTER TABLE newsletter_issues DROP COLUMN lang;
