//! "Was this content helpful?": readers' votes on articles, with an optional reason and
//! comment; the per-article summary the article page shows; and, for the staff side, the
//! helpfulness report and the queue of comments left with votes (see [`store`]).

pub mod figures;
pub mod handlers;
pub mod model;
pub mod privacy;
pub mod staff;
pub mod store;
pub mod voter;

use utoipa::OpenApi;

use crate::config::Settings;
use crate::db::group_commit::{GroupCommit, GroupWriter};
use crate::db::{Db, DbConnection};
use crate::web::api_routes::ApiRoutes;

pub use model::{Ballot, CommentStatus, NewVote, VoteOutcome, Voter};
pub use voter::VoterKeys;

/// Votes go through a group-commit writer: one transaction (and one WAL sync) per batch.
pub type VoteWriter = GroupWriter<Votes>;

/// What the vote writer writes.
pub struct Votes;

impl GroupCommit for Votes {
    type Item = NewVote;
    type Outcome = VoteOutcome;
    const NAME: &'static str = "vote";

    fn write_all(
        conn: &mut DbConnection,
        votes: &[NewVote],
        now: chrono::NaiveDateTime,
    ) -> diesel::QueryResult<Vec<VoteOutcome>> {
        store::record_votes(conn, votes, now)
    }

    fn write_one(
        conn: &mut DbConnection,
        vote: &NewVote,
        now: chrono::NaiveDateTime,
    ) -> diesel::QueryResult<VoteOutcome> {
        store::record_vote(conn, vote, now)
    }
}

/// The feedback feature's long-lived parts, one per process: its own app data
/// (`web::Data<Feedback>`), registered by the wiring from [`Feedback::start`].
#[derive(Clone)]
pub struct Feedback {
    pub writer: VoteWriter,
    pub voter_keys: VoterKeys,
}

impl Feedback {
    /// Starts the group-commit vote writer.
    pub fn start(settings: &Settings, db: Db) -> std::io::Result<Feedback> {
        Ok(Feedback {
            writer: VoteWriter::start(
                db,
                settings.feedback.write_batch_max,
                settings.feedback.write_queue,
            )?,
            voter_keys: VoterKeys::default(),
        })
    }
}

/// The public JSON API, registered inside `/api/v1`.
pub fn routes(r: &mut ApiRoutes) {
    r.post("/feedback", handlers::vote)
        .get("/feedback/summary", handlers::summary)
        .get("/feedback/options", handlers::options)
        .without_database();
}

#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::vote,
        handlers::summary,
        handlers::options,
        staff::ranking_json,
        staff::queue_json,
        staff::status_json,
        staff::note_json
    ),
    components(schemas(
        model::VoteRequest,
        model::VoteResponse,
        model::SummaryResponse,
        model::OptionsResponse,
        staff::ArticleItem,
        staff::QueueItem,
        staff::NoteItem,
        staff::StatusRequest,
        staff::NoteRequest
    )),
    tags((name = "feedback", description = "\"Was this content helpful?\"")),
    modifiers(&Links)
)]
pub struct ApiDoc;

/// From a first vote to the staff operations on the comment left with it (the vote's id).
struct Links;

impl utoipa::Modify for Links {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for status in ["201", "200"] {
            crate::web::openapi::link(
                doc,
                ("post", "/api/v1/feedback"),
                status,
                "id",
                "id",
                &[
                    ("patch", "/api/v1/staff/feedback/comments/{id}"),
                    ("post", "/api/v1/staff/feedback/comments/{id}/notes"),
                ],
            );
        }
    }
}
