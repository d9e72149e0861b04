//! The work that runs beside the HTTP server: the outbox worker, the newsletter dispatcher,
//! the retention scheduler, the backup scheduler and the failed-payment reminders. `serve` starts them when
//! `mail.worker_in_serve` is on, the `worker` command always; both through [`start`], so the
//! two cannot drift apart.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::db::Db;
use crate::keys::Keys;
use crate::mail::transport::Transport;
use crate::mail::worker::Worker;
use crate::mail::Mailer;
use crate::metrics::Metrics;

/// The running background tasks; [`Background::stop`] ends them after the work in flight.
pub struct Background {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

/// Starts the outbox worker (sending through `settings.mail`'s transport), the newsletter
/// dispatcher, the retention scheduler and the backup scheduler (`backup.schedule`). `mailer`
/// should be the one whose waker the worker listens to (the one handlers queue email
/// through, in `serve`).
pub fn start(
    settings: Arc<Settings>,
    db: Db,
    mailer: Mailer,
    keys: Keys,
    metrics: Metrics,
) -> anyhow::Result<Background> {
    let transport = Arc::new(Transport::from_settings(&settings.mail)?);
    let reminders = crate::donations::recovery::Scheduler::new(
        settings.clone(),
        db.clone(),
        mailer.clone(),
        keys.clone(),
    );
    let tips = settings
        .security
        .load_tips_key()
        .map_err(|e| anyhow::anyhow!(e))?;
    let tip_replies = Arc::new(crate::comments::confidential::ReplyRenderer::new(
        mailer.clone(),
        settings.clone(),
        tips,
    ));
    let dispatcher =
        crate::newsletter::Dispatcher::new(db.clone(), mailer.clone(), keys, settings.clone());
    let worker = Worker::new(
        db.clone(),
        transport,
        settings.mail.clone(),
        metrics,
        mailer.waker(),
    )?
    .with_renderer(dispatcher.renderer())
    .with_renderer(tip_replies);
    let backups = crate::backup::Scheduler::new(settings.clone(), db.clone());
    let retention = crate::retention::Scheduler::new(settings, db);
    let (stop, rx) = watch::channel(false);
    let (mail, newsletter, retention) = (
        tokio::spawn(worker.run(rx.clone())),
        tokio::spawn(dispatcher.run(rx.clone())),
        tokio::spawn(retention.run(rx.clone())),
    );
    let reminders = tokio::spawn(reminders.run(rx.clone()));
    let backups = tokio::spawn(backups.run(rx));
    let handle = tokio::spawn(async move {
        for (task, result) in [
            ("mail worker", mail.await),
            ("newsletter dispatcher", newsletter.await),
            ("retention scheduler", retention.await),
            ("backup scheduler", backups.await),
            ("failed-payment reminders", reminders.await),
        ] {
            if let Err(e) = result {
                tracing::error!(task, error = %e, "background task ended abnormally");
            }
        }
    });
    Ok(Background { stop, handle })
}

impl Background {
    /// Asks every task to stop after the message or batch in flight, and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}
