//! The integration tests: one binary, the real server, real databases, a real SMTP server.

mod helpers;

mod cli;
mod migrations;
mod newsletter;
mod ops;
mod outbox;
