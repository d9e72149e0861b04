//! The command line: `frontdesk [--config FILE] <command>`; no command means `serve`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::app::{Application, BuildOptions};
use crate::config::Settings;
use crate::db::Db;
use crate::mail::{mask_email, Email, Mailer, Templates};
use crate::metrics::Metrics;

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
    /// Run only the mail worker, newsletter dispatcher, retention and backup schedulers (several may share one PostgreSQL database).
    Worker,
    /// Load and validate the configuration, print it with secrets masked.
    CheckConfig,
    /// Queue a test email to check the mail settings end to end.
    SendTestEmail {
        /// Recipient address.
        #[arg(long)]
        to: String,
    },
    /// Manage staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Confidential tips: make a key, rotate the key.
    #[command(subcommand)]
    Tips(TipsCommand),
    /// Donations: every donor's yearly statement.
    #[command(subcommand)]
    Donations(DonationsCommand),
    /// Write a consistent backup (database, uploads, manifest) while the service keeps serving.
    Backup {
        /// A new or empty folder to write the backup to.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Verify a backup, then restore it into the configured database and uploads folder.
    Restore {
        /// The folder a backup was written to.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// Replace what the database and the uploads folder hold.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account (prompts for the password, or reads one line from stdin).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, fundraising, editor or hiring.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create a personal API token and print it once.
    Token {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "command line")]
        label: String,
    },
    /// List staff accounts.
    List,
    /// Disable an account and end its sessions and tokens.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Remove an account's second factor and recovery codes (a lost phone), so it signs in
    /// with its password alone until it sets up a new one; audited and emailed.
    ResetTwoFactor {
        #[arg(long)]
        email: String,
    },
    /// Print a one-time password reset link (valid 30 minutes) for an enabled account, to hand
    /// to its owner; setting the password through it ends every session of the account.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TipsCommand {
    /// Print a new random tips key (base64 of 32 bytes) for security.tips_key_file.
    NewKey,
    /// Re-encrypt every confidential tip, note and reply from the configured key to the key
    /// in FILE, in one transaction. Stop the service first; afterwards point
    /// security.tips_key_file at FILE and start it again.
    RotateKey {
        /// A file holding the new key (as `frontdesk tips new-key` prints it).
        #[arg(long, value_name = "FILE")]
        new_key_file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum DonationsCommand {
    /// Queue every donor's statement of a fiscal year (one email each, through the outbox;
    /// `serve` or `worker` delivers them), printing the progress. Safe to stop and run again:
    /// it resumes, and no donor gets a second statement for the year.
    Statements {
        /// The fiscal year, named by the calendar year it starts in.
        #[arg(long)]
        year: i32,
    },
}

/// Runs the parsed command. Configuration errors are returned before anything starts.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve { no_migrate: false }) {
        Command::Serve { no_migrate } => serve(settings, !no_migrate).await,
        Command::Migrate => {
            let db = Db::connect_for_command(&settings.database)?;
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
        Command::Staff(command) => staff(settings, command).await,
        Command::Tips(command) => tips(settings, command).await,
        Command::Donations(DonationsCommand::Statements { year }) => {
            statements(settings, year).await
        }
        Command::Backup { to } => backup(settings, to).await,
        Command::Restore { from, force } => restore(settings, from, force).await,
    }
}

async fn tips(settings: Settings, command: TipsCommand) -> anyhow::Result<()> {
    use crate::sealed::TipsKey;
    let new_key_file = match command {
        TipsCommand::NewKey => {
            print_stdout(&TipsKey::generate().1);
            return Ok(());
        }
        TipsCommand::RotateKey { new_key_file } => new_key_file,
    };
    let old = settings
        .security
        .load_tips_key()
        .map_err(|e| anyhow::anyhow!(e))?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no tips key is configured (security.tips_key_file): nothing to rotate from"
            )
        })?;
    let new =
        TipsKey::read_file(&new_key_file).map_err(|e| anyhow::anyhow!("--new-key-file: {e}"))?;
    if new.id() == old.id() {
        anyhow::bail!("--new-key-file holds the key already configured");
    }
    let db = Db::connect_for_command(&settings.database)?;
    let migrate = db.clone();
    tokio::task::spawn_blocking(move || migrate.migrate()).await??;
    let done = crate::comments::confidential::rotate_key(&db, old, new.clone(), |done, total| {
        if done == total || done % 100 == 0 {
            print_stdout(&format!("re-encrypted {done} of {total} tips"));
        }
    })
    .await?;
    print_stdout(&format!(
        "rotated to tips key {}: {} tips, {} notes, {} replies re-encrypted. Now set \
         security.tips_key_file to {} and start the service.",
        new.id(),
        done.tips,
        done.notes,
        done.replies,
        new_key_file.display()
    ));
    Ok(())
}

