//! The sending engine: turns issues that are due into one delivery row and one outbox email
//! per recipient, batch by batch, and reports progress.
//!
//! Restart safety: each batch is one transaction that moves the issue's cursor (compare and
//! set), inserts the batch's delivery rows (`UNIQUE (issue_id, subscriber_id)`,
//! `ON CONFLICT DO NOTHING`) and queues their emails. A stop at any point either committed
//! the whole batch or nothing of it, so a restart continues from the cursor: nobody is
//! queued twice and nobody is skipped. The outbox worker then delivers each email at least
//! once with a fixed `Message-ID`, and never twice after a graceful stop.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::config::Settings;
use crate::db::Db;
use crate::error::AppError;
use crate::keys::Keys;
use crate::mail::{mask_email, Mailer};
use crate::state::AppState;

use super::links;
use super::model::EmailAddress;
use super::render::{IssueContent, IssueEmail};
use super::store::{self, Issue, PreparedDelivery};

/// How long one dispatch pass queues an issue before letting the loop look around.
const PASS_BUDGET: Duration = Duration::from_secs(1);

/// An issue rendered through the real email template, for the compose page's live preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders a (possibly unsaved) issue exactly as a recipient gets it, with a dummy
/// unsubscribe link.
pub fn render_preview(
    mailer: &Mailer,
    settings: &Settings,
    subject: &str,
    body_markdown: &str,
) -> Result<Preview, AppError> {
    let email = IssueEmail::build(
        mailer,
        settings,
        &IssueContent {
            subject,
            body_markdown,
            lang: None,
        },
    )?;
    let url = format!(
        "{}/newsletter/unsubscribe?token=preview",
        settings.server.public_url.as_str().trim_end_matches('/')
    );
    let (subject, text, html) = email.parts(&url);
    Ok(Preview {
        subject,
        text,
        html,
    })
}

/// Queues a test copy of an issue to one address (subject prefixed with `[Test]`). When the
/// address is a subscriber its real unsubscribe link is used. Returns the outbox id.
pub async fn send_test(
    state: &AppState,
    issue_id: &str,
    to: &EmailAddress,
) -> Result<String, AppError> {
    let (issue, subscriber) = {
        let id = issue_id.to_string();
        let to = to.clone();
        state
            .db
            .run(move |conn| {
                Ok((
                    store::find_issue(conn, &id)?,
                    store::find_subscriber_by_email(conn, &to)?,
                ))
            })
            .await?
    };
    let subject = format!("[Test] {}", issue.subject);
    let email = IssueEmail::build(
        &state.mailer,
        &state.settings,
        &IssueContent {
            subject: &subject,
            body_markdown: &issue.body_markdown,
            lang: subscriber.as_ref().and_then(|s| s.lang.as_deref()),
        },
    )?;
    let url = match &subscriber {
        Some(s) => links::unsubscribe_url(&state.settings, &state.keys, &s.id),
        None => format!(
            "{}/newsletter/unsubscribe?token=preview",
            state
                .settings
                .server
                .public_url
                .as_str()
                .trim_end_matches('/')
        ),
    };
    let mut row = email.for_recipient(to.as_str(), None, &url, &issue.id);
    row.ref_kind = Some("newsletter_test".into());
    let id = row.id.clone();
    state
        .db
        .write(move |conn| Ok(crate::mail::outbox::enqueue(conn, &[row])?))
        .await?;
    state.mailer.wake();
    tracing::info!(issue_id, to = %mask_email(to.as_str()), "newsletter test queued");
    Ok(id)
}

/// What one dispatch pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Emails queued.
    pub queued: usize,
    /// Recipients skipped (suppressed, or no longer confirmed).
    pub skipped: usize,
    /// True when an issue still has recipients to queue: run again without waiting.
    pub more: bool,
}

/// Runs the sending engine: periodically (and as fast as it can while an issue is being
/// queued) starts due issues and queues their recipients.
#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    mailer: Mailer,
    keys: Keys,
    settings: Arc<Settings>,
}

impl Dispatcher {
    pub fn new(db: Db, mailer: Mailer, keys: Keys, settings: Arc<Settings>) -> Dispatcher {
        Dispatcher {
            db,
            mailer,
            keys,
            settings,
        }
    }

    pub fn from_state(state: &AppState) -> Dispatcher {
        Dispatcher::new(
            state.db.clone(),
            state.mailer.clone(),
            state.keys.clone(),
            state.settings.clone(),
        )
    }

    /// The outbox worker's renderer of this dispatcher's emails (they are queued by
    /// reference and made at send time).
    pub fn renderer(&self) -> Arc<dyn crate::mail::worker::Renderer> {
        Arc::new(super::render::DeliveryRenderer::new(
            self.mailer.clone(),
            self.settings.clone(),
            self.keys.clone(),
        ))
    }

