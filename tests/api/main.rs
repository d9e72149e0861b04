//! The integration tests: one binary, the real server, real databases, a real SMTP server.

mod helpers;

mod browser;
mod cli;
mod comments;
mod feedback;
mod feedback_staff;
mod migrations;
mod ops;
mod outbox;
mod staff;
