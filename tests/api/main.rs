//! The integration tests: one binary, the real server, real databases, a real SMTP server.

mod helpers;

mod browser;
mod cli;
mod donations;
mod fake_stripe;
mod migrations;
mod ops;
mod outbox;
mod staff;
