-- Mail webhook reports already taken, so a captured report replayed within its signature's
-- five minutes changes nothing: the generic webhook's signature (which covers its timestamp)
-- or Mailgun's token, kept until the report could no longer pass the age check anyway.
-- Shared by every process on the database.
CREATE TABLE webhook_replays (
    key TEXT PRIMARY KEY NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_replays_expires ON webhook_replays (expires_at);
