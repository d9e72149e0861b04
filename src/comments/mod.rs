//! "What are your thoughts?": reader comments with spam defence ([`spam`]), the staff
//! notification and the reader's acknowledgement ([`mail`]), and, for the staff side, the
//! inbox queries ([`store`]) and [`reply`].

pub mod handlers;
pub mod mail;
pub mod model;
pub mod spam;
pub mod store;

use actix_web::web;
use utoipa::OpenApi;

use crate::app::AppState;
use crate::error::AppError;
pub use model::{Clearance, NewComment, ReplyText, Status};

/// The public JSON API, registered inside `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(handlers::submit).service(handlers::form_token);
}

/// Sends a staff reply to the reader through the outbox and keeps it with the comment, in
/// one transaction; the comment becomes `replied`. The email is threaded on the reader's
/// acknowledgement and earlier replies (`In-Reply-To`, `References`). `author` names the
/// staff member (kept with the reply); `NotFound` when the comment is unknown or the
/// clearance does not cover it.
pub async fn reply(
    state: &AppState,
    comment_id: &str,
    author: &str,
    text: &str,
    clearance: Clearance,
) -> Result<store::CommentReply, AppError> {
    let text = ReplyText::parse(text)?;
    let id = comment_id.to_string();
    let (comment, thread) = state
        .db
        .run(move |conn| {
            let comment = store::get(conn, &id, clearance)?;
            let thread = store::thread(conn, &comment)?;
            Ok((comment, thread))
        })
        .await?;
    let email = mail::reply_email(&state.mailer, &state.settings, &comment, &thread, &text)?;
    let reply = store::CommentReply {
        id: crate::db::new_id(),
        comment_id: comment.id.clone(),
        author: author.to_string(),
        message: text.as_str().to_string(),
        message_id: email.message_id.clone(),
        outbox_id: email.id.clone(),
        created_at: crate::db::now(),
    };
    let stored = reply.clone();
    state
        .db
        .write(move |conn| {
            store::record_reply(conn, &stored)?;
            crate::mail::outbox::enqueue(conn, &[email])?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    tracing::info!(
        comment = %reply.comment_id,
        to = %crate::mail::mask_email(&comment.email),
        "staff reply queued"
    );
    Ok(reply)
}

#[derive(OpenApi)]
#[openapi(
    paths(handlers::submit, handlers::form_token),
    components(schemas(
        model::CommentRequest,
        model::CommentReceived,
        model::FormTokenResponse
    )),
    tags((name = "comments", description = "\"What are your thoughts?\""))
)]
pub struct ApiDoc;