    /// Runs until `shutdown` turns true. A batch in progress is one transaction: stopping
    /// between batches (or being killed inside one) loses nothing.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let interval = Duration::from_millis(self.settings.newsletter.dispatch_interval_ms.max(10));
        tracing::info!("newsletter dispatcher started");
        while !*shutdown.borrow() {
            let more = match self.dispatch_once().await {
                Ok(report) => report.more,
                Err(e) => {
                    tracing::error!(error = %format!("{:#}", anyhow::Error::new(e)), "newsletter dispatch failed");
                    false
                }
            };
            if more {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("newsletter dispatcher stopped");
    }

    /// One pass: start due issues, settle issues that are done, and queue recipients of each
    /// issue being sent for up to about a second (then `more` asks for another pass, so a
    /// stop request is honoured between passes).
    pub async fn dispatch_once(&self) -> Result<DispatchReport, AppError> {
        let open = self
            .db
            .run(|conn| Ok(store::has_open_issues(conn, crate::db::now())?))
            .await?;
        if !open {
            return Ok(DispatchReport::default());
        }
        let issues = self
            .db
            .write(|conn| {
                let now = crate::db::now();
                store::start_due_issues(conn, now)?;
                store::settle_issues(conn, now)?;
                Ok(store::issues_to_queue(conn)?)
            })
            .await?;
        let mut report = DispatchReport::default();
        for issue in issues {
            let batch = self.queue_issue(issue, PASS_BUDGET).await?;
            report.queued += batch.queued;
            report.skipped += batch.skipped;
            report.more |= batch.more;
        }
        Ok(report)
    }

    /// Queues batches of one issue for about `budget`. The next batch is read and rendered
    /// while the current one is written, so both cores work.
    async fn queue_issue(
        &self,
        issue: Issue,
        budget: Duration,
    ) -> Result<DispatchReport, AppError> {
        let started = std::time::Instant::now();
        let issue = Arc::new(issue);
        let mut cursor = issue.queue_cursor.clone();
        let mut prepared = self.prepare_batch(issue.clone(), cursor.clone()).await?;
        let mut report = DispatchReport::default();
        loop {
            let Some((last, batch)) = prepared else {
                let issue_id = issue.id.clone();
                let done = self
                    .db
                    .write(move |conn| {
                        Ok(store::finish_queuing(
                            conn,
                            &issue_id,
                            cursor.as_deref(),
                            crate::db::now(),
                        )?)
                    })
                    .await?;
                if done {
                    tracing::info!(issue_id = %issue.id, "newsletter issue fully queued");
                }
                return Ok(report);
            };
            let next = {
                let this = self.clone();
                let (issue, from) = (issue.clone(), Some(last.clone()));
                tokio::spawn(async move { this.prepare_batch(issue, from).await })
            };
            let (issue_id, expected, new_cursor) = (issue.id.clone(), cursor.clone(), last.clone());
            let outcome = self
                .db
                .write(move |conn| {
                    Ok(store::queue_batch(
                        conn,
                        &issue_id,
                        expected.as_deref(),
                        &new_cursor,
                        batch,
                        crate::db::now(),
                    )?)
                })
                .await;
            let outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    next.abort();
                    return Err(e);
                }
            };
            report.queued += outcome.queued;
            report.skipped += outcome.skipped;
            if outcome.queued > 0 {
                self.mailer.wake();
            }
            tracing::debug!(issue_id = %issue.id, queued = outcome.queued, skipped = outcome.skipped, "newsletter batch");
            // Not applied: another dispatcher moved the cursor, or the issue was paused or
            // cancelled. Either way, look again from what is stored.
            if !outcome.applied || started.elapsed() >= budget {
                next.abort();
                report.more = true;
                return Ok(report);
            }
            cursor = Some(last);
            prepared = next
                .await
                .map_err(|e| AppError::unexpected(anyhow::anyhow!("batch task failed: {e}")))??;
        }
    }

    /// Reads the recipients after `cursor` and prepares their deliveries and outbox rows
    /// (no write lock held). The rows hold no bodies: the worker renders each at send time.
    /// None when there is nobody left.
    async fn prepare_batch(
        &self,
        issue: Arc<Issue>,
        cursor: Option<String>,
    ) -> Result<Option<(String, Vec<PreparedDelivery>)>, AppError> {
        let limit = i64::from(self.settings.newsletter.dispatch_batch_size.max(1));
        let this = self.clone();
        self.db
            .run(move |conn| {
                let candidates = store::next_candidates(conn, &issue.id, cursor.as_deref(), limit)?;
                let Some(last) = candidates.last().map(|c| c.id.clone()) else {
                    return Ok(None);
                };
                let hashes: Vec<String> = candidates
                    .iter()
                    .map(|c| this.keys.hash("newsletter-suppression", c.email.as_bytes()))
                    .collect();
                let suppressed: std::collections::HashSet<String> =
                    store::suppressed_among(conn, &hashes)?
                        .into_iter()
                        .collect();
                let email = IssueEmail::build(
                    &this.mailer,
                    &this.settings,
                    &IssueContent {
                        subject: &issue.subject,
                        body_markdown: &issue.body_markdown,
                        lang: None,
                    },
                )?;
                let batch = candidates
                    .into_iter()
                    .zip(hashes)
                    .map(|(c, hash)| {
                        let delivery_id = crate::db::new_id();
                        if suppressed.contains(&hash) {
                            return PreparedDelivery {
                                delivery_id,
                                subscriber_id: c.id,
                                email: None,
                                skipped_reason: Some("suppressed"),
                            };
                        }
                        let row =
                            email.deferred_for_recipient(&c.email, c.name.as_deref(), &delivery_id);
                        PreparedDelivery {
                            delivery_id,
                            subscriber_id: c.id,
                            email: Some(row),
                            skipped_reason: None,
                        }
                    })
                    .collect();
                Ok(Some((last, batch)))
            })
            .await
    }
}
