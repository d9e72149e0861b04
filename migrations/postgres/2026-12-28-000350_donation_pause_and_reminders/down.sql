DROP TABLE donation_reminders;
DROP TABLE donation_subscriptions;
