//! The command line: `frontdesk [--config FILE] <command>`; no command means `serve`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tokio::sync::watch;

use crate::app::{Application, BuildOptions};
use crate::config::Settings;
use crate::db::Db;
use crate::mail::transport::Transport;
use crate::mail::worker::Worker;
use crate::mail::{mask_email, Email, Mailer, Templates};
use crate::web::metrics::Metrics;

#[derive(Debug, Parser)]
#[command(
    name = "frontdesk",
    version,
    about = "A newsroom's front desk for its readers"
)]
pub struct Cli {
    /// A TOML file read after config/default.toml and config/$FRONTDESK_ENV.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP and run the mail worker.
    Serve {
        /// Do not apply migrations (run `frontdesk migrate` as a release step instead).
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Run only the mail worker and newsletter dispatcher (several may share one PostgreSQL database).
    Worker,
    /// Load and validate the configuration, print it with secrets masked.
    CheckConfig,
    /// Queue a test email to check the mail settings end to end.
    SendTestEmail {
        /// Recipient address.
        #[arg(long)]
        to: String,
    },
}

/// Runs the parsed command. Configuration errors are returned before anything starts.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve { no_migrate: false }) {
        Command::Serve { no_migrate } => serve(settings, !no_migrate).await,
        Command::Migrate => {
            let db = Db::connect(&settings.database)?;
            let applied = tokio::task::spawn_blocking(move || db.migrate()).await??;
            tracing::info!(applied, "migrations applied");
            Ok(())
        }
        Command::Worker => worker(settings).await,
        Command::CheckConfig => {
            print_stdout(&format!(
                "# configuration is valid (secrets masked)\n{}",
                settings.to_masked_toml()
            ));
            Ok(())
        }
        Command::SendTestEmail { to } => send_test_email(settings, &to).await,
    }
}

async fn serve(settings: Settings, migrate: bool) -> anyhow::Result<()> {
    let app = Application::build(
        settings,
        BuildOptions {
            migrate,
            handle_signals: true,
        },
    )
    .await?;
    let settings = &app.state().settings;
    tracing::info!(
        address = %format!("{}:{}", settings.server.bind.ip(), app.port()),
        public_url = %settings.server.public_url,
        database = %settings.database.url.masked(),
        mail = ?settings.mail.transport,
        "Frontdesk is serving"
    );
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn worker(settings: Settings) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database)?;
    let transport = Arc::new(Transport::from_settings(&settings.mail)?);
    let mailer = Mailer::new(&settings, Templates::embedded());
    let wake = mailer.waker();
    let dispatcher =
        crate::newsletter::Dispatcher::for_worker(Arc::new(settings.clone()), db.clone(), mailer)
            .await?;
    let worker = Worker::new(db, transport, settings.mail.clone(), Metrics::new(), wake)?;
    let (stop, rx) = watch::channel(false);
    let handle = tokio::spawn(worker.run(rx.clone()));
    let newsletter = tokio::spawn(dispatcher.run(rx));
    shutdown_signal().await;
    tracing::info!("stopping after the message in flight");
    let _ = stop.send(true);
    handle.await?;
    newsletter.await?;
    Ok(())
}

async fn send_test_email(settings: Settings, to: &str) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database)?;
    let mailer = Mailer::new(&settings, Templates::embedded());
    let mailbox = to
        .parse()
        .map_err(|e| anyhow::anyhow!("--to is not a valid address: {e}"))?;
    let email = mailer
        .compose(Email::new(
            "smtp_check",
            mailbox,
            serde_json::json!({ "requested_by": "the frontdesk command line" }),
        ))
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let id = email.id.clone();
    db.write(move |conn| Ok(crate::mail::outbox::enqueue(conn, &[email])?))
        .await
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    tracing::info!(%id, to = %mask_email(to), "test email queued; a running worker delivers it");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Command output meant for the user's terminal (not a log line).
#[allow(clippy::print_stdout)]
pub fn print_stdout(text: &str) {
    println!("{text}");
}
