//! The integration tests: one binary, the real server, real databases, a real SMTP server.

mod helpers;

mod cli;
mod jobs;
mod migrations;
mod ops;
mod outbox;
