//! The integration tests: one binary, the real server, real databases, a real SMTP server.

mod clients;
mod helpers;

mod backup;
mod browser;
mod cli;
mod comments;
mod crash_recovery;
mod deployment;
mod donations;
mod embed;
mod erasure;
mod fake_stripe;
mod feedback;
mod feedback_staff;
mod jobs;
mod jobs_staff;
mod limits;
mod migrations;
mod newsletter;
mod newsletter_staff;
mod openapi;
mod ops;
mod outbox;
mod people;
mod processes;
mod reader_journeys;
mod retention;
mod shared_limits;
mod staff;
mod staff_access;
mod tips;
mod unverified_email;
