//! Frontdesk: a newsroom's front desk for its readers.

pub mod app;
pub mod background;
pub mod backup;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod domain;
pub mod donations;
pub mod embed;
pub mod error;
pub mod feedback;
pub mod jobs;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod newsletter;
pub mod ops;
pub mod people;
pub mod retention;
pub mod sealed;
pub mod staff;
pub mod state;
pub mod telemetry;
pub mod templates;
pub mod web;
