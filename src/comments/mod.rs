//! "What are your thoughts?": reader comments with spam defence ([`spam`]), the staff
//! notification and the reader's acknowledgement ([`mail`]), and, for the staff side, the
//! inbox queries ([`store`]) and [`reply`].

pub mod confidential;
pub mod figures;
pub mod handlers;
pub mod mail;
pub mod model;
pub mod privacy;
pub mod search;
pub mod spam;
pub mod staff;
pub mod store;

use utoipa::OpenApi;

use crate::error::AppError;
use crate::staff::audit::{self, Actor, Entry};
use crate::state::AppState;
use crate::web::api_routes::ApiRoutes;
pub use model::{Clearance, NewComment, ReplyText, Status};
use serde_json::json;

/// The public JSON API, registered inside `/api/v1`.
pub fn routes(r: &mut ApiRoutes) {
    r.post("/comments", handlers::submit)
        .get("/comments/token", handlers::form_token)
        .without_database();
}

/// Sends a staff reply to the reader through the outbox and keeps it with the comment, in
/// one transaction with its audit entry (`comment.replied`); the comment becomes `replied`.
/// The email is threaded on the reader's acknowledgement and earlier replies
/// (`In-Reply-To`, `References`). `actor` is the staff member (their label is kept with the
/// reply as its author). `NotFound` when the comment is unknown or the clearance does not
/// cover it; `Conflict` for a comment in the spam folder (take it out first).
///
/// A reply to a confidential tip is sealed like the tip, and its outbox row holds neither
/// the reader's address nor the text: the worker makes the email when it sends it
/// ([`confidential::ReplyRenderer`]). The caller checks that the staff member may open the tip.
pub async fn reply(
    state: &AppState,
    comment_id: &str,
    actor: &Actor,
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
    if comment.status == Status::Spam {
        return Err(AppError::Conflict(
            "This comment is in the spam folder; mark it as not spam before replying.".into(),
        ));
    }
    let reply_id = crate::db::new_id();
    let (message, email) = if comment.confidential {
        let key = confidential::require(state.tips.as_ref())?;
        confidential::reply_parts(&state.mailer, key, &reply_id, text.as_str())?
    } else {
        let email = mail::reply_email(&state.mailer, &state.settings, &comment, &thread, &text)?;
        (text.as_str().to_string(), email)
    };
    let reply = store::CommentReply {
        id: reply_id,
        comment_id: comment.id.clone(),
        author: actor.label.clone(),
        message,
        message_id: email.message_id.clone(),
        outbox_id: email.id.clone(),
        created_at: crate::db::now(),
    };
    let stored = reply.clone();
    let actor = actor.clone();
    state
        .db
        .write(move |conn| {
            store::record_reply(conn, &stored)?;
            crate::mail::outbox::enqueue(conn, &[email])?;
            audit::record(
                conn,
                &actor,
                Entry::new("comment.replied")
                    .target("comment", &stored.comment_id)
                    .details(json!({ "reply_id": stored.id, "outbox_id": stored.outbox_id })),
            )?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    let to = if comment.confidential {
        confidential::WITHHELD.to_string()
    } else {
        crate::mail::mask_email(&comment.email)
    };
    tracing::info!(comment = %reply.comment_id, %to, "staff reply queued");
    let mut reply = reply;
    reply.message = text.as_str().to_string();
    Ok(reply)
}

#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::submit,
        handlers::form_token,
        staff::api::list_json,
        staff::api::detail_json,
        staff::api::patch_json,
        staff::api::note_json,
        staff::api::reply_json,
        staff::api::export_csv
    ),
    components(schemas(
        model::CommentRequest,
        model::CommentReceived,
        model::FormTokenResponse,
        staff::api::CommentItem,
        staff::api::CommentDetail,
        staff::api::NoteItem,
        staff::api::ReplyItem,
        staff::api::CommentPatch,
        staff::api::NoteRequest,
        staff::api::ReplyRequest
    )),
    tags((name = "comments", description = "\"What are your thoughts?\""))
)]
pub struct ApiDoc;
