//! The integration tests: one binary, the real server, real databases, a real SMTP server.

mod helpers;

mod browser;
mod cli;
mod comments;
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
mod reader_journeys;
mod retention;
mod staff;
mod staff_access;
mod unverified_email;
