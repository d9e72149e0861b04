-- Every backup taken, by `frontdesk backup` or by the worker's schedule: its outcome, where it
-- went and how big it is, for the staff dashboard's health panel. A scheduled run first claims
-- its slot (the scheduled time, unique), so of several workers sharing one database exactly
-- one takes each scheduled backup. Holds no personal data.
CREATE TABLE backup_runs (
    id TEXT PRIMARY KEY NOT NULL,
    slot TIMESTAMP UNIQUE,
    trigger TEXT NOT NULL,
    state TEXT NOT NULL,
    location TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    bytes BIGINT,
    files INTEGER,
    detail TEXT
);
CREATE INDEX backup_runs_started ON backup_runs (started_at);
