//! `frontdesk`: parse the command line, load configuration, start tracing, run the command.

use std::process::ExitCode;

use clap::Parser;
use frontdesk::cli::{self, Cli};
use frontdesk::config::{Settings, Sources};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&Sources::standard(cli.config.clone())) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("frontdesk: {e}");
            return ExitCode::from(2);
        }
    };
    frontdesk::telemetry::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("frontdesk: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "frontdesk failed");
            eprintln!("frontdesk: {e:#}");
            ExitCode::FAILURE
        }
    }
}
