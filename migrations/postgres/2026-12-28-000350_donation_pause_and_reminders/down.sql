DROP TABLE donation_reminders;
ALTER TABLE donations DROP COLUMN paused_until;
