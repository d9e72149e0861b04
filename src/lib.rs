//! Frontdesk: a newsroom's front desk for its readers.

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod keys;
pub mod mail;
pub mod newsletter;
pub mod ops;
pub mod telemetry;
pub mod web;
