//! `POST /api/v1/comments` and `GET /api/v1/comments/token`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::Utc;

use crate::comments::confidential;
use crate::comments::model::{
    new_reference, CommentReceived, CommentRequest, FormTokenResponse, NewComment, Status,
};
use crate::comments::spam::{self, Recent};
use crate::comments::store::{self, Comment};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{ApiJson, ClientIp, ReaderLang};

/// Receives a reader's comment. Every comment is answered alike (202 with a reference);
/// one that passes the spam rules is emailed to the staff inbox (`Reply-To` the reader) and
/// acknowledged to the reader, in the transaction that stores it. Spam is kept in the spam
/// folder, with the rule that caught it, and sends nothing. A confidential tip
/// (`confidential: true`) is sealed before it is stored and only announced to the staff
/// inbox, without its content ([`confidential`]).
#[utoipa::path(post, path = "/api/v1/comments", tag = "comments",
    request_body = CommentRequest,
    responses(
        (status = 202, body = CommentReceived),
        (status = 415, body = crate::error::Problem),
        (status = 422, description = "Invalid field, e.g. a name holding a line break or a web address, or `confidential` when the service takes no confidential tips", body = crate::error::Problem),
        (status = 429, body = crate::error::Problem),
    ))]
#[tracing::instrument(skip_all)]
pub async fn submit(
    state: web::Data<AppState>,
    ip: ClientIp,
    reader: ReaderLang,
    body: ApiJson<CommentRequest>,
) -> Result<HttpResponse, AppError> {
    let request = body.into_inner();
    let settings = &state.settings;
    let tips = match (request.confidential, state.tips.as_ref()) {
        (true, None) => {
            return Err(AppError::field(
                "confidential",
                "This newsroom does not take confidential tips through this form.",
            ))
        }
        (true, Some(key)) => Some(key),
        (false, _) => None,
    };
    let lang = reader.pick(request.lang.as_deref());
    let (comment, lang) = AppError::both(
        NewComment::parse(&request, &settings.site.article_hosts),
        lang,
    )?;
    let now = Utc::now();
    let honeypot = request
        .website
        .as_deref()
        .is_some_and(|w| !w.trim().is_empty());
    let token = spam::check_token(
        &state.keys,
        request.form_token.as_deref(),
        now,
        &settings.comments,
    );
    let first = spam::first_pass(
        honeypot,
        token,
        comment.subject.as_deref(),
        &comment.message,
    );

    let id = crate::db::new_id();
    let reference = new_reference();
    // Rendered before the transaction; sent only if the comment is not spam. A tip gets
    // only the staff notification without its content, and no acknowledgement email: the
    // answer carries the reference, and nothing lands in a mailbox that others may read.
    let emails = match (first.decided.is_none(), tips) {
        (false, _) => Vec::new(),
        (true, None) => crate::comments::mail::received_emails(
            &state.mailer,
            settings,
            &comment,
            &id,
            &reference,
            &lang,
        )?,
        (true, Some(_)) => vec![confidential::notification(
            &state.mailer,
            settings,
            &id,
            &reference,
        )?],
    };
    let folded = confidential::fold(&comment.message);
    let email_index = state
        .tips
        .as_ref()
        .map(|key| confidential::email_index(key, comment.email.as_str()));
    let stored_at = crate::db::now();
    let mut row = Comment {
        id: id.clone(),
        reference: reference.clone(),
        name: comment.name.as_str().to_string(),
        email: comment.email.as_str().to_string(),
        subject: comment.subject.clone(),
        message_hash: crate::keys::token_hash(&folded),
        message: comment.message.clone(),
        article_url: comment.article_url.as_ref().map(|u| u.as_str().to_string()),
        status: Status::New,
        spam_verdict: "ham".into(),
        spam_rule: None,
        spam_score: 0,
        spam_signals: String::new(),
        ip_hash: state.keys.hash("comment-ip", ip.0.to_string().as_bytes()),
        sensitive: false,
        assigned_to: None,
        staff_message_id: emails.first().map(|e| e.message_id.clone()),
        ack_message_id: emails.get(1).map(|e| e.message_id.clone()),
        created_at: stored_at,
        updated_at: stored_at,
        replied_at: None,
        confidential: false,
        email_index: None,
        kept: false,
        lang: Some(lang.to_string()),
    };
    if let Some(key) = tips {
        let sealed = confidential::seal(key, &id, &comment, &folded)?;
        row.name = sealed.name;
        row.email = sealed.email;
        row.subject = sealed.subject;
        row.message = sealed.message;
        row.article_url = sealed.article_url;
        row.message_hash = sealed.message_hash;
        row.email_index = Some(sealed.email_index);
        row.confidential = true;
        row.sensitive = true;
    }
    let address = comment.email.as_str().to_lowercase();
    let comment_settings = settings.comments.clone();
    let verdict = state
        .db
        .write(move |conn| {
            let recent = if first.decided.is_none() {
                store::recent(
                    conn,
                    &row.ip_hash,
                    &address,
                    email_index.as_deref(),
                    &row.message_hash,
                    stored_at,
                )?
            } else {
                Recent::default()
            };
            let verdict = spam::final_verdict(first, recent, &comment_settings);
            let mut row = row;
            row.spam_score = verdict.score;
            row.spam_signals = verdict.signals_text();
            if verdict.spam {
                row.status = Status::Spam;
                row.spam_verdict = "spam".into();
                row.spam_rule = verdict.rule.map(String::from);
                row.staff_message_id = None;
                row.ack_message_id = None;
            }
            store::insert(conn, &row)?;
            if !verdict.spam {
                crate::mail::outbox::enqueue(conn, &emails)?;
            }
            Ok(verdict)
        })
        .await?;
    if !verdict.spam {
        state.mailer.wake();
    }
    let logged = if tips.is_some() {
        confidential::WITHHELD.to_string()
    } else {
        crate::mail::mask_email(comment.email.as_str())
    };
    tracing::info!(
        %reference,
        spam = verdict.spam,
        rule = verdict.rule.unwrap_or("-"),
        score = verdict.score,
        email = %logged,
        "comment received"
    );
    Ok(HttpResponse::Accepted().json(CommentReceived {
        status: "received".into(),
        reference,
    }))
}

/// A signed render-time token for the comment form: fetch it when the form is shown and
/// send it back as `form_token`. Forms sent back too fast or too late go to the spam folder.
#[utoipa::path(get, path = "/api/v1/comments/token", tag = "comments",
    responses((status = 200, body = FormTokenResponse)))]
#[tracing::instrument(skip_all)]
pub async fn form_token(state: web::Data<AppState>) -> HttpResponse {
    let now = Utc::now();
    let hours = i64::try_from(state.settings.comments.max_form_age_hours).unwrap_or(24);
    let expires_at = now + chrono::Duration::hours(hours);
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(FormTokenResponse {
            token: spam::issue_token(&state.keys, now),
            expires_at: expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            confidential: state.tips.is_some(),
            secure_contact_note: state.settings.comments.secure_contact_note.clone(),
        })
}