async fn statements(settings: Settings, year: i32) -> anyhow::Result<()> {
    use crate::donations::{service::Ctx, statements};
    use crate::staff::audit::{self, Actor, Entry};
    let db = Db::connect_for_command(&settings.database)?;
    let migrate = db.clone();
    tokio::task::spawn_blocking(move || migrate.migrate()).await??;
    let keys = load_keys(&settings, &db).await?;
    let ctx = Ctx {
        mailer: Mailer::new(
            &settings,
            Templates::for_settings(&settings, crate::clock::Clock::system()),
        ),
        settings: Arc::new(settings),
        keys,
    };
    let described = |e: crate::error::AppError| match e {
        crate::error::AppError::Validation(errors) => anyhow::anyhow!(
            "--year: {}",
            errors.first().map_or("", |e| e.message.as_str())
        ),
        other => anyhow::anyhow!("{other}"),
    };
    let before = statements::progress(&db, &ctx, year)
        .await
        .map_err(described)?;
    db.write(move |conn| {
        audit::record(
            conn,
            &Actor::system("command line"),
            Entry::new("donation.statements_sent").details(serde_json::json!({
                "year": year, "donors": before.donors, "already_sent": before.sent,
            })),
        )?;
        Ok(())
    })
    .await
    .map_err(described)?;
    print_stdout(&format!(
        "{year}: {} donors, {} statements queued before",
        before.donors, before.sent
    ));
    let done = statements::send_all(&db, &ctx, year, |p| {
        print_stdout(&format!(
            "{year}: {} of {} statements queued",
            p.sent, p.donors
        ));
    })
    .await
    .map_err(described)?;
    print_stdout(&format!(
        "{year}: every donor's statement is queued ({} of {}); `serve` or `worker` delivers them",
        done.sent, done.donors
    ));
    Ok(())
}

/// The service key from the database (made by the first `serve`), or the configured one.
async fn load_keys(settings: &Settings, db: &Db) -> anyhow::Result<crate::keys::Keys> {
    let configured = settings
        .security
        .secret_key
        .as_ref()
        .map(|s| s.expose().to_string());
    db.run(move |conn| Ok(crate::keys::Keys::load(configured.as_deref(), conn)?))
        .await
        .map_err(|e| anyhow::anyhow!("cannot load the service key: {e:#}"))
}

async fn backup(settings: Settings, to: PathBuf) -> anyhow::Result<()> {
    let db = Db::connect_for_command(&settings.database)?;
    let taken = crate::backup::take(Arc::new(settings), db, to.clone()).await?;
    let m = &taken.manifest;
    print_stdout(&format!(
        "backup written to {} in {:.1} s: schema {}, {} rows in {} tables, {} files ({})",
        to.display(),
        taken.elapsed.as_secs_f64(),
        m.schema_version.as_deref().unwrap_or("none"),
        m.rows(),
        m.tables.len(),
        m.files.len(),
        crate::backup::runs::size(i64::try_from(m.bytes()).unwrap_or(i64::MAX)),
    ));
    Ok(())
}

async fn restore(settings: Settings, from: PathBuf, force: bool) -> anyhow::Result<()> {
    let restored = crate::backup::restore(Arc::new(settings), from.clone(), force).await?;
    let m = &restored.manifest;
    print_stdout(&format!(
        "restored {} (taken {}) in {:.1} s: {} rows in {} tables, {} uploads; {} newer migration(s) applied",
        from.display(),
        m.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        restored.elapsed.as_secs_f64(),
        m.rows(),
        m.tables.len(),
        restored.uploads,
        restored.migrations_applied,
    ));
    Ok(())
}

