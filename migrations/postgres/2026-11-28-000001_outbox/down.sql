DROP TABLE outbox;
DROP TABLE app_settings;
