DROP TABLE staff_permissions;
DROP TABLE comment_readers;
DROP INDEX comments_confidential;
DROP INDEX comments_email_index;
ALTER TABLE comments DROP COLUMN kept;
ALTER TABLE comments DROP COLUMN email_index;
ALTER TABLE comments DROP COLUMN confidential;