async fn staff(settings: Settings, command: StaffCommand) -> anyhow::Result<()> {
    use crate::staff::{audit::Actor, service, store};
    let db = Db::connect_for_command(&settings.database)?;
    let migrate = db.clone();
    tokio::task::spawn_blocking(move || migrate.migrate()).await??;
    let actor = Actor::system("command line");
    let described = |e: crate::error::AppError| match e {
        crate::error::AppError::Validation(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| format!("--{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => anyhow::anyhow!("{other}"),
    };
    match command {
        StaffCommand::Add {
            email,
            name,
            role,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_string()
            } else {
                rpassword::prompt_password("Password (12-128 characters): ")?
            };
            let new =
                service::parse_new_staff(&email, &name, &role, &password).map_err(described)?;
            let user = service::create_account(&db, new, actor)
                .await
                .map_err(described)?;
            print_stdout(&format!(
                "created {} ({}) with role {}",
                user.email, user.display_name, user.role
            ));
        }
        StaffCommand::Token { email, label } => {
            let lookup = email.clone();
            let user = db
                .run(move |conn| Ok(store::find_user_by_email(conn, &lookup)?))
                .await
                .map_err(described)?
                .filter(|u| !u.disabled)
                .ok_or_else(|| {
                    anyhow::anyhow!("no enabled staff account with the email {email}")
                })?;
            let token = service::create_token(&db, user.id, label, actor)
                .await
                .map_err(described)?;
            print_stdout(&token);
        }
        StaffCommand::List => {
            let users = db
                .run(|conn| Ok(store::list_users(conn)?))
                .await
                .map_err(described)?;
            let mut out = format!("{:<40} {:<12} {:<9} NAME", "EMAIL", "ROLE", "STATE");
            for u in users {
                out.push_str(&format!(
                    "\n{:<40} {:<12} {:<9} {}",
                    u.email,
                    u.role,
                    if u.disabled { "disabled" } else { "active" },
                    u.display_name
                ));
            }
            print_stdout(&out);
        }
        StaffCommand::Disable { email } => {
            let lookup = email.clone();
            let user = db
                .run(move |conn| Ok(store::find_user_by_email(conn, &lookup)?))
                .await
                .map_err(described)?
                .ok_or_else(|| anyhow::anyhow!("no staff account with the email {email}"))?;
            service::disable_account(&db, user.id, actor)
                .await
                .map_err(described)?;
            print_stdout(&format!(
                "disabled {email}; its sessions and tokens are ended"
            ));
        }
        StaffCommand::ResetTwoFactor { email } => {
            let lookup = email.clone();
            let user = db
                .run(move |conn| Ok(store::find_user_by_email(conn, &lookup)?))
                .await
                .map_err(described)?
                .ok_or_else(|| anyhow::anyhow!("no staff account with the email {email}"))?;
            let mailer =
                crate::mail::Mailer::new(&settings, crate::templates::Templates::embedded());
            match crate::staff::two_factor::reset(&db, &mailer, &settings, &user.id, actor).await {
                Ok(()) => print_stdout(&format!(
                    "reset the second factor of {email}; it signs in with its password until it sets up a new one (an email tells it so)"
                )),
                Err(crate::error::AppError::NotFound) => {
                    anyhow::bail!("{email} has no second factor to reset")
                }
                Err(e) => return Err(described(e)),
            }
        }
        StaffCommand::ResetPassword { email } => {
            let url = crate::staff::recovery::link_for_operator(&db, &settings, &email, actor)
                .await
                .map_err(|e| match e {
                    crate::error::AppError::NotFound => {
                        anyhow::anyhow!("no enabled staff account with the email {email}")
                    }
                    other => described(other),
                })?;
            print_stdout(&format!(
                "Give this link to the owner of {email}; it works once, for {} minutes, and \
                 signs out every browser of the account when the new password is set:\n{url}",
                crate::staff::recovery::LINK_MINUTES
            ));
        }
    }
    Ok(())
}

async fn serve(settings: Settings, migrate: bool) -> anyhow::Result<()> {
    let app = Application::build(
        settings,
        BuildOptions {
            migrate,
            ..BuildOptions::default()
        },
    )
    .await?;
    let settings = &app.state().settings;
    match crate::staff::service::setup_link(app.state()).await {
        Ok(Some(token)) => tracing::warn!(
            "No staff account exists yet. Create the first admin within {} minutes at {}/staff/setup?token={token}",
            settings.staff.setup_link_minutes,
            settings.server.public_url.as_str().trim_end_matches('/'),
        ),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "could not create the first-run setup link"),
    }
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
    let keys = load_keys(&settings, &db).await?;
    let mailer = Mailer::new(&settings, Templates::embedded());
    let background =
        crate::background::start(Arc::new(settings), db, mailer, keys, Metrics::new())?;
    shutdown_signal().await;
    tracing::info!("stopping after the message in flight");
    background.stop().await;
    Ok(())
}

async fn send_test_email(settings: Settings, to: &str) -> anyhow::Result<()> {
    let db = Db::connect_for_command(&settings.database)?;
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
